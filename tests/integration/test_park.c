/*
 * Park on revoke (issue 15, part 2), against a real mmiod with a sim region whose map and park
 * sequence the test writes: a lease that ends other than by Release gets the region's park
 * sequence run exactly once, on the registers it covers, before its range can be leased again,
 * and audited with the reason; an orderly release parks nothing.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon_fixture.h"
#include "mmio/client.h"

#define HOLDER_UID 4242
#define PARK_LINE  "audit: park region dev"
#define TTL_LINE   "audit: park region ttl"
/* The ttl region's lease time: long beside a renewal every TTL_MS / 10, short for a test. */
#define TTL_MS 1000

/* CTRL 0x0 (EN 0, DMA 1, MODE 7:4); IER 0x4; DATA 0x8; PINS 0x40 (outside the leases below). */
static const char map_yaml[] =
	"name: parkdev\n"
	"width: 32\n"
	"registers:\n"
	"  - name: CTRL\n"
	"    offset: 0x0\n"
	"    fields:\n"
	"      - { name: EN, bits: \"0\" }\n"
	"      - { name: DMA, bits: \"1\" }\n"
	"      - { name: MODE, bits: \"7:4\", values: { IDLE: 0, RUN: 15 } }\n"
	"  - { name: IER, offset: 0x4 }\n"
	"  - { name: DATA, offset: 0x8 }\n"
	"  - { name: PINS, offset: 0x40 }\n";

/* Mask interrupts, stop the engine (MODE kept), wait, set the pins to input. */
static const char park_conf[] = "park = ( { store = \"IER\"; value = 0; },\n"
				"         { register = \"CTRL\"; mask = \"EN|DMA\"; value = 0; },\n"
				"         { barrier = true; }, { delay_us = 50; },\n"
				"         { store = \"PINS\"; value = 0x55; } );\n";

/* The flaky region's device fails every load of DATA: a device fault. */
static const char flaky_model[] = "function on_load(reg, value)\n"
				  "  if reg == \"DATA\" then error(\"DATA is broken\") end\n"
				  "  return value\n"
				  "end\n";

struct env {
	struct daemon_fixture daemon;
	char conf_path[160];
	char map_path[160];
	char model_path[160];
	struct mmio_client *c; /* root: the device side, and leases */
};

/* The config, with or without the holder's grant. */
static int
write_conf(const struct env *env, bool grant)
{
	char conf[3072];
	snprintf(conf, sizeof(conf),
		 "socket = { mode = \"0666\"; };\n"
		 "regions = (\n"
		 "  { name = \"dev\"; type = \"sim\"; size = 0x100; map = \"%s\";\n"
		 "    %s"
		 "    grants = ( %s ); },\n"
		 "  { name = \"ttl\"; type = \"sim\"; size = 0x100; map = \"%s\";\n"
		 "    %s"
		 "    grants = ( { user = 4242; access = \"rw\"; max_lease_ms = %d; } ); },\n"
		 "  { name = \"flaky\"; type = \"sim\"; size = 0x100; map = \"%s\";\n"
		 "    model = \"%s\"; revoke_on_fault = true;\n"
		 "    %s"
		 "    grants = ( { user = 4242; access = \"rw\"; max_lease_ms = 600000; } ); },\n"
		 "  { name = \"fan\"; type = \"sim\"; size = 0x100; map = \"%s\";\n"
		 "    park = ( { store = \"IER\"; value = 0; } );\n"
		 "    grants = ( { user = %d; access = \"rw\";\n"
		 "                 park = ( { store = \"DATA\"; value = 0xdead; } ); } ); }\n"
		 ");\n",
		 env->map_path, park_conf,
		 grant ? "{ user = 4242; access = \"rw\"; }" : "{ user = 4343; access = \"ro\"; }",
		 env->map_path, park_conf, TTL_MS, env->map_path, env->model_path, park_conf,
		 env->map_path, grant ? HOLDER_UID : 4343);
	return daemon_fixture_write_file(env->conf_path, conf);
}

static int
setup(void **state)
{
	struct env *env = calloc(1, sizeof(*env));
	if (!env || daemon_fixture_prepare(&env->daemon) < 0) {
		free(env);
		return -1;
	}
	snprintf(env->conf_path, sizeof(env->conf_path), "%s/mmiod.conf", env->daemon.dir);
	snprintf(env->map_path, sizeof(env->map_path), "%s/parkdev.yaml", env->daemon.dir);
	snprintf(env->model_path, sizeof(env->model_path), "%s/flaky.lua", env->daemon.dir);
	const char *const args[] = {"--config", env->conf_path, NULL};
	if (daemon_fixture_write_file(env->map_path, map_yaml) < 0 ||
	    daemon_fixture_write_file(env->model_path, flaky_model) < 0 ||
	    write_conf(env, true) < 0 || chmod(env->daemon.dir, 0755) < 0 ||
	    daemon_fixture_start_args(&env->daemon, args) < 0 ||
	    mmio_connect(env->daemon.socket_path, &env->c) < 0) {
		daemon_fixture_cleanup(&env->daemon);
		free(env);
		return -1;
	}
	*state = env;
	return 0;
}

static int
teardown(void **state)
{
	struct env *env = *state;
	mmio_disconnect(env->c);
	int rc = daemon_fixture_stop(&env->daemon);
	free(env);
	return rc == 0 ? 0 : -1;
}

static uint64_t
sim_get(const struct env *env, uint64_t off)
{
	uint64_t v = 0;
	assert_int_equal(mmio_sim_get(env->c, "dev", off, 4, &v), 0);
	return v;
}

enum holder_mode {
	HOLD_STORING, /* stores to DATA without end, until killed */
	HOLD_WAITING, /* waits for the notice that its lease is gone: exits with holder_verdict() */
	HOLD_YIELDING, /* releases its lease when asked to (a notice with grace): exit status 0 */
	HOLD_RENEWING, /* renews its lease past TTL_MS * 3 / 2: exit status 0 if it still works */
};

static enum mmio_revoke_reason told_reason;
static uint64_t told_lease;
static unsigned told_grace_ms;
static unsigned told_count;
static char told_detail[128];

static void
on_revoke(struct mmio_client *c, const struct mmio_revoke_notice *n, void *userdata)
{
	(void)c;
	(void)userdata;
	told_lease = n->lease_id;
	told_reason = n->reason;
	told_grace_ms = n->grace_ms;
	told_count++;
	snprintf(told_detail, sizeof(told_detail), "%s", n->detail);
}

/* Waits for notices until one says the lease is gone (no grace), or one asks (with grace). */
static int
wait_notice(struct mmio_client *c, bool until_gone)
{
	mmio_set_revoke_handler(c, on_revoke, NULL);
	struct pollfd pfd = {.fd = mmio_event_fd(c), .events = POLLIN};
	for (;;) {
		if (pfd.fd < 0 || poll(&pfd, 1, 60000) != 1) {
			return -1;
		}
		int handled = mmio_process_events(c);
		if (handled < 0 && handled != -ECONNRESET) {
			return -1;
		}
		if (told_count > 0 && (!until_gone || told_grace_ms == 0)) {
			return handled;
		}
	}
}

static uint64_t
now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

/* Renews every TTL_MS / 10 until TTL_MS * 3 / 2 have passed; no notice may come meanwhile. */
static int
keep_renewing(struct mmio_client *c, struct mmio_lease *l)
{
	struct pollfd pfd = {.fd = mmio_event_fd(c), .events = POLLIN};
	uint64_t until = now_ms() + TTL_MS * 3 / 2;
	while (now_ms() < until) {
		if (mmio_renew(l) != 0 || poll(&pfd, 1, TTL_MS / 10) != 0) {
			return 1;
		}
	}
	return mmio_store32(l, 0x8, 7) == 0 ? 0 : 2;
}

/*
 * The holder's exit status after a revoke: reason * 10, plus 1 if the handler had the lease and
 * the detail, plus 2 if a later store on the lease failed with REVOKED and that detail.
 */
static int
holder_verdict(struct mmio_client *c, struct mmio_lease *l)
{
	int handled = wait_notice(c, true);
	if (handled == -1) {
		return 99;
	}
	char want[128];
	snprintf(want, sizeof(want), "lease %llu was revoked: %s",
		 (unsigned long long)mmio_lease_id(l), mmio_revoke_reason_name(told_reason));
	int verdict = (int)told_reason * 10;
	if ((handled == 1 || handled == -ECONNRESET) && told_lease == mmio_lease_id(l) &&
	    strcmp(told_detail, want) == 0) {
		verdict += 1;
	}
	if (mmio_store32(l, 0x8, 1) == -EKEYREVOKED && strcmp(mmio_error_detail(c), want) == 0) {
		verdict += 2;
	}
	return verdict;
}

struct holder {
	pid_t pid;
	int hold_fd; /* HOLD_WAITING: closing it lets the holder exit */
};

/*
 * A child, as uid HOLDER_UID, that leases [0, 0x10) of region, starts the device (CTRL EN|DMA,
 * MODE RUN; IER all) and then holds the lease as mode says. Returns once the device is started.
 */
static struct holder
spawn_holder_on(const struct env *env, const char *region, enum holder_mode mode)
{
	int ready[2];
	int hold[2];
	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(hold), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(ready[0]);
		close(hold[1]);
		struct mmio_client *c;
		struct mmio_lease *l;
		if (setgid(HOLDER_UID) < 0 || setuid(HOLDER_UID) < 0 ||
		    mmio_connect(env->daemon.socket_path, &c) < 0 ||
		    mmio_acquire(c, region, 0, 0x10, &l) < 0 || mmio_store32(l, 0x4, 0xff) < 0 ||
		    mmio_store32(l, 0x0, 0xf3) < 0) {
			_exit(1);
		}
		if (write(ready[1], "r", 1) != 1) {
			_exit(1);
		}
		if (mode == HOLD_STORING) {
			for (uint32_t i = 0;; i++) {
				(void)mmio_store32(l, 0x8, i);
			}
		}
		if (mode == HOLD_RENEWING) {
			_exit(keep_renewing(c, l));
		}
		if (mode == HOLD_YIELDING) {
			_exit(wait_notice(c, false) == 1 && told_grace_ms == 60000 &&
					      told_reason == MMIO_REVOKE_ADMIN &&
					      mmio_release(l) == 0
				      ? 0
				      : 1);
		}
		_exit(holder_verdict(c, l));
	}
	close(ready[1]);
	close(hold[0]);
	char b;
	assert_int_equal(read(ready[0], &b, 1), 1);
	close(ready[0]);
	return (struct holder){.pid = pid, .hold_fd = hold[1]};
}

static struct holder
spawn_holder(const struct env *env, enum holder_mode mode)
{
	return spawn_holder_on(env, "dev", mode);
}

static int
reap(struct holder *h)
{
	close(h->hold_fd);
	int status = 0;
	assert_int_equal(waitpid(h->pid, &status, 0), h->pid);
	return status;
}

/* What the park leaves: IER 0, CTRL's EN and DMA clear and MODE kept, PINS (not leased) alone. */
static void
assert_parked(const struct env *env)
{
	assert_int_equal(sim_get(env, 0x4), 0);
	assert_int_equal(sim_get(env, 0x0), 0xf0);
	assert_int_equal(sim_get(env, 0x40), 0);
}

static void
test_killed_mid_sequence_parks_once_before_release(void **state)
{
	struct env *env = *state;
	struct holder h = spawn_holder(env, HOLD_STORING);
	assert_int_equal(sim_get(env, 0x0), 0xf3);
	assert_int_equal(kill(h.pid, SIGKILL), 0);
	int status = reap(&h);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	/*
	 * After waitpid() the holder's socket is closed, but mmiod may serve this connection's
	 * frame before it sees that hangup (both ready in one wakeup): CONFLICT until it does.
	 * Whenever the acquire succeeds, the park has run, as it runs before the range is freed.
	 */
	struct mmio_lease *mine = NULL;
	int rc;
	for (unsigned tries = 0;
	     (rc = mmio_acquire(env->c, "dev", 0, 0x10, &mine)) == -EBUSY && tries < 1000000;
	     tries++) {
	}
	assert_int_equal(rc, 0);
	assert_parked(env);
	assert_int_equal(daemon_fixture_wait_log(&env->daemon, PARK_LINE, 1, 60000), 1);
	/* Exactly once, all steps on what the lease covered: 4 run, PINS skipped. */
	assert_int_equal(daemon_fixture_log_count(&env->daemon, PARK_LINE), 1);
	assert_int_equal(daemon_fixture_log_count(&env->daemon,
						  "reason disconnect steps 4 skipped 1 status OK"),
			 1);
	/* Root's own lease, released in order, parks nothing. */
	assert_int_equal(mmio_store32(mine, 0x4, 0x3), 0);
	assert_int_equal(mmio_release(mine), 0);
	assert_int_equal(sim_get(env, 0x4), 0x3);
	assert_int_equal(daemon_fixture_log_count(&env->daemon, PARK_LINE), 1);
}

static void
test_orderly_release_parks_nothing(void **state)
{
	struct env *env = *state;
	struct mmio_lease *l;
	assert_int_equal(mmio_acquire(env->c, "dev", 0, 0x10, &l), 0);
	assert_int_equal(mmio_store32(l, 0x4, 0xff), 0);
	assert_int_equal(mmio_release(l), 0);
	assert_int_equal(sim_get(env, 0x4), 0xff);
	assert_int_equal(daemon_fixture_log_count(&env->daemon, PARK_LINE), 0);
}

static void
test_admin_revoke_parks(void **state)
{
	struct env *env = *state;
	struct holder h = spawn_holder(env, HOLD_WAITING);
	struct mmio_lease *probe;
	/* The holder's lease id, from the detail of the acquire it refuses (root may see it). */
	assert_int_equal(mmio_acquire(env->c, "dev", 0, 0x10, &probe), -EBUSY);
	const char *detail = mmio_error_detail(env->c);
	const char *at = strstr(detail, ": lease ");
	assert_non_null(at);
	uint64_t id = strtoull(at + 8, NULL, 10);
	assert_int_equal(mmio_revoke(env->c, id), 0);
	/* The revoke's reply comes after the park. */
	assert_int_equal(daemon_fixture_log_count(&env->daemon, "reason admin steps 4"), 1);
	assert_parked(env);
	int status = reap(&h);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), MMIO_REVOKE_ADMIN * 10 + 3);
	assert_int_equal(daemon_fixture_log_count(&env->daemon, PARK_LINE), 1);
}

/*
 * A notice that arrives while the holder is busy in its own calls, over the socket or the ring:
 * the call on the lease fails with REVOKED, the event fd is readable, the handler hears it.
 */
static void
notice_during_calls(struct env *env, enum mmio_fast_path path)
{
	struct mmio_client *holder;
	struct mmio_lease *l;
	assert_int_equal(mmio_connect(env->daemon.socket_path, &holder), 0);
	assert_int_equal(mmio_set_fast_path(holder, path), 0);
	mmio_set_revoke_handler(holder, on_revoke, NULL);
	assert_int_equal(mmio_acquire(holder, "dev", 0x10, 0x10, &l), 0);
	assert_int_equal(mmio_store32(l, 0x0, 1), 0);
	int efd = mmio_event_fd(holder);
	assert_true(efd >= 0);
	struct pollfd pfd = {.fd = efd, .events = POLLIN};
	assert_int_equal(poll(&pfd, 1, 0), 0);
	assert_int_equal(mmio_revoke(env->c, mmio_lease_id(l)), 0);
	char want[128];
	snprintf(want, sizeof(want), "lease %llu was revoked: admin",
		 (unsigned long long)mmio_lease_id(l));
	assert_int_equal(mmio_store32(l, 0x0, 2), -EKEYREVOKED);
	assert_string_equal(mmio_error_detail(holder), want);
	assert_int_equal(poll(&pfd, 1, 60000), 1);
	told_lease = 0;
	assert_int_equal(mmio_process_events(holder), 1);
	assert_int_equal(told_lease, mmio_lease_id(l));
	assert_int_equal(told_reason, MMIO_REVOKE_ADMIN);
	assert_string_equal(told_detail, want);
	assert_int_equal(poll(&pfd, 1, 0), 0);
	assert_int_equal(mmio_process_events(holder), 0);
	assert_int_equal(mmio_release(l), -EKEYREVOKED);
	mmio_disconnect(holder);
}

static void
test_notice_during_socket_calls(void **state)
{
	notice_during_calls(*state, MMIO_FAST_PATH_OFF);
}

static void
test_notice_during_ring_calls(void **state)
{
	notice_during_calls(*state, MMIO_FAST_PATH_ON);
}

/* The holder's lease id, from the detail of the acquire it makes root's refused. */
static uint64_t
holder_lease(const struct env *env, const char *region)
{
	struct mmio_lease *probe;
	assert_int_equal(mmio_acquire(env->c, region, 0, 0x10, &probe), -EBUSY);
	const char *at = strstr(mmio_error_detail(env->c), ": lease ");
	assert_non_null(at);
	return strtoull(at + 8, NULL, 10);
}

static void
test_grace_released_in_time_parks_nothing(void **state)
{
	struct env *env = *state;
	struct holder h = spawn_holder(env, HOLD_YIELDING);
	uint64_t id = holder_lease(env, "dev");
	/* Answered once the holder is told; the holder releases in its own time. */
	assert_int_equal(mmio_revoke_grace(env->c, id, 60000), 0);
	assert_int_equal(reap(&h), 0);
	/* Its release came back before it exited: orderly, so nothing parked. */
	assert_int_equal(daemon_fixture_log_count(&env->daemon, PARK_LINE), 0);
	assert_int_equal(sim_get(env, 0x4), 0xff);
	struct mmio_lease *mine;
	assert_int_equal(mmio_acquire(env->c, "dev", 0, 0x10, &mine), 0);
	assert_int_equal(mmio_release(mine), 0);
}

static void
test_grace_not_released_is_forced(void **state)
{
	struct env *env = *state;
	struct holder h = spawn_holder(env, HOLD_WAITING);
	uint64_t id = holder_lease(env, "dev");
	assert_int_equal(mmio_revoke_grace(env->c, id, 50), 0);
	/* The holder waits on past the first notice (with grace) for the one that ends it. */
	int status = reap(&h);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), MMIO_REVOKE_ADMIN * 10 + 3);
	assert_int_equal(daemon_fixture_wait_log(&env->daemon, "reason admin steps 4", 1, 60000),
			 1);
	assert_int_equal(daemon_fixture_log_count(&env->daemon, PARK_LINE), 1);
	assert_parked(env);
	/* Too long a grace is refused. */
	assert_int_equal(mmio_revoke_grace(env->c, id, 60001), -EINVAL);
}

static void
test_ttl_expires_unrenewed(void **state)
{
	struct env *env = *state;
	struct holder h = spawn_holder_on(env, "ttl", HOLD_WAITING);
	int status = reap(&h);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), MMIO_REVOKE_TTL * 10 + 3);
	assert_int_equal(daemon_fixture_wait_log(&env->daemon, "reason ttl steps 4", 1, 60000), 1);
	assert_int_equal(daemon_fixture_log_count(&env->daemon, TTL_LINE), 1);
}

static void
test_ttl_renewed_lives_on(void **state)
{
	struct env *env = *state;
	struct holder h = spawn_holder_on(env, "ttl", HOLD_RENEWING);
	int status = reap(&h);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* It ended with its connection, not for its time. */
	assert_int_equal(daemon_fixture_wait_log(&env->daemon, TTL_LINE, 1, 60000), 1);
	assert_int_equal(daemon_fixture_log_count(&env->daemon, "reason disconnect"), 1);
	assert_int_equal(daemon_fixture_log_count(&env->daemon, "reason ttl"), 0);
}

/*
 * A device fault on a region with revoke_on_fault: the access that faulted answers IO_ERROR, then
 * the lease is revoked with reason fault (notice, REVOKED, park attempted and audited).
 */
static void
test_fault_revokes_with_reason_fault(void **state)
{
	struct env *env = *state;
	struct mmio_client *c;
	struct mmio_lease *l;
	assert_int_equal(mmio_connect(env->daemon.socket_path, &c), 0);
	mmio_set_revoke_handler(c, on_revoke, NULL);
	assert_int_equal(mmio_acquire(c, "flaky", 0, 0x10, &l), 0);
	uint32_t v;
	assert_int_equal(mmio_load32(l, 0x4, &v), 0);
	assert_int_equal(mmio_load32(l, 0x8, &v), -EIO);
	struct pollfd pfd = {.fd = mmio_event_fd(c), .events = POLLIN};
	told_count = 0;
	while (told_count == 0) {
		assert_int_equal(poll(&pfd, 1, 60000), 1);
		assert_true(mmio_process_events(c) >= 0);
	}
	assert_int_equal(told_lease, mmio_lease_id(l));
	assert_int_equal(told_reason, MMIO_REVOKE_FAULT);
	assert_int_equal(mmio_load32(l, 0x4, &v), -EKEYREVOKED);
	assert_non_null(strstr(mmio_error_detail(c), "was revoked: fault"));
	assert_int_equal(
		daemon_fixture_wait_log(&env->daemon, "audit: park region flaky", 1, 60000), 1);
	assert_int_equal(daemon_fixture_log_count(&env->daemon, "reason fault"), 1);
	/* The range is free again. */
	struct mmio_lease *again;
	assert_int_equal(mmio_acquire(c, "flaky", 0, 0x10, &again), 0);
	mmio_disconnect(c);
}

/* The listing gives each lease's time left: a holder's under its grant's max_lease_ms; root's none.
 */
static void
test_leases_list_their_ttl(void **state)
{
	struct env *env = *state;
	struct holder h = spawn_holder_on(env, "flaky", HOLD_WAITING);
	struct mmio_lease *mine;
	assert_int_equal(mmio_acquire(env->c, "dev", 0x20, 0x10, &mine), 0);
	struct mmio_lease_info *infos;
	uint64_t *ttl_ms;
	int n = mmio_list_leases_ttl(env->c, &infos, &ttl_ms);
	assert_int_equal(n, 2);
	uint64_t held = 0;
	for (int i = 0; i < n; i++) {
		if (infos[i].id == mmio_lease_id(mine)) {
			assert_int_equal(ttl_ms[i], 0);
		} else {
			assert_string_equal(infos[i].region, "flaky");
			assert_true(ttl_ms[i] > 0 && ttl_ms[i] <= 600000);
			held = infos[i].id;
		}
	}
	free(infos);
	free(ttl_ms);
	assert_int_equal(mmio_revoke(env->c, held), 0);
	int status = reap(&h);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), MMIO_REVOKE_ADMIN * 10 + 3);
	assert_int_equal(mmio_release(mine), 0);
}

/* fan parks a lease with its region's sequence (IER) and then its grant's (DATA). */
static void
assert_fan_parked(const struct env *env, const char *reason)
{
	char line[96];
	snprintf(line, sizeof(line), "reason %s steps 2 skipped 0 status OK", reason);
	assert_int_equal(daemon_fixture_wait_log(&env->daemon, "audit: park region fan", 1, 60000),
			 1);
	assert_int_equal(daemon_fixture_log_count(&env->daemon, line), 1);
	uint64_t ier = 1;
	uint64_t data = 0;
	assert_int_equal(mmio_sim_get(env->c, "fan", 0x4, 4, &ier), 0);
	assert_int_equal(mmio_sim_get(env->c, "fan", 0x8, 4, &data), 0);
	assert_int_equal(ier, 0);
	assert_int_equal(data, 0xdead);
}

static void
test_grant_park_runs_after_the_regions(void **state)
{
	struct env *env = *state;
	struct holder h = spawn_holder_on(env, "fan", HOLD_WAITING);
	struct mmio_lease_info *infos;
	int n = mmio_list_leases(env->c, &infos);
	assert_int_equal(n, 1);
	uint64_t id = infos[0].id;
	free(infos);
	assert_int_equal(mmio_revoke(env->c, id), 0);
	assert_fan_parked(env, "admin");
	int status = reap(&h);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), MMIO_REVOKE_ADMIN * 10 + 3);
}

/* A reload that withdraws the grant parks the lease with the withdrawn grant's sequence. */
static void
test_reload_parks_with_the_withdrawn_grants_sequence(void **state)
{
	struct env *env = *state;
	struct holder h = spawn_holder_on(env, "fan", HOLD_WAITING);
	assert_int_equal(write_conf(env, false), 0);
	assert_int_equal(kill(env->daemon.pid, SIGHUP), 0);
	assert_fan_parked(env, "policy");
	int status = reap(&h);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), MMIO_REVOKE_POLICY * 10 + 3);
}

static void
test_reload_withdrawing_grant_parks(void **state)
{
	struct env *env = *state;
	struct holder h = spawn_holder(env, HOLD_WAITING);
	assert_int_equal(write_conf(env, false), 0);
	assert_int_equal(kill(env->daemon.pid, SIGHUP), 0);
	assert_int_equal(daemon_fixture_wait_log(&env->daemon, PARK_LINE, 1, 60000), 1);
	assert_int_equal(daemon_fixture_log_count(&env->daemon, "reason policy steps 4"), 1);
	assert_parked(env);
	int status = reap(&h);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), MMIO_REVOKE_POLICY * 10 + 3);
	assert_int_equal(daemon_fixture_log_count(&env->daemon, PARK_LINE), 1);
}

static void
test_shutdown_parks(void **state)
{
	struct env *env = *state;
	struct holder h = spawn_holder(env, HOLD_WAITING);
	/* Stopped by hand, so that its log can be read before the directory goes. */
	assert_int_equal(kill(env->daemon.pid, SIGTERM), 0);
	int status;
	assert_int_equal(waitpid(env->daemon.pid, &status, 0), env->daemon.pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(daemon_fixture_log_count(&env->daemon, PARK_LINE), 1);
	assert_int_equal(daemon_fixture_log_count(&env->daemon, "reason shutdown steps 4"), 1);
	/* Told before the connection closed; later calls find it gone. */
	int child = reap(&h);
	assert_true(WIFEXITED(child));
	assert_int_equal(WEXITSTATUS(child), MMIO_REVOKE_SHUTDOWN * 10 + 1);
	mmio_disconnect(env->c);
	env->c = NULL;
	daemon_fixture_cleanup(&env->daemon);
	free(env);
	*state = NULL;
}

static int
teardown_if_running(void **state)
{
	return *state ? teardown(state) : 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_killed_mid_sequence_parks_once_before_release,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_orderly_release_parks_nothing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_admin_revoke_parks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notice_during_socket_calls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notice_during_ring_calls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_grace_released_in_time_parks_nothing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_grace_not_released_is_forced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ttl_expires_unrenewed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ttl_renewed_lives_on, setup, teardown),
		cmocka_unit_test_setup_teardown(test_grant_park_runs_after_the_regions, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_reload_parks_with_the_withdrawn_grants_sequence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_leases_list_their_ttl, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fault_revokes_with_reason_fault, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_reload_withdrawing_grant_parks, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_shutdown_parks, setup, teardown_if_running),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
