#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fd_closer.h"
#include "log.h"

/* The fds waiting to be closed: a growable ring, guarded by lock. */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	bool running;
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
		while (closer.count == 0 && !closer.stopping) {
			pthread_cond_wait(&closer.wake, &closer.lock);
		}
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
	if (!closer.running) {
		log_info("descriptors sent by clients are not refused by the kernel "
			 "(SO_PASSRIGHTS: Linux >= 6.16); closing them on a helper thread");
	}
	return fd_closer_start();
}

int
fd_closer_start(void)
{
	if (closer.running) {
		return 0;
	}
	closer.stopping = false;
	int rc = pthread_create(&closer.thread, NULL, closer_main, NULL);
	if (rc != 0) {
		return -rc;
	}
	closer.running = true;
	return 0;
}

bool
fd_closer_threaded(void)
{
	return closer.running;
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
	if (!closer.running) {
		close(*fd);
		*fd = -1;
		errno = saved;
		return;
	}
	pthread_mutex_lock(&closer.lock);
	bool queued = grow_locked();
	if (queued) {
		closer.fds[(closer.head + closer.count) % closer.cap] = *fd;
		closer.count++;
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

void
fd_closer_stop(unsigned timeout_ms)
{
	if (!closer.running) {
		return;
	}
	pthread_mutex_lock(&closer.lock);
	closer.stopping = true;
	pthread_cond_signal(&closer.wake);
	pthread_mutex_unlock(&closer.lock);
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (deadline.tv_nsec >= 1000000000) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000;
	}
	if (pthread_timedjoin_np(closer.thread, NULL, &deadline) != 0) {
		log_warn("a close of a client's descriptor still sleeps; exiting without it");
		return;
	}
	closer.running = false;
	free(closer.fds);
	closer.fds = NULL;
	closer.cap = closer.head = closer.count = 0;
}
