/* Speaks the wire protocol directly, for tests that must send what libmmio-client never would. */
#ifndef MMIO_TEST_RAW_CLIENT_H
#define MMIO_TEST_RAW_CLIENT_H

#include <stddef.h>

#include "mmio.pb-c.h"

/* A connected SOCK_SEQPACKET socket to path, or -1. */
int raw_connect(const char *path);

/* A SOCK_SEQPACKET socket bound to path and listening, as a socket unit's (close-on-exec), or
 * -1. */
int raw_listen(const char *path);

/* Packs and sends req; 0 or a negative errno. */
int raw_send(int fd, const Mmio__Request *req);

/* Receives and unpacks one reply; NULL if the daemon closed the connection or sent junk. */
Mmio__Reply *raw_recv(int fd);

/* Sends Hello with version and returns the reply's status (or -1 if none came). */
int raw_hello(int fd, unsigned version);

/* Blocks until the daemon closes fd; 1 if it did (EOF), 0 if a frame arrived instead. */
int raw_wait_closed(int fd);

/* Sends len bytes of frame with n_fds (<= 253) fds attached (SCM_RIGHTS); 0 or a negative errno. */
int raw_send_fds(int fd, const void *frame, size_t len, const int *fds, unsigned n_fds);

/* Packs req into a static buffer; returns it and its length in *len. */
const void *raw_pack(const Mmio__Request *req, size_t *len);

/*
 * True when this kernel can refuse descriptors sent to a socket (SO_PASSRIGHTS,
 * Linux >= 6.16), so that mmiod will, unless told otherwise
 * ($MMIOD_NO_SO_PASSRIGHTS).
 */
int raw_kernel_refuses_fds(void);

/*
 * Sends a ListRegions on a new connection (Hello first) and waits at most
 * guard_ms for each reply. 0 when both came, -1 otherwise: for a bystander
 * checking that mmiod serves.
 */
int raw_visit(const char *path, int guard_ms);

#endif
