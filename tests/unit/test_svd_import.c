/*
 * The SVD importer (tools/svd_*.c) and the map writer (tools/regmap_write.c): ARM's example
 * SVD file (tests/data/svd/ARM_Example.svd) converted and written, read back by
 * config/regmap_yaml.c into the same map; then a hand-written SVD snippet for each rule of
 * mmioctl(1) "regmap import" and each way a file is refused (malformed, not SVD, a DOCTYPE:
 * XXE and entity expansion), with the warnings and FILE:LINE messages they give.
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
#include "regmap_write.h"
#include "svd_import.h"
#include "svd_xml.h"

#define ARM_SVD MMIO_SVD_DATA "/ARM_Example.svd"

#define MAX_WARNINGS 16

/* The first MAX_WARNINGS warnings, and how many there were. */
struct warnings {
	int n;
	int line[MAX_WARNINGS];
	char text[MAX_WARNINGS][400];
	char last[400];
};

static void
collect(void *arg, int line, const char *message)
{
	struct warnings *w = arg;
	if (w->n < MAX_WARNINGS) {
		w->line[w->n] = line;
		(void)snprintf(w->text[w->n], sizeof(w->text[0]), "%s", message);
	}
	(void)snprintf(w->last, sizeof(w->last), "%s", message);
	w->n++;
}

static void
print_warnings(const struct warnings *w)
{
	for (int i = 0; i < w->n && i < MAX_WARNINGS; i++) {
		print_message("warning at %d: %s\n", w->line[i], w->text[i]);
	}
}

/* Some warning at line (0: any) holds fragment. */
static void
assert_warned(const struct warnings *w, int line, const char *fragment)
{
	for (int i = 0; i < w->n && i < MAX_WARNINGS; i++) {
		if ((line == 0 || w->line[i] == line) && strstr(w->text[i], fragment)) {
			return;
		}
	}
	print_warnings(w);
	fail_msg("no warning at line %d with '%s'", line, fragment);
}

/* Exactly n warnings. */
static void
assert_warnings(const struct warnings *w, int n)
{
	if (w->n != n) {
		print_warnings(w);
		fail_msg("%d warnings, not %d", w->n, n);
	}
}

/* A peripheral by name from the list of doc; fails the test when there is none. */
static const struct svd_peripheral *
peripheral(const struct svd_peripherals *all, const char *name)
{
	for (size_t i = 0; i < all->n; i++) {
		if (strcmp(all->items[i].name, name) == 0) {
			return &all->items[i];
		}
	}
	fail_msg("no peripheral %s", name);
	return NULL;
}

/* The map of peripheral name of the SVD text; the import must succeed. */
static struct regmap *
import_text(const char *text, const char *name, struct warnings *w)
{
	char err[512];
	xmlDoc *doc = NULL;
	if (svd_xml_parse(text, strlen(text), "t.svd", &doc, err, sizeof(err)) < 0) {
		fail_msg("parse: %s", err);
	}
	struct svd_peripherals all;
	struct regmap_error e = {0};
	if (svd_list_peripherals(doc, &all, &e) < 0) {
		fail_msg("list: %d: %s", e.line, e.message);
	}
	struct regmap *map = NULL;
	*w = (struct warnings){0};
	if (svd_import(peripheral(&all, name), collect, w, &map, &e) < 0) {
		print_warnings(w);
		fail_msg("import: %d: %s", e.line, e.message);
	}
	svd_peripherals_free(&all);
	xmlFreeDoc(doc);
	return map;
}

/*
 * Imports peripheral name of the SVD text expecting failure: the step that fails (parse,
 * list or import) gives *err "t.svd:LINE: message" (parse) or "LINE: message".
 */
static int
import_error(const char *text, const char *name, char *err, size_t errlen)
{
	xmlDoc *doc = NULL;
	int rc = svd_xml_parse(text, strlen(text), "t.svd", &doc, err, errlen);
	if (rc < 0) {
		return rc;
	}
	struct svd_peripherals all;
	struct regmap_error e = {0};
	rc = svd_list_peripherals(doc, &all, &e);
	if (rc == 0) {
		struct regmap *map = NULL;
		struct warnings w = {0};
		rc = svd_import(peripheral(&all, name), collect, &w, &map, &e);
		regmap_free(map);
		svd_peripherals_free(&all);
	}
	(void)snprintf(err, errlen, "%d: %s", e.line, e.message);
	xmlFreeDoc(doc);
	return rc;
}

static const struct regmap_register *
reg(const struct regmap *map, const char *name)
{
	for (unsigned i = 0; i < map->n_registers; i++) {
		if (strcmp(map->registers[i].name, name) == 0) {
			return &map->registers[i];
		}
	}
	fail_msg("no register %s", name);
	return NULL;
}

static const struct regmap_field *
field(const struct regmap_register *r, const char *name)
{
	for (unsigned j = 0; j < r->n_fields; j++) {
		if (strcmp(r->fields[j].name, name) == 0) {
			return &r->fields[j];
		}
	}
	fail_msg("no field %s.%s", r->name, name);
	return NULL;
}

static bool
has_register(const struct regmap *map, const char *name)
{
	for (unsigned i = 0; i < map->n_registers; i++) {
		if (strcmp(map->registers[i].name, name) == 0) {
			return true;
		}
	}
	return false;
}

static void
assert_text_equal(const char *a, const char *b)
{
	if (a || b) {
		assert_non_null(a);
		assert_non_null(b);
		assert_string_equal(a, b);
	}
}

/* Two maps the same but for lines (and, if !same_name, the map's name). */
static void
assert_maps_equal(const struct regmap *a, const struct regmap *b, bool same_name)
{
	if (same_name) {
		assert_string_equal(a->name, b->name);
	}
	assert_int_equal(a->width, b->width);
	assert_text_equal(a->description, b->description);
	assert_int_equal(a->n_registers, b->n_registers);
	for (unsigned i = 0; i < a->n_registers; i++) {
		const struct regmap_register *x = &a->registers[i];
		const struct regmap_register *y = &b->registers[i];
		assert_string_equal(x->name, y->name);
		assert_int_equal(x->offset, y->offset);
		assert_int_equal(regmap_reg_width(a, x), regmap_reg_width(b, y));
		assert_int_equal(regmap_reg_access(x), regmap_reg_access(y));
		assert_int_equal(x->has_reset, y->has_reset);
		assert_int_equal(x->reset, y->reset);
		assert_int_equal(x->side_effects, y->side_effects);
		assert_int_equal(x->count, y->count);
		assert_int_equal(x->stride, y->stride);
		assert_text_equal(x->description, y->description);
		assert_int_equal(x->n_fields, y->n_fields);
		for (unsigned j = 0; j < x->n_fields; j++) {
			const struct regmap_field *f = &x->fields[j];
			const struct regmap_field *g = &y->fields[j];
			assert_string_equal(f->name, g->name);
			assert_int_equal(f->msb, g->msb);
			assert_int_equal(f->lsb, g->lsb);
			assert_int_equal(regmap_field_access(x, f), regmap_field_access(y, g));
			assert_text_equal(f->description, g->description);
			assert_int_equal(f->n_values, g->n_values);
			for (unsigned k = 0; k < f->n_values; k++) {
				assert_string_equal(f->values[k].name, g->values[k].name);
				assert_int_equal(f->values[k].value, g->values[k].value);
			}
		}
	}
}

/* The map written as YAML and read back by the daemon's reader: the same map. */
static void
assert_round_trip(const struct regmap *map)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	assert_non_null(f);
	assert_int_equal(regmap_write_yaml(f, map, "a header\nof two lines"), 0);
	assert_int_equal(fclose(f), 0);
	static const char head[] = "# a header\n# of two lines\nname: ";
	assert_true(strncmp(text, head, strlen(head)) == 0);
	struct regmap *back = NULL;
	char err[512];
	if (regmap_yaml_parse(text, len, "out.yaml", &back, err, sizeof(err)) < 0) {
		fail_msg("%s\n%s", err, text);
	}
	assert_maps_equal(map, back, true);
	regmap_free(back);
	free(text);
}

/* ARM_Example.svd: one peripheral's map. */
static struct regmap *
import_arm(const char *name, struct warnings *w)
{
	char err[512];
	xmlDoc *doc = NULL;
	if (svd_xml_load(ARM_SVD, &doc, err, sizeof(err)) < 0) {
		fail_msg("%s", err);
	}
	struct svd_peripherals all;
	struct regmap_error e = {0};
	assert_int_equal(svd_list_peripherals(doc, &all, &e), 0);
	struct regmap *map = NULL;
	*w = (struct warnings){0};
	if (svd_import(peripheral(&all, name), collect, w, &map, &e) < 0) {
		fail_msg("%d: %s", e.line, e.message);
	}
	svd_peripherals_free(&all);
	xmlFreeDoc(doc);
	return map;
}

static void
test_arm_peripherals(void **state)
{
	(void)state;
	char err[512];
	xmlDoc *doc = NULL;
	assert_int_equal(svd_xml_load(ARM_SVD, &doc, err, sizeof(err)), 0);
	struct svd_peripherals all;
	struct regmap_error e = {0};
	assert_int_equal(svd_list_peripherals(doc, &all, &e), 0);
	static const char *const names[] = {"TIMER0", "TIMER1", "TIMER2", "TEST1", "TEST2"};
	assert_int_equal(all.n, 5);
	for (size_t i = 0; i < 5; i++) {
		assert_string_equal(all.items[i].name, names[i]);
	}
	assert_int_equal(all.items[1].line, 768); /* <peripheral derivedFrom="TIMER0"> */
	svd_peripherals_free(&all);
	xmlFreeDoc(doc);
}

static void
test_arm_timer0(void **state)
{
	(void)state;
	struct warnings w;
	struct regmap *map = import_arm("TIMER0", &w);
	assert_string_equal(map->name, "TIMER0");
	assert_int_equal(map->width, 32);
	assert_string_equal(map->description,
			    "32 Timer / Counter, counting up or down from different sources");
	/* PRESCALE_WR (write-only) shares 0x28 with PRESCALE_RD (read-only): left out, told. */
	assert_warnings(&w, 1);
	assert_warned(&w, 740, "PRESCALE_WR [0x28, 0x2c) overlaps PRESCALE_RD");
	static const char *const names[] = {"CR",    "SR",          "INT",   "COUNT",
					    "MATCH", "PRESCALE_RD", "RELOAD"};
	assert_int_equal(map->n_registers, 7);
	for (unsigned i = 0; i < 7; i++) {
		assert_string_equal(map->registers[i].name, names[i]);
	}
	const struct regmap_register *cr = reg(map, "CR");
	assert_int_equal(cr->n_fields, 12);
	assert_int_equal(cr->offset, 0);
	assert_int_equal(cr->width, 0); /* the map's */
	assert_true(cr->has_reset);
	assert_int_equal(cr->reset, 0);
	assert_string_equal(cr->description, "Control Register");
	const struct regmap_field *cnt = field(cr, "CNT");
	assert_int_equal(cnt->msb, 3);
	assert_int_equal(cnt->lsb, 2);
	assert_int_equal(cnt->n_values, 3);
	assert_int_equal(regmap_value_find(cnt, "Toggle")->value, 2);
	assert_int_equal(field(cr, "CAPSRC")->n_values, 16);
	assert_int_equal(regmap_value_find(field(cr, "CAPSRC"), "GPIOC_6")->value, 15);
	assert_int_equal(regmap_field_access(cr, field(cr, "RST")), REGMAP_WO);
	assert_false(field(cr, "EN")->has_access); /* read-write, as its register */
	const struct regmap_register *sr = reg(map, "SR");
	assert_int_equal(sr->width, 16);
	assert_int_equal(sr->offset, 4);
	assert_int_equal(sr->n_fields, 6);
	assert_int_equal(regmap_field_access(sr, field(sr, "RUN")), REGMAP_RO);
	assert_int_equal(regmap_reg_access(reg(map, "PRESCALE_RD")), REGMAP_RO);
	/* RELOAD[%s], dim 4, dimIncrement 4: one array. */
	const struct regmap_register *reload = reg(map, "RELOAD");
	assert_int_equal(reload->offset, 0x50);
	assert_int_equal(reload->count, 4);
	assert_int_equal(reload->stride, 4);
	struct regmap_ref ref;
	assert_int_equal(regmap_lookup(map, "RELOAD[3]", &ref), 0);
	assert_int_equal(ref.offset, 0x5c);
	assert_int_equal(regmap_lookup(map, "CR.CNT", &ref), 0);
	assert_round_trip(map);
	regmap_free(map);
}

/* TIMER1 and TIMER2 are derivedFrom TIMER0 and add nothing but their name. */
static void
test_arm_derived_peripheral(void **state)
{
	(void)state;
	struct warnings w0, w1;
	struct regmap *t0 = import_arm("TIMER0", &w0);
	struct regmap *t1 = import_arm("TIMER1", &w1);
	assert_string_equal(t1->name, "TIMER1");
	assert_maps_equal(t0, t1, false);
	assert_warnings(&w1, 1);
	assert_round_trip(t1);
	regmap_free(t0);
	regmap_free(t1);
}

/* TEST1: derived registers, inherited reset, %s with dimIndex 3-6, a derived value list. */
static void
test_arm_test1(void **state)
{
	(void)state;
	struct warnings w;
	struct regmap *map = import_arm("TEST1", &w);
	/* DIMNOINDEX%s has no addressOffset: left out. */
	assert_warnings(&w, 1);
	assert_warned(&w, 877, "DIMNOINDEX%s has no addressOffset: left out");
	assert_int_equal(map->n_registers, 9);
	const struct regmap_register *base = reg(map, "BASE1");
	const struct regmap_register *derived = reg(map, "DERIVED1");
	assert_int_equal(derived->offset, 4);
	assert_int_equal(derived->reset, 0x8001);
	assert_string_equal(derived->description, "Derived register");
	assert_string_equal(base->description, "Timer Control Register");
	assert_int_equal(derived->n_fields, 1);
	assert_int_equal(regmap_value_find(field(derived, "EN"), "Enable")->value, 1);
	/* No reset of its own: the peripheral's 0x12345678. */
	assert_int_equal(reg(map, "INHERITED")->reset, 0x12345678);
	for (unsigned i = 3; i <= 6; i++) {
		char name[8];
		(void)snprintf(name, sizeof(name), "DIM%u", i);
		const struct regmap_register *r = reg(map, name);
		assert_int_equal(r->offset, 0x50 + 4 * (i - 3));
		assert_int_equal(r->count, 1);
		/* enumeratedValues derivedFrom="EnableValues", BASE1.EN's list. */
		assert_int_equal(regmap_value_find(field(r, "EN"), "Disable")->value, 0);
		assert_int_equal(field(r, "TST")->msb, 2); /* lsb, msb */
		assert_int_equal(field(r, "TST")->lsb, 1);
		assert_int_equal(field(r, "ATST")->msb, 3); /* bitOffset without bitWidth: 1 */
		assert_int_equal(field(r, "ATST")->lsb, 3);
	}
	assert_int_equal(reg(map, "BROKEN_FIELDS")->n_fields, 10);
	assert_int_equal(field(reg(map, "BROKEN_FIELDS"), "C1")->msb, 19);
	assert_round_trip(map);
	regmap_free(map);

	/* TEST2 derivedFrom TEST1: the same registers. */
	struct regmap *test2 = import_arm("TEST2", &w);
	assert_int_equal(test2->n_registers, 9);
	assert_round_trip(test2);
	regmap_free(test2);
}

#define SVD_HEAD                                                                                   \
	"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"                                             \
	"<device schemaVersion=\"1.3\">\n"                                                         \
	"<name>T</name><addressUnitBits>8</addressUnitBits><size>32</size>\n"                      \
	"<access>read-write</access><resetValue>0</resetValue>\n"                                  \
	"<peripherals>\n"
#define SVD_TAIL "</peripherals>\n</device>\n"

/* A device with one peripheral P holding regs. */
#define ONE(regs)                                                                                  \
	SVD_HEAD "<peripheral><name>P</name><baseAddress>0x40000000</baseAddress>\n"               \
		 "<registers>\n" regs "</registers></peripheral>\n" SVD_TAIL

/* Access kinds: access, modifiedWriteValues, readAction; on registers and fields. */
static void
test_access(void **state)
{
	(void)state;
	static const char svd[] = ONE(
		"<register><name>A</name><addressOffset>0</addressOffset>"
		"<access>read-only</access></register>\n"
		"<register><name>B</name><addressOffset>4</addressOffset>"
		"<access>write-only</access></register>\n"
		"<register><name>C</name><addressOffset>8</addressOffset>"
		"<access>writeOnce</access></register>\n"
		"<register><name>D</name><addressOffset>12</addressOffset>"
		"<access>read-writeOnce</access></register>\n"
		"<register><name>E</name><addressOffset>16</addressOffset>"
		"<modifiedWriteValues>oneToClear</modifiedWriteValues></register>\n"
		"<register><name>F</name><addressOffset>20</addressOffset>"
		"<modifiedWriteValues>oneToSet</modifiedWriteValues></register>\n"
		"<register><name>G</name><addressOffset>24</addressOffset>"
		"<readAction>clear</readAction></register>\n"
		"<register><name>H</name><addressOffset>28</addressOffset>"
		"<readAction>modifyExternal</readAction></register>\n"
		"<register><name>I</name><addressOffset>32</addressOffset>"
		"<modifiedWriteValues>zeroToClear</modifiedWriteValues></register>\n"
		"<register><name>J</name><addressOffset>36</addressOffset><fields>\n"
		"<field><name>RC</name><bitOffset>0</bitOffset><readAction>clear</readAction></"
		"field>\n"
		"<field><name>W1C</name><bitOffset>1</bitOffset>"
		"<modifiedWriteValues>oneToClear</modifiedWriteValues></field>\n"
		"<field><name>RO</name><bitOffset>2</bitOffset><access>read-only</access></field>\n"
		"<field><name>RW</name><bitOffset>3</bitOffset><access>read-write</access></"
		"field>\n"
		"<field><name>SET</name><bitOffset>4</bitOffset><readAction>set</readAction></"
		"field>\n"
		"</fields></register>\n");
	struct warnings w;
	struct regmap *map = import_text(svd, "P", &w);
	assert_int_equal(regmap_reg_access(reg(map, "A")), REGMAP_RO);
	assert_int_equal(regmap_reg_access(reg(map, "B")), REGMAP_WO);
	assert_int_equal(regmap_reg_access(reg(map, "C")), REGMAP_WO);
	assert_int_equal(regmap_reg_access(reg(map, "D")), REGMAP_RW);
	assert_false(reg(map, "D")->has_access);
	assert_int_equal(regmap_reg_access(reg(map, "E")), REGMAP_W1C);
	assert_int_equal(regmap_reg_access(reg(map, "F")), REGMAP_W1S);
	assert_int_equal(regmap_reg_access(reg(map, "G")), REGMAP_RC);
	assert_false(reg(map, "G")->side_effects);
	assert_int_equal(regmap_reg_access(reg(map, "H")), REGMAP_RW);
	assert_true(reg(map, "H")->side_effects);
	/* zeroToClear has no kind of its own: told, taken as the access. */
	assert_int_equal(regmap_reg_access(reg(map, "I")), REGMAP_RW);
	assert_warnings(&w, 1);
	assert_warned(&w, 0, "modifiedWriteValues zeroToClear has no kind in a map");
	const struct regmap_register *j = reg(map, "J");
	assert_int_equal(regmap_field_access(j, field(j, "RC")), REGMAP_RC);
	assert_int_equal(regmap_field_access(j, field(j, "W1C")), REGMAP_W1C);
	assert_int_equal(regmap_field_access(j, field(j, "RO")), REGMAP_RO);
	assert_false(field(j, "RW")->has_access);
	/* A field's readAction other than clear: the register reads with side effects. */
	assert_true(j->side_effects);
	assert_true(regmap_read_sensitive(j, NULL));
	assert_round_trip(map);
	regmap_free(map);
}

/* size handed down device -> peripheral -> register; reset too; descriptions collapsed. */
static void
test_sizes_resets_descriptions(void **state)
{
	(void)state;
	static const char svd[] =
		"<?xml version=\"1.0\"?>\n"
		"<device><name>T</name><size>16</size><resetValue>0xffffffff</resetValue>\n"
		"<peripherals><peripheral><name>P</name>\n"
		"<description>  Two\n\t lines\r\n   here  </description>\n"
		"<registers>\n"
		"<register><name>A</name><addressOffset>0</addressOffset></register>\n"
		"<register><name>B</name><addressOffset>4</addressOffset><size>8</size></"
		"register>\n"
		"<register><name>C</name><addressOffset>8</addressOffset><size>32</size>"
		"<resetValue>0x12345678</resetValue></register>\n"
		"<register><name>D</name><addressOffset>12</addressOffset><size>8</size>\n"
		"<resetValue>0x1ff</resetValue></register>\n"
		"<register><name>E</name><addressOffset>16</addressOffset>"
		"<description>a \"quoted\" \\ back&amp;slash &lt;tag&gt; caf\xc3\xa9</description>"
		"</register>\n"
		"</registers></peripheral></peripherals></device>\n";
	struct warnings w;
	struct regmap *map = import_text(svd, "P", &w);
	assert_int_equal(map->width, 16);
	assert_string_equal(map->description, "Two lines here");
	assert_int_equal(regmap_reg_width(map, reg(map, "A")), 16);
	assert_int_equal(reg(map, "A")->width, 0);
	assert_int_equal(reg(map, "A")->reset, 0xffff); /* the device's, cut to 16 bits */
	assert_int_equal(reg(map, "B")->width, 8);
	assert_int_equal(reg(map, "B")->reset, 0xff);
	assert_int_equal(reg(map, "C")->width, 32);
	assert_int_equal(reg(map, "C")->reset, 0x12345678);
	/* Its own reset value too wide: kept cut, and told. */
	assert_int_equal(reg(map, "D")->reset, 0xff);
	assert_warnings(&w, 1);
	assert_warned(&w, 12, "resetValue does not fit the register's size");
	assert_string_equal(reg(map, "E")->description,
			    "a \"quoted\" \\ back&slash <tag> caf\xc3\xa9");
	assert_round_trip(map);
	regmap_free(map);
}

/* Fields: the three ways of giving bits; those a map cannot hold left out. */
static void
test_fields(void **state)
{
	(void)state;
	static const char svd[] = ONE(
		"<register><name>R</name><addressOffset>0</addressOffset><size>16</size><fields>\n"
		"<field><name>A</name><bitOffset>0</bitOffset><bitWidth>4</bitWidth></field>\n"
		"<field><name>B</name><bitRange>[7:4]</bitRange></field>\n"
		"<field><name>C</name><lsb>8</lsb><msb>9</msb></field>\n"
		"<field><name>OVER</name><bitRange>[9:9]</bitRange></field>\n"
		"<field><name>OUT</name><bitOffset>16</bitOffset></field>\n"
		"<field><name>A</name><bitOffset>12</bitOffset></field>\n"
		"<field><name>NONE</name></field>\n"
		"<field><name>bad-name</name><bitOffset>13</bitOffset></field>\n"
		"<field><name>CH%s</name><dim>2</dim><dimIncrement>1</dimIncrement>"
		"<dimIndex>X,Y</dimIndex><bitOffset>10</bitOffset></field>\n"
		"</fields></register>\n");
	struct warnings w;
	struct regmap *map = import_text(svd, "P", &w);
	const struct regmap_register *r = reg(map, "R");
	assert_int_equal(r->n_fields, 5);
	assert_int_equal(field(r, "A")->msb, 3);
	assert_int_equal(field(r, "B")->lsb, 4);
	assert_int_equal(field(r, "C")->msb, 9);
	assert_int_equal(field(r, "CHX")->lsb, 10);
	assert_int_equal(field(r, "CHY")->lsb, 11);
	assert_warnings(&w, 5);
	assert_warned(&w, 12, "R.OVER: bits 9:9 overlap field C (bits 9:8, line 11)");
	assert_warned(&w, 13, "R.OUT: bits 16:16 are outside the 16-bit register");
	assert_warned(&w, 14, "R: field A named twice (line 9)");
	assert_warned(&w, 15, "field NONE has no bitOffset, bitRange or lsb and msb");
	assert_warned(&w, 16, "field name 'bad-name'");
	assert_round_trip(map);
	regmap_free(map);
}

/* Enumerated values: SVD's number syntax; what is not one number, or too wide, left out. */
static void
test_values(void **state)
{
	(void)state;
	static const char svd[] = ONE(
		"<register><name>R</name><addressOffset>0</addressOffset><fields>\n"
		"<field><name>F</name><bitRange>[3:0]</bitRange>\n"
		"<enumeratedValues><usage>read</usage>\n"
		"<enumeratedValue><name>DEC</name><value>10</value></enumeratedValue>\n"
		"<enumeratedValue><name>HEX</name><value>0xB</value></enumeratedValue>\n"
		"<enumeratedValue><name>BIN</name><value>0b1100</value></enumeratedValue>\n"
		"<enumeratedValue><name>HASH</name><value>#1101</value></enumeratedValue>\n"
		"<enumeratedValue><name>PLUS</name><value>+1</value></enumeratedValue>\n"
		"<enumeratedValue><name>X</name><value>#1x0x</value></enumeratedValue>\n"
		"<enumeratedValue><name>WIDE</name><value>16</value></enumeratedValue>\n"
		"<enumeratedValue><name>OTHER</name><isDefault>true</isDefault></enumeratedValue>\n"
		"<enumeratedValue><name>5BIT</name><value>5</value></enumeratedValue>\n"
		"<enumeratedValue><name>true</name><value>6</value></enumeratedValue>\n"
		"</enumeratedValues>\n"
		"<enumeratedValues><usage>write</usage>\n"
		"<enumeratedValue><name>DEC</name><value>10</value></enumeratedValue>\n"
		"<enumeratedValue><name>HEX</name><value>12</value></enumeratedValue>\n"
		"<enumeratedValue><name>W</name><value>0</value></enumeratedValue>\n"
		"</enumeratedValues>\n"
		"</field></fields></register>\n");
	struct warnings w;
	struct regmap *map = import_text(svd, "P", &w);
	const struct regmap_field *f = field(reg(map, "R"), "F");
	assert_int_equal(regmap_value_find(f, "DEC")->value, 10);
	assert_int_equal(regmap_value_find(f, "HEX")->value, 11);
	assert_int_equal(regmap_value_find(f, "BIN")->value, 12);
	assert_int_equal(regmap_value_find(f, "HASH")->value, 13);
	assert_int_equal(regmap_value_find(f, "PLUS")->value, 1);
	assert_int_equal(regmap_value_find(f, "5BIT")->value, 5);
	assert_int_equal(regmap_value_find(f, "true")->value, 6);
	assert_int_equal(regmap_value_find(f, "W")->value, 0);
	assert_null(regmap_value_find(f, "X"));
	assert_null(regmap_value_find(f, "WIDE"));
	assert_null(regmap_value_find(f, "OTHER"));
	assert_int_equal(f->n_values, 8);
	assert_warnings(&w, 3);
	assert_warned(&w, 16, "R.F: value X = #1x0x has do-not-care bits (x)");
	assert_warned(&w, 17, "R.F: value WIDE = 0x10 does not fit the field's 4 bits");
	assert_warned(&w, 24, "R.F: value HEX named twice (line 12), as 0xc");
	assert_round_trip(map);
	regmap_free(map);
}

/* dim: [%s] is an array; %s is one register per index (dimIndex list, range, or 0..N-1). */
static void
test_dim(void **state)
{
	(void)state;
	static const char svd[] =
		ONE("<register><name>ARR[%s]</name><dim>3</dim><dimIncrement>0x10</dimIncrement>"
		    "<addressOffset>0x100</addressOffset></register>\n"
		    "<register><name>CH%s_CTRL</name><dim>2</dim><dimIncrement>4</dimIncrement>"
		    "<dimIndex>RX, TX</dimIndex><addressOffset>0</addressOffset></register>\n"
		    "<register><name>N%s</name><dim>2</dim><dimIncrement>4</dimIncrement>"
		    "<addressOffset>8</addressOffset></register>\n"
		    "<register><name>L%s</name><dim>2</dim><dimIncrement>4</dimIncrement>"
		    "<dimIndex>C-D</dimIndex><addressOffset>0x20</addressOffset></register>\n"
		    "<register><name>NOINC%s</name><dim>2</dim>"
		    "<addressOffset>0x40</addressOffset></register>\n"
		    "<register><name>SHORT%s</name><dim>3</dim><dimIncrement>4</dimIncrement>"
		    "<dimIndex>0,1</dimIndex><addressOffset>0x50</addressOffset></register>\n"
		    "<register><name>NOPCT</name><dim>2</dim><dimIncrement>4</dimIncrement>"
		    "<addressOffset>0x60</addressOffset></register>\n"
		    "<register><name>TIGHT[%s]</name><dim>2</dim><dimIncrement>2</dimIncrement>"
		    "<addressOffset>0x70</addressOffset></register>\n");
	struct warnings w;
	struct regmap *map = import_text(svd, "P", &w);
	const struct regmap_register *arr = reg(map, "ARR");
	assert_int_equal(arr->count, 3);
	assert_int_equal(arr->stride, 0x10);
	assert_int_equal(arr->offset, 0x100);
	assert_int_equal(reg(map, "CHRX_CTRL")->offset, 0);
	assert_int_equal(reg(map, "CHTX_CTRL")->offset, 4);
	assert_int_equal(reg(map, "N0")->offset, 8);
	assert_int_equal(reg(map, "N1")->offset, 12);
	assert_int_equal(reg(map, "LC")->offset, 0x20);
	assert_int_equal(reg(map, "LD")->offset, 0x24);
	assert_int_equal(map->n_registers, 7);
	assert_warnings(&w, 4);
	assert_warned(&w, 12, "dim without dimIncrement: left out");
	assert_warned(&w, 13, "dimIndex has 2 names for dim 3");
	assert_warned(&w, 14, "dim 2, but the name NOPCT has no %s");
	/* A stride below the width: instances would overlap. */
	assert_warned(&w, 15, "TIGHT: stride 0x2 must be a non-zero multiple");
	assert_round_trip(map);
	regmap_free(map);
}

/* Clusters flattened: prefixed names, offsets added, arrays of plain registers kept arrays. */
static void
test_clusters(void **state)
{
	(void)state;
	static const char svd[] = ONE(
		"<register><name>TOP</name><addressOffset>0</addressOffset></register>\n"
		"<cluster><name>GRP</name><addressOffset>0x100</addressOffset>\n"
		"  <register><name>A</name><addressOffset>4</addressOffset></register>\n"
		"  <cluster><name>SUB</name><addressOffset>0x10</addressOffset><size>16</size>\n"
		"    <register><name>B</name><addressOffset>2</addressOffset></register>\n"
		"  </cluster>\n"
		"</cluster>\n"
		"<cluster><name>CH[%s]</name><dim>4</dim><dimIncrement>0x20</dimIncrement>"
		"<addressOffset>0x200</addressOffset>\n"
		"  <register><name>CTRL</name><addressOffset>0</addressOffset></register>\n"
		"  <register><name>STAT</name><addressOffset>4</addressOffset></register>\n"
		"</cluster>\n"
		"<cluster><name>Q%s</name><dim>2</dim><dimIncrement>0x40</dimIncrement>"
		"<addressOffset>0x400</addressOffset>\n"
		"  <register><name>R[%s]</name><dim>2</dim><dimIncrement>4</dimIncrement>"
		"<addressOffset>0</addressOffset></register>\n"
		"</cluster>\n"
		"<cluster><name>D[%s]</name><dim>2</dim><dimIncrement>0x40</dimIncrement>"
		"<addressOffset>0x500</addressOffset>\n"
		"  <register><name>X%s</name><dim>2</dim><dimIncrement>4</dimIncrement>"
		"<addressOffset>0</addressOffset></register>\n"
		"</cluster>\n");
	struct warnings w;
	struct regmap *map = import_text(svd, "P", &w);
	assert_warnings(&w, 0);
	assert_int_equal(reg(map, "GRP_A")->offset, 0x104);
	assert_int_equal(reg(map, "GRP_SUB_B")->offset, 0x112);
	assert_int_equal(reg(map, "GRP_SUB_B")->width, 16);
	const struct regmap_register *ctrl = reg(map, "CH_CTRL");
	assert_int_equal(ctrl->offset, 0x200);
	assert_int_equal(ctrl->count, 4);
	assert_int_equal(ctrl->stride, 0x20);
	assert_int_equal(reg(map, "CH_STAT")->offset, 0x204);
	struct regmap_ref ref;
	assert_int_equal(regmap_lookup(map, "CH_STAT[3]", &ref), 0);
	assert_int_equal(ref.offset, 0x264);
	/* A cluster array of arrays: written out per instance. */
	assert_int_equal(reg(map, "Q0_R")->offset, 0x400);
	assert_int_equal(reg(map, "Q0_R")->count, 2);
	assert_int_equal(reg(map, "Q1_R")->offset, 0x440);
	assert_int_equal(reg(map, "D0_X0")->offset, 0x500);
	assert_int_equal(reg(map, "D1_X1")->offset, 0x544);
	assert_int_equal(map->n_registers, 11);
	assert_round_trip(map);
	regmap_free(map);
}

/* derivedFrom on registers, fields, enumeratedValues (by name and by path); bad ones told. */
static void
test_derived(void **state)
{
	(void)state;
	static const char svd[] = ONE(
		"<register><name>BASE</name><addressOffset>0</addressOffset><access>read-only</"
		"access>"
		"<resetValue>5</resetValue><description>base</description><fields>\n"
		"<field><name>F</name><bitRange>[1:0]</bitRange><enumeratedValues><name>Modes</"
		"name>"
		"<enumeratedValue><name>OFF</name><value>0</value></enumeratedValue>"
		"<enumeratedValue><name>ON</name><value>1</value></enumeratedValue>"
		"</enumeratedValues></field>\n"
		"<field derivedFrom=\"F\"><name>G</name><bitRange>[3:2]</bitRange></field>\n"
		"</fields></register>\n"
		"<register derivedFrom=\"BASE\"><name>COPY</name><addressOffset>4</addressOffset>"
		"<access>read-write</access><fields>"
		"<field><name>H</name><bitOffset>4</bitOffset><enumeratedValues "
		"derivedFrom=\"P.BASE.F.Modes\">"
		"<enumeratedValue><name>ON</name><value>0</value></enumeratedValue>"
		"</enumeratedValues></field></fields></register>\n"
		"<register derivedFrom=\"NOSUCH\"><name>LOST</name><addressOffset>8</addressOffset>"
		"</register>\n"
		"<register "
		"derivedFrom=\"LOOP2\"><name>LOOP1</name><addressOffset>12</addressOffset>"
		"</register>\n"
		"<register "
		"derivedFrom=\"LOOP1\"><name>LOOP2</name><addressOffset>16</addressOffset>"
		"</register>\n");
	struct warnings w;
	struct regmap *map = import_text(svd, "P", &w);
	const struct regmap_register *base = reg(map, "BASE");
	const struct regmap_register *copy = reg(map, "COPY");
	assert_int_equal(regmap_reg_access(base), REGMAP_RO);
	assert_int_equal(regmap_reg_access(copy), REGMAP_RW);
	assert_int_equal(copy->reset, 5);
	assert_string_equal(copy->description, "base");
	/* The base's fields, then its own. */
	assert_int_equal(copy->n_fields, 3);
	assert_string_equal(copy->fields[0].name, "F");
	assert_string_equal(copy->fields[1].name, "G");
	assert_string_equal(copy->fields[2].name, "H");
	const struct regmap_field *g = field(base, "G");
	assert_int_equal(g->lsb, 2);
	assert_int_equal(regmap_value_find(g, "ON")->value, 1);
	/* A derived list with a value of the same name overrides it. */
	const struct regmap_field *h = field(copy, "H");
	assert_int_equal(h->n_values, 2);
	assert_int_equal(regmap_value_find(h, "ON")->value, 0);
	assert_int_equal(regmap_value_find(h, "OFF")->value, 0);
	assert_false(has_register(map, "LOST"));
	assert_false(has_register(map, "LOOP1"));
	assert_false(has_register(map, "LOOP2"));
	assert_warnings(&w, 3);
	assert_warned(&w, 13, "derivedFrom=\"NOSUCH\": no register of that name: left out");
	assert_warned(&w, 14, "derivedFrom=\"LOOP2\" leads back to itself: a loop");
	assert_warned(&w, 15, "derivedFrom=\"LOOP1\" leads back to itself: a loop");
	assert_round_trip(map);
	regmap_free(map);
}

/*
 * A dotted derivedFrom through a peripheral that only derives (TIMER2 from TIMER1 from TIMER0)
 * names what that peripheral inherits; one that loops among peripherals is told, not followed
 * for ever.
 */
static void
test_derived_through_derived_peripheral(void **state)
{
	(void)state;
	static const char svd[] = SVD_HEAD
		"<peripheral><name>TIMER0</name><baseAddress>0x40000000</baseAddress>"
		"<registers><register><name>CR</name><addressOffset>0</addressOffset>"
		"<resetValue>7</resetValue><description>control</description>"
		"</register></registers></peripheral>\n"
		"<peripheral derivedFrom=\"TIMER0\"><name>TIMER1</name>"
		"<baseAddress>0x40001000</baseAddress></peripheral>\n"
		"<peripheral derivedFrom=\"TIMER1\"><name>TIMER2</name>"
		"<baseAddress>0x40002000</baseAddress></peripheral>\n"
		"<peripheral><name>P</name><baseAddress>0x40003000</baseAddress>"
		"<registers>"
		"<register derivedFrom=\"TIMER1.CR\"><name>A</name>"
		"<addressOffset>0</addressOffset></register>"
		"<register derivedFrom=\"TIMER2.CR\"><name>B</name>"
		"<addressOffset>4</addressOffset></register>"
		"<register derivedFrom=\"TIMER2.NOPE\"><name>C</name>"
		"<addressOffset>8</addressOffset></register>"
		"<register derivedFrom=\"LOOPA.CR\"><name>D</name>"
		"<addressOffset>12</addressOffset></register>"
		"</registers></peripheral>\n"
		"<peripheral derivedFrom=\"LOOPB\"><name>LOOPA</name></peripheral>\n"
		"<peripheral derivedFrom=\"LOOPA\"><name>LOOPB</name></peripheral>\n" SVD_TAIL;
	struct warnings w;
	struct regmap *map = import_text(svd, "P", &w);
	assert_int_equal(reg(map, "A")->reset, 7);
	assert_string_equal(reg(map, "A")->description, "control");
	assert_int_equal(reg(map, "B")->reset, 7);
	assert_false(has_register(map, "C"));
	assert_false(has_register(map, "D"));
	assert_warnings(&w, 2);
	assert_warned(&w, 9, "derivedFrom=\"TIMER2.NOPE\": no register of that name: left out");
	assert_warned(&w, 9, "derivedFrom=\"LOOPA.CR\": no register of that name: left out");
	assert_round_trip(map);
	regmap_free(map);
}

/*
 * derivedFrom lookups have a budget per file: thousands of registers each derived from a name
 * found nowhere in a long list cost a bounded time (not hours), and are told.
 */
static void
test_derived_budget(void **state)
{
	(void)state;
	enum { N = 6000 };
	size_t cap = (size_t)N * 256 + 1024; /* each register takes under 200 */
	char *svd = malloc(cap);
	assert_non_null(svd);
	int used = snprintf(svd, cap, "%s", SVD_HEAD "<peripheral><name>P</name><registers>\n");
	for (int i = 0; i < N; i++) {
		used += snprintf(svd + used, cap - (size_t)used,
				 "<register derivedFrom=\"NONE\"><name>R%d</name>"
				 "<addressOffset>%d</addressOffset><fields><field><name>F</name>"
				 "<bitOffset>0</bitOffset></field></fields></register>\n",
				 i, 4 * i);
	}
	used += snprintf(svd + used, cap - (size_t)used, "%s",
			 "<register><name>LAST</name><addressOffset>0x10000</addressOffset>"
			 "</register></registers></peripheral>\n" SVD_TAIL);
	assert_true((size_t)used < cap);
	struct warnings w;
	struct regmap *map = import_text(svd, "P", &w);
	assert_int_equal(map->n_registers, 1);
	assert_string_equal(map->registers[0].name, "LAST");
	assert_warnings(&w, N);
	assert_warned(&w, 0, "derivedFrom=\"NONE\": no register of that name: left out");
	assert_non_null(strstr(w.last, "derivedFrom=\"NONE\": the file makes too many lookups"));
	regmap_free(map);
	free(svd);
}

/* Registers sharing bytes: the alternate goes, else the later one. */
static void
test_overlaps(void **state)
{
	(void)state;
	static const char svd[] =
		ONE("<register><name>ALT</name><alternateRegister>MAIN</alternateRegister>"
		    "<addressOffset>0</addressOffset></register>\n"
		    "<register><name>MAIN</name><addressOffset>0</addressOffset></register>\n"
		    "<register><name>WIDE</name><addressOffset>8</addressOffset><size>64</size>"
		    "</register>\n"
		    "<register><name>INSIDE</name><addressOffset>12</addressOffset><size>8</size>"
		    "</register>\n"
		    "<register><name>ARR[%s]</name><dim>4</dim><dimIncrement>8</dimIncrement>"
		    "<addressOffset>0x20</addressOffset></register>\n"
		    "<register><name>BETWEEN</name><addressOffset>0x24</addressOffset></register>\n"
		    "<register><name>HIT</name><addressOffset>0x30</addressOffset></register>\n"
		    "<register><name>MAIN</name><addressOffset>0x40</addressOffset></register>\n");
	struct warnings w;
	struct regmap *map = import_text(svd, "P", &w);
	assert_true(has_register(map, "MAIN"));
	assert_false(has_register(map, "ALT"));
	assert_false(has_register(map, "INSIDE"));
	assert_false(has_register(map, "HIT"));
	assert_true(has_register(map, "BETWEEN")); /* between ARR[0] and ARR[1] */
	assert_int_equal(reg(map, "MAIN")->offset, 0);
	assert_int_equal(map->n_registers, 4);
	assert_warnings(&w, 4);
	assert_warned(&w, 15, "register MAIN named twice (line 9)");
	assert_warned(&w, 8, "register ALT [0x0, 0x4) overlaps MAIN [0x0, 0x4) (line 9)");
	assert_warned(&w, 11, "register INSIDE [0xc, 0xd) overlaps WIDE [0x8, 0x10)");
	assert_warned(&w, 14, "register HIT [0x30, 0x34) overlaps ARR[2] [0x30, 0x34)");
	assert_round_trip(map);
	regmap_free(map);
}

/* Peripheral arrays: one per index. Peripheral-wide errors end the import with the line. */
static void
test_peripherals(void **state)
{
	(void)state;
	static const char svd[] = SVD_HEAD
		"<peripheral><name>UART%s</name><dim>2</dim><dimIncrement>0x1000</dimIncrement>"
		"<dimIndex>A,B</dimIndex><registers><register><name>R</name>"
		"<addressOffset>0</addressOffset></register></registers></peripheral>\n"
		"<peripheral><name>EMPTY</name></peripheral>\n"
		"<peripheral><name>ODD</name><size>24</size><registers><register><name>R"
		"</name><addressOffset>0</addressOffset></register></registers>"
		"</peripheral>\n"
		"<peripheral><name>BAD</name><registers><register><name>R</name>"
		"</register></registers></peripheral>\n"
		"<peripheral derivedFrom=\"GONE\"><name>ORPHAN</name></peripheral>\n" SVD_TAIL;
	struct warnings w;
	struct regmap *map = import_text(svd, "UARTB", &w);
	assert_string_equal(map->name, "UARTB");
	assert_int_equal(map->n_registers, 1);
	regmap_free(map);
	char err[512];
	assert_int_equal(import_error(svd, "EMPTY", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "7: peripheral EMPTY: no registers");
	assert_int_equal(import_error(svd, "ODD", err, sizeof(err)), -EINVAL);
	assert_string_equal(err,
			    "8: peripheral ODD: size 24: a map's width is 8, 16, 32 or 64 bits");
	assert_int_equal(import_error(svd, "BAD", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "9: peripheral BAD: no registers left");
	assert_int_equal(import_error(svd, "ORPHAN", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "10: derivedFrom=\"GONE\": no peripheral of that name");
}

static void
assert_prefix(const char *text, const char *prefix)
{
	if (strncmp(text, prefix, strlen(prefix)) != 0) {
		fail_msg("'%s' does not start with '%s'", text, prefix);
	}
}

/* Files that are not SVD, or not XML, or try to make the parser read or expand anything. */
static void
test_refused(void **state)
{
	(void)state;
	char err[512];
	assert_int_equal(import_error("<?xml version=\"1.0\"?>\n<device>\n<peripherals>\n"
				      "</device>\n",
				      "P", err, sizeof(err)),
			 -EINVAL);
	assert_prefix(err, "t.svd:4: ");
	assert_non_null(strstr(err, "mismatch"));
	assert_int_equal(import_error("", "P", err, sizeof(err)), -EINVAL);
	assert_prefix(err, "t.svd:1: ");
	assert_int_equal(import_error("<?xml version=\"1.0\"?>\n\n<html><body/></html>\n", "P", err,
				      sizeof(err)),
			 -EINVAL);
	assert_string_equal(err,
			    "3: not a CMSIS-SVD file: the root element is <html>, not <device>");
	assert_int_equal(import_error("<device>\n<addressUnitBits>16</addressUnitBits></device>",
				      "P", err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err,
			    "2: addressUnitBits 16: only byte-addressed devices (8) are mapped");
	assert_int_equal(import_error("<device><name>D</name>\n</device>", "P", err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "1: no peripherals in the file");

	/* XXE: an external entity naming a local file. Neither read nor kept. */
	static const char xxe[] =
		"<?xml version=\"1.0\"?>\n"
		"<!DOCTYPE device [ <!ENTITY x SYSTEM \"file:///etc/passwd\"> ]>\n"
		"<device><name>&x;</name><peripherals><peripheral><name>P</name><registers>"
		"<register><name>R</name><addressOffset>0</addressOffset><description>&x;"
		"</description></register></registers></peripheral></peripherals></device>\n";
	assert_int_equal(import_error(xxe, "P", err, sizeof(err)), -EINVAL);
	assert_null(strstr(err, "root:"));
	assert_string_equal(err, "t.svd:2: a DOCTYPE: SVD files have none, and its entities are "
				 "not read (refused)");
	/* An external DTD, which could declare the same. */
	static const char dtd[] = "<?xml version=\"1.0\"?>\n"
				  "<!DOCTYPE device SYSTEM \"http://127.0.0.1:9/x.dtd\">\n"
				  "<device/>\n";
	assert_int_equal(import_error(dtd, "P", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "t.svd:2: a DOCTYPE"));
	/* Billion laughs: refused at the DOCTYPE, before a single entity is declared. */
	static const char laughs[] =
		"<?xml version=\"1.0\"?>\n"
		"<!DOCTYPE lolz [\n"
		" <!ENTITY lol \"lol\">\n"
		" <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
		" <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
		" <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
		" <!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"
		" <!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">\n"
		" <!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">\n"
		" <!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">\n"
		" <!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">\n"
		" <!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">\n"
		"]>\n"
		"<device><name>&lol9;</name></device>\n";
	assert_int_equal(import_error(laughs, "P", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "t.svd:2: a DOCTYPE: SVD files have none, and its entities are "
				 "not read (refused)");
	/* Without a DOCTYPE no entity but XML's five exists. */
	assert_int_equal(
		import_error("<?xml version=\"1.0\"?>\n<device>\n<name>&x;</name></device>", "P",
			     err, sizeof(err)),
		-EINVAL);
	assert_string_equal(err, "t.svd:3: Entity 'x' not defined");
}

/* Files: missing, not regular, over the cap (a sparse file: nothing big is written). */
static void
test_files(void **state)
{
	(void)state;
	char err[512];
	xmlDoc *doc = NULL;
	assert_int_equal(svd_xml_load("/nonexistent/x.svd", &doc, err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "/nonexistent/x.svd: No such file or directory");
	assert_int_equal(svd_xml_load("/tmp", &doc, err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "/tmp: not a regular file");
	char path[] = "/tmp/test_svd_import.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)SVD_MAX_FILE_BYTES + 1), 0);
	assert_int_equal(close(fd), 0);
	assert_int_equal(svd_xml_load(path, &doc, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, ": over 64 MiB: too big for an SVD file"));
	assert_int_equal(unlink(path), 0);
	assert_null(doc);
}

/* SVD's numbers. */
static void
test_numbers(void **state)
{
	(void)state;
	uint64_t v = 0;
	assert_int_equal(svd_number("0", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(svd_number("010", &v), 0); /* XML Schema's decimal: 10 */
	assert_int_equal(v, 10);
	assert_int_equal(svd_number("0XfF", &v), 0);
	assert_int_equal(v, 255);
	assert_int_equal(svd_number("#101", &v), 0);
	assert_int_equal(v, 5);
	assert_int_equal(svd_number("0b11", &v), 0);
	assert_int_equal(v, 3);
	assert_int_equal(svd_number("+7", &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(svd_number("0xffffffffffffffff", &v), 0);
	assert_int_equal(v, UINT64_MAX);
	assert_int_equal(svd_number("0x10000000000000000", &v), -ERANGE);
	assert_int_equal(svd_number("18446744073709551616", &v), -ERANGE);
	assert_int_equal(svd_number("", &v), -EINVAL);
	assert_int_equal(svd_number("0x", &v), -EINVAL);
	assert_int_equal(svd_number("4k", &v), -EINVAL);
	assert_int_equal(svd_number("-1", &v), -EINVAL);
	assert_int_equal(svd_number("#12", &v), -EINVAL);
	assert_int_equal(svd_number("#1x", &v), -EINVAL);
	assert_int_equal(svd_enum_value("#1x", &v), -EDOM);
	assert_int_equal(svd_enum_value("0b0X1", &v), -EDOM);
	assert_int_equal(svd_enum_value("#11", &v), 0);
	assert_int_equal(v, 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arm_peripherals),
		cmocka_unit_test(test_arm_timer0),
		cmocka_unit_test(test_arm_derived_peripheral),
		cmocka_unit_test(test_arm_test1),
		cmocka_unit_test(test_access),
		cmocka_unit_test(test_sizes_resets_descriptions),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_dim),
		cmocka_unit_test(test_clusters),
		cmocka_unit_test(test_derived),
		cmocka_unit_test(test_derived_through_derived_peripheral),
		cmocka_unit_test(test_derived_budget),
		cmocka_unit_test(test_overlaps),
		cmocka_unit_test(test_peripherals),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_numbers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
