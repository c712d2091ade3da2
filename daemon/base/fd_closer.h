/*
 * Closing descriptors a client may have had a hand in, without ever sleeping
 * on the loop thread.
 *
 * close() can sleep on an object a client chose: a TCP socket with SO_LINGER
 * and unsent data, a FUSE file whose server is the client, and so on. Clients
 * can hand mmiod such objects only through SCM_RIGHTS: fds attached to a frame,
 * which mmiod then holds, and fds still queued on a connection, which the
 * kernel releases when mmiod closes it. On Linux >= 6.16 the listener is set to
 * SO_PASSRIGHTS = 0 (inherited by every connection), the kernel refuses such
 * frames at the sender, and these closes are plain close(). Where it cannot be
 * set, they go to helper threads instead (sockets first told not to linger): a
 * close that sleeps holds up one thread and the release of descriptors behind
 * it when all are stuck, never a request.
 */
#ifndef MMIOD_FD_CLOSER_H
#define MMIOD_FD_CLOSER_H

#include <stdbool.h>

/* Set in the environment (to anything), mmiod behaves as on a kernel before 6.16 (for tests). */
#define FD_CLOSER_NO_PASSRIGHTS_ENV "MMIOD_NO_SO_PASSRIGHTS"

/*
 * Makes the kernel refuse descriptors sent to sock, a listener (its
 * connections inherit it) or a socket a client can write to. Where it cannot,
 * starts the helper threads (fd_closer_start). 0, or a negative errno if
 * neither worked.
 */
int fd_closer_guard(int sock);

/*
 * From now on, closes go to helper threads rather than being made inline: the
 * first starts here, more (up to a few) while closes wait. 0 or a negative
 * errno (the first thread could not start).
 */
int fd_closer_start(void);

/* True once fd_closer_start() succeeded. */
bool fd_closer_threaded(void);

/*
 * Closes *fd (if open) as described above and sets it to -1. With threads:
 * queued, never waited for. Keeps errno.
 */
void fd_closer_close(int *fd);

/*
 * fd_closer_close for a socket a client can send descriptors to (a
 * connection, mmiod's end of a doorbell). With threads, the descriptors
 * queued on it are taken out first (at most a bounded number of messages) and
 * closed as above, each socket among them told not to linger: closing the
 * socket with them inside would release them all on one closer thread.
 */
void fd_closer_close_socket(int *fd);

/*
 * Stops the threads after the closes queued so far, waiting at most timeout_ms
 * for one that sleeps (the process is about to end and takes it along).
 */
void fd_closer_stop(unsigned timeout_ms);

#endif
