/*
 * policy.c: which grants name a caller, and whether a range lies inside one
 * grant that does. Pure logic, so each case is a row: an identity, a range,
 * the verdict. Ranges near 2^64 prove no sum wraps.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/policy.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define NO_UID       ((uid_t)-1)

/* The callers of every table: users 1000..1003; group 50 is alice's primary, bob's secondary. */
static const struct identity alice = {.pid = 10, .uid = 1000, .gid = 50};
static const struct identity bob = {
	.pid = 11, .uid = 1001, .gid = 100, .n_groups = 2, .groups = {10, 50}};
static const struct identity carol = {
	.pid = 12, .uid = 1002, .gid = 100, .n_groups = 1, .groups = {100}};
static const struct identity root = {.pid = 13, .uid = 0, .gid = 0};

struct range_case {
	const struct identity *who;
	uid_t extra_uid;
	uint64_t offset, length;
	int rc;
	bool read_only; /* when rc == 0 */
};

/* Runs rows against p. */
static void
check_ranges(const struct region_policy *p, const struct range_case *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct range_case *c = &rows[i];
		bool ro = !c->read_only; /* so a verdict that does not set it shows */
		int rc = policy_check_range(p, c->who, c->extra_uid, c->offset, c->length, &ro,
					    NULL);
		if (rc != c->rc || (rc == 0 && ro != c->read_only)) {
			print_error("row %zu: uid %u extra %d [%#" PRIx64 " +%#" PRIx64
				    "): rc %d ro %d\n",
				    i, (unsigned)c->who->uid, (int)c->extra_uid, c->offset,
				    c->length, rc, ro);
		}
		assert_int_equal(rc, c->rc);
		if (rc == 0) {
			assert_int_equal(ro, c->read_only);
		}
	}
}

static void
test_policy_grant_applies(void **state)
{
	(void)state;
	static const struct {
		struct grant g;
		const struct identity *who;
		bool applies;
	} rows[] = {
		{{GRANT_USER, 1000, 0, 1, false, false, false, 0, NULL, NULL}, &alice, true},
		{{GRANT_USER, 1001, 0, 1, false, false, false, 0, NULL, NULL}, &alice, false},
		{{GRANT_USER, 50, 0, 1, false, false, false, 0, NULL, NULL},
		 &alice,
		 false}, /* a user grant ignores groups */
		{{GRANT_USER, 0, 0, 1, false, false, false, 0, NULL, NULL}, &root, true},
		{{GRANT_GROUP, 50, 0, 1, false, false, false, 0, NULL, NULL},
		 &alice,
		 true}, /* primary gid */
		{{GRANT_GROUP, 50, 0, 1, false, false, false, 0, NULL, NULL},
		 &bob,
		 true}, /* supplementary */
		{{GRANT_GROUP, 10, 0, 1, false, false, false, 0, NULL, NULL}, &bob, true},
		{{GRANT_GROUP, 100, 0, 1, false, false, false, 0, NULL, NULL}, &bob, true},
		{{GRANT_GROUP, 50, 0, 1, false, false, false, 0, NULL, NULL},
		 &carol,
		 false}, /* none */
		{{GRANT_GROUP, 1002, 0, 1, false, false, false, 0, NULL, NULL},
		 &carol,
		 false}, /* a group grant ignores uids */
		{{GRANT_GROUP, 10, 0, 1, false, false, false, 0, NULL, NULL}, &alice, false},
		{{GRANT_GROUP, 0, 0, 1, false, false, false, 0, NULL, NULL}, &alice, false},
	};
	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		if (policy_grant_applies(&rows[i].g, rows[i].who) != rows[i].applies) {
			print_error("row %zu\n", i);
		}
		assert_int_equal(policy_grant_applies(&rows[i].g, rows[i].who), rows[i].applies);
	}
}

/* Only the first n_groups count; the last slot of a full list does. */
static void
test_policy_grant_applies_group_list(void **state)
{
	(void)state;
	struct identity who = {.uid = 1003, .gid = 1003, .n_groups = 0, .groups = {77}};
	const struct grant g = {GRANT_GROUP, 77, 0, 1, false, false, false, 0, NULL, NULL};
	assert_false(policy_grant_applies(&g, &who));
	for (unsigned i = 0; i < POLICY_MAX_GROUPS; i++) {
		who.groups[i] = 1000 + i;
	}
	who.n_groups = POLICY_MAX_GROUPS;
	assert_false(policy_grant_applies(&g, &who));
	who.groups[POLICY_MAX_GROUPS - 1] = 77;
	assert_true(policy_grant_applies(&g, &who));
	who.n_groups = POLICY_MAX_GROUPS - 1;
	assert_false(policy_grant_applies(&g, &who));
}

/* One rw grant [0x100, 0x200) to alice. */
static void
test_policy_range_one_grant(void **state)
{
	(void)state;
	struct grant g[] = {{GRANT_USER, 1000, 0x100, 0x100, false, false, false, 0, NULL, NULL}};
	const struct region_policy p = {g, ARRAY_LEN(g), AUDIT_NONE};
	static const struct range_case rows[] = {
		{&alice, NO_UID, 0x180, 0x10, 0, false},       /* inside */
		{&alice, NO_UID, 0x100, 0x100, 0, false},      /* exactly the grant */
		{&alice, NO_UID, 0x100, 1, 0, false},          /* its first byte */
		{&alice, NO_UID, 0x1ff, 1, 0, false},          /* its last byte */
		{&alice, NO_UID, 0x100, 0, 0, false},          /* empty at its start */
		{&alice, NO_UID, 0x200, 0, 0, false},          /* empty at its end */
		{&alice, NO_UID, 0x201, 0, -EACCES, false},    /* empty past its end */
		{&alice, NO_UID, 0xff, 0, -EACCES, false},     /* empty before it */
		{&alice, NO_UID, 0xff, 1, -EACCES, false},     /* one byte before */
		{&alice, NO_UID, 0xff, 2, -EACCES, false},     /* straddles its start */
		{&alice, NO_UID, 0x1ff, 2, -EACCES, false},    /* straddles its end */
		{&alice, NO_UID, 0x200, 1, -EACCES, false},    /* one byte after */
		{&alice, NO_UID, 0xff, 0x102, -EACCES, false}, /* a superset */
		{&alice, NO_UID, 0, UINT64_MAX, -EACCES, false},
		{&alice, NO_UID, 0x180, UINT64_MAX, -EACCES, false}, /* end wraps to 0x17f */
		{&alice, NO_UID, UINT64_MAX, 0x102, -EACCES, false}, /* end wraps into the grant */
		{&bob, NO_UID, 0x180, 0x10, -EACCES, false},         /* not named */
		{&carol, NO_UID, 0x100, 0, -EACCES, false},
	};
	check_ranges(&p, rows, ARRAY_LEN(rows));
}

/* Two adjacent rw grants: a range must lie inside one, even when their union covers it. */
static void
test_policy_range_adjacent_grants(void **state)
{
	(void)state;
	struct grant g[] = {{GRANT_USER, 1000, 0, 0x100, false, false, false, 0, NULL, NULL},
			    {GRANT_GROUP, 50, 0x100, 0x100, false, false, false, 0, NULL, NULL}};
	const struct region_policy p = {g, ARRAY_LEN(g), AUDIT_NONE};
	static const struct range_case rows[] = {
		{&alice, NO_UID, 0, 0x100, 0, false},
		{&alice, NO_UID, 0x100, 0x100, 0, false},
		{&alice, NO_UID, 0x100, 0, 0, false},
		{&alice, NO_UID, 0xf0, 0x20, -EACCES, false},
		{&alice, NO_UID, 0xff, 2, -EACCES, false},
		{&alice, NO_UID, 0, 0x200, -EACCES, false},
		{&bob, NO_UID, 0x100, 0x100, 0, false}, /* group 50 only */
		{&bob, NO_UID, 0, 1, -EACCES, false},
	};
	check_ranges(&p, rows, ARRAY_LEN(rows));
}

/* Grants that reach the top of the 64-bit space. */
static void
test_policy_range_near_max(void **state)
{
	(void)state;
	struct grant g[] = {
		{GRANT_USER, 1000, 0, UINT64_MAX, false, false, false, 0, NULL, NULL},
		{GRANT_USER, 1001, UINT64_MAX - 0x10, 0x10, false, false, false, 0, NULL, NULL},
		{GRANT_USER, 1002, 0x10, UINT64_MAX - 0x10, true, false, false, 0, NULL, NULL}};
	const struct region_policy p = {g, ARRAY_LEN(g), AUDIT_NONE};
	static const struct range_case rows[] = {
		/* alice: [0, 2^64-1) */
		{&alice, NO_UID, UINT64_MAX - 1, 2, -EACCES, false},
		{&alice, NO_UID, UINT64_MAX - 1, 1, 0, false},
		{&alice, NO_UID, UINT64_MAX, 0, 0, false},
		{&alice, NO_UID, UINT64_MAX, 1, -EACCES, false},
		{&alice, NO_UID, 0, UINT64_MAX, 0, false},
		{&alice, NO_UID, 1, UINT64_MAX, -EACCES, false},
		{&alice, NO_UID, UINT64_MAX, UINT64_MAX, -EACCES, false},
		/* bob: [2^64-17, 2^64-1) */
		{&bob, NO_UID, UINT64_MAX - 0x10, 0x10, 0, false},
		{&bob, NO_UID, UINT64_MAX - 8, 8, 0, false},
		{&bob, NO_UID, UINT64_MAX - 8, 9, -EACCES, false},
		{&bob, NO_UID, UINT64_MAX - 0x11, 1, -EACCES, false},
		{&bob, NO_UID, UINT64_MAX - 0x11, 0x12, -EACCES, false},
		{&bob, NO_UID, 8, UINT64_MAX, -EACCES, false}, /* end wraps to 7 */
		{&bob, NO_UID, UINT64_MAX, 0, 0, false},
		/* carol: [0x10, 2^64-1), read-only */
		{&carol, NO_UID, UINT64_MAX - 1, 1, 0, true},
		{&carol, NO_UID, 0x10, UINT64_MAX - 0x10, 0, true},
		{&carol, NO_UID, 0x10, UINT64_MAX - 0xf, -EACCES, false},
		{&carol, NO_UID, 0x20, UINT64_MAX, -EACCES, false}, /* end wraps to 0x1f */
		{&carol, NO_UID, 0xf, 1, -EACCES, false},
		/* root past everything */
		{&root, NO_UID, UINT64_MAX, UINT64_MAX, 0, false},
	};
	check_ranges(&p, rows, ARRAY_LEN(rows));
}

/* A read-write grant wins over a read-only one covering the same bytes. */
static void
test_policy_range_read_only(void **state)
{
	(void)state;
	struct grant g[] = {
		{GRANT_GROUP, 50, 0, 0x1000, true, false, false, 0, NULL,
		 NULL}, /* alice and bob: all, ro */
		{GRANT_USER, 1001, 0x100, 0x100, false, false, false, 0, NULL,
		 NULL}, /* bob: one block, rw */
		{GRANT_GROUP, 10, 0x800, 0x10, false, false, false, 0, NULL,
		 NULL}, /* bob by supplementary group: rw */
		/* carol: rw; no ro grant names her */
		{GRANT_USER, 1002, 0x800, 0x800, false, false, false, 0, NULL, NULL},
	};
	const struct region_policy p = {g, ARRAY_LEN(g), AUDIT_NONE};
	static const struct range_case rows[] = {
		{&alice, NO_UID, 0, 0x1000, 0, true},
		{&alice, NO_UID, 0x100, 0x10, 0, true}, /* bob's rw grant is not hers */
		{&bob, NO_UID, 0x100, 0x10, 0, false},  /* ro and rw both cover: rw */
		{&bob, NO_UID, 0x100, 0x100, 0, false},
		{&bob, NO_UID, 0xf0, 0x20, 0, true}, /* only the ro grant covers all of it */
		{&bob, NO_UID, 0x800, 0x10, 0, false},
		{&bob, NO_UID, 0x800, 0x11, 0, true},
		{&carol, NO_UID, 0x800, 0x10, 0, false},
		{&carol, NO_UID, 0x7ff, 2, -EACCES, false},
	};
	check_ranges(&p, rows, ARRAY_LEN(rows));
}

/* Default deny, except root and the uid mmiod was started by; (uid_t)-1 names nobody. */
static void
test_policy_range_privileged(void **state)
{
	(void)state;
	struct grant g[] = {{GRANT_USER, 1000, 0, 0x10, true, false, false, 0, NULL, NULL}};
	const struct region_policy none = {NULL, 0, AUDIT_NONE};
	const struct region_policy ro = {g, ARRAY_LEN(g), AUDIT_ALL};
	static const struct range_case rows[] = {
		{&alice, NO_UID, 0, 0, -EACCES, false},     {&alice, NO_UID, 0, 1, -EACCES, false},
		{&bob, 1002, 0, 1, -EACCES, false},         {&root, NO_UID, 0, 0x100000, 0, false},
		{&root, 1000, UINT64_MAX - 1, 2, 0, false}, {&alice, 1000, 0, UINT64_MAX, 0, false},
		{&alice, 1000, 0x20, 0x10, 0, false},       {&alice, 0, 0, 1, -EACCES, false},
	};
	check_ranges(&none, rows, ARRAY_LEN(rows));
	static const struct range_case ro_rows[] = {
		{&alice, NO_UID, 0, 0x10, 0, true},
		{&alice, 1000, 0, 0x10, 0, false}, /* extra_uid: rw regardless of its grant */
		{&root, NO_UID, 0, 0x10, 0, false},
		{&alice, 1001, 0x10, 1, -EACCES, false},
	};
	check_ranges(&ro, ro_rows, ARRAY_LEN(ro_rows));
}

/*
 * Who may own a region's interrupt: through a read-write lease only, and with a
 * read-write grant of the whole region or one saying irq; root and extra_uid
 * always. Regression: any lease would do, so a 4-byte ro grant took the
 * interrupt (and its device writes) from the rw holder of the whole region.
 */
static void
test_policy_may_own_irq(void **state)
{
	(void)state;
	static const struct identity dave = {.pid = 15, .uid = 1003, .gid = 200};
	static const struct identity erin = {.pid = 16, .uid = 1004, .gid = 200};
	static const struct identity ghost = {.pid = 17, .uid = NO_UID, .gid = (gid_t)-1};
	struct grant g[] = {
		{GRANT_GROUP, 50, 0, 0x1000, true, false, false, 0, NULL,
		 NULL}, /* alice and bob: all, ro */
		{GRANT_USER, 1000, 0x10, 4, true, false, false, 0, NULL,
		 NULL}, /* alice: 4 bytes, ro */
		{GRANT_USER, 1001, 0x100, 0x100, false, false, false, 0, NULL,
		 NULL}, /* bob: one block, rw */
		{GRANT_USER, 1002, 0, 0x1000, false, false, false, 0, NULL,
		 NULL}, /* carol: all, rw */
		{GRANT_USER, 1003, 0x800, 0x10, false, true, false, 0, NULL,
		 NULL}, /* dave: 16 bytes, rw, irq */
		{GRANT_USER, 1004, 0x900, 0x10, true, true, false, 0, NULL,
		 NULL}, /* erin: ro + irq (conf refuses) */
	};
	const struct region_policy p = {g, ARRAY_LEN(g), AUDIT_NONE};
	static const struct {
		const struct identity *who;
		uid_t extra_uid;
		uint64_t region_len;
		bool lease_read_only;
		bool may;
	} rows[] = {
		{&alice, NO_UID, 0x1000, true, false},  /* ro everywhere: never */
		{&alice, NO_UID, 0x1000, false, false}, /* a whole-region ro grant is not enough */
		{&bob, NO_UID, 0x1000, false, false},   /* a partial rw grant without irq */
		{&bob, NO_UID, 0x1000, true, false},
		{&carol, NO_UID, 0x1000, false, true},  /* rw over the whole region */
		{&carol, NO_UID, 0x1000, true, false},  /* but not through a read-only lease */
		{&carol, NO_UID, 0x1001, false, false}, /* a grant short of the region's end */
		{&root, NO_UID, 0x1000, false, true},
		{&root, NO_UID, UINT64_MAX, false, true},
		{&root, NO_UID, 0x1000, true, false},
		{&alice, 1000, 0x1000, false, true}, /* extra_uid, as root */
		{&alice, 1001, 0x1000, false, false},
		{&ghost, NO_UID, 0x1000, false, false},
	};
	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		bool may = policy_may_own_irq(&p, rows[i].who, rows[i].extra_uid,
					      rows[i].region_len, rows[i].lease_read_only);
		if (may != rows[i].may) {
			print_error("row %zu: uid %u\n", i, (unsigned)rows[i].who->uid);
		}
		assert_int_equal(may, rows[i].may);
	}
	/* An irq grant lets its holder own the interrupt through a read-write lease only. */
	assert_true(policy_may_own_irq(&p, &dave, NO_UID, 0x1000, false));
	assert_false(policy_may_own_irq(&p, &dave, NO_UID, 0x1000, true));
	/* irq on a read-only grant counts for nothing. */
	assert_false(policy_may_own_irq(&p, &erin, NO_UID, 0x1000, false));
	/* A whole-region rw grant by group (bob: supplementary 10) counts as by user. */
	struct grant by_group[] = {
		{GRANT_GROUP, 10, 0, 0x1000, false, false, false, 0, NULL, NULL}};
	const struct region_policy group = {by_group, 1, AUDIT_NONE};
	assert_true(policy_may_own_irq(&group, &bob, NO_UID, 0x1000, false));
	assert_false(policy_may_own_irq(&group, &carol, NO_UID, 0x1000, false));
	/* No grants at all: only the superusers. */
	const struct region_policy none = {NULL, 0, AUDIT_NONE};
	assert_false(policy_may_own_irq(&none, &carol, NO_UID, 0x1000, false));
	assert_true(policy_may_own_irq(&none, &carol, 1002, 0x1000, false));
	assert_true(policy_may_own_irq(&none, &root, NO_UID, 0, false));
}

static void
test_policy_audit_parse(void **state)
{
	(void)state;
	assert_int_equal(policy_audit_parse("none"), AUDIT_NONE);
	assert_int_equal(policy_audit_parse("stores"), AUDIT_STORES);
	assert_int_equal(policy_audit_parse("all"), AUDIT_ALL);
	static const char *const bad[] = {"",     "some",  "None", "ALL",     "all ",
					  " all", "store", "alls", "stores\n"};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		assert_int_equal(policy_audit_parse(bad[i]), -1);
	}
}

static void
test_policy_finish(void **state)
{
	(void)state;
	struct region_policy p = {calloc(2, sizeof(struct grant)), 2, AUDIT_STORES};
	assert_non_null(p.grants);
	policy_finish(&p);
	assert_null(p.grants);
	assert_int_equal(p.n_grants, 0);
	policy_finish(&p); /* twice is harmless */
	assert_null(p.grants);
}

/*
 * Regression: extra_uid (uid_t)-1 means "no extra uid", yet a caller whose uid
 * is (uid_t)-1 (what SO_PEERCRED reports for a peer without credentials)
 * matched it and could lease everything read-write.
 */
static void
test_policy_no_extra_uid_matches_nobody(void **state)
{
	(void)state;
	static const struct identity ghost = {.pid = 14, .uid = NO_UID, .gid = (gid_t)-1};
	const struct region_policy none = {NULL, 0, AUDIT_NONE};
	static const struct range_case rows[] = {{&ghost, NO_UID, 0, 1, -EACCES, false}};
	check_ranges(&none, rows, ARRAY_LEN(rows));
}

/* A device grant leases nothing and owns no interrupt; it opens the device side alone. */
static void
test_policy_device_grant(void **state)
{
	(void)state;
	struct grant g[] = {
		{GRANT_USER, 1000, 0, 0, true, false, true, 0, NULL, NULL}, /* alice: device */
		{GRANT_USER, 1001, 0, 0x1000, false, false, false, 0, NULL,
		 NULL}, /* bob: all, rw */
	};
	const struct region_policy p = {g, ARRAY_LEN(g), AUDIT_NONE};
	bool ro = false;
	assert_false(policy_grant_leases(&g[0], &alice));
	assert_true(policy_grant_applies(&g[0], &alice));
	assert_true(policy_grant_leases(&g[1], &bob));
	assert_int_equal(policy_check_range(&p, &alice, NO_UID, 0, 0, &ro, NULL), -EACCES);
	assert_false(policy_may_own_irq(&p, &alice, NO_UID, 0x1000, false));
	assert_true(policy_may_drive_device(&p, &alice, NO_UID));
	/* bob's rw grant of the whole region is no device grant. */
	assert_int_equal(policy_check_range(&p, &bob, NO_UID, 0, 0x1000, &ro, NULL), 0);
	assert_false(policy_may_drive_device(&p, &bob, NO_UID));
	assert_false(policy_may_drive_device(&p, &carol, NO_UID));
	assert_true(policy_may_drive_device(&p, &root, NO_UID));
	assert_true(policy_may_drive_device(&p, &carol, carol.uid));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy_grant_applies),
		cmocka_unit_test(test_policy_grant_applies_group_list),
		cmocka_unit_test(test_policy_range_one_grant),
		cmocka_unit_test(test_policy_range_adjacent_grants),
		cmocka_unit_test(test_policy_range_near_max),
		cmocka_unit_test(test_policy_range_read_only),
		cmocka_unit_test(test_policy_range_privileged),
		cmocka_unit_test(test_policy_may_own_irq),
		cmocka_unit_test(test_policy_device_grant),
		cmocka_unit_test(test_policy_audit_parse),
		cmocka_unit_test(test_policy_finish),
		cmocka_unit_test(test_policy_no_extra_uid_matches_nobody),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
