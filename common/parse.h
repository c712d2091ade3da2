/* Number parsing shared by mmiod (options, region specs, config, sysfs) and mmioctl's arguments. */
#ifndef MMIO_PARSE_H
#define MMIO_PARSE_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Parses all of text as a decimal or 0x-hex unsigned 64-bit number. Returns 0,
 * -EINVAL (empty, sign, junk, or a decimal with a leading zero) or -ERANGE
 * (does not fit 64 bits).
 *
 * A leading zero is refused, not read: C, strtoul(..., 0) and busybox devmem
 * read 010 as octal 8, libconfig and many tools as decimal 10, and a hexdump
 * offset (00000010) is hex. "0" itself is fine, and so are zeros after 0x
 * (0x0010). The config file's integer literals follow the same rule.
 */
int parse_u64(const char *text, uint64_t *out);

/* Whether text starts with a zero followed by a digit: what parse_u64 refuses as ambiguous. */
bool parse_leading_zero(const char *text);

#endif
