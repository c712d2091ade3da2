/*
 * libFuzzer harness (d): `mmioctl regmap import` on a hostile SVD file. The input is the file:
 * read as tools/svd_xml.c reads it (libxml2, no DTD), its peripherals listed, and each of the
 * first few converted (tools/svd_import.c). A map made must pass regmap_validate(), and,
 * written as YAML (tools/regmap_write.c) and read back by the daemon's reader
 * (config/regmap_yaml.c), be the same map: the importer never prints a map mmiod would refuse
 * or read otherwise. Anything else is a finding (abort), as are sanitizer reports.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "config/regmap_yaml.h"
#include "regmap_write.h"
#include "svd_import.h"
#include "svd_xml.h"

/* Peripherals converted per input: each is the same code on another subtree. */
#define MAX_PERIPHERALS 4

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
ignore_warning(void *arg, int line, const char *message)
{
	(void)arg;
	(void)line;
	(void)message;
}

static void
finding(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_svd: %s: %s\n", what, detail ? detail : "");
	abort();
}

static bool
same_text(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static bool
same_field(const struct regmap_register *x, const struct regmap_field *f,
	   const struct regmap_register *y, const struct regmap_field *g)
{
	bool same = strcmp(f->name, g->name) == 0 && f->msb == g->msb && f->lsb == g->lsb &&
		    regmap_field_access(x, f) == regmap_field_access(y, g) &&
		    same_text(f->description, g->description) && f->n_values == g->n_values;
	for (unsigned k = 0; same && k < f->n_values; k++) {
		same = strcmp(f->values[k].name, g->values[k].name) == 0 &&
		       f->values[k].value == g->values[k].value;
	}
	return same;
}

static bool
same_register(const struct regmap *a, const struct regmap_register *x, const struct regmap *b,
	      const struct regmap_register *y)
{
	bool same = strcmp(x->name, y->name) == 0 && x->offset == y->offset &&
		    regmap_reg_width(a, x) == regmap_reg_width(b, y) &&
		    regmap_reg_access(x) == regmap_reg_access(y) && x->has_reset == y->has_reset &&
		    (!x->has_reset || x->reset == y->reset) && x->side_effects == y->side_effects &&
		    x->count == y->count && x->stride == y->stride &&
		    same_text(x->description, y->description) && x->n_fields == y->n_fields;
	for (unsigned j = 0; same && j < x->n_fields; j++) {
		same = same_field(x, &x->fields[j], y, &y->fields[j]);
	}
	return same;
}

/* The map as YAML, read back: the same map. */
static void
check_round_trip(const struct regmap *map)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f) {
		return; /* out of memory: nothing learnt */
	}
	int rc = regmap_write_yaml(f, map, "fuzz");
	if (fclose(f) != 0 || rc < 0) {
		free(text);
		return;
	}
	struct regmap *back = NULL;
	char err[512];
	rc = regmap_yaml_parse(text, len, "out.yaml", &back, err, sizeof(err));
	if (rc == -ENOMEM) {
		free(text);
		return;
	}
	if (rc < 0) {
		fprintf(stderr, "%s\n", text);
		finding("the map written does not read back", err);
	}
	bool same = strcmp(map->name, back->name) == 0 && map->width == back->width &&
		    same_text(map->description, back->description) &&
		    map->n_registers == back->n_registers;
	for (unsigned i = 0; same && i < map->n_registers; i++) {
		same = same_register(map, &map->registers[i], back, &back->registers[i]);
	}
	if (!same) {
		fprintf(stderr, "%s\n", text);
		finding("the map read back differs", map->name);
	}
	regmap_free(back);
	free(text);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	xmlInitParser();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	xmlDoc *doc = NULL;
	char err[512];
	if (svd_xml_parse((const char *)data, size, "fuzz.svd", &doc, err, sizeof(err)) < 0) {
		return 0;
	}
	struct svd_peripherals all;
	struct regmap_error e = {0};
	if (svd_list_peripherals(doc, &all, &e) == 0) {
		for (size_t i = 0; i < all.n && i < MAX_PERIPHERALS; i++) {
			struct regmap *map = NULL;
			if (svd_import(&all.items[i], ignore_warning, NULL, &map, &e) < 0) {
				continue;
			}
			struct regmap_error v = {0};
			if (regmap_validate(map, 0, &v) < 0) {
				finding("a map made does not validate", v.message);
			}
			check_round_trip(map);
			regmap_free(map);
		}
		svd_peripherals_free(&all);
	}
	xmlFreeDoc(doc);
	return 0;
}
