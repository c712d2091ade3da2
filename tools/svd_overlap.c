/* Overlapping registers left out; see svd_overlap.h. */
#include "svd_overlap.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int
svd_overlap_add(struct svd_overlap *o, bool alternate)
{
	if (o->n == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 64;
		bool *grown = realloc(o->alternate, cap * sizeof(*grown));
		if (!grown) {
			return -ENOMEM;
		}
		o->alternate = grown;
		o->cap = cap;
	}
	o->alternate[o->n++] = alternate;
	return 0;
}

void
svd_overlap_free(struct svd_overlap *o)
{
	free(o->alternate);
	*o = (struct svd_overlap){0};
}

/* One instance of a register: [start, end). */
struct span {
	uint64_t start, end;
	unsigned reg;
	uint64_t index;
};

static int
span_cmp(const void *a, const void *b)
{
	const struct span *x = a;
	const struct span *y = b;
	if (x->start != y->start) {
		return x->start < y->start ? -1 : 1;
	}
	return x->reg < y->reg ? -1 : x->reg > y->reg;
}

/* "NAME" or "NAME[i]". */
static void
instance_name(const struct regmap_register *r, uint64_t index, char *buf, size_t len)
{
	if (r->count > 1) {
		(void)snprintf(buf, len, "%s[%llu]", r->name, (unsigned long long)index);
	} else {
		(void)snprintf(buf, len, "%s", r->name);
	}
}

/* Which of two overlapping registers goes: an alternate rather than not, else the later. */
static unsigned
loser(const struct svd_overlap *o, unsigned a, unsigned b)
{
	if (o->alternate[a] != o->alternate[b]) {
		return o->alternate[a] ? a : b;
	}
	return a > b ? a : b;
}

/*
 * One sweep over the kept registers' instances by address: the first overlap found marks one
 * register dropped and told. Returns 1 if it dropped one, 0 if none overlap, or -ENOMEM.
 */
static int
sweep(const struct svd_overlap *o, const struct regmap *map, bool *dropped,
      void (*warn)(void *arg, int line, const char *message), void *arg)
{
	uint64_t total = 0;
	for (unsigned i = 0; i < map->n_registers; i++) {
		total += dropped[i] ? 0 : map->registers[i].count;
	}
	struct span *spans = calloc(total ? total : 1, sizeof(*spans));
	if (!spans) {
		return -ENOMEM;
	}
	size_t n = 0;
	for (unsigned i = 0; i < map->n_registers; i++) {
		const struct regmap_register *r = &map->registers[i];
		uint64_t bytes = regmap_reg_width(map, r) / 8;
		for (uint64_t k = 0; !dropped[i] && k < r->count; k++) {
			uint64_t start = r->offset + k * r->stride;
			spans[n++] = (struct span){start, start + bytes, i, k};
		}
	}
	qsort(spans, n, sizeof(*spans), span_cmp);
	int found = 0;
	size_t widest = 0; /* the span reaching furthest so far */
	for (size_t k = 1; k < n && !found; k++) {
		if (spans[k].start < spans[widest].end) {
			const struct span *a = &spans[widest];
			const struct span *b = &spans[k];
			unsigned gone = loser(o, a->reg, b->reg);
			const struct span *g = gone == a->reg ? a : b;
			const struct span *kept = gone == a->reg ? b : a;
			char gn[REGMAP_MAX_NAME + 24];
			char kn[REGMAP_MAX_NAME + 24];
			char msg[320];
			instance_name(&map->registers[g->reg], g->index, gn, sizeof(gn));
			instance_name(&map->registers[kept->reg], kept->index, kn, sizeof(kn));
			(void)snprintf(msg, sizeof(msg),
				       "register %s [0x%llx, 0x%llx) overlaps %s [0x%llx, 0x%llx) "
				       "(line %d): a map has one register per byte: left out",
				       gn, (unsigned long long)g->start, (unsigned long long)g->end,
				       kn, (unsigned long long)kept->start,
				       (unsigned long long)kept->end,
				       map->registers[kept->reg].line);
			warn(arg, map->registers[gone].line, msg);
			dropped[gone] = true;
			found = 1;
		} else if (spans[k].end > spans[widest].end) {
			widest = k;
		}
	}
	free(spans);
	return found;
}

/* Removes the dropped registers from the map, keeping the order of the rest. */
static void
compact(struct regmap *map, const bool *dropped)
{
	unsigned kept = 0;
	for (unsigned i = 0; i < map->n_registers; i++) {
		struct regmap_register *r = &map->registers[i];
		if (!dropped[i]) {
			map->registers[kept++] = *r;
			continue;
		}
		for (unsigned j = 0; j < r->n_fields; j++) {
			free(r->fields[j].description);
			free(r->fields[j].values);
		}
		free(r->fields);
		free(r->description);
	}
	map->n_registers = kept;
}

int
svd_overlap_resolve(struct svd_overlap *o, struct regmap *map,
		    void (*warn)(void *arg, int line, const char *message), void *arg)
{
	bool *dropped = calloc(map->n_registers ? map->n_registers : 1, sizeof(*dropped));
	if (!dropped) {
		return -ENOMEM;
	}
	int rc;
	while ((rc = sweep(o, map, dropped, warn, arg)) == 1) {
	}
	if (rc == 0) {
		compact(map, dropped);
	}
	free(dropped);
	return rc;
}
