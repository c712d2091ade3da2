/* A connection to mmiod (its handshake and teardown) and the leases taken over it. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "client_internal.h"
#include "mmio_limits.h"
#include "status.h"
#include "text.h"
#include "transport.h"

/* The header's release is the project's: a release that forgets to bump one does not build. */
#if MMIO_CLIENT_VERSION_MAJOR != MMIO_PROJECT_VERSION_MAJOR ||                                     \
	MMIO_CLIENT_VERSION_MINOR != MMIO_PROJECT_VERSION_MINOR ||                                 \
	MMIO_CLIENT_VERSION_PATCH != MMIO_PROJECT_VERSION_PATCH
#error "MMIO_CLIENT_VERSION_* in include/mmio/client.h differ from project(VERSION)"
#endif

#define VERSION_TEXT(x)   #x
#define VERSION_STRING(x) VERSION_TEXT(x)

const char *
mmio_client_version(unsigned *major, unsigned *minor, unsigned *patch)
{
	if (major) {
		*major = MMIO_CLIENT_VERSION_MAJOR;
	}
	if (minor) {
		*minor = MMIO_CLIENT_VERSION_MINOR;
	}
	if (patch) {
		*patch = MMIO_CLIENT_VERSION_PATCH;
	}
	return VERSION_STRING(MMIO_CLIENT_VERSION_MAJOR) "." VERSION_STRING(
		MMIO_CLIENT_VERSION_MINOR) "." VERSION_STRING(MMIO_CLIENT_VERSION_PATCH);
}

const char *
mmio_strerror(int err)
{
	return status_message(err);
}

const char *
mmio_status_name(int err)
{
	return status_name_of_errno(err);
}

/* For requests whose reply is only a status. */
static int
call_without_body(struct mmio_client *c, Mmio__Request *req)
{
	Mmio__Reply *reply;
	int rc = client_call_locked(c, req, &reply, MMIO__REPLY__BODY__NOT_SET);
	client_free_reply(reply);
	return rc;
}

static int
say_hello(struct mmio_client *c)
{
	Mmio__Hello hello = MMIO__HELLO__INIT;
	hello.version = MMIO_PROTOCOL_VERSION;
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.body_case = MMIO__REQUEST__BODY_HELLO;
	req.hello = &hello;
	Mmio__Reply *reply;
	int rc = client_call(c, &req, &reply, MMIO__REPLY__BODY_HELLO);
	if (rc == -EPROTONOSUPPORT && reply && reply->body_case == MMIO__REPLY__BODY_HELLO) {
		client_log(MMIO_LOG_ERROR, "mmiod speaks protocol %u, this library %d",
			   reply->hello->version, MMIO_PROTOCOL_VERSION);
	}
	if (rc == 0) {
		c->features = reply->hello->features;
	}
	client_free_reply(reply);
	return rc;
}

/* An unknown $MMIO_FAST_PATH has been reported: once per process is enough. */
static int fast_path_env_reported;

/*
 * $MMIO_FAST_PATH: off, on (ring from the first op) or auto (the default, also
 * when unset or empty). Anything else is auto, and said so once.
 */
static enum mmio_fast_path
fast_path_from_env(void)
{
	const char *v = getenv("MMIO_FAST_PATH");
	if (!v || !v[0] || strcmp(v, "auto") == 0) {
		return MMIO_FAST_PATH_AUTO;
	}
	if (strcmp(v, "off") == 0) {
		return MMIO_FAST_PATH_OFF;
	}
	if (strcmp(v, "on") == 0) {
		return MMIO_FAST_PATH_ON;
	}
	if (!__atomic_exchange_n(&fast_path_env_reported, 1, __ATOMIC_RELAXED)) {
		char shown[64];
		text_copy_printable(shown, sizeof(shown), v);
		client_warn_user("$MMIO_FAST_PATH=%s is not auto, on or off: using auto", shown);
	}
	return MMIO_FAST_PATH_AUTO;
}

int
mmio_connect(const char *path, struct mmio_client **out)
{
	if (!out) {
		return -EINVAL;
	}
	if (!path) {
		path = getenv("MMIOD_SOCKET");
	}
	if (!path || !path[0]) {
		path = MMIO_DEFAULT_SOCKET_PATH;
	}
	struct mmio_client *c = calloc(1, sizeof(*c));
	if (!c) {
		return -ENOMEM;
	}
	TAILQ_INIT(&c->leases);
	c->fd = -1;
	c->next_id = 1;
	c->passed_fds[0] = c->passed_fds[1] = -1;
	c->event_fd = c->notice_fd = -1;
	c->fast_path = fast_path_from_env();
	client_details_init(c);
	int rc = pthread_mutex_init(&c->lock, NULL);
	if (rc != 0) {
		free(c);
		return -rc;
	}
	rc = pthread_mutex_init(&c->irq_lock, NULL);
	if (rc != 0) {
		pthread_mutex_destroy(&c->lock);
		free(c);
		return -rc;
	}
	rc = client_socket_open(c, path);
	if (rc < 0) {
		goto err_free;
	}
	rc = say_hello(c);
	if (rc < 0) {
		goto err_free;
	}
	*out = c;
	return 0;

err_free:
	client_details_free(c);
	client_socket_transport.close(c);
	pthread_mutex_destroy(&c->irq_lock);
	pthread_mutex_destroy(&c->lock);
	free(c);
	return rc;
}

void
mmio_disconnect(struct mmio_client *c)
{
	if (!c) {
		return;
	}
	struct mmio_lease *l;
	while ((l = TAILQ_FIRST(&c->leases))) {
		TAILQ_REMOVE(&c->leases, l, link);
		client_irq_detach(l);
		free(l);
	}
	client_ring_transport.close(c);
	client_socket_transport.close(c);
	client_events_close(c);
	client_details_free(c);
	client_regmaps_free(c);
	pthread_mutex_destroy(&c->irq_lock);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* Anything but read-write is treated as read-only: never claim more than granted. */
static enum mmio_access
access_from_wire(Mmio__Access access)
{
	return access == MMIO__ACCESS__ACCESS_RW ? MMIO_ACCESS_RW : MMIO_ACCESS_RO;
}

static void
copy_name(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src ? src : "");
}

int
mmio_list_regions(struct mmio_client *c, struct mmio_region_info **out)
{
	Mmio__ListRegions body = MMIO__LIST_REGIONS__INIT;
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.body_case = MMIO__REQUEST__BODY_LIST_REGIONS;
	req.list_regions = &body;
	Mmio__Reply *reply;

	*out = NULL;
	int rc = client_call_locked(c, &req, &reply, MMIO__REPLY__BODY_REGIONS);
	if (rc < 0) {
		client_free_reply(reply);
		return rc;
	}
	size_t n = reply->regions->n_regions;
	if (n == 0) {
		client_free_reply(reply);
		return 0;
	}
	size_t n_grants = 0;
	for (size_t i = 0; i < n; i++) {
		n_grants += reply->regions->regions[i]->n_grants;
	}
	/* One block, so that one free() releases the regions and their grants. */
	struct mmio_region_info *infos =
		calloc(1, n * sizeof(*infos) + n_grants * sizeof(struct mmio_grant));
	if (!infos) {
		client_free_reply(reply);
		return -ENOMEM;
	}
	struct mmio_grant *grants = (struct mmio_grant *)(infos + n);
	for (size_t i = 0; i < n; i++) {
		const Mmio__RegionInfo *r = reply->regions->regions[i];
		copy_name(infos[i].name, sizeof(infos[i].name), r->name);
		copy_name(infos[i].type, sizeof(infos[i].type), r->type);
		infos[i].size = r->size;
		infos[i].address = r->address;
		infos[i].faults = r->faults;
		infos[i].n_grants = r->n_grants;
		infos[i].grants = grants;
		for (size_t k = 0; k < r->n_grants; k++) {
			grants[k].offset = r->grants[k]->offset;
			grants[k].length = r->grants[k]->length;
			grants[k].access = access_from_wire(r->grants[k]->access);
		}
		grants += r->n_grants;
	}
	client_free_reply(reply);
	*out = infos;
	return (int)n;
}

/* Appends one page of the listing to *infos (*n used of *cap); moves *after past it. */
static int
add_lease_page(const Mmio__LeaseList *page, struct mmio_lease_info **infos, size_t *n, size_t *cap,
	       uint64_t *after)
{
	if (page->n_leases > (size_t)INT_MAX - *n) {
		return -EPROTO;
	}
	if (*n + page->n_leases > *cap) {
		size_t want = *cap ? *cap : 64;
		while (want < *n + page->n_leases) {
			want *= 2;
		}
		struct mmio_lease_info *grown = realloc(*infos, want * sizeof(**infos));
		if (!grown) {
			return -ENOMEM;
		}
		*infos = grown;
		*cap = want;
	}
	uint64_t last = *after;
	for (size_t i = 0; i < page->n_leases; i++) {
		const Mmio__LeaseInfo *l = page->leases[i];
		/* Past the cursor, so paging ends; any order: an older mmiod sends one page. */
		if (l->id <= *after) {
			return -EPROTO;
		}
		struct mmio_lease_info *info = &(*infos)[(*n)++];
		memset(info, 0, sizeof(*info));
		info->id = l->id;
		copy_name(info->region, sizeof(info->region), l->region);
		info->start = l->start;
		info->length = l->length;
		info->pid = (pid_t)l->pid;
		info->uid = (uid_t)l->uid;
		info->access = access_from_wire(l->access);
		last = l->id > last ? l->id : last;
	}
	*after = last;
	return 0;
}

/* Page by page until mmiod says there are no more: no listing outgrows a frame. */
int
mmio_list_leases(struct mmio_client *c, struct mmio_lease_info **out)
{
	struct mmio_lease_info *infos = NULL;
	size_t n = 0;
	size_t cap = 0;
	uint64_t after = 0;
	bool more = true;
	int rc = 0;

	*out = NULL;
	while (more && rc == 0) {
		Mmio__ListLeases body = MMIO__LIST_LEASES__INIT;
		body.after_id = after;
		Mmio__Request req = MMIO__REQUEST__INIT;
		req.body_case = MMIO__REQUEST__BODY_LIST_LEASES;
		req.list_leases = &body;
		Mmio__Reply *reply;
		rc = client_call_locked(c, &req, &reply, MMIO__REPLY__BODY_LEASES);
		if (rc == 0) {
			more = reply->leases->more;
			rc = add_lease_page(reply->leases, &infos, &n, &cap, &after);
			/* An empty page that promises more would never end. */
			if (rc == -EPROTO || (rc == 0 && more && after == body.after_id)) {
				client_log(MMIO_LOG_ERROR, "lease listing: bad page after id %llu",
					   (unsigned long long)body.after_id);
				rc = -EPROTO;
			}
		}
		client_free_reply(reply);
	}
	if (rc < 0) {
		free(infos);
		return rc;
	}
	if (n == 0) {
		free(infos);
		infos = NULL;
	}
	*out = infos;
	return (int)n;
}

/* Publishes a split's new range to the getters (the seqlock's writer side). Lock held. */
static void
lease_set_range(struct mmio_lease *l, uint64_t start, uint64_t length)
{
	uint32_t seq = __atomic_load_n(&l->range_seq, __ATOMIC_RELAXED);
	__atomic_store_n(&l->range_seq, seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(&l->start, start, __ATOMIC_RELAXED);
	__atomic_store_n(&l->length, length, __ATOMIC_RELAXED);
	__atomic_store_n(&l->range_seq, seq + 2, __ATOMIC_RELEASE);
}

/* A handle for the lease described by info, linked into c. Lock held. */
static struct mmio_lease *
lease_create(struct mmio_client *c, const Mmio__LeaseInfo *info)
{
	struct mmio_lease *l = calloc(1, sizeof(*l));
	if (!l) {
		return NULL;
	}
	l->client = c;
	l->id = info->id;
	copy_name(l->region, sizeof(l->region), info->region);
	l->start = info->start;
	l->length = info->length;
	l->access = access_from_wire(info->access);
	TAILQ_INSERT_TAIL(&c->leases, l, link);
	return l;
}

int
mmio_acquire(struct mmio_client *c, const char *region, uint64_t offset, uint64_t length,
	     struct mmio_lease **out)
{
	if (!region || strlen(region) > MMIO_MAX_NAME) {
		return region ? -ENOENT : -EINVAL;
	}
	Mmio__Acquire body = MMIO__ACQUIRE__INIT;
	body.region = (char *)region;
	body.offset = offset;
	body.length = length;
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.body_case = MMIO__REQUEST__BODY_ACQUIRE;
	req.acquire = &body;
	Mmio__Reply *reply;

	pthread_mutex_lock(&c->lock);
	int rc = client_call(c, &req, &reply, MMIO__REPLY__BODY_LEASE);
	if (rc == 0) {
		*out = lease_create(c, reply->lease);
		/* The daemon granted it; without a handle nobody could release it but a disconnect.
		 */
		rc = *out ? 0 : -ENOMEM;
	}
	pthread_mutex_unlock(&c->lock);
	client_free_reply(reply);
	return rc;
}

int
mmio_split(struct mmio_lease *lease, uint64_t mid, struct mmio_lease **low)
{
	struct mmio_client *c = lease->client;
	Mmio__Split body = MMIO__SPLIT__INIT;
	body.lease = lease->id;
	body.mid = mid;
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.body_case = MMIO__REQUEST__BODY_SPLIT;
	req.split = &body;
	Mmio__Reply *reply;

	pthread_mutex_lock(&c->lock);
	int rc = client_call(c, &req, &reply, MMIO__REPLY__BODY_LEASE);
	if (rc == 0) {
		uint64_t start = __atomic_load_n(&lease->start, __ATOMIC_RELAXED);
		uint64_t length = __atomic_load_n(&lease->length, __ATOMIC_RELAXED);
		lease_set_range(lease, start + mid, length - mid);
		*low = lease_create(c, reply->lease);
		rc = *low ? 0 : -ENOMEM;
	}
	pthread_mutex_unlock(&c->lock);
	client_free_reply(reply);
	return rc;
}

int
mmio_release(struct mmio_lease *lease)
{
	if (!lease) {
		return 0;
	}
	struct mmio_client *c = lease->client;
	Mmio__Release body = MMIO__RELEASE__INIT;
	body.lease = lease->id;
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.body_case = MMIO__REQUEST__BODY_RELEASE;
	req.release = &body;
	Mmio__Reply *reply;

	pthread_mutex_lock(&c->lock);
	int rc = client_call(c, &req, &reply, MMIO__REPLY__BODY__NOT_SET);
	TAILQ_REMOVE(&c->leases, lease, link);
	client_irq_detach(lease);
	pthread_mutex_unlock(&c->lock);
	free(lease);
	client_free_reply(reply);
	return rc;
}

uint64_t
mmio_lease_id(const struct mmio_lease *lease)
{
	return lease->id;
}

const char *
mmio_lease_region(const struct mmio_lease *lease)
{
	return lease->region;
}

void
mmio_lease_range(const struct mmio_lease *lease, uint64_t *start, uint64_t *length)
{
	uint64_t s;
	uint64_t n;
	for (;;) {
		uint32_t seq = __atomic_load_n(&lease->range_seq, __ATOMIC_ACQUIRE);
		s = __atomic_load_n(&lease->start, __ATOMIC_RELAXED);
		n = __atomic_load_n(&lease->length, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (!(seq & 1) && __atomic_load_n(&lease->range_seq, __ATOMIC_RELAXED) == seq) {
			break;
		}
		/* A split is writing them: a few stores, unless its thread was preempted. */
		sched_yield();
	}
	if (start) {
		*start = s;
	}
	if (length) {
		*length = n;
	}
}

uint64_t
mmio_lease_start(const struct mmio_lease *lease)
{
	uint64_t start;
	mmio_lease_range(lease, &start, NULL);
	return start;
}

uint64_t
mmio_lease_length(const struct mmio_lease *lease)
{
	uint64_t length;
	mmio_lease_range(lease, NULL, &length);
	return length;
}

enum mmio_access
mmio_lease_access(const struct mmio_lease *lease)
{
	return lease->access;
}

int
mmio_revoke(struct mmio_client *c, uint64_t lease_id)
{
	return mmio_revoke_grace(c, lease_id, 0);
}

int
mmio_renew(struct mmio_lease *lease)
{
	Mmio__Renew body = MMIO__RENEW__INIT;
	body.lease = lease->id;
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.body_case = MMIO__REQUEST__BODY_RENEW;
	req.renew = &body;
	Mmio__Reply *reply;
	int rc = client_call_locked(lease->client, &req, &reply, MMIO__REPLY__BODY_LEASE);
	client_free_reply(reply);
	return rc;
}

int
mmio_revoke_grace(struct mmio_client *c, uint64_t lease_id, unsigned grace_ms)
{
	Mmio__Revoke body = MMIO__REVOKE__INIT;
	body.lease = lease_id;
	body.grace_ms = grace_ms;
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.body_case = MMIO__REQUEST__BODY_REVOKE;
	req.revoke = &body;
	return call_without_body(c, &req);
}
