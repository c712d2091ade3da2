/*
 * A PCI memory BAR through sysfs: <sysfs>/bus/pci/devices/<device>/resource<N>
 * mapped shared. The BAR's bus address and size come from the device's
 * "resource" file, so alignment is judged on the bus address, and offset and
 * size are checked against the BAR before anything is mapped.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "config/region_spec.h"
#include "device/backend_type.h"
#include "device/mapping.h"
#include "device/sysfs.h"
#include "parse.h"

#define PCI_DEFAULT_SYSFS "/sys"
/* As the kernel's include/linux/ioport.h defines them. */
#define IORESOURCE_IO  0x100
#define IORESOURCE_MEM 0x200

struct bar_info {
	uint64_t start;
	uint64_t size;
	uint64_t flags;
};

/* Parses "0xSTART 0xEND 0xFLAGS" (as the kernel prints it) into three numbers. */
static int
parse_resource_line(char *line, uint64_t v[3])
{
	char *save = NULL;
	char *tok = strtok_r(line, " \t", &save);
	for (int i = 0; i < 3; i++) {
		if (!tok || parse_u64(tok, &v[i]) < 0) {
			return -EINVAL;
		}
		tok = strtok_r(NULL, " \t", &save);
	}
	return tok ? -EINVAL : 0;
}

/*
 * Reads BAR bar of device from the device's resource file: its bus address,
 * size and flags. Refuses a BAR that does not exist or is not memory. Returns
 * 0, or a negative errno with the reason in err.
 */
static int
read_bar(const char *dir, const char *device, unsigned bar, struct bar_info *out, char *err,
	 size_t errlen)
{
	char path[PATH_MAX];
	char text[4096];
	int rc = sysfs_path(path, sizeof(path), "%s/resource", dir);
	if (rc == 0) {
		rc = sysfs_read_text(path, text, sizeof(text));
	}
	if (rc < 0) {
		snprintf(err, errlen, "read %s: %s%s", path, strerror(-rc),
			 rc == -ENOENT ? " (no such PCI device? 'lspci -D' lists them)" : "");
		return rc;
	}
	char *save = NULL;
	char *line = strtok_r(text, "\n", &save);
	for (unsigned i = 0; line && i < bar; i++) {
		line = strtok_r(NULL, "\n", &save);
	}
	if (!line) {
		snprintf(err, errlen, "%s has no line for BAR %u", path, bar);
		return -ENODEV;
	}
	uint64_t v[3];
	if (parse_resource_line(line, v) < 0 || v[1] < v[0] || (v[0] == 0 && v[1] == UINT64_MAX)) {
		snprintf(err, errlen, "%s: line %u is not \"0xSTART 0xEND 0xFLAGS\"", path,
			 bar + 1);
		return -EINVAL;
	}
	if (v[0] == 0 && v[1] == 0) {
		snprintf(err, errlen,
			 "PCI device %s has no BAR %u (not implemented, or the upper half of a "
			 "64-bit BAR)",
			 device, bar);
		return -ENODEV;
	}
	if (v[2] & IORESOURCE_IO) {
		snprintf(err, errlen,
			 "BAR %u of %s is an I/O-port BAR (flags 0x%llx): only memory BARs can be "
			 "mapped",
			 bar, device, (unsigned long long)v[2]);
		return -ENOTSUP;
	}
	if (!(v[2] & IORESOURCE_MEM)) {
		snprintf(err, errlen, "BAR %u of %s is not a memory BAR (flags 0x%llx)", bar,
			 device, (unsigned long long)v[2]);
		return -ENOTSUP;
	}
	*out = (struct bar_info){.start = v[0], .size = v[1] - v[0] + 1, .flags = v[2]};
	return 0;
}

/* map_path()'s failure in pci's words. */
static void
explain(const struct map_request *req, int rc, const struct map_failure *why, unsigned bar,
	uint64_t bar_size, char *err, size_t errlen)
{
	switch (why->step) {
	case MAP_OPEN:
		snprintf(err, errlen, "open %s: %s%s", req->path, strerror(-rc),
			 rc == -EACCES ? " (mmiod must start as root to map a BAR)" : "");
		break;
	case MAP_KIND:
	case MAP_SHORT:
		snprintf(
			err, errlen,
			"%s has 0x%llx bytes, BAR %u is 0x%llx bytes: not that BAR's resource file",
			req->path, (unsigned long long)why->file_size, bar,
			(unsigned long long)bar_size);
		break;
	case MAP_MMAP:
		snprintf(err, errlen, "mmap %s at offset 0x%llx: %s%s", req->path,
			 (unsigned long long)req->offset, strerror(-rc),
			 rc == -EPERM ? " (kernel lockdown forbids mapping PCI BARs)" : "");
		break;
	default:
		map_explain(req, rc, why, err, errlen);
	}
}

/* What to map for a spec: the request, and what explain() needs to say why it failed. */
struct pci_target {
	struct map_request req; /* req.path is path */
	char path[PATH_MAX];    /* <sysfs>/bus/pci/devices/<device>/resource<bar> */
	unsigned bar;
	uint64_t bar_size;
};

/* Reads the BAR spec names and fills in t. 0, or a negative errno with the reason in err. */
static int
prepare(const struct region_spec *spec, struct pci_target *t, char *err, size_t errlen)
{
	const char *sysfs = spec->sysfs ? spec->sysfs : PCI_DEFAULT_SYSFS;
	const char *device = spec->device;
	unsigned bar = spec->bar;
	uint64_t offset = spec->offset;
	if (!region_spec_pci_device_valid(device) || bar > 5) {
		snprintf(err, errlen, "'%s' BAR %u is not a PCI address DDDD:BB:DD.F and BAR 0..5",
			 device, bar);
		return -EINVAL;
	}
	/* sysfs spells the address in lower case. */
	char dev[16];
	for (size_t i = 0; i <= strlen(device); i++) {
		dev[i] = (char)tolower((unsigned char)device[i]);
	}
	char dir[PATH_MAX];
	if (sysfs_path(dir, sizeof(dir), "%s/bus/pci/devices/%s", sysfs, dev) < 0) {
		snprintf(err, errlen, "sysfs path for %s is too long", dev);
		return -ENAMETOOLONG;
	}
	struct bar_info info;
	int rc = read_bar(dir, dev, bar, &info, err, errlen);
	if (rc < 0) {
		return rc;
	}
	if (offset >= info.size || (spec->size && spec->size > info.size - offset)) {
		snprintf(err, errlen,
			 "offset 0x%llx size 0x%llx does not fit BAR %u of %s (0x%llx bytes)",
			 (unsigned long long)offset, (unsigned long long)spec->size, bar, dev,
			 (unsigned long long)info.size);
		return -EINVAL;
	}
	uint64_t size = spec->size ? spec->size : info.size - offset;
	if (!map_range_fits(offset, size)) {
		snprintf(err, errlen, "offset 0x%llx size 0x%llx does not fit a mapping",
			 (unsigned long long)offset, (unsigned long long)size);
		return -EINVAL;
	}
	if (sysfs_path(t->path, sizeof(t->path), "%s/resource%u", dir, bar) < 0) {
		snprintf(err, errlen, "sysfs path for %s is too long", dev);
		return -ENAMETOOLONG;
	}
	t->bar = bar;
	t->bar_size = info.size;
	t->req = (struct map_request){
		.type = "pci",
		.path = t->path,
		.offset = offset,
		.size = size,
		.addr = info.start + offset,
		/* sysfs sizes resourceN as the BAR: a shorter file is not that BAR's. */
		.file_min = info.size,
	};
	return 0;
}

static int
pci_open(const struct region_spec *spec, struct backend **out, char *err, size_t errlen)
{
	struct pci_target t;
	int rc = prepare(spec, &t, err, errlen);
	if (rc < 0) {
		return rc;
	}
	struct map_failure why;
	rc = map_path(&t.req, out, &why);
	if (rc < 0) {
		explain(&t.req, rc, &why, t.bar, t.bar_size, err, errlen);
	}
	return rc;
}

/* The BAR's resourceN file: the same BAR twice is the same file, by any path. */
static int
pci_locate(const struct region_spec *spec, struct backing *where, uint64_t *len, char *err,
	   size_t errlen)
{
	struct pci_target t;
	int rc = prepare(spec, &t, err, errlen);
	if (rc < 0) {
		return rc;
	}
	struct map_failure why;
	rc = map_locate(&t.req, where, &why);
	if (rc < 0) {
		explain(&t.req, rc, &why, t.bar, t.bar_size, err, errlen);
		return rc;
	}
	*len = t.req.size;
	return 0;
}

const struct backend_type backend_type_pci = {"pci", pci_open, pci_locate, NULL};
