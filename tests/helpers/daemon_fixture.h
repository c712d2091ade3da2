/* Starts a real mmiod on a temporary socket for integration tests, and stops it. */
#ifndef MMIO_TEST_DAEMON_FIXTURE_H
#define MMIO_TEST_DAEMON_FIXTURE_H

#include <sys/types.h>

struct daemon_fixture {
	pid_t pid;
	char dir[64];          /* temporary directory holding the socket and the log */
	char socket_path[128]; /* dir/mmiod.sock */
	char log_path[128];    /* dir/mmiod.log: the daemon's stderr */
	char notify_path[128]; /* dir/notify.sock: the daemon's $NOTIFY_SOCKET */
	int notify_fd;
};

/* Makes the temporary directory and fills in the paths; start does it if not done. */
int daemon_fixture_prepare(struct daemon_fixture *f);

/*
 * Runs mmiod --socket f->socket_path --region R... (regions NULL-terminated) and
 * waits, on a pipe passed as --ready-fd, until it accepts connections. If
 * $MMIO_TEST_DAEMON_WRAPPER is set (e.g. "valgrind --error-exitcode=99 -q") the
 * daemon runs under it. Returns 0, or -1 if mmiod could not start (log kept).
 */
int daemon_fixture_start(struct daemon_fixture *f, const char *const *regions);

/* Starts mmiod with args appended verbatim (e.g. --config FILE); as daemon_fixture_start. */
int daemon_fixture_start_args(struct daemon_fixture *f, const char *const *args);

/*
 * daemon_fixture_start_args, but mmiod starts with only stdio and its ready
 * pipe, as under systemd: every other fd of the test (and of whatever started
 * the test) is closed at exec. For tests of the fds mmiod opens itself.
 */
int daemon_fixture_start_clean(struct daemon_fixture *f, const char *const *args);

/*
 * After prepare (done here if not yet), swaps the notify socket for one in the
 * abstract namespace: f->notify_path becomes "@name", as systemd spells it in
 * $NOTIFY_SOCKET, and f->notify_fd reads it. 0 or -1.
 */
int daemon_fixture_use_abstract_notify(struct daemon_fixture *f);

/*
 * Blocks until mmiod sends an sd_notify message containing needle (e.g.
 * "RELOADING=1", then "READY=1" after a SIGHUP). 0, or -1 after a minute.
 */
int daemon_fixture_wait_notify(struct daemon_fixture *f, const char *needle);

/*
 * Like daemon_fixture_start with extra arguments appended verbatim; does not
 * wait for readiness. Returns the child's exit status after it ends: for
 * options that make mmiod refuse to start.
 */
int daemon_fixture_run_to_exit(const char *socket_path, const char *const *args);

/* daemon_fixture_run_to_exit with the daemon's stderr appended to log_path, kept. */
int daemon_fixture_run_logged(const char *socket_path, const char *const *args,
			      const char *log_path);

/*
 * Sends SIGTERM, waits for the daemon and removes the directory. Returns its
 * exit status (0 for a clean stop), or 128 + signal if it was killed.
 */
int daemon_fixture_stop(struct daemon_fixture *f);

/* Removes what prepare and the daemon left in f->dir, and the dir; for a daemon reaped by hand. */
void daemon_fixture_cleanup(struct daemon_fixture *f);

/* Writes text to path (a config, a map, a model for the daemon): 0, or -1 with errno. */
int daemon_fixture_write_file(const char *path, const char *text);

/* Counts the lines of the daemon's log that contain needle. */
int daemon_fixture_log_count(const struct daemon_fixture *f, const char *needle);

/*
 * Blocks until at least count lines of the daemon's log contain needle,
 * woken by inotify on each write to the log (no sleeping, no polling).
 * Returns the count reached, or -1 if it was not reached within timeout_ms.
 */
int daemon_fixture_wait_log(const struct daemon_fixture *f, const char *needle, int count,
			    int timeout_ms);

#endif
