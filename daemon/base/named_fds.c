#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/fd_closer.h"
#include "base/named_fds.h"

void
named_fds_init(struct named_fds *t)
{
	t->v = NULL;
	t->n = 0;
	t->cap = 0;
	t->cursor = 0;
}

int
named_fds_add(struct named_fds *t, const char *name, int fd)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct named_fd *v = realloc(t->v, cap * sizeof(*v));
		if (!v) {
			return -ENOMEM;
		}
		t->v = v;
		t->cap = cap;
	}
	char *copy = strdup(name);
	if (!copy) {
		return -ENOMEM;
	}
	t->v[t->n++] = (struct named_fd){.name = copy, .fd = fd};
	return 0;
}

void
named_fds_truncate(struct named_fds *t, size_t n)
{
	while (t->n > n) {
		free(t->v[--t->n].name);
	}
	if (t->cursor > t->n) {
		t->cursor = 0;
	}
}

int
named_fds_take(struct named_fds *t, const char *name)
{
	/* From where the last take stopped: a successor takes names in the order they were
	 * added, so a whole restart costs O(n), not O(n^2). */
	for (size_t k = 0; k < t->n; k++) {
		size_t i = (t->cursor + k) % t->n;
		if (t->v[i].fd >= 0 && strcmp(t->v[i].name, name) == 0) {
			int fd = t->v[i].fd;
			t->v[i].fd = -1;
			t->cursor = i + 1;
			return fd;
		}
	}
	return -1;
}

static void
free_names(struct named_fds *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->v[i].name);
	}
	free(t->v);
	named_fds_init(t);
}

size_t
named_fds_finish(struct named_fds *t)
{
	size_t closed = 0;
	for (size_t i = 0; i < t->n; i++) {
		if (t->v[i].fd >= 0) {
			/* Connections among them may hold descriptors their clients queued. */
			fd_closer_close_socket(&t->v[i].fd);
			closed++;
		}
	}
	free_names(t);
	return closed;
}

void
named_fds_forget(struct named_fds *t)
{
	free_names(t);
}
