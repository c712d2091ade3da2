#include <stdint.h>
#include <stdlib.h>

#include "arena.h"

static void *
arena_alloc(void *data, size_t size)
{
	struct arena *a = data;
	size_t rounded = (size + 15) & ~(size_t)15;
	if (rounded >= size && rounded <= ARENA_SIZE - a->used) {
		void *p = a->buf + a->used;
		a->used += rounded;
		return p;
	}
	return malloc(size);
}

static void
arena_free(void *data, void *p)
{
	struct arena *a = data;
	uintptr_t addr = (uintptr_t)p;
	/* Arena pieces go all at once with arena_reset; only the overflow was malloc'd. */
	if (addr < (uintptr_t)a->buf || addr >= (uintptr_t)(a->buf + ARENA_SIZE)) {
		free(p);
	}
}

void
arena_init(struct arena *a)
{
	a->allocator.alloc = arena_alloc;
	a->allocator.free = arena_free;
	a->allocator.allocator_data = a;
	a->used = 0;
}

void
arena_reset(struct arena *a)
{
	a->used = 0;
}
