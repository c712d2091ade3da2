/*
 * mmioctl's errors in the user's terms: numbers with a leading zero, a daemon
 * that is not there (UNAVAILABLE), CONFLICT's hint, usage errors under
 * -o json, and an unknown $MMIO_FAST_PATH.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli.h"
#include "daemon_fixture.h"
#include "run_as.h"
#include "spawn_proc.h"

/* Who the refused user is: nobody, in no group of the socket's. */
#define NOBODY 65534

static int
setup(void **state)
{
	struct daemon_fixture *daemon = calloc(1, sizeof(*daemon));
	const char *regions[] = {"sim0,type=mem,size=0x1000", NULL};
	if (!daemon || daemon_fixture_start(daemon, regions) < 0) {
		free(daemon);
		return -1;
	}
	*state = daemon;
	return 0;
}

static int
teardown(void **state)
{
	struct daemon_fixture *daemon = *state;
	int rc = daemon->pid > 0 ? daemon_fixture_stop(daemon) : 0;
	free(daemon);
	return rc == 0 ? 0 : -1;
}

/*
 * Runs mmioctl args: exit status status, stdout exactly out (unless NULL), and
 * every fragment of err (NULL-terminated) somewhere in stderr.
 */
static void
expect_run(const char *sock, const char *const *args, int status, const char *out,
	   const char *const *err)
{
	struct spawn_proc_result r;
	cli_run(sock, NULL, &r, args);
	bool ok = r.status == status && (!out || strcmp(r.out, out) == 0);
	for (int i = 0; ok && err && err[i]; i++) {
		ok = strstr(r.err, err[i]) != NULL;
	}
	if (!ok) {
		fail_msg("exit %d, stdout '%s', stderr '%s'", r.status, r.out, r.err);
	}
	spawn_proc_result_finish(&r);
}

/* A leading zero is refused everywhere a number is read: 010 is 8 to busybox devmem, 10 to us. */
static void
test_mmioctl_leading_zero_refused(void **state)
{
	struct daemon_fixture *daemon = *state;
	const char *sock = daemon->socket_path;
	static const char *const zero[] = {"'010': a leading zero is ambiguous", NULL};
	expect_run(sock, ARGS("read", "sim0", "010"), 2, "", zero);
	expect_run(sock, ARGS("write", "sim0", "8", "00"), 2, "", NULL);
	expect_run(sock, ARGS("modify", "sim0", "8", "0xff", "07"), 2, "", NULL);
	expect_run(sock, ARGS("dump", "sim0", "00000010+4"), 2, "", NULL);
	expect_run(sock, ARGS("dump", "sim0", "0x10", "04"), 2, "", NULL);
	expect_run(sock, ARGS("revoke", "01"), 2, "", NULL);
	expect_run(sock, ARGS("poll", "sim0", "8", "1", "1", "-t", "010"), 2, "", NULL);
	/* Zero itself, and zeros after 0x, are fine. */
	cli_expect(sock, ARGS("write", "sim0", "0", "0x0000000a"), 0, "");
	cli_expect(sock, ARGS("read", "sim0", "0x0000"), 0, "0x0000000a\n");
	cli_expect(sock, ARGS("read", "sim0", "0"), 0, "0x0000000a\n");
	/* The script reads numbers by the same rule. */
	static const struct cli_step steps[] = {
		{"acquire a sim0 0 16", "ok"},
		{"load32 a 010", "error INVALID_ARGUMENT: a leading zero is ambiguous"},
		{"store8 a 1 07", "error INVALID_ARGUMENT: a leading zero"},
		{"load32 a 0x0", "ok 0x0000000a"},
	};
	cli_run_steps(sock, ARGS("run", "--keep-going"), steps, sizeof(steps) / sizeof(steps[0]),
		      1);
	assert_int_equal(daemon_fixture_stop(daemon), 0);
}

/* mmioctl passes on the library's word about an unknown $MMIO_FAST_PATH, and carries on. */
static void
test_mmioctl_fast_path_env_reported(void **state)
{
	struct daemon_fixture *daemon = *state;
	static const char *const said[] = {
		"libmmio-client: $MMIO_FAST_PATH=yes is not auto, on or off: using auto\n", NULL};
	assert_int_equal(setenv("MMIO_FAST_PATH", "yes", 1), 0);
	expect_run(daemon->socket_path, ARGS("read", "sim0", "0"), 0, "0x00000000\n", said);
	assert_int_equal(setenv("MMIO_FAST_PATH", "off", 1), 0);
	cli_expect(daemon->socket_path, ARGS("read", "sim0", "0"), 0, "0x00000000\n");
	assert_int_equal(unsetenv("MMIO_FAST_PATH"), 0);
	assert_int_equal(daemon_fixture_stop(daemon), 0);
}

/* A socket at dir/name (dir made here, mode 0755) bound, listening if listening; -1 on error. */
static int
make_socket(char *dir, size_t dir_len, const char *name, bool listening, char *path,
	    size_t path_len)
{
	snprintf(dir, dir_len, "/tmp/mmioctl-sock-XXXXXX");
	if (!mkdtemp(dir) || chmod(dir, 0755) < 0) {
		return -1;
	}
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	snprintf(path, path_len, "%s/%s", dir, name);
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    (listening && listen(fd, 1) < 0) || chmod(path, 0660) < 0) {
		return -1;
	}
	if (!listening) {
		close(fd); /* what a mmiod killed with SIGKILL leaves behind */
		return -2;
	}
	return fd;
}

/* In a child as nobody: mmioctl on the socket path (arg) is refused, and says why. */
static int
connect_as_nobody(void *arg)
{
	const char *const argv[] = {MMIOCTL_PATH, "-s", arg, "regions", NULL};
	struct spawn_proc p;
	struct spawn_proc_result r;
	CHILD_CHECK(spawn_proc_start(&p, argv) == 0);
	CHILD_CHECK(spawn_proc_finish(&p, NULL, IO_TIMEOUT_MS, &r) == 0);
	CHILD_CHECK(r.status == 3);
	CHILD_CHECK(r.out[0] == '\0');
	CHILD_CHECK(strstr(r.err, ": UNAVAILABLE: Permission denied: you may not connect to it\n"));
	CHILD_CHECK(strstr(r.err, "mmioctl: hint: connecting takes membership of group 'root', "
				  "the socket's, and you are not a member: 'sudo adduser nobody "
				  "root', then log in again\n"));
	CHILD_CHECK(strstr(r.err, "mmioctl: hint: the socket tried is "));
	spawn_proc_result_finish(&r);
	return 0;
}

/*
 * No daemon is not NOT_FOUND (an unknown region) or ERROR: UNAVAILABLE, exit 3,
 * with the socket tried, systemctl, and the socket's group when refused.
 */
static void
test_mmioctl_no_daemon_unavailable(void **state)
{
	(void)state;
	static const char *const missing[] = {
		"mmioctl: connect /nonexistent/mmiod.sock: UNAVAILABLE: No such file or directory: "
		"there is no socket there\n",
		"mmioctl: hint: is mmiod running? See 'systemctl status mmiod.socket'",
		"mmioctl: hint: the socket tried is /nonexistent/mmiod.sock (given with -s); -s "
		"SOCKET or $MMIOD_SOCKET names another\n",
		NULL};
	expect_run("/nonexistent/mmiod.sock", ARGS("regions"), 3, "", missing);
	expect_run("/nonexistent/mmiod.sock", ARGS("read", "sim0", "0"), 3, "", missing);
	/* run connects before its first line. */
	expect_run("/nonexistent/mmiod.sock", ARGS("run"), 3, "", missing);
	static const char *const from_env[] = {"(from $MMIOD_SOCKET)", NULL};
	assert_int_equal(setenv("MMIOD_SOCKET", "/nonexistent/env.sock", 1), 0);
	expect_run(NULL, ARGS("leases"), 3, "", from_env);
	assert_int_equal(unsetenv("MMIOD_SOCKET"), 0);
	/* One JSON error object, with the socket and the hints. */
	expect_run("/nonexistent/mmiod.sock", ARGS("-o", "json", "stats"), 3,
		   "{\"error\": \"UNAVAILABLE\", \"detail\": \"No such file or directory: there is "
		   "no socket there\", \"socket\": \"/nonexistent/mmiod.sock\", \"hint\": [\"is "
		   "mmiod running? See 'systemctl status mmiod.socket' (a mmiod started by hand "
		   "listens where its --socket says)\", \"the socket tried is "
		   "/nonexistent/mmiod.sock (given with -s); -s SOCKET or $MMIOD_SOCKET names "
		   "another\"]}\n",
		   missing);

	/* A socket nothing listens on: a mmiod that died without removing it. */
	char dir[64];
	char path[128];
	assert_int_equal(make_socket(dir, sizeof(dir), "stale.sock", false, path, sizeof(path)),
			 -2);
	static const char *const refused[] = {
		": UNAVAILABLE: Connection refused: a socket is there, but nothing listens on it\n",
		"'systemctl status mmiod.socket'", NULL};
	expect_run(path, ARGS("regions"), 3, "", refused);
	unlink(path);
	rmdir(dir);

	/* A socket of group root, mode 0660: nobody may not connect. */
	int fd = make_socket(dir, sizeof(dir), "mmiod.sock", true, path, sizeof(path));
	assert_true(fd >= 0);
	assert_int_equal(run_as(NOBODY, NOBODY, NULL, 0, connect_as_nobody, path), 0);
	close(fd);
	unlink(path);
	rmdir(dir);
}

/* CONFLICT says where to look: mmioctl leases. */
static void
test_mmioctl_conflict_hint(void **state)
{
	struct daemon_fixture *daemon = *state;
	const char *sock = daemon->socket_path;
	struct spawn_proc holder;
	cli_start(&holder, sock, ARGS("run"));
	cli_expect_line(&holder, "acquire a sim0 0x100 16", "ok");
	static const char *const hint[] = {
		": CONFLICT: ",
		"\nmmioctl: hint: 'mmioctl leases' lists the leases you may see, with their "
		"holders' pid and uid; an admin may end one with 'mmioctl revoke ID'\n",
		NULL};
	expect_run(sock, ARGS("read", "sim0", "0x104"), 1, "", hint);
	struct spawn_proc_result r;
	cli_run(sock, NULL, &r, ARGS("-o", "json", "write", "sim0", "0x108", "1"));
	assert_int_equal(r.status, 1);
	assert_int_equal(strncmp(r.out, "{\"error\": \"CONFLICT\", \"detail\": \"", 32), 0);
	assert_non_null(strstr(r.out, "\", \"hint\": [\"'mmioctl leases' lists the leases you "
				      "may see, with their holders' pid and uid; an admin may "
				      "end one with 'mmioctl revoke ID'\"]}\n"));
	spawn_proc_result_finish(&r);
	/* Other refusals have no hint. */
	static const char *const unaligned[] = {": UNALIGNED: ", NULL};
	expect_run(sock, ARGS("read", "sim0", "0x202"), 1, "", unaligned);
	struct spawn_proc_result u;
	cli_run(sock, NULL, &u, ARGS("read", "sim0", "0x202"));
	assert_null(strstr(u.err, "hint"));
	spawn_proc_result_finish(&u);
	cli_finish(&holder, NULL, &r);
	assert_int_equal(r.status, 0);
	spawn_proc_result_finish(&r);
	assert_int_equal(daemon_fixture_stop(daemon), 0);
}

/* Runs mmioctl args: exit 2, the usual lines on stderr, and on stdout one USAGE object. */
static void
expect_json_usage(const char *const *args, const char *detail)
{
	struct spawn_proc_result r;
	cli_run("/nonexistent/mmiod.sock", NULL, &r, args);
	char want[512];
	snprintf(want, sizeof(want), "{\"error\": \"USAGE\", \"detail\": \"%s\"}\n", detail);
	if (r.status != 2 || strcmp(r.out, want) != 0 || strncmp(r.err, "mmioctl: ", 9) != 0 ||
	    !strstr(r.err, "\nTry 'mmioctl ")) {
		fail_msg("exit %d, stdout '%s', stderr '%s'", r.status, r.out, r.err);
	}
	spawn_proc_result_finish(&r);
}

/* Under -o json a usage error is one JSON error object too, wherever -o stands. */
static void
test_mmioctl_json_usage_errors(void **state)
{
	(void)state;
	expect_json_usage(ARGS("-o", "json", "read", "sim0"),
			  "read: missing arguments; usage: mmioctl read REGION OFFSET|NAME|-a ADDR "
			  "[-w WIDTH] [-d|--decode]");
	expect_json_usage(ARGS("read", "sim0", "010", "-o", "json"),
			  "read: offset '010': a leading zero is ambiguous (octal to C and busybox "
			  "devmem, decimal to others); write it without the zero, or in 0x hex");
	/* An error found before -o is reached. */
	expect_json_usage(ARGS("--bogus", "-o", "json", "regions"), "option '--bogus' is unknown");
	expect_json_usage(ARGS("-qojson", "frobnicate"), "unknown command 'frobnicate'");
	expect_json_usage(ARGS("--output=json", "dump", "sim0", "0x40"),
			  "dump: range '0x40': expected A-B, A+LENGTH or OFFSET LENGTH");
	expect_json_usage(
		ARGS("-s", "-o", "--output", "json", "write", "sim0", "0", "0x100", "-w", "8"),
		"write: value '0x100' does not fit in 8 bits");
	expect_json_usage(ARGS("-o", "json", "run"),
			  "run: prints its own line protocol: no -o json");
	expect_json_usage(ARGS("-o", "json", "read", "sim0", "0", "-w", "12"),
			  "read: width '12': expected 8, 16, 32 or 64");
	/* -s takes "-o" as its argument here: text. */
	cli_expect_failure(NULL, ARGS("-s", "-o", "json"), NULL, NULL);
	/* The last -o wins, as in getopt. */
	cli_expect_failure(NULL, ARGS("-o", "json", "-o", "text", "read"), NULL, NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_mmioctl_leading_zero_refused),
		T(test_mmioctl_fast_path_env_reported),
		T(test_mmioctl_conflict_hint),
		cmocka_unit_test(test_mmioctl_no_daemon_unavailable),
		cmocka_unit_test(test_mmioctl_json_usage_errors),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
