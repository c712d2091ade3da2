/*
 * Who may lease which bytes: grants per region, judged against the identity
 * the kernel gave at accept (SO_PEERCRED, SO_PEERGROUPS). Pure logic.
 * Default deny: a caller without a grant gets nothing, except root, which may
 * lease everything read-write. A device grant leases nothing: it opens only the
 * device side of a simulated region (request/handle_sim.c).
 */
#ifndef MMIOD_POLICY_H
#define MMIOD_POLICY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/regrules.h"

#define POLICY_MAX_GROUPS 64 /* supplementary groups kept per connection */

struct identity {
	pid_t pid;
	uid_t uid;
	gid_t gid;
	unsigned n_groups;
	gid_t groups[POLICY_MAX_GROUPS];
};

enum grant_subject {
	GRANT_USER,
	GRANT_GROUP,
};

struct grant {
	enum grant_subject subject;
	uint32_t id; /* uid or gid */
	uint64_t offset;
	uint64_t length;
	bool read_only;
	bool irq;    /* may own the region's interrupt (rw grants only; conf refuses it on ro) */
	bool device; /* access = "device": no lease at all, only the device side of a sim region */
	uint32_t max_lease_ms; /* > 0: a lease under it ends (reason ttl) unless renewed in time */
	/* Register rules (registers, rules) as the config says them; NULL: none. Owned. */
	struct grant_rules *rules;
	/* Compiled against the region's map by region_set_policy(); NULL: nothing applies.
	 * Owned; leases point at it until the next reload re-points them. */
	struct regrules *table;
};

enum audit_mode {
	AUDIT_NONE,
	AUDIT_STORES,
	AUDIT_ALL,
};

/* The policy of one region. */
struct region_policy {
	struct grant *grants; /* owned */
	unsigned n_grants;
	enum audit_mode audit;
};

/* root, or extra_uid unless that is (uid_t)-1: may lease everything read-write. */
bool policy_is_superuser(const struct identity *who, uid_t extra_uid);

/* True if g names who: its uid, primary gid or a supplementary group. */
bool policy_grant_applies(const struct grant *g, const struct identity *who);

/* True if g lets who lease something: it applies to who and is not a device grant. */
bool policy_grant_leases(const struct grant *g, const struct identity *who);

/*
 * May who lease [offset, offset+length) of a region under p (grants are
 * normalised at load: a whole-region grant has the region's length)? The range must lie inside one
 * grant that applies to who; a read-write grant wins over a read-only one. Returns 0 with
 * *read_only set and *by (unless by is NULL) the grant whose register rules bind the lease (NULL
 * for the superuser), or -EACCES. root (uid 0) and the extra_uid given (the uid mmiod was started
 * by; -1 for none) may lease anything read-write. A grant naming registers without a range
 * covers exactly their bytes (its table).
 */
int policy_check_range(const struct region_policy *p, const struct identity *who, uid_t extra_uid,
		       uint64_t offset, uint64_t length, bool *read_only, const struct grant **by);

/*
 * May who own the interrupt of a region of region_len bytes under p (subscribe,
 * and so have mmiod write to the device on each IrqAck), through a lease that
 * is lease_read_only or not? Only through a read-write lease, and only if a
 * read-write grant that applies to who covers the whole region or says irq:
 * owning the interrupt takes it from every other holder of the region. root
 * and extra_uid (unless (uid_t)-1) need no grant.
 */
bool policy_may_own_irq(const struct region_policy *p, const struct identity *who, uid_t extra_uid,
			uint64_t region_len, bool lease_read_only);

/*
 * May who act as the device of a region under p (the device side of a sim region: set raw bits,
 * raise its interrupt, reset it)? root and extra_uid (unless (uid_t)-1), and whoever a device
 * grant applies to. (The admin group is the request layer's: service_is_admin.)
 */
bool policy_may_drive_device(const struct region_policy *p, const struct identity *who,
			     uid_t extra_uid);

/*
 * How long a lease of [offset, offset+length) by who may live unrenewed: the least max_lease_ms
 * of the grants that apply to who and cover the range; 0 (no limit) if none sets one, and for
 * root and extra_uid (unless (uid_t)-1).
 */
uint32_t policy_lease_ttl(const struct region_policy *p, const struct identity *who,
			  uid_t extra_uid, uint64_t offset, uint64_t length);
/* Frees what a grant owns (its rules and table). */
void policy_grant_finish(struct grant *g);

void policy_finish(struct region_policy *p);

/* "none", "stores", "all" -> mode; -1 if unknown. */
int policy_audit_parse(const char *text);

#endif
