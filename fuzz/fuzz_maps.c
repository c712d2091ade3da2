/* The fuzz world's register maps, built in code, and their YAML (fuzz_maps.h). */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_maps.h"

#define NO_ACCESS (-1) /* no access key: rw for a register, the register's for a field */
#define NO_RESET  (-1)

/* dev's big registers: 64-bit, from BIG_BASE, one field per bit with a long description. */
#define BIGS             3
#define BIG_BASE         FUZZ_DEV_RW
#define BIG_DESC_LEN     1000
#define HUGE_FIELDS      8
#define HUGE_VALUES      256
#define HUGE_VALUE_CHARS REGMAP_MAX_NAME

static void
must(int rc)
{
	if (rc < 0) {
		fprintf(stderr, "fuzz: building a register map failed (%d)\n", rc);
		abort();
	}
}

static char *
text(const char *s)
{
	char *copy = NULL;
	must(regmap_set_text(&copy, s, strlen(s)));
	return copy;
}

/* A register; width 0: the map's; reset NO_RESET: none. Valid until the next register. */
static struct regmap_register *
add_reg(struct regmap *m, const char *name, uint64_t offset, unsigned width, int access,
	int64_t reset, const char *description)
{
	struct regmap_register *r;
	must(regmap_add_register(m, &r));
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->offset = offset;
	r->width = width;
	r->has_access = access != NO_ACCESS;
	r->access = access != NO_ACCESS ? (enum regmap_access)access : REGMAP_RW;
	r->has_reset = reset != NO_RESET;
	r->reset = reset != NO_RESET ? (uint64_t)reset : 0;
	r->description = description ? text(description) : NULL;
	return r;
}

/* A 64-bit reset value that does not fit int64_t's positive range. */
static void
set_reset(struct regmap_register *r, uint64_t reset)
{
	r->has_reset = true;
	r->reset = reset;
}

static void
add_array(struct regmap_register *r, uint64_t count, uint64_t stride)
{
	r->count = count;
	r->stride = stride;
}

static struct regmap_field *
add_field(struct regmap_register *r, const char *name, unsigned msb, unsigned lsb, int access)
{
	struct regmap_field *f;
	must(regmap_add_field(r, &f));
	snprintf(f->name, sizeof(f->name), "%s", name);
	f->msb = msb;
	f->lsb = lsb;
	f->has_access = access != NO_ACCESS;
	f->access = access != NO_ACCESS ? (enum regmap_access)access : REGMAP_RW;
	return f;
}

static void
add_value(struct regmap_field *f, const char *name, uint64_t value)
{
	struct regmap_value v = {.value = value};
	snprintf(v.name, sizeof(v.name), "%s", name);
	must(regmap_add_value(f, &v));
}

static void
build_dev(struct regmap *m)
{
	snprintf(m->name, sizeof(m->name), "fuzzdev");
	m->width = 32;
	m->description = text("The fuzz world's simulated device");
	struct regmap_register *r;
	struct regmap_field *f;

	r = add_reg(m, "CTRL", 0x00, 0, NO_ACCESS, 0x5a000a01, "Control");
	add_field(r, "EN", 0, 0, NO_ACCESS);
	f = add_field(r, "MODE", 3, 1, NO_ACCESS);
	add_value(f, "IDLE", 0);
	add_value(f, "RUN", 1);
	add_value(f, "TEST", 5);
	add_field(r, "LOCK", 7, 7, REGMAP_RO);
	add_field(r, "VER", 31, 24, REGMAP_RO)->description = text("Version, read only");

	r = add_reg(m, "STATUS", 0x04, 32, REGMAP_RO, 0x800000f3, NULL);
	add_field(r, "DONE", 0, 0, REGMAP_W1C);
	add_field(r, "ERR", 1, 1, REGMAP_W1C);
	add_field(r, "BUSY", 4, 4, NO_ACCESS);
	add_field(r, "OVF", 8, 8, REGMAP_RC);

	add_reg(m, "DATA", 0x08, 0, REGMAP_WO, 0x12345678, "Write only: reads 0");
	add_reg(m, "INTR", 0x0c, 0, REGMAP_W1C, 0xff00ff00, NULL);

	r = add_reg(m, "SETR", 0x10, 0, REGMAP_W1S, 0x1, NULL);
	add_field(r, "CLR", 31, 28, REGMAP_W1C);

	r = add_reg(m, "FIFO", 0x14, 0, REGMAP_RC, 0xdeadbeef, "Read clears, but HI");
	r->side_effects = true;
	add_field(r, "HI", 31, 16, REGMAP_RO);

	r = add_reg(m, "HALF", FUZZ_DEV_HALF, 16, REGMAP_RW, 0xbeef, NULL);
	add_field(r, "LO", 7, 0, REGMAP_WO);
	add_reg(m, "BYTE0", 0x1a, 8, REGMAP_RO, 0x5a, NULL);
	add_reg(m, "BYTE1", 0x1b, 8, REGMAP_RC, 0xc3, NULL);

	/* Four channels 8 bytes apart: a 4-byte gap after each. */
	r = add_reg(m, "CH", 0x20, 0, NO_ACCESS, 0x00f3ff03, "Channels");
	add_array(r, 4, 8);
	add_field(r, "EN", 0, 0, NO_ACCESS);
	add_field(r, "PEND", 1, 1, REGMAP_W1C);
	f = add_field(r, "CNT", 15, 8, REGMAP_RO);
	add_value(f, "EMPTY", 0);
	add_value(f, "FULL", 255);
	add_field(r, "GO", 16, 16, REGMAP_W1S);
	add_field(r, "ACK", 17, 17, REGMAP_RC);
	add_field(r, "CFG", 23, 20, REGMAP_WO);

	r = add_reg(m, "WIDE", FUZZ_DEV_WIDE, 64, NO_ACCESS, NO_RESET, NULL);
	set_reset(r, 0x0123456789abcdefu);
	add_field(r, "LO", 31, 0, REGMAP_RW);
	add_field(r, "MID", 47, 32, REGMAP_W1C);
	add_field(r, "TOP", 63, 56, REGMAP_RC);

	add_reg(m, "TICK", FUZZ_DEV_TICK, 8, REGMAP_RO, NO_RESET, "The model counts loads here");
	add_reg(m, "TRAP", FUZZ_DEV_TRAP, 8, NO_ACCESS, 0x11, "Some values fault the model");

	r = add_reg(m, "Q", 0x4c, 16, REGMAP_W1C, 0xffff, NULL);
	add_array(r, 2, 2);

	r = add_reg(m, "LONG", 0x50, 64, REGMAP_RC, NO_RESET, NULL);
	set_reset(r, 0xf0f0f0f0f0f0f0f0u);
	add_array(r, 2, 8);
	add_field(r, "KEEP", 15, 0, REGMAP_RW);
	add_field(r, "SET", 23, 16, REGMAP_W1S);

	/* Each bit its own kind (or the register's), next to bits of every other kind. */
	static const int kinds[] = {NO_ACCESS,  REGMAP_RW,  REGMAP_RO, REGMAP_WO,
				    REGMAP_W1C, REGMAP_W1S, REGMAP_RC};
	static const int big_access[BIGS] = {NO_ACCESS, REGMAP_W1C, REGMAP_RC};
	char desc[BIG_DESC_LEN + 1];
	for (unsigned i = 0; i < BIGS; i++) {
		char name[16];
		snprintf(name, sizeof(name), "BIG%u", i);
		r = add_reg(m, name, BIG_BASE + 8 * i, 64, big_access[i], NO_RESET, NULL);
		set_reset(r, 0x9e3779b97f4a7c15u * (i + 1));
		for (unsigned b = 0; b < 64; b++) {
			snprintf(name, sizeof(name), "B%02u", b);
			for (unsigned k = 0; k < BIG_DESC_LEN; k++) {
				desc[k] = k % 10 == 9 ? ' ' : (char)('a' + (i + b + k) % 26);
			}
			desc[BIG_DESC_LEN] = '\0';
			add_field(r, name, b, b, kinds[(b + i) % 7])->description = text(desc);
		}
	}
	add_reg(m, "SEEN", FUZZ_DEV_SEEN, 32, REGMAP_RO, NO_RESET, "The model's hooks, hashed");
}

static void
build_regs(struct regmap *m)
{
	snprintf(m->name, sizeof(m->name), "fuzzregs");
	m->width = 32;
	add_reg(m, "ID", 0x00, 0, REGMAP_RO, 0x1234, NULL);
	/* Its value names alone (2048 of 63 bytes, at least 67 encoded) outgrow a frame. */
	struct regmap_register *r = add_reg(m, "HUGE", 0x08, 64, NO_ACCESS, NO_RESET, NULL);
	for (unsigned k = 0; k < HUGE_FIELDS; k++) {
		char name[8];
		snprintf(name, sizeof(name), "F%u", k);
		struct regmap_field *f = add_field(r, name, 8 * k + 7, 8 * k, NO_ACCESS);
		for (unsigned v = 0; v < HUGE_VALUES; v++) {
			char value[HUGE_VALUE_CHARS + 1];
			int n = snprintf(value, sizeof(value), "F%u_V%03u_", k, v);
			memset(value + n, 'x', HUGE_VALUE_CHARS - (size_t)n);
			value[HUGE_VALUE_CHARS] = '\0';
			add_value(f, value, v);
		}
	}
	add_reg(m, "LAST", 0x10, 0, NO_ACCESS, NO_RESET, NULL);
}

static const struct regmap *
built(struct regmap **slot, void (*build)(struct regmap *))
{
	if (!*slot) {
		*slot = regmap_new();
		if (!*slot) {
			abort();
		}
		build(*slot);
	}
	return *slot;
}

const struct regmap *
fuzz_map_dev(void)
{
	static struct regmap *map;
	return built(&map, build_dev);
}

const struct regmap *
fuzz_map_regs(void)
{
	static struct regmap *map;
	return built(&map, build_regs);
}

const char *
fuzz_access_name(enum regmap_access access)
{
	switch (access) {
	case REGMAP_RW:
		return "rw";
	case REGMAP_RO:
		return "ro";
	case REGMAP_WO:
		return "wo";
	case REGMAP_W1C:
		return "w1c";
	case REGMAP_W1S:
		return "w1s";
	case REGMAP_RC:
		return "rc";
	}
	return "?";
}

struct text_buf {
	char *buf;
	size_t len;
	size_t cap;
};

static void __attribute__((format(printf, 2, 3))) put(struct text_buf *t, const char *fmt, ...)
{
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			abort();
		}
		if ((size_t)n < t->cap - t->len) {
			t->len += (size_t)n;
			return;
		}
		t->cap = 2 * t->cap + (size_t)n + 1;
		if (!(t->buf = realloc(t->buf, t->cap))) {
			abort();
		}
	}
}

/* Descriptions here are letters and spaces: quoted, nothing to escape. */
static void
put_description(struct text_buf *t, const char *indent, const char *description)
{
	if (description) {
		put(t, "%sdescription: \"%s\"\n", indent, description);
	}
}

static void
put_field(struct text_buf *t, const struct regmap_field *f)
{
	put(t, "      - name: %s\n", f->name);
	if (f->msb == f->lsb) {
		put(t, "        bits: \"%u\"\n", f->lsb);
	} else {
		put(t, "        bits: \"%u:%u\"\n", f->msb, f->lsb);
	}
	if (f->has_access) {
		put(t, "        access: %s\n", fuzz_access_name(f->access));
	}
	put_description(t, "        ", f->description);
	if (f->n_values > 0) {
		put(t, "        values:\n");
		for (unsigned v = 0; v < f->n_values; v++) {
			put(t, "          %s: %" PRIu64 "\n", f->values[v].name,
			    f->values[v].value);
		}
	}
}

char *
fuzz_map_yaml(const struct regmap *map, size_t *len)
{
	struct text_buf t = {.cap = 4096};
	if (!(t.buf = malloc(t.cap))) {
		abort();
	}
	put(&t, "name: %s\nwidth: %u\n", map->name, map->width);
	put_description(&t, "", map->description);
	put(&t, "registers:\n");
	for (unsigned i = 0; i < map->n_registers; i++) {
		const struct regmap_register *r = &map->registers[i];
		put(&t, "  - name: %s\n    offset: %" PRIu64 "\n", r->name, r->offset);
		if (r->width) {
			put(&t, "    width: %u\n", r->width);
		}
		if (r->has_access) {
			put(&t, "    access: %s\n", fuzz_access_name(r->access));
		}
		if (r->has_reset) {
			/* Hex, as operators write it: 0x0 too. */
			put(&t, "    reset: 0x%" PRIx64 "\n", r->reset);
		}
		if (r->side_effects) {
			put(&t, "    side_effects: true\n");
		}
		if (r->count > 1) {
			put(&t, "    count: %" PRIu64 "\n    stride: %" PRIu64 "\n", r->count,
			    r->stride);
		}
		put_description(&t, "    ", r->description);
		if (r->n_fields > 0) {
			put(&t, "    fields:\n");
			for (unsigned f = 0; f < r->n_fields; f++) {
				put_field(&t, &r->fields[f]);
			}
		}
	}
	*len = t.len;
	return t.buf;
}
