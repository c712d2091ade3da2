/* The register map's model and rules; see core/regmap.h. */
#include "core/regmap.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const access_names[] = {
	[REGMAP_RW] = "rw",   [REGMAP_RO] = "ro",   [REGMAP_WO] = "wo",
	[REGMAP_W1C] = "w1c", [REGMAP_W1S] = "w1s", [REGMAP_RC] = "rc",
};
#define N_ACCESS (sizeof(access_names) / sizeof(access_names[0]))

int
regmap_access_parse(const char *name)
{
	for (size_t i = 0; i < N_ACCESS; i++) {
		if (strcmp(name, access_names[i]) == 0) {
			return (int)i;
		}
	}
	return -1;
}

const char *
regmap_access_name(enum regmap_access access)
{
	return (size_t)access < N_ACCESS ? access_names[access] : "?";
}

struct regmap *
regmap_new(void)
{
	return calloc(1, sizeof(struct regmap));
}

static void
field_finish(struct regmap_field *f)
{
	free(f->description);
	free(f->values);
}

void
regmap_free(struct regmap *map)
{
	if (!map) {
		return;
	}
	for (unsigned i = 0; i < map->n_registers; i++) {
		struct regmap_register *r = &map->registers[i];
		for (unsigned j = 0; j < r->n_fields; j++) {
			field_finish(&r->fields[j]);
		}
		free(r->fields);
		free(r->description);
	}
	free(map->registers);
	free(map->description);
	free(map);
}

/* Makes room for one more of n elements of size each in *items (capacity *cap, at most max). */
static int
grow(void **items, unsigned n, unsigned *cap, unsigned max, size_t size)
{
	if (n >= max) {
		return -E2BIG;
	}
	if (n < *cap) {
		return 0;
	}
	unsigned want = *cap ? *cap * 2 : 8;
	if (want > max) {
		want = max;
	}
	void *grown = realloc(*items, (size_t)want * size);
	if (!grown) {
		return -ENOMEM;
	}
	*items = grown;
	*cap = want;
	return 0;
}

int
regmap_add_register(struct regmap *map, struct regmap_register **out)
{
	void *items = map->registers;
	int rc = grow(&items, map->n_registers, &map->cap_registers, REGMAP_MAX_REGISTERS,
		      sizeof(struct regmap_register));
	map->registers = items;
	if (rc < 0) {
		return rc;
	}
	struct regmap_register *r = &map->registers[map->n_registers++];
	memset(r, 0, sizeof(*r));
	r->count = 1;
	*out = r;
	return 0;
}

int
regmap_add_field(struct regmap_register *reg, struct regmap_field **out)
{
	void *items = reg->fields;
	int rc = grow(&items, reg->n_fields, &reg->cap_fields, REGMAP_MAX_FIELDS,
		      sizeof(struct regmap_field));
	reg->fields = items;
	if (rc < 0) {
		return rc;
	}
	struct regmap_field *f = &reg->fields[reg->n_fields++];
	memset(f, 0, sizeof(*f));
	*out = f;
	return 0;
}

int
regmap_add_value(struct regmap_field *field, const struct regmap_value *value)
{
	void *items = field->values;
	int rc = grow(&items, field->n_values, &field->cap_values, REGMAP_MAX_VALUES,
		      sizeof(struct regmap_value));
	field->values = items;
	if (rc < 0) {
		return rc;
	}
	field->values[field->n_values++] = *value;
	return 0;
}

int
regmap_set_text(char **dst, const char *text, size_t len)
{
	char *copy = malloc(len + 1);
	if (!copy) {
		return -ENOMEM;
	}
	memcpy(copy, text, len);
	copy[len] = '\0';
	free(*dst);
	*dst = copy;
	return 0;
}

static bool
is_alpha(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* [A-Za-z0-9_]+ of at most REGMAP_MAX_NAME, and (if first_alpha) not starting with a digit. */
static bool
name_ok(const char *text, bool first_alpha)
{
	size_t n = 0;
	for (; text[n]; n++) {
		if (n == REGMAP_MAX_NAME || !(is_alpha(text[n]) || is_digit(text[n]))) {
			return false;
		}
	}
	return n > 0 && (!first_alpha || is_alpha(text[0]));
}

bool
regmap_name_valid(const char *text)
{
	return name_ok(text, true);
}

bool
regmap_value_name_valid(const char *text)
{
	return name_ok(text, false);
}

static bool
width_ok(unsigned bits)
{
	return bits == 8 || bits == 16 || bits == 32 || bits == 64;
}

unsigned
regmap_reg_width(const struct regmap *map, const struct regmap_register *reg)
{
	return reg->width ? reg->width : map->width;
}

enum regmap_access
regmap_reg_access(const struct regmap_register *reg)
{
	return reg->has_access ? reg->access : REGMAP_RW;
}

enum regmap_access
regmap_field_access(const struct regmap_register *reg, const struct regmap_field *field)
{
	return field && field->has_access ? field->access : regmap_reg_access(reg);
}

bool
regmap_read_sensitive(const struct regmap_register *reg, const struct regmap_field *field)
{
	if (reg->side_effects || regmap_reg_access(reg) == REGMAP_RC) {
		return true;
	}
	if (field) {
		return regmap_field_access(reg, field) == REGMAP_RC;
	}
	for (unsigned i = 0; i < reg->n_fields; i++) {
		if (regmap_field_access(reg, &reg->fields[i]) == REGMAP_RC) {
			return true;
		}
	}
	return false;
}

/* The value bits of a field, unshifted. */
static uint64_t
field_value_mask(const struct regmap_field *field)
{
	unsigned bits = field->msb - field->lsb + 1;
	return bits >= 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;
}

uint64_t
regmap_field_mask(const struct regmap_field *field)
{
	return field_value_mask(field) << field->lsb;
}

uint64_t
regmap_field_decode(const struct regmap_field *field, uint64_t reg_value)
{
	return (reg_value >> field->lsb) & field_value_mask(field);
}

int
regmap_field_encode(const struct regmap_field *field, uint64_t reg_value, uint64_t value,
		    uint64_t *out)
{
	if (value & ~field_value_mask(field)) {
		return -ERANGE;
	}
	*out = (reg_value & ~regmap_field_mask(field)) | (value << field->lsb);
	return 0;
}

static uint64_t
bits_mask(unsigned bits)
{
	return bits >= 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;
}

static int fail(struct regmap_error *err, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
fail(struct regmap_error *err, int line, const char *fmt, ...)
{
	err->line = line;
	va_list ap;
	va_start(ap, fmt);
	(void)vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int
check_values(const struct regmap_register *r, const struct regmap_field *f,
	     struct regmap_error *err)
{
	for (unsigned k = 0; k < f->n_values; k++) {
		const struct regmap_value *v = &f->values[k];
		if (!regmap_value_name_valid(v->name)) {
			return fail(err, v->line,
				    "%s.%s: value name '%s' is not [A-Za-z0-9_]+ of at most %d",
				    r->name, f->name, v->name, REGMAP_MAX_NAME);
		}
		for (unsigned m = 0; m < k; m++) {
			if (strcmp(f->values[m].name, v->name) == 0) {
				return fail(err, v->line, "%s.%s: value '%s' named twice (line %d)",
					    r->name, f->name, v->name, f->values[m].line);
			}
		}
		if (v->value & ~field_value_mask(f)) {
			return fail(err, v->line,
				    "%s.%s: value %s = 0x%llx does not fit the field's %u bits",
				    r->name, f->name, v->name, (unsigned long long)v->value,
				    f->msb - f->lsb + 1);
		}
	}
	return 0;
}

static int
check_fields(const struct regmap_register *r, unsigned width, struct regmap_error *err)
{
	for (unsigned j = 0; j < r->n_fields; j++) {
		const struct regmap_field *f = &r->fields[j];
		if (!regmap_name_valid(f->name)) {
			return fail(
				err, f->line,
				"%s: field name '%s' is not [A-Za-z_][A-Za-z0-9_]* of at most %d",
				r->name, f->name, REGMAP_MAX_NAME);
		}
		if (f->has_access && (size_t)f->access >= N_ACCESS) {
			return fail(err, f->line, "%s.%s: unknown access kind", r->name, f->name);
		}
		if (f->lsb > f->msb || f->msb >= width) {
			return fail(err, f->line,
				    "%s.%s: bits %u:%u are outside the %u-bit register", r->name,
				    f->name, f->msb, f->lsb, width);
		}
		for (unsigned m = 0; m < j; m++) {
			const struct regmap_field *g = &r->fields[m];
			if (strcmp(g->name, f->name) == 0) {
				return fail(err, f->line, "%s: field '%s' named twice (line %d)",
					    r->name, f->name, g->line);
			}
			if (regmap_field_mask(f) & regmap_field_mask(g)) {
				return fail(err, f->line,
					    "%s.%s: bits %u:%u overlap field %s (bits %u:%u, line "
					    "%d)",
					    r->name, f->name, f->msb, f->lsb, g->name, g->msb,
					    g->lsb, g->line);
			}
		}
		int rc = check_values(r, f, err);
		if (rc < 0) {
			return rc;
		}
	}
	return 0;
}

/* One register alone: name, width, alignment, array shape, the region's end, reset, fields. */
static int
check_register(const struct regmap *map, const struct regmap_register *r, uint64_t region_size,
	       struct regmap_error *err)
{
	if (!regmap_name_valid(r->name)) {
		return fail(err, r->line,
			    "register name '%s' is not [A-Za-z_][A-Za-z0-9_]* of at most %d",
			    r->name, REGMAP_MAX_NAME);
	}
	if (r->width && !width_ok(r->width)) {
		return fail(err, r->width_line ? r->width_line : r->line,
			    "%s: width %u: a register is 8, 16, 32 or 64 bits", r->name, r->width);
	}
	if (r->has_access && (size_t)r->access >= N_ACCESS) {
		return fail(err, r->line, "%s: unknown access kind", r->name);
	}
	unsigned width = regmap_reg_width(map, r);
	uint64_t bytes = width / 8;
	int at = r->offset_line ? r->offset_line : r->line;
	if (r->offset % bytes) {
		return fail(err, at, "%s: offset 0x%llx is not aligned to its width (%u bits)",
			    r->name, (unsigned long long)r->offset, width);
	}
	int count_at = r->count_line ? r->count_line : r->line;
	if (r->count == 0 || r->count > REGMAP_MAX_INSTANCES) {
		return fail(err, count_at, "%s: count %llu is not 1..%d", r->name,
			    (unsigned long long)r->count, REGMAP_MAX_INSTANCES);
	}
	if (r->count > 1 && (r->stride < bytes || r->stride % bytes)) {
		return fail(
			err, count_at,
			"%s: stride 0x%llx must be a non-zero multiple of the width (%u bytes): "
			"instances would overlap or be misaligned",
			r->name, (unsigned long long)r->stride, (unsigned)bytes);
	}
	/* The last instance's first byte, and its end, without wrapping. */
	uint64_t n = r->count - 1;
	if ((n && r->stride > (UINT64_MAX - r->offset) / n) ||
	    r->offset + n * r->stride > UINT64_MAX - bytes) {
		return fail(err, count_at, "%s: the array runs past 2^64", r->name);
	}
	uint64_t end = r->offset + n * r->stride + bytes;
	if (region_size && end > region_size) {
		return fail(err, at,
			    "%s: bytes up to 0x%llx are past the region's end (size 0x%llx)",
			    r->name, (unsigned long long)end, (unsigned long long)region_size);
	}
	if (r->widths & ~((bytes << 1) - 1)) {
		return fail(err, r->widths_line ? r->widths_line : r->line,
			    "%s: widths: an access wider than the register (%u bits)", r->name,
			    width);
	}
	if (r->has_reset && (r->reset & ~bits_mask(width))) {
		return fail(err, r->reset_line ? r->reset_line : r->line,
			    "%s: reset 0x%llx does not fit %u bits", r->name,
			    (unsigned long long)r->reset, width);
	}
	return check_fields(r, width, err);
}

static int
instance_cmp(const void *a, const void *b)
{
	const struct regmap_instance *x = a;
	const struct regmap_instance *y = b;
	if (x->start != y->start) {
		return x->start < y->start ? -1 : 1;
	}
	return x->reg < y->reg ? -1 : x->reg > y->reg;
}

void
regmap_instance_name(const struct regmap_register *r, uint64_t index, char *buf, size_t len)
{
	if (r->count > 1) {
		(void)snprintf(buf, len, "%s[%llu]", r->name, (unsigned long long)index);
	} else {
		(void)snprintf(buf, len, "%s", r->name);
	}
}

int
regmap_first_overlap(const struct regmap *map, const bool *skip, struct regmap_instance *a,
		     struct regmap_instance *b)
{
	uint64_t total = 0;
	for (unsigned i = 0; i < map->n_registers; i++) {
		total += skip && skip[i] ? 0 : map->registers[i].count;
	}
	struct regmap_instance *spans = calloc(total ? total : 1, sizeof(*spans));
	if (!spans) {
		return -ENOMEM;
	}
	size_t n = 0;
	for (unsigned i = 0; i < map->n_registers; i++) {
		const struct regmap_register *r = &map->registers[i];
		uint64_t bytes = regmap_reg_width(map, r) / 8;
		for (uint64_t k = 0; !(skip && skip[i]) && k < r->count; k++) {
			uint64_t start = r->offset + k * r->stride;
			spans[n++] = (struct regmap_instance){start, start + bytes, i, k};
		}
	}
	qsort(spans, n, sizeof(*spans), instance_cmp);
	int found = 0;
	size_t widest = 0; /* the instance reaching furthest so far */
	for (size_t k = 1; k < n && !found; k++) {
		if (spans[k].start < spans[widest].end) {
			*a = spans[widest];
			*b = spans[k];
			found = 1;
		} else if (spans[k].end > spans[widest].end) {
			widest = k;
		}
	}
	free(spans);
	return found;
}

/* No two instances share a byte; they are all checked alone already. */
static int
check_overlaps(const struct regmap *map, struct regmap_error *err)
{
	uint64_t total = 0;
	for (unsigned i = 0; i < map->n_registers; i++) {
		total += map->registers[i].count;
	}
	if (total > REGMAP_MAX_INSTANCES) {
		return fail(err, map->line, "%llu registers with all array instances: at most %d",
			    (unsigned long long)total, REGMAP_MAX_INSTANCES);
	}
	struct regmap_instance x;
	struct regmap_instance y;
	int rc = regmap_first_overlap(map, NULL, &x, &y);
	if (rc <= 0) {
		return rc;
	}
	/* Told at the later register, naming the earlier. */
	const struct regmap_instance *first = x.reg > y.reg ? &y : &x;
	const struct regmap_instance *second = x.reg > y.reg ? &x : &y;
	const struct regmap_register *ra = &map->registers[first->reg];
	const struct regmap_register *rb = &map->registers[second->reg];
	char na[REGMAP_MAX_NAME + 24];
	char nb[REGMAP_MAX_NAME + 24];
	regmap_instance_name(ra, first->index, na, sizeof(na));
	regmap_instance_name(rb, second->index, nb, sizeof(nb));
	return fail(err, rb->line, "%s [0x%llx, 0x%llx) overlaps %s [0x%llx, 0x%llx) (line %d)", nb,
		    (unsigned long long)second->start, (unsigned long long)second->end, na,
		    (unsigned long long)first->start, (unsigned long long)first->end, ra->line);
}

struct named {
	const char *name;
	unsigned index; /* in the map: ties sort in file order */
};

static int
name_cmp(const void *a, const void *b)
{
	const struct named *x = a;
	const struct named *y = b;
	int c = strcmp(x->name, y->name);
	if (c) {
		return c;
	}
	return x->index < y->index ? -1 : x->index > y->index;
}

/* Register names are unique; sorted, so that thousands of registers cost n log n. */
static int
check_names(const struct regmap *map, struct regmap_error *err)
{
	struct named *by_name = calloc(map->n_registers ? map->n_registers : 1, sizeof(*by_name));
	if (!by_name) {
		return -ENOMEM;
	}
	for (unsigned i = 0; i < map->n_registers; i++) {
		by_name[i] = (struct named){map->registers[i].name, i};
	}
	qsort(by_name, map->n_registers, sizeof(*by_name), name_cmp);
	int rc = 0;
	for (unsigned i = 1; i < map->n_registers && rc == 0; i++) {
		if (strcmp(by_name[i - 1].name, by_name[i].name) == 0) {
			rc = fail(err, map->registers[by_name[i].index].line,
				  "register '%s' named twice (line %d)", by_name[i].name,
				  map->registers[by_name[i - 1].index].line);
		}
	}
	free(by_name);
	return rc;
}

int
regmap_validate(const struct regmap *map, uint64_t region_size, struct regmap_error *err)
{
	if (!regmap_name_valid(map->name)) {
		return fail(err, map->line,
			    "the map's name '%s' is not [A-Za-z_][A-Za-z0-9_]* of at most %d",
			    map->name, REGMAP_MAX_NAME);
	}
	if (!width_ok(map->width)) {
		return fail(err, map->line, "width %u: registers are 8, 16, 32 or 64 bits",
			    map->width);
	}
	if (map->n_registers == 0) {
		return fail(err, map->line, "the map has no registers");
	}
	for (unsigned i = 0; i < map->n_registers; i++) {
		int rc = check_register(map, &map->registers[i], region_size, err);
		if (rc < 0) {
			return rc;
		}
	}
	int rc = check_names(map, err);
	return rc < 0 ? rc : check_overlaps(map, err);
}

/* Parses "[i]" at *p (decimal, no leading zero, no wrap); moves *p past it. */
static int
parse_index(const char **p, uint64_t *out)
{
	const char *c = *p + 1;
	if (!is_digit(*c) || (c[0] == '0' && is_digit(c[1]))) {
		return -EINVAL;
	}
	uint64_t v = 0;
	for (; is_digit(*c); c++) {
		unsigned d = (unsigned)(*c - '0');
		if (v > (UINT64_MAX - d) / 10) {
			return -EINVAL;
		}
		v = v * 10 + d;
	}
	if (*c != ']') {
		return -EINVAL;
	}
	*p = c + 1;
	*out = v;
	return 0;
}

int
regmap_lookup(const struct regmap *map, const char *name, struct regmap_ref *out)
{
	size_t len = strcspn(name, "[.");
	if (len == 0 || len > REGMAP_MAX_NAME) {
		return -EINVAL;
	}
	char reg_name[REGMAP_MAX_NAME + 1];
	memcpy(reg_name, name, len);
	reg_name[len] = '\0';
	if (!regmap_name_valid(reg_name)) {
		return -EINVAL;
	}
	const char *p = name + len;
	bool indexed = *p == '[';
	uint64_t index = 0;
	if (indexed && parse_index(&p, &index) < 0) {
		return -EINVAL;
	}
	const char *field_name = NULL;
	if (*p == '.') {
		field_name = p + 1;
		if (!regmap_name_valid(field_name)) {
			return -EINVAL;
		}
	} else if (*p) {
		return -EINVAL;
	}
	const struct regmap_register *reg = NULL;
	for (unsigned i = 0; i < map->n_registers && !reg; i++) {
		if (strcmp(map->registers[i].name, reg_name) == 0) {
			reg = &map->registers[i];
		}
	}
	if (!reg) {
		return -ENOENT;
	}
	if (indexed != (reg->count > 1)) {
		return -EINVAL; /* an array needs [i]; a plain register takes none */
	}
	if (index >= reg->count) {
		return -ENOENT;
	}
	const struct regmap_field *field = NULL;
	if (field_name) {
		for (unsigned j = 0; j < reg->n_fields && !field; j++) {
			if (strcmp(reg->fields[j].name, field_name) == 0) {
				field = &reg->fields[j];
			}
		}
		if (!field) {
			return -ENOENT;
		}
	}
	*out = (struct regmap_ref){
		.reg = reg,
		.field = field,
		.index = index,
		.offset = reg->offset + index * reg->stride,
		.width = regmap_reg_width(map, reg),
	};
	return 0;
}

const struct regmap_value *
regmap_value_find(const struct regmap_field *field, const char *name)
{
	for (unsigned k = 0; k < field->n_values; k++) {
		if (strcmp(field->values[k].name, name) == 0) {
			return &field->values[k];
		}
	}
	return NULL;
}
