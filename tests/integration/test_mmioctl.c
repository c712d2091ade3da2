/*
 * The mmioctl binary against a real mmiod: its output, stderr and exit status,
 * and `run` driven line by line through pipes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "daemon_fixture.h"
#include "spawn_proc.h"

/* The file region starts at an odd file offset, so its device addresses are odd-based. */
#define FILE_OFFSET 0x1003

struct env {
	struct daemon_fixture daemon;
	char file_path[64];
};

static int
setup(void **state)
{
	struct env *env = calloc(1, sizeof(*env));
	if (!env) {
		return -1;
	}
	snprintf(env->file_path, sizeof(env->file_path), "/tmp/mmioctl-file-XXXXXX");
	int fd = mkstemp(env->file_path);
	if (fd < 0) {
		goto err_free;
	}
	int rc = ftruncate(fd, 0x2000);
	close(fd);
	if (rc < 0) {
		goto err_unlink;
	}
	char file_region[160];
	snprintf(file_region, sizeof(file_region), "dev1,type=file,path=%s,size=0x100,offset=%#x",
		 env->file_path, FILE_OFFSET);
	const char *regions[] = {"sim0,type=mem,size=0x10000", "sim1,type=mem,size=0x100",
				 file_region, NULL};
	if (daemon_fixture_start(&env->daemon, regions) < 0) {
		goto err_unlink;
	}
	*state = env;
	return 0;
err_unlink:
	unlink(env->file_path);
err_free:
	free(env);
	return -1;
}

/*
 * Stops the daemon only after a test that failed midway: cmocka 1.1 does not
 * count a failing teardown, so each test ends by asserting its daemon's clean
 * stop itself (a crash, or a leak that LSan or valgrind reports, fails it).
 */
static int
teardown(void **state)
{
	struct env *env = *state;
	int rc = env->daemon.pid > 0 ? daemon_fixture_stop(&env->daemon) : 0;
	unlink(env->file_path);
	free(env);
	return rc == 0 ? 0 : -1;
}

static void
test_mmioctl_write_read_every_width(void **state)
{
	struct env *env = *state;
	const char *sock = env->daemon.socket_path;
	static const struct {
		const char *width, *offset, *value, *printed;
	} cases[] = {
		{"8", "0x41", "0xa", "0x0a\n"},
		{"16", "0x42", "0x0abc", "0x0abc\n"},
		{"32", "0x44", "12648430", "0x00c0ffee\n"},
		{"64", "0x48", "0x0123456789abcdef", "0x0123456789abcdef\n"},
		{"64", "0x50", "0xffffffffffffffff", "0xffffffffffffffff\n"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cli_expect(sock,
			   ARGS("write", "sim0", cases[i].offset, cases[i].value, "-w",
				cases[i].width),
			   0, "");
		cli_expect(sock, ARGS("read", "sim0", cases[i].offset, "--width", cases[i].width),
			   0, cases[i].printed);
	}
	/* Options before the arguments, and a 16-bit read of half the 32-bit value. */
	cli_expect(sock, ARGS("read", "-w", "16", "sim0", "0x46"), 0, "0x00c0\n");
	assert_int_equal(daemon_fixture_stop(&env->daemon), 0);
}

static void
test_mmioctl_read_default_width(void **state)
{
	struct env *env = *state;
	const char *sock = env->daemon.socket_path;
	cli_expect(sock, ARGS("write", "sim0", "0x10", "0xabcd"), 0, "");
	cli_expect(sock, ARGS("read", "sim0", "0x10"), 0, "0x0000abcd\n");
	cli_expect(sock, ARGS("read", "sim0", "16"), 0, "0x0000abcd\n");
	cli_expect(sock, ARGS("read", "sim1", "0"), 0, "0x00000000\n");
	assert_int_equal(daemon_fixture_stop(&env->daemon), 0);
}

static void
test_mmioctl_refused_requests(void **state)
{
	struct env *env = *state;
	const char *sock = env->daemon.socket_path;
	cli_expect_failure(sock, ARGS("read", "sim0", "0x2", "-w", "32"), "UNALIGNED",
			   "not 4-byte aligned");
	cli_expect_failure(sock, ARGS("write", "sim0", "0x1", "5", "-w", "64"), "UNALIGNED",
			   "not 8-byte aligned");
	cli_expect_failure(sock, ARGS("read", "sim0", "0xfffc", "-w", "64"), "OUT_OF_RANGE",
			   "offset 0xfffc length 0x8 is not inside region sim0");
	cli_expect_failure(sock, ARGS("read", "sim0", "0xfffffffffffffffc"), "OUT_OF_RANGE",
			   "is not inside region sim0");
	cli_expect_failure(sock, ARGS("write", "sim1", "0x100", "1", "-w", "8"), "OUT_OF_RANGE",
			   "is not inside region sim1");
	cli_expect_failure(sock, ARGS("dump", "sim1", "0xf0", "0x11"), "OUT_OF_RANGE",
			   "offset 0xf0 length 0x11 is not inside region sim1 of size 0x100");
	cli_expect_failure(sock, ARGS("read", "nosuch", "0"), "NOT_FOUND",
			   "no region named 'nosuch'");
	cli_expect_failure(sock, ARGS("dump", "nosuch", "0", "16"), "NOT_FOUND",
			   "no region named 'nosuch'");
	/* The whole line: what was asked, the status name, then the daemon's detail. */
	struct spawn_proc_result r;
	cli_run(sock, NULL, &r, ARGS("read", "sim0", "0x10000"));
	assert_int_equal(r.status, 1);
	assert_string_equal(r.out, "");
	assert_string_equal(r.err, "mmioctl: read sim0 0x10000: OUT_OF_RANGE: offset 0x10000 "
				   "length 0x4 is not inside region sim0 of size 0x10000\n");
	spawn_proc_result_finish(&r);
	assert_int_equal(daemon_fixture_stop(&env->daemon), 0);
}

static void
test_mmioctl_usage_errors(void **state)
{
	struct env *env = *state;
	const char *sock = env->daemon.socket_path;
	cli_expect_failure(sock, ARGS("read", "sim0", "0", "-w", "12"), NULL, NULL);
	cli_expect_failure(sock, ARGS("read", "sim0", "0", "-w", "0"), NULL, NULL);
	cli_expect_failure(sock, ARGS("read", "sim0", "0", "--width=abc"), NULL, NULL);
	cli_expect_failure(sock, ARGS("dump", "sim0", "0", "16", "-w", "128"), NULL, NULL);
	cli_expect_failure(sock, ARGS("write", "sim0", "0", "0x100", "-w", "8"), NULL, NULL);
	cli_expect_failure(sock, ARGS("write", "sim0", "0", "0x100000000"), NULL, NULL);
	/* Not a number: a name, which a region without a register map does not have. */
	cli_expect_failure(sock, ARGS("read", "sim0", "zero"), "NOT_FOUND",
			   "region sim0 has no register map");
	cli_expect_failure(sock, ARGS("read", "sim0", "0zero"), NULL, NULL);
	cli_expect_failure(sock, ARGS("read", "sim0", "-1"), NULL, NULL);
	cli_expect_failure(sock, ARGS("read", "sim0", "0x10000000000000000"), NULL, NULL);
	cli_expect_failure(sock, ARGS("read", "sim0"), NULL, NULL);
	cli_expect_failure(sock, ARGS("read", "sim0", "0", "1"), NULL, NULL);
	cli_expect_failure(sock, ARGS("regions", "extra"), NULL, NULL);
	cli_expect_failure(sock, ARGS("leases", "-w", "8"), NULL, NULL);
	cli_expect_failure(sock, ARGS("read", "sim0", "0", "--keep-going"), NULL, NULL);
	cli_expect_failure(sock, ARGS("revoke"), NULL, NULL);
	cli_expect_failure(sock, ARGS("revoke", "1", "2"), NULL, NULL);
	cli_expect_failure(sock, ARGS("revoke", "lease1"), NULL, NULL);
	cli_expect_failure(sock, ARGS("revoke", "1", "-w", "8"), NULL, NULL);
	cli_expect_failure(sock, ARGS("frobnicate"), NULL, NULL);
	cli_expect_failure(sock, ARGS("--bogus"), NULL, NULL);
	cli_expect_failure(NULL, ARGS("-s"), NULL, NULL);
	/* Nothing was written by the refused write. */
	cli_expect(sock, ARGS("read", "sim0", "0"), 0, "0x00000000\n");
	assert_int_equal(daemon_fixture_stop(&env->daemon), 0);
}

static void
test_mmioctl_help(void **state)
{
	(void)state;
	static const char *const commands[] = {"regions", "leases", "revoke", "read", "write",
					       "modify",  "poll",   "dump",   "run"};
	const size_t n = sizeof(commands) / sizeof(commands[0]);
	cli_expect(NULL, ARGS("-V"), 0, "mmioctl " MMIOD_VERSION "\n");
	struct spawn_proc_result r;
	for (size_t i = 0; i <= n; i++) {
		/* Help wins over missing or extra arguments, and needs no daemon. */
		const char *cmd = i < n ? commands[i] : "--help";
		cli_run(NULL, NULL, &r, i < n ? ARGS(cmd, "--help") : ARGS("--help"));
		assert_int_equal(r.status, 0);
		assert_string_equal(r.err, "");
		char usage[64];
		snprintf(usage, sizeof(usage), "Usage: mmioctl [-s SOCKET] %s",
			 i < n ? cmd : "COMMAND");
		assert_int_equal(strncmp(r.out, usage, strlen(usage)), 0);
		for (size_t j = 0; i == n && j < n; j++) {
			char listed[32];
			snprintf(listed, sizeof(listed), "\n  %s ", commands[j]);
			assert_non_null(strstr(r.out, listed));
		}
		spawn_proc_result_finish(&r);
		if (i < n) {
			cli_expect("/nonexistent", ARGS(cmd, "x", "y", "z", "-h"), 0, NULL);
		}
	}
}

/*
 * Checks that every line of a table starts its last column, the one headed
 * last_header, at the same place, after two blanks.
 */
static void
assert_last_column_aligned(const char *table, const char *last_header)
{
	const char *header_col = strstr(table, last_header);
	assert_non_null(header_col);
	size_t col = (size_t)(header_col - table);
	for (const char *line = table; *line; line = strchr(line, '\n') + 1) {
		const char *end = strchr(line, '\n');
		assert_non_null(end);
		assert_true((size_t)(end - line) > col);
		assert_int_equal(strncmp(line + col - 2, "  ", 2), 0);
		assert_true(line[col] != ' ');
	}
}

static void
test_mmioctl_regions_listed(void **state)
{
	struct env *env = *state;
	struct spawn_proc_result r;
	for (int via_env = 0; via_env < 2; via_env++) {
		/* $MMIOD_SOCKET is the default socket. */
		if (via_env) {
			setenv("MMIOD_SOCKET", env->daemon.socket_path, 1);
		}
		cli_run(via_env ? NULL : env->daemon.socket_path, NULL, &r, ARGS("regions"));
		unsetenv("MMIOD_SOCKET");
		assert_int_equal(r.status, 0);
		assert_string_equal(r.err, "");
		unsigned long long a0, a1, a2;
		int end = 0;
		sscanf(r.out,
		       "NAME TYPE SIZE ADDRESS ACCESS sim0 mem 0x10000 %llx rw sim1 mem 0x100 %llx "
		       "rw dev1 file 0x100 %llx rw%n",
		       &a0, &a1, &a2, &end);
		assert_int_equal(end, (int)strlen(r.out) - 1);
		/* The file region's device address keeps the file offset's residue. */
		assert_int_equal(a2 % 0x1000, FILE_OFFSET % 0x1000);
		/* Root's one grant per region covers all of it: "rw", in one column. */
		assert_last_column_aligned(r.out, "ACCESS");
		spawn_proc_result_finish(&r);
	}
	/* No daemon: UNAVAILABLE, exit 3 (test_mmioctl_errors has the rest). */
	cli_run("/nonexistent/mmiod.sock", NULL, &r, ARGS("regions"));
	assert_int_equal(r.status, 3);
	assert_string_equal(r.out, "");
	assert_int_equal(
		strncmp(r.err, "mmioctl: connect /nonexistent/mmiod.sock: UNAVAILABLE: ", 55), 0);
	spawn_proc_result_finish(&r);
	assert_int_equal(daemon_fixture_stop(&env->daemon), 0);
}

static void
test_mmioctl_leases_of_running_script(void **state)
{
	struct env *env = *state;
	const char *sock = env->daemon.socket_path;
	assert_int_equal(cli_count_leases(sock, "sim0", "0x0", "0x10", 0), 0);

	struct spawn_proc p;
	cli_start(&p, sock, ARGS("run"));
	cli_expect_line(&p, "acquire a sim0 0 16", "ok");
	cli_lease_id(sock, "sim0", "0x0", "0x10", p.pid, "rw");

	cli_expect_line(&p, "# a comment prints nothing\n", NULL);
	cli_expect_line(&p, "split lo a 4", "ok");
	assert_int_equal(cli_count_leases(sock, "sim0", "0x0", "0x10", p.pid), 0);
	assert_int_equal(cli_count_leases(sock, "sim0", "0x0", "0x4", p.pid), 1);
	assert_int_equal(cli_count_leases(sock, "sim0", "0x4", "0xc", p.pid), 1);

	/* The lease blocks another connection until the script ends. */
	cli_expect_failure(sock, ARGS("read", "sim0", "8"), "CONFLICT",
			   "range overlaps a live lease on sim0");

	cli_expect_line(&p, "release lo", "ok");
	assert_int_equal(cli_count_leases(sock, "sim0", "0x0", "0x4", p.pid), 0);

	struct spawn_proc_result r;
	cli_finish(&p, "load32 a 0\n", &r);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "ok 0x00000000\n");
	assert_string_equal(r.err, "");
	spawn_proc_result_finish(&r);
	/* Its connection closed: every lease of it is gone. */
	assert_int_equal(cli_count_leases(sock, "sim0", "0x4", "0xc", 0), 0);
	cli_expect(sock, ARGS("read", "sim0", "8"), 0, "0x00000000\n");
	assert_int_equal(daemon_fixture_stop(&env->daemon), 0);
}

/* Root revokes a script's lease: the script's next use of it is NOT_FOUND, the range is free. */
static void
test_mmioctl_revoke_script_lease(void **state)
{
	struct env *env = *state;
	const char *sock = env->daemon.socket_path;
	struct spawn_proc p;
	cli_start(&p, sock, ARGS("run"));
	cli_expect_line(&p, "acquire a sim0 0 16", "ok");
	cli_expect_line(&p, "store32 a 0 0x5a5a", "ok");
	unsigned long long id = cli_lease_id(sock, "sim0", "0x0", "0x10", p.pid, "rw");
	cli_expect_failure(sock, ARGS("read", "sim0", "0"), "CONFLICT", "overlaps a live lease");

	char id_text[24];
	snprintf(id_text, sizeof(id_text), "%llu", id);
	cli_expect(sock, ARGS("revoke", id_text), 0, "");
	assert_int_equal(cli_count_leases(sock, "sim0", "0x0", "0x10", 0), 0);

	char revoked[64];
	snprintf(revoked, sizeof(revoked), "error REVOKED: lease %llu was revoked: admin", id);
	cli_expect_line(&p, "load32 a 0", revoked);
	/* The script still runs, but another mmioctl gets the range, and what was stored stays. */
	cli_expect(sock, ARGS("read", "sim0", "0"), 0, "0x00005a5a\n");
	cli_expect(sock, ARGS("write", "sim0", "0xc", "7"), 0, "");

	struct spawn_proc_result r;
	cli_finish(&p, NULL, &r);
	assert_int_equal(r.status, 1); /* its load failed */
	assert_string_equal(r.out, "");
	spawn_proc_result_finish(&r);

	/* Revoked already, and a lease that never was: NOT_FOUND, exit 1. */
	cli_expect_failure(sock, ARGS("revoke", id_text), "NOT_FOUND", "no lease");
	cli_run(sock, NULL, &r, ARGS("revoke", "999999"));
	assert_int_equal(r.status, 1);
	assert_string_equal(r.out, "");
	assert_string_equal(r.err, "mmioctl: revoke 999999: NOT_FOUND: no lease 999999\n");
	spawn_proc_result_finish(&r);
	assert_int_equal(daemon_fixture_stop(&env->daemon), 0);
}

/*
 * revoke --grace: the script is asked (its lease still works), does not release, and loses the
 * lease when the grace ends; a grace over 60000 is a usage error.
 */
static void
test_mmioctl_revoke_with_grace(void **state)
{
	struct env *env = *state;
	const char *sock = env->daemon.socket_path;
	struct spawn_proc p;
	cli_start(&p, sock, ARGS("run"));
	cli_expect_line(&p, "acquire a sim0 0 16", "ok");
	unsigned long long id = cli_lease_id(sock, "sim0", "0x0", "0x10", p.pid, "rw");
	char id_text[24];
	snprintf(id_text, sizeof(id_text), "%llu", id);
	struct spawn_proc_result r;
	cli_run(sock, NULL, &r, ARGS("revoke", id_text, "--grace", "60001"));
	assert_int_equal(r.status, 2);
	spawn_proc_result_finish(&r);
	cli_expect(sock, ARGS("revoke", "--grace", "50", id_text), 0, "");
	assert_int_equal(
		daemon_fixture_wait_log(&env->daemon, "not released within the grace", 1, 60000),
		1);
	char revoked[64];
	snprintf(revoked, sizeof(revoked), "error REVOKED: lease %llu was revoked: admin", id);
	cli_expect_line(&p, "load32 a 0", revoked);
	cli_finish(&p, NULL, &r);
	spawn_proc_result_finish(&r);
	assert_int_equal(daemon_fixture_stop(&env->daemon), 0);
}

static const struct cli_step every_command[] = {
	{"# every command once", NULL},
	{"acquire a sim0 0x100 16", "ok"},
	{"", NULL},
	{"   store64 a 8 0x1122334455667788   # trailing comment", "ok"},
	{"store32 a 4 0xdeadbeef", "ok"},
	{"store16 a 2 0xbeef", "ok"},
	{"store8 a 1 0x7f", "ok"},
	{"load8 a 1", "ok 0x7f"},
	{"load16 a 2", "ok 0xbeef"},
	{"load32 a 4", "ok 0xdeadbeef"},
	{"load64 a 8", "ok 0x1122334455667788"},
	{"barrier a", "ok"},
	/* lo takes [0x100, 0x104); a keeps [0x104, 0x110), its offset 0 the old offset 4. */
	{"split lo a 4", "ok"},
	{"store32 lo 0 1", "ok"},
	{"load32 a 0", "ok 0xdeadbeef"},
	{"load32 lo 0", "ok 0x00000001"},
	{"load8 lo 4", "error OUT_OF_RANGE: 1-byte access at offset 0x4 does not fit lease"},
	{"split empty lo 0", "ok"},
	{"barrier empty", "ok"},
	{"release empty", "ok"},
	{"release lo", "ok"},
	{"load64 a 4", "ok 0x1122334455667788"},
	{"\t# done", NULL},
};

static void
test_mmioctl_run_every_command(void **state)
{
	struct env *env = *state;
	const char *sock = env->daemon.socket_path;
	/* load8 lo 4 fails: exit 1. */
	cli_run_steps(sock, ARGS("run", "--keep-going"), every_command,
		      sizeof(every_command) / sizeof(every_command[0]), 1);
	/* What the script stored is in the device. */
	cli_expect(sock, ARGS("read", "sim0", "0x100"), 0, "0x00000001\n");
	cli_expect(sock, ARGS("read", "sim0", "0x104"), 0, "0xdeadbeef\n");
	cli_expect(sock, ARGS("read", "sim0", "0x10e", "-w", "16"), 0, "0x1122\n");
	assert_int_equal(daemon_fixture_stop(&env->daemon), 0);
}

static const struct cli_step line_errors[] = {
	{"acquire a sim0 0 8", "ok"},
	{"frob a", "error INVALID_ARGUMENT: unknown command 'frob'"},
	{"load8 b 0", "error INVALID_ARGUMENT: unknown label 'b'"},
	{"acquire a sim0 8 8", "error INVALID_ARGUMENT: label 'a' already in use"},
	{"split a a 1", "error INVALID_ARGUMENT: label 'a' already in use"},
	{"load8 a", "error INVALID_ARGUMENT: wrong argument count"},
	{"store8 a 0 1 2", "error INVALID_ARGUMENT: wrong argument count"},
	{"release", "error INVALID_ARGUMENT: wrong argument count"},
	{"store8 a 0 0x100", "error INVALID_ARGUMENT: "},
	{"load8 a 0zero", "error INVALID_ARGUMENT: "},
	{"load8 a zero", "error NOT_FOUND: region sim0 has no register map"},
	{"split 9x a 1", "error INVALID_ARGUMENT: "},
	{"split b a 9", "error OUT_OF_RANGE: mid 0x9 is past lease length 0x8"},
	{"acquire b nosuch 0 1", "error NOT_FOUND: no region named 'nosuch'"},
	{"acquire b sim0 0xffff 2",
	 "error OUT_OF_RANGE: offset 0xffff length 0x2 is not inside region sim0 of size 0x10000"},
	{"load32 a 2", "error UNALIGNED: sim0 offset 0x2 (lease"},
	{"load64 a 4", "error UNALIGNED: not 8-byte aligned"},
	{"release a", "ok"},
	{"release a", "error INVALID_ARGUMENT: unknown label 'a'"},
	{"load8 a 0", "error INVALID_ARGUMENT: unknown label 'a'"},
	{"acquire a sim0 0 8", "ok"},
};

static void
test_mmioctl_run_line_errors(void **state)
{
	struct env *env = *state;
	cli_run_steps(env->daemon.socket_path, ARGS("run", "-k"), line_errors,
		      sizeof(line_errors) / sizeof(line_errors[0]), 1);
	assert_int_equal(daemon_fixture_stop(&env->daemon), 0);
}

static const struct cli_step failing[] = {
	{"acquire a sim0 0 8", "ok"},
	{"load32 a 8", "error OUT_OF_RANGE: 4-byte access at offset 0x8 does not fit lease"},
	{"store32 a 4 7", "ok"},
	{"load32 a 4", "ok 0x00000007"},
};

static void
test_mmioctl_run_keep_going(void **state)
{
	struct env *env = *state;
	const char *sock = env->daemon.socket_path;
	struct spawn_proc p;
	struct spawn_proc_result r;
	/* Without --keep-going the error ends the script: later lines are not run. */
	cli_start(&p, sock, ARGS("run"));
	cli_expect_line(&p, failing[0].line, failing[0].result);
	cli_expect_line(&p, failing[1].line, failing[1].result);
	cli_finish(&p, "store32 a 4 7\nload32 a 4\n", &r);
	assert_int_equal(r.status, 1);
	assert_string_equal(r.out, "");
	assert_int_equal(strncmp(r.err, "mmioctl: run: ", 14), 0);
	spawn_proc_result_finish(&r);
	cli_expect(sock, ARGS("read", "sim0", "4"), 0, "0x00000000\n");

	cli_run_steps(sock, ARGS("run", "-", "--keep-going"), failing, 4, 1);

	/* A clean script from a file: exit 0. */
	char path[] = "/tmp/mmioctl-script-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	static const char clean[] = "acquire a sim0 0 8 # x\nload32 a 4\n# no newline at the end";
	assert_int_equal(write(fd, clean, strlen(clean)), (ssize_t)strlen(clean));
	close(fd);
	cli_expect(sock, ARGS("run", path), 0, "ok\nok 0x00000007\n");
	cli_expect(sock, ARGS("--keep-going", "run", path), 2, "");
	unlink(path);
	cli_run(sock, NULL, &r, ARGS("run", path));
	assert_int_equal(r.status, 1);
	assert_string_equal(r.out, "");
	spawn_proc_result_finish(&r);
	/* Empty input: nothing to do, success. */
	cli_expect(sock, ARGS("run"), 0, "");
	assert_int_equal(daemon_fixture_stop(&env->daemon), 0);
}

static void
test_mmioctl_conflict_between_connections(void **state)
{
	struct env *env = *state;
	const char *sock = env->daemon.socket_path;
	struct spawn_proc a, b;
	cli_start(&a, sock, ARGS("run"));
	cli_start(&b, sock, ARGS("run", "--keep-going"));
	cli_expect_line(&a, "acquire x sim0 0x20 0x20", "ok");
	cli_expect_line(&b, "acquire y sim0 0x3c 4",
			"error CONFLICT: range overlaps a live lease on sim0");
	cli_expect_line(&b, "acquire y sim0 0x40 4", "ok");
	cli_expect_failure(sock, ARGS("write", "sim0", "0x20", "1", "-w", "8"), "CONFLICT",
			   "range overlaps a live lease on sim0");
	cli_expect_failure(sock, ARGS("dump", "sim0", "0", "0x100"), "CONFLICT",
			   "range overlaps a live lease on sim0");

	struct spawn_proc_result r;
	cli_finish(&a, NULL, &r);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "");
	spawn_proc_result_finish(&r);
	/* a's connection is closed, so its lease is gone; b's still stands. */
	cli_expect(sock, ARGS("read", "sim0", "0x3c"), 0, "0x00000000\n");
	cli_expect_failure(sock, ARGS("read", "sim0", "0x40"), "CONFLICT",
			   "range overlaps a live lease on sim0");
	cli_finish(&b, NULL, &r);
	assert_int_equal(r.status, 1); /* its first line failed */
	assert_string_equal(r.out, "");
	spawn_proc_result_finish(&r);
	assert_int_equal(daemon_fixture_stop(&env->daemon), 0);
}

/* Written at sim0 0x100 and dev1 5 (device address 8-aligned) for the dump test. */
static const unsigned char dump_bytes[48] = "mmiod dump test\n"
					    "\x00\x01\x02\x03\x04\x05\x06\x07"
					    "\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f"
					    "ABCDEFGH\x7e\x7f\x80\xff !\"#";

static const char dump_sim0[] =
	"00000103  6f 64 20 64 75 6d 70 20  74 65 73 74 0a 00 01 02  |od dump test....|\n"
	"00000113  03 04 05 06 07 08 09 0a  0b 0c 0d 0e 0f 41 42 43  |.............ABC|\n"
	"00000123  44 45 46 47 48 7e 7f 80  ff 20                    |DEFGH~... |\n"
	"0000012d\n";

static const char dump_dev1[] =
	"00000004  00 6d 6d 69 6f 64 20 64  75 6d 70 20 74 65 73 74  |.mmiod dump test|\n"
	"00000014  0a 00 01 02 03 04 05 06  07 08 09 0a 0b 0c 0d 0e  |................|\n"
	"00000024  0f 41 42 43 44 45 46 47  48 7e 7f 80 ff 20 21 22  |.ABCDEFGH~... !\"|\n"
	"00000034  23                                                |#|\n"
	"00000035\n";

/* Writes dump_bytes at base of region with 64-bit writes. */
static void
prefill(const char *sock, const char *region, uint64_t base)
{
	for (size_t i = 0; i < sizeof(dump_bytes); i += 8) {
		uint64_t v;
		memcpy(&v, dump_bytes + i, 8); /* stored natively, lands as these bytes */
		char offset[24], value[24];
		snprintf(offset, sizeof(offset), "%#" PRIx64, base + i);
		snprintf(value, sizeof(value), "%#" PRIx64, v);
		cli_expect(sock, ARGS("write", region, offset, value, "-w", "64"), 0, "");
	}
}

static void
test_mmioctl_dump_matches_hexdump(void **state)
{
	struct env *env = *state;
	const char *sock = env->daemon.socket_path;
	prefill(sock, "sim0", 0x100);
	prefill(sock, "dev1", 5);
	static const char *const widths[] = {"8", "16", "32", "64"};
	cli_expect(sock, ARGS("dump", "sim0", "0x103", "0x2a"), 0, dump_sim0);
	cli_expect(sock, ARGS("dump", "dev1", "4", "49"), 0, dump_dev1);
	for (size_t i = 0; i < 4; i++) {
		cli_expect(sock, ARGS("dump", "sim0", "0x103", "42", "-w", widths[i]), 0,
			   dump_sim0);
		/* dev1's device addresses are odd-based: offset 4 is address 7 mod 8. */
		cli_expect(sock, ARGS("dump", "dev1", "4", "0x31", "-w", widths[i]), 0, dump_dev1);
	}
	cli_expect(sock, ARGS("dump", "sim0", "0x100", "0"), 0, "");
	/* The range is released: a whole-region dump (more than one batch) works after it. */
	struct spawn_proc_result r;
	cli_run(sock, NULL, &r, ARGS("dump", "sim0", "0", "0x10000", "-w", "8"));
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "00000100  6d 6d 69 6f"));
	assert_non_null(strstr(r.out, "0000fff0  00 00 00 00"));
	assert_non_null(strstr(r.out, "\n00010000\n"));
	spawn_proc_result_finish(&r);
	assert_int_equal(daemon_fixture_stop(&env->daemon), 0);
}

int
main(void)
{
	/* A child that exits early must fail a test, not kill the runner with SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_mmioctl_write_read_every_width),
		T(test_mmioctl_read_default_width),
		T(test_mmioctl_refused_requests),
		T(test_mmioctl_usage_errors),
		cmocka_unit_test(test_mmioctl_help),
		T(test_mmioctl_regions_listed),
		T(test_mmioctl_leases_of_running_script),
		T(test_mmioctl_revoke_script_lease),
		T(test_mmioctl_revoke_with_grace),
		T(test_mmioctl_run_every_command),
		T(test_mmioctl_run_line_errors),
		T(test_mmioctl_run_keep_going),
		T(test_mmioctl_conflict_between_connections),
		T(test_mmioctl_dump_matches_hexdump),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
