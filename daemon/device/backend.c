#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config/region_spec.h"
#include "device/arch.h"
#include "device/backend.h"
#include "wire.h"

#define MAPPED_LOAD(bits)                                                                          \
	static uint##bits##_t mapped_load##bits(const struct backend *b, uint64_t off)             \
	{                                                                                          \
		return arch_load##bits(b->base + off);                                             \
	}
#define MAPPED_STORE(bits)                                                                         \
	static void mapped_store##bits(const struct backend *b, uint64_t off, uint##bits##_t v)    \
	{                                                                                          \
		arch_store##bits(b->base + off, v);                                                \
	}
MAPPED_LOAD(8)
MAPPED_LOAD(16)
MAPPED_LOAD(32)
MAPPED_LOAD(64)
MAPPED_STORE(8)
MAPPED_STORE(16)
MAPPED_STORE(32)
MAPPED_STORE(64)

static void
mapped_write_barrier(const struct backend *b)
{
	(void)b;
	arch_write_barrier();
}

static void
mapped_close(struct backend *b)
{
	if (b->map) {
		munmap(b->map, b->map_len);
	}
	wire_close_fd(&b->irq_fd);
	free(b);
}

const struct backend_ops backend_mapped_ops = {
	.load8 = mapped_load8,
	.load16 = mapped_load16,
	.load32 = mapped_load32,
	.load64 = mapped_load64,
	.store8 = mapped_store8,
	.store16 = mapped_store16,
	.store32 = mapped_store32,
	.store64 = mapped_store64,
	.write_barrier = mapped_write_barrier,
	.close = mapped_close,
};

struct backend *
backend_alloc(const char *type)
{
	struct backend *b = calloc(1, sizeof(*b));
	if (b) {
		b->ops = &backend_mapped_ops;
		b->type = type;
		b->irq_fd = -1;
	}
	return b;
}

int
backend_map(int fd, const char *type, uint64_t off, uint64_t size, uint64_t addr,
	    struct backend **out)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	uint64_t page_off = off % page;
	/* Callers checked size + page_off fits size_t and off fits off_t. */
	struct backend *b = backend_alloc(type);
	if (!b) {
		return -ENOMEM;
	}
	size_t map_len = (size_t)(size + page_off);
	void *map = mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
			 (off_t)(off - page_off));
	if (map == MAP_FAILED) {
		int rc = -errno;
		free(b);
		return rc;
	}
	b->len = size;
	b->map = map;
	b->map_len = map_len;
	b->base = (uint8_t *)map + page_off;
	b->addr = addr;
	*out = b;
	return 0;
}

uint64_t
backend_align_offset(const struct backend *b, uint64_t align)
{
	return (0 - b->addr) & (align - 1);
}

int
backend_open(const struct region_spec *spec, struct backend **out, char *err, size_t errlen)
{
	if (strcmp(spec->type, "mem") == 0) {
		return backend_mem_open(spec->size, out, err, errlen);
	}
	if (strcmp(spec->type, "file") == 0) {
		return backend_file_open(spec->path, spec->offset, spec->size, out, err, errlen);
	}
	if (strcmp(spec->type, "devmem") == 0) {
		return backend_devmem_open(spec->path, spec->phys, spec->size, out, err, errlen);
	}
	if (strcmp(spec->type, "pci") == 0) {
		return backend_pci_open(spec->sysfs, spec->device, spec->bar, spec->offset,
					spec->size, out, err, errlen);
	}
	if (strcmp(spec->type, "uio") == 0) {
		return backend_uio_open(spec, out, err, errlen);
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
