/* Text from the other side of the socket, made safe to print. */
#ifndef MMIO_TEXT_H
#define MMIO_TEXT_H

#include <stddef.h>

/*
 * Copies src into dst (cap bytes, at least 1), cut to fit, with anything but
 * printable ASCII replaced by '?': the copy is valid UTF-8 for strict proto3
 * decoders and carries no terminal escapes. Returns dst.
 */
char *text_copy_printable(char *dst, size_t cap, const char *src);

#endif
