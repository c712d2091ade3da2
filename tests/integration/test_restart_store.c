/*
 * The successor's side of a restart through systemd's file descriptor store, without systemd:
 * mmiod started as systemd starts it after `systemctl restart` (LISTEN_FDS, LISTEN_FDNAMES,
 * LISTEN_PID) with the socket unit's listener, a client's connection and the state. A good
 * state gives the client its lease back on the same connection; a corrupted one is refused:
 * the connection is closed (the client hears it at once) and mmiod starts clean.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
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
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon_fixture.h"
#include "mmio_limits.h"
#include "raw_client.h"
#include "restart_state.h"

#define CONN_ID  7
#define LEASE_ID 42

struct env {
	struct daemon_fixture daemon; /* for its directory, socket and log paths */
	int client;                   /* our end of the connection handed over */
	pid_t pid;
};

/* A state as mmiod writes it: connection CONN_ID (Hello done) holding LEASE_ID on sim0. */
static int
state_memfd(bool corrupt)
{
	MmiodState__Region region = MMIOD_STATE__REGION__INIT;
	region.name = (char *)"sim0";
	region.type = (char *)"mem";
	region.len = 0x10000;
	MmiodState__Region *regions[] = {&region};
	MmiodState__Lease lease = MMIOD_STATE__LEASE__INIT;
	lease.id = LEASE_ID;
	lease.region = (char *)"sim0";
	lease.start = 0x100;
	lease.len = 0x10;
	MmiodState__Lease *leases[] = {&lease};
	MmiodState__Conn conn = MMIOD_STATE__CONN__INIT;
	conn.id = CONN_ID;
	conn.fd = (char *)"conn.7";
	conn.hello_done = true;
	conn.n_leases = 1;
	conn.leases = leases;
	MmiodState__Conn *conns[] = {&conn};
	MmiodState__State st = MMIOD_STATE__STATE__INIT;
	st.format = RESTART_STATE_FORMAT;
	st.next_lease_id = 100;
	st.next_conn_id = CONN_ID + 1;
	st.listener = (char *)"listener";
	st.n_regions = 1;
	st.regions = regions;
	st.n_conns = 1;
	st.conns = conns;
	int sealed = restart_state_write(&st);
	if (sealed < 0 || !corrupt) {
		return sealed;
	}
	/* The same bytes with one flipped in the message: what a torn or scribbled copy looks like.
	 */
	uint8_t buf[4096];
	ssize_t n = pread(sealed, buf, sizeof(buf), 0);
	close(sealed);
	int fd = memfd_create("corrupt", MFD_CLOEXEC);
	if (n < 40 || fd < 0) {
		return -1;
	}
	buf[n - 1] ^= 0xff;
	return write(fd, buf, (size_t)n) == n ? fd : -1;
}

/* mmiod as systemd starts it, with fds 3, 4, 5 named as the store names them; waits for READY. */
static int
start(struct env *e, bool corrupt)
{
	int listen_fd = raw_listen(e->daemon.socket_path);
	int pair[2];
	int state = state_memfd(corrupt);
	int ready[2];
	if (listen_fd < 0 || state < 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0 ||
	    pipe2(ready, O_CLOEXEC) < 0) {
		return -1;
	}
	e->client = pair[1];
	e->pid = fork();
	if (e->pid == 0) {
		int log = open(e->daemon.log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		/*
		 * Up out of the way first, then down to 3..6 (fds 3.. may be any of them now); all
		 * close-on-exec but those four, so mmiod holds no copy of the client's end.
		 */
		int up[4] = {fcntl(listen_fd, F_DUPFD_CLOEXEC, 100),
			     fcntl(pair[0], F_DUPFD_CLOEXEC, 100),
			     fcntl(state, F_DUPFD_CLOEXEC, 100),
			     fcntl(ready[1], F_DUPFD_CLOEXEC, 100)};
		for (int i = 0; i < 4; i++) {
			if (up[i] < 0 || dup2(up[i], 3 + i) < 0) {
				_exit(127);
			}
		}
		if (log < 0 || dup2(log, 2) < 0) {
			_exit(127);
		}
		char pid[16];
		snprintf(pid, sizeof(pid), "%d", (int)getpid());
		setenv("LISTEN_PID", pid, 1);
		setenv("LISTEN_FDS", "3", 1);
		setenv("LISTEN_FDNAMES", "mmiod.socket:conn.7:mmiod-state", 1);
		unsetenv("NOTIFY_SOCKET");
		execl(MMIOD_PATH, "mmiod", "-f", "--ready-fd", "6", (char *)NULL);
		_exit(127);
	}
	close(listen_fd);
	close(pair[0]);
	close(state);
	close(ready[1]);
	char buf[8] = "";
	ssize_t n = e->pid > 0 ? read(ready[0], buf, sizeof(buf)) : -1;
	close(ready[0]);
	return n > 0 && strncmp(buf, "READY", 5) == 0 ? 0 : -1;
}

static int
setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	if (!e || daemon_fixture_prepare(&e->daemon) < 0) {
		free(e);
		return -1;
	}
	e->client = -1;
	e->pid = -1;
	*state = e;
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
	if (e->client >= 0) {
		close(e->client);
	}
	daemon_fixture_cleanup(&e->daemon);
	free(e);
	return 0;
}

static Mmio__Reply *
load32(int fd, uint64_t lease)
{
	Mmio__Load load = MMIO__LOAD__INIT;
	load.lease = lease;
	load.offset = 0;
	load.width = 4;
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.id = 2;
	req.body_case = MMIO__REQUEST__BODY_LOAD;
	req.load = &load;
	return raw_send(fd, &req) < 0 ? NULL : raw_recv(fd);
}

static void
test_good_state_restores_the_connection(void **state)
{
	struct env *e = *state;
	assert_int_equal(start(e, false), 0);
	/* The same connection, past its Hello, holds its lease under the same id. */
	Mmio__Reply *reply = load32(e->client, LEASE_ID);
	assert_non_null(reply);
	assert_int_equal(reply->status, MMIO__STATUS__OK);
	mmio__reply__free_unpacked(reply, NULL);
	/* Nobody else can take those bytes, and ids go on from the predecessor's. */
	int other = raw_connect(e->daemon.socket_path);
	assert_true(other >= 0);
	assert_int_equal(raw_hello(other, MMIO_PROTOCOL_VERSION), MMIO__STATUS__OK);
	close(other);
}

static void
test_corrupt_state_starts_clean(void **state)
{
	struct env *e = *state;
	assert_int_equal(start(e, true), 0);
	/* Refused: the connection it named is closed, so its client hears at once. */
	assert_int_equal(raw_wait_closed(e->client), 1);
	/* And mmiod serves on the listener systemd passed, from scratch. */
	int other = raw_connect(e->daemon.socket_path);
	assert_true(other >= 0);
	assert_int_equal(raw_hello(other, MMIO_PROTOCOL_VERSION), MMIO__STATUS__OK);
	close(other);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_good_state_restores_the_connection, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_state_starts_clean, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
