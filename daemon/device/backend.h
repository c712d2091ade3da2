/*
 * A backend is the UnsafeMmio of the design: a mapped device window with
 * unchecked exact-width accessors. Callers (region.c) check bounds and
 * alignment first; the accessors trust them.
 *
 * This is all the rest of the daemon sees of backends: the accessors, opening
 * one from a region spec and closing it. Each type lives in its own
 * backend_<type>.c, behind the one constructor of backend_type.h; what the
 * mapped ones share is in mapping.h.
 */
#ifndef MMIOD_BACKEND_H
#define MMIOD_BACKEND_H

#include <stddef.h>
#include <stdint.h>

/* backend_open() takes a spec: callers build one. */
#include "config/region_spec.h"

struct backend;

/*
 * load64 and store64 are only used where the CPU has 64-bit loads and stores:
 * elsewhere region.c refuses 8-byte accesses rather than split them in two.
 */
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
	int irq_fd; /* -1, or the UIO fd whose 4-byte reads count interrupts */
};

/*
 * Opens the backend spec names, of any type. Returns 0 and *out, or a negative
 * errno with a message for the operator in err.
 */
int backend_open(const struct region_spec *spec, struct backend **out, char *err, size_t errlen);

/* Closes b; accepts NULL. */
void backend_close(struct backend *b);

#endif
