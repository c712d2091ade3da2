/* Every region mmiod serves, opened from the configuration at start. */
#ifndef MMIOD_REGION_TABLE_H
#define MMIOD_REGION_TABLE_H

#include <stddef.h>

#include "core/limits.h"

struct region;
struct region_config;

struct region_table {
	struct region *regions[MMIO_MAX_REGIONS];
	unsigned count;
};

/*
 * Opens every configured region into table, with a copy of its policy. On
 * failure closes what it opened and returns a negative errno with the reason in err.
 */
int region_table_open(struct region_table *table, const struct region_config *configs, unsigned n,
		      char *err, size_t errlen);

/* Destroys every region; their leases must be gone. */
void region_table_close(struct region_table *table);

/* The region named name, or NULL. */
struct region *region_table_find(const struct region_table *table, const char *name);

#endif
