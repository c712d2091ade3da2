/*
 * Device faults: an access the device answers with SIGBUS fails with -EIO and
 * the process lives on; a SIGBUS from anywhere else still kills it. A file
 * truncated under its mapping stands in for the faulting device.
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
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/lease.h"
#include "device/backend.h"
#include "device/fault.h"
#include "device/region.h"
#include "request/access.h"
#include "request/session.h"

#define FILE_SIZE 8192
#define FAULTS    1000

struct fixture {
	char path[64];
	int fd;
	struct region *file;
	struct region *mem;
	struct lease_set set;
	struct lease *file_lease;
	struct lease *mem_lease;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[256];
	struct backend *fb, *mb;
	snprintf(f->path, sizeof(f->path), "/tmp/mmiod-fault-XXXXXX");
	f->fd = mkstemp(f->path);
	if (f->fd < 0 || ftruncate(f->fd, FILE_SIZE) < 0 ||
	    backend_open(&(struct region_spec){.type = "file", .path = f->path, .size = FILE_SIZE},
			 &fb, err, sizeof(err)) < 0 ||
	    backend_open(&(struct region_spec){.type = "mem", .size = 64}, &mb, err, sizeof(err)) <
		    0) {
		return -1;
	}
	f->file = region_create("dev", fb);
	f->mem = region_create("sim", mb);
	lease_set_init(&f->set, 8, getpid(), getuid());
	if (!f->file || !f->mem ||
	    lease_acquire(&f->file->space, &f->set, 0, FILE_SIZE, &f->file_lease) < 0 ||
	    lease_acquire(&f->mem->space, &f->set, 0, 64, &f->mem_lease) < 0) {
		return -1;
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	lease_revoke_all(&f->set);
	region_destroy(f->file);
	region_destroy(f->mem);
	close(f->fd);
	unlink(f->path);
	free(f);
	return 0;
}

/* cmocka installs its own SIGBUS handler around each test: install ours after it. */
static struct fixture *
armed(void **state)
{
	assert_int_equal(fault_init(), 0);
	return *state;
}

static void
test_fault_truncated_file_is_io_error(void **state)
{
	struct fixture *f = armed(state);
	uint64_t v = 0;
	sigset_t before, after;
	assert_int_equal(sigprocmask(SIG_BLOCK, NULL, &before), 0);
	assert_int_equal(region_store(f->file_lease, 4096, 4, 0x1234), 0);
	assert_int_equal(ftruncate(f->fd, 0), 0);
	for (unsigned i = 0; i < FAULTS; i++) {
		v = 0xdead;
		/* Every width, loads and stores, and the value is left alone. */
		unsigned width = 1u << (i % 4);
		assert_int_equal(region_load(f->file_lease, 4096 + (i % 64) * 8, width, &v), -EIO);
		assert_int_equal(v, 0xdead);
		/* Other regions keep working between faults. */
		assert_int_equal(region_store(f->mem_lease, 0, 8, i), 0);
		assert_int_equal(region_load(f->mem_lease, 0, 8, &v), 0);
		assert_int_equal(v, i);
	}
	assert_int_equal(region_store(f->file_lease, 0, 8, 1), -EIO);
	assert_int_equal(f->file->faults, FAULTS + 1);
	assert_int_equal(f->mem->faults, 0);
	/* Jumping out of the handler left the signal mask as it was (under TSan too). */
	assert_int_equal(sigprocmask(SIG_BLOCK, NULL, &after), 0);
	for (int sig = 1; sig < NSIG; sig++) {
		assert_int_equal(sigismember(&after, sig), sigismember(&before, sig));
	}
	/* The device comes back: so do the accesses, with the guard disarmed between them. */
	assert_int_equal(ftruncate(f->fd, FILE_SIZE), 0);
	assert_int_equal(region_load(f->file_lease, 4096, 4, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(region_store(f->file_lease, 4096, 4, 7), 0);
	assert_null(fault_jump);
}

static void
test_fault_modify_stops_after_faulting_load(void **state)
{
	struct fixture *f = armed(state);
	assert_int_equal(ftruncate(f->fd, 0), 0);
	struct session s = {.conn_id = 1};
	uint64_t old = 0;
	assert_int_equal(access_modify(&s, f->file_lease, 0, 4, 0xff, 1, &old), -EIO);
	assert_int_equal(f->file->faults, 1);
}

/* Runs fn in a child; returns the signal that ended it, or 0 if it exited. */
static int
child_signal(void (*fn)(struct fixture *), struct fixture *f)
{
	pid_t pid = fork();
	if (pid == 0) {
		/* Crash quietly: no core file from the tests. */
		struct rlimit no_core = {0, 0};
		setrlimit(RLIMIT_CORE, &no_core);
		fn(f);
		_exit(0);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

static void
raise_sigbus(struct fixture *f)
{
	(void)f;
	raise(SIGBUS);
}

static void
unguarded_access(struct fixture *f)
{
	if (ftruncate(f->fd, 0) < 0) {
		_exit(2);
	}
	volatile uint8_t *p = f->file->backend->base;
	(void)p[4096];
}

static void
test_fault_unguarded_sigbus_still_kills(void **state)
{
	struct fixture *f = armed(state);
	assert_int_equal(child_signal(raise_sigbus, f), SIGBUS);
	assert_int_equal(child_signal(unguarded_access, f), SIGBUS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fault_truncated_file_is_io_error, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_fault_modify_stops_after_faulting_load, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_fault_unguarded_sigbus_still_kills, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
