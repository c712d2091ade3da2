/*
 * A session as a restart hands it to the successor (proto/mmiod_state.proto's Conn): its
 * leases with their deadlines and interrupt subscriptions, its ring, and the leases it was
 * told were revoked. Descriptors travel by name (base/named_fds.h).
 */
#ifndef MMIOD_SESSION_STATE_H
#define MMIOD_SESSION_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "mmiod_state.pb-c.h"

struct named_fds;
struct pool;
struct session;

/*
 * Fills out (initialised by the caller) from s; its descriptors into fds. live: the copy kept
 * for a crash, while s is served on (its ring's indices are then the ring header's). 0,
 * -ENOTSUP (its ring's memory has no descriptor), -ENOMEM.
 */
int session_state_export(const struct session *s, MmiodState__Conn *out, struct pool *p,
			 struct named_fds *fds, bool live);

/* Which regions keep their leases across the restart: same name, same bytes behind it. */
typedef bool (*region_kept_fn)(const char *name, void *arg);

/*
 * Restores in into s, a fresh session of the same connection: each lease under its id, on its
 * region if kept (else the holder is told it was revoked, reason policy), its deadlines less
 * elapsed_ms, its interrupt subscription, the ring (taking its descriptors from fds). The
 * caller re-checks the leases against the policy afterwards. Returns how many leases were not
 * restored.
 */
unsigned session_state_import(struct session *s, const MmiodState__Conn *in, struct named_fds *fds,
			      uint64_t elapsed_ms, region_kept_fn kept, void *arg);

#endif
