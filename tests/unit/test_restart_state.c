/*
 * The restart state's container (daemon/restart_state.c): what is written reads back; a torn,
 * corrupted or foreign memfd is refused as such, and a newer format as newer, so that the
 * successor starts clean instead of trusting it. And lease ids after a restart
 * (lease_restore, lease_continue_ids).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/lease.h"
#include "restart_state.h"

static int
written_state(void)
{
	MmiodState__State st = MMIOD_STATE__STATE__INIT;
	st.format = RESTART_STATE_FORMAT;
	st.next_lease_id = 42;
	st.socket_path = (char *)"/run/x.sock";
	int fd = restart_state_write(&st);
	assert_true(fd >= 0);
	return fd;
}

/* A copy of fd's bytes in a new (unsealed) memfd, with byte at changed to value. */
static int
copy_with(int fd, off_t at, uint8_t value, off_t cut)
{
	uint8_t buf[4096];
	ssize_t n = pread(fd, buf, sizeof(buf), 0);
	assert_true(n > 0);
	if (at >= 0) {
		assert_true(at < n);
		buf[at] = value;
	}
	if (cut > 0) {
		n -= cut;
	}
	int copy = memfd_create("test", MFD_CLOEXEC);
	assert_true(copy >= 0);
	assert_int_equal(write(copy, buf, (size_t)n), n);
	return copy;
}

static void
test_round_trip(void **state)
{
	(void)state;
	int fd = written_state();
	/* Sealed: nobody rewrites it under the successor. */
	assert_int_equal(write(fd, "x", 1), -1);
	MmiodState__State *st = NULL;
	char err[128];
	assert_int_equal(restart_state_read(fd, &st, err, sizeof(err)), 0);
	assert_int_equal(st->next_lease_id, 42);
	assert_string_equal(st->socket_path, "/run/x.sock");
	mmiod_state__state__free_unpacked(st, NULL);
	close(fd);
}

static void
test_refused(void **state)
{
	(void)state;
	int fd = written_state();
	struct {
		off_t at;
		uint8_t value;
		off_t cut;
		int rc;
		const char *why;
	} cases[] = {
		{0, 'X', 0, -EPROTO, "not a state"},
		{8, RESTART_STATE_FORMAT + 1, 0, -EPROTONOSUPPORT, "newer than"},
		{12, 1, 0, -EPROTONOSUPPORT, "flags 0x1"},
		{-1, 0, 1, -EPROTO, "torn"},
		{40, 0xff, 0, -EPROTO, "checksum"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int bad = copy_with(fd, cases[i].at, cases[i].value, cases[i].cut);
		MmiodState__State *st = NULL;
		char err[128] = "";
		assert_int_equal(restart_state_read(bad, &st, err, sizeof(err)), cases[i].rc);
		assert_null(st);
		if (!strstr(err, cases[i].why)) {
			fail_msg("case %zu: '%s' does not say '%s'", i, err, cases[i].why);
		}
		close(bad);
	}
	close(fd);
}

static void
test_lease_ids_go_on(void **state)
{
	(void)state;
	struct lease_space space;
	struct lease_set set;
	lease_space_init(&space, 0x100, 0);
	lease_set_init(&set, 8, 1, 1000);
	lease_continue_ids(100);
	struct lease *restored;
	struct lease *fresh;
	/* A predecessor's ids: restored as they were, never twice, never past the next. */
	assert_int_equal(lease_restore(&space, &set, 7, 0, 0x10, &restored), 0);
	assert_int_equal(restored->id, 7);
	struct lease *again;
	assert_int_equal(lease_restore(&space, &set, 7, 0x20, 0x10, &again), -EEXIST);
	assert_int_equal(lease_restore(&space, &set, 100, 0x20, 0x10, &again), -EINVAL);
	assert_int_equal(lease_restore(&space, &set, 9, 0x8, 0x10, &again), -EBUSY);
	assert_int_equal(lease_acquire(&space, &set, 0x40, 0x10, &fresh), 0);
	assert_int_equal(fresh->id, 100);
	/* Listed in id order whatever the order they came back in. */
	assert_ptr_equal(lease_first_after(0), restored);
	assert_ptr_equal(lease_next_by_id(restored), fresh);
	lease_revoke_all(&set);
	lease_space_finish(&space);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_lease_ids_go_on),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
