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

#define UART_MAP    MMIO_SOURCE_DIR "/etc/maps/uart16550.yaml"
#define TESTDEV_MAP MMIO_SOURCE_DIR "/tests/integration/maps/testdev.yaml"

static const char conf[] =
	"regions = (\n"
	"  { name = \"uart0\"; type = \"mem\"; size = 0x100; map = \"" UART_MAP "\"; },\n"
	"  { name = \"plain\"; type = \"mem\"; size = 0x100; },\n"
	"  { name = \"dev0\"; type = \"mem\"; size = 0x100; map = \"" TESTDEV_MAP "\"; }\n"
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

/* The whole map, without a lease: every key of the wire in the public structs. */
static void
test_regmap_names_get(void **state)
{
	struct env *env = *state;
	const struct mmio_regmap *m;
	uint64_t before = requests(env);
	assert_int_equal(mmio_regmap_get(env->c, "dev0", &m), 0);
	assert_string_equal(m->region, "dev0");
	assert_string_equal(m->name, "testdev");
	assert_int_equal(m->width, 4);
	assert_int_equal(m->n_registers, 7);
	const struct mmio_regmap_register *ctrl = &m->registers[0];
	assert_string_equal(ctrl->name, "CTRL");
	assert_int_equal(ctrl->offset, 0);
	assert_int_equal(ctrl->width, 4);
	assert_string_equal(ctrl->access, "rw");
	assert_true(ctrl->has_reset);
	assert_int_equal(ctrl->reset, 0);
	assert_false(ctrl->side_effects);
	assert_int_equal(ctrl->count, 1);
	assert_int_equal(ctrl->stride, 0);
	assert_string_equal(ctrl->description, "Control");
	assert_int_equal(ctrl->n_fields, 3);
	assert_string_equal(ctrl->fields[0].name, "EN");
	assert_string_equal(ctrl->fields[0].description, "Enable");
	assert_string_equal(ctrl->fields[1].name, "MODE");
	assert_int_equal(ctrl->fields[1].msb, 5);
	assert_int_equal(ctrl->fields[1].lsb, 4);
	assert_string_equal(ctrl->fields[1].access, "rw");
	assert_string_equal(ctrl->fields[1].description, "");
	assert_int_equal(ctrl->fields[1].n_values, 3);
	assert_string_equal(ctrl->fields[1].values[2].name, "TEST");
	assert_int_equal(ctrl->fields[1].values[2].value, 2);
	assert_string_equal(m->registers[1].fields[1].access, "rc");
	assert_string_equal(m->registers[2].access, "rc");
	assert_true(m->registers[3].side_effects);
	assert_false(m->registers[3].has_reset);
	assert_string_equal(m->registers[3].description, "Receive FIFO (a read pops)");
	assert_int_equal(m->registers[5].width, 2);
	assert_int_equal(m->registers[5].reset, 0x1234);
	const struct mmio_regmap_register *ch = &m->registers[6];
	assert_string_equal(ch->name, "CH");
	assert_int_equal(ch->count, 4);
	assert_int_equal(ch->stride, 4);
	assert_int_equal(ch->offset, 0x20);
	/* Offsets named as a trace names them. */
	char name[32];
	assert_string_equal(mmio_regmap_name_at(m, 0x0, name, sizeof(name)), "CTRL");
	assert_string_equal(mmio_regmap_name_at(m, 0x2, name, sizeof(name)), "CTRL+0x2");
	assert_string_equal(mmio_regmap_name_at(m, 0x28, name, sizeof(name)), "CH[2]");
	assert_string_equal(mmio_regmap_name_at(m, 0x2d, name, sizeof(name)), "CH[3]+0x1");
	assert_null(mmio_regmap_name_at(m, 0x30, name, sizeof(name)));
	assert_string_equal(mmio_regmap_name_at(m, 0x28, name, 3), "CH");
	assert_null(mmio_regmap_name_at(NULL, 0x0, name, sizeof(name)));

	/* Fetched once: the second call is served from the client's copy, the same structs. */
	const struct mmio_regmap *again;
	assert_int_equal(mmio_regmap_get(env->c, "dev0", &again), 0);
	assert_ptr_equal(again, m);
	assert_int_equal(requests(env) - before, 2); /* one ListRegisters, and this Stats */

	/* No map, no region, a name too long for any region: NOT_FOUND with mmiod's words. */
	assert_int_equal(mmio_regmap_get(env->c, "plain", &m), -ENOENT);
	assert_non_null(strstr(mmio_error_detail(env->c), "plain has no register map"));
	assert_int_equal(mmio_regmap_get(env->c, "nosuch", &m), -ENOENT);
	assert_non_null(strstr(mmio_error_detail(env->c), "no region named 'nosuch'"));
	char longname[100];
	memset(longname, 'u', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(mmio_regmap_get(env->c, longname, &m), -ENOENT);
	assert_non_null(strstr(mmio_error_detail(env->c), "no region named"));
}

/* Names on the region: offsets are the region's, whatever is leased; no lease needed. */
static void
test_regmap_names_find_region(void **state)
{
	struct env *env = *state;
	struct mmio_reg r;
	assert_int_equal(mmio_regmap_find(env->c, "uart0", "LSR.DR", &r), 0);
	assert_string_equal(r.name, "LSR");
	assert_string_equal(r.field, "DR");
	assert_int_equal(r.offset, 0x14);
	assert_int_equal(r.width, 1);
	assert_int_equal(r.mask, 1);
	assert_true(r.is_field);
	assert_int_equal(mmio_regmap_find(env->c, "dev0", "CH[2].GAIN", &r), 0);
	assert_int_equal(r.offset, 0x28);
	assert_int_equal(r.index, 2);
	assert_int_equal(r.width, 4);
	assert_int_equal(r.msb, 3);
	assert_int_equal(r.lsb, 1);
	assert_int_equal(r.mask, 0xe);
	assert_int_equal(mmio_regmap_find(env->c, "dev0", "ID", &r), 0);
	assert_int_equal(r.width, 2);
	assert_int_equal(r.mask, 0xffff);
	assert_string_equal(r.access, "ro");

	/* The lease-based call on a lease from 0x10 sees the same register 4 bytes in. */
	struct mmio_lease *part;
	assert_int_equal(mmio_release(env->l), 0);
	assert_int_equal(mmio_acquire(env->c, "uart0", 0x10, 0x10, &part), 0);
	assert_int_equal(mmio_reg_find(part, "LSR", &r), 0);
	assert_int_equal(r.offset, 4);
	assert_int_equal(mmio_regmap_find(env->c, "uart0", "LSR", &r), 0);
	assert_int_equal(r.offset, 0x14);
	assert_int_equal(mmio_regmap_find(env->c, "uart0", "THR", &r), 0); /* no lease: no range */
	assert_int_equal(r.offset, 0);
	assert_int_equal(mmio_release(part), 0);
	assert_int_equal(mmio_acquire(env->c, "uart0", 0, 0x100, &env->l), 0);

	/* The same errors and details as mmio_reg_find. */
	assert_int_equal(mmio_regmap_find(env->c, "uart0", "LSX", &r), -ENOENT);
	assert_string_equal(mmio_error_detail(env->c),
			    "no register 'LSX' in uart0 (did you mean LSR?)");
	assert_int_equal(mmio_regmap_find(env->c, "uart0", "LCR.DLB", &r), -ENOENT);
	assert_string_equal(mmio_error_detail(env->c),
			    "no field 'DLB' in LCR of uart0 (did you mean DLAB?)");
	assert_int_equal(mmio_regmap_find(env->c, "dev0", "CH", &r), -EINVAL);
	assert_string_equal(mmio_error_detail(env->c), "CH is an array of 4: name one, CH[0]");
	assert_int_equal(mmio_regmap_find(env->c, "dev0", "CH[4]", &r), -ENOENT);
	assert_string_equal(mmio_error_detail(env->c), "no register CH[4] in dev0 (CH has 4)");
	assert_int_equal(mmio_regmap_find(env->c, "dev0", "CTRL..EN", &r), -EINVAL);
	assert_int_equal(mmio_regmap_find(env->c, "plain", "LSR", &r), -ENOENT);
	assert_non_null(strstr(mmio_error_detail(env->c), "plain has no register map"));
}

/* Field assignments encoded without a lease and without a request to the device. */
static void
test_regmap_names_encode(void **state)
{
	struct env *env = *state;
	struct mmio_reg r;
	uint64_t mask = 0;
	uint64_t value = 0;
	const char *const set[] = {"LCR.DLAB=1", "LCR.WLS=8BIT"};
	assert_int_equal(mmio_regmap_find(env->c, "uart0", "LCR", &r), 0); /* the map fetched */
	uint64_t before = requests(env);
	assert_int_equal(mmio_regmap_encode_fields(env->c, "uart0", set, 2, &r, &mask, &value), 0);
	assert_int_equal(requests(env) - before, 1); /* only this Stats */
	assert_string_equal(r.name, "LCR");
	assert_null(r.field);
	assert_false(r.is_field);
	assert_int_equal(r.offset, 0xc);
	assert_int_equal(r.width, 1);
	assert_int_equal(r.mask, 0xff);
	assert_int_equal(mask, 0x83);
	assert_int_equal(value, 0x83);
	const char *const ch[] = {"CH[3].GAIN=X4", "CH[3].ON=1"};
	assert_int_equal(mmio_regmap_encode_fields(env->c, "dev0", ch, 2, &r, &mask, &value), 0);
	assert_int_equal(r.offset, 0x2c);
	assert_int_equal(r.index, 3);
	assert_int_equal(mask, 0xf);
	assert_int_equal(value, 0x5);

	/* Refused as mmio_reg_store_fields refuses them. */
	const char *const wide[] = {"LCR.WLS=4"};
	assert_int_equal(mmio_regmap_encode_fields(env->c, "uart0", wide, 1, &r, &mask, &value),
			 -EINVAL);
	assert_string_equal(mmio_error_detail(env->c),
			    "'LCR.WLS=4': 0x4 does not fit LCR.WLS (2 bits, at most 0x3)");
	const char *const unknown[] = {"LCR.WLS=8BTI"};
	assert_int_equal(mmio_regmap_encode_fields(env->c, "uart0", unknown, 1, &r, &mask, &value),
			 -EINVAL);
	assert_string_equal(mmio_error_detail(env->c),
			    "'LCR.WLS=8BTI': not a number nor a value of LCR.WLS (did you mean "
			    "8BIT?)");
	const char *const instances[] = {"CH[0].ON=1", "CH[1].ON=1"};
	assert_int_equal(mmio_regmap_encode_fields(env->c, "dev0", instances, 2, &r, &mask, &value),
			 -EINVAL);
	assert_non_null(strstr(mmio_error_detail(env->c), "fields of different registers"));
	const char *const nofield[] = {"LCR.DLB=1"};
	assert_int_equal(mmio_regmap_encode_fields(env->c, "uart0", nofield, 1, &r, &mask, &value),
			 -ENOENT);
	assert_string_equal(mmio_error_detail(env->c),
			    "no field 'DLB' in LCR of uart0 (did you mean DLAB?)");
	assert_int_equal(mmio_regmap_encode_fields(env->c, "uart0", set, 0, &r, &mask, &value),
			 -EINVAL);

	/* mmio_reg_store_fields is the same encoding, then one Modify inside the lease. */
	struct mmio_lease *part;
	assert_int_equal(mmio_acquire(env->c, "dev0", 0x20, 0x10, &part), 0);
	assert_int_equal(mmio_reg_store_fields(part, ch, 2), 0);
	uint64_t v = 0;
	assert_int_equal(mmio_load(part, 0xc, 4, &v), 0);
	assert_int_equal(v, 0x5);
	const char *const outside[] = {"CTRL.EN=1"};
	assert_int_equal(mmio_reg_store_fields(part, outside, 1), -ERANGE);
	assert_non_null(strstr(mmio_error_detail(env->c), "outside the lease"));
	assert_int_equal(mmio_release(part), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_regmap_names_find, setup, teardown),
		cmocka_unit_test_setup_teardown(test_regmap_names_load_store, setup, teardown),
		cmocka_unit_test_setup_teardown(test_regmap_names_store_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_regmap_names_get, setup, teardown),
		cmocka_unit_test_setup_teardown(test_regmap_names_find_region, setup, teardown),
		cmocka_unit_test_setup_teardown(test_regmap_names_encode, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
