/*
 * core/regmap.c: the register map's rules, lookup and field helpers. Each broken rule is a row:
 * a change to a valid map, the line the error must name and words of its message. Fields at
 * the edges (bit 0, bit 63, all 64 bits) prove the shifts never overflow.
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

#include <cmocka.h>

#include "core/regmap.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static struct regmap_register *
add_reg(struct regmap *m, const char *name, uint64_t offset, int line)
{
	struct regmap_register *r;
	assert_int_equal(regmap_add_register(m, &r), 0);
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->offset = offset;
	r->line = line;
	return r;
}

static struct regmap_field *
add_field(struct regmap_register *r, const char *name, unsigned msb, unsigned lsb, int line)
{
	struct regmap_field *f;
	assert_int_equal(regmap_add_field(r, &f), 0);
	snprintf(f->name, sizeof(f->name), "%s", name);
	f->msb = msb;
	f->lsb = lsb;
	f->line = line;
	return f;
}

static void
add_value(struct regmap_field *f, const char *name, uint64_t value, int line)
{
	struct regmap_value v = {.value = value, .line = line};
	snprintf(v.name, sizeof(v.name), "%s", name);
	assert_int_equal(regmap_add_value(f, &v), 0);
}

/* The issue's uart16550 (lines as in etc/maps/uart16550.yaml's first version), plus an array. */
static struct regmap *
uart(void)
{
	struct regmap *m = regmap_new();
	assert_non_null(m);
	snprintf(m->name, sizeof(m->name), "uart16550");
	m->width = 8;
	m->line = 1;
	struct regmap_register *thr = add_reg(m, "THR", 0x0, 4);
	thr->has_access = true;
	thr->access = REGMAP_WO;
	struct regmap_register *lcr = add_reg(m, "LCR", 0xc, 7);
	lcr->has_reset = true;
	lcr->reset = 0x03;
	struct regmap_field *wls = add_field(lcr, "WLS", 1, 0, 12);
	add_value(wls, "5BIT", 0, 12);
	add_value(wls, "6BIT", 1, 12);
	add_value(wls, "7BIT", 2, 12);
	add_value(wls, "8BIT", 3, 12);
	add_field(lcr, "STB", 2, 2, 13);
	add_field(lcr, "DLAB", 7, 7, 14);
	struct regmap_register *lsr = add_reg(m, "LSR", 0x14, 15);
	lsr->has_access = true;
	lsr->access = REGMAP_RO;
	lsr->has_reset = true;
	lsr->reset = 0x60;
	add_field(lsr, "DR", 0, 0, 20);
	struct regmap_field *oe = add_field(lsr, "OE", 1, 1, 21);
	oe->has_access = true;
	oe->access = REGMAP_RC;
	add_field(lsr, "THRE", 5, 5, 22);
	struct regmap_register *ch = add_reg(m, "CH_CTRL", 0x40, 23);
	ch->width = 32;
	ch->count = 4;
	ch->stride = 0x10;
	add_field(ch, "EN", 0, 0, 28);
	add_field(ch, "MODE", 31, 28, 29);
	return m;
}

static struct regmap_register *
reg(struct regmap *m, const char *name)
{
	for (unsigned i = 0; i < m->n_registers; i++) {
		if (strcmp(m->registers[i].name, name) == 0) {
			return &m->registers[i];
		}
	}
	fail_msg("no register %s", name);
	return NULL;
}

static void
test_valid(void **state)
{
	(void)state;
	struct regmap *m = uart();
	struct regmap_error e = {0};
	assert_int_equal(regmap_validate(m, 0, &e), 0);
	assert_int_equal(regmap_validate(m, 0x74, &e), 0); /* CH_CTRL[3] ends at 0x74 */
	regmap_free(m);
}

/* One broken rule: what to change, the line named, a phrase of the message. */
struct bad_case {
	const char *what;
	void (*mutate)(struct regmap *m);
	uint64_t region_size;
	int line;
	const char *message;
};

static void
m_overlap(struct regmap *m)
{
	reg(m, "LSR")->offset = 0xc;
}
static void
m_overlap_wide(struct regmap *m)
{
	struct regmap_register *r = add_reg(m, "WIDE", 0x10, 40);
	r->width = 64; /* 0x10..0x17 covers LSR at 0x14 */
}
static void
m_overlap_array(struct regmap *m)
{
	add_reg(m, "LATE", 0x60, 41)->width = 32;
}
static void
m_array_self(struct regmap *m)
{
	reg(m, "CH_CTRL")->stride = 2;
}
static void
m_array_stride0(struct regmap *m)
{
	reg(m, "CH_CTRL")->stride = 0;
}
static void
m_array_misaligned(struct regmap *m)
{
	reg(m, "CH_CTRL")->stride = 6;
}
static void
m_array_count0(struct regmap *m)
{
	reg(m, "CH_CTRL")->count = 0;
}
static void
m_array_huge(struct regmap *m)
{
	reg(m, "CH_CTRL")->count = REGMAP_MAX_INSTANCES + 1;
}
static void
m_array_wrap(struct regmap *m)
{
	reg(m, "CH_CTRL")->stride = UINT64_C(1) << 63;
}
static void
m_array_wrap_end(struct regmap *m)
{
	struct regmap_register *r = reg(m, "CH_CTRL");
	r->count = 1;
	r->offset = UINT64_MAX - 3; /* aligned; offset + 4 is 2^64 */
}
static void
m_total_instances(struct regmap *m)
{
	for (unsigned i = 0; i < 2; i++) {
		char name[16];
		snprintf(name, sizeof(name), "BIG%u", i);
		struct regmap_register *r = add_reg(m, name, 0x1000000 * (i + 1), 50);
		r->count = REGMAP_MAX_INSTANCES / 2 + 1;
		r->stride = 1;
	}
}
static void
m_misaligned(struct regmap *m)
{
	reg(m, "CH_CTRL")->offset = 0x42;
}
static void
m_misaligned_line(struct regmap *m)
{
	reg(m, "CH_CTRL")->offset = 0x41;
	reg(m, "CH_CTRL")->offset_line = 25;
}
static void
m_width(struct regmap *m)
{
	m->width = 12;
}
static void
m_reg_width(struct regmap *m)
{
	reg(m, "CH_CTRL")->width = 24;
}
static void
m_dup_reg(struct regmap *m)
{
	add_reg(m, "LCR", 0x30, 60);
}
static void
m_dup_field(struct regmap *m)
{
	add_field(reg(m, "LCR"), "STB", 3, 3, 61);
}
static void
m_dup_value(struct regmap *m)
{
	add_value(&reg(m, "LCR")->fields[0], "6BIT", 2, 62);
}
static void
m_field_outside(struct regmap *m)
{
	add_field(reg(m, "LCR"), "HIGH", 8, 8, 63);
}
static void
m_field_outside64(struct regmap *m)
{
	add_field(reg(m, "CH_CTRL"), "X", 32, 1, 64);
}
static void
m_field_reversed(struct regmap *m)
{
	add_field(reg(m, "LCR"), "REV", 3, 4, 65);
}
static void
m_field_overlap(struct regmap *m)
{
	add_field(reg(m, "LCR"), "PEN", 3, 2, 66);
}
static void
m_value_fit(struct regmap *m)
{
	add_value(&reg(m, "LCR")->fields[0], "BIG", 4, 67);
}
static void
m_value_fit1(struct regmap *m)
{
	add_value(&reg(m, "LCR")->fields[1], "TWO", 2, 68); /* STB is one bit */
}
static void
m_reset_fit(struct regmap *m)
{
	reg(m, "LSR")->reset = 0x100;
}
static void
m_access(struct regmap *m)
{
	reg(m, "LSR")->access = (enum regmap_access)42;
}
static void
m_field_access(struct regmap *m)
{
	reg(m, "LSR")->fields[0].has_access = true;
	reg(m, "LSR")->fields[0].access = (enum regmap_access)42;
}
static void
m_bad_name(struct regmap *m)
{
	snprintf(reg(m, "LSR")->name, REGMAP_MAX_NAME, "L.SR");
}
static void
m_digit_name(struct regmap *m)
{
	snprintf(reg(m, "LSR")->name, REGMAP_MAX_NAME, "9LSR");
}
static void
m_bad_field_name(struct regmap *m)
{
	snprintf(reg(m, "LSR")->fields[0].name, REGMAP_MAX_NAME, "D R");
}
static void
m_bad_value_name(struct regmap *m)
{
	snprintf(reg(m, "LCR")->fields[0].values[0].name, REGMAP_MAX_NAME, "5-BIT");
}
static void
m_map_name(struct regmap *m)
{
	m->name[0] = '\0';
}
static void
m_no_regs(struct regmap *m)
{
	m->n_registers = 0;
}
static void
m_none(struct regmap *m)
{
	(void)m;
}

static const struct bad_case bad_cases[] = {
	{"overlap", m_overlap, 0, 15, "LSR [0xc, 0xd) overlaps LCR [0xc, 0xd) (line 7)"},
	{"overlap by width", m_overlap_wide, 0, 40, "WIDE [0x10, 0x18) overlaps LSR"},
	{"overlap an instance", m_overlap_array, 0, 41, "LATE [0x60, 0x64) overlaps CH_CTRL[2]"},
	{"array overlapping itself", m_array_self, 0, 23, "stride 0x2 must be a non-zero multiple"},
	{"array without stride", m_array_stride0, 0, 23, "stride 0x0"},
	{"array misaligned stride", m_array_misaligned, 0, 23, "stride 0x6"},
	{"count 0", m_array_count0, 0, 23, "count 0 is not 1..65536"},
	{"count too big", m_array_huge, 0, 23, "count 65537"},
	{"array past 2^64", m_array_wrap, 0, 23, "the array runs past 2^64"},
	{"register past 2^64", m_array_wrap_end, 0, 23, "the array runs past 2^64"},
	{"all instances", m_total_instances, 0, 1, "at most 65536"},
	{"past the region's end", m_none, 0x73, 23,
	 "CH_CTRL: bytes up to 0x74 are past the region's end (size 0x73)"},
	{"misaligned", m_misaligned, 0, 23, "offset 0x42 is not aligned to its width (32 bits)"},
	{"misaligned, offset's line", m_misaligned_line, 0, 25, "offset 0x41"},
	{"map width", m_width, 0, 1, "width 12"},
	{"register width", m_reg_width, 0, 23, "CH_CTRL: width 24"},
	{"duplicate register", m_dup_reg, 0, 60, "register 'LCR' named twice (line 7)"},
	{"duplicate field", m_dup_field, 0, 61, "LCR: field 'STB' named twice (line 13)"},
	{"duplicate value", m_dup_value, 0, 62, "LCR.WLS: value '6BIT' named twice (line 12)"},
	{"field past the width", m_field_outside, 0, 63,
	 "LCR.HIGH: bits 8:8 are outside the 8-bit"},
	{"field past 32 bits", m_field_outside64, 0, 64, "bits 32:1 are outside the 32-bit"},
	{"field msb < lsb", m_field_reversed, 0, 65, "bits 3:4"},
	{"fields overlap", m_field_overlap, 0, 66, "LCR.PEN: bits 3:2 overlap field STB"},
	{"value too big", m_value_fit, 0, 67, "value BIG = 0x4 does not fit the field's 2 bits"},
	{"value too big for a bit", m_value_fit1, 0, 68, "fit the field's 1 bits"},
	{"reset too big", m_reset_fit, 0, 15, "LSR: reset 0x100 does not fit 8 bits"},
	{"access kind", m_access, 0, 15, "unknown access kind"},
	{"field access kind", m_field_access, 0, 20, "LSR.DR: unknown access kind"},
	{"register name", m_bad_name, 0, 15, "register name 'L.SR'"},
	{"register name digit", m_digit_name, 0, 15, "register name '9LSR'"},
	{"field name", m_bad_field_name, 0, 20, "field name 'D R'"},
	{"value name", m_bad_value_name, 0, 12, "value name '5-BIT'"},
	{"map name", m_map_name, 0, 1, "the map's name ''"},
	{"no registers", m_no_regs, 0, 1, "no registers"},
};

static void
test_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(bad_cases); i++) {
		const struct bad_case *c = &bad_cases[i];
		struct regmap *m = uart();
		unsigned n = m->n_registers;
		c->mutate(m);
		struct regmap_error e = {0};
		int rc = regmap_validate(m, c->region_size, &e);
		if (rc != -EINVAL || e.line != c->line || !strstr(e.message, c->message)) {
			fail_msg("%s: rc %d line %d '%s'; want line %d '%s'", c->what, rc, e.line,
				 e.message, c->line, c->message);
		}
		m->n_registers = m->n_registers ? m->n_registers : n; /* m_no_regs: free them all */
		regmap_free(m);
	}
}

static void
test_access_names(void **state)
{
	(void)state;
	static const char *const names[] = {"rw", "ro", "wo", "w1c", "w1s", "rc"};
	for (size_t i = 0; i < ARRAY_LEN(names); i++) {
		assert_int_equal(regmap_access_parse(names[i]), (int)i);
		assert_string_equal(regmap_access_name((enum regmap_access)i), names[i]);
	}
	assert_int_equal(regmap_access_parse("RW"), -1);
	assert_int_equal(regmap_access_parse(""), -1);
	assert_int_equal(regmap_access_parse("rwx"), -1);
	assert_string_equal(regmap_access_name((enum regmap_access)99), "?");
}

struct lookup_case {
	const char *name;
	int rc;
	const char *reg, *field;
	uint64_t index, offset;
	unsigned width;
};

static const struct lookup_case lookup_cases[] = {
	{"THR", 0, "THR", NULL, 0, 0x0, 8},
	{"LCR.WLS", 0, "LCR", "WLS", 0, 0xc, 8},
	{"LSR.THRE", 0, "LSR", "THRE", 0, 0x14, 8},
	{"CH_CTRL[0]", 0, "CH_CTRL", NULL, 0, 0x40, 32},
	{"CH_CTRL[3].MODE", 0, "CH_CTRL", "MODE", 3, 0x70, 32},
	{"CH_CTRL[4]", -ENOENT, NULL, NULL, 0, 0, 0},
	{"CH_CTRL[18446744073709551615]", -ENOENT, NULL, NULL, 0, 0, 0},
	{"CH_CTRL[18446744073709551616]", -EINVAL, NULL, NULL, 0, 0, 0},
	{"CH_CTRL[01]", -EINVAL, NULL, NULL, 0, 0, 0},
	{"CH_CTRL[]", -EINVAL, NULL, NULL, 0, 0, 0},
	{"CH_CTRL[1", -EINVAL, NULL, NULL, 0, 0, 0},
	{"CH_CTRL[1]x", -EINVAL, NULL, NULL, 0, 0, 0},
	{"CH_CTRL", -EINVAL, NULL, NULL, 0, 0, 0},
	{"CH_CTRL.EN", -EINVAL, NULL, NULL, 0, 0, 0},
	{"LCR[0]", -EINVAL, NULL, NULL, 0, 0, 0},
	{"LCR.NOPE", -ENOENT, NULL, NULL, 0, 0, 0},
	{"NOPE", -ENOENT, NULL, NULL, 0, 0, 0},
	{"lcr", -ENOENT, NULL, NULL, 0, 0, 0},
	{"LCR.", -EINVAL, NULL, NULL, 0, 0, 0},
	{"LCR.WLS.X", -EINVAL, NULL, NULL, 0, 0, 0},
	{".WLS", -EINVAL, NULL, NULL, 0, 0, 0},
	{"", -EINVAL, NULL, NULL, 0, 0, 0},
	{"A234567890123456789012345678901234567890123456789012345678901234", -EINVAL, NULL, NULL, 0,
	 0, 0},
};

static void
test_lookup(void **state)
{
	(void)state;
	struct regmap *m = uart();
	for (size_t i = 0; i < ARRAY_LEN(lookup_cases); i++) {
		const struct lookup_case *c = &lookup_cases[i];
		struct regmap_ref ref = {0};
		int rc = regmap_lookup(m, c->name, &ref);
		if (rc != c->rc) {
			fail_msg("%s: rc %d, want %d", c->name, rc, c->rc);
		}
		if (rc == 0) {
			assert_string_equal(ref.reg->name, c->reg);
			if (c->field) {
				assert_non_null(ref.field);
				assert_string_equal(ref.field->name, c->field);
			} else {
				assert_null(ref.field);
			}
			assert_int_equal(ref.index, c->index);
			assert_int_equal(ref.offset, c->offset);
			assert_int_equal(ref.width, c->width);
		}
	}
	struct regmap_ref ref;
	assert_int_equal(regmap_lookup(m, "LCR.WLS", &ref), 0);
	assert_int_equal(regmap_value_find(ref.field, "7BIT")->value, 2);
	assert_null(regmap_value_find(ref.field, "9BIT"));
	regmap_free(m);
}

static void
test_access_and_side_effects(void **state)
{
	(void)state;
	struct regmap *m = uart();
	struct regmap_register *lsr = reg(m, "LSR");
	struct regmap_register *lcr = reg(m, "LCR");
	assert_int_equal(regmap_reg_access(lcr), REGMAP_RW);
	assert_int_equal(regmap_reg_access(lsr), REGMAP_RO);
	assert_int_equal(regmap_field_access(lsr, &lsr->fields[0]), REGMAP_RO);
	assert_int_equal(regmap_field_access(lsr, &lsr->fields[1]), REGMAP_RC);
	assert_true(regmap_read_sensitive(lsr, NULL)); /* OE clears on read */
	assert_true(regmap_read_sensitive(lsr, &lsr->fields[1]));
	assert_false(regmap_read_sensitive(lsr, &lsr->fields[0]));
	assert_false(regmap_read_sensitive(lcr, NULL));
	lcr->side_effects = true;
	assert_true(regmap_read_sensitive(lcr, &lcr->fields[0]));
	regmap_free(m);
}

struct field_case {
	unsigned msb, lsb;
	uint64_t mask;
	uint64_t reg, decoded;   /* decode(reg) */
	uint64_t value, encoded; /* encode(reg, value); encoded 0 with rc -ERANGE */
	int rc;
};

static const struct field_case field_cases[] = {
	{0, 0, 0x1, 0xfe, 0, 1, 0xff, 0},
	{1, 0, 0x3, 0x03, 3, 2, 0x02, 0},
	{7, 7, 0x80, 0x80, 1, 0, 0x00, 0},
	{1, 0, 0x3, 0x00, 0, 4, 0, -ERANGE},
	{63, 63, UINT64_C(1) << 63, UINT64_MAX, 1, 0, UINT64_MAX >> 1, 0},
	{63, 63, UINT64_C(1) << 63, 0, 0, 2, 0, -ERANGE},
	{63, 0, UINT64_MAX, 0x1234, 0x1234, UINT64_MAX, UINT64_MAX, 0},
	{63, 1, UINT64_MAX - 1, UINT64_MAX, UINT64_MAX >> 1, UINT64_MAX >> 1, UINT64_MAX, 0},
	{63, 1, UINT64_MAX - 1, 0, 0, UINT64_MAX, 0, -ERANGE},
	{62, 0, UINT64_MAX >> 1, UINT64_MAX, UINT64_MAX >> 1, 0, UINT64_C(1) << 63, 0},
	{31, 28, 0xf0000000, 0xa0000001, 0xa, 0x5, 0x50000001, 0},
	{31, 28, 0xf0000000, 0, 0, 0x10, 0, -ERANGE},
};

static void
test_field_encode_decode(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(field_cases); i++) {
		const struct field_case *c = &field_cases[i];
		struct regmap_field f = {.msb = c->msb, .lsb = c->lsb};
		assert_int_equal(regmap_field_mask(&f), c->mask);
		assert_int_equal(regmap_field_decode(&f, c->reg), c->decoded);
		uint64_t out = 0xdead;
		int rc = regmap_field_encode(&f, c->reg, c->value, &out);
		if (rc != c->rc || (rc == 0 && out != c->encoded) || (rc < 0 && out != 0xdead)) {
			fail_msg("case %zu: rc %d out 0x%llx", i, rc, (unsigned long long)out);
		}
	}
}

static void
test_caps(void **state)
{
	(void)state;
	struct regmap *m = regmap_new();
	struct regmap_register *r = NULL;
	for (unsigned i = 0; i < REGMAP_MAX_REGISTERS; i++) {
		assert_int_equal(regmap_add_register(m, &r), 0);
	}
	assert_int_equal(regmap_add_register(m, &r), -E2BIG);
	struct regmap_field *f = NULL;
	for (unsigned i = 0; i < REGMAP_MAX_FIELDS; i++) {
		assert_int_equal(regmap_add_field(r, &f), 0);
	}
	assert_int_equal(regmap_add_field(r, &f), -E2BIG);
	struct regmap_value v = {0};
	for (unsigned i = 0; i < REGMAP_MAX_VALUES; i++) {
		assert_int_equal(regmap_add_value(f, &v), 0);
	}
	assert_int_equal(regmap_add_value(f, &v), -E2BIG);
	assert_int_equal(regmap_set_text(&f->description, "abc", 2), 0);
	assert_string_equal(f->description, "ab");
	assert_int_equal(regmap_set_text(&f->description, "xyz", 3), 0);
	assert_string_equal(f->description, "xyz");
	regmap_free(m);
	regmap_free(NULL);
}

/* Many registers: names and overlaps are checked in n log n, and found at any position. */
static void
test_many(void **state)
{
	(void)state;
	struct regmap *m = regmap_new();
	snprintf(m->name, sizeof(m->name), "many");
	m->width = 32;
	for (unsigned i = 0; i < REGMAP_MAX_REGISTERS; i++) {
		char name[16];
		snprintf(name, sizeof(name), "R%u", REGMAP_MAX_REGISTERS - i);
		add_reg(m, name, (uint64_t)i * 4, (int)i + 2);
	}
	struct regmap_error e = {0};
	assert_int_equal(regmap_validate(m, 0, &e), 0);
	m->registers[100].offset = m->registers[4000].offset;
	assert_int_equal(regmap_validate(m, 0, &e), -EINVAL);
	assert_int_equal(e.line, 4002);
	assert_non_null(strstr(e.message, "R96 [0x3e80, 0x3e84) overlaps R3996"));
	m->registers[100].offset = 400;
	snprintf(m->registers[3000].name, REGMAP_MAX_NAME, "R7");
	assert_int_equal(regmap_validate(m, 0, &e), -EINVAL);
	assert_int_equal(e.line, 4091);
	assert_non_null(strstr(e.message, "register 'R7' named twice (line 3002)"));
	regmap_free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_access_names),
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_access_and_side_effects),
		cmocka_unit_test(test_field_encode_decode),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_many),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
