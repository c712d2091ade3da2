/*
 * Target 3, churn: 10,000 connect -> acquire -> disconnect cycles from 50
 * concurrent clients. Afterwards mmiod's fd count is back to its baseline,
 * its lease table is empty, its RSS grew by less than 1 MiB, and it stops
 * cleanly (under ASan that includes LSan's leak check at exit; under the
 * valgrind wrapper of tools/test.sh, memcheck's --leak-check=full).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "daemon_fixture.h"
#include "mmio/client.h"
#include "stress_util.h"

#define N_CLIENTS     50
#define RANGE_PER_CLI 0x100 /* each client churns inside its own 256 bytes */
#define RSS_BOUND_KIB 1024

static const char *const regions[] = {"sim0,type=mem,size=0x10000", NULL};

struct worker {
	const char *socket_path;
	unsigned index;
	unsigned cycles;
	pthread_barrier_t *start;
	unsigned failures;
	int first_error;
};

/* One connect -> acquire -> store -> disconnect; the disconnect revokes the lease. */
static int
one_cycle(const struct worker *w, unsigned i)
{
	struct mmio_client *c;
	struct mmio_lease *l;
	int rc = mmio_connect(w->socket_path, &c);
	if (rc < 0) {
		return rc;
	}
	/*
	 * The same range every cycle: the previous cycle's hangup was readable
	 * before this connection's first frame, so its lease must be gone by now.
	 */
	rc = mmio_acquire(c, "sim0", (uint64_t)w->index * RANGE_PER_CLI, RANGE_PER_CLI, &l);
	if (rc == 0) {
		rc = mmio_store32(l, 0, i);
	}
	mmio_disconnect(c);
	return rc;
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	pthread_barrier_wait(w->start);
	for (unsigned i = 0; i < w->cycles; i++) {
		int rc = one_cycle(w, i);
		if (rc < 0 && w->failures++ == 0) {
			w->first_error = rc;
		}
	}
	return NULL;
}

/* cycles per client, all N_CLIENTS at once; returns the failed cycles. */
static unsigned
run_round(const struct daemon_fixture *f, unsigned cycles)
{
	pthread_t threads[N_CLIENTS];
	struct worker workers[N_CLIENTS];
	pthread_barrier_t start;
	pthread_barrier_init(&start, NULL, N_CLIENTS);
	for (unsigned i = 0; i < N_CLIENTS; i++) {
		workers[i] = (struct worker){.socket_path = f->socket_path,
					     .index = i,
					     .cycles = cycles,
					     .start = &start};
		assert_int_equal(pthread_create(&threads[i], NULL, worker_main, &workers[i]), 0);
	}
	unsigned failures = 0;
	for (unsigned i = 0; i < N_CLIENTS; i++) {
		pthread_join(threads[i], NULL);
		if (workers[i].failures) {
			fprintf(stderr, "client %u: %u failed cycles, first %s\n", i,
				workers[i].failures, mmio_strerror(workers[i].first_error));
		}
		failures += workers[i].failures;
	}
	pthread_barrier_destroy(&start);
	return failures;
}

/*
 * A round trip on probe after every churn client closed its socket: mmiod
 * handles one frame per wakeup, and every hangup was readable before this
 * request, so all of them are handled by the time the reply comes. Returns
 * the number of live leases (root sees all of them).
 */
static int
settle(struct mmio_client *probe)
{
	struct mmio_lease_info *leases;
	int n = mmio_list_leases(probe, &leases);
	free(leases);
	return n;
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

/* Only cleans up after a failure: each test asserts its daemon's clean stop itself. */
static int
teardown(void **state)
{
	struct daemon_fixture *f = *state;
	int rc = f->pid > 0 ? daemon_fixture_stop(f) : 0;
	free(f);
	return rc == 0 ? 0 : -1;
}

static void
test_churn_connect_acquire_disconnect(void **state)
{
	struct daemon_fixture *f = *state;
	unsigned per_client = stress_count(200, 40);
	long rss_start = proc_rss_kib(f->pid);

	struct mmio_client *probe;
	assert_int_equal(mmio_connect(f->socket_path, &probe), 0);
	/*
	 * Warm-up: one cycle per client, so the baseline includes what the first
	 * 50 concurrent connections make libevent and malloc set up for good.
	 */
	assert_int_equal(run_round(f, 1), 0);
	assert_int_equal(settle(probe), 0);
	int fds_before = proc_fd_count(f->pid);
	long rss_before = proc_rss_kib(f->pid);
	int revoked_before = daemon_fixture_log_count(f, "disconnected, 1 lease revoked");

	uint64_t t0 = stress_now_ns();
	unsigned failures = run_round(f, per_client);
	uint64_t t1 = stress_now_ns();

	int leases = settle(probe);
	int fds_after = proc_fd_count(f->pid);
	long rss_after = proc_rss_kib(f->pid);
	int revoked = daemon_fixture_log_count(f, "disconnected, 1 lease revoked") - revoked_before;
	unsigned cycles = per_client * N_CLIENTS;
	long grew = rss_after - rss_before;
	bool pass = failures == 0 && fds_after == fds_before && leases == 0 &&
		    revoked == (int)cycles && (!stress_assert_rss() || grew < RSS_BOUND_KIB);
	stress_report("churn: %u cycles, %d clients, %u failed, fds %d -> %d, leases %d, "
		      "%d revocations logged, RSS %ld -> %ld -> %ld KiB (%+ld KiB after warm-up, "
		      "bound %d%s), %.2f s, %s build: %s",
		      cycles, N_CLIENTS, failures, fds_before, fds_after, leases, revoked,
		      rss_start, rss_before, rss_after, grew, RSS_BOUND_KIB,
		      stress_assert_rss() ? "" : ", not asserted in this build",
		      (double)(t1 - t0) / 1e9, stress_build_name(), pass ? "PASS" : "FAIL");

	assert_int_equal(failures, 0);
	assert_int_equal(fds_after, fds_before);
	assert_int_equal(leases, 0);
	assert_int_equal(revoked, cycles);
	if (stress_assert_rss()) {
		assert_true(grew < RSS_BOUND_KIB);
	}
	mmio_disconnect(probe);
	/* Exit 0: with ASan, LSan found no leak; under valgrind, memcheck found none. */
	int rc = daemon_fixture_stop(f);
	stress_report("churn: mmiod stopped with status %d: %s", rc, rc == 0 ? "PASS" : "FAIL");
	assert_int_equal(rc, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_churn_connect_acquire_disconnect, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
