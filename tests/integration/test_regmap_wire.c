/*
 * ListRegisters through a real mmiod: a region whose config names etc/maps/uart16550.yaml
 * serves its register map, only to the callers the region is listed to.
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
#include <sys/stat.h>
#include <unistd.h>

#include "daemon_fixture.h"
#include "mmio.pb-c.h"
#include "mmio_limits.h"
#include "raw_client.h"
#include "run_as.h"

#define GRANTED_UID 4242 /* a grant on uart0 only */
#define ADMIN_UID   4243
#define ADMIN_GID   4545
#define NOBODY_UID  5001

#define UART_MAP MMIO_SOURCE_DIR "/etc/maps/uart16550.yaml"

static const char conf[] =
	"socket = { mode = \"0666\"; };\n"
	"admin_group = 4545;\n"
	"regions = (\n"
	"  { name = \"uart0\"; type = \"mem\"; size = 0x100; map = \"" UART_MAP "\";\n"
	"    grants = ( { user = 4242; access = \"rw\"; } ); },\n"
	"  { name = \"secret\"; type = \"mem\"; size = 0x100; map = \"" UART_MAP "\"; },\n"
	"  { name = \"plain\"; type = \"mem\"; size = 0x100;\n"
	"    grants = ( { user = 4242; access = \"ro\"; } ); }\n"
	");\n";

struct env {
	struct daemon_fixture daemon;
	char conf_path[160];
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
	if (!ok || chmod(env->daemon.dir, 0755) < 0 ||
	    daemon_fixture_start_args(&env->daemon, args) < 0) {
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
	int rc = daemon_fixture_stop(&env->daemon);
	unlink(env->conf_path);
	free(env);
	return rc == 0 ? 0 : -1;
}

/* A connection past Hello, or -1. */
static int
connect_hello(const struct env *env)
{
	int fd = raw_connect(env->daemon.socket_path);
	if (fd >= 0 && raw_hello(fd, MMIO_PROTOCOL_VERSION) != MMIO__STATUS__OK) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Sends ListRegisters{region, first} and returns the reply (NULL if none came). */
static Mmio__Reply *
list_registers(int fd, const char *region, uint32_t first)
{
	Mmio__ListRegisters body = MMIO__LIST_REGISTERS__INIT;
	body.region = (char *)region;
	body.first = first;
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.id = 7;
	req.body_case = MMIO__REQUEST__BODY_LIST_REGISTERS;
	req.list_registers = &body;
	if (raw_send(fd, &req) < 0) {
		return NULL;
	}
	return raw_recv(fd);
}

/* The reply's status, and its detail into detail (cap bytes). -1 if no reply came. */
static int
status_of(int fd, const char *region, uint32_t first, char *detail, size_t cap)
{
	Mmio__Reply *r = list_registers(fd, region, first);
	if (!r) {
		return -1;
	}
	int st = (int)r->status;
	snprintf(detail, cap, "%s", r->detail ? r->detail : "");
	mmio__reply__free_unpacked(r, NULL);
	return st;
}

static void
test_regmap_wire_lists_uart_map(void **state)
{
	struct env *env = *state;
	int fd = connect_hello(env);
	assert_true(fd >= 0);
	Mmio__Reply *r = list_registers(fd, "uart0", 0);
	assert_non_null(r);
	assert_int_equal(r->status, MMIO__STATUS__OK);
	assert_int_equal(r->id, 7);
	assert_int_equal(r->body_case, MMIO__REPLY__BODY_REGISTER_MAP);
	const Mmio__RegisterMap *m = r->register_map;
	assert_string_equal(m->region, "uart0");
	assert_string_equal(m->name, "uart16550");
	assert_false(m->more);
	assert_int_equal(m->total, m->n_registers);
	assert_int_equal(m->next, m->n_registers);
	assert_true(m->n_registers >= 3);

	const Mmio__RegisterInfo *thr = m->registers[0];
	assert_string_equal(thr->name, "THR");
	assert_int_equal(thr->offset, 0);
	assert_int_equal(thr->width_bits, 8);
	assert_string_equal(thr->access, "wo");
	assert_false(thr->has_reset);
	assert_int_equal(thr->count, 1);
	assert_int_equal(thr->n_fields, 0);

	const Mmio__RegisterInfo *lcr = NULL, *lsr = NULL;
	for (size_t i = 0; i < m->n_registers; i++) {
		if (strcmp(m->registers[i]->name, "LCR") == 0) {
			lcr = m->registers[i];
		} else if (strcmp(m->registers[i]->name, "LSR") == 0) {
			lsr = m->registers[i];
		}
	}
	assert_non_null(lcr);
	assert_non_null(lsr);
	assert_int_equal(lcr->offset, 0xc);
	assert_string_equal(lcr->access, "rw");
	assert_true(lcr->has_reset);
	assert_int_equal(lcr->reset, 0x03);
	assert_string_equal(lcr->description, "Line control");
	assert_int_equal(lcr->n_fields, 3);
	const Mmio__RegisterField *wls = lcr->fields[0];
	assert_string_equal(wls->name, "WLS");
	assert_int_equal(wls->msb, 1);
	assert_int_equal(wls->lsb, 0);
	assert_int_equal(wls->n_values, 4);
	assert_string_equal(wls->values[3]->name, "8BIT");
	assert_int_equal(wls->values[3]->value, 3);
	assert_string_equal(lcr->fields[2]->name, "DLAB");
	assert_int_equal(lcr->fields[2]->msb, 7);
	assert_int_equal(lcr->fields[2]->lsb, 7);

	assert_int_equal(lsr->offset, 0x14);
	assert_string_equal(lsr->access, "ro");
	assert_string_equal(lsr->fields[0]->name, "DR");
	assert_string_equal(lsr->fields[0]->access, "ro"); /* the register's */
	assert_string_equal(lsr->fields[1]->name, "OE");
	assert_string_equal(lsr->fields[1]->access, "rc"); /* its own */
	unsigned total = m->total;
	mmio__reply__free_unpacked(r, NULL);

	/* A later page: from index 1; past the end nothing; beyond that OUT_OF_RANGE. */
	r = list_registers(fd, "uart0", 1);
	assert_non_null(r);
	assert_int_equal(r->status, MMIO__STATUS__OK);
	assert_int_equal(r->register_map->n_registers, total - 1);
	assert_string_not_equal(r->register_map->registers[0]->name, "THR");
	mmio__reply__free_unpacked(r, NULL);
	r = list_registers(fd, "uart0", total);
	assert_non_null(r);
	assert_int_equal(r->status, MMIO__STATUS__OK);
	assert_int_equal(r->register_map->n_registers, 0);
	assert_false(r->register_map->more);
	mmio__reply__free_unpacked(r, NULL);
	char detail[256];
	assert_int_equal(status_of(fd, "uart0", total + 1, detail, sizeof(detail)),
			 MMIO__STATUS__OUT_OF_RANGE);

	/* No map; no such region. */
	assert_int_equal(status_of(fd, "plain", 0, detail, sizeof(detail)),
			 MMIO__STATUS__NOT_FOUND);
	assert_non_null(strstr(detail, "plain has no register map"));
	assert_int_equal(status_of(fd, "nope", 0, detail, sizeof(detail)), MMIO__STATUS__NOT_FOUND);
	assert_string_equal(detail, "no region named 'nope'");
	close(fd);
}

struct who_sees {
	const struct env *env;
	const char *region;
	int want; /* status */
	const char *want_detail;
};

static int
check_sees(void *arg)
{
	const struct who_sees *w = arg;
	int fd = connect_hello(w->env);
	CHILD_CHECK(fd >= 0);
	char detail[256];
	CHILD_CHECK(status_of(fd, w->region, 0, detail, sizeof(detail)) == w->want);
	CHILD_CHECK(!w->want_detail || strcmp(detail, w->want_detail) == 0);
	close(fd);
	return 0;
}

/* A grant lists the region; no grant: NOT_FOUND exactly as an unknown name; admins see all. */
static void
test_regmap_wire_visibility(void **state)
{
	struct env *env = *state;
	const struct {
		uid_t uid;
		gid_t group;
		const char *region;
		int want;
		const char *detail;
	} cases[] = {
		{GRANTED_UID, GRANTED_UID, "uart0", MMIO__STATUS__OK, NULL},
		{GRANTED_UID, GRANTED_UID, "secret", MMIO__STATUS__NOT_FOUND,
		 "no region named 'secret'"},
		{GRANTED_UID, GRANTED_UID, "plain", MMIO__STATUS__NOT_FOUND, NULL},
		{NOBODY_UID, NOBODY_UID, "uart0", MMIO__STATUS__NOT_FOUND,
		 "no region named 'uart0'"},
		{NOBODY_UID, NOBODY_UID, "plain", MMIO__STATUS__NOT_FOUND,
		 "no region named 'plain'"},
		{ADMIN_UID, ADMIN_GID, "secret", MMIO__STATUS__OK, NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct who_sees w = {env, cases[i].region, cases[i].want, cases[i].detail};
		gid_t groups[] = {cases[i].group};
		assert_int_equal(run_as(cases[i].uid, cases[i].group, groups, 1, check_sees, &w),
				 0);
	}
}

int
main(void)
{
	if (geteuid() != 0) {
		/* Other uids need fork + setresuid; mmiod's own user would see every region. */
		fprintf(stderr, "test_regmap_wire: needs root, skipped\n");
		return 0;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_regmap_wire_lists_uart_map, setup, teardown),
		cmocka_unit_test_setup_teardown(test_regmap_wire_visibility, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
