#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"
#include "region_spec.h"

static int
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

/* Applies one key=value of the spec; key and value are NUL-terminated copies. */
static int
apply_key(struct region_spec *spec, const char *key, const char *value, unsigned *seen, char *err,
	  size_t errlen)
{
	static const char *const keys[] = {"type", "path", "size", "offset"};
	unsigned bit = 0;
	for (unsigned i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (strcmp(key, keys[i]) == 0) {
			bit = 1u << i;
		}
	}
	if (!bit) {
		return fail(err, errlen, "unknown key '%s' (expected type, path, size, offset)",
			    key);
	}
	if (*seen & bit) {
		return fail(err, errlen, "key '%s' given twice", key);
	}
	*seen |= bit;

	if (strcmp(key, "type") == 0) {
		if (strcmp(value, "mem") != 0 && strcmp(value, "file") != 0) {
			return fail(err, errlen, "unknown type '%s' (expected mem or file)", value);
		}
		snprintf(spec->type, sizeof(spec->type), "%s", value);
		return 0;
	}
	if (strcmp(key, "path") == 0) {
		if (value[0] == '\0') {
			return fail(err, errlen, "empty path");
		}
		spec->path = strdup(value);
		return spec->path ? 0 : -ENOMEM;
	}
	uint64_t *dst = strcmp(key, "size") == 0 ? &spec->size : &spec->offset;
	int rc = parse_u64(value, dst);
	if (rc < 0) {
		return fail(err, errlen, "%s '%s' is not a %s", key, value,
			    rc == -ERANGE ? "64-bit number" : "decimal or 0x hex number");
	}
	return 0;
}

int
region_spec_check(const struct region_spec *spec, char *err, size_t errlen)
{
	if (!name_valid(spec->name, strlen(spec->name))) {
		return fail(err, errlen, "region name must be 1-%d characters of [A-Za-z0-9_.-]",
			    MMIO_MAX_NAME);
	}
	if (spec->type[0] == '\0') {
		return fail(err, errlen, "missing type= (mem or file)");
	}
	if (strcmp(spec->type, "mem") != 0 && strcmp(spec->type, "file") != 0) {
		return fail(err, errlen, "unknown type '%s' (expected mem or file)", spec->type);
	}
	if (spec->size == 0) {
		return fail(err, errlen, "missing or zero size=");
	}
	if (strcmp(spec->type, "file") == 0 && !spec->path) {
		return fail(err, errlen, "type=file needs path=");
	}
	if (strcmp(spec->type, "mem") == 0 && (spec->path || spec->offset)) {
		return fail(err, errlen, "type=mem takes only size=");
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
	unsigned seen = 0;
	int rc = 0;
	char *save = NULL;
	for (char *item = strtok_r(rest, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(item, '=');
		if (!eq) {
			rc = fail(err, errlen, "'%s' is not key=value", item);
			goto out;
		}
		*eq = '\0';
		rc = apply_key(spec, item, eq + 1, &seen, err, errlen);
		if (rc < 0) {
			goto out;
		}
	}

	/* offset=0 is harmless, but naming an offset for memory means a mistaken spec. */
	if (strcmp(spec->type, "mem") == 0 && (seen & 8u)) {
		rc = fail(err, errlen, "type=mem takes only size=");
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
	free(spec->path);
	spec->path = NULL;
}
