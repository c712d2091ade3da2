#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon_fixture.h"

#define MAX_ARGS 64

/* Splits $MMIO_TEST_DAEMON_WRAPPER on spaces into argv; returns the count. */
static int
wrapper_args(char *buf, size_t cap, char **argv, int max)
{
	const char *w = getenv("MMIO_TEST_DAEMON_WRAPPER");
	int n = 0;
	if (!w || !w[0]) {
		return 0;
	}
	snprintf(buf, cap, "%s", w);
	char *save = NULL;
	for (char *t = strtok_r(buf, " ", &save); t && n < max; t = strtok_r(NULL, " ", &save)) {
		argv[n++] = t;
	}
	return n;
}

/*
 * Forks mmiod with its stderr on log_path, $NOTIFY_SOCKET set to notify_path
 * (if not NULL) and, if ready_fd >= 0, --ready-fd 3.
 */
static pid_t
spawn_daemon(const char *socket_path, const char *log_path, const char *const *extra, int ready_fd,
	     const char *notify_path)
{
	char wbuf[512];
	char *argv[MAX_ARGS + 1];
	int n = wrapper_args(wbuf, sizeof(wbuf), argv, MAX_ARGS / 2);
	argv[n++] = (char *)MMIOD_PATH;
	argv[n++] = "--foreground";
	argv[n++] = "--socket";
	argv[n++] = (char *)socket_path;
	if (ready_fd >= 0) {
		argv[n++] = "--ready-fd";
		argv[n++] = "3";
	}
	for (int i = 0; extra && extra[i] && n < MAX_ARGS; i++) {
		argv[n++] = (char *)extra[i];
	}
	argv[n] = NULL;

	pid_t pid = fork();
	if (pid != 0) {
		return pid;
	}
	/*
	 * If the test dies, so does its daemon (until it changes uid, which clears
	 * this), and it never holds the test's stdout open for ctest to wait on.
	 */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	int log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	int null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (log_fd < 0 || null_fd < 0 || dup2(log_fd, STDERR_FILENO) < 0 ||
	    dup2(null_fd, STDOUT_FILENO) < 0) {
		_exit(126);
	}
	if (notify_path && setenv("NOTIFY_SOCKET", notify_path, 1) < 0) {
		_exit(126);
	}
	if (ready_fd >= 0 && dup2(ready_fd, 3) < 0) {
		_exit(126);
	}
	execvp(argv[0], argv);
	_exit(127);
}

static int
exit_status(int status)
{
	if (WIFEXITED(status)) {
		return WEXITSTATUS(status);
	}
	return 128 + WTERMSIG(status);
}

static void
dump_log(const char *log_path)
{
	FILE *f = fopen(log_path, "r");
	char line[1024];
	if (!f) {
		return;
	}
	fprintf(stderr, "---- %s ----\n", log_path);
	while (fgets(line, sizeof(line), f)) {
		fputs(line, stderr);
	}
	fclose(f);
}

void
daemon_fixture_cleanup(struct daemon_fixture *f)
{
	if (f->notify_fd >= 0) {
		close(f->notify_fd);
		f->notify_fd = -1;
	}
	unlink(f->notify_path);
	unlink(f->log_path);
	unlink(f->socket_path);
	/* The directory is the fixture's own (mkdtemp): the configs, maps and models a test wrote
	 * there go with it, or it would stay behind in /tmp. */
	DIR *d = f->dir[0] ? opendir(f->dir) : NULL;
	if (d) {
		struct dirent *e;
		while ((e = readdir(d))) {
			if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
				(void)unlinkat(dirfd(d), e->d_name, 0);
			}
		}
		closedir(d);
	}
	rmdir(f->dir);
}

int
daemon_fixture_prepare(struct daemon_fixture *f)
{
	snprintf(f->dir, sizeof(f->dir), "/tmp/mmiod-test-XXXXXX");
	if (!mkdtemp(f->dir)) {
		return -1;
	}
	snprintf(f->socket_path, sizeof(f->socket_path), "%s/mmiod.sock", f->dir);
	snprintf(f->log_path, sizeof(f->log_path), "%s/mmiod.log", f->dir);
	snprintf(f->notify_path, sizeof(f->notify_path), "%s/notify.sock", f->dir);
	/* Where mmiod's sd_notify() messages arrive, so tests can wait for READY=1. */
	f->notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	memcpy(addr.sun_path, f->notify_path, strlen(f->notify_path) + 1);
	if (f->notify_fd < 0 || bind(f->notify_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		return -1;
	}
	return 0;
}

int
daemon_fixture_use_abstract_notify(struct daemon_fixture *f)
{
	if (!f->dir[0] && daemon_fixture_prepare(f) < 0) {
		return -1;
	}
	/* Named after the unique temporary directory; no NUL at the end, as systemd binds it. */
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int n = snprintf(addr.sun_path + 1, sizeof(addr.sun_path) - 1, "%s/notify", f->dir);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 ||
	    bind(fd, (struct sockaddr *)&addr,
		 (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n)) < 0) {
		if (fd >= 0) {
			close(fd);
		}
		return -1;
	}
	close(f->notify_fd);
	unlink(f->notify_path);
	f->notify_fd = fd;
	/* cleanup's unlink() of this relative "@..." name finds nothing: harmless. */
	snprintf(f->notify_path, sizeof(f->notify_path), "@%s", addr.sun_path + 1);
	return 0;
}

int
daemon_fixture_wait_notify(struct daemon_fixture *f, const char *needle)
{
	char buf[512];
	for (;;) {
		/* Generous: only a daemon that never answers hits it, and that is a failure. */
		struct pollfd pfd = {.fd = f->notify_fd, .events = POLLIN};
		if (poll(&pfd, 1, 60000) != 1) {
			return -1;
		}
		ssize_t n = recv(f->notify_fd, buf, sizeof(buf) - 1, 0);
		if (n < 0) {
			return -1;
		}
		buf[n] = '\0';
		if (strstr(buf, needle)) {
			return 0;
		}
	}
}

int
daemon_fixture_start(struct daemon_fixture *f, const char *const *regions)
{
	const char *args[MAX_ARGS];
	int n = 0;
	for (int i = 0; regions && regions[i] && n + 2 < MAX_ARGS; i++) {
		args[n++] = "--region";
		args[n++] = regions[i];
	}
	args[n] = NULL;
	return daemon_fixture_start_args(f, args);
}

int
daemon_fixture_start_args(struct daemon_fixture *f, const char *const *args)
{
	if (!f->dir[0] && daemon_fixture_prepare(f) < 0) {
		return -1;
	}

	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		return -1;
	}
	f->pid = spawn_daemon(f->socket_path, f->log_path, args, pipefd[1], f->notify_path);
	close(pipefd[1]);
	if (f->pid < 0) {
		close(pipefd[0]);
		return -1;
	}
	/* Blocks until mmiod writes READY, or reads EOF because it died. */
	char buf[16] = "";
	ssize_t got = 0;
	while (got < 6) {
		ssize_t r = read(pipefd[0], buf + got, sizeof(buf) - 1 - (size_t)got);
		if (r < 0 && errno == EINTR) {
			continue;
		}
		if (r <= 0) {
			break;
		}
		got += r;
	}
	close(pipefd[0]);
	if (strncmp(buf, "READY\n", 6) != 0) {
		fprintf(stderr, "mmiod did not start\n");
		dump_log(f->log_path);
		int status;
		kill(f->pid, SIGKILL);
		waitpid(f->pid, &status, 0);
		f->pid = -1;
		daemon_fixture_cleanup(f);
		return -1;
	}
	return 0;
}

int
daemon_fixture_run_logged(const char *socket_path, const char *const *args, const char *log_path)
{
	pid_t pid = spawn_daemon(socket_path, log_path, args, -1, NULL);
	int status = 0;
	if (pid < 0 || waitpid(pid, &status, 0) < 0) {
		return -1;
	}
	return exit_status(status);
}

int
daemon_fixture_run_to_exit(const char *socket_path, const char *const *args)
{
	char log_path[] = "/tmp/mmiod-test-log-XXXXXX";
	int fd = mkstemp(log_path);
	if (fd < 0) {
		return -1;
	}
	close(fd);
	int rc = daemon_fixture_run_logged(socket_path, args, log_path);
	dump_log(log_path);
	unlink(log_path);
	return rc;
}

int
daemon_fixture_stop(struct daemon_fixture *f)
{
	if (f->pid <= 0) {
		return -1;
	}
	int status;
	kill(f->pid, SIGTERM);
	while (waitpid(f->pid, &status, 0) < 0 && errno == EINTR) {
	}
	f->pid = -1;
	int rc = exit_status(status);
	if (rc != 0) {
		dump_log(f->log_path);
	}
	daemon_fixture_cleanup(f);
	return rc;
}

int
daemon_fixture_log_count(const struct daemon_fixture *f, const char *needle)
{
	FILE *file = fopen(f->log_path, "r");
	char line[1024];
	int n = 0;
	if (!file) {
		return -1;
	}
	while (fgets(line, sizeof(line), file)) {
		n += strstr(line, needle) != NULL;
	}
	fclose(file);
	return n;
}

int
daemon_fixture_wait_log(const struct daemon_fixture *f, const char *needle, int count,
			int timeout_ms)
{
	int ino = inotify_init1(IN_CLOEXEC);
	if (ino < 0 || inotify_add_watch(ino, f->log_path, IN_MODIFY) < 0) {
		if (ino >= 0) {
			close(ino);
		}
		return -1;
	}
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	long long deadline_ms = now.tv_sec * 1000LL + now.tv_nsec / 1000000 + timeout_ms;
	/* Watching first, then counting: a write between the two still wakes us. */
	int n;
	while ((n = daemon_fixture_log_count(f, needle)) < count) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		long long left = deadline_ms - (now.tv_sec * 1000LL + now.tv_nsec / 1000000);
		struct pollfd pfd = {.fd = ino, .events = POLLIN};
		char events[4096];
		if (left <= 0 || poll(&pfd, 1, (int)left) != 1 ||
		    read(ino, events, sizeof(events)) <= 0) {
			n = -1;
			break;
		}
	}
	close(ino);
	return n;
}

/*
 * As spawn_daemon with a ready pipe and $NOTIFY_SOCKET, but every fd above
 * 3 is made close-on-exec in the child, so mmiod inherits nothing else.
 */
static pid_t
spawn_daemon_clean(const struct daemon_fixture *f, const char *const *extra, int ready_fd)
{
	char wbuf[512];
	char *argv[MAX_ARGS + 1];
	int n = wrapper_args(wbuf, sizeof(wbuf), argv, MAX_ARGS / 2);
	const char *fixed[] = {MMIOD_PATH,     "--foreground", "--socket",
			       f->socket_path, "--ready-fd",   "3"};
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		argv[n++] = (char *)fixed[i];
	}
	for (int i = 0; extra && extra[i] && n < MAX_ARGS; i++) {
		argv[n++] = (char *)extra[i];
	}
	argv[n] = NULL;

	pid_t pid = fork();
	if (pid != 0) {
		return pid;
	}
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	int log_fd = open(f->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	int null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (log_fd < 0 || null_fd < 0 || dup2(log_fd, STDERR_FILENO) < 0 ||
	    dup2(null_fd, STDOUT_FILENO) < 0 || setenv("NOTIFY_SOCKET", f->notify_path, 1) < 0 ||
	    dup2(ready_fd, 3) < 0 || close_range(4, ~0u, CLOSE_RANGE_CLOEXEC) < 0) {
		_exit(126);
	}
	execvp(argv[0], argv);
	_exit(127);
}

int
daemon_fixture_start_clean(struct daemon_fixture *f, const char *const *args)
{
	if (!f->dir[0] && daemon_fixture_prepare(f) < 0) {
		return -1;
	}
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		return -1;
	}
	f->pid = spawn_daemon_clean(f, args, pipefd[1]);
	close(pipefd[1]);
	char buf[8] = "";
	ssize_t got = 0;
	while (f->pid > 0 && got < 6) {
		ssize_t r = read(pipefd[0], buf + got, 6 - (size_t)got);
		if (r < 0 && errno == EINTR) {
			continue;
		}
		if (r <= 0) {
			break;
		}
		got += r;
	}
	close(pipefd[0]);
	if (f->pid > 0 && strncmp(buf, "READY\n", 6) == 0) {
		return 0;
	}
	fprintf(stderr, "mmiod did not start\n");
	dump_log(f->log_path);
	if (f->pid > 0) {
		int status;
		kill(f->pid, SIGKILL);
		waitpid(f->pid, &status, 0);
	}
	f->pid = -1;
	daemon_fixture_cleanup(f);
	return -1;
}

int
daemon_fixture_write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		return -1;
	}
	int rc = fputs(text, f) < 0 ? -1 : 0;
	return fclose(f) == 0 ? rc : -1;
}
