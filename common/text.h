/* Text from the other side of the socket, made safe to print. */
#ifndef MMIO_TEXT_H
#define MMIO_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Copies src into dst (cap bytes, at least 1), cut to fit, with anything but
 * printable ASCII replaced by '?': the copy is valid UTF-8 for strict proto3
 * decoders and carries no terminal escapes. Returns dst.
 */
char *text_copy_printable(char *dst, size_t cap, const char *src);

/* Names of at most this many bytes have an edit distance; longer ones are never close. */
#define TEXT_MAX_DISTANCE_NAME 160

/*
 * Edit distance of a and b (insertions, deletions, substitutions and swaps of two neighbours,
 * each 1: optimal string alignment); UINT32_MAX if either is longer than TEXT_MAX_DISTANCE_NAME.
 */
unsigned text_edit_distance(const char *a, const char *b);

/* Whether candidate is close enough to name to be a slip of the keys ("did you mean"). */
bool text_is_slip(const char *name, const char *candidate);

#endif
