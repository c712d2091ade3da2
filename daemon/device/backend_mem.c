/* Anonymous memory as a simulated device: the default region type. */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>

#include "config/region_spec.h"
#include "device/backend_type.h"
#include "device/mapping.h"

/* 0, or -EINVAL with the reason in err. */
static int
mem_check(const struct region_spec *spec, char *err, size_t errlen)
{
	if (spec->size == 0 || spec->size > (uint64_t)SSIZE_MAX) {
		snprintf(err, errlen, "size 0x%llx is not in 1..SSIZE_MAX",
			 (unsigned long long)spec->size);
		return -EINVAL;
	}
	return 0;
}

static int
mem_open(const struct region_spec *spec, struct backend **out, char *err, size_t errlen)
{
	uint64_t size = spec->size;
	if (mem_check(spec, err, errlen) < 0) {
		return -EINVAL;
	}
	struct backend *b = backend_alloc("mem");
	if (!b) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	void *map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED) {
		int rc = -errno;
		snprintf(err, errlen, "mmap %llu bytes: %s", (unsigned long long)size,
			 strerror(-rc));
		free(b);
		return rc;
	}
	b->len = size;
	b->map = map;
	b->map_len = size;
	b->base = map;
	/* Its device address is its offset: the map is page-aligned (no alignment verdict
	 * changes), and clients must not learn where mmiod's memory lies. */
	b->addr = 0;
	*out = b;
	return 0;
}

/* Its own memory: aliases nothing. */
static int
mem_locate(const struct region_spec *spec, struct backing *where, uint64_t *len, char *err,
	   size_t errlen)
{
	if (mem_check(spec, err, errlen) < 0) {
		return -EINVAL;
	}
	*where = (struct backing){.shared = false};
	*len = spec->size;
	return 0;
}

const struct backend_type backend_type_mem = {"mem", mem_open, mem_locate, NULL};
