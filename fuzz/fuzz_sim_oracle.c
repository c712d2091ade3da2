/* What SimDevice must answer (fuzz_sim_oracle.h). */
#include "fuzz_sim_oracle.h"
#include "fuzz_common.h"
#include "fuzz_policy.h"

/* GET and SET: the width, then the alignment, then the range, as an access's. */
static Mmio__Status
device_access_status(uint64_t off, uint32_t width)
{
	if (width != 1 && width != 2 && width != 4 && width != 8) {
		return MMIO__STATUS__INVALID_ARGUMENT;
	}
	if (off % width != 0) {
		return MMIO__STATUS__UNALIGNED;
	}
	if (off > FUZZ_DEV_SIZE || FUZZ_DEV_SIZE - off < width) {
		return MMIO__STATUS__OUT_OF_RANGE;
	}
	return MMIO__STATUS__OK;
}

Mmio__Status
fuzz_sim_device_expect(const struct session *s, const Mmio__SimDevice *m,
		       struct fuzz_snapshot *model, uint32_t irq_count, uint64_t *value,
		       bool *has_value)
{
	*has_value = false;
	const struct region *r = fuzz_find_region(m->region);
	if (!fuzz_is_admin(&s->who) && (!r || !fuzz_may_drive(r, &s->who))) {
		return MMIO__STATUS__PERMISSION_DENIED;
	}
	if (!r) {
		return MMIO__STATUS__NOT_FOUND;
	}
	if (r != fuzz_world.table.regions[FUZZ_REGION_DEV]) {
		return MMIO__STATUS__INVALID_ARGUMENT;
	}
	Mmio__Status st = MMIO__STATUS__OK;
	switch (m->op) {
	case MMIO__SIM_OP__SIM_OP_GET:
	case MMIO__SIM_OP__SIM_OP_SET:
		st = device_access_status(m->offset, m->width);
		if (st != MMIO__STATUS__OK) {
			return st;
		}
		st = m->op == MMIO__SIM_OP__SIM_OP_GET
			     ? fuzz_dev_get(&model->dev, m->offset, m->width, value)
			     : fuzz_dev_set(&model->dev, m->offset, m->width, m->mask, m->value,
					    value);
		*has_value = st == MMIO__STATUS__OK;
		return st;
	case MMIO__SIM_OP__SIM_OP_IRQ:
		*value = (uint64_t)irq_count + 1;
		*has_value = true;
		return MMIO__STATUS__OK;
	case MMIO__SIM_OP__SIM_OP_RESET:
		fuzz_dev_reset(&model->dev);
		return MMIO__STATUS__OK;
	default:
		return MMIO__STATUS__INVALID_ARGUMENT;
	}
}
