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
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon_fixture.h"
#include "live_state.h"
#include "mmio/client.h"

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

static int
unix_socket(int type, const char *path)
{
	int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	if (fd < 0 || strlen(path) >= sizeof(addr.sun_path)) {
		return -1;
	}
	memcpy(addr.sun_path, path, strlen(path) + 1);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    (type == SOCK_SEQPACKET && listen(fd, 8) < 0)) {
		return -1;
	}
	return fd;
}

/*
 * mmiod as systemd starts it: the listener as fd 3, then everything in the store under its
 * name, --fd-store and $NOTIFY_SOCKET; waits for READY on --ready-fd.
 */
static void
start(struct env *e)
{
	int ready[2];
	assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
	int n = 1 + e->n_stored;
	char names[4096] = "mmiod.socket";
	for (int i = 0; i < e->n_stored; i++) {
		size_t at = strlen(names);
		snprintf(names + at, sizeof(names) - at, ":%s", e->store[i].name);
	}
	e->pid = fork();
	assert_true(e->pid >= 0);
	if (e->pid == 0) {
		int log = open(e->daemon.log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		int up[MAX_STORED + 2];
		up[0] = fcntl(e->listen_fd, F_DUPFD_CLOEXEC, 200);
		for (int i = 0; i < e->n_stored; i++) {
			up[1 + i] = fcntl(e->store[i].fd, F_DUPFD_CLOEXEC, 200);
		}
		up[n] = fcntl(ready[1], F_DUPFD_CLOEXEC, 200);
		for (int i = 0; i <= n; i++) {
			if (up[i] < 0 || dup2(up[i], 3 + i) < 0) {
				_exit(127);
			}
		}
		if (log < 0 || dup2(log, 2) < 0) {
			_exit(127);
		}
		char pid[16];
		char count[16];
		char ready_fd[16];
		snprintf(pid, sizeof(pid), "%d", (int)getpid());
		snprintf(count, sizeof(count), "%d", n);
		snprintf(ready_fd, sizeof(ready_fd), "%d", 3 + n);
		setenv("LISTEN_PID", pid, 1);
		setenv("LISTEN_FDS", count, 1);
		setenv("LISTEN_FDNAMES", names, 1);
		setenv("NOTIFY_SOCKET", e->daemon.notify_path, 1);
		execl(MMIOD_PATH, "mmiod", "-f", "--fd-store", "--ready-fd", ready_fd,
		      (char *)NULL);
		_exit(127);
	}
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
	e->listen_fd = unix_socket(SOCK_SEQPACKET, e->daemon.socket_path);
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

static struct live_header
live_header(const struct env *e)
{
	struct live_header h;
	int fd = stored_fd(e, LIVE_STATE_FDNAME);
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
	drain(e);
	assert_int_equal(pwrite(stored_fd(e, LIVE_STATE_FDNAME), &serving, sizeof(serving),
				offsetof(struct live_header, serving)),
			 sizeof(serving));
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
	crash(e, newest_conn_id(e));
	start(e);
	assert_string_equal(e->restart, "recovered");
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

static void
test_corrupt_state_closes_everything(void **state)
{
	struct env *e = *state;
	start(e);
	struct mmio_client *c = client(e);
	struct mmio_lease *l;
	assert_int_equal(mmio_acquire(c, "sim0", 0x100, 0x40, &l), 0);
	assert_int_equal(mmio_store32(l, 0, 7), 0);
	drain(e);
	struct live_header h = live_header(e);
	assert_true(h.current <= 1);
	/* One byte of the newest state's message flipped: its checksum no longer holds. */
	uint8_t byte;
	int fd = stored_fd(e, LIVE_STATE_FDNAME);
	off_t at = (off_t)(h.slot_off[h.current] + h.slot_len[h.current] - 1);
	assert_int_equal(pread(fd, &byte, 1, at), 1);
	byte ^= 0xff;
	assert_int_equal(pwrite(fd, &byte, 1, at), 1);
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
	start(e);
	struct mmio_client *c = client(e);
	struct mmio_lease *l;
	assert_int_equal(mmio_acquire(c, "sim0", 0x100, 0x40, &l), 0);
	assert_int_equal(mmio_store32(l, 0, 7), 0);
	wait_stored(e, "conn.", 1);
	struct live_header h = live_header(e);
	assert_true(h.current <= 1 && h.generation >= 2);
	/* The slot a next write would fill, half written when mmiod died: garbage. */
	uint32_t other = 1 - h.current;
	assert_true(h.slot_len[other] > 0);
	uint8_t junk[64];
	memset(junk, 0xa5, sizeof(junk));
	assert_int_equal(pwrite(stored_fd(e, LIVE_STATE_FDNAME), junk, sizeof(junk),
				(off_t)h.slot_off[other]),
			 sizeof(junk));
	crash(e, 0);
	start(e);
	assert_string_equal(e->restart, "recovered");
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
	drain(e);
	assert_true(stored_fd(e, LIVE_STATE_FDNAME) >= 0);
	/* Not a restart (no systemd to say so): leases are revoked and nothing is left. */
	assert_int_equal(kill(e->pid, SIGTERM), 0);
	assert_int_equal(waitpid(e->pid, NULL, 0), e->pid);
	e->pid = -1;
	drain(e);
	/* Without the state nothing is restored: a next start closes whatever else is left. */
	assert_int_equal(stored_fd(e, LIVE_STATE_FDNAME), -1);
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
