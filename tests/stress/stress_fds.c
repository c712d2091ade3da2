/*
 * Descriptors as a weapon (security issue): what a client of another uid can
 * do to mmiod with SCM_RIGHTS and with descriptors mmiod hands out, checked by
 * a victim's requests being answered while the attack goes on.
 *
 * - A passed descriptor whose close() sleeps: a TCP socket with SO_LINGER and
 *   unsent data. mmiod used to close such fds on its only thread (both those
 *   attached to a frame it read, and those still queued on a connection it
 *   closed), and every client waited for the linger time. Where the kernel can
 *   refuse them (SO_PASSRIGHTS, Linux >= 6.16), sending one must fail with
 *   EPERM; with $MMIOD_NO_SO_PASSRIGHTS (as on older kernels) mmiod must serve
 *   on while the close sleeps elsewhere.
 *
 * Needs root (the attacker takes another uid); exits 77 (skipped) otherwise.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon_fixture.h"
#include "mmio_limits.h"
#include "raw_client.h"

#define ATTACKER_UID 4711
/* Failure guards only: how long a victim waits before the test calls mmiod stuck. */
#define GUARD_MS 20000
/* Far longer than GUARD_MS: a close that sleeps on the loop would fail the test, not pass late. */
#define LINGER_S 120

static const char conf_text[] =
	"regions = ( { name = \"sim0\"; type = \"mem\"; size = 0x1000;\n"
	"    grants = ( { user = 4711; access = \"rw\"; offset = 0x0; length = 0x10; } ); } );\n";

struct env {
	struct daemon_fixture daemon;
	char conf_path[160];
	bool fallback; /* mmiod told not to use SO_PASSRIGHTS */
};

static int
start(struct env *env, bool fallback)
{
	env->fallback = fallback;
	if (daemon_fixture_prepare(&env->daemon) < 0) {
		return -1;
	}
	snprintf(env->conf_path, sizeof(env->conf_path), "%s/mmiod.conf", env->daemon.dir);
	FILE *f = fopen(env->conf_path, "w");
	int rc = f && fputs(conf_text, f) >= 0 ? 0 : -1;
	if ((f && fclose(f) != 0) || rc < 0) {
		return -1;
	}
	const char *const args[] = {"--config", env->conf_path, NULL};
	if (fallback) {
		setenv("MMIOD_NO_SO_PASSRIGHTS", "1", 1);
	}
	rc = daemon_fixture_start_args(&env->daemon, args);
	unsetenv("MMIOD_NO_SO_PASSRIGHTS");
	if (rc < 0 || chmod(env->daemon.dir, 0755) < 0 ||
	    chmod(env->daemon.socket_path, 0666) < 0) {
		return -1;
	}
	return 0;
}

static void
stop(struct env *env)
{
	assert_int_equal(daemon_fixture_stop(&env->daemon), 0);
	unlink(env->conf_path);
}

/* A TCP connection on loopback whose close() sleeps: unsent data, SO_LINGER, a peer not reading. */
struct linger_sock {
	int listener;
	int tcp;  /* the sleeper, to pass */
	int peer; /* its other end, which we keep and do not read */
};

static void
linger_open(struct linger_sock *s)
{
	int small = 4096;
	struct sockaddr_in addr = {.sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(addr);
	s->listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(s->listener >= 0);
	/* A small receive window, set before the connection exists, fills quickly. */
	assert_int_equal(setsockopt(s->listener, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
	assert_int_equal(bind(s->listener, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(getsockname(s->listener, (struct sockaddr *)&addr, &len), 0);
	assert_int_equal(listen(s->listener, 1), 0);
	s->tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(s->tcp >= 0);
	assert_int_equal(setsockopt(s->tcp, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
	assert_int_equal(connect(s->tcp, (struct sockaddr *)&addr, sizeof(addr)), 0);
	s->peer = accept4(s->listener, NULL, NULL, SOCK_CLOEXEC);
	assert_true(s->peer >= 0);
	char junk[4096];
	memset(junk, 'j', sizeof(junk));
	while (send(s->tcp, junk, sizeof(junk), MSG_DONTWAIT) > 0) {
	}
	assert_int_equal(errno, EAGAIN);
	struct linger lg = {.l_onoff = 1, .l_linger = LINGER_S};
	assert_int_equal(setsockopt(s->tcp, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
}

/* Reads the peer to its end, letting a sleeping close of the sleeper finish; closes the rest. */
static void
linger_release(struct linger_sock *s)
{
	char buf[65536];
	for (;;) {
		struct pollfd pfd = {.fd = s->peer, .events = POLLIN};
		assert_int_equal(poll(&pfd, 1, GUARD_MS), 1);
		ssize_t n = read(s->peer, buf, sizeof(buf));
		assert_true(n >= 0);
		if (n == 0) {
			break;
		}
	}
	close(s->peer);
	close(s->listener);
}

/* The attacker, as another uid: what to do with the sleeper. */
enum attack {
	ATTACH_TO_FRAME, /* a ListRegions frame carrying it, which mmiod reads */
	QUEUE_AT_CLOSE,  /* a frame carrying it that mmiod never reads: it closes the connection */
};

static int
send_hello(int fd)
{
	return raw_hello(fd, MMIO_PROTOCOL_VERSION) == MMIO__STATUS__OK ? 0 : -1;
}

/*
 * Child: takes ATTACKER_UID, sends tcp as told and exits (dropping its own
 * copy). Exit 0: sent, or refused with EPERM where refuse says the kernel
 * must refuse it; 1 otherwise.
 */
static int
attacker(const char *path, int tcp, enum attack how, bool refuse)
{
	gid_t gid = ATTACKER_UID;
	if (setgroups(0, NULL) < 0 || setgid(gid) < 0 || setuid(ATTACKER_UID) < 0) {
		return 1;
	}
	int fd = raw_connect(path);
	if (fd < 0 || send_hello(fd) < 0) {
		return 1;
	}
	Mmio__Request req = MMIO__REQUEST__INIT;
	if (how == QUEUE_AT_CLOSE) {
		/* A lease, then a poll that never succeeds: mmiod reads nothing more meanwhile. */
		Mmio__Acquire acq = MMIO__ACQUIRE__INIT;
		acq.region = "sim0";
		acq.length = 8;
		req.id = 2;
		req.body_case = MMIO__REQUEST__BODY_ACQUIRE;
		req.acquire = &acq;
		Mmio__Reply *reply = raw_send(fd, &req) == 0 ? raw_recv(fd) : NULL;
		if (!reply || reply->status != MMIO__STATUS__OK) {
			return 1;
		}
		Mmio__Poll poll_req = MMIO__POLL__INIT;
		poll_req.lease = reply->lease->id;
		poll_req.width = 4;
		poll_req.mask = 1;
		poll_req.value = 1; /* sim0 starts zeroed */
		poll_req.timeout_ms = 60000;
		mmio__reply__free_unpacked(reply, NULL);
		req.id = 3;
		req.body_case = MMIO__REQUEST__BODY_POLL;
		req.poll = &poll_req;
		if (raw_send(fd, &req) < 0) {
			return 1;
		}
	}
	Mmio__ListRegions list = MMIO__LIST_REGIONS__INIT;
	req.id = 4;
	req.body_case = MMIO__REQUEST__BODY_LIST_REGIONS;
	req.list_regions = &list;
	size_t len;
	const void *frame = raw_pack(&req, &len);
	int rc = raw_send_fds(fd, frame, len, &tcp, 1);
	if (refuse) {
		/* Ours is the last copy: it goes at exit, which does not linger (a close() would).
		 */
		return rc == -EPERM ? 0 : 1;
	}
	if (rc < 0) {
		return 1;
	}
	close(tcp); /* from now on mmiod holds the last copy */
	/* ATTACH_TO_FRAME: mmiod reads the frame, then the hangup. QUEUE_AT_CLOSE: only the hangup.
	 */
	close(fd);
	return 0;
}

static void
run_attack(struct env *env, enum attack how)
{
	bool refuse = !env->fallback && raw_kernel_refuses_fds();
	struct linger_sock s;
	linger_open(&s);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		_exit(attacker(env->daemon.socket_path, s.tcp, how, refuse));
	}
	/* From here the copy mmiod receives is the last one: its close is the one that sleeps. */
	close(s.tcp);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/*
	 * mmiod logs the hangup once it has dropped the attacker's connection, after
	 * it let go of the sleeper: a loop that slept in its close() logs it late.
	 */
	assert_int_equal(daemon_fixture_wait_log(&env->daemon, "disconnected", 1, GUARD_MS), 1);
	/* A victim of another uid (root here) is served while that close sleeps. */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(raw_visit(env->daemon.socket_path, GUARD_MS), 0);
	}
	linger_release(&s);
}

static void
test_fd_attached_refused_or_closed_aside(void **state)
{
	(void)state;
	struct env env;
	assert_int_equal(start(&env, false), 0);
	run_attack(&env, ATTACH_TO_FRAME);
	stop(&env);
}

static void
test_fd_attached_closed_aside_without_passrights(void **state)
{
	(void)state;
	struct env env;
	assert_int_equal(start(&env, true), 0);
	run_attack(&env, ATTACH_TO_FRAME);
	stop(&env);
}

static void
test_fd_queued_at_close_refused_or_closed_aside(void **state)
{
	(void)state;
	struct env env;
	assert_int_equal(start(&env, false), 0);
	run_attack(&env, QUEUE_AT_CLOSE);
	stop(&env);
}

static void
test_fd_queued_at_close_closed_aside_without_passrights(void **state)
{
	(void)state;
	struct env env;
	assert_int_equal(start(&env, true), 0);
	run_attack(&env, QUEUE_AT_CLOSE);
	stop(&env);
}

int
main(void)
{
	if (geteuid() != 0) {
		fprintf(stderr, "needs root (the attacker takes another uid); skipped\n");
		return 77;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fd_attached_refused_or_closed_aside),
		cmocka_unit_test(test_fd_attached_closed_aside_without_passrights),
		cmocka_unit_test(test_fd_queued_at_close_refused_or_closed_aside),
		cmocka_unit_test(test_fd_queued_at_close_closed_aside_without_passrights),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
