/*
 * Errors in the user's terms, through a live mmiod and libmmio-client: an
 * unaligned access names the region and region offset, then the lease and
 * lease offset, then the device address; a mem region's device address is its
 * offset, not where mmiod's memory lies; a CONFLICT names the lease in the way,
 * its pid, uid and process name, to a caller of the holder's uid (or an
 * admin), and to anyone else only that another client holds it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon_fixture.h"
#include "mmio/client.h"
#include "run_as.h"

#define OTHER_UID 4242

/* m: 4 KiB of memory that uid OTHER_UID may lease too. */
static const char conf_text[] = "socket = { mode = \"0666\"; };\n"
				"regions = (\n"
				"  { name = \"m\"; type = \"mem\"; size = 0x1000;\n"
				"    grants = ( { user = 4242; access = \"rw\"; } ); }\n"
				");\n";

struct env {
	struct daemon_fixture daemon;
	char conf_path[160];
	struct mmio_client *one; /* two connections: two holders */
	struct mmio_client *two;
};

static int
setup(void **state)
{
	unsetenv("MMIO_FAST_PATH");
	struct env *env = test_calloc(1, sizeof(*env));
	assert_int_equal(daemon_fixture_prepare(&env->daemon), 0);
	snprintf(env->conf_path, sizeof(env->conf_path), "%s/mmiod.conf", env->daemon.dir);
	FILE *f = fopen(env->conf_path, "w");
	assert_non_null(f);
	assert_true(fputs(conf_text, f) >= 0);
	assert_int_equal(fclose(f), 0);
	/* Another uid reaches the socket through the fixture's directory. */
	assert_int_equal(chmod(env->daemon.dir, 0755), 0);
	const char *const args[] = {"--config", env->conf_path, NULL};
	assert_int_equal(daemon_fixture_start_args(&env->daemon, args), 0);
	assert_int_equal(mmio_connect(env->daemon.socket_path, &env->one), 0);
	assert_int_equal(mmio_connect(env->daemon.socket_path, &env->two), 0);
	*state = env;
	return 0;
}

static int
teardown(void **state)
{
	struct env *env = *state;
	mmio_disconnect(env->one);
	mmio_disconnect(env->two);
	unlink(env->conf_path);
	int rc = daemon_fixture_stop(&env->daemon);
	test_free(env);
	assert_int_equal(rc, 0);
	return 0;
}

static void
test_details_mem_address_is_offset(void **state)
{
	struct env *env = *state;
	struct mmio_region_info *regions = NULL;
	int n = mmio_list_regions(env->one, &regions);
	assert_int_equal(n, 1);
	assert_string_equal(regions[0].name, "m");
	assert_int_equal(regions[0].address, 0);
	free(regions); /* one free() releases it all */
}

static void
test_details_unaligned_in_region_terms(void **state)
{
	struct env *env = *state;
	struct mmio_lease *l = NULL;
	assert_int_equal(mmio_acquire(env->one, "m", 0x10, 0x10, &l), 0);
	uint32_t v;
	assert_int_equal(mmio_load32(l, 0x2, &v), -EFAULT);
	char want[160];
	snprintf(want, sizeof(want),
		 "m offset 0x12 (lease %" PRIu64
		 " offset 0x2) is device address 0x12, not 4-byte aligned",
		 mmio_lease_id(l));
	assert_string_equal(mmio_error_detail(env->one), want);
	assert_int_equal(mmio_release(l), 0);
}

static void
test_details_conflict_names_holder(void **state)
{
	struct env *env = *state;
	struct mmio_lease *l = NULL;
	struct mmio_lease *refused = NULL;
	assert_int_equal(mmio_acquire(env->one, "m", 0x0, 0x10, &l), 0);
	assert_int_equal(mmio_acquire(env->two, "m", 0x8, 0x10, &refused), -EBUSY);
	assert_null(refused);
	char want[192];
	snprintf(want, sizeof(want),
		 "range overlaps a live lease on m: lease %" PRIu64
		 " [0x0, +0x10) held by pid %d uid %u (test_details)",
		 mmio_lease_id(l), (int)getpid(), (unsigned)getuid());
	assert_string_equal(mmio_error_detail(env->two), want);
	assert_int_equal(mmio_release(l), 0);
}

/* In a process of uid OTHER_UID: the holder (root's) is not named. */
static int
other_uid_conflict(void *arg)
{
	const char *socket_path = arg;
	struct mmio_client *c;
	struct mmio_lease *l = NULL;
	CHILD_CHECK(mmio_connect(socket_path, &c) == 0);
	CHILD_CHECK(mmio_acquire(c, "m", 0x0, 0x4, &l) == -EBUSY);
	CHILD_CHECK(strcmp(mmio_error_detail(c),
			   "range overlaps a live lease on m: held by another client") == 0);
	mmio_disconnect(c);
	return 0;
}

static void
test_details_conflict_hides_other_uid(void **state)
{
	struct env *env = *state;
	if (geteuid() != 0) {
		skip();
	}
	struct mmio_lease *l = NULL;
	assert_int_equal(mmio_acquire(env->one, "m", 0x0, 0x10, &l), 0);
	assert_int_equal(
		run_as(OTHER_UID, OTHER_UID, NULL, 0, other_uid_conflict, env->daemon.socket_path),
		0);
	assert_int_equal(mmio_release(l), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_details_mem_address_is_offset, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_details_unaligned_in_region_terms, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_details_conflict_names_holder, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_details_conflict_hides_other_uid, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
