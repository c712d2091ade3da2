/*
 * systemd's notify protocol ($NOTIFY_SOCKET) without ever blocking the loop.
 *
 * sd_notify() is a blocking sendmsg(): with systemd's queue full (a stalled
 * PID 1) it would hang the loop thread, and with it SIGTERM. Here one
 * nonblocking datagram socket, connected at startup (before the privilege
 * drop), sends each message at once when it can. When the queue is full a
 * state message (READY=1, RELOADING=1, STOPPING=1) waits in order, and the
 * latest STATUS= after them, until the socket is writable again (EV_WRITE; no
 * polling). Without $NOTIFY_SOCKET every call is a no-op.
 */
#ifndef MMIOD_NOTIFY_H
#define MMIOD_NOTIFY_H

struct event_base;

/*
 * Opens the socket to $NOTIFY_SOCKET ("/path" or "@abstract"; the variable is
 * kept, as sd_notify(0, ...) keeps it). Before the privilege drop. Failures
 * are logged, not fatal: mmiod then runs without notifying.
 */
void notify_open(struct event_base *base);

/*
 * READY=1, RELOADING=1 or STOPPING=1: sent now, or after those still waiting.
 * A repeat of one still waiting replaces it and what followed it (two reload
 * cycles stuck behind a full queue arrive as one); STOPPING=1 replaces all.
 */
void notify_state(const char *text);

/* STATUS=...: sent now, or kept until the socket drains; a later one replaces it. */
void notify_status(const char *text);

/* The most descriptors one message carries (systemd's store takes them under one name). */
#define NOTIFY_MAX_FDS 4

/*
 * One nonblocking try of text (FDSTORE=1, FDSTOREREMOVE=1) with fds, which systemd keeps: 0,
 * -EAGAIN (systemd's queue is full: notify_fd() polls writable once it drains), -ENOTCONN (no
 * $NOTIFY_SOCKET), another negative errno. Nothing waits: the caller tries again.
 */
int notify_send_fds(const char *text, const int *fds, unsigned n_fds);

/* The socket to $NOTIFY_SOCKET, or -1. */
int notify_fd(void);

/*
 * At exit: one last nonblocking try of what still waits (STOPPING=1 is best
 * effort), then frees the event. The socket stays open until the process ends.
 */
void notify_close(void);

#endif
