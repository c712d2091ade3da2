/*
 * Restarting mmiod without revoking a lease or dropping a client (docs/RESTART.md): on
 * SIGUSR2 the process pauses, writes its state (restart_state.h) and re-executes mmiod from
 * its installed path with every connection, ring, interrupt and trace pipe, mem region's
 * memory and the listener inherited. The new image (the successor) reopens the regions from
 * its config, restores the state and serves on. A successor that would refuse the state is
 * found out first by a check run of the new binary (--restart-check): the old process then
 * keeps serving.
 */
#ifndef MMIOD_RESTART_H
#define MMIOD_RESTART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/named_fds.h"
#include "mmiod_state.pb-c.h"

struct mmiod_config;
struct region_table;
struct server;
struct service;

/* What the process needs to execute its successor: the installed binary and its arguments. */
struct restart_plan {
	char exe[4096]; /* resolved at start: an upgrade's new binary at the same path takes over */
	int argc;
	char **argv;
};

/* Resolves argv0 as execvp would (a path, or a name looked up in $PATH). 0 or -ENOENT. */
int restart_plan_init(struct restart_plan *plan, int argc, char **argv);

/*
 * SIGUSR2: hands over to a new mmiod and never returns if that worked. Returns after a
 * failure (logged: the state could not be written, the new binary refused it or could not
 * be run): srv serves on as before.
 */
void restart_reexec(struct restart_plan *plan, struct server *srv,
		    const struct region_table *regions);

/*
 * systemctl restart (or a package upgrade) under a unit with FileDescriptorStoreMax=: asks
 * systemd (D-Bus: the job on our unit) whether this stop is followed by a start. False when
 * it cannot tell: a plain stop, which revokes and parks.
 */
bool restart_systemd_is_restarting(void);

/*
 * Pauses srv and hands the state and every descriptor it names to systemd's file descriptor
 * store (FDSTORE=1), for the next start; the caller then exits without revoking anything.
 * 0, or a negative errno (logged): then stop as usual.
 */
int restart_to_fd_store(struct server *srv, const struct region_table *regions);

/* The successor's side: the state it was handed and the descriptors it names. */
struct restart_in {
	MmiodState__State *st; /* NULL: none (a fresh start) */
	struct named_fds fds;
	uint64_t read_ns;   /* CLOCK_MONOTONIC when read */
	bool crashed;       /* st is the copy kept for a crash (live_state.h) */
	uint64_t drop_conn; /* then: the connection that was being served, closed; or 0 */
};

/*
 * Reads the state in state_fd (taking it) and the descriptors it lists. 0, or a negative
 * errno with the reason in err; on error every descriptor the process inherited beside
 * stdio is closed (clients see their connection end: a clean start).
 */
int restart_in_load(struct restart_in *in, int state_fd, char *err, size_t errlen);

/*
 * The same from what systemd passed (sd_listen_fds_with_names, the listening socket left
 * out): the state named "mmiod-state" (a planned restart) or else the copy kept for a crash,
 * "mmiod-live", and the descriptors by name, each removed from the store (FDSTOREREMOVE) now
 * that this process holds it. 0 (with or without a state), or a
 * negative errno with the reason in err: everything passed is then closed.
 */
int restart_in_from_store(struct restart_in *in, int n, const int *fds, char **names, char *err,
			  size_t errlen);

/* Gives each mem region of cfg that the state has, same size, its memory back. */
void restart_in_give_memory(struct restart_in *in, struct mmiod_config *cfg);

/* The listening socket handed over, and the path it is bound to ("" for systemd's); or -1. */
int restart_in_listener(struct restart_in *in, const char **socket_path);

/*
 * Restores connections, leases, rings, subscriptions and tracers into srv, then re-checks
 * every lease against the current policy; closes what nobody took and frees the state.
 */
void restart_in_restore(struct restart_in *in, struct server *srv, struct service *svc);

/* Frees in (what restore did not take is closed); for a start that failed before restore. */
void restart_in_finish(struct restart_in *in);

#endif
