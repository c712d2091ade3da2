/*
 * The shared-memory fast path through libmmio-client and a real mmiod: the
 * ring gives exactly the socket's results, AUTO opens it when it says, and
 * the death of either side is noticed. The raw ring protocol and its limits
 * are in test_ring_hostile.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client_stats.h"
#include "daemon_fixture.h"
#include "mmio/client.h"
#include "mmio_ring.h"
#include "run_as.h"

/* The rw lease: its start is not 8-aligned, so offset and absolute alignment differ. */
#define RW_START 0x103
#define RW_LEN   0x40
/* uid RO_UID may lease only [RO_START, RO_START + RO_LEN), read-only. */
#define RO_UID   4242
#define RO_START 0x800
#define RO_LEN   0x100
/* AUTO opens the ring at this single op (MMIO_FAST_PATH_AUTO_OPS, client_internal.h). */
#define AUTO_OPS 8
/* Failure guards only: how long a log line may take to appear, a call to return. */
#define LOG_WAIT_MS 60000
#define GUARD_MS    10000

static const char ring_conf[] =
	"socket = { mode = \"0666\"; };\n"
	"regions = (\n"
	"  { name = \"sim0\"; type = \"mem\"; size = 0x1000;\n"
	"    grants = ( { user = 4242; access = \"ro\"; offset = 0x800; length = 0x100; } ); },\n"
	"  { name = \"aud\"; type = \"mem\"; size = 0x100; audit = \"all\"; }\n"
	");\n";

struct env {
	struct daemon_fixture daemon;
	char conf_path[160];
};

static int
setup(void **state)
{
	/* Whatever runs the suite must not choose the mode for us. */
	unsetenv("MMIO_FAST_PATH");
	struct env *env = calloc(1, sizeof(*env));
	if (!env || daemon_fixture_prepare(&env->daemon) < 0) {
		free(env);
		return -1;
	}
	snprintf(env->conf_path, sizeof(env->conf_path), "%s/mmiod.conf", env->daemon.dir);
	const char *const args[] = {"--config", env->conf_path, NULL};
	/* The directory is opened to others for the read-only client of another uid. */
	if (daemon_fixture_write_file(env->conf_path, ring_conf) < 0 ||
	    chmod(env->daemon.dir, 0755) < 0 || daemon_fixture_start_args(&env->daemon, args) < 0) {
		unlink(env->conf_path);
		daemon_fixture_cleanup(&env->daemon);
		free(env);
		return -1;
	}
	*state = env;
	return 0;
}

/* Only cleans up after a failed test: each test asserts its daemon's clean stop itself. */
static int
teardown(void **state)
{
	struct env *env = *state;
	if (env) {
		if (env->daemon.pid > 0) {
			daemon_fixture_stop(&env->daemon);
		}
		unlink(env->conf_path);
		daemon_fixture_cleanup(&env->daemon);
		free(env);
	}
	unsetenv("MMIO_FAST_PATH");
	return 0;
}

static void
stop_daemon(struct env *env)
{
	assert_int_equal(daemon_fixture_stop(&env->daemon), 0);
	unlink(env->conf_path);
}

/* Rings mmiod opened so far, from its log: proof the ring, not the socket, served. */
static int
rings_opened(const struct env *env)
{
	return daemon_fixture_log_count(&env->daemon, "entries open");
}

/* ---- Running one op on either path ---- */

enum kind { K_LOAD, K_STORE, K_MODIFY, K_BARRIER };

struct op {
	enum kind kind;
	uint64_t offset;
	unsigned width;
	uint64_t value;
	uint64_t mask; /* K_MODIFY */
};

struct outcome {
	int rc;
	uint64_t value; /* loaded (or old) value; VALUE_UNTOUCHED if the call did not set it */
	char detail[192];
};

#define VALUE_UNTOUCHED 0x5eed5eed5eed5eedULL

static const char *const kind_names[] = {"load", "store", "modify", "barrier"};

/* Runs op on lease l with client c switched to mode (ON: must be on the ring). */
static struct outcome
run_op(struct mmio_client *c, struct mmio_lease *l, const struct op *op, enum mmio_fast_path mode)
{
	assert_int_equal(mmio_set_fast_path(c, mode), 0);
	assert_int_equal(mmio_fast_path_active(c), mode == MMIO_FAST_PATH_ON);
	struct outcome o = {.value = VALUE_UNTOUCHED};
	switch (op->kind) {
	case K_LOAD:
		o.rc = mmio_load(l, op->offset, op->width, &o.value);
		break;
	case K_STORE:
		o.rc = mmio_store(l, op->offset, op->width, op->value);
		break;
	case K_MODIFY:
		o.rc = mmio_modify(l, op->offset, op->width, op->mask, op->value, &o.value);
		break;
	case K_BARRIER:
		o.rc = mmio_barrier(l);
		break;
	}
	snprintf(o.detail, sizeof(o.detail), "%s", mmio_error_detail(c));
	return o;
}

/* Both outcomes are want (rc), and the same in value and detail; says which op if not. */
static void
assert_same(const struct op *op, const struct outcome *ring, const struct outcome *sock, int want)
{
	if (ring->rc != want || sock->rc != want || ring->value != sock->value ||
	    strcmp(ring->detail, sock->detail) != 0) {
		fail_msg("%s width %u offset 0x%" PRIx64 " value 0x%" PRIx64 ": want %d; ring %d "
			 "0x%" PRIx64 " '%s'; socket %d 0x%" PRIx64 " '%s'",
			 kind_names[op->kind], op->width, op->offset, op->value, want, ring->rc,
			 ring->value, ring->detail, sock->rc, sock->value, sock->detail);
	}
}

/* Runs op through the ring, then the socket, on the same lease: same results. */
static struct outcome
run_both(struct mmio_client *c, struct mmio_lease *l, const struct op *op, int want)
{
	struct outcome ring = run_op(c, l, op, MMIO_FAST_PATH_ON);
	struct outcome sock = run_op(c, l, op, MMIO_FAST_PATH_OFF);
	assert_same(op, &ring, &sock, want);
	return ring;
}

/* What docs/SEMANTICS.md says an access of lease [abs_base, +len) must answer. */
static int
expected_rc(uint64_t abs_base, uint64_t len, const struct op *op)
{
	unsigned w = op->width;
	if (w != 1 && w != 2 && w != 4 && w != 8) {
		return -EINVAL;
	}
	/* Alignment is judged on the absolute address, and before the bounds. */
	if (((abs_base + op->offset) & (w - 1)) != 0) {
		return -EFAULT;
	}
	/* off + w is never computed: it may wrap. */
	if (op->offset > len || len - op->offset < w) {
		return -ERANGE;
	}
	if (op->kind == K_STORE && w < 8 && (op->value >> (8 * w)) != 0) {
		return -EINVAL;
	}
	return 0;
}

/* The detail names what went wrong, with the absolute address for UNALIGNED. */
static void
assert_detail_explains(const struct outcome *o, uint64_t abs_base, const struct op *op)
{
	char want[96] = "";
	switch (o->rc) {
	case 0:
		assert_string_equal(o->detail, "");
		return;
	case -EFAULT:
		snprintf(want, sizeof(want), "is device address 0x%" PRIx64 ", not %u-byte aligned",
			 abs_base + op->offset, op->width);
		break;
	case -ERANGE:
		snprintf(want, sizeof(want), "%u-byte access at offset 0x%" PRIx64 " does not fit",
			 op->width, op->offset);
		break;
	case -EINVAL:
		snprintf(want, sizeof(want), "%s",
			 op->width == 1 || op->width == 2 || op->width == 4 || op->width == 8
				 ? "value is wider than"
				 : "is not 1, 2, 4 or 8 bytes");
		break;
	default:
		fail_msg("unexpected rc %d", o->rc);
	}
	if (!strstr(o->detail, want)) {
		fail_msg("detail '%s' lacks '%s'", o->detail, want);
	}
}

static uint64_t
width_mask(unsigned w)
{
	return w == 8 ? UINT64_MAX : (UINT64_C(1) << (8 * w)) - 1;
}

/* The absolute device address of offset 0 of region sim0. */
static uint64_t
sim0_address(struct mmio_client *c)
{
	struct mmio_region_info *regions;
	int n = mmio_list_regions(c, &regions);
	assert_true(n >= 1);
	for (int i = 0; i < n; i++) {
		if (strcmp(regions[i].name, "sim0") == 0) {
			uint64_t addr = regions[i].address;
			free(regions);
			return addr;
		}
	}
	fail_msg("no region sim0");
	return 0;
}

/* ---- 1. Same semantics on both paths ---- */

/*
 * One width at one offset: loads agree; a store through either path is what a
 * load through the other reads; an over-wide value is refused alike.
 */
static void
check_access(struct mmio_client *c, struct mmio_lease *l, uint64_t abs_base, unsigned width,
	     uint64_t offset, unsigned *wrapped)
{
	struct op load = {.kind = K_LOAD, .offset = offset, .width = width};
	int want = expected_rc(abs_base, RW_LEN, &load);
	struct outcome o = run_both(c, l, &load, want);
	assert_detail_explains(&o, abs_base, &load);
	if (want == -ERANGE && offset > UINT64_MAX - width) {
		(*wrapped)++; /* offset + width wraps past 2^64 */
	}

	uint64_t v1 = (UINT64_C(0x8877665544332211) ^ (offset * UINT64_C(0x0101010101010101))) &
		      width_mask(width);
	uint64_t v2 = ~v1 & width_mask(width);
	struct op store_ring = {.kind = K_STORE, .offset = offset, .width = width, .value = v1};
	struct op store_sock = store_ring;
	store_sock.value = v2;
	struct outcome r = run_op(c, l, &store_ring, MMIO_FAST_PATH_ON);
	if (want == 0) {
		/* The ring's store, read over the socket. */
		struct outcome back = run_op(c, l, &load, MMIO_FAST_PATH_OFF);
		assert_int_equal(back.rc, 0);
		assert_int_equal(back.value, v1);
	}
	struct outcome s = run_op(c, l, &store_sock, MMIO_FAST_PATH_OFF);
	assert_same(&store_ring, &r, &s, want);
	assert_detail_explains(&r, abs_base, &store_ring);
	if (want == 0) {
		/* The socket's store, read through the ring. */
		struct outcome back = run_op(c, l, &load, MMIO_FAST_PATH_ON);
		assert_int_equal(back.rc, 0);
		assert_int_equal(back.value, v2);
	}

	if (width < 8) {
		struct op wide = {.kind = K_STORE, .offset = offset, .width = width};
		wide.value = UINT64_C(1) << (8 * width);
		o = run_both(c, l, &wide, expected_rc(abs_base, RW_LEN, &wide));
		assert_detail_explains(&o, abs_base, &wide);
	}
}

/* Read-only grant: run as uid RO_UID; stores and modifies refused alike on both paths. */
static int
ro_checks(void *arg)
{
	const struct env *env = arg;
	struct mmio_client *c;
	struct mmio_lease *l;
	CHILD_CHECK(mmio_connect(env->daemon.socket_path, &c) == 0);
	CHILD_CHECK(mmio_acquire(c, "sim0", RO_START, RO_LEN, &l) == 0);
	CHILD_CHECK(mmio_lease_access(l) == MMIO_ACCESS_RO);
	char ring_detail[192];
	uint64_t ring_v = 0, sock_v = 0;

	CHILD_CHECK(mmio_set_fast_path(c, MMIO_FAST_PATH_ON) == 0 && mmio_fast_path_active(c));
	CHILD_CHECK(mmio_load(l, 0, 4, &ring_v) == 0 && ring_v == 0x5a5a5a5a);
	CHILD_CHECK(mmio_store(l, 0, 4, 1) == -EACCES);
	snprintf(ring_detail, sizeof(ring_detail), "%s", mmio_error_detail(c));
	CHILD_CHECK(strstr(ring_detail, "read-only") != NULL);
	CHILD_CHECK(mmio_set_fast_path(c, MMIO_FAST_PATH_OFF) == 0 && !mmio_fast_path_active(c));
	CHILD_CHECK(mmio_store(l, 0, 4, 1) == -EACCES);
	CHILD_CHECK(strcmp(mmio_error_detail(c), ring_detail) == 0);

	/* A modify is refused before its load: nothing read, nothing written. */
	ring_v = sock_v = VALUE_UNTOUCHED;
	CHILD_CHECK(mmio_set_fast_path(c, MMIO_FAST_PATH_ON) == 0);
	CHILD_CHECK(mmio_modify(l, 0, 4, 0xff, 0x11, &ring_v) == -EACCES);
	CHILD_CHECK(strcmp(mmio_error_detail(c), ring_detail) == 0);
	CHILD_CHECK(mmio_set_fast_path(c, MMIO_FAST_PATH_OFF) == 0);
	CHILD_CHECK(mmio_modify(l, 0, 4, 0xff, 0x11, &sock_v) == -EACCES);
	CHILD_CHECK(strcmp(mmio_error_detail(c), ring_detail) == 0);
	CHILD_CHECK(ring_v == VALUE_UNTOUCHED && sock_v == VALUE_UNTOUCHED);
	CHILD_CHECK(mmio_load(l, 0, 4, &sock_v) == 0 && sock_v == 0x5a5a5a5a);
	mmio_disconnect(c);
	return 0;
}

static void
test_ring_same_semantics_as_socket(void **state)
{
	struct env *env = *state;
	struct mmio_client *c;
	struct mmio_lease *l;
	assert_int_equal(mmio_connect(env->daemon.socket_path, &c), 0);
	assert_int_equal(mmio_acquire(c, "sim0", RW_START, RW_LEN, &l), 0);
	int opened = rings_opened(env);
	assert_int_equal(mmio_set_fast_path(c, MMIO_FAST_PATH_ON), 0);
	assert_int_equal(mmio_fast_path_active(c), 1);
	assert_int_equal(rings_opened(env), opened + 1);
	uint64_t abs_base = sim0_address(c) + RW_START;
	/* Else offset and absolute alignment would agree and prove nothing. */
	assert_int_not_equal(abs_base % 8, 0);

	/* Every width at every residue, at the lease's end, and where offset + width wraps. */
	static const unsigned widths[] = {1, 2, 4, 8};
	for (unsigned wi = 0; wi < 4; wi++) {
		unsigned w = widths[wi], wrapped = 0;
		for (uint64_t off = 0; off < 16; off++) {
			check_access(c, l, abs_base, w, off, &wrapped);
		}
		for (uint64_t off = RW_LEN - 9; off <= RW_LEN + 1; off++) {
			check_access(c, l, abs_base, w, off, &wrapped);
		}
		for (uint64_t k = 1; k <= 8; k++) {
			check_access(c, l, abs_base, w, UINT64_MAX - k + 1, &wrapped);
		}
		assert_true(wrapped >= 1);
	}
	/* Widths that do not exist, loads and stores alike (the library sends these by socket). */
	static const unsigned bad_widths[] = {0, 3, 16};
	for (unsigned i = 0; i < 3; i++) {
		struct op load = {.kind = K_LOAD, .offset = 5, .width = bad_widths[i]};
		struct op store = {.kind = K_STORE, .offset = 5, .width = bad_widths[i]};
		struct outcome o = run_both(c, l, &load, -EINVAL);
		assert_detail_explains(&o, abs_base, &load);
		o = run_both(c, l, &store, -EINVAL);
		assert_detail_explains(&o, abs_base, &store);
	}

	/* Modify: offset 1 is 4-aligned on the device. Each path's result seen by the other. */
	uint64_t m_off = (4 - abs_base % 4) % 4;
	struct op load = {.kind = K_LOAD, .offset = m_off, .width = 4};
	struct op store = {.kind = K_STORE, .offset = m_off, .width = 4, .value = 0xffff0000};
	assert_int_equal(run_op(c, l, &store, MMIO_FAST_PATH_OFF).rc, 0);
	struct op mod = {.kind = K_MODIFY, .offset = m_off, .width = 4};
	mod.mask = 0x0000ff00;
	mod.value = 0xdead34ef; /* bits outside the mask are ignored */
	struct outcome o = run_op(c, l, &mod, MMIO_FAST_PATH_ON);
	assert_int_equal(o.rc, 0);
	assert_int_equal(o.value, 0xffff0000);
	o = run_op(c, l, &load, MMIO_FAST_PATH_OFF);
	assert_int_equal(o.value, 0xffff3400);
	mod.mask = 0xff;
	mod.value = 0x12;
	o = run_op(c, l, &mod, MMIO_FAST_PATH_OFF);
	assert_int_equal(o.rc, 0);
	assert_int_equal(o.value, 0xffff3400);
	o = run_op(c, l, &load, MMIO_FAST_PATH_ON);
	assert_int_equal(o.value, 0xffff3412);
	/* Failed modifies: same errors, nothing loaded, nothing stored. */
	struct op bad_mods[] = {
		{.kind = K_MODIFY, .offset = m_off + 1, .width = 4, .mask = 1, .value = 1},
		{.kind = K_MODIFY, .offset = RW_LEN, .width = 1, .mask = 1, .value = 1},
		{.kind = K_MODIFY, .offset = UINT64_MAX, .width = 1, .mask = 1, .value = 1},
		{.kind = K_MODIFY, .offset = m_off, .width = 3, .mask = 1, .value = 1},
	};
	for (unsigned i = 0; i < sizeof(bad_mods) / sizeof(bad_mods[0]); i++) {
		o = run_both(c, l, &bad_mods[i], expected_rc(abs_base, RW_LEN, &bad_mods[i]));
		assert_int_equal(o.value, VALUE_UNTOUCHED);
		assert_detail_explains(&o, abs_base, &bad_mods[i]);
	}
	o = run_op(c, l, &load, MMIO_FAST_PATH_ON);
	assert_int_equal(o.value, 0xffff3412);

	struct op barrier = {.kind = K_BARRIER};
	run_both(c, l, &barrier, 0);

	/* A lease that was revoked is REVOKED alike, for every op, with the reason. */
	struct mmio_lease *gone;
	assert_int_equal(mmio_acquire(c, "sim0", 0x200, 8, &gone), 0);
	assert_int_equal(mmio_revoke(c, mmio_lease_id(gone)), 0);
	char want[64];
	snprintf(want, sizeof(want), "lease %" PRIu64 " was revoked: admin", mmio_lease_id(gone));
	struct op on_gone[] = {
		{.kind = K_LOAD, .width = 4},
		{.kind = K_STORE, .width = 4, .value = 1},
		{.kind = K_MODIFY, .width = 4, .mask = 1, .value = 1},
		{.kind = K_BARRIER},
	};
	for (unsigned i = 0; i < 4; i++) {
		o = run_both(c, gone, &on_gone[i], -EKEYREVOKED);
		assert_non_null(strstr(o.detail, want));
	}
	/* Only the one ring all along: ON after OFF reuses it. */
	assert_int_equal(rings_opened(env), opened + 1);

	/* Read-only: what root writes through the ring, the ro client reads on both paths. */
	struct mmio_lease *ro_area;
	assert_int_equal(mmio_set_fast_path(c, MMIO_FAST_PATH_ON), 0);
	assert_int_equal(mmio_acquire(c, "sim0", RO_START, 8, &ro_area), 0);
	assert_int_equal(mmio_store32(ro_area, 0, 0x5a5a5a5a), 0);
	assert_int_equal(mmio_release(ro_area), 0);
	if (geteuid() == 0) {
		assert_int_equal(run_as(RO_UID, RO_UID, NULL, 0, ro_checks, env), 0);
	} else {
		print_message("not root: read-only grant part skipped\n");
	}
	mmio_disconnect(c);
	stop_daemon(env);
}

/* The audit lines of region aud in the log, from the first-th on (at most max). */
static int
audit_lines(const struct env *env, int first, char lines[][256], int max)
{
	FILE *f = fopen(env->daemon.log_path, "r");
	assert_non_null(f);
	char line[256];
	int seen = 0, n = 0;
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, "audit: ") && strstr(line, " region aud ") && seen++ >= first &&
		    n < max) {
			snprintf(lines[n++], sizeof(lines[0]), "%s", line);
		}
	}
	fclose(f);
	return n;
}

/* A batch of n ops over lease l: mixed loads and stores, a barrier, and ops that fail. */
static void
fill_batch(struct mmio_op *ops, size_t n, struct mmio_lease *l, struct mmio_lease *gone)
{
	for (size_t i = 0; i < n; i++) {
		unsigned w = 1u << (i % 4);
		ops[i] = (struct mmio_op){.lease = l,
					  .kind = i % 2 ? MMIO_OP_LOAD : MMIO_OP_STORE,
					  .width = w,
					  .offset = 0x10 - RW_START % w + (i / 2) % 2 * w,
					  .value = (0x11 * i) & 0xff};
	}
	ops[3].kind = MMIO_OP_BARRIER;
	ops[5].offset = RW_LEN + 1; /* 2 bytes, aligned, past the lease: OUT_OF_RANGE */
	ops[7].offset = 0x11;       /* 8 bytes at 0x114 absolute: UNALIGNED */
	ops[9].lease = gone;        /* an admin revoked it: REVOKED */
}

/*
 * A client over the socket and one through the ring, each with a rw lease (the ring's RW_LEN
 * later: every residue as the socket's) and a lease an admin revoked, to compare the two paths.
 */
static void
open_twins(struct env *env, struct mmio_client **sock, struct mmio_client **ring,
	   struct mmio_lease **ls, struct mmio_lease **lr, struct mmio_lease **gone_s,
	   struct mmio_lease **gone_r)
{
	assert_int_equal(mmio_connect(env->daemon.socket_path, sock), 0);
	assert_int_equal(mmio_connect(env->daemon.socket_path, ring), 0);
	assert_int_equal(mmio_set_fast_path(*sock, MMIO_FAST_PATH_OFF), 0);
	assert_int_equal(mmio_set_fast_path(*ring, MMIO_FAST_PATH_ON), 0);
	assert_int_equal(mmio_acquire(*sock, "sim0", RW_START, RW_LEN, ls), 0);
	assert_int_equal(mmio_acquire(*ring, "sim0", RW_START + RW_LEN, RW_LEN, lr), 0);
	assert_int_equal(mmio_acquire(*sock, "sim0", 0x400, 8, gone_s), 0);
	assert_int_equal(mmio_acquire(*ring, "sim0", 0x408, 8, gone_r), 0);
	assert_int_equal(mmio_revoke(*sock, mmio_lease_id(*gone_s)), 0);
	assert_int_equal(mmio_revoke(*sock, mmio_lease_id(*gone_r)), 0);
}

/*
 * With the ring open, a plain batch of up to MMIO_RING_ATOMIC_OPS ops goes through it (one
 * ring op each, no Batch request) and gives the socket's statuses and values; a longer one
 * still goes over the socket.
 */
static void
test_ring_small_batches(void **state)
{
	struct env *env = *state;
	struct mmio_client *sock, *ring;
	struct mmio_lease *ls, *lr, *gone_s, *gone_r;
	open_twins(env, &sock, &ring, &ls, &lr, &gone_s, &gone_r);
	struct mmio_op by_sock[16], by_ring[16];
	fill_batch(by_sock, 16, ls, gone_s);
	fill_batch(by_ring, 16, lr, gone_r);
	/* The ring lease starts RW_LEN later: 0x40 keeps every residue as it was. */
	uint64_t before = requests_served(sock);
	assert_int_equal(mmio_batch(sock, by_sock, 16, 0), 3);
	assert_int_equal(requests_served(sock) - before, 2); /* the Batch, the Stats */
	before = requests_served(sock);
	assert_int_equal(mmio_batch(ring, by_ring, 16, 0), 3);
	assert_int_equal(requests_served(sock) - before, 16 + 1); /* one ring op each */
	for (size_t i = 0; i < 16; i++) {
		assert_int_equal(by_ring[i].status, by_sock[i].status);
		assert_int_equal(by_ring[i].value, by_sock[i].value);
	}
	assert_int_equal(by_ring[5].status, -ERANGE);
	assert_int_equal(by_ring[7].status, -EFAULT);
	assert_int_equal(by_ring[9].status, -EKEYREVOKED);
	assert_int_equal(by_ring[2].status, 0);

	/* More ops than one pass runs at once: the socket's Batch. */
	struct mmio_op big[MMIO_RING_ATOMIC_OPS + 1];
	fill_batch(big, MMIO_RING_ATOMIC_OPS + 1, lr, gone_r);
	before = requests_served(sock);
	assert_int_equal(mmio_batch(ring, big, MMIO_RING_ATOMIC_OPS + 1, 0), 3);
	assert_int_equal(requests_served(sock) - before, 2);
	mmio_disconnect(ring);
	mmio_disconnect(sock);
	stop_daemon(env);
}

/* The lease's bytes, one load each. */
static void
snapshot(struct mmio_lease *l, uint8_t bytes[RW_LEN])
{
	for (unsigned i = 0; i < RW_LEN; i++) {
		assert_int_equal(mmio_load8(l, i, &bytes[i]), 0);
	}
}

/*
 * Batches with flags go through the ring as one group (one ring op per entry, no Batch) and give
 * the socket's statuses and values: a failing all-or-nothing batch changes nothing,
 * stop-on-error cancels what follows the first failure, a passing all-or-nothing batch runs.
 */
static void
test_ring_batch_flags_like_socket(void **state)
{
	struct env *env = *state;
	struct mmio_client *sock, *ring;
	struct mmio_lease *ls, *lr, *gone_s, *gone_r;
	open_twins(env, &sock, &ring, &ls, &lr, &gone_s, &gone_r);
	/* All-or-nothing first, while every store would still change a byte. */
	const unsigned flags[] = {MMIO_BATCH_ALL_OR_NOTHING,
				  MMIO_BATCH_ALL_OR_NOTHING | MMIO_BATCH_STOP_ON_ERROR,
				  MMIO_BATCH_STOP_ON_ERROR};
	const int want_failed[] = {16, 16, 11};
	for (size_t f = 0; f < sizeof(flags) / sizeof(flags[0]); f++) {
		struct mmio_op by_sock[16], by_ring[16];
		uint8_t was_s[RW_LEN], was_r[RW_LEN], now_s[RW_LEN], now_r[RW_LEN];
		fill_batch(by_sock, 16, ls, gone_s);
		fill_batch(by_ring, 16, lr, gone_r);
		snapshot(ls, was_s);
		snapshot(lr, was_r);
		uint64_t before = requests_served(sock);
		assert_int_equal(mmio_batch(sock, by_sock, 16, flags[f]), want_failed[f]);
		assert_int_equal(requests_served(sock) - before, 2); /* the Batch, the Stats */
		before = requests_served(sock);
		assert_int_equal(mmio_batch(ring, by_ring, 16, flags[f]), want_failed[f]);
		assert_int_equal(requests_served(sock) - before, 16 + 1); /* one ring op each */
		for (size_t i = 0; i < 16; i++) {
			assert_int_equal(by_ring[i].status, by_sock[i].status);
			assert_int_equal(by_ring[i].value, by_sock[i].value);
		}
		snapshot(ls, now_s);
		snapshot(lr, now_r);
		assert_memory_equal(now_s, now_r, RW_LEN);
		if (flags[f] & MMIO_BATCH_ALL_OR_NOTHING) {
			assert_memory_equal(now_r, was_r, RW_LEN);
			assert_int_equal(by_ring[0].status, -ECANCELED);
			assert_int_equal(by_ring[5].status, -ERANGE);
		} else {
			assert_memory_not_equal(now_r, was_r, RW_LEN);
			assert_int_equal(by_ring[4].status, 0);
			assert_int_equal(by_ring[5].status, -ERANGE);
			assert_int_equal(by_ring[6].status, -ECANCELED);
		}
	}
	/* Without its failing ops, an all-or-nothing batch runs whole and loads what it stored. */
	struct mmio_op ok[16];
	fill_batch(ok, 16, lr, gone_r);
	ok[5].kind = ok[7].kind = ok[9].kind = MMIO_OP_BARRIER;
	ok[9].lease = lr;
	for (size_t i = 0; i < 16; i++) {
		ok[i].value = 0x80 | i;
	}
	uint64_t before = requests_served(sock);
	assert_int_equal(mmio_batch(ring, ok, 16, MMIO_BATCH_ALL_OR_NOTHING), 0);
	assert_int_equal(requests_served(sock) - before, 16 + 1);
	/* i = 1 loads 2 bytes at 0xf: the upper one is what i = 0 stored at 0x10. */
	assert_int_equal((ok[1].value >> 8) & 0xff, ok[0].value);
	mmio_disconnect(ring);
	mmio_disconnect(sock);
	stop_daemon(env);
}

/* Ring ops leave exactly the audit records of their socket requests. */
static void
test_ring_audited_like_socket(void **state)
{
	struct env *env = *state;
	struct mmio_client *c;
	struct mmio_lease *l;
	assert_int_equal(mmio_connect(env->daemon.socket_path, &c), 0);
	assert_int_equal(mmio_acquire(c, "aud", 0, 0x10, &l), 0);
	const struct op ops[] = {
		{.kind = K_STORE, .offset = 4, .width = 4, .value = 0xabc},
		{.kind = K_LOAD, .offset = 4, .width = 4},
		{.kind = K_STORE, .offset = 2, .width = 4, .value = 1},       /* UNALIGNED */
		{.kind = K_LOAD, .offset = 0x10, .width = 1},                 /* OUT_OF_RANGE */
		{.kind = K_STORE, .offset = 0, .width = 2, .value = 1 << 16}, /* too wide */
		{.kind = K_MODIFY, .offset = 4, .width = 4, .mask = 0xf, .value = 0x5},
		{.kind = K_BARRIER},
	};
	const unsigned n_ops = sizeof(ops) / sizeof(ops[0]);
	enum { PER_PATH = 7 }; /* a line per access; a modify is a load and a store; no barrier */
	char ring[PER_PATH + 1][256], sock[PER_PATH + 1][256];
	for (unsigned i = 0; i < n_ops; i++) {
		run_op(c, l, &ops[i], MMIO_FAST_PATH_ON);
	}
	assert_int_equal(audit_lines(env, 0, ring, PER_PATH + 1), PER_PATH);
	/* The first store sets the register: the socket run sees the same values. */
	for (unsigned i = 0; i < n_ops; i++) {
		run_op(c, l, &ops[i], MMIO_FAST_PATH_OFF);
	}
	assert_int_equal(audit_lines(env, PER_PATH, sock, PER_PATH + 1), PER_PATH);
	for (unsigned i = 0; i < PER_PATH; i++) {
		assert_string_equal(ring[i], sock[i]);
	}
	assert_non_null(strstr(ring[0], "store32 offset 0x4 value 0xabc status OK"));
	assert_non_null(strstr(ring[2], "status UNALIGNED"));
	assert_non_null(strstr(ring[3], "status OUT_OF_RANGE"));
	assert_non_null(strstr(ring[4], "status INVALID_ARGUMENT"));
	assert_non_null(strstr(ring[5], "load32 offset 0x4 value 0xabc status OK"));
	assert_non_null(strstr(ring[6], "store32 offset 0x4 value 0xab5 status OK"));
	mmio_disconnect(c);
	stop_daemon(env);
}

/* ---- 2. AUTO and the environment ---- */

static void
test_ring_auto_opens_at_eighth_op(void **state)
{
	struct env *env = *state;
	struct mmio_client *c;
	struct mmio_lease *l;
	assert_int_equal(mmio_connect(env->daemon.socket_path, &c), 0);
	assert_int_equal(mmio_acquire(c, "sim0", 0, 0x40, &l), 0);
	int opened = rings_opened(env);
	/* Every kind of single op counts. */
	uint64_t v = 0;
	for (unsigned i = 1; i < AUTO_OPS; i++) {
		switch (i % 4) {
		case 0:
			assert_int_equal(mmio_load(l, 0, 8, &v), 0);
			break;
		case 1:
			assert_int_equal(mmio_store(l, 0, 8, i), 0);
			break;
		case 2:
			assert_int_equal(mmio_modify(l, 0, 8, 0xff00, 0x100 * i, NULL), 0);
			break;
		default:
			assert_int_equal(mmio_barrier(l), 0);
			break;
		}
		assert_int_equal(mmio_fast_path_active(c), 0);
	}
	assert_int_equal(rings_opened(env), opened);
	/* The eighth op opens the ring and runs on it: the socket's stores are there. */
	assert_int_equal(mmio_load(l, 0, 8, &v), 0);
	assert_int_equal(v, 0x605);
	assert_int_equal(mmio_fast_path_active(c), 1);
	assert_int_equal(rings_opened(env), opened + 1);
	assert_int_equal(mmio_store(l, 8, 8, 77), 0);
	assert_int_equal(mmio_load(l, 8, 8, &v), 0);
	assert_int_equal(v, 77);

	/* No such mode: refused, and the mode in force stays. */
	assert_int_equal(mmio_set_fast_path(c, 99), -EINVAL);
	assert_int_equal(mmio_set_fast_path(c, -1), -EINVAL);
	assert_int_equal(mmio_fast_path_active(c), 1);
	mmio_disconnect(c);

	/* MMIO_FAST_PATH=off: never a ring, however many ops. */
	assert_int_equal(setenv("MMIO_FAST_PATH", "off", 1), 0);
	assert_int_equal(mmio_connect(env->daemon.socket_path, &c), 0);
	unsetenv("MMIO_FAST_PATH");
	assert_int_equal(mmio_acquire(c, "sim0", 0, 0x40, &l), 0);
	for (unsigned i = 0; i < 4 * AUTO_OPS; i++) {
		assert_int_equal(mmio_store(l, 0, 8, i), 0);
		assert_int_equal(mmio_load(l, 0, 8, &v), 0);
		assert_int_equal(v, i);
	}
	assert_int_equal(mmio_fast_path_active(c), 0);
	assert_int_equal(rings_opened(env), opened + 1);
	mmio_disconnect(c);

	/* MMIO_FAST_PATH=on: the ring from the first op. */
	assert_int_equal(setenv("MMIO_FAST_PATH", "on", 1), 0);
	assert_int_equal(mmio_connect(env->daemon.socket_path, &c), 0);
	unsetenv("MMIO_FAST_PATH");
	assert_int_equal(mmio_acquire(c, "sim0", 0, 0x40, &l), 0);
	assert_int_equal(mmio_load(l, 0, 8, &v), 0);
	assert_int_equal(v, 4 * AUTO_OPS - 1);
	assert_int_equal(mmio_fast_path_active(c), 1);
	assert_int_equal(rings_opened(env), opened + 2);
	mmio_disconnect(c);
	stop_daemon(env);
}

/* ---- 3. Death of a client on the ring ---- */

#define DEATH_START 0x300
#define DEATH_LEN   0x10
#define DEATH_MARK  0xfeedface

/* The child: leases, goes ON, says so on ready_fd, then loops on ring ops until killed. */
static void __attribute__((noreturn)) ring_looper(const char *socket_path, int ready_fd)
{
	struct mmio_client *c = NULL;
	struct mmio_lease *l = NULL;
	if (mmio_connect(socket_path, &c) != 0 ||
	    mmio_acquire(c, "sim0", DEATH_START, DEATH_LEN, &l) != 0 ||
	    mmio_set_fast_path(c, MMIO_FAST_PATH_ON) != 0 || mmio_fast_path_active(c) != 1 ||
	    mmio_store32(l, 8, DEATH_MARK) != 0) {
		_exit(write(ready_fd, "n", 1) == 1 ? 1 : 2);
	}
	for (uint32_t i = 0;; i++) {
		uint32_t v;
		if (mmio_store32(l, 0, i) < 0 || mmio_load32(l, 0, &v) < 0 || v != i) {
			_exit(write(ready_fd, "n", 1) == 1 ? 1 : 2);
		}
		/* Report once the loop is running: the kill lands mid-loop. */
		if (i == 1 && write(ready_fd, "y", 1) != 1) {
			_exit(1);
		}
	}
}

static void
test_ring_client_killed_mid_loop_frees_lease(void **state)
{
	struct env *env = *state;
	int pipefd[2];
	assert_int_equal(pipe(pipefd), 0);
	fflush(NULL);
	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		close(pipefd[0]);
		ring_looper(env->daemon.socket_path, pipefd[1]);
	}
	close(pipefd[1]);
	char ok = 0;
	assert_int_equal(read(pipefd[0], &ok, 1), 1);
	close(pipefd[0]);
	assert_int_equal(ok, 'y');

	struct mmio_client *c;
	struct mmio_lease *l;
	assert_int_equal(mmio_connect(env->daemon.socket_path, &c), 0);
	assert_int_equal(mmio_acquire(c, "sim0", DEATH_START, DEATH_LEN, &l), -EBUSY);

	int status;
	assert_int_equal(kill(child, SIGKILL), 0);
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
	char line[96];
	snprintf(line, sizeof(line), "(pid %d uid %u): disconnected, 1 lease revoked", (int)child,
		 (unsigned)getuid());
	assert_int_equal(daemon_fixture_wait_log(&env->daemon, line, 1, LOG_WAIT_MS), 1);

	assert_int_equal(mmio_acquire(c, "sim0", DEATH_START, DEATH_LEN, &l), 0);
	uint32_t v;
	assert_int_equal(mmio_load32(l, 8, &v), 0);
	assert_int_equal(v, DEATH_MARK);
	/* The daemon serves rings on: ours too. */
	assert_int_equal(mmio_set_fast_path(c, MMIO_FAST_PATH_ON), 0);
	assert_int_equal(mmio_store32(l, 0, 5), 0);
	assert_int_equal(mmio_load32(l, 0, &v), 0);
	assert_int_equal(v, 5);
	mmio_disconnect(c);
	stop_daemon(env);
}

/* ---- 4. Death of mmiod under a client on the ring ---- */

struct guarded_load {
	struct mmio_lease *l;
	uint32_t value;
	int rc;
	int done_fd; /* written once the load returned */
};

static void *
guarded_load_main(void *arg)
{
	struct guarded_load *g = arg;
	g->rc = mmio_load32(g->l, 0, &g->value);
	if (write(g->done_fd, "x", 1) != 1) {
		g->rc = 1;
	}
	return NULL;
}

/* mmio_load32(l, 0, ..) in a thread: a hang fails the test instead of stalling it. */
static int
load_or_fail_if_hung(struct mmio_lease *l, uint32_t *value)
{
	int done[2];
	assert_int_equal(pipe(done), 0);
	struct guarded_load g = {.l = l, .value = *value, .done_fd = done[1]};
	pthread_t thread;
	assert_int_equal(pthread_create(&thread, NULL, guarded_load_main, &g), 0);
	struct pollfd pfd = {.fd = done[0], .events = POLLIN};
	if (poll(&pfd, 1, GUARD_MS) != 1) {
		fail_msg("a ring op still blocked %d ms after mmiod died", GUARD_MS);
	}
	assert_int_equal(pthread_join(thread, NULL), 0);
	close(done[0]);
	close(done[1]);
	*value = g.value;
	return g.rc;
}

static void
test_ring_daemon_killed_is_connreset(void **state)
{
	struct env *env = *state;
	struct mmio_client *c;
	struct mmio_lease *l;
	assert_int_equal(mmio_connect(env->daemon.socket_path, &c), 0);
	assert_int_equal(mmio_acquire(c, "sim0", 0, 0x10, &l), 0);
	assert_int_equal(mmio_set_fast_path(c, MMIO_FAST_PATH_ON), 0);
	assert_int_equal(mmio_fast_path_active(c), 1);
	uint32_t v = 0;
	assert_int_equal(mmio_store32(l, 0, 9), 0);
	assert_int_equal(mmio_load32(l, 0, &v), 0);
	assert_int_equal(v, 9);

	int status;
	assert_int_equal(kill(env->daemon.pid, SIGKILL), 0);
	assert_int_equal(waitpid(env->daemon.pid, &status, 0), env->daemon.pid);
	env->daemon.pid = -1;
	assert_true(WIFSIGNALED(status));

	/* The next ring op notices (no completion will ever come), and so does every later call. */
	v = 0;
	assert_int_equal(load_or_fail_if_hung(l, &v), -ECONNRESET);
	assert_int_equal(v, 0);
	assert_int_equal(mmio_store32(l, 0, 1), -ECONNRESET);
	assert_int_equal(mmio_modify(l, 0, 4, 1, 1, NULL), -ECONNRESET);
	assert_int_equal(mmio_barrier(l), -ECONNRESET);
	assert_int_equal(mmio_set_fast_path(c, MMIO_FAST_PATH_OFF), 0);
	assert_int_equal(mmio_load32(l, 0, &v), -ECONNRESET);
	struct mmio_region_info *regions;
	assert_int_equal(mmio_list_regions(c, &regions), -ECONNRESET);
	mmio_disconnect(c);
	/* We reaped the daemon ourselves: only its files are left. */
	unlink(env->conf_path);
	daemon_fixture_cleanup(&env->daemon);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ring_same_semantics_as_socket, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ring_small_batches, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ring_batch_flags_like_socket, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ring_audited_like_socket, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ring_auto_opens_at_eighth_op, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ring_client_killed_mid_loop_frees_lease, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ring_daemon_killed_is_connreset, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
