#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "base/log.h"
#include "base/named_fds.h"
#include "base/pool.h"
#include "live_state.h"
#include "net/journal.h"
#include "net/server.h"
#include "notify.h"
#include "restart_export.h"
#include "restart_state.h"

#define LIVE_MAGIC        "mmiodlv"
#define LIVE_FORMAT       1u
#define LIVE_HEADER_BYTES 4096u

struct stored_fd {
	char *name;
	dev_t dev;
	ino_t ino;
	bool seen;
};

static uint64_t
monotonic_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000u + (uint64_t)t.tv_nsec / 1000u;
}

/* Never blocks (notify.h): -EAGAIN while systemd's queue is full. */
static int
notify_fdstore(int fd, const char *name)
{
	char msg[300];
	snprintf(msg, sizeof(msg), "FDSTORE=1\nFDNAME=%s", name);
	return notify_send_fds(msg, &fd, 1);
}

static int
notify_fdstore_remove(const char *name)
{
	char msg[300];
	snprintf(msg, sizeof(msg), "FDSTOREREMOVE=1\nFDNAME=%s", name);
	return notify_send_fds(msg, NULL, 0);
}

static struct stored_fd *
find_stored(struct live_state *ls, const char *name)
{
	for (size_t k = 0; k < ls->n_stored; k++) {
		size_t i = (ls->cursor + k) % ls->n_stored;
		if (strcmp(ls->stored[i].name, name) == 0) {
			ls->cursor = i + 1;
			return &ls->stored[i];
		}
	}
	return NULL;
}

static int
add_stored(struct live_state *ls, const char *name, const struct stat *st)
{
	if (ls->n_stored == ls->cap_stored) {
		size_t cap = ls->cap_stored ? ls->cap_stored * 2 : 64;
		struct stored_fd *v = realloc(ls->stored, cap * sizeof(*v));
		if (!v) {
			return -ENOMEM;
		}
		ls->stored = v;
		ls->cap_stored = cap;
	}
	char *copy = strdup(name);
	if (!copy) {
		return -ENOMEM;
	}
	ls->stored[ls->n_stored++] = (struct stored_fd){
		.name = copy, .dev = st->st_dev, .ino = st->st_ino, .seen = true};
	return 0;
}

void
live_state_seed(struct live_state *ls, const struct named_fds *fds)
{
	for (size_t i = 0; i < fds->n; i++) {
		struct stat st;
		if (fds->v[i].fd >= 0 && fstat(fds->v[i].fd, &st) == 0 &&
		    add_stored(ls, fds->v[i].name, &st) < 0) {
			return; /* out of memory: stale names stay in the store until mmiod stops */
		}
	}
}

/*
 * Makes the store hold exactly the descriptors of fds under their names (the listener is
 * the socket unit's already): new ones handed over, replaced ones (a name now on another
 * file) swapped, gone ones removed. What systemd's full queue refused (-EAGAIN) is not
 * recorded as done, so the next call tries it again.
 */
static int
sync_store(struct live_state *ls, const struct named_fds *fds)
{
	for (size_t i = 0; i < ls->n_stored; i++) {
		ls->stored[i].seen = false;
	}
	for (size_t i = 0; i < fds->n; i++) {
		int fd = fds->v[i].fd;
		struct stat st;
		if (fd == ls->srv->listen_fd || fstat(fd, &st) < 0) {
			continue;
		}
		struct stored_fd *s = find_stored(ls, fds->v[i].name);
		if (s && s->dev == st.st_dev && s->ino == st.st_ino) {
			s->seen = true;
			continue;
		}
		int rc = s ? notify_fdstore_remove(s->name) : 0;
		if (rc == 0) {
			rc = notify_fdstore(fd, fds->v[i].name);
		}
		if (rc == 0 && s) {
			s->dev = st.st_dev;
			s->ino = st.st_ino;
		} else if (rc == 0) {
			rc = add_stored(ls, fds->v[i].name, &st);
		}
		if (rc < 0) {
			return rc;
		}
	}
	size_t kept = 0;
	int rc = 0;
	for (size_t i = 0; i < ls->n_stored; i++) {
		if (!ls->stored[i].seen && rc == 0 &&
		    (rc = notify_fdstore_remove(ls->stored[i].name)) == 0) {
			free(ls->stored[i].name);
		} else {
			ls->stored[kept++] = ls->stored[i];
		}
	}
	ls->n_stored = kept;
	ls->cursor = 0;
	return rc;
}

static uint64_t
page_up(uint64_t n)
{
	return (n + LIVE_HEADER_BYTES - 1) & ~(uint64_t)(LIVE_HEADER_BYTES - 1);
}

/* Into the slot that is not current, somewhere the current one is not; then it is current. */
static int
write_slot(struct live_state *ls, const MmiodState__State *st)
{
	uint8_t *buf;
	size_t len;
	int rc = restart_state_pack(st, &buf, &len);
	if (rc < 0) {
		return rc;
	}
	struct live_header *h = ls->hdr;
	uint32_t cur = h->current;
	uint32_t next = cur == 0 ? 1 : 0;
	uint64_t off = LIVE_HEADER_BYTES;
	if (cur != LIVE_NONE && h->slot_off[cur] < off + len) {
		off = page_up(h->slot_off[cur] + h->slot_len[cur]);
	}
	rc = restart_state_write_at(ls->fd, buf, len, off);
	free(buf);
	if (rc < 0) {
		return rc;
	}
	h->slot_off[next] = off;
	h->slot_len[next] = len;
	h->generation++;
	__atomic_store_n(&h->current, next, __ATOMIC_RELEASE);
	return 0;
}

static void
live_write(void *arg)
{
	struct live_state *ls = arg;
	uint64_t t0 = monotonic_us();
	struct pool p;
	pool_init(&p);
	struct named_fds fds;
	named_fds_init(&fds);
	MmiodState__State st = MMIOD_STATE__STATE__INIT;
	int rc = restart_build_state(ls->srv, ls->regions, &st, &p, &fds, true);
	int stored = 0;
	if (rc == 0) {
		st.paused_ns = st.written_ns;
		stored = sync_store(ls, &fds);
		/* The state all the same: what is stored already is restored after a crash. */
		rc = stored == -EAGAIN ? 0 : stored;
	}
	if (rc == 0) {
		rc = write_slot(ls, &st);
	}
	if (rc == 0) {
		log_debug("kept state %" PRIu64 ": %zu connections, %zu descriptors, %" PRIu64
			  " bytes, in %" PRIu64 " us",
			  ls->hdr->generation, st.n_conns, fds.n,
			  ls->hdr->slot_len[ls->hdr->current], (monotonic_us() - t0));
	}
	named_fds_forget(&fds); /* all still in use */
	pool_finish(&p);
	if (stored == -EAGAIN && ls->retry) {
		/* systemd has not read its queue yet: the rest once it has room, no polling. */
		event_add(ls->retry, NULL);
	}
	if (rc < 0 && !ls->failed) {
		log_error("the state kept for a crash could not be written (%s): a crash now "
			  "revokes what changed since",
			  strerror(-rc));
	} else if (rc == 0 && ls->failed) {
		log_info("the state kept for a crash is written again");
	}
	ls->failed = rc < 0;
}

static void
retry_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct live_state *ls = arg;
	journal_changed(ls->srv);
}

int
live_state_start(struct live_state *ls, struct server *srv, const struct region_table *regions)
{
	ls->srv = srv;
	ls->regions = regions;
	ls->retry =
		notify_fd() >= 0 ? event_new(srv->base, notify_fd(), EV_WRITE, retry_cb, ls) : NULL;
	ls->fd = memfd_create(LIVE_STATE_FDNAME, MFD_CLOEXEC);
	int rc = ls->fd < 0 ? -errno : 0;
	if (rc == 0 && ftruncate(ls->fd, LIVE_HEADER_BYTES) < 0) {
		rc = -errno;
	}
	void *map = MAP_FAILED;
	if (rc == 0) {
		map = mmap(NULL, LIVE_HEADER_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, ls->fd, 0);
		rc = map == MAP_FAILED ? -errno : 0;
	}
	if (rc == 0) {
		ls->hdr = map;
		memcpy(ls->hdr->magic, LIVE_MAGIC, sizeof(ls->hdr->magic));
		ls->hdr->format = LIVE_FORMAT;
		ls->hdr->current = LIVE_NONE;
		/* One copy in the store: a re-exec's predecessor left its own there. */
		rc = notify_fdstore_remove(LIVE_STATE_FDNAME);
		if (rc == 0) {
			rc = notify_fdstore(ls->fd, LIVE_STATE_FDNAME);
		}
	}
	if (rc == 0) {
		rc = journal_install(srv, live_write, ls, &ls->hdr->serving);
	}
	if (rc < 0) {
		log_error("cannot keep the state for a crash (%s): a crash revokes every lease",
			  strerror(-rc));
		live_state_stop(ls, true);
		return rc;
	}
	return 0;
}

void
live_state_stop(struct live_state *ls, bool forget)
{
	if (ls->srv) {
		journal_remove(ls->srv);
	}
	if (ls->retry) {
		event_free(ls->retry);
		ls->retry = NULL;
	}
	/* Best effort: what a full queue refuses, systemd drops with the unit's stop anyway;
	 * the state goes first, so nothing is restored whatever else stays. */
	if (forget && ls->fd >= 0 && notify_fdstore_remove(LIVE_STATE_FDNAME) == -EAGAIN) {
		/* The one that matters; at exit, a bounded wait for systemd to read is fine. */
		struct pollfd p = {.fd = notify_fd(), .events = POLLOUT};
		if (poll(&p, 1, 1000) == 1 && notify_fdstore_remove(LIVE_STATE_FDNAME) < 0) {
			log_warn("the state kept for a crash is still in systemd's store");
		}
	}
	for (size_t i = 0; forget && ls->fd >= 0 && i < ls->n_stored; i++) {
		(void)notify_fdstore_remove(ls->stored[i].name);
	}
	if (ls->hdr) {
		munmap(ls->hdr, LIVE_HEADER_BYTES);
		ls->hdr = NULL;
	}
	if (ls->fd >= 0) {
		close(ls->fd);
	}
	ls->fd = -1;
	for (size_t i = 0; i < ls->n_stored; i++) {
		free(ls->stored[i].name);
	}
	free(ls->stored);
	ls->stored = NULL;
	ls->n_stored = ls->cap_stored = 0;
}

int
live_state_read(int fd, MmiodState__State **out, uint64_t *serving, char *err, size_t errlen)
{
	struct live_header h;
	if (pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
	    memcmp(h.magic, LIVE_MAGIC, sizeof(h.magic)) != 0) {
		snprintf(err, errlen, "the copy kept for a crash has no header");
		return -EPROTO;
	}
	if (h.format > LIVE_FORMAT) {
		snprintf(err, errlen, "the copy kept for a crash is of format %u, newer than %u",
			 h.format, LIVE_FORMAT);
		return -EPROTONOSUPPORT;
	}
	if (h.current > 1) {
		snprintf(err, errlen, "no state was written before the crash");
		return -EPROTO;
	}
	*serving = h.serving;
	return restart_state_read_at(fd, h.slot_off[h.current], false, out, err, errlen);
}
