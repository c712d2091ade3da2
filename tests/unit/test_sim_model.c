/*
 * device/sim_model.c: Lua device models against a fake host over a byte array, the way the sim
 * backend drives them (the access rules are not its business: the fake stores what it is told).
 * Models are written to a temporary file per test. The sandbox, the instruction budget and the
 * memory cap are tested by models that try to break them; each must fail that hook with -EIO,
 * say why in sim_model_faulted(), and come back with a reset.
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
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <lauxlib.h>
#include <lua.h>

#include "config/regmap_yaml.h"
#include "device/sim_model.h"

#define MAX_LOGS 16

/* CTRL and STATUS as in the issue, two byte registers (a UART's RBR and LSR), an array, a
 * 64-bit register; nothing at 0xa..0xf. */
static const char map_yaml[] =
	"name: testdev\n"
	"width: 32\n"
	"registers:\n"
	"  - name: CTRL\n"
	"    offset: 0x0\n"
	"    fields:\n"
	"      - { name: START, bits: \"0\" }\n"
	"      - { name: MODE, bits: \"7:4\", values: { IDLE: 0, FAST: 3 } }\n"
	"  - name: STATUS\n"
	"    offset: 0x4\n"
	"    access: ro\n"
	"    fields:\n"
	"      - { name: BUSY, bits: \"0\" }\n"
	"      - { name: DONE, bits: \"1\" }\n"
	"  - name: RBR\n"
	"    offset: 0x8\n"
	"    width: 8\n"
	"    access: ro\n"
	"  - name: LSR\n"
	"    offset: 0x9\n"
	"    width: 8\n"
	"    access: ro\n"
	"    fields:\n"
	"      - { name: DR, bits: \"0\" }\n"
	"  - name: CH_CTRL\n"
	"    offset: 0x10\n"
	"    count: 4\n"
	"    stride: 4\n"
	"    fields:\n"
	"      - { name: EN, bits: \"0\" }\n"
	"  - name: WIDE\n"
	"    offset: 0x20\n"
	"    width: 64\n";

/* The host: the device's bytes and what the model did. */
struct fake {
	uint8_t mem[0x40];
	struct regmap *map;
	struct sim_model *m;
	unsigned irqs;
	uint64_t after_ms[SIM_MODEL_MAX_TIMERS + 1];
	uint64_t after_token[SIM_MODEL_MAX_TIMERS + 1];
	unsigned n_after;
	int after_rc;
	char logs[MAX_LOGS][SIM_MODEL_MAX_LOG + 1];
	unsigned n_logs;
	bool reenter;   /* irq calls back into the model */
	int reenter_rc; /* what that call returned */
	char dir[64];
	char path[96];
	char err[512];
};

static uint64_t
mem_read(const struct fake *f, uint64_t off, unsigned width)
{
	uint8_t v8;
	uint16_t v16;
	uint32_t v32;
	uint64_t v64;
	assert_true(off + width <= sizeof(f->mem));
	switch (width) {
	case 1:
		memcpy(&v8, f->mem + off, 1);
		return v8;
	case 2:
		memcpy(&v16, f->mem + off, 2);
		return v16;
	case 4:
		memcpy(&v32, f->mem + off, 4);
		return v32;
	default:
		assert_int_equal(width, 8);
		memcpy(&v64, f->mem + off, 8);
		return v64;
	}
}

static void
mem_write(struct fake *f, uint64_t off, unsigned width, uint64_t value)
{
	uint8_t v8 = (uint8_t)value;
	uint16_t v16 = (uint16_t)value;
	uint32_t v32 = (uint32_t)value;
	assert_true(off + width <= sizeof(f->mem));
	switch (width) {
	case 1:
		memcpy(f->mem + off, &v8, 1);
		break;
	case 2:
		memcpy(f->mem + off, &v16, 2);
		break;
	case 4:
		memcpy(f->mem + off, &v32, 4);
		break;
	default:
		assert_int_equal(width, 8);
		memcpy(f->mem + off, &value, 8);
		break;
	}
}

static uint64_t
host_get(void *ctx, uint64_t off, unsigned width)
{
	return mem_read(ctx, off, width);
}

static void
host_set(void *ctx, uint64_t off, unsigned width, uint64_t mask, uint64_t value)
{
	struct fake *f = ctx;
	assert_int_equal(value & ~mask, 0);
	mem_write(f, off, width, (mem_read(f, off, width) & ~mask) | value);
}

static void
host_irq(void *ctx)
{
	struct fake *f = ctx;
	f->irqs++;
	if (f->reenter) {
		uint64_t v = 0;
		f->reenter_rc = sim_model_load(f->m, 0, 4, &v);
	}
}

static int
host_after(void *ctx, uint64_t ms, uint64_t token)
{
	struct fake *f = ctx;
	if (f->after_rc < 0) {
		return f->after_rc;
	}
	assert_true(f->n_after < SIM_MODEL_MAX_TIMERS + 1);
	f->after_ms[f->n_after] = ms;
	f->after_token[f->n_after] = token;
	f->n_after++;
	return 0;
}

static void
host_log(void *ctx, const char *message)
{
	struct fake *f = ctx;
	assert_true(strlen(message) <= SIM_MODEL_MAX_LOG);
	if (f->n_logs < MAX_LOGS) {
		snprintf(f->logs[f->n_logs], sizeof(f->logs[0]), "%s", message);
	}
	f->n_logs++;
}

static const struct sim_model_host fake_host = {
	.get = host_get, .set = host_set, .irq = host_irq, .after = host_after, .log = host_log};

static int
setup(void **state)
{
	struct fake *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_sim_model.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/model.lua", f->dir);
	assert_int_equal(regmap_yaml_parse(map_yaml, sizeof(map_yaml) - 1, "testdev.yaml", &f->map,
					   f->err, sizeof(f->err)),
			 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fake *f = *state;
	sim_model_close(f->m);
	regmap_free(f->map);
	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void
write_model(struct fake *f, const void *text, size_t len)
{
	FILE *file = fopen(f->path, "we");
	assert_non_null(file);
	assert_int_equal(fwrite(text, 1, len, file), len);
	assert_int_equal(fclose(file), 0);
}

/* Opens the model source with the test map and the fake host: sim_model_open's result. */
static int
open_model(struct fake *f, const char *source)
{
	write_model(f, source, strlen(source));
	sim_model_close(f->m);
	f->m = NULL;
	struct sim_model_host host = fake_host;
	host.ctx = f;
	return sim_model_open(f->path, f->map, &host, &f->m, f->err, sizeof(f->err));
}

/* Opens and starts the model source, which must work. */
static void
start_model(struct fake *f, const char *source)
{
	assert_int_equal(open_model(f, source), 0);
	assert_non_null(f->m);
	if (sim_model_start(f->m, f->err, sizeof(f->err)) != 0) {
		fail_msg("start: %s", f->err);
	}
	assert_null(sim_model_faulted(f->m));
}

/* The backend's side of a driver's load, store, and the harness's change (no access rules). */
static int
do_load(struct fake *f, uint64_t off, unsigned width, uint64_t *value)
{
	*value = mem_read(f, off, width);
	return sim_model_load(f->m, off, width, value);
}

static int
do_store(struct fake *f, uint64_t off, unsigned width, uint64_t value)
{
	uint64_t old = mem_read(f, off, width);
	mem_write(f, off, width, value);
	return sim_model_store(f->m, off, width, value, old);
}

static int
do_device_set(struct fake *f, uint64_t off, unsigned width, uint64_t value)
{
	uint64_t old = mem_read(f, off, width);
	mem_write(f, off, width, value);
	return sim_model_device_set(f->m, off, width, old);
}

static void
assert_log(const struct fake *f, unsigned i, const char *want)
{
	assert_true(i < f->n_logs);
	assert_string_equal(f->logs[i], want);
}

static void
assert_faulted_with(const struct fake *f, const char *words)
{
	const char *why = sim_model_faulted(f->m);
	assert_non_null(why);
	if (!strstr(why, words)) {
		fail_msg("faulted \"%s\", want \"%s\" in it", why, words);
	}
}

/* --- the hooks --- */

static const char logging_model[] =
	"resets = 0\n"
	"function on_reset() resets = resets + 1; device.log('reset ' .. resets) end\n"
	"function on_load(reg, value)\n"
	"  device.log(string.format('load %s %x', reg, value))\n"
	"  if reg == 'STATUS' then return 0x99 end\n"
	"end\n"
	"function on_store(reg, value, old, written)\n"
	"  device.log(string.format('store %s %x %x %x', reg, value, old, written))\n"
	"end\n"
	"function on_device_set(reg, value, old)\n"
	"  device.log(string.format('set %s %x %x', reg, value, old))\n"
	"end\n";

static void
test_hooks(void **state)
{
	struct fake *f = *state;
	start_model(f, logging_model);
	assert_int_equal(f->n_logs, 1);
	assert_log(f, 0, "reset 1"); /* start runs on_reset */

	uint64_t v;
	mem_write(f, 0x0, 4, 0x12);
	assert_int_equal(do_load(f, 0x0, 4, &v), 0);
	assert_int_equal(v, 0x12); /* nil: kept */
	assert_log(f, 1, "load CTRL 12");
	assert_int_equal(do_load(f, 0x4, 4, &v), 0);
	assert_int_equal(v, 0x99); /* what on_load returned */
	assert_log(f, 2, "load STATUS 0");

	assert_int_equal(do_store(f, 0x0, 4, 0x21), 0);
	assert_log(f, 3, "store CTRL 21 12 21");
	/* The state after the rules (a w1c, say) differs from what the driver wrote. */
	uint64_t old = mem_read(f, 0x0, 4);
	mem_write(f, 0x0, 4, 0x1);
	assert_int_equal(sim_model_store(f->m, 0x0, 4, 0x20, old), 0);
	assert_log(f, 4, "store CTRL 1 21 20");

	assert_int_equal(do_device_set(f, 0x9, 1, 0x1), 0);
	assert_log(f, 5, "set LSR 1 0");

	/* Reset: a fresh state (resets back to 0 before on_reset counts it). */
	assert_int_equal(sim_model_reset(f->m, f->err, sizeof(f->err)), 0);
	assert_log(f, 6, "reset 1");
	assert_int_equal(f->n_logs, 7);
	/* start runs once; reset is how to run it again */
	assert_int_equal(sim_model_start(f->m, f->err, sizeof(f->err)), -EALREADY);
}

static void
test_access_shapes(void **state)
{
	struct fake *f = *state;
	start_model(f, "function on_load(reg, value)\n"
		       "  device.log(string.format('%s %x', reg, value))\n"
		       "  if reg == 'RBR' then return 0xaa end\n"
		       "  if reg == 'CTRL' then return 0x11223344 end\n"
		       "end\n"
		       "function on_store(reg, value, old, written)\n"
		       "  device.log(string.format('%s %x %x %x', reg, value, old, written))\n"
		       "end\n");
	uint64_t v;

	/* Two registers in one access: a hook each, in offset order, results put in place. */
	mem_write(f, 0x8, 1, 0x01);
	mem_write(f, 0x9, 1, 0x60);
	assert_int_equal(do_load(f, 0x8, 2, &v), 0);
	assert_int_equal(f->n_logs, 2);
	assert_log(f, 0, "RBR 1");
	assert_log(f, 1, "LSR 60");
	uint8_t bytes[2] = {0xaa, 0x60};
	uint16_t want16;
	memcpy(&want16, bytes, 2);
	assert_int_equal(v, want16);

	/* Part of a register: the hook sees all of it (the rest from the state) and the driver
	 * reads its bytes of what the hook returned. */
	mem_write(f, 0x0, 4, 0x55667788);
	uint32_t ctrl = 0x55667788;
	uint8_t ctrl_bytes[4];
	memcpy(ctrl_bytes, &ctrl, 4);
	assert_int_equal(do_load(f, 0x1, 1, &v), 0);
	assert_log(f, 2, "CTRL 55667788");
	uint32_t returned = 0x11223344;
	memcpy(ctrl_bytes, &returned, 4);
	assert_int_equal(v, ctrl_bytes[1]);
	/* ... and a partial load's own value, not the state's, in the bytes it covers */
	v = 0xee;
	assert_int_equal(sim_model_load(f->m, 0x1, 1, &v), 0);
	memcpy(ctrl_bytes, &ctrl, 4);
	ctrl_bytes[1] = 0xee;
	uint32_t seen;
	memcpy(&seen, ctrl_bytes, 4);
	char line[64];
	snprintf(line, sizeof(line), "CTRL %x", seen);
	assert_log(f, 3, line);

	/* A partial store: old is the register's value before, written the driver's bytes. */
	mem_write(f, 0x0, 4, 0);
	assert_int_equal(do_store(f, 0x0, 1, 0x5), 0);
	assert_log(f, 4, "CTRL 5 0 5");

	/* Array instances are named with their index; an 8-byte access touches two. */
	assert_int_equal(do_store(f, 0x18, 4, 0x1), 0);
	assert_log(f, 5, "CH_CTRL[2] 1 0 1");
	assert_int_equal(do_store(f, 0x10, 8, 0), 0);
	assert_log(f, 6, "CH_CTRL[0] 0 0 0");
	assert_log(f, 7, "CH_CTRL[1] 0 0 0");

	/* An access that touches no register calls no hook. */
	unsigned n = f->n_logs;
	assert_int_equal(do_load(f, 0xc, 4, &v), 0);
	assert_int_equal(do_store(f, 0xa, 2, 0xffff), 0);
	assert_int_equal(f->n_logs, n);

	/* Widths are 1, 2, 4, 8 bytes; no access runs past 2^64. */
	assert_int_equal(sim_model_load(f->m, 0, 3, &v), -EINVAL);
	assert_int_equal(sim_model_store(f->m, UINT64_MAX - 2, 4, 0, 0), -EINVAL);
	assert_null(sim_model_faulted(f->m));
}

static void
test_device_get_set(void **state)
{
	struct fake *f = *state;
	start_model(f, "function on_store(reg, value)\n"
		       "  device.set('CTRL.MODE', 'FAST')\n"
		       "  device.set('STATUS.DONE', 1)\n"
		       "  device.set('CH_CTRL[3].EN', 1)\n"
		       "  device.set('RBR', 0x42)\n"
		       "  device.log(string.format('%d %d %d %x %x', device.get('CTRL.MODE'),\n"
		       "    device.get('STATUS.DONE'), device.get('STATUS.BUSY'),\n"
		       "    device.get('STATUS'), device.get('CTRL')))\n"
		       "end\n");
	mem_write(f, 0x4, 4, 0x1); /* BUSY, kept by a field's set */
	assert_int_equal(do_store(f, 0x0, 4, 0x1), 0);
	assert_log(f, 0, "3 1 1 3 31");
	assert_int_equal(mem_read(f, 0x0, 4), 0x31); /* START kept, MODE set */
	assert_int_equal(mem_read(f, 0x4, 4), 0x3);
	assert_int_equal(mem_read(f, 0x1c, 4), 0x1);
	assert_int_equal(mem_read(f, 0x8, 1), 0x42);
	assert_int_equal(mem_read(f, 0x9, 1), 0); /* the byte next to RBR untouched */
}

/* Each row: a hook body that must fault, and words of the fault. */
static void
test_device_errors(void **state)
{
	struct fake *f = *state;
	static const struct {
		const char *body;
		const char *words;
	} rows[] = {
		{"device.get('NOPE')", "no such register or field"},
		{"device.get('CTRL.NOPE')", "no such register or field"},
		{"device.get('CH_CTRL[4]')", "no such register or field"},
		{"device.get('CH_CTRL')", "not a name"},
		{"device.get('1x')", "not a name"},
		{"device.set('CTRL.MODE', 16)", "does not fit 4 bits"},
		{"device.set('CTRL.MODE', -1)", "does not fit 4 bits"},
		{"device.set('RBR', 0x100)", "does not fit 8 bits"},
		{"device.set('CTRL.MODE', 'SLOW')", "no value named SLOW"},
		{"device.set('CTRL', 'FAST')", "no value named FAST"},
		{"device.set('CTRL', 1.5)", "number has no integer representation"},
		{"device.set('CTRL', {})", "bad argument #2 to 'set'"},
		{"device.after(-1, function() end)", "the delay is 0..86400000 ms"},
		{"device.after(86400001, function() end)", "the delay is 0..86400000 ms"},
		{"device.after(1, 2)", "bad argument #2 to 'after'"},
		{"device.log({})", "bad argument #1 to 'log'"},
		{"return 'x'", "on_load(CTRL) returned string"},
		{"return 0x100000000", "returned a number that is not one: want nil or an integer "
				       "of 32 bits"},
		{"return 0.5", "returned a number that is not one"},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char source[256];
		snprintf(source, sizeof(source), "function on_load(reg, value)\n  %s\nend\n",
			 rows[i].body);
		start_model(f, source);
		uint64_t v;
		assert_int_equal(do_load(f, 0x0, 4, &v), -EIO);
		assert_faulted_with(f, rows[i].words);
		assert_faulted_with(f, "on_load(CTRL): ");
	}
	/* Integral floats are integers. */
	start_model(f, "function on_load() device.set('CTRL', 2.0); return 3.0 end\n");
	uint64_t v;
	assert_int_equal(do_load(f, 0x0, 4, &v), 0);
	assert_int_equal(v, 3);
	assert_int_equal(mem_read(f, 0x0, 4), 2);
}

/* 64-bit values travel as Lua integers: 2^63 and above negative. */
static void
test_wide_values(void **state)
{
	struct fake *f = *state;
	start_model(f, "function on_store(reg, value, old)\n"
		       "  device.log(string.format('%d %s', value, math.ult(old, value)))\n"
		       "  device.set('WIDE', value - 1)\n"
		       "end\n");
	assert_int_equal(do_store(f, 0x20, 8, UINT64_MAX), 0);
	assert_log(f, 0, "-1 true");
	assert_int_equal(mem_read(f, 0x20, 8), UINT64_MAX - 1);
}

static void
test_irq_and_after(void **state)
{
	struct fake *f = *state;
	start_model(f, "function on_store(reg, value)\n"
		       "  device.irq()\n"
		       "  device.after(value, function() device.log('fired ' .. value) end)\n"
		       "end\n");
	assert_int_equal(do_store(f, 0x0, 4, 5), 0);
	assert_int_equal(do_store(f, 0x0, 4, 7), 0);
	assert_int_equal(f->irqs, 2);
	assert_int_equal(f->n_after, 2);
	assert_int_equal(f->after_ms[0], 5);
	assert_int_equal(f->after_ms[1], 7);
	assert_int_not_equal(f->after_token[0], f->after_token[1]);
	/* In any order the host decides; each once. */
	assert_int_equal(sim_model_timer(f->m, f->after_token[1]), 0);
	assert_int_equal(sim_model_timer(f->m, f->after_token[0]), 0);
	assert_int_equal(sim_model_timer(f->m, f->after_token[0]), 0);
	assert_int_equal(sim_model_timer(f->m, 12345), 0);
	assert_int_equal(f->n_logs, 2);
	assert_log(f, 0, "fired 7");
	assert_log(f, 1, "fired 5");

	/* A reset forgets the pending ones: their tokens are ignored, not reused. */
	assert_int_equal(do_store(f, 0x0, 4, 9), 0);
	uint64_t stale = f->after_token[2];
	assert_int_equal(sim_model_reset(f->m, f->err, sizeof(f->err)), 0);
	assert_int_equal(sim_model_timer(f->m, stale), 0);
	assert_int_equal(f->n_logs, 2);
	assert_int_equal(do_store(f, 0x0, 4, 1), 0);
	assert_true(f->after_token[3] > stale);
	assert_int_equal(sim_model_timer(f->m, stale), 0);
	assert_int_equal(sim_model_timer(f->m, f->after_token[3]), 0);
	assert_int_equal(f->n_logs, 3);
	assert_log(f, 2, "fired 1");

	/* The host cannot arm it: device.after fails, and the hook with it. */
	f->after_rc = -ENOMEM;
	assert_int_equal(do_store(f, 0x0, 4, 1), -EIO);
	assert_faulted_with(f, "device.after: Cannot allocate memory");
}

static void
test_timer_cap(void **state)
{
	struct fake *f = *state;
	start_model(f, "function on_store()\n"
		       "  for i = 1, 300 do device.after(1, function() end) end\n"
		       "end\n"
		       "function on_load()\n"
		       "  device.after(1, function() device.log('ran') end)\n"
		       "end\n");
	assert_int_equal(do_store(f, 0x0, 4, 1), -EIO);
	assert_faulted_with(f, "256 timers pending already");
	assert_int_equal(f->n_after, SIM_MODEL_MAX_TIMERS);
	/* Faulted: a due timer is stale; a reset gives a fresh count. */
	assert_int_equal(sim_model_timer(f->m, f->after_token[0]), 0);
	assert_int_equal(sim_model_reset(f->m, f->err, sizeof(f->err)), 0);
	uint64_t v;
	assert_int_equal(do_load(f, 0x0, 4, &v), 0);
	assert_int_equal(sim_model_timer(f->m, f->after_token[f->n_after - 1]), 0);
	assert_log(f, 0, "ran");
}

/* The example: a store to CTRL.START sets STATUS.BUSY, and 2 ms later DONE and an
 * interrupt. */
static void
test_start_busy_done(void **state)
{
	struct fake *f = *state;
	start_model(f, "function on_store(reg, value)\n"
		       "  if reg == 'CTRL' and device.get('CTRL.START') == 1 then\n"
		       "    device.set('CTRL.START', 0)\n"
		       "    device.set('STATUS.BUSY', 1)\n"
		       "    device.after(2, function()\n"
		       "      device.set('STATUS.BUSY', 0)\n"
		       "      device.set('STATUS.DONE', 1)\n"
		       "      device.irq()\n"
		       "    end)\n"
		       "  end\n"
		       "end\n");
	assert_int_equal(do_store(f, 0x0, 4, 0x30), 0); /* MODE only: nothing starts */
	assert_int_equal(f->n_after, 0);
	assert_int_equal(do_store(f, 0x0, 4, 0x31), 0);
	assert_int_equal(mem_read(f, 0x0, 4), 0x30);
	assert_int_equal(mem_read(f, 0x4, 4), 0x1);
	assert_int_equal(f->irqs, 0);
	assert_int_equal(f->n_after, 1);
	assert_int_equal(f->after_ms[0], 2);
	assert_int_equal(sim_model_timer(f->m, f->after_token[0]), 0);
	assert_int_equal(mem_read(f, 0x4, 4), 0x2);
	assert_int_equal(f->irqs, 1);
}

/* A receive FIFO: the harness pushes bytes into RBR, the driver's loads of RBR pop them. */
static void
test_fifo(void **state)
{
	struct fake *f = *state;
	start_model(f, "local rx = {}\n"
		       "function on_reset() rx = {}; device.set('LSR.DR', 0) end\n"
		       "function on_device_set(reg, value)\n"
		       "  if reg ~= 'RBR' then return end\n"
		       "  table.insert(rx, value)\n"
		       "  device.set('RBR', rx[1])\n"
		       "  device.set('LSR.DR', 1)\n"
		       "  device.irq()\n"
		       "end\n"
		       "function on_load(reg, value)\n"
		       "  if reg ~= 'RBR' then return end\n"
		       "  local byte = table.remove(rx, 1) or 0\n"
		       "  device.set('RBR', rx[1] or 0)\n"
		       "  device.set('LSR.DR', #rx > 0 and 1 or 0)\n"
		       "  return byte\n"
		       "end\n");
	assert_int_equal(do_device_set(f, 0x8, 1, 'h'), 0);
	assert_int_equal(do_device_set(f, 0x8, 1, 'i'), 0);
	assert_int_equal(f->irqs, 2);
	assert_int_equal(mem_read(f, 0x9, 1), 1);
	uint64_t v;
	assert_int_equal(do_load(f, 0x8, 1, &v), 0);
	assert_int_equal(v, 'h');
	assert_int_equal(mem_read(f, 0x9, 1), 1);
	assert_int_equal(do_load(f, 0x8, 1, &v), 0);
	assert_int_equal(v, 'i');
	assert_int_equal(mem_read(f, 0x9, 1), 0);
	assert_int_equal(do_load(f, 0x8, 1, &v), 0);
	assert_int_equal(v, 0);
	/* A reset empties it. */
	assert_int_equal(do_device_set(f, 0x8, 1, 'x'), 0);
	assert_int_equal(sim_model_reset(f->m, f->err, sizeof(f->err)), 0);
	assert_int_equal(mem_read(f, 0x9, 1), 0);
	assert_int_equal(do_load(f, 0x8, 1, &v), 0);
	assert_int_equal(v, 0);
}

/* A transmit FIFO: the driver's stores to RBR queue bytes, the harness's raw reads take them. */
static void
test_device_get(void **state)
{
	struct fake *f = *state;
	start_model(f, "local tx = {}\n"
		       "function on_store(reg, value) if reg == 'RBR' then table.insert(tx, value) "
		       "end end\n"
		       "function on_device_get(reg, value)\n"
		       "  if reg ~= 'RBR' then return end\n"
		       "  return table.remove(tx, 1) or 0\n"
		       "end\n");
	assert_int_equal(do_store(f, 0x8, 1, 'o'), 0);
	assert_int_equal(do_store(f, 0x8, 1, 'k'), 0);
	uint64_t v = mem_read(f, 0x8, 1);
	assert_int_equal(sim_model_device_get(f->m, 0x8, 1, &v), 0);
	assert_int_equal(v, 'o');
	v = mem_read(f, 0x8, 1);
	assert_int_equal(sim_model_device_get(f->m, 0x8, 1, &v), 0);
	assert_int_equal(v, 'k');
	v = mem_read(f, 0x8, 1);
	assert_int_equal(sim_model_device_get(f->m, 0x8, 1, &v), 0);
	assert_int_equal(v, 0);
	/* No hook for a register it leaves alone: the raw state stands. */
	mem_write(f, 0x9, 1, 0x21);
	v = 0x21;
	assert_int_equal(sim_model_device_get(f->m, 0x9, 1, &v), 0);
	assert_int_equal(v, 0x21);
}

/* --- the sandbox --- */

static void
test_sandbox(void **state)
{
	struct fake *f = *state;
	start_model(f,
		    "for _, name in ipairs{'io', 'os', 'require', 'dofile', 'loadfile', 'load',\n"
		    "    'loadstring', 'package', 'debug', 'coroutine', 'collectgarbage', 'warn',\n"
		    "    'module', 'setfenv', 'getfenv'} do\n"
		    "  if _G[name] ~= nil then device.log('present: ' .. name) end\n"
		    "end\n"
		    "if string.dump ~= nil then device.log('present: string.dump') end\n"
		    "if pcall(string.dump, print) then device.log('dumped') end\n"
		    "if pcall(function() return ('x'):dump() end) then device.log('dumped') end\n"
		    "if pcall(setmetatable, {}, {__gc = function() end}) then\n"
		    "  device.log('finalizer')\n"
		    "end\n"
		    "if pcall(setmetatable, {}, {__gc = true}) then device.log('finalizer') end\n"
		    /* what a model may use */
		    "local t = setmetatable({}, {__index = function(_, k) return k * 2 end})\n"
		    "assert(t[21] == 42)\n"
		    "assert(string.format('%05.1f', 1.25) == '001.2')\n"
		    "assert(table.concat({1, 2}, ',') == '1,2')\n"
		    "assert(math.ult(1, -1) and math.maxinteger == 0x7fffffffffffffff)\n"
		    "assert(utf8.char(72, 105) == 'Hi')\n"
		    "assert(select('#', pcall(error, 'x')) == 2)\n"
		    "assert(string.pack('<I2', 0x4142) == 'BA')\n"
		    "print('done', 1, nil, true)\n");
	assert_int_equal(f->n_logs, 1);
	assert_log(f, 0, "done 1 nil true");
}

/* The base library's protected metatables still hold. */
static void
test_sandbox_metatable(void **state)
{
	struct fake *f = *state;
	start_model(f, "local t = setmetatable({}, {__metatable = 'locked'})\n"
		       "local ok, err = pcall(setmetatable, t, {})\n"
		       "device.log(tostring(ok) .. ' ' .. err)\n"
		       "device.log(tostring(getmetatable(setmetatable({}, nil)) == nil))\n");
	assert_log(f, 0, "false cannot change a protected metatable");
	assert_log(f, 1, "true");
}

static int
collect_dump(lua_State *L, const void *p, size_t len, void *ud)
{
	(void)L;
	FILE *file = ud;
	return fwrite(p, 1, len, file) == len ? 0 : 1;
}

/* Bytecode, as a Lua outside the sandbox would write it, is refused. */
static void
test_bytecode_refused(void **state)
{
	struct fake *f = *state;
	lua_State *L = luaL_newstate();
	assert_non_null(L);
	assert_int_equal(luaL_loadstring(L, "function on_load() return 1 end"), LUA_OK);
	FILE *file = fopen(f->path, "we");
	assert_non_null(file);
	assert_int_equal(lua_dump(L, collect_dump, file, 0), 0);
	assert_int_equal(fclose(file), 0);
	lua_close(L);
	struct sim_model_host host = fake_host;
	host.ctx = f;
	assert_int_equal(sim_model_open(f->path, f->map, &host, &f->m, f->err, sizeof(f->err)),
			 -EINVAL);
	assert_null(f->m);
	assert_non_null(strstr(f->err, "model.lua: a compiled Lua chunk (bytecode)"));
}

/* --- the budget and the cap --- */

static void
test_budget(void **state)
{
	struct fake *f = *state;
	start_model(f, "function on_load() while true do end end\n"
		       "function on_store() device.log('store') end\n");
	uint64_t v;
	assert_int_equal(do_load(f, 0x0, 4, &v), -EIO);
	assert_faulted_with(f, "on_load(CTRL): instruction budget exceeded (1000000 instructions)");
	/* Faulted: every hook fails until the reset. */
	assert_int_equal(do_store(f, 0x0, 4, 1), -EIO);
	assert_int_equal(f->n_logs, 0);
	assert_int_equal(sim_model_reset(f->m, f->err, sizeof(f->err)), 0);
	assert_null(sim_model_faulted(f->m));
	assert_int_equal(do_store(f, 0x0, 4, 1), 0);
	assert_log(f, 0, "store");
	/* The budget is per call: many calls that each use most of it are fine. */
	start_model(f, "function on_load() for i = 1, 200000 do end end\n");
	for (int i = 0; i < 20; i++) {
		assert_int_equal(do_load(f, 0x0, 4, &v), 0);
	}
}

/* A model that catches the budget's error with pcall still fails. */
static void
test_budget_pcall(void **state)
{
	struct fake *f = *state;
	start_model(f, "local function spin() while true do end end\n"
		       "function on_load()\n"
		       "  while true do pcall(spin); pcall(pcall, spin); xpcall(spin, spin) end\n"
		       "end\n"
		       "function on_store()\n"
		       "  table.sort({3, 2, 1}, function(a, b) while true do end end)\n"
		       "end\n"
		       "function on_device_set()\n"
		       "  string.gsub('aaa', 'a', function() while true do end end)\n"
		       "end\n");
	uint64_t v;
	assert_int_equal(do_load(f, 0x0, 4, &v), -EIO);
	assert_faulted_with(f, "instruction budget exceeded");
	assert_int_equal(sim_model_reset(f->m, f->err, sizeof(f->err)), 0);
	assert_int_equal(do_store(f, 0x0, 4, 1), -EIO);
	assert_faulted_with(f, "on_store(CTRL): instruction budget exceeded");
	assert_int_equal(sim_model_reset(f->m, f->err, sizeof(f->err)), 0);
	assert_int_equal(do_device_set(f, 0x8, 1, 1), -EIO);
	assert_faulted_with(f, "on_device_set(RBR): instruction budget exceeded");
}

/* The chunk's top level, on_reset and timers run under the budget too. */
static void
test_budget_everywhere(void **state)
{
	struct fake *f = *state;
	assert_int_equal(open_model(f, "while true do end\n"), 0);
	assert_int_equal(sim_model_start(f->m, f->err, sizeof(f->err)), -EIO);
	assert_non_null(strstr(f->err, "the chunk: instruction budget exceeded"));
	assert_faulted_with(f, "the chunk: instruction budget exceeded");

	assert_int_equal(open_model(f, "function on_reset() while true do end end\n"), 0);
	assert_int_equal(sim_model_start(f->m, f->err, sizeof(f->err)), -EIO);
	assert_faulted_with(f, "on_reset(): instruction budget exceeded");
	assert_int_equal(sim_model_reset(f->m, f->err, sizeof(f->err)), -EIO);
	assert_faulted_with(f, "on_reset(): instruction budget exceeded");

	start_model(f,
		    "function on_load() device.after(1, function() while true do end end) end\n");
	uint64_t v;
	assert_int_equal(do_load(f, 0x0, 4, &v), 0);
	assert_int_equal(sim_model_timer(f->m, f->after_token[0]), -EIO);
	assert_faulted_with(f, "a timer (device.after): instruction budget exceeded");
}

static void
test_memory_cap(void **state)
{
	struct fake *f = *state;
	start_model(f, "function on_load()\n"
		       "  local s = 'x'\n"
		       "  while true do s = s .. s end\n"
		       "end\n"
		       "function on_store()\n"
		       "  local t = {}\n"
		       "  for i = 1, 1e9 do t[i] = {} end\n"
		       "end\n"
		       "function on_device_set()\n"
		       "  local ok, err = pcall(string.rep, 'x', 1 << 30)\n"
		       "  device.log(tostring(ok) .. ' ' .. err)\n"
		       "end\n");
	uint64_t v;
	assert_int_equal(do_load(f, 0x0, 4, &v), -EIO);
	assert_faulted_with(f, "on_load(CTRL): out of memory (a model may use 16777216 bytes)");
	assert_int_equal(sim_model_reset(f->m, f->err, sizeof(f->err)), 0);
	assert_int_equal(do_store(f, 0x0, 4, 1), -EIO);
	assert_faulted_with(f, "on_store(CTRL): out of memory");
	assert_int_equal(sim_model_reset(f->m, f->err, sizeof(f->err)), 0);
	/* Caught, a refused allocation is an ordinary error. */
	assert_int_equal(do_device_set(f, 0x8, 1, 1), 0);
	assert_log(f, 0, "false not enough memory");
	assert_null(sim_model_faulted(f->m));
}

/* Runaway recursion, in Lua and through metamethods, is an error, not a crash. */
static void
test_recursion(void **state)
{
	struct fake *f = *state;
	start_model(f, "function on_load()\n"
		       "  local function f(n) return f(n + 1) + 1 end\n"
		       "  return f(0)\n"
		       "end\n"
		       "function on_store()\n"
		       "  local t = setmetatable({}, {})\n"
		       "  getmetatable(t).__index = function(t, k) return t[k] end\n"
		       "  return t.x\n"
		       "end\n");
	uint64_t v;
	assert_int_equal(do_load(f, 0x0, 4, &v), -EIO);
	assert_faulted_with(f, "on_load(CTRL): out of memory"); /* the Lua stack grew to the cap */
	assert_int_equal(sim_model_reset(f->m, f->err, sizeof(f->err)), 0);
	assert_int_equal(do_store(f, 0x0, 4, 1), -EIO);
	assert_faulted_with(f, "on_store(CTRL): ");
	assert_faulted_with(f, "model.lua:7: C stack overflow");
}

/* --- errors --- */

static void
test_syntax_error(void **state)
{
	struct fake *f = *state;
	assert_int_equal(open_model(f, "function on_load()\n  return 1 +\nend\n"), -EINVAL);
	assert_null(f->m);
	char want[160];
	snprintf(want, sizeof(want), "%s:3: unexpected symbol near 'end'", f->path);
	assert_string_equal(f->err, want);
}

static void
test_hook_errors(void **state)
{
	struct fake *f = *state;
	start_model(f, "function on_store(reg)\n"
		       "  error('boom in ' .. reg)\n"
		       "end\n"
		       "function on_load() error({}) end\n"
		       "function on_device_set() error('\\27[31mred\\n') end\n");
	assert_int_equal(do_store(f, 0x4, 4, 1), -EIO);
	char want[200];
	snprintf(want, sizeof(want), "on_store(STATUS): %s:2: boom in STATUS", f->path);
	assert_string_equal(sim_model_faulted(f->m), want);
	assert_int_equal(sim_model_reset(f->m, f->err, sizeof(f->err)), 0);
	uint64_t v;
	assert_int_equal(do_load(f, 0x0, 4, &v), -EIO);
	assert_string_equal(sim_model_faulted(f->m),
			    "on_load(CTRL): error object is a table value");
	assert_int_equal(sim_model_reset(f->m, f->err, sizeof(f->err)), 0);
	assert_int_equal(do_device_set(f, 0x9, 1, 1), -EIO);
	assert_faulted_with(f, ": ?[31mred?"); /* printable */
	/* A failed chunk says so at start, in err too. */
	assert_int_equal(open_model(f, "local x = nil\nx.y = 1\n"), 0);
	assert_int_equal(sim_model_start(f->m, f->err, sizeof(f->err)), -EIO);
	snprintf(want, sizeof(want), "the chunk: %s:2: attempt to index a nil value (local 'x')",
		 f->path);
	assert_string_equal(f->err, want);
	assert_string_equal(sim_model_faulted(f->m), want);
}

static void
test_open_errors(void **state)
{
	struct fake *f = *state;
	struct sim_model_host host = fake_host;
	host.ctx = f;
	char missing[128];
	snprintf(missing, sizeof(missing), "%s/none.lua", f->dir);
	assert_int_equal(sim_model_open(missing, f->map, &host, &f->m, f->err, sizeof(f->err)),
			 -ENOENT);
	assert_non_null(strstr(f->err, "none.lua: No such file or directory"));
	assert_int_equal(sim_model_open(f->dir, f->map, &host, &f->m, f->err, sizeof(f->err)),
			 -EINVAL);
	assert_non_null(strstr(f->err, ": not a regular file"));
	/* One byte too big. */
	size_t big = SIM_MODEL_MAX_FILE_BYTES + 1;
	char *text = malloc(big);
	assert_non_null(text);
	memset(text, ' ', big);
	write_model(f, text, big);
	free(text);
	assert_int_equal(sim_model_open(f->path, f->map, &host, &f->m, f->err, sizeof(f->err)),
			 -EINVAL);
	assert_non_null(strstr(f->err, "bigger than 1048576 bytes"));
	/* Every callback is required. */
	host.after = NULL;
	write_model(f, "", 0);
	assert_int_equal(sim_model_open(f->path, f->map, &host, &f->m, f->err, sizeof(f->err)),
			 -EINVAL);
	assert_null(f->m);
	/* The empty model: no hooks, all fine. */
	start_model(f, "");
	uint64_t v = 7;
	assert_int_equal(sim_model_load(f->m, 0, 4, &v), 0);
	assert_int_equal(v, 7);
}

/* Before start, hooks fail; no map, no names and no hooks. */
static void
test_not_started_and_no_map(void **state)
{
	struct fake *f = *state;
	assert_int_equal(open_model(f, "function on_load() return 1 end\n"), 0);
	uint64_t v = 0;
	assert_int_equal(sim_model_load(f->m, 0, 4, &v), -EIO);
	assert_string_equal(sim_model_faulted(f->m), "not started");
	assert_int_equal(sim_model_timer(f->m, 1), 0);

	sim_model_close(f->m);
	f->m = NULL;
	struct sim_model_host host = fake_host;
	host.ctx = f;
	write_model(f,
		    "function on_load() return 1 end\n"
		    "function on_reset() device.log(tostring(pcall(device.get, 'CTRL'))) end\n",
		    strlen("function on_load() return 1 end\n"
			   "function on_reset() device.log(tostring(pcall(device.get, 'CTRL'))) "
			   "end\n"));
	assert_int_equal(sim_model_open(f->path, NULL, &host, &f->m, f->err, sizeof(f->err)), 0);
	assert_int_equal(sim_model_start(f->m, f->err, sizeof(f->err)), 0);
	assert_log(f, 0, "false");
	assert_int_equal(sim_model_load(f->m, 0, 4, &v), 0);
	assert_int_equal(v, 0);
}

/* A host that calls back into the model from a callback is refused, not recursed into. */
static void
test_reentry(void **state)
{
	struct fake *f = *state;
	start_model(f, "function on_store() device.irq() end\n");
	f->reenter = true;
	assert_int_equal(do_store(f, 0x0, 4, 1), 0);
	assert_int_equal(f->reenter_rc, -EBUSY);
}

/* Log lines are cut and made printable. */
static void
test_log(void **state)
{
	struct fake *f = *state;
	start_model(f, "device.log(string.rep('y', 5000))\n"
		       "device.log('tab\\tesc\\27')\n");
	assert_int_equal(strlen(f->logs[0]), SIM_MODEL_MAX_LOG);
	assert_log(f, 1, "tab?esc?");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hooks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_access_shapes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_device_get_set, setup, teardown),
		cmocka_unit_test_setup_teardown(test_device_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wide_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_irq_and_after, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timer_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_start_busy_done, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fifo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_device_get, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sandbox, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sandbox_metatable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bytecode_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_budget, setup, teardown),
		cmocka_unit_test_setup_teardown(test_budget_pcall, setup, teardown),
		cmocka_unit_test_setup_teardown(test_budget_everywhere, setup, teardown),
		cmocka_unit_test_setup_teardown(test_memory_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recursion, setup, teardown),
		cmocka_unit_test_setup_teardown(test_syntax_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hook_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_started_and_no_map, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reentry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
