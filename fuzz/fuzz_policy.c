/* Who may do what in the fuzz world (fuzz_policy.h). */
#include <string.h>

#include "fuzz_common.h"
#include "fuzz_policy.h"

bool
fuzz_grant_names(const struct grant *g, const struct identity *who)
{
	if (g->subject == GRANT_USER) {
		return g->id == who->uid;
	}
	bool in = g->id == who->gid;
	for (unsigned i = 0; i < who->n_groups; i++) {
		in |= g->id == who->groups[i];
	}
	return in;
}

bool
fuzz_is_root(const struct identity *who)
{
	return who->uid == 0;
}

bool
fuzz_is_admin(const struct identity *who)
{
	struct grant admin = {.subject = GRANT_GROUP, .id = 50};
	return fuzz_is_root(who) || fuzz_grant_names(&admin, who);
}

bool
fuzz_leases_some(const struct region *r, const struct identity *who)
{
	bool some = fuzz_is_root(who);
	for (unsigned i = 0; i < r->policy.n_grants; i++) {
		some |= !r->policy.grants[i].device && fuzz_grant_names(&r->policy.grants[i], who);
	}
	return some;
}

bool
fuzz_may_drive(const struct region *r, const struct identity *who)
{
	bool may = fuzz_is_root(who);
	for (unsigned i = 0; i < r->policy.n_grants; i++) {
		may |= r->policy.grants[i].device && fuzz_grant_names(&r->policy.grants[i], who);
	}
	return may;
}

bool
fuzz_may_own_irq(const struct lease *l, const struct identity *who)
{
	const struct region *r = region_of_lease(l);
	if (l->read_only) {
		return false;
	}
	bool may = fuzz_is_root(who);
	for (unsigned i = 0; i < r->policy.n_grants; i++) {
		const struct grant *g = &r->policy.grants[i];
		bool whole = g->offset == 0 && g->length >= r->space.len;
		may |= !g->device && !g->read_only && fuzz_grant_names(g, who) && (g->irq || whole);
	}
	return may;
}

struct region *
fuzz_find_region(const char *name)
{
	for (unsigned i = 0; i < fuzz_world.table.count; i++) {
		if (strcmp(fuzz_world.table.regions[i]->name, name) == 0) {
			return fuzz_world.table.regions[i];
		}
	}
	return NULL;
}
