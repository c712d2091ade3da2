/*
 * ListLeases is paged. One uid filled every connection it may open with empty
 * leases, the unpaged listing outgrew the frame limit, and root's ListLeases
 * answered RESOURCE_EXHAUSTED: admins could no longer find ids to revoke. Now
 * root lists every lease and revokes one; and empty leases count against
 * max_leases_per_connection like any other.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon_fixture.h"
#include "mmio.pb-c.h"
#include "mmio/client.h"
#include "mmio_limits.h"
#include "run_as.h"

#define ATTACKER_UID    4711
#define LEASES_PER_CONN 256

/* The longest name allowed: the more bytes each listed lease costs, the fewer fill a frame. */
#define REGION "r123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

struct env {
	struct daemon_fixture daemon;
	char conf_path[160];
	pid_t attacker;
	int go_fd;     /* closing it lets the attacker disconnect and exit */
	int report_fd; /* the attacker's lease ids */
	unsigned conns;
};

/* The fewest bytes one of the attacker's leases takes in an unpaged LeaseList. */
static size_t
min_listed_bytes(void)
{
	Mmio__LeaseInfo info = MMIO__LEASE_INFO__INIT;
	info.id = 1;
	info.region = REGION;
	info.pid = 1;
	info.uid = ATTACKER_UID;
	info.access = MMIO__ACCESS__ACCESS_RW;
	size_t n = mmio__lease_info__get_packed_size(&info);
	assert_true(n < 128); /* its length prefix is one byte */
	return 1 + 1 + n;     /* tag, length, message */
}

static int
start_daemon(struct env *env, const char *limits)
{
	char conf[1024];
	snprintf(conf, sizeof(conf),
		 "socket = { mode = \"0666\"; };\n"
		 "limits = { %s };\n"
		 "regions = ( { name = \"" REGION "\"; type = \"mem\"; size = 0x1000;\n"
		 "    grants = ( { user = %d; access = \"rw\"; } ); } );\n",
		 limits, ATTACKER_UID);
	if (daemon_fixture_prepare(&env->daemon) < 0) {
		return -1;
	}
	snprintf(env->conf_path, sizeof(env->conf_path), "%s/mmiod.conf", env->daemon.dir);
	const char *const args[] = {"--config", env->conf_path, NULL};
	if (daemon_fixture_write_file(env->conf_path, conf) < 0 ||
	    chmod(env->daemon.dir, 0755) < 0 || daemon_fixture_start_args(&env->daemon, args) < 0) {
		return -1;
	}
	return 0;
}

static int
setup(void **state)
{
	struct env *env = calloc(1, sizeof(*env));
	if (!env) {
		return -1;
	}
	env->attacker = -1;
	env->go_fd = -1;
	env->report_fd = -1;
	*state = env;
	return 0;
}

static int
teardown(void **state)
{
	struct env *env = *state;
	if (env->go_fd >= 0) {
		close(env->go_fd);
	}
	if (env->report_fd >= 0) {
		close(env->report_fd);
	}
	if (env->attacker > 0) {
		waitpid(env->attacker, NULL, 0);
	}
	if (env->daemon.pid > 0) {
		daemon_fixture_stop(&env->daemon);
	}
	if (env->conf_path[0]) {
		unlink(env->conf_path);
	}
	if (env->daemon.dir[0]) {
		daemon_fixture_cleanup(&env->daemon);
	}
	free(env);
	return 0;
}

static int
write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n <= 0) {
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
read_all(int fd, void *buf, size_t len)
{
	char *p = buf;
	while (len > 0) {
		ssize_t n = read(fd, p, len);
		if (n <= 0) {
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * The attacker, as ATTACKER_UID: fills every connection its uid may open with
 * empty leases (acquired at length 0, or split off at 0), reports their ids,
 * waits for go_fd to close, then checks it lists its own (all but the one root
 * revoked) across its connections.
 */
static int
attack(const struct env *env, int report_fd, int go_fd)
{
	uint64_t total = (uint64_t)env->conns * LEASES_PER_CONN;
	uint64_t *ids = calloc(total, sizeof(*ids));
	struct mmio_client **c = calloc(env->conns, sizeof(*c));
	CHILD_CHECK(ids && c);
	size_t n = 0;
	for (unsigned i = 0; i < env->conns; i++) {
		CHILD_CHECK(mmio_connect(env->daemon.socket_path, &c[i]) == 0);
		struct mmio_lease *l = NULL;
		for (unsigned k = 0; k < LEASES_PER_CONN; k++) {
			if (k % 2 == 0) {
				CHILD_CHECK(mmio_acquire(c[i], REGION, k, 0, &l) == 0);
			} else {
				CHILD_CHECK(mmio_split(l, 0, &l) == 0);
			}
			ids[n++] = mmio_lease_id(l);
		}
		/* Full: an empty lease is a lease. */
		struct mmio_lease *more;
		CHILD_CHECK(mmio_acquire(c[i], REGION, 0, 0, &more) == -ENOSPC);
		CHILD_CHECK(mmio_split(l, 0, &more) == -ENOSPC);
	}
	/* The uid's connection limit bounds its leases: one connection more is refused. */
	struct mmio_client *extra;
	CHILD_CHECK(mmio_connect(env->daemon.socket_path, &extra) == -ENOSPC);
	CHILD_CHECK(write_all(report_fd, ids, total * sizeof(*ids)) == 0);
	close(report_fd);
	char b;
	CHILD_CHECK(read(go_fd, &b, 1) == 0);

	struct mmio_lease_info *own;
	int listed = mmio_list_leases(c[0], &own);
	CHILD_CHECK(listed == (int)total - 1);
	for (int i = 0; i < listed; i++) {
		CHILD_CHECK(own[i].uid == ATTACKER_UID);
	}
	free(own);
	for (unsigned i = 0; i < env->conns; i++) {
		mmio_disconnect(c[i]);
	}
	free(c);
	free(ids);
	return 0;
}

static void
start_attacker(struct env *env)
{
	int report[2];
	int go[2];
	assert_int_equal(pipe(report), 0);
	assert_int_equal(pipe(go), 0);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(report[0]);
		close(go[1]);
		gid_t gid = ATTACKER_UID;
		if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 ||
		    setresuid(ATTACKER_UID, ATTACKER_UID, ATTACKER_UID) < 0) {
			perror("attacker");
			_exit(127);
		}
		int rc = attack(env, report[1], go[0]);
		fflush(NULL);
		_exit(rc);
	}
	close(report[1]);
	close(go[0]);
	env->attacker = pid;
	env->report_fd = report[0];
	env->go_fd = go[1];
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a;
	uint64_t y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

static void
test_root_lists_and_revokes_past_one_frame(void **state)
{
	struct env *env = *state;
	if (geteuid() != 0) {
		skip(); /* the attacker needs setresuid */
	}
	/* Enough connections that the attacker's leases, unpaged, outgrow a frame. */
	size_t need = MMIO_MAX_FRAME / min_listed_bytes() + 1;
	env->conns = (unsigned)((need + LEASES_PER_CONN - 1) / LEASES_PER_CONN);
	size_t total = (size_t)env->conns * LEASES_PER_CONN;
	assert_true(total * min_listed_bytes() > MMIO_MAX_FRAME);
	char limits[128];
	snprintf(limits, sizeof(limits),
		 "max_connections_per_uid = %u; max_leases_per_connection = %d;", env->conns,
		 LEASES_PER_CONN);
	assert_int_equal(start_daemon(env, limits), 0);

	start_attacker(env);
	uint64_t *ids = calloc(total, sizeof(*ids));
	assert_non_null(ids);
	assert_int_equal(read_all(env->report_fd, ids, total * sizeof(*ids)), 0);
	qsort(ids, total, sizeof(*ids), cmp_u64);

	struct mmio_client *root;
	assert_int_equal(mmio_connect(env->daemon.socket_path, &root), 0);
	struct mmio_lease_info *all;
	int n = mmio_list_leases(root, &all);
	assert_int_equal(n, (int)total);
	/* Ascending ids, each of the attacker's exactly once. */
	for (size_t i = 0; i < total; i++) {
		assert_int_equal(all[i].id, ids[i]);
		assert_int_equal(all[i].uid, ATTACKER_UID);
		assert_string_equal(all[i].region, REGION);
		assert_int_equal(all[i].length, 0);
	}
	free(all);

	uint64_t victim = ids[total / 2];
	assert_int_equal(mmio_revoke(root, victim), 0);
	assert_int_equal(mmio_revoke(root, victim), -ENOENT);
	n = mmio_list_leases(root, &all);
	assert_int_equal(n, (int)total - 1);
	for (int i = 0; i < n; i++) {
		assert_int_not_equal(all[i].id, victim);
	}
	free(all);
	mmio_disconnect(root);
	free(ids);

	close(env->go_fd);
	env->go_fd = -1;
	int status;
	assert_int_equal(waitpid(env->attacker, &status, 0), env->attacker);
	env->attacker = -1;
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(daemon_fixture_stop(&env->daemon), 0);
}

/* Empty leases from every route (acquire, split at 0, split at the length) fill the limit. */
static void
test_empty_leases_count_against_limit(void **state)
{
	struct env *env = *state;
	assert_int_equal(start_daemon(env, "max_leases_per_connection = 4;"), 0);
	struct mmio_client *c;
	assert_int_equal(mmio_connect(env->daemon.socket_path, &c), 0);
	struct mmio_lease *empty;
	struct mmio_lease *whole;
	struct mmio_lease *low;
	struct mmio_lease *more;
	assert_int_equal(mmio_acquire(c, REGION, 0x10, 0, &empty), 0);
	assert_int_equal(mmio_split(empty, 0, &low), 0);
	assert_int_equal(mmio_acquire(c, REGION, 0x20, 8, &whole), 0);
	/* The low part takes all 8 bytes; whole keeps none. */
	assert_int_equal(mmio_split(whole, 8, &low), 0);
	assert_int_equal(mmio_lease_length(whole), 0);
	assert_int_equal(mmio_lease_length(low), 8);

	assert_int_equal(mmio_acquire(c, REGION, 0x40, 0, &more), -ENOSPC);
	assert_int_equal(mmio_acquire(c, REGION, 0x40, 8, &more), -ENOSPC);
	assert_int_equal(mmio_split(empty, 0, &more), -ENOSPC);
	assert_int_equal(mmio_split(low, 4, &more), -ENOSPC);
	struct mmio_lease_info *listed;
	assert_int_equal(mmio_list_leases(c, &listed), 4);
	free(listed);

	/* Releasing an empty lease frees a slot. */
	assert_int_equal(mmio_release(whole), 0);
	assert_int_equal(mmio_acquire(c, REGION, 0x40, 0, &more), 0);
	assert_int_equal(mmio_acquire(c, REGION, 0x50, 0, &more), -ENOSPC);
	mmio_disconnect(c);
	assert_int_equal(daemon_fixture_stop(&env->daemon), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_root_lists_and_revokes_past_one_frame, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_empty_leases_count_against_limit, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
