/*
 * core/regsim.c: a simulated device's registers under its map's rules, on every kind of access:
 * reset values, ro, wo, rw, w1c, w1s and rc registers and fields (fields overriding their
 * register), accesses narrower and wider than a register and straddling two, bytes outside every
 * register, array instances, the device side's raw get and masked set, reset.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/regmap_yaml.h"
#include "core/limits.h"
#include "core/regmap.h"
#include "core/regsim.h"

/*
 * 0x00 THR   8 wo            0x0c LCR 8 rw reset 0x03
 * 0x14 LSR   8 ro reset 0x60, OE (bit 1) rc
 * 0x20 CTRL 32 rw reset 0x11223344: VER 31:24 ro, IRQ 23:16 w1c, SET 15:8 w1s, CLR 7:4 rc,
 *                                   WO 3:0 wo
 * 0x28 ISR  32 w1c reset 0xff00   0x2c IEN 32 w1s    0x30 CNT 16 rc reset 0xbeef
 * 0x40 CH   16 rw x4, stride 8, reset 0x0a0b
 * 0x60 WIDE 64 ro reset 0x8000000000000001, TOP (63) w1c, LOW 31:0 rw
 */
static const char map_yaml[] =
	"name: sim\n"
	"width: 8\n"
	"registers:\n"
	"  - { name: THR, offset: 0x0, access: wo }\n"
	"  - { name: LCR, offset: 0xc, reset: 0x03 }\n"
	"  - name: LSR\n"
	"    offset: 0x14\n"
	"    access: ro\n"
	"    reset: 0x60\n"
	"    fields:\n"
	"      - { name: DR, bits: \"0\" }\n"
	"      - { name: OE, bits: \"1\", access: rc }\n"
	"  - name: CTRL\n"
	"    offset: 0x20\n"
	"    width: 32\n"
	"    reset: 0x11223344\n"
	"    fields:\n"
	"      - { name: VER, bits: \"31:24\", access: ro }\n"
	"      - { name: IRQ, bits: \"23:16\", access: w1c }\n"
	"      - { name: SET, bits: \"15:8\", access: w1s }\n"
	"      - { name: CLR, bits: \"7:4\", access: rc }\n"
	"      - { name: WO, bits: \"3:0\", access: wo }\n"
	"  - { name: ISR, offset: 0x28, width: 32, access: w1c, reset: 0xff00 }\n"
	"  - { name: IEN, offset: 0x2c, width: 32, access: w1s }\n"
	"  - { name: CNT, offset: 0x30, width: 16, access: rc, reset: 0xbeef }\n"
	"  - { name: CH, offset: 0x40, width: 16, count: 4, stride: 8, "
	"reset: 0x0a0b }\n"
	"  - name: WIDE\n"
	"    offset: 0x60\n"
	"    width: 64\n"
	"    access: ro\n"
	"    reset: 0x8000000000000001\n"
	"    fields:\n"
	"      - { name: TOP, bits: \"63\", access: w1c }\n"
	"      - { name: LOW, bits: \"31:0\", access: rw }\n";

#define SIZE 0x80

struct fixture {
	struct regmap *map;
	struct regsim *sim;
};

static int
setup(void **state)
{
	static struct fixture f;
	char err[256];
	assert_int_equal(regmap_yaml_parse(map_yaml, sizeof(map_yaml) - 1, "sim.yaml", &f.map, err,
					   sizeof(err)),
			 0);
	assert_int_equal(regmap_validate(f.map, SIZE, &(struct regmap_error){0}), 0);
	assert_int_equal(regsim_new(f.map, SIZE, &f.sim), 0);
	*state = &f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	regsim_free(f->sim);
	regmap_free(f->map);
	return 0;
}

static struct regsim *
sim_of(void **state)
{
	return ((struct fixture *)*state)->sim;
}

static void
test_reset_values(void **state)
{
	struct regsim *sim = sim_of(state);
	assert_int_equal(regsim_size(sim), SIZE);
	assert_int_equal(regsim_peek(sim, 0x0c, 1), 0x03);
	assert_int_equal(regsim_peek(sim, 0x14, 1), 0x60);
	assert_int_equal(regsim_peek(sim, 0x20, 4), 0x11223344);
	assert_int_equal(regsim_peek(sim, 0x28, 4), 0xff00);
	assert_int_equal(regsim_peek(sim, 0x2c, 4), 0);
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(regsim_peek(sim, 0x40 + 8 * i, 2), 0x0a0b);
	}
	assert_true(regsim_peek(sim, 0x60, 8) == UINT64_C(0x8000000000000001));
	assert_int_equal(regsim_load(sim, 0x0c, 1), 0x03);
}

static void
test_rw_ro_wo(void **state)
{
	struct regsim *sim = sim_of(state);
	regsim_store(sim, 0x0c, 1, 0xa5);
	assert_int_equal(regsim_load(sim, 0x0c, 1), 0xa5);
	/* ro: the store is ignored, the rc field OE too. */
	regsim_store(sim, 0x14, 1, 0xff);
	assert_int_equal(regsim_peek(sim, 0x14, 1), 0x60);
	/* wo: reads 0, though the device holds what was written. */
	regsim_store(sim, 0x00, 1, 0x41);
	assert_int_equal(regsim_load(sim, 0x00, 1), 0);
	assert_int_equal(regsim_peek(sim, 0x00, 1), 0x41);
}

static void
test_w1c_w1s(void **state)
{
	struct regsim *sim = sim_of(state);
	regsim_store(sim, 0x28, 4, 0x0f00);
	assert_int_equal(regsim_load(sim, 0x28, 4), 0xf000);
	regsim_store(sim, 0x28, 4, 0);
	assert_int_equal(regsim_load(sim, 0x28, 4), 0xf000);
	regsim_store(sim, 0x2c, 4, 0x5);
	regsim_store(sim, 0x2c, 4, 0x10);
	assert_int_equal(regsim_load(sim, 0x2c, 4), 0x15);
	regsim_store(sim, 0x2c, 4, 0);
	assert_int_equal(regsim_load(sim, 0x2c, 4), 0x15);
}

static void
test_rc(void **state)
{
	struct regsim *sim = sim_of(state);
	assert_int_equal(regsim_load(sim, 0x30, 2), 0xbeef);
	assert_int_equal(regsim_load(sim, 0x30, 2), 0);
	/* rc ignores stores. */
	regsim_store(sim, 0x30, 2, 0x1234);
	assert_int_equal(regsim_peek(sim, 0x30, 2), 0);
	/* LSR.OE: set by the device, cleared by the driver's read, the rest of LSR stays. */
	assert_int_equal(regsim_poke(sim, 0x14, 1, 0x03, 0x03), 0x60);
	assert_int_equal(regsim_peek(sim, 0x14, 1), 0x63);
	assert_int_equal(regsim_load(sim, 0x14, 1), 0x63);
	assert_int_equal(regsim_load(sim, 0x14, 1), 0x61);
	/* The device side's read has no side effect. */
	regsim_poke(sim, 0x14, 1, 0x02, 0x02);
	assert_int_equal(regsim_peek(sim, 0x14, 1), 0x63);
	assert_int_equal(regsim_peek(sim, 0x14, 1), 0x63);
}

/* CTRL: each byte a field of another access, all over a rw register. */
static void
test_fields_override(void **state)
{
	struct regsim *sim = sim_of(state);
	regsim_poke(sim, 0x20, 4, UINT32_MAX, 0x11ff00f5);
	/* VER ro, IRQ w1c, SET w1s, CLR rc (reads, then clears), WO reads 0. */
	assert_int_equal(regsim_load(sim, 0x20, 4), 0x11ff00f0);
	assert_int_equal(regsim_peek(sim, 0x20, 4), 0x11ff0005);
	regsim_store(sim, 0x20, 4, 0xee0f1fff);
	/* VER kept; IRQ 0xff & ~0x0f; SET 0x00 | 0x1f; CLR (rc) kept at 0; WO takes 0xf. */
	assert_int_equal(regsim_peek(sim, 0x20, 4), 0x11f01f0f);
	assert_int_equal(regsim_load(sim, 0x20, 4), 0x11f01f00);
}

/* Accesses narrower than a register touch only their bytes, under those bytes' rules. */
static void
test_narrow(void **state)
{
	struct regsim *sim = sim_of(state);
	regsim_poke(sim, 0x20, 4, UINT32_MAX, 0x11ff00f5);
	assert_int_equal(regsim_load(sim, 0x22, 1), 0xff);
	assert_int_equal(regsim_load(sim, 0x23, 1), 0x11);
	/* CLR's byte was not read: its rc bits are still set. */
	assert_int_equal(regsim_peek(sim, 0x20, 1), 0xf5);
	assert_int_equal(regsim_load(sim, 0x20, 2), 0x00f0);
	assert_int_equal(regsim_peek(sim, 0x20, 1), 0x05);
	/* A byte store into IRQ clears there only. */
	regsim_store(sim, 0x22, 1, 0x81);
	assert_int_equal(regsim_peek(sim, 0x20, 4), 0x117e0005);
	/* WIDE's low half is rw, its top bit w1c, the rest ro: by halves. */
	regsim_store(sim, 0x60, 4, 0xdeadbeef);
	regsim_store(sim, 0x64, 4, 0xffffffff);
	assert_true(regsim_load(sim, 0x60, 8) == UINT64_C(0x00000000deadbeef));
}

/* Wider than a register, or straddling two and the gaps between: each byte its own rules. */
static void
test_wide_and_straddling(void **state)
{
	struct regsim *sim = sim_of(state);
	/* 0x28 ISR (w1c, 0xff00) and 0x2c IEN (w1s, 0): one 8-byte store and load. */
	regsim_store(sim, 0x28, 8, UINT64_C(0x0000000300000100));
	assert_true(regsim_load(sim, 0x28, 8) == UINT64_C(0x000000030000fe00));
	/* 0x08..0x0f: a gap, then LCR at 0x0c. */
	regsim_store(sim, 0x08, 8, UINT64_MAX);
	assert_true(regsim_load(sim, 0x08, 8) == UINT64_C(0xff00000000));
	/* 0x2f..0x30: IEN's top byte and CNT's lower byte (rc: only that byte clears). */
	assert_int_equal(regsim_load(sim, 0x2f, 2), 0xef00);
	assert_int_equal(regsim_peek(sim, 0x30, 2), 0xbe00);
}

static void
test_outside_registers(void **state)
{
	struct regsim *sim = sim_of(state);
	regsim_store(sim, 0x70, 8, UINT64_MAX);
	assert_int_equal(regsim_load(sim, 0x70, 8), 0);
	/* Not even the device side makes a byte outside every register hold anything. */
	assert_int_equal(regsim_poke(sim, 0x70, 8, UINT64_MAX, UINT64_MAX), 0);
	assert_int_equal(regsim_peek(sim, 0x70, 8), 0);
	assert_int_equal(regsim_poke(sim, 0x0c, 4, UINT32_MAX, UINT32_MAX), 0x03);
	assert_int_equal(regsim_peek(sim, 0x0c, 4), 0xff);
}

static void
test_arrays(void **state)
{
	struct regsim *sim = sim_of(state);
	regsim_store(sim, 0x58, 2, 0x1234);
	assert_int_equal(regsim_load(sim, 0x58, 2), 0x1234);
	assert_int_equal(regsim_load(sim, 0x50, 2), 0x0a0b);
	/* Between instances: nothing. */
	regsim_store(sim, 0x42, 2, 0xffff);
	assert_int_equal(regsim_load(sim, 0x42, 2), 0);
	/* Past the last instance (0x58): nothing either. */
	regsim_store(sim, 0x5a, 2, 0xffff);
	assert_int_equal(regsim_peek(sim, 0x5a, 2), 0);
}

static void
test_poke_masked(void **state)
{
	struct regsim *sim = sim_of(state);
	/* A raw set ignores every rule (ro, w1c) but keeps the bits outside its mask. */
	assert_int_equal(regsim_poke(sim, 0x14, 1, 0x01, 0xff), 0x60);
	assert_int_equal(regsim_peek(sim, 0x14, 1), 0x61);
	assert_int_equal(regsim_poke(sim, 0x28, 4, 0xff, 0x5a), 0xff00);
	assert_int_equal(regsim_peek(sim, 0x28, 4), 0xff5a);
	assert_int_equal(regsim_poke(sim, 0x28, 4, 0, 0xffffffff), 0xff5a);
	assert_int_equal(regsim_peek(sim, 0x28, 4), 0xff5a);
}

static void
test_reset(void **state)
{
	struct regsim *sim = sim_of(state);
	regsim_store(sim, 0x0c, 1, 0);
	regsim_store(sim, 0x28, 4, UINT32_MAX);
	regsim_store(sim, 0x48, 2, 0);
	regsim_load(sim, 0x30, 2);
	regsim_poke(sim, 0x60, 8, UINT64_MAX, 0);
	regsim_reset(sim);
	assert_int_equal(regsim_peek(sim, 0x0c, 1), 0x03);
	assert_int_equal(regsim_peek(sim, 0x28, 4), 0xff00);
	assert_int_equal(regsim_peek(sim, 0x48, 2), 0x0a0b);
	assert_int_equal(regsim_peek(sim, 0x30, 2), 0xbeef);
	assert_true(regsim_peek(sim, 0x60, 8) == UINT64_C(0x8000000000000001));
	assert_int_equal(regsim_peek(sim, 0x70, 8), 0);
}

static void
test_new_refuses(void **state)
{
	struct fixture *f = *state;
	struct regsim *sim = NULL;
	assert_int_equal(regsim_new(f->map, 0, &sim), -EINVAL);
	assert_int_equal(regsim_new(f->map, (uint64_t)MMIO_SIM_MAX_SIZE + 1, &sim), -EINVAL);
	/* WIDE ends at 0x68: a region one byte short of it. */
	assert_int_equal(regsim_new(f->map, 0x67, &sim), -EINVAL);
	assert_int_equal(regsim_new(f->map, 0x68, &sim), 0);
	regsim_free(sim);
	/* The largest region allowed, and an empty map. */
	struct regmap *empty = regmap_new();
	assert_non_null(empty);
	empty->width = 8;
	assert_int_equal(regsim_new(empty, MMIO_SIM_MAX_SIZE, &sim), 0);
	assert_int_equal(regsim_load(sim, MMIO_SIM_MAX_SIZE - 8, 8), 0);
	regsim_free(sim);
	regmap_free(empty);
	regsim_free(NULL);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_reset_values),
		T(test_rw_ro_wo),
		T(test_w1c_w1s),
		T(test_rc),
		T(test_fields_override),
		T(test_narrow),
		T(test_wide_and_straddling),
		T(test_outside_registers),
		T(test_arrays),
		T(test_poke_masked),
		T(test_reset),
		T(test_new_refuses),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
