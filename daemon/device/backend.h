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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* backend_open() takes a spec: callers build one. */
#include "config/region_spec.h"
#include "core/lease.h"

struct backend;
struct regmap;

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
	/*
	 * Optional, for a device that is not plain memory (sim): one access of exactly width
	 * bytes at off (checked by the caller), which region.c then makes instead of the
	 * accessors above, outside the fault guard. A load sets *value, a store takes it. 0, or
	 * -EIO: the device failed the access (counted as a fault).
	 */
	int (*access)(const struct backend *b, uint64_t off, unsigned width, bool is_store,
		      uint64_t *value);
	/* Optional: re-enables the interrupt after one (backend_irq_ack); NULL: UIO's way. */
	int (*reenable_irq)(const struct backend *b);
};

/*
 * Where a backend's bytes are, so that two regions on the same bytes are known
 * to be aliases, whatever paths name them: the file (st_dev and st_ino) or
 * character device (its number, st_rdev) that was mapped, the part of it (the
 * maps of one UIO device are separate memories at file offsets M pages), and
 * where offset 0 lies in that part. Two backings with the same file or device
 * and part share bytes where [start, start + len) of each meet.
 */
struct backing {
	bool shared;    /* false: memory of this backend alone (mem), aliasing nothing */
	bool device;    /* a character device: dev is its st_rdev; else a file: st_dev and st_ino */
	dev_t dev;      /* st_rdev, or the file's st_dev */
	ino_t ino;      /* the file's inode; 0 for a device */
	unsigned part;  /* uio: the map; else 0 */
	uint64_t start; /* offset 0 in the part: the file offset (file, pci's resourceN, a
			 * devmem stand-in), the physical address (/dev/mem), or the offset in
			 * the map (uio) */
};

struct backend {
	const struct backend_ops *ops;
	const char *type; /* "mem", "file", "devmem", "pci", "uio", "sim" */
	uint64_t len;     /* bytes exposed: exactly the configured size, never page padding */
	uint64_t addr;    /* absolute device address of offset 0; alignment is judged on it */
	uint8_t *base;    /* offset 0 in our address space (memory-mapped backends; else NULL) */
	void *map;        /* the whole mapping, page-aligned */
	size_t map_len;
	int irq_fd; /* -1, or an fd whose 4-byte reads count interrupts (UIO's, or as UIO's) */
	/* -1, or the memory behind map when it is the backend's own (mem: a memfd): what a
	 * restart hands the successor, so that the contents survive as a device's would. */
	int memory_fd;
	/*
	 * -1, or the PCI config space of a device bound to uio_pci_generic: its handler masks
	 * INTx (the command register's Interrupt Disable bit) and it has no irqcontrol, so the
	 * interrupt is re-enabled there, not by a write to irq_fd.
	 */
	int intx_fd;
	struct backing backing;
};

/*
 * Opens the backend spec names, of any type. Returns 0 and *out, or a negative
 * errno with a message for the operator in err.
 */
int backend_open(const struct region_spec *spec, struct backend **out, char *err, size_t errlen);

/*
 * The same for a region with a register map (map, NULL for none; it must outlive the backend):
 * a sim backend is built from it. Other types do not look at it.
 */
int backend_open_map(const struct region_spec *spec, const struct regmap *map, struct backend **out,
		     char *err, size_t errlen);

/*
 * Re-enables b's interrupt after one arrived (IrqAck): the backend's own reenable_irq, or
 * the Interrupt Disable bit cleared in intx_fd's PCI config space, or UIO's write of 1 to
 * irq_fd. 0 or -EIO.
 */
int backend_irq_ack(const struct backend *b);

/* Closes b; accepts NULL. */
void backend_close(struct backend *b);

/*
 * Where the backend spec names would be and how long, without mapping it or
 * opening the device (for --check-config): the spec is checked and the file
 * or device stat(2)ed as backend_open() would open it; sysfs is read for pci
 * and uio. Returns 0, or a negative errno with a message for the operator in err.
 */
int backend_locate(const struct region_spec *spec, struct backing *where, uint64_t *len, char *err,
		   size_t errlen);

/*
 * Do len_a bytes from a and len_b bytes from b share any byte? True, with the
 * first shared byte as an offset into each and how many in *out; false for
 * different files, devices or parts, for ranges that only touch, and when
 * either is not shared.
 */
bool backing_overlap(const struct backing *a, uint64_t len_a, const struct backing *b,
		     uint64_t len_b, struct lease_overlap *out);

#endif
