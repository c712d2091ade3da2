/*
 * Runs a command with its stdin, stdout and stderr on pipes, for tests that
 * drive a program as a user or a script would: write a line, read the line it
 * answers, then collect everything else it printed and its exit status. No
 * sleeps: every wait is a poll() on a pipe, bounded by a timeout that only a
 * hung program reaches. Ignore SIGPIPE in the caller, so that a child that
 * exits early shows up as -EPIPE rather than killing the test.
 *
 * Not named spawn.h: this directory is on every test's include path, where
 * that name would shadow POSIX <spawn.h>.
 */
#ifndef MMIO_TEST_SPAWN_PROC_H
#define MMIO_TEST_SPAWN_PROC_H

#include <stddef.h>
#include <sys/types.h>

/* A running child: our ends of its stdin, stdout and stderr (-1 once closed). */
struct spawn_proc {
	pid_t pid;
	int in, out, err;
};

/* What a finished child printed (NUL-terminated, heap) and how it ended. */
struct spawn_proc_result {
	int status; /* exit status, or 128 + signal number */
	char *out, *err;
};

/*
 * Starts argv[0] (a path; argv NULL-terminated) with the current environment
 * and all three stdio on pipes. Returns 0, or a negative errno from pipe2() or
 * posix_spawn() (nothing is left open or running then).
 */
int spawn_proc_start(struct spawn_proc *p, const char *const *argv);

/*
 * Writes all of text to the child's stdin. Returns 0, or a negative errno
 * (-EPIPE once the child stopped reading).
 */
int spawn_proc_write(struct spawn_proc *p, const char *text);

/*
 * Waits up to timeout_ms for the next line of the child's stdout and stores
 * it in line without its '\n'. Returns its length, -ETIMEDOUT, -EPIPE if
 * stdout reached EOF first, -EMSGSIZE if the line does not fit in cap, or
 * another negative errno from poll() or read().
 */
int spawn_proc_read_line(struct spawn_proc *p, char *line, size_t cap, int timeout_ms);

/*
 * Writes input (NULL: none; a child that stopped reading is not an error),
 * closes stdin, collects stdout and stderr until both reach EOF and reaps the
 * child into *r. Returns 0, or -ETIMEDOUT if no output came for timeout_ms,
 * -ENOMEM, or a negative errno from poll(), read() or waitpid(); on failure
 * the child is killed and reaped and *r holds nothing to free. Either way p
 * is finished: every fd closed.
 */
int spawn_proc_finish(struct spawn_proc *p, const char *input, int timeout_ms,
		      struct spawn_proc_result *r);

/* Frees what spawn_proc_finish() stored in r. */
void spawn_proc_result_finish(struct spawn_proc_result *r);

#endif
