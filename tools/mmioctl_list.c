/* mmioctl regions, leases and revoke: what the daemon lists, and taking a lease back. */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mmio/client.h>

#include "mmioctl.h"

const char mmioctl_regions_help[] =
	"List the regions of mmiod you may lease something of: name, backend type,\n"
	"size in bytes and absolute device address of offset 0 (both hex), and\n"
	"ACCESS, one of your grants on it: 'rw' (loads and stores) or 'ro' (loads\n"
	"only), followed by 0xOFFSET+0xLENGTH when the grant covers only that range\n"
	"of the region. Each further grant of a region is on a row of its own with\n"
	"the first four columns blank. Without a grant a region is not listed; root\n"
	"may lease every region whole.\n";

const char mmioctl_leases_help[] =
	"List live leases: lease id, region, start offset in the region and length\n"
	"(hex), holder's pid and uid, and ACCESS: 'rw', or 'ro' for a lease granted\n"
	"read-only (its stores are refused with PERMISSION_DENIED). Root and the\n"
	"daemon's admin group see every client's leases, anyone else only their own.\n";

const char mmioctl_revoke_help[] =
	"End lease ID of any client (the first column of 'mmioctl leases'): mmiod\n"
	"runs the region's park sequence, tells the holder (reason admin), and the\n"
	"holder's next use of it fails with REVOKED. With --grace MS (at most 60000)\n"
	"the holder is asked to release it within MS milliseconds first (then nothing\n"
	"is parked); mmioctl returns once it is asked. Only root and the daemon's\n"
	"admin group may revoke; anyone else gets PERMISSION_DENIED. Prints nothing\n"
	"on success; NOT_FOUND if there is no lease ID.\n";

/* Column width: the wider of w and text. */
static int
widest(int w, const char *text)
{
	int len = (int)strlen(text);
	return len > w ? len : w;
}

/* "0x" and the hex digits of v, in buf (at least 19 bytes). */
static const char *
hex(char *buf, uint64_t v)
{
	snprintf(buf, 19, "0x%" PRIx64, v);
	return buf;
}

static const char *
access_name(enum mmio_access access)
{
	return access == MMIO_ACCESS_RW ? "rw" : "ro";
}

/*
 * The ACCESS cell of grant g of region r, in buf (at least 48 bytes): "rw" or
 * "ro" for a grant of the whole region, else also its range as 0xOFFSET+0xLENGTH.
 */
static const char *
grant_text(char *buf, const struct mmio_region_info *r, const struct mmio_grant *g)
{
	if (g->offset == 0 && g->length == r->size) {
		return access_name(g->access);
	}
	snprintf(buf, 48, "%s 0x%" PRIx64 "+0x%" PRIx64, access_name(g->access), g->offset,
		 g->length);
	return buf;
}

/*
 * `regions -o json`: an array of regions, each with its grants; sizes,
 * addresses, offsets and lengths in hex strings and as exact JSON integers
 * (the *_int keys).
 */
static void
print_regions_json(const struct mmio_region_info *r, int n)
{
	putchar('[');
	for (int i = 0; i < n; i++) {
		fputs(i ? ", {\"name\": " : "{\"name\": ", stdout);
		mmioctl_json_string(r[i].name);
		fputs(", \"type\": ", stdout);
		mmioctl_json_string(r[i].type);
		printf(", \"size\": \"0x%" PRIx64 "\", \"size_int\": %" PRIu64
		       ", \"address\": \"0x%" PRIx64 "\", \"address_int\": %" PRIu64
		       ", \"faults\": %" PRIu64 ", \"grants\": [",
		       r[i].size, r[i].size, r[i].address, r[i].address, r[i].faults);
		for (size_t g = 0; g < r[i].n_grants; g++) {
			const struct mmio_grant *gr = &r[i].grants[g];
			printf("%s{\"offset\": \"0x%" PRIx64 "\", \"offset_int\": %" PRIu64
			       ", \"length\": \"0x%" PRIx64 "\", \"length_int\": %" PRIu64
			       ", \"access\": \"%s\"}",
			       g ? ", " : "", gr->offset, gr->offset, gr->length, gr->length,
			       access_name(gr->access));
		}
		fputs("]}", stdout);
	}
	fputs("]\n", stdout);
}

int
mmioctl_regions(const struct invocation *inv)
{
	struct mmio_client *client;
	int rc = mmioctl_connect(inv->socket_path, &client);
	if (rc != 0) {
		return rc;
	}
	struct mmio_region_info *r = NULL;
	int n = mmio_list_regions(client, &r);
	if (n < 0) {
		rc = mmioctl_fail(client, n, "regions");
		goto out;
	}
	if (mmioctl_output == MMIOCTL_OUTPUT_JSON) {
		print_regions_json(r, n);
		rc = 0;
		goto out;
	}
	char size[20];
	char address[20];
	int w_name = 4;
	int w_type = 4;
	int w_size = 4;
	int w_address = 7;
	for (int i = 0; i < n; i++) {
		w_name = widest(w_name, r[i].name);
		w_type = widest(w_type, r[i].type);
		w_size = widest(w_size, hex(size, r[i].size));
		w_address = widest(w_address, hex(address, r[i].address));
	}
	if (!inv->quiet) {
		printf("%-*s  %-*s  %-*s  %-*s  %s\n", w_name, "NAME", w_type, "TYPE", w_size,
		       "SIZE", w_address, "ADDRESS", "ACCESS");
	}
	for (int i = 0; i < n; i++) {
		char access[48];
		/* The library promises at least one grant; show a region without any as "-". */
		const char *first =
			r[i].n_grants ? grant_text(access, &r[i], &r[i].grants[0]) : "-";
		printf("%-*s  %-*s  %-*s  %-*s  %s", w_name, r[i].name, w_type, r[i].type, w_size,
		       hex(size, r[i].size), w_address, hex(address, r[i].address), first);
		if (r[i].faults) {
			printf("  FAULTED (%llu device faults)", (unsigned long long)r[i].faults);
		}
		putchar('\n');
		/* Further grants of the region: continuation rows, the first four columns blank. */
		for (size_t g = 1; g < r[i].n_grants; g++) {
			printf("%-*s  %-*s  %-*s  %-*s  %s\n", w_name, "", w_type, "", w_size, "",
			       w_address, "", grant_text(access, &r[i], &r[i].grants[g]));
		}
	}
	rc = 0;
out:
	free(r);
	mmio_disconnect(client);
	return rc;
}

int
mmioctl_leases(const struct invocation *inv)
{
	struct mmio_client *client;
	int rc = mmioctl_connect(inv->socket_path, &client);
	if (rc != 0) {
		return rc;
	}
	struct mmio_lease_info *l = NULL;
	int n = mmio_list_leases(client, &l);
	if (n < 0) {
		rc = mmioctl_fail(client, n, "leases");
		goto out;
	}
	if (mmioctl_output == MMIOCTL_OUTPUT_JSON) {
		putchar('[');
		for (int i = 0; i < n; i++) {
			printf("%s{\"id\": %" PRIu64 ", \"region\": ", i ? ", " : "", l[i].id);
			mmioctl_json_string(l[i].region);
			printf(", \"start\": \"0x%" PRIx64 "\", \"start_int\": %" PRIu64
			       ", \"length\": \"0x%" PRIx64 "\", \"length_int\": %" PRIu64
			       ", \"pid\": %ld, \"uid\": %lu, \"access\": \"%s\"}",
			       l[i].start, l[i].start, l[i].length, l[i].length, (long)l[i].pid,
			       (unsigned long)l[i].uid, access_name(l[i].access));
		}
		fputs("]\n", stdout);
		rc = 0;
		goto out;
	}
	char start[20];
	char length[20];
	char uid[24];
	int w_region = 6;
	int w_start = 5;
	int w_length = 6;
	int w_uid = 3;
	for (int i = 0; i < n; i++) {
		w_region = widest(w_region, l[i].region);
		w_start = widest(w_start, hex(start, l[i].start));
		w_length = widest(w_length, hex(length, l[i].length));
		snprintf(uid, sizeof(uid), "%lu", (unsigned long)l[i].uid);
		w_uid = widest(w_uid, uid);
	}
	if (!inv->quiet) {
		printf("%6s  %-*s  %-*s  %-*s  %8s  %-*s  %s\n", "ID", w_region, "REGION", w_start,
		       "START", w_length, "LENGTH", "PID", w_uid, "UID", "ACCESS");
	}
	for (int i = 0; i < n; i++) {
		snprintf(uid, sizeof(uid), "%lu", (unsigned long)l[i].uid);
		printf("%6" PRIu64 "  %-*s  %-*s  %-*s  %8ld  %-*s  %s\n", l[i].id, w_region,
		       l[i].region, w_start, hex(start, l[i].start), w_length,
		       hex(length, l[i].length), (long)l[i].pid, w_uid, uid,
		       access_name(l[i].access));
	}
	rc = 0;
out:
	free(l);
	mmio_disconnect(client);
	return rc;
}

int
mmioctl_revoke(const struct invocation *inv)
{
	uint64_t id;
	int rc = mmioctl_parse_number(inv, "lease id", inv->args[0], &id);
	if (rc != 0) {
		return rc;
	}
	struct mmio_client *client;
	rc = mmioctl_connect(inv->socket_path, &client);
	if (rc != 0) {
		return rc;
	}
	rc = mmio_revoke_grace(client, id, inv->grace_ms);
	if (rc < 0) {
		rc = mmioctl_fail(client, rc, "revoke %s", inv->args[0]);
	} else if (mmioctl_output == MMIOCTL_OUTPUT_JSON) {
		printf("{\"revoked\": %" PRIu64 "}\n", id);
	}
	mmio_disconnect(client);
	return rc;
}
