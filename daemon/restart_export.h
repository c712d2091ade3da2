/*
 * mmiod's state as a successor needs it (proto/mmiod_state.proto): written at a planned
 * restart (restart.h) and, under systemd's store, kept for a crash (live_state.h).
 */
#ifndef MMIOD_RESTART_EXPORT_H
#define MMIOD_RESTART_EXPORT_H

#include <stdbool.h>

#include "mmiod_state.pb-c.h"

struct named_fds;
struct pool;
struct region_table;
struct server;

/*
 * The state of srv and regions into st (its memory from p), the descriptors it names into
 * fds. live: the copy kept for a crash while srv serves on (server_state_export). 0 or a
 * negative errno.
 */
int restart_build_state(const struct server *srv, const struct region_table *regions,
			MmiodState__State *st, struct pool *p, struct named_fds *fds, bool live);

#endif
