/*
 * Error details, per thread and per client: a thread sharing a client reads
 * the detail of its own last failed request, not another thread's.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "client_internal.h"
#include "text.h"

/*
 * A record is held by its client (until it disconnects) and by its thread
 * (until it exits); whoever lets go last frees it. Only its thread reads or
 * writes the text: no lock.
 */
struct client_detail {
	uint64_t serial;                   /* of the client */
	unsigned refs;                     /* 2 while client and thread hold it, else 1; atomic */
	struct client_detail *thread_next; /* only its thread walks these */
	struct client_detail *client_next; /* c->lock */
	char text[192];                    /* printable ASCII */
};

struct detail_list {
	struct client_detail *first;
};

/* The key only has the thread's records dropped when it exits. */
static pthread_key_t detail_key;
static pthread_once_t detail_once = PTHREAD_ONCE_INIT;
static bool detail_key_made;
static _Thread_local struct detail_list thread_list;
static _Thread_local bool thread_list_keyed;
static uint64_t last_serial; /* atomic */

static void
detail_unref(struct client_detail *d)
{
	if (__atomic_sub_fetch(&d->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		free(d);
	}
}

/* The other holder has let go: a disconnected client's record, or an exited thread's. */
static bool
detail_orphaned(const struct client_detail *d)
{
	return __atomic_load_n(&d->refs, __ATOMIC_ACQUIRE) == 1;
}

/* Runs in the exiting thread, its thread-locals still there. */
static void
detail_thread_exit(void *arg)
{
	struct detail_list *list = arg;
	struct client_detail *next;
	for (struct client_detail *d = list->first; d; d = next) {
		next = d->thread_next;
		detail_unref(d);
	}
	list->first = NULL;
	thread_list_keyed = false;
}

static void
detail_make_key(void)
{
	detail_key_made = pthread_key_create(&detail_key, detail_thread_exit) == 0;
}

/*
 * The calling thread's records; NULL before its first record unless create,
 * and if they could not be freed at its exit (then it keeps none).
 */
static struct detail_list *
thread_details(bool create)
{
	if (!thread_list_keyed && create) {
		pthread_once(&detail_once, detail_make_key);
		thread_list_keyed =
			detail_key_made && pthread_setspecific(detail_key, &thread_list) == 0;
	}
	return thread_list_keyed ? &thread_list : NULL;
}

/* The calling thread's record for c, or NULL. */
static struct client_detail *
detail_find(const struct mmio_client *c)
{
	struct detail_list *list = thread_details(false);
	for (struct client_detail *d = list ? list->first : NULL; d; d = d->thread_next) {
		if (d->serial == c->serial) {
			return d;
		}
	}
	return NULL;
}

/* Unlinks and drops the orphans of a list linked through the member at next_off. */
static void
detail_prune(struct client_detail **head, size_t next_off)
{
	while (*head) {
		struct client_detail *d = *head;
		struct client_detail **next = (struct client_detail **)((char *)d + next_off);
		if (detail_orphaned(d)) {
			*head = *next;
			detail_unref(d);
		} else {
			head = next;
		}
	}
}

/* A new record for the calling thread on c, or NULL. Lock held. */
static struct client_detail *
detail_create(struct mmio_client *c)
{
	struct detail_list *list = thread_details(true);
	if (!list) {
		return NULL;
	}
	/* Both lists stay as long as the clients, and threads, in use. */
	detail_prune(&list->first, offsetof(struct client_detail, thread_next));
	detail_prune(&c->details, offsetof(struct client_detail, client_next));
	struct client_detail *d = calloc(1, sizeof(*d));
	if (d) {
		d->serial = c->serial;
		d->refs = 2;
		d->thread_next = list->first;
		list->first = d;
		d->client_next = c->details;
		c->details = d;
	}
	return d;
}

void
client_details_init(struct mmio_client *c)
{
	c->serial = __atomic_add_fetch(&last_serial, 1, __ATOMIC_RELAXED);
	c->details = NULL;
}

void
client_detail_clear(struct mmio_client *c)
{
	struct client_detail *d = detail_find(c);
	if (d) {
		d->text[0] = '\0';
	}
}

void
client_detail_set(struct mmio_client *c, const char *src)
{
	struct client_detail *d = detail_find(c);
	if (!d) {
		d = detail_create(c);
	}
	/* Out of memory: this thread's detail stays "". */
	if (d) {
		text_copy_printable(d->text, sizeof(d->text), src); /* it may reach a terminal */
	}
}

void
client_details_free(struct mmio_client *c)
{
	struct detail_list *list = thread_details(false);
	for (struct client_detail **p = list ? &list->first : NULL; p && *p;
	     p = &(*p)->thread_next) {
		if ((*p)->serial == c->serial) {
			struct client_detail *d = *p;
			*p = d->thread_next;
			detail_unref(d);
			break;
		}
	}
	struct client_detail *next;
	for (struct client_detail *d = c->details; d; d = next) {
		next = d->client_next;
		detail_unref(d);
	}
	c->details = NULL;
}

const char *
mmio_error_detail(struct mmio_client *client)
{
	const struct client_detail *d = detail_find(client);
	return d ? d->text : "";
}

int
mmio_error_detail_copy(struct mmio_client *client, char *buf, size_t len)
{
	return snprintf(buf, len, "%s", mmio_error_detail(client));
}
