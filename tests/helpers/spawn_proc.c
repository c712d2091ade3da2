#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spawn_proc.h"

extern char **environ;

/* Closes *fd if open and marks it closed; keeps errno. */
static void
close_fd(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
		*fd = -1;
	}
}

int
spawn_proc_start(struct spawn_proc *p, const char *const *argv)
{
	/* fds[i]: the pipe of stdio fd i; [0] is its read end, [1] its write end. */
	int fds[3][2] = {{-1, -1}, {-1, -1}, {-1, -1}};
	posix_spawn_file_actions_t fa;
	int rc = posix_spawn_file_actions_init(&fa);
	if (rc != 0) {
		return -rc;
	}
	for (int i = 0; i < 3 && rc == 0; i++) {
		if (pipe2(fds[i], O_CLOEXEC) < 0) {
			rc = errno;
			break;
		}
		/* The child's end: the read end of stdin, the write ends of stdout and stderr. */
		rc = posix_spawn_file_actions_adddup2(&fa, fds[i][i == 0 ? 0 : 1], i);
	}
	if (rc == 0) {
		rc = posix_spawn(&p->pid, argv[0], &fa, NULL, (char *const *)argv, environ);
	}
	posix_spawn_file_actions_destroy(&fa);
	close_fd(&fds[0][0]);
	close_fd(&fds[1][1]);
	close_fd(&fds[2][1]);
	if (rc != 0) {
		close_fd(&fds[0][1]);
		close_fd(&fds[1][0]);
		close_fd(&fds[2][0]);
		return -rc;
	}
	p->in = fds[0][1];
	p->out = fds[1][0];
	p->err = fds[2][0];
	return 0;
}

int
spawn_proc_write(struct spawn_proc *p, const char *text)
{
	size_t len = strlen(text);
	while (len > 0) {
		ssize_t n = write(p->in, text, len);
		if (n < 0) {
			if (errno == EINTR) {
				continue;
			}
			return -errno;
		}
		text += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Waits up to timeout_ms for fd to become readable (or reach EOF); 0 or a negative errno. */
static int
wait_readable(int fd, int timeout_ms)
{
	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int n = poll(&pfd, 1, timeout_ms);
		if (n > 0) {
			return 0;
		}
		if (n == 0) {
			return -ETIMEDOUT;
		}
		if (errno != EINTR) {
			return -errno;
		}
	}
}

/*
 * One byte at a time, so that nothing after the line is consumed: the rest
 * stays in the pipe for the next call or for spawn_proc_finish().
 */
int
spawn_proc_read_line(struct spawn_proc *p, char *line, size_t cap, int timeout_ms)
{
	size_t n = 0;
	for (;;) {
		int rc = wait_readable(p->out, timeout_ms);
		if (rc < 0) {
			return rc;
		}
		char c;
		ssize_t got = read(p->out, &c, 1);
		if (got < 0 && errno == EINTR) {
			continue;
		}
		if (got < 0) {
			return -errno;
		}
		if (got == 0) {
			return -EPIPE;
		}
		if (c == '\n') {
			break;
		}
		if (n + 1 >= cap) {
			return -EMSGSIZE;
		}
		line[n++] = c;
	}
	line[n] = '\0';
	return (int)n;
}

/* Appends what one read() of *fd gives to *text (length *len); closes *fd at EOF. */
static int
drain_once(int *fd, char **text, size_t *len)
{
	char chunk[4096];
	ssize_t got = read(*fd, chunk, sizeof(chunk));
	if (got < 0) {
		return errno == EINTR ? 0 : -errno;
	}
	if (got == 0) {
		close_fd(fd);
		return 0;
	}
	char *grown = realloc(*text, *len + (size_t)got + 1);
	if (!grown) {
		return -ENOMEM;
	}
	*text = grown;
	memcpy(*text + *len, chunk, (size_t)got);
	*len += (size_t)got;
	(*text)[*len] = '\0';
	return 0;
}

/* Collects stdout and stderr of p into text[0] and text[1] until both reach EOF. */
static int
collect_output(struct spawn_proc *p, int timeout_ms, char **text)
{
	int *fds[2] = {&p->out, &p->err};
	size_t len[2] = {0, 0};
	while (p->out >= 0 || p->err >= 0) {
		struct pollfd pfd[2] = {{.fd = p->out, .events = POLLIN},
					{.fd = p->err, .events = POLLIN}};
		int n = poll(pfd, 2, timeout_ms);
		if (n == 0) {
			return -ETIMEDOUT;
		}
		if (n < 0) {
			if (errno == EINTR) {
				continue;
			}
			return -errno;
		}
		for (int i = 0; i < 2; i++) {
			if (pfd[i].revents == 0) {
				continue;
			}
			int rc = drain_once(fds[i], &text[i], &len[i]);
			if (rc < 0) {
				return rc;
			}
		}
	}
	return 0;
}

int
spawn_proc_finish(struct spawn_proc *p, const char *input, int timeout_ms,
		  struct spawn_proc_result *r)
{
	/* A child that already stopped reading gets EPIPE here: that is its business. */
	if (input) {
		(void)spawn_proc_write(p, input);
	}
	close_fd(&p->in);
	char *text[2] = {calloc(1, 1), calloc(1, 1)};
	int rc = text[0] && text[1] ? collect_output(p, timeout_ms, text) : -ENOMEM;
	close_fd(&p->out);
	close_fd(&p->err);
	if (rc < 0) {
		kill(p->pid, SIGKILL);
	}
	int status;
	while (waitpid(p->pid, &status, 0) < 0) {
		if (errno != EINTR) {
			rc = rc < 0 ? rc : -errno;
			break;
		}
	}
	if (rc < 0) {
		free(text[0]);
		free(text[1]);
		return rc;
	}
	r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	r->out = text[0];
	r->err = text[1];
	return 0;
}

void
spawn_proc_result_finish(struct spawn_proc_result *r)
{
	free(r->out);
	free(r->err);
	r->out = NULL;
	r->err = NULL;
}
