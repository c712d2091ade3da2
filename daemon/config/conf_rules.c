/*
 * A grant's register rules (mmiod.conf(5), "Register rules"): registers = [ ... ] and
 * rules = ( { register = "CTRL"; write_mask = "EN|MODE"; mask_mode = "refuse"; widths = [32]; } ).
 * Names are kept as written; with the region's map at hand (not on a reload, which keeps the map
 * of the start) they are compiled here too, so that --check-config says FILE:LINE.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/conf_parse.h"
#include "core/regrules.h"
#include "text.h"

static int
copy_text(const struct parse *p, const config_setting_t *s, char *dst, size_t len, const char *what)
{
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		return conf_fail_at(p, s, "%s is a string", what);
	}
	const char *text = config_setting_get_string(s);
	if (!text[0] || strlen(text) >= len) {
		return conf_fail_at(p, s, "%s \"%s\" is empty or too long", what, text);
	}
	memcpy(dst, text, strlen(text) + 1);
	return 0;
}

static int
parse_names(const struct parse *p, const config_setting_t *list, struct grant_rules *r)
{
	if (!config_setting_is_array(list) && !config_setting_is_list(list)) {
		return conf_fail_at(p, list, "registers is a list of names: [\"CTRL\", \"DATA\"]");
	}
	unsigned n = (unsigned)config_setting_length(list);
	if (n == 0 || n > REGRULES_MAX_ITEMS) {
		return conf_fail_at(p, list, "registers names 1..%d registers", REGRULES_MAX_ITEMS);
	}
	if (!(r->names = calloc(n, sizeof(*r->names)))) {
		return -ENOMEM;
	}
	for (unsigned i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(list, i);
		int rc = copy_text(p, e, r->names[i].text, sizeof(r->names[i].text),
				   "a register name");
		if (rc < 0) {
			return rc;
		}
		r->names[i].line = config_setting_source_line(e);
		r->n_names++;
	}
	return 0;
}

static int
parse_widths(const struct parse *p, const config_setting_t *list, unsigned *out)
{
	if (!config_setting_is_array(list) && !config_setting_is_list(list)) {
		return conf_fail_at(p, list, "widths is a list of bit widths: [32] or [8, 32]");
	}
	for (int i = 0; i < config_setting_length(list); i++) {
		const config_setting_t *e = config_setting_get_elem(list, (unsigned)i);
		int bits =
			config_setting_type(e) == CONFIG_TYPE_INT ? config_setting_get_int(e) : 0;
		if (bits != 8 && bits != 16 && bits != 32 && bits != 64) {
			return conf_fail_at(p, e, "widths: each is 8, 16, 32 or 64 (bits)");
		}
		*out |= regrules_width_bit((unsigned)bits / 8);
	}
	if (!*out) {
		return conf_fail_at(p, list, "widths names at least one width");
	}
	return 0;
}

static int
parse_rule(const struct parse *p, const config_setting_t *s, struct regrule_spec *r)
{
	static const char *const keys[] = {"register", "write_mask", "mask_mode", "widths", NULL};
	if (!config_setting_is_group(s)) {
		return conf_fail_at(p, s,
				    "a rule is a group: { register = \"CTRL\"; write_mask = "
				    "\"EN|MODE\"; }");
	}
	int rc = conf_check_keys(p, s, keys);
	if (rc < 0) {
		return rc;
	}
	r->line = config_setting_source_line(s);
	const config_setting_t *reg = config_setting_get_member(s, "register");
	if (!reg) {
		return conf_fail_at(p, s, "a rule names its register: register = \"CTRL\"");
	}
	if ((rc = copy_text(p, reg, r->reg, sizeof(r->reg), "register")) < 0) {
		return rc;
	}
	const config_setting_t *mask = config_setting_get_member(s, "write_mask");
	if (mask && (config_setting_type(mask) == CONFIG_TYPE_INT ||
		     config_setting_type(mask) == CONFIG_TYPE_INT64)) {
		long long v = config_setting_get_int64(mask);
		if (v < 0) {
			return conf_fail_at(p, mask, "write_mask is not negative");
		}
		snprintf(r->write_mask, sizeof(r->write_mask), "0x%llx", v);
	} else if (mask && (rc = copy_text(p, mask, r->write_mask, sizeof(r->write_mask),
					   "write_mask")) < 0) {
		return rc;
	}
	const char *mode;
	if ((rc = conf_get_string(p, s, "mask_mode", &mode)) < 0) {
		return rc;
	}
	if (mode && strcmp(mode, "refuse") != 0 && strcmp(mode, "preserve") != 0) {
		return conf_fail_at(p, conf_member_or(s, "mask_mode"),
				    "mask_mode must be \"refuse\" or \"preserve\"");
	}
	r->preserve = mode && strcmp(mode, "preserve") == 0;
	const config_setting_t *widths = config_setting_get_member(s, "widths");
	return widths ? parse_widths(p, widths, &r->widths) : 0;
}

static int
parse_rules(const struct parse *p, const config_setting_t *list, struct grant_rules *r)
{
	if (!config_setting_is_list(list)) {
		return conf_fail_at(p, list, "rules is a list: ( { register = \"CTRL\"; ... } )");
	}
	unsigned n = (unsigned)config_setting_length(list);
	if (n > REGRULES_MAX_ITEMS) {
		return conf_fail_at(p, list, "at most %d rules per grant", REGRULES_MAX_ITEMS);
	}
	if (!(r->rules = calloc(n ? n : 1, sizeof(*r->rules)))) {
		return -ENOMEM;
	}
	for (unsigned i = 0; i < n; i++) {
		int rc = parse_rule(p, config_setting_get_elem(list, i), &r->rules[i]);
		if (rc < 0) {
			return rc;
		}
		r->n_rules++;
	}
	return 0;
}

/* "group fan", "user 1000": the subject as written, for messages. */
static void
label(const config_setting_t *s, struct grant_rules *r)
{
	const config_setting_t *who = config_setting_get_member(s, "user");
	const char *kind = who ? "user" : "group";
	who = who ? who : config_setting_get_member(s, "group");
	if (who && config_setting_type(who) == CONFIG_TYPE_STRING) {
		snprintf(r->label, sizeof(r->label), "grant of %s %s", kind,
			 config_setting_get_string(who));
	} else if (who) {
		snprintf(r->label, sizeof(r->label), "grant of %s %lld", kind,
			 config_setting_get_int64(who));
	}
}

/* " (did you mean CTRL?)" for a name the map lacks but has one close to, else "". */
static void
suggestion(const struct regmap *map, const struct regrules_error *err, char *out, size_t len)
{
	const char *best = NULL;
	unsigned best_d = 0;
	unsigned n = err->unknown_in ? err->unknown_in->n_fields : map->n_registers;
	for (unsigned i = 0; err->unknown[0] && i < n; i++) {
		const char *name =
			err->unknown_in ? err->unknown_in->fields[i].name : map->registers[i].name;
		unsigned d = text_edit_distance(err->unknown, name);
		if (text_is_slip(err->unknown, name) && (!best || d < best_d)) {
			best = name;
			best_d = d;
		}
	}
	if (best) {
		snprintf(out, len, " (did you mean %s?)", best);
	} else {
		out[0] = '\0';
	}
}

int
conf_parse_grant_rules(const struct parse *p, const config_setting_t *s,
		       const struct region_config *region, struct grant *g)
{
	const config_setting_t *names = config_setting_get_member(s, "registers");
	const config_setting_t *rules = config_setting_get_member(s, "rules");
	if (!names && !rules) {
		return 0;
	}
	if (!region->spec.regmap) {
		return conf_fail_at(p, names ? names : rules,
				    "registers and rules name registers of the region's map: "
				    "region '%s' has none (map = \"PATH\")",
				    region->spec.name);
	}
	struct grant_rules *r = calloc(1, sizeof(*r));
	if (!r) {
		return -ENOMEM;
	}
	g->rules = r;
	int rc;
	if ((names && (rc = parse_names(p, names, r)) < 0) ||
	    (rules && (rc = parse_rules(p, rules, r)) < 0)) {
		return rc;
	}
	r->exact = names && !config_setting_get_member(s, "offset") &&
		   !config_setting_get_member(s, "length");
	label(s, r);
	if (!region->regmap) {
		return 0; /* a reload: judged against the map mmiod started with */
	}
	struct regrules *t;
	struct regrules_error err = {0};
	rc = regrules_compile(region->regmap, r, false, &t, &err);
	if (rc == -EINVAL) {
		char hint[REGMAP_MAX_NAME + 24];
		suggestion(region->regmap, &err, hint, sizeof(hint));
		(void)snprintf(p->err, p->errlen, "%s:%d: %s%s (the map of region '%s')", p->path,
			       err.line ? err.line : (int)config_setting_source_line(s),
			       err.message, hint, region->spec.name);
		return rc;
	}
	if (rc == 0 && t && t->exact) {
		g->offset = t->span_start;
		g->length = t->span_len;
	}
	regrules_free(t);
	return rc;
}
