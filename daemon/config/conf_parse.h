/* What conf.c and conf_region.c share to read libconfig settings; not used elsewhere. */
#ifndef MMIOD_CONF_PARSE_H
#define MMIOD_CONF_PARSE_H

#include <libconfig.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config/conf.h"

/* One parse: the file name for messages and where the first error goes. */
struct parse {
	const char *path;
	char *err;
	size_t errlen;
	bool skip_maps; /* mmiod_config.skip_maps */
};

/* Writes "path:line: message" (line of s) to p->err; returns -EINVAL. */
int conf_fail_at(const struct parse *p, const config_setting_t *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The member key of s for pointing at its line, or s itself if absent. */
const config_setting_t *conf_member_or(const config_setting_t *s, const char *key);

/* Rejects members of group s not in allowed (NULL-terminated): a typo must not weaken policy. */
int conf_check_keys(const struct parse *p, const config_setting_t *s, const char *const *allowed);

/* A non-negative integer member; absent leaves *out. 0 or -EINVAL. */
int conf_get_u64(const struct parse *p, const config_setting_t *group, const char *key,
		 uint64_t *out);

/* conf_get_u64 that also requires 1..max. */
int conf_get_uint(const struct parse *p, const config_setting_t *group, const char *key,
		  uint64_t max, uint64_t *out);

/* conf_get_u64 that also requires min..max. */
int conf_get_uint_range(const struct parse *p, const config_setting_t *group, const char *key,
			uint64_t min, uint64_t max, uint64_t *out);

/* A string member (owned by libconfig); absent: *out NULL. 0 or -EINVAL. */
int conf_get_string(const struct parse *p, const config_setting_t *group, const char *key,
		    const char **out);

/* A user or group given by name or number; for a user, *user_gid (if not NULL) gets its gid. */
int conf_resolve_id(const struct parse *p, const config_setting_t *s, bool is_group, uint32_t *id,
		    gid_t *user_gid);

/* One element of regions = ( ... ). 0, -EINVAL (message in p->err) or -ENOMEM. */
int conf_parse_region(const struct parse *p, const config_setting_t *s, struct region_config *out);

/*
 * park = ( ... ) of a region whose map is map (NULL: none, and only barriers and delays pass).
 * 0, -EINVAL (message in p->err) or -ENOMEM; out is the caller's to finish either way.
 */
int conf_parse_park(const struct parse *p, const config_setting_t *list, const struct regmap *map,
		    struct park_seq *out);

/*
 * A grant's registers = [...] and rules = (...) (conf_rules.c) into g->rules; compiled against
 * the region's map when it was read (for FILE:LINE errors), and an exact grant's range set to
 * its registers' span. 0, -EINVAL or -ENOMEM.
 */
int conf_parse_grant_rules(const struct parse *p, const config_setting_t *s,
			   const struct region_config *region, struct grant *g);

#endif
