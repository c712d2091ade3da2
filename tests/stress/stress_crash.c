/*
 * Target 6, daemon crash: `kill -SEGV` mmiod with 100 clients attached. Every
 * client sees an error promptly (none hangs), and libmmio-client reports it
 * as the distinct -ECONNRESET ("DISCONNECTED"), then keeps reporting it.
 *
 * The 100 clients, one thread each:
 *   40 pollers: blocked in mmio_poll() on a condition that never holds; mmiod
 *      has read each poll request (its debug log says so) before the kill;
 *   20 busy: store/load round trips in a loop, each past its first one;
 *   40 idle: connected with a lease, making their next call after the kill.
 * Pollers and busy clients are timed from kill() to their call's error, idle
 * ones from their call to its error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon_fixture.h"
#include "mmio/client.h"
#include "stress_util.h"

#define N_POLLERS 40
#define N_BUSY    20
#define N_IDLE    40
#define N_CLIENTS (N_POLLERS + N_BUSY + N_IDLE)
/* A client still without its error this long after the kill is hung. */
#define HANG_BOUND_MS 10000
/* Promptly: asserted in the plain build (printed in all). */
#define PROMPT_TARGET_NS 100000000u

enum role { POLLER, BUSY, IDLE };
static const char *const role_names[] = {"poller", "busy", "idle"};

struct client {
	const char *socket_path;
	enum role role;
	unsigned index;
	int ready_fd; /* one byte when set up ('n' on failure), one more for busy once looping */
	int done_fd;  /* one byte when the error came */
	int go_fd;    /* idle clients read EOF here after the kill */
	int setup_rc;
	int error; /* what the call in progress at (or after) the kill returned */
	int again; /* the next call on the same client */
	uint64_t t_call, t_error;
};

static void
say(int fd, char c)
{
	if (write(fd, &c, 1) != 1) {
		abort();
	}
}

static void *
client_main(void *arg)
{
	struct client *cl = arg;
	struct mmio_client *c;
	struct mmio_lease *l = NULL;
	int rc = mmio_connect(cl->socket_path, &c);
	if (rc == 0) {
		rc = mmio_acquire(c, "sim0", 8 * (uint64_t)cl->index, 8, &l);
		if (rc < 0) {
			mmio_disconnect(c);
		}
	}
	cl->setup_rc = rc;
	say(cl->ready_fd, rc == 0 ? 'y' : 'n');
	if (rc < 0) {
		say(cl->done_fd, 'x');
		return NULL;
	}
	uint32_t v;
	switch (cl->role) {
	case POLLER:
		cl->t_call = stress_now_ns();
		/* The word is 0: (v & 1) == 1 never holds; mmiod looks every 100 ms for a minute.
		 */
		rc = mmio_poll(l, 0, 4, 1, 1, 60000, 100000, NULL);
		break;
	case BUSY:
		for (uint32_t i = 0;; i++) {
			cl->t_call = stress_now_ns();
			rc = mmio_store32(l, 0, i);
			if (rc == 0) {
				rc = mmio_load32(l, 0, &v);
			}
			if (rc < 0) {
				break;
			}
			if (i == 0) {
				say(cl->ready_fd, 'y');
			}
		}
		break;
	case IDLE: {
		char b;
		/* EOF once the daemon is dead. */
		if (read(cl->go_fd, &b, 1) != 0) {
			abort();
		}
		cl->t_call = stress_now_ns();
		rc = mmio_load32(l, 0, &v);
		break;
	}
	}
	cl->t_error = stress_now_ns();
	cl->error = rc;
	cl->again = mmio_store32(l, 0, 1);
	mmio_disconnect(c);
	say(cl->done_fd, 'd');
	return NULL;
}

/* Reads n bytes from fd, giving up after HANG_BOUND_MS without one; how many came. */
static unsigned
read_bytes(int fd, unsigned n, char *out)
{
	unsigned got = 0;
	while (got < n) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		if (poll(&pfd, 1, HANG_BOUND_MS) != 1) {
			break;
		}
		ssize_t r = read(fd, out + got, n - got);
		if (r <= 0) {
			break;
		}
		got += (unsigned)r;
	}
	return got;
}

static int
setup(void **state)
{
	/* A SIGSEGV'd mmiod leaves no core file behind in the build tree. */
	struct rlimit no_core = {0, 0};
	setrlimit(RLIMIT_CORE, &no_core);
	static const char *const args[] = {"--region", "sim0,type=mem,size=0x1000", "--log-level",
					   "debug", NULL};
	struct daemon_fixture *f = calloc(1, sizeof(*f));
	if (daemon_fixture_start_args(f, args) < 0) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct daemon_fixture *f = *state;
	if (f->pid > 0) {
		kill(f->pid, SIGKILL);
		waitpid(f->pid, NULL, 0);
	}
	daemon_fixture_cleanup(f);
	free(f);
	return 0;
}

static void
test_crash_sigsegv_with_100_clients(void **state)
{
	struct daemon_fixture *f = *state;
	int ready[2], done[2], go[2];
	assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
	assert_int_equal(pipe2(done, O_CLOEXEC), 0);
	assert_int_equal(pipe2(go, O_CLOEXEC), 0);
	static struct client clients[N_CLIENTS];
	pthread_t threads[N_CLIENTS];
	for (unsigned i = 0; i < N_CLIENTS; i++) {
		clients[i] = (struct client){
			.socket_path = f->socket_path,
			.role = i < N_POLLERS            ? POLLER
				: i < N_POLLERS + N_BUSY ? BUSY
							 : IDLE,
			.index = i,
			.ready_fd = ready[1],
			.done_fd = done[1],
			.go_fd = go[0],
		};
		assert_int_equal(pthread_create(&threads[i], NULL, client_main, &clients[i]), 0);
	}
	/* Set up (100 bytes), then each busy client past its first round trip (20 more). */
	char buf[N_CLIENTS + N_BUSY];
	assert_int_equal(read_bytes(ready[0], N_CLIENTS + N_BUSY, buf), N_CLIENTS + N_BUSY);
	assert_null(memchr(buf, 'n', sizeof(buf)));
	/* Poll is request kind 17: mmiod has read every poller's request and is polling. */
	assert_int_equal(daemon_fixture_wait_log(f, "kind 17", N_POLLERS, 60000), N_POLLERS);

	uint64_t t_kill = stress_now_ns();
	assert_int_equal(kill(f->pid, SIGSEGV), 0);
	int status;
	assert_int_equal(waitpid(f->pid, &status, 0), f->pid);
	f->pid = -1;
	close(go[1]);
	char done_buf[N_CLIENTS];
	unsigned finished = read_bytes(done[0], N_CLIENTS, done_buf);

	unsigned connreset = 0, again_connreset = 0;
	uint64_t lat[N_CLIENTS], max_by_role[3] = {0};
	unsigned n_lat = 0;
	/* Only when all finished: the fields of a client still inside a call are its own. */
	if (finished == N_CLIENTS) {
		for (unsigned i = 0; i < N_CLIENTS; i++) {
			struct client *cl = &clients[i];
			pthread_join(threads[i], NULL);
			connreset += cl->error == -ECONNRESET;
			again_connreset += cl->again == -ECONNRESET;
			uint64_t from = cl->role == IDLE ? cl->t_call : t_kill;
			uint64_t dt = cl->t_error > from ? cl->t_error - from : 0;
			lat[n_lat++] = dt;
			if (dt > max_by_role[cl->role]) {
				max_by_role[cl->role] = dt;
			}
			if (cl->error != -ECONNRESET || cl->again != -ECONNRESET) {
				fprintf(stderr, "client %u (%s): %d then %d\n", i,
					role_names[cl->role], cl->error, cl->again);
			}
		}
	}
	uint64_t p99 = stress_percentile(lat, n_lat, 99);
	uint64_t max = n_lat ? lat[n_lat - 1] : 0;
	bool died = WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) != 0);
	bool pass = died && finished == N_CLIENTS && connreset == N_CLIENTS &&
		    again_connreset == N_CLIENTS &&
		    (!stress_assert_timing() || max <= PROMPT_TARGET_NS);
	char how[64];
	if (WIFSIGNALED(status)) {
		snprintf(how, sizeof(how), "killed by signal %d", WTERMSIG(status));
	} else {
		/* ASan's SEGV handler reports and exits 1. */
		snprintf(how, sizeof(how), "exited %d", WEXITSTATUS(status));
	}
	stress_report("crash: mmiod %s with %d clients attached (%d in a poll, %d busy, %d idle); "
		      "%u of %d saw an error, %u as -ECONNRESET (%s), %u again on the next call; "
		      "error after p99 %.3f ms, max %.3f ms (poller %.3f, busy %.3f, idle %.3f; "
		      "target 100 ms%s, hang bound %d ms), %s build: %s",
		      how, N_CLIENTS, N_POLLERS, N_BUSY, N_IDLE, finished, N_CLIENTS, connreset,
		      mmio_status_name(-ECONNRESET), again_connreset, (double)p99 / 1e6,
		      (double)max / 1e6, (double)max_by_role[POLLER] / 1e6,
		      (double)max_by_role[BUSY] / 1e6, (double)max_by_role[IDLE] / 1e6,
		      stress_assert_timing() ? "" : ", not asserted here", HANG_BOUND_MS,
		      stress_build_name(), pass ? "PASS" : "FAIL");
	assert_true(died);
	/* A hung client would block its join forever: fail before joining. */
	assert_int_equal(finished, N_CLIENTS);
	assert_int_equal(connreset, N_CLIENTS);
	assert_int_equal(again_connreset, N_CLIENTS);
	if (stress_assert_timing()) {
		assert_true(max <= PROMPT_TARGET_NS);
	}
	close(ready[0]);
	close(ready[1]);
	close(done[0]);
	close(done[1]);
	close(go[0]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_crash_sigsegv_with_100_clients, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
