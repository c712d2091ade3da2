#include "request/service.h"
#include "core/lease.h"
#include "device/region.h"
#include "device/region_table.h"

bool
service_is_admin(const struct service *svc, const struct identity *who)
{
	if (policy_is_superuser(who, svc->extra_uid)) {
		return true;
	}
	if (!svc->has_admin_gid) {
		return false;
	}
	struct grant admin = {.subject = GRANT_GROUP, .id = svc->admin_gid};
	return policy_grant_applies(&admin, who);
}

struct lease *
service_find_lease(const struct service *svc, uint64_t id)
{
	for (unsigned i = 0; i < svc->regions->count; i++) {
		struct lease *l;
		TAILQ_FOREACH(l, &svc->regions->regions[i]->space.leases, space_link)
		{
			if (l->id == id) {
				return l;
			}
		}
	}
	return NULL;
}

void
service_figures(const struct service *svc, struct service_figures *out)
{
	out->clients = svc->n_clients;
	out->leases = 0;
	out->faults = 0;
	for (unsigned i = 0; i < svc->regions->count; i++) {
		const struct region *r = svc->regions->regions[i];
		out->leases += r->space.count;
		out->faults += r->faults;
	}
}

void
service_figures_changed(struct service *svc)
{
	if (svc->on_figures_changed) {
		svc->on_figures_changed(svc->on_figures_arg);
	}
}
