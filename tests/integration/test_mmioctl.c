/*
 * The mmioctl binary against a real mmiod: its output, stderr and exit status,
 * and `run` driven line by line through pipes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon_fixture.h"

/* Not a sleep: only how long a broken mmioctl may hang before the test fails. */
#define IO_TIMEOUT_MS 30000
#define MAX_ARGS      16

/* The file region starts at an odd file offset, so its device addresses are odd-based. */
#define FILE_OFFSET 0x1003

extern char **environ;

struct env {
	struct daemon_fixture daemon;
	char file_path[64];
};

/* A running mmioctl: our ends of its stdin, stdout and stderr (-1 once closed). */
struct proc {
	pid_t pid;
	int in, out, err;
};

/* What a finished mmioctl printed (NUL-terminated) and its exit status. */
struct result {
	int status;
	char *out, *err;
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
	if (fd < 0 || ftruncate(fd, 0x2000) < 0) {
		return -1;
	}
	close(fd);
	char file_region[160];
	snprintf(file_region, sizeof(file_region), "dev1,type=file,path=%s,size=0x100,offset=%#x",
		 env->file_path, FILE_OFFSET);
	const char *regions[] = {"sim0,type=mem,size=0x10000", "sim1,type=mem,size=0x100",
				 file_region, NULL};
	if (daemon_fixture_start(&env->daemon, regions) < 0) {
		return -1;
	}
	*state = env;
	return 0;
}

/*
 * Daemons that did not stop cleanly (crash, LSan or valgrind report). cmocka
 * 1.1 reports a failing teardown but does not count it in its result, so
 * main() adds these: the runner's tally, not per-test state.
 */
static int unclean_stops;

static int
teardown(void **state)
{
	struct env *env = *state;
	int rc = daemon_fixture_stop(&env->daemon);
	unlink(env->file_path);
	free(env);
	if (rc != 0) {
		unclean_stops++;
		return -1;
	}
	return 0;
}

/* Starts mmioctl [-s socket] args... (args NULL-terminated) with all three stdio on pipes. */
static void
proc_start(struct proc *p, const char *socket, const char *const *args)
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
	int fds[3][2];
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(pipe2(fds[i], O_CLOEXEC), 0);
		/* The child's end: the read end of stdin, the write ends of stdout and stderr. */
		posix_spawn_file_actions_adddup2(&fa, fds[i][i == 0 ? 0 : 1], i);
	}
	int rc = posix_spawn(&p->pid, MMIOCTL_PATH, &fa, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	assert_int_equal(rc, 0);
	close(fds[0][0]);
	close(fds[1][1]);
	close(fds[2][1]);
	p->in = fds[0][1];
	p->out = fds[1][0];
	p->err = fds[2][0];
}

/* Sends text to the process's stdin; it reads as it goes, so a short text cannot block. */
static void
proc_write(struct proc *p, const char *text)
{
	size_t len = strlen(text);
	assert_int_equal(write(p->in, text, len), (ssize_t)len);
}

/* Waits for the next line of stdout and returns it without '\n' in line. */
static void
proc_read_line(struct proc *p, char *line, size_t cap)
{
	size_t n = 0;
	for (;;) {
		struct pollfd pfd = {.fd = p->out, .events = POLLIN};
		if (poll(&pfd, 1, IO_TIMEOUT_MS) != 1) {
			fail_msg("mmioctl printed no line within %d ms", IO_TIMEOUT_MS);
		}
		char c;
		if (read(p->out, &c, 1) != 1) {
			fail_msg("mmioctl closed stdout while a line was expected");
		}
		if (c == '\n') {
			break;
		}
		assert_true(n + 1 < cap);
		line[n++] = c;
	}
	line[n] = '\0';
}

/*
 * Sends input (may be NULL), closes stdin, collects the rest of stdout and
 * stderr until both reach EOF, and reaps the process.
 */
static void
proc_finish(struct proc *p, const char *input, struct result *r)
{
	/* A process that already stopped reading gets EPIPE here: that is its business. */
	ssize_t w = input ? write(p->in, input, strlen(input)) : 0;
	(void)w;
	close(p->in);
	int *fds[2] = {&p->out, &p->err};
	char *text[2] = {calloc(1, 1), calloc(1, 1)};
	size_t len[2] = {0, 0};
	while (p->out >= 0 || p->err >= 0) {
		struct pollfd pfd[2] = {{.fd = p->out, .events = POLLIN},
					{.fd = p->err, .events = POLLIN}};
		if (poll(pfd, 2, IO_TIMEOUT_MS) <= 0) {
			fail_msg("mmioctl did not finish within %d ms", IO_TIMEOUT_MS);
		}
		for (int i = 0; i < 2; i++) {
			if (!pfd[i].revents) {
				continue;
			}
			char chunk[4096];
			ssize_t got = read(*fds[i], chunk, sizeof(chunk));
			if (got <= 0) {
				close(*fds[i]);
				*fds[i] = -1;
				continue;
			}
			text[i] = realloc(text[i], len[i] + (size_t)got + 1);
			assert_non_null(text[i]);
			memcpy(text[i] + len[i], chunk, (size_t)got);
			len[i] += (size_t)got;
			text[i][len[i]] = '\0';
		}
	}
	int status;
	assert_int_equal(waitpid(p->pid, &status, 0), p->pid);
	r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	r->out = text[0];
	r->err = text[1];
}

static void
result_finish(struct result *r)
{
	free(r->out);
	free(r->err);
}

/* Runs mmioctl -s socket args... to completion with input on stdin. */
static void
run_mmioctl(const char *socket, const char *input, struct result *r, const char *const *args)
{
	struct proc p;
	proc_start(&p, socket, args);
	proc_finish(&p, input, r);
}

/* The common case: run, then check exit status and exact stdout; stderr must be empty on 0. */
static void
expect_mmioctl(const char *socket, const char *const *args, int status, const char *out)
{
	struct result r;
	run_mmioctl(socket, NULL, &r, args);
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
	result_finish(&r);
}

/*
 * Expects a refused request: exit 1, stdout empty, and on stderr the one line
 * "mmioctl: <what>: STATUS_NAME: <detail>" with detail containing the given
 * fragment of the daemon's explanation. For a NULL status_name, a usage error:
 * exit 2 and "mmioctl: ..." on stderr.
 */
static void
expect_failure(const char *socket, const char *const *args, const char *status_name,
	       const char *detail)
{
	struct result r;
	run_mmioctl(socket, NULL, &r, args);
	char needle[64] = "";
	if (status_name) {
		snprintf(needle, sizeof(needle), ": %s: ", status_name);
	}
	const char *found = strstr(r.err, needle);
	const char *newline = strchr(r.err, '\n');
	bool ok = r.status == (status_name ? 1 : 2) && strncmp(r.err, "mmioctl: ", 9) == 0 &&
		  found && r.out[0] == '\0';
	if (ok && status_name) {
		/* One line, and the detail is in it, after the status name. */
		ok = newline && newline[1] == '\0' && strstr(found + strlen(needle), detail);
	}
	if (!ok) {
		fail_msg("exit %d, stdout '%s', stderr '%s'", r.status, r.out, r.err);
	}
	result_finish(&r);
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

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
		expect_mmioctl(sock,
			       ARGS("write", "sim0", cases[i].offset, cases[i].value, "-w",
				    cases[i].width),
			       0, "");
		expect_mmioctl(sock,
			       ARGS("read", "sim0", cases[i].offset, "--width", cases[i].width), 0,
			       cases[i].printed);
	}
	/* Options before the arguments, and a 16-bit read of half the 32-bit value. */
	expect_mmioctl(sock, ARGS("read", "-w", "16", "sim0", "0x46"), 0, "0x00c0\n");
}

static void
test_mmioctl_read_default_width(void **state)
{
	struct env *env = *state;
	const char *sock = env->daemon.socket_path;
	expect_mmioctl(sock, ARGS("write", "sim0", "0x10", "0xabcd"), 0, "");
	expect_mmioctl(sock, ARGS("read", "sim0", "0x10"), 0, "0x0000abcd\n");
	expect_mmioctl(sock, ARGS("read", "sim0", "16"), 0, "0x0000abcd\n");
	expect_mmioctl(sock, ARGS("read", "sim1", "0"), 0, "0x00000000\n");
}

static void
test_mmioctl_refused_requests(void **state)
{
	struct env *env = *state;
	const char *sock = env->daemon.socket_path;
	expect_failure(sock, ARGS("read", "sim0", "0x2", "-w", "32"), "UNALIGNED",
		       "not 4-byte aligned");
	expect_failure(sock, ARGS("write", "sim0", "0x1", "5", "-w", "64"), "UNALIGNED",
		       "not 8-byte aligned");
	expect_failure(sock, ARGS("read", "sim0", "0xfffc", "-w", "64"), "OUT_OF_RANGE",
		       "offset 0xfffc length 0x8 is not inside region sim0");
	expect_failure(sock, ARGS("read", "sim0", "0xfffffffffffffffc"), "OUT_OF_RANGE",
		       "is not inside region sim0");
	expect_failure(sock, ARGS("write", "sim1", "0x100", "1", "-w", "8"), "OUT_OF_RANGE",
		       "is not inside region sim1");
	expect_failure(sock, ARGS("dump", "sim1", "0xf0", "0x11"), "OUT_OF_RANGE",
		       "offset 0xf0 length 0x11 is not inside region sim1 of size 0x100");
	expect_failure(sock, ARGS("read", "nosuch", "0"), "NOT_FOUND", "no region named 'nosuch'");
	expect_failure(sock, ARGS("dump", "nosuch", "0", "16"), "NOT_FOUND",
		       "no region named 'nosuch'");
	/* The whole line: what was asked, the status name, then the daemon's detail. */
	struct result r;
	run_mmioctl(sock, NULL, &r, ARGS("read", "sim0", "0x10000"));
	assert_int_equal(r.status, 1);
	assert_string_equal(r.out, "");
	assert_string_equal(r.err, "mmioctl: read sim0 0x10000: OUT_OF_RANGE: offset 0x10000 "
				   "length 0x4 is not inside region sim0 of size 0x10000\n");
	result_finish(&r);
}

static void
test_mmioctl_usage_errors(void **state)
{
	struct env *env = *state;
	const char *sock = env->daemon.socket_path;
	expect_failure(sock, ARGS("read", "sim0", "0", "-w", "12"), NULL, NULL);
	expect_failure(sock, ARGS("read", "sim0", "0", "-w", "0"), NULL, NULL);
	expect_failure(sock, ARGS("read", "sim0", "0", "--width=abc"), NULL, NULL);
	expect_failure(sock, ARGS("dump", "sim0", "0", "16", "-w", "128"), NULL, NULL);
	expect_failure(sock, ARGS("write", "sim0", "0", "0x100", "-w", "8"), NULL, NULL);
	expect_failure(sock, ARGS("write", "sim0", "0", "0x100000000"), NULL, NULL);
	expect_failure(sock, ARGS("read", "sim0", "zero"), NULL, NULL);
	expect_failure(sock, ARGS("read", "sim0", "-1"), NULL, NULL);
	expect_failure(sock, ARGS("read", "sim0", "0x10000000000000000"), NULL, NULL);
	expect_failure(sock, ARGS("read", "sim0"), NULL, NULL);
	expect_failure(sock, ARGS("read", "sim0", "0", "1"), NULL, NULL);
	expect_failure(sock, ARGS("regions", "extra"), NULL, NULL);
	expect_failure(sock, ARGS("leases", "-w", "8"), NULL, NULL);
	expect_failure(sock, ARGS("read", "sim0", "0", "--keep-going"), NULL, NULL);
	expect_failure(sock, ARGS("frobnicate"), NULL, NULL);
	expect_failure(sock, ARGS("--bogus"), NULL, NULL);
	expect_failure(NULL, ARGS("-s"), NULL, NULL);
	/* Nothing was written by the refused write. */
	expect_mmioctl(sock, ARGS("read", "sim0", "0"), 0, "0x00000000\n");
}

static void
test_mmioctl_help(void **state)
{
	(void)state;
	static const char *const commands[] = {"regions", "leases", "read", "write", "dump", "run"};
	expect_mmioctl(NULL, ARGS("-V"), 0, "mmioctl " MMIOD_VERSION "\n");
	struct result r;
	for (size_t i = 0; i <= 6; i++) {
		/* Help wins over missing or extra arguments, and needs no daemon. */
		const char *cmd = i < 6 ? commands[i] : "--help";
		run_mmioctl(NULL, NULL, &r, i < 6 ? ARGS(cmd, "--help") : ARGS("--help"));
		assert_int_equal(r.status, 0);
		assert_string_equal(r.err, "");
		char usage[64];
		snprintf(usage, sizeof(usage), "Usage: mmioctl [-s SOCKET] %s",
			 i < 6 ? cmd : "COMMAND");
		assert_int_equal(strncmp(r.out, usage, strlen(usage)), 0);
		for (size_t j = 0; i == 6 && j < 6; j++) {
			assert_non_null(strstr(r.out, commands[j]));
		}
		result_finish(&r);
		if (i < 6) {
			expect_mmioctl("/nonexistent", ARGS(cmd, "x", "y", "z", "-h"), 0, NULL);
		}
	}
}

static void
test_mmioctl_regions_listed(void **state)
{
	struct env *env = *state;
	struct result r;
	for (int via_env = 0; via_env < 2; via_env++) {
		/* $MMIOD_SOCKET is the default socket. */
		if (via_env) {
			setenv("MMIOD_SOCKET", env->daemon.socket_path, 1);
		}
		run_mmioctl(via_env ? NULL : env->daemon.socket_path, NULL, &r, ARGS("regions"));
		unsetenv("MMIOD_SOCKET");
		assert_int_equal(r.status, 0);
		assert_string_equal(r.err, "");
		unsigned long long a0, a1, a2;
		int end = 0;
		sscanf(r.out,
		       "NAME TYPE SIZE ADDRESS sim0 mem 0x10000 %llx sim1 mem 0x100 %llx dev1 file "
		       "0x100 %llx%n",
		       &a0, &a1, &a2, &end);
		assert_int_equal(end, (int)strlen(r.out) - 1);
		/* The file region's device address keeps the file offset's residue. */
		assert_int_equal(a2 % 0x1000, FILE_OFFSET % 0x1000);
		result_finish(&r);
	}
	/* No daemon: the connect error, exit 1. */
	run_mmioctl("/nonexistent/mmiod.sock", NULL, &r, ARGS("regions"));
	assert_int_equal(r.status, 1);
	assert_string_equal(r.out, "");
	assert_int_equal(strncmp(r.err, "mmioctl: connect /nonexistent/mmiod.sock: ", 42), 0);
	result_finish(&r);
}

/*
 * One script line and the result line it must print (NULL: none). An error
 * result "error NAME: fragment" matches a line that starts "error NAME: " and
 * holds fragment in the rest; any other result must match the whole line.
 */
struct step {
	const char *line;
	const char *result;
};

/* Sends line to a running `mmioctl run` and checks the result it prints (want NULL: none). */
static void
expect_line(struct proc *p, const char *line, const char *want)
{
	char got[256];
	proc_write(p, line);
	proc_write(p, "\n");
	if (!want) {
		return;
	}
	proc_read_line(p, got, sizeof(got));
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

/*
 * Runs `mmioctl run args...`, feeding steps one at a time and checking each
 * result as it arrives, then closes its stdin and expects exit status.
 */
static void
run_steps(const char *sock, const char *const *args, const struct step *steps, size_t n, int status)
{
	struct proc p;
	struct result r;
	proc_start(&p, sock, args);
	for (size_t i = 0; i < n; i++) {
		expect_line(&p, steps[i].line, steps[i].result);
	}
	proc_finish(&p, NULL, &r);
	assert_int_equal(r.status, status);
	assert_string_equal(r.out, "");
	result_finish(&r);
}

/* Counts the rows of `mmioctl leases` that match region/start/length and, if pid > 0, pid. */
static int
count_leases(const char *sock, const char *region, const char *start, const char *length, pid_t pid)
{
	struct result r;
	run_mmioctl(sock, NULL, &r, ARGS("leases"));
	assert_int_equal(r.status, 0);
	char *save = NULL;
	char *line = strtok_r(r.out, "\n", &save);
	assert_non_null(line);
	assert_int_equal(strncmp(line, "    ID  REGION  START", 21), 0);
	int n = 0;
	while ((line = strtok_r(NULL, "\n", &save))) {
		char reg[70], st[24], len[24];
		long lpid;
		unsigned long uid;
		assert_int_equal(
			sscanf(line, "%*u %69s %23s %23s %ld %lu", reg, st, len, &lpid, &uid), 5);
		assert_int_equal(uid, (unsigned long)getuid());
		n += strcmp(reg, region) == 0 && strcmp(st, start) == 0 &&
		     strcmp(len, length) == 0 && (pid <= 0 || lpid == (long)pid);
	}
	result_finish(&r);
	return n;
}

static void
test_mmioctl_leases_of_running_script(void **state)
{
	struct env *env = *state;
	const char *sock = env->daemon.socket_path;
	assert_int_equal(count_leases(sock, "sim0", "0x0", "0x10", 0), 0);

	struct proc p;
	proc_start(&p, sock, ARGS("run"));
	expect_line(&p, "acquire a sim0 0 16", "ok");
	assert_int_equal(count_leases(sock, "sim0", "0x0", "0x10", p.pid), 1);

	expect_line(&p, "# a comment prints nothing\n", NULL);
	expect_line(&p, "split lo a 4", "ok");
	assert_int_equal(count_leases(sock, "sim0", "0x0", "0x10", p.pid), 0);
	assert_int_equal(count_leases(sock, "sim0", "0x0", "0x4", p.pid), 1);
	assert_int_equal(count_leases(sock, "sim0", "0x4", "0xc", p.pid), 1);

	/* The lease blocks another connection until the script ends. */
	expect_failure(sock, ARGS("read", "sim0", "8"), "CONFLICT",
		       "range overlaps a live lease on sim0");

	expect_line(&p, "release lo", "ok");
	assert_int_equal(count_leases(sock, "sim0", "0x0", "0x4", p.pid), 0);

	struct result r;
	proc_finish(&p, "load32 a 0\n", &r);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "ok 0x00000000\n");
	assert_string_equal(r.err, "");
	result_finish(&r);
	/* Its connection closed: every lease of it is gone. */
	assert_int_equal(count_leases(sock, "sim0", "0x4", "0xc", 0), 0);
	expect_mmioctl(sock, ARGS("read", "sim0", "8"), 0, "0x00000000\n");
}

static const struct step every_command[] = {
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
	{"load8 lo 4", "error OUT_OF_RANGE: 1 bytes at offset 0x4 do not fit lease"},
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
	run_steps(sock, ARGS("run", "--keep-going"), every_command,
		  sizeof(every_command) / sizeof(every_command[0]), 1);
	/* What the script stored is in the device. */
	expect_mmioctl(sock, ARGS("read", "sim0", "0x100"), 0, "0x00000001\n");
	expect_mmioctl(sock, ARGS("read", "sim0", "0x104"), 0, "0xdeadbeef\n");
	expect_mmioctl(sock, ARGS("read", "sim0", "0x10e", "-w", "16"), 0, "0x1122\n");
}

static const struct step line_errors[] = {
	{"acquire a sim0 0 8", "ok"},
	{"frob a", "error INVALID_ARGUMENT: unknown command 'frob'"},
	{"load8 b 0", "error INVALID_ARGUMENT: unknown label 'b'"},
	{"acquire a sim0 8 8", "error INVALID_ARGUMENT: label 'a' already in use"},
	{"split a a 1", "error INVALID_ARGUMENT: label 'a' already in use"},
	{"load8 a", "error INVALID_ARGUMENT: wrong argument count"},
	{"store8 a 0 1 2", "error INVALID_ARGUMENT: wrong argument count"},
	{"release", "error INVALID_ARGUMENT: wrong argument count"},
	{"store8 a 0 0x100", "error INVALID_ARGUMENT: "},
	{"load8 a zero", "error INVALID_ARGUMENT: "},
	{"split 9x a 1", "error INVALID_ARGUMENT: "},
	{"split b a 9", "error OUT_OF_RANGE: mid 0x9 is past lease length 0x8"},
	{"acquire b nosuch 0 1", "error NOT_FOUND: no region named 'nosuch'"},
	{"acquire b sim0 0xffff 2",
	 "error OUT_OF_RANGE: offset 0xffff length 0x2 is not inside region sim0 of size 0x10000"},
	{"load32 a 2", "error UNALIGNED: offset 0x2 of lease"},
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
	run_steps(env->daemon.socket_path, ARGS("run", "-k"), line_errors,
		  sizeof(line_errors) / sizeof(line_errors[0]), 1);
}

static const struct step failing[] = {
	{"acquire a sim0 0 8", "ok"},
	{"load32 a 8", "error OUT_OF_RANGE: 4 bytes at offset 0x8 do not fit lease"},
	{"store32 a 4 7", "ok"},
	{"load32 a 4", "ok 0x00000007"},
};

static void
test_mmioctl_run_keep_going(void **state)
{
	struct env *env = *state;
	const char *sock = env->daemon.socket_path;
	struct proc p;
	struct result r;
	/* Without --keep-going the error ends the script: later lines are not run. */
	proc_start(&p, sock, ARGS("run"));
	expect_line(&p, failing[0].line, failing[0].result);
	expect_line(&p, failing[1].line, failing[1].result);
	proc_finish(&p, "store32 a 4 7\nload32 a 4\n", &r);
	assert_int_equal(r.status, 1);
	assert_string_equal(r.out, "");
	assert_int_equal(strncmp(r.err, "mmioctl: run: ", 14), 0);
	result_finish(&r);
	expect_mmioctl(sock, ARGS("read", "sim0", "4"), 0, "0x00000000\n");

	run_steps(sock, ARGS("run", "-", "--keep-going"), failing, 4, 1);

	/* A clean script from a file: exit 0. */
	char path[] = "/tmp/mmioctl-script-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	static const char clean[] = "acquire a sim0 0 8 # x\nload32 a 4\n# no newline at the end";
	assert_int_equal(write(fd, clean, strlen(clean)), (ssize_t)strlen(clean));
	close(fd);
	expect_mmioctl(sock, ARGS("run", path), 0, "ok\nok 0x00000007\n");
	expect_mmioctl(sock, ARGS("--keep-going", "run", path), 2, "");
	unlink(path);
	run_mmioctl(sock, NULL, &r, ARGS("run", path));
	assert_int_equal(r.status, 1);
	assert_string_equal(r.out, "");
	result_finish(&r);
	/* Empty input: nothing to do, success. */
	expect_mmioctl(sock, ARGS("run"), 0, "");
}

static void
test_mmioctl_conflict_between_connections(void **state)
{
	struct env *env = *state;
	const char *sock = env->daemon.socket_path;
	struct proc a, b;
	proc_start(&a, sock, ARGS("run"));
	proc_start(&b, sock, ARGS("run", "--keep-going"));
	expect_line(&a, "acquire x sim0 0x20 0x20", "ok");
	expect_line(&b, "acquire y sim0 0x3c 4",
		    "error CONFLICT: range overlaps a live lease on sim0");
	expect_line(&b, "acquire y sim0 0x40 4", "ok");
	expect_failure(sock, ARGS("write", "sim0", "0x20", "1", "-w", "8"), "CONFLICT",
		       "range overlaps a live lease on sim0");
	expect_failure(sock, ARGS("dump", "sim0", "0", "0x100"), "CONFLICT",
		       "range overlaps a live lease on sim0");

	struct result r;
	proc_finish(&a, NULL, &r);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "");
	result_finish(&r);
	/* a's connection is closed, so its lease is gone; b's still stands. */
	expect_mmioctl(sock, ARGS("read", "sim0", "0x3c"), 0, "0x00000000\n");
	expect_failure(sock, ARGS("read", "sim0", "0x40"), "CONFLICT",
		       "range overlaps a live lease on sim0");
	proc_finish(&b, NULL, &r);
	assert_int_equal(r.status, 1); /* its first line failed */
	assert_string_equal(r.out, "");
	result_finish(&r);
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
		expect_mmioctl(sock, ARGS("write", region, offset, value, "-w", "64"), 0, "");
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
	expect_mmioctl(sock, ARGS("dump", "sim0", "0x103", "0x2a"), 0, dump_sim0);
	expect_mmioctl(sock, ARGS("dump", "dev1", "4", "49"), 0, dump_dev1);
	for (size_t i = 0; i < 4; i++) {
		expect_mmioctl(sock, ARGS("dump", "sim0", "0x103", "42", "-w", widths[i]), 0,
			       dump_sim0);
		/* dev1's device addresses are odd-based: offset 4 is address 7 mod 8. */
		expect_mmioctl(sock, ARGS("dump", "dev1", "4", "0x31", "-w", widths[i]), 0,
			       dump_dev1);
	}
	expect_mmioctl(sock, ARGS("dump", "sim0", "0x100", "0"), 0, "");
	/* The range is released: a whole-region dump (more than one batch) works after it. */
	struct result r;
	run_mmioctl(sock, NULL, &r, ARGS("dump", "sim0", "0", "0x10000", "-w", "8"));
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "00000100  6d 6d 69 6f"));
	assert_non_null(strstr(r.out, "0000fff0  00 00 00 00"));
	assert_non_null(strstr(r.out, "\n00010000\n"));
	result_finish(&r);
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
		T(test_mmioctl_run_every_command),
		T(test_mmioctl_run_line_errors),
		T(test_mmioctl_run_keep_going),
		T(test_mmioctl_conflict_between_connections),
		T(test_mmioctl_dump_matches_hexdump),
	};
#undef T
	int failed = cmocka_run_group_tests(tests, NULL, NULL);
	return failed + unclean_stops;
}
