/*
 * The mapped accessors every backend but the test fakes uses, and map_path():
 * open, fstat, the size check, mmap of an offset that need not be page-aligned
 * (the mapping starts at the page below; offset 0 of the backend is the
 * offset), close; the backing (what was mapped) from the fstat. map_locate()
 * is the same without open or mmap. The backends above keep only their own
 * checks and words.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "device/arch.h"
#include "device/mapping.h"
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
	wire_close_fd(&b->memory_fd);
	wire_close_fd(&b->intx_fd);
	free(b);
}

static const struct backend_ops mapped_ops = {
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
		b->ops = &mapped_ops;
		b->type = type;
		b->irq_fd = -1;
		b->memory_fd = -1;
		b->intx_fd = -1;
	}
	return b;
}

static uint64_t
page_size(void)
{
	return (uint64_t)sysconf(_SC_PAGESIZE);
}

bool
map_range_fits(uint64_t offset, uint64_t size)
{
	uint64_t page_off = offset % page_size();
	return size <= (uint64_t)SSIZE_MAX - page_off && offset - page_off <= (uint64_t)INT64_MAX;
}

/* Is st something req may map, and all of it there? 0, or a negative errno and why->step. */
static int
check_stat(const struct stat *st, const struct map_request *req, struct map_failure *why)
{
	why->file_size = (uint64_t)st->st_size;
	why->step = MAP_KIND;
	if (!S_ISREG(st->st_mode) && !(req->char_device_ok && S_ISCHR(st->st_mode))) {
		return -EINVAL;
	}
	/* A device's size is the kernel's business: it refuses the mmap itself. */
	why->step = MAP_SHORT;
	if (S_ISREG(st->st_mode) &&
	    (why->file_size < req->offset + req->size || why->file_size < req->file_min)) {
		return -EINVAL;
	}
	return 0;
}

/* Where req's bytes are in the file or device st describes (which check_stat() accepted). */
static struct backing
backing_of(const struct stat *st, const struct map_request *req)
{
	bool device = S_ISCHR(st->st_mode);
	return (struct backing){
		.shared = true,
		.device = device,
		.dev = device ? st->st_rdev : st->st_dev,
		.ino = device ? 0 : st->st_ino,
		.part = req->part,
		.start = req->offset - req->part_base,
	};
}

/* Maps the request's range of fd into a new backend. 0, -ENOMEM or mmap's negative errno. */
static int
map_fd(int fd, const struct map_request *req, struct backend **out)
{
	uint64_t page_off = req->offset % page_size();
	struct backend *b = backend_alloc(req->type);
	if (!b) {
		return -ENOMEM;
	}
	size_t map_len = (size_t)(req->size + page_off);
	void *map = mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
			 (off_t)(req->offset - page_off));
	if (map == MAP_FAILED) {
		int rc = -errno;
		free(b);
		return rc;
	}
	b->len = req->size;
	b->map = map;
	b->map_len = map_len;
	b->base = (uint8_t *)map + page_off;
	b->addr = req->addr;
	*out = b;
	return 0;
}

int
map_path(const struct map_request *req, struct backend **out, struct map_failure *why)
{
	*why = (struct map_failure){.step = MAP_OPEN};
	int fd = open(req->path, O_RDWR | O_CLOEXEC | O_NOCTTY | req->open_flags);
	if (fd < 0) {
		return -errno;
	}
	struct stat st;
	why->step = MAP_STAT;
	int rc = fstat(fd, &st) < 0 ? -errno : check_stat(&st, req, why);
	if (rc == 0) {
		why->step = MAP_MMAP;
		rc = map_fd(fd, req, out);
	}
	if (rc == 0) {
		(*out)->backing = backing_of(&st, req);
	}
	/* The mapping keeps the file; the fd is no longer needed. */
	close(fd);
	return rc;
}

int
map_locate(const struct map_request *req, struct backing *where, struct map_failure *why)
{
	*why = (struct map_failure){.step = MAP_STAT};
	struct stat st;
	if (stat(req->path, &st) < 0) {
		return -errno;
	}
	int rc = check_stat(&st, req, why);
	if (rc == 0) {
		*where = backing_of(&st, req);
	}
	return rc;
}

void
map_explain(const struct map_request *req, int rc, const struct map_failure *why, char *err,
	    size_t errlen)
{
	switch (why->step) {
	case MAP_OPEN:
		snprintf(err, errlen, "open %s: %s", req->path, strerror(-rc));
		break;
	case MAP_STAT:
		snprintf(err, errlen, "%s: %s", req->path, strerror(-rc));
		break;
	case MAP_KIND:
		snprintf(err, errlen,
			 req->char_device_ok ? "%s is neither a character device nor a regular file"
					     : "%s is not a regular file",
			 req->path);
		break;
	case MAP_SHORT:
		snprintf(err, errlen,
			 "%s has %lld bytes, region needs %llu (offset 0x%llx + size 0x%llx)",
			 req->path, (long long)why->file_size,
			 (unsigned long long)req->offset + req->size,
			 (unsigned long long)req->offset, (unsigned long long)req->size);
		break;
	case MAP_MMAP:
		snprintf(err, errlen, "mmap %s: %s", req->path, strerror(-rc));
		break;
	}
}
