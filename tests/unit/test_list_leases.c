/*
 * ListLeases pages through dispatch(): ascending ids after after_id, as many
 * as fit in a frame (at most max), more set while any remain; each lease once
 * across pages, whatever is released in between; only the caller's uid unless
 * admin. And lease_first_after() on its own, from wherever its hint was left. The same
 * fixture for Stats' lease figures (a frame's worth, then more) and TraceSubscribe (admins).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/conf.h"
#include "core/lease.h"
#include "device/backend.h"
#include "device/region.h"
#include "device/region_table.h"
#include "mmio.pb-c.h"
#include "mmio_limits.h"
#include "request/dispatch.h"
#include "request/service.h"
#include "service_config.h"

/* The longest name: each listed lease costs the most bytes, so fewer leases fill a frame. */
#define REGION "r123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define ROOT_N 2000 /* root's empty leases: more than one frame's worth */
#define USER_N 40   /* the user's, interleaved with root's */

struct fixture {
	struct region_table table;
	struct service svc;
	struct session root;
	struct session user;
	uint64_t next_id;
	uint64_t *ids; /* every lease, ascending */
	size_t n;
};

static void
hello(struct fixture *f, struct session *s)
{
	Mmio__Hello body = MMIO__HELLO__INIT;
	body.version = MMIO_PROTOCOL_VERSION;
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.id = ++f->next_id;
	req.body_case = MMIO__REQUEST__BODY_HELLO;
	req.hello = &body;
	Mmio__Reply reply = MMIO__REPLY__INIT;
	struct reply_scratch scratch;
	assert_int_equal(dispatch(s, &req, &reply, &scratch), DISPATCH_REPLY);
	assert_int_equal(reply.status, MMIO__STATUS__OK);
	reply_finish(&scratch);
}

static int
setup(void **state)
{
	struct fixture *f = test_calloc(1, sizeof(*f));
	struct backend *b;
	char err[256] = "";
	assert_int_equal(backend_open(&(struct region_spec){.type = "mem", .size = 4096}, &b, err,
				      sizeof(err)),
			 0);
	f->table.regions[0] = region_create(REGION, b);
	assert_non_null(f->table.regions[0]);
	f->table.count = 1;
	struct mmiod_config cfg;
	conf_init(&cfg);
	cfg.limits.max_leases_per_connection = ROOT_N;
	service_init(&f->svc, &f->table, &cfg, (uid_t)-1);
	conf_finish(&cfg);
	struct identity root = {.pid = 10, .uid = 0, .gid = 0};
	struct identity user = {.pid = 20, .uid = 1000, .gid = 1000};
	session_init(&f->root, 1, &f->svc, &root);
	session_init(&f->user, 2, &f->svc, &user);
	hello(f, &f->root);
	hello(f, &f->user);
	/* Empty leases, the user's every ROOT_N / USER_N-th. */
	f->ids = test_calloc(ROOT_N + USER_N, sizeof(*f->ids));
	struct lease_space *space = &f->table.regions[0]->space;
	for (unsigned i = 0; i < ROOT_N + USER_N; i++) {
		struct lease_set *set =
			i % (ROOT_N / USER_N + 1) == 7 ? &f->user.leases : &f->root.leases;
		struct lease *l;
		assert_int_equal(lease_acquire(space, set, i % 4096, 0, &l), 0);
		f->ids[f->n++] = l->id;
	}
	assert_int_equal(f->user.leases.count, USER_N);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	session_finish(&f->root, LEASE_END_DISCONNECT);
	session_finish(&f->user, LEASE_END_DISCONNECT);
	assert_null(lease_first_after(0));
	region_table_close(&f->table);
	test_free(f->ids);
	test_free(f);
	return 0;
}

struct page {
	Mmio__Reply reply;
	struct reply_scratch scratch;
	size_t packed;
};

/* ListLeases{after_id, max} from s; with neither set, as an old client sends it. */
static void
list(struct fixture *f, struct session *s, uint64_t after_id, uint32_t max, struct page *p)
{
	Mmio__ListLeases body = MMIO__LIST_LEASES__INIT;
	body.after_id = after_id;
	body.max = max;
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.id = ++f->next_id;
	req.body_case = MMIO__REQUEST__BODY_LIST_LEASES;
	req.list_leases = &body;
	p->reply = (Mmio__Reply)MMIO__REPLY__INIT;
	assert_int_equal(dispatch(s, &req, &p->reply, &p->scratch), DISPATCH_REPLY);
	assert_int_equal(p->reply.status, MMIO__STATUS__OK);
	assert_int_equal(p->reply.body_case, MMIO__REPLY__BODY_LEASES);
	p->packed = mmio__reply__get_packed_size(&p->reply);
	assert_true(p->packed <= MMIO_MAX_FRAME);
}

static uint64_t
id_at(const struct page *p, size_t i)
{
	return p->reply.leases->leases[i]->id;
}

/* Bytes the lease with this id would add to a page. */
static size_t
listed_size(struct session *s, uint64_t id)
{
	struct lease *l = lease_find(&s->leases, id);
	assert_non_null(l);
	Mmio__LeaseInfo info = MMIO__LEASE_INFO__INIT;
	info.id = l->id;
	info.region = REGION;
	info.start = l->start;
	info.length = l->len;
	info.pid = (int32_t)l->set->pid;
	info.uid = (uint32_t)l->set->uid;
	info.access = MMIO__ACCESS__ACCESS_RW;
	size_t n = mmio__lease_info__get_packed_size(&info);
	return 1 + (n < 128 ? 1 : 2) + n;
}

static struct session *
holder(struct fixture *f, uint64_t id)
{
	return lease_find(&f->user.leases, id) ? &f->user : &f->root;
}

static void
test_admin_pages_through_everything(void **state)
{
	struct fixture *f = *state;
	/* Unpaged, the listing would outgrow a frame. */
	size_t all_bytes = 0;
	for (size_t i = 0; i < f->n; i++) {
		all_bytes += listed_size(holder(f, f->ids[i]), f->ids[i]);
	}
	assert_true(all_bytes > MMIO_MAX_FRAME);

	size_t seen = 0;
	uint64_t after = 0;
	unsigned pages = 0;
	bool more = true;
	while (more) {
		struct page p;
		list(f, &f->root, after, 0, &p);
		const Mmio__LeaseList *page = p.reply.leases;
		assert_true(page->n_leases > 0);
		for (size_t i = 0; i < page->n_leases; i++) {
			assert_true(seen < f->n);
			assert_int_equal(id_at(&p, i), f->ids[seen]);
			seen++;
		}
		more = page->more;
		if (more) {
			/* Full: the next lease would not have fit. */
			uint64_t next = f->ids[seen];
			assert_true(p.packed + listed_size(holder(f, next), next) > MMIO_MAX_FRAME);
		}
		after = id_at(&p, page->n_leases - 1);
		pages++;
		reply_finish(&p.scratch);
	}
	assert_int_equal(seen, f->n);
	assert_true(pages >= 2);
}

/* An old client's ListLeases (no fields) gets the first page, more set. */
static void
test_empty_request_is_first_page(void **state)
{
	struct fixture *f = *state;
	struct page p;
	list(f, &f->root, 0, 0, &p);
	assert_true(p.reply.leases->more);
	assert_true(p.reply.leases->n_leases < f->n);
	assert_int_equal(id_at(&p, 0), f->ids[0]);
	reply_finish(&p.scratch);
}

static void
test_max_and_after_id(void **state)
{
	struct fixture *f = *state;
	struct page p;
	list(f, &f->root, 0, 1, &p);
	assert_int_equal(p.reply.leases->n_leases, 1);
	assert_int_equal(id_at(&p, 0), f->ids[0]);
	assert_true(p.reply.leases->more);
	reply_finish(&p.scratch);

	/* after_id need not name a live lease. */
	list(f, &f->root, f->ids[10] - 1, 5, &p);
	assert_int_equal(p.reply.leases->n_leases, 5);
	for (size_t i = 0; i < 5; i++) {
		assert_int_equal(id_at(&p, i), f->ids[10 + i]);
	}
	assert_true(p.reply.leases->more);
	reply_finish(&p.scratch);

	/* Exactly the rest: more is clear. */
	list(f, &f->root, f->ids[f->n - 4], 3, &p);
	assert_int_equal(p.reply.leases->n_leases, 3);
	assert_false(p.reply.leases->more);
	reply_finish(&p.scratch);

	list(f, &f->root, f->ids[f->n - 1], 0, &p);
	assert_int_equal(p.reply.leases->n_leases, 0);
	assert_false(p.reply.leases->more);
	reply_finish(&p.scratch);

	list(f, &f->root, UINT64_MAX, 0, &p);
	assert_int_equal(p.reply.leases->n_leases, 0);
	assert_false(p.reply.leases->more);
	reply_finish(&p.scratch);
}

/* Leases released between pages, the next page's first among them, are skipped; none repeats. */
static void
test_release_between_pages(void **state)
{
	struct fixture *f = *state;
	struct page p;
	list(f, &f->root, 0, 3, &p);
	uint64_t last = id_at(&p, 2);
	reply_finish(&p.scratch);
	/* ids[0] is where the listing's search stopped; ids[3] and [4] start the next page. */
	for (size_t i = 0; i < 5; i += (i == 0 ? 3 : 1)) {
		session_release_lease(lease_find(&holder(f, f->ids[i])->leases, f->ids[i]));
	}
	list(f, &f->root, last, 2, &p);
	assert_int_equal(id_at(&p, 0), f->ids[5]);
	assert_int_equal(id_at(&p, 1), f->ids[6]);
	reply_finish(&p.scratch);
	/* Back to the start, from a search that stopped further on. */
	list(f, &f->root, 0, 1, &p);
	assert_int_equal(id_at(&p, 0), f->ids[1]);
	reply_finish(&p.scratch);
}

/* Not an admin: its uid's leases only, paged all the same. */
static void
test_user_sees_own_only(void **state)
{
	struct fixture *f = *state;
	uint64_t after = 0;
	size_t seen = 0;
	bool more = true;
	size_t next = 0;
	while (more) {
		struct page p;
		list(f, &f->user, after, 7, &p);
		const Mmio__LeaseList *page = p.reply.leases;
		for (size_t i = 0; i < page->n_leases; i++) {
			while (holder(f, f->ids[next]) != &f->user) {
				next++;
			}
			assert_int_equal(id_at(&p, i), f->ids[next]);
			assert_int_equal(page->leases[i]->uid, 1000);
			next++;
			seen++;
		}
		more = page->more;
		after = page->n_leases ? id_at(&p, page->n_leases - 1) : after;
		reply_finish(&p.scratch);
	}
	assert_int_equal(seen, USER_N);
}

/* lease_first_after() alone: right from any hint, the hint moved off a released lease. */
static void
test_first_after_any_hint(void **state)
{
	struct fixture *f = *state;
	for (size_t i = f->n; i-- > 0;) {
		assert_int_equal(lease_first_after(f->ids[i] - 1)->id, f->ids[i]);
	}
	for (size_t i = 0; i + 1 < f->n; i += 97) {
		struct lease *l = lease_first_after(f->ids[i]);
		assert_int_equal(l->id, f->ids[i + 1]);
		assert_int_equal(lease_next_by_id(l)->id, f->ids[i + 2]);
	}
	assert_null(lease_first_after(f->ids[f->n - 1]));
	struct lease *hint = lease_first_after(f->ids[99]);
	session_release_lease(hint);
	assert_int_equal(lease_first_after(f->ids[99])->id, f->ids[101]);
	assert_int_equal(lease_first_after(0)->id, f->ids[0]);
}

/* TraceSubscribe: refused to a user, whether or not the region exists; an admin gets a pipe. */
static void
test_trace_for_admins_only(void **state)
{
	struct fixture *f = *state;
	const char *names[] = {REGION, "nosuch"};
	for (int i = 0; i < 2; i++) {
		Mmio__TraceSubscribe body = MMIO__TRACE_SUBSCRIBE__INIT;
		body.region = (char *)names[i];
		Mmio__Request req = MMIO__REQUEST__INIT;
		req.id = ++f->next_id;
		req.body_case = MMIO__REQUEST__BODY_TRACE_SUBSCRIBE;
		req.trace_subscribe = &body;
		struct page p = {.reply = MMIO__REPLY__INIT};
		assert_int_equal(dispatch(&f->user, &req, &p.reply, &p.scratch), DISPATCH_REPLY);
		assert_int_equal(p.reply.status, MMIO__STATUS__PERMISSION_DENIED);
		assert_int_equal(p.scratch.pass_fds[0], -1);
		reply_finish(&p.scratch);
		p.reply = (Mmio__Reply)MMIO__REPLY__INIT;
		assert_int_equal(dispatch(&f->root, &req, &p.reply, &p.scratch), DISPATCH_REPLY);
		assert_int_equal(p.reply.status,
				 i == 0 ? MMIO__STATUS__OK : MMIO__STATUS__NOT_FOUND);
		assert_true((p.scratch.pass_fds[0] >= 0) == (i == 0));
		if (p.scratch.pass_fds[0] >= 0) {
			close(p.scratch.pass_fds[0]);
		}
		reply_finish(&p.scratch);
	}
	/* Its connection goes: the region is traced no more. */
	session_finish(&f->root, LEASE_END_DISCONNECT);
	assert_null(f->table.regions[0]->trace);
}

static void
stats(struct fixture *f, struct session *s, struct page *p)
{
	Mmio__Stats body = MMIO__STATS__INIT;
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.id = ++f->next_id;
	req.body_case = MMIO__REQUEST__BODY_STATS;
	req.stats = &body;
	p->reply = (Mmio__Reply)MMIO__REPLY__INIT;
	assert_int_equal(dispatch(s, &req, &p->reply, &p->scratch), DISPATCH_REPLY);
	assert_int_equal(p->reply.status, MMIO__STATUS__OK);
	assert_int_equal(p->reply.body_case, MMIO__REPLY__BODY_STATS);
	p->packed = mmio__reply__get_packed_size(&p->reply);
}

/*
 * Stats lists leases' figures by ascending id as ListLeases shows leases: an admin's reply
 * with more than fit stops short of a frame (lease_stats_more); a user's has its own only.
 */
static void
test_stats_lease_figures(void **state)
{
	struct fixture *f = *state;
	struct page p;
	stats(f, &f->root, &p);
	const Mmio__StatsReply *st = p.reply.stats;
	assert_true(p.packed <= MMIO_MAX_FRAME);
	assert_true(st->lease_stats_more);
	assert_true(st->n_lease_stats > USER_N && st->n_lease_stats < ROOT_N + USER_N);
	for (size_t i = 0; i < st->n_lease_stats; i++) {
		assert_int_equal(st->lease_stats[i]->id, f->ids[i]);
		assert_string_equal(st->lease_stats[i]->region, REGION);
		assert_non_null(st->lease_stats[i]->figures);
	}
	reply_finish(&p.scratch);

	stats(f, &f->user, &p);
	st = p.reply.stats;
	assert_false(st->lease_stats_more);
	assert_int_equal(st->n_lease_stats, USER_N);
	for (size_t i = 0; i < st->n_lease_stats; i++) {
		assert_int_equal(st->lease_stats[i]->uid, 1000);
		assert_int_equal(st->lease_stats[i]->pid, 20);
	}
	reply_finish(&p.scratch);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_admin_pages_through_everything),
		T(test_empty_request_is_first_page),
		T(test_max_and_after_id),
		T(test_release_between_pages),
		T(test_user_sees_own_only),
		T(test_first_after_any_hint),
		T(test_trace_for_admins_only),
		T(test_stats_lease_figures),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
