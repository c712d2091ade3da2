/*
 * The top of the device backends: backend_open() finds the spec's type in the
 * table of backend types and calls its one constructor, and backend_close().
 * Nothing below calls back up here, so adding a type is one line in the table.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config/region_spec.h"
#include "device/backend.h"
#include "device/backend_type.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const struct backend_type *const backend_types[] = {
	&backend_type_mem, &backend_type_file, &backend_type_devmem,
	&backend_type_pci, &backend_type_uio,
};

int
backend_open(const struct region_spec *spec, struct backend **out, char *err, size_t errlen)
{
	for (size_t i = 0; i < ARRAY_LEN(backend_types); i++) {
		if (strcmp(spec->type, backend_types[i]->name) == 0) {
			return backend_types[i]->open(spec, out, err, errlen);
		}
	}
	snprintf(err, errlen, "unknown backend type '%s'", spec->type);
	return -EINVAL;
}

void
backend_close(struct backend *b)
{
	if (b) {
		b->ops->close(b);
	}
}
