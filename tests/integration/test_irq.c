/*
 * Interrupts end to end: a UIO region on a fake sysfs tree whose interrupt
 * source is a pseudo-terminal (the test writes UIO-style 4-byte counts into
 * the master, and reads the daemon's 4-byte "re-enable" writes back from it),
 * through libmmio-client and through mmioctl wait-irq; and who may own it,
 * with clients of other uids (forked children that drop to them).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "daemon_fixture.h"
#include "mmio/client.h"
#include "run_as.h"
#include "spawn_proc.h"

/* Who may own the interrupt of irqdev (0x1000 bytes) under grants_conf. */
#define ATTACKER_UID 4701 /* ro on [0x10, +4): may lease, never own the interrupt */
#define OWNER_UID    4702 /* rw on the whole region: may own it */
#define IRQ_UID      4703 /* rw on [0x100, +0x40) with irq = true (and ro on [0x800, +4)) */
#define PARTIAL_UID  4704 /* rw on [0x200, +0x40), no irq: may not */

struct env {
	struct daemon_fixture daemon;
	char root[64]; /* fake sysfs and /dev */
	int master;    /* our end of the interrupt source */
	char conf_path[160];
	pid_t holder; /* a child still running (test failed half-way): teardown kills it */
};

static int
write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		return -1;
	}
	fputs(text, f);
	return fclose(f);
}

/* <root>/sys/class/uio/uio0/{name,maps/map0/{addr,size,offset}} and <root>/dev/uio0. */
static int
make_uio_tree(const char *root)
{
	static const char *const dirs[] = {"sys",
					   "sys/class",
					   "sys/class/uio",
					   "sys/class/uio/uio0",
					   "sys/class/uio/uio0/maps",
					   "sys/class/uio/uio0/maps/map0",
					   "dev"};
	char path[160];
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", root, dirs[i]);
		if (mkdir(path, 0755) < 0) {
			return -1;
		}
	}
	static const char *const files[][2] = {
		{"sys/class/uio/uio0/name", "fakeuio\n"},
		{"sys/class/uio/uio0/maps/map0/addr", "0x10000000\n"},
		{"sys/class/uio/uio0/maps/map0/size", "0x1000\n"},
		{"sys/class/uio/uio0/maps/map0/offset", "0x0\n"},
	};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", root, files[i][0]);
		if (write_text(path, files[i][1]) < 0) {
			return -1;
		}
	}
	snprintf(path, sizeof(path), "%s/dev/uio0", root);
	int fd = open(path, O_RDWR | O_CREAT, 0600);
	int rc = fd < 0 || ftruncate(fd, 4096) < 0 ? -1 : 0;
	if (fd >= 0) {
		close(fd);
	}
	return rc;
}

/* The fake UIO device and the pseudo-terminal standing in for its interrupt. */
static struct env *
make_env(void)
{
	struct env *env = calloc(1, sizeof(*env));
	snprintf(env->root, sizeof(env->root), "/tmp/mmiod-uio-XXXXXX");
	if (!mkdtemp(env->root) || make_uio_tree(env->root) < 0) {
		return NULL;
	}
	/* Raw, so counts pass through the terminal layer byte for byte. */
	env->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	struct termios raw;
	if (env->master < 0 || grantpt(env->master) < 0 || unlockpt(env->master) < 0 ||
	    tcgetattr(env->master, &raw) < 0) {
		return NULL;
	}
	cfmakeraw(&raw);
	if (tcsetattr(env->master, TCSANOW, &raw) < 0) {
		return NULL;
	}
	return env;
}

static int
setup(void **state)
{
	struct env *env = make_env();
	if (!env) {
		return -1;
	}
	char region[512];
	snprintf(region, sizeof(region),
		 "irqdev,type=uio,name=fakeuio,map=0,sysfs=%s/sys,dev=%s/dev,irq=yes,irq_dev=%s",
		 env->root, env->root, ptsname(env->master));
	const char *const regions[] = {region, "plain,type=mem,size=64", NULL};
	if (daemon_fixture_start(&env->daemon, regions) < 0) {
		return -1;
	}
	*state = env;
	return 0;
}

/* irqdev with grants to the uids above; irq_grant: whether IRQ_UID's rw grant says irq. */
static int
write_grants_conf(const struct env *env, bool irq_grant)
{
	FILE *f = fopen(env->conf_path, "w");
	if (!f) {
		return -1;
	}
	fprintf(f,
		"socket = { mode = \"0666\"; };\n"
		"regions = (\n"
		"  { name = \"irqdev\"; type = \"uio\"; uio_name = \"fakeuio\"; map = 0; "
		"size = 0x1000;\n"
		"    sysfs = \"%s/sys\"; dev = \"%s/dev\"; irq = true; irq_dev = \"%s\";\n"
		"    grants = ( { user = 4701; access = \"ro\"; offset = 0x10; length = 4; },\n"
		"               { user = 4702; access = \"rw\"; },\n"
		"               { user = 4703; access = \"rw\"; offset = 0x100; length = 0x40; "
		"irq = %s; },\n"
		"               { user = 4703; access = \"ro\"; offset = 0x800; length = 4; },\n"
		"               { user = 4704; access = \"rw\"; offset = 0x200; length = 0x40; } "
		"); }\n"
		");\n",
		env->root, env->root, ptsname(env->master), irq_grant ? "true" : "false");
	return fclose(f);
}

/* mmiod --config with the grants above, its socket open to every uid. */
static int
setup_grants(void **state)
{
	if (geteuid() != 0) {
		/* Clients of other uids need fork + setresuid. */
		return 0;
	}
	struct env *env = make_env();
	if (!env || daemon_fixture_prepare(&env->daemon) < 0) {
		return -1;
	}
	snprintf(env->conf_path, sizeof(env->conf_path), "%s/mmiod.conf", env->daemon.dir);
	const char *const args[] = {"--config", env->conf_path, NULL};
	if (write_grants_conf(env, true) < 0 || chmod(env->daemon.dir, 0755) < 0 ||
	    daemon_fixture_start_args(&env->daemon, args) < 0) {
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
		return geteuid() == 0 ? -1 : 0; /* setup_grants skipped */
	}
	if (env->holder > 0) {
		kill(env->holder, SIGKILL);
		waitpid(env->holder, NULL, 0);
	}
	if (env->daemon.pid > 0) {
		daemon_fixture_stop(&env->daemon);
	}
	if (env->conf_path[0]) {
		unlink(env->conf_path);
		daemon_fixture_cleanup(&env->daemon);
	}
	close(env->master);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", env->root);
	if (system(cmd) != 0) {
		return -1;
	}
	free(env);
	return 0;
}

/* The device raises its interrupt: UIO's read() would now return this total count. */
static void
raise_irq(struct env *env, uint32_t total)
{
	assert_int_equal(write(env->master, &total, sizeof(total)), sizeof(total));
}

/* The daemon's acknowledgement: the 4-byte 1 it writes to re-enable the interrupt. */
static void
expect_ack(struct env *env)
{
	int32_t v = 0;
	assert_int_equal(read(env->master, &v, sizeof(v)), sizeof(v));
	assert_int_equal(v, 1);
}

static void
test_irq_round_trip(void **state)
{
	struct env *env = *state;
	struct mmio_client *c, *other;
	struct mmio_lease *l, *ol, *plain;
	assert_int_equal(mmio_connect(env->daemon.socket_path, &c), 0);
	assert_int_equal(mmio_connect(env->daemon.socket_path, &other), 0);
	assert_int_equal(mmio_acquire(c, "irqdev", 0, 0x10, &l), 0);
	assert_int_equal(mmio_acquire(other, "irqdev", 0x10, 0, &ol), 0);
	assert_int_equal(mmio_acquire(other, "plain", 0, 8, &plain), 0);
	assert_int_equal(mmio_irq_fd(l), -1);
	assert_int_equal(mmio_irq_subscribe(plain), -EINVAL);
	assert_int_equal(mmio_irq_subscribe(l), 0);
	assert_true(mmio_irq_fd(l) >= 0);
	/* One subscriber per region. */
	assert_int_equal(mmio_irq_subscribe(ol), -EBUSY);

	uint32_t n = 0;
	assert_int_equal(mmio_irq_wait(l, 0, &n), -ETIMEDOUT);
	raise_irq(env, 41);
	assert_int_equal(mmio_irq_wait(l, -1, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(mmio_irq_ack(l), 0);
	expect_ack(env);
	/* Three more arrived before we looked: the count says so. */
	raise_irq(env, 44);
	assert_int_equal(mmio_irq_wait(l, -1, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(mmio_irq_ack(l), 0);
	expect_ack(env);
	assert_int_equal(mmio_irq_ack(ol), -EINVAL);

	/* Releasing the lease ends the subscription: the pipe says EOF, the region is free. */
	assert_int_equal(mmio_irq_unsubscribe(l), 0);
	assert_int_equal(mmio_irq_wait(l, 0, &n), -EINVAL);
	assert_int_equal(mmio_irq_subscribe(ol), 0);
	raise_irq(env, 45);
	assert_int_equal(mmio_irq_wait(ol, -1, &n), 0);
	int fd = dup(mmio_irq_fd(ol));
	assert_int_equal(mmio_release(ol), 0);
	char byte;
	assert_int_equal(read(fd, &byte, 1), 0);
	close(fd);

	/* A disconnect releases it too. */
	assert_int_equal(mmio_irq_subscribe(l), 0);
	mmio_disconnect(c);
	assert_int_equal(mmio_acquire(other, "irqdev", 0, 0, &ol), 0);
	assert_int_equal(mmio_irq_subscribe(ol), 0);
	mmio_disconnect(other);
	assert_int_equal(daemon_fixture_stop(&env->daemon), 0);
}

/* A thread in mmio_irq_wait: its thread id, published before it waits, and the outcome. */
struct waiter {
	struct mmio_lease *lease;
	atomic_int tid;
	int rc;
	uint32_t count;
};

static void *
wait_for_irq(void *arg)
{
	struct waiter *w = arg;
	atomic_store(&w->tid, (int)gettid());
	w->rc = mmio_irq_wait(w->lease, 60000, &w->count);
	return NULL;
}

/* Whether thread tid of this process is blocked in poll(2) or ppoll(2) right now. */
static bool
in_poll(int tid)
{
	char path[64];
	char line[64] = "";
	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", tid);
	FILE *f = fopen(path, "r");
	if (!f) {
		return false;
	}
	bool got = fgets(line, sizeof(line), f) != NULL;
	fclose(f);
	return got && (strncmp(line, "7 ", 2) == 0 || strncmp(line, "271 ", 4) == 0);
}

/* Starts w's thread and returns once it blocks in its wait (no sleeping: /proc says so). */
static void
start_waiter(pthread_t *t, struct waiter *w)
{
	atomic_store(&w->tid, 0);
	assert_int_equal(pthread_create(t, NULL, wait_for_irq, w), 0);
	for (unsigned spins = 0;; spins++) {
		int tid = atomic_load(&w->tid);
		if (tid && in_poll(tid)) {
			return;
		}
		assert_true(spins < 10000000);
		sched_yield();
	}
}

/*
 * Issue 20: mmio_irq_unsubscribe closed the pipe under another thread's
 * mmio_irq_wait, which then read a closed descriptor (-EBADF) or, had the
 * number been reused meanwhile, someone else's. Now the wait returns -ENOENT
 * and the descriptors stay open until it has: the numbers free after the
 * unsubscribe are not the subscription's until the waiter is done.
 */
static void
test_irq_unsubscribe_during_wait(void **state)
{
	struct env *env = *state;
	struct mmio_client *c;
	struct mmio_lease *l;
	assert_int_equal(mmio_connect(env->daemon.socket_path, &c), 0);
	assert_int_equal(mmio_acquire(c, "irqdev", 0, 0x10, &l), 0);
	for (int round = 0; round < 20; round++) {
		assert_int_equal(mmio_irq_subscribe(l), 0);
		int fd = mmio_irq_fd(l);
		assert_true(fd >= 0);
		struct waiter w = {.lease = l};
		pthread_t t;
		start_waiter(&t, &w);
		assert_int_equal(mmio_irq_unsubscribe(l), 0);
		assert_int_equal(mmio_irq_fd(l), -1);
		/* Grab the lowest free numbers at once, as any other thread of the process might.
		 */
		int pipes[2][2];
		assert_int_equal(pipe(pipes[0]), 0);
		assert_int_equal(pipe(pipes[1]), 0);
		assert_int_equal(pthread_join(t, NULL), 0);
		assert_int_equal(w.rc, -ENOENT);
		for (int i = 0; i < 2; i++) {
			close(pipes[i][0]);
			close(pipes[i][1]);
		}
		/* Nothing waits now: a new wait is told there is no subscription. */
		uint32_t n;
		assert_int_equal(mmio_irq_wait(l, 0, &n), -EINVAL);
	}
	/* The subscription still works after all that: an interrupt reaches a waiter. */
	assert_int_equal(mmio_irq_subscribe(l), 0);
	struct waiter w = {.lease = l};
	pthread_t t;
	start_waiter(&t, &w);
	raise_irq(env, 50);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(w.rc, 0);
	assert_int_equal(w.count, 1);
	assert_int_equal(mmio_irq_ack(l), 0);
	expect_ack(env);
	assert_int_equal(mmio_irq_unsubscribe(l), 0);
	mmio_disconnect(c);
	assert_int_equal(daemon_fixture_stop(&env->daemon), 0);
}

static void
test_irq_mmioctl_wait_irq(void **state)
{
	struct env *env = *state;
	signal(SIGPIPE, SIG_IGN);
	/* Raised before mmioctl subscribes: it waits in the device until someone reads it. */
	raise_irq(env, 7);
	const char *const argv[] = {MMIOCTL_PATH, "-s",     env->daemon.socket_path,
				    "wait-irq",   "irqdev", "--timeout",
				    "60000",      NULL};
	struct spawn_proc p;
	struct spawn_proc_result r;
	assert_int_equal(spawn_proc_start(&p, argv), 0);
	assert_int_equal(spawn_proc_finish(&p, NULL, 60000, &r), 0);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "irq 1\n");
	spawn_proc_result_finish(&r);
	expect_ack(env);

	/* Nobody raises it: a timeout is a failure with its own name. */
	const char *const quiet[] = {MMIOCTL_PATH, "-s",     env->daemon.socket_path,
				     "wait-irq",   "irqdev", "-t",
				     "50",         NULL};
	assert_int_equal(spawn_proc_start(&p, quiet), 0);
	assert_int_equal(spawn_proc_finish(&p, NULL, 60000, &r), 0);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "wait-irq irqdev: TIMEOUT"));
	spawn_proc_result_finish(&r);

	const char *const no_irq[] = {MMIOCTL_PATH, "-s",    env->daemon.socket_path,
				      "wait-irq",   "plain", NULL};
	assert_int_equal(spawn_proc_start(&p, no_irq), 0);
	assert_int_equal(spawn_proc_finish(&p, NULL, 60000, &r), 0);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "INVALID_ARGUMENT: region plain has no interrupt"));
	spawn_proc_result_finish(&r);
	assert_int_equal(daemon_fixture_stop(&env->daemon), 0);
}

/* The same UIO region faulting (its map file cut short): IO_ERROR, and regions says FAULTED. */
static void
test_uio_region_fault_shows_in_mmioctl(void **state)
{
	struct env *env = *state;
	char path[128];
	snprintf(path, sizeof(path), "%s/dev/uio0", env->root);
	assert_int_equal(truncate(path, 0), 0);
	const char *const read_argv[] = {
		MMIOCTL_PATH, "-s", env->daemon.socket_path, "read", "irqdev", "0x8", NULL};
	struct spawn_proc p;
	struct spawn_proc_result r;
	assert_int_equal(spawn_proc_start(&p, read_argv), 0);
	assert_int_equal(spawn_proc_finish(&p, NULL, 60000, &r), 0);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "read irqdev 0x8: IO_ERROR"));
	spawn_proc_result_finish(&r);

	const char *const regions_argv[] = {MMIOCTL_PATH, "-s", env->daemon.socket_path, "regions",
					    NULL};
	assert_int_equal(spawn_proc_start(&p, regions_argv), 0);
	assert_int_equal(spawn_proc_finish(&p, NULL, 60000, &r), 0);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "rw  FAULTED (1 device faults)\n"));
	/* Only the faulting region is marked. */
	assert_null(strstr(strstr(r.out, "plain"), "FAULTED"));
	spawn_proc_result_finish(&r);
	assert_int_equal(daemon_fixture_stop(&env->daemon), 0);
}

static struct env *
env_or_skip(void **state)
{
	if (geteuid() != 0) {
		skip();
	}
	return *state;
}

/* A child of another uid that holds its connection while the parent goes on. */
struct holder {
	struct env *env;
	int ready[2]; /* child -> parent: its first part is done */
	int go[2];    /* parent -> child: go on */
	pid_t pid;
};

/* Runs fn(h) as uid in a child of its own; the parent waits with holder_wait_ready. */
static void
holder_start(struct holder *h, struct env *env, uid_t uid, int (*fn)(void *))
{
	h->env = env;
	assert_int_equal(pipe(h->ready), 0);
	assert_int_equal(pipe(h->go), 0);
	h->pid = fork();
	assert_true(h->pid >= 0);
	if (h->pid == 0) {
		/* Only the parent may hold go's write end: its exit must end our wait. */
		close(h->ready[0]);
		close(h->go[1]);
		_exit(run_as(uid, uid, NULL, 0, fn, h));
	}
	env->holder = h->pid;
	close(h->ready[1]);
	close(h->go[0]);
}

/* In the child: tell the parent, then wait until it says go. 0 or -1. */
static int
holder_pause(const struct holder *h)
{
	char c;
	return write(h->ready[1], "y", 1) == 1 && read(h->go[0], &c, 1) == 1 ? 0 : -1;
}

static void
holder_wait_ready(const struct holder *h)
{
	char c;
	assert_int_equal(read(h->ready[0], &c, 1), 1);
}

/* Lets the child finish; asserts it exited 0. */
static void
holder_finish(struct holder *h)
{
	assert_int_equal(write(h->go[1], "g", 1), 1);
	int status;
	close(h->go[1]);
	close(h->ready[0]);
	assert_int_equal(waitpid(h->pid, &status, 0), h->pid);
	h->env->holder = 0;
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* In a child: one interrupt through l arrives, and its acknowledgement reaches the device. */
static int
child_round_trip(const struct env *env, struct mmio_lease *l, uint32_t total)
{
	uint32_t n = 0;
	int32_t ack = 0;
	CHILD_CHECK(write(env->master, &total, sizeof(total)) == sizeof(total));
	CHILD_CHECK(mmio_irq_wait(l, 60000, &n) == 0 && n >= 1);
	CHILD_CHECK(mmio_irq_ack(l) == 0);
	CHILD_CHECK(read(env->master, &ack, sizeof(ack)) == sizeof(ack) && ack == 1);
	return 0;
}

/* The attacker: a read-only grant of 4 bytes, an empty lease and a full one under it. */
static int
attacker_checks(void *arg)
{
	const struct holder *h = arg;
	struct mmio_client *c;
	struct mmio_lease *empty, *small;
	CHILD_CHECK(mmio_connect(h->env->daemon.socket_path, &c) == 0);
	CHILD_CHECK(mmio_acquire(c, "irqdev", 0x10, 0, &empty) == 0);
	CHILD_CHECK(mmio_acquire(c, "irqdev", 0x10, 4, &small) == 0);
	CHILD_CHECK(mmio_lease_access(small) == MMIO_ACCESS_RO);
	int rc_empty = mmio_irq_subscribe(empty);
	char detail[256];
	snprintf(detail, sizeof(detail), "%s", mmio_error_detail(c));
	int rc_small = mmio_irq_subscribe(small);
	int rc_ack = mmio_irq_ack(small);
	/* Checked only after the owner's turn: had we got the interrupt, it would be held. */
	CHILD_CHECK(holder_pause(h) == 0);
	if (rc_empty != -EACCES) {
		fprintf(stderr, "attacker: IrqSubscribe through an ro lease: %d (%s)\n", rc_empty,
			detail);
	}
	CHILD_CHECK(rc_empty == -EACCES);
	CHILD_CHECK(strstr(detail, "subscribing to the interrupt of irqdev needs a read-write "
				   "lease") != NULL);
	CHILD_CHECK(rc_small == -EACCES);
	CHILD_CHECK(rc_ack == -EINVAL); /* no subscription: nothing written to the device */
	mmio_disconnect(c);
	return 0;
}

/* The owner: read-write on the whole region (a lease of it clear of the attacker's). */
static int
owner_checks(void *arg)
{
	const struct env *env = arg;
	struct mmio_client *c;
	struct mmio_lease *l;
	CHILD_CHECK(mmio_connect(env->daemon.socket_path, &c) == 0);
	CHILD_CHECK(mmio_acquire(c, "irqdev", 0x400, 0x400, &l) == 0);
	CHILD_CHECK(mmio_lease_access(l) == MMIO_ACCESS_RW);
	int rc = mmio_irq_subscribe(l);
	if (rc != 0) {
		fprintf(stderr, "owner: IrqSubscribe: %d (%s)\n", rc, mmio_error_detail(c));
	}
	CHILD_CHECK(rc == 0);
	CHILD_CHECK(child_round_trip(env, l, 100) == 0);
	mmio_disconnect(c);
	return 0;
}

/* A partial read-write grant without irq: the lease is rw, the interrupt still not its. */
static int
partial_checks(void *arg)
{
	const struct env *env = arg;
	struct mmio_client *c;
	struct mmio_lease *l;
	CHILD_CHECK(mmio_connect(env->daemon.socket_path, &c) == 0);
	CHILD_CHECK(mmio_acquire(c, "irqdev", 0x200, 0x40, &l) == 0);
	CHILD_CHECK(mmio_lease_access(l) == MMIO_ACCESS_RW);
	CHILD_CHECK(mmio_irq_subscribe(l) == -EACCES);
	CHILD_CHECK(strstr(mmio_error_detail(c),
			   "subscribing to the interrupt of irqdev needs a read-write grant of the "
			   "whole region or one with irq = true") != NULL);
	mmio_disconnect(c);
	return 0;
}

/*
 * Regression: any lease on the region could subscribe to its interrupt (and
 * have mmiod write to the device on each IrqAck). An empty lease under a
 * 4-byte ro grant took it, and the rw holder of the whole region got BUSY.
 */
static void
test_irq_ro_grant_cannot_take_interrupt(void **state)
{
	struct env *env = env_or_skip(state);
	struct holder attacker;
	holder_start(&attacker, env, ATTACKER_UID, attacker_checks);
	holder_wait_ready(&attacker);
	/* The attacker is still connected, lease in hand: the interrupt is the owner's. */
	assert_int_equal(run_as(OWNER_UID, OWNER_UID, NULL, 0, owner_checks, env), 0);
	holder_finish(&attacker);
	assert_int_equal(run_as(PARTIAL_UID, PARTIAL_UID, NULL, 0, partial_checks, env), 0);
	/* Three refusals, logged as denials. */
	assert_int_equal(daemon_fixture_log_count(&env->daemon, "denied the interrupt of irqdev"),
			 3);
	assert_int_equal(daemon_fixture_stop(&env->daemon), 0);
}

/* irq = true on a partial rw grant: an empty lease inside it may subscribe; an ro lease not. */
static int
irq_grant_checks(void *arg)
{
	const struct holder *h = arg;
	struct mmio_client *c;
	struct mmio_lease *l, *ro;
	CHILD_CHECK(mmio_connect(h->env->daemon.socket_path, &c) == 0);
	CHILD_CHECK(mmio_acquire(c, "irqdev", 0x120, 0, &l) == 0);
	CHILD_CHECK(mmio_acquire(c, "irqdev", 0x800, 4, &ro) == 0);
	CHILD_CHECK(mmio_lease_access(ro) == MMIO_ACCESS_RO);
	CHILD_CHECK(mmio_irq_subscribe(ro) == -EACCES);
	CHILD_CHECK(strstr(mmio_error_detail(c), "is read-only") != NULL);
	CHILD_CHECK(mmio_irq_subscribe(l) == 0);
	CHILD_CHECK(child_round_trip(h->env, l, 7) == 0);
	/* Refused before BUSY: the ro lease learns nothing of the subscription. */
	CHILD_CHECK(mmio_irq_subscribe(ro) == -EACCES);
	CHILD_CHECK(holder_pause(h) == 0);
	/* The reload dropped irq from our grant: the pipe reads EOF, and no new subscription. */
	uint32_t n;
	CHILD_CHECK(mmio_irq_wait(l, 10000, &n) == -ENOENT);
	struct mmio_lease *again;
	CHILD_CHECK(mmio_acquire(c, "irqdev", 0x100, 0x40, &again) == 0);
	CHILD_CHECK(mmio_lease_access(again) == MMIO_ACCESS_RW);
	CHILD_CHECK(mmio_irq_subscribe(again) == -EACCES);
	CHILD_CHECK(mmio_irq_ack(l) == -EINVAL);
	mmio_disconnect(c);
	return 0;
}

static void
test_irq_grant_with_irq_and_reload(void **state)
{
	struct env *env = env_or_skip(state);
	struct holder h;
	holder_start(&h, env, IRQ_UID, irq_grant_checks);
	holder_wait_ready(&h);
	assert_int_equal(write_grants_conf(env, false), 0);
	assert_int_equal(kill(env->daemon.pid, SIGHUP), 0);
	assert_int_equal(daemon_fixture_wait_notify(&env->daemon, "RELOADING=1"), 0);
	assert_int_equal(daemon_fixture_wait_notify(&env->daemon, "READY=1"), 0);
	holder_finish(&h);
	assert_int_equal(
		daemon_fixture_log_count(&env->daemon, "unsubscribed from the interrupt of irqdev"),
		1);
	/* The owner of the whole region keeps its subscription across a reload. */
	assert_int_equal(run_as(OWNER_UID, OWNER_UID, NULL, 0, owner_checks, env), 0);
	assert_int_equal(daemon_fixture_stop(&env->daemon), 0);
}

/* A reload narrowing the owner to read-only ends its subscription with its write access. */
static int
owner_narrowed_checks(void *arg)
{
	const struct holder *h = arg;
	struct mmio_client *c;
	struct mmio_lease *l;
	CHILD_CHECK(mmio_connect(h->env->daemon.socket_path, &c) == 0);
	CHILD_CHECK(mmio_acquire(c, "irqdev", 0, 0x1000, &l) == 0);
	CHILD_CHECK(mmio_irq_subscribe(l) == 0);
	CHILD_CHECK(holder_pause(h) == 0);
	uint32_t n;
	CHILD_CHECK(mmio_lease_access(l) == MMIO_ACCESS_RW); /* the client's view is stale */
	CHILD_CHECK(mmio_irq_wait(l, 10000, &n) == -ENOENT);
	CHILD_CHECK(mmio_store32(l, 0, 1) == -EACCES);
	mmio_disconnect(c);
	return 0;
}

static void
test_irq_reload_to_ro_ends_subscription(void **state)
{
	struct env *env = env_or_skip(state);
	struct holder h;
	holder_start(&h, env, OWNER_UID, owner_narrowed_checks);
	holder_wait_ready(&h);
	FILE *f = fopen(env->conf_path, "w");
	assert_non_null(f);
	fprintf(f,
		"socket = { mode = \"0666\"; };\n"
		"regions = (\n"
		"  { name = \"irqdev\"; type = \"uio\"; uio_name = \"fakeuio\"; map = 0; "
		"size = 0x1000;\n"
		"    sysfs = \"%s/sys\"; dev = \"%s/dev\"; irq = true; irq_dev = \"%s\";\n"
		"    grants = ( { user = 4702; access = \"ro\"; } ); }\n"
		");\n",
		env->root, env->root, ptsname(env->master));
	assert_int_equal(fclose(f), 0);
	assert_int_equal(kill(env->daemon.pid, SIGHUP), 0);
	assert_int_equal(daemon_fixture_wait_notify(&env->daemon, "RELOADING=1"), 0);
	assert_int_equal(daemon_fixture_wait_notify(&env->daemon, "READY=1"), 0);
	holder_finish(&h);
	assert_int_equal(
		daemon_fixture_log_count(&env->daemon, "unsubscribed from the interrupt of irqdev"),
		1);
	assert_int_equal(daemon_fixture_stop(&env->daemon), 0);
}

/* irq = true on a read-only grant is a config error: --check-config names the line. */
static void
test_irq_ro_grant_with_irq_refused(void **state)
{
	struct env *env = env_or_skip(state);
	FILE *f = fopen(env->conf_path, "w");
	assert_non_null(f);
	fputs("regions = (\n"
	      "  { name = \"r\"; type = \"mem\"; size = 0x1000;\n"
	      "    grants = ( { user = 4701; access = \"ro\";\n"
	      "                 irq = true; } ); }\n"
	      ");\n",
	      f);
	assert_int_equal(fclose(f), 0);
	const char *const check[] = {"--check-config", env->conf_path, NULL};
	assert_int_equal(
		daemon_fixture_run_logged(env->daemon.socket_path, check, env->daemon.log_path), 2);
	assert_int_equal(daemon_fixture_log_count(&env->daemon,
						  "mmiod.conf:4: irq = true needs access = \"rw\""),
			 1);
	/* The running daemon refuses it on reload too, and keeps its policy. */
	assert_int_equal(kill(env->daemon.pid, SIGHUP), 0);
	assert_int_equal(daemon_fixture_wait_notify(&env->daemon, "RELOADING=1"), 0);
	assert_int_equal(daemon_fixture_wait_notify(&env->daemon, "READY=1"), 0);
	assert_int_equal(daemon_fixture_log_count(&env->daemon, "keeping the current policy"), 1);
	assert_int_equal(run_as(OWNER_UID, OWNER_UID, NULL, 0, owner_checks, env), 0);
	assert_int_equal(daemon_fixture_stop(&env->daemon), 0);
}

/* mmioctl wait-irq run as another uid: how it should end. */
struct wait_irq_case {
	const struct env *env;
	int status;
	const char *out; /* all of stdout, or NULL */
	const char *err; /* a part of stderr, or NULL */
};

static int
wait_irq_as(void *arg)
{
	const struct wait_irq_case *w = arg;
	const char *const argv[] = {MMIOCTL_PATH, "-s",     w->env->daemon.socket_path,
				    "wait-irq",   "irqdev", "-t",
				    "60000",      NULL};
	struct spawn_proc p;
	struct spawn_proc_result r;
	CHILD_CHECK(spawn_proc_start(&p, argv) == 0);
	CHILD_CHECK(spawn_proc_finish(&p, NULL, 60000, &r) == 0);
	bool ok = r.status == w->status && (!w->out || strcmp(r.out, w->out) == 0) &&
		  (!w->err || strstr(r.err, w->err));
	if (!ok) {
		fprintf(stderr, "uid %u: mmioctl wait-irq: exit %d, stdout \"%s\", stderr \"%s\"\n",
			(unsigned)getuid(), r.status, r.out, r.err);
	}
	spawn_proc_result_finish(&r);
	CHILD_CHECK(ok);
	return 0;
}

/*
 * Regression: wait-irq leased at offset 0, which IRQ_UID's grants do not
 * cover (PERMISSION_DENIED at the acquire). It takes its empty lease inside a
 * read-write grant of the caller's; a caller who may not own the interrupt
 * hears why from the subscription.
 */
static void
test_irq_mmioctl_wait_irq_in_rw_grant(void **state)
{
	struct env *env = env_or_skip(state);
	signal(SIGPIPE, SIG_IGN);
	/* Raised before mmioctl subscribes: it waits in the device until someone reads it. */
	raise_irq(env, 9);
	struct wait_irq_case irq = {env, 0, "irq 1\n", NULL};
	assert_int_equal(run_as(IRQ_UID, IRQ_UID, NULL, 0, wait_irq_as, &irq), 0);
	expect_ack(env);
	/* Only a read-only grant: its lease is read-only. */
	struct wait_irq_case ro = {
		env, 1, "",
		"wait-irq irqdev: PERMISSION_DENIED: subscribing to the interrupt "
		"of irqdev needs a read-write lease"};
	assert_int_equal(run_as(ATTACKER_UID, ATTACKER_UID, NULL, 0, wait_irq_as, &ro), 0);
	/* A read-write lease, but a partial grant without irq = true. */
	struct wait_irq_case partial = {env, 1, "",
					"wait-irq irqdev: PERMISSION_DENIED: subscribing to the "
					"interrupt of irqdev needs a read-write grant of the whole "
					"region or one with irq = true"};
	assert_int_equal(run_as(PARTIAL_UID, PARTIAL_UID, NULL, 0, wait_irq_as, &partial), 0);
	assert_int_equal(daemon_fixture_log_count(&env->daemon, "denied the interrupt of irqdev"),
			 2);
	assert_int_equal(daemon_fixture_stop(&env->daemon), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_irq_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_irq_unsubscribe_during_wait, setup, teardown),
		cmocka_unit_test_setup_teardown(test_irq_mmioctl_wait_irq, setup, teardown),
		cmocka_unit_test_setup_teardown(test_uio_region_fault_shows_in_mmioctl, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_irq_ro_grant_cannot_take_interrupt,
						setup_grants, teardown),
		cmocka_unit_test_setup_teardown(test_irq_grant_with_irq_and_reload, setup_grants,
						teardown),
		cmocka_unit_test_setup_teardown(test_irq_reload_to_ro_ends_subscription,
						setup_grants, teardown),
		cmocka_unit_test_setup_teardown(test_irq_ro_grant_with_irq_refused, setup_grants,
						teardown),
		cmocka_unit_test_setup_teardown(test_irq_mmioctl_wait_irq_in_rw_grant, setup_grants,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
