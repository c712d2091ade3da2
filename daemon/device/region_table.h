/*
 * Every region mmiod serves, opened from the configuration at start, with the
 * regions that map the same device bytes linked as aliases (core/lease.h).
 */
#ifndef MMIOD_REGION_TABLE_H
#define MMIOD_REGION_TABLE_H

#include <stddef.h>

#include "core/limits.h"

struct region;
struct event_base;
struct region_config;

struct region_table {
	struct region *regions[MMIO_MAX_REGIONS];
	unsigned count;
};

/*
 * Opens every configured region into table, with a copy of its policy, and
 * links every two whose backings share bytes (logging a line per pair), so a
 * lease on one excludes the same bytes of the other. Each opened region takes
 * its config's register map (configs[i].regmap becomes NULL). On failure
 * closes what it opened (and frees the maps taken) and returns a negative
 * errno with the reason in err.
 */
int region_table_open(struct region_table *table, struct region_config *configs, unsigned n,
		      char *err, size_t errlen);

/*
 * After the privilege drop, with the event loop: starts what runs in the regions themselves
 * (a sim region's model: its top level and on_reset; its timers then run on base). 0, or a
 * negative errno with the region and the reason in err.
 */
int region_table_start(struct region_table *table, struct event_base *base, char *err,
		       size_t errlen);

/* Before the event loop goes: cancels what the regions have pending on it (model timers). */
void region_table_stop(struct region_table *table);

/* Where region_table_check() reports; either callback may be NULL. */
struct region_check_report {
	/* configs[region] cannot be opened: why, as start-up would fail on it. */
	void (*error)(void *arg, unsigned region, const char *why);
	/* A pair of regions that alias the same bytes: allowed, only told. */
	void (*note)(void *arg, const char *text);
	void *arg;
};

/*
 * What region_table_open() would meet, without opening or mapping anything
 * (--check-config): each region is located (backend_locate(): its file, device
 * or BAR is there, of the right kind and size), each one that is not is an
 * error, and each pair of located regions that alias the same bytes a note.
 * Returns the number of errors.
 */
unsigned region_table_check(const struct region_config *configs, unsigned n,
			    const struct region_check_report *report);

/* Destroys every region; their leases must be gone. */
void region_table_close(struct region_table *table);

/* The region named name, or NULL. */
struct region *region_table_find(const struct region_table *table, const char *name);

#endif
