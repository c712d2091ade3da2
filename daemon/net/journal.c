#include <errno.h>

#include <event2/event.h>

#include "net/journal.h"
#include "net/server.h"

static void
later_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	journal_settle(arg);
}

int
journal_install(struct server *srv, void (*write)(void *arg), void *arg, uint64_t *serving)
{
	struct journal *j = &srv->journal;
	journal_remove(srv);
	if (!write) {
		return 0;
	}
	j->later = event_new(srv->base, -1, 0, later_cb, srv);
	if (!j->later) {
		return -ENOMEM;
	}
	j->write = write;
	j->arg = arg;
	j->serving = serving;
	j->dirty = true; /* the first write: whatever there is now */
	event_active(j->later, EV_TIMEOUT, 1);
	return 0;
}

void
journal_remove(struct server *srv)
{
	struct journal *j = &srv->journal;
	if (j->later) {
		event_free(j->later);
	}
	*j = (struct journal){0};
}

void
journal_changed(struct server *srv)
{
	struct journal *j = &srv->journal;
	if (!j->write || srv->stopping || srv->paused) {
		return;
	}
	if (!j->dirty) {
		j->dirty = true;
		event_active(j->later, EV_TIMEOUT, 1);
	}
}

void
journal_settle(struct server *srv)
{
	struct journal *j = &srv->journal;
	if (j->dirty && j->write && !srv->stopping && !srv->paused) {
		j->dirty = false;
		j->write(j->arg);
	}
}
