/* mmio-bench: an mmiod of its own, on a temporary socket. */
#ifndef BENCH_DAEMON_H
#define BENCH_DAEMON_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

struct bench_daemon {
	pid_t pid; /* -1: not running */
	char dir[64];
	char socket_path[96];
	char log_path[96];
};

/*
 * Starts mmiod (path) in the foreground on a socket in a new directory under
 * /tmp with one mem region of size bytes named region, its stderr in a log
 * file there, pinned to cpu from before exec unless cpu is -1, and waits until
 * it writes READY to its --ready-fd. 0 or a negative errno (-ECHILD: mmiod
 * exited first). Stop with bench_daemon_stop() either way.
 */
int bench_daemon_start(struct bench_daemon *d, const char *path, const char *region, uint64_t size,
		       int cpu);

/*
 * SIGTERMs mmiod, reaps it and removes its directory; first copies its log to
 * stderr if print_log or if it did not exit 0. Returns 0 if it exited 0 (or
 * was never started), -ECHILD otherwise.
 */
int bench_daemon_stop(struct bench_daemon *d, int print_log);

#endif
