/* One region of the config file: its backend keys, audit mode and grants. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/conf.h"
#include "config/conf_parse.h"
#include "config/regmap_yaml.h"
#include "parse.h"

static int get_irq(const struct parse *p, const config_setting_t *group, bool *out);

/*
 * access = "device": the device side of a sim region (set raw bits, raise its interrupt, reset
 * it), and no lease. It is the whole device: no offset, length or irq.
 */
static int
parse_device_grant(const struct parse *p, const config_setting_t *s, const struct region_spec *spec,
		   struct grant *g)
{
	static const char *const lease_keys[] = {"offset", "length", "irq"};
	if (strcmp(spec->type, "sim") != 0) {
		return conf_fail_at(
			p, conf_member_or(s, "access"),
			"access = \"device\" is for a region of type sim (region '%s' is "
			"%s): it acts as the simulated device",
			spec->name, spec->type);
	}
	for (size_t i = 0; i < sizeof(lease_keys) / sizeof(lease_keys[0]); i++) {
		const config_setting_t *k = config_setting_get_member(s, lease_keys[i]);
		if (k) {
			return conf_fail_at(
				p, k,
				"a device grant is the whole device and leases nothing: "
				"no %s",
				lease_keys[i]);
		}
	}
	g->device = true;
	g->read_only = true;
	g->offset = 0;
	g->length = 0;
	return 0;
}

static int
parse_grant(const struct parse *p, const config_setting_t *s, const struct region_config *region,
	    struct grant *g)
{
	static const char *const keys[] = {"user", "group",     "access", "offset",       "length",
					   "irq",  "registers", "rules",  "max_lease_ms", NULL};
	const struct region_spec *spec = &region->spec;
	if (!config_setting_is_group(s)) {
		return conf_fail_at(p, s,
				    "a grant is a group: { group = \"...\"; access = \"rw\"; }");
	}
	int rc = conf_check_keys(p, s, keys);
	if (rc < 0) {
		return rc;
	}
	const config_setting_t *user = config_setting_get_member(s, "user");
	const config_setting_t *group = config_setting_get_member(s, "group");
	if (!user == !group) {
		return conf_fail_at(p, s, "a grant names exactly one of user or group");
	}
	g->subject = user ? GRANT_USER : GRANT_GROUP;
	rc = conf_resolve_id(p, user ? user : group, !user, &g->id, NULL);
	if (rc < 0) {
		return rc;
	}
	const char *access;
	rc = conf_get_string(p, s, "access", &access);
	if (rc < 0) {
		return rc;
	}
	if (!access || (strcmp(access, "ro") != 0 && strcmp(access, "rw") != 0 &&
			strcmp(access, "device") != 0)) {
		return conf_fail_at(p, conf_member_or(s, "access"),
				    "access must be \"ro\", \"rw\" or \"device\"");
	}
	if (strcmp(access, "device") == 0) {
		static const char *const rule_keys[] = {"registers", "rules"};
		for (size_t i = 0; i < 2; i++) {
			if (config_setting_get_member(s, rule_keys[i])) {
				return conf_fail_at(p, config_setting_get_member(s, rule_keys[i]),
						    "a device grant leases nothing: no %s",
						    rule_keys[i]);
			}
		}
		return parse_device_grant(p, s, spec, g);
	}
	g->read_only = strcmp(access, "ro") == 0;
	g->irq = false;
	if ((rc = get_irq(p, s, &g->irq)) < 0) {
		return rc;
	}
	/* The interrupt is acknowledged by a write to the device: not for a read-only holder. */
	if (g->irq && g->read_only) {
		return conf_fail_at(p, conf_member_or(s, "irq"),
				    "irq = true needs access = \"rw\": acknowledging an "
				    "interrupt writes to the device");
	}
	uint64_t ttl = 0;
	if (config_setting_get_member(s, "max_lease_ms") &&
	    (rc = conf_get_uint_range(p, s, "max_lease_ms", 1, MMIO_MAX_LEASE_TTL_MS, &ttl)) < 0) {
		return rc;
	}
	g->max_lease_ms = (uint32_t)ttl;
	g->offset = 0;
	g->length = spec->size;
	bool has_length = config_setting_get_member(s, "length") != NULL;
	if ((rc = conf_get_u64(p, s, "offset", &g->offset)) < 0 ||
	    (rc = conf_get_u64(p, s, "length", &g->length)) < 0) {
		return rc;
	}
	if (!has_length && g->offset <= spec->size) {
		g->length = spec->size - g->offset;
	}
	if (g->offset > spec->size || spec->size - g->offset < g->length) {
		return conf_fail_at(
			p, s, "grant [0x%llx, +0x%llx) is not inside region '%s' of size 0x%llx",
			(unsigned long long)g->offset, (unsigned long long)g->length, spec->name,
			(unsigned long long)spec->size);
	}
	return conf_parse_grant_rules(p, s, region, g);
}

/* phys: an integer (large ones need the L suffix) or a string "0xfe200000". */
static int
get_phys(const struct parse *p, const config_setting_t *group, uint64_t *out)
{
	const config_setting_t *s = config_setting_get_member(group, "phys");
	if (s && config_setting_type(s) == CONFIG_TYPE_STRING) {
		const char *text = config_setting_get_string(s);
		if (parse_u64(text, out) < 0) {
			return conf_fail_at(
				p, s,
				parse_leading_zero(text)
					? "phys \"%s\": a leading 0 is ambiguous (octal to "
					  "some tools): write it in 0x hex"
					: "phys \"%s\" is not a decimal or 0x hex number",
				text);
		}
		return 0;
	}
	if (s && config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64) {
		return conf_fail_at(p, s,
				    "phys must be an integer or a string such as \"0xfe200000\"");
	}
	return conf_get_u64(p, group, "phys", out);
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
		return conf_fail_at(p, s, "irq must be true, false, \"yes\" or \"no\"");
	}
	*out = strcmp(v, "yes") == 0;
	return 0;
}

/* The key that gives the UIO map index: uio_map, or an integer map. */
static const char *
map_key(const config_setting_t *group)
{
	return config_setting_get_member(group, "uio_map") ? "uio_map" : "map";
}

/*
 * map = "PATH" is the register map file (any type); an integer map, or uio_map, is the UIO map
 * index. Both spellings of the index at once are refused.
 */
static int
get_map(const struct parse *p, const config_setting_t *group, struct region_spec *spec,
	uint64_t *index)
{
	const config_setting_t *m = config_setting_get_member(group, "map");
	bool file = m && config_setting_type(m) == CONFIG_TYPE_STRING;
	if (m && !file && config_setting_get_member(group, "uio_map")) {
		return conf_fail_at(p, m,
				    "map and uio_map both give the UIO map index: use uio_map = N "
				    "(map = \"PATH\" names a register map file)");
	}
	if (file) {
		const char *path = config_setting_get_string(m);
		if (path[0] == '\0') {
			return conf_fail_at(p, m, "map = \"\": the register map file has no name");
		}
		if (!(spec->regmap = strdup(path))) {
			return -ENOMEM;
		}
	}
	return conf_get_u64(p, group, file ? "uio_map" : map_key(group), index);
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
		if ((rc = conf_get_string(p, s, strings[i], &v)) < 0) {
			return rc;
		}
		if (v && !(*dst[i] = strdup(v))) {
			return -ENOMEM;
		}
	}
	uint64_t bar = 0;
	uint64_t map = 0;
	if ((rc = get_phys(p, s, &spec->phys)) < 0 || (rc = get_irq(p, s, &spec->irq)) < 0 ||
	    (rc = conf_get_u64(p, s, "bar", &bar)) < 0 || (rc = get_map(p, s, spec, &map)) < 0) {
		return rc;
	}
	if (bar > 5 || map >= MMIO_UIO_MAX_MAPS) {
		const char *key = bar > 5 ? "bar" : map_key(s);
		return conf_fail_at(p, conf_member_or(s, key), "%s must be in 0..%d", key,
				    bar > 5 ? 5 : MMIO_UIO_MAX_MAPS - 1);
	}
	spec->bar = (unsigned)bar;
	spec->map = (unsigned)map;
	return 0;
}

/*
 * Reads and validates the region's register map file, against the region's size when the config
 * gives it (pci and uio without size: when the region is opened, and by --check-config from what
 * stat tells). Its errors are the map file's "FILE:LINE: message", naming the region.
 */
static int
load_regmap(const struct parse *p, const config_setting_t *s, struct region_config *r)
{
	char why[512];
	int rc = regmap_yaml_load(r->spec.regmap, &r->regmap, why, sizeof(why));
	if (rc == 0 && r->spec.size) {
		rc = regmap_yaml_check(r->spec.regmap, r->regmap, r->spec.size, why, sizeof(why));
	}
	if (rc == -ENOMEM) {
		return rc;
	}
	if (rc < 0) {
		(void)snprintf(p->err, p->errlen, "%s (the map of region '%s', %s:%d)", why,
			       r->spec.name, p->path,
			       config_setting_source_line(conf_member_or(s, "map")));
		return -EINVAL;
	}
	return 0;
}

int
conf_parse_region(const struct parse *p, const config_setting_t *s, struct region_config *rc_out)
{
	static const char *const keys[] = {"name",     "type",   "path",  "size", "offset",
					   "phys",     "device", "bar",   "map",  "uio_map",
					   "uio_name", "sysfs",  "dev",   "irq",  "irq_dev",
					   "audit",    "grants", "model", "park", NULL};
	struct region_spec *spec = &rc_out->spec;
	if (!config_setting_is_group(s)) {
		return conf_fail_at(p, s,
				    "a region is a group: { name = \"...\"; type = \"mem\"; ... }");
	}
	int rc = conf_check_keys(p, s, keys);
	if (rc < 0) {
		return rc;
	}
	const char *name;
	const char *type;
	const char *path;
	const char *audit;
	const char *model;
	if ((rc = conf_get_string(p, s, "name", &name)) < 0 ||
	    (rc = conf_get_string(p, s, "type", &type)) < 0 ||
	    (rc = conf_get_string(p, s, "path", &path)) < 0 ||
	    (rc = conf_get_string(p, s, "audit", &audit)) < 0 ||
	    (rc = conf_get_string(p, s, "model", &model)) < 0 ||
	    (rc = conf_get_u64(p, s, "size", &spec->size)) < 0 ||
	    (rc = conf_get_u64(p, s, "offset", &spec->offset)) < 0) {
		return rc;
	}
	snprintf(spec->name, sizeof(spec->name), "%s", name ? name : "");
	snprintf(spec->type, sizeof(spec->type), "%s", type ? type : "");
	if ((name && strlen(name) > MMIO_MAX_NAME) ||
	    (type && strlen(type) >= sizeof(spec->type))) {
		return conf_fail_at(p, s, "name or type is too long");
	}
	if (path && !(spec->path = strdup(path))) {
		return -ENOMEM;
	}
	if (model && !*model) {
		return conf_fail_at(p, conf_member_or(s, "model"),
				    "model = \"\": the model file has no name");
	}
	if (model && !(spec->model = strdup(model))) {
		return -ENOMEM;
	}
	if ((rc = parse_hw_keys(p, s, spec)) < 0) {
		return rc;
	}
	for (int i = 0; i < config_setting_length(s); i++) {
		const config_setting_t *m = config_setting_get_elem(s, (unsigned)i);
		/* map = "PATH" is not the UIO map: every type takes a register map. */
		if (!(strcmp(config_setting_name(m), "map") == 0 &&
		      config_setting_type(m) == CONFIG_TYPE_STRING)) {
			spec->keys |= region_spec_key(config_setting_name(m));
		}
	}
	char why[256];
	if (region_spec_check(spec, why, sizeof(why)) < 0) {
		return conf_fail_at(p, s, "region '%s': %s", spec->name, why);
	}
	/* Grants are normalised to the region's size; one read from the device comes too late. */
	if (spec->size == 0 && config_setting_get_member(s, "grants")) {
		return conf_fail_at(
			p, s,
			"region '%s': a region with grants needs size (type %s takes it "
			"from the device only without grants)",
			spec->name, spec->type);
	}
	if (spec->regmap && !p->skip_maps && (rc = load_regmap(p, s, rc_out)) < 0) {
		return rc;
	}
	const config_setting_t *park = config_setting_get_member(s, "park");
	if (park && !spec->regmap) {
		return conf_fail_at(p, park,
				    "region '%s': park names registers: the region needs a "
				    "map = \"PATH\"",
				    spec->name);
	}
	if (park && !p->skip_maps &&
	    (rc = conf_parse_park(p, park, rc_out->regmap, &rc_out->park)) < 0) {
		return rc;
	}
	int mode = audit ? policy_audit_parse(audit) : AUDIT_NONE;
	if (mode < 0) {
		return conf_fail_at(p, conf_member_or(s, "audit"),
				    "audit must be \"none\", \"stores\" or \"all\"");
	}
	rc_out->policy.audit = (enum audit_mode)mode;

	const config_setting_t *grants = config_setting_get_member(s, "grants");
	if (!grants) {
		return 0;
	}
	if (!config_setting_is_list(grants) && !config_setting_is_array(grants)) {
		return conf_fail_at(p, grants, "grants is a list: ( { ... }, { ... } )");
	}
	unsigned n = (unsigned)config_setting_length(grants);
	if (n > MMIO_MAX_GRANTS_PER_REGION) {
		return conf_fail_at(p, grants, "at most %d grants per region",
				    MMIO_MAX_GRANTS_PER_REGION);
	}
	rc_out->policy.grants = calloc(n ? n : 1, sizeof(struct grant));
	if (!rc_out->policy.grants) {
		return -ENOMEM;
	}
	for (unsigned i = 0; i < n; i++) {
		/* Counted first: what a failed grant owns is freed with the policy. */
		rc_out->policy.n_grants++;
		rc = parse_grant(p, config_setting_get_elem(grants, i), rc_out,
				 &rc_out->policy.grants[i]);
		if (rc < 0) {
			return rc;
		}
	}
	return 0;
}
