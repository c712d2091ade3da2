/*
 * Registers by name through libmmio-client and a real mmiod whose region uart0 names
 * etc/maps/uart16550.yaml: find, load and store by name, fields, several fields in one Modify,
 * and the details of names and values that do not fit.
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

#include "daemon_fixture.h"
#include "mmio/client.h"

#define UART_MAP MMIO_SOURCE_DIR "/etc/maps/uart16550.yaml"

static const char conf[] =
	"regions = (\n"
	"  { name = \"uart0\"; type = \"mem\"; size = 0x100; map = \"" UART_MAP "\"; },\n"
	"  { name = \"plain\"; type = \"mem\"; size = 0x100; }\n"
	");\n";

struct env {
	struct daemon_fixture daemon;
	char conf_path[160];
	struct mmio_client *c;
	struct mmio_lease *l; /* all of uart0 */
};

static int
setup(void **state)
{
	struct env *env = calloc(1, sizeof(*env));
	if (!env || daemon_fixture_prepare(&env->daemon) < 0) {
		free(env);
		return -1;
	}
	snprintf(env->conf_path, sizeof(env->conf_path), "%s/mmiod.conf", env->daemon.dir);
	FILE *f = fopen(env->conf_path, "w");
	int ok = f && fputs(conf, f) >= 0;
	if (f && fclose(f) != 0) {
		ok = 0;
	}
	const char *const args[] = {"--config", env->conf_path, NULL};
	if (!ok || daemon_fixture_start_args(&env->daemon, args) < 0) {
		unlink(env->conf_path);
		daemon_fixture_cleanup(&env->daemon);
		free(env);
		return -1;
	}
	if (mmio_connect(env->daemon.socket_path, &env->c) < 0 ||
	    mmio_set_fast_path(env->c, MMIO_FAST_PATH_OFF) < 0 ||
	    mmio_acquire(env->c, "uart0", 0, 0x100, &env->l) < 0) {
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
	int rc = daemon_fixture_stop(&env->daemon);
	unlink(env->conf_path);
	free(env);
	return rc == 0 ? 0 : -1;
}

static uint64_t
requests(struct env *env)
{
	struct mmio_stats *st;
	assert_int_equal(mmio_stats(env->c, &st), 0);
	uint64_t n = st->requests;
	free(st);
	return n;
}

static void
test_regmap_names_find(void **state)
{
	struct env *env = *state;
	struct mmio_reg r;
	assert_int_equal(mmio_reg_find(env->l, "LSR.DR", &r), 0);
	assert_string_equal(r.name, "LSR");
	assert_string_equal(r.field, "DR");
	assert_string_equal(r.access, "ro");
	assert_int_equal(r.offset, 0x14);
	assert_int_equal(r.width, 1);
	assert_int_equal(r.msb, 0);
	assert_int_equal(r.lsb, 0);
	assert_int_equal(r.mask, 1);
	assert_true(r.is_field);
	assert_int_equal(mmio_reg_find(env->l, "LCR.WLS", &r), 0);
	assert_int_equal(r.mask, 0x3);
	assert_int_equal(mmio_reg_find(env->l, "LCR", &r), 0);
	assert_null(r.field);
	assert_false(r.is_field);
	assert_int_equal(r.msb, 7);
	assert_int_equal(r.mask, 0xff);
	assert_int_equal(r.offset, 0xc);

	/* Offsets are the lease's: LSR is 4 bytes into a lease from 0x10; THR is outside it. */
	struct mmio_lease *part;
	assert_int_equal(mmio_release(env->l), 0);
	assert_int_equal(mmio_acquire(env->c, "uart0", 0x10, 0x10, &part), 0);
	assert_int_equal(mmio_reg_find(part, "LSR", &r), 0);
	assert_int_equal(r.offset, 4);
	assert_int_equal(mmio_reg_find(part, "THR", &r), -ERANGE);
	assert_non_null(strstr(mmio_error_detail(env->c), "outside the lease"));
	assert_int_equal(mmio_release(part), 0);
	assert_int_equal(mmio_acquire(env->c, "uart0", 0, 0x100, &env->l), 0);

	/* Unknown names, with a suggestion when one is close. */
	assert_int_equal(mmio_reg_find(env->l, "LSX", &r), -ENOENT);
	assert_string_equal(mmio_error_detail(env->c),
			    "no register 'LSX' in uart0 (did you mean LSR?)");
	assert_int_equal(mmio_reg_find(env->l, "LCR.DLB", &r), -ENOENT);
	assert_string_equal(mmio_error_detail(env->c),
			    "no field 'DLB' in LCR of uart0 (did you mean DLAB?)");
	assert_int_equal(mmio_reg_find(env->l, "NOTHING_LIKE_IT", &r), -ENOENT);
	assert_string_equal(mmio_error_detail(env->c), "no register 'NOTHING_LIKE_IT' in uart0");
	assert_int_equal(mmio_reg_find(env->l, "LCR.", &r), -EINVAL);
	assert_int_equal(mmio_reg_find(env->l, "LCR[0]x", &r), -EINVAL);
	assert_int_equal(mmio_reg_find(env->l, "LCR[1]", &r), -ENOENT);

	/* A region without a map: the daemon's NOT_FOUND. */
	struct mmio_lease *plain;
	assert_int_equal(mmio_acquire(env->c, "plain", 0, 0x10, &plain), 0);
	assert_int_equal(mmio_reg_find(plain, "LSR", &r), -ENOENT);
	assert_non_null(strstr(mmio_error_detail(env->c), "plain has no register map"));
	assert_int_equal(mmio_release(plain), 0);
}

static void
test_regmap_names_load_store(void **state)
{
	struct env *env = *state;
	uint64_t v;
	assert_int_equal(mmio_reg_store(env->l, "LCR", 0x03), 0);
	assert_int_equal(mmio_load(env->l, 0xc, 1, &v), 0);
	assert_int_equal(v, 0x03);
	assert_int_equal(mmio_reg_load(env->l, "LCR", &v), 0);
	assert_int_equal(v, 0x03);
	assert_int_equal(mmio_reg_load(env->l, "LCR.WLS", &v), 0);
	assert_int_equal(v, 3);
	assert_int_equal(mmio_reg_load(env->l, "LCR.DLAB", &v), 0);
	assert_int_equal(v, 0);

	/* A field: one Modify of its bits only. */
	uint64_t before = requests(env);
	assert_int_equal(mmio_reg_store(env->l, "LCR.DLAB", 1), 0);
	assert_int_equal(requests(env) - before, 2); /* the Modify, and this Stats */
	assert_int_equal(mmio_load(env->l, 0xc, 1, &v), 0);
	assert_int_equal(v, 0x83);
	assert_int_equal(mmio_reg_load(env->l, "LCR.DLAB", &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(mmio_reg_store(env->l, "LCR.WLS", 1), 0);
	assert_int_equal(mmio_load(env->l, 0xc, 1, &v), 0);
	assert_int_equal(v, 0x81);

	/* Values that do not fit: nothing sent. */
	before = requests(env);
	assert_int_equal(mmio_reg_store(env->l, "LCR.WLS", 4), -EINVAL);
	assert_string_equal(mmio_error_detail(env->c),
			    "value 0x4 does not fit LCR.WLS (2 bits, at most 0x3)");
	assert_int_equal(mmio_reg_store(env->l, "LCR", 0x100), -EINVAL);
	assert_int_equal(requests(env) - before, 1);
	assert_int_equal(mmio_load(env->l, 0xc, 1, &v), 0);
	assert_int_equal(v, 0x81);
}

static void
test_regmap_names_store_fields(void **state)
{
	struct env *env = *state;
	uint64_t v;
	assert_int_equal(mmio_store(env->l, 0xc, 1, 0x03), 0);
	const char *const set[] = {"LCR.DLAB=1", "LCR.WLS=5BIT", "LCR.STB=1"};
	struct mmio_reg r;
	assert_int_equal(mmio_reg_find(env->l, "LCR", &r), 0); /* the map fetched */
	uint64_t before = requests(env);
	assert_int_equal(mmio_reg_store_fields(env->l, set, 3), 0);
	assert_int_equal(requests(env) - before, 2); /* one Modify, and this Stats */
	assert_int_equal(mmio_load(env->l, 0xc, 1, &v), 0);
	assert_int_equal(v, 0x84);

	/* Refused, nothing sent: a value that does not fit, an unknown value name, two
	 * registers, a field twice, a whole register. */
	before = requests(env);
	const char *const wide[] = {"LCR.DLAB=0", "LCR.WLS=4"};
	assert_int_equal(mmio_reg_store_fields(env->l, wide, 2), -EINVAL);
	assert_string_equal(mmio_error_detail(env->c),
			    "'LCR.WLS=4': 0x4 does not fit LCR.WLS (2 bits, at most 0x3)");
	const char *const unknown[] = {"LCR.WLS=8BTI"};
	assert_int_equal(mmio_reg_store_fields(env->l, unknown, 1), -EINVAL);
	assert_string_equal(mmio_error_detail(env->c),
			    "'LCR.WLS=8BTI': not a number nor a value of LCR.WLS (did you mean "
			    "8BIT?)");
	const char *const two[] = {"LCR.DLAB=1", "LSR.DR=1"};
	assert_int_equal(mmio_reg_store_fields(env->l, two, 2), -EINVAL);
	assert_non_null(strstr(mmio_error_detail(env->c), "fields of different registers"));
	const char *const twice[] = {"LCR.DLAB=1", "LCR.DLAB=0"};
	assert_int_equal(mmio_reg_store_fields(env->l, twice, 2), -EINVAL);
	assert_string_equal(mmio_error_detail(env->c), "field LCR.DLAB is given twice");
	const char *const whole[] = {"LCR=1"};
	assert_int_equal(mmio_reg_store_fields(env->l, whole, 1), -EINVAL);
	const char *const bare[] = {"LCR.DLAB"};
	assert_int_equal(mmio_reg_store_fields(env->l, bare, 1), -EINVAL);
	assert_int_equal(mmio_reg_store_fields(env->l, set, 0), -EINVAL);
	assert_int_equal(requests(env) - before, 1);
	assert_int_equal(mmio_load(env->l, 0xc, 1, &v), 0);
	assert_int_equal(v, 0x84);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_regmap_names_find, setup, teardown),
		cmocka_unit_test_setup_teardown(test_regmap_names_load_store, setup, teardown),
		cmocka_unit_test_setup_teardown(test_regmap_names_store_fields, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
