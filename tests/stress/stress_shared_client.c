/*
 * Issue 20: one client shared by 8 threads, as client.h allows. Every kind of
 * op runs at once: loads and stores of each width, modify, batches (plain and
 * all-or-nothing), block reads and writes (with MMIO_REPEAT), polls, splits
 * and releases, the lease getters (one lease split by one thread while the
 * others read it), error details (each thread's failures name offsets no
 * other thread uses, and its detail must be exactly its own), the fast path
 * switched between AUTO, OFF and ON by every thread, and the log handler
 * swapped while threads log. Deterministic: fixed iteration counts, no sleeps,
 * no timing assertions. Meant to pass plain and under ThreadSanitizer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon_fixture.h"
#include "mmio/client.h"
#include "stress_util.h"

#define N_THREADS 8
#define SLICE     0x800u /* thread t works in [t * SLICE, +SLICE) of sim0 */
#define OWN_LEN   0x400u /* its long-lived lease, at the start of its slice */
#define SCRATCH   0x100u /* split and released each iteration, after OWN_LEN */
/* Split by thread 0 one byte at a time while the others read its range. */
#define SHARED_START 0x6000u
#define SHARED_LEN   0x800u

static const char *const regions[] = {"sim0,type=mem,size=0x10000", NULL};

/* What a log handler was installed with: a handler called with another's userdata is caught. */
struct sink {
	mmio_log_handler self;
	atomic_uint calls;
	atomic_int running; /* calls in progress: 0 once mmio_set_log_handler replaced it */
};

/* fail_at's thread number for checks in a log handler, whose caller is unknown. */
#define IN_HANDLER 99

static atomic_uint failures;
static pthread_mutex_t failure_lock = PTHREAD_MUTEX_INITIALIZER;

/* cmocka's asserts may not run off the main thread: workers count and print failures. */
static void
fail_at(unsigned tid, int line, const char *what)
{
	if (atomic_fetch_add(&failures, 1) < 20) {
		pthread_mutex_lock(&failure_lock);
		fprintf(stderr, "thread %u, line %d: %s\n", tid, line, what);
		pthread_mutex_unlock(&failure_lock);
	}
}

#define CHECK(tid, cond)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fail_at((tid), __LINE__, #cond);                                           \
		}                                                                                  \
	} while (0)

static void sink_a(enum mmio_log_level level, const char *message, void *userdata);
static void sink_b(enum mmio_log_level level, const char *message, void *userdata);

static struct sink sink_a_data = {.self = sink_a};
static struct sink sink_b_data = {.self = sink_b};

static void
sink_common(mmio_log_handler self, const char *message, void *userdata)
{
	struct sink *s = userdata;
	atomic_fetch_add(&s->running, 1);
	CHECK(IN_HANDLER, s == &sink_a_data || s == &sink_b_data);
	CHECK(IN_HANDLER, s->self == self);
	CHECK(IN_HANDLER, message != NULL && message[0] != '\0');
	atomic_fetch_add(&s->calls, 1);
	atomic_fetch_sub(&s->running, 1);
}

static void
sink_a(enum mmio_log_level level, const char *message, void *userdata)
{
	(void)level;
	sink_common(sink_a, message, userdata);
}

static void
sink_b(enum mmio_log_level level, const char *message, void *userdata)
{
	(void)level;
	sink_common(sink_b, message, userdata);
}

struct worker {
	struct mmio_client *c;
	struct mmio_lease *shared;
	unsigned tid;
	unsigned iterations;
	pthread_barrier_t *start;
};

/* The detail mmiod gives a 4-byte load at off outside a lease of sim0 of length len. */
static void
range_detail(char *buf, size_t cap, uint64_t off, const struct mmio_lease *l, uint64_t len)
{
	uint64_t start;
	uint64_t length;
	mmio_lease_range(l, &start, &length);
	snprintf(buf, cap,
		 "4-byte access at offset 0x%" PRIx64 " does not fit lease %" PRIu64
		 " of length 0x%" PRIx64 " (sim0 [0x%" PRIx64 ", +0x%" PRIx64 "))",
		 off, mmio_lease_id(l), len, start, length);
}

/* Each width stored and loaded back; the generic forms too. */
static void
widths(const struct worker *w, struct mmio_lease *own, unsigned i)
{
	unsigned t = w->tid;
	uint64_t seed = ((uint64_t)t << 56) | ((uint64_t)i << 16) | 0x5a;
	uint8_t v8;
	uint16_t v16;
	uint32_t v32;
	uint64_t v64;
	CHECK(t, mmio_store8(own, 0, (uint8_t)seed) == 0);
	CHECK(t, mmio_store16(own, 2, (uint16_t)(seed >> 8)) == 0);
	CHECK(t, mmio_store32(own, 4, (uint32_t)(seed >> 16)) == 0);
	CHECK(t, mmio_store64(own, 8, seed) == 0);
	CHECK(t, mmio_load8(own, 0, &v8) == 0 && v8 == (uint8_t)seed);
	CHECK(t, mmio_load16(own, 2, &v16) == 0 && v16 == (uint16_t)(seed >> 8));
	CHECK(t, mmio_load32(own, 4, &v32) == 0 && v32 == (uint32_t)(seed >> 16));
	CHECK(t, mmio_load64(own, 8, &v64) == 0 && v64 == seed);
	CHECK(t, mmio_store(own, 0x38, 8, ~seed) == 0);
	CHECK(t, mmio_load(own, 0x38, 8, &v64) == 0 && v64 == ~seed);
	CHECK(t, mmio_barrier(own) == 0);
}

/* modify, then polls that match and that time out at once (timeout 0: one check). */
static void
modify_and_poll(const struct worker *w, struct mmio_lease *own, unsigned i)
{
	unsigned t = w->tid;
	uint32_t before = 0x11000000u | (t << 16) | (i & 0xffff);
	uint64_t old = 0;
	uint64_t last = 0;
	CHECK(t, mmio_store32(own, 0x10, before) == 0);
	CHECK(t, mmio_modify(own, 0x10, 4, 0xff00, 0xab00, &old) == 0 && old == before);
	uint32_t after = (before & ~0xff00u) | 0xab00u;
	CHECK(t, mmio_poll(own, 0x10, 4, UINT32_MAX, after, 0, 0, &last) == 0 && last == after);
	CHECK(t, mmio_poll(own, 0x10, 4, UINT32_MAX, after ^ 1, 0, 0, &last) == -ETIMEDOUT &&
			 last == after);
}

/* A plain batch with one failing op, then an all-or-nothing one that must not run at all. */
static void
batches(const struct worker *w, struct mmio_lease *own, unsigned i)
{
	unsigned t = w->tid;
	uint64_t v = ((uint64_t)t << 32) | i;
	struct mmio_op ops[] = {
		{.lease = own, .kind = MMIO_OP_STORE, .width = 8, .offset = 0x18, .value = v},
		{.lease = own, .kind = MMIO_OP_BARRIER},
		{.lease = own, .kind = MMIO_OP_LOAD, .width = 8, .offset = 0x18},
		{.lease = own, .kind = MMIO_OP_LOAD, .width = 4, .offset = OWN_LEN},
	};
	CHECK(t, mmio_batch(w->c, ops, 4, 0) == 1);
	CHECK(t, ops[0].status == 0 && ops[2].status == 0 && ops[2].value == v);
	CHECK(t, ops[3].status == -ERANGE);

	struct mmio_op aon[] = {
		{.lease = own, .kind = MMIO_OP_STORE, .width = 8, .offset = 0x18, .value = ~v},
		{.lease = own, .kind = MMIO_OP_STORE, .width = 4, .offset = 0x19, .value = 1},
	};
	CHECK(t, mmio_batch(w->c, aon, 2, MMIO_BATCH_ALL_OR_NOTHING) == 2);
	CHECK(t, aon[0].status == -ECANCELED && aon[1].status == -EFAULT);
	uint64_t now = 0;
	CHECK(t, mmio_load64(own, 0x18, &now) == 0 && now == v);
}

/* Block writes and reads, upwards and at one (FIFO) offset; a bad one touches nothing. */
static void
blocks(const struct worker *w, struct mmio_lease *own, unsigned i)
{
	unsigned t = w->tid;
	uint64_t out[4] = {(uint64_t)t, i, (uint64_t)t * i, 0xfeed};
	uint64_t in[4] = {0};
	CHECK(t, mmio_write_block(own, 0x40, 4, out, 4, 0) == 0);
	CHECK(t, mmio_read_block(own, 0x40, 4, in, 4, 0) == 0);
	CHECK(t, memcmp(in, out, sizeof(in)) == 0);
	CHECK(t, mmio_write_block(own, 0x60, 2, out, 3, MMIO_REPEAT) == 0);
	CHECK(t, mmio_read_block(own, 0x60, 2, in, 2, MMIO_REPEAT) == 0);
	CHECK(t, in[0] == (uint16_t)out[2] && in[1] == (uint16_t)out[2]);
	/* Over the socket whatever the fast path: mmiod's detail reaches the log handler. */
	CHECK(t, mmio_read_block(own, OWN_LEN - 4, 4, in, 2, 0) == -ERANGE);
}

/* This thread's failures name offsets no other thread uses: its detail must be its own. */
static void
details(const struct worker *w, struct mmio_lease *own, unsigned i)
{
	unsigned t = w->tid;
	uint64_t off = 0x10000000u + ((uint64_t)t << 20) + (uint64_t)i * 4;
	char want[192];
	char got[192];
	uint32_t v;
	range_detail(want, sizeof(want), off, own, OWN_LEN);
	CHECK(t, mmio_load32(own, off, &v) == -ERANGE);
	const char *detail = mmio_error_detail(w->c);
	CHECK(t, strcmp(detail, want) == 0);
	int n = mmio_error_detail_copy(w->c, got, sizeof(got));
	CHECK(t, n == (int)strlen(want) && strcmp(got, want) == 0);
	/* As snprintf: the whole length, the text cut to fit. */
	CHECK(t, mmio_error_detail_copy(w->c, got, 9) == n && strncmp(got, want, 8) == 0 &&
			 got[8] == '\0');
	CHECK(t, mmio_error_detail_copy(w->c, NULL, 0) == n);
	/* A success of this thread clears its detail, whatever the others do meanwhile. */
	CHECK(t, mmio_load32(own, 0, &v) == 0);
	CHECK(t, mmio_error_detail(w->c)[0] == '\0');
	CHECK(t, mmio_error_detail_copy(w->c, got, sizeof(got)) == 0 && got[0] == '\0');
}

/* A scratch lease split in two, both checked through the getters, then released. */
static void
split_scratch(const struct worker *w, unsigned i)
{
	unsigned t = w->tid;
	uint64_t base = (uint64_t)t * SLICE + OWN_LEN;
	struct mmio_lease *hi = NULL;
	struct mmio_lease *lo = NULL;
	uint64_t start = 0;
	uint64_t len = 0;
	CHECK(t, mmio_acquire(w->c, "sim0", base, SCRATCH, &hi) == 0);
	if (!hi) {
		return;
	}
	CHECK(t, mmio_split(hi, 0x10, &lo) == 0);
	if (lo) {
		mmio_lease_range(lo, &start, &len);
		CHECK(t, start == base && len == 0x10);
		CHECK(t, mmio_lease_start(lo) == base && mmio_lease_length(lo) == 0x10);
		CHECK(t, strcmp(mmio_lease_region(lo), "sim0") == 0);
		CHECK(t, mmio_lease_access(lo) == MMIO_ACCESS_RW);
		CHECK(t, mmio_lease_id(lo) != mmio_lease_id(hi));
		CHECK(t, mmio_store32(lo, 0xc, i) == 0);
		CHECK(t, mmio_release(lo) == 0);
	}
	mmio_lease_range(hi, &start, &len);
	CHECK(t, start == base + 0x10 && len == SCRATCH - 0x10);
	uint32_t v = 0;
	CHECK(t, mmio_store32(hi, 0, ~i) == 0);
	CHECK(t, mmio_load32(hi, 0, &v) == 0 && v == ~i);
	CHECK(t, mmio_release(hi) == 0);
}

/* Thread 0 splits the shared lease; everyone else reads it, never a torn range. */
static void
shared_lease(const struct worker *w, uint64_t *last_start)
{
	unsigned t = w->tid;
	if (t == 0) {
		struct mmio_lease *lo = NULL;
		CHECK(t, mmio_split(w->shared, 1, &lo) == 0);
		CHECK(t, lo && mmio_release(lo) == 0);
		return;
	}
	for (unsigned k = 0; k < 16; k++) {
		uint64_t start = 0;
		uint64_t len = 0;
		mmio_lease_range(w->shared, &start, &len);
		CHECK(t, start + len == SHARED_START + SHARED_LEN);
		CHECK(t, start >= *last_start && start <= SHARED_START + SHARED_LEN);
		*last_start = start;
		/* Each alone is one of the values it had, and never goes back. */
		uint64_t s = mmio_lease_start(w->shared);
		CHECK(t, s >= start && s <= SHARED_START + SHARED_LEN);
		CHECK(t, mmio_lease_length(w->shared) <= SHARED_LEN);
	}
}

/* Thread 0 swaps the log handler each iteration; the one replaced is never running after. */
static void
swap_log_handler(unsigned i)
{
	switch (i % 3) {
	case 0:
		mmio_set_log_handler(sink_a, &sink_a_data);
		CHECK(0, atomic_load(&sink_b_data.running) == 0);
		break;
	case 1:
		mmio_set_log_handler(sink_b, &sink_b_data);
		CHECK(0, atomic_load(&sink_a_data.running) == 0);
		break;
	default:
		mmio_set_log_handler(NULL, NULL);
		CHECK(0, atomic_load(&sink_a_data.running) == 0);
		CHECK(0, atomic_load(&sink_b_data.running) == 0);
		break;
	}
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	unsigned t = w->tid;
	static const enum mmio_fast_path modes[] = {MMIO_FAST_PATH_AUTO, MMIO_FAST_PATH_OFF,
						    MMIO_FAST_PATH_ON};
	struct mmio_lease *own = NULL;
	uint64_t last_start = SHARED_START;
	pthread_barrier_wait(w->start);
	CHECK(t, mmio_acquire(w->c, "sim0", (uint64_t)t * SLICE, OWN_LEN, &own) == 0);
	if (!own) {
		return NULL;
	}
	for (unsigned i = 0; i < w->iterations; i++) {
		/* Every thread flips the mode under the others' feet: ops take ring or socket. */
		CHECK(t, mmio_set_fast_path(w->c, modes[(t + i) % 3]) == 0);
		(void)mmio_fast_path_active(w->c);
		if (t == 0) {
			swap_log_handler(i);
		}
		widths(w, own, i);
		details(w, own, i);
		modify_and_poll(w, own, i);
		batches(w, own, i);
		blocks(w, own, i);
		split_scratch(w, i);
		shared_lease(w, &last_start);
		details(w, own, i + w->iterations);
	}
	CHECK(t, mmio_release(own) == 0);
	return NULL;
}

static int
setup(void **state)
{
	struct daemon_fixture *f = calloc(1, sizeof(*f));
	if (daemon_fixture_start(f, regions) < 0) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

/* Only cleans up after a failure: the test asserts its daemon's clean stop itself. */
static int
teardown(void **state)
{
	struct daemon_fixture *f = *state;
	int rc = f->pid > 0 ? daemon_fixture_stop(f) : 0;
	free(f);
	return rc == 0 ? 0 : -1;
}

static void
test_shared_client_every_op(void **state)
{
	struct daemon_fixture *f = *state;
	/* Thread 0 splits one byte of the shared lease per iteration. */
	unsigned iterations = stress_count(1000, 200);
	assert_true(iterations < SHARED_LEN);
	struct mmio_client *c;
	struct mmio_lease *shared;
	assert_int_equal(mmio_connect(f->socket_path, &c), 0);
	/* mmiod offers the ring: ON must work for every thread. */
	assert_int_equal(mmio_set_fast_path(c, MMIO_FAST_PATH_ON), 0);
	assert_int_equal(mmio_acquire(c, "sim0", SHARED_START, SHARED_LEN, &shared), 0);

	pthread_t threads[N_THREADS];
	struct worker workers[N_THREADS];
	pthread_barrier_t start;
	pthread_barrier_init(&start, NULL, N_THREADS);
	uint64_t t0 = stress_now_ns();
	for (unsigned i = 0; i < N_THREADS; i++) {
		workers[i] = (struct worker){.c = c,
					     .shared = shared,
					     .tid = i,
					     .iterations = iterations,
					     .start = &start};
		assert_int_equal(pthread_create(&threads[i], NULL, worker_main, &workers[i]), 0);
	}
	for (unsigned i = 0; i < N_THREADS; i++) {
		pthread_join(threads[i], NULL);
	}
	uint64_t t1 = stress_now_ns();
	pthread_barrier_destroy(&start);

	/* Thread 0 split off one byte per iteration. */
	uint64_t s = 0;
	uint64_t len = 0;
	mmio_lease_range(shared, &s, &len);
	assert_int_equal(s, SHARED_START + iterations);
	assert_int_equal(len, SHARED_LEN - iterations);

	/* The handler installed last gets the next message, with its own userdata. */
	unsigned before = atomic_load(&sink_b_data.calls);
	mmio_set_log_handler(sink_b, &sink_b_data);
	uint64_t v[2];
	assert_int_equal(mmio_read_block(shared, len, 4, v, 2, 0), -ERANGE);
	assert_true(atomic_load(&sink_b_data.calls) > before);
	mmio_set_log_handler(NULL, NULL);

	unsigned failed = atomic_load(&failures);
	stress_report("shared client: %u threads x %u iterations, log handler calls %u + %u, "
		      "%u failed checks, %.2f s, %s build: %s",
		      N_THREADS, iterations, atomic_load(&sink_a_data.calls),
		      atomic_load(&sink_b_data.calls), failed, (double)(t1 - t0) / 1e9,
		      stress_build_name(), failed == 0 ? "PASS" : "FAIL");
	assert_int_equal(failed, 0);
	assert_int_equal(mmio_release(shared), 0);
	mmio_disconnect(c);
	int rc = daemon_fixture_stop(f);
	stress_report("shared client: mmiod stopped with status %d: %s", rc,
		      rc == 0 ? "PASS" : "FAIL");
	assert_int_equal(rc, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_shared_client_every_op, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
