#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "log.h"

static enum log_level max_level = LOG_LEVEL_INFO;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

static void
log_write(enum log_level level, const char *fmt, va_list ap)
{
	if (level > max_level) {
		return;
	}
	int saved = errno;
	char line[1024];
	vsnprintf(line, sizeof(line), fmt, ap);
	/* One write per line, so lines from a crash-time flush cannot interleave. */
	fprintf(stderr, "mmiod: %s: %s\n", level_names[level], line);
	errno = saved;
}

static void
libevent_log_cb(int severity, const char *msg)
{
	enum log_level level = severity >= EVENT_LOG_ERR    ? LOG_LEVEL_ERROR
			       : severity == EVENT_LOG_WARN ? LOG_LEVEL_WARN
							    : LOG_LEVEL_DEBUG;
	if (level <= max_level) {
		fprintf(stderr, "mmiod: %s: libevent: %s\n", level_names[level], msg);
	}
}

void
log_init(enum log_level level)
{
	max_level = level;
	event_set_log_callback(libevent_log_cb);
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
		log_write(level, fmt, ap);                                                         \
		va_end(ap);                                                                        \
	}
LOG_FN(log_error, LOG_LEVEL_ERROR)
LOG_FN(log_warn, LOG_LEVEL_WARN)
LOG_FN(log_info, LOG_LEVEL_INFO)
LOG_FN(log_debug, LOG_LEVEL_DEBUG)

void
fatal(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_write(LOG_LEVEL_ERROR, fmt, ap);
	va_end(ap);
	exit(1);
}
