/* Speaks the wire protocol directly, for tests that must send what libmmio-client never would. */
#ifndef MMIO_TEST_RAW_CLIENT_H
#define MMIO_TEST_RAW_CLIENT_H

#include <stddef.h>

#include "mmio.pb-c.h"

/* A connected SOCK_SEQPACKET socket to path, or -1. */
int raw_connect(const char *path);

/* Packs and sends req; 0 or a negative errno. */
int raw_send(int fd, const Mmio__Request *req);

/* Receives and unpacks one reply; NULL if the daemon closed the connection or sent junk. */
Mmio__Reply *raw_recv(int fd);

/* Sends Hello with version and returns the reply's status (or -1 if none came). */
int raw_hello(int fd, unsigned version);

/* Blocks until the daemon closes fd; 1 if it did (EOF), 0 if a frame arrived instead. */
int raw_wait_closed(int fd);

#endif
