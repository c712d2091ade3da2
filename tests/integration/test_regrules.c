/*
 * Register rules in grants through a real mmiod with a sim region (mmiod.conf(5), "Register
 * rules"): a write mask on every request path (single store over the socket and the ring, batch,
 * block write, modify, a field store by name), preserve, the map's widths, read-sensitive
 * registers refused under a range grant and readable when named, a grant of registers only, the
 * superuser bound by the map alone, and a reload (SIGHUP) that narrows a write mask under a live
 * lease. Clients of other uids are forked children (run_as): the suite runs as root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon_fixture.h"
#include "mmio/client.h"
#include "run_as.h"

#define FAN_UID    4600 /* rw on all of fan, under write masks */
#define STATUS_UID 4601 /* names STATUS only */

/* 0x0 CTRL (EN 0, MODE 2:1, LOCK 7:4); 0x4 STATUS rc; 0x8 DATA 32-bit accesses only;
 * 0xc PWM (LO 7:0, HI 15:8). */
static const char map_yaml[] = "name: fan\n"
			       "width: 32\n"
			       "registers:\n"
			       "  - name: CTRL\n"
			       "    offset: 0x0\n"
			       "    fields:\n"
			       "      - { name: EN, bits: \"0\" }\n"
			       "      - { name: MODE, bits: \"2:1\" }\n"
			       "      - { name: LOCK, bits: \"7:4\" }\n"
			       "  - { name: STATUS, offset: 0x4, access: rc }\n"
			       "  - { name: DATA, offset: 0x8, widths: [32] }\n"
			       "  - name: PWM\n"
			       "    offset: 0xc\n"
			       "    fields:\n"
			       "      - { name: LO, bits: \"7:0\" }\n"
			       "      - { name: HI, bits: \"15:8\" }\n";

static const char conf_fmt[] =
	"socket = { mode = \"0666\"; };\n"
	"regions = (\n"
	"  { name = \"fan\"; type = \"sim\"; size = 0x100; map = \"%s\";\n"
	"    grants = ( { user = %d; access = \"rw\";\n"
	"                 rules = ( { register = \"CTRL\"; write_mask = \"%s\"; },\n"
	"                           { register = \"PWM\"; write_mask = \"LO\";\n"
	"                             mask_mode = \"preserve\"; } ); },\n"
	"               { user = %d; access = \"rw\"; registers = [\"STATUS\"]; } ); }\n"
	");\n";

struct env {
	struct daemon_fixture daemon;
	char conf_path[160];
	char map_path[160];
	struct mmio_client *root; /* the superuser, and the device side */
};

static int
write_conf(const struct env *env, const char *ctrl_mask)
{
	char conf[2048];
	snprintf(conf, sizeof(conf), conf_fmt, env->map_path, FAN_UID, ctrl_mask, STATUS_UID);
	return daemon_fixture_write_file(env->conf_path, conf);
}

static int
setup(void **state)
{
	if (geteuid() != 0) {
		return 0; /* clients of other uids need fork + setresuid */
	}
	struct env *env = calloc(1, sizeof(*env));
	if (!env || daemon_fixture_prepare(&env->daemon) < 0) {
		free(env);
		return -1;
	}
	snprintf(env->conf_path, sizeof(env->conf_path), "%s/mmiod.conf", env->daemon.dir);
	snprintf(env->map_path, sizeof(env->map_path), "%s/fan.yaml", env->daemon.dir);
	const char *const args[] = {"--config", env->conf_path, NULL};
	if (daemon_fixture_write_file(env->map_path, map_yaml) < 0 ||
	    write_conf(env, "EN|MODE") < 0 || chmod(env->daemon.dir, 0755) < 0 ||
	    daemon_fixture_start_args(&env->daemon, args) < 0 ||
	    mmio_connect(env->daemon.socket_path, &env->root) < 0) {
		return -1;
	}
	*state = env;
	return 0;
}

static int
teardown(void **state)
{
	struct env *env = *state;
	if (!env) {
		return 0;
	}
	mmio_disconnect(env->root);
	int rc = daemon_fixture_stop(&env->daemon);
	unlink(env->conf_path);
	unlink(env->map_path);
	free(env);
	return rc == 0 ? 0 : -1;
}

static struct env *
env_or_skip(void **state)
{
	if (geteuid() != 0) {
		skip();
	}
	return *state;
}

static uint64_t
raw(struct env *env, uint64_t off)
{
	uint64_t v = 0;
	assert_int_equal(mmio_sim_get(env->root, "fan", off, 4, &v), 0);
	return v;
}

static bool
detail_has(struct mmio_client *c, const char *needle)
{
	const char *d = mmio_error_detail(c);
	if (!d || !strstr(d, needle)) {
		fprintf(stderr, "detail '%s' lacks '%s'\n", d ? d : "(none)", needle);
		return false;
	}
	return true;
}

/* CTRL's LOCK (bits 7:4) is outside the mask: every path refuses to change it. */
static int
masked_paths(void *arg)
{
	const struct env *env = arg;
	struct mmio_client *c;
	struct mmio_lease *l;
	CHILD_CHECK(mmio_connect(env->daemon.socket_path, &c) == 0);
	CHILD_CHECK(mmio_set_fast_path(c, MMIO_FAST_PATH_OFF) == 0);
	CHILD_CHECK(mmio_acquire(c, "fan", 0, 0x100, &l) == 0);
	/* Single store. */
	CHILD_CHECK(mmio_store32(l, 0x0, 0x37) == -EACCES);
	CHILD_CHECK(detail_has(c, "store to CTRL (0x0) would change bits 0x00000030 outside its "
				  "write mask 0x00000007 (grant of user 4600)"));
	CHILD_CHECK(mmio_store32(l, 0x0, 0x07) == 0);
	/* Batch: the store runs and is refused; all-or-nothing refuses what it can tell. */
	struct mmio_op ops[2] = {{.lease = l, .kind = MMIO_OP_STORE, .width = 4, .value = 0x10},
				 {.lease = l, .kind = MMIO_OP_STORE, .width = 4, .value = 0x1}};
	CHILD_CHECK(mmio_batch(c, ops, 2, 0) == 1);
	CHILD_CHECK(ops[0].status == -EACCES && ops[1].status == 0);
	struct mmio_op narrow[2] = {
		{.lease = l, .kind = MMIO_OP_STORE, .width = 4, .offset = 0x0, .value = 0x3},
		{.lease = l, .kind = MMIO_OP_LOAD, .width = 2, .offset = 0x8}};
	CHILD_CHECK(mmio_batch(c, narrow, 2, MMIO_BATCH_ALL_OR_NOTHING) == 2);
	CHILD_CHECK(narrow[0].status == -ECANCELED && narrow[1].status == -EACCES);
	/* All-or-nothing judges a store on the register's value now too: nothing runs. */
	uint32_t ctrl;
	struct mmio_op on_value[2] = {
		{.lease = l, .kind = MMIO_OP_STORE, .width = 4, .offset = 0x0, .value = 0x5},
		{.lease = l, .kind = MMIO_OP_STORE, .width = 4, .offset = 0x0, .value = 0x21}};
	CHILD_CHECK(mmio_batch(c, on_value, 2, MMIO_BATCH_ALL_OR_NOTHING) == 2);
	CHILD_CHECK(on_value[0].status == -ECANCELED && on_value[1].status == -EACCES);
	CHILD_CHECK(mmio_load32(l, 0x0, &ctrl) == 0 && ctrl == 0x1);
	/* Block write: checked whole before the first store. */
	const uint64_t values[] = {0x3, 0xf1};
	CHILD_CHECK(mmio_write_block(l, 0x0, 4, values, 2, MMIO_REPEAT) == -EACCES);
	CHILD_CHECK(detail_has(c, "outside its write mask"));
	CHILD_CHECK(mmio_load32(l, 0x0, &ctrl) == 0 && ctrl == 0x1);
	/* Modify: judged on the bits it changes. */
	CHILD_CHECK(mmio_modify(l, 0x0, 4, 0xf0, 0x20, NULL) == -EACCES);
	CHILD_CHECK(mmio_modify(l, 0x0, 4, 0xf6, 0x06, NULL) == 0); /* LOCK stays 0 */
	/* A field store by name is a modify of the field's bits. */
	CHILD_CHECK(mmio_reg_store(l, "CTRL.LOCK", 0x3) == -EACCES);
	CHILD_CHECK(mmio_reg_store(l, "CTRL.EN", 0) == 0);
	CHILD_CHECK(mmio_reg_store(l, "CTRL.MODE", 1) == 0);
	/* Preserve: PWM's HI is kept whatever the store says. */
	CHILD_CHECK(mmio_store32(l, 0xc, 0x1234) == 0);
	/* The map's widths. */
	uint16_t v16;
	uint64_t v64;
	uint32_t v32;
	CHILD_CHECK(mmio_load16(l, 0x8, &v16) == -EACCES);
	CHILD_CHECK(detail_has(c, "16-bit load at 0x8 of DATA (0x8): it takes only 32-bit"));
	CHILD_CHECK(mmio_load64(l, 0x8, &v64) == -EACCES);
	CHILD_CHECK(mmio_load32(l, 0x8, &v32) == 0);
	/* Read-sensitive: this range grant does not name STATUS. */
	CHILD_CHECK(mmio_load32(l, 0x4, &v32) == -EACCES);
	CHILD_CHECK(detail_has(c, "reading STATUS (0x4) has side effects"));
	/* The ring: the same rules. */
	CHILD_CHECK(mmio_release(l) == 0);
	struct mmio_client *rc;
	struct mmio_lease *rl;
	CHILD_CHECK(mmio_connect(env->daemon.socket_path, &rc) == 0);
	CHILD_CHECK(mmio_set_fast_path(rc, MMIO_FAST_PATH_ON) == 0);
	CHILD_CHECK(mmio_acquire(rc, "fan", 0x0, 0x4, &rl) == 0);
	CHILD_CHECK(mmio_fast_path_active(rc) == 1);
	CHILD_CHECK(mmio_store32(rl, 0x0, 0x83) == -EACCES);
	CHILD_CHECK(detail_has(rc, "outside its write mask"));
	CHILD_CHECK(mmio_modify(rl, 0x0, 4, 0x10, 0x10, NULL) == -EACCES);
	CHILD_CHECK(mmio_store32(rl, 0x0, 0x03) == 0);
	mmio_disconnect(rc);
	mmio_disconnect(c);
	return 0;
}

static void
test_regrules_every_path(void **state)
{
	struct env *env = env_or_skip(state);
	assert_int_equal(mmio_sim_set(env->root, "fan", 0xc, 4, UINT32_MAX, 0xab00), 0);
	assert_int_equal(run_as(FAN_UID, FAN_UID, NULL, 0, masked_paths, env), 0);
	/* LOCK never changed; the last store set EN and MODE through the ring. */
	assert_int_equal(raw(env, 0x0), 0x03);
	assert_int_equal(raw(env, 0xc), 0xab34);
}

static int
named_status(void *arg)
{
	const struct env *env = arg;
	struct mmio_client *c;
	struct mmio_lease *l;
	CHILD_CHECK(mmio_connect(env->daemon.socket_path, &c) == 0);
	/* A grant of registers only covers exactly their bytes. */
	CHILD_CHECK(mmio_acquire(c, "fan", 0x0, 0x8, &l) == -EACCES);
	CHILD_CHECK(mmio_acquire(c, "fan", 0x4, 0x4, &l) == 0);
	uint32_t v;
	CHILD_CHECK(mmio_load32(l, 0x0, &v) == 0 && v == 0x5a);
	mmio_disconnect(c);
	return 0;
}

static void
test_regrules_named_read_sensitive(void **state)
{
	struct env *env = env_or_skip(state);
	assert_int_equal(mmio_sim_set(env->root, "fan", 0x4, 4, UINT32_MAX, 0x5a), 0);
	assert_int_equal(run_as(STATUS_UID, STATUS_UID, NULL, 0, named_status, env), 0);
	/* Read clears: the named reader read it. */
	assert_int_equal(raw(env, 0x4), 0);
}

static void
test_regrules_superuser(void **state)
{
	struct env *env = env_or_skip(state);
	struct mmio_lease *l;
	assert_int_equal(mmio_acquire(env->root, "fan", 0, 0x100, &l), 0);
	/* Not bound by grants' rules ... */
	assert_int_equal(mmio_store32(l, 0x0, 0xff), 0);
	uint32_t v;
	assert_int_equal(mmio_load32(l, 0x4, &v), 0);
	/* ... but by the map's widths. */
	uint16_t v16;
	assert_int_equal(mmio_load16(l, 0x8, &v16), -EACCES);
	assert_int_equal(mmio_release(l), 0);
}

struct holder {
	const struct env *env;
	int ready_fd;
	int go_fd;
};

static int
hold_across_reload(void *arg)
{
	const struct holder *h = arg;
	struct mmio_client *c;
	struct mmio_lease *l;
	CHILD_CHECK(mmio_connect(h->env->daemon.socket_path, &c) == 0);
	CHILD_CHECK(mmio_acquire(c, "fan", 0x0, 0x10, &l) == 0);
	CHILD_CHECK(mmio_store32(l, 0x0, 0x05) == 0); /* MODE may change */
	CHILD_CHECK(write(h->ready_fd, "y", 1) == 1);
	char go;
	CHILD_CHECK(read(h->go_fd, &go, 1) == 1);
	/* The same live lease: only EN may change now. */
	CHILD_CHECK(mmio_store32(l, 0x0, 0x03) == -EACCES);
	CHILD_CHECK(detail_has(c, "write mask 0x00000001"));
	CHILD_CHECK(mmio_reg_store(l, "CTRL.MODE", 0) == -EACCES);
	CHILD_CHECK(mmio_store32(l, 0x0, 0x04) == 0);
	mmio_disconnect(c);
	return 0;
}

static void
test_regrules_reload_narrows_write_mask(void **state)
{
	struct env *env = env_or_skip(state);
	int ready[2], go[2];
	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(go), 0);
	struct holder h = {.env = env, .ready_fd = ready[1], .go_fd = go[0]};
	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		_exit(run_as(FAN_UID, FAN_UID, NULL, 0, hold_across_reload, &h));
	}
	char c;
	assert_int_equal(read(ready[0], &c, 1), 1);
	assert_int_equal(write_conf(env, "EN"), 0);
	assert_int_equal(kill(env->daemon.pid, SIGHUP), 0);
	assert_int_equal(daemon_fixture_wait_notify(&env->daemon, "RELOADING=1"), 0);
	assert_int_equal(daemon_fixture_wait_notify(&env->daemon, "READY=1"), 0);
	assert_int_equal(write(go[1], "r", 1), 1);
	int status;
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(raw(env, 0x0), 0x04);
	close(ready[0]);
	close(ready[1]);
	close(go[0]);
	close(go[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_regrules_every_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_regrules_named_read_sensitive, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_regrules_superuser, setup, teardown),
		cmocka_unit_test_setup_teardown(test_regrules_reload_narrows_write_mask, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
