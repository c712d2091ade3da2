#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/fd_closer.h"
#include "request/ring.h"
#include "wire.h"

/* The shared words are plain uint32_t in the ABI; access them only through these. */
#define LOAD_ACQ(p)     __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define STORE_REL(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)

static uint32_t
round_entries(uint32_t n)
{
	if (n == 0) {
		return MMIO_RING_DEFAULT_ENTRIES;
	}
	uint32_t p = 1;
	while (p < n && p < MMIO_RING_MAX_ENTRIES) {
		p <<= 1;
	}
	return p;
}

/*
 * A descriptor of the ring's memory of our own, for a successor (a restart re-attaches the same
 * memory): a new open of the memfd, not a copy of the one the client gets, which would share its
 * file status. -1 without /proc: the ring then cannot be handed over.
 */
static int
keep_memory(int memfd)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
	return open(path, O_RDWR | O_CLOEXEC);
}

int
ring_create(uint32_t entries, struct ring **out, int *memfd, int *doorbell)
{
	struct ring *r = calloc(1, sizeof(*r));
	if (!r) {
		return -ENOMEM;
	}
	r->entries = round_entries(entries);
	r->size = MMIO_RING_SIZE(r->entries);
	r->doorbell_fd = -1;
	r->memfd = -1;
	int fd = memfd_create("mmiod-ring", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0) {
		int rc = -errno;
		free(r);
		return rc;
	}
	/*
	 * Sealed against shrinking: a client that could truncate the memfd would
	 * make our next access to the ring a SIGBUS.
	 */
	/*
	 * The doorbell is a socket pair, not an eventfd: the client must get an
	 * object of its own. Two copies of one eventfd share its O_NONBLOCK, and a
	 * client that cleared it and drained the count first would block our read
	 * for good. (Not a pipe either: its writer dies of SIGPIPE once we are gone.)
	 */
	void *map = MAP_FAILED;
	int bell[2] = {-1, -1};
	if (ftruncate(fd, r->size) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0 ||
	    (map = mmap(NULL, r->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) == MAP_FAILED ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, bell) < 0 ||
	    fd_closer_guard(bell[0]) < 0) {
		int rc = -errno;
		if (map != MAP_FAILED) {
			munmap(map, r->size);
		}
		wire_close_fd(&bell[0]);
		wire_close_fd(&bell[1]);
		close(fd);
		free(r);
		return rc;
	}
	r->doorbell_fd = bell[0];
	r->memfd = keep_memory(fd);
	r->hdr = map;
	r->hdr->magic = MMIO_RING_MAGIC;
	r->hdr->version = MMIO_RING_VERSION;
	r->hdr->entries = r->entries;
	r->hdr->sq_offset = MMIO_RING_SQ_OFFSET;
	r->hdr->cq_offset = MMIO_RING_CQ_OFFSET(r->entries);
	r->hdr->size = r->size;
	r->sq = (struct mmio_ring_sqe *)((char *)map + MMIO_RING_SQ_OFFSET);
	r->cq = (struct mmio_ring_cqe *)((char *)map + MMIO_RING_CQ_OFFSET(r->entries));
	*out = r;
	*memfd = fd;
	*doorbell = bell[1];
	return 0;
}

void
ring_destroy(struct ring *r)
{
	if (!r) {
		return;
	}
	munmap(r->hdr, r->size);
	fd_closer_close_socket(&r->doorbell_fd); /* the client's end can pass it descriptors */
	wire_close_fd(&r->memfd);
	free(r);
}

int
ring_adopt(int memfd, int doorbell, uint32_t entries, uint32_t sq_head, uint32_t cq_tail,
	   bool groups, struct ring **out)
{
	struct stat st;
	if (entries == 0 || entries > MMIO_RING_MAX_ENTRIES || (entries & (entries - 1)) != 0 ||
	    fstat(memfd, &st) < 0 || st.st_size != (off_t)MMIO_RING_SIZE(entries)) {
		return -EINVAL;
	}
	struct ring *r = calloc(1, sizeof(*r));
	if (!r) {
		return -ENOMEM;
	}
	void *map =
		mmap(NULL, MMIO_RING_SIZE(entries), PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	if (map == MAP_FAILED) {
		int rc = -errno;
		free(r);
		return rc;
	}
	r->entries = entries;
	r->size = MMIO_RING_SIZE(entries);
	r->hdr = map;
	r->sq = (struct mmio_ring_sqe *)((char *)map + MMIO_RING_SQ_OFFSET);
	r->cq = (struct mmio_ring_cqe *)((char *)map + MMIO_RING_CQ_OFFSET(entries));
	r->sq_head = sq_head;
	r->cq_tail = cq_tail;
	r->cq_published = cq_tail; /* a pause falls between passes: all was published */
	r->groups = groups;
	r->memfd = memfd;
	r->doorbell_fd = doorbell;
	*out = r;
	return 0;
}

void
ring_take_published_indices(struct ring *r)
{
	r->sq_head = LOAD_ACQ(&r->hdr->sq_head);
	r->cq_tail = LOAD_ACQ(&r->hdr->cq_tail);
	r->cq_published = r->cq_tail;
}

bool
ring_pending(const struct ring *r)
{
	/* A full CQ is not work: a client that never takes completions must not keep us up. */
	uint32_t unread = r->cq_tail - LOAD_ACQ(&r->hdr->cq_head);
	return LOAD_ACQ(&r->hdr->sq_tail) != r->sq_head && unread != r->entries;
}

int
ring_next(struct ring *r, struct mmio_ring_sqe *sqe)
{
	uint32_t tail = LOAD_ACQ(&r->hdr->sq_tail);
	uint32_t waiting = tail - r->sq_head;
	uint32_t unread = r->cq_tail - LOAD_ACQ(&r->hdr->cq_head);
	if (waiting > r->entries || unread > r->entries) {
		return -EPROTO;
	}
	if (waiting == 0 || unread == r->entries) {
		return 0;
	}
	/* One copy: the client may rewrite the slot while we check what we copied. */
	memcpy(sqe, &r->sq[r->sq_head & (r->entries - 1)], sizeof(*sqe));
	r->sq_head++;
	STORE_REL(&r->hdr->sq_head, r->sq_head);
	return 1;
}

int
ring_peek(struct ring *r, struct mmio_ring_sqe *sqes, uint32_t max)
{
	uint32_t waiting = LOAD_ACQ(&r->hdr->sq_tail) - r->sq_head;
	uint32_t unread = r->cq_tail - LOAD_ACQ(&r->hdr->cq_head);
	if (waiting > r->entries || unread > r->entries) {
		return -EPROTO;
	}
	uint32_t n = waiting < max ? waiting : max;
	for (uint32_t i = 0; i < n; i++) {
		/* One copy each: the client may rewrite a slot while we check what we copied. */
		memcpy(&sqes[i], &r->sq[(r->sq_head + i) & (r->entries - 1)], sizeof(sqes[i]));
	}
	return (int)n;
}

void
ring_consume(struct ring *r, uint32_t n)
{
	r->sq_head += n;
	STORE_REL(&r->hdr->sq_head, r->sq_head);
}

uint32_t
ring_cq_room(const struct ring *r)
{
	uint32_t unread = r->cq_tail - LOAD_ACQ(&r->hdr->cq_head);
	return unread > r->entries ? 0 : r->entries - unread;
}

void
ring_put_completion(struct ring *r, const struct mmio_ring_cqe *cqe, const char *detail)
{
	if (detail) {
		size_t n = strnlen(detail, MMIO_RING_DETAIL - 1);
		memcpy(r->hdr->detail, detail, n);
		r->hdr->detail[n] = '\0';
		r->hdr->detail_user_data = cqe->user_data;
	}
	r->cq[r->cq_tail & (r->entries - 1)] = *cqe;
	r->cq_tail++;
}

void
ring_complete(struct ring *r, const struct mmio_ring_cqe *cqe, const char *detail)
{
	ring_put_completion(r, cqe, detail);
	ring_publish(r);
}

void
ring_publish(struct ring *r)
{
	if (r->cq_published == r->cq_tail) {
		return;
	}
	r->cq_published = r->cq_tail;
	__atomic_store_n(&r->hdr->cq_tail, r->cq_tail, __ATOMIC_SEQ_CST);
	/* Pairs with the client's store of client_waiting before it re-reads cq_tail. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__atomic_load_n(&r->hdr->client_waiting, __ATOMIC_RELAXED)) {
		/* Not FUTEX_PRIVATE: the word is in a mapping two processes share. */
		syscall(SYS_futex, &r->hdr->cq_tail, FUTEX_WAKE, 1, NULL, NULL, 0);
	}
}

bool
ring_prepare_sleep(struct ring *r)
{
	__atomic_store_n(&r->hdr->daemon_sleeping, 1, __ATOMIC_SEQ_CST);
	/* Pairs with the client's publishing of sq_tail before it reads daemon_sleeping. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (ring_pending(r)) {
		__atomic_store_n(&r->hdr->daemon_sleeping, 0, __ATOMIC_RELAXED);
		return false;
	}
	/* For whoever waits to see mmiod idle (tests, mmio-bench); rare: once per idle spell. */
	syscall(SYS_futex, &r->hdr->daemon_sleeping, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
	return true;
}

int
ring_wake(struct ring *r)
{
	__atomic_store_n(&r->hdr->daemon_sleeping, 0, __ATOMIC_RELAXED);
	/*
	 * Our own nonblocking end: nothing to read is fine, and what was written
	 * means nothing. Bounded: a client writing as fast as we read must not keep
	 * us here. Descriptors it attached go where closing them cannot stall us.
	 */
	char bytes[256];
	int fds[WIRE_MAX_RECV_FDS];
	for (int i = 0; i < 16; i++) {
		unsigned n_fds;
		ssize_t n = wire_recv_keep_fds(r->doorbell_fd, bytes, sizeof(bytes), fds, &n_fds);
		for (unsigned k = 0; k < n_fds; k++) {
			fd_closer_close(&fds[k]);
		}
		if (n == 0 || (n < 0 && n != -EAGAIN && n != -EMSGSIZE)) {
			return -EPIPE;
		}
		if (n < (ssize_t)sizeof(bytes)) {
			return 0;
		}
	}
	return 0;
}
