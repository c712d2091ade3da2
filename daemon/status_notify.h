/*
 * STATUS= for systemd: "N clients, M leases, F faults", sent when any of the
 * figures changed, at most once a second. A one-shot timer is armed only on a
 * change, so an idle daemon does no timer work.
 */
#ifndef MMIOD_STATUS_NOTIFY_H
#define MMIOD_STATUS_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct event;
struct service;

/* What STATUS= shows. */
struct status_figures {
	uint64_t clients;
	uint64_t leases;
	uint64_t faults;
};

struct status_notify {
	struct event *timer; /* created at the first change; pending while a send is due */
	struct status_figures shown;
	bool sent;               /* shown holds what systemd was last told */
	struct timespec sent_at; /* CLOCK_MONOTONIC */
};

/* Live connections, live leases and device faults over every region of svc. */
void status_figures_of(const struct service *svc, struct status_figures *out);

/*
 * Call wherever the figures may have changed (connect, disconnect, after a
 * request, reload). Cheap when nothing changed: compares, arms nothing. Does
 * nothing without an event base (tests, fuzzing).
 */
void status_notify_poke(struct service *svc);

/* Frees the timer; before the event base goes. */
void status_notify_finish(struct service *svc);

#endif
