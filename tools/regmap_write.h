/*
 * A register map (core/regmap.h) written as a map file of mmiod-regmap(5), the YAML that
 * config/regmap_yaml.c reads back into the same map. Names are written plain unless YAML
 * would read them as something else (true, null, a number: quoted); descriptions always
 * double-quoted, escaped. Numbers as that reader takes them: offsets, resets and strides
 * in 0x hex, widths, counts and values in decimal.
 */
#ifndef MMIOCTL_REGMAP_WRITE_H
#define MMIOCTL_REGMAP_WRITE_H

#include <stdio.h>

#include "core/regmap.h"

/*
 * Writes map to f, after comment lines of header (each line prefixed "# "; NULL: none). 0, or
 * -EIO if f reports an error.
 */
int regmap_write_yaml(FILE *f, const struct regmap *map, const char *header);

#endif
