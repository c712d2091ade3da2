/*
 * ring.c (the queue mechanics of the shared-memory fast path, proto/mmio_ring.h)
 * and dispatch_ring() end to end. The client's side is played through a second
 * mapping of the memfd, as a client process would map it: every index and slot
 * the tests write goes through that mapping, never through mmiod's.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "backend.h"
#include "conf.h"
#include "dispatch.h"
#include "lease.h"
#include "mmio.pb-c.h"
#include "mmio_ring.h"
#include "region.h"
#include "ring.h"
#include "service.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* The ABI of proto/mmio_ring.h: a client built elsewhere relies on these. */
_Static_assert(sizeof(struct mmio_ring_sqe) == 48, "sqe size");
_Static_assert(sizeof(struct mmio_ring_cqe) == 24, "cqe size");
_Static_assert(offsetof(struct mmio_ring_header, sq_tail) == 64, "client line");
_Static_assert(offsetof(struct mmio_ring_header, sq_head) == 128, "mmiod line");
_Static_assert(offsetof(struct mmio_ring_header, detail) == 192, "detail");
_Static_assert(sizeof(struct mmio_ring_header) == 384, "header size");

/* The client's view of a ring: its own mapping of the memfd. */
struct client {
	struct mmio_ring_header *hdr;
	struct mmio_ring_sqe *sq;
	struct mmio_ring_cqe *cq;
	uint32_t entries;
	size_t size;
};

static void
client_map(struct client *c, int memfd)
{
	struct stat st;
	assert_int_equal(fstat(memfd, &st), 0);
	c->size = (size_t)st.st_size;
	void *map = mmap(NULL, c->size, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	assert_true(map != MAP_FAILED);
	c->hdr = map;
	/* Only what the header says: a client knows nothing else. */
	c->entries = c->hdr->entries;
	c->sq = (struct mmio_ring_sqe *)((char *)map + c->hdr->sq_offset);
	c->cq = (struct mmio_ring_cqe *)((char *)map + c->hdr->cq_offset);
}

static void
client_unmap(struct client *c)
{
	assert_int_equal(munmap(c->hdr, c->size), 0);
}

/* Writes sqe in the client's next slot and publishes it. */
static void
client_submit(struct client *c, struct mmio_ring_sqe sqe)
{
	uint32_t tail = c->hdr->sq_tail;
	c->sq[tail & (c->entries - 1)] = sqe;
	__atomic_store_n(&c->hdr->sq_tail, tail + 1, __ATOMIC_RELEASE);
}

static struct mmio_ring_sqe
sqe_of(uint8_t op, uint64_t lease, uint64_t offset, uint8_t width, uint64_t value, uint64_t mask,
       uint64_t user_data)
{
	return (struct mmio_ring_sqe){.user_data = user_data,
				      .lease = lease,
				      .offset = offset,
				      .value = value,
				      .mask = mask,
				      .op = op,
				      .width = width};
}

/* The next completion, consumed. */
static struct mmio_ring_cqe
client_reap(struct client *c)
{
	uint32_t head = c->hdr->cq_head;
	assert_true(__atomic_load_n(&c->hdr->cq_tail, __ATOMIC_ACQUIRE) != head);
	struct mmio_ring_cqe cqe = c->cq[head & (c->entries - 1)];
	__atomic_store_n(&c->hdr->cq_head, head + 1, __ATOMIC_RELEASE);
	return cqe;
}

/* ---- ring.c alone ---- */

struct ring_fixture {
	struct ring *r;
	int memfd;
	struct client c;
};

static int
setup_ring(void **state, uint32_t entries)
{
	struct ring_fixture *f = test_calloc(1, sizeof(*f));
	assert_int_equal(ring_create(entries, &f->r, &f->memfd), 0);
	client_map(&f->c, f->memfd);
	*state = f;
	return 0;
}

static int
setup_ring4(void **state)
{
	return setup_ring(state, 4);
}

static int
teardown_ring(void **state)
{
	struct ring_fixture *f = *state;
	client_unmap(&f->c);
	close(f->memfd);
	ring_destroy(f->r);
	test_free(f);
	return 0;
}

static void
test_ring_create_entries(void **state)
{
	(void)state;
	static const struct {
		uint32_t asked, got;
	} cases[] = {
		{0, MMIO_RING_DEFAULT_ENTRIES},
		{1, 1},
		{2, 2},
		{3, 4},
		{5, 8},
		{64, 64},
		{65, 128},
		{256, 256},
		{257, 256},
		{1000, 256},
		{UINT32_MAX, MMIO_RING_MAX_ENTRIES},
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct ring *r;
		int memfd;
		assert_int_equal(ring_create(cases[i].asked, &r, &memfd), 0);
		uint32_t e = cases[i].got;
		if (r->entries != e) {
			print_error("asked %u entries\n", cases[i].asked);
		}
		assert_int_equal(r->entries, e);
		uint32_t sq_off = (uint32_t)sizeof(struct mmio_ring_header);
		uint32_t cq_off = sq_off + e * (uint32_t)sizeof(struct mmio_ring_sqe);
		uint32_t size = cq_off + e * (uint32_t)sizeof(struct mmio_ring_cqe);
		assert_int_equal(MMIO_RING_SQ_OFFSET, sq_off);
		assert_int_equal(MMIO_RING_CQ_OFFSET(e), cq_off);
		assert_int_equal(MMIO_RING_SIZE(e), size);
		assert_int_equal(r->size, size);

		const struct mmio_ring_header *h = r->hdr;
		assert_int_equal(h->magic, MMIO_RING_MAGIC);
		assert_int_equal(h->version, MMIO_RING_VERSION);
		assert_int_equal(h->entries, e);
		assert_int_equal(h->sq_offset, sq_off);
		assert_int_equal(h->cq_offset, cq_off);
		assert_int_equal(h->size, size);
		assert_ptr_equal(r->sq, (const char *)h + sq_off);
		assert_ptr_equal(r->cq, (const char *)h + cq_off);
		/* Everything else starts at zero, ours and the client's. */
		assert_int_equal(h->sq_tail, 0);
		assert_int_equal(h->cq_head, 0);
		assert_int_equal(h->client_waiting, 0);
		assert_int_equal(h->sq_head, 0);
		assert_int_equal(h->cq_tail, 0);
		assert_int_equal(h->daemon_sleeping, 0);
		assert_int_equal(h->detail[0], '\0');
		assert_int_equal(r->sq_head, 0);
		assert_int_equal(r->cq_tail, 0);

		struct stat st;
		assert_int_equal(fstat(memfd, &st), 0);
		assert_int_equal(st.st_size, size);
		assert_true(fcntl(memfd, F_GETFD) & FD_CLOEXEC);
		/* The doorbell: an eventfd we read without blocking, not inherited. */
		assert_true(r->doorbell_fd >= 0);
		assert_true(fcntl(r->doorbell_fd, F_GETFL) & O_NONBLOCK);
		assert_true(fcntl(r->doorbell_fd, F_GETFD) & FD_CLOEXEC);
		close(memfd);
		ring_destroy(r);
	}
	ring_destroy(NULL);
}

static void
test_ring_memfd_sealed(void **state)
{
	struct ring_fixture *f = *state;
	int seals = fcntl(f->memfd, F_GET_SEALS);
	assert_true(seals >= 0);
	int want = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL;
	assert_int_equal(seals & want, want);
	/* Not write-sealed: the client must write its side. */
	assert_int_equal(seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE), 0);

	errno = 0;
	assert_int_equal(ftruncate(f->memfd, f->r->size - 1), -1);
	assert_int_equal(errno, EPERM);
	errno = 0;
	assert_int_equal(ftruncate(f->memfd, 0), -1);
	assert_int_equal(errno, EPERM);
	errno = 0;
	assert_int_equal(ftruncate(f->memfd, (off_t)f->r->size + 4096), -1);
	assert_int_equal(errno, EPERM);
	/* Nor can the seals be loosened or added to. */
	errno = 0;
	assert_int_equal(fcntl(f->memfd, F_ADD_SEALS, F_SEAL_WRITE), -1);
	assert_int_equal(errno, EPERM);
	struct stat st;
	assert_int_equal(fstat(f->memfd, &st), 0);
	assert_int_equal(st.st_size, f->r->size);
}

static void
test_ring_second_mapping_is_shared(void **state)
{
	struct ring_fixture *f = *state;
	struct client *c = &f->c;
	/* What mmiod wrote, the client sees. */
	assert_int_equal(c->size, f->r->size);
	assert_int_equal(c->hdr->magic, MMIO_RING_MAGIC);
	assert_int_equal(c->entries, 4);
	assert_ptr_not_equal(c->hdr, f->r->hdr);
	/* What the client writes, mmiod sees: indices and slots. */
	c->hdr->sq_tail = 3;
	c->sq[2].user_data = 0x1234;
	assert_int_equal(f->r->hdr->sq_tail, 3);
	assert_int_equal(f->r->sq[2].user_data, 0x1234);
	/* And the other way round, through ring_complete(). */
	c->hdr->sq_tail = 0;
	struct mmio_ring_cqe cqe = {.user_data = 77, .value = 5, .status = MMIO__STATUS__OK};
	ring_complete(f->r, &cqe, NULL);
	assert_int_equal(c->hdr->cq_tail, 1);
	assert_int_equal(c->cq[0].user_data, 77);
	assert_int_equal(c->cq[0].value, 5);
}

static void
test_ring_next_empty(void **state)
{
	struct ring_fixture *f = *state;
	struct mmio_ring_sqe sqe;
	memset(&sqe, 0xa5, sizeof(sqe));
	struct mmio_ring_sqe untouched = sqe;
	assert_int_equal(ring_next(f->r, &sqe), 0);
	assert_memory_equal(&sqe, &untouched, sizeof(sqe));
	assert_int_equal(f->r->sq_head, 0);
	assert_int_equal(f->c.hdr->sq_head, 0);
	assert_false(ring_pending(f->r));
}

static void
test_ring_next_copies(void **state)
{
	struct ring_fixture *f = *state;
	struct client *c = &f->c;
	struct mmio_ring_sqe in = sqe_of(MMIO_RING_OP_STORE, 9, 0x10, 4, 0xdeadbeef, 0xff, 42);
	memset(in.reserved, 0x5a, sizeof(in.reserved));
	client_submit(c, in);
	assert_true(ring_pending(f->r));

	struct mmio_ring_sqe out;
	assert_int_equal(ring_next(f->r, &out), 1);
	assert_memory_equal(&out, &in, sizeof(out));
	assert_int_equal(f->r->sq_head, 1);
	assert_int_equal(c->hdr->sq_head, 1);
	assert_false(ring_pending(f->r));

	/* The client rewriting the slot afterwards changes nothing of ours. */
	memset(&c->sq[0], 0xff, sizeof(c->sq[0]));
	assert_memory_equal(&out, &in, sizeof(out));
	assert_int_equal(ring_next(f->r, &out), 0);
	assert_memory_equal(&out, &in, sizeof(out));
}

static void
test_ring_next_sq_out_of_step(void **state)
{
	struct ring_fixture *f = *state;
	struct client *c = &f->c;
	struct mmio_ring_sqe sqe;
	/* entries waiting is a full queue, legal; one more is not. */
	c->hdr->sq_tail = 5;
	assert_int_equal(ring_next(f->r, &sqe), -EPROTO);
	c->hdr->sq_tail = UINT32_MAX; /* behind sq_head: 2^32 - 1 waiting */
	assert_int_equal(ring_next(f->r, &sqe), -EPROTO);
	c->hdr->sq_tail = 0x80000000u;
	assert_int_equal(ring_next(f->r, &sqe), -EPROTO);
	/* Nothing was taken, and our published sq_head stayed. */
	assert_int_equal(f->r->sq_head, 0);
	assert_int_equal(c->hdr->sq_head, 0);

	c->hdr->sq_tail = 4;
	for (int i = 0; i < 4; i++) {
		assert_int_equal(ring_next(f->r, &sqe), 1);
	}
	assert_int_equal(ring_next(f->r, &sqe), 0);
	/* sq_tail may not move back past what we took. */
	c->hdr->sq_tail = 3;
	assert_int_equal(ring_next(f->r, &sqe), -EPROTO);
	/* A client scribbling over our sq_head changes nothing: we keep our own copy. */
	c->hdr->sq_tail = 4;
	c->hdr->sq_head = 1000;
	assert_int_equal(ring_next(f->r, &sqe), 0);
	assert_int_equal(f->r->sq_head, 4);
}

static void
test_ring_next_cq_head_beyond_tail(void **state)
{
	struct ring_fixture *f = *state;
	struct client *c = &f->c;
	struct mmio_ring_sqe sqe;
	struct mmio_ring_cqe cqe = {.status = MMIO__STATUS__OK};
	/* Even with nothing submitted, a cq_head past cq_tail is out of step. */
	c->hdr->cq_head = 1;
	assert_int_equal(ring_next(f->r, &sqe), -EPROTO);
	c->hdr->cq_head = 0;
	ring_complete(f->r, &cqe, NULL);
	ring_complete(f->r, &cqe, NULL);
	client_submit(c, (struct mmio_ring_sqe){.op = MMIO_RING_OP_BARRIER});
	c->hdr->cq_head = 3;
	assert_int_equal(ring_next(f->r, &sqe), -EPROTO);
	/* Behind cq_tail by more than a queue: as impossible. */
	c->hdr->cq_head = (uint32_t)-3;
	assert_int_equal(ring_next(f->r, &sqe), -EPROTO);
	assert_int_equal(f->r->sq_head, 0);
	/* cq_head == cq_tail (all consumed) and below it (some unread) are fine. */
	c->hdr->cq_head = 2;
	assert_int_equal(ring_next(f->r, &sqe), 1);
	client_submit(c, (struct mmio_ring_sqe){.op = MMIO_RING_OP_BARRIER});
	c->hdr->cq_head = 0;
	assert_int_equal(ring_next(f->r, &sqe), 1);
}

static void
test_ring_next_cq_full(void **state)
{
	struct ring_fixture *f = *state;
	struct client *c = &f->c;
	struct mmio_ring_sqe sqe;
	for (uint64_t i = 0; i < 4; i++) {
		client_submit(c, (struct mmio_ring_sqe){.user_data = i});
		assert_int_equal(ring_next(f->r, &sqe), 1);
		struct mmio_ring_cqe cqe = {.user_data = i, .status = MMIO__STATUS__OK};
		ring_complete(f->r, &cqe, NULL);
	}
	/* Four completions unread: one more submission must wait, not break the ring. */
	client_submit(c, (struct mmio_ring_sqe){.user_data = 4});
	assert_int_equal(ring_next(f->r, &sqe), 0);
	assert_int_equal(ring_next(f->r, &sqe), 0);
	assert_int_equal(f->r->sq_head, 4);
	assert_int_equal(c->hdr->sq_head, 4);
	/* A full CQ is no work (ring.h): nothing to keep mmiod awake for. */
	assert_false(ring_pending(f->r));

	assert_int_equal(client_reap(c).user_data, 0);
	assert_true(ring_pending(f->r));
	assert_int_equal(ring_next(f->r, &sqe), 1);
	assert_int_equal(sqe.user_data, 4);
	assert_int_equal(f->r->sq_head, 5);
}

/* Indices run freely across 2^32 (slot i & (entries - 1)). */
static void
test_ring_indices_wrap(void **state)
{
	struct ring_fixture *f = *state;
	struct client *c = &f->c;
	const uint32_t start = 0xFFFFFFF0u;
	f->r->sq_head = f->r->cq_tail = start;
	f->r->hdr->sq_head = f->r->hdr->cq_tail = start;
	c->hdr->sq_tail = c->hdr->cq_head = start;

	uint64_t next_user = 0, next_reaped = 0;
	/* Batches of 1..4 in flight, crossing 2^32 and going well past it. */
	for (unsigned round = 0; round < 24; round++) {
		unsigned n = round % 4 + 1;
		for (unsigned k = 0; k < n; k++) {
			client_submit(c, (struct mmio_ring_sqe){.user_data = next_user++});
		}
		for (unsigned k = 0; k < n; k++) {
			struct mmio_ring_sqe sqe;
			assert_int_equal(ring_next(f->r, &sqe), 1);
			struct mmio_ring_cqe cqe = {.user_data = sqe.user_data * 10,
						    .status = MMIO__STATUS__OK};
			ring_complete(f->r, &cqe, NULL);
		}
		struct mmio_ring_sqe sqe;
		assert_int_equal(ring_next(f->r, &sqe), 0);
		for (unsigned k = 0; k < n; k++) {
			assert_int_equal(client_reap(c).user_data, 10 * next_reaped++);
		}
	}
	assert_int_equal(next_user, 60);
	assert_int_equal(f->r->sq_head, start + 60); /* wrapped */
	assert_int_equal(c->hdr->sq_head, 44);
	assert_int_equal(c->hdr->cq_tail, 44);
	assert_false(ring_pending(f->r));

	/* A full SQ and a full CQ straddling the wrap. */
	f->r->sq_head = f->r->cq_tail = UINT32_MAX - 1;
	f->r->hdr->sq_head = f->r->hdr->cq_tail = UINT32_MAX - 1;
	c->hdr->sq_tail = c->hdr->cq_head = UINT32_MAX - 1;
	for (uint64_t i = 0; i < 4; i++) {
		client_submit(c, (struct mmio_ring_sqe){.user_data = 100 + i});
	}
	assert_int_equal(c->hdr->sq_tail, 2);
	for (uint64_t i = 0; i < 4; i++) {
		struct mmio_ring_sqe sqe;
		assert_int_equal(ring_next(f->r, &sqe), 1);
		assert_int_equal(sqe.user_data, 100 + i);
		ring_complete(f->r, &(struct mmio_ring_cqe){.user_data = sqe.user_data}, NULL);
	}
	client_submit(c, (struct mmio_ring_sqe){.user_data = 104});
	struct mmio_ring_sqe sqe;
	assert_int_equal(ring_next(f->r, &sqe), 0); /* CQ full across the wrap */
	for (uint64_t i = 0; i < 4; i++) {
		assert_int_equal(client_reap(c).user_data, 100 + i);
	}
	assert_int_equal(ring_next(f->r, &sqe), 1);
	assert_int_equal(sqe.user_data, 104);
	/* Out of step across the wrap too. */
	c->hdr->sq_tail = f->r->sq_head + 5;
	assert_int_equal(ring_next(f->r, &sqe), -EPROTO);
}

static void
test_ring_complete(void **state)
{
	struct ring_fixture *f = *state;
	struct client *c = &f->c;
	memset(c->hdr->detail, 'X', sizeof(c->hdr->detail));
	c->hdr->detail_user_data = 0xdead;

	/* No detail: the detail and its user_data stay as they were. */
	struct mmio_ring_cqe cqe = {
		.user_data = 1, .value = 0x1122334455667788, .status = MMIO__STATUS__OK};
	ring_complete(f->r, &cqe, NULL);
	assert_int_equal(c->hdr->cq_tail, 1);
	assert_int_equal(f->r->cq_tail, 1);
	assert_memory_equal(&c->cq[0], &cqe, sizeof(cqe));
	assert_int_equal(c->hdr->detail_user_data, 0xdead);
	for (size_t i = 0; i < sizeof(c->hdr->detail); i++) {
		assert_int_equal(c->hdr->detail[i], 'X');
	}

	/* With one: written NUL-terminated, naming the completion. */
	cqe = (struct mmio_ring_cqe){.user_data = 2, .status = MMIO__STATUS__OUT_OF_RANGE};
	ring_complete(f->r, &cqe, "does not fit");
	assert_int_equal(c->hdr->cq_tail, 2);
	assert_memory_equal(&c->cq[1], &cqe, sizeof(cqe));
	assert_string_equal(c->hdr->detail, "does not fit");
	assert_int_equal(c->hdr->detail_user_data, 2);

	/* An empty one clears it. */
	cqe.user_data = 3;
	ring_complete(f->r, &cqe, "");
	assert_string_equal(c->hdr->detail, "");
	assert_int_equal(c->hdr->detail_user_data, 3);

	/* Too long: cut to MMIO_RING_DETAIL - 1 bytes, never past the header. */
	char longer[MMIO_RING_DETAIL * 2];
	memset(longer, 'a', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	memset(c->sq, 0x77, sizeof(*c->sq));
	cqe.user_data = 4;
	ring_complete(f->r, &cqe, longer);
	assert_int_equal(strnlen(c->hdr->detail, MMIO_RING_DETAIL), MMIO_RING_DETAIL - 1);
	assert_int_equal(c->hdr->detail[MMIO_RING_DETAIL - 1], '\0');
	assert_int_equal(c->hdr->detail_user_data, 4);
	assert_int_equal(c->hdr->cq_tail, 4);
	assert_memory_equal(&c->cq[3], &cqe, sizeof(cqe));
	/* The SQ right after the detail was not touched. */
	assert_int_equal(((const uint8_t *)c->sq)[0], 0x77);

	/* A waiting client is woken (nobody waits here: the wake must just not hurt). */
	c->hdr->client_waiting = 1;
	cqe.user_data = 5;
	ring_complete(f->r, &cqe, NULL);
	assert_int_equal(c->hdr->cq_tail, 5);
	assert_int_equal(c->cq[0].user_data, 5); /* slot 4 & 3 */
	/* The client's words are the client's. */
	assert_int_equal(c->hdr->client_waiting, 1);
	assert_int_equal(c->hdr->cq_head, 0);
}

static void
test_ring_prepare_sleep(void **state)
{
	struct ring_fixture *f = *state;
	struct client *c = &f->c;
	/* Empty: we may sleep, and tell the client so. */
	assert_true(ring_prepare_sleep(f->r));
	assert_int_equal(c->hdr->daemon_sleeping, 1);
	ring_wake(f->r);
	assert_int_equal(c->hdr->daemon_sleeping, 0);

	/* A submission slipped in: stay awake, and say so. */
	client_submit(c, (struct mmio_ring_sqe){.op = MMIO_RING_OP_BARRIER});
	assert_false(ring_prepare_sleep(f->r));
	assert_int_equal(c->hdr->daemon_sleeping, 0);
	struct mmio_ring_sqe sqe;
	assert_int_equal(ring_next(f->r, &sqe), 1);
	assert_true(ring_prepare_sleep(f->r));
	assert_int_equal(c->hdr->daemon_sleeping, 1);
	/* Asleep, and a submission arrives before the next attempt: stay awake. */
	client_submit(c, (struct mmio_ring_sqe){.op = MMIO_RING_OP_BARRIER});
	assert_false(ring_prepare_sleep(f->r));
	assert_int_equal(c->hdr->daemon_sleeping, 0);
}

/*
 * proto/mmio_ring.h: "a client that consumed completions from a full CQ while
 * daemon_sleeping rings the doorbell: mmiod stops taking submissions while the
 * CQ is full". With the CQ full mmiod can do nothing, so it must be able to
 * sleep though a submission waits; else conn_ring.c would spin on the ring for
 * as long as the client leaves its CQ full.
 */
static void
test_ring_prepare_sleep_cq_full(void **state)
{
	struct ring_fixture *f = *state;
	struct client *c = &f->c;
	struct mmio_ring_sqe sqe;
	for (unsigned i = 0; i < 4; i++) {
		client_submit(c, (struct mmio_ring_sqe){.op = MMIO_RING_OP_BARRIER});
	}
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(ring_next(f->r, &sqe), 1);
		ring_complete(f->r, &(struct mmio_ring_cqe){.status = MMIO__STATUS__OK}, NULL);
	}
	client_submit(c, (struct mmio_ring_sqe){.op = MMIO_RING_OP_BARRIER});
	assert_int_equal(ring_next(f->r, &sqe), 0); /* nothing we can do */
	assert_true(ring_prepare_sleep(f->r));
	assert_int_equal(c->hdr->daemon_sleeping, 1);
	/* The client takes a completion (and rings, seeing daemon_sleeping): work again. */
	client_reap(c);
	ring_wake(f->r);
	assert_int_equal(c->hdr->daemon_sleeping, 0);
	assert_false(ring_prepare_sleep(f->r));
	assert_int_equal(c->hdr->daemon_sleeping, 0);
	assert_int_equal(ring_next(f->r, &sqe), 1);
}

static void
test_ring_wake_drains_doorbell(void **state)
{
	struct ring_fixture *f = *state;
	uint64_t one = 1, count;
	assert_true(ring_prepare_sleep(f->r));
	/* The client rings (twice: the count means nothing). */
	assert_int_equal(write(f->r->doorbell_fd, &one, sizeof(one)), sizeof(one));
	assert_int_equal(write(f->r->doorbell_fd, &one, sizeof(one)), sizeof(one));
	ring_wake(f->r);
	assert_int_equal(f->c.hdr->daemon_sleeping, 0);
	errno = 0;
	assert_int_equal(read(f->r->doorbell_fd, &count, sizeof(count)), -1);
	assert_int_equal(errno, EAGAIN);
	/* Waking with nothing rung neither blocks nor fails. */
	ring_wake(f->r);
	assert_int_equal(f->c.hdr->daemon_sleeping, 0);
}

/* ---- dispatch_ring() on a session ---- */

#define MEM_SIZE 256
#define ENTRIES  16

struct session_fixture {
	struct region_table table;
	struct service svc;
	struct session s;
	struct session other;
	uint8_t *mem;          /* the region's bytes */
	struct lease *rw;      /* [0, 0x80), read-write, acquired through dispatch() */
	struct lease *ro;      /* [0x80, 0xc0), read-only */
	struct lease *odd;     /* [0xc1, 0xd1), read-write, odd absolute start */
	struct lease *other_l; /* [0xe0, 0x100), held by the other session */
	struct client c;
	int doorbell;
	uint64_t next_id;
};

static Mmio__Reply
run(struct session_fixture *f, struct session *s, Mmio__Request *req,
    struct dispatch_scratch *scratch)
{
	Mmio__Reply reply = MMIO__REPLY__INIT;
	req->id = ++f->next_id;
	assert_int_equal(dispatch(s, req, &reply, scratch), DISPATCH_REPLY);
	assert_int_equal(reply.id, req->id);
	return reply;
}

static void
hello(struct session_fixture *f, struct session *s)
{
	Mmio__Hello body = MMIO__HELLO__INIT;
	body.version = MMIO_PROTOCOL_VERSION;
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.body_case = MMIO__REQUEST__BODY_HELLO;
	req.hello = &body;
	struct dispatch_scratch scratch;
	Mmio__Reply reply = run(f, s, &req, &scratch);
	assert_int_equal(reply.status, MMIO__STATUS__OK);
	assert_true(reply.hello->features & MMIO_FEATURE_RING);
	dispatch_reply_finish(&scratch);
}

static struct lease *
acquire(struct session_fixture *f, struct session *s, uint64_t offset, uint64_t length)
{
	Mmio__Acquire body = MMIO__ACQUIRE__INIT;
	body.region = "mem";
	body.offset = offset;
	body.length = length;
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.body_case = MMIO__REQUEST__BODY_ACQUIRE;
	req.acquire = &body;
	struct dispatch_scratch scratch;
	Mmio__Reply reply = run(f, s, &req, &scratch);
	assert_int_equal(reply.status, MMIO__STATUS__OK);
	struct lease *l = lease_find(&s->leases, reply.lease->id);
	assert_non_null(l);
	dispatch_reply_finish(&scratch);
	return l;
}

static int
setup_session(void **state)
{
	struct session_fixture *f = test_calloc(1, sizeof(*f));
	struct backend *b;
	char err[256] = "";
	assert_int_equal(backend_mem_open(MEM_SIZE, &b, err, sizeof(err)), 0);
	assert_int_equal(b->addr % 4096, 0);
	f->mem = b->base;
	for (unsigned i = 0; i < MEM_SIZE; i++) {
		f->mem[i] = (uint8_t)(i * 7 + 1);
	}
	f->table.regions[0] = region_create("mem", b);
	assert_non_null(f->table.regions[0]);
	f->table.count = 1;
	struct mmiod_config cfg;
	conf_init(&cfg);
	service_init(&f->svc, &f->table, &cfg, (uid_t)-1);
	conf_finish(&cfg);
	assert_true(f->svc.limits.max_rings > 0);

	/* root: may lease anything read-write without a grant. */
	struct identity root = {.pid = 10, .uid = 0, .gid = 0};
	session_init(&f->s, 1, &f->svc, &root);
	session_init(&f->other, 2, &f->svc, &root);
	hello(f, &f->s);
	hello(f, &f->other);

	Mmio__RingSetup body = MMIO__RING_SETUP__INIT;
	body.entries = ENTRIES;
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.body_case = MMIO__REQUEST__BODY_RING_SETUP;
	req.ring_setup = &body;
	struct dispatch_scratch scratch;
	Mmio__Reply reply = run(f, &f->s, &req, &scratch);
	assert_int_equal(reply.status, MMIO__STATUS__OK);
	assert_int_equal(reply.body_case, MMIO__REPLY__BODY_RING);
	assert_int_equal(reply.ring->entries, ENTRIES);
	assert_int_equal(reply.ring->size, MMIO_RING_SIZE(ENTRIES));
	assert_non_null(f->s.ring);
	assert_int_equal(f->svc.n_rings, 1);
	assert_true(scratch.pass_fds[0] >= 0 && scratch.pass_fds[1] >= 0);
	client_map(&f->c, scratch.pass_fds[0]);
	close(scratch.pass_fds[0]);
	f->doorbell = scratch.pass_fds[1];
	dispatch_reply_finish(&scratch);

	f->rw = acquire(f, &f->s, 0, 0x80);
	assert_int_equal(
		lease_acquire(&f->table.regions[0]->space, &f->s.leases, 0x80, 0x40, &f->ro), 0);
	f->ro->read_only = true;
	f->odd = acquire(f, &f->s, 0xc1, 0x10);
	f->other_l = acquire(f, &f->other, 0xe0, 0x20);
	*state = f;
	return 0;
}

static int
teardown_session(void **state)
{
	struct session_fixture *f = *state;
	client_unmap(&f->c);
	close(f->doorbell);
	session_finish(&f->s);
	session_finish(&f->other);
	assert_int_equal(f->svc.n_rings, 0);
	assert_null(f->s.ring);
	region_table_close(&f->table);
	test_free(f);
	return 0;
}

/* The little-endian value of width bytes at off of the region. */
static uint64_t
peek(const struct session_fixture *f, uint64_t off, unsigned width)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < width; i++) {
		v |= (uint64_t)f->mem[off + i] << (8 * i);
	}
	return v;
}

static void
test_dispatch_ring_ops(void **state)
{
	struct session_fixture *f = *state;
	struct client *c = &f->c;
	uint64_t rw = f->rw->id;
	uint64_t requests = f->svc.requests;

	client_submit(c, sqe_of(MMIO_RING_OP_STORE, rw, 8, 8, 0x1122334455667788, 0, 1));
	client_submit(c, sqe_of(MMIO_RING_OP_LOAD, rw, 8, 8, 0, 0, 2));
	client_submit(c, sqe_of(MMIO_RING_OP_LOAD, rw, 12, 4, 0, 0, 3));
	client_submit(c, sqe_of(MMIO_RING_OP_LOAD, rw, 15, 1, 0, 0, 4));
	client_submit(c, sqe_of(MMIO_RING_OP_MODIFY, rw, 8, 4, 0xabcd0000, 0xffff0000, 5));
	client_submit(c, sqe_of(MMIO_RING_OP_BARRIER, rw, 0, 0, 0, 0, 6));
	client_submit(c, sqe_of(MMIO_RING_OP_STORE, rw, 0x7e, 2, 0xbeef, 0, 7));
	client_submit(c, sqe_of(MMIO_RING_OP_LOAD, f->ro->id, 0x38, 8, 0, 0, 8));
	client_submit(c, sqe_of(MMIO_RING_OP_LOAD, f->odd->id, 1, 2, 0, 0, 9));
	uint64_t ro_value = peek(f, 0xb8, 8);
	uint64_t odd_value = peek(f, 0xc2, 2);
	memset(c->hdr->detail, 'X', sizeof(c->hdr->detail) - 1);

	assert_int_equal(dispatch_ring(&f->s, 100), 9);
	assert_int_equal(f->svc.requests, requests + 9);
	assert_int_equal(c->hdr->sq_head, 9);
	assert_int_equal(c->hdr->cq_tail, 9);

	static const uint64_t values[] = {
		0, 0x1122334455667788, 0x11223344, 0x11, 0x55667788, 0, 0,
	};
	for (uint64_t i = 0; i < ARRAY_LEN(values); i++) {
		struct mmio_ring_cqe cqe = client_reap(c);
		assert_int_equal(cqe.user_data, i + 1);
		assert_int_equal(cqe.status, MMIO__STATUS__OK);
		assert_int_equal(cqe.value, values[i]);
	}
	struct mmio_ring_cqe cqe = client_reap(c);
	assert_int_equal(cqe.status, MMIO__STATUS__OK);
	assert_int_equal(cqe.value, ro_value);
	cqe = client_reap(c);
	assert_int_equal(cqe.status, MMIO__STATUS__OK);
	assert_int_equal(cqe.value, odd_value);

	/* The device saw exactly that. */
	assert_int_equal(peek(f, 8, 4), 0xabcd7788);
	assert_int_equal(peek(f, 12, 4), 0x11223344);
	assert_int_equal(peek(f, 0x7e, 2), 0xbeef);
	/* No op failed, so no detail was written. */
	assert_int_equal(c->hdr->detail[0], 'X');
	assert_int_equal(dispatch_ring(&f->s, 100), 0);
	assert_int_equal(f->svc.requests, requests + 9);
}

/* The socket request an sqe stands for, run on the same session: its status and detail. */
static Mmio__Status
socket_status(struct session_fixture *f, const struct mmio_ring_sqe *sqe, char *detail,
	      size_t detail_len)
{
	Mmio__Request req = MMIO__REQUEST__INIT;
	Mmio__Load load = MMIO__LOAD__INIT;
	Mmio__Store store = MMIO__STORE__INIT;
	Mmio__Modify modify = MMIO__MODIFY__INIT;
	Mmio__Barrier barrier = MMIO__BARRIER__INIT;
	switch (sqe->op) {
	case MMIO_RING_OP_LOAD:
		load.lease = sqe->lease;
		load.offset = sqe->offset;
		load.width = sqe->width;
		req.body_case = MMIO__REQUEST__BODY_LOAD;
		req.load = &load;
		break;
	case MMIO_RING_OP_STORE:
		store.lease = sqe->lease;
		store.offset = sqe->offset;
		store.width = sqe->width;
		store.value = sqe->value;
		req.body_case = MMIO__REQUEST__BODY_STORE;
		req.store = &store;
		break;
	case MMIO_RING_OP_MODIFY:
		modify.lease = sqe->lease;
		modify.offset = sqe->offset;
		modify.width = sqe->width;
		modify.mask = sqe->mask;
		modify.value = sqe->value;
		req.body_case = MMIO__REQUEST__BODY_MODIFY;
		req.modify = &modify;
		break;
	case MMIO_RING_OP_BARRIER:
		barrier.lease = sqe->lease;
		req.body_case = MMIO__REQUEST__BODY_BARRIER;
		req.barrier = &barrier;
		break;
	default:
		fail_msg("op %u has no socket request", sqe->op);
	}
	struct dispatch_scratch scratch;
	Mmio__Reply reply = run(f, &f->s, &req, &scratch);
	snprintf(detail, detail_len, "%s", reply.detail ? reply.detail : "");
	dispatch_reply_finish(&scratch);
	return reply.status;
}

static void
test_dispatch_ring_errors(void **state)
{
	struct session_fixture *f = *state;
	struct client *c = &f->c;
	uint64_t rw = f->rw->id, ro = f->ro->id, odd = f->odd->id;
	uint64_t gone = f->other_l->id + 1000;
	const struct {
		struct mmio_ring_sqe sqe;
		Mmio__Status want;
	} cases[] = {
		{sqe_of(MMIO_RING_OP_LOAD, rw, 0, 3, 0, 0, 0), MMIO__STATUS__INVALID_ARGUMENT},
		{sqe_of(MMIO_RING_OP_LOAD, rw, 0, 0, 0, 0, 0), MMIO__STATUS__INVALID_ARGUMENT},
		{sqe_of(MMIO_RING_OP_LOAD, rw, 0, 16, 0, 0, 0), MMIO__STATUS__INVALID_ARGUMENT},
		{sqe_of(MMIO_RING_OP_STORE, rw, 0, 255, 0, 0, 0), MMIO__STATUS__INVALID_ARGUMENT},
		{sqe_of(MMIO_RING_OP_LOAD, rw, 2, 4, 0, 0, 0), MMIO__STATUS__UNALIGNED},
		{sqe_of(MMIO_RING_OP_STORE, rw, 1, 8, 0, 0, 0), MMIO__STATUS__UNALIGNED},
		{sqe_of(MMIO_RING_OP_MODIFY, rw, 6, 4, 0, 0, 0), MMIO__STATUS__UNALIGNED},
		/* Alignment is judged on the absolute address: odd starts at 0xc1. */
		{sqe_of(MMIO_RING_OP_LOAD, odd, 0, 2, 0, 0, 0), MMIO__STATUS__UNALIGNED},
		{sqe_of(MMIO_RING_OP_STORE, odd, 1, 4, 0, 0, 0), MMIO__STATUS__UNALIGNED},
		{sqe_of(MMIO_RING_OP_LOAD, odd, 3, 4, 0, 0, 0), MMIO__STATUS__OK},
		{sqe_of(MMIO_RING_OP_LOAD, odd, 15, 1, 0, 0, 0), MMIO__STATUS__OK},
		{sqe_of(MMIO_RING_OP_LOAD, rw, 0x80, 1, 0, 0, 0), MMIO__STATUS__OUT_OF_RANGE},
		{sqe_of(MMIO_RING_OP_LOAD, rw, 0x7c, 8, 0, 0, 0), MMIO__STATUS__UNALIGNED},
		{sqe_of(MMIO_RING_OP_LOAD, rw, 0x80, 8, 0, 0, 0), MMIO__STATUS__OUT_OF_RANGE},
		{sqe_of(MMIO_RING_OP_STORE, rw, 0x80, 4, 0, 0, 0), MMIO__STATUS__OUT_OF_RANGE},
		{sqe_of(MMIO_RING_OP_MODIFY, rw, 0x100, 4, 0, ~0ull, 0),
		 MMIO__STATUS__OUT_OF_RANGE},
		{sqe_of(MMIO_RING_OP_LOAD, rw, UINT64_MAX - 7, 8, 0, 0, 0),
		 MMIO__STATUS__OUT_OF_RANGE},
		{sqe_of(MMIO_RING_OP_STORE, rw, UINT64_MAX, 1, 0, 0, 0),
		 MMIO__STATUS__OUT_OF_RANGE},
		{sqe_of(MMIO_RING_OP_STORE, rw, 0, 1, 0x100, 0, 0), MMIO__STATUS__INVALID_ARGUMENT},
		{sqe_of(MMIO_RING_OP_STORE, rw, 0, 4, 1ull << 32, 0, 0),
		 MMIO__STATUS__INVALID_ARGUMENT},
		/* Read-only: stores and modifies refused before any other check; loads run. */
		{sqe_of(MMIO_RING_OP_STORE, ro, 0, 4, 0, 0, 0), MMIO__STATUS__PERMISSION_DENIED},
		{sqe_of(MMIO_RING_OP_STORE, ro, 1, 3, 0x1ff, 0, 0),
		 MMIO__STATUS__PERMISSION_DENIED},
		{sqe_of(MMIO_RING_OP_MODIFY, ro, 0, 4, 0, ~0ull, 0),
		 MMIO__STATUS__PERMISSION_DENIED},
		{sqe_of(MMIO_RING_OP_MODIFY, ro, 0x1000, 3, 0, 0, 0),
		 MMIO__STATUS__PERMISSION_DENIED},
		{sqe_of(MMIO_RING_OP_LOAD, ro, 0, 4, 0, 0, 0), MMIO__STATUS__OK},
		{sqe_of(MMIO_RING_OP_BARRIER, ro, 0x1000, 3, 0, 0, 0), MMIO__STATUS__OK},
		/* Leases that are not this connection's. */
		{sqe_of(MMIO_RING_OP_LOAD, gone, 0, 4, 0, 0, 0), MMIO__STATUS__NOT_FOUND},
		{sqe_of(MMIO_RING_OP_STORE, 0, 0, 4, 0, 0, 0), MMIO__STATUS__NOT_FOUND},
		{sqe_of(MMIO_RING_OP_MODIFY, UINT64_MAX, 0, 4, 0, 0, 0), MMIO__STATUS__NOT_FOUND},
		{sqe_of(MMIO_RING_OP_BARRIER, gone, 0, 0, 0, 0, 0), MMIO__STATUS__NOT_FOUND},
		{sqe_of(MMIO_RING_OP_LOAD, f->other_l->id, 0, 4, 0, 0, 0), MMIO__STATUS__NOT_FOUND},
		{sqe_of(MMIO_RING_OP_STORE, f->other_l->id, 0, 4, 0, 0, 0),
		 MMIO__STATUS__NOT_FOUND},
	};
	uint8_t before[MEM_SIZE];
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct mmio_ring_sqe sqe = cases[i].sqe;
		sqe.user_data = 1000 + i;
		memcpy(before, f->mem, MEM_SIZE);
		memset(c->hdr->detail, 'X', sizeof(c->hdr->detail));
		c->hdr->detail_user_data = 0;
		client_submit(c, sqe);
		assert_int_equal(dispatch_ring(&f->s, 1), 1);
		struct mmio_ring_cqe cqe = client_reap(c);
		if (cqe.status != (uint32_t)cases[i].want) {
			print_error("case %zu: status %u\n", i, cqe.status);
		}
		assert_int_equal(cqe.user_data, 1000 + i);
		assert_int_equal(cqe.status, cases[i].want);
		if (cases[i].want != MMIO__STATUS__OK) {
			assert_int_equal(cqe.value, 0);
			assert_memory_equal(f->mem, before, MEM_SIZE);
			assert_int_equal(c->hdr->detail_user_data, 1000 + i);
			assert_true(strnlen(c->hdr->detail, MMIO_RING_DETAIL) < MMIO_RING_DETAIL);
		} else {
			assert_int_equal(c->hdr->detail_user_data, 0);
			assert_int_equal(c->hdr->detail[0], 'X');
		}
		/* The socket request says the same, to the letter. */
		char detail[256];
		Mmio__Status st = socket_status(f, &sqe, detail, sizeof(detail));
		if (st != cases[i].want) {
			print_error("case %zu: socket status %d\n", i, st);
		}
		assert_int_equal(st, cases[i].want);
		if (cases[i].want != MMIO__STATUS__OK) {
			assert_string_equal(c->hdr->detail, detail);
		}
	}
}

static void
test_dispatch_ring_unknown_op(void **state)
{
	struct session_fixture *f = *state;
	struct client *c = &f->c;
	static const uint8_t ops[] = {0, 5, 0x80, 0xff};
	for (size_t i = 0; i < ARRAY_LEN(ops); i++) {
		client_submit(c, sqe_of(ops[i], f->rw->id, 0, 4, 0, 0, i));
		/* The lease is looked up first. */
		client_submit(c, sqe_of(ops[i], 12345678, 0, 4, 0, 0, 100 + i));
	}
	uint8_t before[MEM_SIZE];
	memcpy(before, f->mem, MEM_SIZE);
	assert_int_equal(dispatch_ring(&f->s, 100), 2 * ARRAY_LEN(ops));
	for (size_t i = 0; i < ARRAY_LEN(ops); i++) {
		struct mmio_ring_cqe cqe = client_reap(c);
		assert_int_equal(cqe.user_data, i);
		assert_int_equal(cqe.status, MMIO__STATUS__INVALID_ARGUMENT);
		assert_int_equal(cqe.value, 0);
		cqe = client_reap(c);
		assert_int_equal(cqe.user_data, 100 + i);
		assert_int_equal(cqe.status, MMIO__STATUS__NOT_FOUND);
	}
	assert_memory_equal(f->mem, before, MEM_SIZE);
	/* The last failure is the one the detail explains. */
	assert_int_equal(c->hdr->detail_user_data, 100 + ARRAY_LEN(ops) - 1);
	assert_non_null(strstr(c->hdr->detail, "no lease 12345678"));
}

static void
test_dispatch_ring_max(void **state)
{
	struct session_fixture *f = *state;
	struct client *c = &f->c;
	uint64_t requests = f->svc.requests;
	for (uint64_t i = 0; i < 6; i++) {
		client_submit(c, sqe_of(MMIO_RING_OP_LOAD, f->rw->id, 8 * i, 8, 0, 0, i));
	}
	assert_int_equal(dispatch_ring(&f->s, 0), 0);
	assert_int_equal(c->hdr->sq_head, 0);
	assert_int_equal(c->hdr->cq_tail, 0);
	assert_int_equal(dispatch_ring(&f->s, 2), 2);
	assert_int_equal(c->hdr->sq_head, 2);
	assert_int_equal(c->hdr->cq_tail, 2);
	assert_int_equal(f->svc.requests, requests + 2);
	assert_int_equal(dispatch_ring(&f->s, 1), 1);
	assert_int_equal(dispatch_ring(&f->s, UINT32_MAX), 3);
	assert_int_equal(dispatch_ring(&f->s, UINT32_MAX), 0);
	assert_int_equal(f->svc.requests, requests + 6);
	for (uint64_t i = 0; i < 6; i++) {
		struct mmio_ring_cqe cqe = client_reap(c);
		assert_int_equal(cqe.user_data, i);
		assert_int_equal(cqe.status, MMIO__STATUS__OK);
		assert_int_equal(cqe.value, peek(f, 8 * i, 8));
	}
}

static void
test_dispatch_ring_cq_full(void **state)
{
	struct session_fixture *f = *state;
	struct client *c = &f->c;
	for (uint64_t i = 0; i < ENTRIES; i++) {
		client_submit(c, sqe_of(MMIO_RING_OP_BARRIER, f->rw->id, 0, 0, 0, 0, i));
	}
	assert_int_equal(dispatch_ring(&f->s, 100), ENTRIES);
	for (uint64_t i = 0; i < 3; i++) {
		client_submit(c, sqe_of(MMIO_RING_OP_BARRIER, f->rw->id, 0, 0, 0, 0, 100 + i));
	}
	uint64_t requests = f->svc.requests;
	/* The CQ is full: nothing runs, and that is no protocol error. */
	assert_int_equal(dispatch_ring(&f->s, 100), 0);
	assert_int_equal(f->svc.requests, requests);
	client_reap(c);
	client_reap(c);
	assert_int_equal(dispatch_ring(&f->s, 100), 2);
	assert_int_equal(dispatch_ring(&f->s, 100), 0);
	for (uint64_t i = 2; i < ENTRIES; i++) {
		assert_int_equal(client_reap(c).user_data, i);
	}
	assert_int_equal(client_reap(c).user_data, 100);
	assert_int_equal(client_reap(c).user_data, 101);
	assert_int_equal(dispatch_ring(&f->s, 100), 1);
	assert_int_equal(client_reap(c).user_data, 102);
	assert_int_equal(f->svc.requests, requests + 3);
}

static void
test_dispatch_ring_out_of_step(void **state)
{
	struct session_fixture *f = *state;
	struct client *c = &f->c;
	uint64_t requests = f->svc.requests;
	uint8_t before[MEM_SIZE];
	memcpy(before, f->mem, MEM_SIZE);
	client_submit(c, sqe_of(MMIO_RING_OP_STORE, f->rw->id, 0, 1, 0xaa, 0, 1));
	c->hdr->sq_tail = ENTRIES + 1;
	assert_int_equal(dispatch_ring(&f->s, 100), -EPROTO);
	assert_int_equal(f->svc.requests, requests);
	assert_int_equal(c->hdr->cq_tail, 0);
	assert_memory_equal(f->mem, before, MEM_SIZE);

	c->hdr->sq_tail = 1;
	c->hdr->cq_head = 7;
	assert_int_equal(dispatch_ring(&f->s, 100), -EPROTO);
	/* max 0 looks at nothing. */
	assert_int_equal(dispatch_ring(&f->s, 0), 0);
	assert_int_equal(f->svc.requests, requests);
	assert_memory_equal(f->mem, before, MEM_SIZE);
	/* teardown: session_finish() closes the ring as conn_destroy() would. */
}

static void
test_ring_setup_twice(void **state)
{
	struct session_fixture *f = *state;
	Mmio__RingSetup body = MMIO__RING_SETUP__INIT;
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.body_case = MMIO__REQUEST__BODY_RING_SETUP;
	req.ring_setup = &body;
	struct ring *r = f->s.ring;
	struct dispatch_scratch scratch;
	Mmio__Reply reply = run(f, &f->s, &req, &scratch);
	assert_int_equal(reply.status, MMIO__STATUS__INVALID_ARGUMENT);
	assert_int_equal(scratch.pass_fds[0], -1);
	assert_int_equal(scratch.pass_fds[1], -1);
	assert_ptr_equal(f->s.ring, r);
	assert_int_equal(f->svc.n_rings, 1);
	dispatch_reply_finish(&scratch);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ring_create_entries),
		cmocka_unit_test_setup_teardown(test_ring_memfd_sealed, setup_ring4, teardown_ring),
		cmocka_unit_test_setup_teardown(test_ring_second_mapping_is_shared, setup_ring4,
						teardown_ring),
		cmocka_unit_test_setup_teardown(test_ring_next_empty, setup_ring4, teardown_ring),
		cmocka_unit_test_setup_teardown(test_ring_next_copies, setup_ring4, teardown_ring),
		cmocka_unit_test_setup_teardown(test_ring_next_sq_out_of_step, setup_ring4,
						teardown_ring),
		cmocka_unit_test_setup_teardown(test_ring_next_cq_head_beyond_tail, setup_ring4,
						teardown_ring),
		cmocka_unit_test_setup_teardown(test_ring_next_cq_full, setup_ring4, teardown_ring),
		cmocka_unit_test_setup_teardown(test_ring_indices_wrap, setup_ring4, teardown_ring),
		cmocka_unit_test_setup_teardown(test_ring_complete, setup_ring4, teardown_ring),
		cmocka_unit_test_setup_teardown(test_ring_prepare_sleep, setup_ring4,
						teardown_ring),
		cmocka_unit_test_setup_teardown(test_ring_prepare_sleep_cq_full, setup_ring4,
						teardown_ring),
		cmocka_unit_test_setup_teardown(test_ring_wake_drains_doorbell, setup_ring4,
						teardown_ring),
		cmocka_unit_test_setup_teardown(test_dispatch_ring_ops, setup_session,
						teardown_session),
		cmocka_unit_test_setup_teardown(test_dispatch_ring_errors, setup_session,
						teardown_session),
		cmocka_unit_test_setup_teardown(test_dispatch_ring_unknown_op, setup_session,
						teardown_session),
		cmocka_unit_test_setup_teardown(test_dispatch_ring_max, setup_session,
						teardown_session),
		cmocka_unit_test_setup_teardown(test_dispatch_ring_cq_full, setup_session,
						teardown_session),
		cmocka_unit_test_setup_teardown(test_dispatch_ring_out_of_step, setup_session,
						teardown_session),
		cmocka_unit_test_setup_teardown(test_ring_setup_twice, setup_session,
						teardown_session),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
