/* mmio-bench: a tracer thread that reads every record as it comes, so none is dropped. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <mmio/client.h>

#include "tracer.h"

static void *
reader(void *arg)
{
	struct tracer *t = arg;
	struct pollfd pfd[2] = {{.fd = t->fd, .events = POLLIN},
				{.fd = t->stop[0], .events = POLLIN}};
	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR) {
				continue;
			}
			break;
		}
		if (pfd[1].revents) {
			break;
		}
		struct mmio_trace_record rec;
		int rc;
		while ((rc = mmio_trace_read(t->fd, &rec)) == 1) {
			t->records++;
			t->dropped += rec.dropped;
		}
		if (rc != -EAGAIN) {
			break; /* the trace ended */
		}
	}
	return NULL;
}

int
tracer_start(struct tracer *t, struct mmio_client *client, const char *region)
{
	*t = (struct tracer){.fd = -1, .stop = {-1, -1}};
	int rc = mmio_trace_open(client, region, &t->fd);
	if (rc < 0) {
		return rc;
	}
	if (fcntl(t->fd, F_SETFL, O_NONBLOCK) < 0 || pipe2(t->stop, O_CLOEXEC) < 0) {
		rc = -errno;
	} else if ((rc = -pthread_create(&t->thread, NULL, reader, t)) == 0) {
		t->running = true;
		return 0;
	}
	tracer_stop(t);
	return rc;
}

void
tracer_stop(struct tracer *t)
{
	if (t->stop[1] >= 0) {
		char one = 1;
		if (t->running && write(t->stop[1], &one, 1) == 1) {
			(void)pthread_join(t->thread, NULL);
		}
		close(t->stop[1]);
		close(t->stop[0]);
	}
	if (t->fd >= 0) {
		close(t->fd);
	}
	t->fd = t->stop[0] = t->stop[1] = -1;
	t->running = false;
}
