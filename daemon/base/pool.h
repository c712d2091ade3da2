/* Allocations freed together: a restart's state message, built piece by piece. */
#ifndef MMIOD_POOL_H
#define MMIOD_POOL_H

#include <stddef.h>

struct pool {
	void **blocks;
	size_t n;
	size_t cap;
};

void pool_init(struct pool *p);

/* n zeroed bytes that live until pool_finish, or NULL. */
void *pool_alloc(struct pool *p, size_t n);

/* A copy of s (NULL: NULL) in the pool, or NULL. */
char *pool_strdup(struct pool *p, const char *s);

/* A printf-formatted string in the pool, or NULL. */
char *pool_printf(struct pool *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Frees everything allocated from p. */
void pool_finish(struct pool *p);

#endif
