/*
 * -a/--address: a register named by its device address, as devmem users know
 * it, found in the one region (of those the caller may lease, as mmiod lists
 * them) whose device address range covers it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mmio/client.h>

#include "mmioctl.h"

const char mmioctl_address_help[] =
	"  -a, --address ADDR   the register by its device address instead of REGION\n"
	"                       OFFSET (dump: the range in device addresses): the one\n"
	"                       region 'mmioctl regions' lists whose [ADDRESS,\n"
	"                       ADDRESS+SIZE) covers it (the physical address for\n"
	"                       devmem and uio, the bus address for pci, the file\n"
	"                       offset for file); refused as AMBIGUOUS when aliases\n"
	"                       cover it\n";

/* Regions named in an AMBIGUOUS message; more are counted, not named. */
#define MAX_NAMED 4

/* Whether r's device address range [address, address + size) holds address. */
static int
covers(const struct mmio_region_info *r, uint64_t address)
{
	return address >= r->address && address - r->address < r->size;
}

/*
 * Prints an error of mmioctl's own (not a daemon status) for what: the line,
 * the hint, and with -o json the object. Returns MMIOCTL_EXIT_FAILURE.
 */
static int
locate_failed(const char *what, const char *status, const char *detail, const char *hint)
{
	const char *hints[] = {hint, NULL};
	fprintf(stderr, "mmioctl: %s: %s: %s\n", what, status, detail);
	mmioctl_print_hints(hints);
	if (mmioctl_output == MMIOCTL_OUTPUT_JSON) {
		mmioctl_json_error_hints(status, detail, NULL, hints);
	}
	return MMIOCTL_EXIT_FAILURE;
}

int
mmioctl_locate(struct mmio_client *client, const char *what, const char *cmd, uint64_t address,
	       char *region, size_t region_len, uint64_t *offset)
{
	struct mmio_region_info *r = NULL;
	int n = mmio_list_regions(client, &r);
	if (n < 0) {
		return mmioctl_fail(client, n, "%s: regions", what);
	}
	int found = 0;
	int first = -1;
	char names[MAX_NAMED * 96] = "";
	size_t used = 0;
	for (int i = 0; i < n; i++) {
		if (!covers(&r[i], address)) {
			continue;
		}
		if (found++ == 0) {
			first = i;
		}
		if (found <= MAX_NAMED && used < sizeof(names)) {
			int w = snprintf(names + used, sizeof(names) - used,
					 "%s%s (%s, offset 0x%" PRIx64 ")", found > 1 ? ", " : "",
					 r[i].name, r[i].type, address - r[i].address);
			used += w > 0 ? (size_t)w : 0;
		}
	}
	int rc = 0;
	char detail[sizeof(names) + 160];
	char hint[256];
	if (found == 0) {
		snprintf(detail, sizeof(detail),
			 "no region you may lease covers device address 0x%" PRIx64, address);
		rc = locate_failed(
			what, "NOT_FOUND", detail,
			"'mmioctl regions' lists the regions you may lease, with the device "
			"address of their offset 0 and their size");
	} else if (found > 1) {
		/* Aliases: the same registers served as two regions. Which lease is meant? */
		snprintf(detail, sizeof(detail),
			 "device address 0x%" PRIx64 " is in %d regions: %s%s", address, found,
			 names, found > MAX_NAMED ? ", ..." : "");
		snprintf(hint, sizeof(hint),
			 "name the region and the offset in it instead of -a, e.g. 'mmioctl %s %s "
			 "0x%" PRIx64 "%s'",
			 cmd, r[first].name, address - r[first].address,
			 strcmp(cmd, "read") == 0 ? "" : " ...");
		rc = locate_failed(what, "AMBIGUOUS", detail, hint);
	} else {
		snprintf(region, region_len, "%s", r[first].name);
		*offset = address - r[first].address;
	}
	free(r);
	return rc;
}
