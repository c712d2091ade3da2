/*
 * The fields of an SVD register and their enumerated values, into a map's register. Bits from
 * bitOffset and bitWidth (default 1), bitRange "[MSB:LSB]", or lsb and msb; a dim field is
 * one field per index. A field or value the map cannot hold is left out with a warning:
 * outside the register, overlapping a field before it, a name taken or not a map name, a
 * value with do-not-care bits (x) or too wide for its field.
 */
#ifndef MMIOCTL_SVD_FIELDS_H
#define MMIOCTL_SVD_FIELDS_H

#include "core/regmap.h"
#include "svd_access.h"
#include "svd_derive.h"

struct svd_field_ctx {
	struct regmap_register *reg; /* its access and side effects are set */
	unsigned width;              /* the register's, in bits */
	enum svd_access reg_svd_access;
	void (*warn)(void *arg, int line, const char *message);
	void *warn_arg;
};

/*
 * The fields of the register of view v into c->reg, each told and left out if it cannot be
 * one. 0 or -ENOMEM.
 */
int svd_fields_read(const struct svd_field_ctx *c, const struct svd_view *v,
		    struct regmap_error *err);

#endif
