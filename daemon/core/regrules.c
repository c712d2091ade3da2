#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/regrules.h"

struct grant_rules *
grant_rules_dup(const struct grant_rules *src)
{
	struct grant_rules *r = calloc(1, sizeof(*r));
	if (!r) {
		return NULL;
	}
	*r = *src;
	r->names = calloc(src->n_names ? src->n_names : 1, sizeof(*r->names));
	r->rules = calloc(src->n_rules ? src->n_rules : 1, sizeof(*r->rules));
	if (!r->names || !r->rules) {
		grant_rules_free(r);
		return NULL;
	}
	if (src->n_names) {
		memcpy(r->names, src->names, src->n_names * sizeof(*r->names));
	}
	if (src->n_rules) {
		memcpy(r->rules, src->rules, src->n_rules * sizeof(*r->rules));
	}
	return r;
}

void
grant_rules_free(struct grant_rules *rules)
{
	if (rules) {
		free(rules->names);
		free(rules->rules);
		free(rules);
	}
}

void
regrules_free(struct regrules *t)
{
	if (t) {
		free(t->e);
		free(t);
	}
}

static int fail(struct regrules_error *err, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
fail(struct regrules_error *err, int line, const char *fmt, ...)
{
	err->line = line;
	va_list ap;
	va_start(ap, fmt);
	(void)vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int
append(struct regrules *t, struct regrule **out)
{
	if (t->n == REGMAP_MAX_REGISTERS + 2 * REGRULES_MAX_ITEMS) {
		return -E2BIG;
	}
	struct regrule *e = realloc(t->e, (t->n + 1) * sizeof(*e));
	if (!e) {
		return -ENOMEM;
	}
	t->e = e;
	*out = memset(&e[t->n++], 0, sizeof(*e));
	return 0;
}

static bool
reg_read_sensitive(const struct regmap_register *reg)
{
	return regmap_read_sensitive(reg, NULL);
}

/* An entry for every instance of reg, from the map alone. */
static void
entry_of_register(const struct regmap *map, const struct regmap_register *reg, struct regrule *e)
{
	snprintf(e->name, sizeof(e->name), "%s", reg->name);
	e->offset = reg->offset;
	e->stride = reg->stride;
	e->first = 0;
	e->count = reg->count;
	e->bytes = regmap_reg_width(map, reg) / 8;
	e->read_sensitive = reg_read_sensitive(reg);
	enum regmap_access a = regmap_reg_access(reg);
	e->no_load = e->read_sensitive || a == REGMAP_W1C || a == REGMAP_W1S;
}

/* "REG", "ARR[i]" or "ARR" (every instance) into an entry. */
static int
resolve(const struct regmap *map, const char *text, int line, struct regrule *e,
	const struct regmap_register **reg_out, struct regrules_error *err)
{
	*reg_out = NULL;
	if (strchr(text, '.')) {
		return fail(err, line, "'%s': name a register, not a field", text);
	}
	struct regmap_ref ref;
	int rc = regmap_lookup(map, text, &ref);
	if (rc == -EINVAL && !strchr(text, '[')) {
		/* A bare array name: every instance. */
		for (unsigned i = 0; i < map->n_registers; i++) {
			if (strcmp(map->registers[i].name, text) == 0) {
				entry_of_register(map, &map->registers[i], e);
				*reg_out = &map->registers[i];
				return 0;
			}
		}
	}
	if (rc < 0) {
		/* The register's part of the name, for a suggestion. */
		size_t len = strcspn(text, "[");
		snprintf(err->unknown, sizeof(err->unknown), "%.*s", (int)len, text);
		err->unknown_in = NULL;
		return fail(err, line, "no register '%s' in map '%s'", text, map->name);
	}
	entry_of_register(map, ref.reg, e);
	e->first = ref.index;
	e->count = 1;
	*reg_out = ref.reg;
	return 0;
}

static uint64_t
bytes_mask(unsigned bytes)
{
	return bytes >= 8 ? UINT64_MAX : (UINT64_C(1) << (bytes * 8)) - 1;
}

/* "EN|MODE" (fields of reg) or a number, into bits of the register. */
static int
parse_mask(const struct regmap_register *reg, unsigned bytes, const char *text, int line,
	   uint64_t *out, struct regrules_error *err)
{
	char *end;
	errno = 0;
	unsigned long long n = strtoull(text, &end, 0);
	if (text[0] >= '0' && text[0] <= '9') {
		if (errno || *end) {
			return fail(err, line, "write_mask '%s' is not a number", text);
		}
		if (n & ~bytes_mask(bytes)) {
			return fail(err, line, "write_mask 0x%llx does not fit %s (%u bits)", n,
				    reg->name, bytes * 8);
		}
		*out = n;
		return 0;
	}
	uint64_t mask = 0;
	const char *p = text;
	while (*p) {
		p += strspn(p, " ");
		size_t len = strcspn(p, "| ");
		const struct regmap_field *f = NULL;
		for (unsigned i = 0; i < reg->n_fields && !f; i++) {
			if (strlen(reg->fields[i].name) == len &&
			    strncmp(reg->fields[i].name, p, len) == 0) {
				f = &reg->fields[i];
			}
		}
		if (!f) {
			snprintf(err->unknown, sizeof(err->unknown), "%.*s", (int)len, p);
			err->unknown_in = reg;
			return fail(err, line, "write_mask: %s has no field '%.*s'", reg->name,
				    (int)len, p);
		}
		mask |= regmap_field_mask(f);
		p += len;
		p += strspn(p, " ");
		if (*p == '|') {
			p++;
			if (!*(p + strspn(p, " "))) {
				return fail(err, line, "write_mask '%s' ends in |", text);
			}
		}
	}
	*out = mask;
	return 0;
}

static int
compile_rule(const struct regmap *map, const struct regrule_spec *s, struct regrule *e,
	     struct regrules_error *err)
{
	const struct regmap_register *reg = NULL;
	int rc = resolve(map, s->reg, s->line, e, &reg, err);
	if (rc < 0 || !reg) {
		return rc < 0 ? rc : -EINVAL;
	}
	e->named = true;
	if (s->widths) {
		for (unsigned b = 1; b <= 8; b *= 2) {
			if ((s->widths & regrules_width_bit(b)) && b > e->bytes) {
				return fail(err, s->line, "widths: %s is %u bits, not %u", e->name,
					    e->bytes * 8, b * 8);
			}
		}
		e->widths = s->widths;
	}
	if (s->write_mask[0]) {
		e->has_mask = true;
		if ((rc = parse_mask(reg, e->bytes, s->write_mask, s->line, &e->write_mask, err)) <
		    0) {
			return rc;
		}
	}
	e->preserve = s->preserve;
	if (s->preserve && !e->has_mask) {
		return fail(err, s->line, "mask_mode = \"preserve\" needs a write_mask");
	}
	enum regmap_access a = regmap_reg_access(reg);
	if (s->preserve && e->read_sensitive && a != REGMAP_W1C && a != REGMAP_W1S) {
		return fail(err, s->line,
			    "mask_mode = \"preserve\" on %s: reading it has side effects, so its "
			    "protected bits cannot be read back (use the default, refuse)",
			    e->name);
	}
	return 0;
}

static uint64_t
instance_offset(const struct regrule *e, uint64_t i)
{
	return e->offset + i * e->stride;
}

static void
set_span(struct regrules *t)
{
	bool any = false;
	uint64_t lo = 0;
	uint64_t hi = 0;
	for (unsigned i = 0; i < t->n; i++) {
		const struct regrule *e = &t->e[i];
		if (!e->named) {
			continue;
		}
		uint64_t s = instance_offset(e, e->first);
		uint64_t end = instance_offset(e, e->first + e->count - 1) + e->bytes;
		lo = any && lo < s ? lo : s;
		hi = any && hi > end ? hi : end;
		any = true;
	}
	t->span_start = lo;
	t->span_len = hi - lo;
}

int
regrules_compile(const struct regmap *map, const struct grant_rules *rules, bool map_only,
		 struct regrules **out, struct regrules_error *err)
{
	*out = NULL;
	bool has_items = rules && (rules->n_names || rules->n_rules);
	if (!map) {
		return has_items ? fail(err, 0, "register rules need the region's map") : 0;
	}
	struct regrules *t = calloc(1, sizeof(*t));
	if (!t) {
		return -ENOMEM;
	}
	int rc = 0;
	struct regrule *e;
	for (unsigned i = 0; i < map->n_registers && rc == 0; i++) {
		const struct regmap_register *reg = &map->registers[i];
		bool rs = !map_only && reg_read_sensitive(reg);
		if ((reg->widths || rs) && (rc = append(t, &e)) == 0) {
			entry_of_register(map, reg, e);
			e->widths = reg->widths;
			e->read_sensitive = rs;
		}
	}
	for (unsigned i = 0; !map_only && rules && i < rules->n_names && rc == 0; i++) {
		const struct regmap_register *reg;
		if ((rc = append(t, &e)) == 0 &&
		    (rc = resolve(map, rules->names[i].text, rules->names[i].line, e, &reg, err)) ==
			    0) {
			e->named = true;
			e->read_sensitive = false; /* the map's entry says so; this one allows it */
		}
	}
	for (unsigned i = 0; !map_only && rules && i < rules->n_rules && rc == 0; i++) {
		if ((rc = append(t, &e)) == 0) {
			rc = compile_rule(map, &rules->rules[i], e, err);
			e->read_sensitive = false;
		}
	}
	if (rc == -E2BIG) {
		rc = fail(err, 0, "too many register rules");
	}
	if (rc < 0 || t->n == 0) {
		regrules_free(t);
		return rc;
	}
	if (rules && !map_only) {
		t->exact = rules->exact;
		snprintf(t->label, sizeof(t->label), "%s", rules->label);
	}
	set_span(t);
	*out = t;
	return 0;
}

bool
regrules_covers(const struct regrules *t, uint64_t off, uint64_t len)
{
	if (len == 0) {
		return off >= t->span_start && off - t->span_start <= t->span_len;
	}
	/* Walks the bytes from off, register by register: at most one step per named instance. */
	uint64_t at = off;
	while (at - off < len) {
		bool found = false;
		for (unsigned i = 0; i < t->n && !found; i++) {
			const struct regrule *e = &t->e[i];
			if (!e->named || at < instance_offset(e, e->first)) {
				continue;
			}
			uint64_t rel = at - e->offset;
			uint64_t idx = e->stride ? rel / e->stride : 0;
			if (idx < e->first || idx >= e->first + e->count) {
				continue;
			}
			uint64_t start = instance_offset(e, idx);
			if (at - start < e->bytes) {
				at = start + e->bytes;
				found = true;
			}
		}
		if (!found) {
			return false;
		}
	}
	return true;
}

/* One instance of an entry that an access [off, off+bytes) touches. */
struct hit {
	const struct regrule *e;
	uint64_t index;
	uint64_t start; /* of the instance */
};

/* The instances of e that [off, off+bytes) overlaps, at most 8 (one per byte). */
static unsigned
hits_of(const struct regrule *e, uint64_t off, unsigned bytes, struct hit *out)
{
	unsigned n = 0;
	uint64_t first = instance_offset(e, e->first);
	uint64_t last_end = instance_offset(e, e->first + e->count - 1) + e->bytes;
	if (off + bytes <= first || off >= last_end) {
		return 0;
	}
	uint64_t idx = e->first;
	if (off > first && e->stride) {
		/* The instance whose stride slot holds off: the only one before off it can touch.
		 */
		idx = (off - e->offset) / e->stride;
	}
	for (; idx < e->first + e->count && n < 8; idx++) {
		uint64_t s = instance_offset(e, idx);
		if (s >= off + bytes) {
			break;
		}
		if (s + e->bytes > off) {
			out[n++] = (struct hit){.e = e, .index = idx, .start = s};
		}
		if (!e->stride) {
			break;
		}
	}
	return n;
}

static void
hit_name(const struct hit *h, char *buf, size_t len)
{
	if (h->e->stride && (h->e->count > 1 || h->e->first > 0 || h->index > 0)) {
		snprintf(buf, len, "%s[%" PRIu64 "]", h->e->name, h->index);
	} else {
		snprintf(buf, len, "%s", h->e->name);
	}
}

/* Whether the grant names the instance starting at start. */
static bool
named(const struct regrules *t, uint64_t start)
{
	for (unsigned i = 0; i < t->n; i++) {
		struct hit h[8];
		if (t->e[i].named && hits_of(&t->e[i], start, 1, h) > 0) {
			return true;
		}
	}
	return false;
}

static const char *
label_of(const struct regrules *t)
{
	return t->label[0] ? t->label : "this grant";
}

static void
widths_text(unsigned widths, char *buf, size_t len)
{
	buf[0] = '\0';
	for (unsigned b = 1; b <= 8; b *= 2) {
		if (widths & regrules_width_bit(b)) {
			size_t used = strlen(buf);
			snprintf(buf + used, len - used, "%s%u", used ? "/" : "", b * 8);
		}
	}
}

/* The width rule of a hit, for loads and stores. */
static int
check_width(const struct hit *h, const char *op, uint64_t off, unsigned bytes, char *why,
	    size_t why_len)
{
	if (!h->e->widths || (h->e->widths & regrules_width_bit(bytes))) {
		return 0;
	}
	char name[REGRULES_MAX_NAME + 1];
	char widths[32];
	hit_name(h, name, sizeof(name));
	widths_text(h->e->widths, widths, sizeof(widths));
	snprintf(why, why_len,
		 "%u-bit %s at 0x%" PRIx64 " of %s (0x%" PRIx64 "): it takes only %s-bit accesses",
		 bytes * 8, op, off, name, h->start, widths);
	return -EACCES;
}

int
regrules_check_load(const struct regrules *t, uint64_t off, unsigned bytes, char *why,
		    size_t why_len)
{
	for (unsigned i = 0; i < t->n; i++) {
		struct hit h[8];
		unsigned n = hits_of(&t->e[i], off, bytes, h);
		for (unsigned k = 0; k < n; k++) {
			int rc = check_width(&h[k], "load", off, bytes, why, why_len);
			if (rc < 0) {
				return rc;
			}
			if (h[k].e->read_sensitive && !named(t, h[k].start)) {
				char name[REGRULES_MAX_NAME + 1];
				hit_name(&h[k], name, sizeof(name));
				snprintf(why, why_len,
					 "reading %s (0x%" PRIx64
					 ") has side effects: %s must name "
					 "it (registers = [\"%s\"])",
					 name, h[k].start, label_of(t), name);
				return -EACCES;
			}
		}
	}
	return 0;
}

/* v moved by n bytes, left or right; 0 past 8 (never here: a hit overlaps its access). */
static uint64_t
shift_bytes(uint64_t v, uint64_t n, bool left)
{
	if (n >= 8) {
		return 0;
	}
	return left ? v << (n * 8) : v >> (n * 8);
}

/* The bits of a register value (mask) as they land in an access of bytes at off, and back. */
static uint64_t
to_access(uint64_t reg_bits, const struct hit *h, uint64_t off, unsigned bytes)
{
	uint64_t placed = h->start >= off ? shift_bytes(reg_bits, h->start - off, true)
					  : shift_bytes(reg_bits, off - h->start, false);
	return placed & bytes_mask(bytes);
}

static uint64_t
to_register(uint64_t access_bits, const struct hit *h, uint64_t off)
{
	uint64_t bits = h->start >= off ? shift_bytes(access_bits, h->start - off, false)
					: shift_bytes(access_bits, off - h->start, true);
	return bits & bytes_mask(h->e->bytes);
}

static int
refuse_mask(const struct regrules *t, const struct hit *h, uint64_t off, uint64_t changed,
	    char *why, size_t why_len)
{
	char name[REGRULES_MAX_NAME + 1];
	hit_name(h, name, sizeof(name));
	unsigned digits = h->e->bytes * 2;
	snprintf(why, why_len,
		 "store to %s (0x%" PRIx64 ") would change bits 0x%0*" PRIx64
		 " outside its write mask 0x%0*" PRIx64 " (%s)",
		 name, h->start, (int)digits, to_register(changed, h, off), (int)digits,
		 h->e->write_mask, label_of(t));
	return -EACCES;
}

bool
regrules_store_judged_on_old(const struct regrules *t, uint64_t off, unsigned bytes)
{
	for (unsigned i = 0; i < t->n; i++) {
		struct hit h[8];
		unsigned n = hits_of(&t->e[i], off, bytes, h);
		for (unsigned k = 0; k < n; k++) {
			if (h[k].e->has_mask && !h[k].e->no_load && !h[k].e->preserve) {
				return true;
			}
		}
	}
	return false;
}

int
regrules_check_store(const struct regrules *t, uint64_t off, unsigned bytes, uint64_t value,
		     const uint64_t *old, uint64_t *out, char *why, size_t why_len)
{
	uint64_t keep = 0;  /* protected bits a store must not change, judged against old */
	uint64_t merge = 0; /* protected bits preserve takes from old */
	for (unsigned i = 0; i < t->n; i++) {
		struct hit h[8];
		unsigned n = hits_of(&t->e[i], off, bytes, h);
		for (unsigned k = 0; k < n; k++) {
			int rc = check_width(&h[k], "store", off, bytes, why, why_len);
			if (rc < 0) {
				return rc;
			}
			if (!h[k].e->has_mask) {
				continue;
			}
			uint64_t prot = to_access(~h[k].e->write_mask & bytes_mask(h[k].e->bytes),
						  &h[k], off, bytes);
			if (!h[k].e->no_load) {
				*(h[k].e->preserve ? &merge : &keep) |= prot;
			} else if (h[k].e->preserve) {
				value &= ~prot; /* w1c/w1s: a 0 changes nothing */
			} else if (value & prot) {
				return refuse_mask(t, &h[k], off, value & prot, why, why_len);
			}
		}
	}
	if ((keep | merge) && !old) {
		return REGRULES_NEED_OLD;
	}
	if (keep && ((*old ^ value) & keep)) {
		/* Name the register whose protected bits would change. */
		for (unsigned i = 0; i < t->n; i++) {
			struct hit h[8];
			unsigned n = hits_of(&t->e[i], off, bytes, h);
			for (unsigned k = 0; k < n; k++) {
				if (!h[k].e->has_mask || h[k].e->no_load || h[k].e->preserve) {
					continue;
				}
				uint64_t prot =
					to_access(~h[k].e->write_mask & bytes_mask(h[k].e->bytes),
						  &h[k], off, bytes);
				if ((*old ^ value) & prot) {
					return refuse_mask(t, &h[k], off, (*old ^ value) & prot,
							   why, why_len);
				}
			}
		}
	}
	*out = merge ? (value & ~merge) | (*old & merge) : value;
	return 0;
}
