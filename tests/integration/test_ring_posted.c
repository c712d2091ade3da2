/*
 * Posted stores (mmio_set_posted) through libmmio-client and a real mmiod: they keep their
 * order with everything after them (ring or socket), a failure is reported by the next load,
 * barrier or mmio_sync on the lease with the store's offset, a full ring holds the next store
 * back and loses none, and a revoke while stores are in flight leaves the range untouched
 * after it. Without a ring stores stay synchronous.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client_stats.h"
#include "daemon_fixture.h"
#include "mmio/client.h"
#include "mmio_ring.h"

#define LEN 0x40
/* More stores than the ring (MMIO_RING_DEFAULT_ENTRIES) holds, many times over. */
#define MANY (50 * MMIO_RING_DEFAULT_ENTRIES)

static const char conf[] = "socket = { mode = \"0666\"; };\n"
			   "regions = ( { name = \"sim0\"; type = \"mem\"; size = 0x1000; } );\n";

struct env {
	struct daemon_fixture daemon;
	char conf_path[160];
	struct mmio_client *c;   /* on the ring */
	struct mmio_client *obs; /* over the socket: watches and revokes */
};

static int
setup(void **state)
{
	unsetenv("MMIO_FAST_PATH");
	struct env *env = calloc(1, sizeof(*env));
	if (!env || daemon_fixture_prepare(&env->daemon) < 0) {
		free(env);
		return -1;
	}
	snprintf(env->conf_path, sizeof(env->conf_path), "%s/mmiod.conf", env->daemon.dir);
	const char *const args[] = {"--config", env->conf_path, NULL};
	if (daemon_fixture_write_file(env->conf_path, conf) < 0 ||
	    daemon_fixture_start_args(&env->daemon, args) < 0 ||
	    mmio_connect(env->daemon.socket_path, &env->c) < 0 ||
	    mmio_connect(env->daemon.socket_path, &env->obs) < 0 ||
	    mmio_set_fast_path(env->c, MMIO_FAST_PATH_ON) < 0 ||
	    mmio_set_fast_path(env->obs, MMIO_FAST_PATH_OFF) < 0) {
		daemon_fixture_stop(&env->daemon);
		unlink(env->conf_path);
		daemon_fixture_cleanup(&env->daemon);
		free(env);
		return -1;
	}
	*state = env;
	return 0;
}

static int
teardown(void **state)
{
	struct env *env = *state;
	mmio_disconnect(env->c);
	mmio_disconnect(env->obs);
	assert_int_equal(daemon_fixture_stop(&env->daemon), 0);
	unlink(env->conf_path);
	daemon_fixture_cleanup(&env->daemon);
	free(env);
	return 0;
}

/*
 * Posted stores return before they run and yet everything after them sees them: a load on the
 * ring, a block read over the socket, another client once mmio_sync returned. None is lost
 * with many times more than the ring holds (the next store waits for room).
 */
static void
test_posted_order_and_back_pressure(void **state)
{
	struct env *env = *state;
	struct mmio_lease *l, *other;
	assert_int_equal(mmio_acquire(env->c, "sim0", 0x100, LEN, &l), 0);
	assert_int_equal(mmio_acquire(env->c, "sim0", 0x200, LEN, &other), 0);
	assert_int_equal(mmio_fast_path_active(env->c), 1);
	assert_int_equal(mmio_set_posted(l, 1), 0);
	assert_int_equal(mmio_set_posted(NULL, 1), -EINVAL);

	/* Each then a load: the load waits for it. */
	for (uint32_t i = 1; i <= 100; i++) {
		uint32_t v = 0;
		assert_int_equal(mmio_store32(l, (i % 4) * 4, i), 0);
		assert_int_equal(mmio_load32(l, (i % 4) * 4, &v), 0);
		assert_int_equal(v, i);
	}

	/* Many back to back, with a synchronous op on another lease among them. */
	uint64_t before = requests_served(env->obs);
	for (uint32_t i = 0; i < MANY; i++) {
		assert_int_equal(mmio_store32(l, (i % 16) * 4, 0x1000 + i), 0);
		if (i == MANY / 2) {
			assert_int_equal(mmio_store8(other, 0, 0x5a), 0);
		}
	}
	/* A socket request comes after them all. */
	uint64_t block[16];
	assert_int_equal(mmio_read_block(l, 0, 4, block, 16, 0), 0);
	for (uint32_t k = 0; k < 16; k++) {
		assert_int_equal(block[k], 0x1000 + (MANY - 16) + k);
	}
	/* Every store ran once: one ring op each, the store8, the block read, the Stats. */
	assert_int_equal(requests_served(env->obs) - before, MANY + 1 + 1 + 1);
	uint8_t b;
	assert_int_equal(mmio_load8(other, 0, &b), 0);
	assert_int_equal(b, 0x5a);

	/* Posted again, then sync: another client sees them once it returns. */
	assert_int_equal(mmio_store64(l, 0x38, 0x0123456789abcdefULL), 0);
	assert_int_equal(mmio_sync(l), 0);
	assert_int_equal(mmio_release(l), 0);
	struct mmio_lease *seen;
	uint64_t v64;
	assert_int_equal(mmio_acquire(env->obs, "sim0", 0x100, LEN, &seen), 0);
	assert_int_equal(mmio_load64(seen, 0x38, &v64), 0);
	assert_int_equal(v64, 0x0123456789abcdefULL);
}

/*
 * A failed posted store: reported once, by the next mmio_sync, load or barrier on its lease
 * (which then does not run), with its offset in the detail; the stores after it ran; another
 * lease knows nothing of it.
 */
static void
test_posted_error_reported_with_offset(void **state)
{
	struct env *env = *state;
	struct mmio_lease *l, *other;
	assert_int_equal(mmio_acquire(env->c, "sim0", 0x100, LEN, &l), 0);
	assert_int_equal(mmio_acquire(env->c, "sim0", 0x200, LEN, &other), 0);
	assert_int_equal(mmio_set_posted(l, 1), 0);
	assert_int_equal(mmio_set_posted(other, 1), 0);

	/* Past the lease: mmiod's detail, after the offset. */
	assert_int_equal(mmio_store32(l, LEN, 1), 0);
	assert_int_equal(mmio_store32(l, 0x8, 0x77), 0);
	assert_int_equal(mmio_store32(other, 0, 0x66), 0);
	assert_int_equal(mmio_sync(other), 0);
	assert_int_equal(mmio_sync(l), -ERANGE);
	const char *d = mmio_error_detail(env->c);
	assert_non_null(strstr(d, "posted 4-byte store at offset 0x40 failed: "));
	assert_non_null(strstr(d, "does not fit lease"));
	assert_int_equal(mmio_sync(l), 0);
	uint32_t v = 0;
	assert_int_equal(mmio_load32(l, 0x8, &v), 0);
	assert_int_equal(v, 0x77);

	/* Misaligned, then past the lease: only the first is reported (mmiod's detail may be the
	 * second's by then: then the status's words stand in). */
	assert_int_equal(mmio_store32(l, 0x2, 1), 0);
	assert_int_equal(mmio_store32(l, LEN, 1), 0);
	assert_int_equal(mmio_sync(l), -EFAULT);
	assert_non_null(
		strstr(mmio_error_detail(env->c), "posted 4-byte store at offset 0x2 failed"));
	assert_int_equal(mmio_sync(l), 0);

	/* Reported by a load, which does not run, and by a barrier. */
	assert_int_equal(mmio_store16(l, 0x11, 1), 0);
	v = 0xffff;
	assert_int_equal(mmio_load32(l, 0x8, &v), -EFAULT);
	assert_int_equal(v, 0xffff);
	assert_non_null(strstr(mmio_error_detail(env->c), "offset 0x11 failed"));
	assert_int_equal(mmio_load32(l, 0x8, &v), 0);
	assert_int_equal(mmio_store8(l, LEN + 3, 1), 0);
	assert_int_equal(mmio_barrier(l), -ERANGE);
	assert_non_null(strstr(mmio_error_detail(env->c), "posted 1-byte store at offset 0x43"));
	assert_int_equal(mmio_barrier(l), 0);

	/* Off: synchronous again, the error at once. */
	assert_int_equal(mmio_set_posted(l, 0), 0);
	assert_int_equal(mmio_store32(l, LEN, 1), -ERANGE);
	assert_int_equal(mmio_sync(l), 0);
}

/*
 * A revoke while posted stores are in flight: those mmiod runs after it fail REVOKED, reported
 * by mmio_sync with an offset, and none of them reached the range (the next holder sees only
 * what ran before); the client's other leases carry on.
 */
static void
test_posted_revoke_in_flight(void **state)
{
	struct env *env = *state;
	struct mmio_lease *l, *other;
	assert_int_equal(mmio_acquire(env->c, "sim0", 0x300, LEN, &l), 0);
	assert_int_equal(mmio_acquire(env->c, "sim0", 0x400, LEN, &other), 0);
	assert_int_equal(mmio_set_posted(l, 1), 0);
	for (uint32_t i = 0; i < 40; i++) {
		assert_int_equal(mmio_store32(l, (i % 16) * 4, 1), 0);
	}
	/* The obs client revokes it (root: an admin) while those may still be in the ring. */
	assert_int_equal(mmio_revoke(env->obs, mmio_lease_id(l)), 0);
	for (uint32_t i = 0; i < 40; i++) {
		assert_int_equal(mmio_store32(l, (i % 16) * 4, 0xdead), 0);
	}
	assert_int_equal(mmio_sync(l), -EKEYREVOKED);
	assert_non_null(strstr(mmio_error_detail(env->c), "posted 4-byte store at offset 0x"));
	assert_int_equal(mmio_store32(other, 0, 9), 0);
	uint32_t v = 0;
	assert_int_equal(mmio_load32(other, 0, &v), 0);
	assert_int_equal(v, 9);
	struct mmio_lease *next;
	assert_int_equal(mmio_acquire(env->obs, "sim0", 0x300, LEN, &next), 0);
	for (uint32_t k = 0; k < 16; k++) {
		assert_int_equal(mmio_load32(next, k * 4, &v), 0);
		assert_true(v == 0 || v == 1);
	}
}

/* Without the ring, a posted lease's stores are synchronous: the error comes at once. */
static void
test_posted_without_ring_is_synchronous(void **state)
{
	struct env *env = *state;
	struct mmio_lease *l;
	assert_int_equal(mmio_acquire(env->obs, "sim0", 0x500, LEN, &l), 0);
	assert_int_equal(mmio_set_posted(l, 1), 0);
	assert_int_equal(mmio_store32(l, LEN, 1), -ERANGE);
	assert_int_equal(mmio_store32(l, 0, 5), 0);
	assert_int_equal(mmio_sync(l), 0);
	uint32_t v = 0;
	assert_int_equal(mmio_load32(l, 0, &v), 0);
	assert_int_equal(v, 5);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_posted_order_and_back_pressure, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_posted_error_reported_with_offset, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_posted_revoke_in_flight, setup, teardown),
		cmocka_unit_test_setup_teardown(test_posted_without_ring_is_synchronous, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
