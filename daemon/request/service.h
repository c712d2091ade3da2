/*
 * What every session shares: the regions with their policies, the limits,
 * who besides root may do everything, and the figures systemd is shown.
 * Filled from the configuration by service_config.c, above this layer.
 */
#ifndef MMIOD_SERVICE_H
#define MMIOD_SERVICE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "core/limits.h"
#include "core/policy.h"
#include "mmio.pb-c.h"

struct event_base;
struct lease;
struct region_table;
struct session;

struct service {
	struct event_base *base;
	struct region_table *regions;
	struct limits limits;
	uid_t extra_uid; /* the uid mmiod was started by; may lease everything, as root may */
	bool has_admin_gid;
	gid_t admin_gid;
	/* Figures for Stats and STATUS=. */
	unsigned n_clients;      /* live connections holding a slot (net/conn.c) */
	unsigned n_rings;        /* open shared-memory rings, at most limits.max_rings */
	uint64_t requests;       /* requests dispatched since start */
	struct timespec started; /* CLOCK_MONOTONIC at service_init */
	/* Told when the figures may have changed (STATUS=, from the top); NULL: nobody. */
	void (*on_figures_changed)(void *arg);
	void *on_figures_arg;
	/* Sends notice, an unasked Reply (id 0), on the connection of s (net/conn.c); NULL:
	 * nowhere (the fuzzers). The second indirection upward: requests do no I/O. */
	void (*send_notice)(struct session *s, Mmio__Reply *notice);
};

/* What STATUS= shows. */
struct service_figures {
	uint64_t clients;
	uint64_t leases;
	uint64_t faults;
};

/* root, the starting uid, or a member of the admin group. */
bool service_is_admin(const struct service *svc, const struct identity *who);

/* The live lease with this id, whoever holds it, or NULL. */
struct lease *service_find_lease(const struct service *svc, uint64_t id);

/* Live connections, live leases and device faults over every region of svc. */
void service_figures(const struct service *svc, struct service_figures *out);

/*
 * Call wherever the figures may have changed (connect, disconnect, after a
 * request, reload): passes it on to whoever watches them.
 */
void service_figures_changed(struct service *svc);

#endif
