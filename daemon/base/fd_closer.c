#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/fd_closer.h"
#include "base/log.h"
#include "wire.h"

/*
 * Closer threads: a second starts when a close waits and none is idle, so one
 * close that sleeps does not hold up the rest; at most this many.
 */
#define CLOSER_MAX_THREADS 8

/* The fds waiting to be closed: a growable ring, guarded by lock. */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t threads[CLOSER_MAX_THREADS];
	unsigned n_threads;
	unsigned idle;
	bool stopping;
	int *fds;
	size_t cap;
	size_t head; /* next to close */
	size_t count;
} closer = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER};

static void *
closer_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&closer.lock);
	for (;;) {
		closer.idle++;
		while (closer.count == 0 && !closer.stopping) {
			pthread_cond_wait(&closer.wake, &closer.lock);
		}
		closer.idle--;
		if (closer.count == 0) {
			break;
		}
		int fd = closer.fds[closer.head];
		closer.head = (closer.head + 1) % closer.cap;
		closer.count--;
		pthread_mutex_unlock(&closer.lock);
		close(fd); /* may sleep: that is why it is here */
		pthread_mutex_lock(&closer.lock);
	}
	pthread_mutex_unlock(&closer.lock);
	return NULL;
}

/* One more closer thread, if below the cap. Called with the lock held. */
static int
add_thread_locked(void)
{
	if (closer.n_threads == CLOSER_MAX_THREADS) {
		return 0;
	}
	int rc = pthread_create(&closer.threads[closer.n_threads], NULL, closer_main, NULL);
	if (rc != 0) {
		return -rc;
	}
	closer.n_threads++;
	return 0;
}

/* Linux 6.16's asm-generic value; Debian 12's headers predate it. */
#ifndef SO_PASSRIGHTS
#define SO_PASSRIGHTS 83
#endif

int
fd_closer_guard(int sock)
{
	static const int off = 0;
	if (!getenv(FD_CLOSER_NO_PASSRIGHTS_ENV) &&
	    setsockopt(sock, SOL_SOCKET, SO_PASSRIGHTS, &off, sizeof(off)) == 0) {
		return 0;
	}
	if (closer.n_threads == 0) {
		log_info("descriptors sent by clients are not refused by the kernel "
			 "(SO_PASSRIGHTS: Linux >= 6.16); closing them on helper threads");
	}
	return fd_closer_start();
}

int
fd_closer_start(void)
{
	pthread_mutex_lock(&closer.lock);
	int rc = 0;
	if (closer.n_threads == 0) {
		closer.stopping = false;
		rc = add_thread_locked();
	}
	pthread_mutex_unlock(&closer.lock);
	return rc;
}

bool
fd_closer_threaded(void)
{
	return closer.n_threads > 0;
}

/* Room for one more fd; false when out of memory. Called with the lock held. */
static bool
grow_locked(void)
{
	if (closer.count < closer.cap) {
		return true;
	}
	size_t cap = closer.cap ? closer.cap * 2 : 64;
	int *fds = malloc(cap * sizeof(*fds));
	if (!fds) {
		return false;
	}
	for (size_t i = 0; closer.cap > 0 && i < closer.count; i++) {
		fds[i] = closer.fds[(closer.head + i) % closer.cap];
	}
	free(closer.fds);
	closer.fds = fds;
	closer.cap = cap;
	closer.head = 0;
	return true;
}

void
fd_closer_close(int *fd)
{
	if (*fd < 0) {
		return;
	}
	int saved = errno;
	if (closer.n_threads == 0) {
		close(*fd);
		*fd = -1;
		errno = saved;
		return;
	}
	/* The usual sleeper is a socket set to linger: then it need not (not a socket: ENOTSOCK).
	 */
	static const struct linger no_linger = {.l_onoff = 0, .l_linger = 0};
	(void)setsockopt(*fd, SOL_SOCKET, SO_LINGER, &no_linger, sizeof(no_linger));
	pthread_mutex_lock(&closer.lock);
	bool queued = grow_locked();
	if (queued) {
		closer.fds[(closer.head + closer.count) % closer.cap] = *fd;
		closer.count++;
		if (closer.idle == 0) {
			(void)add_thread_locked(); /* else the busy ones get to it */
		}
		pthread_cond_signal(&closer.wake);
	}
	pthread_mutex_unlock(&closer.lock);
	if (!queued) {
		/* Out of memory: leaking one fd beats sleeping in the loop. */
		log_error("cannot queue fd %d for closing: out of memory; it stays open", *fd);
	}
	*fd = -1;
	errno = saved;
}

/* Messages taken off a socket before it is closed: its queue is bounded by its buffer anyway. */
#define DRAIN_MAX_MESSAGES 64

void
fd_closer_close_socket(int *fd)
{
	if (*fd >= 0 && closer.n_threads > 0) {
		char data[64]; /* the frames themselves are not wanted: MSG_TRUNC drops the rest */
		int fds[WIRE_MAX_RECV_FDS];
		for (int i = 0; i < DRAIN_MAX_MESSAGES; i++) {
			unsigned n = 0;
			ssize_t got = wire_recv_keep_fds(*fd, data, sizeof(data), fds, &n);
			for (unsigned k = 0; k < n; k++) {
				fd_closer_close(&fds[k]);
			}
			if (got <= 0 && got != -EMSGSIZE) {
				break; /* empty (EAGAIN), closed or broken */
			}
		}
	}
	fd_closer_close(fd);
}

void
fd_closer_stop(unsigned timeout_ms)
{
	pthread_mutex_lock(&closer.lock);
	unsigned n = closer.n_threads;
	closer.stopping = true;
	pthread_cond_broadcast(&closer.wake);
	pthread_mutex_unlock(&closer.lock);
	if (n == 0) {
		return;
	}
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (deadline.tv_nsec >= 1000000000) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000;
	}
	bool all = true;
	for (unsigned i = 0; i < n; i++) {
		all &= pthread_timedjoin_np(closer.threads[i], NULL, &deadline) == 0;
	}
	if (!all) {
		/* A sleeping thread still uses the queue: leave it all to the process's end. */
		log_warn("a close of a client's descriptor still sleeps; exiting without it");
		return;
	}
	closer.n_threads = 0;
	closer.idle = 0;
	free(closer.fds);
	closer.fds = NULL;
	closer.cap = closer.head = closer.count = 0;
}
