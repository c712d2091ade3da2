/*
 * A device's register map: registers at offsets of a region, their fields and the names of
 * the fields' values (docs/man/mmiod-regmap.5.scd). Pure: the model, the rules a map must
 * keep (regmap_validate), lookup by name and the shift/mask of a field. Each element keeps
 * the line it came from (a plain int, 0 if none) so that a reader can say FILE:LINE.
 *
 * Arrays: a register with count N > 1 is N instances, instance i at offset + i * stride,
 * named NAME[i] (decimal, no leading zero): "CH_CTRL[3]", "CH_CTRL[3].EN".
 */
#ifndef MMIOD_REGMAP_H
#define MMIOD_REGMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/limits.h"

/* How software may touch a register or a field. */
enum regmap_access {
	REGMAP_RW,  /* read and write (the default) */
	REGMAP_RO,  /* read only */
	REGMAP_WO,  /* write only */
	REGMAP_W1C, /* read; writing 1 clears a bit */
	REGMAP_W1S, /* read; writing 1 sets a bit */
	REGMAP_RC,  /* read clears: a read has a side effect */
};

/* "rw", "ro", "wo", "w1c", "w1s", "rc" -> the kind; -1 for anything else. */
int regmap_access_parse(const char *name);
const char *regmap_access_name(enum regmap_access access);

struct regmap_value {
	char name[REGMAP_MAX_NAME + 1];
	uint64_t value;
	int line;
};

struct regmap_field {
	char name[REGMAP_MAX_NAME + 1];
	unsigned msb, lsb; /* bits msb..lsb of the register, msb >= lsb */
	bool has_access;   /* false: the register's */
	enum regmap_access access;
	char *description; /* owned; may be NULL */
	struct regmap_value *values;
	unsigned n_values, cap_values;
	int line;
};

struct regmap_register {
	char name[REGMAP_MAX_NAME + 1];
	uint64_t offset; /* bytes from the region's start (instance 0 of an array) */
	unsigned width;  /* bits; 0: the map's */
	bool has_access; /* false: rw */
	enum regmap_access access;
	bool has_reset;
	uint64_t reset;
	bool side_effects; /* a read changes the device (as rc does) */
	unsigned widths;   /* access widths it takes (core/regrules.h bits); 0: any */
	uint64_t count;    /* instances; 1 for a plain register */
	uint64_t stride;   /* bytes between instances; 0 for a plain register */
	char *description; /* owned; may be NULL */
	struct regmap_field *fields;
	unsigned n_fields, cap_fields;
	int line;
	int width_line, offset_line, reset_line, count_line, widths_line; /* for messages */
};

struct regmap {
	char name[REGMAP_MAX_NAME + 1];
	unsigned width;    /* default register width in bits: 8, 16, 32, 64 */
	char *description; /* owned; may be NULL */
	struct regmap_register *registers;
	unsigned n_registers, cap_registers;
	int line;
};

/* An empty map (width 0: not yet set), or NULL. */
struct regmap *regmap_new(void);
void regmap_free(struct regmap *map);

/*
 * Appends a zeroed element (count 1 for a register) and points *out at it; the pointer holds
 * until the next append to the same parent. 0, -E2BIG past the caps of core/limits.h or -ENOMEM.
 */
int regmap_add_register(struct regmap *map, struct regmap_register **out);
int regmap_add_field(struct regmap_register *reg, struct regmap_field **out);
int regmap_add_value(struct regmap_field *field, const struct regmap_value *value);

/* Replaces *dst with a copy of the first len bytes of text (NUL added). 0 or -ENOMEM. */
int regmap_set_text(char **dst, const char *text, size_t len);

/* Whether text is a register or field name: [A-Za-z_][A-Za-z0-9_]*, at most REGMAP_MAX_NAME. */
bool regmap_name_valid(const char *text);
/* Whether text is a value name: [A-Za-z0-9_]+ (5BIT), at most REGMAP_MAX_NAME. */
bool regmap_value_name_valid(const char *text);

/* The first broken rule: its line and what it is. */
struct regmap_error {
	int line;
	char message[256];
};

/*
 * Checks every rule of mmiod-regmap(5): names valid and unique (registers in the map, fields
 * in a register, values in a field), the widths 8/16/32/64, offsets aligned to the register's
 * width, arrays (count, stride a multiple of the width, no instance past 2^64), every instance
 * inside region_size (0: not known, not checked), no two registers overlapping, fields inside
 * the width and not overlapping, values and reset fitting, widths not wider than the register. 0,
 * or -EINVAL with the first broken rule in *err.
 */
int regmap_validate(const struct regmap *map, uint64_t region_size, struct regmap_error *err);

/* One instance of a register: [start, end) of registers[reg], array index index. */
struct regmap_instance {
	uint64_t start, end;
	unsigned reg;
	uint64_t index;
};

/*
 * The first two instances of map that share a byte, by address (skip: registers to leave out,
 * or NULL): 1 with *a the one reaching from lower and *b the other, 0 if none overlap, or
 * -ENOMEM. The caller bounds the instances (REGMAP_MAX_INSTANCES, as regmap_validate does).
 */
int regmap_first_overlap(const struct regmap *map, const bool *skip, struct regmap_instance *a,
			 struct regmap_instance *b);

/* "NAME" or "NAME[i]" of an instance. */
void regmap_instance_name(const struct regmap_register *r, uint64_t index, char *buf, size_t len);

/* A register's width in bits and bytes, and the access of a register or field. */
unsigned regmap_reg_width(const struct regmap *map, const struct regmap_register *reg);
enum regmap_access regmap_reg_access(const struct regmap_register *reg);
enum regmap_access regmap_field_access(const struct regmap_register *reg,
				       const struct regmap_field *field);
/* Whether reading it changes the device: rc, or side_effects. */
bool regmap_read_sensitive(const struct regmap_register *reg, const struct regmap_field *field);

/* What a name found: one instance of a register, and maybe one of its fields. */
struct regmap_ref {
	const struct regmap_register *reg;
	const struct regmap_field *field; /* NULL: the whole register */
	uint64_t index;                   /* the instance (0 for a plain register) */
	uint64_t offset;                  /* of that instance in the region */
	unsigned width;                   /* of the register, in bits */
};

/*
 * Looks up "REG", "REG.FIELD", "ARR[i]" or "ARR[i].FIELD" in a valid map. 0, -ENOENT (no such
 * register, field or instance) or -EINVAL (not a name of that shape, or an array without [i]).
 */
int regmap_lookup(const struct regmap *map, const char *name, struct regmap_ref *out);

/* The value of a field with a name, or NULL. */
const struct regmap_value *regmap_value_find(const struct regmap_field *field, const char *name);

/* The field's bits in place (bits msb..lsb set). */
uint64_t regmap_field_mask(const struct regmap_field *field);
/* The field's value in a register value. */
uint64_t regmap_field_decode(const struct regmap_field *field, uint64_t reg_value);
/* reg_value with the field set to value: 0, or -ERANGE if value does not fit the field. */
int regmap_field_encode(const struct regmap_field *field, uint64_t reg_value, uint64_t value,
			uint64_t *out);

#endif
