/*
 * One frame in or out over SOCK_SEQPACKET: one packet is one protobuf message.
 * Used by both mmiod and libmmio-client.
 */
#ifndef MMIO_WIRE_H
#define MMIO_WIRE_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Sends one frame of len bytes (1..MMIO_MAX_FRAME) without raising SIGPIPE.
 * Returns 0, -EMSGSIZE (len out of range), -EAGAIN (nonblocking fd is full),
 * -ECONNRESET (peer gone), or another negative errno.
 */
int wire_send(int fd, const void *buf, size_t len);

/* wire_send passing pass_fd (unless -1) along with the frame (SCM_RIGHTS). */
int wire_send_fd(int fd, const void *buf, size_t len, int pass_fd);

/*
 * Receives one frame into buf, which holds cap bytes. Returns its length (> 0);
 * 0 when the peer has closed (an empty packet reads the same and is treated as
 * a close); -EAGAIN; -EMSGSIZE if the frame was longer than cap or its
 * ancillary data was cut; -ECONNRESET; another negative errno. File
 * descriptors that arrive with a frame are closed: no side accepts them.
 */
ssize_t wire_recv(int fd, void *buf, size_t cap);

/*
 * wire_recv that keeps the first fd passed with the frame in *passed_fd (-1 if
 * none; CLOEXEC), closing any others. The daemon never calls this: it accepts no fds.
 */
ssize_t wire_recv_fd(int fd, void *buf, size_t cap, int *passed_fd);

/* Closes *fd if it is open and sets it to -1, keeping errno. */
void wire_close_fd(int *fd);

#endif
