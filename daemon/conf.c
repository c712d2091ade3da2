#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <libconfig.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "parse.h"

/* One parse: the file name for messages and where the first error goes. */
struct parse {
	const char *path;
	char *err;
	size_t errlen;
};

static int __attribute__((format(printf, 3, 4)))
fail_at(const struct parse *p, const config_setting_t *s, const char *fmt, ...)
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

void
conf_init(struct mmiod_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->socket_mode = 0660;
	cfg->socket_gid = (gid_t)-1;
	cfg->uid = (uid_t)-1;
	cfg->gid = (gid_t)-1;
	cfg->limits = (struct limits){
		.max_connections = MMIO_MAX_CONNS,
		.max_connections_per_uid = MMIO_MAX_CONNS_PER_UID,
		.max_leases_per_connection = MMIO_MAX_LEASES_PER_CONN,
		.max_frame = MMIO_MAX_FRAME,
		.max_queued_bytes = MMIO_MAX_QUEUED_BYTES,
		.handshake_timeout_ms = MMIO_HANDSHAKE_TIMEOUT_MS,
	};
}

void
conf_finish(struct mmiod_config *cfg)
{
	for (unsigned i = 0; i < cfg->n_regions; i++) {
		region_spec_finish(&cfg->regions[i].spec);
		policy_finish(&cfg->regions[i].policy);
	}
	cfg->n_regions = 0;
	free(cfg->socket_path);
	free(cfg->user);
	cfg->socket_path = NULL;
	cfg->user = NULL;
}

/* The member key of s for pointing at its line, or s itself if absent. */
static const config_setting_t *
member_or(const config_setting_t *s, const char *key)
{
	const config_setting_t *m = config_setting_get_member(s, key);
	return m ? m : s;
}

/* Rejects members of group s not in allowed: a typo must not silently weaken policy. */
static int
check_keys(const struct parse *p, const config_setting_t *s, const char *const *allowed)
{
	for (int i = 0; i < config_setting_length(s); i++) {
		const config_setting_t *m = config_setting_get_elem(s, (unsigned)i);
		const char *name = config_setting_name(m);
		bool known = false;
		for (const char *const *a = allowed; *a; a++) {
			known = known || strcmp(name, *a) == 0;
		}
		if (!known) {
			return fail_at(p, m, "unknown setting '%s'", name);
		}
	}
	return 0;
}

/* A non-negative integer member; absent leaves *out. */
static int
get_u64(const struct parse *p, const config_setting_t *group, const char *key, uint64_t *out)
{
	const config_setting_t *s = config_setting_get_member(group, key);
	if (!s) {
		return 0;
	}
	int type = config_setting_type(s);
	if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64) {
		return fail_at(p, s, "%s must be an integer", key);
	}
	long long v = config_setting_get_int64(s);
	if (v < 0) {
		return fail_at(p, s, "%s must not be negative", key);
	}
	*out = (uint64_t)v;
	return 0;
}

static int
get_uint(const struct parse *p, const config_setting_t *group, const char *key, uint64_t max,
	 uint64_t *out)
{
	uint64_t v = *out;
	int rc = get_u64(p, group, key, &v);
	if (rc < 0) {
		return rc;
	}
	if (v == 0 || v > max) {
		return fail_at(p, config_setting_get_member(group, key), "%s must be in 1..%llu",
			       key, (unsigned long long)max);
	}
	*out = v;
	return 0;
}

/* A string member; absent leaves *out NULL. The string belongs to libconfig. */
static int
get_string(const struct parse *p, const config_setting_t *group, const char *key, const char **out)
{
	const config_setting_t *s = config_setting_get_member(group, key);
	*out = NULL;
	if (!s) {
		return 0;
	}
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		return fail_at(p, s, "%s must be a string", key);
	}
	*out = config_setting_get_string(s);
	return 0;
}

/* A user or group given by name (string) or number. */
static int
resolve_id(const struct parse *p, const config_setting_t *s, bool is_group, uint32_t *id,
	   gid_t *user_gid)
{
	if (config_setting_type(s) == CONFIG_TYPE_INT ||
	    config_setting_type(s) == CONFIG_TYPE_INT64) {
		long long v = config_setting_get_int64(s);
		if (v < 0 || v >= (long long)UINT32_MAX) {
			return fail_at(p, s, "%s id %lld is out of range",
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
		return fail_at(p, s, "%s must be a name or a number", config_setting_name(s));
	}
	const char *name = config_setting_get_string(s);
	if (is_group) {
		struct group *gr = getgrnam(name);
		if (!gr) {
			return fail_at(p, s, "no group named '%s'", name);
		}
		*id = gr->gr_gid;
	} else {
		struct passwd *pw = getpwnam(name);
		if (!pw) {
			return fail_at(p, s, "no user named '%s'", name);
		}
		*id = pw->pw_uid;
		if (user_gid) {
			*user_gid = pw->pw_gid;
		}
	}
	return 0;
}

static int
parse_grant(const struct parse *p, const config_setting_t *s, const struct region_spec *spec,
	    struct grant *g)
{
	static const char *const keys[] = {"user", "group", "access", "offset", "length", NULL};
	if (!config_setting_is_group(s)) {
		return fail_at(p, s, "a grant is a group: { group = \"...\"; access = \"rw\"; }");
	}
	int rc = check_keys(p, s, keys);
	if (rc < 0) {
		return rc;
	}
	const config_setting_t *user = config_setting_get_member(s, "user");
	const config_setting_t *group = config_setting_get_member(s, "group");
	if (!user == !group) {
		return fail_at(p, s, "a grant names exactly one of user or group");
	}
	g->subject = user ? GRANT_USER : GRANT_GROUP;
	rc = resolve_id(p, user ? user : group, !user, &g->id, NULL);
	if (rc < 0) {
		return rc;
	}
	const char *access;
	rc = get_string(p, s, "access", &access);
	if (rc < 0) {
		return rc;
	}
	if (!access || (strcmp(access, "ro") != 0 && strcmp(access, "rw") != 0)) {
		return fail_at(p, member_or(s, "access"), "access must be \"ro\" or \"rw\"");
	}
	g->read_only = strcmp(access, "ro") == 0;
	g->offset = 0;
	g->length = spec->size;
	bool has_length = config_setting_get_member(s, "length") != NULL;
	if ((rc = get_u64(p, s, "offset", &g->offset)) < 0 ||
	    (rc = get_u64(p, s, "length", &g->length)) < 0) {
		return rc;
	}
	if (!has_length && g->offset <= spec->size) {
		g->length = spec->size - g->offset;
	}
	if (g->offset > spec->size || spec->size - g->offset < g->length) {
		return fail_at(p, s,
			       "grant [0x%llx, +0x%llx) is not inside region '%s' of size 0x%llx",
			       (unsigned long long)g->offset, (unsigned long long)g->length,
			       spec->name, (unsigned long long)spec->size);
	}
	return 0;
}

/* phys: an integer (large ones need the L suffix) or a string "0xfe200000". */
static int
get_phys(const struct parse *p, const config_setting_t *group, uint64_t *out)
{
	const config_setting_t *s = config_setting_get_member(group, "phys");
	if (s && config_setting_type(s) == CONFIG_TYPE_STRING) {
		if (parse_u64(config_setting_get_string(s), out) < 0) {
			return fail_at(p, s, "phys \"%s\" is not a decimal or 0x hex number",
				       config_setting_get_string(s));
		}
		return 0;
	}
	if (s && config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64) {
		return fail_at(p, s, "phys must be an integer or a string such as \"0xfe200000\"");
	}
	return get_u64(p, group, "phys", out);
}

/* irq: true/false, or the strings "yes"/"no". */
static int
get_irq(const struct parse *p, const config_setting_t *group, bool *out)
{
	const config_setting_t *s = config_setting_get_member(group, "irq");
	if (!s) {
		return 0;
	}
	if (config_setting_type(s) == CONFIG_TYPE_BOOL) {
		*out = config_setting_get_bool(s);
		return 0;
	}
	const char *v =
		config_setting_type(s) == CONFIG_TYPE_STRING ? config_setting_get_string(s) : "";
	if (strcmp(v, "yes") != 0 && strcmp(v, "no") != 0) {
		return fail_at(p, s, "irq must be true, false, \"yes\" or \"no\"");
	}
	*out = strcmp(v, "yes") == 0;
	return 0;
}

/* The hardware backends' settings (devmem, pci, uio); region_spec_check judges them. */
static int
parse_hw_keys(const struct parse *p, const config_setting_t *s, struct region_spec *spec)
{
	static const char *const strings[] = {"device", "uio_name", "sysfs", "dev", "irq_dev"};
	char **dst[] = {&spec->device, &spec->uio_name, &spec->sysfs, &spec->dev_dir,
			&spec->irq_dev};
	int rc;
	for (size_t i = 0; i < sizeof(dst) / sizeof(dst[0]); i++) {
		const char *v;
		if ((rc = get_string(p, s, strings[i], &v)) < 0) {
			return rc;
		}
		if (v && !(*dst[i] = strdup(v))) {
			return -ENOMEM;
		}
	}
	uint64_t bar = 0, map = 0;
	if ((rc = get_phys(p, s, &spec->phys)) < 0 || (rc = get_irq(p, s, &spec->irq)) < 0 ||
	    (rc = get_u64(p, s, "bar", &bar)) < 0 || (rc = get_u64(p, s, "map", &map)) < 0) {
		return rc;
	}
	if (bar > 5 || map >= MMIO_UIO_MAX_MAPS) {
		return fail_at(p, member_or(s, bar > 5 ? "bar" : "map"), "%s must be in 0..%d",
			       bar > 5 ? "bar" : "map", bar > 5 ? 5 : MMIO_UIO_MAX_MAPS - 1);
	}
	spec->bar = (unsigned)bar;
	spec->map = (unsigned)map;
	return 0;
}

static int
parse_region(const struct parse *p, const config_setting_t *s, struct region_config *rc_out)
{
	static const char *const keys[] = {
		"name",     "type",  "path", "size", "offset",  "phys",  "device", "bar", "map",
		"uio_name", "sysfs", "dev",  "irq",  "irq_dev", "audit", "grants", NULL};
	struct region_spec *spec = &rc_out->spec;
	if (!config_setting_is_group(s)) {
		return fail_at(p, s,
			       "a region is a group: { name = \"...\"; type = \"mem\"; ... }");
	}
	int rc = check_keys(p, s, keys);
	if (rc < 0) {
		return rc;
	}
	const char *name, *type, *path, *audit;
	if ((rc = get_string(p, s, "name", &name)) < 0 ||
	    (rc = get_string(p, s, "type", &type)) < 0 ||
	    (rc = get_string(p, s, "path", &path)) < 0 ||
	    (rc = get_string(p, s, "audit", &audit)) < 0 ||
	    (rc = get_u64(p, s, "size", &spec->size)) < 0 ||
	    (rc = get_u64(p, s, "offset", &spec->offset)) < 0) {
		return rc;
	}
	snprintf(spec->name, sizeof(spec->name), "%s", name ? name : "");
	snprintf(spec->type, sizeof(spec->type), "%s", type ? type : "");
	if ((name && strlen(name) > MMIO_MAX_NAME) ||
	    (type && strlen(type) >= sizeof(spec->type))) {
		return fail_at(p, s, "name or type is too long");
	}
	if (path && !(spec->path = strdup(path))) {
		return -ENOMEM;
	}
	if ((rc = parse_hw_keys(p, s, spec)) < 0) {
		return rc;
	}
	for (int i = 0; i < config_setting_length(s); i++) {
		spec->keys |= region_spec_key(
			config_setting_name(config_setting_get_elem(s, (unsigned)i)));
	}
	char why[256];
	if (region_spec_check(spec, why, sizeof(why)) < 0) {
		return fail_at(p, s, "region '%s': %s", spec->name, why);
	}
	/* Grants are normalised to the region's size; one read from the device comes too late. */
	if (spec->size == 0 && config_setting_get_member(s, "grants")) {
		return fail_at(p, s,
			       "region '%s': a region with grants needs size (type %s takes it "
			       "from the device only without grants)",
			       spec->name, spec->type);
	}
	int mode = audit ? policy_audit_parse(audit) : AUDIT_NONE;
	if (mode < 0) {
		return fail_at(p, member_or(s, "audit"),
			       "audit must be \"none\", \"stores\" or \"all\"");
	}
	rc_out->policy.audit = (enum audit_mode)mode;

	const config_setting_t *grants = config_setting_get_member(s, "grants");
	if (!grants) {
		return 0;
	}
	if (!config_setting_is_list(grants) && !config_setting_is_array(grants)) {
		return fail_at(p, grants, "grants is a list: ( { ... }, { ... } )");
	}
	unsigned n = (unsigned)config_setting_length(grants);
	if (n > MMIO_MAX_GRANTS_PER_REGION) {
		return fail_at(p, grants, "at most %d grants per region",
			       MMIO_MAX_GRANTS_PER_REGION);
	}
	rc_out->policy.grants = calloc(n ? n : 1, sizeof(struct grant));
	if (!rc_out->policy.grants) {
		return -ENOMEM;
	}
	for (unsigned i = 0; i < n; i++) {
		rc = parse_grant(p, config_setting_get_elem(grants, i), spec,
				 &rc_out->policy.grants[i]);
		if (rc < 0) {
			return rc;
		}
		rc_out->policy.n_grants++;
	}
	return 0;
}

static int
parse_socket(const struct parse *p, const config_setting_t *s, struct mmiod_config *cfg)
{
	static const char *const keys[] = {"path", "mode", "group", NULL};
	if (!config_setting_is_group(s)) {
		return fail_at(p, s, "socket is a group: { path = \"...\"; mode = \"0660\"; }");
	}
	int rc = check_keys(p, s, keys);
	const char *path, *mode;
	if (rc < 0 || (rc = get_string(p, s, "path", &path)) < 0 ||
	    (rc = get_string(p, s, "mode", &mode)) < 0) {
		return rc;
	}
	if (path) {
		if (path[0] != '/') {
			return fail_at(p, member_or(s, "path"), "socket path must be absolute");
		}
		free(cfg->socket_path);
		if (!(cfg->socket_path = strdup(path))) {
			return -ENOMEM;
		}
	}
	if (mode) {
		char *end;
		unsigned long m = strtoul(mode, &end, 8);
		if (!mode[0] || *end || m > 0777) {
			return fail_at(p, member_or(s, "mode"),
				       "mode must be an octal string such as \"0660\"");
		}
		cfg->socket_mode = (mode_t)m;
	}
	const config_setting_t *group = config_setting_get_member(s, "group");
	if (group) {
		uint32_t gid;
		if ((rc = resolve_id(p, group, true, &gid, NULL)) < 0) {
			return rc;
		}
		cfg->socket_gid = gid;
	}
	return 0;
}

static int
parse_limits(const struct parse *p, const config_setting_t *s, struct limits *l)
{
	static const char *const keys[] = {"max_connections",
					   "max_connections_per_uid",
					   "max_leases_per_connection",
					   "max_frame",
					   "max_queued_bytes",
					   "handshake_timeout_ms",
					   NULL};
	if (!config_setting_is_group(s)) {
		return fail_at(p, s, "limits is a group: { max_connections = 64; }");
	}
	uint64_t v[6] = {l->max_connections,           l->max_connections_per_uid,
			 l->max_leases_per_connection, l->max_frame,
			 l->max_queued_bytes,          l->handshake_timeout_ms};
	static const uint64_t max[6] = {65536, 65536, 65536, MMIO_MAX_FRAME, 1u << 30, 3600000};
	int rc = check_keys(p, s, keys);
	for (int i = 0; rc == 0 && i < 6; i++) {
		rc = get_uint(p, s, keys[i], max[i], &v[i]);
	}
	if (rc < 0) {
		return rc;
	}
	if (v[3] < 256) {
		return fail_at(p, config_setting_get_member(s, "max_frame"),
			       "max_frame must be at least 256");
	}
	*l = (struct limits){(unsigned)v[0], (unsigned)v[1], (unsigned)v[2],
			     (size_t)v[3],   (size_t)v[4],   (unsigned)v[5]};
	return 0;
}

static int
parse_root(const struct parse *p, config_t *cf, struct mmiod_config *cfg)
{
	static const char *const keys[] = {"socket", "user",    "admin_group",
					   "limits", "regions", NULL};
	config_setting_t *root = config_root_setting(cf);
	int rc = check_keys(p, root, keys);
	if (rc < 0) {
		return rc;
	}
	const config_setting_t *s;
	if ((s = config_setting_get_member(root, "socket")) && (rc = parse_socket(p, s, cfg)) < 0) {
		return rc;
	}
	if ((s = config_setting_get_member(root, "limits")) &&
	    (rc = parse_limits(p, s, &cfg->limits)) < 0) {
		return rc;
	}
	if ((s = config_setting_get_member(root, "user"))) {
		uint32_t uid;
		gid_t gid;
		if ((rc = resolve_id(p, s, false, &uid, &gid)) < 0) {
			return rc;
		}
		if (uid == 0) {
			return fail_at(p, s, "user must not be root: mmiod drops to it");
		}
		char number[16];
		snprintf(number, sizeof(number), "%u", uid);
		free(cfg->user);
		cfg->user = strdup(config_setting_type(s) == CONFIG_TYPE_STRING
					   ? config_setting_get_string(s)
					   : number);
		if (!cfg->user) {
			return -ENOMEM;
		}
		cfg->uid = uid;
		cfg->gid = gid;
	}
	if ((s = config_setting_get_member(root, "admin_group"))) {
		uint32_t gid;
		if ((rc = resolve_id(p, s, true, &gid, NULL)) < 0) {
			return rc;
		}
		cfg->has_admin_gid = true;
		cfg->admin_gid = gid;
	}
	const config_setting_t *regions = config_setting_get_member(root, "regions");
	if (!regions) {
		return 0;
	}
	if (!config_setting_is_list(regions)) {
		return fail_at(p, regions, "regions is a list: ( { ... }, { ... } )");
	}
	for (int i = 0; i < config_setting_length(regions); i++) {
		const config_setting_t *r = config_setting_get_elem(regions, (unsigned)i);
		if (cfg->n_regions == MMIO_MAX_REGIONS) {
			return fail_at(p, r, "at most %d regions", MMIO_MAX_REGIONS);
		}
		struct region_config *rc_out = &cfg->regions[cfg->n_regions++];
		if ((rc = parse_region(p, r, rc_out)) < 0) {
			return rc;
		}
		if (conf_find_region(cfg, rc_out->spec.name) != rc_out) {
			return fail_at(p, r, "region '%s' is defined twice", rc_out->spec.name);
		}
	}
	return 0;
}

/*
 * libconfig 1.5 (Debian 12) keeps an integer literal without the L suffix in
 * 32 bits and silently drops the rest: 4294967552 reads as 256, so a grant
 * could cover other registers than written. Refuse any such literal (outside
 * strings and comments) before libconfig sees it. Returns 0 or -EINVAL.
 */
static int
check_wide_literals(const struct parse *p, const char *text)
{
	int line = 1;
	for (const char *c = text; *c; c++) {
		if (*c == '\n') {
			line++;
		} else if (*c == '"') {
			for (c++; *c && *c != '"'; c++) {
				line += *c == '\n';
				c += *c == '\\' && c[1];
			}
			if (!*c) {
				return 0;
			}
		} else if (*c == '#' || (*c == '/' && c[1] == '/')) {
			while (c[1] && c[1] != '\n') {
				c++;
			}
		} else if (*c == '/' && c[1] == '*') {
			for (c += 2; *c && !(*c == '*' && c[1] == '/'); c++) {
				line += *c == '\n';
			}
			if (!*c) {
				return 0;
			}
			c++;
		} else if (isdigit((unsigned char)*c) &&
			   (c == text ||
			    !(isalnum((unsigned char)c[-1]) || c[-1] == '_' || c[-1] == '.'))) {
			char *end;
			errno = 0;
			unsigned long long v = strtoull(c, &end, 0);
			bool is_float = *end == '.' || *end == 'e' || *end == 'E';
			if (!is_float && *end != 'L' && (errno == ERANGE || v > INT32_MAX)) {
				snprintf(p->err, p->errlen,
					 "%s:%d: %.*s does not fit 32 bits: write it with an L "
					 "suffix (%.*sL)",
					 p->path, line, (int)(end - c), c, (int)(end - c), c);
				return -EINVAL;
			}
			c = end - 1;
		}
	}
	return 0;
}

/* Reads all of path (configs are small) into a NUL-terminated heap string. */
static char *
read_text(const char *path)
{
	FILE *f = fopen(path, "re");
	if (!f) {
		return NULL;
	}
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	char buf[4096];
	size_t n;
	while (mem && (n = fread(buf, 1, sizeof(buf), f)) > 0 && len < (1u << 20)) {
		fwrite(buf, 1, n, mem);
	}
	bool ok = mem && !ferror(f) && len < (1u << 20);
	if (mem) {
		fclose(mem);
	}
	fclose(f);
	if (!ok) {
		free(text);
		return NULL;
	}
	return text;
}

int
conf_load(struct mmiod_config *cfg, const char *path, char *err, size_t errlen)
{
	struct parse p = {.path = path, .err = err, .errlen = errlen};
	char *text = read_text(path);
	if (!text) {
		snprintf(err, errlen, "%s: cannot read the file (or it is over 1 MiB)", path);
		return -ENOENT;
	}
	int rc = check_wide_literals(&p, text);
	if (rc < 0) {
		free(text);
		return rc;
	}
	config_t cf;
	config_init(&cf);
	if (config_read_string(&cf, text) != CONFIG_TRUE) {
		snprintf(err, errlen, "%s:%d: %s", path, config_error_line(&cf),
			 config_error_text(&cf));
		config_destroy(&cf);
		free(text);
		return -EINVAL;
	}
	free(text);
	rc = parse_root(&p, &cf, cfg);
	config_destroy(&cf);
	return rc;
}

int
conf_add_region(struct mmiod_config *cfg, const char *text, char *err, size_t errlen)
{
	if (cfg->n_regions == MMIO_MAX_REGIONS) {
		snprintf(err, errlen, "at most %d regions", MMIO_MAX_REGIONS);
		return -EINVAL;
	}
	struct region_config *r = &cfg->regions[cfg->n_regions++];
	int rc = region_spec_parse(text, &r->spec, err, errlen);
	if (rc == 0 && conf_find_region(cfg, r->spec.name) != r) {
		snprintf(err, errlen, "region '%s' is defined twice", r->spec.name);
		rc = -EINVAL;
	}
	return rc;
}

int
conf_set_user(struct mmiod_config *cfg, const char *name, char *err, size_t errlen)
{
	uint64_t id;
	struct passwd *pw =
		parse_u64(name, &id) == 0 && id < UINT32_MAX ? getpwuid((uid_t)id) : getpwnam(name);
	if (!pw) {
		snprintf(err, errlen, "no user '%s'", name);
		return -EINVAL;
	}
	if (pw->pw_uid == 0) {
		snprintf(err, errlen, "user must not be root: mmiod drops to it");
		return -EINVAL;
	}
	free(cfg->user);
	if (!(cfg->user = strdup(pw->pw_name))) {
		return -ENOMEM;
	}
	cfg->uid = pw->pw_uid;
	cfg->gid = pw->pw_gid;
	return 0;
}

const struct region_config *
conf_find_region(const struct mmiod_config *cfg, const char *name)
{
	for (unsigned i = 0; i < cfg->n_regions; i++) {
		if (strcmp(cfg->regions[i].spec.name, name) == 0) {
			return &cfg->regions[i];
		}
	}
	return NULL;
}
