#include <errno.h>
#include <linux/futex.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "ring_client.h"

void
ring_client_map(struct ring_client *c, int memfd, int doorbell)
{
	struct stat st;
	assert_int_equal(fstat(memfd, &st), 0);
	c->size = (size_t)st.st_size;
	/* Reading a header the memfd does not hold would be SIGBUS, not a failure. */
	assert_true(c->size >= sizeof(struct mmio_ring_header));
	void *map = mmap(NULL, c->size, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	assert_true(map != MAP_FAILED);
	c->hdr = map;
	/* Only what the header says, once checked: a client knows nothing else. */
	uint32_t n = c->hdr->entries;
	assert_int_equal(c->hdr->magic, MMIO_RING_MAGIC);
	assert_int_equal(c->hdr->version, MMIO_RING_VERSION);
	assert_true(n >= 1 && n <= MMIO_RING_MAX_ENTRIES && (n & (n - 1)) == 0);
	assert_int_equal(c->hdr->sq_offset, MMIO_RING_SQ_OFFSET);
	assert_int_equal(c->hdr->cq_offset, MMIO_RING_CQ_OFFSET(n));
	assert_int_equal(c->hdr->size, MMIO_RING_SIZE(n));
	assert_int_equal(c->size, MMIO_RING_SIZE(n));
	c->entries = n;
	c->sq = (struct mmio_ring_sqe *)((char *)map + c->hdr->sq_offset);
	c->cq = (struct mmio_ring_cqe *)((char *)map + c->hdr->cq_offset);
	c->doorbell = doorbell;
}

int
ring_client_unmap(struct ring_client *c)
{
	return munmap(c->hdr, c->size);
}

struct mmio_ring_sqe
ring_client_sqe(uint8_t op, uint64_t lease, uint64_t offset, uint8_t width, uint64_t value,
		uint64_t mask, uint64_t user_data)
{
	return (struct mmio_ring_sqe){.user_data = user_data,
				      .lease = lease,
				      .offset = offset,
				      .value = value,
				      .mask = mask,
				      .op = op,
				      .width = width};
}

int
ring_client_submit(struct ring_client *c, struct mmio_ring_sqe sqe)
{
	uint32_t tail = __atomic_load_n(&c->hdr->sq_tail, __ATOMIC_RELAXED);
	c->sq[tail & (c->entries - 1)] = sqe;
	__atomic_store_n(&c->hdr->sq_tail, tail + 1, __ATOMIC_SEQ_CST);
	return ring_client_kick(c);
}

int
ring_client_kick(const struct ring_client *c)
{
	/* Pairs with mmiod's store of daemon_sleeping before it re-reads sq_tail and cq_head. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (c->doorbell < 0 || !__atomic_load_n(&c->hdr->daemon_sleeping, __ATOMIC_SEQ_CST)) {
		return 0;
	}
	int rc = ring_client_doorbell(c);
	return rc < 0 ? rc : 1;
}

int
ring_client_doorbell(const struct ring_client *c)
{
	uint64_t one = 1;
	return write(c->doorbell, &one, sizeof(one)) == sizeof(one) ? 0 : -errno;
}

void
ring_client_spin(const struct ring_client *c)
{
	uint32_t head = __atomic_load_n(&c->hdr->cq_head, __ATOMIC_RELAXED);
	while (__atomic_load_n(&c->hdr->cq_tail, __ATOMIC_ACQUIRE) == head) {
		sched_yield();
	}
}

/* One deadline for a whole wait: each futex sleep takes only what is left of it. */
static struct timespec
deadline_in(long ms)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_sec += ms / 1000 + (t.tv_nsec + (ms % 1000) * 1000000L) / 1000000000L;
	t.tv_nsec = (t.tv_nsec + (ms % 1000) * 1000000L) % 1000000000L;
	return t;
}

/* Sleeps on a shared futex word of the ring while it still holds val, at most until deadline. */
static void
futex_wait(uint32_t *word, uint32_t val, const struct timespec *deadline, int guard_ms)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	long left = (deadline->tv_sec - now.tv_sec) * 1000L +
		    (deadline->tv_nsec - now.tv_nsec) / 1000000L;
	if (left <= 0) {
		fail_msg("futex word still %u after %d ms", val, guard_ms);
	}
	struct timespec t = {.tv_sec = left / 1000, .tv_nsec = (left % 1000) * 1000000L};
	/* Not FUTEX_PRIVATE: mmiod wakes it from its own mapping. EAGAIN, EINTR: look again. */
	syscall(SYS_futex, word, FUTEX_WAIT, val, &t, NULL, 0);
}

void
ring_client_wait(struct ring_client *c, uint32_t n, int guard_ms)
{
	struct timespec deadline = deadline_in(guard_ms);
	uint32_t head = __atomic_load_n(&c->hdr->cq_head, __ATOMIC_RELAXED);
	uint32_t tail;
	while ((tail = __atomic_load_n(&c->hdr->cq_tail, __ATOMIC_ACQUIRE)) - head < n) {
		__atomic_store_n(&c->hdr->client_waiting, 1, __ATOMIC_SEQ_CST);
		/* Pairs with mmiod's publishing of cq_tail before it reads client_waiting. */
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (__atomic_load_n(&c->hdr->cq_tail, __ATOMIC_ACQUIRE) == tail) {
			futex_wait(&c->hdr->cq_tail, tail, &deadline, guard_ms);
		}
	}
	__atomic_store_n(&c->hdr->client_waiting, 0, __ATOMIC_SEQ_CST);
}

void
ring_client_wait_sleeping(struct ring_client *c, int guard_ms)
{
	struct timespec deadline = deadline_in(guard_ms);
	while (__atomic_load_n(&c->hdr->daemon_sleeping, __ATOMIC_SEQ_CST) == 0) {
		futex_wait(&c->hdr->daemon_sleeping, 0, &deadline, guard_ms);
	}
}

struct mmio_ring_cqe
ring_client_reap(struct ring_client *c)
{
	uint32_t head = c->hdr->cq_head;
	assert_true(__atomic_load_n(&c->hdr->cq_tail, __ATOMIC_ACQUIRE) != head);
	struct mmio_ring_cqe cqe = c->cq[head & (c->entries - 1)];
	__atomic_store_n(&c->hdr->cq_head, head + 1, __ATOMIC_RELEASE);
	return cqe;
}
