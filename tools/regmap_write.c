/* A register map as YAML; see regmap_write.h. */
#include "regmap_write.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

/* Plain scalars a YAML 1.1 reader takes for a boolean or null: quoted when names. */
static const char *const reserved[] = {"y",    "n",     "yes",  "no", "on", "off",
				       "true", "false", "null", "~",  NULL};

/* Whether name is safe as a plain YAML scalar: a name of a map that reads as a string. */
static bool
plain_ok(const char *name)
{
	if (!name[0] || (name[0] >= '0' && name[0] <= '9')) {
		return false;
	}
	for (const char *p = name; *p; p++) {
		bool ok = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
			  (*p >= '0' && *p <= '9') || *p == '_';
		if (!ok) {
			return false;
		}
	}
	for (size_t i = 0; reserved[i]; i++) {
		if (strcasecmp(name, reserved[i]) == 0) {
			return false;
		}
	}
	return true;
}

/* text as a YAML double-quoted scalar: ", \ and control characters escaped. */
static void
put_quoted(FILE *f, const char *text)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		if (*p == '"' || *p == '\\') {
			fputc('\\', f);
			fputc(*p, f);
		} else if (*p < 0x20 || *p == 0x7f) {
			fprintf(f, "\\x%02x", *p);
		} else {
			fputc(*p, f);
		}
	}
	fputc('"', f);
}

static void
put_name(FILE *f, const char *name)
{
	if (plain_ok(name)) {
		fputs(name, f);
	} else {
		put_quoted(f, name);
	}
}

/* "# " before each line of header. */
static void
put_header(FILE *f, const char *header)
{
	for (const char *p = header; p && *p;) {
		size_t len = strcspn(p, "\n");
		fprintf(f, "# %.*s\n", (int)len, p);
		p += len + (p[len] == '\n');
	}
}

static void
put_field(FILE *f, const struct regmap_field *fl)
{
	fputs("      - name: ", f);
	put_name(f, fl->name);
	if (fl->msb == fl->lsb) {
		fprintf(f, "\n        bits: \"%u\"\n", fl->lsb);
	} else {
		fprintf(f, "\n        bits: \"%u:%u\"\n", fl->msb, fl->lsb);
	}
	if (fl->has_access) {
		fprintf(f, "        access: %s\n", regmap_access_name(fl->access));
	}
	if (fl->description) {
		fputs("        description: ", f);
		put_quoted(f, fl->description);
		fputc('\n', f);
	}
	if (fl->n_values) {
		fputs("        values:\n", f);
	}
	for (unsigned k = 0; k < fl->n_values; k++) {
		fputs("          ", f);
		put_name(f, fl->values[k].name);
		fprintf(f, ": %llu\n", (unsigned long long)fl->values[k].value);
	}
}

static void
put_register(FILE *f, const struct regmap *map, const struct regmap_register *r)
{
	fputs("  - name: ", f);
	put_name(f, r->name);
	fprintf(f, "\n    offset: 0x%llx\n", (unsigned long long)r->offset);
	if (r->width) {
		fprintf(f, "    width: %u\n", r->width);
	}
	if (r->has_access) {
		fprintf(f, "    access: %s\n", regmap_access_name(r->access));
	}
	if (r->has_reset) {
		/* Zero-padded to the width: the register's bits at a glance. */
		fprintf(f, "    reset: 0x%0*llx\n", (int)(regmap_reg_width(map, r) / 4),
			(unsigned long long)r->reset);
	}
	if (r->side_effects) {
		fputs("    side_effects: true\n", f);
	}
	if (r->count > 1) {
		fprintf(f, "    count: %llu\n    stride: 0x%llx\n", (unsigned long long)r->count,
			(unsigned long long)r->stride);
	}
	if (r->description) {
		fputs("    description: ", f);
		put_quoted(f, r->description);
		fputc('\n', f);
	}
	if (r->n_fields) {
		fputs("    fields:\n", f);
	}
	for (unsigned j = 0; j < r->n_fields; j++) {
		put_field(f, &r->fields[j]);
	}
}

int
regmap_write_yaml(FILE *f, const struct regmap *map, const char *header)
{
	put_header(f, header);
	fputs("name: ", f);
	put_name(f, map->name);
	fprintf(f, "\nwidth: %u\n", map->width);
	if (map->description) {
		fputs("description: ", f);
		put_quoted(f, map->description);
		fputc('\n', f);
	}
	fputs("registers:\n", f);
	for (unsigned i = 0; i < map->n_registers; i++) {
		put_register(f, map, &map->registers[i]);
	}
	return ferror(f) ? -EIO : 0;
}
