/* libmmio-client: one connection to mmiod, one request in flight at a time. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "client_internal.h"
#include "mmio_limits.h"
#include "status.h"
#include "wire.h"

/*
 * The handler and its userdata change together under log_pair_lock. Calls of
 * the handler hold log_calls for reading, so that a replacement can wait until
 * no call of the old pair is left (its userdata may then be freed). A thread
 * inside the handler (log_depth) holds log_calls already: it takes it no
 * second time, and cannot wait for itself.
 */
static pthread_mutex_t log_pair_lock = PTHREAD_MUTEX_INITIALIZER;
static mmio_log_handler log_handler;
static void *log_userdata;
static int log_on; /* a handler is set: read without the lock, to skip formatting */
static pthread_rwlock_t log_calls = PTHREAD_RWLOCK_INITIALIZER;
static _Thread_local unsigned log_depth;

void
mmio_set_log_handler(mmio_log_handler handler, void *userdata)
{
	pthread_mutex_lock(&log_pair_lock);
	log_handler = handler;
	log_userdata = userdata;
	__atomic_store_n(&log_on, handler != NULL, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&log_pair_lock);
	if (log_depth == 0 && pthread_rwlock_wrlock(&log_calls) == 0) {
		/* Every call that may have taken the old pair has returned. */
		pthread_rwlock_unlock(&log_calls);
	}
}

void
client_log(enum mmio_log_level level, const char *fmt, ...)
{
	if (!__atomic_load_n(&log_on, __ATOMIC_RELAXED)) {
		return;
	}
	bool outer = log_depth == 0;
	if (outer && pthread_rwlock_rdlock(&log_calls) != 0) {
		return;
	}
	pthread_mutex_lock(&log_pair_lock);
	mmio_log_handler handler = log_handler;
	void *userdata = log_userdata;
	pthread_mutex_unlock(&log_pair_lock);
	if (handler) {
		char msg[256];
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		log_depth++;
		handler(level, msg, userdata);
		log_depth--;
	}
	if (outer) {
		pthread_rwlock_unlock(&log_calls);
	}
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

/* The text may reach a terminal. */
void
client_copy_printable(char *dst, size_t cap, const char *src)
{
	size_t i = 0;
	for (; src[i] && i + 1 < cap; i++) {
		dst[i] = (char)(src[i] >= 0x20 && src[i] < 0x7f ? src[i] : '?');
	}
	dst[i] = '\0';
}

/*
 * Error details, per thread and per client. A record is held by its client
 * (until it disconnects) and by its thread (until it exits); whoever lets go
 * last frees it. Only its thread reads or writes the text: no lock.
 */
struct client_detail {
	uint64_t serial;                   /* of the client */
	unsigned refs;                     /* 2 while client and thread hold it, else 1; atomic */
	struct client_detail *thread_next; /* only its thread walks these */
	struct client_detail *client_next; /* c->lock */
	char text[192];                    /* printable ASCII */
};

struct detail_list {
	struct client_detail *first;
};

/* The key only has the thread's records dropped when it exits. */
static pthread_key_t detail_key;
static pthread_once_t detail_once = PTHREAD_ONCE_INIT;
static bool detail_key_made;
static _Thread_local struct detail_list thread_list;
static _Thread_local bool thread_list_keyed;
static uint64_t last_serial; /* atomic */

static void
detail_unref(struct client_detail *d)
{
	if (__atomic_sub_fetch(&d->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		free(d);
	}
}

/* The other holder has let go: a disconnected client's record, or an exited thread's. */
static bool
detail_orphaned(const struct client_detail *d)
{
	return __atomic_load_n(&d->refs, __ATOMIC_ACQUIRE) == 1;
}

/* Runs in the exiting thread, its thread-locals still there. */
static void
detail_thread_exit(void *arg)
{
	struct detail_list *list = arg;
	struct client_detail *next;
	for (struct client_detail *d = list->first; d; d = next) {
		next = d->thread_next;
		detail_unref(d);
	}
	list->first = NULL;
	thread_list_keyed = false;
}

static void
detail_make_key(void)
{
	detail_key_made = pthread_key_create(&detail_key, detail_thread_exit) == 0;
}

/*
 * The calling thread's records; NULL before its first record unless create,
 * and if they could not be freed at its exit (then it keeps none).
 */
static struct detail_list *
thread_details(bool create)
{
	if (!thread_list_keyed && create) {
		pthread_once(&detail_once, detail_make_key);
		thread_list_keyed =
			detail_key_made && pthread_setspecific(detail_key, &thread_list) == 0;
	}
	return thread_list_keyed ? &thread_list : NULL;
}

/* The calling thread's record for c, or NULL. */
static struct client_detail *
detail_find(const struct mmio_client *c)
{
	struct detail_list *list = thread_details(false);
	for (struct client_detail *d = list ? list->first : NULL; d; d = d->thread_next) {
		if (d->serial == c->serial) {
			return d;
		}
	}
	return NULL;
}

/* Unlinks and drops the orphans of a list linked through the member at next_off. */
static void
detail_prune(struct client_detail **head, size_t next_off)
{
	while (*head) {
		struct client_detail *d = *head;
		struct client_detail **next = (struct client_detail **)((char *)d + next_off);
		if (detail_orphaned(d)) {
			*head = *next;
			detail_unref(d);
		} else {
			head = next;
		}
	}
}

/* A new record for the calling thread on c, or NULL. Lock held. */
static struct client_detail *
detail_create(struct mmio_client *c)
{
	struct detail_list *list = thread_details(true);
	if (!list) {
		return NULL;
	}
	/* Both lists stay as long as the clients, and threads, in use. */
	detail_prune(&list->first, offsetof(struct client_detail, thread_next));
	detail_prune(&c->details, offsetof(struct client_detail, client_next));
	struct client_detail *d = calloc(1, sizeof(*d));
	if (d) {
		d->serial = c->serial;
		d->refs = 2;
		d->thread_next = list->first;
		list->first = d;
		d->client_next = c->details;
		c->details = d;
	}
	return d;
}

void
client_detail_clear(struct mmio_client *c)
{
	struct client_detail *d = detail_find(c);
	if (d) {
		d->text[0] = '\0';
	}
}

void
client_detail_set(struct mmio_client *c, const char *src)
{
	struct client_detail *d = detail_find(c);
	if (!d) {
		d = detail_create(c);
	}
	/* Out of memory: this thread's detail stays "". */
	if (d) {
		client_copy_printable(d->text, sizeof(d->text), src);
	}
}

/* Drops c's hold on every record, and this thread's on its own (so it goes now). */
static void
details_free(struct mmio_client *c)
{
	struct detail_list *list = thread_details(false);
	for (struct client_detail **p = list ? &list->first : NULL; p && *p;
	     p = &(*p)->thread_next) {
		if ((*p)->serial == c->serial) {
			struct client_detail *d = *p;
			*p = d->thread_next;
			detail_unref(d);
			break;
		}
	}
	struct client_detail *next;
	for (struct client_detail *d = c->details; d; d = next) {
		next = d->client_next;
		detail_unref(d);
	}
	c->details = NULL;
}

const char *
mmio_error_detail(struct mmio_client *client)
{
	const struct client_detail *d = detail_find(client);
	return d ? d->text : "";
}

int
mmio_error_detail_copy(struct mmio_client *client, char *buf, size_t len)
{
	return snprintf(buf, len, "%s", mmio_error_detail(client));
}

static void
close_passed_fds(struct mmio_client *c)
{
	for (unsigned i = 0; i < WIRE_MAX_PASS_FDS; i++) {
		wire_close_fd(&c->passed_fds[i]);
	}
}

/* A transport failure leaves the stream out of step: every later call fails fast. */
static int
mark_broken(struct mmio_client *c, int err)
{
	c->broken = 1;
	return err;
}

/*
 * Sends req and waits for its reply, with c->lock held. On success returns the
 * daemon's status as 0 or a negative errno and sets *reply (caller frees with
 * mmio__reply__free_unpacked); on a transport failure returns its errno with
 * *reply NULL.
 */
static int
call(struct mmio_client *c, Mmio__Request *req, Mmio__Reply **reply)
{
	*reply = NULL;
	client_detail_clear(c);
	/* Only the reply that brought them may hand them out; any later call drops them. */
	close_passed_fds(c);
	if (c->broken) {
		return -ECONNRESET;
	}
	req->id = c->next_id++;
	size_t len = mmio__request__get_packed_size(req);
	if (len > MMIO_MAX_FRAME) {
		return -EMSGSIZE;
	}
	mmio__request__pack(req, c->buf);
	int rc = wire_send(c->fd, c->buf, len);
	if (rc < 0) {
		client_log(MMIO_LOG_ERROR, "send request %llu: %s", (unsigned long long)req->id,
			   status_message(rc));
		return mark_broken(c, rc == -EMSGSIZE ? rc : -ECONNRESET);
	}
	ssize_t n = wire_recv_fds(c->fd, c->buf, sizeof(c->buf), c->passed_fds, WIRE_MAX_PASS_FDS);
	if (n <= 0) {
		client_log(MMIO_LOG_ERROR, "reply to request %llu: %s", (unsigned long long)req->id,
			   n == 0 ? "daemon closed the connection" : status_message((int)n));
		return mark_broken(c, n == -EMSGSIZE ? -EPROTO : -ECONNRESET);
	}
	Mmio__Reply *r = mmio__reply__unpack(NULL, (size_t)n, c->buf);
	if (!r || r->id != req->id) {
		client_log(MMIO_LOG_ERROR, "reply to request %llu: %s", (unsigned long long)req->id,
			   r ? "id does not match" : "undecodable");
		if (r) {
			mmio__reply__free_unpacked(r, NULL);
		}
		return mark_broken(c, -EPROTO);
	}
	rc = status_to_errno(r->status);
	if (rc < 0 && r->detail && r->detail[0]) {
		client_detail_set(c, r->detail);
		client_log(MMIO_LOG_DEBUG, "request %llu: %s: %s", (unsigned long long)req->id,
			   status_name_of_errno(rc) ? status_name_of_errno(rc) : "?", r->detail);
	}
	*reply = r;
	return rc;
}

int
client_call(struct mmio_client *c, Mmio__Request *req, Mmio__Reply **reply,
	    Mmio__Reply__BodyCase body_case)
{
	int rc = call(c, req, reply);
	if (rc == 0 && body_case != MMIO__REPLY__BODY__NOT_SET &&
	    (*reply)->body_case != body_case) {
		client_log(MMIO_LOG_ERROR, "reply to request %llu lacks its body",
			   (unsigned long long)req->id);
		mmio__reply__free_unpacked(*reply, NULL);
		*reply = NULL;
		return mark_broken(c, -EPROTO);
	}
	return rc;
}

int
client_call_locked(struct mmio_client *c, Mmio__Request *req, Mmio__Reply **reply,
		   Mmio__Reply__BodyCase body_case)
{
	pthread_mutex_lock(&c->lock);
	int rc = client_call(c, req, reply, body_case);
	pthread_mutex_unlock(&c->lock);
	return rc;
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

void
client_free_reply(Mmio__Reply *reply)
{
	if (reply) {
		mmio__reply__free_unpacked(reply, NULL);
	}
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

/* $MMIO_FAST_PATH: off, on (ring from the first op) or auto (the default). */
static enum mmio_fast_path
fast_path_from_env(void)
{
	const char *v = getenv("MMIO_FAST_PATH");
	if (v && strcmp(v, "off") == 0) {
		return MMIO_FAST_PATH_OFF;
	}
	if (v && strcmp(v, "on") == 0) {
		return MMIO_FAST_PATH_ON;
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
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	size_t path_len = strlen(path);
	if (path_len >= sizeof(addr.sun_path)) {
		return -ENAMETOOLONG;
	}
	memcpy(addr.sun_path, path, path_len + 1);

	struct mmio_client *c = calloc(1, sizeof(*c));
	if (!c) {
		return -ENOMEM;
	}
	TAILQ_INIT(&c->leases);
	c->next_id = 1;
	c->passed_fds[0] = c->passed_fds[1] = -1;
	c->fast_path = fast_path_from_env();
	c->serial = __atomic_add_fetch(&last_serial, 1, __ATOMIC_RELAXED);
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
	c->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		rc = -errno;
		goto err_free;
	}
	if (connect(c->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		rc = -errno;
		char reason[64];
		client_log(MMIO_LOG_ERROR, "connect %s: %s", path,
			   strerror_r(-rc, reason, sizeof(reason)));
		goto err_free;
	}
	rc = say_hello(c);
	if (rc < 0) {
		goto err_free;
	}
	*out = c;
	return 0;

err_free:
	details_free(c);
	close_passed_fds(c);
	wire_close_fd(&c->fd);
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
	client_ring_close(c);
	close_passed_fds(c);
	wire_close_fd(&c->fd);
	details_free(c);
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
	Mmio__Revoke body = MMIO__REVOKE__INIT;
	body.lease = lease_id;
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.body_case = MMIO__REQUEST__BODY_REVOKE;
	req.revoke = &body;
	return call_without_body(c, &req);
}

int
mmio_load(struct mmio_lease *lease, uint64_t offset, unsigned width, uint64_t *value)
{
	int fast = client_fast_op(lease, MMIO_RING_OP_LOAD, offset, width, 0, 0, value);
	if (fast != CLIENT_NOT_FAST) {
		return fast;
	}
	struct mmio_client *c = lease->client;
	Mmio__Load body = MMIO__LOAD__INIT;
	body.lease = lease->id;
	body.offset = offset;
	body.width = width;
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.body_case = MMIO__REQUEST__BODY_LOAD;
	req.load = &body;
	Mmio__Reply *reply;

	int rc = client_call_locked(c, &req, &reply, MMIO__REPLY__BODY_LOAD);
	if (rc == 0) {
		*value = reply->load->value;
	}
	client_free_reply(reply);
	return rc;
}

int
mmio_store(struct mmio_lease *lease, uint64_t offset, unsigned width, uint64_t value)
{
	int fast = client_fast_op(lease, MMIO_RING_OP_STORE, offset, width, value, 0, NULL);
	if (fast != CLIENT_NOT_FAST) {
		return fast;
	}
	struct mmio_client *c = lease->client;
	Mmio__Store body = MMIO__STORE__INIT;
	body.lease = lease->id;
	body.offset = offset;
	body.width = width;
	body.value = value;
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.body_case = MMIO__REQUEST__BODY_STORE;
	req.store = &body;
	return call_without_body(c, &req);
}

#define LOAD_N(bits)                                                                               \
	int mmio_load##bits(struct mmio_lease *lease, uint64_t offset, uint##bits##_t *value)      \
	{                                                                                          \
		uint64_t v;                                                                        \
		int rc = mmio_load(lease, offset, (bits) / 8, &v);                                 \
		if (rc == 0) {                                                                     \
			*value = (uint##bits##_t)v;                                                \
		}                                                                                  \
		return rc;                                                                         \
	}                                                                                          \
	int mmio_store##bits(struct mmio_lease *lease, uint64_t offset, uint##bits##_t value)      \
	{                                                                                          \
		return mmio_store(lease, offset, (bits) / 8, value);                               \
	}
LOAD_N(8)
LOAD_N(16)
LOAD_N(32)
LOAD_N(64)

int
mmio_barrier(struct mmio_lease *lease)
{
	int fast = client_fast_op(lease, MMIO_RING_OP_BARRIER, 0, 0, 0, 0, NULL);
	if (fast != CLIENT_NOT_FAST) {
		return fast;
	}
	struct mmio_client *c = lease->client;
	Mmio__Barrier body = MMIO__BARRIER__INIT;
	body.lease = lease->id;
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.body_case = MMIO__REQUEST__BODY_BARRIER;
	req.barrier = &body;
	return call_without_body(c, &req);
}
