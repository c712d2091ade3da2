/* mmioctl's register-tool habits: -q, -o json on every command, dump ranges, write --verify. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
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

/* Feeds text to python3's JSON parser: it must be exactly one JSON document. */
static void
assert_json(const char *text)
{
	static const char *const argv[] = {"/usr/bin/python3", "-c",
					   "import json, sys; json.loads(sys.stdin.read())", NULL};
	struct spawn_proc p;
	assert_int_equal(spawn_proc_start(&p, argv), 0);
	struct spawn_proc_result r;
	assert_int_equal(spawn_proc_finish(&p, text, IO_TIMEOUT_MS, &r), 0);
	if (r.status != 0) {
		print_error("not JSON:\n%s\n%s\n", text, r.err);
	}
	assert_int_equal(r.status, 0);
	spawn_proc_result_finish(&r);
}

/* Runs mmioctl -o json args: exit status status, stdout one JSON document equal to want (if set).
 */
static void
expect_json(const char *sock, const char *const *args, int status, const char *want)
{
	const char *argv[20] = {"-o", "json"};
	int n = 2;
	for (int i = 0; args[i]; i++) {
		argv[n++] = args[i];
	}
	argv[n] = NULL;
	struct spawn_proc_result r;
	cli_run(sock, NULL, &r, argv);
	if (r.status != status) {
		print_error("stdout:\n%s\nstderr:\n%s\n", r.out, r.err);
	}
	assert_int_equal(r.status, status);
	assert_json(r.out);
	if (want) {
		assert_string_equal(r.out, want);
	}
	spawn_proc_result_finish(&r);
}

static void
test_mmioctl_json_every_command(void **state)
{
	struct daemon_fixture *daemon = *state;
	const char *sock = daemon->socket_path;
	expect_json(
		sock, ARGS("write", "sim0", "0x10", "0x41424344"), 0,
		"{\"region\": \"sim0\", \"offset\": \"0x10\", \"offset_int\": 16, \"width\": 32, "
		"\"value\": \"0x41424344\", \"value_int\": 1094861636}\n");
	expect_json(
		sock, ARGS("read", "sim0", "0x10"), 0,
		"{\"region\": \"sim0\", \"offset\": \"0x10\", \"offset_int\": 16, \"width\": 32, "
		"\"value\": \"0x41424344\", \"value_int\": 1094861636}\n");
	expect_json(
		sock, ARGS("modify", "sim0", "0x10", "0xff", "0", "-w", "16"), 0,
		"{\"region\": \"sim0\", \"offset\": \"0x10\", \"offset_int\": 16, \"width\": 16, "
		"\"old\": \"0x4344\", \"old_int\": 17220, \"new\": \"0x4300\", \"new_int\": "
		"17152}\n");
	expect_json(
		sock, ARGS("poll", "sim0", "0x10", "0xff", "0", "-w", "8"), 0,
		"{\"region\": \"sim0\", \"offset\": \"0x10\", \"offset_int\": 16, \"width\": 8, "
		"\"value\": \"0x00\", \"value_int\": 0}\n");
	expect_json(sock, ARGS("dump", "sim0", "0x10+8"), 0,
		    "{\"region\": \"sim0\", \"offset\": \"0x10\", \"offset_int\": 16, \"length\": "
		    "\"0x8\", \"length_int\": 8, \"data\": \"0043424100000000\"}\n");
	expect_json(sock, ARGS("regions"), 0, NULL);
	expect_json(sock, ARGS("leases"), 0, "[]\n");
	expect_json(sock, ARGS("stats"), 0, NULL);
	/* Failures: the error object on stdout, the usual line on stderr, exit status 1. */
	expect_json(sock, ARGS("revoke", "99"), 1,
		    "{\"error\": \"NOT_FOUND\", \"detail\": \"no lease 99\"}\n");
	expect_json(sock, ARGS("read", "sim0", "0x2"), 1, NULL);
	expect_json(sock, ARGS("poll", "sim0", "0x10", "0xff", "1", "-t", "0"), 1, NULL);
	expect_json(sock, ARGS("wait-irq", "sim0", "-t", "0"), 1, NULL);
	/* run keeps its line protocol; prometheus is for stats only: usage errors. */
	expect_json(sock, ARGS("run"), 2,
		    "{\"error\": \"USAGE\", \"detail\": \"run: prints its own line protocol: no "
		    "-o json\"}\n");
	cli_expect_failure(sock, ARGS("read", "sim0", "0", "-o", "prometheus"), NULL, NULL);
	cli_expect_failure(sock, ARGS("-o", "yaml", "regions"), NULL, NULL);
	assert_int_equal(daemon_fixture_stop(daemon), 0);
}

/*
 * Runs python3 on the JSON document text with check, a Python expression on
 * d (the document) that must be True: what a script would compare.
 */
static void
assert_json_check(const char *text, const char *check)
{
	char program[512];
	snprintf(program, sizeof(program),
		 "import json, sys\nd = json.loads(sys.stdin.read())\nsys.exit(0 if (%s) else 1)",
		 check);
	const char *const argv[] = {"/usr/bin/python3", "-c", program, NULL};
	struct spawn_proc p;
	assert_int_equal(spawn_proc_start(&p, argv), 0);
	struct spawn_proc_result r;
	assert_int_equal(spawn_proc_finish(&p, text, IO_TIMEOUT_MS, &r), 0);
	if (r.status != 0) {
		print_error("%s: not %s\n%s\n", text, check, r.err);
	}
	assert_int_equal(r.status, 0);
	spawn_proc_result_finish(&r);
}

/* Runs mmioctl -o json args (exit 0) and checks its document with assert_json_check. */
static void
expect_json_check(const char *sock, const char *const *args, const char *check)
{
	const char *argv[20] = {"-o", "json"};
	int n = 2;
	for (int i = 0; args[i]; i++) {
		argv[n++] = args[i];
	}
	argv[n] = NULL;
	struct spawn_proc_result r;
	cli_run(sock, NULL, &r, argv);
	assert_int_equal(r.status, 0);
	assert_json_check(r.out, check);
	spawn_proc_result_finish(&r);
}

/*
 * Every value a script compares is a JSON integer, exact to 64 bits (beyond
 * 2^53, where a double would round), beside the hex string it always had.
 */
static void
test_mmioctl_json_numbers_exact(void **state)
{
	struct daemon_fixture *daemon = *state;
	const char *sock = daemon->socket_path;
	cli_expect(sock, ARGS("write", "sim0", "0xff8", "0xfedcba9876543211", "-w", "64"), 0, "");
	expect_json_check(sock, ARGS("read", "sim0", "0xff8", "-w", "64"),
			  "d['value_int'] == 0xfedcba9876543211 == int(d['value'], 16) and "
			  "d['value'] == '0xfedcba9876543211' and d['offset_int'] == 0xff8 and "
			  "float(d['value_int']) != d['value_int']");
	expect_json_check(sock, ARGS("modify", "sim0", "0xff8", "0xff", "0", "-w", "64"),
			  "d['old_int'] == 0xfedcba9876543211 and d['new_int'] == "
			  "0xfedcba9876543200 == int(d['new'], 16)");
	expect_json_check(sock, ARGS("poll", "sim0", "0xff8", "0xff", "0", "-w", "64"),
			  "d['value_int'] == 0xfedcba9876543200");
	expect_json_check(sock, ARGS("write", "sim0", "0xff8", "18446744073709551615", "-w", "64"),
			  "d['value_int'] == 2**64 - 1 and d['value'] == '0xffffffffffffffff'");
	expect_json_check(sock, ARGS("dump", "sim0", "0xff0-0x1000"),
			  "d['offset_int'] == 0xff0 and d['length_int'] == 16");
	expect_json_check(sock, ARGS("regions"),
			  "d[0]['size_int'] == 0x1000 == int(d[0]['size'], 16) and "
			  "d[0]['address_int'] == int(d[0]['address'], 16) and "
			  "d[0]['grants'][0]['offset_int'] == 0 and "
			  "d[0]['grants'][0]['length_int'] == 0x1000");
	struct spawn_proc holder;
	cli_start(&holder, sock, ARGS("run"));
	cli_expect_line(&holder, "acquire a sim0 0x100 0x20", "ok");
	expect_json_check(sock, ARGS("leases"),
			  "d[0]['start_int'] == 0x100 == int(d[0]['start'], 16) and "
			  "d[0]['length_int'] == 0x20 == int(d[0]['length'], 16)");
	struct spawn_proc_result r;
	cli_finish(&holder, NULL, &r);
	assert_int_equal(r.status, 0);
	spawn_proc_result_finish(&r);
	assert_int_equal(daemon_fixture_stop(daemon), 0);
}

static void
test_mmioctl_quiet_prints_only_values(void **state)
{
	struct daemon_fixture *daemon = *state;
	const char *sock = daemon->socket_path;
	cli_expect(sock, ARGS("-q", "write", "sim0", "0x20", "0x1234"), 0, "");
	cli_expect(sock, ARGS("-q", "read", "sim0", "0x20"), 0, "0x00001234\n");
	cli_expect(sock, ARGS("read", "sim0", "0x20", "--quiet", "-w", "16"), 0, "0x1234\n");
	cli_expect(sock, ARGS("modify", "-q", "sim0", "0x20", "0xf", "0"), 0, "0x00001234\n");
	cli_expect(sock, ARGS("--quiet", "poll", "sim0", "0x20", "0xf", "0"), 0, "0x00001230\n");
	cli_expect(sock, ARGS("-q", "leases"), 0, "");
	cli_expect(sock, ARGS("-q", "dump", "sim0", "0x20", "4"), 0,
		   "00000020  30 12 00 00                                       |0...|\n");
	/* Errors still reach stderr. */
	cli_expect_failure(sock, ARGS("-q", "read", "sim0", "0x2"), "UNALIGNED", "");
	assert_int_equal(daemon_fixture_stop(daemon), 0);
}

static void
test_mmioctl_dump_ranges(void **state)
{
	struct daemon_fixture *daemon = *state;
	const char *sock = daemon->socket_path;
	cli_expect(sock, ARGS("write", "sim0", "0x40", "0x64636261"), 0, "");
	static const char want[] =
		"00000040  61 62 63 64 00 00 00 00                           |abcd....|\n"
		"00000048\n";
	/* A-B excludes B; A+LENGTH; the old OFFSET LENGTH form. */
	cli_expect(sock, ARGS("dump", "sim0", "0x40-0x48"), 0, want);
	cli_expect(sock, ARGS("dump", "sim0", "0x40+8"), 0, want);
	cli_expect(sock, ARGS("dump", "sim0", "64+0x8"), 0, want);
	cli_expect(sock, ARGS("dump", "sim0", "0x40", "8"), 0, want);
	cli_expect(sock, ARGS("dump", "sim0", "0x40-0x40"), 0, "");
	cli_expect_failure(sock, ARGS("dump", "sim0", "0x48-0x40"), NULL, NULL);
	cli_expect_failure(sock, ARGS("dump", "sim0", "0x40"), NULL, NULL);
	cli_expect_failure(sock, ARGS("dump", "sim0", "0x40-"), NULL, NULL);
	cli_expect_failure(sock, ARGS("dump", "sim0", "-0x40"), NULL, NULL);
	cli_expect_failure(sock, ARGS("dump", "sim0", "0x40+x"), NULL, NULL);
	cli_expect_failure(sock, ARGS("dump", "sim0", "0xff0-0x1010"), "OUT_OF_RANGE", "");
	assert_int_equal(daemon_fixture_stop(daemon), 0);
}

static void
test_mmioctl_write_verify(void **state)
{
	struct daemon_fixture *daemon = *state;
	const char *sock = daemon->socket_path;
	cli_expect(sock, ARGS("write", "sim0", "0x80", "0xcafe", "--verify", "-w", "16"), 0, "");
	cli_expect(sock, ARGS("read", "sim0", "0x80", "-w", "16"), 0, "0xcafe\n");
	expect_json(
		sock, ARGS("write", "sim0", "0x88", "7", "--verify", "-w", "8"), 0,
		"{\"region\": \"sim0\", \"offset\": \"0x88\", \"offset_int\": 136, \"width\": 8, "
		"\"value\": \"0x07\", \"value_int\": 7, \"verified\": true}\n");
	/* Only write takes --verify; a failing store is reported as before. */
	cli_expect_failure(sock, ARGS("read", "sim0", "0x80", "--verify"), NULL, NULL);
	cli_expect_failure(sock, ARGS("write", "sim0", "0x81", "1", "--verify"), "UNALIGNED", "");
	assert_int_equal(daemon_fixture_stop(daemon), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_mmioctl_json_every_command, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mmioctl_json_numbers_exact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mmioctl_quiet_prints_only_values, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_mmioctl_dump_ranges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mmioctl_write_verify, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
