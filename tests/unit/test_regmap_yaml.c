/*
 * config/regmap_yaml.c: map files written here, read back. The uart16550 and the shipped
 * etc/maps/uart16550.yaml read into the model; each malformed file is a row: its text, and the
 * FILE:LINE: message it must give.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/regmap_yaml.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static char dir[] = "/tmp/test_regmap_yaml.XXXXXX";
static char path[sizeof(dir) + 16];

static void
write_file(const char *text, size_t len)
{
	FILE *f = fopen(path, "we");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static const char uart_yaml[] =
	"name: uart16550\n"
	"width: 8                 # default register width in bits (8, 16, 32, 64)\n"
	"registers:\n"
	"  - name: THR\n"
	"    offset: 0x0\n"
	"    access: wo           # ro, wo, rw, w1c, w1s, rc (read clears); default rw\n"
	"  - name: LCR\n"
	"    offset: 0xc\n"
	"    reset: 0x03\n"
	"    description: Line control\n"
	"    fields:\n"
	"      - { name: WLS,  bits: \"1:0\", values: { 5BIT: 0, 6BIT: 1, 7BIT: 2, 8BIT: 3 } }\n"
	"      - { name: STB,  bits: \"2\" }\n"
	"      - { name: DLAB, bits: \"7\" }\n"
	"  - name: LSR\n"
	"    offset: 0x14\n"
	"    access: ro\n"
	"    reset: 0x60\n"
	"    fields:\n"
	"      - { name: DR,   bits: \"0\" }\n"
	"      - { name: OE,   bits: \"1\", access: rc }\n"
	"      - { name: THRE, bits: \"5\" }\n";

static int
setup(void **state)
{
	(void)state;
	if (!mkdtemp(dir)) {
		return -1;
	}
	snprintf(path, sizeof(path), "%s/map.yaml", dir);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	(void)unlink(path);
	return rmdir(dir);
}

static void
check_uart(const struct regmap *m)
{
	assert_string_equal(m->name, "uart16550");
	assert_int_equal(m->width, 8);
	assert_int_equal(m->n_registers, 3);
	struct regmap_ref ref;
	assert_int_equal(regmap_lookup(m, "THR", &ref), 0);
	assert_int_equal(regmap_reg_access(ref.reg), REGMAP_WO);
	assert_int_equal(regmap_lookup(m, "LCR.WLS", &ref), 0);
	assert_int_equal(ref.offset, 0xc);
	assert_true(ref.reg->has_reset);
	assert_int_equal(ref.reg->reset, 3);
	assert_string_equal(ref.reg->description, "Line control");
	assert_int_equal(ref.field->msb, 1);
	assert_int_equal(ref.field->lsb, 0);
	assert_int_equal(ref.field->n_values, 4);
	assert_int_equal(regmap_value_find(ref.field, "8BIT")->value, 3);
	assert_int_equal(regmap_lookup(m, "LCR.DLAB", &ref), 0);
	assert_int_equal(regmap_field_mask(ref.field), 0x80);
	assert_int_equal(regmap_lookup(m, "LSR.OE", &ref), 0);
	assert_int_equal(regmap_field_access(ref.reg, ref.field), REGMAP_RC);
	assert_true(regmap_read_sensitive(ref.reg, NULL));
	assert_int_equal(ref.reg->line, 15);
	assert_int_equal(ref.field->line, 21);
}

static void
test_uart(void **state)
{
	(void)state;
	write_file(uart_yaml, strlen(uart_yaml));
	struct regmap *m = NULL;
	char err[512] = "";
	assert_int_equal(regmap_yaml_load(path, &m, err, sizeof(err)), 0);
	check_uart(m);
	/* The region's end: LSR's byte is 0x14. */
	assert_int_equal(regmap_yaml_check(path, m, 0x15, err, sizeof(err)), 0);
	assert_int_equal(regmap_yaml_check(path, m, 0x14, err, sizeof(err)), -EINVAL);
	char want[600];
	snprintf(want, sizeof(want), "%s:16: LSR: bytes up to 0x15 are past the region's end",
		 path);
	assert_non_null(strstr(err, want));
	regmap_free(m);
}

static void
test_example(void **state)
{
	(void)state;
	struct regmap *m = NULL;
	char err[512] = "";
	int rc = regmap_yaml_load(MMIOD_EXAMPLE_MAP, &m, err, sizeof(err));
	if (rc != 0) {
		fail_msg("%s", err);
	}
	assert_string_equal(m->name, "uart16550");
	struct regmap_ref ref;
	assert_int_equal(regmap_lookup(m, "LSR.THRE", &ref), 0);
	assert_int_equal(regmap_lookup(m, "LCR.WLS", &ref), 0);
	assert_int_equal(regmap_value_find(ref.field, "5BIT")->value, 0);
	assert_int_equal(regmap_yaml_check(MMIOD_EXAMPLE_MAP, m, 0x20, err, sizeof(err)), 0);
	regmap_free(m);
}

static void
test_arrays_and_more(void **state)
{
	(void)state;
	static const char text[] = "name: dma\n"
				   "width: 32\n"
				   "description: \"a DMA engine\"\n"
				   "registers:\n"
				   "  - name: ID\n"
				   "    offset: 0\n"
				   "    width: 64\n"
				   "    access: ro\n"
				   "    reset: 0xffffffffffffffff\n"
				   "    fields: [ { name: ALL, bits: \"63:0\" } ]\n"
				   "  - name: CH_CTRL\n"
				   "    offset: 0x100\n"
				   "    count: 8\n"
				   "    stride: 0x20\n"
				   "    side_effects: true\n"
				   "    fields:\n"
				   "      - name: EN\n"
				   "        bits: 0\n"
				   "        access: w1s\n"
				   "        description: 'enable'\n"
				   "      - { name: DONE, bits: \"31\", access: w1c }\n";
	write_file(text, strlen(text));
	struct regmap *m = NULL;
	char err[512] = "";
	int rc = regmap_yaml_load(path, &m, err, sizeof(err));
	if (rc != 0) {
		fail_msg("%s", err);
	}
	struct regmap_ref ref;
	assert_int_equal(regmap_lookup(m, "CH_CTRL[7].DONE", &ref), 0);
	assert_int_equal(ref.offset, 0x1e0);
	assert_int_equal(regmap_field_access(ref.reg, ref.field), REGMAP_W1C);
	assert_true(ref.reg->side_effects);
	assert_int_equal(regmap_lookup(m, "ID.ALL", &ref), 0);
	assert_int_equal(ref.width, 64);
	assert_int_equal(regmap_field_mask(ref.field), UINT64_MAX);
	assert_int_equal(ref.reg->reset, UINT64_MAX);
	assert_int_equal(regmap_yaml_check(path, m, 0x1e4, err, sizeof(err)), 0);
	assert_int_equal(regmap_yaml_check(path, m, 0x1e3, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, ":12: CH_CTRL: bytes up to 0x1e4 are past the region's end"));
	regmap_free(m);
}

struct bad_case {
	const char *text;
	int line;
	const char *message;
};

#define HEAD "name: m\nwidth: 32\nregisters:\n"

static const struct bad_case bad_cases[] = {
	/* widths: a list of 8/16/32/64, none wider than the register. */
	{HEAD "  - name: A\n    offset: 0x0\n    widths: [64]\n", 6,
	 "A: widths: an access wider than the register (32 bits)"},
	{HEAD "  - name: A\n    offset: 0x0\n    widths: [12]\n", 6, "widths: 12 is not 8, 16"},
	{HEAD "  - name: A\n    offset: 0x0\n    widths: 32\n", 6, "widths must be a list"},
	{HEAD "  - name: A\n    offset: 0x0\n    widths: []\n", 6, "widths must be a list"},
	/* What regmap_validate says, at the element's line. */
	{HEAD "  - { name: A, offset: 0x0 }\n  - { name: B, offset: 0x2 }\n", 5,
	 "B: offset 0x2 is not aligned to its width (32 bits)"},
	{HEAD "  - { name: A, offset: 0x0 }\n  - name: B\n    width: 64\n    offset: 0x0\n", 5,
	 "B [0x0, 0x8) overlaps A [0x0, 0x4) (line 4)"},
	{HEAD "  - { name: A, offset: 0x0 }\n  - { name: A, offset: 0x4 }\n", 5,
	 "register 'A' named twice (line 4)"},
	{HEAD "  - name: A\n    offset: 0\n    fields:\n      - { name: X, bits: \"32\" }\n", 7,
	 "A.X: bits 32:32 are outside the 32-bit register"},
	{HEAD "  - name: A\n    offset: 0\n    fields:\n      - { name: X, bits: \"3:0\" }\n"
	      "      - { name: Y, bits: \"4:3\" }\n",
	 8, "A.Y: bits 4:3 overlap field X"},
	{HEAD "  - name: A\n    offset: 0\n    fields:\n      - { name: X, bits: \"0\" }\n"
	      "      - { name: X, bits: \"1\" }\n",
	 8, "A: field 'X' named twice (line 7)"},
	{HEAD "  - name: A\n    offset: 0\n    fields:\n"
	      "      - { name: X, bits: \"1:0\", values: { ON: 1,\n          BIG: 4 } }\n",
	 8, "A.X: value BIG = 0x4 does not fit the field's 2 bits"},
	{HEAD "  - name: A\n    offset: 0\n    fields:\n"
	      "      - { name: X, bits: \"1:0\", values: { ON: 1, ON: 2 } }\n",
	 7, "duplicate key"},
	{HEAD "  - { name: A, offset: 0, reset: 0x100000000 }\n", 4,
	 "A: reset 0x100000000 does not fit 32 bits"},
	{HEAD "  - { name: A, offset: 0, count: 4, stride: 2 }\n", 4, "A: stride 0x2 must be"},
	{HEAD "  - { name: A, offset: 0, count: 4 }\n", 4, "A: an array (count > 1) needs stride"},
	{HEAD "  - { name: A, offset: 0, count: 0 }\n", 4, "A: count 0 is not 1..65536"},
	{HEAD "  - { name: A, offset: 0xfffffffffffffff0, count: 5, stride: 4 }\n", 4,
	 "A: the array runs past 2^64"},
	{HEAD "  - { name: A.B, offset: 0 }\n", 4, "register name 'A.B'"},
	/* The reader's own. */
	{HEAD "  - { name: A, offset: 0, access: rwx }\n", 4,
	 "unknown access kind 'rwx': ro, wo, rw, w1c, w1s or rc"},
	{HEAD "  - name: A\n    offset: 0\n    fields: [ { name: X, bits: \"0\", access: RW } ]\n",
	 6, "unknown access kind 'RW'"},
	{HEAD "  - { name: A, offset: 0, acess: ro }\n", 4,
	 "unknown key 'acess' in a register (known: name, offset, access,"},
	{HEAD "  - name: A\n    offset: 0\n    fields:\n      - { name: X, bit: \"0\" }\n", 7,
	 "unknown key 'bit' in a field"},
	{"name: m\nwidth: 32\nregister: []\n", 3, "unknown key 'register' in the map"},
	{"name: m\nwidth: 32\n", 1, "a map needs name, width and registers"},
	{"name: m\nwidth: 12\nregisters: []\n", 2, "width 12: a register is 8, 16, 32 or 64 bits"},
	{"name: m\nwidth: 32\nregisters: []\n", 1, "the map has no registers"},
	{"name: m\nwidth: 32\nregisters: {}\n", 3, "registers must be a list"},
	{"- a\n- b\n", 1, "the map must be a mapping"},
	{HEAD "  - { name: A }\n", 4, "a register needs name and offset"},
	{HEAD "  - { name: A, offset: 010 }\n", 4,
	 "offset 010: a leading 0 is ambiguous (octal to some tools): write it in 0x hex"},
	{HEAD "  - { name: A, offset: \"0x10\" }\n", 4, "offset must be a number"},
	{HEAD "  - { name: A, offset: -4 }\n", 4, "offset -4 is not a decimal or 0x hex number"},
	{HEAD "  - { name: A, offset: 0o17 }\n", 4, "offset 0o17 is not a decimal"},
	{HEAD "  - { name: A, offset: 1_000 }\n", 4, "offset 1_000 is not a decimal"},
	{HEAD "  - { name: A, offset: 0x10000000000000000 }\n", 4,
	 "offset 0x10000000000000000 does not fit 64 bits"},
	{HEAD "  - { name: A, offset: [0] }\n", 4, "offset must be a number"},
	{HEAD "  - name: A\n    offset:\n", 5, "offset  is not a decimal"},
	{HEAD "  - { name: A, offset: !!int 4 }\n", 4, "offset: tags (!!type) are not used"},
	{HEAD "  - { name: &n A, offset: 0 }\n  - { name: *n, offset: 4 }\n", 5,
	 "name: aliases (*name) are not used"},
	{HEAD "  - { name: A, offset: 0, side_effects: yes }\n", 4,
	 "side_effects must be true or false"},
	{HEAD "  - { name: A, offset: 0, fields: { X: 1 } }\n", 4, "fields must be a list"},
	{HEAD "  - name: A\n    offset: 0\n    fields: [ { name: X, bits: \"0:1\" } ]\n", 6,
	 "bits \"0:1\": MSB comes first"},
	{HEAD "  - name: A\n    offset: 0\n    fields: [ { name: X, bits: \"64\" } ]\n", 6,
	 "bits must be \"MSB:LSB\" or \"BIT\""},
	{HEAD "  - name: A\n    offset: 0\n    fields: [ { name: X, bits: \"01\" } ]\n", 6,
	 "bits must be"},
	{HEAD "  - name: A\n    offset: 0\n    fields: [ { name: X, bits: \"3:\" } ]\n", 6,
	 "bits must be"},
	{HEAD "  - name: A\n    offset: 0\n    fields: [ { name: X, bits: \"3:1:0\" } ]\n", 6,
	 "bits must be"},
	{HEAD "  - name: A\n    offset: 0\n    fields: [ { name: X, bits: \"a\" } ]\n", 6,
	 "bits must be"},
	{HEAD "  - name: A\n    offset: 0\n    fields: [ { name: X } ]\n", 6,
	 "a field needs name and bits"},
	{HEAD
	 "  - name: A\n    offset: 0\n    fields: [ { name: X, bits: \"1:0\", values: [1] } ]\n",
	 6, "values must be a mapping"},
	{HEAD "  - name: A\n    offset: 0\n    fields: [ { name: X, bits: \"1:0\", values: { A: x "
	      "} } ]\n",
	 6, "A x is not a decimal or 0x hex number"},
	{HEAD "  - { name: A234567890123456789012345678901234567890123456789012345678901234, "
	      "offset: 0 }\n",
	 4, "name is longer than 63 bytes"},
	{HEAD "  - { name: A, offset: 0 }\n---\nname: n\n", 6,
	 "one map per file: a second YAML document"},
	{HEAD "  - { name: A, offset: 0\n", 5, "missing comma in flow mapping"},
	{"", 1, "no map in the file"},
	{"# nothing\n", 1, "no map in the file"},
	{"name: m\nwidth: 32\nregisters: [ 1 ]\n", 3, "a register must be a mapping"},
	{"name: [m]\nwidth: 32\nregisters: []\n", 1, "name must be a string"},
};

/* widths: the access widths a register takes, as core/regrules.h's bits (bytes). */
static void
test_widths(void **state)
{
	(void)state;
	static const char text[] = "name: m\nwidth: 32\nregisters:\n"
				   "  - { name: A, offset: 0x0, widths: [32, 8] }\n"
				   "  - { name: B, offset: 0x4 }\n";
	struct regmap *m = NULL;
	char err[256];
	assert_int_equal(regmap_yaml_parse(text, sizeof(text) - 1, "m.yaml", &m, err, sizeof(err)),
			 0);
	assert_int_equal(m->registers[0].widths, 4 | 1);
	assert_int_equal(m->registers[1].widths, 0);
	regmap_free(m);
}

static void
test_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(bad_cases); i++) {
		const struct bad_case *c = &bad_cases[i];
		write_file(c->text, strlen(c->text));
		struct regmap *m = (struct regmap *)1;
		char err[512] = "";
		int rc = regmap_yaml_load(path, &m, err, sizeof(err));
		char want[600];
		snprintf(want, sizeof(want), "%s:%d: %s", path, c->line, c->message);
		if (rc != -EINVAL || m != NULL || strncmp(err, want, strlen(want)) != 0) {
			fail_msg("case %zu: rc %d '%s'; want '%s'", i, rc, err, want);
		}
	}
}

static void
test_files(void **state)
{
	(void)state;
	struct regmap *m = NULL;
	char err[512] = "";
	char missing[600];
	snprintf(missing, sizeof(missing), "%s/none.yaml", dir);
	assert_int_equal(regmap_yaml_load(missing, &m, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "No such file"));
	assert_int_equal(regmap_yaml_load(dir, &m, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "not a regular file"));
	/* Too big: one byte over the cap, whatever it holds. */
	size_t big = REGMAP_MAX_FILE_BYTES + 1;
	char *text = malloc(big);
	assert_non_null(text);
	memset(text, '#', big);
	write_file(text, big);
	assert_int_equal(regmap_yaml_load(path, &m, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "too big for a map file"));
	free(text);
	/* A NUL byte. */
	write_file("name: m\0\n", 9);
	assert_int_equal(regmap_yaml_load(path, &m, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, ":1: a NUL byte"));
	/* Nesting past libfyaml's depth limit is an error, not a deep recursion. */
	char deep[4096];
	size_t n = 0;
	n += (size_t)snprintf(deep, sizeof(deep), "name: ");
	for (int i = 0; i < 1000; i++) {
		deep[n++] = '[';
	}
	deep[n] = '\0';
	write_file(deep, n);
	assert_int_equal(regmap_yaml_load(path, &m, err, sizeof(err)), -EINVAL);
	assert_null(m);
}

/* Over the caps: registers, fields, values. */
static void
test_caps(void **state)
{
	(void)state;
	size_t cap = 1u << 20;
	char *text = malloc(cap);
	assert_non_null(text);
	size_t n = (size_t)snprintf(text, cap, "name: m\nwidth: 8\nregisters:\n");
	for (unsigned i = 0; i <= REGMAP_MAX_REGISTERS; i++) {
		n += (size_t)snprintf(text + n, cap - n, "  - { name: R%u, offset: %u }\n", i, i);
	}
	write_file(text, n);
	struct regmap *m = NULL;
	char err[512] = "";
	assert_int_equal(regmap_yaml_load(path, &m, err, sizeof(err)), -EINVAL);
	char want[600];
	snprintf(want, sizeof(want), "%s:%d: at most %d registers in a map", path,
		 REGMAP_MAX_REGISTERS + 4, REGMAP_MAX_REGISTERS);
	assert_string_equal(err, want);

	n = (size_t)snprintf(text, cap,
			     "name: m\nwidth: 64\nregisters:\n  - name: R\n"
			     "    offset: 0\n    fields:\n");
	for (unsigned i = 0; i <= REGMAP_MAX_FIELDS; i++) {
		n += (size_t)snprintf(text + n, cap - n, "      - { name: F%u, bits: \"%u\" }\n", i,
				      i);
	}
	write_file(text, n);
	assert_int_equal(regmap_yaml_load(path, &m, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, ":71: R: at most 64 fields in a register"));

	n = (size_t)snprintf(text, cap,
			     "name: m\nwidth: 16\nregisters:\n  - name: R\n"
			     "    offset: 0\n    fields:\n      - name: F\n"
			     "        bits: \"15:0\"\n        values:\n");
	for (unsigned i = 0; i <= REGMAP_MAX_VALUES; i++) {
		n += (size_t)snprintf(text + n, cap - n, "          V%u: %u\n", i, i);
	}
	write_file(text, n);
	assert_int_equal(regmap_yaml_load(path, &m, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, ":266: at most 256 values in a field"));
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uart),
		cmocka_unit_test(test_example),
		cmocka_unit_test(test_arrays_and_more),
		cmocka_unit_test(test_widths),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_caps),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
