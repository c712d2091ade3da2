/* The devices as the oracles model them (fuzz_model.h). */
#include <string.h>

#include "device/backend.h"
#include "device/region.h"
#include "fuzz_model.h"
#include "fuzz_policy.h"
#include "request/session.h"

static const struct region *
world_region(unsigned i)
{
	return fuzz_world.table.regions[i];
}

void
fuzz_snapshot_take(struct fuzz_snapshot *snap)
{
	memcpy(snap->bytes, world_region(FUZZ_REGION_RAM)->backend->base, FUZZ_RAM_SIZE);
	memcpy(snap->bytes + FUZZ_RAM_SIZE, world_region(FUZZ_REGION_REGS)->backend->base,
	       FUZZ_REGS_SIZE);
	fuzz_dev_take(world_region(FUZZ_REGION_DEV), &snap->dev);
}

bool
fuzz_snapshot_same(const struct fuzz_snapshot *snap)
{
	static struct fuzz_snapshot now;
	fuzz_snapshot_take(&now);
	return memcmp(now.bytes, snap->bytes, sizeof(now.bytes)) == 0 &&
	       memcmp(now.dev.bytes, snap->dev.bytes, sizeof(now.dev.bytes)) == 0 &&
	       now.dev.faulted == snap->dev.faulted;
}

uint64_t
fuzz_width_mask(unsigned width)
{
	return width >= 8 ? UINT64_MAX : (UINT64_C(1) << (8 * width)) - 1;
}

Mmio__Status
fuzz_lease_status(const struct lease *l, uint64_t off, unsigned width, bool is_store,
		  uint64_t value)
{
	if (!l) {
		return MMIO__STATUS__NOT_FOUND;
	}
	if (is_store && l->read_only) {
		return MMIO__STATUS__PERMISSION_DENIED;
	}
	if (width != 1 && width != 2 && width != 4 && width != 8) {
		return MMIO__STATUS__INVALID_ARGUMENT;
	}
	if ((l->space->addr + l->start + off) % width != 0) {
		return MMIO__STATUS__UNALIGNED;
	}
	if (off > l->len || l->len - off < width) {
		return MMIO__STATUS__OUT_OF_RANGE;
	}
	if (is_store && width < 8 && value >> (8 * width) != 0) {
		return MMIO__STATUS__INVALID_ARGUMENT;
	}
	return MMIO__STATUS__OK;
}

/* Read-sensitive, by mmiod.conf(5): access rc, a field of access rc, or side_effects. */
static bool
read_sensitive(const struct regmap_register *r)
{
	bool rs = r->side_effects || (r->has_access && r->access == REGMAP_RC);
	for (unsigned f = 0; f < r->n_fields; f++) {
		rs |= r->fields[f].has_access && r->fields[f].access == REGMAP_RC;
	}
	return rs;
}

/* Does [at, at + width) overlap an instance of a read-sensitive register of map? */
static bool
touches_read_sensitive(const struct regmap *map, uint64_t at, unsigned width)
{
	for (unsigned i = 0; i < map->n_registers; i++) {
		const struct regmap_register *r = &map->registers[i];
		uint64_t bytes = (r->width ? r->width : map->width) / 8;
		for (uint64_t k = 0; read_sensitive(r) && k < r->count; k++) {
			uint64_t start = r->offset + k * r->stride;
			if (start < at + width && at < start + bytes) {
				return true;
			}
		}
	}
	return false;
}

Mmio__Status
fuzz_rules_status(const struct lease *l, uint64_t off, bool is_store, unsigned width)
{
	const struct region *r = region_of_lease(l);
	const struct regmap *map = r == world_region(FUZZ_REGION_DEV)    ? fuzz_map_dev()
				   : r == world_region(FUZZ_REGION_REGS) ? fuzz_map_regs()
									 : NULL;
	bool bound = !fuzz_is_root(&session_of_lease_set(l->set)->who);
	if (map && bound && !is_store && touches_read_sensitive(map, l->start + off, width)) {
		return MMIO__STATUS__PERMISSION_DENIED;
	}
	return MMIO__STATUS__OK;
}

Mmio__Status
fuzz_access_status(const struct lease *l, uint64_t off, unsigned width, bool is_store,
		   uint64_t value)
{
	Mmio__Status st = fuzz_lease_status(l, off, width, is_store, value);
	return st == MMIO__STATUS__OK ? fuzz_rules_status(l, off, is_store, width) : st;
}

Mmio__Status
fuzz_model_access(struct fuzz_snapshot *m, const struct lease *l, uint64_t off, unsigned width,
		  bool is_store, uint64_t *value)
{
	const struct region *r = region_of_lease(l);
	uint64_t at = l->start + off;
	if (r == world_region(FUZZ_REGION_DEV)) {
		return is_store ? fuzz_dev_store(&m->dev, at, width, *value)
				: fuzz_dev_load(&m->dev, at, width, value);
	}
	uint8_t *bytes = m->bytes + (r == world_region(FUZZ_REGION_RAM) ? 0 : FUZZ_RAM_SIZE) + at;
	uint64_t v = 0;
	for (unsigned i = 0; i < width; i++) {
		if (is_store) {
			bytes[i] = (uint8_t)(*value >> (8 * i));
		} else {
			v |= (uint64_t)bytes[i] << (8 * i);
		}
	}
	if (!is_store) {
		*value = v;
	}
	return MMIO__STATUS__OK;
}

Mmio__Status
fuzz_model_checked(struct fuzz_snapshot *m, const struct lease *l, uint64_t off, unsigned width,
		   bool is_store, uint64_t *value)
{
	Mmio__Status st = fuzz_access_status(l, off, width, is_store, is_store ? *value : 0);
	return st == MMIO__STATUS__OK ? fuzz_model_access(m, l, off, width, is_store, value) : st;
}
