/*
 * `mmioctl sim get|set|irq|reset REGION ...`: the device side of a simulated region (type =
 * "sim"), for a test harness acting as the hardware: raw register bits read and set past the
 * map's access rules, the region's interrupt raised, the device reset. No lease is taken.
 */
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
	"  get REGION OFFSET|NAME [-w WIDTH] [-d]\n"
	"                                   print the raw bits of the register (no\n"
	"                                   access rule, no read side effect), as\n"
	"                                   read prints them: a field's shifted down,\n"
	"                                   -d every field\n"
	"  set REGION OFFSET|NAME VALUE [--mask MASK] [-w WIDTH]\n"
	"  set REGION REG.FIELD=VALUE...    set the raw bits of the register (or of\n"
	"                                   MASK, or of the fields) to VALUE's, past\n"
	"                                   the access rules (a ro status bit, say);\n"
	"                                   arguments as write's; prints nothing\n"
	"  irq REGION                       raise the region's interrupt to its\n"
	"                                   subscriber (wait-irq), if any\n"
	"  reset REGION                     every register back to its reset value\n"
	"\n"
	"  -w, --width WIDTH    8, 16, 32 or 64 bits (default 32; a NAME's is the map's)\n"
	"  -d, --decode         get: print every field of the register\n"
	"      --mask MASK      set: the bits to set; must fit in WIDTH bits\n";

/*
 * get and set take read's and write's arguments after the op (mmioctl_register.c does them on
 * the device side); irq and reset take REGION alone.
 */
static int
sim_region_op(const struct invocation *inv, const char *op)
{
	if (inv->n_args != 2) {
		return mmioctl_usage_error("sim", "%s takes REGION alone", op);
	}
	if (inv->mask || inv->decode) {
		return mmioctl_usage_error("sim", "%s takes no %s", op,
					   inv->mask ? "--mask" : "--decode");
	}
	const char *region = inv->args[1];
	struct mmio_client *client;
	int rc = mmioctl_connect(inv->socket_path, &client);
	if (rc != 0) {
		return rc;
	}
	rc = strcmp(op, "irq") == 0 ? mmio_sim_irq(client, region) : mmio_sim_reset(client, region);
	if (rc < 0) {
		rc = mmioctl_fail(client, rc, "sim %s %s", op, region);
	} else if (mmioctl_output == MMIOCTL_OUTPUT_JSON) {
		fputs("{\"region\": ", stdout);
		mmioctl_json_string(region);
		fputs(", \"op\": ", stdout);
		mmioctl_json_string(op);
		fputs("}\n", stdout);
	}
	mmio_disconnect(client);
	return rc;
}

int
mmioctl_sim(const struct invocation *inv)
{
	const char *op = inv->args[0];
	bool get = strcmp(op, "get") == 0;
	bool set = strcmp(op, "set") == 0;
	if (!get && !set) {
		if (strcmp(op, "irq") != 0 && strcmp(op, "reset") != 0) {
			return mmioctl_usage_error("sim", "'%s': expected get, set, irq or reset",
						   op);
		}
		return sim_region_op(inv, op);
	}
	if (inv->n_args < 3 || (get && inv->n_args != 3)) {
		return mmioctl_usage_error(
			"sim", "%s takes %s", op,
			get ? "REGION OFFSET|NAME"
			    : "REGION OFFSET|NAME VALUE or REGION REG.FIELD=VALUE...");
	}
	if (inv->mask && get) {
		return mmioctl_usage_error("sim", "get takes no --mask");
	}
	if (inv->decode && set) {
		return mmioctl_usage_error("sim", "set takes no --decode");
	}
	struct invocation rest = *inv;
	rest.args = inv->args + 1;
	rest.n_args = inv->n_args - 1;
	return get ? mmioctl_sim_read(&rest) : mmioctl_sim_write(&rest);
}
