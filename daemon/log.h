/* The only code in mmiod that writes log lines: stderr in the foreground, journald otherwise. */
#ifndef MMIOD_LOG_H
#define MMIOD_LOG_H

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

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* For startup failures and broken invariants only: logs and exits 1. */
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* One audited device access. */
struct audit_record {
	uint64_t conn_id;
	pid_t pid;
	uid_t uid;
	uint64_t lease;
	const char *region;
	const char *op;  /* "load" or "store" */
	unsigned width;  /* bytes */
	uint64_t offset; /* in the region, not the lease */
	uint64_t value;
	const char *status; /* "OK", "UNALIGNED", ... */
};

/* Writes rec whatever the log level: one line, and in the journal one entry with fields. */
void log_audit(const struct audit_record *rec);

#endif
