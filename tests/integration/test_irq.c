/*
 * Interrupts end to end: a UIO region on a fake sysfs tree whose interrupt
 * source is a pseudo-terminal (the test writes UIO-style 4-byte counts into
 * the master, and reads the daemon's 4-byte "re-enable" writes back from it),
 * through libmmio-client and through mmioctl wait-irq.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "daemon_fixture.h"
#include "mmio/client.h"
#include "spawn_proc.h"

struct env {
	struct daemon_fixture daemon;
	char root[64]; /* fake sysfs and /dev */
	int master;    /* our end of the interrupt source */
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

static int
setup(void **state)
{
	struct env *env = calloc(1, sizeof(*env));
	snprintf(env->root, sizeof(env->root), "/tmp/mmiod-uio-XXXXXX");
	if (!mkdtemp(env->root) || make_uio_tree(env->root) < 0) {
		return -1;
	}
	/* Raw, so counts pass through the terminal layer byte for byte. */
	env->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	struct termios raw;
	if (env->master < 0 || grantpt(env->master) < 0 || unlockpt(env->master) < 0 ||
	    tcgetattr(env->master, &raw) < 0) {
		return -1;
	}
	cfmakeraw(&raw);
	if (tcsetattr(env->master, TCSANOW, &raw) < 0) {
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

static int
teardown(void **state)
{
	struct env *env = *state;
	if (!env) {
		return -1;
	}
	if (env->daemon.pid > 0) {
		daemon_fixture_stop(&env->daemon);
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_irq_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_irq_mmioctl_wait_irq, setup, teardown),
		cmocka_unit_test_setup_teardown(test_uio_region_fault_shows_in_mmioctl, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
