#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attacker.h"
#include "mmio_limits.h"
#include "raw_client.h"

/* Closes every fd from 3 up but keep1 and keep2 (another attacker's stop pipe among them). */
static void
close_all_but(int keep1, int keep2)
{
	unsigned lo = (unsigned)(keep1 < keep2 ? keep1 : keep2);
	unsigned hi = (unsigned)(keep1 < keep2 ? keep2 : keep1);
	if (lo > 3) {
		close_range(3, lo - 1, 0);
	}
	if (hi > lo + 1) {
		close_range(lo + 1, hi - 1, 0);
	}
	close_range(hi + 1, ~0u, 0);
}

static void __attribute__((noreturn))
run_attacker(const char *path, const struct attacker *a, int ready, int stop)
{
	/* Else a later attacker keeps an earlier one's stop pipe open and it never sees EOF. */
	close_all_but(ready, stop);
	unsigned n = a->idle + a->trickle;
	struct rlimit rl = {.rlim_cur = n + 64, .rlim_max = n + 64};
	setrlimit(RLIMIT_NOFILE, &rl);
	if (geteuid() == 0 && (setgroups(0, NULL) < 0 || setresgid(a->uid, a->uid, a->uid) < 0 ||
			       setresuid(a->uid, a->uid, a->uid) < 0)) {
		_exit(127);
	}
	struct pollfd *pfds = calloc(n + 1, sizeof(*pfds));
	if (!pfds) {
		_exit(1);
	}
	char ok = 'y';
	for (unsigned i = 0; i < n; i++) {
		pfds[i].fd = raw_connect(path);
		/* Idle sockets are watched for mmiod closing them; replies to the others never
		 * read. */
		pfds[i].events = i < a->idle ? POLLIN : 0;
		if (pfds[i].fd < 0 ||
		    (i >= a->idle &&
		     raw_hello(pfds[i].fd, MMIO_PROTOCOL_VERSION) != MMIO__STATUS__OK)) {
			ok = 'n';
		}
	}
	if (write(ready, &ok, 1) != 1) {
		_exit(1);
	}
	pfds[n].fd = stop;
	pfds[n].events = POLLIN;
	Mmio__ListRegions list = MMIO__LIST_REGIONS__INIT;
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.body_case = MMIO__REQUEST__BODY_LIST_REGIONS;
	req.list_regions = &list;
	uint8_t buf[32];
	size_t len = mmio__request__pack(&req, buf);
	for (unsigned tick = 0;; tick++) {
		/* The 1 ms is the trickle's pace; the stop fd ends the attack. */
		int ready_fds = poll(pfds, n + 1, a->trickle ? 1 : -1);
		if (ready_fds < 0 && errno != EINTR) {
			_exit(1);
		}
		if (pfds[n].revents) {
			_exit(0);
		}
		for (unsigned i = 0; ready_fds > 0 && i < n; i++) {
			if (!pfds[i].revents) {
				continue;
			}
			close(pfds[i].fd);
			/* An idle socket mmiod closed (handshake timeout, a limit) is opened again.
			 */
			pfds[i].fd = i < a->idle ? raw_connect(path) : -1;
		}
		if (a->trickle) {
			int fd = pfds[a->idle + tick % a->trickle].fd;
			if (fd >= 0) {
				send(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
			}
		}
	}
}

int
attacker_start(const char *socket_path, struct attacker *a)
{
	int ready[2], stop[2];
	if (pipe2(ready, O_CLOEXEC) < 0) {
		return -1;
	}
	if (pipe2(stop, O_CLOEXEC) < 0) {
		close(ready[0]);
		close(ready[1]);
		return -1;
	}
	fflush(NULL);
	a->pid = fork();
	if (a->pid == 0) {
		close(ready[0]);
		close(stop[1]);
		run_attacker(socket_path, a, ready[1], stop[0]);
	}
	close(ready[1]);
	close(stop[0]);
	a->stop_fd = stop[1];
	char ok = 0;
	ssize_t got = a->pid > 0 ? read(ready[0], &ok, 1) : -1;
	close(ready[0]);
	if (got == 1 && ok == 'y') {
		return 0;
	}
	attacker_stop(a);
	return -1;
}

int
attacker_stop(struct attacker *a)
{
	if (a->stop_fd >= 0) {
		close(a->stop_fd);
		a->stop_fd = -1;
	}
	if (a->pid <= 0) {
		return -1;
	}
	int status;
	while (waitpid(a->pid, &status, 0) < 0) {
		if (errno != EINTR) {
			return -1;
		}
	}
	a->pid = -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
