#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <event2/event.h>

#include "base/log.h"
#include "notify.h"

/* READY=1, RELOADING=1, STOPPING=1: the dedup rules keep at most these three waiting. */
#define MAX_STATES 3

static struct {
	int fd; /* -1: no $NOTIFY_SOCKET */
	struct sockaddr_un addr;
	socklen_t addr_len;
	bool connected;
	struct event *writable; /* pending while something waits */
	char states[MAX_STATES][32];
	unsigned n_states;
	char status[128];
	bool status_waits;
} nt = {.fd = -1};

static int
connect_peer(void)
{
	if (connect(nt.fd, (const struct sockaddr *)&nt.addr, nt.addr_len) < 0) {
		return -errno;
	}
	nt.connected = true;
	return 0;
}

/* One try of text with fds (may be none). 0 sent, -EAGAIN queue full, another negative errno:
 * lost. */
static int
send_msg(const char *text, const int *fds, unsigned n_fds)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int) * NOTIFY_MAX_FDS)];
	} ctl;
	struct iovec iov = {.iov_base = (void *)text, .iov_len = strlen(text)};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
	if (n_fds > NOTIFY_MAX_FDS) {
		return -EINVAL;
	}
	if (n_fds > 0) {
		memset(&ctl, 0, sizeof(ctl));
		msg.msg_control = ctl.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * n_fds);
	}
	int rc = nt.connected ? 0 : connect_peer();
	for (int attempt = 0; rc == 0; attempt++) {
		if (sendmsg(nt.fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0) {
			return 0;
		}
		rc = errno == EWOULDBLOCK ? -EAGAIN : -errno;
		/* systemd's end went away (a new one may be bound there now): reconnect once. */
		if (attempt == 0 && (rc == -ECONNREFUSED || rc == -ENOTCONN)) {
			nt.connected = false;
			rc = connect_peer();
		}
	}
	return rc;
}

static int
send_now(const char *text)
{
	return send_msg(text, NULL, 0);
}

int
notify_send_fds(const char *text, const int *fds, unsigned n_fds)
{
	return nt.fd < 0 ? -ENOTCONN : send_msg(text, fds, n_fds);
}

int
notify_fd(void)
{
	return nt.fd;
}

/* Waits for the socket to drain; if it cannot, what waits is lost rather than stuck. */
static void
arm(void)
{
	if (nt.writable && event_add(nt.writable, NULL) == 0) {
		return;
	}
	log_warn("$NOTIFY_SOCKET: cannot wait for it to drain: %u message%s lost",
		 nt.n_states + nt.status_waits, nt.n_states + nt.status_waits == 1 ? "" : "s");
	nt.n_states = 0;
	nt.status_waits = false;
}

/* Sends what waits, in order, until done or the queue is full again. True when done. */
static bool
flush(void)
{
	while (nt.n_states > 0) {
		int rc = send_now(nt.states[0]);
		if (rc == -EAGAIN) {
			return false;
		}
		if (rc < 0) {
			log_debug("$NOTIFY_SOCKET: %s lost: %s", nt.states[0], strerror(-rc));
		} else {
			log_info("$NOTIFY_SOCKET drained: %s sent", nt.states[0]);
		}
		nt.n_states--;
		memmove(nt.states[0], nt.states[1], nt.n_states * sizeof(nt.states[0]));
	}
	if (nt.status_waits) {
		int rc = send_now(nt.status);
		if (rc == -EAGAIN) {
			return false;
		}
		nt.status_waits = false;
	}
	return true;
}

static void
writable_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	if (flush()) {
		event_del(nt.writable);
	}
}

void
notify_open(struct event_base *base)
{
	const char *e = getenv("NOTIFY_SOCKET");
	if (!e || !e[0]) {
		return;
	}
	size_t len = strlen(e);
	if ((e[0] != '/' && e[0] != '@') || len >= sizeof(nt.addr.sun_path)) {
		log_warn("$NOTIFY_SOCKET %s: not a unix socket path or @name: not notifying", e);
		return;
	}
	nt.addr.sun_family = AF_UNIX;
	memcpy(nt.addr.sun_path, e, len);
	/* A path counts its NUL; an abstract name is its bytes after the leading NUL. */
	nt.addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
	if (e[0] == '@') {
		nt.addr.sun_path[0] = '\0';
		nt.addr_len--;
	}
	nt.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (nt.fd < 0) {
		log_warn("$NOTIFY_SOCKET: socket: %s: not notifying", strerror(errno));
		return;
	}
	/* Now, while privileged: a socket we may not connect to later still takes our sends. */
	int rc = connect_peer();
	if (rc < 0) {
		log_warn("$NOTIFY_SOCKET %s: %s (tried again at each message)", e, strerror(-rc));
	}
	nt.writable = event_new(base, nt.fd, EV_WRITE | EV_PERSIST, writable_cb, NULL);
	if (!nt.writable) {
		log_warn("$NOTIFY_SOCKET: out of memory: messages meeting a full queue are lost");
	}
}

void
notify_state(const char *text)
{
	if (nt.fd < 0) {
		return;
	}
	if (nt.n_states == 0) {
		int rc = send_now(text);
		if (rc == 0) {
			return;
		}
		if (rc != -EAGAIN) {
			log_debug("$NOTIFY_SOCKET: %s lost: %s", text, strerror(-rc));
			return;
		}
	}
	if (strcmp(text, "STOPPING=1") == 0) {
		nt.n_states = 0;
	}
	for (unsigned i = 0; i < nt.n_states; i++) {
		if (strcmp(nt.states[i], text) == 0) {
			nt.n_states = i;
			break;
		}
	}
	if (nt.n_states == MAX_STATES) { /* not with the three messages mmiod sends */
		nt.n_states--;
		memmove(nt.states[0], nt.states[1], nt.n_states * sizeof(nt.states[0]));
	}
	snprintf(nt.states[nt.n_states++], sizeof(nt.states[0]), "%s", text);
	log_warn("$NOTIFY_SOCKET full (systemd not reading): %s waits until it drains", text);
	arm();
}

void
notify_status(const char *text)
{
	if (nt.fd < 0) {
		return;
	}
	if (nt.n_states == 0 && !nt.status_waits) {
		int rc = send_now(text);
		if (rc == 0) {
			return;
		}
		if (rc != -EAGAIN) {
			log_debug("$NOTIFY_SOCKET: %s lost: %s", text, strerror(-rc));
			return;
		}
	}
	snprintf(nt.status, sizeof(nt.status), "%s", text);
	nt.status_waits = true;
	log_debug("$NOTIFY_SOCKET full: %s held back until it drains", text);
	arm();
}

void
notify_close(void)
{
	if (nt.fd < 0) {
		return;
	}
	flush();
	for (unsigned i = 0; i < nt.n_states; i++) {
		log_warn("$NOTIFY_SOCKET full at exit: %s not sent", nt.states[i]);
	}
	nt.n_states = 0;
	nt.status_waits = false;
	if (nt.writable) {
		event_free(nt.writable);
		nt.writable = NULL;
	}
}
