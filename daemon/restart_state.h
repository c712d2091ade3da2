/*
 * The state a restart hands over, as bytes: a sealed memfd holding a header (magic, format,
 * length, checksum) and the packed State message (proto/mmiod_state.proto). The checksum
 * catches a torn or corrupted copy; the format lets a newer mmiod read an older state and an
 * older one refuse a newer state (and start clean).
 */
#ifndef MMIOD_RESTART_STATE_H
#define MMIOD_RESTART_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmiod_state.pb-c.h"

/* Raised when a reader could not ignore what changed; a reader takes any format up to its own. */
#define RESTART_STATE_FORMAT 1u

/* st as bytes: the header and the packed message, in a malloc'd *out. 0 or -ENOMEM. */
int restart_state_pack(const MmiodState__State *st, uint8_t **out, size_t *out_len);

/* Writes all n bytes of buf at off in fd. 0 or a negative errno. */
int restart_state_write_at(int fd, const void *buf, size_t n, uint64_t off);

/* Writes st into a new sealed memfd (close-on-exec). The fd, or a negative errno. */
int restart_state_write(const MmiodState__State *st);

/*
 * Reads and checks the state in fd. 0 with *out (mmiod_state__state__free_unpacked(*out,
 * NULL) frees it), or a negative errno with the reason in err: -EPROTO (not a state, torn,
 * corrupted), -EPROTONOSUPPORT (a newer format than this mmiod reads).
 */
int restart_state_read(int fd, MmiodState__State **out, char *err, size_t errlen);

/*
 * The same for a state at off in fd (a slot of the crash-safe copy, live_state.h); whole_file:
 * it must end where fd ends.
 */
int restart_state_read_at(int fd, uint64_t off, bool whole_file, MmiodState__State **out, char *err,
			  size_t errlen);

#endif
