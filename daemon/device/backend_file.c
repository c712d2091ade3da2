/*
 * A regular file mapped MAP_SHARED: stores reach the file, so tests and users
 * can inspect them. The byte offset need not be page- or width-aligned: we map
 * from the page below and add the remainder, so the absolute address of region
 * offset 0 is the file offset and alignment is judged on it.
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

#include "device/backend.h"

int
backend_file_open(const char *path, uint64_t offset, uint64_t size, struct backend **out, char *err,
		  size_t errlen)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	uint64_t page_off = offset % page;
	/* map_len = size + page_off must fit ssize_t; offset + size must not wrap. */
	if (size == 0 || size > (uint64_t)SSIZE_MAX - page_off || offset > UINT64_MAX - size ||
	    offset - page_off > (uint64_t)INT64_MAX) {
		snprintf(err, errlen, "size 0x%llx at offset 0x%llx does not fit a mapping",
			 (unsigned long long)size, (unsigned long long)offset);
		return -EINVAL;
	}
	int fd = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		int rc = -errno;
		snprintf(err, errlen, "open %s: %s", path, strerror(-rc));
		return rc;
	}
	int rc;
	struct stat st;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		snprintf(err, errlen, "stat %s: %s", path, strerror(-rc));
		goto err_close_fd;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		snprintf(err, errlen, "%s is not a regular file", path);
		goto err_close_fd;
	}
	/* Touching a page past EOF raises SIGBUS: refuse a file shorter than the region. */
	if ((uint64_t)st.st_size < offset + size) {
		rc = -EINVAL;
		snprintf(err, errlen,
			 "%s has %lld bytes, region needs %llu (offset 0x%llx + size 0x%llx)", path,
			 (long long)st.st_size, (unsigned long long)offset + size,
			 (unsigned long long)offset, (unsigned long long)size);
		goto err_close_fd;
	}
	struct backend *b;
	rc = backend_map(fd, "file", offset, size, offset, &b);
	if (rc < 0) {
		snprintf(err, errlen, "mmap %s: %s", path, strerror(-rc));
		goto err_close_fd;
	}
	/* The mapping keeps the file; the fd is no longer needed. */
	close(fd);
	*out = b;
	return 0;

err_close_fd:
	close(fd);
	return rc;
}
