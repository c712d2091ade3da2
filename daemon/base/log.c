#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <event2/event.h>
#include <systemd/sd-journal.h>

#include "base/log.h"

static enum log_level max_level = LOG_LEVEL_INFO;
static enum log_sink sink = LOG_SINK_STDERR;

static const char *const level_names[] = {"error", "warn", "info", "debug"};
static const int level_priorities[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};

/* One line to the sink; id (NULL: none) becomes the journal entry's MESSAGE_ID. */
static void
emit(enum log_level level, const char *id, const char *line)
{
	if (sink == LOG_SINK_JOURNAL && id) {
		sd_journal_send("MESSAGE=%s", line, "PRIORITY=%d", level_priorities[level],
				"MESSAGE_ID=%s", id, NULL);
	} else if (sink == LOG_SINK_JOURNAL) {
		sd_journal_print(level_priorities[level], "%s", line);
	} else {
		/* One call per line, so lines cannot interleave. */
		fprintf(stderr, "mmiod: %s: %s\n", level_names[level], line);
	}
}

static void
log_write(enum log_level level, const char *id, const char *fmt, va_list ap)
{
	if (level > max_level) {
		return;
	}
	int saved = errno;
	char line[1024];
	vsnprintf(line, sizeof(line), fmt, ap);
	emit(level, id, line);
	errno = saved;
}

static void
libevent_log_cb(int severity, const char *msg)
{
	enum log_level level = severity >= EVENT_LOG_ERR    ? LOG_LEVEL_ERROR
			       : severity == EVENT_LOG_WARN ? LOG_LEVEL_WARN
							    : LOG_LEVEL_DEBUG;
	if (level <= max_level) {
		char line[1024];
		snprintf(line, sizeof(line), "libevent: %s", msg);
		emit(level, NULL, line);
	}
}

void
log_init(enum log_level level, enum log_sink to)
{
	max_level = level;
	sink = to;
	event_set_log_callback(libevent_log_cb);
}

void
log_set_level(enum log_level level)
{
	max_level = level;
}

int
log_level_parse(const char *name)
{
	for (int i = 0; i <= LOG_LEVEL_DEBUG; i++) {
		if (strcmp(name, level_names[i]) == 0) {
			return i;
		}
	}
	return -1;
}

#define LOG_FN(fn, level)                                                                          \
	void fn(const char *fmt, ...)                                                              \
	{                                                                                          \
		va_list ap;                                                                        \
		va_start(ap, fmt);                                                                 \
		log_write(level, NULL, fmt, ap);                                                   \
		va_end(ap);                                                                        \
	}
LOG_FN(log_error, LOG_LEVEL_ERROR)
LOG_FN(log_warn, LOG_LEVEL_WARN)
LOG_FN(log_info, LOG_LEVEL_INFO)
LOG_FN(log_debug, LOG_LEVEL_DEBUG)

void
log_event(const char *id, enum log_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_write(level, id, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_write(LOG_LEVEL_ERROR, NULL, fmt, ap);
	va_end(ap);
	exit(1);
}

void
log_audit(const struct audit_record *r)
{
	int saved = errno;
	char line[512];
	/* An operation of no width (the device side's irq and reset) is named alone. */
	char bits[16] = "";
	if (r->width) {
		snprintf(bits, sizeof(bits), "%u", r->width * 8);
	}
	snprintf(line, sizeof(line),
		 "audit: conn %" PRIu64 " pid %d uid %u lease %" PRIu64
		 " region %s %s%s offset 0x%" PRIx64 " value 0x%" PRIx64 " status %s",
		 r->conn_id, (int)r->pid, (unsigned)r->uid, r->lease, r->region, r->op, bits,
		 r->offset, r->value, r->status);
	if (sink == LOG_SINK_JOURNAL) {
		sd_journal_send("MESSAGE=%s", line, "PRIORITY=%d", LOG_NOTICE, "MMIOD_AUDIT=1",
				"MMIOD_CONN=%" PRIu64, r->conn_id, "MMIOD_PID=%d", (int)r->pid,
				"MMIOD_UID=%u", (unsigned)r->uid, "MMIOD_LEASE=%" PRIu64, r->lease,
				"MMIOD_REGION=%s", r->region, "MMIOD_OP=%s", r->op,
				"MMIOD_WIDTH=%u", r->width * 8, "MMIOD_OFFSET=0x%" PRIx64,
				r->offset, "MMIOD_VALUE=0x%" PRIx64, r->value, "MMIOD_STATUS=%s",
				r->status, NULL);
	} else {
		fprintf(stderr, "mmiod: %s\n", line);
	}
	errno = saved;
}

void
log_audit_text(const char *fmt, ...)
{
	int saved = errno;
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	(void)vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (sink == LOG_SINK_JOURNAL) {
		sd_journal_send("MESSAGE=audit: %s", line, "PRIORITY=%d", LOG_NOTICE,
				"MMIOD_AUDIT=1", NULL);
	} else {
		fprintf(stderr, "mmiod: audit: %s\n", line);
	}
	errno = saved;
}
