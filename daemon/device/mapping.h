/*
 * What the memory-mapped backends share, below them all: a backend whose
 * accessors reach a window mapped at b->base, map_path(), the one place
 * that opens a file or device, checks it, maps part of it and closes it again,
 * and map_locate(), the same checks on stat(2) alone.
 */
#ifndef MMIOD_MAPPING_H
#define MMIOD_MAPPING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "device/backend.h"

/*
 * A zeroed backend of type with the mapped accessors and no irq fd; NULL only
 * for lack of memory. Its close unmaps b->map (if set), closes b->irq_fd (if
 * open) and frees it.
 */
struct backend *backend_alloc(const char *type);

/*
 * True if size bytes from file offset offset fit one mapping: it starts at the
 * page below offset, so its length must fit ssize_t and that page's offset off_t.
 */
bool map_range_fits(uint64_t offset, uint64_t size);

/* What to map and how. */
struct map_request {
	const char *type;    /* the backend's type */
	const char *path;    /* the file or device */
	int open_flags;      /* besides O_RDWR | O_CLOEXEC | O_NOCTTY (devmem: O_SYNC) */
	bool char_device_ok; /* a character device too, not only a regular file */
	uint64_t offset;     /* file offset of the backend's offset 0; need not be page-aligned */
	uint64_t size;       /* bytes exposed; the caller checked map_range_fits(offset, size) */
	uint64_t addr;       /* absolute address of offset 0; alignment is judged on it */
	uint64_t file_min;   /* a regular file must also hold this many bytes (pci: the BAR) */
	unsigned part;       /* uio: the map, a memory of its own; else 0 (struct backing) */
	uint64_t part_base;  /* the file offset where that part starts (uio: map pages); else 0 */
};

/* Which step of map_path() failed. */
enum map_step {
	MAP_OPEN,  /* open(2) */
	MAP_STAT,  /* fstat(2) */
	MAP_KIND,  /* neither a regular file nor (if allowed) a character device: -EINVAL */
	MAP_SHORT, /* a regular file shorter than offset + size or file_min: -EINVAL */
	MAP_MMAP,  /* mmap(2), or no memory for the backend */
};

struct map_failure {
	enum map_step step;
	uint64_t file_size; /* from MAP_KIND on: the file's size as fstat(2) saw it */
};

/*
 * Opens req->path, checks what it is (touching a page past the end of a
 * regular file raises SIGBUS, so one too short is refused now), maps
 * req->size bytes from req->offset shared, and closes it again: the mapping
 * keeps the file. (*out)->backing says what was mapped (fstat(2) of the open
 * file). Returns 0 and *out, or a negative errno with the failed step in *why,
 * for the backend to explain: in map_explain()'s words, or its own.
 */
int map_path(const struct map_request *req, struct backend **out, struct map_failure *why);

/*
 * What map_path() would map, from stat(2) of req->path (no open, no mapping),
 * with the same checks: 0 and *where, or a negative errno with the failed step
 * in *why (MAP_STAT for stat itself; never MAP_OPEN or MAP_MMAP).
 */
int map_locate(const struct map_request *req, struct backing *where, struct map_failure *why);

/* The plain message for a failure of map_path() that returned rc. */
void map_explain(const struct map_request *req, int rc, const struct map_failure *why, char *err,
		 size_t errlen);

#endif
