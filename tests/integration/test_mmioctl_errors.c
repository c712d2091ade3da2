/*
 * mmioctl's errors in the user's terms: numbers with a leading zero, a daemon
 * that is not there, CONFLICT's hint, and usage errors under -o json.
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

#include "cli.h"
#include "daemon_fixture.h"
#include "spawn_proc.h"

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_mmioctl_leading_zero_refused),
		T(test_mmioctl_fast_path_env_reported),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
