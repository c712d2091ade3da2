/*
 * Physical memory through /dev/mem (or a stand-in file): the pages covering
 * [phys, phys + size) mapped shared and uncached (O_SYNC), exactly size bytes
 * exposed, alignment judged on the physical address. The kernel decides which
 * ranges it lets us map (CONFIG_STRICT_DEVMEM, lockdown); when it refuses,
 * mmiod does not start, and the message says why.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "config/region_spec.h"
#include "device/backend_type.h"
#include "device/mapping.h"

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

/* map_path()'s failure in devmem's words: what the operator can do about it. */
static void
explain(const struct map_request *req, int rc, const struct map_failure *why, bool is_default,
	char *err, size_t errlen)
{
	unsigned long long phys = req->offset;
	unsigned long long size = req->size;
	switch (why->step) {
	case MAP_OPEN:
		snprintf(err, errlen, "open %s: %s%s", req->path, strerror(-rc),
			 open_hint(-rc, is_default));
		break;
	case MAP_SHORT:
		snprintf(err, errlen,
			 "%s has 0x%llx bytes, the region needs 0x%llx (phys 0x%llx + size 0x%llx)",
			 req->path, (unsigned long long)why->file_size, phys + size, phys, size);
		break;
	case MAP_MMAP:
		snprintf(err, errlen, "mmap %s at 0x%llx (0x%llx bytes): %s%s", req->path, phys,
			 size, strerror(-rc),
			 rc == -EPERM || rc == -EINVAL
				 ? " (CONFIG_STRICT_DEVMEM or kernel lockdown forbids this range; "
				   "boot with iomem=relaxed or use a UIO/PCI backend)"
				 : "");
		break;
	default:
		map_explain(req, rc, why, err, errlen);
	}
}

/* The mapping spec asks for: 0, or -EINVAL with the reason in err. */
static int
prepare(const struct region_spec *spec, struct map_request *req, char *err, size_t errlen)
{
	uint64_t phys = spec->phys;
	uint64_t size = spec->size;
	if (size == 0 || phys > UINT64_MAX - size) {
		snprintf(err, errlen, "phys 0x%llx size 0x%llx: %s", (unsigned long long)phys,
			 (unsigned long long)size, size ? "the range wraps past 2^64" : "empty");
		return -EINVAL;
	}
	if (!map_range_fits(phys, size)) {
		snprintf(err, errlen, "phys 0x%llx size 0x%llx does not fit a mapping",
			 (unsigned long long)phys, (unsigned long long)size);
		return -EINVAL;
	}
	*req = (struct map_request){
		.type = "devmem",
		.path = spec->path ? spec->path : DEVMEM_DEFAULT_PATH,
		/* O_SYNC makes the kernel map the range uncached; it cannot be added after open. */
		.open_flags = O_SYNC,
		.char_device_ok = true,
		.offset = phys,
		.size = size,
		.addr = phys,
	};
	return 0;
}

static int
devmem_open(const struct region_spec *spec, struct backend **out, char *err, size_t errlen)
{
	struct map_request req;
	int rc = prepare(spec, &req, err, errlen);
	if (rc < 0) {
		return rc;
	}
	struct map_failure why;
	rc = map_path(&req, out, &why);
	if (rc < 0) {
		explain(&req, rc, &why, !spec->path, err, errlen);
	}
	return rc;
}

/* The physical range on /dev/mem (or the stand-in's file offsets). */
static int
devmem_locate(const struct region_spec *spec, struct backing *where, uint64_t *len, char *err,
	      size_t errlen)
{
	struct map_request req;
	int rc = prepare(spec, &req, err, errlen);
	if (rc < 0) {
		return rc;
	}
	struct map_failure why;
	rc = map_locate(&req, where, &why);
	if (rc < 0) {
		explain(&req, rc, &why, !spec->path, err, errlen);
		return rc;
	}
	*len = req.size;
	return 0;
}

const struct backend_type backend_type_devmem = {"devmem", devmem_open, devmem_locate, NULL};
