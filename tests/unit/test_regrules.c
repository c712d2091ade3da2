/*
 * core/regrules.c: a grant's register rules compiled against a map, and the checks every access
 * through a lease with rules runs: widths (the map's and a rule's), read-sensitive registers
 * only when named, write masks refused and preserved (read back, and without reading for w1c),
 * array instances, accesses spanning two registers, exact coverage, and the compile errors
 * that --check-config reports.
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

#include "config/regmap_yaml.h"
#include "core/regmap.h"
#include "core/regrules.h"

static const char map_yaml[] = "name: dev\n"
			       "width: 32\n"
			       "registers:\n"
			       "  - name: CTRL\n"
			       "    offset: 0x0\n"
			       "    fields:\n"
			       "      - { name: EN, bits: \"0\" }\n"
			       "      - { name: MODE, bits: \"2:1\" }\n"
			       "      - { name: LOCK, bits: \"7:4\" }\n"
			       "  - { name: STATUS, offset: 0x4, access: rc }\n"
			       "  - { name: DATA, offset: 0x8, widths: [32] }\n"
			       "  - { name: ISR, offset: 0xc, access: w1c }\n"
			       "  - { name: CH, offset: 0x10, count: 4, stride: 4 }\n"
			       "  - { name: FIFO, offset: 0x20, side_effects: true }\n";

static struct regmap *map;

static int
setup(void **state)
{
	(void)state;
	char err[256];
	assert_int_equal(regmap_yaml_parse(map_yaml, sizeof(map_yaml) - 1, "dev.yaml", &map, err,
					   sizeof(err)),
			 0);
	assert_int_equal(regmap_validate(map, 0x40, &(struct regmap_error){0}), 0);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	regmap_free(map);
	return 0;
}

/* A grant's rules: names, then rules as { reg, mask, preserve, widths }. */
struct spec {
	const char *names[4];
	struct regrule_spec rules[4];
	bool exact;
};

static struct regrules *
compile(const struct spec *s, int want_rc, const char *want_message)
{
	struct grant_rules r = {.exact = s->exact, .label = "grant of group fan"};
	struct regrule_name names[4];
	struct regrule_spec rules[4];
	for (; r.n_names < 4 && s->names[r.n_names]; r.n_names++) {
		snprintf(names[r.n_names].text, sizeof(names[0].text), "%s", s->names[r.n_names]);
		names[r.n_names].line = 10 + (int)r.n_names;
	}
	for (; r.n_rules < 4 && s->rules[r.n_rules].reg[0]; r.n_rules++) {
		rules[r.n_rules] = s->rules[r.n_rules];
		rules[r.n_rules].line = 20 + (int)r.n_rules;
	}
	r.names = names;
	r.rules = rules;
	struct regrules *t = NULL;
	struct regrules_error err = {0};
	assert_int_equal(regrules_compile(map, &r, false, &t, &err), want_rc);
	if (want_message) {
		assert_non_null(strstr(err.message, want_message));
	}
	return t;
}

static int
load(const struct regrules *t, uint64_t off, unsigned bytes, char *why)
{
	return regrules_check_load(t, off, bytes, why, 256);
}

static void
test_map_only(void **state)
{
	(void)state;
	char why[256];
	struct regrules *t = NULL;
	struct regrules_error err;
	/* The superuser: the map's widths bind, read-sensitive registers do not. */
	assert_int_equal(regrules_compile(map, NULL, true, &t, &err), 0);
	assert_non_null(t);
	assert_int_equal(load(t, 0x4, 4, why), 0);
	assert_int_equal(load(t, 0x8, 4, why), 0);
	assert_int_equal(load(t, 0x8, 2, why), -EACCES);
	assert_non_null(strstr(why, "16-bit load at 0x8 of DATA (0x8): it takes only 32-bit"));
	/* An 8-byte load covering DATA and ISR is refused for DATA. */
	assert_int_equal(load(t, 0x8, 8, why), -EACCES);
	assert_int_equal(load(t, 0xc, 4, why), 0);
	uint64_t out;
	assert_int_equal(regrules_check_store(t, 0x8, 1, 0, NULL, &out, why, sizeof(why)), -EACCES);
	assert_int_equal(regrules_check_store(t, 0x8, 4, 7, NULL, &out, why, sizeof(why)), 0);
	assert_int_equal(out, 7);
	regrules_free(t);
	/* No map: nothing applies, the fast path. */
	assert_int_equal(regrules_compile(NULL, NULL, true, &t, &err), 0);
	assert_null(t);
}

static void
test_read_sensitive(void **state)
{
	(void)state;
	char why[256];
	/* A range grant without names: rc and side_effects registers are not readable. */
	struct regrules *t = compile(&(struct spec){0}, 0, NULL);
	assert_non_null(t);
	assert_int_equal(load(t, 0x0, 4, why), 0);
	assert_int_equal(load(t, 0x4, 4, why), -EACCES);
	assert_non_null(strstr(why, "reading STATUS (0x4) has side effects: grant of group fan "
				    "must name it"));
	assert_int_equal(load(t, 0x0, 8, why), -EACCES); /* CTRL and STATUS at once */
	assert_int_equal(load(t, 0x20, 1, why), -EACCES);
	/* Stores are not reads. */
	uint64_t out;
	assert_int_equal(regrules_check_store(t, 0x4, 4, 1, NULL, &out, why, sizeof(why)), 0);
	regrules_free(t);
	/* Named, by registers or by a rule: readable. */
	t = compile(&(struct spec){.names = {"STATUS"}, .rules = {{.reg = "FIFO"}}}, 0, NULL);
	assert_int_equal(load(t, 0x4, 4, why), 0);
	assert_int_equal(load(t, 0x20, 4, why), 0);
	assert_int_equal(load(t, 0x0, 8, why), 0);
	regrules_free(t);
}

static void
test_write_mask_refuse(void **state)
{
	(void)state;
	char why[256];
	uint64_t out;
	struct regrules *t = compile(
		&(struct spec){.rules = {{.reg = "CTRL", .write_mask = "EN|MODE"}}}, 0, NULL);
	/* The bits outside the mask are judged against the register's value now. */
	assert_int_equal(regrules_check_store(t, 0x0, 4, 0x37, NULL, &out, why, sizeof(why)),
			 REGRULES_NEED_OLD);
	assert_true(regrules_store_judged_on_old(t, 0x0, 4));
	assert_true(regrules_store_judged_on_old(t, 0x1, 1));
	assert_false(regrules_store_judged_on_old(t, 0x8, 4));
	uint64_t old = 0x30;
	assert_int_equal(regrules_check_store(t, 0x0, 4, 0x37, &old, &out, why, sizeof(why)), 0);
	assert_int_equal(out, 0x37);
	assert_int_equal(regrules_check_store(t, 0x0, 4, 0x07, &old, &out, why, sizeof(why)),
			 -EACCES);
	assert_string_equal(why, "store to CTRL (0x0) would change bits 0x00000030 outside its "
				 "write mask 0x00000007 (grant of group fan)");
	/* A byte store to LOCK's byte: the register's bits as they land in the byte. */
	assert_int_equal(
		regrules_check_store(t, 0x1, 1, 0x1, &(uint64_t){0}, &out, why, sizeof(why)),
		-EACCES);
	assert_non_null(strstr(why, "would change bits 0x00000100"));
	/* A 64-bit store over CTRL and STATUS: STATUS's half is not CTRL's business. */
	old = 0x30;
	assert_int_equal(regrules_check_store(t, 0x0, 8, UINT64_C(0xffffffff00000031), &old, &out,
					      why, sizeof(why)),
			 0);
	/* A register with no rule stores freely. */
	assert_int_equal(regrules_check_store(t, 0x8, 4, 0xff, NULL, &out, why, sizeof(why)), 0);
	regrules_free(t);
	/* A number is a mask too. */
	t = compile(&(struct spec){.rules = {{.reg = "CTRL", .write_mask = "0x1"}}}, 0, NULL);
	assert_int_equal(
		regrules_check_store(t, 0x0, 4, 0x3, &(uint64_t){0}, &out, why, sizeof(why)),
		-EACCES);
	regrules_free(t);
}

static void
test_write_mask_preserve(void **state)
{
	(void)state;
	char why[256];
	uint64_t out;
	uint64_t old = 0xf0;
	struct regrules *t = compile(
		&(struct spec){
			.rules = {{.reg = "CTRL", .write_mask = "EN | MODE", .preserve = true},
				  {.reg = "ISR", .write_mask = "0x1", .preserve = true}}},
		0, NULL);
	assert_int_equal(regrules_check_store(t, 0x0, 4, 0x03, NULL, &out, why, sizeof(why)),
			 REGRULES_NEED_OLD);
	/* Preserve merges, never refuses: a check ahead of the store need not read. */
	assert_false(regrules_store_judged_on_old(t, 0x0, 4));
	assert_int_equal(regrules_check_store(t, 0x0, 4, 0x03, &old, &out, why, sizeof(why)), 0);
	assert_int_equal(out, 0xf3);
	assert_int_equal(regrules_check_store(t, 0x0, 4, 0x0f, &old, &out, why, sizeof(why)), 0);
	assert_int_equal(out, 0xf7);
	/* w1c: never read; the protected bits are written as 0, which changes nothing. */
	assert_int_equal(regrules_check_store(t, 0xc, 4, 0x3, NULL, &out, why, sizeof(why)), 0);
	assert_int_equal(out, 0x1);
	regrules_free(t);
	/* w1c refused: a 1 outside the mask would clear a bit. */
	t = compile(&(struct spec){.rules = {{.reg = "ISR", .write_mask = "0x1"}}}, 0, NULL);
	assert_int_equal(regrules_check_store(t, 0xc, 4, 0x1, NULL, &out, why, sizeof(why)), 0);
	assert_int_equal(regrules_check_store(t, 0xc, 4, 0x2, NULL, &out, why, sizeof(why)),
			 -EACCES);
	regrules_free(t);
}

static void
test_arrays_and_widths(void **state)
{
	(void)state;
	char why[256];
	uint64_t out;
	struct regrules *t = compile(
		&(struct spec){.rules = {{.reg = "CH[2]", .write_mask = "0"},
					 {.reg = "CTRL", .widths = REGRULES_WIDTH_BITS & 4}}},
		0, NULL);
	uint64_t zero = 0;
	assert_int_equal(regrules_check_store(t, 0x18, 4, 1, &zero, &out, why, sizeof(why)),
			 -EACCES);
	assert_non_null(strstr(why, "store to CH[2] (0x18)"));
	assert_int_equal(regrules_check_store(t, 0x14, 4, 1, &zero, &out, why, sizeof(why)), 0);
	assert_int_equal(regrules_check_store(t, 0x1c, 4, 1, &zero, &out, why, sizeof(why)), 0);
	assert_int_equal(load(t, 0x0, 2, why), -EACCES);
	assert_int_equal(load(t, 0x0, 4, why), 0);
	regrules_free(t);
	/* The whole array. */
	t = compile(&(struct spec){.rules = {{.reg = "CH", .write_mask = "0"}}}, 0, NULL);
	for (uint64_t off = 0x10; off < 0x20; off += 4) {
		assert_int_equal(regrules_check_store(t, off, 4, 1, &zero, &out, why, sizeof(why)),
				 -EACCES);
	}
	regrules_free(t);
}

static void
test_exact(void **state)
{
	(void)state;
	struct regrules *t = compile(
		&(struct spec){.names = {"CTRL", "CH[1]", "CH[2]"}, .exact = true}, 0, NULL);
	assert_true(t->exact);
	assert_int_equal(t->span_start, 0x0);
	assert_int_equal(t->span_len, 0x1c);
	assert_true(regrules_covers(t, 0x0, 4));
	assert_true(regrules_covers(t, 0x14, 8));
	assert_true(regrules_covers(t, 0x16, 2));
	assert_false(regrules_covers(t, 0x0, 8)); /* STATUS is not named */
	assert_false(regrules_covers(t, 0x10, 4));
	assert_false(regrules_covers(t, 0x14, 12));
	regrules_free(t);
}

static void
test_compile_errors(void **state)
{
	(void)state;
	compile(&(struct spec){.names = {"NOPE"}}, -EINVAL, "no register 'NOPE' in map 'dev'");
	compile(&(struct spec){.names = {"CTRL.EN"}}, -EINVAL, "name a register, not a field");
	compile(&(struct spec){.names = {"CH[4]"}}, -EINVAL, "no register 'CH[4]'");
	compile(&(struct spec){.rules = {{.reg = "CTRL", .write_mask = "EN|SPEED"}}}, -EINVAL,
		"CTRL has no field 'SPEED'");
	compile(&(struct spec){.rules = {{.reg = "CTRL", .write_mask = "EN|"}}}, -EINVAL,
		"ends in |");
	compile(&(struct spec){.rules = {{.reg = "CTRL", .write_mask = "0x100000000"}}}, -EINVAL,
		"does not fit CTRL (32 bits)");
	compile(&(struct spec){.rules = {{.reg = "STATUS", .write_mask = "0", .preserve = true}}},
		-EINVAL, "reading it has side effects");
	compile(&(struct spec){.rules = {{.reg = "CTRL", .preserve = true}}}, -EINVAL,
		"needs a write_mask");
	compile(&(struct spec){.rules = {{.reg = "CTRL", .widths = 8}}}, -EINVAL,
		"CTRL is 32 bits, not 64");
	struct regrules *t = NULL;
	struct regrules_error err = {0};
	struct regrule_name n = {.text = "CTRL", .line = 3};
	struct grant_rules r = {.names = &n, .n_names = 1};
	assert_int_equal(regrules_compile(NULL, &r, false, &t, &err), -EINVAL);
	assert_non_null(strstr(err.message, "need the region's map"));
	/* The line of the rule that broke. */
	compile(&(struct spec){.rules = {{.reg = "CTRL"}, {.reg = "X"}}}, -EINVAL, NULL);
}

static void
test_dup(void **state)
{
	(void)state;
	struct regrule_name n = {.text = "CTRL", .line = 3};
	struct regrule_spec s = {.reg = "CTRL", .write_mask = "EN"};
	struct grant_rules r = {.names = &n, .n_names = 1, .rules = &s, .n_rules = 1};
	struct grant_rules *d = grant_rules_dup(&r);
	assert_non_null(d);
	assert_ptr_not_equal(d->names, r.names);
	assert_string_equal(d->rules[0].write_mask, "EN");
	grant_rules_free(d);
	grant_rules_free(NULL);
	regrules_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_map_only),
		cmocka_unit_test(test_read_sensitive),
		cmocka_unit_test(test_write_mask_refuse),
		cmocka_unit_test(test_write_mask_preserve),
		cmocka_unit_test(test_arrays_and_widths),
		cmocka_unit_test(test_exact),
		cmocka_unit_test(test_compile_errors),
		cmocka_unit_test(test_dup),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
