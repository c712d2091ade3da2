/* What mmioctl.c (argv, one-shot commands) and mmioctl_run.c (`run`) share. */
#ifndef MMIOCTL_H
#define MMIOCTL_H

#include <stdbool.h>

struct mmio_client;

/* Exit statuses: a request was refused or failed; the command line was wrong. */
#define MMIOCTL_EXIT_FAILURE 1
#define MMIOCTL_EXIT_USAGE   2

/*
 * The daemon status name of err (a negative errno from libmmio-client), or
 * "ERROR" for an errno the library has no name for. Never NULL.
 */
const char *mmioctl_status_name(int err);

/*
 * What to print after the status name for err, the error of the last request
 * on client (NULL: none): the daemon's explanation, mmio_error_detail(), when
 * it gave one, else mmio_strerror(err). Valid until the next call on client.
 */
const char *mmioctl_error_detail(struct mmio_client *client, int err);

/*
 * Connects to mmiod at socket_path (NULL: the library's default). Returns 0
 * and *out, or prints "mmioctl: connect PATH: reason" and returns
 * MMIOCTL_EXIT_FAILURE.
 */
int mmioctl_connect(const char *socket_path, struct mmio_client **out);

/* The body of `mmioctl run --help`: the script language. */
extern const char mmioctl_run_help[];

/*
 * `mmioctl run`: executes the script in path ("-": stdin) on one connection,
 * line by line as lines arrive, printing one result line per command to
 * stdout and flushing it at once. Stops at the first failing line unless
 * keep_going. Returns 0 if every line succeeded, else MMIOCTL_EXIT_FAILURE.
 */
int mmioctl_run(const char *path, const char *socket_path, bool keep_going);

#endif
