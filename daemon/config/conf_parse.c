/* Reading typed settings out of libconfig, with file:line errors; shared by the conf_*.c files. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "config/conf_parse.h"

int
conf_fail_at(const struct parse *p, const config_setting_t *s, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errlen, "%s:%d: %s", p->path, s ? config_setting_source_line(s) : 0,
		 msg);
	return -EINVAL;
}

/* The member key of s for pointing at its line, or s itself if absent. */
const config_setting_t *
conf_member_or(const config_setting_t *s, const char *key)
{
	const config_setting_t *m = config_setting_get_member(s, key);
	return m ? m : s;
}

/* Rejects members of group s not in allowed: a typo must not silently weaken policy. */
int
conf_check_keys(const struct parse *p, const config_setting_t *s, const char *const *allowed)
{
	for (int i = 0; i < config_setting_length(s); i++) {
		const config_setting_t *m = config_setting_get_elem(s, (unsigned)i);
		const char *name = config_setting_name(m);
		bool known = false;
		for (const char *const *a = allowed; *a; a++) {
			known = known || strcmp(name, *a) == 0;
		}
		if (!known) {
			return conf_fail_at(p, m, "unknown setting '%s'", name);
		}
	}
	return 0;
}

/* A non-negative integer member; absent leaves *out. */
int
conf_get_u64(const struct parse *p, const config_setting_t *group, const char *key, uint64_t *out)
{
	const config_setting_t *s = config_setting_get_member(group, key);
	if (!s) {
		return 0;
	}
	int type = config_setting_type(s);
	if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64) {
		return conf_fail_at(p, s, "%s must be an integer", key);
	}
	long long v = config_setting_get_int64(s);
	if (v < 0) {
		return conf_fail_at(p, s, "%s must not be negative", key);
	}
	*out = (uint64_t)v;
	return 0;
}

int
conf_get_uint(const struct parse *p, const config_setting_t *group, const char *key, uint64_t max,
	      uint64_t *out)
{
	return conf_get_uint_range(p, group, key, 1, max, out);
}

int
conf_get_uint_range(const struct parse *p, const config_setting_t *group, const char *key,
		    uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v = *out;
	int rc = conf_get_u64(p, group, key, &v);
	if (rc < 0) {
		return rc;
	}
	if (v < min || v > max) {
		return conf_fail_at(p, config_setting_get_member(group, key),
				    "%s must be in %llu..%llu", key, (unsigned long long)min,
				    (unsigned long long)max);
	}
	*out = v;
	return 0;
}

/* A string member; absent leaves *out NULL. The string belongs to libconfig. */
int
conf_get_bool(const struct parse *p, const config_setting_t *group, const char *key, bool *out)
{
	const config_setting_t *s = config_setting_get_member(group, key);
	if (!s) {
		return 0;
	}
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		return conf_fail_at(p, s, "%s must be true or false", key);
	}
	*out = config_setting_get_bool(s);
	return 0;
}

int
conf_get_string(const struct parse *p, const config_setting_t *group, const char *key,
		const char **out)
{
	const config_setting_t *s = config_setting_get_member(group, key);
	*out = NULL;
	if (!s) {
		return 0;
	}
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		return conf_fail_at(p, s, "%s must be a string", key);
	}
	*out = config_setting_get_string(s);
	return 0;
}

/* A user or group given by name (string) or number. */
int
conf_resolve_id(const struct parse *p, const config_setting_t *s, bool is_group, uint32_t *id,
		gid_t *user_gid)
{
	if (config_setting_type(s) == CONFIG_TYPE_INT ||
	    config_setting_type(s) == CONFIG_TYPE_INT64) {
		long long v = config_setting_get_int64(s);
		if (v < 0 || v >= (long long)UINT32_MAX) {
			return conf_fail_at(p, s, "%s id %lld is out of range",
					    is_group ? "group" : "user", v);
		}
		*id = (uint32_t)v;
		if (user_gid) {
			struct passwd *pw = getpwuid((uid_t)v);
			*user_gid = pw ? pw->pw_gid : (gid_t)v;
		}
		return 0;
	}
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		return conf_fail_at(p, s, "%s must be a name or a number", config_setting_name(s));
	}
	const char *name = config_setting_get_string(s);
	if (is_group) {
		struct group *gr = getgrnam(name);
		if (!gr) {
			return conf_fail_at(p, s, "no group named '%s'", name);
		}
		*id = gr->gr_gid;
	} else {
		struct passwd *pw = getpwnam(name);
		if (!pw) {
			return conf_fail_at(p, s, "no user named '%s'", name);
		}
		*id = pw->pw_uid;
		if (user_gid) {
			*user_gid = pw->pw_gid;
		}
	}
	return 0;
}
