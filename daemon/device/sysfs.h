/*
 * Small sysfs reads for the hardware backends. The root is a parameter
 * everywhere, so tests point it at a stand-in tree.
 */
#ifndef MMIOD_SYSFS_H
#define MMIOD_SYSFS_H

#include <stddef.h>
#include <stdint.h>

/*
 * Formats a path into buf. Returns 0, or -ENAMETOOLONG if it does not fit
 * (buf then holds a truncated copy, fit for a message only).
 */
int sysfs_path(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * Reads all of the small file path into buf (size bytes including the NUL).
 * Returns the length read, -errno of open/read, or -EFBIG if the file holds
 * size bytes or more. Blocking; sysfs attributes answer at once.
 */
int sysfs_read_text(const char *path, char *buf, size_t size);

/*
 * Reads a one-line number ("0x1000\n", "4096") as sysfs prints it. Returns 0,
 * -errno of the read, or -EINVAL if the file holds anything else.
 */
int sysfs_read_u64(const char *path, uint64_t *out);

#endif
