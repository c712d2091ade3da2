/*
 * Registers by name: a region's register map fetched from mmiod (ListRegisters) on a client's
 * first use of it, kept until disconnect, and the loads, stores and masked modifies by name.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_internal.h"
#include "parse.h"
#include "text.h"

/* Most pages a map may take (a map has at most 4096 registers, each page at least one). */
#define MAX_PAGES 4096
/* Longest name this file parses ("ARR[65535].FIELD" fits easily). */
#define MAX_NAME_TEXT 160

struct client_regmap {
	struct client_regmap *next;
	char region[MMIO_MAX_NAME + 1];
	Mmio__Reply **pages; /* unpacked replies, owned: the public structs point into them */
	unsigned n_pages;
	unsigned n_regs, n_fields, n_values; /* counted while the pages arrive */
	struct mmio_regmap pub;
	struct mmio_regmap_register *regs;
	struct mmio_regmap_field *fields;
	struct mmio_regmap_value *values;
};

static void
regmap_free(struct client_regmap *m)
{
	for (unsigned i = 0; i < m->n_pages; i++) {
		client_free_reply(m->pages[i]);
	}
	free(m->pages);
	free(m->regs);
	free(m->fields);
	free(m->values);
	free(m);
}

void
client_regmaps_free(struct mmio_client *c)
{
	struct client_regmap *next;
	for (struct client_regmap *m = c->regmaps; m; m = next) {
		next = m->next;
		regmap_free(m);
	}
	c->regmaps = NULL;
}

static void set_detail(struct mmio_client *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Sets the calling thread's detail on c. c->lock held. */
static void
set_detail(struct mmio_client *c, const char *fmt, ...)
{
	char text[192];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	client_detail_clear(c);
	client_detail_set(c, text);
}

/* The detail set, and rc for the caller to return (a macro: the analyzer sees rc). */
#define fail(c, rc, ...) (set_detail((c), __VA_ARGS__), (rc))

/* Checks one page's registers and counts them into m; the page is m's from then on. */
static int
add_page(struct client_regmap *m, Mmio__Reply *page)
{
	const Mmio__RegisterMap *rm = page->register_map;
	m->pages[m->n_pages++] = page;
	if (rm->n_registers > rm->total || m->n_regs + rm->n_registers > rm->total) {
		return -EPROTO;
	}
	for (size_t i = 0; i < rm->n_registers; i++) {
		const Mmio__RegisterInfo *r = rm->registers[i];
		unsigned w = r->width_bits;
		if (!r->name || !r->access || !r->description ||
		    (w != 8 && w != 16 && w != 32 && w != 64) || r->count == 0 ||
		    (r->count > 1 && r->stride == 0)) {
			return -EPROTO;
		}
		for (size_t f = 0; f < r->n_fields; f++) {
			const Mmio__RegisterField *fd = r->fields[f];
			if (!fd->name || !fd->access || !fd->description || fd->msb >= w ||
			    fd->lsb > fd->msb) {
				return -EPROTO;
			}
			for (size_t v = 0; v < fd->n_values; v++) {
				if (!fd->values[v]->name) {
					return -EPROTO;
				}
			}
			/* Each page is bounded by the frame: these sums cannot wrap. */
			m->n_values += (unsigned)fd->n_values;
		}
		m->n_fields += (unsigned)r->n_fields;
		m->n_regs++;
	}
	return 0;
}

/* The public structs of m, over its pages: one array each of registers, fields and values. */
static int
build_public(struct client_regmap *m)
{
	m->regs = calloc(m->n_regs ? m->n_regs : 1, sizeof(*m->regs));
	m->fields = calloc(m->n_fields ? m->n_fields : 1, sizeof(*m->fields));
	m->values = calloc(m->n_values ? m->n_values : 1, sizeof(*m->values));
	if (!m->regs || !m->fields || !m->values) {
		return -ENOMEM;
	}
	unsigned nr = 0;
	unsigned nf = 0;
	unsigned nv = 0;
	for (unsigned p = 0; p < m->n_pages; p++) {
		const Mmio__RegisterMap *rm = m->pages[p]->register_map;
		for (size_t i = 0; i < rm->n_registers; i++) {
			const Mmio__RegisterInfo *r = rm->registers[i];
			struct mmio_regmap_register *out = &m->regs[nr++];
			*out = (struct mmio_regmap_register){
				.name = r->name,
				.offset = r->offset,
				.width = r->width_bits / 8,
				.access = r->access,
				.has_reset = r->has_reset,
				.reset = r->reset,
				.side_effects = r->side_effects,
				.count = r->count,
				.stride = r->count > 1 ? r->stride : 0,
				.description = r->description,
				.n_fields = r->n_fields,
				.fields = &m->fields[nf],
			};
			for (size_t f = 0; f < r->n_fields; f++) {
				const Mmio__RegisterField *fd = r->fields[f];
				m->fields[nf++] = (struct mmio_regmap_field){
					.name = fd->name,
					.msb = fd->msb,
					.lsb = fd->lsb,
					.access = fd->access,
					.description = fd->description,
					.n_values = fd->n_values,
					.values = &m->values[nv],
				};
				for (size_t v = 0; v < fd->n_values; v++) {
					m->values[nv++] = (struct mmio_regmap_value){
						.name = fd->values[v]->name,
						.value = fd->values[v]->value,
					};
				}
			}
		}
	}
	const Mmio__RegisterMap *first = m->n_pages ? m->pages[0]->register_map : NULL;
	unsigned w = first ? first->width_bits : 0;
	m->pub = (struct mmio_regmap){
		.region = m->region,
		.name = first && first->name ? first->name : "",
		.width = (w == 8 || w == 16 || w == 32 || w == 64) ? w / 8 : 0,
		.n_registers = m->n_regs,
		.registers = m->regs,
	};
	return 0;
}

/* The map of region, fetched now if not yet. c->lock held. */
static int
regmap_get(struct mmio_client *c, const char *region, struct client_regmap **out)
{
	if (strlen(region) > MMIO_MAX_NAME) {
		/* mmiod's words for a region it does not have; never cut to another's name. */
		char shown[MMIO_MAX_NAME + 1];
		return fail(c, -ENOENT, "no region named '%s...'",
			    text_copy_printable(shown, sizeof(shown), region));
	}
	for (struct client_regmap *m = c->regmaps; m; m = m->next) {
		if (strcmp(m->region, region) == 0) {
			*out = m;
			return 0;
		}
	}
	struct client_regmap *m = calloc(1, sizeof(*m));
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers */
	Mmio__Reply **pages = calloc(MAX_PAGES, sizeof(*pages));
	if (!m || !pages) {
		free(m);
		free(pages);
		return -ENOMEM;
	}
	m->pages = pages;
	snprintf(m->region, sizeof(m->region), "%s", region);
	int rc = 0;
	uint32_t first = 0;
	for (bool more = true; more;) {
		if (m->n_pages == MAX_PAGES) {
			rc = -EPROTO;
			break;
		}
		Mmio__ListRegisters body = MMIO__LIST_REGISTERS__INIT;
		body.region = m->region;
		body.first = first;
		Mmio__Request req = MMIO__REQUEST__INIT;
		req.body_case = MMIO__REQUEST__BODY_LIST_REGISTERS;
		req.list_registers = &body;
		Mmio__Reply *reply;
		rc = client_call(c, &req, &reply, MMIO__REPLY__BODY_REGISTER_MAP);
		if (rc < 0) {
			if (reply) {
				client_free_reply(reply);
			}
			break;
		}
		const Mmio__RegisterMap *rm = reply->register_map;
		/* Each page must move on, or a hostile daemon would keep us here. */
		more = rm->more;
		bool stuck = more && rm->next <= first;
		first = rm->next;
		if ((rc = add_page(m, reply)) < 0 || (stuck && (rc = -EPROTO))) {
			break;
		}
	}
	if (rc == 0 && m->n_regs != (m->n_pages ? m->pages[0]->register_map->total : 0)) {
		rc = -EPROTO; /* the map changed between pages, or pages were missing */
	}
	if (rc == 0) {
		rc = build_public(m);
	}
	if (rc < 0) {
		regmap_free(m);
		return rc;
	}
	m->next = c->regmaps;
	c->regmaps = m;
	*out = m;
	return 0;
}

/* Keeps the closest of the names offered so far, if close enough to name to be a slip. */
struct suggestion {
	const char *name;
	const char *best;
	unsigned distance;
};

static void
suggest(struct suggestion *s, const char *candidate)
{
	unsigned d = text_edit_distance(s->name, candidate);
	if (text_is_slip(s->name, candidate) && (!s->best || d < s->distance)) {
		s->best = candidate;
		s->distance = d;
	}
}

/* " (did you mean X?)" or "". */
static void
suggestion_text(const struct suggestion *s, char *out, size_t cap)
{
	if (s->best) {
		char name[MMIO_MAX_NAME + 1];
		snprintf(out, cap, " (did you mean %s?)",
			 text_copy_printable(name, sizeof(name), s->best));
	} else {
		out[0] = '\0';
	}
}

/* The parts of "REG[i].FIELD". */
struct name_parts {
	char reg[MAX_NAME_TEXT + 1];
	bool has_index;
	uint64_t index;
	const char *field; /* into reg's buffer, or NULL */
};

static int
split_name(const char *name, struct name_parts *p)
{
	memset(p, 0, sizeof(*p));
	size_t len = strlen(name);
	if (len == 0 || len > MAX_NAME_TEXT) {
		return -EINVAL;
	}
	memcpy(p->reg, name, len + 1);
	char *dot = strchr(p->reg, '.');
	if (dot) {
		*dot = '\0';
		p->field = dot + 1;
		if (!*p->field || strchr(p->field, '.')) {
			return -EINVAL;
		}
	}
	char *open = strchr(p->reg, '[');
	if (open) {
		size_t n = strlen(open);
		if (n < 3 || open[n - 1] != ']') {
			return -EINVAL;
		}
		open[n - 1] = '\0';
		/* Decimal, no leading zero, as the map names instances. */
		for (const char *d = open + 1; *d; d++) {
			if (*d < '0' || *d > '9') {
				return -EINVAL;
			}
		}
		if (parse_u64(open + 1, &p->index) < 0) {
			return -EINVAL;
		}
		p->has_index = true;
		*open = '\0';
	}
	return p->reg[0] ? 0 : -EINVAL;
}

/* What a name found in a region's map: one instance of a register, and maybe a field. */
struct found {
	const struct mmio_regmap_register *reg;
	const struct mmio_regmap_field *field; /* NULL: the whole register */
	uint64_t index;
	uint64_t offset; /* of the instance, in the region */
};

/*
 * Resolves name in region's map: the one lookup behind every call by name, leased or not.
 * c->lock held; the detail set on failure.
 */
static int
lookup_locked(struct mmio_client *c, const char *region, const char *name, struct found *out)
{
	memset(out, 0, sizeof(*out));
	char shown[MAX_NAME_TEXT + 1];
	text_copy_printable(shown, sizeof(shown), name);
	struct name_parts p;
	if (split_name(name, &p) < 0) {
		return fail(c, -EINVAL,
			    "'%s' is not a register name (REG, REG.FIELD, ARR[i].FIELD)", shown);
	}
	struct client_regmap *m;
	int rc = regmap_get(c, region, &m);
	if (rc < 0) {
		return rc; /* the daemon's detail, if it gave one */
	}
	const struct mmio_regmap_register *reg = NULL;
	struct suggestion sg = {.name = p.reg};
	for (unsigned i = 0; i < m->n_regs && !reg; i++) {
		if (strcmp(m->regs[i].name, p.reg) == 0) {
			reg = &m->regs[i];
		} else {
			suggest(&sg, m->regs[i].name);
		}
	}
	char hint[MMIO_MAX_NAME + 32];
	if (!reg) {
		suggestion_text(&sg, hint, sizeof(hint));
		text_copy_printable(shown, sizeof(shown), p.reg);
		return fail(c, -ENOENT, "no register '%s' in %s%s", shown, m->region, hint);
	}
	if (reg->count > 1 && !p.has_index) {
		return fail(c, -EINVAL, "%s is an array of %" PRIu64 ": name one, %s[0]", reg->name,
			    reg->count, reg->name);
	}
	if (p.has_index && p.index >= reg->count) {
		return fail(c, -ENOENT, "no register %s[%" PRIu64 "] in %s (%s has %" PRIu64 ")",
			    reg->name, p.index, m->region, reg->name, reg->count);
	}
	const struct mmio_regmap_field *field = NULL;
	if (p.field) {
		struct suggestion fs = {.name = p.field};
		for (size_t f = 0; f < reg->n_fields && !field; f++) {
			if (strcmp(reg->fields[f].name, p.field) == 0) {
				field = &reg->fields[f];
			} else {
				suggest(&fs, reg->fields[f].name);
			}
		}
		if (!field) {
			suggestion_text(&fs, hint, sizeof(hint));
			text_copy_printable(shown, sizeof(shown), p.field);
			return fail(c, -ENOENT, "no field '%s' in %s of %s%s", shown, reg->name,
				    m->region, hint);
		}
	}
	out->reg = reg;
	out->field = field;
	out->index = p.index;
	/* The map was validated against the region: no instance's offset overflows. */
	out->offset = reg->offset + p.index * reg->stride;
	return 0;
}

/* Bits msb..lsb set. */
static uint64_t
bits_mask(unsigned msb, unsigned lsb)
{
	unsigned bits = msb - lsb + 1;
	return (bits == 64 ? UINT64_MAX : ((UINT64_C(1) << bits) - 1)) << lsb;
}

/* f as the public struct, its offset counted from base (a lease's start, or 0). */
static void
fill_reg(const struct found *f, uint64_t base, struct mmio_reg *out)
{
	memset(out, 0, sizeof(*out));
	out->name = f->reg->name;
	out->field = f->field ? f->field->name : NULL;
	out->access = f->field ? f->field->access : f->reg->access;
	out->index = f->index;
	out->offset = f->offset - base;
	out->width = f->reg->width;
	out->msb = f->field ? f->field->msb : f->reg->width * 8 - 1;
	out->lsb = f->field ? f->field->lsb : 0;
	out->mask = bits_mask(out->msb, out->lsb);
	out->is_field = f->field != NULL;
}

/* Whether the register of f lies inside lease; else the detail set. c->lock held. */
static int
check_in_lease(struct mmio_lease *lease, const struct found *f, const char *name)
{
	uint64_t abs = f->offset;
	unsigned width = f->reg->width;
	if (abs < lease->start || abs - lease->start > lease->length ||
	    lease->length - (abs - lease->start) < width) {
		char shown[MAX_NAME_TEXT + 1];
		return fail(lease->client, -ERANGE,
			    "%s (offset 0x%" PRIx64 " of %s) is outside the lease [0x%" PRIx64
			    ", +0x%" PRIx64 ")",
			    text_copy_printable(shown, sizeof(shown), name), abs, lease->region,
			    lease->start, lease->length);
	}
	return 0;
}

int
mmio_regmap_get(struct mmio_client *client, const char *region, const struct mmio_regmap **out)
{
	pthread_mutex_lock(&client->lock);
	client_detail_clear(client);
	struct client_regmap *m;
	int rc = regmap_get(client, region, &m);
	if (rc == 0) {
		*out = &m->pub;
	}
	pthread_mutex_unlock(&client->lock);
	return rc;
}

int
mmio_regmap_find(struct mmio_client *client, const char *region, const char *name,
		 struct mmio_reg *out)
{
	pthread_mutex_lock(&client->lock);
	client_detail_clear(client);
	struct found f = {0};
	int rc = lookup_locked(client, region, name, &f);
	if (rc == 0) {
		fill_reg(&f, 0, out);
	}
	pthread_mutex_unlock(&client->lock);
	return rc;
}

int
mmio_reg_find(struct mmio_lease *lease, const char *name, struct mmio_reg *out)
{
	struct mmio_client *c = lease->client;
	pthread_mutex_lock(&c->lock);
	client_detail_clear(c);
	struct found f = {0};
	int rc = lookup_locked(c, lease->region, name, &f);
	if (rc == 0 && (rc = check_in_lease(lease, &f, name)) == 0) {
		fill_reg(&f, lease->start, out);
	}
	pthread_mutex_unlock(&c->lock);
	return rc;
}

int
mmio_reg_load(struct mmio_lease *lease, const char *name, uint64_t *value)
{
	struct mmio_reg r = {0};
	uint64_t v = 0;
	int rc = mmio_reg_find(lease, name, &r);
	if (rc == 0 && (rc = mmio_load(lease, r.offset, r.width, &v)) == 0) {
		*value = (v & r.mask) >> r.lsb;
	}
	return rc;
}

/* Whether value fits r's bits; else the detail set and false. */
static bool
fits(struct mmio_lease *lease, const struct mmio_reg *r, const char *name, uint64_t value)
{
	uint64_t max = r->mask >> r->lsb;
	if (value <= max) {
		return true;
	}
	struct mmio_client *c = lease->client;
	char shown[MAX_NAME_TEXT + 1];
	pthread_mutex_lock(&c->lock);
	set_detail(c, "value 0x%" PRIx64 " does not fit %s (%u bits, at most 0x%" PRIx64 ")", value,
		   text_copy_printable(shown, sizeof(shown), name), r->msb - r->lsb + 1, max);
	pthread_mutex_unlock(&c->lock);
	return false;
}

int
mmio_reg_store(struct mmio_lease *lease, const char *name, uint64_t value)
{
	struct mmio_reg r = {0};
	int rc = mmio_reg_find(lease, name, &r);
	if (rc < 0) {
		return rc;
	}
	if (!fits(lease, &r, name, value)) {
		return -EINVAL;
	}
	if (!r.is_field) {
		return mmio_store(lease, r.offset, r.width, value);
	}
	return mmio_modify(lease, r.offset, r.width, r.mask, value << r.lsb, NULL);
}

/*
 * "REG.FIELD=VALUE" resolved in region: the field, and VALUE (a number or one of the field's
 * value names) shifted into place. c->lock held.
 */
static int
resolve_assignment(struct mmio_client *c, const char *region, const char *text, struct found *f,
		   uint64_t *bits)
{
	char name[MAX_NAME_TEXT + 1];
	char shown[MAX_NAME_TEXT + 1];
	text_copy_printable(shown, sizeof(shown), text);
	const char *eq = strchr(text, '=');
	if (!eq || (size_t)(eq - text) > MAX_NAME_TEXT) {
		return fail(c, -EINVAL, "'%s' is not REG.FIELD=VALUE", shown);
	}
	memcpy(name, text, (size_t)(eq - text));
	name[eq - text] = '\0';
	int rc = lookup_locked(c, region, name, f);
	if (rc < 0) {
		return rc;
	}
	const struct mmio_regmap_field *field = f->field;
	if (!field) {
		return fail(c, -EINVAL, "'%s' names a whole register, not a field", shown);
	}
	const char *v = eq + 1;
	uint64_t value;
	if (parse_u64(v, &value) < 0) {
		const struct mmio_regmap_value *found = NULL;
		struct suggestion sg = {.name = v};
		for (size_t i = 0; i < field->n_values && !found; i++) {
			if (strcmp(field->values[i].name, v) == 0) {
				found = &field->values[i];
			} else {
				suggest(&sg, field->values[i].name);
			}
		}
		if (!found) {
			char hint[MMIO_MAX_NAME + 32];
			suggestion_text(&sg, hint, sizeof(hint));
			return fail(c, -EINVAL, "'%s': not a number nor a value of %s.%s%s", shown,
				    f->reg->name, field->name, hint);
		}
		value = found->value;
	}
	unsigned width = field->msb - field->lsb + 1;
	uint64_t max = width == 64 ? UINT64_MAX : (UINT64_C(1) << width) - 1;
	if (value > max) {
		return fail(c, -EINVAL,
			    "'%s': 0x%" PRIx64 " does not fit %s.%s (%u bits, at most 0x%" PRIx64
			    ")",
			    shown, value, f->reg->name, field->name, width, max);
	}
	*bits = value << field->lsb;
	return 0;
}

/* The n assignments, all fields of one register instance, as one mask and value. c->lock held. */
static int
encode_locked(struct mmio_client *c, const char *region, const char *const *assignments, size_t n,
	      struct found *reg, uint64_t *mask_out, uint64_t *value_out)
{
	if (n == 0) {
		return fail(c, -EINVAL, "no field to store");
	}
	uint64_t mask = 0;
	uint64_t value = 0;
	for (size_t i = 0; i < n; i++) {
		struct found f = {0};
		uint64_t bits = 0;
		int rc = resolve_assignment(c, region, assignments[i], &f, &bits);
		if (rc < 0) {
			return rc;
		}
		uint64_t field_mask = bits_mask(f.field->msb, f.field->lsb);
		if (i == 0) {
			*reg = f;
		} else if (f.reg != reg->reg || f.index != reg->index) {
			char a[MAX_NAME_TEXT + 1];
			char b[MAX_NAME_TEXT + 1];
			return fail(c, -EINVAL,
				    "'%s' and '%s' are fields of different registers: one store "
				    "sets fields of one register",
				    text_copy_printable(a, sizeof(a), assignments[0]),
				    text_copy_printable(b, sizeof(b), assignments[i]));
		} else if (mask & field_mask) {
			return fail(c, -EINVAL, "field %s.%s is given twice", f.reg->name,
				    f.field->name);
		}
		mask |= field_mask;
		value |= bits;
	}
	reg->field = NULL;
	*mask_out = mask;
	*value_out = value;
	return 0;
}

int
mmio_regmap_encode_fields(struct mmio_client *client, const char *region,
			  const char *const *assignments, size_t n, struct mmio_reg *reg,
			  uint64_t *mask, uint64_t *value)
{
	pthread_mutex_lock(&client->lock);
	client_detail_clear(client);
	struct found f = {0};
	int rc = encode_locked(client, region, assignments, n, &f, mask, value);
	if (rc == 0) {
		fill_reg(&f, 0, reg);
	}
	pthread_mutex_unlock(&client->lock);
	return rc;
}

int
mmio_reg_store_fields(struct mmio_lease *lease, const char *const *assignments, size_t n)
{
	struct mmio_client *c = lease->client;
	struct found f = {0};
	uint64_t mask = 0;
	uint64_t value = 0;
	pthread_mutex_lock(&c->lock);
	client_detail_clear(c);
	int rc = encode_locked(c, lease->region, assignments, n, &f, &mask, &value);
	if (rc == 0) {
		rc = check_in_lease(lease, &f, f.reg->name);
	}
	pthread_mutex_unlock(&c->lock);
	if (rc < 0) {
		return rc;
	}
	return mmio_modify(lease, f.offset - lease->start, f.reg->width, mask, value, NULL);
}

const char *
mmio_regmap_name_at(const struct mmio_regmap *map, uint64_t offset, char *buf, size_t len)
{
	for (size_t i = 0; map && len > 0 && i < map->n_registers; i++) {
		const struct mmio_regmap_register *r = &map->registers[i];
		if (offset < r->offset) {
			continue;
		}
		uint64_t rel = offset - r->offset;
		uint64_t index = r->count > 1 && r->stride ? rel / r->stride : 0;
		if (index >= r->count) {
			continue;
		}
		uint64_t inside = rel - index * r->stride;
		if (inside >= r->width) {
			continue;
		}
		int n = r->count > 1 ? snprintf(buf, len, "%s[%" PRIu64 "]", r->name, index)
				     : snprintf(buf, len, "%s", r->name);
		if (n > 0 && inside && (size_t)n < len) {
			(void)snprintf(buf + n, len - (size_t)n, "+0x%" PRIx64, inside);
		}
		return buf;
	}
	return NULL;
}
