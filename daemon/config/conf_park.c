/*
 * A region's park sequence (park = ( ... ), mmiod.conf(5)): steps by register name, resolved in
 * the region's map at load into offsets, widths and masks (core/park.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/conf_parse.h"
#include "core/park.h"
#include "parse.h"

/* A value name of field, or a number. */
static int
step_value(const struct parse *p, const config_setting_t *s, const struct regmap_field *field,
	   uint64_t *out)
{
	const config_setting_t *v = config_setting_get_member(s, "value");
	if (!v) {
		return conf_fail_at(p, s, "a park store or modify needs a value");
	}
	if (config_setting_type(v) == CONFIG_TYPE_STRING) {
		const char *name = config_setting_get_string(v);
		const struct regmap_value *named = field ? regmap_value_find(field, name) : NULL;
		if (!named) {
			return conf_fail_at(p, v, "value \"%s\" is not a value name of %s", name,
					    field ? field->name : "a field (give a number)");
		}
		*out = named->value;
		return 0;
	}
	return conf_get_u64(p, s, "value", out);
}

/* mask = "EN|DMA" (fields of reg) or a number. */
static int
step_mask(const struct parse *p, const config_setting_t *s, const struct regmap_register *reg,
	  uint64_t *out)
{
	const config_setting_t *m = config_setting_get_member(s, "mask");
	if (!m) {
		return conf_fail_at(p, s, "register = \"...\" needs a mask (fields or a number)");
	}
	if (config_setting_type(m) != CONFIG_TYPE_STRING) {
		return conf_get_u64(p, s, "mask", out);
	}
	char copy[256];
	snprintf(copy, sizeof(copy), "%s", config_setting_get_string(m));
	*out = 0;
	char *save = NULL;
	for (char *tok = strtok_r(copy, "|", &save); tok; tok = strtok_r(NULL, "|", &save)) {
		tok += strspn(tok, " ");
		tok[strcspn(tok, " ")] = '\0';
		uint64_t n;
		const struct regmap_field *f = NULL;
		for (unsigned i = 0; i < reg->n_fields; i++) {
			if (strcmp(reg->fields[i].name, tok) == 0) {
				f = &reg->fields[i];
			}
		}
		if (f) {
			*out |= regmap_field_mask(f);
		} else if (parse_u64(tok, &n) == 0) {
			*out |= n;
		} else {
			return conf_fail_at(p, m, "mask: %s is not a field of %s nor a number", tok,
					    reg->name);
		}
	}
	return 0;
}

/* store = "REG" / "REG.FIELD", modify = "REG.FIELD", register = "REG" with mask. */
static int
parse_access_step(const struct parse *p, const config_setting_t *s, const struct regmap *map,
		  const char *key, struct park_step *step)
{
	const config_setting_t *k = config_setting_get_member(s, key);
	if (config_setting_type(k) != CONFIG_TYPE_STRING) {
		return conf_fail_at(p, k, "%s names a register of the region's map", key);
	}
	const char *name = config_setting_get_string(k);
	struct regmap_ref ref;
	if (regmap_lookup(map, name, &ref) < 0) {
		return conf_fail_at(p, k, "%s: no register or field \"%s\" in map %s", key, name,
				    map->name);
	}
	if (strcmp(key, "register") == 0 && ref.field) {
		return conf_fail_at(p, k, "register = \"%s\" names a field: use modify", name);
	}
	if (strcmp(key, "modify") == 0 && !ref.field) {
		return conf_fail_at(p, k,
				    "modify = \"%s\" names a whole register: use store, or "
				    "register with mask",
				    name);
	}
	if (regmap_reg_access(ref.reg) == REGMAP_RO) {
		return conf_fail_at(p, k, "%s: register %s is read-only", key, ref.reg->name);
	}
	step->offset = ref.offset;
	step->width = ref.width / 8;
	uint64_t value = 0;
	int rc = step_value(p, s, ref.field, &value);
	if (rc < 0) {
		return rc;
	}
	if (ref.field) {
		step->op = PARK_MODIFY;
		step->mask = regmap_field_mask(ref.field);
		if (regmap_field_encode(ref.field, 0, value, &step->value) < 0) {
			return conf_fail_at(p, s, "value 0x%llx does not fit field %s",
					    (unsigned long long)value, ref.field->name);
		}
		return 0;
	}
	uint64_t all = ref.width == 64 ? UINT64_MAX : (UINT64_C(1) << ref.width) - 1;
	step->op = PARK_STORE;
	step->value = value;
	if (strcmp(key, "register") == 0) {
		step->op = PARK_MODIFY;
		if ((rc = step_mask(p, s, ref.reg, &step->mask)) < 0) {
			return rc;
		}
		step->value &= step->mask;
	}
	if ((step->value & ~all) || (step->mask & ~all)) {
		return conf_fail_at(p, s, "value or mask wider than register %s (%u bits)",
				    ref.reg->name, ref.width);
	}
	return 0;
}

static int
parse_step(const struct parse *p, const config_setting_t *s, const struct regmap *map,
	   unsigned *delay_total, struct park_step *step)
{
	static const char *const keys[] = {"store", "modify",  "register", "mask",
					   "value", "barrier", "delay_us", NULL};
	static const char *const kinds[] = {"store", "modify", "register", "barrier", "delay_us"};
	if (!config_setting_is_group(s)) {
		return conf_fail_at(p, s,
				    "a park step is a group: { store = \"REG\"; value = 0; }");
	}
	int rc = conf_check_keys(p, s, keys);
	if (rc < 0) {
		return rc;
	}
	const char *kind = NULL;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (config_setting_get_member(s, kinds[i])) {
			if (kind) {
				return conf_fail_at(p, s,
						    "a park step is one of store, modify, "
						    "register, barrier or delay_us");
			}
			kind = kinds[i];
		}
	}
	if (!kind) {
		return conf_fail_at(p, s,
				    "a park step is one of store, modify, register, barrier "
				    "or delay_us");
	}
	memset(step, 0, sizeof(*step));
	if (strcmp(kind, "barrier") == 0) {
		step->op = PARK_BARRIER;
		return 0;
	}
	if (strcmp(kind, "delay_us") == 0) {
		uint64_t us = 0;
		if ((rc = conf_get_uint(p, s, "delay_us", PARK_MAX_DELAY_US, &us)) < 0) {
			return rc;
		}
		*delay_total += (unsigned)us;
		if (*delay_total > PARK_MAX_DELAY_US) {
			return conf_fail_at(p, s,
					    "the delays of a park sequence add up to at most %d us",
					    PARK_MAX_DELAY_US);
		}
		step->op = PARK_DELAY;
		step->delay_us = (unsigned)us;
		return 0;
	}
	if (!map) {
		return conf_fail_at(p, s, "park steps name registers: the region needs a map");
	}
	return parse_access_step(p, s, map, kind, step);
}

int
conf_parse_park(const struct parse *p, const config_setting_t *list, const struct regmap *map,
		struct park_seq *out)
{
	if (!config_setting_is_list(list)) {
		return conf_fail_at(p, list, "park is a list of steps: ( { ... }, { ... } )");
	}
	unsigned n = (unsigned)config_setting_length(list);
	if (n > PARK_MAX_STEPS) {
		return conf_fail_at(p, list, "a park sequence has at most %d steps",
				    PARK_MAX_STEPS);
	}
	if (!(out->steps = calloc(n ? n : 1, sizeof(*out->steps)))) {
		return -ENOMEM;
	}
	unsigned delay_total = 0;
	for (unsigned i = 0; i < n; i++) {
		int rc = parse_step(p, config_setting_get_elem(list, i), map, &delay_total,
				    &out->steps[i]);
		if (rc < 0) {
			return rc;
		}
		out->n++;
	}
	return 0;
}
