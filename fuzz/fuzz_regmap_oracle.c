/* What ListRegisters must answer (fuzz_regmap_oracle.h). */
#include <string.h>

#include "fuzz_common.h"
#include "fuzz_maps.h"
#include "fuzz_policy.h"
#include "fuzz_regmap_oracle.h"

/*
 * What a reply keeps around its registers (ids, status, detail, the map's own fields), as
 * docs/PROTOCOL.md says: a page holds registers while a bound of their size fits the frame
 * less 1 KiB.
 */
#define ENVELOPE_SLACK 1024

/* Bounds of a string's encoding: tag, length and bytes (proto3 leaves out an empty one). */
static size_t
string_low(const char *text)
{
	size_t len = text ? strlen(text) : 0;
	return len ? len + 2 : 0;
}

static size_t
string_high(const char *text)
{
	return (text ? strlen(text) : 0) + 4;
}

/*
 * Bounds of a register's encoding in a page (RegisterInfo, nested): low counts only its
 * strings and nesting, high gives every number its 11 bytes and every message room to spare.
 */
static void
register_bounds(const struct regmap_register *r, size_t *low, size_t *high)
{
	*low = 2 + string_low(r->name) + string_low(r->description);
	*high = 100 + string_high(r->name) + string_high(r->description);
	for (unsigned f = 0; f < r->n_fields; f++) {
		const struct regmap_field *field = &r->fields[f];
		*low += 2 + string_low(field->name) + string_low(field->description);
		*high += 50 + string_high(field->name) + string_high(field->description);
		for (unsigned v = 0; v < field->n_values; v++) {
			*low += 2 + string_low(field->values[v].name);
			*high += 25 + string_high(field->values[v].name);
		}
	}
}

static const char *
text_or_empty(const char *text)
{
	return text ? text : "";
}

static void
check_field(const struct regmap_register *r, const struct regmap_field *f,
	    const Mmio__RegisterField *got)
{
	FUZZ_CHECK(strcmp(got->name, f->name) == 0 && got->msb == f->msb && got->lsb == f->lsb);
	enum regmap_access access = f->has_access   ? f->access
				    : r->has_access ? r->access
						    : REGMAP_RW;
	FUZZ_CHECK(strcmp(got->access, fuzz_access_name(access)) == 0);
	FUZZ_CHECK(strcmp(got->description, text_or_empty(f->description)) == 0);
	FUZZ_CHECK(got->n_values == f->n_values);
	for (unsigned v = 0; v < f->n_values; v++) {
		FUZZ_CHECK(strcmp(got->values[v]->name, f->values[v].name) == 0 &&
			   got->values[v]->value == f->values[v].value);
	}
}

static void
check_register(const struct regmap *map, const struct regmap_register *r,
	       const Mmio__RegisterInfo *got)
{
	FUZZ_CHECK(strcmp(got->name, r->name) == 0 && got->offset == r->offset);
	FUZZ_CHECK(got->width_bits == (r->width ? r->width : map->width));
	FUZZ_CHECK(strcmp(got->access, fuzz_access_name(r->has_access ? r->access : REGMAP_RW)) ==
		   0);
	FUZZ_CHECK(got->has_reset == r->has_reset && got->reset == (r->has_reset ? r->reset : 0));
	FUZZ_CHECK(strcmp(got->description, text_or_empty(r->description)) == 0);
	FUZZ_CHECK(got->count == r->count && got->stride == r->stride);
	FUZZ_CHECK(got->side_effects == r->side_effects);
	FUZZ_CHECK(got->n_fields == r->n_fields);
	for (unsigned f = 0; f < r->n_fields; f++) {
		check_field(r, &r->fields[f], got->fields[f]);
	}
}

/* The map a caller may see of the region of that name, as built: NULL if none. */
static const struct regmap *
visible_map(const struct session *s, const char *name)
{
	const struct region *r = fuzz_find_region(name);
	if (!r || !(fuzz_is_admin(&s->who) || fuzz_leases_some(r, &s->who) ||
		    fuzz_may_drive(r, &s->who))) {
		return NULL;
	}
	if (r == fuzz_world.table.regions[FUZZ_REGION_DEV]) {
		return fuzz_map_dev();
	}
	return r == fuzz_world.table.regions[FUZZ_REGION_REGS] ? fuzz_map_regs() : NULL;
}

void
fuzz_check_register_map(const struct session *s, const Mmio__ListRegisters *req,
			const Mmio__Reply *reply)
{
	const struct regmap *map = visible_map(s, req->region);
	bool refused = reply->status != MMIO__STATUS__OK;
	FUZZ_CHECK(refused == (reply->body_case == MMIO__REPLY__BODY__NOT_SET));
	if (!map) {
		/* Not shown, unknown, or no map: the same NOT_FOUND. */
		FUZZ_CHECK(reply->status == MMIO__STATUS__NOT_FOUND);
		return;
	}
	unsigned n = map->n_registers;
	if (req->first > n) {
		FUZZ_CHECK(reply->status == MMIO__STATUS__OUT_OF_RANGE);
		return;
	}
	size_t frame = fuzz_world.svc.limits.max_frame;
	size_t low;
	size_t high;
	if (req->first < n) {
		register_bounds(&map->registers[req->first], &low, &high);
		/* Too big for any frame: refused; surely small enough: listed. */
		if (low > frame || reply->status == MMIO__STATUS__RESOURCE_EXHAUSTED) {
			FUZZ_CHECK(reply->status == MMIO__STATUS__RESOURCE_EXHAUSTED &&
				   high + ENVELOPE_SLACK > frame);
			return;
		}
	}
	FUZZ_CHECK(reply->status == MMIO__STATUS__OK &&
		   reply->body_case == MMIO__REPLY__BODY_REGISTER_MAP);
	FUZZ_CHECK(mmio__reply__get_packed_size(reply) <= frame);
	const Mmio__RegisterMap *page = reply->register_map;
	FUZZ_CHECK(strcmp(page->region, req->region) == 0 && strcmp(page->name, map->name) == 0);
	FUZZ_CHECK(page->total == n && page->width_bits == map->width);
	size_t k = page->n_registers;
	FUZZ_CHECK(k <= n - req->first && (k > 0 || req->first == n));
	size_t page_high = 0;
	for (size_t i = 0; i < k; i++) {
		const struct regmap_register *r = &map->registers[req->first + i];
		check_register(map, r, page->registers[i]);
		register_bounds(r, &low, &high);
		page_high += high;
	}
	FUZZ_CHECK(page->next == req->first + k && page->more == (page->next < n));
	if (page->more) {
		/* Cut only where the next register might not have fit. */
		register_bounds(&map->registers[page->next], &low, &high);
		FUZZ_CHECK(page_high + high + ENVELOPE_SLACK > frame);
	}
}
