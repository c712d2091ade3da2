/* Fields and enumerated values from SVD; see svd_fields.h. */
#include "svd_fields.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svd_dim.h"
#include "svd_xml.h"

/* Longer than any name a map takes, so that an over-long one is seen and told. */
#define NAME_BUF 160

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

static void warn(const struct svd_field_ctx *c, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
warn(const struct svd_field_ctx *c, int line, const char *fmt, ...)
{
	char msg[320];
	va_list ap;
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->warn(c->warn_arg, line, msg);
}

/* A number child of the view; -ENOENT when missing, -EINVAL (told in *err) when not a number. */
static int
number(const struct svd_view *v, const char *tag, uint64_t *out, struct regmap_error *err)
{
	char text[64];
	int rc = svd_view_text(v, tag, text, sizeof(text));
	if (rc == -ENOENT) {
		return rc;
	}
	if (rc < 0 || svd_number(text, out) < 0) {
		return fail(err, svd_line(svd_view_child(v, tag)), "%s \"%.40s\" is not a number",
			    tag, text);
	}
	return 0;
}

/* "[MSB:LSB]" */
static bool
parse_range(const char *text, uint64_t *msb, uint64_t *lsb)
{
	char a[24];
	char b[24];
	size_t len = strlen(text);
	const char *colon = strchr(text, ':');
	if (len < 5 || text[0] != '[' || text[len - 1] != ']' || !colon) {
		return false;
	}
	size_t alen = (size_t)(colon - text) - 1;
	size_t blen = len - (size_t)(colon - text) - 2;
	if (alen == 0 || alen >= sizeof(a) || blen == 0 || blen >= sizeof(b)) {
		return false;
	}
	memcpy(a, text + 1, alen);
	a[alen] = '\0';
	memcpy(b, colon + 1, blen);
	b[blen] = '\0';
	return svd_number(a, msb) == 0 && svd_number(b, lsb) == 0;
}

/* The field's bits, shifted up by shift (a dim field's instance). */
static int
read_bits(const struct svd_view *f, const char *name, uint64_t shift, unsigned *msb, unsigned *lsb,
	  struct regmap_error *err)
{
	int line = svd_line(f->chain[0]);
	uint64_t lo = 0;
	uint64_t hi = 0;
	uint64_t width = 1;
	int rc = number(f, "bitOffset", &lo, err);
	if (rc == 0) {
		rc = number(f, "bitWidth", &width, err);
		rc = rc == -ENOENT ? 0 : rc;
		if (rc == 0 && (width == 0 || width > 64 || lo > 63)) {
			return fail(err, line, "field %s: bitOffset %llu, bitWidth %llu", name,
				    (unsigned long long)lo, (unsigned long long)width);
		}
		hi = lo + width - 1;
	} else if (rc == -ENOENT && svd_view_child(f, "bitRange")) {
		char text[64];
		if (svd_view_text(f, "bitRange", text, sizeof(text)) < 0 ||
		    !parse_range(text, &hi, &lo)) {
			return fail(err, svd_line(svd_view_child(f, "bitRange")),
				    "field %s: bitRange \"%.40s\" is not [MSB:LSB]", name, text);
		}
		rc = 0;
	} else if (rc == -ENOENT) {
		rc = number(f, "lsb", &lo, err);
		if (rc == 0) {
			rc = number(f, "msb", &hi, err);
		}
		if (rc == -ENOENT) {
			return fail(err, line, "field %s has no bitOffset, bitRange or lsb and msb",
				    name);
		}
	}
	if (rc < 0) {
		return rc;
	}
	if (hi < lo || hi > 63 || shift > 63 - hi) {
		return fail(err, line, "field %s: bits %llu:%llu (+%llu) are not MSB >= LSB < 64",
			    name, (unsigned long long)hi, (unsigned long long)lo,
			    (unsigned long long)shift);
	}
	*msb = (unsigned)(hi + shift);
	*lsb = (unsigned)(lo + shift);
	return 0;
}

/* The field's value mask, unshifted. */
static uint64_t
value_mask(const struct regmap_field *f)
{
	unsigned bits = f->msb - f->lsb + 1;
	return bits >= 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;
}

/* One enumeratedValue into f, or told why not. 0, or -E2BIG when f is full. */
static int
read_value(const struct svd_field_ctx *c, struct regmap_field *f, const xmlNode *item)
{
	const char *reg = c->reg->name;
	int line = svd_line(item);
	char text[64];
	struct regmap_value v = {.line = line};
	if (svd_text(svd_child(item, "isDefault"), text, sizeof(text)) == 0 &&
	    (strcmp(text, "true") == 0 || strcmp(text, "1") == 0)) {
		return 0; /* "every other value": not one number */
	}
	if (svd_text(svd_child(item, "name"), v.name, sizeof(v.name)) < 0 ||
	    !regmap_value_name_valid(v.name)) {
		warn(c, line, "%s.%s: value name '%s' is not [A-Za-z0-9_]+ of at most %d: left out",
		     reg, f->name, v.name, REGMAP_MAX_NAME);
		return 0;
	}
	int rc = svd_text(svd_child(item, "value"), text, sizeof(text));
	rc = rc == 0 && text[0] ? svd_enum_value(text, &v.value) : -EINVAL;
	if (rc == -EDOM) {
		warn(c, line,
		     "%s.%s: value %s = %s has do-not-care bits (x): not one number: left out", reg,
		     f->name, v.name, text);
		return 0;
	}
	if (rc < 0) {
		warn(c, line, "%s.%s: value %s: \"%s\" is not a number: left out", reg, f->name,
		     v.name, text);
		return 0;
	}
	if (v.value & ~value_mask(f)) {
		warn(c, line, "%s.%s: value %s = 0x%llx does not fit the field's %u bits: left out",
		     reg, f->name, v.name, (unsigned long long)v.value, f->msb - f->lsb + 1);
		return 0;
	}
	const struct regmap_value *same = regmap_value_find(f, v.name);
	if (same && same->value != v.value) {
		warn(c, line, "%s.%s: value %s named twice (line %d), as 0x%llx: left out", reg,
		     f->name, v.name, same->line, (unsigned long long)v.value);
	}
	if (same) {
		return 0; /* the same name and value in a read and a write list: once */
	}
	rc = regmap_add_value(f, &v);
	if (rc == -E2BIG) {
		warn(c, line, "%s.%s: more than %d values: the rest left out", reg, f->name,
		     REGMAP_MAX_VALUES);
	}
	return rc;
}

/* The enumerated values of field view fv into f (the nearest enumeratedValues lists). */
static int
read_values(const struct svd_field_ctx *c, struct regmap_field *f, const struct svd_view *fv)
{
	static const char *const lists_tags[] = {"enumeratedValues", NULL};
	static const char *const value_tags[] = {"enumeratedValue", NULL};
	xmlNode **lists = NULL;
	size_t n_lists = 0;
	int rc = svd_view_items(fv, NULL, lists_tags, true, &lists, &n_lists);
	for (size_t i = 0; rc == 0 && i < n_lists; i++) {
		struct svd_view lv;
		struct regmap_error err;
		if (svd_view(lists[i], &lv, &err) < 0) {
			warn(c, err.line, "%s.%s: enumeratedValues: %s: left out", c->reg->name,
			     f->name, err.message);
			continue;
		}
		xmlNode **items = NULL;
		size_t n = 0;
		rc = svd_view_items(&lv, NULL, value_tags, false, &items, &n);
		for (size_t k = 0; rc == 0 && k < n; k++) {
			rc = read_value(c, f, items[k]);
		}
		free(items);
	}
	free(lists);
	return rc == -E2BIG ? 0 : rc;
}

/* One field of the register: name (an instance's), bits shifted by shift. */
static int
add_field(const struct svd_field_ctx *c, const struct svd_view *fv, const char *name,
	  uint64_t shift, struct regmap_error *err)
{
	struct regmap_register *r = c->reg;
	int line = svd_line(fv->chain[0]);
	if (!regmap_name_valid(name)) {
		return fail(err, line,
			    "%s: field name '%s' is not [A-Za-z_][A-Za-z0-9_]* of at most %d",
			    r->name, name, REGMAP_MAX_NAME);
	}
	struct regmap_field probe = {0};
	int rc = read_bits(fv, name, shift, &probe.msb, &probe.lsb, err);
	if (rc < 0) {
		return rc;
	}
	if (probe.msb >= c->width) {
		return fail(err, line, "%s.%s: bits %u:%u are outside the %u-bit register", r->name,
			    name, probe.msb, probe.lsb, c->width);
	}
	for (unsigned j = 0; j < r->n_fields; j++) {
		const struct regmap_field *g = &r->fields[j];
		if (strcmp(g->name, name) == 0) {
			return fail(err, line, "%s: field %s named twice (line %d)", r->name, name,
				    g->line);
		}
		if (regmap_field_mask(&probe) & regmap_field_mask(g)) {
			return fail(err, line,
				    "%s.%s: bits %u:%u overlap field %s (bits %u:%u, line %d)",
				    r->name, name, probe.msb, probe.lsb, g->name, g->msb, g->lsb,
				    g->line);
		}
	}
	struct svd_kind kind = {.access = regmap_reg_access(r)};
	bool given = svd_kind_given(fv);
	if (given && (rc = svd_kind_read(fv, c->reg_svd_access, &kind, err)) < 0) {
		return rc;
	}
	struct regmap_field *f;
	rc = regmap_add_field(r, &f);
	if (rc == -E2BIG) {
		return fail(err, line, "%s: more than %d fields", r->name, REGMAP_MAX_FIELDS);
	}
	if (rc < 0) {
		return rc;
	}
	(void)snprintf(f->name, sizeof(f->name), "%s", name);
	f->msb = probe.msb;
	f->lsb = probe.lsb;
	f->line = line;
	f->has_access = kind.access != regmap_reg_access(r);
	f->access = kind.access;
	r->side_effects = r->side_effects || kind.side_effects;
	if (kind.warning[0]) {
		warn(c, line, "%s.%s: %s", r->name, name, kind.warning);
	}
	char *text = svd_text_clean(svd_view_child(fv, "description"), REGMAP_MAX_DESCRIPTION);
	if (!text) {
		return -ENOMEM;
	}
	if (text[0]) {
		f->description = text;
	} else {
		free(text);
	}
	return read_values(c, f, fv);
}

/* A field element: one field, or (dim) one per index, dimIncrement bits apart. */
static int
read_field(const struct svd_field_ctx *c, const struct svd_view *fv, struct regmap_error *err)
{
	char tmpl[NAME_BUF];
	int line = svd_line(fv->chain[0]);
	int rc = svd_view_text(fv, "name", tmpl, sizeof(tmpl));
	if (rc < 0 || !tmpl[0]) {
		return fail(err, line, "%s: a field without a name (or one too long)",
			    c->reg->name);
	}
	struct svd_dim dim;
	rc = svd_dim_read(fv, tmpl, REGMAP_MAX_FIELDS, &dim, err);
	if (rc < 0) {
		return rc;
	}
	if (dim.count == 0) {
		return add_field(c, fv, tmpl, 0, err);
	}
	for (uint64_t i = 0; i < dim.count && (rc == 0 || rc == -EINVAL); i++) {
		if (rc == -EINVAL) {
			warn(c, err->line, "%s: left out", err->message);
		}
		char name[NAME_BUF];
		rc = svd_dim_name(&dim, tmpl, i, name, sizeof(name));
		if (rc < 0) {
			rc = fail(err, line, "%s: field name %.80s too long", c->reg->name, tmpl);
		} else if (dim.increment && i > 63 / dim.increment) {
			rc = fail(err, line, "%s.%s: past bit 63", c->reg->name, name);
		} else {
			rc = add_field(c, fv, name, i * dim.increment, err);
		}
	}
	svd_dim_free(&dim);
	return rc;
}

int
svd_fields_read(const struct svd_field_ctx *c, const struct svd_view *v, struct regmap_error *err)
{
	static const char *const tags[] = {"field", NULL};
	xmlNode **items = NULL;
	size_t n = 0;
	int rc = svd_view_items(v, "fields", tags, false, &items, &n);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		struct svd_view fv;
		rc = svd_view(items[i], &fv, err);
		if (rc == 0) {
			rc = read_field(c, &fv, err);
		}
		if (rc == -EINVAL) {
			warn(c, err->line, "%s: left out", err->message);
			rc = 0;
		}
	}
	free(items);
	return rc;
}
