/*
 * The mmioctl binary (MMIOCTL_PATH) run from cmocka tests, through spawn_proc:
 * one-shot commands checked for exit status, stdout and stderr, and `run`
 * scripts fed a line at a time. Every check is a cmocka assertion, so these
 * are for test bodies only. socket NULL runs mmioctl without -s.
 */
#ifndef MMIO_TEST_CLI_H
#define MMIO_TEST_CLI_H

#include <stddef.h>
#include <sys/types.h>

struct spawn_proc;
struct spawn_proc_result;

/* Not a sleep: only how long a broken mmioctl may stay silent before the test fails. */
#define IO_TIMEOUT_MS 30000

/* A NULL-terminated argument list: ARGS("read", "sim0", "0"). */
#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

/*
 * One script line and the result line it must print (NULL: none). An error
 * result "error NAME: fragment" matches a line that starts "error NAME: " and
 * holds fragment in the rest; any other result must match the whole line.
 */
struct cli_step {
	const char *line;
	const char *result;
};

/* Starts mmioctl [-s socket] args... with all three stdio on pipes. */
void cli_start(struct spawn_proc *p, const char *socket, const char *const *args);

/*
 * Sends input (NULL: none), closes stdin, and collects all output and the
 * exit status into *r (free with spawn_proc_result_finish()).
 */
void cli_finish(struct spawn_proc *p, const char *input, struct spawn_proc_result *r);

/* Runs mmioctl [-s socket] args... to completion with input on stdin. */
void cli_run(const char *socket, const char *input, struct spawn_proc_result *r,
	     const char *const *args);

/*
 * Runs mmioctl and checks its exit status and, unless out is NULL, its exact
 * stdout; stderr must be empty when status is 0.
 */
void cli_expect(const char *socket, const char *const *args, int status, const char *out);

/*
 * Expects a refused request: exit 1, stdout empty, and on stderr the line
 * "mmioctl: <what>: STATUS_NAME: <detail>" with detail containing the given
 * fragment of the daemon's explanation, and nothing more but "mmioctl: hint:"
 * lines. For a NULL status_name, a usage error:
 * exit 2 and "mmioctl: ..." on stderr.
 */
void cli_expect_failure(const char *socket, const char *const *args, const char *status_name,
			const char *detail);

/* Sends line to a running `mmioctl run` and checks the result it prints (want NULL: none). */
void cli_expect_line(struct spawn_proc *p, const char *line, const char *want);

/*
 * Runs `mmioctl run args...`, feeding steps one at a time and checking each
 * result as it arrives, then closes its stdin and expects exit status and
 * nothing more on stdout.
 */
void cli_run_steps(const char *socket, const char *const *args, const struct cli_step *steps,
		   size_t n, int status);

/*
 * Counts the rows of `mmioctl leases` that match region/start/length and, if
 * pid > 0, pid. Every row must show our uid and an access of rw or ro.
 */
int cli_count_leases(const char *socket, const char *region, const char *start, const char *length,
		     pid_t pid);

/*
 * The id of the one row of `mmioctl leases` that matches region/start/length
 * and pid, which must show access ("rw" or "ro"); fails the test otherwise.
 */
unsigned long long cli_lease_id(const char *socket, const char *region, const char *start,
				const char *length, pid_t pid, const char *access);

#endif
