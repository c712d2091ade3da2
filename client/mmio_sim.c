/*
 * The device side of a simulated region (type = "sim"): SimDevice requests by region name, for a
 * test harness acting as the hardware. No lease is involved.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "client_internal.h"

/* One SimDevice; *out (unless NULL) gets the reply's value. Lock taken here. */
static int
sim_call(struct mmio_client *c, const char *region, Mmio__SimOp op, uint64_t offset, unsigned width,
	 uint64_t mask, uint64_t value, uint64_t *out)
{
	if (!c || !region) {
		return -EINVAL;
	}
	/* mmiod could know no such region: say so without a round trip, as mmio_acquire does. */
	if (strlen(region) > MMIO_MAX_NAME) {
		return -ENOENT;
	}
	Mmio__SimDevice body = MMIO__SIM_DEVICE__INIT;
	body.region = (char *)region;
	body.op = op;
	body.offset = offset;
	body.width = width;
	body.mask = mask;
	body.value = value;
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.body_case = MMIO__REQUEST__BODY_SIM_DEVICE;
	req.sim_device = &body;
	Mmio__Reply *reply;
	bool has_value = op != MMIO__SIM_OP__SIM_OP_RESET;
	int rc = client_call_locked(
		c, &req, &reply, has_value ? MMIO__REPLY__BODY_LOAD : MMIO__REPLY__BODY__NOT_SET);
	if (rc == 0 && out) {
		*out = has_value ? reply->load->value : 0;
	}
	client_free_reply(reply);
	return rc;
}

int
mmio_sim_get(struct mmio_client *c, const char *region, uint64_t offset, unsigned width,
	     uint64_t *value)
{
	if (!value) {
		return -EINVAL;
	}
	return sim_call(c, region, MMIO__SIM_OP__SIM_OP_GET, offset, width, 0, 0, value);
}

int
mmio_sim_set(struct mmio_client *c, const char *region, uint64_t offset, unsigned width,
	     uint64_t mask, uint64_t value)
{
	return sim_call(c, region, MMIO__SIM_OP__SIM_OP_SET, offset, width, mask, value, NULL);
}

int
mmio_sim_irq(struct mmio_client *c, const char *region)
{
	return sim_call(c, region, MMIO__SIM_OP__SIM_OP_IRQ, 0, 0, 0, 0, NULL);
}

int
mmio_sim_reset(struct mmio_client *c, const char *region)
{
	return sim_call(c, region, MMIO__SIM_OP__SIM_OP_RESET, 0, 0, 0, 0, NULL);
}
