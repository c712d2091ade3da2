/*
 * A backend is the UnsafeMmio of the design: a mapped device window with
 * unchecked exact-width accessors. Callers (region.c) check bounds and
 * alignment first; the accessors trust them.
 */
#ifndef MMIOD_BACKEND_H
#define MMIOD_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct backend;
struct region_spec;

struct backend_ops {
	uint8_t (*load8)(const struct backend *b, uint64_t off);
	uint16_t (*load16)(const struct backend *b, uint64_t off);
	uint32_t (*load32)(const struct backend *b, uint64_t off);
	uint64_t (*load64)(const struct backend *b, uint64_t off);
	void (*store8)(const struct backend *b, uint64_t off, uint8_t v);
	void (*store16)(const struct backend *b, uint64_t off, uint16_t v);
	void (*store32)(const struct backend *b, uint64_t off, uint32_t v);
	void (*store64)(const struct backend *b, uint64_t off, uint64_t v);
	/* Orders every earlier store before every later one. Never fails, no bounds. */
	void (*write_barrier)(const struct backend *b);
	/* Unmaps and frees b. */
	void (*close)(struct backend *b);
};

struct backend {
	const struct backend_ops *ops;
	const char *type; /* "mem", "file", "devmem", "pci", "uio" */
	uint64_t len;     /* bytes exposed: exactly the configured size, never page padding */
	uint64_t addr;    /* absolute device address of offset 0; alignment is judged on it */
	uint8_t *base;    /* offset 0 in our address space (memory-mapped backends) */
	void *map;        /* the whole mapping, page-aligned */
	size_t map_len;
	int irq_fd;  /* -1, or the UIO fd whose 4-byte reads count interrupts */
	bool lohi64; /* where the CPU has no 64-bit access: two 32-bit ones, low first */
};

/* A zeroed backend with mapped ops and no irq fd; NULL only for lack of memory. */
struct backend *backend_alloc(const char *type);

/* Accessors for backends whose window is mapped at b->base; close munmaps b->map. */
extern const struct backend_ops backend_mapped_ops;

/*
 * Maps size bytes of fd from byte offset off, which need not be page-aligned
 * (the mapping starts at the page below; offset 0 of the backend is off), as
 * a backend of type whose offset 0 has absolute address addr. Does not take
 * fd: the mapping keeps the file. 0 and *out, or -ENOMEM or mmap's negative errno.
 */
int backend_map(int fd, const char *type, uint64_t off, uint64_t size, uint64_t addr,
		struct backend **out);

/* First offset in b whose absolute address is aligned to align (a power of two). */
uint64_t backend_align_offset(const struct backend *b, uint64_t align);

/*
 * Opens the backend spec names. Returns 0 and *out, or a negative errno with a
 * message for the operator in err.
 */
int backend_open(const struct region_spec *spec, struct backend **out, char *err, size_t errlen);

/* Closes b; accepts NULL. */
void backend_close(struct backend *b);

int backend_mem_open(uint64_t size, struct backend **out, char *err, size_t errlen);
int backend_file_open(const char *path, uint64_t offset, uint64_t size, struct backend **out,
		      char *err, size_t errlen);

/*
 * Physical memory [phys, phys + size) through path (NULL: /dev/mem), opened
 * O_SYNC so the kernel maps it uncached; b->addr is phys.
 */
int backend_devmem_open(const char *path, uint64_t phys, uint64_t size, struct backend **out,
			char *err, size_t errlen);

/*
 * BAR bar of PCI device (DDDD:BB:DD.F) under sysfs (NULL: /sys), from offset
 * for size bytes (0: to the end of the BAR); b->addr is the BAR's bus address
 * plus offset. -ENODEV for a BAR that does not exist, -ENOTSUP for one that is
 * not memory, -EINVAL for a range outside it.
 */
int backend_pci_open(const char *sysfs, const char *device, unsigned bar, uint64_t offset,
		     uint64_t size, struct backend **out, char *err, size_t errlen);

/*
 * Map spec->map of the UIO device spec->device, or of the one named
 * spec->uio_name (-ENOENT if none, -ENOTUNIQ if several), under spec->sysfs
 * and spec->dev_dir; spec->size bytes or (0) all the map has. With spec->irq
 * the device (or spec->irq_dev) stays open in b->irq_fd.
 */
int backend_uio_open(const struct region_spec *spec, struct backend **out, char *err,
		     size_t errlen);

#endif
