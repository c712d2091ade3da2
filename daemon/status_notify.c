#include <inttypes.h>
#include <stdio.h>

#include <event2/event.h>

#include "base/log.h"
#include "device/region.h"
#include "notify.h"
#include "request/service.h"
#include "status_notify.h"

/* At most one STATUS= per this many milliseconds. */
#define STATUS_MIN_INTERVAL_MS 1000

static bool
figures_equal(const struct service_figures *a, const struct service_figures *b)
{
	return a->clients == b->clients && a->leases == b->leases && a->faults == b->faults;
}

static int64_t
elapsed_ms(const struct timespec *since, const struct timespec *now)
{
	return (int64_t)(now->tv_sec - since->tv_sec) * 1000 +
	       (now->tv_nsec - since->tv_nsec) / 1000000;
}

static void
status_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct status_notify *n = arg;
	struct service_figures now;
	service_figures(n->svc, &now);
	if (n->sent && figures_equal(&now, &n->shown)) {
		return; /* changed and changed back within the interval */
	}
	char text[96];
	snprintf(text, sizeof(text),
		 "STATUS=%" PRIu64 " clients, %" PRIu64 " leases, %" PRIu64 " faults", now.clients,
		 now.leases, now.faults);
	/* Never blocks: with systemd's queue full it waits, and the next one replaces it. */
	notify_status(text);
	n->shown = now;
	n->sent = true;
	clock_gettime(CLOCK_MONOTONIC, &n->sent_at);
}

static void
figures_changed(void *arg)
{
	status_notify_poke(arg);
}

void
status_notify_start(struct status_notify *n, struct service *svc)
{
	*n = (struct status_notify){.svc = svc};
	svc->on_figures_changed = figures_changed;
	svc->on_figures_arg = n;
}

void
status_notify_poke(struct status_notify *n)
{
	struct service *svc = n->svc;
	if (!svc->base) {
		return;
	}
	if (n->timer && evtimer_pending(n->timer, NULL)) {
		return; /* the callback reads the figures when it runs */
	}
	struct service_figures now;
	service_figures(svc, &now);
	if (n->sent && figures_equal(&now, &n->shown)) {
		return;
	}
	if (!n->timer && !(n->timer = evtimer_new(svc->base, status_timer_cb, n))) {
		log_debug("STATUS= timer: out of memory");
		return;
	}
	int64_t wait_ms = 0;
	if (n->sent) {
		struct timespec t;
		clock_gettime(CLOCK_MONOTONIC, &t);
		wait_ms = STATUS_MIN_INTERVAL_MS - elapsed_ms(&n->sent_at, &t);
		wait_ms = wait_ms < 0 ? 0 : wait_ms;
	}
	struct timeval delay = {.tv_sec = (time_t)(wait_ms / 1000),
				.tv_usec = (suseconds_t)(wait_ms % 1000) * 1000};
	if (evtimer_add(n->timer, &delay) < 0) {
		log_debug("STATUS= timer cannot be armed");
	}
}

void
status_notify_finish(struct status_notify *n)
{
	if (n->svc) {
		n->svc->on_figures_changed = NULL;
		n->svc->on_figures_arg = NULL;
	}
	if (n->timer) {
		event_free(n->timer);
		n->timer = NULL;
	}
}
