/*
 * Memory as a simulated device: the default region type. A memfd, so that a restart can hand
 * the same bytes to the successor (a device keeps its registers when mmiod restarts).
 */

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

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

/* The predecessor's memory if the spec carries it (taken), else new zeroed memory. fd or -errno. */
static int
memory_of(const struct region_spec *spec, char *err, size_t errlen)
{
	if (spec->has_memory) {
		struct stat st;
		int fd = spec->memory_fd;
		if (fstat(fd, &st) == 0 && (uint64_t)st.st_size == spec->size) {
			return fd;
		}
		close(fd);
		snprintf(err, errlen, "the memory handed over is not of size 0x%llx",
			 (unsigned long long)spec->size);
		return -EINVAL;
	}
	int fd = memfd_create("mmiod-mem", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, (off_t)spec->size) < 0) {
		int rc = -errno;
		snprintf(err, errlen, "memory of %llu bytes: %s", (unsigned long long)spec->size,
			 strerror(-rc));
		if (fd >= 0) {
			close(fd);
		}
		return rc;
	}
	return fd;
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
	int fd = memory_of(spec, err, errlen);
	if (fd < 0) {
		free(b);
		return fd;
	}
	void *map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		int rc = -errno;
		snprintf(err, errlen, "mmap %llu bytes: %s", (unsigned long long)size,
			 strerror(-rc));
		close(fd);
		free(b);
		return rc;
	}
	b->memory_fd = fd;
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
