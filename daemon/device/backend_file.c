/*
 * A regular file mapped MAP_SHARED: stores reach the file, so tests and users
 * can inspect them. The byte offset need not be page- or width-aligned
 * (map_path() maps from the page below), so the absolute address of region
 * offset 0 is the file offset and alignment is judged on it.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>

#include "config/region_spec.h"
#include "device/backend_type.h"
#include "device/mapping.h"

/* The mapping spec asks for: 0, or -EINVAL with the reason in err. */
static int
prepare(const struct region_spec *spec, struct map_request *req, char *err, size_t errlen)
{
	uint64_t offset = spec->offset;
	uint64_t size = spec->size;
	/* offset + size must not wrap: the file is checked to hold that many bytes. */
	if (size == 0 || offset > UINT64_MAX - size || !map_range_fits(offset, size)) {
		snprintf(err, errlen, "size 0x%llx at offset 0x%llx does not fit a mapping",
			 (unsigned long long)size, (unsigned long long)offset);
		return -EINVAL;
	}
	*req = (struct map_request){
		.type = "file",
		.path = spec->path,
		.offset = offset,
		.size = size,
		.addr = offset,
	};
	return 0;
}

static int
file_open(const struct region_spec *spec, struct backend **out, char *err, size_t errlen)
{
	struct map_request req;
	int rc = prepare(spec, &req, err, errlen);
	if (rc < 0) {
		return rc;
	}
	struct map_failure why;
	rc = map_path(&req, out, &why);
	if (rc < 0) {
		map_explain(&req, rc, &why, err, errlen);
	}
	return rc;
}

static int
file_locate(const struct region_spec *spec, struct backing *where, uint64_t *len, char *err,
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
		map_explain(&req, rc, &why, err, errlen);
		return rc;
	}
	*len = req.size;
	return 0;
}

const struct backend_type backend_type_file = {"file", file_open, file_locate, NULL};
