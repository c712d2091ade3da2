/* mmio-bench: an mmiod of its own, on a temporary socket. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon.h"
#include "sys.h"

/* Only a daemon that never starts takes this long; then it is a failure. */
#define READY_TIMEOUT_MS 30000

/* The child between fork and exec: async-signal-safe calls only. */
static void
exec_daemon(char *const argv[], const char *log_path, int ready_fd, int cpu)
{
	/* If the bench dies, its daemon goes too and frees the CPU it was pinned to. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (cpu >= 0 && sys_pin(0, cpu) < 0) {
		_exit(125);
	}
	int log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (log_fd < 0 || null_fd < 0 || dup2(null_fd, STDIN_FILENO) < 0 ||
	    dup2(null_fd, STDOUT_FILENO) < 0 || dup2(log_fd, STDERR_FILENO) < 0) {
		_exit(126);
	}
	/* dup2 onto itself keeps O_CLOEXEC: clear it by hand then. */
	if (ready_fd == 3 ? fcntl(3, F_SETFD, 0) < 0 : dup2(ready_fd, 3) < 0) {
		_exit(126);
	}
	execv(argv[0], argv);
	_exit(127);
}

/* Reads "READY\n" from fd within READY_TIMEOUT_MS. */
static int
wait_ready(int fd)
{
	char buf[16];
	size_t len = 0;
	while (len < 6) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int n = poll(&pfd, 1, READY_TIMEOUT_MS);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			return n < 0 ? -errno : -ETIMEDOUT;
		}
		ssize_t r = read(fd, buf + len, sizeof(buf) - len);
		if (r < 0 && errno == EINTR) {
			continue;
		}
		if (r <= 0) {
			return -ECHILD;
		}
		len += (size_t)r;
	}
	return memcmp(buf, "READY\n", 6) == 0 ? 0 : -EPROTO;
}

int
bench_daemon_start(struct bench_daemon *d, const char *path, const char *region, uint64_t size,
		   int cpu)
{
	d->pid = -1;
	snprintf(d->dir, sizeof(d->dir), "/tmp/mmio-bench-XXXXXX");
	if (!mkdtemp(d->dir)) {
		d->dir[0] = '\0';
		return -errno;
	}
	snprintf(d->socket_path, sizeof(d->socket_path), "%s/mmiod.sock", d->dir);
	snprintf(d->log_path, sizeof(d->log_path), "%s/mmiod.log", d->dir);

	char region_arg[160];
	snprintf(region_arg, sizeof(region_arg), "%s,type=mem,size=0x%" PRIx64, region, size);
	char *argv[] = {(char *)path, "--foreground", "--socket",   d->socket_path,
			"--region",   region_arg,     "--ready-fd", "3",
			NULL};
	int ready[2];
	if (pipe2(ready, O_CLOEXEC) < 0) {
		return -errno;
	}
	pid_t pid = fork();
	if (pid < 0) {
		int err = -errno;
		close(ready[0]);
		close(ready[1]);
		return err;
	}
	if (pid == 0) {
		exec_daemon(argv, d->log_path, ready[1], cpu);
	}
	d->pid = pid;
	close(ready[1]);
	int rc = wait_ready(ready[0]);
	close(ready[0]);
	return rc;
}

static void
print_log(const struct bench_daemon *d, FILE *out)
{
	FILE *f = d->dir[0] ? fopen(d->log_path, "re") : NULL;
	if (!f) {
		return;
	}
	char line[1024];
	fprintf(out, "---- mmiod log ----\n");
	while (fgets(line, sizeof(line), f)) {
		fputs(line, out);
	}
	fclose(f);
}

int
bench_daemon_stop(struct bench_daemon *d, int print)
{
	int rc = 0;
	if (d->pid > 0) {
		kill(d->pid, SIGTERM);
		int status = 0;
		pid_t w;
		while ((w = waitpid(d->pid, &status, 0)) < 0 && errno == EINTR) {
		}
		rc = w == d->pid && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -ECHILD;
		if (rc < 0 && WIFSIGNALED(status)) {
			fprintf(stderr, "mmio-bench: mmiod ended by signal %d\n", WTERMSIG(status));
		} else if (rc < 0) {
			fprintf(stderr, "mmio-bench: mmiod exited %d\n", WEXITSTATUS(status));
		}
		d->pid = -1;
	}
	if (print || rc < 0) {
		print_log(d, stderr);
	}
	if (d->dir[0]) {
		unlink(d->socket_path);
		unlink(d->log_path);
		rmdir(d->dir);
		d->dir[0] = '\0';
	}
	return rc;
}
