/* The region table: every configured region opened, found by name, closed. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config/conf.h"
#include "core/limits.h"
#include "device/backend.h"
#include "device/region.h"
#include "device/region_table.h"

int
region_table_open(struct region_table *table, const struct region_config *configs, unsigned n,
		  char *err, size_t errlen)
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
		rc = backend_open(spec, &b, why, sizeof(why));
		if (rc < 0) {
			snprintf(err, errlen, "region '%s': %s", spec->name, why);
			goto err_close;
		}
		struct region *r = region_create(spec->name, b);
		if (!r || region_set_policy(r, &configs[i].policy) < 0) {
			region_destroy(r);
			snprintf(err, errlen, "region '%s': out of memory", spec->name);
			rc = -ENOMEM;
			goto err_close;
		}
		table->regions[table->count++] = r;
		continue;
	err_close:
		region_table_close(table);
		return rc;
	}
	return 0;
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
