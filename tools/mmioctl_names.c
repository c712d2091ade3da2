/*
 * Registers by name for mmioctl's commands: a REGION's NAME or OFFSET, and field assignments,
 * resolved against the region's map (libmmio-client's, fetched once) into an offset, width,
 * mask and value, before any lease; and a register printed by its fields. Nothing here
 * touches the device: each command makes its own request with what it gets here.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <mmio/client.h>

#include "mmioctl.h"

bool
mmioctl_is_name(const char *text)
{
	return text[0] && !(text[0] >= '0' && text[0] <= '9');
}

/* Bits msb..lsb set. */
static uint64_t
bits_mask(unsigned msb, unsigned lsb)
{
	unsigned bits = msb - lsb + 1;
	return (bits == 64 ? UINT64_MAX : ((UINT64_C(1) << bits) - 1)) << lsb;
}

/* t's name as the map has it: "LCR", "CH[3]", with ".FIELD" when a field is named. */
static void
set_name(struct mmioctl_target *t)
{
	int n = snprintf(t->name, sizeof(t->name), "%s", t->reg->name);
	if (t->reg->count > 1 && n > 0 && (size_t)n < sizeof(t->name)) {
		n += snprintf(t->name + n, sizeof(t->name) - (size_t)n, "[%" PRIu64 "]", t->index);
	}
	if (t->field && n > 0 && (size_t)n < sizeof(t->name)) {
		snprintf(t->name + n, sizeof(t->name) - (size_t)n, ".%s", t->field->name);
	}
}

/* The map's entry for the register r names (r from libmmio-client: the same strings). */
static const struct mmio_regmap_register *
map_entry(const struct mmio_regmap *map, const struct mmio_reg *r)
{
	for (size_t i = 0; i < map->n_registers; i++) {
		if (map->registers[i].name == r->name ||
		    strcmp(map->registers[i].name, r->name) == 0) {
			return &map->registers[i];
		}
	}
	return NULL;
}

/* The field of reg that r names, or NULL. */
static const struct mmio_regmap_field *
field_entry(const struct mmio_regmap_register *reg, const struct mmio_reg *r)
{
	for (size_t f = 0; r->field && f < reg->n_fields; f++) {
		if (strcmp(reg->fields[f].name, r->field) == 0) {
			return &reg->fields[f];
		}
	}
	return NULL;
}

/* Reports an error of mmioctl's own about the map (not a daemon status). Returns
 * MMIOCTL_EXIT_FAILURE. */
static int
map_failed(const char *what, const char *status, const char *detail)
{
	fprintf(stderr, "mmioctl: %s: %s: %s\n", what, status, detail);
	if (mmioctl_output == MMIOCTL_OUTPUT_JSON) {
		mmioctl_json_error(status, detail);
	}
	return MMIOCTL_EXIT_FAILURE;
}

/* The width the command line asks for, checked against the map's for t. 0 or the usage status. */
static int
check_width(const struct invocation *inv, const struct mmioctl_target *t)
{
	if (inv->width_given && inv->width != t->width) {
		return mmioctl_usage_error(inv->cmd_name,
					   "-w %u: %s is %u bits wide in the map; leave -w out",
					   inv->width * 8, t->name, t->width * 8);
	}
	return 0;
}

/* -d on an OFFSET: the register instance of the map at that offset of region. */
static int
register_at(struct mmio_client *client, const struct invocation *inv, const char *what,
	    const char *region, struct mmioctl_target *t)
{
	const struct mmio_regmap *map;
	int rc = mmio_regmap_get(client, region, &map);
	if (rc < 0) {
		return mmioctl_fail(client, rc, "%s", what);
	}
	for (size_t i = 0; i < map->n_registers; i++) {
		const struct mmio_regmap_register *reg = &map->registers[i];
		if (t->offset < reg->offset) {
			continue;
		}
		uint64_t delta = t->offset - reg->offset;
		uint64_t index = reg->count > 1 ? delta / reg->stride : 0;
		if ((reg->count > 1 ? delta % reg->stride : delta) != 0 || index >= reg->count) {
			continue;
		}
		t->reg = reg;
		t->index = index;
		t->width = reg->width;
		t->mask = bits_mask(reg->width * 8 - 1, 0);
		set_name(t);
		return check_width(inv, t);
	}
	char detail[160];
	snprintf(detail, sizeof(detail), "the map of %s has no register at offset 0x%" PRIx64,
		 region, t->offset);
	return map_failed(what, "NOT_FOUND", detail);
}

int
mmioctl_resolve(struct mmio_client *client, const struct invocation *inv, const char *what,
		const char *region, const char *text, struct mmioctl_target *t)
{
	memset(t, 0, sizeof(*t));
	if (!mmioctl_is_name(text)) {
		int rc = mmioctl_parse_number(inv, "offset", text, &t->offset);
		if (rc != 0) {
			return rc;
		}
		t->width = inv->width;
		t->mask = bits_mask(inv->width * 8 - 1, 0);
		return inv->decode ? register_at(client, inv, what, region, t) : 0;
	}
	struct mmio_reg r = {0};
	const struct mmio_regmap *map = NULL;
	int rc = mmio_regmap_find(client, region, text, &r);
	if (rc == 0) {
		rc = mmio_regmap_get(client, region, &map); /* fetched already: no request */
	}
	if (rc < 0 || !map) {
		return mmioctl_fail(client, rc < 0 ? rc : -EPROTO, "%s", what);
	}
	t->offset = r.offset;
	t->width = r.width;
	t->mask = r.mask;
	t->lsb = r.lsb;
	t->index = r.index;
	t->reg = map_entry(map, &r);
	t->field = t->reg ? field_entry(t->reg, &r) : NULL;
	t->is_field = r.is_field;
	if (!t->reg || (r.is_field && !t->field)) {
		return mmioctl_fail(client, -EPROTO, "%s", what);
	}
	set_name(t);
	return check_width(inv, t);
}

void
mmioctl_target_of(const struct mmio_regmap_register *reg, uint64_t index, struct mmioctl_target *t)
{
	memset(t, 0, sizeof(*t));
	t->reg = reg;
	t->index = index;
	t->offset = reg->offset + index * reg->stride;
	t->width = reg->width;
	t->mask = bits_mask(reg->width * 8 - 1, 0);
	set_name(t);
}

void
mmioctl_target_from_reg(const struct mmio_reg *r, struct mmioctl_target *t)
{
	memset(t, 0, sizeof(*t));
	t->offset = r->offset;
	t->width = r->width;
	t->mask = r->mask;
	t->lsb = r->lsb;
	t->index = r->index;
	t->is_field = r->is_field;
	int n = snprintf(t->name, sizeof(t->name), "%s", r->name);
	if (r->field && n > 0 && (size_t)n < sizeof(t->name)) {
		snprintf(t->name + n, sizeof(t->name) - (size_t)n, ".%s", r->field);
	}
}

int
mmioctl_parse_target_value(const struct invocation *inv, const char *what,
			   const struct mmioctl_target *t, const char *text, uint64_t *out)
{
	int rc = mmioctl_parse_number(inv, what, text, out);
	uint64_t max = t->mask >> t->lsb;
	if (rc == 0 && *out > max) {
		if (!t->name[0]) {
			return mmioctl_usage_error(inv->cmd_name, "%s '%s' does not fit in %u bits",
						   what, text, t->width * 8);
		}
		return mmioctl_usage_error(
			inv->cmd_name, "%s '%s' does not fit %s (%u bits, at most 0x%" PRIx64 ")",
			what, text, t->name, (unsigned)__builtin_popcountll(t->mask), max);
	}
	return rc;
}

int
mmioctl_encode_fields(struct mmio_client *client, const char *what, const char *region,
		      const char *const *assignments, size_t n, struct mmioctl_target *t,
		      uint64_t *mask, uint64_t *value)
{
	memset(t, 0, sizeof(*t));
	struct mmio_reg r = {0};
	const struct mmio_regmap *map = NULL;
	int rc = mmio_regmap_encode_fields(client, region, assignments, n, &r, mask, value);
	if (rc == 0) {
		rc = mmio_regmap_get(client, region, &map);
	}
	if (rc < 0 || !map) {
		return mmioctl_fail(client, rc < 0 ? rc : -EPROTO, "%s", what);
	}
	t->offset = r.offset;
	t->width = r.width;
	t->mask = r.mask;
	t->index = r.index;
	t->reg = map_entry(map, &r);
	if (!t->reg) {
		return mmioctl_fail(client, -EPROTO, "%s", what);
	}
	set_name(t);
	return 0;
}

uint64_t
mmioctl_target_bits(const struct mmioctl_target *t, uint64_t value)
{
	return (value & t->mask) >> t->lsb;
}

const char *
mmioctl_format_bits(char *buf, const struct mmioctl_target *t, uint64_t bits)
{
	unsigned n = (unsigned)__builtin_popcountll(t->mask);
	snprintf(buf, 19, "0x%0*" PRIx64, (int)((n + 3) / 4), bits);
	return buf;
}

/* The name of field's value v, or NULL. */
static const char *
value_name(const struct mmio_regmap_field *field, uint64_t v)
{
	for (size_t i = 0; i < field->n_values; i++) {
		if (field->values[i].value == v) {
			return field->values[i].name;
		}
	}
	return NULL;
}

void
mmioctl_print_decoded(const struct mmioctl_target *t, uint64_t value)
{
	const struct mmio_regmap_register *reg = t->reg;
	/* The register itself: its name without the field named. */
	struct mmioctl_target whole = *t;
	whole.field = NULL;
	whole.mask = bits_mask(reg->width * 8 - 1, 0);
	whole.lsb = 0;
	set_name(&whole);
	char hex[20];
	bool json = mmioctl_output == MMIOCTL_OUTPUT_JSON;
	if (json) {
		fputs("\"name\": ", stdout);
		mmioctl_json_string(whole.name);
		printf(", \"offset\": \"0x%" PRIx64 "\", \"offset_int\": %" PRIu64
		       ", \"width\": %u, \"value\": \"%s\", \"value_int\": %" PRIu64
		       ", \"fields\": [",
		       t->offset, t->offset, reg->width * 8,
		       mmioctl_format_bits(hex, &whole, value), value);
	} else {
		printf("%s (0x%" PRIx64 ") = %s\n", whole.name, t->offset,
		       mmioctl_format_bits(hex, &whole, value));
	}
	/* Column widths of the field lines: the longest name and bit range. */
	int name_w = 0;
	int bits_w = 0;
	for (size_t f = 0; f < reg->n_fields; f++) {
		char bits[16];
		const struct mmio_regmap_field *fd = &reg->fields[f];
		int b = fd->msb == fd->lsb
				? snprintf(bits, sizeof(bits), "[%u]", fd->msb)
				: snprintf(bits, sizeof(bits), "[%u:%u]", fd->msb, fd->lsb);
		int len = (int)strlen(fd->name);
		name_w = len > name_w ? len : name_w;
		bits_w = b > bits_w ? b : bits_w;
	}
	bool first = true;
	for (size_t f = 0; f < reg->n_fields; f++) {
		const struct mmio_regmap_field *fd = &reg->fields[f];
		if (t->field && t->field != fd) {
			continue;
		}
		struct mmioctl_target ft = whole;
		ft.field = fd;
		ft.mask = bits_mask(fd->msb, fd->lsb);
		ft.lsb = fd->lsb;
		uint64_t v = mmioctl_target_bits(&ft, value);
		const char *enum_name = value_name(fd, v);
		char bits[16];
		if (fd->msb == fd->lsb) {
			snprintf(bits, sizeof(bits), "[%u]", fd->msb);
		} else {
			snprintf(bits, sizeof(bits), "[%u:%u]", fd->msb, fd->lsb);
		}
		if (json) {
			fputs(first ? "{\"name\": " : ", {\"name\": ", stdout);
			mmioctl_json_string(fd->name);
			printf(", \"msb\": %u, \"lsb\": %u, \"access\": ", fd->msb, fd->lsb);
			mmioctl_json_string(fd->access);
			printf(", \"value\": \"%s\", \"value_int\": %" PRIu64 ", \"enum\": ",
			       mmioctl_format_bits(hex, &ft, v), v);
			if (enum_name) {
				mmioctl_json_string(enum_name);
			} else {
				fputs("null", stdout);
			}
			putchar('}');
		} else {
			printf("  %-*s %-*s = %s%s%s%s\n", name_w, fd->name, bits_w, bits,
			       mmioctl_format_bits(hex, &ft, v), enum_name ? " (" : "",
			       enum_name ? enum_name : "", enum_name ? ")" : "");
		}
		first = false;
	}
	if (json) {
		putchar(']');
	}
}
