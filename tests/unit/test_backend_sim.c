/*
 * device/backend_sim.c: a sim region opened from a spec and a map, accessed through a lease as
 * every path does (region_load/region_store: the map's rules apply, faults are not counted);
 * the device side (check, get, masked set, reset; the registers read raw from outside); the
 * interrupt fd as UIO's (a 4-byte running count, the latest only, acks that never fail); and
 * what open and locate refuse.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/region_spec.h"
#include "config/regmap_yaml.h"
#include "core/lease.h"
#include "core/limits.h"
#include "core/regsim.h"
#include "device/backend.h"
#include "device/backend_sim.h"
#include "device/region.h"

/* 0x00 DATA 32 rw reset 0x12345678; 0x04 STAT 8 ro reset 0x01, bit 1 rc; 0x08 ISR 32 w1c. */
static const char map_yaml[] = "name: dev\n"
			       "width: 32\n"
			       "registers:\n"
			       "  - { name: DATA, offset: 0x0, reset: 0x12345678 }\n"
			       "  - name: STAT\n"
			       "    offset: 0x4\n"
			       "    width: 8\n"
			       "    access: ro\n"
			       "    reset: 0x01\n"
			       "    fields:\n"
			       "      - { name: ERR, bits: \"1\", access: rc }\n"
			       "  - { name: ISR, offset: 0x8, access: w1c }\n";

struct fixture {
	struct regmap *map;
	struct region *r;
	struct lease_set set;
	struct lease *l;
};

static struct regmap *
parse_map(void)
{
	struct regmap *map;
	char err[256];
	assert_int_equal(regmap_yaml_parse(map_yaml, sizeof(map_yaml) - 1, "dev.yaml", &map, err,
					   sizeof(err)),
			 0);
	return map;
}

static int
setup(void **state)
{
	static struct fixture f;
	char err[256] = "";
	struct backend *b;
	f.map = parse_map();
	assert_int_equal(backend_open_map(&(struct region_spec){.type = "sim", .size = 0x100},
					  f.map, &b, err, sizeof(err)),
			 0);
	assert_true(backend_is_sim(b));
	assert_string_equal(b->type, "sim");
	assert_int_equal(b->len, 0x100);
	assert_false(b->backing.shared);
	assert_true(b->irq_fd >= 0);
	f.r = region_create("sim0", b);
	assert_non_null(f.r);
	lease_set_init(&f.set, 16, 1, 1000);
	assert_int_equal(lease_acquire(&f.r->space, &f.set, 0, b->len, &f.l), 0);
	*state = &f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	lease_revoke_all(&f->set);
	region_destroy(f->r);
	regmap_free(f->map);
	return 0;
}

static uint64_t
load(struct fixture *f, uint64_t off, unsigned width)
{
	uint64_t v = UINT64_MAX;
	assert_int_equal(region_load(f->l, off, width, &v), 0);
	return v;
}

/* The checked accesses every path runs keep the map's rules. */
static void
test_rules_through_region(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(load(f, 0x0, 4), 0x12345678);
	assert_int_equal(region_store(f->l, 0x0, 2, 0xbeef), 0);
	assert_int_equal(load(f, 0x0, 4), 0x1234beef);
	assert_int_equal(region_store(f->l, 0x4, 1, 0xff), 0);
	assert_int_equal(load(f, 0x4, 1), 0x01);
	uint64_t old;
	assert_int_equal(sim_device_set(f->r->backend, 0x8, 4, UINT64_MAX, 0xf0, &old), 0);
	assert_int_equal(old, 0);
	assert_int_equal(region_store(f->l, 0x8, 4, 0x30), 0);
	assert_int_equal(load(f, 0x8, 4), 0xc0);
	/* Outside every register, and an 8-byte load over DATA and STAT. */
	assert_int_equal(region_store(f->l, 0x80, 8, UINT64_MAX), 0);
	assert_int_equal(load(f, 0x80, 8), 0);
	assert_true(load(f, 0x0, 8) == UINT64_C(0x011234beef));
	/* The lease's checks still come first, and nothing counts as a fault. */
	uint64_t v;
	assert_int_equal(region_load(f->l, 0x2, 4, &v), -EFAULT);
	assert_int_equal(region_load(f->l, 0x100, 1, &v), -ERANGE);
	assert_int_equal(region_store(f->l, 0x0, 1, 0x100), -EINVAL);
	assert_int_equal(f->r->faults, 0);
}

static void
test_device_side(void **state)
{
	struct fixture *f = *state;
	struct backend *b = f->r->backend;
	assert_int_equal(sim_device_check(b, 0x4, 1), 0);
	assert_int_equal(sim_device_check(b, 0xf8, 8), 0);
	assert_int_equal(sim_device_check(b, 0x4, 3), -EINVAL);
	assert_int_equal(sim_device_check(b, 0x2, 4), -EFAULT);
	assert_int_equal(sim_device_check(b, 0x100, 1), -ERANGE);
	assert_int_equal(sim_device_check(b, UINT64_MAX - 7, 8), -ERANGE);
	/* STAT.ERR set as the hardware would; the driver's read clears it, the device's not. */
	uint64_t v;
	assert_int_equal(sim_device_set(b, 0x4, 1, 0x02, 0x02, &v), 0);
	assert_int_equal(v, 0x01);
	assert_int_equal(sim_device_get(b, 0x4, 1, &v), 0);
	assert_int_equal(v, 0x03);
	assert_int_equal(sim_device_get(b, 0x4, 1, &v), 0);
	assert_int_equal(v, 0x03);
	assert_int_equal(regsim_peek(sim_device_registers(b), 0x4, 1), 0x03);
	assert_int_equal(load(f, 0x4, 1), 0x03);
	assert_int_equal(sim_device_get(b, 0x4, 1, &v), 0);
	assert_int_equal(v, 0x01);
	assert_int_equal(regsim_peek(sim_device_registers(b), 0x4, 1), 0x01);
	region_store(f->l, 0x0, 4, 0);
	assert_int_equal(sim_device_reset(b), 0);
	assert_int_equal(load(f, 0x0, 4), 0x12345678);
}

/* Whether fd is readable now, without waiting. */
static bool
readable(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

static void
test_irq_fd(void **state)
{
	struct fixture *f = *state;
	struct backend *b = f->r->backend;
	assert_false(readable(b->irq_fd));
	assert_int_equal(sim_device_irq(b), 0);
	assert_true(readable(b->irq_fd));
	uint32_t count = 0;
	assert_int_equal(read(b->irq_fd, &count, sizeof(count)), sizeof(count));
	assert_int_equal(count, 1);
	assert_false(readable(b->irq_fd));
	/* Three raises nobody read: the fd holds the latest count alone, as UIO's does. */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(sim_device_irq(b), 0);
	}
	assert_int_equal(sim_device_irq_count(b), 4);
	assert_int_equal(read(b->irq_fd, &count, sizeof(count)), sizeof(count));
	assert_int_equal(count, 4);
	assert_false(readable(b->irq_fd));
	/* Acks never fail, however many. */
	for (int i = 0; i < 10000; i++) {
		assert_int_equal(backend_irq_ack(b), 0);
	}
	/* Many more raises than a socket holds, unread: each succeeds. */
	for (int i = 0; i < 5000; i++) {
		assert_int_equal(sim_device_irq(b), 0);
	}
	assert_int_equal(read(b->irq_fd, &count, sizeof(count)), sizeof(count));
	assert_int_equal(count, 5004);
}

static void
test_open_refuses(void **state)
{
	(void)state;
	struct regmap *map = parse_map();
	struct backend *b = NULL;
	char err[256] = "";
	assert_int_equal(backend_open(&(struct region_spec){.type = "sim", .size = 0x100}, &b, err,
				      sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "needs map"));
	assert_int_equal(backend_open_map(&(struct region_spec){.type = "sim",
								.size = MMIO_SIM_MAX_SIZE + 1},
					  map, &b, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "16 MiB"));
	/* ISR ends at 0xc. */
	assert_int_equal(backend_open_map(&(struct region_spec){.type = "sim", .size = 0xb}, map,
					  &b, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "does not fit"));
	/* Other types ignore a map; mem is no sim. */
	assert_int_equal(backend_open_map(&(struct region_spec){.type = "mem", .size = 0x100}, map,
					  &b, err, sizeof(err)),
			 0);
	assert_false(backend_is_sim(b));
	backend_close(b);
	struct backing where;
	uint64_t len = 0;
	assert_int_equal(backend_locate(&(struct region_spec){.type = "sim", .size = 0x100}, &where,
					&len, err, sizeof(err)),
			 0);
	assert_int_equal(len, 0x100);
	assert_false(where.shared);
	assert_int_equal(
		backend_locate(&(struct region_spec){.type = "sim", .size = MMIO_SIM_MAX_SIZE + 1},
			       &where, &len, err, sizeof(err)),
		-EINVAL);
	regmap_free(map);
}

/* region_spec_check: sim takes size and a map file, and no more than MMIO_SIM_MAX_SIZE. */
static void
test_spec(void **state)
{
	(void)state;
	struct region_spec spec;
	char err[256] = "";
	assert_int_equal(region_spec_parse("s,type=sim,size=0x100", &spec, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "needs map = \"PATH\""));
	region_spec_finish(&spec);
	assert_int_equal(region_spec_parse("s,type=sim,size=0x1000001", &spec, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "the most a sim region may have"));
	region_spec_finish(&spec);
	assert_int_equal(region_spec_parse("s,type=sim,path=/x,size=4", &spec, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "type sim does not take path"));
	region_spec_finish(&spec);
	assert_int_equal(region_spec_parse("s,type=sim", &spec, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "size"));
	region_spec_finish(&spec);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rules_through_region, setup, teardown),
		cmocka_unit_test_setup_teardown(test_device_side, setup, teardown),
		cmocka_unit_test_setup_teardown(test_irq_fd, setup, teardown),
		cmocka_unit_test(test_open_refuses),
		cmocka_unit_test(test_spec),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
