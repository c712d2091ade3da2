/*
 * ListRegisters: a region's register map (core/regmap.h), for the callers the region is listed
 * to, one page of registers at a time.
 *
 * Bounded: a map may hold 4096 registers of 64 fields of 256 values (core/limits.h), far more
 * than one frame. A page holds the registers from the asked index on while an upper bound of
 * their encoded size stays within the frame; a register whose bound alone exceeds it (hundreds
 * of long value names) is refused with RESOURCE_EXHAUSTED rather than cut.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <string.h>

#include "core/regmap.h"
#include "device/region.h"
#include "device/region_table.h"
#include "mmio_limits.h"
#include "request/handlers.h"
#include "request/service.h"
#include "text.h"

/* Room kept in a frame for the Reply and RegisterMap around the registers (ids, detail, names). */
#define ENVELOPE_BYTES 1024

static size_t
varint_bytes(uint64_t v)
{
	size_t n = 1;
	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

/* Upper bounds of the encoded sizes: a tag and length per string, 11 bytes per number. */
static size_t
string_bound(const char *text)
{
	size_t len = text ? strlen(text) : 0;
	return 1 + varint_bytes(len) + len;
}

#define NUMBER_BOUND ((size_t)11)
#define ACCESS_BOUND (2 + 3) /* "w1c" */

/* A nested message: its tag and length (at most 6 bytes for any size a frame could hold). */
#define NESTED_BOUND 6

static size_t
register_bound(const struct regmap_register *reg)
{
	size_t n = NESTED_BOUND + string_bound(reg->name) + 3 * NUMBER_BOUND + ACCESS_BOUND + 2 +
		   NUMBER_BOUND + string_bound(reg->description) + 2 * NUMBER_BOUND + 2;
	for (unsigned f = 0; f < reg->n_fields; f++) {
		const struct regmap_field *field = &reg->fields[f];
		n += NESTED_BOUND + string_bound(field->name) + 2 * NUMBER_BOUND + ACCESS_BOUND +
		     string_bound(field->description);
		for (unsigned v = 0; v < field->n_values; v++) {
			n += NESTED_BOUND + string_bound(field->values[v].name) + NUMBER_BOUND;
		}
	}
	return n;
}

/* Storage of one page, carved from one allocation each. */
struct page {
	Mmio__RegisterInfo *regs;
	Mmio__RegisterInfo **reg_ptrs;
	Mmio__RegisterField *fields;
	Mmio__RegisterField **field_ptrs;
	Mmio__RegisterValue *values;
	Mmio__RegisterValue **value_ptrs;
	unsigned n_fields, n_values; /* used so far */
};

static void
fill_field(struct page *pg, const struct regmap_register *reg, const struct regmap_field *field,
	   Mmio__RegisterField *out)
{
	mmio__register_field__init(out);
	out->name = (char *)field->name;
	out->msb = field->msb;
	out->lsb = field->lsb;
	out->access = (char *)regmap_access_name(regmap_field_access(reg, field));
	out->description = field->description ? field->description : (char *)"";
	out->n_values = field->n_values;
	out->values = &pg->value_ptrs[pg->n_values];
	for (unsigned v = 0; v < field->n_values; v++) {
		Mmio__RegisterValue *val = &pg->values[pg->n_values];
		mmio__register_value__init(val);
		val->name = (char *)field->values[v].name;
		val->value = field->values[v].value;
		pg->value_ptrs[pg->n_values++] = val;
	}
}

static void
fill_register(struct page *pg, const struct regmap *map, const struct regmap_register *reg,
	      Mmio__RegisterInfo *out)
{
	mmio__register_info__init(out);
	out->name = (char *)reg->name;
	out->offset = reg->offset;
	out->width_bits = regmap_reg_width(map, reg);
	out->access = (char *)regmap_access_name(regmap_reg_access(reg));
	out->has_reset = reg->has_reset;
	out->reset = reg->reset;
	out->description = reg->description ? reg->description : (char *)"";
	out->count = reg->count;
	out->stride = reg->stride;
	out->side_effects = reg->side_effects;
	out->n_fields = reg->n_fields;
	out->fields = &pg->field_ptrs[pg->n_fields];
	for (unsigned f = 0; f < reg->n_fields; f++) {
		Mmio__RegisterField *field = &pg->fields[pg->n_fields];
		pg->field_ptrs[pg->n_fields++] = field;
		fill_field(pg, reg, &reg->fields[f], field);
	}
}

void
handle_list_registers(struct session *s, const Mmio__ListRegisters *req, Mmio__Reply *reply,
		      struct reply_scratch *scratch)
{
	const struct region *r = region_table_find(s->svc->regions, req->region);
	/*
	 * The visibility rule of handle_list_regions (and admins, and the device side of a sim
	 * region, which names its registers too): do not confirm it exists.
	 */
	if (!r || (!service_is_admin(s->svc, &s->who) && count_grants(s, r) == 0 &&
		   !policy_may_drive_device(&r->policy, &s->who, s->svc->extra_uid))) {
		char name[MMIO_MAX_NAME + 1];
		reply_status(reply, scratch, -ENOENT, "no region named '%s'",
			     text_copy_printable(name, sizeof(name), req->region));
		return;
	}
	const struct regmap *map = r->regmap;
	if (!map) {
		reply_status(reply, scratch, -ENOENT,
			     "region %s has no register map (its config gives no map = \"PATH\")",
			     r->name);
		return;
	}
	if (req->first > map->n_registers) {
		reply_status(reply, scratch, -ERANGE,
			     "register %" PRIu32 " asked, the map of %s has %u", req->first,
			     r->name, map->n_registers);
		return;
	}
	size_t max_frame = s->svc->limits.max_frame;
	size_t budget = max_frame > ENVELOPE_BYTES ? max_frame - ENVELOPE_BYTES : 0;
	size_t used = 0;
	unsigned end = req->first;
	unsigned n_fields = 0;
	unsigned n_values = 0;
	for (; end < map->n_registers; end++) {
		const struct regmap_register *reg = &map->registers[end];
		size_t n = register_bound(reg);
		if (n > budget - used) {
			break;
		}
		used += n;
		n_fields += reg->n_fields;
		for (unsigned f = 0; f < reg->n_fields; f++) {
			n_values += reg->fields[f].n_values;
		}
	}
	if (end == req->first && end < map->n_registers) {
		reply_status(reply, scratch, -ENOSPC,
			     "register %s of the map of %s does not fit one reply of %zu bytes",
			     map->registers[end].name, r->name, max_frame);
		return;
	}
	unsigned n_regs = end - req->first;
	struct page pg = {0};
	/* NOLINTBEGIN(bugprone-sizeof-expression): arrays of pointers, sized by element */
	pg.regs = reply_alloc(scratch, n_regs, sizeof(*pg.regs));
	pg.reg_ptrs = reply_alloc(scratch, n_regs, sizeof(*pg.reg_ptrs));
	pg.fields = reply_alloc(scratch, n_fields, sizeof(*pg.fields));
	pg.field_ptrs = reply_alloc(scratch, n_fields, sizeof(*pg.field_ptrs));
	pg.values = reply_alloc(scratch, n_values, sizeof(*pg.values));
	pg.value_ptrs = reply_alloc(scratch, n_values, sizeof(*pg.value_ptrs));
	/* NOLINTEND(bugprone-sizeof-expression) */
	if (!pg.regs || !pg.reg_ptrs || !pg.fields || !pg.field_ptrs || !pg.values ||
	    !pg.value_ptrs) {
		reply_status(reply, scratch, -ENOMEM, NULL);
		return;
	}
	for (unsigned i = 0; i < n_regs; i++) {
		fill_register(&pg, map, &map->registers[req->first + i], &pg.regs[i]);
		pg.reg_ptrs[i] = &pg.regs[i];
	}
	Mmio__RegisterMap *out = &scratch->register_map;
	mmio__register_map__init(out);
	out->region = (char *)r->name;
	out->name = (char *)map->name;
	out->total = map->n_registers;
	out->width_bits = map->width;
	out->n_registers = n_regs;
	out->registers = pg.reg_ptrs;
	out->more = end < map->n_registers;
	out->next = end;
	reply->body_case = MMIO__REPLY__BODY_REGISTER_MAP;
	reply->register_map = out;
	reply_status(reply, scratch, 0, NULL);
}
