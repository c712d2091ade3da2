/*
 * The access policy through a real mmiod: clients of other uids (forked
 * children that drop to them) get exactly what their grants say.
 */
#include <setjmp.h>
#include <stdarg.h>
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

#define RW_UID     4242 /* rw on gpio [0x100, 0x200) */
#define RO_GID     4343 /* ro on all of gpio */
#define ADMIN_GID  4545 /* may list and revoke every lease */
#define NOBODY_UID 5001

static const char policy_conf[] =
	"socket = { mode = \"0666\"; };\n"
	"admin_group = 4545;\n"
	"regions = (\n"
	"  { name = \"gpio\"; type = \"mem\"; size = 0x1000; audit = \"stores\";\n"
	"    grants = ( { user = 4242; access = \"rw\"; offset = 0x100; length = 0x100; },\n"
	"               { group = 4343; access = \"ro\"; } ); },\n"
	"  { name = \"secret\"; type = \"mem\"; size = 0x100; }\n"
	");\n";

/* The reloaded policy: uid 4242 keeps only [0x100, 0x140), read-only; group 4343 loses all. */
static const char narrowed_conf[] =
	"socket = { mode = \"0666\"; };\n"
	"admin_group = 4545;\n"
	"regions = (\n"
	"  { name = \"gpio\"; type = \"mem\"; size = 0x1000;\n"
	"    grants = ( { user = 4242; access = \"ro\"; offset = 0x100; length = 0x40; } ); },\n"
	"  { name = \"secret\"; type = \"mem\"; size = 0x100; }\n"
	");\n";

struct env {
	struct daemon_fixture daemon;
	char conf_path[160];
};

static int
setup(void **state)
{
	if (geteuid() != 0) {
		/* Clients of other uids need fork + setresuid. */
		return 0;
	}
	struct env *env = calloc(1, sizeof(*env));
	if (daemon_fixture_prepare(&env->daemon) < 0) {
		free(env);
		return -1;
	}
	snprintf(env->conf_path, sizeof(env->conf_path), "%s/mmiod.conf", env->daemon.dir);
	const char *const args[] = {"--config", env->conf_path, NULL};
	if (daemon_fixture_write_file(env->conf_path, policy_conf) < 0 ||
	    chmod(env->daemon.dir, 0755) < 0 || daemon_fixture_start_args(&env->daemon, args) < 0) {
		unlink(env->conf_path);
		daemon_fixture_cleanup(&env->daemon);
		free(env);
		return -1;
	}
	*state = env;
	return 0;
}

/* Only cleans up after a failed test: each test asserts its daemon's clean stop itself. */
static int
teardown(void **state)
{
	struct env *env = *state;
	if (env) {
		if (env->daemon.pid > 0) {
			daemon_fixture_stop(&env->daemon);
		}
		unlink(env->conf_path);
		daemon_fixture_cleanup(&env->daemon);
		free(env);
	}
	return 0;
}

static struct env *
env_or_skip(void **state)
{
	if (geteuid() != 0) {
		skip();
	}
	return *state;
}

static void
stop_daemon(struct env *env)
{
	assert_int_equal(daemon_fixture_stop(&env->daemon), 0);
	unlink(env->conf_path);
}

static int
rw_user_checks(void *arg)
{
	const struct env *env = arg;
	struct mmio_client *c;
	struct mmio_lease *l;
	CHILD_CHECK(mmio_connect(env->daemon.socket_path, &c) == 0);
	struct mmio_region_info *regions;
	CHILD_CHECK(mmio_list_regions(c, &regions) == 1);
	CHILD_CHECK(strcmp(regions[0].name, "gpio") == 0);
	CHILD_CHECK(regions[0].n_grants == 1);
	CHILD_CHECK(regions[0].grants[0].offset == 0x100 && regions[0].grants[0].length == 0x100);
	CHILD_CHECK(regions[0].grants[0].access == MMIO_ACCESS_RW);
	free(regions);

	CHILD_CHECK(mmio_acquire(c, "gpio", 0x0, 0x10, &l) == -EACCES);
	CHILD_CHECK(strstr(mmio_error_detail(c), "no grant of uid 4242") != NULL);
	CHILD_CHECK(mmio_acquire(c, "gpio", 0x1f0, 0x20, &l) == -EACCES);
	CHILD_CHECK(mmio_acquire(c, "secret", 0x0, 0x10, &l) == -ENOENT);
	CHILD_CHECK(mmio_acquire(c, "gpio", 0x100, 0x100, &l) == 0);
	CHILD_CHECK(mmio_lease_access(l) == MMIO_ACCESS_RW);
	CHILD_CHECK(mmio_store32(l, 0, 0xc0ffee) == 0);
	uint32_t v = 0;
	CHILD_CHECK(mmio_load32(l, 0, &v) == 0 && v == 0xc0ffee);

	/* Not an admin: sees the leases of its uid, from any connection, and no others. */
	struct mmio_client *other;
	CHILD_CHECK(mmio_connect(env->daemon.socket_path, &other) == 0);
	struct mmio_lease_info *leases;
	int n = mmio_list_leases(other, &leases);
	CHILD_CHECK(n == 1 && leases[0].id == mmio_lease_id(l) && leases[0].uid == RW_UID);
	free(leases);
	mmio_disconnect(other);
	CHILD_CHECK(mmio_revoke(c, mmio_lease_id(l)) == -EACCES);
	mmio_disconnect(c);
	return 0;
}

static void
test_policy_rw_grant_limits_range(void **state)
{
	struct env *env = env_or_skip(state);
	/* root's lease, which the child must not see. */
	struct mmio_client *root;
	struct mmio_lease *l;
	assert_int_equal(mmio_connect(env->daemon.socket_path, &root), 0);
	assert_int_equal(mmio_acquire(root, "secret", 0, 8, &l), 0);
	assert_int_equal(run_as(RW_UID, RW_UID, NULL, 0, rw_user_checks, env), 0);
	/* The store was audited, with who did it and where in the region. */
	assert_int_equal(daemon_fixture_log_count(&env->daemon, "uid 4242 lease"), 1);
	assert_int_equal(daemon_fixture_log_count(&env->daemon,
						  "region gpio store32 offset 0x100 value 0xc0ffee "
						  "status OK"),
			 1);
	/* Loads are not audited under audit = "stores"; denials are logged. */
	assert_int_equal(daemon_fixture_log_count(&env->daemon, "load32"), 0);
	assert_int_equal(daemon_fixture_log_count(&env->daemon, "denied gpio [0x0, +0x10)"), 1);
	mmio_disconnect(root);
	stop_daemon(env);
}

static int
ro_group_checks(void *arg)
{
	const struct env *env = arg;
	struct mmio_client *c;
	struct mmio_lease *l;
	CHILD_CHECK(mmio_connect(env->daemon.socket_path, &c) == 0);
	struct mmio_region_info *regions;
	CHILD_CHECK(mmio_list_regions(c, &regions) == 1);
	CHILD_CHECK(regions[0].n_grants == 1 && regions[0].grants[0].access == MMIO_ACCESS_RO);
	CHILD_CHECK(regions[0].grants[0].offset == 0 && regions[0].grants[0].length == 0x1000);
	free(regions);
	CHILD_CHECK(mmio_acquire(c, "gpio", 0x0, 0x1000, &l) == 0);
	CHILD_CHECK(mmio_lease_access(l) == MMIO_ACCESS_RO);
	uint32_t v;
	CHILD_CHECK(mmio_load32(l, 0, &v) == 0);
	CHILD_CHECK(mmio_store32(l, 0, 1) == -EACCES);
	CHILD_CHECK(strstr(mmio_error_detail(c), "read-only") != NULL);
	/* A split keeps the access; so does a batch. */
	struct mmio_lease *lo;
	CHILD_CHECK(mmio_split(l, 8, &lo) == 0 && mmio_lease_access(lo) == MMIO_ACCESS_RO);
	struct mmio_op ops[2] = {
		{.lease = lo, .kind = MMIO_OP_LOAD, .width = 4, .offset = 0},
		{.lease = lo, .kind = MMIO_OP_STORE, .width = 4, .offset = 4, .value = 1},
	};
	CHILD_CHECK(mmio_batch(c, ops, 2, 0) == 1);
	CHILD_CHECK(ops[0].status == 0 && ops[1].status == -EACCES);
	mmio_disconnect(c);
	return 0;
}

static void
test_policy_ro_group_grant_refuses_stores(void **state)
{
	struct env *env = env_or_skip(state);
	/* Supplementary groups count: the grant is to 4343, our primary group is another. */
	gid_t groups[] = {RO_GID};
	assert_int_equal(run_as(5000, 5000, groups, 1, ro_group_checks, env), 0);
	/* Refused stores are audited too. */
	assert_int_equal(daemon_fixture_log_count(&env->daemon, "status PERMISSION_DENIED"), 2);
	stop_daemon(env);
}

static int
no_grant_checks(void *arg)
{
	const struct env *env = arg;
	struct mmio_client *c;
	struct mmio_lease *l;
	CHILD_CHECK(mmio_connect(env->daemon.socket_path, &c) == 0);
	struct mmio_region_info *regions;
	CHILD_CHECK(mmio_list_regions(c, &regions) == 0 && regions == NULL);
	/* A region it may not lease is as good as absent. */
	CHILD_CHECK(mmio_acquire(c, "gpio", 0x100, 4, &l) == -ENOENT);
	CHILD_CHECK(mmio_acquire(c, "secret", 0, 4, &l) == -ENOENT);
	mmio_disconnect(c);
	return 0;
}

static void
test_policy_default_deny(void **state)
{
	struct env *env = env_or_skip(state);
	assert_int_equal(run_as(NOBODY_UID, NOBODY_UID, NULL, 0, no_grant_checks, env), 0);
	stop_daemon(env);
}

struct admin_arg {
	const struct env *env;
	uint64_t victim;
};

static int
admin_checks(void *arg)
{
	const struct admin_arg *a = arg;
	struct mmio_client *c;
	CHILD_CHECK(mmio_connect(a->env->daemon.socket_path, &c) == 0);
	struct mmio_lease_info *leases;
	int n = mmio_list_leases(c, &leases);
	CHILD_CHECK(n == 1 && leases[0].id == a->victim && leases[0].uid == 0);
	free(leases);
	CHILD_CHECK(mmio_revoke(c, a->victim) == 0);
	CHILD_CHECK(mmio_revoke(c, a->victim) == -ENOENT);
	mmio_disconnect(c);
	return 0;
}

static void
test_policy_admin_lists_and_revokes(void **state)
{
	struct env *env = env_or_skip(state);
	struct mmio_client *c;
	struct mmio_lease *l;
	assert_int_equal(mmio_connect(env->daemon.socket_path, &c), 0);
	assert_int_equal(mmio_acquire(c, "secret", 0, 0x10, &l), 0);
	/* An admin with no grant at all still sees and revokes every lease. */
	gid_t groups[] = {ADMIN_GID};
	struct admin_arg arg = {.env = env, .victim = mmio_lease_id(l)};
	assert_int_equal(run_as(5002, 5002, groups, 1, admin_checks, &arg), 0);
	uint32_t v;
	assert_int_equal(mmio_load32(l, 0, &v), -EKEYREVOKED);
	/* A batch names the revoked lease alike (it said NOT_FOUND). */
	struct mmio_op op = {.lease = l, .kind = MMIO_OP_LOAD, .width = 4};
	assert_int_equal(mmio_batch(c, &op, 1, 0), 1);
	assert_int_equal(op.status, -EKEYREVOKED);
	struct mmio_lease *again;
	assert_int_equal(mmio_acquire(c, "secret", 0, 0x10, &again), 0);
	mmio_disconnect(c);
	stop_daemon(env);
}

/* Holds a lease across a reload: parent writes 'r' once the new policy is in force. */
struct holder_arg {
	const struct env *env;
	int ready_fd; /* child -> parent: leases taken */
	int go_fd;    /* parent -> child: reloaded */
};

static int
holder_checks(void *arg)
{
	const struct holder_arg *h = arg;
	struct mmio_client *c;
	struct mmio_lease *keep, *lose;
	CHILD_CHECK(mmio_connect(h->env->daemon.socket_path, &c) == 0);
	CHILD_CHECK(mmio_acquire(c, "gpio", 0x100, 0x40, &keep) == 0);
	CHILD_CHECK(mmio_acquire(c, "gpio", 0x180, 0x10, &lose) == 0);
	CHILD_CHECK(mmio_store32(keep, 0, 7) == 0);
	CHILD_CHECK(write(h->ready_fd, "y", 1) == 1);
	char go;
	CHILD_CHECK(read(h->go_fd, &go, 1) == 1);
	uint32_t v;
	/* Still granted, but read-only now; the other lease is gone. */
	CHILD_CHECK(mmio_load32(keep, 0, &v) == 0 && v == 7);
	CHILD_CHECK(mmio_store32(keep, 0, 8) == -EACCES);
	CHILD_CHECK(mmio_load32(lose, 0, &v) == -EKEYREVOKED);
	mmio_disconnect(c);
	return 0;
}

static void
test_policy_reload_narrows_live_leases(void **state)
{
	struct env *env = env_or_skip(state);
	int ready[2], go[2];
	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(go), 0);
	struct holder_arg h = {.env = env, .ready_fd = ready[1], .go_fd = go[0]};

	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		_exit(run_as(RW_UID, RW_UID, NULL, 0, holder_checks, &h));
	}
	char c;
	assert_int_equal(read(ready[0], &c, 1), 1);
	assert_int_equal(daemon_fixture_write_file(env->conf_path, narrowed_conf), 0);
	assert_int_equal(kill(env->daemon.pid, SIGHUP), 0);
	/* sd_notify tells us when the reload is done: no sleeping, no polling. */
	assert_int_equal(daemon_fixture_wait_notify(&env->daemon, "RELOADING=1"), 0);
	assert_int_equal(daemon_fixture_wait_notify(&env->daemon, "READY=1"), 0);
	assert_int_equal(write(go[1], "r", 1), 1);
	int status;
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(
		daemon_fixture_log_count(&env->daemon, "reload: policy applied, 1 lease revoked"),
		1);
	assert_int_equal(daemon_fixture_log_count(&env->daemon, "revoked: no grant covers it"), 1);
	close(ready[0]);
	close(ready[1]);
	close(go[0]);
	close(go[1]);
	stop_daemon(env);
}

static void
test_policy_bad_reload_keeps_policy(void **state)
{
	struct env *env = env_or_skip(state);
	assert_int_equal(
		daemon_fixture_write_file(env->conf_path, "regions = ( { name = 3; } );\n"), 0);
	assert_int_equal(kill(env->daemon.pid, SIGHUP), 0);
	assert_int_equal(daemon_fixture_wait_notify(&env->daemon, "RELOADING=1"), 0);
	assert_int_equal(daemon_fixture_wait_notify(&env->daemon, "READY=1"), 0);
	assert_int_equal(daemon_fixture_log_count(&env->daemon, "keeping the current policy"), 1);
	assert_int_equal(run_as(RW_UID, RW_UID, NULL, 0, rw_user_checks, env), 0);
	stop_daemon(env);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_policy_rw_grant_limits_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy_ro_group_grant_refuses_stores, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_policy_default_deny, setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy_admin_lists_and_revokes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_policy_reload_narrows_live_leases, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_policy_bad_reload_keeps_policy, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
