/* The mmioctl binary run from cmocka tests: see cli.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "spawn_proc.h"

/* Arguments of one mmioctl command line, besides the program and -s SOCKET. */
#define MAX_ARGS 16

void
cli_start(struct spawn_proc *p, const char *socket, const char *const *args)
{
	const char *argv[MAX_ARGS + 4] = {MMIOCTL_PATH};
	int n = 1;
	if (socket) {
		argv[n++] = "-s";
		argv[n++] = socket;
	}
	for (int i = 0; args[i]; i++) {
		assert_true(n < MAX_ARGS);
		argv[n++] = args[i];
	}
	assert_int_equal(spawn_proc_start(p, argv), 0);
}

void
cli_finish(struct spawn_proc *p, const char *input, struct spawn_proc_result *r)
{
	int rc = spawn_proc_finish(p, input, IO_TIMEOUT_MS, r);
	if (rc < 0) {
		fail_msg("mmioctl did not finish: %s", strerror(-rc));
	}
}

void
cli_run(const char *socket, const char *input, struct spawn_proc_result *r, const char *const *args)
{
	struct spawn_proc p;
	cli_start(&p, socket, args);
	cli_finish(&p, input, r);
}

void
cli_expect(const char *socket, const char *const *args, int status, const char *out)
{
	struct spawn_proc_result r;
	cli_run(socket, NULL, &r, args);
	if (r.status != status || (out && strcmp(r.out, out) != 0)) {
		print_error("stdout:\n%s\nstderr:\n%s\n", r.out, r.err);
	}
	assert_int_equal(r.status, status);
	if (out) {
		assert_string_equal(r.out, out);
	}
	if (status == 0) {
		assert_string_equal(r.err, "");
	}
	spawn_proc_result_finish(&r);
}

void
cli_expect_failure(const char *socket, const char *const *args, const char *status_name,
		   const char *detail)
{
	struct spawn_proc_result r;
	cli_run(socket, NULL, &r, args);
	char needle[64] = "";
	if (status_name) {
		snprintf(needle, sizeof(needle), ": %s: ", status_name);
	}
	const char *found = strstr(r.err, needle);
	const char *newline = strchr(r.err, '\n');
	bool ok = r.status == (status_name ? 1 : 2) && strncmp(r.err, "mmioctl: ", 9) == 0 &&
		  found && r.out[0] == '\0';
	if (ok && status_name) {
		/* One line, and the detail is in it, after the status name; then only hints. */
		ok = newline && strstr(found + strlen(needle), detail) &&
		     strstr(found + strlen(needle), detail) < newline;
		for (const char *l = newline ? newline + 1 : ""; ok && *l;) {
			const char *end = strchr(l, '\n');
			ok = strncmp(l, "mmioctl: hint: ", 15) == 0 && end;
			l = end ? end + 1 : "";
		}
	}
	if (!ok) {
		fail_msg("exit %d, stdout '%s', stderr '%s'", r.status, r.out, r.err);
	}
	spawn_proc_result_finish(&r);
}

void
cli_expect_line(struct spawn_proc *p, const char *line, const char *want)
{
	char got[256];
	assert_int_equal(spawn_proc_write(p, line), 0);
	assert_int_equal(spawn_proc_write(p, "\n"), 0);
	if (!want) {
		return;
	}
	int rc = spawn_proc_read_line(p, got, sizeof(got), IO_TIMEOUT_MS);
	if (rc < 0) {
		fail_msg("'%s': no result line: %s", line, strerror(-rc));
	}
	bool ok;
	const char *colon = strstr(want, ": ");
	if (strncmp(want, "error ", 6) == 0 && colon) {
		size_t head = (size_t)(colon - want) + 2;
		ok = strncmp(got, want, head) == 0 && strstr(got + head, want + head);
	} else {
		ok = strcmp(got, want) == 0;
	}
	if (!ok) {
		fail_msg("'%s': expected '%s', got '%s'", line, want, got);
	}
}

void
cli_run_steps(const char *socket, const char *const *args, const struct cli_step *steps, size_t n,
	      int status)
{
	struct spawn_proc p;
	struct spawn_proc_result r;
	cli_start(&p, socket, args);
	for (size_t i = 0; i < n; i++) {
		cli_expect_line(&p, steps[i].line, steps[i].result);
	}
	cli_finish(&p, NULL, &r);
	assert_int_equal(r.status, status);
	assert_string_equal(r.out, "");
	spawn_proc_result_finish(&r);
}

/*
 * Runs `mmioctl leases` and checks its header and every row's shape (uid ours,
 * access rw or ro). Returns how many rows match region/start/length and, if
 * pid > 0, pid; *id and *access (if not NULL) are those of the last match.
 */
static int
scan_leases(const char *socket, const char *region, const char *start, const char *length,
	    pid_t pid, unsigned long long *id, char access[3])
{
	struct spawn_proc_result r;
	cli_run(socket, NULL, &r, ARGS("leases"));
	assert_int_equal(r.status, 0);
	char *save = NULL;
	char *line = strtok_r(r.out, "\n", &save);
	assert_non_null(line);
	assert_int_equal(strncmp(line, "    ID  REGION  START", 21), 0);
	const char *header_end = line + strlen(line) - strlen("  ACCESS  TTL");
	assert_string_equal(header_end, "  ACCESS  TTL");
	int n = 0;
	while ((line = strtok_r(NULL, "\n", &save))) {
		char reg[70], st[24], len[24], acc[4], ttl[24];
		unsigned long long lid;
		long lpid;
		unsigned long uid;
		assert_int_equal(sscanf(line, "%llu %69s %23s %23s %ld %lu %3s %23s", &lid, reg, st,
					len, &lpid, &uid, acc, ttl),
				 8);
		assert_int_equal(uid, (unsigned long)getuid());
		assert_true(strcmp(acc, "rw") == 0 || strcmp(acc, "ro") == 0);
		/* No grant of these tests sets max_lease_ms. */
		assert_string_equal(ttl, "-");
		if (strcmp(reg, region) == 0 && strcmp(st, start) == 0 &&
		    strcmp(len, length) == 0 && (pid <= 0 || lpid == (long)pid)) {
			n++;
			if (id) {
				*id = lid;
			}
			if (access) {
				memcpy(access, acc, 3);
			}
		}
	}
	spawn_proc_result_finish(&r);
	return n;
}

int
cli_count_leases(const char *socket, const char *region, const char *start, const char *length,
		 pid_t pid)
{
	return scan_leases(socket, region, start, length, pid, NULL, NULL);
}

unsigned long long
cli_lease_id(const char *socket, const char *region, const char *start, const char *length,
	     pid_t pid, const char *access)
{
	unsigned long long id = 0;
	char got[3] = "";
	int n = scan_leases(socket, region, start, length, pid, &id, got);
	if (n != 1 || strcmp(got, access) != 0) {
		fail_msg("%d leases of %s %s+%s by pid %ld, access '%s' (want one, '%s')", n,
			 region, start, length, (long)pid, got, access);
	}
	return id;
}
