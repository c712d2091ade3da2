/*
 * Who may do what in the fuzz world, by the rules of mmio.proto and mmiod.conf(5), worked out
 * independently of core/policy.c for the oracles. The world has no extra uid and admin group 50.
 */
#ifndef MMIO_FUZZ_POLICY_H
#define MMIO_FUZZ_POLICY_H

#include <stdbool.h>

#include "core/lease.h"
#include "core/policy.h"
#include "device/region.h"

/* Does g name who: its uid, or its gid or a supplementary group? */
bool fuzz_grant_names(const struct grant *g, const struct identity *who);

bool fuzz_is_root(const struct identity *who);

/* root, or the admin group. */
bool fuzz_is_admin(const struct identity *who);

/* A grant that leases something (not a device grant) names who on r; root has one on each. */
bool fuzz_leases_some(const struct region *r, const struct identity *who);

/* The device side of r: root, or a device grant naming who (admins are the caller's to add). */
bool fuzz_may_drive(const struct region *r, const struct identity *who);

/*
 * The interrupt of l's region through l: a read-write lease, and root or a read-write grant
 * naming who that says irq or covers the whole region.
 */
bool fuzz_may_own_irq(const struct lease *l, const struct identity *who);

/* The region of that name, or NULL. */
struct region *fuzz_find_region(const char *name);

#endif
