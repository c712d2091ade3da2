/* Leases outlive nothing: client death, daemon stop, many clients at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon_fixture.h"
#include "mmio/client.h"

#define N_CLIENTS      64
#define OPS_PER_CLIENT 500

static const char *const sim_regions[] = {"sim0,type=mem,size=0x1000", NULL};

static int
setup(void **state)
{
	struct daemon_fixture *f = calloc(1, sizeof(*f));
	if (daemon_fixture_start(f, sim_regions) < 0) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

/*
 * Only cleans up after a test that failed midway: cmocka 1.1 does not count a
 * failing teardown, so each test asserts its daemon's clean stop itself.
 */
static int
teardown(void **state)
{
	struct daemon_fixture *f = *state;
	if (!f) {
		return -1;
	}
	int rc = f->pid > 0 ? daemon_fixture_stop(f) : 0;
	free(f);
	return rc == 0 ? 0 : -1;
}

/*
 * A child acquires the range and reports on a pipe, then is SIGKILLed. Once
 * waitpid returns its socket is closed, so the daemon's loop already sees the
 * hangup as readable when our Hello arrives; it handles one frame per wakeup,
 * so the revocation runs before our acquire is read.
 */
static void
test_lifecycle_sigkilled_holder_frees_range(void **state)
{
	struct daemon_fixture *f = *state;
	int pipefd[2];
	assert_int_equal(pipe(pipefd), 0);
	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		struct mmio_client *c;
		struct mmio_lease *l;
		char ok = 'n';
		if (mmio_connect(f->socket_path, &c) == 0 &&
		    mmio_acquire(c, "sim0", 0x100, 0x100, &l) == 0 && mmio_store32(l, 0, 7) == 0) {
			ok = 'y';
		}
		if (write(pipefd[1], &ok, 1) != 1) {
			_exit(1);
		}
		for (;;) {
			pause();
		}
	}
	close(pipefd[1]);
	char ok = 0;
	assert_int_equal(read(pipefd[0], &ok, 1), 1);
	close(pipefd[0]);
	assert_int_equal(ok, 'y');

	struct mmio_client *c;
	struct mmio_lease *l;
	assert_int_equal(mmio_connect(f->socket_path, &c), 0);
	assert_int_equal(mmio_acquire(c, "sim0", 0x180, 4, &l), -EBUSY);

	int status;
	assert_int_equal(kill(child, SIGKILL), 0);
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFSIGNALED(status));

	struct mmio_client *c2;
	assert_int_equal(mmio_connect(f->socket_path, &c2), 0);
	assert_int_equal(mmio_acquire(c2, "sim0", 0x100, 0x100, &l), 0);
	uint32_t v;
	assert_int_equal(mmio_load32(l, 0, &v), 0);
	assert_int_equal(v, 7);
	/* The revocation was logged before our acquire could succeed. */
	char line[64];
	snprintf(line, sizeof(line), "(pid %d uid %u): disconnected, 1 lease revoked", (int)child,
		 (unsigned)getuid());
	assert_int_equal(daemon_fixture_log_count(f, line), 1);
	mmio_disconnect(c2);
	mmio_disconnect(c);
	assert_int_equal(daemon_fixture_stop(f), 0);
}

struct worker {
	const char *socket_path;
	unsigned index;
	pthread_barrier_t *start;
	int failures;
};

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct mmio_client *c;
	struct mmio_lease *l, *stolen;
	if (mmio_connect(w->socket_path, &c) < 0) {
		w->failures = 1;
		pthread_barrier_wait(w->start);
		return NULL;
	}
	uint64_t base = (uint64_t)w->index * 16;
	if (mmio_acquire(c, "sim0", base, 16, &l) < 0) {
		w->failures++;
	}
	pthread_barrier_wait(w->start);
	if (w->failures) {
		mmio_disconnect(c);
		return NULL;
	}
	/* A neighbour's range is never ours to take. */
	uint64_t neighbour = ((w->index + 1) % N_CLIENTS) * 16;
	if (mmio_acquire(c, "sim0", neighbour + 8, 4, &stolen) != -EBUSY) {
		w->failures++;
	}
	for (unsigned i = 0; i < OPS_PER_CLIENT; i++) {
		uint64_t value = ((uint64_t)w->index << 32) | i;
		uint64_t got = 0;
		if (mmio_store64(l, 8 * (i % 2), value) < 0 ||
		    mmio_load64(l, 8 * (i % 2), &got) < 0 || got != value) {
			w->failures++;
		}
	}
	mmio_disconnect(c);
	return NULL;
}

static void
test_lifecycle_64_clients_on_disjoint_leases(void **state)
{
	struct daemon_fixture *f = *state;
	pthread_t threads[N_CLIENTS];
	struct worker workers[N_CLIENTS];
	pthread_barrier_t start;
	pthread_barrier_init(&start, NULL, N_CLIENTS);
	for (unsigned i = 0; i < N_CLIENTS; i++) {
		workers[i] =
			(struct worker){.socket_path = f->socket_path, .index = i, .start = &start};
		assert_int_equal(pthread_create(&threads[i], NULL, worker_main, &workers[i]), 0);
	}
	int failures = 0;
	for (unsigned i = 0; i < N_CLIENTS; i++) {
		pthread_join(threads[i], NULL);
		failures += workers[i].failures;
	}
	pthread_barrier_destroy(&start);
	assert_int_equal(failures, 0);
	assert_int_equal(daemon_fixture_stop(f), 0);
}

static void
test_lifecycle_sigterm_removes_socket(void **state)
{
	struct daemon_fixture *f = *state;
	struct mmio_client *c;
	struct mmio_lease *l;
	assert_int_equal(mmio_connect(f->socket_path, &c), 0);
	assert_int_equal(mmio_acquire(c, "sim0", 0, 8, &l), 0);
	char path[sizeof(f->socket_path)];
	snprintf(path, sizeof(path), "%s", f->socket_path);
	assert_int_equal(kill(f->pid, SIGTERM), 0);
	int status;
	assert_int_equal(waitpid(f->pid, &status, 0), f->pid);
	f->pid = -1;
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	struct stat st;
	assert_int_equal(stat(path, &st), -1);
	assert_int_equal(errno, ENOENT);
	/* The library reports the daemon's death as a distinct error, and keeps reporting it. */
	uint32_t v;
	assert_int_equal(mmio_load32(l, 0, &v), -ECONNRESET);
	assert_int_equal(mmio_load32(l, 0, &v), -ECONNRESET);
	mmio_disconnect(c);
	assert_int_equal(daemon_fixture_log_count(f, "1 lease revoked"), 1);
	daemon_fixture_cleanup(f);
}

static void
test_lifecycle_refuses_live_socket(void **state)
{
	struct daemon_fixture *f = *state;
	const char *const args[] = {"--region", "x,type=mem,size=8", NULL};
	assert_int_equal(daemon_fixture_run_to_exit(f->socket_path, args), 1);
	/* The first daemon still serves. */
	struct mmio_client *c;
	assert_int_equal(mmio_connect(f->socket_path, &c), 0);
	mmio_disconnect(c);
	assert_int_equal(daemon_fixture_stop(f), 0);
}

static void
test_lifecycle_replaces_stale_socket(void **state)
{
	(void)state;
	struct daemon_fixture f = {0};
	assert_int_equal(daemon_fixture_prepare(&f), 0);
	/* A bound socket nobody listens on: what a crashed daemon leaves behind. */
	int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	memcpy(addr.sun_path, f.socket_path, strlen(f.socket_path) + 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	close(fd);
	assert_int_equal(daemon_fixture_start(&f, sim_regions), 0);
	assert_int_equal(daemon_fixture_log_count(&f, "removed stale socket"), 1);
	struct mmio_client *c;
	assert_int_equal(mmio_connect(f.socket_path, &c), 0);
	mmio_disconnect(c);
	assert_int_equal(daemon_fixture_stop(&f), 0);
}

static void
test_lifecycle_refuses_non_socket_path(void **state)
{
	(void)state;
	char path[] = "/tmp/mmiod-plain-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	const char *const args[] = {NULL};
	assert_int_equal(daemon_fixture_run_to_exit(path, args), 1);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	unlink(path);
}

static void
test_lifecycle_bad_region_is_usage_error(void **state)
{
	(void)state;
	const char *const args[] = {"--region", "sim0,type=mem", NULL};
	assert_int_equal(daemon_fixture_run_to_exit("/tmp/mmiod-never.sock", args), 2);
	const char *const missing[] = {"--region", "f,type=file,path=/nonexistent/x,size=8", NULL};
	assert_int_equal(daemon_fixture_run_to_exit("/tmp/mmiod-never.sock", missing), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lifecycle_sigkilled_holder_frees_range, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_lifecycle_64_clients_on_disjoint_leases, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_lifecycle_sigterm_removes_socket, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_lifecycle_refuses_live_socket, setup,
						teardown),
		cmocka_unit_test(test_lifecycle_replaces_stale_socket),
		cmocka_unit_test(test_lifecycle_refuses_non_socket_path),
		cmocka_unit_test(test_lifecycle_bad_region_is_usage_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
