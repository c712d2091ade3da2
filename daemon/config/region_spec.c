#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/region_spec.h"
#include "core/limits.h"
#include "parse.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
	const char *name;
	unsigned bit;
} key_names[] = {
	{"type", REGION_KEY_TYPE},         {"path", REGION_KEY_PATH},
	{"size", REGION_KEY_SIZE},         {"offset", REGION_KEY_OFFSET},
	{"phys", REGION_KEY_PHYS},         {"device", REGION_KEY_DEVICE},
	{"uio_name", REGION_KEY_UIO_NAME}, {"bar", REGION_KEY_BAR},
	{"map", REGION_KEY_MAP},           {"sysfs", REGION_KEY_SYSFS},
	{"dev", REGION_KEY_DEV},           {"irq", REGION_KEY_IRQ},
	{"irq_dev", REGION_KEY_IRQ_DEV},   {"uio_map", REGION_KEY_MAP},
};

/* Which keys each type needs and which it takes at all. */
static const struct type_rule {
	const char *type;
	unsigned required;
	unsigned allowed;
} type_rules[] = {
	{"mem", REGION_KEY_SIZE, REGION_KEY_TYPE | REGION_KEY_SIZE},
	{"file", REGION_KEY_PATH | REGION_KEY_SIZE,
	 REGION_KEY_TYPE | REGION_KEY_PATH | REGION_KEY_SIZE | REGION_KEY_OFFSET},
	{"devmem", REGION_KEY_PHYS | REGION_KEY_SIZE,
	 REGION_KEY_TYPE | REGION_KEY_PHYS | REGION_KEY_SIZE | REGION_KEY_PATH},
	{"pci", REGION_KEY_DEVICE | REGION_KEY_BAR,
	 REGION_KEY_TYPE | REGION_KEY_DEVICE | REGION_KEY_BAR | REGION_KEY_OFFSET |
		 REGION_KEY_SIZE | REGION_KEY_SYSFS},
	/* One of uio_name and device is required too; checked on its own. */
	{"uio", REGION_KEY_MAP,
	 REGION_KEY_TYPE | REGION_KEY_UIO_NAME | REGION_KEY_DEVICE | REGION_KEY_MAP |
		 REGION_KEY_SIZE | REGION_KEY_SYSFS | REGION_KEY_DEV | REGION_KEY_IRQ |
		 REGION_KEY_IRQ_DEV},
	/* And map = "PATH", a config file's key only: checked on its own. */
	{"sim", REGION_KEY_SIZE, REGION_KEY_TYPE | REGION_KEY_SIZE},
};

#define TYPE_LIST "mem, file, devmem, pci, uio or sim"

static int __attribute__((format(printf, 3, 4)))
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int
name_valid(const char *name, size_t len)
{
	if (len == 0 || len > MMIO_MAX_NAME) {
		return 0;
	}
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			 (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
		if (!ok) {
			return 0;
		}
	}
	return 1;
}

static const char *
key_name(unsigned bit)
{
	for (size_t i = 0; i < ARRAY_LEN(key_names); i++) {
		if (key_names[i].bit == bit) {
			return key_names[i].name;
		}
	}
	return "?";
}

unsigned
region_spec_key(const char *name)
{
	for (size_t i = 0; i < ARRAY_LEN(key_names); i++) {
		if (strcmp(name, key_names[i].name) == 0) {
			return key_names[i].bit;
		}
	}
	return 0;
}

static const struct type_rule *
find_rule(const char *type)
{
	for (size_t i = 0; i < ARRAY_LEN(type_rules); i++) {
		if (strcmp(type_rules[i].type, type) == 0) {
			return &type_rules[i];
		}
	}
	return NULL;
}

/* "a, b, c": the names of the keys in bits, for messages. */
static void
list_keys(unsigned bits, char *buf, size_t len)
{
	size_t n = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < ARRAY_LEN(key_names) && n < len; i++) {
		if ((bits & key_names[i].bit) && key_names[i].bit != REGION_KEY_TYPE) {
			n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? ", " : "",
					      key_names[i].name);
		}
	}
}

static bool
is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
			return false;
		}
	}
	return true;
}

bool
region_spec_pci_device_valid(const char *text)
{
	/* DDDD:BB:DD.F: domain, bus, device (5 bits), function (3 bits). */
	if (strlen(text) != 12 || text[4] != ':' || text[7] != ':' || text[10] != '.') {
		return false;
	}
	if (!is_hex(text, 4) || !is_hex(text + 5, 2) || !is_hex(text + 8, 2)) {
		return false;
	}
	return strtoul(text + 8, NULL, 16) <= 0x1f && text[11] >= '0' && text[11] <= '7';
}

bool
region_spec_uio_device_valid(const char *text)
{
	if (strncmp(text, "uio", 3) != 0 || text[3] < '0' || text[3] > '9') {
		return false;
	}
	size_t n = strspn(text + 3, "0123456789");
	return text[3 + n] == '\0' && n <= 9 && (text[3] != '0' || n == 1);
}

/*
 * lspci's short form BB:DD.F names domain 0000: spec->device becomes
 * 0000:BB:DD.F, the form sysfs names devices by. Anything else is left for
 * region_spec_pci_device_valid() to judge. 0 or -ENOMEM.
 */
static int
canonical_pci_device(struct region_spec *spec)
{
	char full[16];
	if (strlen(spec->device) != 7 ||
	    snprintf(full, sizeof(full), "0000:%s", spec->device) != 12 ||
	    !region_spec_pci_device_valid(full)) {
		return 0;
	}
	char *copy = strdup(full);
	if (!copy) {
		return -ENOMEM;
	}
	free(spec->device);
	spec->device = copy;
	return 0;
}

/* The keys spec gives: those the parser saw, plus any field set directly. */
static unsigned
given_keys(const struct region_spec *spec)
{
	unsigned given = spec->keys;
	given |= spec->path ? REGION_KEY_PATH : 0;
	given |= spec->size ? REGION_KEY_SIZE : 0;
	given |= spec->offset ? REGION_KEY_OFFSET : 0;
	given |= spec->phys ? REGION_KEY_PHYS : 0;
	given |= spec->device ? REGION_KEY_DEVICE : 0;
	given |= spec->uio_name ? REGION_KEY_UIO_NAME : 0;
	given |= spec->bar ? REGION_KEY_BAR : 0;
	given |= spec->map ? REGION_KEY_MAP : 0;
	given |= spec->sysfs ? REGION_KEY_SYSFS : 0;
	given |= spec->dev_dir ? REGION_KEY_DEV : 0;
	given |= spec->irq ? REGION_KEY_IRQ : 0;
	given |= spec->irq_dev ? REGION_KEY_IRQ_DEV : 0;
	/* offset = 0 in a config file's mem region is harmless (the command line refuses it). */
	if ((strcmp(spec->type, "mem") == 0 || strcmp(spec->type, "sim") == 0) &&
	    spec->offset == 0) {
		given &= ~REGION_KEY_OFFSET;
	}
	return given;
}

/* Keys whose value is a string that must not be empty. */
static int
check_strings(const struct region_spec *spec, char *err, size_t errlen)
{
	const struct {
		const char *value;
		const char *key;
	} strings[] = {{spec->path, "path"},     {spec->device, "device"},
		       {spec->uio_name, "name"}, {spec->sysfs, "sysfs"},
		       {spec->dev_dir, "dev"},   {spec->irq_dev, "irq_dev"}};
	for (size_t i = 0; i < ARRAY_LEN(strings); i++) {
		if (strings[i].value && strings[i].value[0] == '\0') {
			return fail(err, errlen, "empty %s", strings[i].key);
		}
	}
	return 0;
}

static int
check_type_values(struct region_spec *spec, unsigned given, char *err, size_t errlen)
{
	const char *type = spec->type;
	if (strcmp(type, "devmem") == 0 && spec->phys > UINT64_MAX - spec->size) {
		return fail(err, errlen, "phys 0x%llx + size 0x%llx wraps past 2^64",
			    (unsigned long long)spec->phys, (unsigned long long)spec->size);
	}
	if (strcmp(type, "pci") == 0) {
		int rc = canonical_pci_device(spec);
		if (rc < 0) {
			return fail(err, errlen, "out of memory");
		}
		if (!region_spec_pci_device_valid(spec->device)) {
			return fail(
				err, errlen,
				"device '%s' is not a PCI address DDDD:BB:DD.F or BB:DD.F (e.g. "
				"0000:03:00.0 or 03:00.0; device 00-1f, function 0-7)",
				spec->device);
		}
		if (spec->bar > 5) {
			return fail(err, errlen, "bar %u is not 0..5", spec->bar);
		}
		if (spec->offset > UINT64_MAX - spec->size) {
			return fail(err, errlen, "offset 0x%llx + size 0x%llx wraps past 2^64",
				    (unsigned long long)spec->offset,
				    (unsigned long long)spec->size);
		}
	}
	if (strcmp(type, "sim") == 0) {
		if (spec->size > MMIO_SIM_MAX_SIZE) {
			return fail(
				err, errlen,
				"size 0x%llx is over 0x%x (%u MiB), the most a sim region may have",
				(unsigned long long)spec->size, MMIO_SIM_MAX_SIZE,
				MMIO_SIM_MAX_SIZE >> 20);
		}
		if (!spec->regmap) {
			return fail(err, errlen,
				    "type sim needs map = \"PATH\", the register map it behaves as "
				    "(a config file's region only)");
		}
	} else if (spec->model) {
		return fail(err, errlen,
			    "model = \"PATH\" is for type sim (a simulated device's behaviour)");
	}
	if (strcmp(type, "uio") == 0) {
		bool by_name = given & REGION_KEY_UIO_NAME;
		bool by_device = given & REGION_KEY_DEVICE;
		if (by_name == by_device) {
			return fail(
				err, errlen,
				"type=uio needs exactly one of name= (uio_name in a config file: "
				"the UIO device's name in sysfs) and device=uioN");
		}
		if (by_device && !region_spec_uio_device_valid(spec->device)) {
			return fail(err, errlen, "device '%s' is not uioN (e.g. uio0)",
				    spec->device);
		}
		if (spec->map >= MMIO_UIO_MAX_MAPS) {
			return fail(err, errlen, "map %u is not 0..%d", spec->map,
				    MMIO_UIO_MAX_MAPS - 1);
		}
		if ((given & REGION_KEY_IRQ_DEV) && !spec->irq) {
			return fail(err, errlen, "irq_dev needs irq");
		}
	}
	return 0;
}

int
region_spec_check(struct region_spec *spec, char *err, size_t errlen)
{
	if (!name_valid(spec->name, strlen(spec->name))) {
		return fail(err, errlen, "region name must be 1-%d characters of [A-Za-z0-9_.-]",
			    MMIO_MAX_NAME);
	}
	if (spec->type[0] == '\0') {
		return fail(err, errlen, "missing type (" TYPE_LIST ")");
	}
	const struct type_rule *rule = find_rule(spec->type);
	if (!rule) {
		return fail(err, errlen, "unknown type '%s' (expected " TYPE_LIST ")", spec->type);
	}
	unsigned given = given_keys(spec);
	char list[160];
	unsigned extra = given & ~rule->allowed;
	if (extra) {
		list_keys(rule->allowed, list, sizeof(list));
		return fail(err, errlen, "type %s does not take %s (it takes %s)", spec->type,
			    key_name(extra & -extra), list);
	}
	unsigned missing = rule->required & ~given;
	if (missing & REGION_KEY_SIZE) {
		return fail(err, errlen, "missing or zero size");
	}
	if (missing) {
		list_keys(rule->required, list, sizeof(list));
		return fail(err, errlen, "type %s needs %s (it needs %s)", spec->type,
			    key_name(missing & -missing), list);
	}
	if ((given & REGION_KEY_SIZE) && spec->size == 0) {
		return fail(err, errlen, "zero size");
	}
	int rc = check_strings(spec, err, errlen);
	if (rc < 0) {
		return rc;
	}
	return check_type_values(spec, given, err, errlen);
}

/* Stores a copy of value in *dst. */
static int
set_string(char **dst, const char *value)
{
	*dst = strdup(value);
	return *dst ? 0 : -ENOMEM;
}

/* Applies one key=value of the spec; key and value are NUL-terminated copies. */
static int
apply_key(struct region_spec *spec, const char *key, const char *value, char *err, size_t errlen)
{
	/* On the command line the region's own name comes first, so name= is free for UIO. */
	unsigned bit = region_spec_key(strcmp(key, "name") == 0 ? "uio_name" : key);
	if (!bit) {
		return fail(err, errlen,
			    "unknown key '%s' (expected type, path, size, offset, phys, device, "
			    "name, bar, map, sysfs, dev, irq, irq_dev)",
			    key);
	}
	if (spec->keys & bit) {
		return fail(err, errlen, "key '%s' given twice", key);
	}
	spec->keys |= bit;

	uint64_t v;
	int rc;
	switch (bit) {
	case REGION_KEY_TYPE:
		if (!find_rule(value)) {
			return fail(err, errlen, "unknown type '%s' (expected " TYPE_LIST ")",
				    value);
		}
		snprintf(spec->type, sizeof(spec->type), "%s", value);
		return 0;
	case REGION_KEY_PATH:
		return set_string(&spec->path, value);
	case REGION_KEY_DEVICE:
		return set_string(&spec->device, value);
	case REGION_KEY_UIO_NAME:
		return set_string(&spec->uio_name, value);
	case REGION_KEY_SYSFS:
		return set_string(&spec->sysfs, value);
	case REGION_KEY_DEV:
		return set_string(&spec->dev_dir, value);
	case REGION_KEY_IRQ_DEV:
		return set_string(&spec->irq_dev, value);
	case REGION_KEY_IRQ:
		if (strcmp(value, "yes") == 0 || strcmp(value, "true") == 0) {
			spec->irq = true;
		} else if (strcmp(value, "no") != 0 && strcmp(value, "false") != 0) {
			return fail(err, errlen, "irq '%s' is not yes or no", value);
		}
		return 0;
	default:
		break;
	}
	rc = parse_u64(value, &v);
	if (rc < 0 && parse_leading_zero(value)) {
		return fail(err, errlen,
			    "%s '%s': a leading 0 is ambiguous (octal to some tools): write it "
			    "in decimal without it, or in 0x hex",
			    key, value);
	}
	if (rc < 0) {
		return fail(err, errlen, "%s '%s' is not a %s", key, value,
			    rc == -ERANGE ? "64-bit number" : "decimal or 0x hex number");
	}
	switch (bit) {
	case REGION_KEY_SIZE:
		spec->size = v;
		break;
	case REGION_KEY_OFFSET:
		spec->offset = v;
		break;
	case REGION_KEY_PHYS:
		spec->phys = v;
		break;
	default: /* bar, map: small indexes, range-checked by region_spec_check */
		if (v > 0xff) {
			return fail(err, errlen, "%s %s is out of range", key, value);
		}
		*(bit == REGION_KEY_BAR ? &spec->bar : &spec->map) = (unsigned)v;
		break;
	}
	return 0;
}

int
region_spec_parse(const char *text, struct region_spec *spec, char *err, size_t errlen)
{
	memset(spec, 0, sizeof(*spec));
	const char *comma = strchr(text, ',');
	size_t name_len = comma ? (size_t)(comma - text) : strlen(text);
	if (!name_valid(text, name_len)) {
		return fail(err, errlen,
			    "region name must be 1-%d characters of [A-Za-z0-9_.-], before the "
			    "first comma",
			    MMIO_MAX_NAME);
	}
	memcpy(spec->name, text, name_len);

	char *rest = strdup(comma ? comma + 1 : "");
	if (!rest) {
		return -ENOMEM;
	}
	int rc = 0;
	char *save = NULL;
	for (char *item = strtok_r(rest, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(item, '=');
		if (!eq) {
			rc = fail(err, errlen, "'%s' is not key=value", item);
			goto out;
		}
		*eq = '\0';
		rc = apply_key(spec, item, eq + 1, err, errlen);
		if (rc < 0) {
			goto out;
		}
	}

	/* offset=0 is harmless, but naming an offset for memory means a mistaken spec. */
	if (strcmp(spec->type, "mem") == 0 && (spec->keys & REGION_KEY_OFFSET)) {
		rc = fail(err, errlen, "type mem does not take offset (it takes size)");
	} else {
		rc = region_spec_check(spec, err, errlen);
	}
out:
	free(rest);
	return rc;
}

void
region_spec_finish(struct region_spec *spec)
{
	char **owned[] = {&spec->path,    &spec->device,  &spec->uio_name, &spec->sysfs,
			  &spec->dev_dir, &spec->irq_dev, &spec->regmap,   &spec->model};
	for (size_t i = 0; i < ARRAY_LEN(owned); i++) {
		/* cppcheck-suppress shadowVariable ; it reads this call as a declaration */
		free(*owned[i]);
		*owned[i] = NULL;
	}
}
