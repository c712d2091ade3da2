/*
 * ring.c, the queue mechanics of the shared-memory fast path (proto/mmio_ring.h):
 * creating the ring, taking submissions, completing them, sleeping and waking,
 * indices across 2^32. The client's side is played through a second mapping of
 * the memfd (tests/helpers/ring_client.h), as a client process would map it:
 * every index and slot the tests write goes through that mapping, never
 * through mmiod's. dispatch_ring() on a session: test_ring_dispatch.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "mmio.pb-c.h"
#include "mmio_ring.h"
#include "request/ring.h"
#include "ring_client.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* The ABI of proto/mmio_ring.h: a client built elsewhere relies on these. */
_Static_assert(sizeof(struct mmio_ring_sqe) == 48, "sqe size");
_Static_assert(sizeof(struct mmio_ring_cqe) == 24, "cqe size");
_Static_assert(offsetof(struct mmio_ring_header, sq_tail) == 64, "client line");
_Static_assert(offsetof(struct mmio_ring_header, sq_head) == 128, "mmiod line");
_Static_assert(offsetof(struct mmio_ring_header, detail) == 192, "detail");
_Static_assert(sizeof(struct mmio_ring_header) == 384, "header size");

struct ring_fixture {
	struct ring *r;
	int memfd;
	int doorbell;         /* the client's end */
	struct ring_client c; /* no doorbell: the tests play mmiod's side too */
};

static int
setup_ring(void **state, uint32_t entries)
{
	struct ring_fixture *f = test_calloc(1, sizeof(*f));
	assert_int_equal(ring_create(entries, &f->r, &f->memfd, &f->doorbell), 0);
	ring_client_map(&f->c, f->memfd, -1);
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
	assert_int_equal(ring_client_unmap(&f->c), 0);
	close(f->memfd);
	close(f->doorbell);
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
		int doorbell;
		assert_int_equal(ring_create(cases[i].asked, &r, &memfd, &doorbell), 0);
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
		/* The doorbell: a pipe end we read without blocking, not inherited. */
		assert_true(r->doorbell_fd >= 0);
		assert_true(fcntl(r->doorbell_fd, F_GETFL) & O_NONBLOCK);
		assert_true(fcntl(r->doorbell_fd, F_GETFD) & FD_CLOEXEC);
		assert_true(doorbell >= 0 && doorbell != r->doorbell_fd);
		assert_true(fcntl(doorbell, F_GETFD) & FD_CLOEXEC);
		close(doorbell);
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
	struct ring_client *c = &f->c;
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
	struct ring_client *c = &f->c;
	struct mmio_ring_sqe in =
		ring_client_sqe(MMIO_RING_OP_STORE, 9, 0x10, 4, 0xdeadbeef, 0xff, 42);
	memset(in.reserved, 0x5a, sizeof(in.reserved));
	ring_client_submit(c, in);
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
	struct ring_client *c = &f->c;
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
	struct ring_client *c = &f->c;
	struct mmio_ring_sqe sqe;
	struct mmio_ring_cqe cqe = {.status = MMIO__STATUS__OK};
	/* Even with nothing submitted, a cq_head past cq_tail is out of step. */
	c->hdr->cq_head = 1;
	assert_int_equal(ring_next(f->r, &sqe), -EPROTO);
	c->hdr->cq_head = 0;
	ring_complete(f->r, &cqe, NULL);
	ring_complete(f->r, &cqe, NULL);
	ring_client_submit(c, (struct mmio_ring_sqe){.op = MMIO_RING_OP_BARRIER});
	c->hdr->cq_head = 3;
	assert_int_equal(ring_next(f->r, &sqe), -EPROTO);
	/* Behind cq_tail by more than a queue: as impossible. */
	c->hdr->cq_head = (uint32_t)-3;
	assert_int_equal(ring_next(f->r, &sqe), -EPROTO);
	assert_int_equal(f->r->sq_head, 0);
	/* cq_head == cq_tail (all consumed) and below it (some unread) are fine. */
	c->hdr->cq_head = 2;
	assert_int_equal(ring_next(f->r, &sqe), 1);
	ring_client_submit(c, (struct mmio_ring_sqe){.op = MMIO_RING_OP_BARRIER});
	c->hdr->cq_head = 0;
	assert_int_equal(ring_next(f->r, &sqe), 1);
}

static void
test_ring_next_cq_full(void **state)
{
	struct ring_fixture *f = *state;
	struct ring_client *c = &f->c;
	struct mmio_ring_sqe sqe;
	for (uint64_t i = 0; i < 4; i++) {
		ring_client_submit(c, (struct mmio_ring_sqe){.user_data = i});
		assert_int_equal(ring_next(f->r, &sqe), 1);
		struct mmio_ring_cqe cqe = {.user_data = i, .status = MMIO__STATUS__OK};
		ring_complete(f->r, &cqe, NULL);
	}
	/* Four completions unread: one more submission must wait, not break the ring. */
	ring_client_submit(c, (struct mmio_ring_sqe){.user_data = 4});
	assert_int_equal(ring_next(f->r, &sqe), 0);
	assert_int_equal(ring_next(f->r, &sqe), 0);
	assert_int_equal(f->r->sq_head, 4);
	assert_int_equal(c->hdr->sq_head, 4);
	/* A full CQ is no work (ring.h): nothing to keep mmiod awake for. */
	assert_false(ring_pending(f->r));

	assert_int_equal(ring_client_reap(c).user_data, 0);
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
	struct ring_client *c = &f->c;
	const uint32_t start = 0xFFFFFFF0u;
	f->r->sq_head = f->r->cq_tail = f->r->cq_published = start;
	f->r->hdr->sq_head = f->r->hdr->cq_tail = start;
	c->hdr->sq_tail = c->hdr->cq_head = start;

	uint64_t next_user = 0, next_reaped = 0;
	/* Batches of 1..4 in flight, crossing 2^32 and going well past it. */
	for (unsigned round = 0; round < 24; round++) {
		unsigned n = round % 4 + 1;
		for (unsigned k = 0; k < n; k++) {
			ring_client_submit(c, (struct mmio_ring_sqe){.user_data = next_user++});
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
			assert_int_equal(ring_client_reap(c).user_data, 10 * next_reaped++);
		}
	}
	assert_int_equal(next_user, 60);
	assert_int_equal(f->r->sq_head, start + 60); /* wrapped */
	assert_int_equal(c->hdr->sq_head, 44);
	assert_int_equal(c->hdr->cq_tail, 44);
	assert_false(ring_pending(f->r));

	/* A full SQ and a full CQ straddling the wrap. */
	f->r->sq_head = f->r->cq_tail = f->r->cq_published = UINT32_MAX - 1;
	f->r->hdr->sq_head = f->r->hdr->cq_tail = UINT32_MAX - 1;
	c->hdr->sq_tail = c->hdr->cq_head = UINT32_MAX - 1;
	for (uint64_t i = 0; i < 4; i++) {
		ring_client_submit(c, (struct mmio_ring_sqe){.user_data = 100 + i});
	}
	assert_int_equal(c->hdr->sq_tail, 2);
	for (uint64_t i = 0; i < 4; i++) {
		struct mmio_ring_sqe sqe;
		assert_int_equal(ring_next(f->r, &sqe), 1);
		assert_int_equal(sqe.user_data, 100 + i);
		ring_complete(f->r, &(struct mmio_ring_cqe){.user_data = sqe.user_data}, NULL);
	}
	ring_client_submit(c, (struct mmio_ring_sqe){.user_data = 104});
	struct mmio_ring_sqe sqe;
	assert_int_equal(ring_next(f->r, &sqe), 0); /* CQ full across the wrap */
	for (uint64_t i = 0; i < 4; i++) {
		assert_int_equal(ring_client_reap(c).user_data, 100 + i);
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
	struct ring_client *c = &f->c;
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
	struct ring_client *c = &f->c;
	/* Empty: we may sleep, and tell the client so. */
	assert_true(ring_prepare_sleep(f->r));
	assert_int_equal(c->hdr->daemon_sleeping, 1);
	ring_wake(f->r);
	assert_int_equal(c->hdr->daemon_sleeping, 0);

	/* A submission slipped in: stay awake, and say so. */
	ring_client_submit(c, (struct mmio_ring_sqe){.op = MMIO_RING_OP_BARRIER});
	assert_false(ring_prepare_sleep(f->r));
	assert_int_equal(c->hdr->daemon_sleeping, 0);
	struct mmio_ring_sqe sqe;
	assert_int_equal(ring_next(f->r, &sqe), 1);
	assert_true(ring_prepare_sleep(f->r));
	assert_int_equal(c->hdr->daemon_sleeping, 1);
	/* Asleep, and a submission arrives before the next attempt: stay awake. */
	ring_client_submit(c, (struct mmio_ring_sqe){.op = MMIO_RING_OP_BARRIER});
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
	struct ring_client *c = &f->c;
	struct mmio_ring_sqe sqe;
	for (unsigned i = 0; i < 4; i++) {
		ring_client_submit(c, (struct mmio_ring_sqe){.op = MMIO_RING_OP_BARRIER});
	}
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(ring_next(f->r, &sqe), 1);
		ring_complete(f->r, &(struct mmio_ring_cqe){.status = MMIO__STATUS__OK}, NULL);
	}
	ring_client_submit(c, (struct mmio_ring_sqe){.op = MMIO_RING_OP_BARRIER});
	assert_int_equal(ring_next(f->r, &sqe), 0); /* nothing we can do */
	assert_true(ring_prepare_sleep(f->r));
	assert_int_equal(c->hdr->daemon_sleeping, 1);
	/* The client takes a completion (and rings, seeing daemon_sleeping): work again. */
	ring_client_reap(c);
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
	assert_int_equal(write(f->doorbell, &one, sizeof(one)), sizeof(one));
	assert_int_equal(write(f->doorbell, &one, sizeof(one)), sizeof(one));
	ring_wake(f->r);
	assert_int_equal(f->c.hdr->daemon_sleeping, 0);
	errno = 0;
	assert_int_equal(read(f->r->doorbell_fd, &count, sizeof(count)), -1);
	assert_int_equal(errno, EAGAIN);
	/* Waking with nothing rung neither blocks nor fails. */
	ring_wake(f->r);
	assert_int_equal(f->c.hdr->daemon_sleeping, 0);
}

/*
 * Regression: the doorbell was an F_DUPFD copy of our eventfd, so the client
 * shared its open file description. Clearing O_NONBLOCK on its copy cleared
 * ours, and by draining the count before us it made ring_wake()'s read()
 * block mmiod's only thread for good. The client's end must be an object of
 * its own: its flags are not ours, and it cannot take what we read.
 */
static void
test_ring_doorbell_not_shared(void **state)
{
	struct ring_fixture *f = *state;
	uint64_t one = 1, count;
	assert_int_equal(fcntl(f->doorbell, F_SETFL, 0), 0);
	assert_true(fcntl(f->r->doorbell_fd, F_GETFL) & O_NONBLOCK);
	assert_true(ring_prepare_sleep(f->r));
	assert_int_equal(write(f->doorbell, &one, sizeof(one)), sizeof(one));
	/* The client cannot read the ring back from its end: only we take it. */
	errno = 0;
	assert_int_equal(recv(f->doorbell, &count, sizeof(count), MSG_DONTWAIT), -1);
	assert_int_equal(errno, EAGAIN);
	ring_wake(f->r);
	/* Nothing left to read: returns at once, whatever the client did to its end. */
	ring_wake(f->r);
	assert_int_equal(f->c.hdr->daemon_sleeping, 0);
}

/* A client ringing while we drain cannot keep ring_wake() reading. */
static void
test_ring_wake_bounded(void **state)
{
	struct ring_fixture *f = *state;
	char bytes[4096] = {0};
	/* Fill the pipe: the client may ring as often as it likes. */
	assert_int_equal(fcntl(f->doorbell, F_SETFL, O_NONBLOCK), 0);
	while (write(f->doorbell, bytes, sizeof(bytes)) > 0) {
	}
	assert_int_equal(errno, EAGAIN);
	ring_wake(f->r);
	/* It read a bounded amount and left the rest for the next wake. */
	assert_true(read(f->r->doorbell_fd, bytes, sizeof(bytes)) > 0);
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
		cmocka_unit_test_setup_teardown(test_ring_doorbell_not_shared, setup_ring4,
						teardown_ring),
		cmocka_unit_test_setup_teardown(test_ring_wake_bounded, setup_ring4, teardown_ring),
		cmocka_unit_test_setup_teardown(test_ring_wake_drains_doorbell, setup_ring4,
						teardown_ring),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
