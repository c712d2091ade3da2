/* What one region is made of, as written on the command line or in the config file. */
#ifndef MMIOD_REGION_SPEC_H
#define MMIOD_REGION_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmio_limits.h"

/* The keys an operator wrote, as bits of region_spec.keys. */
enum region_key {
	REGION_KEY_TYPE = 1u << 0,
	REGION_KEY_PATH = 1u << 1,
	REGION_KEY_SIZE = 1u << 2,
	REGION_KEY_OFFSET = 1u << 3,
	REGION_KEY_PHYS = 1u << 4,
	REGION_KEY_DEVICE = 1u << 5,
	REGION_KEY_UIO_NAME = 1u << 6,
	REGION_KEY_BAR = 1u << 7,
	REGION_KEY_MAP = 1u << 8,
	REGION_KEY_SYSFS = 1u << 9,
	REGION_KEY_DEV = 1u << 10,
	REGION_KEY_IRQ = 1u << 11,
	REGION_KEY_IRQ_DEV = 1u << 12,
};

struct region_spec {
	char name[MMIO_MAX_NAME + 1];
	char type[16];   /* mem, file, devmem, pci, uio, sim */
	unsigned keys;   /* REGION_KEY_* given; region_spec_check judges them per type */
	char *path;      /* file: the file; devmem: instead of /dev/mem; owned */
	uint64_t size;   /* bytes; 0 for pci and uio: the BAR's or map's size (less offset) */
	uint64_t offset; /* file: file offset; pci: offset into the BAR */
	uint64_t phys;   /* devmem: physical address of offset 0 */
	char *device;    /* pci: DDDD:BB:DD.F (BB:DD.F given: domain 0000); uio: uioN; owned */
	char *uio_name;  /* uio: the device whose sysfs name is this; owned */
	unsigned bar;    /* pci: 0..5 */
	unsigned map;    /* uio: 0..MMIO_UIO_MAX_MAPS-1 */
	char *sysfs;     /* pci, uio: instead of /sys; owned */
	char *dev_dir;   /* uio: instead of /dev; owned */
	bool irq;        /* uio: keep the device open for interrupt counts */
	char *irq_dev;   /* uio with irq: instead of <dev>/uioN; owned */
	char *regmap;    /* config file's map = "PATH": the register map file, any type; owned */
	char *model; /* sim: config file's model = "PATH", its Lua model (mmiod-model(5)); owned */
	/* mem: a predecessor's memory to serve (a restart), its size exactly size; else none. */
	bool has_memory;
	int memory_fd; /* with has_memory; taken by the backend that opens it */
};

/* The kernel's MAX_UIO_MAPS. */
#define MMIO_UIO_MAX_MAPS 5

/*
 * Parses "NAME,type=T,key=value,..." (numbers decimal or 0x hex):
 *   type=mem,size=N
 *   type=file,path=P,size=N[,offset=O]
 *   type=devmem,phys=A,size=N[,path=/dev/mem]
 *   type=pci,device=DDDD:BB:DD.F,bar=N[,offset=O][,size=N][,sysfs=/sys]
 *   type=uio,name=UIONAME|device=uioN,map=M[,size=N][,sysfs=/sys][,dev=/dev]
 *            [,irq=yes[,irq_dev=PATH]]      (uio_name= is the same as name=)
 * Returns 0, -EINVAL with the reason in err, or -ENOMEM.
 * Call region_spec_finish() afterwards either way.
 */
int region_spec_parse(const char *text, struct region_spec *spec, char *err, size_t errlen);

/*
 * Checks a filled-in spec (from either source): the keys in spec->keys (and
 * any string set) are allowed for the type, the required ones are there, and
 * their values are well-formed. A PCI device in lspci's short form BB:DD.F
 * becomes 0000:BB:DD.F. 0, or -EINVAL (-ENOMEM) with the reason in err.
 */
int region_spec_check(struct region_spec *spec, char *err, size_t errlen);

/* The REGION_KEY_* bit of a key named as in the config file ("uio_name"; "uio_map" and an
 * integer "map" are REGION_KEY_MAP), or 0. */
unsigned region_spec_key(const char *name);

/* True if text is a PCI address DDDD:BB:DD.F (hex; device <= 0x1f, function 0-7). */
bool region_spec_pci_device_valid(const char *text);

/* True if text is uioN (N decimal, no leading zero). */
bool region_spec_uio_device_valid(const char *text);

/* Frees what spec owns. */
void region_spec_finish(struct region_spec *spec);

#endif
