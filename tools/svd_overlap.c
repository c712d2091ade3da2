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
	struct regmap_instance x;
	struct regmap_instance y;
	int found = regmap_first_overlap(map, dropped, &x, &y);
	if (found <= 0) {
		return found;
	}
	unsigned gone = loser(o, x.reg, y.reg);
	const struct regmap_instance *g = gone == x.reg ? &x : &y;
	const struct regmap_instance *kept = gone == x.reg ? &y : &x;
	char gn[REGMAP_MAX_NAME + 24];
	char kn[REGMAP_MAX_NAME + 24];
	char msg[320];
	regmap_instance_name(&map->registers[g->reg], g->index, gn, sizeof(gn));
	regmap_instance_name(&map->registers[kept->reg], kept->index, kn, sizeof(kn));
	(void)snprintf(msg, sizeof(msg),
		       "register %s [0x%llx, 0x%llx) overlaps %s [0x%llx, 0x%llx) "
		       "(line %d): a map has one register per byte: left out",
		       gn, (unsigned long long)g->start, (unsigned long long)g->end, kn,
		       (unsigned long long)kept->start, (unsigned long long)kept->end,
		       map->registers[kept->reg].line);
	warn(arg, map->registers[gone].line, msg);
	dropped[gone] = true;
	return 1;
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
