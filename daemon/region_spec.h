/* What one region is made of, as written on the command line (and later in the config). */
#ifndef MMIOD_REGION_SPEC_H
#define MMIOD_REGION_SPEC_H

#include <stddef.h>
#include <stdint.h>

#include "mmio_limits.h"

struct region_spec {
	char name[MMIO_MAX_NAME + 1];
	char type[16];
	char *path; /* file backend; owned */
	uint64_t size;
	uint64_t offset;
};

/*
 * Parses "NAME,type=mem,size=N" or "NAME,type=file,path=P,size=N[,offset=O]"
 * (numbers decimal or 0x hex). Returns 0, or -EINVAL with the reason in err.
 * Call region_spec_finish() afterwards either way.
 */
int region_spec_parse(const char *text, struct region_spec *spec, char *err, size_t errlen);

/* Checks a filled-in spec (from either source): 0, or -EINVAL with the reason in err. */
int region_spec_check(const struct region_spec *spec, char *err, size_t errlen);

/* Frees what spec owns. */
void region_spec_finish(struct region_spec *spec);

#endif
