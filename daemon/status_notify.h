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

#include "request/service.h"

struct event;
struct service;

struct status_notify {
	struct service *svc;
	struct event *timer; /* created at the first change; pending while a send is due */
	struct service_figures shown;
	bool sent;               /* shown holds what systemd was last told */
	struct timespec sent_at; /* CLOCK_MONOTONIC */
};

/*
 * Watches svc's figures (service_figures_changed) from now on. Does nothing
 * more without an event base in svc (tests, fuzzing).
 */
void status_notify_start(struct status_notify *n, struct service *svc);

/*
 * The figures may have changed. Cheap when nothing changed: compares, arms
 * nothing.
 */
void status_notify_poke(struct status_notify *n);

/* Stops watching and frees the timer; before the event base goes. */
void status_notify_finish(struct status_notify *n);

#endif
