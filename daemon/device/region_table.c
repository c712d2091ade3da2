/*
 * The region table: every configured region opened, its aliases linked, found
 * by name, closed; and the aliases a configuration would have, for --check-config.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "config/conf.h"
#include "config/regmap_yaml.h"
#include "core/lease.h"
#include "core/limits.h"
#include "device/backend.h"
#include "device/backend_sim.h"
#include "device/region.h"
#include "device/region_table.h"

/* The note for regions a and b sharing o's bytes, in their offsets. */
static void
alias_text(char *buf, size_t len, const char *a, const char *b, const struct lease_overlap *o)
{
	/* Each window lies inside its region: the ends cannot wrap. */
	snprintf(buf, len,
		 "regions '%s' and '%s' alias the same bytes (%s [0x%" PRIx64 ", 0x%" PRIx64
		 ") is %s [0x%" PRIx64 ", 0x%" PRIx64 ")): a lease on one excludes the other",
		 a, b, a, o->a_off, o->a_off + o->len, b, o->b_off, o->b_off + o->len);
}

/* Links every two regions of table whose backings share bytes. 0 or -ENOMEM. */
static int
link_aliases(struct region_table *table)
{
	for (unsigned i = 0; i < table->count; i++) {
		struct region *a = table->regions[i];
		for (unsigned j = i + 1; j < table->count; j++) {
			struct region *b = table->regions[j];
			struct lease_overlap o;
			if (!backing_overlap(&a->backend->backing, a->space.len,
					     &b->backend->backing, b->space.len, &o)) {
				continue;
			}
			int rc = lease_space_alias(&a->space, o.a_off, &b->space, o.b_off, o.len);
			if (rc < 0) {
				return rc;
			}
			char text[512];
			alias_text(text, sizeof(text), a->name, b->name, &o);
			log_info("%s", text);
		}
	}
	return 0;
}

int
region_table_open(struct region_table *table, struct region_config *configs, unsigned n, char *err,
		  size_t errlen)
{
	table->count = 0;
	if (n > MMIO_MAX_REGIONS) {
		snprintf(err, errlen, "%u regions, at most %d are supported", n, MMIO_MAX_REGIONS);
		return -EINVAL;
	}
	for (unsigned i = 0; i < n; i++) {
		const struct region_spec *spec = &configs[i].spec;
		int rc;
		if (region_table_find(table, spec->name)) {
			snprintf(err, errlen, "region '%s' is defined twice", spec->name);
			rc = -EINVAL;
			goto err_close;
		}
		struct backend *b;
		char why[256];
		rc = backend_open_map(spec, configs[i].regmap, &b, why, sizeof(why));
		if (rc < 0) {
			snprintf(err, errlen, "region '%s': %s", spec->name, why);
			goto err_close;
		}
		/* A size the config did not give (pci, uio) is known now: the map must fit it. */
		if (configs[i].regmap && !spec->size &&
		    regmap_yaml_check(spec->regmap, configs[i].regmap, b->len, why, sizeof(why)) <
			    0) {
			snprintf(err, errlen, "region '%s': %s", spec->name, why);
			backend_close(b);
			rc = -EINVAL;
			goto err_close;
		}
		struct region *r = region_create(spec->name, b);
		if (r) {
			r->regmap = configs[i].regmap;
			configs[i].regmap = NULL;
		}
		if (!r || (rc = region_set_policy(r, &configs[i].policy, why, sizeof(why))) < 0) {
			if (r && rc == -EINVAL) {
				snprintf(err, errlen, "region '%s': grants: %s", spec->name, why);
			} else {
				snprintf(err, errlen, "region '%s': out of memory", spec->name);
				rc = -ENOMEM;
			}
			region_destroy(r);
			goto err_close;
		}
		r->park = configs[i].park;
		configs[i].park = (struct park_seq){0};
		table->regions[table->count++] = r;
		continue;
	err_close:
		region_table_close(table);
		return rc;
	}
	if (link_aliases(table) < 0) {
		snprintf(err, errlen, "linking the regions that alias each other: out of memory");
		region_table_close(table);
		return -ENOMEM;
	}
	return 0;
}

unsigned
region_table_check(const struct region_config *configs, unsigned n,
		   const struct region_check_report *report)
{
	struct backing where[MMIO_MAX_REGIONS];
	uint64_t len[MMIO_MAX_REGIONS];
	bool located[MMIO_MAX_REGIONS];
	char text[512];
	/* A config never holds more; the arrays must not be overrun if one did. */
	unsigned count = n;
	if (count > MMIO_MAX_REGIONS) {
		count = MMIO_MAX_REGIONS;
	}
	unsigned failed = 0;
	for (unsigned i = 0; i < count; i++) {
		char why[400];
		located[i] =
			backend_locate(&configs[i].spec, &where[i], &len[i], why, sizeof(why)) == 0;
		/* The region's size from stat, where the config left it to the device. */
		if (located[i] && configs[i].regmap && !configs[i].spec.size &&
		    regmap_yaml_check(configs[i].spec.regmap, configs[i].regmap, len[i], why,
				      sizeof(why)) < 0) {
			located[i] = false;
		}
		if (!located[i]) {
			/* Start-up would fail here: open sees what stat sees. */
			failed++;
			if (report->error) {
				report->error(report->arg, i, why);
			}
		}
	}
	for (unsigned i = 0; i < count; i++) {
		for (unsigned j = i + 1; j < count; j++) {
			struct lease_overlap o;
			if (!located[i] || !located[j] ||
			    !backing_overlap(&where[i], len[i], &where[j], len[j], &o)) {
				continue;
			}
			alias_text(text, sizeof(text), configs[i].spec.name, configs[j].spec.name,
				   &o);
			if (report->note) {
				report->note(report->arg, text);
			}
		}
	}
	return failed;
}

int
region_table_start(struct region_table *table, struct event_base *base, char *err, size_t errlen)
{
	for (unsigned i = 0; i < table->count; i++) {
		struct region *r = table->regions[i];
		char why[512];
		int rc = backend_is_sim(r->backend)
				 ? sim_device_start(r->backend, base, why, sizeof(why))
				 : 0;
		if (rc < 0) {
			snprintf(err, errlen, "region %s: starting its model: %s", r->name, why);
			return rc;
		}
	}
	return 0;
}

void
region_table_stop(struct region_table *table)
{
	for (unsigned i = 0; i < table->count; i++) {
		if (backend_is_sim(table->regions[i]->backend)) {
			sim_device_stop(table->regions[i]->backend);
		}
	}
}

void
region_table_close(struct region_table *table)
{
	for (unsigned i = 0; i < table->count; i++) {
		region_destroy(table->regions[i]);
		table->regions[i] = NULL;
	}
	table->count = 0;
}

struct region *
region_table_find(const struct region_table *table, const char *name)
{
	for (unsigned i = 0; i < table->count; i++) {
		if (strcmp(table->regions[i]->name, name) == 0) {
			return table->regions[i];
		}
	}
	return NULL;
}
