/*
 * Physical memory through /dev/mem (or a stand-in file): the pages covering
 * [phys, phys + size) mapped shared and uncached (O_SYNC), exactly size bytes
 * exposed, alignment judged on the physical address. The kernel decides which
 * ranges it lets us map (CONFIG_STRICT_DEVMEM, lockdown); when it refuses,
 * mmiod does not start, and the message says why.
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

#define DEVMEM_DEFAULT_PATH "/dev/mem"

/* Why open(2) of /dev/mem failed with errno e, beyond strerror. */
static const char *
open_hint(int e, bool is_default)
{
	switch (e) {
	case EPERM:
		/* Under systemd a device outside DeviceAllow= is refused the same way. */
		return is_default ? " (needs CAP_SYS_RAWIO, and kernel lockdown forbids /dev/mem)"
				  : " (the service's device policy, DeviceAllow=, may not list it)";
	case EACCES:
		return " (mmiod must start as root to map physical memory)";
	case ENOENT:
		return is_default ? " (the kernel was built without CONFIG_DEVMEM?)" : "";
	default:
		return "";
	}
}

int
backend_devmem_open(const char *path, uint64_t phys, uint64_t size, struct backend **out, char *err,
		    size_t errlen)
{
	bool is_default = !path;
	path = path ? path : DEVMEM_DEFAULT_PATH;
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	uint64_t page_off = phys % page;
	if (size == 0 || phys > UINT64_MAX - size) {
		snprintf(err, errlen, "phys 0x%llx size 0x%llx: %s", (unsigned long long)phys,
			 (unsigned long long)size, size ? "the range wraps past 2^64" : "empty");
		return -EINVAL;
	}
	/* map_len = size + page_off must fit ssize_t, the file offset must fit off_t. */
	if (size > (uint64_t)SSIZE_MAX - page_off || phys - page_off > (uint64_t)INT64_MAX) {
		snprintf(err, errlen, "phys 0x%llx size 0x%llx does not fit a mapping",
			 (unsigned long long)phys, (unsigned long long)size);
		return -EINVAL;
	}
	/* O_SYNC makes the kernel map the range uncached; it cannot be added after open. */
	int fd = open(path, O_RDWR | O_SYNC | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		int rc = -errno;
		snprintf(err, errlen, "open %s: %s%s", path, strerror(-rc),
			 open_hint(-rc, is_default));
		return rc;
	}
	int rc;
	struct stat st;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		snprintf(err, errlen, "stat %s: %s", path, strerror(-rc));
		goto err_close_fd;
	}
	if (!S_ISCHR(st.st_mode) && !S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		snprintf(err, errlen, "%s is neither a character device nor a regular file", path);
		goto err_close_fd;
	}
	/* A stand-in file: touching a page past its end raises SIGBUS, so refuse it now. */
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size < phys + size) {
		rc = -EINVAL;
		snprintf(err, errlen,
			 "%s has 0x%llx bytes, the region needs 0x%llx (phys 0x%llx + size 0x%llx)",
			 path, (unsigned long long)st.st_size, (unsigned long long)phys + size,
			 (unsigned long long)phys, (unsigned long long)size);
		goto err_close_fd;
	}
	struct backend *b;
	rc = backend_map(fd, "devmem", phys, size, phys, &b);
	if (rc < 0) {
		const char *hint = "";
		if (rc == -EPERM || rc == -EINVAL) {
			hint = " (CONFIG_STRICT_DEVMEM or kernel lockdown forbids this range; "
			       "boot with iomem=relaxed or use a UIO/PCI backend)";
		}
		snprintf(err, errlen, "mmap %s at 0x%llx (0x%llx bytes): %s%s", path,
			 (unsigned long long)phys, (unsigned long long)size, strerror(-rc), hint);
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
