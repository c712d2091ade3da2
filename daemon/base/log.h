/* The only code in mmiod that writes log lines: stderr in the foreground, journald otherwise. */
#ifndef MMIOD_LOG_H
#define MMIOD_LOG_H

#include <inttypes.h>
#include <stdint.h>
#include <sys/types.h>

enum log_level {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

enum log_sink {
	LOG_SINK_STDERR,
	LOG_SINK_JOURNAL,
};

/* Lines above level are dropped. Also routes libevent's own messages here. */
void log_init(enum log_level level, enum log_sink to);

/* "error", "warn", "info", "debug" -> level; -1 if unknown. */
int log_level_parse(const char *name);

/* Changes the level (SIGHUP: the config's log_level). */
void log_set_level(enum log_level level);

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * How every log line names a connection: CONN_FMT with CONN_ARGS(x), x
 * anything with a conn_id and an identity who (a session, a subscription).
 */
#define CONN_FMT     "conn %" PRIu64 " (pid %d uid %u)"
#define CONN_ARGS(x) (x)->conn_id, (int)(x)->who.pid, (unsigned)(x)->who.uid

/*
 * MESSAGE_IDs of mmiod's lifecycle events, fixed forever (made once with
 * `systemd-id128 new`); systemd/mmiod.catalog explains each to journalctl -x.
 * tests/system/test_catalog.sh checks that the two lists match.
 */
#define MSGID_STARTED         "7df53d0d07864e189478ca6f7c735cd6"
#define MSGID_STOPPED         "bd88c0e509a94b8699862e8cab3b6d91"
#define MSGID_CONNECTED       "264ec047514b448d8ee8294204c1e2a4"
#define MSGID_DISCONNECTED    "065c11c0f31046a4902909a0f4dc1359"
#define MSGID_LEASE_GRANTED   "d4668746cab7471ebb279ad724111ce1"
#define MSGID_LEASE_REVOKED   "1e7d0b91e37746778199c537d603496b"
#define MSGID_POLICY_RELOADED "b7d493b8cf4d43c7830407ee7658dab9"
#define MSGID_DEVICE_FAULT    "178d1ba64232486994d165f429b92963"
#define MSGID_ACCESS_DENIED   "9ffebba70c6b4fda93d85efda23dd1be"

/*
 * A line about a lifecycle event: in the journal an entry with MESSAGE_ID=id
 * (one of MSGID_*), on stderr the same line as log_<level> prints.
 */
void log_event(const char *id, enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* For startup failures and broken invariants only: logs and exits 1. */
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* One audited device access. */
struct audit_record {
	uint64_t conn_id;
	pid_t pid;
	uid_t uid;
	uint64_t lease;
	const char *region;
	const char *op;  /* "load", "store"; the device side's "sim-get", "sim-set", "sim-irq" or
			  * "sim-reset" */
	unsigned width;  /* bytes; 0 for an operation of no width (sim-irq, sim-reset) */
	uint64_t offset; /* in the region, not the lease */
	uint64_t value;
	const char *status; /* "OK", "UNALIGNED", ... */
};

/* Writes rec whatever the log level: one line, and in the journal one entry with fields. */
void log_audit(const struct audit_record *rec);

/* An audit record that is no single access (a park run): "audit: " and the text, whatever the
 * log level; in the journal with MMIOD_AUDIT=1. */
void log_audit_text(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
