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

/* Most fds one frame carries (the fast path's memfd and doorbell). */
#define WIRE_MAX_PASS_FDS 2

/* wire_send passing n_fds (<= WIRE_MAX_PASS_FDS) fds along with the frame. */
int wire_send_fds(int fd, const void *buf, size_t len, const int *pass_fds, unsigned n_fds);

/*
 * Receives one frame into buf, which holds cap bytes. Returns its length (> 0);
 * 0 when the peer has closed (an empty packet reads the same and is treated as
 * a close); -EAGAIN; -EMSGSIZE if the frame was longer than cap or its
 * ancillary data was cut; -ECONNRESET; another negative errno. File
 * descriptors that arrive with a frame are closed: no side accepts them.
 */
ssize_t wire_recv(int fd, void *buf, size_t cap);

/*
 * wire_recv keeping the first max_fds fds passed with the frame in passed_fds
 * (-1 where absent; CLOEXEC), closing any others. The daemon never keeps any:
 * it accepts no fds.
 */
ssize_t wire_recv_fds(int fd, void *buf, size_t cap, int *passed_fds, unsigned max_fds);

/* The most fds one frame can carry (the kernel's SCM_MAX_FD). */
#define WIRE_MAX_RECV_FDS 253

/*
 * wire_recv handing every fd that came with the frame (up to WIRE_MAX_RECV_FDS,
 * CLOEXEC) to the caller in fds[*n_fds], even on an error return, and closing
 * none: closing a client's fd can sleep, so mmiod chooses where (fd_closer.h).
 */
ssize_t wire_recv_keep_fds(int fd, void *buf, size_t cap, int fds[WIRE_MAX_RECV_FDS],
			   unsigned *n_fds);

/* Closes *fd if it is open and sets it to -1, keeping errno. */
void wire_close_fd(int *fd);

#endif
