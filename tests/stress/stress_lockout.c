/*
 * Target 5, lockouts: attackers holding more sockets than the connection
 * limits allow them must not keep an ordinary user (uid 4800, so slots kept
 * for root do not count) from being served within 100 ms. Regression tests
 * of two bugs these tests found, fixed in 25aa736:
 *
 * - One uid took every slot: a connection over its uid's limit was kept
 *   until Hello or the 5 s handshake timeout and counted against
 *   max_connections, so 1024 silent sockets of one uid closed everyone
 *   else's connections at accept.
 * - accept() met EMFILE before max_connections: with systemd's default soft
 *   fd limit (1024) and 1020 connections of four uids, each under its own
 *   limit, accepting stopped for everyone, a second at a time.
 *
 * A visit is connect + ListRegions + disconnect (regions given with --region
 * have no grants: uid 4800 may not lease, but it is served). Needs root for
 * the other uids; exits 77 (skipped) otherwise.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attacker.h"
#include "core/limits.h"
#include "daemon_fixture.h"
#include "mmio/client.h"
#include "run_as.h"
#include "stress_util.h"

#define FIRST_ATTACKER_UID 4711
#define LEGIT_UID          4800
#define N_VISITS           20
#define SERVED_WITHIN_NS   100000000u /* 100 ms: asserted in the plain build */
#define GIVE_UP_S          2          /* a visit still waiting then is not served, in any build */
#define SYSTEMD_SOFT_FDS   1024

/* -v: the wait for every attacker counts the per-connection lines, which are debug. */
static const char *const args[] = {"--region", "sim0,type=mem,size=0x1000", "-v", NULL};

static int
setup(void **state)
{
	struct daemon_fixture *f = calloc(1, sizeof(*f));
	if (!f || daemon_fixture_start_args(f, args) < 0 || chmod(f->dir, 0755) < 0 ||
	    chmod(f->socket_path, 0666) < 0) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

/* mmiod started as mmiod.service would be without LimitNOFILE=: systemd's soft limit. */
static int
setup_systemd_fd_limit(void **state)
{
	struct rlimit saved, rl;
	getrlimit(RLIMIT_NOFILE, &saved);
	rl = saved;
	rl.rlim_cur = SYSTEMD_SOFT_FDS;
	setrlimit(RLIMIT_NOFILE, &rl);
	struct daemon_fixture *f = calloc(1, sizeof(*f));
	int rc = f ? daemon_fixture_start_clean(f, args) : -1;
	setrlimit(RLIMIT_NOFILE, &saved);
	if (rc < 0 || chmod(f->dir, 0755) < 0 || chmod(f->socket_path, 0666) < 0) {
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

struct visits {
	const char *socket_path;
};

/*
 * In a child as LEGIT_UID: N_VISITS of connect + ListRegions + disconnect.
 * Exit status: how many were served (within 100 ms where timing is asserted).
 * A visit that hangs past GIVE_UP_S ends the child by SIGALRM: a bound, not a
 * synchronisation.
 */
static int
legit_visits(void *arg)
{
	const struct visits *v = arg;
	int served = 0;
	for (unsigned i = 0; i < N_VISITS; i++) {
		alarm(GIVE_UP_S);
		uint64_t t0 = stress_now_ns();
		struct mmio_client *c;
		struct mmio_region_info *regions = NULL;
		int rc = mmio_connect(v->socket_path, &c);
		if (rc == 0) {
			rc = mmio_list_regions(c, &regions);
			free(regions);
			mmio_disconnect(c);
		}
		uint64_t dt = stress_now_ns() - t0;
		if (rc >= 0 && (dt <= SERVED_WITHIN_NS || !stress_assert_timing())) {
			served++;
		} else {
			fprintf(stderr, "uid %d visit %u: %s after %.3f ms\n", LEGIT_UID, i,
				rc < 0 ? mmio_status_name(rc) : "served", (double)dt / 1e6);
		}
	}
	alarm(0);
	return served;
}

/* Runs legit_visits as LEGIT_UID; writes how it went into what (for the report line). */
static int
visit_as_legit(const struct daemon_fixture *f, char *what, size_t cap)
{
	struct visits v = {.socket_path = f->socket_path};
	int rc = run_as(LEGIT_UID, LEGIT_UID, NULL, 0, legit_visits, &v);
	if (rc == 128 + SIGALRM) {
		snprintf(what, cap, "a visit still waiting after %d s", GIVE_UP_S);
		return -1;
	}
	snprintf(what, cap, "%d of %d visits served", rc, N_VISITS);
	return rc;
}

/*
 * Blocks (on inotify, up to a minute) until needle_a is logged once or
 * needle_b count times. Returns 1 if so, 0 on timeout.
 */
static int
wait_log_either(const struct daemon_fixture *f, const char *needle_a, const char *needle_b,
		int count)
{
	int ino = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (ino < 0 || inotify_add_watch(ino, f->log_path, IN_MODIFY) < 0) {
		return 0;
	}
	uint64_t deadline = stress_now_ns() + 60000000000u;
	int ok = 0;
	for (;;) {
		if (daemon_fixture_log_count(f, needle_a) > 0 ||
		    daemon_fixture_log_count(f, needle_b) >= count) {
			ok = 1;
			break;
		}
		uint64_t now = stress_now_ns();
		struct pollfd pfd = {.fd = ino, .events = POLLIN};
		if (now >= deadline || poll(&pfd, 1, (int)((deadline - now) / 1000000)) != 1) {
			break;
		}
		char events[4096];
		while (read(ino, events, sizeof(events)) > 0) {
		}
	}
	close(ino);
	return ok;
}

/* One uid opens max_connections sockets and never says Hello. */
static void
test_lockout_one_uid_over_its_limit(void **state)
{
	struct daemon_fixture *f = *state;
	struct attacker a = {.idle = MMIO_MAX_CONNS, .uid = FIRST_ATTACKER_UID};
	assert_int_equal(attacker_start(f->socket_path, &a), 0);
	/* In place once mmiod has turned down every socket over the uid's limit. */
	char needle[64];
	snprintf(needle, sizeof(needle), "uid %d refused: uid has %d connections already",
		 FIRST_ATTACKER_UID, MMIO_MAX_CONNS_PER_UID);
	int over = MMIO_MAX_CONNS - MMIO_MAX_CONNS_PER_UID;
	assert_int_equal(daemon_fixture_wait_log(f, needle, over, 60000) >= over, 1);
	char what[64];
	int served = visit_as_legit(f, what, sizeof(what));
	int refusals = daemon_fixture_log_count(f, "connections already");
	assert_int_equal(attacker_stop(&a), 0);
	stress_report("lockout, one uid: uid %d holds %d sockets without Hello (%d over its limit "
		      "of %d); uid %d: %s (within 100 ms%s), %d refusals logged, %s build: %s",
		      FIRST_ATTACKER_UID, MMIO_MAX_CONNS, over, MMIO_MAX_CONNS_PER_UID, LEGIT_UID,
		      what, stress_assert_timing() ? "" : ": not asserted here", refusals,
		      stress_build_name(), served == N_VISITS ? "PASS" : "FAIL");
	assert_int_equal(served, N_VISITS);
	assert_int_equal(daemon_fixture_stop(f), 0);
}

/*
 * The connections mmiod serves: max_connections, or fewer if it could not
 * raise its fd limit to cover them and said so ("serving at most N
 * connections"; valgrind, for one, keeps a client from raising it).
 */
static unsigned
connection_cap(const struct daemon_fixture *f)
{
	unsigned cap = MMIO_MAX_CONNS;
	FILE *log = fopen(f->log_path, "r");
	char line[512];
	while (log && fgets(line, sizeof(line), log)) {
		const char *at = strstr(line, "serving at most ");
		if (at) {
			sscanf(at, "serving at most %u", &cap);
		}
	}
	if (log) {
		fclose(log);
	}
	return cap;
}

/*
 * Four uids, each under its limit, hold all but 4 of the connections mmiod
 * serves (1020 of 1024); mmiod's soft fd limit is 1024.
 */
static void
test_lockout_fd_limit_below_connection_limit(void **state)
{
	struct daemon_fixture *f = *state;
	enum { N_ATTACKERS = 4 };
	unsigned cap = connection_cap(f);
	unsigned per_attacker = (cap - 4) / N_ATTACKERS;
	if (per_attacker > MMIO_MAX_CONNS_PER_UID - 1) {
		per_attacker = MMIO_MAX_CONNS_PER_UID - 1;
	}
	struct attacker a[N_ATTACKERS];
	for (int i = 0; i < N_ATTACKERS; i++) {
		a[i] = (struct attacker){.idle = per_attacker, .uid = FIRST_ATTACKER_UID + i};
		assert_int_equal(attacker_start(f->socket_path, &a[i]), 0);
	}
	/* In place once mmiod accepted them all, or ran out of fds trying (the old bug). */
	assert_int_equal(wait_log_either(f, "pausing new connections", "): connected",
					 (int)(N_ATTACKERS * per_attacker)),
			 1);
	char what[64];
	int served = visit_as_legit(f, what, sizeof(what));
	for (int i = 0; i < N_ATTACKERS; i++) {
		assert_int_equal(attacker_stop(&a[i]), 0);
	}
	int pauses = daemon_fixture_log_count(f, "pausing new connections");
	stress_report("lockout, fd limit: mmiod started with soft RLIMIT_NOFILE %d serves %u "
		      "connections, %d uids hold %u each (%u); uid %d: %s (within 100 ms%s), %d "
		      "accept pauses logged, %s build: %s",
		      SYSTEMD_SOFT_FDS, cap, N_ATTACKERS, per_attacker, N_ATTACKERS * per_attacker,
		      LEGIT_UID, what, stress_assert_timing() ? "" : ": not asserted here", pauses,
		      stress_build_name(), served == N_VISITS && pauses == 0 ? "PASS" : "FAIL");
	assert_int_equal(served, N_VISITS);
	assert_int_equal(pauses, 0);
	assert_int_equal(daemon_fixture_stop(f), 0);
}

int
main(void)
{
	if (geteuid() != 0) {
		printf("lockout: needs root for clients of other uids: skipped\n");
		return 77;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lockout_one_uid_over_its_limit, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_lockout_fd_limit_below_connection_limit,
						setup_systemd_fd_limit, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
