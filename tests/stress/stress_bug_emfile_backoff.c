/*
 * KNOWN BUG, registered WILL_FAIL: with the fd limit systemd gives services
 * by default (soft RLIMIT_NOFILE 1024: DefaultLimitNOFILE=1024:524288;
 * systemd/mmiod.service sets no LimitNOFILE and mmiod does not raise its soft
 * limit), accept() runs out of fds before max_connections (1024) is reached.
 * daemon/server.c accept_cb() then turns accepting off for a whole second
 * (accept_backoff), for every client, and again after each second while the
 * fds stay taken: the connection limits that should answer politely never
 * come into play.
 *
 * Four uids hold 255 connections each (each under its per-uid limit of 256,
 * 1020 in all, under max_connections; mmiod itself has 7 fds open, so 1017
 * connections fill its table): a legitimate root client must be
 * served within 100 ms (target 5). It is not. When this passes, the bug is
 * fixed: drop WILL_FAIL in CMakeLists.txt. Needs root (other uids); exits 77
 * (skipped) otherwise. If the attack cannot be set up the test is skipped,
 * which makes cmocka exit 0 and CTest report this WILL_FAIL entry as failed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attacker.h"
#include "daemon_fixture.h"
#include "mmio/client.h"
#include "mmio_limits.h"
#include "stress_util.h"

#define N_ATTACKERS      4
#define FIRST_UID        4711
#define PER_ATTACKER     (MMIO_MAX_CONNS_PER_UID - 1)
#define SYSTEMD_SOFT_FDS 1024
#define SERVED_WITHIN_NS 100000000u /* 100 ms */
#define GIVE_UP_MS       2000       /* far past the target: not served */

static int
setup(void **state)
{
	static const char *const args[] = {"--region", "sim0,type=mem,size=0x1000", NULL};
	/* mmiod gets systemd's default soft limit, as under mmiod.service. */
	struct rlimit saved, rl;
	getrlimit(RLIMIT_NOFILE, &saved);
	rl = saved;
	rl.rlim_cur = SYSTEMD_SOFT_FDS;
	setrlimit(RLIMIT_NOFILE, &rl);
	struct daemon_fixture *f = calloc(1, sizeof(*f));
	int rc = daemon_fixture_start_clean(f, args);
	setrlimit(RLIMIT_NOFILE, &saved);
	if (rc < 0) {
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

struct visit {
	const char *socket_path;
	int done_fd;
	int err;
	uint64_t ns;
};

/* connect, acquire, load, disconnect; reports on done_fd. */
static void *
visit_main(void *arg)
{
	struct visit *v = arg;
	uint64_t t0 = stress_now_ns();
	struct mmio_client *c;
	struct mmio_lease *l;
	uint32_t value;
	int rc = mmio_connect(v->socket_path, &c);
	if (rc == 0) {
		rc = mmio_acquire(c, "sim0", 0, 8, &l);
		if (rc == 0) {
			rc = mmio_load32(l, 0, &value);
		}
		mmio_disconnect(c);
	}
	v->err = rc;
	v->ns = stress_now_ns() - t0;
	char b = 'd';
	if (write(v->done_fd, &b, 1) != 1) {
		abort();
	}
	return NULL;
}

/*
 * Blocks (on inotify, up to a minute) until the attack is in place: mmiod
 * paused accepting (the bug), or accepted every attacker connection (fixed).
 * Returns 1 if so, 0 on timeout.
 */
static int
wait_attack_in_place(const struct daemon_fixture *f, int n_conns)
{
	int ino = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (ino < 0 || inotify_add_watch(ino, f->log_path, IN_MODIFY) < 0) {
		return 0;
	}
	uint64_t deadline = stress_now_ns() + 60000000000u;
	int ok = 0;
	for (;;) {
		if (daemon_fixture_log_count(f, "pausing new connections") > 0 ||
		    daemon_fixture_log_count(f, "): connected") >= n_conns) {
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

static void
test_bug_emfile_before_connection_limit(void **state)
{
	struct daemon_fixture *f = *state;
	if (chmod(f->dir, 0755) < 0 || chmod(f->socket_path, 0666) < 0) {
		skip();
	}
	struct attacker a[N_ATTACKERS];
	for (int i = 0; i < N_ATTACKERS; i++) {
		a[i] = (struct attacker){.idle = PER_ATTACKER, .uid = FIRST_UID + i};
		if (attacker_start(f->socket_path, &a[i]) < 0) {
			skip();
		}
	}
	/* Only the attackers have connected so far. */
	if (!wait_attack_in_place(f, N_ATTACKERS * PER_ATTACKER)) {
		for (int i = 0; i < N_ATTACKERS; i++) {
			attacker_stop(&a[i]);
		}
		skip();
	}
	int done[2];
	assert_int_equal(pipe2(done, O_CLOEXEC), 0);
	struct visit v = {.socket_path = f->socket_path, .done_fd = done[1]};
	pthread_t thread;
	assert_int_equal(pthread_create(&thread, NULL, visit_main, &v), 0);
	struct pollfd pfd = {.fd = done[0], .events = POLLIN};
	bool in_time = poll(&pfd, 1, GIVE_UP_MS) == 1;
	/* Ending the attack frees the fds; a visit still waiting then completes. */
	for (int i = 0; i < N_ATTACKERS; i++) {
		attacker_stop(&a[i]);
	}
	pthread_join(thread, NULL);
	close(done[0]);
	close(done[1]);
	bool served = in_time && v.err == 0 && v.ns <= SERVED_WITHIN_NS;
	int pauses = daemon_fixture_log_count(f, "pausing new connections");
	stress_report("EMFILE back-off (known bug): mmiod with soft RLIMIT_NOFILE %d, %d uids hold "
		      "%d connections each (%d, under max_connections %d); a root client %s "
		      "(%s, %.3f ms), %d accept pauses of 1 s logged: %s",
		      SYSTEMD_SOFT_FDS, N_ATTACKERS, PER_ATTACKER, N_ATTACKERS * PER_ATTACKER,
		      MMIO_MAX_CONNS,
		      served ? "was served within 100 ms" : "was not served within 100 ms",
		      in_time ? (v.err ? mmio_status_name(v.err) : "ok") : "still waiting at 2 s",
		      (double)v.ns / 1e6, pauses,
		      served ? "PASS (bug fixed? drop WILL_FAIL)" : "FAIL (known bug reproduced)");
	assert_int_equal(daemon_fixture_stop(f), 0);
	assert_true(served);
}

int
main(void)
{
	if (geteuid() != 0) {
		printf("EMFILE back-off (known bug): needs root for attackers of other uids: "
		       "skipped\n");
		return 77;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bug_emfile_before_connection_limit, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
