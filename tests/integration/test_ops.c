/* Server-side operations through a real mmiod: modify, poll, block reads and writes, all-or-nothing
 * batches. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon_fixture.h"
#include "mmio/client.h"

struct env {
	struct daemon_fixture daemon;
	char file[64]; /* backs region dev: the test writes it as the "device" would */
	struct mmio_client *c;
	struct mmio_lease *l; /* sim0 [0x100, 0x200) */
};

static int
setup(void **state)
{
	struct env *env = calloc(1, sizeof(*env));
	snprintf(env->file, sizeof(env->file), "/tmp/mmiod-ops-XXXXXX");
	int fd = mkstemp(env->file);
	if (fd < 0 || ftruncate(fd, 0x1000) < 0) {
		return -1;
	}
	close(fd);
	char dev[128];
	snprintf(dev, sizeof(dev), "dev,type=file,path=%s,size=0x1000", env->file);
	const char *const regions[] = {"sim0,type=mem,size=0x1000", dev, NULL};
	if (daemon_fixture_start(&env->daemon, regions) < 0 ||
	    mmio_connect(env->daemon.socket_path, &env->c) < 0 ||
	    mmio_acquire(env->c, "sim0", 0x100, 0x100, &env->l) < 0) {
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
		return -1;
	}
	mmio_disconnect(env->c);
	if (env->daemon.pid > 0) {
		daemon_fixture_stop(&env->daemon);
	}
	unlink(env->file);
	free(env);
	return 0;
}

static void
stop(struct env *env)
{
	mmio_disconnect(env->c);
	env->c = NULL;
	assert_int_equal(daemon_fixture_stop(&env->daemon), 0);
}

/* The device sets a register by itself: the test writes the file under region dev. */
static void
device_sets(const struct env *env, uint64_t offset, uint32_t value)
{
	int fd = open(env->file, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, &value, sizeof(value), (off_t)offset), sizeof(value));
	close(fd);
}

static void
test_ops_modify(void **state)
{
	struct env *env = *state;
	uint64_t old = 0, v = 0;
	assert_int_equal(mmio_store32(env->l, 0, 0xffff0000), 0);
	/* Bits of value outside mask are ignored. */
	assert_int_equal(mmio_modify(env->l, 0, 4, 0x0000ff00, 0xdead34ef, &old), 0);
	assert_int_equal(old, 0xffff0000);
	assert_int_equal(mmio_load(env->l, 0, 4, &v), 0);
	assert_int_equal(v, 0xffff3400);
	assert_int_equal(mmio_modify(env->l, 0, 8, UINT64_MAX, 0x0102030405060708ULL, NULL), 0);
	assert_int_equal(mmio_load(env->l, 0, 8, &v), 0);
	assert_int_equal(v, 0x0102030405060708ULL);
	/* A failed check loads nothing and stores nothing. */
	assert_int_equal(mmio_modify(env->l, 2, 4, 1, 1, &old), -EFAULT);
	assert_int_equal(mmio_modify(env->l, 0x100, 1, 1, 1, &old), -ERANGE);
	assert_int_equal(mmio_load(env->l, 0, 8, &v), 0);
	assert_int_equal(v, 0x0102030405060708ULL);
	stop(env);
}

struct poller {
	const char *socket_path;
	int rc;
	uint64_t last;
};

/* Polls dev offset 0x10 for bit 31, on its own connection. */
static void *
poll_thread(void *arg)
{
	struct poller *p = arg;
	struct mmio_client *c;
	struct mmio_lease *l;
	p->rc = -1;
	if (mmio_connect(p->socket_path, &c) == 0 && mmio_acquire(c, "dev", 0x10, 4, &l) == 0) {
		p->rc = mmio_poll(l, 0, 4, 0x80000000, 0x80000000, 60000, 0, &p->last);
	}
	mmio_disconnect(c);
	return NULL;
}

static void
test_ops_poll(void **state)
{
	struct env *env = *state;
	uint64_t last = 0;
	assert_int_equal(mmio_store32(env->l, 0, 0x5), 0);
	assert_int_equal(mmio_poll(env->l, 0, 4, 0x4, 0x4, 0, 0, &last), 0);
	assert_int_equal(last, 5);
	/* Checked once: not there, TIMEOUT, and the value read comes back anyway. */
	last = 0;
	assert_int_equal(mmio_poll(env->l, 0, 4, 0x2, 0x2, 0, 0, &last), -ETIMEDOUT);
	assert_string_equal(mmio_status_name(-ETIMEDOUT), "TIMEOUT");
	assert_int_equal(last, 5);
	assert_int_equal(mmio_poll(env->l, 0, 4, 0x2, 0x2, 30, 1000, &last), -ETIMEDOUT);
	assert_int_equal(mmio_poll(env->l, 2, 4, 0x2, 0x2, 30, 0, &last), -EFAULT);
	assert_int_equal(mmio_poll(env->l, 0, 4, 0x2, 0x2, 60001, 0, &last), -EINVAL);
	/* An interval of 1 us is served as 50 us: still a timeout, not a busy loop. */
	assert_int_equal(mmio_poll(env->l, 0, 4, 0x2, 0x2, 5, 1, &last), -ETIMEDOUT);

	/*
	 * A long poll on the device's register: other clients are served meanwhile
	 * (a daemon blocked in the poll would leave this store hanging until the
	 * poll timed out, and the poller would see TIMEOUT), and the poll ends as
	 * soon as the device sets the bit.
	 */
	struct poller p = {.socket_path = env->daemon.socket_path};
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, poll_thread, &p), 0);
	assert_int_equal(mmio_store32(env->l, 4, 0x77), 0);
	device_sets(env, 0x10, 0x80000001);
	pthread_join(t, NULL);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.last, 0x80000001);
	stop(env);
}

/*
 * A client killed in the middle of a poll loses its leases, like any other. Its connection has
 * no read event while mmiod polls for it, so its hangup may be seen after another client's
 * request of the same wakeup (under valgrind it was: CONFLICT): wait for mmiod's line.
 */
static void
test_ops_killed_poller_frees_its_lease(void **state)
{
	struct env *env = *state;
	int ready[2];
	assert_int_equal(pipe(ready), 0);
	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		struct mmio_client *c;
		struct mmio_lease *l;
		if (mmio_connect(env->daemon.socket_path, &c) < 0 ||
		    mmio_acquire(c, "dev", 0x20, 4, &l) < 0 || write(ready[1], "y", 1) != 1) {
			_exit(1);
		}
		mmio_poll(l, 0, 4, 1, 1, 60000, 0, NULL);
		_exit(2);
	}
	char y;
	assert_int_equal(read(ready[0], &y, 1), 1);
	int status;
	assert_int_equal(kill(child, SIGKILL), 0);
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_int_equal(
		daemon_fixture_wait_log(&env->daemon, "disconnected, 1 lease revoked", 1, 60000),
		1);
	struct mmio_lease *l;
	assert_int_equal(mmio_acquire(env->c, "dev", 0x20, 4, &l), 0);
	close(ready[0]);
	close(ready[1]);
	stop(env);
}

static void
test_ops_block_read_write(void **state)
{
	struct env *env = *state;
	const uint64_t four[] = {0x11111111, 0x22222222, 0x33333333, 0x44444444};
	uint64_t got[4] = {0};
	assert_int_equal(mmio_write_block(env->l, 0x10, 4, four, 4, 0), 0);
	assert_int_equal(mmio_read_block(env->l, 0x10, 4, got, 4, 0), 0);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(got[i], four[i]);
	}
	uint32_t v;
	assert_int_equal(mmio_load32(env->l, 0x1c, &v), 0);
	assert_int_equal(v, 0x44444444);
	/* A FIFO register: every access at the same address, the last write stays. */
	assert_int_equal(mmio_write_block(env->l, 0x40, 4, four, 3, MMIO_REPEAT), 0);
	assert_int_equal(mmio_read_block(env->l, 0x40, 4, got, 3, MMIO_REPEAT), 0);
	assert_int_equal(got[0], 0x33333333);
	assert_int_equal(got[2], 0x33333333);
	assert_int_equal(mmio_load32(env->l, 0x44, &v), 0);
	assert_int_equal(v, 0);

	/* A request that would run past the lease, or hold a value too wide, writes nothing. */
	assert_int_equal(mmio_write_block(env->l, 0xf8, 4, four, 3, 0), -ERANGE);
	assert_int_equal(mmio_load32(env->l, 0xf8, &v), 0);
	assert_int_equal(v, 0);
	const uint64_t wide[] = {1, 0x100};
	assert_int_equal(mmio_write_block(env->l, 0x80, 1, wide, 2, 0), -EINVAL);
	assert_int_equal(mmio_load32(env->l, 0x80, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(mmio_read_block(env->l, 0x2, 4, got, 1, 0), -EFAULT);
	assert_int_equal(mmio_read_block(env->l, 0x0, 4, got, 0, 0), -EINVAL);
	stop(env);
}

static void
test_ops_batch_all_or_nothing(void **state)
{
	struct env *env = *state;
	struct mmio_op ops[] = {
		{.lease = env->l, .kind = MMIO_OP_STORE, .width = 4, .offset = 0, .value = 0xabcd},
		{.lease = env->l, .kind = MMIO_OP_LOAD, .width = 4, .offset = 0},
		{.lease = env->l, .kind = MMIO_OP_LOAD, .width = 4, .offset = 2},
	};
	assert_int_equal(mmio_batch(env->c, ops, 3, MMIO_BATCH_ALL_OR_NOTHING), 3);
	assert_int_equal(ops[0].status, -ECANCELED);
	assert_int_equal(ops[1].status, -ECANCELED);
	assert_int_equal(ops[2].status, -EFAULT);
	uint32_t v;
	assert_int_equal(mmio_load32(env->l, 0, &v), 0);
	assert_int_equal(v, 0);
	ops[2].offset = 4;
	assert_int_equal(mmio_batch(env->c, ops, 3, MMIO_BATCH_ALL_OR_NOTHING), 0);
	assert_int_equal(ops[1].value, 0xabcd);
	stop(env);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ops_modify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ops_poll, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ops_killed_poller_frees_its_lease, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ops_block_read_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ops_batch_all_or_nothing, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
