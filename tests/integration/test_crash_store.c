/*
 * A crash under systemd's file descriptor store (docs/RESTART.md, "Crash"), without systemd:
 * this test is the store ($NOTIFY_SOCKET: it keeps what mmiod hands it with FDSTORE=1 and
 * drops what FDSTOREREMOVE=1 names) and starts mmiod as Restart=on-failure would after a
 * SIGKILL, with the socket unit's listener and everything stored. A whole state gives the
 * clients their connections, leases (same ids), ring and memory back, except the connection
 * that was being served when mmiod died (closed: its request would never be answered); a
 * write cut short by the crash leaves the previous state whole; a corrupted state closes
 * every connection and starts clean; a stalled systemd never blocks mmiod; a plain stop
 * takes the state out of the store.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
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
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#include "daemon_fixture.h"
#include "live_state.h"
#include "mmio/client.h"
#include "raw_client.h"

#define MAX_STORED 64

struct stored {
	char name[64];
	int fd;
};

struct env {
	struct daemon_fixture daemon; /* its directory, socket, log and notify paths */
	int notify;                   /* systemd's end of $NOTIFY_SOCKET */
	struct stored store[MAX_STORED];
	int n_stored;
	char restart[32]; /* the last X_MMIOD_RESTART= mmiod sent */
	int listen_fd;
	pid_t pid;
	/* systemd reads its queue as messages come; so does this thread (the kernel's queue for
	 * a datagram socket is short: mmiod would find it full). Under lock: the above. */
	pthread_t reader;
	pthread_mutex_t lock;
	pthread_cond_t arrived;
	int stop[2];
};

static void
forget(struct env *e, const char *name)
{
	int kept = 0;
	for (int i = 0; i < e->n_stored; i++) {
		if (strcmp(e->store[i].name, name) == 0) {
			close(e->store[i].fd);
		} else {
			e->store[kept++] = e->store[i];
		}
	}
	e->n_stored = kept;
}

static bool
same_file(int a, int b)
{
	struct stat sa;
	struct stat sb;
	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

/* As systemd does: one copy of a file, under the name it came with first. */
static void
keep(struct env *e, const char *name, int fd)
{
	for (int i = 0; i < e->n_stored; i++) {
		if (same_file(e->store[i].fd, fd)) {
			close(fd);
			return;
		}
	}
	assert_true(e->n_stored < MAX_STORED);
	snprintf(e->store[e->n_stored].name, sizeof(e->store[0].name), "%s", name);
	e->store[e->n_stored++].fd = fd;
}

static void
field(const char *text, const char *key, char *out, size_t len)
{
	const char *at = strstr(text, key);
	out[0] = '\0';
	if (at && (at == text || at[-1] == '\n')) {
		at += strlen(key);
		size_t n = strcspn(at, "\n");
		snprintf(out, len, "%.*s", (int)(n < len ? n : len - 1), at);
	}
}

/* Takes every message in the queue; under e->lock. */
static void
drain_locked(struct env *e)
{
	for (;;) {
		char text[512];
		union {
			struct cmsghdr h;
			char buf[CMSG_SPACE(sizeof(int) * 16)];
		} ctl;
		struct iovec iov = {.iov_base = text, .iov_len = sizeof(text) - 1};
		struct msghdr msg = {.msg_iov = &iov,
				     .msg_iovlen = 1,
				     .msg_control = ctl.buf,
				     .msg_controllen = sizeof(ctl.buf)};
		ssize_t n = recvmsg(e->notify, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0) {
			assert_int_equal(errno, EAGAIN);
			return;
		}
		text[n] = '\0';
		char name[64];
		char value[32];
		field(text, "FDNAME=", name, sizeof(name));
		field(text, "X_MMIOD_RESTART=", value, sizeof(value));
		if (value[0]) {
			snprintf(e->restart, sizeof(e->restart), "%s", value);
		}
		bool store = strstr(text, "FDSTORE=1") != NULL;
		if (strstr(text, "FDSTOREREMOVE=1")) {
			forget(e, name);
		}
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
			if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
				continue;
			}
			size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (size_t i = 0; i < k; i++) {
				int fd;
				memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
				if (store) {
					keep(e, name, fd);
				} else {
					close(fd);
				}
			}
		}
	}
}

/* Takes every message mmiod has sent so far (they are in the queue before its reply is). */
static void
drain(struct env *e)
{
	pthread_mutex_lock(&e->lock);
	drain_locked(e);
	pthread_mutex_unlock(&e->lock);
}

static void *
read_queue(void *arg)
{
	struct env *e = arg;
	for (;;) {
		struct pollfd p[2] = {{.fd = e->notify, .events = POLLIN},
				      {.fd = e->stop[0], .events = POLLIN}};
		if (poll(p, 2, -1) < 0 || p[1].revents) {
			return NULL;
		}
		pthread_mutex_lock(&e->lock);
		drain_locked(e);
		pthread_cond_broadcast(&e->arrived);
		pthread_mutex_unlock(&e->lock);
	}
}

static int
stored_fd(const struct env *e, const char *name)
{
	for (int i = 0; i < e->n_stored; i++) {
		if (strcmp(e->store[i].name, name) == 0) {
			return e->store[i].fd;
		}
	}
	return -1;
}

/* Writes v in decimal at out (async-signal-safe, unlike snprintf). */
static void
put_decimal(char *out, long v)
{
	char digits[24];
	int n = 0;
	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	while (n > 0) {
		*out++ = digits[--n];
	}
	*out = '\0';
}

/*
 * mmiod as systemd starts it: the listener as fd 3, then everything in the store under its
 * name, --fd-store and $NOTIFY_SOCKET; waits for READY on --ready-fd. The child of this
 * threaded process makes only async-signal-safe calls: all is prepared before the fork.
 */
static void
start(struct env *e)
{
	static char pid_env[32] = "LISTEN_PID=";
	static char count_env[32];
	static char names_env[4096];
	static char notify_env[200];
	static char ready_arg[16];
	static char *envp[256];
	int ready[2];
	assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
	int log = open(e->daemon.log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	assert_true(log >= 0);
	/* The store as it is at the fork: the reader must not change it meanwhile. */
	pthread_mutex_lock(&e->lock);
	int n = 1 + e->n_stored;
	int from[MAX_STORED + 2];
	from[0] = e->listen_fd;
	snprintf(names_env, sizeof(names_env), "LISTEN_FDNAMES=mmiod.socket");
	for (int i = 0; i < e->n_stored; i++) {
		from[1 + i] = e->store[i].fd;
		size_t at = strlen(names_env);
		snprintf(names_env + at, sizeof(names_env) - at, ":%s", e->store[i].name);
	}
	from[n] = ready[1];
	snprintf(count_env, sizeof(count_env), "LISTEN_FDS=%d", n);
	snprintf(notify_env, sizeof(notify_env), "NOTIFY_SOCKET=%s", e->daemon.notify_path);
	snprintf(ready_arg, sizeof(ready_arg), "%d", 3 + n);
	size_t k = 0;
	for (char **v = environ; *v && k < 250; v++) {
		if (strncmp(*v, "LISTEN_", 7) != 0 && strncmp(*v, "NOTIFY_SOCKET=", 14) != 0) {
			envp[k++] = *v;
		}
	}
	envp[k++] = pid_env;
	envp[k++] = count_env;
	envp[k++] = names_env;
	envp[k++] = notify_env;
	envp[k] = NULL;
	char *argv[] = {(char *)"mmiod",      (char *)"-f", (char *)"--fd-store",
			(char *)"--ready-fd", ready_arg,    NULL};
	e->pid = fork();
	if (e->pid == 0) {
		/* Up out of the way first, then down to 3.. (fds 3.. may be any of them now). */
		int up[MAX_STORED + 2];
		for (int i = 0; i <= n; i++) {
			up[i] = fcntl(from[i], F_DUPFD_CLOEXEC, 200);
		}
		for (int i = 0; i <= n; i++) {
			if (up[i] < 0 || dup2(up[i], 3 + i) < 0) {
				_exit(127);
			}
		}
		if (dup2(log, 2) < 0) {
			_exit(127);
		}
		put_decimal(pid_env + sizeof("LISTEN_PID=") - 1, (long)getpid());
		execve(MMIOD_PATH, argv, envp);
		_exit(127);
	}
	pthread_mutex_unlock(&e->lock);
	assert_true(e->pid > 0);
	close(log);
	close(ready[1]);
	char buf[8] = "";
	ssize_t got = read(ready[0], buf, sizeof(buf));
	close(ready[0]);
	assert_true(got > 0 && strncmp(buf, "READY", 5) == 0);
	drain(e);
}

static int
setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	if (!e || daemon_fixture_prepare(&e->daemon) < 0) {
		free(e);
		return -1;
	}
	e->pid = -1;
	e->notify = e->daemon.notify_fd; /* the fixture's, bound at notify_path */
	e->listen_fd = raw_listen(e->daemon.socket_path);
	*state = e;
	pthread_mutex_init(&e->lock, NULL);
	pthread_cond_init(&e->arrived, NULL);
	if (e->notify < 0 || e->listen_fd < 0 || pipe2(e->stop, O_CLOEXEC) < 0 ||
	    pthread_create(&e->reader, NULL, read_queue, e) != 0) {
		return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	struct env *e = *state;
	if (e->pid > 0) {
		kill(e->pid, SIGTERM);
		waitpid(e->pid, NULL, 0);
	}
	close(e->stop[1]);
	pthread_join(e->reader, NULL);
	close(e->stop[0]);
	for (int i = 0; i < e->n_stored; i++) {
		close(e->store[i].fd);
	}
	close(e->listen_fd);
	daemon_fixture_cleanup(&e->daemon);
	free(e);
	return 0;
}

static struct mmio_client *
client(struct env *e)
{
	struct mmio_client *c = NULL;
	assert_int_equal(mmio_connect(e->daemon.socket_path, &c), 0);
	return c;
}

static uint64_t
only_lease_id(struct mmio_client *c)
{
	struct mmio_lease_info *info = NULL;
	assert_int_equal(mmio_list_leases(c, &info), 1);
	uint64_t id = info[0].id;
	free(info);
	return id;
}

/* The id in the stored name conn.N of the newest connection: the last to connect. */
static uint64_t
newest_conn_id(const struct env *e)
{
	uint64_t newest = 0;
	for (int i = 0; i < e->n_stored; i++) {
		unsigned long long id;
		if (sscanf(e->store[i].name, "conn.%llu", &id) == 1 && id > newest) {
			newest = id;
		}
	}
	return newest;
}

static bool
stored_prefix(const struct env *e, const char *prefix)
{
	for (int i = 0; i < e->n_stored; i++) {
		if (strncmp(e->store[i].name, prefix, strlen(prefix)) == 0) {
			return true;
		}
	}
	return false;
}

static int
count_conns(const struct env *e)
{
	int n = 0;
	for (int i = 0; i < e->n_stored; i++) {
		n += strncmp(e->store[i].name, "conn.", 5) == 0;
	}
	return n;
}

/*
 * Waits (on the reader's news, 10 s at most) until the store holds a name starting with
 * prefix and conns connections: mmiod stores a descriptor on the state's first write that names it,
 * but a full queue defers it until systemd (here: the reader) has read.
 */
static void
wait_stored(struct env *e, const char *prefix, int conns)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 10;
	pthread_mutex_lock(&e->lock);
	drain_locked(e);
	int rc = 0;
	while (rc == 0 && (!stored_prefix(e, prefix) || count_conns(e) < conns)) {
		rc = pthread_cond_timedwait(&e->arrived, &e->lock, &until);
	}
	pthread_mutex_unlock(&e->lock);
	assert_int_equal(rc, 0);
}

/* The store is the reader's too: what the test looks at, it takes under the lock. */

/* A descriptor of the kept state's memfd of the test's own (it closes it), or -1. */
static int
live_fd(struct env *e)
{
	pthread_mutex_lock(&e->lock);
	drain_locked(e);
	int fd = stored_fd(e, LIVE_STATE_FDNAME);
	fd = fd < 0 ? -1 : fcntl(fd, F_DUPFD_CLOEXEC, 3);
	pthread_mutex_unlock(&e->lock);
	return fd;
}

static uint64_t
newest_conn(struct env *e)
{
	pthread_mutex_lock(&e->lock);
	drain_locked(e);
	uint64_t id = newest_conn_id(e);
	pthread_mutex_unlock(&e->lock);
	return id;
}

/* The last X_MMIOD_RESTART= mmiod sent, into out. */
static void
restart_said(struct env *e, char *out, size_t len)
{
	pthread_mutex_lock(&e->lock);
	drain_locked(e);
	snprintf(out, len, "%s", e->restart);
	pthread_mutex_unlock(&e->lock);
}

static struct live_header
live_header(int fd)
{
	struct live_header h;
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &h, sizeof(h), 0), sizeof(h));
	return h;
}

/*
 * SIGKILL, with serving (the word in the kept state's header) naming the connection whose
 * request it cut short, 0 for none. mmiod has answered every request by now, but it clears
 * the word only once its callback is over, which may be just after the client got its
 * reply: the word is set here so that the kill lands where the test says.
 */
static void
crash(struct env *e, uint64_t serving)
{
	int fd = live_fd(e);
	assert_true(fd >= 0);
	assert_int_equal(
		pwrite(fd, &serving, sizeof(serving), offsetof(struct live_header, serving)),
		sizeof(serving));
	close(fd);
	assert_int_equal(kill(e->pid, SIGKILL), 0);
	assert_int_equal(waitpid(e->pid, NULL, 0), e->pid);
	e->pid = -1;
}

static void
test_crash_keeps_connections_leases_and_ring(void **state)
{
	struct env *e = *state;
	start(e);
	struct mmio_client *c = client(e);
	assert_int_equal(mmio_set_fast_path(c, MMIO_FAST_PATH_ON), 0);
	struct mmio_lease *l;
	assert_int_equal(mmio_acquire(c, "sim0", 0x100, 0x40, &l), 0);
	assert_int_equal(mmio_store64(l, 0, 0x1122334455667788u), 0);
	assert_int_equal(mmio_fast_path_active(c), 1);
	uint64_t id = only_lease_id(c);
	uint64_t v = 0;
	/* A second client, whose request the crash will have cut short. */
	struct mmio_client *cut = client(e);
	struct mmio_lease *cut_lease;
	assert_int_equal(mmio_acquire(cut, "sim0", 0x800, 0x10, &cut_lease), 0);
	/* Ring traffic after the last change of state: its indices move on without a write. */
	for (uint64_t i = 0; i < 40; i++) {
		assert_int_equal(mmio_store64(l, 16 + (i % 4) * 8, i), 0);
		assert_int_equal(mmio_load64(l, 16 + (i % 4) * 8, &v), 0);
		assert_int_equal(v, i);
	}
	wait_stored(e, "mem.sim0", 2);
	wait_stored(e, "ring.", 2);
	wait_stored(e, "bell.", 2);
	/* The second connection's request is the one the crash cuts short. */
	crash(e, newest_conn(e));
	start(e);
	char said[32];
	restart_said(e, said, sizeof(said));
	assert_string_equal(said, "recovered");
	/* The same lease, the same bytes, through the same ring. */
	assert_int_equal(mmio_load64(l, 0, &v), 0);
	assert_int_equal(v, 0x1122334455667788u);
	assert_int_equal(mmio_store64(l, 8, 0x55), 0);
	assert_int_equal(mmio_fast_path_active(c), 1);
	assert_int_equal(only_lease_id(c), id);
	/* Still its: nobody else gets those bytes. */
	struct mmio_client *other = client(e);
	struct mmio_lease *clash;
	assert_int_equal(mmio_acquire(other, "sim0", 0x120, 4, &clash), -EBUSY);
	/* The cut-short connection is closed, and its lease free again. */
	uint32_t w;
	assert_true(mmio_load32(cut_lease, 0, &w) < 0);
	struct mmio_lease *freed;
	assert_int_equal(mmio_acquire(other, "sim0", 0x800, 0x10, &freed), 0);
	/* A second crash: the successor keeps the state as it goes, too. */
	wait_stored(e, "ring.", 2);
	crash(e, 0);
	start(e);
	assert_int_equal(mmio_load64(l, 8, &v), 0);
	assert_int_equal(v, 0x55);
	mmio_disconnect(other);
	mmio_disconnect(cut);
	mmio_disconnect(c);
}

/*
 * mmiod started, a client holding [0x100, +0x40) of sim0 with 7 stored at its start, stored
 * itself; *fd: the kept state's memfd (the test's to close), *h: its header.
 */
static struct mmio_client *
one_client_stored(struct env *e, struct mmio_lease **l, int *fd, struct live_header *h)
{
	start(e);
	struct mmio_client *c = client(e);
	assert_int_equal(mmio_acquire(c, "sim0", 0x100, 0x40, l), 0);
	assert_int_equal(mmio_store32(*l, 0, 7), 0);
	wait_stored(e, "conn.", 1);
	*fd = live_fd(e);
	*h = live_header(*fd);
	return c;
}

static void
test_corrupt_state_closes_everything(void **state)
{
	struct env *e = *state;
	struct mmio_lease *l;
	int fd;
	struct live_header h;
	struct mmio_client *c = one_client_stored(e, &l, &fd, &h);
	assert_true(h.current <= 1);
	/* One byte of the newest state's message flipped: its checksum no longer holds. */
	uint8_t byte;
	off_t at = (off_t)(h.slot_off[h.current] + h.slot_len[h.current] - 1);
	assert_int_equal(pread(fd, &byte, 1, at), 1);
	byte ^= 0xff;
	assert_int_equal(pwrite(fd, &byte, 1, at), 1);
	close(fd);
	crash(e, 0);
	start(e);
	/* Every client hears at once: its connection is gone. */
	uint32_t v;
	assert_true(mmio_load32(l, 0, &v) < 0);
	/* mmiod serves from scratch: the range is free. */
	struct mmio_client *fresh = client(e);
	struct mmio_lease *again;
	assert_int_equal(mmio_acquire(fresh, "sim0", 0x100, 0x40, &again), 0);
	mmio_disconnect(fresh);
	mmio_disconnect(c);
}

static void
test_write_cut_short_keeps_the_previous_state(void **state)
{
	struct env *e = *state;
	struct mmio_lease *l;
	int fd;
	struct live_header h;
	struct mmio_client *c = one_client_stored(e, &l, &fd, &h);
	assert_true(h.current <= 1 && h.generation >= 2);
	/* The slot a next write would fill, half written when mmiod died: garbage. */
	uint32_t other = 1 - h.current;
	assert_true(h.slot_len[other] > 0);
	uint8_t junk[64];
	memset(junk, 0xa5, sizeof(junk));
	assert_int_equal(pwrite(fd, junk, sizeof(junk), (off_t)h.slot_off[other]), sizeof(junk));
	close(fd);
	crash(e, 0);
	start(e);
	char said[32];
	restart_said(e, said, sizeof(said));
	assert_string_equal(said, "recovered");
	uint32_t v = 0;
	assert_int_equal(mmio_load32(l, 0, &v), 0);
	assert_int_equal(v, 7);
	mmio_disconnect(c);
}

#define STALLED_CLIENTS 24

static void
test_stalled_systemd_never_blocks(void **state)
{
	struct env *e = *state;
	start(e);
	/* systemd stops reading its queue (the reader waits for the lock): mmiod serves on. */
	pthread_mutex_lock(&e->lock);
	struct mmio_client *c[STALLED_CLIENTS];
	for (int i = 0; i < STALLED_CLIENTS; i++) {
		struct mmio_lease *l;
		assert_int_equal(mmio_connect(e->daemon.socket_path, &c[i]), 0);
		assert_int_equal(mmio_acquire(c[i], "sim0", 0x100 * (uint64_t)i, 0x10, &l), 0);
		assert_int_equal(mmio_store32(l, 0, (uint32_t)i), 0);
	}
	pthread_mutex_unlock(&e->lock);
	/* Once it reads again, what it could not take then is stored. */
	wait_stored(e, "conn.", STALLED_CLIENTS);
	for (int i = 0; i < STALLED_CLIENTS; i++) {
		mmio_disconnect(c[i]);
	}
}

static void
test_stop_forgets_the_state(void **state)
{
	struct env *e = *state;
	start(e);
	struct mmio_client *c = client(e);
	struct mmio_lease *l;
	assert_int_equal(mmio_acquire(c, "sim0", 0x100, 0x40, &l), 0);
	int fd = live_fd(e);
	assert_true(fd >= 0);
	close(fd);
	/* Not a restart (no systemd to say so): leases are revoked and nothing is left. */
	assert_int_equal(kill(e->pid, SIGTERM), 0);
	assert_int_equal(waitpid(e->pid, NULL, 0), e->pid);
	e->pid = -1;
	/* Without the state nothing is restored: a next start closes whatever else is left. */
	assert_int_equal(live_fd(e), -1);
	mmio_disconnect(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_crash_keeps_connections_leases_and_ring, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_state_closes_everything, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_write_cut_short_keeps_the_previous_state,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_stalled_systemd_never_blocks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_forgets_the_state, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
