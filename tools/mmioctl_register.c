/*
 * mmioctl's one-register commands: read, write, modify and poll each lease
 * exactly the register, make one request on it at the given width and
 * release the lease.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>

#include <mmio/client.h>

#include "mmioctl.h"

/* poll's timeout when -t is not given. */
#define POLL_DEFAULT_TIMEOUT_MS 1000

const char mmioctl_read_help[] =
	"Lease WIDTH/8 bytes of REGION at OFFSET, load them with one access of\n"
	"exactly WIDTH bits, release the lease, and print the value as 0x and hex\n"
	"digits zero-padded to the width (0x0000abcd for 32 bits). The device\n"
	"address must be aligned to the width (else UNALIGNED).\n"
	"\n"
	"  -w, --width WIDTH    8, 16, 32 or 64 bits (default 32)\n";

const char mmioctl_write_help[] =
	"Lease WIDTH/8 bytes of REGION at OFFSET, store VALUE with one access of\n"
	"exactly WIDTH bits, and release the lease. Prints nothing on success. A\n"
	"VALUE that does not fit in WIDTH bits is a usage error. The write is blind:\n"
	"the register is never read back (reading a read-to-clear or FIFO register\n"
	"is a side effect) unless --verify asks for it.\n"
	"\n"
	"  -w, --width WIDTH    8, 16, 32 or 64 bits (default 32)\n"
	"      --verify         load the register back after the store; a different\n"
	"                       value is reported (MISMATCH) with exit status 1\n";

const char mmioctl_modify_help[] =
	"Lease WIDTH/8 bytes of REGION at OFFSET and, in one request that no other\n"
	"client's request interrupts, load the register and store\n"
	"(old & ~MASK) | (VALUE & MASK) back at the same width; then release the\n"
	"lease and print the OLD value, zero-padded to the width like read, so a\n"
	"script sees what changed. Nothing is stored if the load fails. Bits of\n"
	"VALUE outside MASK are ignored; a MASK or VALUE that does not fit in WIDTH\n"
	"bits is a usage error.\n"
	"\n"
	"  -w, --width WIDTH    8, 16, 32 or 64 bits (default 32)\n";

const char mmioctl_poll_help[] =
	"Lease WIDTH/8 bytes of REGION at OFFSET and have mmiod load the register\n"
	"until (value & MASK) == (VALUE & MASK); print the last value read,\n"
	"zero-padded to the width like read. If it does not match in time, print\n"
	"the last value all the same and exit 1 with TIMEOUT. mmiod serves other\n"
	"clients between the loads. A MASK or VALUE that does not fit in WIDTH bits\n"
	"is a usage error.\n"
	"\n"
	"  -w, --width WIDTH    8, 16, 32 or 64 bits (default 32)\n"
	"  -t, --timeout MS     give up after MS milliseconds, at most 60000\n"
	"                       (default 1000; 0 checks once)\n"
	"  -i, --interval US    microseconds between loads (default 0: mmiod's, 100)\n";

enum register_op {
	REGISTER_READ,
	REGISTER_WRITE,
	REGISTER_MODIFY,
	REGISTER_POLL,
};

/* The command of each op, for messages. */
static const char *const op_names[] = {
	[REGISTER_READ] = "read",
	[REGISTER_WRITE] = "write",
	[REGISTER_MODIFY] = "modify",
	[REGISTER_POLL] = "poll",
};

/* What a one-register command asks for. */
struct register_request {
	enum register_op op;
	const char *region; /* REGION as typed, or located */
	char located[sizeof(((struct mmio_region_info *)0)->name)]; /* -a: the region found */
	uint64_t offset;
	uint64_t address; /* -a: the device address, which gives region and offset */
	uint64_t mask;    /* modify, poll */
	uint64_t value;   /* write, modify, poll */
	char what[192];   /* the command and the register as typed, for messages */
};

/*
 * Parses REGION OFFSET (or -a ADDR), then VALUE (write) or MASK VALUE
 * (modify, poll), each of which must fit in the width. Returns 0 or the usage
 * exit status.
 */
static int
parse_request(const struct invocation *inv, struct register_request *req)
{
	const char *name = op_names[req->op];
	char *const *args = inv->args;
	int rc;
	if (inv->address) {
		snprintf(req->what, sizeof(req->what), "%s %s", name, inv->address);
		rc = mmioctl_parse_number(inv, "address", inv->address, &req->address);
	} else {
		snprintf(req->what, sizeof(req->what), "%s %s %s", name, args[0], args[1]);
		req->region = args[0];
		rc = mmioctl_parse_number(inv, "offset", args[1], &req->offset);
		args += 2;
	}
	if (rc != 0 || req->op == REGISTER_READ) {
		return rc;
	}
	if (req->op == REGISTER_WRITE) {
		return mmioctl_parse_value(inv, "value", args[0], &req->value);
	}
	rc = mmioctl_parse_value(inv, "mask", args[0], &req->mask);
	return rc != 0 ? rc : mmioctl_parse_value(inv, "value", args[1], &req->value);
}

/* The request itself on the leased register; *result is the value it loaded, if any. */
static int
do_request(const struct invocation *inv, struct mmio_lease *lease,
	   const struct register_request *req, uint64_t *result)
{
	switch (req->op) {
	case REGISTER_READ:
		return mmio_load(lease, 0, inv->width, result);
	case REGISTER_WRITE:
		return mmio_store(lease, 0, inv->width, req->value);
	case REGISTER_MODIFY:
		return mmio_modify(lease, 0, inv->width, req->mask, req->value, result);
	case REGISTER_POLL: {
		unsigned timeout_ms =
			inv->timeout_ms < 0 ? POLL_DEFAULT_TIMEOUT_MS : (unsigned)inv->timeout_ms;
		return mmio_poll(lease, 0, inv->width, req->mask, req->value, timeout_ms,
				 inv->interval_us, result);
	}
	}
	return -EINVAL;
}

/* "0x" and v zero-padded to width bytes, in buf (at least 19 bytes). */
static const char *
padded(char *buf, uint64_t v, unsigned width)
{
	snprintf(buf, 19, "0x%0*" PRIx64, (int)width * 2, v);
	return buf;
}

/* The JSON document of a successful request: the register, and what was loaded or stored. */
static void
print_json(const struct invocation *inv, const struct register_request *req, uint64_t result)
{
	char a[20];
	fputs("{\"region\": ", stdout);
	mmioctl_json_string(req->region);
	printf(", \"offset\": \"0x%" PRIx64 "\", \"offset_int\": %" PRIu64, req->offset,
	       req->offset);
	if (inv->address) {
		printf(", \"address\": \"0x%" PRIx64 "\", \"address_int\": %" PRIu64, req->address,
		       req->address);
	}
	printf(", \"width\": %u", inv->width * 8);
	switch (req->op) {
	case REGISTER_READ:
	case REGISTER_POLL:
		printf(", \"value\": \"%s\", \"value_int\": %" PRIu64,
		       padded(a, result, inv->width), result);
		break;
	case REGISTER_WRITE:
		printf(", \"value\": \"%s\", \"value_int\": %" PRIu64 "%s",
		       padded(a, req->value, inv->width), req->value,
		       inv->verify ? ", \"verified\": true" : "");
		break;
	case REGISTER_MODIFY: {
		char b[20];
		uint64_t next = (result & ~req->mask) | (req->value & req->mask);
		printf(", \"old\": \"%s\", \"old_int\": %" PRIu64
		       ", \"new\": \"%s\", \"new_int\": %" PRIu64,
		       padded(a, result, inv->width), result, padded(b, next, inv->width), next);
		break;
	}
	}
	fputs("}\n", stdout);
}

/* write --verify: loads the register back; 0, MMIOCTL_EXIT_FAILURE after a report, or rc. */
static int
verify_write(const struct invocation *inv, struct mmio_lease *lease,
	     const struct register_request *req)
{
	uint64_t back = 0;
	int rc = mmio_load(lease, 0, inv->width, &back);
	if (rc < 0 || back == req->value) {
		return rc;
	}
	char want[20];
	char got[20];
	char detail[96];
	snprintf(detail, sizeof(detail), "wrote %s, read back %s",
		 padded(want, req->value, inv->width), padded(got, back, inv->width));
	fprintf(stderr, "mmioctl: %s: MISMATCH: %s\n", req->what, detail);
	if (mmioctl_output == MMIOCTL_OUTPUT_JSON) {
		mmioctl_json_error("MISMATCH", detail);
	}
	return MMIOCTL_EXIT_FAILURE;
}

/*
 * Parses the arguments, leases exactly the register, runs the request on it
 * and releases the lease. Prints the value loaded, if the request gives one,
 * as soon as it has it: also after a poll's TIMEOUT, so the caller sees what
 * the register held. Returns 0 or the exit status after printing why not.
 */
static int
run_request(const struct invocation *inv, enum register_op op)
{
	struct register_request req = {.op = op};
	int rc = parse_request(inv, &req);
	if (rc != 0) {
		return rc;
	}
	struct mmio_client *client;
	rc = mmioctl_connect(inv->socket_path, &client);
	if (rc != 0) {
		return rc;
	}
	if (inv->address &&
	    (rc = mmioctl_locate(client, req.what, op_names[op], req.address, req.located,
				 sizeof(req.located), &req.offset)) != 0) {
		goto out;
	}
	if (inv->address) {
		req.region = req.located;
	}
	struct mmio_lease *lease;
	rc = mmio_acquire(client, req.region, req.offset, inv->width, &lease);
	if (rc < 0) {
		rc = mmioctl_fail(client, rc, "%s", req.what);
		goto out;
	}
	uint64_t result = 0;
	rc = do_request(inv, lease, &req, &result);
	if (rc == 0 && op == REGISTER_WRITE && inv->verify) {
		rc = verify_write(inv, lease, &req);
		if (rc > 0) {
			mmio_release(lease);
			goto out;
		}
	}
	bool json = mmioctl_output == MMIOCTL_OUTPUT_JSON;
	if (!json && op != REGISTER_WRITE &&
	    (rc == 0 || (op == REGISTER_POLL && rc == -ETIMEDOUT))) {
		printf("0x%0*" PRIx64 "\n", (int)inv->width * 2, result);
		(void)fflush(stdout); /* errors stay in ferror(stdout), which main() checks */
	}
	if (rc < 0) {
		rc = mmioctl_fail(client, rc, "%s", req.what);
		mmio_release(lease);
		goto out;
	}
	rc = mmio_release(lease);
	if (rc < 0) {
		rc = mmioctl_fail(client, rc, "%s: release", req.what);
		goto out;
	}
	if (json) {
		print_json(inv, &req, result);
	}
	rc = 0;
out:
	mmio_disconnect(client);
	return rc;
}

int
mmioctl_read(const struct invocation *inv)
{
	return run_request(inv, REGISTER_READ);
}

int
mmioctl_write(const struct invocation *inv)
{
	return run_request(inv, REGISTER_WRITE);
}

int
mmioctl_modify(const struct invocation *inv)
{
	return run_request(inv, REGISTER_MODIFY);
}

int
mmioctl_poll(const struct invocation *inv)
{
	return run_request(inv, REGISTER_POLL);
}
