#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/policy.h"

bool
policy_is_superuser(const struct identity *who, uid_t extra_uid)
{
	/* (uid_t)-1 means no extra uid; it is also what a peer without credentials reports. */
	return who->uid == 0 || (extra_uid != (uid_t)-1 && who->uid == extra_uid);
}

bool
policy_grant_applies(const struct grant *g, const struct identity *who)
{
	if (g->subject == GRANT_USER) {
		return g->id == who->uid;
	}
	if (g->id == who->gid) {
		return true;
	}
	for (unsigned i = 0; i < who->n_groups; i++) {
		if (who->groups[i] == g->id) {
			return true;
		}
	}
	return false;
}

bool
policy_grant_leases(const struct grant *g, const struct identity *who)
{
	return !g->device && policy_grant_applies(g, who);
}

/* [offset, offset+length) inside [g->offset, g->offset+g->length), without computing a sum that can
 * wrap. */
static bool
grant_covers(const struct grant *g, uint64_t offset, uint64_t length)
{
	if (g->table && g->table->exact) {
		return regrules_covers(g->table, offset, length);
	}
	return offset >= g->offset && offset - g->offset <= g->length &&
	       g->length - (offset - g->offset) >= length;
}

int
policy_check_range(const struct region_policy *p, const struct identity *who, uid_t extra_uid,
		   uint64_t offset, uint64_t length, bool *read_only, const struct grant **by)
{
	const struct grant *chosen = NULL;
	if (policy_is_superuser(who, extra_uid)) {
		*read_only = false;
		if (by) {
			*by = NULL;
		}
		return 0;
	}
	for (unsigned i = 0; i < p->n_grants; i++) {
		const struct grant *g = &p->grants[i];
		if (!policy_grant_leases(g, who) || !grant_covers(g, offset, length)) {
			continue;
		}
		/* The first read-write grant, else the first: its rules bind the lease. */
		if (!chosen || (chosen->read_only && !g->read_only)) {
			chosen = g;
		}
	}
	if (!chosen) {
		return -EACCES;
	}
	*read_only = chosen->read_only;
	if (by) {
		*by = chosen;
	}
	return 0;
}

bool
policy_may_own_irq(const struct region_policy *p, const struct identity *who, uid_t extra_uid,
		   uint64_t region_len, bool lease_read_only)
{
	if (lease_read_only) {
		return false;
	}
	if (policy_is_superuser(who, extra_uid)) {
		return true;
	}
	for (unsigned i = 0; i < p->n_grants; i++) {
		const struct grant *g = &p->grants[i];
		if (policy_grant_leases(g, who) && !g->read_only &&
		    (g->irq || grant_covers(g, 0, region_len))) {
			return true;
		}
	}
	return false;
}

bool
policy_may_drive_device(const struct region_policy *p, const struct identity *who, uid_t extra_uid)
{
	if (policy_is_superuser(who, extra_uid)) {
		return true;
	}
	for (unsigned i = 0; i < p->n_grants; i++) {
		if (p->grants[i].device && policy_grant_applies(&p->grants[i], who)) {
			return true;
		}
	}
	return false;
}

void
policy_grant_finish(struct grant *g)
{
	grant_rules_free(g->rules);
	regrules_free(g->table);
	g->rules = NULL;
	g->table = NULL;
}

void
policy_finish(struct region_policy *p)
{
	for (unsigned i = 0; i < p->n_grants; i++) {
		policy_grant_finish(&p->grants[i]);
	}
	free(p->grants);
	p->grants = NULL;
	p->n_grants = 0;
}

int
policy_audit_parse(const char *text)
{
	static const char *const names[] = {"none", "stores", "all"};
	for (int i = 0; i < 3; i++) {
		if (strcmp(text, names[i]) == 0) {
			return i;
		}
	}
	return -1;
}

uint32_t
policy_lease_ttl(const struct region_policy *p, const struct identity *who, uid_t extra_uid,
		 uint64_t offset, uint64_t length)
{
	if (policy_is_superuser(who, extra_uid)) {
		return 0;
	}
	uint32_t ttl = 0;
	for (unsigned i = 0; i < p->n_grants; i++) {
		const struct grant *g = &p->grants[i];
		if (!policy_grant_leases(g, who) || g->max_lease_ms == 0 || offset < g->offset ||
		    offset - g->offset > g->length || g->length - (offset - g->offset) < length) {
			continue;
		}
		if (ttl == 0 || g->max_lease_ms < ttl) {
			ttl = g->max_lease_ms;
		}
	}
	return ttl;
}
