/*
 * `mmioctl regmap import` as a user runs it: on ARM's example SVD file (no daemon anywhere:
 * $MMIOD_SOCKET names nothing, and a try to connect would exit 3), its exit statuses and
 * messages, and its stdout read back by the daemon's own map reader.
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
#include <unistd.h>

#include "cli.h"
#include "config/regmap_yaml.h"
#include "spawn_proc.h"

#define ARM_SVD MMIO_SOURCE_DIR "/tests/data/svd/ARM_Example.svd"

/* Runs mmioctl args: exit status, and each fragment of err (NULL-terminated) in stderr. */
static void
expect_run(const char *const *args, int status, const char *const *err, struct spawn_proc_result *r)
{
	cli_run(NULL, NULL, r, args);
	bool ok = r->status == status;
	for (int i = 0; ok && err && err[i]; i++) {
		ok = strstr(r->err, err[i]) != NULL;
	}
	if (!ok) {
		fail_msg("exit %d, stdout '%.300s', stderr '%s'", r->status, r->out, r->err);
	}
}

static int
setup(void **state)
{
	(void)state;
	/* Nothing listens there: the command must not need it. */
	return setenv("MMIOD_SOCKET", "/nonexistent/mmiod.sock", 1);
}

/* Several peripherals and no --peripheral: a usage error naming them. */
static void
test_several_peripherals(void **state)
{
	(void)state;
	struct spawn_proc_result r;
	static const char *const said[] = {"mmioctl: regmap import: " ARM_SVD
					   " has 5 peripherals (TIMER0, TIMER1, TIMER2, "
					   "TEST1, TEST2): pick one with --peripheral NAME\n"
					   "Try 'mmioctl regmap --help'.\n",
					   NULL};
	expect_run(ARGS("regmap", "import", ARM_SVD), 2, said, &r);
	assert_string_equal(r.out, "");
	spawn_proc_result_finish(&r);
}

/* A peripheral converted: YAML on stdout that mmiod reads, warnings on stderr. */
static void
test_import(void **state)
{
	(void)state;
	struct spawn_proc_result r;
	static const char *const said[] = {
		ARM_SVD ":740: warning: register PRESCALE_WR [0x28, 0x2c) overlaps PRESCALE_RD",
		NULL};
	expect_run(ARGS("regmap", "import", "--peripheral", "TIMER1", ARM_SVD), 0, said, &r);
	assert_true(strncmp(r.out, "# Register map of peripheral TIMER1 of ARM_Example", 50) == 0);
	struct regmap *map = NULL;
	char err[512];
	if (regmap_yaml_parse(r.out, strlen(r.out), "stdout", &map, err, sizeof(err)) < 0) {
		fail_msg("%s\n%s", err, r.out);
	}
	assert_string_equal(map->name, "TIMER1");
	assert_int_equal(map->n_registers, 7);
	struct regmap_ref ref;
	assert_int_equal(regmap_lookup(map, "RELOAD[2]", &ref), 0);
	assert_int_equal(ref.offset, 0x58);
	assert_int_equal(regmap_lookup(map, "CR.MODE", &ref), 0);
	assert_int_equal(regmap_value_find(ref.field, "Reload_MATCH")->value, 4);
	regmap_free(map);
	spawn_proc_result_finish(&r);

	/* -p, and with -p after the file. */
	expect_run(ARGS("regmap", "import", ARM_SVD, "-p", "TEST1"), 0, NULL, &r);
	assert_non_null(strstr(r.out, "\nname: TEST1\n"));
	spawn_proc_result_finish(&r);
}

/* An unknown peripheral: NOT_FOUND, and the one meant when it is a typo away. */
static void
test_unknown_peripheral(void **state)
{
	(void)state;
	struct spawn_proc_result r;
	static const char *const typo[] = {
		"mmioctl: regmap import: NOT_FOUND: no peripheral 'timer2' in " ARM_SVD "\n"
		"mmioctl: hint: did you mean TIMER2?\n",
		NULL};
	expect_run(ARGS("regmap", "import", "-p", "timer2", ARM_SVD), 1, typo, &r);
	assert_string_equal(r.out, "");
	spawn_proc_result_finish(&r);
	static const char *const several[] = {
		"mmioctl: hint: did you mean TIMER0, TIMER1 or TIMER2?\n", NULL};
	expect_run(ARGS("regmap", "import", "-p", "TIMERX", ARM_SVD), 1, several, &r);
	spawn_proc_result_finish(&r);
	static const char *const far[] = {
		"NOT_FOUND: no peripheral 'UART0'",
		"mmioctl: hint: its peripherals: TIMER0, TIMER1, TIMER2, TEST1, TEST2\n", NULL};
	expect_run(ARGS("regmap", "import", "-p", "UART0", ARM_SVD), 1, far, &r);
	spawn_proc_result_finish(&r);
}

/* Files that cannot be read or are not SVD: FILE[:LINE]: message, exit 1. */
static void
test_bad_files(void **state)
{
	(void)state;
	struct spawn_proc_result r;
	static const char *const missing[] = {"/nonexistent/x.svd: No such file or directory\n",
					      NULL};
	expect_run(ARGS("regmap", "import", "/nonexistent/x.svd"), 1, missing, &r);
	spawn_proc_result_finish(&r);

	char path[] = "/tmp/test_mmioctl_regmap.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	static const char bad[] = "<?xml version=\"1.0\"?>\n<device>\n<name>x</nam>\n</device>\n";
	assert_int_equal(write(fd, bad, sizeof(bad) - 1), (ssize_t)(sizeof(bad) - 1));
	assert_int_equal(close(fd), 0);
	char want[128];
	(void)snprintf(want, sizeof(want), "%s:3: Opening and ending tag mismatch", path);
	const char *const malformed[] = {want, NULL};
	expect_run(ARGS("regmap", "import", path), 1, malformed, &r);
	assert_string_equal(r.out, "");
	spawn_proc_result_finish(&r);
	assert_int_equal(unlink(path), 0);
}

/* Names from the file reach the terminal without their control characters (here CSI, C1). */
static void
test_control_characters(void **state)
{
	(void)state;
	char path[] = "/tmp/test_mmioctl_regmap.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	static const char svd[] = "<?xml version=\"1.0\"?>\n<device><name>D</name><peripherals>\n"
				  "<peripheral><name>A\xc2\x9b"
				  "31mB</name></peripheral>\n"
				  "<peripheral><name>C</name></peripheral>\n"
				  "</peripherals></device>\n";
	assert_int_equal(write(fd, svd, sizeof(svd) - 1), (ssize_t)(sizeof(svd) - 1));
	assert_int_equal(close(fd), 0);
	struct spawn_proc_result r;
	static const char *const said[] = {"has 2 peripherals (A?31mB, C)", NULL};
	expect_run(ARGS("regmap", "import", path), 2, said, &r);
	assert_null(strstr(r.err, "\xc2\x9b"));
	spawn_proc_result_finish(&r);
	static const char *const told[] = {":3: peripheral name 'A?31mB' is not", NULL};
	expect_run(ARGS("regmap", "import", "-p",
			"A\xc2\x9b"
			"31mB",
			path),
		   1, told, &r);
	assert_null(strstr(r.err, "\xc2\x9b"));
	spawn_proc_result_finish(&r);
	assert_int_equal(unlink(path), 0);
}

/* The command line: a subcommand, no -o json (it prints YAML), help without a daemon. */
static void
test_usage(void **state)
{
	(void)state;
	struct spawn_proc_result r;
	static const char *const sub[] = {"mmioctl: regmap: unknown subcommand 'export'", NULL};
	expect_run(ARGS("regmap", "export", ARM_SVD), 2, sub, &r);
	spawn_proc_result_finish(&r);
	static const char *const json[] = {"mmioctl: regmap: prints its own YAML: no -o json",
					   NULL};
	expect_run(ARGS("-o", "json", "regmap", "import", ARM_SVD), 2, json, &r);
	assert_string_equal(r.out, "{\"error\": \"USAGE\", \"detail\": \"regmap: prints its own "
				   "YAML: no -o json\"}\n");
	spawn_proc_result_finish(&r);
	static const char *const output[] = {"mmioctl: regmap: takes no -o/--output option", NULL};
	expect_run(ARGS("regmap", "import", "-o", "json", ARM_SVD), 2, output, &r);
	spawn_proc_result_finish(&r);
	static const char *const socket[] = {"takes no -s/--socket option", NULL};
	expect_run(ARGS("regmap", "import", "-s", "/x", ARM_SVD), 2, socket, &r);
	spawn_proc_result_finish(&r);
	expect_run(ARGS("regmap", "--help"), 0, NULL, &r);
	assert_true(strncmp(r.out,
			    "Usage: mmioctl [-s SOCKET] regmap import [-p|--peripheral NAME]",
			    62) == 0);
	assert_non_null(strstr(r.out, "-p, --peripheral NAME"));
	assert_null(strstr(r.out, "--socket"));
	spawn_proc_result_finish(&r);
	static const char *const missing[] = {"mmioctl: regmap: missing arguments", NULL};
	expect_run(ARGS("regmap", "import"), 2, missing, &r);
	spawn_proc_result_finish(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_several_peripherals), cmocka_unit_test(test_import),
		cmocka_unit_test(test_unknown_peripheral),  cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_control_characters),  cmocka_unit_test(test_usage),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
