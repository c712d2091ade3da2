/*
 * mmioctl regs: a region's register map as mmiod serves it, a table or JSON; and
 * dump --decode: the registers of the map that a read leaves alone, read through one lease
 * and printed by their fields, with why each other register was skipped.
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
#define DECODE_CHUNK_OPS 4096

const char mmioctl_regs_help[] =
	"List the register map of REGION (its config's map = \"PATH\", see\n"
	"mmiod-regmap(5)): for each register its NAME, OFFSET in the region, WIDTH in\n"
	"bits, ACCESS (rw, ro, wo, w1c, w1s, rc), RESET value (- if the map gives\n"
	"none) and DESCRIPTION, then a row for each of its fields: the name, the bits\n"
	"[MSB:LSB], the access and the names of its values. An array of N registers\n"
	"is one row NAME[0..N-1] at OFFSET+i*STRIDE. A register whose read changes\n"
	"the device (side_effects) says so in its description column. -q drops the\n"
	"header row. With -o json: {\"region\": R, \"map\": NAME, \"width\": BITS,\n"
	"\"registers\": [{\"name\", \"offset\", \"width\", \"access\", \"reset\" (null if\n"
	"none), \"side_effects\", \"count\", \"stride\", \"description\", \"fields\":\n"
	"[{\"name\", \"msb\", \"lsb\", \"access\", \"description\", \"values\": [{\"name\",\n"
	"\"value\"}]}]}]}, numbers in hex strings with their _int.\n";

/* One row of the table: its cells, formatted. */
struct row {
	char name[160];
	char offset[48];
	char width[8];
	char access[8];
	char reset[24];
	const char *description;
	char *values; /* fields: "5BIT=0 6BIT=1", malloc'd or NULL */
};

/* The row of register reg. */
static void
register_row(const struct mmio_regmap_register *reg, struct row *r)
{
	memset(r, 0, sizeof(*r));
	if (reg->count > 1) {
		snprintf(r->name, sizeof(r->name), "%s[0..%" PRIu64 "]", reg->name, reg->count - 1);
		snprintf(r->offset, sizeof(r->offset), "0x%" PRIx64 "+i*0x%" PRIx64, reg->offset,
			 reg->stride);
	} else {
		snprintf(r->name, sizeof(r->name), "%s", reg->name);
		snprintf(r->offset, sizeof(r->offset), "0x%" PRIx64, reg->offset);
	}
	snprintf(r->width, sizeof(r->width), "%u", reg->width * 8);
	snprintf(r->access, sizeof(r->access), "%s", reg->access);
	if (reg->has_reset) {
		snprintf(r->reset, sizeof(r->reset), "0x%0*" PRIx64, (int)reg->width * 2,
			 reg->reset);
	} else {
		snprintf(r->reset, sizeof(r->reset), "-");
	}
	r->description = reg->description;
}

/* The row of field f; its value names in r->values (NULL if none, or out of memory). */
static void
field_row(const struct mmio_regmap_field *f, struct row *r)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "  .%s", f->name);
	if (f->msb == f->lsb) {
		snprintf(r->offset, sizeof(r->offset), "[%u]", f->msb);
	} else {
		snprintf(r->offset, sizeof(r->offset), "[%u:%u]", f->msb, f->lsb);
	}
	snprintf(r->access, sizeof(r->access), "%s", f->access);
	r->description = f->description;
	if (f->n_values == 0) {
		return;
	}
	size_t len = 0;
	FILE *out = open_memstream(&r->values, &len);
	if (!out) {
		return;
	}
	for (size_t v = 0; v < f->n_values; v++) {
		fprintf(out, "%s%s=%" PRIu64, v ? " " : "", f->values[v].name, f->values[v].value);
	}
	if (fclose(out) != 0) {
		free(r->values);
		r->values = NULL;
	}
}

/* Column widths, grown to fit r. */
struct columns {
	int name, offset, width, access, reset;
};

static void
fit(struct columns *c, const struct row *r)
{
	int n;
	if ((n = (int)strlen(r->name)) > c->name) {
		c->name = n;
	}
	if ((n = (int)strlen(r->offset)) > c->offset) {
		c->offset = n;
	}
	if ((n = (int)strlen(r->width)) > c->width) {
		c->width = n;
	}
	if ((n = (int)strlen(r->access)) > c->access) {
		c->access = n;
	}
	if ((n = (int)strlen(r->reset)) > c->reset) {
		c->reset = n;
	}
}

static void
print_row(const struct columns *c, const struct row *r, bool side_effects)
{
	char desc[512];
	snprintf(desc, sizeof(desc), "%s%s%s%s%s", r->description,
		 r->description[0] && (r->values || side_effects) ? "; " : "",
		 side_effects ? "read has side effects" : "", side_effects && r->values ? "; " : "",
		 r->values ? r->values : "");
	char line[1024];
	int n = snprintf(line, sizeof(line), "%-*s  %-*s  %-*s  %-*s  %-*s  %s", c->name, r->name,
			 c->offset, r->offset, c->width, r->width, c->access, r->access, c->reset,
			 r->reset, desc);
	/* No trailing blanks where the last columns are empty. */
	size_t len = n < 0 ? 0 : ((size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
	while (len > 0 && line[len - 1] == ' ') {
		len--;
	}
	printf("%.*s\n", (int)len, line);
}

/* The table: two passes over the map, one to size the columns, one to print. */
static void
print_table(const struct invocation *inv, const struct mmio_regmap *map)
{
	struct columns c = {4, 6, 5, 6, 5}; /* the header's */
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1 && !inv->quiet) {
			struct row h = {.description = "DESCRIPTION"};
			snprintf(h.name, sizeof(h.name), "NAME");
			snprintf(h.offset, sizeof(h.offset), "OFFSET");
			snprintf(h.width, sizeof(h.width), "WIDTH");
			snprintf(h.access, sizeof(h.access), "ACCESS");
			snprintf(h.reset, sizeof(h.reset), "RESET");
			print_row(&c, &h, false);
		}
		for (size_t i = 0; i < map->n_registers; i++) {
			const struct mmio_regmap_register *reg = &map->registers[i];
			struct row r;
			register_row(reg, &r);
			if (pass == 0) {
				fit(&c, &r);
			} else {
				print_row(&c, &r, reg->side_effects);
			}
			for (size_t f = 0; f < reg->n_fields; f++) {
				field_row(&reg->fields[f], &r);
				if (pass == 0) {
					fit(&c, &r);
				} else {
					print_row(&c, &r, false);
				}
				free(r.values);
			}
		}
	}
}

/* , "key": "0x..", "key_int": N */
static void
json_hex(const char *key, uint64_t v)
{
	printf(", \"%s\": \"0x%" PRIx64 "\", \"%s_int\": %" PRIu64, key, v, key, v);
}

static void
print_json(const struct mmio_regmap *map)
{
	fputs("{\"region\": ", stdout);
	mmioctl_json_string(map->region);
	fputs(", \"map\": ", stdout);
	mmioctl_json_string(map->name);
	printf(", \"width\": %u, \"registers\": [", map->width * 8);
	for (size_t i = 0; i < map->n_registers; i++) {
		const struct mmio_regmap_register *reg = &map->registers[i];
		fputs(i ? ", {\"name\": " : "{\"name\": ", stdout);
		mmioctl_json_string(reg->name);
		json_hex("offset", reg->offset);
		printf(", \"width\": %u, \"access\": ", reg->width * 8);
		mmioctl_json_string(reg->access);
		if (reg->has_reset) {
			json_hex("reset", reg->reset);
		} else {
			fputs(", \"reset\": null, \"reset_int\": null", stdout);
		}
		printf(", \"side_effects\": %s, \"count\": %" PRIu64,
		       reg->side_effects ? "true" : "false", reg->count);
		json_hex("stride", reg->stride);
		fputs(", \"description\": ", stdout);
		mmioctl_json_string(reg->description);
		fputs(", \"fields\": [", stdout);
		for (size_t f = 0; f < reg->n_fields; f++) {
			const struct mmio_regmap_field *fd = &reg->fields[f];
			fputs(f ? ", {\"name\": " : "{\"name\": ", stdout);
			mmioctl_json_string(fd->name);
			printf(", \"msb\": %u, \"lsb\": %u, \"access\": ", fd->msb, fd->lsb);
			mmioctl_json_string(fd->access);
			fputs(", \"description\": ", stdout);
			mmioctl_json_string(fd->description);
			fputs(", \"values\": [", stdout);
			for (size_t v = 0; v < fd->n_values; v++) {
				fputs(v ? ", {\"name\": " : "{\"name\": ", stdout);
				mmioctl_json_string(fd->values[v].name);
				json_hex("value", fd->values[v].value);
				putchar('}');
			}
			fputs("]}", stdout);
		}
		fputs("]}", stdout);
	}
	fputs("]}\n", stdout);
}

int
mmioctl_regs(const struct invocation *inv)
{
	struct mmio_client *client;
	int rc = mmioctl_connect(inv->socket_path, &client);
	if (rc != 0) {
		return rc;
	}
	const struct mmio_regmap *map;
	rc = mmio_regmap_get(client, inv->args[0], &map);
	if (rc < 0) {
		rc = mmioctl_fail(client, rc, "regs %s", inv->args[0]);
	} else if (mmioctl_output == MMIOCTL_OUTPUT_JSON) {
		print_json(map);
	} else {
		print_table(inv, map);
	}
	mmio_disconnect(client);
	return rc;
}

/* One register instance of dump --decode: read, or skipped for a reason. */
struct instance {
	struct mmioctl_target t;
	const char *reason; /* NULL: read */
	char why[96];       /* the reason, when it names a field */
	uint64_t value;
};

/* Why reading reg would change the device (or cannot be done), or NULL if it would not. */
static const char *
skip_reason(const struct mmio_regmap_register *reg, char *why, size_t len)
{
	if (strcmp(reg->access, "wo") == 0) {
		return "write-only (wo)";
	}
	if (strcmp(reg->access, "rc") == 0) {
		return "a read clears it (rc)";
	}
	if (reg->side_effects) {
		return "a read has side effects (side_effects)";
	}
	for (size_t f = 0; f < reg->n_fields; f++) {
		if (strcmp(reg->fields[f].access, "rc") == 0) {
			snprintf(why, len, "a read clears its field %s (rc)", reg->fields[f].name);
			return why;
		}
	}
	return NULL;
}

/* Loads every instance not skipped, through lease (from region offset base), in batches. */
static int
read_instances(struct mmio_client *client, struct mmio_lease *lease, uint64_t base,
	       struct instance *in, size_t n)
{
	struct mmio_op *ops = calloc(DECODE_CHUNK_OPS, sizeof(*ops));
	size_t *which = calloc(DECODE_CHUNK_OPS, sizeof(*which));
	int rc = ops && which ? 0 : -ENOMEM;
	for (size_t i = 0; i < n && rc == 0;) {
		size_t k = 0;
		for (; i < n && k < DECODE_CHUNK_OPS; i++) {
			if (in[i].reason) {
				continue;
			}
			ops[k] = (struct mmio_op){.lease = lease,
						  .kind = MMIO_OP_LOAD,
						  .width = in[i].t.width,
						  .offset = in[i].t.offset - base};
			which[k++] = i;
		}
		if (k == 0) {
			break;
		}
		rc = mmio_batch(client, ops, k, MMIO_BATCH_STOP_ON_ERROR);
		for (size_t j = 0; j < k && rc > 0; j++) {
			if (ops[j].status != 0) {
				rc = ops[j].status;
			}
		}
		for (size_t j = 0; j < k && rc == 0; j++) {
			in[which[j]].value = ops[j].value;
		}
	}
	free(ops);
	free(which);
	return rc;
}

/* Prints what dump --decode found: text lines, or one JSON document. */
static void
print_instances(const char *region, const struct instance *in, size_t n)
{
	bool json = mmioctl_output == MMIOCTL_OUTPUT_JSON;
	if (json) {
		fputs("{\"region\": ", stdout);
		mmioctl_json_string(region);
		fputs(", \"registers\": [", stdout);
	}
	bool first = true;
	for (size_t i = 0; i < n; i++) {
		if (in[i].reason) {
			if (!json) {
				printf("%s (0x%" PRIx64 "): skipped: %s\n", in[i].t.name,
				       in[i].t.offset, in[i].reason);
			}
			continue;
		}
		fputs(json ? (first ? "{" : ", {") : "", stdout);
		mmioctl_print_decoded(&in[i].t, in[i].value);
		fputs(json ? "}" : "", stdout);
		first = false;
	}
	if (!json) {
		return;
	}
	fputs("], \"skipped\": [", stdout);
	first = true;
	for (size_t i = 0; i < n; i++) {
		if (!in[i].reason) {
			continue;
		}
		fputs(first ? "{\"name\": " : ", {\"name\": ", stdout);
		mmioctl_json_string(in[i].t.name);
		json_hex("offset", in[i].t.offset);
		fputs(", \"reason\": ", stdout);
		mmioctl_json_string(in[i].reason);
		putchar('}');
		first = false;
	}
	fputs("]}\n", stdout);
}

/* The instances of map inside the range (all without one), into a new array *out. */
static int
collect(const struct mmio_regmap *map, bool has_range, uint64_t offset, uint64_t length,
	struct instance **out, size_t *n_out)
{
	size_t n = 0;
	size_t cap = 0;
	struct instance *in = NULL;
	for (size_t i = 0; i < map->n_registers; i++) {
		const struct mmio_regmap_register *reg = &map->registers[i];
		for (uint64_t k = 0; k < reg->count; k++) {
			uint64_t at = reg->offset + k * reg->stride;
			if (has_range && (at < offset || at - offset > length ||
					  length - (at - offset) < reg->width)) {
				continue;
			}
			if (n == cap) {
				cap = cap ? cap * 2 : 64;
				struct instance *more = realloc(in, cap * sizeof(*in));
				if (!more) {
					free(in);
					return -ENOMEM;
				}
				in = more;
			}
			struct instance *x = &in[n++];
			memset(x, 0, sizeof(*x));
			mmioctl_target_of(reg, k, &x->t);
			x->reason = skip_reason(reg, x->why, sizeof(x->why));
		}
	}
	*out = in;
	*n_out = n;
	return 0;
}

int
mmioctl_dump_decoded(struct mmio_client *client, const char *what, const char *region,
		     bool has_range, uint64_t offset, uint64_t length)
{
	const struct mmio_regmap *map;
	int rc = mmio_regmap_get(client, region, &map);
	if (rc < 0) {
		return mmioctl_fail(client, rc, "%s", what);
	}
	struct instance *in = NULL;
	size_t n = 0;
	if ((rc = collect(map, has_range, offset, length, &in, &n)) < 0) {
		return mmioctl_fail(client, rc, "%s", what);
	}
	/* One lease over the registers to read, from the first to the end of the last. */
	uint64_t lo = UINT64_MAX;
	uint64_t hi = 0;
	for (size_t i = 0; i < n; i++) {
		if (!in[i].reason) {
			lo = in[i].t.offset < lo ? in[i].t.offset : lo;
			uint64_t end = in[i].t.offset + in[i].t.width;
			hi = end > hi ? end : hi;
		}
	}
	if (lo < hi) {
		struct mmio_lease *lease;
		rc = mmio_acquire(client, region, lo, hi - lo, &lease);
		if (rc == 0) {
			rc = read_instances(client, lease, lo, in, n);
			int released = mmio_release(lease);
			rc = rc < 0 ? rc : released;
		}
		if (rc < 0) {
			free(in);
			return mmioctl_fail(client, rc, "%s", what);
		}
	}
	print_instances(region, in, n);
	free(in);
	return 0;
}
