/*
 * Keeping the state safe from a crash (docs/RESTART.md, "Crash"): under systemd's file
 * descriptor store, mmiod writes its state each time it changes, before any client can be
 * told of the change (the reply or notice waits for the write), and marks which connection
 * it is serving, so that a successor started after a crash closes that one connection (its
 * request died half done) and carries on with the rest. net/ only says when; the writer is
 * daemon/live_state.c's, installed by main. Without one (no store), all of this is a no-op.
 */
#ifndef MMIOD_JOURNAL_H
#define MMIOD_JOURNAL_H

#include <stdbool.h>
#include <stdint.h>

struct event;
struct server;

struct journal {
	void (*write)(void *arg); /* the state as it is now, written for a successor */
	void *arg;
	uint64_t *serving;   /* in the written state's memory: the connection being served */
	struct event *later; /* writes a change no reply follows, once the callback returns */
	bool dirty;
};

/* Installs write (NULL: none). 0 or -ENOMEM. */
int journal_install(struct server *srv, void (*write)(void *arg), void *arg, uint64_t *serving);
void journal_remove(struct server *srv);

/* The state changed: written before the next reply or notice leaves, or after this callback. */
void journal_changed(struct server *srv);

/* Writes a pending change now: something is about to tell a client of it. */
void journal_settle(struct server *srv);

/* Connection conn_id is being served (0: none): a crash now leaves its request undone. */
static inline void
journal_serving(const struct journal *j, uint64_t conn_id)
{
	if (j->serving) {
		*(volatile uint64_t *)j->serving = conn_id;
	}
}

#endif
