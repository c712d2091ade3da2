/*
 * `mmioctl sim get|set|irq|reset REGION ...`: the device side of a simulated region (type =
 * "sim"), for a test harness acting as the hardware: raw register bits read and set past the
 * map's access rules, the region's interrupt raised, the device reset. No lease is taken.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <mmio/client.h>

#include "mmioctl.h"

const char mmioctl_sim_help[] =
	"The device side of a region of type sim (mmiod.conf(5)): act as the\n"
	"hardware behind its register map, for root, the admin group and a grant\n"
	"with access = \"device\" on the region. No lease is taken, and none is in\n"
	"the way.\n"
	"\n"
	"  get REGION OFFSET [-w WIDTH]     print the raw bits at OFFSET (no access\n"
	"                                   rule, no read side effect), zero-padded\n"
	"                                   to the width like read\n"
	"  set REGION OFFSET VALUE [--mask MASK] [-w WIDTH]\n"
	"                                   set the raw bits of MASK (default: all\n"
	"                                   of the width) to VALUE's, past the access\n"
	"                                   rules (a ro status bit, say); prints\n"
	"                                   nothing\n"
	"  irq REGION                       raise the region's interrupt to its\n"
	"                                   subscriber (wait-irq), if any\n"
	"  reset REGION                     every register back to its reset value\n"
	"\n"
	"  -w, --width WIDTH    8, 16, 32 or 64 bits (default 32)\n"
	"      --mask MASK      set: the bits to set; must fit in WIDTH bits\n";

enum sim_op { SIM_GET, SIM_SET, SIM_IRQ, SIM_RESET };

static const struct {
	const char *name;
	int n_args; /* after the op's name: REGION and the rest */
} ops[] = {
	[SIM_GET] = {"get", 2},
	[SIM_SET] = {"set", 3},
	[SIM_IRQ] = {"irq", 1},
	[SIM_RESET] = {"reset", 1},
};

#define N_OPS ((int)(sizeof(ops) / sizeof(ops[0])))

/* What one `sim` command asks for. */
struct sim_request {
	enum sim_op op;
	const char *region;
	uint64_t offset;
	uint64_t mask;
	uint64_t value;
	char what[192]; /* the command as typed, for messages */
};

/* Parses the op and its arguments into req. 0 or the usage exit status. */
static int
parse_request(const struct invocation *inv, struct sim_request *req)
{
	const char *name = inv->args[0];
	int op = 0;
	while (op < N_OPS && strcmp(ops[op].name, name) != 0) {
		op++;
	}
	if (op == N_OPS) {
		return mmioctl_usage_error("sim", "'%s': expected get, set, irq or reset", name);
	}
	req->op = (enum sim_op)op;
	if (inv->n_args - 1 != ops[op].n_args) {
		return mmioctl_usage_error("sim", "%s takes %s", name,
					   op == SIM_GET   ? "REGION OFFSET"
					   : op == SIM_SET ? "REGION OFFSET VALUE"
							   : "REGION alone");
	}
	if (inv->mask && op != SIM_SET) {
		return mmioctl_usage_error("sim", "%s takes no --mask", name);
	}
	req->region = inv->args[1];
	snprintf(req->what, sizeof(req->what), "sim %s %s%s%s", name, req->region,
		 op == SIM_GET || op == SIM_SET ? " " : "",
		 op == SIM_GET || op == SIM_SET ? inv->args[2] : "");
	int rc = 0;
	if (op == SIM_GET || op == SIM_SET) {
		rc = mmioctl_parse_number(inv, "offset", inv->args[2], &req->offset);
	}
	if (rc == 0 && op == SIM_SET) {
		rc = mmioctl_parse_value(inv, "value", inv->args[3], &req->value);
		req->mask = inv->width >= 8 ? UINT64_MAX : (UINT64_C(1) << (inv->width * 8)) - 1;
		if (rc == 0 && inv->mask) {
			rc = mmioctl_parse_value(inv, "mask", inv->mask, &req->mask);
		}
	}
	return rc;
}

static void
print_json(const struct invocation *inv, const struct sim_request *req, uint64_t value)
{
	fputs("{\"region\": ", stdout);
	mmioctl_json_string(req->region);
	fputs(", \"op\": ", stdout);
	mmioctl_json_string(ops[req->op].name);
	if (req->op == SIM_GET || req->op == SIM_SET) {
		int digits = (int)inv->width * 2;
		printf(", \"offset\": \"0x%" PRIx64 "\", \"offset_int\": %" PRIu64
		       ", \"width\": %u",
		       req->offset, req->offset, inv->width * 8);
		if (req->op == SIM_SET) {
			printf(", \"mask\": \"0x%0*" PRIx64 "\", \"mask_int\": %" PRIu64, digits,
			       req->mask, req->mask);
			value = req->value;
		}
		printf(", \"value\": \"0x%0*" PRIx64 "\", \"value_int\": %" PRIu64, digits, value,
		       value);
	}
	fputs("}\n", stdout);
}

int
mmioctl_sim(const struct invocation *inv)
{
	struct sim_request req = {0};
	int rc = parse_request(inv, &req);
	if (rc != 0) {
		return rc;
	}
	struct mmio_client *client;
	rc = mmioctl_connect(inv->socket_path, &client);
	if (rc != 0) {
		return rc;
	}
	uint64_t value = 0;
	switch (req.op) {
	case SIM_GET:
		rc = mmio_sim_get(client, req.region, req.offset, inv->width, &value);
		break;
	case SIM_SET:
		rc = mmio_sim_set(client, req.region, req.offset, inv->width, req.mask, req.value);
		break;
	case SIM_IRQ:
		rc = mmio_sim_irq(client, req.region);
		break;
	case SIM_RESET:
		rc = mmio_sim_reset(client, req.region);
		break;
	}
	if (rc < 0) {
		rc = mmioctl_fail(client, rc, "%s", req.what);
	} else if (mmioctl_output == MMIOCTL_OUTPUT_JSON) {
		print_json(inv, &req, value);
	} else if (req.op == SIM_GET) {
		printf("0x%0*" PRIx64 "\n", (int)inv->width * 2, value);
	}
	mmio_disconnect(client);
	return rc;
}
