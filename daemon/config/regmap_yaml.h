/*
 * A register map file (mmiod-regmap(5)) read with libfyaml into core/regmap.h's model. Every
 * error is "FILE:LINE: message". Parsing and validation only.
 */
#ifndef MMIOD_REGMAP_YAML_H
#define MMIOD_REGMAP_YAML_H

#include <stddef.h>
#include <stdint.h>

#include "core/regmap.h"

/*
 * Reads and validates the map file at path (at most REGMAP_MAX_FILE_BYTES; no region size: see
 * regmap_yaml_check). 0 with *out (free with regmap_free), or -EINVAL with "path:line: message"
 * in err, -ENOENT with "path: why" when it cannot be read, -ENOMEM.
 */
int regmap_yaml_load(const char *path, struct regmap **out, char *err, size_t errlen);

/* The same from len bytes of text; path only names it in messages. */
int regmap_yaml_parse(const char *text, size_t len, const char *path, struct regmap **out,
		      char *err, size_t errlen);

/*
 * regmap_validate against a region of region_size bytes (0: not known), the first broken rule as
 * "path:line: message" in err. 0, -EINVAL or -ENOMEM.
 */
int regmap_yaml_check(const char *path, const struct regmap *map, uint64_t region_size, char *err,
		      size_t errlen);

#endif
