/*
 * A memory map of a UIO device: map M of /dev/uioN, found by device name or
 * number under <sysfs>/class/uio. The kernel maps map M at file offset
 * M * pagesize, from the page holding its addr; the device's registers start
 * 'offset' bytes into that page. Optionally the device stays open for
 * interrupt counts (b->irq_fd); a device of uio_pci_generic also keeps its PCI
 * config space open (b->intx_fd), where its interrupt is re-enabled.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/region_spec.h"
#include "device/backend_type.h"
#include "device/mapping.h"
#include "device/sysfs.h"

#define UIO_DEFAULT_SYSFS "/sys"
#define UIO_DEFAULT_DEV   "/dev"

/* One memory map as sysfs describes it. */
struct uio_map {
	uint64_t addr;   /* physical address; the kernel maps from its page */
	uint64_t size;   /* bytes the kernel lets us map, counted from that page */
	uint64_t offset; /* where the registers start inside the first page */
};

/* Appends " uioN 'name'" to list (for messages), silently truncating. */
static void
list_append(char *list, size_t len, const char *device, const char *name)
{
	size_t n = strlen(list);
	if (n + 1 < len) {
		/* Truncation only shortens a message. */
		if (snprintf(list + n, len - n, "%s%s '%s'", n ? ", " : "", device, name) < 0) {
			list[n] = '\0';
		}
	}
}

/*
 * Finds the one UIO device whose sysfs name is name; its uioN goes to device.
 * Returns 0, -ENOENT (none: the message lists the names there are),
 * -ENOTUNIQ (several: the message lists them) or the error of reading the
 * class directory, with the reason in err.
 */
static int
find_by_name(const char *sysfs, const char *name, char *device, size_t devlen, char *err,
	     size_t errlen)
{
	char dir[PATH_MAX];
	if (sysfs_path(dir, sizeof(dir), "%s/class/uio", sysfs) < 0) {
		snprintf(err, errlen, "sysfs path %s is too long", sysfs);
		return -ENAMETOOLONG;
	}
	DIR *d = opendir(dir);
	if (!d) {
		int rc = -errno;
		snprintf(err, errlen, "open %s: %s%s", dir, strerror(-rc),
			 rc == -ENOENT ? " (no UIO devices: CONFIG_UIO and a bound UIO driver?)"
				       : "");
		return rc;
	}
	char found[256] = "";
	char matches[256] = "";
	unsigned n_matches = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!region_spec_uio_device_valid(e->d_name)) {
			continue;
		}
		char path[PATH_MAX];
		char text[256];
		if (sysfs_path(path, sizeof(path), "%s/%s/name", dir, e->d_name) < 0 ||
		    sysfs_read_text(path, text, sizeof(text)) < 0) {
			continue;
		}
		text[strcspn(text, "\n")] = '\0';
		list_append(found, sizeof(found), e->d_name, text);
		if (strcmp(text, name) == 0) {
			/* It fits: region_spec_uio_device_valid() allows 9 digits. */
			size_t n = strlen(e->d_name);
			if (n_matches++ == 0 && n < devlen) {
				memcpy(device, e->d_name, n + 1);
			}
			list_append(matches, sizeof(matches), e->d_name, text);
		}
	}
	closedir(d);
	if (n_matches == 0) {
		snprintf(err, errlen, "no UIO device named '%s' in %s (found: %s)", name, dir,
			 found[0] ? found : "none");
		return -ENOENT;
	}
	if (n_matches > 1) {
		snprintf(err, errlen,
			 "%u UIO devices are named '%s' (%s): give device=uioN instead", n_matches,
			 name, matches);
		return -ENOTUNIQ;
	}
	return 0;
}

/* Reads maps/mapM of device into m. Returns 0, or a negative errno with the reason in err. */
static int
read_map(const char *sysfs, const char *device, unsigned map, struct uio_map *m, char *err,
	 size_t errlen)
{
	char dir[PATH_MAX];
	if (sysfs_path(dir, sizeof(dir), "%s/class/uio/%s", sysfs, device) < 0) {
		snprintf(err, errlen, "sysfs path %s is too long", sysfs);
		return -ENAMETOOLONG;
	}
	struct stat st;
	if (stat(dir, &st) < 0) {
		int rc = -errno;
		snprintf(err, errlen, "no UIO device %s: %s: %s", device, dir, strerror(-rc));
		return rc;
	}
	static const char *const files[] = {"addr", "size", "offset"};
	uint64_t *dst[] = {&m->addr, &m->size, &m->offset};
	for (unsigned i = 0; i < 3; i++) {
		char path[PATH_MAX];
		int rc = sysfs_path(path, sizeof(path), "%s/maps/map%u/%s", dir, map, files[i]);
		if (rc == 0) {
			rc = sysfs_read_u64(path, dst[i]);
		}
		if (rc == -ENOENT) {
			snprintf(err, errlen, "%s has no map %u (%s: %s)", device, map, path,
				 strerror(-rc));
			return rc;
		}
		if (rc < 0) {
			snprintf(err, errlen, "read %s: %s", path,
				 rc == -EINVAL ? "not a number" : strerror(-rc));
			return rc;
		}
	}
	return 0;
}

/* map_path()'s failure in uio's words. */
static void
explain(const struct map_request *req, int rc, const struct map_failure *why, unsigned index,
	char *err, size_t errlen)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	switch (why->step) {
	case MAP_SHORT:
		snprintf(err, errlen, "%s has 0x%llx bytes, map %u needs 0x%llx", req->path,
			 (unsigned long long)why->file_size, index,
			 (unsigned long long)req->offset + req->size);
		break;
	case MAP_MMAP: {
		/* The whole pages the kernel maps. */
		size_t map_len =
			(size_t)((req->offset % page + req->size + page - 1) / page * page);
		snprintf(err, errlen, "mmap %s map %u (0x%zx bytes): %s%s", req->path, index,
			 map_len, strerror(-rc),
			 rc == -EINVAL || rc == -ENODEV ? " (the kernel maps whole pages of a map "
							  "whose addr is page-aligned)"
							: "");
		break;
	}
	default:
		map_explain(req, rc, why, err, errlen);
	}
}

/* What to map for a spec: the request and the device file it names. */
struct uio_target {
	struct map_request req; /* req.path is path */
	char path[PATH_MAX];    /* <dev>/uioN */
	char device[32];        /* uioN */
};

/* Finds the device and map spec names, and fills in t. 0, or a negative errno and err. */
static int
prepare(const struct region_spec *spec, struct uio_target *t, char *err, size_t errlen)
{
	const char *sysfs = spec->sysfs ? spec->sysfs : UIO_DEFAULT_SYSFS;
	const char *dev_dir = spec->dev_dir ? spec->dev_dir : UIO_DEFAULT_DEV;
	char *device = t->device;
	int rc;
	if (spec->device) {
		if (!region_spec_uio_device_valid(spec->device)) {
			snprintf(err, errlen, "device '%s' is not uioN", spec->device);
			return -EINVAL;
		}
		snprintf(device, sizeof(t->device), "%s", spec->device);
	} else if (!spec->uio_name) {
		snprintf(err, errlen, "type=uio needs a name or a device");
		return -EINVAL;
	} else if ((rc = find_by_name(sysfs, spec->uio_name, device, sizeof(t->device), err,
				      errlen)) < 0) {
		return rc;
	}
	if (spec->map >= MMIO_UIO_MAX_MAPS) {
		snprintf(err, errlen, "map %u is not 0..%d", spec->map, MMIO_UIO_MAX_MAPS - 1);
		return -EINVAL;
	}
	struct uio_map m = {0};
	if ((rc = read_map(sysfs, device, spec->map, &m, err, errlen)) < 0) {
		return rc;
	}
	/*
	 * The kernel maps at most size bytes from the page of addr, and the registers
	 * start offset bytes into it (uio_pdrv_genirq: addr is that page, size counts
	 * offset and is rounded up to pages). So the region runs from offset to the end
	 * of the map, and its physical address is addr rounded down to its page, plus
	 * offset.
	 */
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	if (m.offset >= page || m.size <= m.offset || m.size > (uint64_t)SSIZE_MAX - page) {
		snprintf(err, errlen, "%s map %u: offset 0x%llx size 0x%llx is not a mappable map",
			 device, spec->map, (unsigned long long)m.offset,
			 (unsigned long long)m.size);
		return -EINVAL;
	}
	uint64_t avail = m.size - m.offset;
	if (spec->size > avail) {
		snprintf(err, errlen, "size 0x%llx does not fit %s map %u (0x%llx bytes)",
			 (unsigned long long)spec->size, device, spec->map,
			 (unsigned long long)avail);
		return -EINVAL;
	}
	if (sysfs_path(t->path, sizeof(t->path), "%s/%s", dev_dir, device) < 0) {
		snprintf(err, errlen, "device path %s is too long", dev_dir);
		return -ENAMETOOLONG;
	}
	/* Map M is at file offset M pages; the registers start m.offset into it. */
	t->req = (struct map_request){
		.type = "uio",
		.path = t->path,
		.char_device_ok = true,
		.offset = (uint64_t)spec->map * page + m.offset,
		.size = spec->size ? spec->size : avail,
		.addr = m.addr / page * page + m.offset,
		/* Each map is a memory of its own, wherever its pages fall in the file. */
		.part = spec->map,
		.part_base = (uint64_t)spec->map * page,
	};
	return 0;
}

/*
 * For a device of uio_pci_generic, its PCI config space in b->intx_fd: that driver masks INTx
 * in its handler and has no irqcontrol (a write to /dev/uioN fails with ENOSYS), so
 * backend_irq_ack() clears the mask there. Any other driver: nothing to do. 0, or a negative
 * errno with the reason in err.
 */
static int
open_intx(const struct region_spec *spec, const char *device, struct backend *b, char *err,
	  size_t errlen)
{
	const char *sysfs = spec->sysfs ? spec->sysfs : UIO_DEFAULT_SYSFS;
	char path[PATH_MAX];
	char name[64];
	if (sysfs_path(path, sizeof(path), "%s/class/uio/%s/name", sysfs, device) < 0 ||
	    sysfs_read_text(path, name, sizeof(name)) < 0) {
		return 0;
	}
	name[strcspn(name, "\n")] = '\0';
	if (strcmp(name, "uio_pci_generic") != 0) {
		return 0;
	}
	if (sysfs_path(path, sizeof(path), "%s/class/uio/%s/device/config", sysfs, device) < 0) {
		snprintf(err, errlen, "sysfs path %s is too long", sysfs);
		return -ENAMETOOLONG;
	}
	b->intx_fd = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (b->intx_fd < 0) {
		int rc = -errno;
		snprintf(err, errlen,
			 "open %s (uio_pci_generic's interrupt is re-enabled there): %s", path,
			 strerror(-rc));
		return rc;
	}
	return 0;
}

static int
uio_open(const struct region_spec *spec, struct backend **out, char *err, size_t errlen)
{
	struct uio_target t;
	int rc = prepare(spec, &t, err, errlen);
	if (rc < 0) {
		return rc;
	}
	struct map_failure why;
	struct backend *b;
	if ((rc = map_path(&t.req, &b, &why)) < 0) {
		explain(&t.req, rc, &why, spec->map, err, errlen);
		return rc;
	}
	if (spec->irq) {
		const char *irq_path = spec->irq_dev ? spec->irq_dev : t.path;
		/* Nonblocking: the event loop waits for it; a read returns the count. */
		b->irq_fd = open(irq_path, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
		if (b->irq_fd < 0) {
			rc = -errno;
			snprintf(err, errlen, "open %s for interrupts: %s", irq_path,
				 strerror(-rc));
			b->ops->close(b);
			return rc;
		}
		/* irq_dev names another interrupt source: not the device's to re-enable. */
		if (!spec->irq_dev && (rc = open_intx(spec, t.device, b, err, errlen)) < 0) {
			b->ops->close(b);
			return rc;
		}
	}
	*out = b;
	return 0;
}

/* The device's map: the same map of the same device twice is the same memory. */
static int
uio_locate(const struct region_spec *spec, struct backing *where, uint64_t *len, char *err,
	   size_t errlen)
{
	struct uio_target t;
	int rc = prepare(spec, &t, err, errlen);
	if (rc < 0) {
		return rc;
	}
	struct map_failure why;
	rc = map_locate(&t.req, where, &why);
	if (rc < 0) {
		explain(&t.req, rc, &why, spec->map, err, errlen);
		return rc;
	}
	*len = t.req.size;
	return 0;
}

const struct backend_type backend_type_uio = {"uio", uio_open, uio_locate, NULL};
