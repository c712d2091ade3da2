/*
 * device/backend_sim.c with a model (model = "PATH"): the hooks on the paths every access takes
 * (region_load/region_store) and on the device side, the model's timers on a real event loop,
 * a model that fails (IO_ERROR, counted as a fault, until a reset), a model that fails at
 * start, and what locate (--check-config) says of a broken one.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "config/region_spec.h"
#include "config/regmap_yaml.h"
#include "core/lease.h"
#include "device/backend.h"
#include "device/backend_sim.h"
#include "device/region.h"
#include "device/region_armed.h"

/* 0x0 CTRL (START bit 0, IRQEN bit 1), 0x4 STATUS (BUSY bit 0 ro, DONE bit 1 w1c), 0x8 DATA. */
static const char map_yaml[] = "name: dev\n"
			       "width: 32\n"
			       "registers:\n"
			       "  - name: CTRL\n"
			       "    offset: 0x0\n"
			       "    fields:\n"
			       "      - { name: START, bits: \"0\" }\n"
			       "      - { name: IRQEN, bits: \"1\" }\n"
			       "  - name: STATUS\n"
			       "    offset: 0x4\n"
			       "    fields:\n"
			       "      - { name: BUSY, bits: \"0\", access: ro }\n"
			       "      - { name: DONE, bits: \"1\", access: w1c }\n"
			       "  - { name: DATA, offset: 0x8 }\n";

/* START sets BUSY; 1 ms later DONE and the interrupt. DATA reads count up; the device side's
 * reads of DATA see 0x5a, its writes of DATA land doubled. A load of DATA with 0xdeac in
 * CTRL never returns. */
static const char model_lua[] =
	"local reads = 0\n"
	"function on_store(reg, value)\n"
	"  if reg == 'CTRL' and device.get('CTRL.START') == 1 then\n"
	"    device.set('CTRL.START', 0)\n"
	"    device.set('STATUS.BUSY', 1)\n"
	"    device.after(1, function()\n"
	"      device.set('STATUS.BUSY', 0)\n"
	"      device.set('STATUS.DONE', 1)\n"
	"      if device.get('CTRL.IRQEN') == 1 then device.irq() end\n"
	"    end)\n"
	"  end\n"
	"end\n"
	"function on_load(reg, value)\n"
	"  if reg ~= 'DATA' then return nil end\n"
	"  if device.get('CTRL') == 0xdeac then while true do end end\n"
	"  reads = reads + 1\n"
	"  return reads\n"
	"end\n"
	"function on_device_get(reg, value) if reg == 'DATA' then return 0x5a end end\n"
	"function on_device_set(reg, value) if reg == 'DATA' then device.set('DATA', value * 2) "
	"end end\n"
	"function on_reset() reads = 0 end\n";

struct fixture {
	char dir[64];
	char model_path[96];
	struct regmap *map;
	struct region *r;
	struct lease_set set;
	struct lease *l;
	struct event_base *base;
};

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static int
open_sim(struct fixture *f, const char *model_text, char *err, size_t errlen)
{
	write_file(f->model_path, model_text);
	struct backend *b;
	struct region_spec spec = {
		.name = "sim0", .type = "sim", .size = 0x100, .model = f->model_path};
	int rc = backend_open_map(&spec, f->map, &b, err, errlen);
	if (rc < 0) {
		return rc;
	}
	f->r = region_create("sim0", b);
	assert_non_null(f->r);
	lease_set_init(&f->set, 16, 1, 1000);
	assert_int_equal(lease_acquire(&f->r->space, &f->set, 0, b->len, &f->l), 0);
	return 0;
}

static int
setup(void **state)
{
	static struct fixture f;
	memset(&f, 0, sizeof(f));
	snprintf(f.dir, sizeof(f.dir), "/tmp/test_sim_model.XXXXXX");
	assert_non_null(mkdtemp(f.dir));
	snprintf(f.model_path, sizeof(f.model_path), "%s/dev.lua", f.dir);
	char err[512] = "";
	assert_int_equal(regmap_yaml_parse(map_yaml, sizeof(map_yaml) - 1, "dev.yaml", &f.map, err,
					   sizeof(err)),
			 0);
	f.base = event_base_new();
	assert_non_null(f.base);
	*state = &f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	if (f->r) {
		sim_device_stop(f->r->backend);
		lease_revoke_all(&f->set);
		region_destroy(f->r);
		f->r = NULL;
	}
	event_base_free(f->base);
	regmap_free(f->map);
	unlink(f->model_path);
	rmdir(f->dir);
	return 0;
}

static void
start(struct fixture *f)
{
	char err[512] = "";
	assert_int_equal(open_sim(f, model_lua, err, sizeof(err)), 0);
	assert_int_equal(sim_device_start(f->r->backend, f->base, err, sizeof(err)), 0);
}

static uint64_t
load(struct fixture *f, uint64_t off)
{
	uint64_t v = UINT64_MAX;
	assert_int_equal(region_load(f->l, off, 4, &v), 0);
	return v;
}

static bool
readable(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

/* A store starts the count; the loop runs the model's timer; DONE and the interrupt follow. */
static void
test_timer_on_the_loop(void **state)
{
	struct fixture *f = *state;
	start(f);
	assert_int_equal(region_store(f->l, 0x0, 4, 0x3), 0);
	assert_int_equal(load(f, 0x0), 0x2); /* START cleared by the model */
	assert_int_equal(load(f, 0x4), 0x1); /* BUSY */
	assert_false(readable(f->r->backend->irq_fd));
	/* Blocks until the timer is due, then runs it. */
	assert_int_equal(event_base_loop(f->base, EVLOOP_ONCE), 0);
	assert_int_equal(load(f, 0x4), 0x2); /* DONE, not BUSY */
	assert_true(readable(f->r->backend->irq_fd));
	assert_int_equal(region_store(f->l, 0x4, 4, 0x2), 0); /* w1c */
	assert_int_equal(load(f, 0x4), 0x0);
}

static void
test_load_and_device_hooks(void **state)
{
	struct fixture *f = *state;
	start(f);
	assert_int_equal(load(f, 0x8), 1);
	assert_int_equal(load(f, 0x8), 2);
	uint64_t v;
	assert_int_equal(sim_device_get(f->r->backend, 0x8, 4, &v), 0);
	assert_int_equal(v, 0x5a);
	uint64_t old;
	assert_int_equal(sim_device_set(f->r->backend, 0x8, 4, UINT64_MAX, 0x21, &old), 0);
	assert_int_equal(sim_device_get(f->r->backend, 0xc, 4, &v), 0); /* no register: raw */
	assert_int_equal(v, 0);
	/* on_device_set doubled the raw value; DATA's loads still count (the model answers). */
	assert_int_equal(region_store(f->l, 0x0, 4, 0), 0);
	assert_int_equal(load(f, 0x8), 3);
	/* Batches of every width end here too: a byte load of DATA is answered the same way. */
	assert_int_equal(region_load(f->l, 0x8, 1, &v), 0);
	assert_int_equal(v, 4);
}

/* A runaway hook fails that access and every later one, counted as faults, until a reset. */
static void
test_runaway_model(void **state)
{
	struct fixture *f = *state;
	start(f);
	assert_null(sim_device_fault(f->r->backend));
	assert_int_equal(region_store(f->l, 0x0, 4, 0xdeac), 0);
	/* A failed load leaves the caller's value alone (a batch answers 0 for it). */
	uint64_t v = 0x5a5a;
	assert_int_equal(region_load(f->l, 0x8, 4, &v), -EIO);
	assert_int_equal(v, 0x5a5a);
	assert_non_null(sim_device_fault(f->r->backend));
	assert_non_null(strstr(sim_device_fault(f->r->backend), "on_load(DATA)"));
	sigjmp_buf env;
	assert_int_equal(region_load_armed(f->l, 0x0, 4, &v, &env), -EIO);
	assert_int_equal(v, 0x5a5a);
	assert_int_equal(region_load(f->l, 0x0, 4, &v), -EIO);
	assert_int_equal(v, 0x5a5a);
	assert_int_equal(region_store(f->l, 0x0, 4, 0), -EIO);
	assert_int_equal(sim_device_get(f->r->backend, 0x8, 4, &v), -EIO);
	assert_int_equal(f->r->faults, 4);
	/* The reset puts the map's values back (CTRL 0) and a fresh model. */
	assert_int_equal(sim_device_reset(f->r->backend), 0);
	assert_null(sim_device_fault(f->r->backend));
	assert_int_equal(load(f, 0x0), 0);
	assert_int_equal(load(f, 0x8), 1);
}

/* A reset drops the old model's pending timers: nothing of them runs afterwards. */
static void
test_reset_cancels_timers(void **state)
{
	struct fixture *f = *state;
	start(f);
	assert_int_equal(region_store(f->l, 0x0, 4, 0x3), 0);
	assert_int_equal(sim_device_reset(f->r->backend), 0);
	/* Nothing is pending: the loop has no events and returns at once. */
	assert_int_equal(event_base_loop(f->base, EVLOOP_NONBLOCK), 1);
	assert_int_equal(load(f, 0x4), 0);
	assert_false(readable(f->r->backend->irq_fd));
}

static void
test_start_fails(void **state)
{
	struct fixture *f = *state;
	char err[512] = "";
	assert_int_equal(open_sim(f, "error('no such device')\n", err, sizeof(err)), 0);
	assert_int_equal(sim_device_start(f->r->backend, f->base, err, sizeof(err)), -EIO);
	assert_non_null(strstr(err, "no such device"));
}

static void
test_open_and_locate_report_the_file(void **state)
{
	struct fixture *f = *state;
	char err[512] = "";
	assert_int_equal(open_sim(f, "function on_load(\n", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "its model: "));
	assert_non_null(strstr(err, "dev.lua:"));
	struct region_spec spec = {
		.name = "sim0", .type = "sim", .size = 0x100, .model = f->model_path};
	struct backing where;
	uint64_t len;
	err[0] = '\0';
	assert_int_equal(backend_locate(&spec, &where, &len, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "dev.lua:"));
	write_file(f->model_path, "function on_load() end\n");
	assert_int_equal(backend_locate(&spec, &where, &len, err, sizeof(err)), 0);
	char missing[128];
	snprintf(missing, sizeof(missing), "%s/none.lua", f->dir);
	spec.model = missing;
	assert_true(backend_locate(&spec, &where, &len, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "none.lua"));
}

/* model = is a sim region's key alone. */
static void
test_model_needs_sim(void **state)
{
	(void)state;
	char err[256] = "";
	char path[] = "/etc/mmiod/models/x.lua";
	struct region_spec spec = {.name = "m", .type = "mem", .size = 0x100, .model = path};
	assert_int_equal(region_spec_check(&spec, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "type sim"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_timer_on_the_loop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_and_device_hooks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_runaway_model, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_cancels_timers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_start_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_and_locate_report_the_file, setup,
						teardown),
		cmocka_unit_test(test_model_needs_sim),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
