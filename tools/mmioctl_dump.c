/*
 * mmioctl dump: a leased range printed like 'hexdump -C', read in batches of
 * width-sized loads where the device address allows them.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mmio/client.h>

#include "mmioctl.h"

/* Ops per mmio_batch request; the library's cap. */
#define DUMP_CHUNK_OPS 4096

const char mmioctl_dump_help[] =
	"Lease a range of REGION and print it like 'hexdump -C'. The range is A-B\n"
	"(bytes A up to, not including, B: 0x100-0x200 is 0x100 bytes), A+LENGTH,\n"
	"or OFFSET LENGTH as two arguments.\n"
	"Output: lines of the region offset (with -a: the device address; at least 8\n"
	"hex digits), 16 bytes in hex and the printable ASCII between |...|, then a\n"
	"line holding the end offset.\n"
	"Repeated lines are printed, not folded into '*'. Bytes are read with\n"
	"WIDTH-bit loads where the device address is aligned to the width and\n"
	"8-bit loads for an unaligned head or tail, in batches of up to 4096.\n"
	"With -q the end-offset line is left out. With -o json it prints\n"
	"{\"region\": R, \"offset\": \"0x..\", \"offset_int\": N, \"length\": \"0x..\",\n"
	"\"length_int\": N, \"data\": \"HEX\"}, data being two hex digits per byte in\n"
	"address order.\n"
	"With --decode the registers of the region's map (mmiod-regmap(5)) in the\n"
	"range (RANGE optional then: the whole map) are printed as 'read --decode'\n"
	"prints them, except those a read would change: write-only (wo), read clears\n"
	"(rc) or a field that does, or side_effects; those are never read, each gets\n"
	"a line 'NAME (0xOFFSET): skipped: REASON'. They are read through one lease,\n"
	"from the first such register to the end of the last. With -o json:\n"
	"{\"region\": R, \"registers\": [{as read --decode}...], \"skipped\":\n"
	"[{\"name\", \"offset\", \"reason\"}...]}.\n"
	"\n"
	"  -w, --width WIDTH    8, 16, 32 or 64 bits (default 32)\n"
	"  -d, --decode         the registers of the map, by their fields (see above)\n";

/* The 'hexdump -C' line being filled. */
struct hexdump {
	uint64_t offset; /* region offset of line[0] */
	unsigned char line[16];
	unsigned fill;
	FILE *json; /* -o json: the bytes go here as hex digits instead of lines */
};

static void
hexdump_flush(struct hexdump *h)
{
	if (h->fill == 0) {
		return;
	}
	if (h->json) {
		for (unsigned i = 0; i < h->fill; i++) {
			fprintf(h->json, "%02x", h->line[i]);
		}
		h->offset += h->fill;
		h->fill = 0;
		return;
	}
	printf("%08" PRIx64 " ", h->offset);
	for (unsigned i = 0; i < 16; i++) {
		if (i == 8) {
			putchar(' ');
		}
		if (i < h->fill) {
			printf(" %02x", h->line[i]);
		} else {
			fputs("   ", stdout);
		}
	}
	fputs("  |", stdout);
	for (unsigned i = 0; i < h->fill; i++) {
		unsigned char c = h->line[i];
		putchar(c >= 0x20 && c < 0x7f ? c : '.');
	}
	fputs("|\n", stdout);
	h->offset += h->fill;
	h->fill = 0;
}

static void
hexdump_add(struct hexdump *h, const unsigned char *bytes, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h->line[h->fill++] = bytes[i];
		if (h->fill == 16) {
			hexdump_flush(h);
		}
	}
}

/* The absolute device address of region's offset 0, found through mmio_list_regions(). */
static int
region_address(struct mmio_client *client, const char *region, uint64_t *address)
{
	struct mmio_region_info *regions = NULL;
	int n = mmio_list_regions(client, &regions);
	if (n < 0) {
		return n;
	}
	int rc = -ENOENT;
	for (int i = 0; i < n; i++) {
		if (strcmp(regions[i].name, region) == 0) {
			*address = regions[i].address;
			rc = 0;
			break;
		}
	}
	free(regions);
	return rc;
}

/*
 * Reads the whole of lease (which starts at absolute device address base) in
 * batches, width-sized loads where aligned, feeding the bytes to h. Returns 0
 * or the first failing op's (or batch's) error.
 */
static int
dump_lease(struct mmio_client *client, struct mmio_lease *lease, uint64_t base, unsigned width,
	   struct hexdump *h)
{
	struct mmio_op *ops = calloc(DUMP_CHUNK_OPS, sizeof(*ops));
	if (!ops) {
		return -ENOMEM;
	}
	uint64_t length = mmio_lease_length(lease);
	uint64_t pos = 0;
	int rc = 0;
	while (pos < length) {
		size_t n = 0;
		for (; n < DUMP_CHUNK_OPS && pos < length; n++) {
			unsigned w = width;
			if ((base + pos) % width != 0 || length - pos < width) {
				w = 1;
			}
			ops[n] = (struct mmio_op){
				.lease = lease, .kind = MMIO_OP_LOAD, .width = w, .offset = pos};
			pos += w;
		}
		rc = mmio_batch(client, ops, n, MMIO_BATCH_STOP_ON_ERROR);
		if (rc > 0) {
			for (size_t i = 0; i < n; i++) {
				if (ops[i].status != 0) {
					rc = ops[i].status;
					break;
				}
			}
		}
		if (rc < 0) {
			break;
		}
		for (size_t i = 0; i < n; i++) {
			/* Lay the value out as memory holds it: the device's byte order is ours. */
			unsigned char bytes[8];
			for (unsigned b = 0; b < ops[i].width; b++) {
				bool le = __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__;
				unsigned shift = 8 * (le ? b : ops[i].width - 1 - b);
				bytes[b] = (unsigned char)(ops[i].value >> shift);
			}
			hexdump_add(h, bytes, ops[i].width);
		}
	}
	free(ops);
	return rc;
}

/*
 * The range text: A-B (B excluded), A+LENGTH, or with length_text the start
 * alone (OFFSET LENGTH as two arguments). Returns 0, or the usage exit status
 * after printing why not.
 */
static int
parse_range(const struct invocation *inv, const char *text, const char *length_text,
	    uint64_t *offset, uint64_t *length)
{
	const char *start = inv->address ? "address" : "offset";
	if (length_text) {
		int rc = mmioctl_parse_number(inv, start, text, offset);
		return rc != 0 ? rc : mmioctl_parse_number(inv, "length", length_text, length);
	}
	/* Past the first character: a number never starts with '-' or '+'. */
	size_t cut = text[0] ? 1 + strcspn(text + 1, "-+") : 0;
	if (!text[0] || !text[cut]) {
		return mmioctl_usage_error("dump",
					   "range '%s': expected A-B, A+LENGTH or %s LENGTH", text,
					   inv->address ? "ADDRESS" : "OFFSET");
	}
	char first[32];
	snprintf(first, sizeof(first), "%.*s", (int)cut, text);
	int rc = mmioctl_parse_number(inv, "range start", first, offset);
	uint64_t second = 0;
	if (rc == 0) {
		rc = mmioctl_parse_number(inv, text[cut] == '-' ? "range end" : "range length",
					  text + cut + 1, &second);
	}
	if (rc != 0) {
		return rc;
	}
	if (text[cut] == '+') {
		*length = second;
		return 0;
	}
	if (second < *offset) {
		return mmioctl_usage_error("dump", "range '%s': the end is before the start", text);
	}
	*length = second - *offset;
	return 0;
}

int
mmioctl_dump(const struct invocation *inv)
{
	/* REGION RANGE, REGION OFFSET LENGTH, -a RANGE or -a ADDRESS LENGTH. */
	char *const *args = inv->address ? inv->args : inv->args + 1;
	int n_range = inv->address ? inv->n_args : inv->n_args - 1;
	const char *range_text = inv->address ? inv->address : args[0];
	const char *length_text =
		inv->address ? (n_range == 1 ? args[0] : NULL) : (n_range == 2 ? args[1] : NULL);
	/* Only --decode may go without a range: the whole map. */
	bool has_range = range_text != NULL;
	if (!has_range && !inv->decode) {
		return mmioctl_usage_error("dump", "missing RANGE; usage: mmioctl dump REGION "
						   "A-B|A+LENGTH|OFFSET LENGTH");
	}
	/* The command and the range as typed, for messages. */
	char what[192];
	snprintf(what, sizeof(what), "dump %s%s%s%s%s", inv->address ? "" : inv->args[0],
		 inv->address || !has_range ? "" : " ", has_range ? range_text : "",
		 length_text ? " " : "", length_text ? length_text : "");
	uint64_t offset = 0;
	uint64_t length = 0;
	int rc = has_range ? parse_range(inv, range_text, length_text, &offset, &length) : 0;
	if (rc != 0) {
		return rc;
	}
	char *hex = NULL;
	size_t hex_len = 0;
	struct mmio_client *client;
	rc = mmioctl_connect(inv->socket_path, &client);
	if (rc != 0) {
		return rc;
	}
	const char *region = inv->address ? NULL : inv->args[0];
	char located[sizeof(((struct mmio_region_info *)0)->name)];
	uint64_t device_start = offset; /* -a: the range's start as a device address */
	if (inv->address) {
		rc = mmioctl_locate(client, what, "dump", device_start, located, sizeof(located),
				    &offset);
		if (rc != 0) {
			goto out;
		}
		region = located;
	}
	if (inv->decode) {
		rc = mmioctl_dump_decoded(client, what, region, has_range, offset, length);
		goto out;
	}
	struct mmio_lease *lease;
	rc = mmio_acquire(client, region, offset, length, &lease);
	if (rc < 0) {
		rc = mmioctl_fail(client, rc, "%s", what);
		goto out;
	}
	uint64_t address;
	rc = region_address(client, region, &address);
	if (rc < 0) {
		rc = mmioctl_fail(client, rc, "%s: region address", what);
		goto out;
	}
	/* The first column: region offsets, or with -a device addresses, as they were typed. */
	uint64_t shown = inv->address ? device_start : offset;
	struct hexdump h = {.offset = shown};
	if (mmioctl_output == MMIOCTL_OUTPUT_JSON && !(h.json = open_memstream(&hex, &hex_len))) {
		rc = mmioctl_fail(client, -ENOMEM, "%s", what);
		goto out;
	}
	rc = dump_lease(client, lease, address + offset, inv->width, &h);
	hexdump_flush(&h);
	if (h.json && fclose(h.json) != 0 && rc == 0) {
		rc = -ENOMEM;
	}
	if (rc < 0) {
		(void)fflush(stdout); /* errors stay in ferror(stdout), which main() checks */
		rc = mmioctl_fail(client, rc, "%s", what);
		goto out;
	}
	if (!hex && length > 0 && !inv->quiet) {
		printf("%08" PRIx64 "\n", shown + length);
	}
	rc = mmio_release(lease);
	if (rc < 0) {
		rc = mmioctl_fail(client, rc, "%s: release", what);
		goto out;
	}
	if (hex) {
		fputs("{\"region\": ", stdout);
		mmioctl_json_string(region);
		printf(", \"offset\": \"0x%" PRIx64 "\", \"offset_int\": %" PRIu64, offset, offset);
		if (inv->address) {
			printf(", \"address\": \"0x%" PRIx64 "\", \"address_int\": %" PRIu64,
			       device_start, device_start);
		}
		printf(", \"length\": \"0x%" PRIx64 "\", \"length_int\": %" PRIu64
		       ", \"data\": \"%s\"}\n",
		       length, length, hex);
	}
	rc = 0;
out:
	free(hex);
	mmio_disconnect(client);
	return rc;
}
