/*
 * mmiod's $NOTIFY_SOCKET: the loop never blocks on it. With its queue full
 * (systemd stalled) STATUS= updates are held back, READY=1, RELOADING=1 and
 * STOPPING=1 wait in order for it to drain, and SIGTERM still stops mmiod.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon_fixture.h"
#include "raw_client.h"

/* Failure guards only: a working mmiod answers within its one-second STATUS= interval. */
#define GUARD_MS 15000

#define FILLER    "FILLER=1"
#define N_CLIENTS 8

struct env {
	struct daemon_fixture f;
	int filler; /* the test's own sender that filled the notify queue */
	int conns[N_CLIENTS + 1];
	char conf[160];
};

static int
setup(void **state)
{
	struct env *env = calloc(1, sizeof(*env));
	if (!env) {
		return -1;
	}
	env->filler = -1;
	for (int i = 0; i <= N_CLIENTS; i++) {
		env->conns[i] = -1;
	}
	*state = env;
	return 0;
}

/* Waits at most guard_ms for pid to end; its exit status (as the fixture reports it) or -1. */
static int
wait_exit(pid_t pid, int guard_ms)
{
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0) {
		return -1;
	}
	struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
	int ready = poll(&pfd, 1, guard_ms);
	close(pidfd);
	int status;
	if (ready != 1 || waitpid(pid, &status, 0) != pid) {
		return -1;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Its exit status within the guard, once told to stop; -1 (and SIGKILL) if it did not. */
static int
reap_guarded(struct daemon_fixture *f)
{
	int rc = wait_exit(f->pid, GUARD_MS);
	if (rc < 0) {
		fprintf(stderr, "mmiod ignored SIGTERM for %d ms: killing it\n", GUARD_MS);
		kill(f->pid, SIGKILL);
		waitpid(f->pid, NULL, 0);
	}
	f->pid = -1;
	return rc;
}

/* Only one SIGTERM: once mmiod is stopping, a second one finds the default action. */
static int
stop_guarded(struct daemon_fixture *f)
{
	kill(f->pid, SIGTERM);
	return reap_guarded(f);
}

static int
teardown(void **state)
{
	struct env *env = *state;
	int rc = 0;
	if (env->f.pid > 0) {
		rc = stop_guarded(&env->f) == 0 ? 0 : -1;
	}
	if (env->f.dir[0]) {
		if (env->conf[0]) {
			unlink(env->conf);
		}
		daemon_fixture_cleanup(&env->f);
	}
	for (int i = 0; i <= N_CLIENTS; i++) {
		if (env->conns[i] >= 0) {
			close(env->conns[i]);
		}
	}
	if (env->filler >= 0) {
		close(env->filler);
	}
	free(env);
	return rc;
}

static int
connect_dgram(const char *path)
{
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Fills mmiod's notify socket as a systemd that stopped reading would: a small
 * receive buffer, then datagrams of our own until the kernel refuses more.
 */
static void
fill_notify_queue(struct env *env)
{
	int small = 1; /* the kernel rounds it up to its minimum */
	assert_int_equal(setsockopt(env->f.notify_fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)),
			 0);
	env->filler = connect_dgram(env->f.notify_path);
	assert_true(env->filler >= 0);
	int sent = 0;
	while (send(env->filler, FILLER, strlen(FILLER), MSG_NOSIGNAL) >= 0) {
		sent++;
	}
	assert_int_equal(errno, EAGAIN);
	assert_true(sent > 0);
	/* A fresh sender is refused too: the receiver is full, not the filler's own buffer. */
	int probe = connect_dgram(env->f.notify_path);
	assert_true(probe >= 0);
	assert_int_equal(send(probe, FILLER, strlen(FILLER), MSG_NOSIGNAL), -1);
	assert_int_equal(errno, EAGAIN);
	close(probe);
}

/* The next notify message in buf, waiting at most GUARD_MS; its length or -1. */
static int
next_message(struct daemon_fixture *f, char *buf, size_t cap)
{
	struct pollfd pfd = {.fd = f->notify_fd, .events = POLLIN};
	if (poll(&pfd, 1, GUARD_MS) != 1) {
		return -1;
	}
	ssize_t n = recv(f->notify_fd, buf, cap - 1, 0);
	if (n < 0) {
		return -1;
	}
	buf[n] = '\0';
	return (int)n;
}

/*
 * Reads until the state messages (all but STATUS= and our filler) were want[],
 * in order. 0, or -1 at a different one or after the guard.
 */
static int
expect_states(struct daemon_fixture *f, const char *const *want)
{
	char buf[512];
	for (int i = 0; want[i];) {
		if (next_message(f, buf, sizeof(buf)) < 0) {
			fprintf(stderr, "no notify message; waiting for %s\n", want[i]);
			return -1;
		}
		if (strcmp(buf, FILLER) == 0 || strncmp(buf, "STATUS=", 7) == 0) {
			continue;
		}
		if (strcmp(buf, want[i]) != 0) {
			fprintf(stderr, "notify: got '%s', expected '%s'\n", buf, want[i]);
			return -1;
		}
		i++;
	}
	return 0;
}

static void
start_sim(struct env *env, bool debug)
{
	const char *const args[] = {"--region", "sim0,type=mem,size=0x1000",
				    debug ? "--log-level" : NULL, "debug", NULL};
	assert_int_equal(daemon_fixture_start_args(&env->f, args), 0);
	assert_int_equal(expect_states(&env->f, (const char *const[]){"READY=1", NULL}), 0);
}

/*
 * The notify queue full and never read after READY=1; clients come, so the
 * figures change and STATUS= is due: mmiod holds it back, keeps serving, and
 * stops on SIGTERM (it used to hang in sendmsg, deaf to signals).
 */
static void
test_notify_full_queue_does_not_block(void **state)
{
	struct env *env = *state;
	start_sim(env, true);
	fill_notify_queue(env);
	for (int i = 0; i < N_CLIENTS; i++) {
		env->conns[i] = raw_connect(env->f.socket_path);
		assert_true(env->conns[i] >= 0);
	}
	/* Within the one-second interval mmiod tries the figures with every client in. */
	char status[64];
	snprintf(status, sizeof(status), "STATUS=%d clients, 0 leases, 0 faults", N_CLIENTS);
	int held = daemon_fixture_wait_log(&env->f, status, 1, GUARD_MS);
	/* Still serving: a bystander's request is answered, and its arrival changes STATUS= again.
	 */
	int visited = raw_visit(env->f.socket_path, GUARD_MS);
	int rc = stop_guarded(&env->f);
	assert_int_equal(rc, 0);
	assert_int_equal(held, 1);
	assert_int_equal(visited, 0);
}

/*
 * SIGHUP while the queue is full: the reload runs at once; RELOADING=1 and
 * READY=1 arrive, in order, once systemd reads again, and STOPPING=1 after.
 */
static void
test_notify_states_arrive_after_drain(void **state)
{
	struct env *env = *state;
	start_sim(env, false);
	fill_notify_queue(env);
	assert_int_equal(kill(env->f.pid, SIGHUP), 0);
	assert_int_equal(daemon_fixture_wait_log(&env->f, "reload: policy applied", 1, GUARD_MS),
			 1);
	assert_int_equal(raw_visit(env->f.socket_path, GUARD_MS), 0);
	/* Reading again: the filler, then what mmiod queued. */
	assert_int_equal(
		expect_states(&env->f, (const char *const[]){"RELOADING=1", "READY=1", NULL}), 0);
	/* Drained, so STATUS= flows again. */
	for (int i = 0; i < 2; i++) {
		env->conns[i] = raw_connect(env->f.socket_path);
		assert_true(env->conns[i] >= 0);
	}
	assert_int_equal(daemon_fixture_wait_notify(&env->f, "STATUS=2 clients"), 0);
	kill(env->f.pid, SIGTERM);
	assert_int_equal(expect_states(&env->f, (const char *const[]){"STOPPING=1", NULL}), 0);
	assert_int_equal(reap_guarded(&env->f), 0);
}

/* $NOTIFY_SOCKET in the abstract namespace ("@name"), as systemd can set it. */
static void
test_notify_abstract_socket(void **state)
{
	struct env *env = *state;
	assert_int_equal(daemon_fixture_use_abstract_notify(&env->f), 0);
	assert_int_equal(env->f.notify_path[0], '@');
	start_sim(env, false);
	assert_int_equal(kill(env->f.pid, SIGHUP), 0);
	assert_int_equal(
		expect_states(&env->f, (const char *const[]){"RELOADING=1", "READY=1", NULL}), 0);
	kill(env->f.pid, SIGTERM);
	assert_int_equal(expect_states(&env->f, (const char *const[]){"STOPPING=1", NULL}), 0);
	assert_int_equal(reap_guarded(&env->f), 0);
}

/*
 * After the privilege drop mmiod may no longer connect to $NOTIFY_SOCKET
 * (here: a socket only root may write to): it opened its socket before.
 */
static void
test_notify_after_privilege_drop(void **state)
{
	struct env *env = *state;
	if (geteuid() != 0) {
		skip();
	}
	assert_int_equal(daemon_fixture_prepare(&env->f), 0);
	/* nobody re-reads the config at SIGHUP; the notify socket stays root's alone. */
	assert_int_equal(chmod(env->f.dir, 0755), 0);
	assert_int_equal(chmod(env->f.notify_path, 0700), 0);
	snprintf(env->conf, sizeof(env->conf), "%s/mmiod.conf", env->f.dir);
	FILE *conf = fopen(env->conf, "w");
	assert_non_null(conf);
	fputs("user = 65534;\nregions = ( { name = \"a\"; type = \"mem\"; size = 64; } );\n", conf);
	assert_int_equal(fclose(conf), 0);
	/* LeakSanitizer cannot trace a process that changed its uid. */
	setenv("ASAN_OPTIONS", "detect_leaks=0", 1);
	const char *const args[] = {"--config", env->conf, NULL};
	int started = daemon_fixture_start_args(&env->f, args);
	unsetenv("ASAN_OPTIONS");
	assert_int_equal(started, 0);
	assert_int_equal(expect_states(&env->f, (const char *const[]){"READY=1", NULL}), 0);
	assert_int_equal(kill(env->f.pid, SIGHUP), 0);
	assert_int_equal(
		expect_states(&env->f, (const char *const[]){"RELOADING=1", "READY=1", NULL}), 0);
	kill(env->f.pid, SIGTERM);
	assert_int_equal(expect_states(&env->f, (const char *const[]){"STOPPING=1", NULL}), 0);
	assert_int_equal(reap_guarded(&env->f), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_notify_full_queue_does_not_block, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_notify_states_arrive_after_drain, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_notify_abstract_socket, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notify_after_privilege_drop, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
