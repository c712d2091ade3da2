/*
 * mmiod's configuration: etc/mmiod.conf parsed with libconfig, plus --region
 * specs from the command line. Parsing and validation only; no side effects.
 */
#ifndef MMIOD_CONF_H
#define MMIOD_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "config/region_spec.h"
#include "core/limits.h"
#include "core/park.h"
#include "core/policy.h"
#include "core/regmap.h"
#include "mmio_limits.h"

#define MMIOD_DEFAULT_CONFIG       "/etc/mmiod/mmiod.conf"
#define MMIO_MAX_GRANTS_PER_REGION 64
#define MMIO_MAX_LEASE_TTL_MS      86400000 /* max_lease_ms: a day */

struct region_config {
	struct region_spec spec;
	struct region_policy policy;
	struct regmap *regmap; /* map = "PATH": read with the config; owned; NULL without one */
	int line;              /* of its group in the config file; 0 for a --region spec */
	/* park = ( ... ), resolved in the map; empty at a reload (skip_maps: the region keeps
	 * the sequence it started with, as it keeps its map). */
	struct park_seq park;
};

struct mmiod_config {
	char *socket_path; /* owned */
	mode_t socket_mode;
	gid_t socket_gid; /* (gid_t)-1: leave the group alone */
	char *user;       /* owned; NULL: keep running as we started */
	uid_t uid;        /* user resolved */
	gid_t gid;
	bool has_admin_gid;
	gid_t admin_gid; /* may list and revoke every lease */
	int log_level;   /* log_level = "...": an enum log_level, or -1 when not set */
	struct limits limits;
	struct region_config regions[MMIO_MAX_REGIONS];
	unsigned n_regions;
	/*
	 * Set before conf_load() to leave register maps unread (region_config.regmap stays NULL,
	 * spec.regmap names the file): a reload, which keeps the maps read at start and runs as
	 * the dropped user, who need not be able to read them.
	 */
	bool skip_maps;
};

/* Defaults: the default socket, mode 0660, no user change, the limits of core/limits.h. */
void conf_init(struct mmiod_config *cfg);

/*
 * Reads path into cfg (which conf_init prepared). Returns 0, or a negative
 * errno with "path:line: message" in err; -ENOMEM leaves err as it was. cfg
 * must be finished either way.
 */
int conf_load(struct mmiod_config *cfg, const char *path, char *err, size_t errlen);

/* Adds a --region spec (no grants: root only). 0, -EINVAL with the reason in err, or -ENOMEM. */
int conf_add_region(struct mmiod_config *cfg, const char *text, char *err, size_t errlen);

/* Sets the user to drop to (name or number). 0, -EINVAL with the reason in err, or -ENOMEM. */
int conf_set_user(struct mmiod_config *cfg, const char *name, char *err, size_t errlen);

/* The region config named name, or NULL. */
const struct region_config *conf_find_region(const struct mmiod_config *cfg, const char *name);

void conf_finish(struct mmiod_config *cfg);

#endif
