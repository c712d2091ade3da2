/* Number parsing shared by mmiod (options, region specs, config, sysfs) and mmioctl's arguments. */
#ifndef MMIO_PARSE_H
#define MMIO_PARSE_H

#include <stdint.h>

/*
 * Parses all of text as a decimal or 0x-hex unsigned 64-bit number. Returns 0,
 * -EINVAL (empty, sign, junk) or -ERANGE (does not fit 64 bits).
 */
int parse_u64(const char *text, uint64_t *out);

#endif
