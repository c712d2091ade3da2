/*
 * mmioctl's server-side operations against a real mmiod: modify and poll as
 * one-shot commands, and modify, poll, block and FIFO reads and writes as
 * `run` script lines.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <inttypes.h>
#include <signal.h>
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

/* As in test_mmioctl.c: each test asserts its daemon's clean stop; this is for one that failed. */
static int
teardown(void **state)
{
	struct daemon_fixture *daemon = *state;
	int rc = daemon->pid > 0 ? daemon_fixture_stop(daemon) : 0;
	free(daemon);
	return rc == 0 ? 0 : -1;
}

/* "0x" and v zero-padded to bits, and a newline: what read, modify and poll print. */
static const char *
printed(char *buf, size_t cap, uint64_t v, unsigned bits)
{
	snprintf(buf, cap, "0x%0*" PRIx64 "\n", (int)bits / 4, v);
	return buf;
}

static void
test_mmioctl_modify_prints_old_value(void **state)
{
	struct daemon_fixture *daemon = *state;
	const char *sock = daemon->socket_path;
	static const struct {
		unsigned bits;
		const char *offset;
		uint64_t old, mask, value;
	} cases[] = {
		{32, "0x10", 0x12345678, 0x0000ff00, 0x0000ab00},
		/* Bits of VALUE outside MASK are ignored. */
		{8, "0x21", 0x5a, 0x0f, 0xff},
		{16, "0x22", 0xffff, 0xf0f0, 0},
		{64, "0x28", 0x0123456789abcdef, 0xffffffff00000000, 0xdeadbeef00000000},
		{64, "0x30", 0xffffffffffffffff, 0, 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char w[4], old[24], mask[24], value[24], out[24];
		snprintf(w, sizeof(w), "%u", cases[i].bits);
		snprintf(old, sizeof(old), "%#" PRIx64, cases[i].old);
		snprintf(mask, sizeof(mask), "%#" PRIx64, cases[i].mask);
		snprintf(value, sizeof(value), "%#" PRIx64, cases[i].value);
		cli_expect(sock, ARGS("write", "sim0", cases[i].offset, old, "-w", w), 0, "");
		cli_expect(sock, ARGS("modify", "sim0", cases[i].offset, mask, value, "-w", w), 0,
			   printed(out, sizeof(out), cases[i].old, cases[i].bits));
		uint64_t now = (cases[i].old & ~cases[i].mask) | (cases[i].value & cases[i].mask);
		cli_expect(sock, ARGS("read", "sim0", cases[i].offset, "--width", w), 0,
			   printed(out, sizeof(out), now, cases[i].bits));
	}
	/* The default width is 32 bits, like read's; the register is released afterwards. */
	cli_expect(sock, ARGS("modify", "sim0", "0x10", "0xffff0000", "0x00c00000"), 0,
		   "0x1234ab78\n");
	cli_expect(sock, ARGS("read", "sim0", "0x10"), 0, "0x00c0ab78\n");

	/* Refused: nothing printed, nothing stored. */
	cli_expect_failure(sock, ARGS("modify", "sim0", "0x12", "1", "1"), "UNALIGNED",
			   "not 4-byte aligned");
	cli_expect_failure(sock, ARGS("modify", "sim0", "0xffc", "1", "1", "-w", "64"),
			   "OUT_OF_RANGE", "is not inside region sim0");
	cli_expect_failure(sock, ARGS("modify", "nosuch", "0", "1", "1"), "NOT_FOUND",
			   "no region named 'nosuch'");
	cli_expect(sock, ARGS("read", "sim0", "0x10"), 0, "0x00c0ab78\n");
	assert_int_equal(daemon_fixture_stop(daemon), 0);
}

static void
test_mmioctl_modify_poll_usage_errors(void **state)
{
	struct daemon_fixture *daemon = *state;
	const char *sock = daemon->socket_path;
	cli_expect_failure(sock, ARGS("modify", "sim0", "0", "0x100", "0", "-w", "8"), NULL, NULL);
	cli_expect_failure(sock, ARGS("modify", "sim0", "0", "0", "0x10000", "-w", "16"), NULL,
			   NULL);
	cli_expect_failure(sock, ARGS("modify", "sim0", "0", "0x100000000", "0"), NULL, NULL);
	cli_expect_failure(sock, ARGS("modify", "sim0", "0", "1"), NULL, NULL);
	cli_expect_failure(sock, ARGS("modify", "sim0", "0", "1", "1", "1"), NULL, NULL);
	cli_expect_failure(sock, ARGS("modify", "sim0", "0zero", "1", "1"), NULL, NULL);
	cli_expect_failure(sock, ARGS("modify", "sim0", "0", "1", "1", "-t", "5"), NULL, NULL);
	cli_expect_failure(sock, ARGS("poll", "sim0", "0", "0x100", "0", "-w", "8"), NULL, NULL);
	cli_expect_failure(sock, ARGS("poll", "sim0", "0", "0", "0x1ff", "--width=8"), NULL, NULL);
	cli_expect_failure(sock, ARGS("poll", "sim0", "0", "1"), NULL, NULL);
	cli_expect_failure(sock, ARGS("poll", "sim0", "0", "1", "1", "-t", "60001"), NULL, NULL);
	cli_expect_failure(sock, ARGS("poll", "sim0", "0", "1", "1", "-t", "-1"), NULL, NULL);
	cli_expect_failure(sock, ARGS("poll", "sim0", "0", "1", "1", "--timeout"), NULL, NULL);
	cli_expect_failure(sock, ARGS("poll", "sim0", "0", "1", "1", "-i", "abc"), NULL, NULL);
	cli_expect_failure(sock, ARGS("poll", "sim0", "0", "1", "1", "--interval=4294967296"), NULL,
			   NULL);
	cli_expect_failure(sock, ARGS("poll", "sim0", "0", "1", "1", "-n", "2"), NULL, NULL);
	/* -i is poll's alone; -t is wait-irq's and poll's. */
	cli_expect_failure(sock, ARGS("wait-irq", "sim0", "-i", "5"), NULL, NULL);
	cli_expect_failure(sock, ARGS("read", "sim0", "0", "-t", "5"), NULL, NULL);
	cli_expect_failure(sock, ARGS("read", "sim0", "0", "--interval", "5"), NULL, NULL);

	struct spawn_proc_result r;
	cli_run(sock, NULL, &r, ARGS("modify", "-w", "8", "sim0", "0", "0x100", "0"));
	assert_int_equal(r.status, 2);
	assert_string_equal(r.out, "");
	assert_string_equal(r.err, "mmioctl: modify: mask '0x100' does not fit in 8 bits\n"
				   "Try 'mmioctl modify --help'.\n");
	spawn_proc_result_finish(&r);
	/* Nothing was stored by the refused commands. */
	cli_expect(sock, ARGS("read", "sim0", "0", "-w", "64"), 0, "0x0000000000000000\n");
	assert_int_equal(daemon_fixture_stop(daemon), 0);
}

static void
test_mmioctl_poll_already_matching(void **state)
{
	struct daemon_fixture *daemon = *state;
	const char *sock = daemon->socket_path;
	cli_expect(sock, ARGS("write", "sim0", "0x10", "0x80000001"), 0, "");
	cli_expect(sock, ARGS("poll", "sim0", "0x10", "0x80000000", "0x80000000"), 0,
		   "0x80000001\n");
	/* Timeout 0 checks once; bits of VALUE outside MASK do not matter. */
	cli_expect(sock, ARGS("poll", "sim0", "0x10", "0xff", "0xf01", "-w", "16", "-t", "0"), 0,
		   "0x0001\n");
	cli_expect(sock,
		   ARGS("poll", "sim0", "0x13", "0x80", "0x80", "--width", "8", "--timeout", "50",
			"--interval", "10"),
		   0, "0x80\n");
	cli_expect(sock, ARGS("poll", "-w", "64", "-i", "1", "sim0", "0x10", "0", "0"), 0,
		   "0x0000000080000001\n");
	/* The lease is released: the register can be written again. */
	cli_expect(sock, ARGS("write", "sim0", "0x10", "2"), 0, "");
	cli_expect_failure(sock, ARGS("poll", "sim0", "0x11", "1", "1"), "UNALIGNED",
			   "not 4-byte aligned");
	cli_expect_failure(sock, ARGS("poll", "sim0", "0x1000", "1", "1"), "OUT_OF_RANGE",
			   "is not inside region sim0");
	assert_int_equal(daemon_fixture_stop(daemon), 0);
}

/* Runs a poll that cannot match and checks it fails with TIMEOUT, printing the last value. */
static void
expect_poll_timeout(const char *sock, const char *const *args, const char *out,
		    const char *err_head, const char *err_detail)
{
	struct spawn_proc_result r;
	cli_run(sock, NULL, &r, args);
	if (r.status != 1 || strcmp(r.out, out) != 0 ||
	    strncmp(r.err, err_head, strlen(err_head)) != 0 || !strstr(r.err, err_detail) ||
	    strchr(r.err, '\n') != r.err + strlen(r.err) - 1) {
		fail_msg("exit %d, stdout '%s', stderr '%s'", r.status, r.out, r.err);
	}
	spawn_proc_result_finish(&r);
}

static void
test_mmioctl_poll_timeout(void **state)
{
	struct daemon_fixture *daemon = *state;
	const char *sock = daemon->socket_path;
	cli_expect(sock, ARGS("write", "sim0", "0x20", "0xa5"), 0, "");
	expect_poll_timeout(sock, ARGS("poll", "sim0", "0x20", "0xff", "0x5a", "-t", "50"),
			    "0x000000a5\n", "mmioctl: poll sim0 0x20: TIMEOUT: ", "last 0xa5");
	expect_poll_timeout(sock,
			    ARGS("poll", "sim0", "0x20", "1", "0", "-w", "8", "--timeout", "0"),
			    "0xa5\n", "mmioctl: poll sim0 0x20: TIMEOUT: ", "after 0 ms");
	expect_poll_timeout(sock,
			    ARGS("poll", "sim0", "0x20", "0x100", "0x100", "-w", "16", "-t", "50",
				 "-i", "2000"),
			    "0x00a5\n", "mmioctl: poll sim0 0x20: TIMEOUT: ", "last 0xa5");
	/* The poll released its lease: a later command gets the register. */
	cli_expect(sock, ARGS("modify", "sim0", "0x20", "0xff", "0x5a"), 0, "0x000000a5\n");
	cli_expect(sock, ARGS("poll", "sim0", "0x20", "0xff", "0x5a", "-t", "50"), 0,
		   "0x0000005a\n");
	assert_int_equal(daemon_fixture_stop(daemon), 0);
}

static const struct cli_step run_ops[] = {
	{"acquire a sim0 0x100 0x40", "ok"},
	{"store32 a 0 0x12345678", "ok"},
	{"modify32 a 0 0xff00 0xab00", "ok 0x12345678"},
	{"load32 a 0", "ok 0x1234ab78"},
	{"modify8 a 0 0x0f 0xff", "ok 0x78"},
	{"load8 a 0", "ok 0x7f"},
	{"modify16 a 2 0xf000 0", "ok 0x1234"},
	{"load16 a 2", "ok 0x0234"},
	{"modify64 a 8 0xffffffff00000000 0xdeadbeef00000000", "ok 0x0000000000000000"},
	{"load64 a 8", "ok 0xdeadbeef00000000"},
	{"poll32 a 0 0xffff 0xab7f", "ok 0x0234ab7f"},
	{"poll8 a 0 0xff 0x7f 0", "ok 0x7f"},
	{"poll64 a 8 0 0 50", "ok 0xdeadbeef00000000"},
	{"poll16 a 2 0xffff 0x1234 50", "error TIMEOUT: after 50 ms; last 0x234"},
	{"poll16 a 2 0xffff 0x1234 0", "error TIMEOUT: after 0 ms; last 0x234"},
	{"writeblock32 a 0x10 1 2 3 0xffffffff", "ok"},
	{"readblock32 a 0x10 4", "ok 0x00000001 0x00000002 0x00000003 0xffffffff"},
	{"readblock8 a 0x10 5", "ok 0x01 0x00 0x00 0x00 0x02"},
	{"readblock16 a 0x1c 2", "ok 0xffff 0xffff"},
	{"writeblock8 a 0x20 0xa 0xb", "ok"},
	{"writeblock16 a 0x22 0xc0d", "ok"},
	{"readblock8 a 0x20 3", "ok 0x0a 0x0b 0x0d"},
	{"writeblock64 a 0x28 0x1122334455667788 0", "ok"},
	{"readblock64 a 0x28 2", "ok 0x1122334455667788 0x0000000000000000"},
	/* FIFO: every access at the one offset. */
	{"writefifo8 a 0x30 0xa 0xb 0xc", "ok"},
	{"readfifo8 a 0x30 2", "ok 0x0c 0x0c"},
	{"readblock8 a 0x30 2", "ok 0x0c 0x00"},
	{"writefifo16 a 0x32 0xbeef", "ok"},
	{"readfifo16 a 0x32 1", "ok 0xbeef"},
	{"writefifo32 a 0x34 5 6", "ok"},
	{"readfifo32 a 0x34 3", "ok 0x00000006 0x00000006 0x00000006"},
	{"writefifo64 a 0x38 7", "ok"},
	{"readfifo64 a 0x38 2", "ok 0x0000000000000007 0x0000000000000007"},
	/* Refused lines, under --keep-going. */
	{"modify8 a 0 0x100 0", "error INVALID_ARGUMENT: mask 0x100 does not fit in 8 bits"},
	{"modify16 a 0 0 0x10000", "error INVALID_ARGUMENT: value 0x10000 does not fit in 16 bits"},
	{"modify32 a 2 1 1", "error UNALIGNED: not 4-byte aligned"},
	{"modify32 a 0x40 1 1", "error OUT_OF_RANGE: 4-byte access at offset 0x40 does not fit"},
	{"modify32 a 0 1", "error INVALID_ARGUMENT: wrong argument count: modify32 takes 4"},
	{"poll32 a 0 1 1 60001", "error INVALID_ARGUMENT: timeout 60001: at most 60000 ms"},
	{"poll32 a 0 1", "error INVALID_ARGUMENT: wrong argument count: poll32 takes 4 to 5"},
	{"poll8 a 0 0x100 0", "error INVALID_ARGUMENT: mask 0x100 does not fit in 8 bits"},
	{"poll32 a 0x40 0 0", "error OUT_OF_RANGE: "},
	{"readblock32 a 0 0", "error INVALID_ARGUMENT: count 0: expected 1 to 64"},
	{"readfifo32 a 0 65", "error INVALID_ARGUMENT: count 65: expected 1 to 64"},
	{"readblock32 a 0x38 3", "error OUT_OF_RANGE: 3 accesses of 4 bytes from offset 0x38"},
	{"readfifo8 a 0x40 1", "error OUT_OF_RANGE: "},
	{"readblock16 a 1 2", "error UNALIGNED: not 2-byte aligned"},
	{"writeblock8 a 0", "error INVALID_ARGUMENT: wrong argument count: writeblock8 takes 3"},
	/* A bad value, or an access past the lease, writes nothing at all. */
	{"writeblock8 a 0 1 0x100", "error INVALID_ARGUMENT: value 0x100 does not fit in 8 bits"},
	{"writeblock16 a 0x3c 1 2 3", "error OUT_OF_RANGE: 3 accesses of 2 bytes"},
	{"writefifo32 a 0x3e 1", "error UNALIGNED: "},
	{"load8 a 0", "ok 0x7f"},
	{"load16 a 0x3c", "ok 0x0000"},
	{"load64 a 0x38", "ok 0x0000000000000007"},
};

static void
test_mmioctl_run_ops(void **state)
{
	struct daemon_fixture *daemon = *state;
	const char *sock = daemon->socket_path;
	cli_run_steps(sock, ARGS("run", "--keep-going"), run_ops,
		      sizeof(run_ops) / sizeof(run_ops[0]), 1);
	/* What the script modified is in the device. */
	cli_expect(sock, ARGS("read", "sim0", "0x100"), 0, "0x0234ab7f\n");
	cli_expect(sock, ARGS("read", "sim0", "0x108", "-w", "64"), 0, "0xdeadbeef00000000\n");
	assert_int_equal(daemon_fixture_stop(daemon), 0);
}

/* 64 values on one line, the most a block line takes; result lines longer than a cli_step's. */
static void
test_mmioctl_run_block_of_64(void **state)
{
	struct daemon_fixture *daemon = *state;
	const char *sock = daemon->socket_path;
	char values[64 * 5 + 1] = "", read_back[3 + 64 * 5 + 1] = "ok";
	for (int i = 0; i < 64; i++) {
		char v[8];
		snprintf(v, sizeof(v), " %d", 0xc0 + i);
		strcat(values, v);
		snprintf(v, sizeof(v), " 0x%02x", 0xc0 + i);
		strcat(read_back, v);
	}
	char script[1024], out[1024];
	snprintf(script, sizeof(script),
		 "acquire a sim0 0 64\n"
		 "writeblock8 a 0%s\n"
		 "readblock8 a 0 64\n"
		 "writefifo8 a 0%s 1\n"
		 "readfifo8 a 63 64\n",
		 values, values);
	struct spawn_proc_result r;
	cli_run(sock, script, &r, ARGS("run", "-k"));
	snprintf(out, sizeof(out),
		 "ok\nok\n%s\nerror INVALID_ARGUMENT: wrong argument count: writefifo8 takes 3 to "
		 "66 (writefifo8 LABEL OFFSET VALUE [VALUE...])\nok",
		 read_back);
	for (int i = 0; i < 64; i++) {
		strcat(out, " 0xff");
	}
	strcat(out, "\n");
	assert_int_equal(r.status, 1);
	assert_string_equal(r.out, out);
	spawn_proc_result_finish(&r);
	cli_expect(sock, ARGS("read", "sim0", "0x3c", "-w", "8"), 0, "0xfc\n");
	assert_int_equal(daemon_fixture_stop(daemon), 0);
}

/* Each help names its options; `run --help` names the new script commands. */
static void
test_mmioctl_ops_help(void **state)
{
	(void)state;
	static const struct {
		const char *cmd, *usage, *mentions[4];
	} helps[] = {
		{"modify",
		 "Usage: mmioctl [-s SOCKET] modify REGION OFFSET|NAME|-a ADDR MASK VALUE [-w "
		 "WIDTH]\n",
		 {"(old & ~MASK) | (VALUE & MASK)", "OLD value", "-w, --width WIDTH",
		  "-a, --address ADDR"}},
		{"poll",
		 "Usage: mmioctl [-s SOCKET] poll REGION OFFSET|NAME|-a ADDR MASK VALUE [-w WIDTH] "
		 "[-t|--timeout MS] [-i|--interval US]\n",
		 {"-t, --timeout MS", "-i, --interval US", "TIMEOUT", "-w, --width WIDTH"}},
		{"run",
		 "Usage: mmioctl [-s SOCKET] run [FILE|-] [-k|--keep-going]\n",
		 {"modifyW LABEL OFFSET MASK VALUE", "pollW LABEL OFFSET MASK VALUE [TIMEOUT_MS]",
		  "readblockW LABEL OFFSET COUNT", "readfifoW LABEL OFFSET COUNT, writefifoW"}},
		{"--help",
		 "Usage: mmioctl [-s SOCKET] COMMAND [ARGS...]\n",
		 {"\n  modify REGION OFFSET MASK VALUE [-w WIDTH]\n",
		  "\n  poll REGION OFFSET MASK VALUE [-w WIDTH] [-t MS] [-i US]\n", NULL}},
	};
	for (size_t i = 0; i < sizeof(helps) / sizeof(helps[0]); i++) {
		struct spawn_proc_result r;
		cli_run(NULL, NULL, &r, i < 3 ? ARGS(helps[i].cmd, "--help") : ARGS(helps[i].cmd));
		assert_int_equal(r.status, 0);
		assert_string_equal(r.err, "");
		assert_int_equal(strncmp(r.out, helps[i].usage, strlen(helps[i].usage)), 0);
		for (size_t j = 0; j < 4 && helps[i].mentions[j]; j++) {
			if (!strstr(r.out, helps[i].mentions[j])) {
				fail_msg("'%s' not in %s help:\n%s", helps[i].mentions[j],
					 helps[i].cmd, r.out);
			}
		}
		spawn_proc_result_finish(&r);
	}
	/* Help wins over bad arguments, and needs no daemon. */
	cli_expect("/nonexistent", ARGS("poll", "x", "-t", "5", "-h"), 0, NULL);
	cli_expect("/nonexistent", ARGS("modify", "-h", "x"), 0, NULL);
	/* Before the command name, -t is an option of mmioctl itself, which has none such. */
	cli_expect_failure(NULL, ARGS("-t", "5", "poll", "sim0", "0", "1", "1"), NULL, NULL);
}

int
main(void)
{
	/* A child that exits early must fail a test, not kill the runner with SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_mmioctl_modify_prints_old_value),
		T(test_mmioctl_modify_poll_usage_errors),
		T(test_mmioctl_poll_already_matching),
		T(test_mmioctl_poll_timeout),
		T(test_mmioctl_run_ops),
		T(test_mmioctl_run_block_of_64),
		cmocka_unit_test(test_mmioctl_ops_help),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
