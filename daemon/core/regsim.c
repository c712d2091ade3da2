/*
 * A simulated device's registers (core/regsim.h): the map's rules as masks per byte, built once,
 * so that every access is a few mask operations per byte.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "core/regmap.h"
#include "core/regsim.h"

/* One byte of the region: its state and what the map says of each of its bits. */
struct sim_byte {
	uint8_t state;
	uint8_t reset;
	uint8_t readable; /* a load sees it: every register bit but wo */
	uint8_t writable; /* a store takes the new bit: rw, wo */
	uint8_t w1c;      /* a 1 stored clears it */
	uint8_t w1s;      /* a 1 stored sets it */
	uint8_t rc;       /* a load clears it */
	uint8_t present;  /* part of a register: the device side may set it */
};

/* Where one register instance lies, so that a reset touches registers only. */
struct extent {
	uint64_t offset;
	unsigned bytes;
};

struct regsim {
	uint64_t size;
	struct sim_byte *bytes; /* size of them */
	struct extent *extents;
	size_t n_extents;
};

/* The masks of one register (bits 0..width-1) by kind of access. */
struct reg_masks {
	uint64_t readable, writable, w1c, w1s, rc, present, reset;
};

static uint64_t
bits_mask(unsigned msb, unsigned lsb)
{
	uint64_t upto = msb >= 63 ? UINT64_MAX : (UINT64_C(1) << (msb + 1)) - 1;
	return upto & ~((UINT64_C(1) << lsb) - 1);
}

/* Adds bits of access kind to m (taken out of every other kind first). */
static void
mark(struct reg_masks *m, uint64_t bits, enum regmap_access access)
{
	m->readable &= ~bits;
	m->writable &= ~bits;
	m->w1c &= ~bits;
	m->w1s &= ~bits;
	m->rc &= ~bits;
	if (access != REGMAP_WO) {
		m->readable |= bits;
	}
	switch (access) {
	case REGMAP_RW:
	case REGMAP_WO:
		m->writable |= bits;
		break;
	case REGMAP_W1C:
		m->w1c |= bits;
		break;
	case REGMAP_W1S:
		m->w1s |= bits;
		break;
	case REGMAP_RC:
		m->rc |= bits;
		break;
	case REGMAP_RO:
		break;
	}
}

/* The register's own access on every bit, then each field's over its bits. */
static void
register_masks(const struct regmap *map, const struct regmap_register *reg, struct reg_masks *m)
{
	unsigned bits = regmap_reg_width(map, reg);
	uint64_t all = bits_mask(bits - 1, 0);
	*m = (struct reg_masks){.present = all, .reset = reg->has_reset ? reg->reset & all : 0};
	mark(m, all, regmap_reg_access(reg));
	for (unsigned f = 0; f < reg->n_fields; f++) {
		const struct regmap_field *field = &reg->fields[f];
		if (field->lsb <= field->msb && field->msb < bits) {
			mark(m, bits_mask(field->msb, field->lsb), regmap_field_access(reg, field));
		}
	}
}

static void
place(struct regsim *sim, uint64_t offset, unsigned bytes, const struct reg_masks *m)
{
	for (unsigned i = 0; i < bytes; i++) {
		struct sim_byte *b = &sim->bytes[offset + i];
		unsigned shift = 8 * i;
		b->readable = (uint8_t)(m->readable >> shift);
		b->writable = (uint8_t)(m->writable >> shift);
		b->w1c = (uint8_t)(m->w1c >> shift);
		b->w1s = (uint8_t)(m->w1s >> shift);
		b->rc = (uint8_t)(m->rc >> shift);
		b->present = (uint8_t)(m->present >> shift);
		b->reset = (uint8_t)(m->reset >> shift);
		b->state = b->reset;
	}
	sim->extents[sim->n_extents++] = (struct extent){offset, bytes};
}

/* Every instance of every register, each inside the region. */
static int
count_instances(const struct regmap *map, uint64_t size, size_t *n)
{
	*n = 0;
	for (unsigned r = 0; r < map->n_registers; r++) {
		const struct regmap_register *reg = &map->registers[r];
		uint64_t bytes = regmap_reg_width(map, reg) / 8;
		if (bytes == 0 || bytes > 8 || reg->count == 0) {
			return -EINVAL;
		}
		/* Checked again here, though the map is valid: the masks are written unchecked. */
		if (reg->count > 1 && reg->stride > (UINT64_MAX - reg->offset) / reg->count) {
			return -EINVAL;
		}
		for (uint64_t i = 0; i < reg->count; i++) {
			uint64_t off = reg->offset + i * reg->stride;
			if (off > size || size - off < bytes) {
				return -EINVAL;
			}
		}
		*n += reg->count;
	}
	return 0;
}

int
regsim_new(const struct regmap *map, uint64_t size, struct regsim **out)
{
	size_t n;
	if (size == 0 || size > MMIO_SIM_MAX_SIZE || count_instances(map, size, &n) < 0) {
		return -EINVAL;
	}
	struct regsim *sim = calloc(1, sizeof(*sim));
	if (!sim) {
		return -ENOMEM;
	}
	sim->size = size;
	/* calloc: the pages no register touches stay the kernel's zero page. */
	sim->bytes = calloc(size, sizeof(*sim->bytes));
	sim->extents = calloc(n ? n : 1, sizeof(*sim->extents));
	if (!sim->bytes || !sim->extents) {
		regsim_free(sim);
		return -ENOMEM;
	}
	for (unsigned r = 0; r < map->n_registers; r++) {
		const struct regmap_register *reg = &map->registers[r];
		struct reg_masks m;
		register_masks(map, reg, &m);
		for (uint64_t i = 0; i < reg->count; i++) {
			place(sim, reg->offset + i * reg->stride, regmap_reg_width(map, reg) / 8,
			      &m);
		}
	}
	*out = sim;
	return 0;
}

void
regsim_free(struct regsim *sim)
{
	if (sim) {
		free(sim->bytes);
		free(sim->extents);
		free(sim);
	}
}

uint64_t
regsim_size(const struct regsim *sim)
{
	return sim->size;
}

uint64_t
regsim_load(struct regsim *sim, uint64_t off, unsigned width)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < width; i++) {
		struct sim_byte *b = &sim->bytes[off + i];
		v |= (uint64_t)(b->state & b->readable) << (8 * i);
		b->state &= (uint8_t)~b->rc;
	}
	return v;
}

void
regsim_store(struct regsim *sim, uint64_t off, unsigned width, uint64_t value)
{
	for (unsigned i = 0; i < width; i++) {
		struct sim_byte *b = &sim->bytes[off + i];
		uint8_t in = (uint8_t)(value >> (8 * i));
		uint8_t next = (uint8_t)((b->state & ~b->writable) | (in & b->writable));
		next = (uint8_t)((next & ~(in & b->w1c)) | (in & b->w1s));
		b->state = next;
	}
}

uint64_t
regsim_peek(const struct regsim *sim, uint64_t off, unsigned width)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < width; i++) {
		v |= (uint64_t)sim->bytes[off + i].state << (8 * i);
	}
	return v;
}

uint64_t
regsim_poke(struct regsim *sim, uint64_t off, unsigned width, uint64_t mask, uint64_t value)
{
	uint64_t old = regsim_peek(sim, off, width);
	for (unsigned i = 0; i < width; i++) {
		struct sim_byte *b = &sim->bytes[off + i];
		uint8_t m = (uint8_t)(mask >> (8 * i)) & b->present;
		b->state = (uint8_t)((b->state & ~m) | ((uint8_t)(value >> (8 * i)) & m));
	}
	return old;
}

void
regsim_reset(struct regsim *sim)
{
	/* Bytes outside every register never leave 0: only registers need their reset. */
	for (size_t e = 0; e < sim->n_extents; e++) {
		for (unsigned i = 0; i < sim->extents[e].bytes; i++) {
			struct sim_byte *b = &sim->bytes[sim->extents[e].offset + i];
			b->state = b->reset;
		}
	}
}
