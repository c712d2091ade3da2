/*
 * mmioctl by register name against a real mmiod whose regions uart0 and dev0 name register
 * maps (tests/integration/maps/uart16550-issue.yaml, the issue's own, and testdev.yaml): read, read
 * -d, write of a register and of fields, modify and poll of a field, regs, dump --decode (and that
 * it never reads a read-sensitive register: dev0 audits every access), run scripts with names, -o
 * json, and the errors (did you mean, unknown value names, values that do not fit, -w against the
 * map).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "daemon_fixture.h"
#include "spawn_proc.h"

static const char conf[] =
	"regions = (\n"
	"  { name = \"uart0\"; type = \"mem\"; size = 0x100;\n"
	"    map = \"" MMIO_SOURCE_DIR "/tests/integration/maps/uart16550-issue.yaml\"; },\n"
	"  { name = \"dev0\"; type = \"mem\"; size = 0x100; audit = \"all\";\n"
	"    map = \"" MMIO_SOURCE_DIR "/tests/integration/maps/testdev.yaml\"; },\n"
	"  { name = \"sim0\"; type = \"mem\"; size = 0x100; }\n"
	");\n";

struct env {
	struct daemon_fixture daemon;
	char conf_path[160];
};

static int
setup(void **state)
{
	struct env *env = calloc(1, sizeof(*env));
	if (!env || daemon_fixture_prepare(&env->daemon) < 0) {
		free(env);
		return -1;
	}
	snprintf(env->conf_path, sizeof(env->conf_path), "%s/mmiod.conf", env->daemon.dir);
	FILE *f = fopen(env->conf_path, "w");
	int ok = f && fputs(conf, f) >= 0;
	if (f && fclose(f) != 0) {
		ok = 0;
	}
	const char *const args[] = {"--config", env->conf_path, NULL};
	if (!ok || daemon_fixture_start_args(&env->daemon, args) < 0) {
		unlink(env->conf_path);
		daemon_fixture_cleanup(&env->daemon);
		free(env);
		return -1;
	}
	*state = env;
	return 0;
}

static int
teardown(void **state)
{
	struct env *env = *state;
	int rc = daemon_fixture_stop(&env->daemon);
	unlink(env->conf_path);
	free(env);
	return rc == 0 ? 0 : -1;
}

/* Runs mmioctl -o json args: exit status status and stdout exactly want. */
static void
expect_json(const char *sock, const char *const *args, int status, const char *want)
{
	const char *argv[24] = {"-o", "json"};
	int n = 2;
	for (int i = 0; args[i]; i++) {
		argv[n++] = args[i];
	}
	argv[n] = NULL;
	struct spawn_proc_result r;
	cli_run(sock, NULL, &r, argv);
	if (r.status != status || strcmp(r.out, want) != 0) {
		fail_msg("exit %d, stdout:\n%s\nwanted:\n%s\nstderr:\n%s", r.status, r.out, want,
			 r.err);
	}
	spawn_proc_result_finish(&r);
}

/* Runs mmioctl args: exit 0, and stdout holds every one of wants. */
static void
expect_holds(const char *sock, const char *const *args, const char *const *wants)
{
	struct spawn_proc_result r;
	cli_run(sock, NULL, &r, args);
	assert_int_equal(r.status, 0);
	for (int i = 0; wants[i]; i++) {
		if (!strstr(r.out, wants[i])) {
			fail_msg("'%s' not in:\n%s", wants[i], r.out);
		}
	}
	spawn_proc_result_finish(&r);
}

static void
test_mmioctl_names_read_write(void **state)
{
	struct env *env = *state;
	const char *sock = env->daemon.socket_path;
	/* A register: the map's width, 8 bits here. */
	cli_expect(sock, ARGS("write", "uart0", "THR", "0x41"), 0, "");
	cli_expect(sock, ARGS("read", "uart0", "0", "-w", "8"), 0, "0x41\n");
	cli_expect(sock, ARGS("write", "uart0", "LCR", "0x03"), 0, "");
	cli_expect(sock, ARGS("read", "uart0", "LCR"), 0, "0x03\n");
	/* A field: shifted down. */
	cli_expect(sock, ARGS("read", "uart0", "LCR.WLS"), 0, "0x3\n");
	cli_expect(sock, ARGS("read", "uart0", "LCR.DLAB"), 0, "0x0\n");
	/* Fields by assignment, numbers or value names: one masked modify, the rest kept. */
	cli_expect(sock, ARGS("write", "uart0", "0xc", "0x07", "-w", "8"), 0, "");
	cli_expect(sock, ARGS("write", "uart0", "LCR.DLAB=1", "LCR.WLS=5BIT"), 0, "");
	cli_expect(sock, ARGS("read", "uart0", "LCR"), 0, "0x84\n");
	/* One field, its value a name or a number. */
	cli_expect(sock, ARGS("write", "uart0", "LCR.WLS", "8BIT"), 0, "");
	cli_expect(sock, ARGS("read", "uart0", "LCR"), 0, "0x87\n");
	cli_expect(sock, ARGS("write", "uart0", "LCR.DLAB", "0"), 0, "");
	cli_expect(sock, ARGS("read", "uart0", "LCR"), 0, "0x07\n");
	cli_expect(sock, ARGS("write", "uart0", "LCR.STB=0", "--verify"), 0, "");
	cli_expect(sock, ARGS("read", "uart0", "LCR"), 0, "0x03\n");
	/* --decode: the register and its fields, with the names of their values. */
	cli_expect(sock, ARGS("read", "uart0", "LCR", "--decode"), 0,
		   "LCR (0xc) = 0x03\n"
		   "  WLS  [1:0] = 0x3 (8BIT)\n"
		   "  STB  [2]   = 0x0\n"
		   "  DLAB [7]   = 0x0\n");
	cli_expect(sock, ARGS("read", "uart0", "LCR.WLS", "-d"), 0,
		   "LCR (0xc) = 0x03\n"
		   "  WLS  [1:0] = 0x3 (8BIT)\n");
	/* An offset with -d is the register the map has there. */
	cli_expect(sock, ARGS("read", "uart0", "0xc", "-d"), 0,
		   "LCR (0xc) = 0x03\n"
		   "  WLS  [1:0] = 0x3 (8BIT)\n"
		   "  STB  [2]   = 0x0\n"
		   "  DLAB [7]   = 0x0\n");
	/* modify and poll of a field: MASK and VALUE are the field's; the old value too. */
	cli_expect(sock, ARGS("modify", "uart0", "LCR.WLS", "3", "1"), 0, "0x3\n");
	cli_expect(sock, ARGS("read", "uart0", "LCR"), 0, "0x01\n");
	cli_expect(sock, ARGS("poll", "uart0", "LCR.WLS", "3", "1", "-t", "0"), 0, "0x1\n");
	cli_expect(sock, ARGS("modify", "uart0", "LCR", "0x80", "0x80"), 0, "0x01\n");
	/* Arrays: an instance, its fields, and the numbers still work. */
	cli_expect(sock, ARGS("write", "dev0", "CH[2].GAIN", "X4"), 0, "");
	cli_expect(sock, ARGS("write", "dev0", "CH[2].ON=1"), 0, "");
	cli_expect(sock, ARGS("read", "dev0", "CH[2]"), 0, "0x00000005\n");
	cli_expect(sock, ARGS("read", "dev0", "0x28"), 0, "0x00000005\n");
	cli_expect(sock, ARGS("read", "dev0", "0x28", "-d"), 0,
		   "CH[2] (0x28) = 0x00000005\n"
		   "  ON   [0]   = 0x1\n"
		   "  GAIN [3:1] = 0x2 (X4)\n");
	cli_expect(sock, ARGS("read", "dev0", "ID"), 0, "0x0000\n");
	/* -w that agrees with the map is fine. */
	cli_expect(sock, ARGS("read", "uart0", "LCR", "-w", "8"), 0, "0x81\n");
}

static void
test_mmioctl_names_errors(void **state)
{
	struct env *env = *state;
	const char *sock = env->daemon.socket_path;
	cli_expect(sock, ARGS("write", "uart0", "LCR", "0x03"), 0, "");
	cli_expect_failure(sock, ARGS("read", "uart0", "LSX"), "NOT_FOUND",
			   "no register 'LSX' in uart0 (did you mean LSR?)");
	cli_expect_failure(sock, ARGS("read", "uart0", "LCR.DLB"), "NOT_FOUND",
			   "no field 'DLB' in LCR of uart0 (did you mean DLAB?)");
	cli_expect_failure(sock, ARGS("read", "dev0", "CH"), "INVALID_ARGUMENT",
			   "CH is an array of 4: name one, CH[0]");
	cli_expect_failure(sock, ARGS("read", "dev0", "CH[4]"), "NOT_FOUND", "CH has 4");
	cli_expect_failure(sock, ARGS("read", "sim0", "LSR"), "NOT_FOUND",
			   "region sim0 has no register map");
	cli_expect_failure(sock, ARGS("read", "uart0", "0x10", "-d"), "NOT_FOUND",
			   "the map of uart0 has no register at offset 0x10");
	/* Values: an unknown name, one that does not fit, two registers, a field twice. */
	cli_expect_failure(sock, ARGS("write", "uart0", "LCR.WLS=8BTI"), "INVALID_ARGUMENT",
			   "not a number nor a value of LCR.WLS (did you mean 8BIT?)");
	cli_expect_failure(sock, ARGS("write", "uart0", "LCR.WLS", "9BIT"), "INVALID_ARGUMENT",
			   "not a number nor a value of LCR.WLS");
	cli_expect_failure(sock, ARGS("write", "uart0", "LCR.WLS", "4"), "INVALID_ARGUMENT",
			   "0x4 does not fit LCR.WLS (2 bits, at most 0x3)");
	cli_expect_failure(sock, ARGS("write", "uart0", "LCR.DLAB=1", "LSR.DR=1"),
			   "INVALID_ARGUMENT", "are fields of different registers");
	cli_expect_failure(sock, ARGS("write", "dev0", "CH[0].ON=1", "CH[1].ON=1"),
			   "INVALID_ARGUMENT", "are fields of different registers");
	cli_expect_failure(sock, ARGS("write", "uart0", "LCR.DLAB=1", "LCR.DLAB=0"),
			   "INVALID_ARGUMENT", "field LCR.DLAB is given twice");
	cli_expect_failure(sock, ARGS("write", "uart0", "LCR=1"), "INVALID_ARGUMENT",
			   "names a whole register, not a field");
	/* Usage errors: -w against the map, a value too wide, assignments mixed with values. */
	cli_expect_failure(sock, ARGS("read", "uart0", "LCR", "-w", "32"), NULL, NULL);
	cli_expect_failure(sock, ARGS("write", "uart0", "LCR", "0x1", "--width=16"), NULL, NULL);
	cli_expect_failure(sock, ARGS("read", "uart0", "0xc", "-d", "-w", "32"), NULL, NULL);
	cli_expect_failure(sock, ARGS("write", "uart0", "LCR", "0x100"), NULL, NULL);
	cli_expect_failure(sock, ARGS("modify", "uart0", "LCR.WLS", "4", "0"), NULL, NULL);
	cli_expect_failure(sock, ARGS("write", "uart0", "LCR.DLAB=1", "0x1"), NULL, NULL);
	cli_expect_failure(sock, ARGS("write", "uart0", "LCR"), NULL, NULL);
	cli_expect_failure(sock, ARGS("write", "uart0", "LCR", "1", "2"), NULL, NULL);
	cli_expect_failure(sock, ARGS("dump", "uart0"), NULL, NULL);
	cli_expect_failure(sock, ARGS("regs"), NULL, NULL);
	/* Nothing of it was stored. */
	cli_expect(sock, ARGS("read", "uart0", "LCR"), 0, "0x03\n");
	/* JSON: the error object, with the did-you-mean. */
	expect_json(sock, ARGS("read", "uart0", "LSX"), 1,
		    "{\"error\": \"NOT_FOUND\", \"detail\": \"no register 'LSX' in uart0 (did you "
		    "mean LSR?)\"}\n");
	expect_json(sock, ARGS("write", "uart0", "LCR.WLS=8BTI"), 1,
		    "{\"error\": \"INVALID_ARGUMENT\", \"detail\": \"'LCR.WLS=8BTI': not a number "
		    "nor a value of LCR.WLS (did you mean 8BIT?)\"}\n");
	expect_json(sock, ARGS("read", "uart0", "LCR", "-w", "16"), 2,
		    "{\"error\": \"USAGE\", \"detail\": \"read: -w 16: LCR is 8 bits wide in the "
		    "map; leave -w out\"}\n");
}

static void
test_mmioctl_names_json(void **state)
{
	struct env *env = *state;
	const char *sock = env->daemon.socket_path;
	expect_json(sock, ARGS("write", "uart0", "LCR", "0x83"), 0,
		    "{\"region\": \"uart0\", \"name\": \"LCR\", \"offset\": \"0xc\", "
		    "\"offset_int\": 12, \"width\": 8, \"value\": \"0x83\", \"value_int\": 131}\n");
	expect_json(sock, ARGS("read", "uart0", "LCR"), 0,
		    "{\"region\": \"uart0\", \"name\": \"LCR\", \"offset\": \"0xc\", "
		    "\"offset_int\": 12, \"width\": 8, \"value\": \"0x83\", \"value_int\": 131}\n");
	expect_json(
		sock, ARGS("read", "uart0", "LCR.WLS"), 0,
		"{\"region\": \"uart0\", \"name\": \"LCR.WLS\", \"offset\": \"0xc\", "
		"\"offset_int\": 12, \"width\": 8, \"msb\": 1, \"lsb\": 0, \"value\": \"0x3\", "
		"\"value_int\": 3, \"register_value\": \"0x83\", \"register_value_int\": 131}\n");
	expect_json(
		sock, ARGS("read", "uart0", "LCR", "-d"), 0,
		"{\"region\": \"uart0\", \"name\": \"LCR\", \"offset\": \"0xc\", "
		"\"offset_int\": 12, \"width\": 8, \"value\": \"0x83\", \"value_int\": 131, "
		"\"fields\": [{\"name\": \"WLS\", \"msb\": 1, \"lsb\": 0, \"access\": \"rw\", "
		"\"value\": \"0x3\", \"value_int\": 3, \"enum\": \"8BIT\"}, {\"name\": \"STB\", "
		"\"msb\": 2, \"lsb\": 2, \"access\": \"rw\", \"value\": \"0x0\", \"value_int\": "
		"0, \"enum\": null}, {\"name\": \"DLAB\", \"msb\": 7, \"lsb\": 7, \"access\": "
		"\"rw\", \"value\": \"0x1\", \"value_int\": 1, \"enum\": null}]}\n");
	expect_json(sock, ARGS("write", "uart0", "LCR.DLAB=0", "LCR.WLS=6BIT"), 0,
		    "{\"region\": \"uart0\", \"name\": \"LCR\", \"offset\": \"0xc\", "
		    "\"offset_int\": 12, \"width\": 8, \"mask\": \"0x83\", \"mask_int\": 131, "
		    "\"value\": \"0x01\", \"value_int\": 1, \"old\": \"0x83\", \"old_int\": 131, "
		    "\"new\": \"0x01\", \"new_int\": 1}\n");
	expect_json(sock, ARGS("modify", "uart0", "LCR.WLS", "3", "2"), 0,
		    "{\"region\": \"uart0\", \"name\": \"LCR.WLS\", \"offset\": \"0xc\", "
		    "\"offset_int\": 12, \"width\": 8, \"msb\": 1, \"lsb\": 0, \"old\": \"0x1\", "
		    "\"old_int\": 1, \"new\": \"0x2\", \"new_int\": 2}\n");
	expect_json(sock, ARGS("poll", "uart0", "LCR.WLS", "3", "2", "-t", "0"), 0,
		    "{\"region\": \"uart0\", \"name\": \"LCR.WLS\", \"offset\": \"0xc\", "
		    "\"offset_int\": 12, \"width\": 8, \"msb\": 1, \"lsb\": 0, \"value\": \"0x2\", "
		    "\"value_int\": 2, \"register_value\": \"0x02\", \"register_value_int\": 2}\n");
	expect_json(
		sock, ARGS("regs", "uart0"), 0,
		"{\"region\": \"uart0\", \"map\": \"uart16550\", \"width\": 8, \"registers\": "
		"[{\"name\": \"THR\", \"offset\": \"0x0\", \"offset_int\": 0, \"width\": 8, "
		"\"access\": \"wo\", \"reset\": null, \"reset_int\": null, \"side_effects\": "
		"false, \"count\": 1, \"stride\": \"0x0\", \"stride_int\": 0, \"description\": "
		"\"\", \"fields\": []}, {\"name\": \"LCR\", \"offset\": \"0xc\", \"offset_int\": "
		"12, \"width\": 8, \"access\": \"rw\", \"reset\": \"0x3\", \"reset_int\": 3, "
		"\"side_effects\": false, \"count\": 1, \"stride\": \"0x0\", \"stride_int\": 0, "
		"\"description\": \"Line control\", \"fields\": [{\"name\": \"WLS\", \"msb\": 1, "
		"\"lsb\": 0, \"access\": \"rw\", \"description\": \"\", \"values\": [{\"name\": "
		"\"5BIT\", \"value\": \"0x0\", \"value_int\": 0}, {\"name\": \"6BIT\", "
		"\"value\": \"0x1\", \"value_int\": 1}, {\"name\": \"7BIT\", \"value\": \"0x2\", "
		"\"value_int\": 2}, {\"name\": \"8BIT\", \"value\": \"0x3\", \"value_int\": "
		"3}]}, {\"name\": \"STB\", \"msb\": 2, \"lsb\": 2, \"access\": \"rw\", "
		"\"description\": \"\", \"values\": []}, {\"name\": \"DLAB\", \"msb\": 7, "
		"\"lsb\": 7, \"access\": \"rw\", \"description\": \"\", \"values\": []}]}, "
		"{\"name\": \"LSR\", \"offset\": \"0x14\", \"offset_int\": 20, \"width\": 8, "
		"\"access\": \"ro\", \"reset\": \"0x60\", \"reset_int\": 96, \"side_effects\": "
		"false, \"count\": 1, \"stride\": \"0x0\", \"stride_int\": 0, \"description\": "
		"\"\", \"fields\": [{\"name\": \"DR\", \"msb\": 0, \"lsb\": 0, \"access\": "
		"\"ro\", \"description\": \"\", \"values\": []}, {\"name\": \"OE\", \"msb\": 1, "
		"\"lsb\": 1, \"access\": \"rc\", \"description\": \"\", \"values\": []}, "
		"{\"name\": \"THRE\", \"msb\": 5, \"lsb\": 5, \"access\": \"ro\", "
		"\"description\": \"\", \"values\": []}]}]}\n");
	expect_json(
		sock, ARGS("dump", "uart0", "--decode"), 0,
		"{\"region\": \"uart0\", \"registers\": [{\"name\": \"LCR\", \"offset\": "
		"\"0xc\", \"offset_int\": 12, \"width\": 8, \"value\": \"0x02\", \"value_int\": "
		"2, \"fields\": [{\"name\": \"WLS\", \"msb\": 1, \"lsb\": 0, \"access\": \"rw\", "
		"\"value\": \"0x2\", \"value_int\": 2, \"enum\": \"7BIT\"}, {\"name\": \"STB\", "
		"\"msb\": 2, \"lsb\": 2, \"access\": \"rw\", \"value\": \"0x0\", \"value_int\": "
		"0, \"enum\": null}, {\"name\": \"DLAB\", \"msb\": 7, \"lsb\": 7, \"access\": "
		"\"rw\", \"value\": \"0x0\", \"value_int\": 0, \"enum\": null}]}], \"skipped\": "
		"[{\"name\": \"THR\", \"offset\": \"0x0\", \"offset_int\": 0, \"reason\": "
		"\"write-only (wo)\"}, {\"name\": \"LSR\", \"offset\": \"0x14\", \"offset_int\": "
		"20, \"reason\": \"a read clears its field OE (rc)\"}]}\n");
}

static void
test_mmioctl_names_regs(void **state)
{
	struct env *env = *state;
	const char *sock = env->daemon.socket_path;
	cli_expect(sock, ARGS("regs", "uart0"), 0,
		   "NAME     OFFSET  WIDTH  ACCESS  RESET  DESCRIPTION\n"
		   "THR      0x0     8      wo      -\n"
		   "LCR      0xc     8      rw      0x03   Line control\n"
		   "  .WLS   [1:0]          rw             5BIT=0 6BIT=1 7BIT=2 8BIT=3\n"
		   "  .STB   [2]            rw\n"
		   "  .DLAB  [7]            rw\n"
		   "LSR      0x14    8      ro      0x60\n"
		   "  .DR    [0]            ro\n"
		   "  .OE    [1]            rc\n"
		   "  .THRE  [5]            ro\n");
	static const char *const dev[] = {
		"CH[0..3]  0x20+i*0x4  32     rw      -           Channel control\n",
		"FIFO      0xc         32     rw      -           Receive FIFO (a read pops); read "
		"has side effects\n",
		"  .EN     [0]                rw                  Enable\n",
		"ID        0x14        16     ro      0x1234\n", NULL};
	expect_holds(sock, ARGS("regs", "dev0"), dev);
	cli_expect(sock, ARGS("regs", "uart0", "-q"), 0, NULL);
	cli_expect_failure(sock, ARGS("regs", "sim0"), "NOT_FOUND", "no register map");
	cli_expect_failure(sock, ARGS("regs", "nosuch"), "NOT_FOUND", "no region named 'nosuch'");
}

/* Whether dev0's audit log holds a load at offset (as "load32 offset 0x8"). */
static int
loads_at(const struct env *env, const char *op_offset)
{
	char needle[96];
	snprintf(needle, sizeof(needle), " region dev0 %s ", op_offset);
	return daemon_fixture_log_count(&env->daemon, needle);
}

static void
test_mmioctl_names_dump_decode(void **state)
{
	struct env *env = *state;
	const char *sock = env->daemon.socket_path;
	cli_expect(sock, ARGS("write", "dev0", "CTRL.MODE=RUN", "CTRL.DIV=0x12"), 0, "");
	/* That modify loaded CTRL once (mmiod audits a modify as a load and a store). */
	int ctrl_loads = loads_at(env, "load32 offset 0x0");
	assert_int_equal(ctrl_loads, 1);
	cli_expect(sock, ARGS("dump", "dev0", "--decode"), 0,
		   "CTRL (0x0) = 0x00001210\n"
		   "  EN   [0]    = 0x0\n"
		   "  MODE [5:4]  = 0x1 (RUN)\n"
		   "  DIV  [15:8] = 0x12\n"
		   "STATUS (0x4): skipped: a read clears its field ERR (rc)\n"
		   "IRQ (0x8): skipped: a read clears it (rc)\n"
		   "FIFO (0xc): skipped: a read has side effects (side_effects)\n"
		   "CMD (0x10): skipped: write-only (wo)\n"
		   "ID (0x14) = 0x0000\n"
		   "CH[0] (0x20) = 0x00000000\n"
		   "  ON   [0]   = 0x0\n"
		   "  GAIN [3:1] = 0x0 (X1)\n"
		   "CH[1] (0x24) = 0x00000000\n"
		   "  ON   [0]   = 0x0\n"
		   "  GAIN [3:1] = 0x0 (X1)\n"
		   "CH[2] (0x28) = 0x00000000\n"
		   "  ON   [0]   = 0x0\n"
		   "  GAIN [3:1] = 0x0 (X1)\n"
		   "CH[3] (0x2c) = 0x00000000\n"
		   "  ON   [0]   = 0x0\n"
		   "  GAIN [3:1] = 0x0 (X1)\n");
	/* The read-sensitive registers were never loaded; the others were (mmiod's audit). */
	assert_int_equal(loads_at(env, "load32 offset 0x4"), 0);
	assert_int_equal(loads_at(env, "load32 offset 0x8"), 0);
	assert_int_equal(loads_at(env, "load32 offset 0xc"), 0);
	assert_int_equal(loads_at(env, "load32 offset 0x10"), 0);
	assert_int_equal(loads_at(env, "load32 offset 0x0"), ctrl_loads + 1);
	assert_int_equal(loads_at(env, "load16 offset 0x14"), 1);
	assert_int_equal(loads_at(env, "load32 offset 0x2c"), 1);
	/* A range: only the registers wholly inside it. */
	cli_expect(sock, ARGS("dump", "dev0", "0x8-0x24", "-d"), 0,
		   "IRQ (0x8): skipped: a read clears it (rc)\n"
		   "FIFO (0xc): skipped: a read has side effects (side_effects)\n"
		   "CMD (0x10): skipped: write-only (wo)\n"
		   "ID (0x14) = 0x0000\n"
		   "CH[0] (0x20) = 0x00000000\n"
		   "  ON   [0]   = 0x0\n"
		   "  GAIN [3:1] = 0x0 (X1)\n");
	assert_int_equal(loads_at(env, "load32 offset 0x8"), 0);
	assert_int_equal(loads_at(env, "load32 offset 0x24"), 1);
	/* Nothing to read: no lease, no load; only the skipped lines. */
	cli_expect(sock, ARGS("dump", "dev0", "0x8", "4", "--decode"), 0,
		   "IRQ (0x8): skipped: a read clears it (rc)\n");
	assert_int_equal(loads_at(env, "load32 offset 0x8"), 0);
	/* The hexdump without --decode is as before (it reads what it is asked to). */
	cli_expect(sock, ARGS("dump", "dev0", "0x0+4", "-q"), 0,
		   "00000000  10 12 00 00                                       |....|\n");
}

static void
test_mmioctl_names_run(void **state)
{
	struct env *env = *state;
	static const struct cli_step steps[] = {
		{"acquire u uart0 0 0x100", "ok"},
		{"store8 u LCR 0x03", "ok"},
		{"load8 u LCR", "ok 0x03"},
		{"load u LCR", "ok 0x03"},
		{"load u LCR.WLS", "ok 0x3"},
		{"store u LCR.DLAB 1", "ok"},
		{"store u LCR.WLS 5BIT", "ok"},
		{"load8 u 0xc", "ok 0x80"},
		{"modify u LCR.WLS 3 2", "ok 0x0"},
		{"poll u LCR.WLS 3 2 0", "ok 0x2"},
		{"modify8 u LCR 0x80 0", "ok 0x82"},
		{"readblock8 u LCR 1", "ok 0x02"},
		{"store8 u THR 0x41", "ok"},
		{"load8 u 0", "ok 0x41"},
		/* Errors: the map's width, no width for an offset, a field for a block, names. */
		{"load32 u LCR", "error INVALID_ARGUMENT: LCR is 8 bits wide in the map, not 32"},
		{"load u 0xc", "error INVALID_ARGUMENT: load takes a register NAME"},
		{"readblock8 u LCR.WLS 1", "error INVALID_ARGUMENT: LCR.WLS is a field"},
		{"load u LSX", "error NOT_FOUND: no register 'LSX' in uart0 (did you mean LSR?)"},
		{"store u LCR.WLS 8BTI", "error INVALID_ARGUMENT: (did you mean 8BIT?)"},
		{"store u LCR.WLS 4", "error INVALID_ARGUMENT: does not fit LCR.WLS"},
		{"modify u LCR.WLS 4 0", "error INVALID_ARGUMENT: mask 4 does not fit LCR.WLS"},
		/* acquire takes a name for its offset: the register's in the region. */
		{"acquire c dev0 CH[1] 8", "ok"},
		{"store c CH[2].GAIN X2", "ok"},
		{"load32 c 4", "ok 0x00000002"},
		{"load c CH[2].GAIN", "ok 0x1"},
		{"load c CH[0]", "error OUT_OF_RANGE: outside the lease"},
		{"acquire x sim0 LSR 1", "error NOT_FOUND: region sim0 has no register map"},
	};
	cli_run_steps(env->daemon.socket_path, ARGS("run", "-k"), steps,
		      sizeof(steps) / sizeof(steps[0]), 1);
	cli_expect(env->daemon.socket_path, ARGS("read", "uart0", "LCR"), 0, "0x02\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_mmioctl_names_read_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mmioctl_names_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mmioctl_names_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mmioctl_names_regs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mmioctl_names_dump_decode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mmioctl_names_run, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
