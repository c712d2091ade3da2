/*
 * mmioctl's one-register commands: read, write, modify and poll each lease
 * exactly the register, make one request on it at the given width and
 * release the lease.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <mmio/client.h>

#include "mmioctl.h"

/* poll's timeout when -t is not given. */
#define POLL_DEFAULT_TIMEOUT_MS 1000

const char mmioctl_read_help[] =
	"Lease WIDTH/8 bytes of REGION at OFFSET, load them with one access of\n"
	"exactly WIDTH bits, release the lease, and print the value as 0x and hex\n"
	"digits zero-padded to the width (0x0000abcd for 32 bits). The device\n"
	"address must be aligned to the width (else UNALIGNED).\n"
	"NAME instead of OFFSET (anything not starting with a digit: LSR, LSR.DR,\n"
	"CH[3].EN) is a register or field of the region's register map, read at\n"
	"the map's width; a field prints its value shifted down.\n"
	"\n"
	"  -w, --width WIDTH    8, 16, 32 or 64 bits (default 32; a NAME's is the map's)\n"
	"  -d, --decode         print the register and each field (or the field named),\n"
	"                       with the name of its value when the map has one\n";

const char mmioctl_write_help[] =
	"Lease WIDTH/8 bytes of REGION at OFFSET, store VALUE with one access of\n"
	"exactly WIDTH bits, and release the lease. Prints nothing on success. A\n"
	"VALUE that does not fit in WIDTH bits is a usage error. The write is blind:\n"
	"the register is never read back (reading a read-to-clear or FIFO register\n"
	"is a side effect) unless --verify asks for it.\n"
	"NAME instead of OFFSET stores a register of the map at its width; for a\n"
	"field (REG.FIELD VALUE, VALUE a number or one of the field's value names)\n"
	"or fields (REG.FIELD=VALUE [REG.FIELD=VALUE...], all of one register) it\n"
	"makes one masked modify of just those bits, no other client in between.\n"
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
	"bits is a usage error. For a field NAME, MASK and VALUE are the field's\n"
	"(not shifted) and the old value printed is the field's.\n"
	"\n"
	"  -w, --width WIDTH    8, 16, 32 or 64 bits (default 32)\n";

const char mmioctl_poll_help[] =
	"Lease WIDTH/8 bytes of REGION at OFFSET and have mmiod load the register\n"
	"until (value & MASK) == (VALUE & MASK); print the last value read,\n"
	"zero-padded to the width like read. If it does not match in time, print\n"
	"the last value all the same and exit 1 with TIMEOUT. mmiod serves other\n"
	"clients between the loads. A MASK or VALUE that does not fit in WIDTH bits\n"
	"is a usage error. For a field NAME, MASK and VALUE are the field's.\n"
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

/* Field assignments one write takes at most. */
#define MAX_ASSIGNMENTS 64

/* What a one-register command asks for. */
struct register_request {
	enum register_op op;
	bool device_side;   /* sim get / sim set: raw bits of a sim region, no lease */
	const char *region; /* REGION as typed, or located */
	char located[sizeof(((struct mmio_region_info *)0)->name)]; /* -a: the region found */
	const char *reg_text; /* OFFSET or NAME as typed; NULL with -a */
	uint64_t address;     /* -a: the device address, which gives region and offset */
	struct mmioctl_target t;
	char *const *values; /* the MASK and VALUE (modify, poll) or VALUE (write) as typed */
	/* write REG.FIELD=VALUE...: a masked modify of those fields; REG.FIELD VALUE is one. */
	const char *assignments[MAX_ASSIGNMENTS];
	size_t n_assignments;
	char one_assignment[256];
	uint64_t mask;  /* modify, poll, fields: in place */
	uint64_t value; /* write, modify, poll, fields: in place */
	char what[192]; /* the command and the register as typed, for messages */
};

/* The command as the user typed it, for messages. */
static const char *
command_name(const struct register_request *req)
{
	if (req->device_side) {
		return req->op == REGISTER_READ ? "sim get" : "sim set";
	}
	return op_names[req->op];
}

/* Whether the values can be parsed before connecting: the register's width is known. */
static bool
values_known_early(const struct invocation *inv, const struct register_request *req)
{
	return !req->n_assignments &&
	       (inv->address || (!mmioctl_is_name(req->reg_text) && !inv->decode));
}

/*
 * The arguments: REGION OFFSET|NAME (or -a ADDR), then VALUE (write), MASK VALUE (modify,
 * poll) or REG.FIELD=VALUE... (write). An OFFSET and its numbers are parsed here, before
 * any connection. Returns 0 or the usage exit status.
 */
static int
parse_request(const struct invocation *inv, struct register_request *req)
{
	const char *name = command_name(req);
	char *const *args = inv->args;
	int n = inv->n_args;
	if (inv->address) {
		snprintf(req->what, sizeof(req->what), "%s %s", name, inv->address);
	} else {
		snprintf(req->what, sizeof(req->what), "%s %s %s", name, args[0], args[1]);
		req->region = args[0];
		req->reg_text = args[1];
		args += 2;
		n -= 2;
	}
	if (req->op == REGISTER_WRITE && !inv->address && strchr(req->reg_text, '=')) {
		/* Fields: every argument after REGION is an assignment. */
		for (int i = -1; i < n; i++) {
			const char *a = i < 0 ? req->reg_text : args[i];
			if (!strchr(a, '=')) {
				return mmioctl_usage_error(
					name,
					"'%s' is not REG.FIELD=VALUE: a write of "
					"fields takes only assignments",
					a);
			}
			if (req->n_assignments == MAX_ASSIGNMENTS) {
				return mmioctl_usage_error(name, "more than %d fields",
							   MAX_ASSIGNMENTS);
			}
			req->assignments[req->n_assignments++] = a;
		}
		return 0;
	}
	if (req->op == REGISTER_WRITE && n != 1) {
		return n < 1 ? mmioctl_usage_error(name, "missing VALUE; usage: mmioctl write "
							 "REGION OFFSET|NAME VALUE")
			     : mmioctl_usage_error(name, "unexpected argument '%s'", args[1]);
	}
	req->values = args;
	if (inv->address) {
		int rc = mmioctl_parse_number(inv, "address", inv->address, &req->address);
		if (rc != 0) {
			return rc;
		}
		req->t.width = inv->width;
		req->t.mask = inv->width == 8 ? UINT64_MAX : (UINT64_C(1) << (inv->width * 8)) - 1;
		return 0;
	}
	if (!values_known_early(inv, req)) {
		return 0; /* the map says what it is, once connected */
	}
	return mmioctl_resolve(NULL, inv, req->what, req->region, req->reg_text, &req->t);
}

/*
 * What the target makes of the values: VALUE of write, MASK and VALUE of modify and poll,
 * in place; for write REG.FIELD VALUE, the assignment REG.FIELD=VALUE. 0 or the usage status.
 */
static int
parse_values(const struct invocation *inv, struct register_request *req)
{
	const struct mmioctl_target *t = &req->t;
	if (req->op == REGISTER_READ || req->n_assignments) {
		return 0;
	}
	if (req->op == REGISTER_WRITE && t->field) {
		/* A number or a value's name: the library's encoding says which, and if it fits. */
		snprintf(req->one_assignment, sizeof(req->one_assignment), "%s=%s", t->name,
			 req->values[0]);
		req->assignments[req->n_assignments++] = req->one_assignment;
		return 0;
	}
	int rc = 0;
	if (req->op != REGISTER_WRITE) {
		rc = mmioctl_parse_target_value(inv, "mask", t, req->values[0], &req->mask);
		req->mask = (req->mask << t->lsb) & t->mask;
	}
	if (rc == 0) {
		const char *text = req->values[req->op == REGISTER_WRITE ? 0 : 1];
		rc = mmioctl_parse_target_value(inv, "value", t, text, &req->value);
		req->value <<= t->lsb;
	}
	return rc;
}

/* The request itself on the leased register; *result is the value it loaded, if any. */
static int
do_request(const struct invocation *inv, struct mmio_lease *lease,
	   const struct register_request *req, uint64_t *result)
{
	unsigned width = req->t.width;
	switch (req->op) {
	case REGISTER_READ:
		return mmio_load(lease, 0, width, result);
	case REGISTER_WRITE:
		if (req->n_assignments) {
			return mmio_modify(lease, 0, width, req->mask, req->value, result);
		}
		return mmio_store(lease, 0, width, req->value);
	case REGISTER_MODIFY:
		return mmio_modify(lease, 0, width, req->mask, req->value, result);
	case REGISTER_POLL: {
		unsigned timeout_ms =
			inv->timeout_ms < 0 ? POLL_DEFAULT_TIMEOUT_MS : (unsigned)inv->timeout_ms;
		return mmio_poll(lease, 0, width, req->mask, req->value, timeout_ms,
				 inv->interval_us, result);
	}
	}
	return -EINVAL;
}

/*
 * sim get / sim set: the raw bits of the register of a sim region, past its access rules;
 * a set changes the register's bits (or --mask's, or the fields') and nothing else.
 */
static int
do_device_request(struct mmio_client *client, const struct invocation *inv,
		  const struct register_request *req, uint64_t *result)
{
	const struct mmioctl_target *t = &req->t;
	if (req->op == REGISTER_READ) {
		return mmio_sim_get(client, req->region, t->offset, t->width, result);
	}
	uint64_t mask = req->n_assignments ? req->mask : t->mask;
	if (inv->mask && !req->n_assignments) {
		uint64_t given;
		int rc = mmioctl_parse_target_value(inv, "mask", t, inv->mask, &given);
		if (rc != 0) {
			return rc;
		}
		mask &= given << t->lsb;
	}
	return mmio_sim_set(client, req->region, t->offset, t->width, mask, req->value);
}

/* "0x" and v zero-padded to width bytes, in buf (at least 19 bytes). */
static const char *
padded(char *buf, uint64_t v, unsigned width)
{
	snprintf(buf, 19, "0x%0*" PRIx64, (int)width * 2, v);
	return buf;
}

/* A hex member and its _int sibling: , "key": "0x..", "key_int": N. */
static void
json_hex(const char *key, const char *hex, uint64_t v)
{
	printf(", \"%s\": \"%s\", \"%s_int\": %" PRIu64, key, hex, key, v);
}

/* The JSON document of a successful request: the register, and what was loaded or stored. */
static void
print_json(const struct invocation *inv, const struct register_request *req, uint64_t result)
{
	const struct mmioctl_target *t = &req->t;
	char a[20];
	fputs("{\"region\": ", stdout);
	mmioctl_json_string(req->region);
	if (req->device_side) {
		fputs(", \"op\": ", stdout);
		mmioctl_json_string(req->op == REGISTER_READ ? "get" : "set");
	}
	if (inv->decode) {
		fputs(", ", stdout);
		mmioctl_print_decoded(t, result);
		fputs("}\n", stdout);
		return;
	}
	if (t->name[0]) {
		fputs(", \"name\": ", stdout);
		mmioctl_json_string(t->name);
	}
	printf(", \"offset\": \"0x%" PRIx64 "\", \"offset_int\": %" PRIu64, t->offset, t->offset);
	if (inv->address) {
		printf(", \"address\": \"0x%" PRIx64 "\", \"address_int\": %" PRIu64, req->address,
		       req->address);
	}
	printf(", \"width\": %u", t->width * 8);
	if (t->field) {
		printf(", \"msb\": %u, \"lsb\": %u", t->field->msb, t->field->lsb);
	}
	uint64_t bits = mmioctl_target_bits(t, result);
	switch (req->op) {
	case REGISTER_READ:
	case REGISTER_POLL:
		json_hex("value", mmioctl_format_bits(a, t, bits), bits);
		if (t->field) {
			json_hex("register_value", padded(a, result, t->width), result);
		}
		break;
	case REGISTER_WRITE:
		if (req->device_side) {
			json_hex("mask",
				 padded(a, req->n_assignments ? req->mask : t->mask, t->width),
				 req->n_assignments ? req->mask : t->mask);
			json_hex("value", padded(a, req->value, t->width), req->value);
		} else if (req->n_assignments) {
			uint64_t next = (result & ~req->mask) | (req->value & req->mask);
			json_hex("mask", padded(a, req->mask, t->width), req->mask);
			json_hex("value", padded(a, req->value, t->width), req->value);
			json_hex("old", padded(a, result, t->width), result);
			json_hex("new", padded(a, next, t->width), next);
		} else {
			json_hex("value", padded(a, req->value, t->width), req->value);
		}
		if (inv->verify) {
			fputs(", \"verified\": true", stdout);
		}
		break;
	case REGISTER_MODIFY: {
		uint64_t next = (result & ~req->mask) | (req->value & req->mask);
		json_hex("old", mmioctl_format_bits(a, t, bits), bits);
		json_hex("new", mmioctl_format_bits(a, t, mmioctl_target_bits(t, next)),
			 mmioctl_target_bits(t, next));
		break;
	}
	}
	fputs("}\n", stdout);
}

/* write --verify: loads the register back; 0, MMIOCTL_EXIT_FAILURE after a report, or rc. */
static int
verify_write(struct mmio_lease *lease, const struct register_request *req)
{
	unsigned width = req->t.width;
	/* A write of fields set only their bits: those are what must read back. */
	uint64_t mask = req->n_assignments ? req->mask : UINT64_MAX;
	uint64_t back = 0;
	int rc = mmio_load(lease, 0, width, &back);
	if (rc < 0 || (back & mask) == (req->value & mask)) {
		return rc;
	}
	char want[20];
	char got[20];
	char detail[128];
	if (req->n_assignments) {
		char m[20];
		snprintf(detail, sizeof(detail), "wrote %s under mask %s, read back %s",
			 padded(want, req->value, width), padded(m, mask, width),
			 padded(got, back, width));
	} else {
		snprintf(detail, sizeof(detail), "wrote %s, read back %s",
			 padded(want, req->value, width), padded(got, back, width));
	}
	fprintf(stderr, "mmioctl: %s: MISMATCH: %s\n", req->what, detail);
	if (mmioctl_output == MMIOCTL_OUTPUT_JSON) {
		mmioctl_json_error("MISMATCH", detail);
	}
	return MMIOCTL_EXIT_FAILURE;
}

/*
 * Once connected: the region of -a, the register a NAME (or -d) stands for and the values it
 * makes of the arguments, or the fields to set. 0 or the exit status after a report.
 */
static int
resolve_request(struct mmio_client *client, const struct invocation *inv,
		struct register_request *req)
{
	int rc = 0;
	if (inv->address) {
		rc = mmioctl_locate(client, req->what, command_name(req), req->address,
				    req->located, sizeof(req->located), &req->t.offset);
		req->region = req->located;
		if (rc == 0 && inv->decode) {
			char offset[24];
			snprintf(offset, sizeof(offset), "0x%" PRIx64, req->t.offset);
			rc = mmioctl_resolve(client, inv, req->what, req->region, offset, &req->t);
		}
		return rc;
	}
	if (values_known_early(inv, req)) {
		return 0;
	}
	if (!req->n_assignments) {
		rc = mmioctl_resolve(client, inv, req->what, req->region, req->reg_text, &req->t);
		if (rc == 0) {
			rc = parse_values(inv, req); /* may make REG.FIELD VALUE an assignment */
		}
	}
	if (rc == 0 && req->n_assignments) {
		rc = mmioctl_encode_fields(client, req->what, req->region, req->assignments,
					   req->n_assignments, &req->t, &req->mask, &req->value);
	}
	return rc;
}

/* Prints the text result: the value (or the field's, or the old one), or the decoded register. */
static void
print_text(const struct invocation *inv, const struct register_request *req, uint64_t result)
{
	if (inv->decode) {
		mmioctl_print_decoded(&req->t, result);
	} else {
		char a[20];
		printf("%s\n",
		       mmioctl_format_bits(a, &req->t, mmioctl_target_bits(&req->t, result)));
	}
	(void)fflush(stdout); /* errors stay in ferror(stdout), which main() checks */
}

/*
 * Parses the arguments, leases exactly the register, runs the request on it
 * and releases the lease. Prints the value loaded, if the request gives one,
 * as soon as it has it: also after a poll's TIMEOUT, so the caller sees what
 * the register held. Returns 0 or the exit status after printing why not.
 */
static int
run_request(const struct invocation *inv, enum register_op op, bool device_side)
{
	struct register_request req = {.op = op, .device_side = device_side};
	int rc = parse_request(inv, &req);
	if (rc == 0 && values_known_early(inv, &req)) {
		rc = parse_values(inv, &req);
	}
	if (rc != 0) {
		return rc;
	}
	struct mmio_client *client;
	rc = mmioctl_connect(inv->socket_path, &client);
	if (rc != 0) {
		return rc;
	}
	if ((rc = resolve_request(client, inv, &req)) != 0) {
		goto out;
	}
	uint64_t result = 0;
	bool json = mmioctl_output == MMIOCTL_OUTPUT_JSON;
	if (device_side) {
		rc = do_device_request(client, inv, &req, &result);
		if (rc < 0) {
			rc = mmioctl_fail(client, rc, "%s", req.what);
		} else if (rc == 0 && json) {
			print_json(inv, &req, result);
		} else if (rc == 0 && op == REGISTER_READ) {
			print_text(inv, &req, result);
		}
		goto out;
	}
	struct mmio_lease *lease;
	rc = mmio_acquire(client, req.region, req.t.offset, req.t.width, &lease);
	if (rc < 0) {
		rc = mmioctl_fail(client, rc, "%s", req.what);
		goto out;
	}
	rc = do_request(inv, lease, &req, &result);
	if (rc == 0 && op == REGISTER_WRITE && inv->verify) {
		rc = verify_write(lease, &req);
		if (rc > 0) {
			mmio_release(lease);
			goto out;
		}
	}
	if (!json && op != REGISTER_WRITE &&
	    (rc == 0 || (op == REGISTER_POLL && rc == -ETIMEDOUT))) {
		print_text(inv, &req, result);
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
	return run_request(inv, REGISTER_READ, false);
}

int
mmioctl_write(const struct invocation *inv)
{
	return run_request(inv, REGISTER_WRITE, false);
}

int
mmioctl_modify(const struct invocation *inv)
{
	return run_request(inv, REGISTER_MODIFY, false);
}

int
mmioctl_poll(const struct invocation *inv)
{
	return run_request(inv, REGISTER_POLL, false);
}

int
mmioctl_sim_read(const struct invocation *inv)
{
	return run_request(inv, REGISTER_READ, true);
}

int
mmioctl_sim_write(const struct invocation *inv)
{
	return run_request(inv, REGISTER_WRITE, true);
}
