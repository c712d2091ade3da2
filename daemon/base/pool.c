#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/pool.h"

void
pool_init(struct pool *p)
{
	p->blocks = NULL;
	p->n = 0;
	p->cap = 0;
}

void *
pool_alloc(struct pool *p, size_t n)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		void **grown = realloc(p->blocks, cap * sizeof(*grown));
		if (!grown) {
			return NULL;
		}
		p->blocks = grown;
		p->cap = cap;
	}
	void *b = calloc(1, n ? n : 1);
	if (b) {
		p->blocks[p->n++] = b;
	}
	return b;
}

char *
pool_strdup(struct pool *p, const char *s)
{
	if (!s) {
		return NULL;
	}
	size_t len = strlen(s) + 1;
	char *copy = pool_alloc(p, len);
	if (copy) {
		memcpy(copy, s, len);
	}
	return copy;
}

char *
pool_printf(struct pool *p, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= sizeof(buf) ? NULL : pool_strdup(p, buf);
}

void
pool_finish(struct pool *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->blocks[i]);
	}
	free(p->blocks);
	pool_init(p);
}
