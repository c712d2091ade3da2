/*
 * The application's log handler: the library prints nothing of its own, but
 * for a mistake in the user's environment when no handler is set.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

#include "client_internal.h"

/*
 * The handler and its userdata change together under log_pair_lock. Calls of
 * the handler hold log_calls for reading, so that a replacement can wait until
 * no call of the old pair is left (its userdata may then be freed). A thread
 * inside the handler (log_depth) holds log_calls already: it takes it no
 * second time, and cannot wait for itself.
 */
static pthread_mutex_t log_pair_lock = PTHREAD_MUTEX_INITIALIZER;
static mmio_log_handler log_handler;
static void *log_userdata;
static int log_on; /* a handler is set: read without the lock, to skip formatting */
static pthread_rwlock_t log_calls = PTHREAD_RWLOCK_INITIALIZER;
static _Thread_local unsigned log_depth;

void
mmio_set_log_handler(mmio_log_handler handler, void *userdata)
{
	pthread_mutex_lock(&log_pair_lock);
	log_handler = handler;
	log_userdata = userdata;
	__atomic_store_n(&log_on, handler != NULL, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&log_pair_lock);
	if (log_depth == 0 && pthread_rwlock_wrlock(&log_calls) == 0) {
		/* Every call that may have taken the old pair has returned. */
		pthread_rwlock_unlock(&log_calls);
	}
}

void
client_log(enum mmio_log_level level, const char *fmt, ...)
{
	if (!__atomic_load_n(&log_on, __ATOMIC_RELAXED)) {
		return;
	}
	bool outer = log_depth == 0;
	if (outer && pthread_rwlock_rdlock(&log_calls) != 0) {
		return;
	}
	pthread_mutex_lock(&log_pair_lock);
	mmio_log_handler handler = log_handler;
	void *userdata = log_userdata;
	pthread_mutex_unlock(&log_pair_lock);
	if (handler) {
		char msg[256];
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		log_depth++;
		handler(level, msg, userdata);
		log_depth--;
	}
	if (outer) {
		pthread_rwlock_unlock(&log_calls);
	}
}

void
client_warn_user(const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (__atomic_load_n(&log_on, __ATOMIC_RELAXED)) {
		client_log(MMIO_LOG_WARN, "%s", msg);
	} else {
		fprintf(stderr, "libmmio-client: %s\n", msg);
	}
}
