/*
 * KNOWN BUG, registered WILL_FAIL: one unprivileged uid can lock every other
 * client out of mmiod, although it has a per-uid connection limit.
 *
 * daemon/server.c accept_cb() accepts a connection over its uid's limit
 * (max_connections_per_uid, 256) as "refused" and keeps it open until it
 * says Hello (to answer RESOURCE_EXHAUSTED) or the handshake timeout (5 s)
 * closes it; meanwhile it counts in srv->n_conns against max_connections
 * (1024). An attacker that opens 1024 sockets and never says Hello fills
 * every slot: each further connection, of any uid, root included, is closed
 * at accept ("refused: 1024 connections already"), and the attacker re-opens
 * each socket when its timeout closes it.
 *
 * Target 5 says attackers holding many sockets must not stop a legitimate
 * client from being served within 100 ms. This test asserts that for an
 * ordinary user (uid 4800: a fix that only keeps slots for root does not
 * count) and fails today; when it passes, the bug is fixed: drop WILL_FAIL in
 * CMakeLists.txt. A visit is connect + ListRegions: regions given with
 * --region have no grants, so uid 4800 may not lease, but it is served.
 * Needs root (the attacker is another uid); exits 77 (skipped) otherwise. If
 * the attack cannot be set up the test is skipped, which makes cmocka exit 0
 * and CTest report this WILL_FAIL entry as failed: look at it then.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attacker.h"
#include "daemon_fixture.h"
#include "mmio/client.h"
#include "mmio_limits.h"
#include "run_as.h"
#include "stress_util.h"

#define ATTACKER_UID     4711
#define LEGIT_UID        4800
#define N_VISITS         20
#define SERVED_WITHIN_NS 100000000u /* 100 ms */

static int
setup(void **state)
{
	static const char *const regions[] = {"sim0,type=mem,size=0x1000", NULL};
	struct daemon_fixture *f = calloc(1, sizeof(*f));
	if (daemon_fixture_start(f, regions) < 0) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

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
	unsigned served; /* within SERVED_WITHIN_NS */
	int last_err;
	uint64_t worst_ns;
};

/*
 * In a child as LEGIT_UID: N_VISITS of connect + ListRegions + disconnect.
 * Returns how many were served within 100 ms, as the child's exit status.
 */
static int
legit_visits(void *arg)
{
	struct visits *v = arg;
	unsigned served = 0;
	for (unsigned i = 0; i < N_VISITS; i++) {
		uint64_t t0 = stress_now_ns();
		struct mmio_client *c;
		struct mmio_region_info *regions = NULL;
		int rc = mmio_connect(v->socket_path, &c);
		if (rc == 0) {
			rc = mmio_list_regions(c, &regions);
			free(regions);
			mmio_disconnect(c);
		}
		if (rc >= 0 && stress_now_ns() - t0 <= SERVED_WITHIN_NS) {
			served++;
		} else if (rc < 0) {
			/* The last error, for the report: a status name fits in the log line. */
			fprintf(stderr, "uid %d visit %u: %s\n", LEGIT_UID, i,
				mmio_status_name(rc));
		}
	}
	return (int)served;
}

static void
test_bug_one_uid_fills_every_connection_slot(void **state)
{
	struct daemon_fixture *f = *state;
	if (chmod(f->dir, 0755) < 0 || chmod(f->socket_path, 0666) < 0) {
		skip();
	}
	struct attacker a = {.idle = MMIO_MAX_CONNS, .uid = ATTACKER_UID};
	if (attacker_start(f->socket_path, &a) < 0) {
		skip();
	}
	/* mmiod accepted them all: 256 within the uid's limit, every later one as refused. */
	char needle[64];
	snprintf(needle, sizeof(needle), "uid %d refused: uid has %d connections already",
		 ATTACKER_UID, MMIO_MAX_CONNS_PER_UID);
	int refused = MMIO_MAX_CONNS - MMIO_MAX_CONNS_PER_UID;
	if (daemon_fixture_wait_log(f, needle, refused, 60000) < refused) {
		attacker_stop(&a);
		skip();
	}
	struct visits v = {.socket_path = f->socket_path};
	int served = run_as(LEGIT_UID, LEGIT_UID, NULL, 0, legit_visits, &v);
	int total_refusals = daemon_fixture_log_count(f, "connections already");
	attacker_stop(&a);
	stress_report(
		"refused slots (known bug): uid %d holds %d sockets without Hello (%d over its "
		"limit of %d, kept open as refused); a client of uid %d was served within "
		"100 ms in %d of %d visits, %d refusals logged: %s",
		ATTACKER_UID, MMIO_MAX_CONNS, refused, MMIO_MAX_CONNS_PER_UID, LEGIT_UID, served,
		N_VISITS, total_refusals,
		served == N_VISITS ? "PASS (bug fixed? drop WILL_FAIL)"
				   : "FAIL (known bug reproduced)");
	/* Still serves once the attacker is gone; then the target itself. */
	assert_int_equal(run_as(LEGIT_UID, LEGIT_UID, NULL, 0, legit_visits, &v), N_VISITS);
	assert_int_equal(daemon_fixture_stop(f), 0);
	assert_int_equal(served, N_VISITS);
}

int
main(void)
{
	if (geteuid() != 0) {
		printf("refused slots (known bug): needs root for an attacker of another uid: "
		       "skipped\n");
		return 77;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bug_one_uid_fills_every_connection_slot, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
