/*
 * A real mmiod with a region of type sim: its register map's rules on every path a driver uses
 * (single loads and stores over the socket and through the ring, batches, blocks, modify, a poll
 * that waits for a bit the device side sets), and the device side (SimDevice): raw get and set,
 * reset, the interrupt reaching a subscriber, who may use it (root, the admin group, a device
 * grant; not a plain rw grant), its audit records and its refusals. And the config errors of a
 * sim region, as mmiod reports them at start.
 */
#include <errno.h>
#include <pthread.h>
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
#include <unistd.h>

#include <cmocka.h>

#include "daemon_fixture.h"
#include "mmio/client.h"
#include "run_as.h"

#define RW_UID     4242 /* rw on all of dev */
#define DEVICE_UID 4343 /* the device side of dev, nothing else */
#define ADMIN_GID  4545
#define NOBODY_UID 5001

/*
 * 0x00 DATA rw; 0x04 STATUS ro reset 0x01 (READY 0, ERR 1 rc, DONE 4); 0x08 ISR w1c;
 * 0x0c IEN w1s; 0x10 TX wo; 0x20 FIFO[0..3] rw reset 0x11, 4 bytes apart.
 */
static const char map_yaml[] =
	"name: simdev\n"
	"width: 32\n"
	"registers:\n"
	"  - { name: DATA, offset: 0x0 }\n"
	"  - name: STATUS\n"
	"    offset: 0x4\n"
	"    access: ro\n"
	"    reset: 0x01\n"
	"    fields:\n"
	"      - { name: READY, bits: \"0\" }\n"
	"      - { name: ERR, bits: \"1\", access: rc }\n"
	"      - { name: DONE, bits: \"4\" }\n"
	"  - { name: ISR, offset: 0x8, access: w1c }\n"
	"  - { name: IEN, offset: 0xc, access: w1s }\n"
	"  - { name: TX, offset: 0x10, access: wo }\n"
	"  - { name: FIFO, offset: 0x20, count: 4, stride: 4, reset: 0x11 }\n";

struct env {
	struct daemon_fixture daemon;
	char conf_path[160];
	char map_path[160];
	struct mmio_client *c;
	struct mmio_lease *l; /* all of dev */
};

static int
setup(void **state)
{
	struct env *env = calloc(1, sizeof(*env));
	if (!env || daemon_fixture_prepare(&env->daemon) < 0) {
		free(env);
		return -1;
	}
	snprintf(env->conf_path, sizeof(env->conf_path), "%s/mmiod.conf", env->daemon.dir);
	snprintf(env->map_path, sizeof(env->map_path), "%s/simdev.yaml", env->daemon.dir);
	char conf[1024];
	snprintf(
		conf, sizeof(conf),
		"socket = { mode = \"0666\"; };\n"
		"admin_group = %d;\n"
		"regions = (\n"
		"  { name = \"dev\"; type = \"sim\"; size = 0x100; map = \"%s\"; audit = \"all\";\n"
		"    grants = ( { user = %d; access = \"rw\"; },\n"
		"               { user = %d; access = \"device\"; } ); },\n"
		"  { name = \"plain\"; type = \"mem\"; size = 0x100; }\n"
		");\n",
		ADMIN_GID, env->map_path, RW_UID, DEVICE_UID);
	const char *const args[] = {"--config", env->conf_path, NULL};
	if (daemon_fixture_write_file(env->map_path, map_yaml) < 0 ||
	    daemon_fixture_write_file(env->conf_path, conf) < 0 ||
	    chmod(env->daemon.dir, 0755) < 0 || daemon_fixture_start_args(&env->daemon, args) < 0) {
		unlink(env->conf_path);
		unlink(env->map_path);
		daemon_fixture_cleanup(&env->daemon);
		free(env);
		return -1;
	}
	if (mmio_connect(env->daemon.socket_path, &env->c) < 0 ||
	    mmio_set_fast_path(env->c, MMIO_FAST_PATH_OFF) < 0 ||
	    mmio_acquire(env->c, "dev", 0, 0x100, &env->l) < 0) {
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
	unlink(env->conf_path);
	unlink(env->map_path);
	free(env);
	return rc == 0 ? 0 : -1;
}

static uint64_t
load(struct mmio_lease *l, uint64_t off, unsigned width)
{
	uint64_t v = UINT64_MAX;
	assert_int_equal(mmio_load(l, off, width, &v), 0);
	return v;
}

static uint64_t
raw(struct env *env, uint64_t off, unsigned width)
{
	uint64_t v = UINT64_MAX;
	assert_int_equal(mmio_sim_get(env->c, "dev", off, width, &v), 0);
	return v;
}

/* The rules through single loads and stores, on the lease l (socket or ring). */
static void
check_single(struct env *env, struct mmio_lease *l)
{
	assert_int_equal(load(l, 0x4, 4), 0x01);
	assert_int_equal(load(l, 0x20, 4), 0x11);
	assert_int_equal(mmio_store(l, 0x0, 4, 0xcafef00d), 0);
	assert_int_equal(load(l, 0x0, 4), 0xcafef00d);
	/* ro ignores the store; wo reads 0 but holds it; outside every register nothing. */
	assert_int_equal(mmio_store(l, 0x4, 4, 0xff), 0);
	assert_int_equal(load(l, 0x4, 4), 0x01);
	assert_int_equal(mmio_store(l, 0x10, 4, 0x41), 0);
	assert_int_equal(load(l, 0x10, 4), 0);
	assert_int_equal(raw(env, 0x10, 4), 0x41);
	assert_int_equal(mmio_store(l, 0x80, 8, UINT64_MAX), 0);
	assert_int_equal(load(l, 0x80, 8), 0);
	/* w1c, w1s. */
	assert_int_equal(mmio_sim_set(env->c, "dev", 0x8, 4, UINT32_MAX, 0xf0), 0);
	assert_int_equal(mmio_store(l, 0x8, 4, 0x30), 0);
	assert_int_equal(load(l, 0x8, 4), 0xc0);
	assert_int_equal(mmio_store(l, 0xc, 4, 0x1), 0);
	assert_int_equal(mmio_store(l, 0xc, 4, 0x4), 0);
	assert_int_equal(load(l, 0xc, 4), 0x5);
	/* rc: STATUS.ERR set by the device, cleared by the driver's read. */
	assert_int_equal(mmio_sim_set(env->c, "dev", 0x4, 4, 0x2, 0x2), 0);
	assert_int_equal(load(l, 0x4, 4), 0x03);
	assert_int_equal(load(l, 0x4, 4), 0x01);
	/* A narrow access: one byte of DATA. */
	assert_int_equal(mmio_store(l, 0x1, 1, 0x00), 0);
	assert_int_equal(load(l, 0x0, 4), 0xcafe000d);
}

static void
test_sim_single_socket(void **state)
{
	struct env *env = *state;
	check_single(env, env->l);
	assert_int_equal(mmio_fast_path_active(env->c), 0);
}

static void
test_sim_single_ring(void **state)
{
	struct env *env = *state;
	struct mmio_client *c;
	struct mmio_lease *l;
	assert_int_equal(mmio_release(env->l), 0);
	env->l = NULL;
	assert_int_equal(mmio_connect(env->daemon.socket_path, &c), 0);
	assert_int_equal(mmio_set_fast_path(c, MMIO_FAST_PATH_ON), 0);
	assert_int_equal(mmio_acquire(c, "dev", 0, 0x100, &l), 0);
	check_single(env, l);
	/* Modify through the ring: a w1c register written back clears every bit it read set. */
	assert_int_equal(mmio_sim_set(env->c, "dev", 0x8, 4, UINT32_MAX, 0x0f), 0);
	uint64_t old = 0;
	assert_int_equal(mmio_modify(l, 0x8, 4, 0x3, 0x1, &old), 0);
	assert_int_equal(old, 0x0f);
	assert_int_equal(raw(env, 0x8, 4), 0x02);
	assert_int_equal(mmio_fast_path_active(c), 1);
	/* Released before the disconnect: mmiod sees a hangup only later. */
	assert_int_equal(mmio_release(l), 0);
	mmio_disconnect(c);
	assert_int_equal(mmio_acquire(env->c, "dev", 0, 0x100, &env->l), 0);
}

static void
test_sim_batch(void **state)
{
	struct env *env = *state;
	assert_int_equal(mmio_sim_set(env->c, "dev", 0x4, 4, 0x2, 0x2), 0);
	struct mmio_op ops[] = {
		{env->l, MMIO_OP_STORE, 4, 0x4, 0xff, 0}, /* ro: ignored */
		{env->l, MMIO_OP_LOAD, 4, 0x4, 0, 0},     /* 0x03, then ERR clears */
		{env->l, MMIO_OP_LOAD, 4, 0x4, 0, 0},     /* 0x01 */
		{env->l, MMIO_OP_STORE, 4, 0xc, 0x8, 0},  /* w1s */
		{env->l, MMIO_OP_LOAD, 4, 0xc, 0, 0},
		{env->l, MMIO_OP_LOAD, 4, 0x10, 0, 0}, /* wo */
	};
	assert_int_equal(mmio_store(env->l, 0x10, 4, 0x7), 0);
	assert_int_equal(mmio_batch(env->c, ops, 6, 0), 0);
	for (int i = 0; i < 6; i++) {
		assert_int_equal(ops[i].status, 0);
	}
	assert_int_equal(ops[1].value, 0x03);
	assert_int_equal(ops[2].value, 0x01);
	assert_int_equal(ops[4].value, 0x8);
	assert_int_equal(ops[5].value, 0);
}

static void
test_sim_block(void **state)
{
	struct env *env = *state;
	uint64_t v[8];
	assert_int_equal(mmio_read_block(env->l, 0x20, 4, v, 4, 0), 0);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(v[i], 0x11);
	}
	/* FIFO[0..3] and then TX (wo) and nothing: each word under its own rules. */
	const uint64_t w[] = {1, 2, 3, 4, 5, 6};
	assert_int_equal(mmio_write_block(env->l, 0x20, 4, w, 4, 0), 0);
	assert_int_equal(mmio_write_block(env->l, 0xc, 4, w + 4, 2, 0), 0);
	assert_int_equal(mmio_read_block(env->l, 0x8, 4, v, 8, 0), 0);
	const uint64_t want[] = {0, 5, 0, 0, 0, 0, 1, 2};
	for (int i = 0; i < 8; i++) {
		assert_int_equal(v[i], want[i]);
	}
	/* Repeated reads of STATUS: ERR is seen once. */
	assert_int_equal(mmio_sim_set(env->c, "dev", 0x4, 4, 0x2, 0x2), 0);
	assert_int_equal(mmio_read_block(env->l, 0x4, 4, v, 3, MMIO_REPEAT), 0);
	assert_int_equal(v[0], 0x03);
	assert_int_equal(v[1], 0x01);
	assert_int_equal(v[2], 0x01);
}

static void
test_sim_modify(void **state)
{
	struct env *env = *state;
	uint64_t old = 0;
	/* STATUS is ro: a modify changes nothing; DATA is rw. */
	assert_int_equal(mmio_modify(env->l, 0x4, 4, 0xff, 0xf0, &old), 0);
	assert_int_equal(old, 0x01);
	assert_int_equal(raw(env, 0x4, 4), 0x01);
	assert_int_equal(mmio_modify(env->l, 0x0, 4, 0xff00, 0x1200, &old), 0);
	assert_int_equal(old, 0);
	assert_int_equal(load(env->l, 0x0, 4), 0x1200);
	/* w1s: the old bits written back set nothing new, the new one is set. */
	assert_int_equal(mmio_store(env->l, 0xc, 4, 0x1), 0);
	assert_int_equal(mmio_modify(env->l, 0xc, 4, 0x2, 0x2, &old), 0);
	assert_int_equal(old, 0x1);
	assert_int_equal(load(env->l, 0xc, 4), 0x3);
}

struct poller {
	struct env *env;
	struct mmio_client *c;
	struct mmio_lease *l;
	uint64_t last;
	int rc;
};

static void *
poll_done(void *arg)
{
	struct poller *p = arg;
	p->rc = mmio_poll(p->l, 0, 4, 0x10, 0x10, 30000, 0, &p->last);
	return NULL;
}

/* A poll waits for STATUS.DONE, which the device side sets once the poll has looked. */
static void
test_sim_poll(void **state)
{
	struct env *env = *state;
	assert_int_equal(mmio_release(env->l), 0);
	env->l = NULL;
	struct poller p = {.env = env, .rc = 1};
	assert_int_equal(mmio_connect(env->daemon.socket_path, &p.c), 0);
	assert_int_equal(mmio_acquire(p.c, "dev", 0x4, 4, &p.l), 0);
	/* The region audits every access: the poll's first load is a line in the log. */
	int before = daemon_fixture_log_count(&env->daemon, "region dev load32 offset 0x4 ");
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, poll_done, &p), 0);
	int reached = daemon_fixture_wait_log(&env->daemon, "region dev load32 offset 0x4 ",
					      before + 1, 30000);
	if (reached <= before) {
		char cmd[300];
		snprintf(cmd, sizeof(cmd), "tail -5 %s >&2", env->daemon.log_path);
		(void)system(cmd);
	}
	assert_true(reached > before);
	assert_int_equal(mmio_sim_set(env->c, "dev", 0x4, 4, 0x10, 0x10), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.last, 0x11);
	/* The device side's set was audited too. */
	assert_true(daemon_fixture_wait_log(&env->daemon, "region dev sim-set32 offset 0x4 ", 1,
					    30000) >= 1);
	assert_int_equal(mmio_release(p.l), 0);
	mmio_disconnect(p.c);
	assert_int_equal(mmio_acquire(env->c, "dev", 0, 0x100, &env->l), 0);
}

static void
test_sim_device_side(void **state)
{
	struct env *env = *state;
	uint64_t v = 0;
	assert_int_equal(raw(env, 0x4, 1), 0x01);
	assert_int_equal(mmio_store(env->l, 0x0, 4, 0x55), 0);
	/* Raw set, masked, past the ro rule; bytes outside registers stay 0. */
	assert_int_equal(mmio_sim_set(env->c, "dev", 0x4, 1, 0x10, 0xff), 0);
	assert_int_equal(raw(env, 0x4, 1), 0x11);
	assert_int_equal(mmio_sim_set(env->c, "dev", 0x40, 8, UINT64_MAX, UINT64_MAX), 0);
	assert_int_equal(raw(env, 0x40, 8), 0);
	/* Reset: every register at its reset value. */
	assert_int_equal(mmio_sim_reset(env->c, "dev"), 0);
	assert_int_equal(load(env->l, 0x0, 4), 0);
	assert_int_equal(load(env->l, 0x4, 4), 0x01);
	assert_int_equal(
		daemon_fixture_wait_log(&env->daemon, "region dev sim-reset offset", 1, 30000), 1);
	/* Checked as any access: width, alignment, range. */
	assert_int_equal(mmio_sim_get(env->c, "dev", 0x4, 3, &v), -EINVAL);
	assert_int_equal(mmio_sim_get(env->c, "dev", 0x2, 4, &v), -EFAULT);
	assert_int_equal(mmio_sim_get(env->c, "dev", 0x100, 1, &v), -ERANGE);
	assert_int_equal(mmio_sim_set(env->c, "dev", UINT64_MAX - 7, 8, 1, 1), -ERANGE);
	assert_non_null(strstr(mmio_error_detail(env->c), "does not fit region dev"));
	/* Not a sim; no such region. */
	assert_int_equal(mmio_sim_get(env->c, "plain", 0, 4, &v), -EINVAL);
	assert_non_null(strstr(mmio_error_detail(env->c), "only a sim region has a device side"));
	assert_int_equal(mmio_sim_irq(env->c, "nosuch"), -ENOENT);
	/* The device side needs no lease and conflicts with none: dev is all leased. */
	assert_int_equal(mmio_sim_set(env->c, "dev", 0x0, 4, UINT32_MAX, 0x77), 0);
	assert_int_equal(load(env->l, 0x0, 4), 0x77);
}

static void
test_sim_irq(void **state)
{
	struct env *env = *state;
	uint32_t n = 0;
	assert_int_equal(mmio_irq_subscribe(env->l), 0);
	assert_int_equal(mmio_irq_wait(env->l, 0, &n), -ETIMEDOUT);
	assert_int_equal(mmio_sim_irq(env->c, "dev"), 0);
	assert_int_equal(mmio_irq_wait(env->l, 30000, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(mmio_irq_ack(env->l), 0);
	assert_int_equal(mmio_irq_wait(env->l, 0, &n), -ETIMEDOUT);
	/* Raised again after the ack; acks never fail, however many. */
	assert_int_equal(mmio_sim_irq(env->c, "dev"), 0);
	assert_int_equal(mmio_irq_wait(env->l, 30000, &n), 0);
	assert_true(n >= 1);
	for (int i = 0; i < 1000; i++) {
		assert_int_equal(mmio_irq_ack(env->l), 0);
	}
	assert_int_equal(mmio_irq_unsubscribe(env->l), 0);
	/* Without a subscriber a raise is fine too. */
	assert_int_equal(mmio_sim_irq(env->c, "dev"), 0);
	assert_int_equal(
		daemon_fixture_wait_log(&env->daemon, "region dev sim-irq offset", 3, 30000), 3);
}

/* uid 4242: a rw grant on dev; no device side. */
static int
rw_checks(void *arg)
{
	struct env *env = arg;
	struct mmio_client *c;
	uint64_t v;
	CHILD_CHECK(mmio_connect(env->daemon.socket_path, &c) == 0);
	CHILD_CHECK(mmio_sim_get(c, "dev", 0, 4, &v) == -EACCES);
	CHILD_CHECK(strstr(mmio_error_detail(c), "access = \"device\"") != NULL);
	CHILD_CHECK(mmio_sim_set(c, "dev", 0, 4, 1, 1) == -EACCES);
	CHILD_CHECK(mmio_sim_irq(c, "dev") == -EACCES);
	CHILD_CHECK(mmio_sim_reset(c, "dev") == -EACCES);
	/* An unknown region is refused alike: nothing is learnt of which exist. */
	CHILD_CHECK(mmio_sim_reset(c, "nosuch") == -EACCES);
	mmio_disconnect(c);
	return 0;
}

/* uid 4343: the device side of dev only; it leases nothing. */
static int
device_checks(void *arg)
{
	struct env *env = arg;
	struct mmio_client *c;
	struct mmio_lease *l;
	uint64_t v = 0;
	CHILD_CHECK(mmio_connect(env->daemon.socket_path, &c) == 0);
	CHILD_CHECK(mmio_sim_set(c, "dev", 0x4, 4, 0x2, 0x2) == 0);
	CHILD_CHECK(mmio_sim_get(c, "dev", 0x4, 4, &v) == 0 && v == 0x3);
	CHILD_CHECK(mmio_sim_irq(c, "dev") == 0);
	CHILD_CHECK(mmio_sim_reset(c, "dev") == 0);
	CHILD_CHECK(mmio_sim_get(c, "dev", 0x4, 4, &v) == 0 && v == 0x1);
	CHILD_CHECK(mmio_acquire(c, "dev", 0, 4, &l) == -ENOENT);
	CHILD_CHECK(mmio_sim_get(c, "plain", 0, 4, &v) == -EACCES);
	mmio_disconnect(c);
	return 0;
}

/* An admin with no grant. */
static int
admin_checks(void *arg)
{
	struct env *env = arg;
	struct mmio_client *c;
	uint64_t v = 0;
	CHILD_CHECK(mmio_connect(env->daemon.socket_path, &c) == 0);
	CHILD_CHECK(mmio_sim_get(c, "dev", 0x20, 4, &v) == 0 && v == 0x11);
	CHILD_CHECK(mmio_sim_set(c, "dev", 0x20, 4, UINT32_MAX, 0x22) == 0);
	CHILD_CHECK(mmio_sim_get(c, "plain", 0, 4, &v) == -EINVAL);
	CHILD_CHECK(mmio_sim_get(c, "nosuch", 0, 4, &v) == -ENOENT);
	mmio_disconnect(c);
	return 0;
}

static void
test_sim_who_may(void **state)
{
	struct env *env = *state;
	if (geteuid() != 0) {
		skip(); /* clients of other uids need fork + setresuid */
	}
	assert_int_equal(run_as(RW_UID, RW_UID, NULL, 0, rw_checks, env), 0);
	assert_int_equal(run_as(DEVICE_UID, DEVICE_UID, NULL, 0, device_checks, env), 0);
	gid_t groups[] = {ADMIN_GID};
	assert_int_equal(run_as(5002, 5002, groups, 1, admin_checks, env), 0);
	assert_int_equal(raw(env, 0x20, 4), 0x22);
	/* Without any grant: refused the same way. */
	assert_int_equal(run_as(NOBODY_UID, NOBODY_UID, NULL, 0, rw_checks, env), 0);
}

/* mmiod refuses to start on a sim region without a map, without size, or too big. */
static void
test_sim_config_errors(void **state)
{
	struct env *env = *state;
	static const struct {
		const char *region;
		const char *says;
	} rows[] = {
		{"type = \"sim\"; size = 0x100;", "type sim needs map = \"PATH\""},
		{"type = \"sim\"; map = \"%s\";", "missing or zero size"},
		{"type = \"sim\"; size = 0x2000000; map = \"%s\";",
		 "the most a sim region may have"},
		{"type = \"sim\"; size = 0x10; map = \"%s\";", "past the region's end"},
	};
	char conf_path[200];
	char log_path[200];
	char sock[200];
	snprintf(conf_path, sizeof(conf_path), "%s/bad.conf", env->daemon.dir);
	snprintf(log_path, sizeof(log_path), "%s/bad.log", env->daemon.dir);
	snprintf(sock, sizeof(sock), "%s/bad.sock", env->daemon.dir);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char region[256];
		char conf[512];
		snprintf(region, sizeof(region), rows[i].region, env->map_path);
		snprintf(conf, sizeof(conf), "regions = (\n  { name = \"bad\"; %s }\n);\n", region);
		assert_int_equal(daemon_fixture_write_file(conf_path, conf), 0);
		unlink(log_path);
		const char *const args[] = {"--config", conf_path, NULL};
		assert_int_not_equal(daemon_fixture_run_logged(sock, args, log_path), 0);
		const char *const check[] = {"--config", conf_path, "--check-config", NULL};
		assert_int_not_equal(daemon_fixture_run_logged(sock, check, log_path), 0);
		FILE *f = fopen(log_path, "r");
		assert_non_null(f);
		char text[4096] = "";
		size_t n = fread(text, 1, sizeof(text) - 1, f);
		fclose(f);
		text[n] = '\0';
		if (!strstr(text, rows[i].says)) {
			print_error("row %zu: %s\n", i, text);
		}
		assert_non_null(strstr(text, rows[i].says));
	}
	unlink(conf_path);
	unlink(log_path);
}

/*
 * A reload reads no register map again: the regions, and so their maps, are those of the
 * start, and the dropped user may not be able to read the files. Removing the map before
 * SIGHUP made the reload fail ("configuration not valid") before it was so.
 */
static void
test_sim_reload_keeps_map(void **state)
{
	struct env *env = *state;
	assert_int_equal(unlink(env->map_path), 0);
	assert_int_equal(kill(env->daemon.pid, SIGHUP), 0);
	assert_int_equal(daemon_fixture_wait_notify(&env->daemon, "RELOADING=1"), 0);
	assert_int_equal(daemon_fixture_wait_notify(&env->daemon, "READY=1"), 0);
	assert_int_equal(daemon_fixture_log_count(&env->daemon, "reload: policy applied"), 1);
	assert_int_equal(daemon_fixture_log_count(&env->daemon, "configuration not valid"), 0);
	/* The map's rules still hold: STATUS is read-only. */
	assert_int_equal(mmio_store(env->l, 0x4, 4, 0xff), 0);
	assert_int_equal(load(env->l, 0x4, 4), 0x01);
}

int
main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_sim_single_socket),
		T(test_sim_single_ring),
		T(test_sim_batch),
		T(test_sim_block),
		T(test_sim_modify),
		T(test_sim_poll),
		T(test_sim_device_side),
		T(test_sim_irq),
		T(test_sim_who_may),
		T(test_sim_config_errors),
		T(test_sim_reload_keeps_map),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
