/*
 * The one constructor every backend type has, so backend_open() can pick a
 * type from a table by name instead of knowing each type's arguments. Each
 * backend_<type>.c defines its backend_type_<type>; backend.c lists them.
 */
#ifndef MMIOD_BACKEND_TYPE_H
#define MMIOD_BACKEND_TYPE_H

#include <stddef.h>

#include "config/region_spec.h"
#include "device/backend.h"

struct regmap;

struct backend_type {
	const char *name; /* as in region_spec.type */
	/*
	 * Opens the backend spec names (spec->type is name). Returns 0 and *out, or a
	 * negative errno with a message for the operator in err.
	 */
	int (*open)(const struct region_spec *spec, struct backend **out, char *err, size_t errlen);
	/*
	 * Where open would map spec's bytes, and how many, without mapping them:
	 * backend_locate(). 0, or a negative errno with a message in err.
	 */
	int (*locate)(const struct region_spec *spec, struct backing *where, uint64_t *len,
		      char *err, size_t errlen);
	/*
	 * Optional: open for a type built from the region's register map (map, NULL if the
	 * config gave none); used instead of open when set (backend_open_map()).
	 */
	int (*open_map)(const struct region_spec *spec, const struct regmap *map,
			struct backend **out, char *err, size_t errlen);
};

/* Anonymous memory as a simulated device: size. */
extern const struct backend_type backend_type_mem;
/* A regular file: path, offset, size. */
extern const struct backend_type backend_type_file;
/* Physical memory through /dev/mem: phys, size, path (NULL: /dev/mem). */
extern const struct backend_type backend_type_devmem;
/* A PCI memory BAR through sysfs: device, bar, offset, size (0: to the BAR's end), sysfs. */
extern const struct backend_type backend_type_pci;
/* A map of a UIO device: device or uio_name, map, size, sysfs, dev_dir, irq, irq_dev. */
extern const struct backend_type backend_type_uio;
/* A simulated device that behaves as its register map says: size and a map (backend_sim.h). */
extern const struct backend_type backend_type_sim;

#endif
