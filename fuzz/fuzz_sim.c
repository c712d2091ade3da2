/* The fuzz world's sim region "dev" and the oracle's reference of it (fuzz_sim.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/regmap_yaml.h"
#include "core/regsim.h"
#include "device/backend.h"
#include "device/backend_sim.h"
#include "device/region.h"
#include "fuzz_common.h"
#include "fuzz_sim.h"

/* dev's model (mmiod-model(5)); the reference below does what it does. */
static const char MODEL_TEXT[] =
	"-- The fuzz world's model of dev: fuzz/fuzz_sim.h says what the oracle expects.\n"
	"local function seen(reg)\n"
	"  local h = device.get(\"SEEN\")\n"
	"  for i = 1, #reg do\n"
	"    h = (h * 31 + string.byte(reg, i)) & 0xffffffff\n"
	"  end\n"
	"  device.set(\"SEEN\", h)\n"
	"end\n"
	"function on_load(reg, value)\n"
	"  seen(reg)\n"
	"  if reg == \"TICK\" then\n"
	"    local count = (device.get(\"TICK\") + 1) & 0xff\n"
	"    device.set(\"TICK\", count)\n"
	"    return count\n"
	"  elseif reg == \"WIDE\" then\n"
	"    return value ~ 0x0f0f0f0f0f0f0f0f\n"
	"  elseif reg == \"TRAP\" and value == 0xee then\n"
	"    return 0x1ff -- does not fit 8 bits: the model fails\n"
	"  end\n"
	"end\n"
	"function on_store(reg, value, old, written)\n"
	"  seen(reg)\n"
	"  if reg == \"TRAP\" and written == 0xa5 then\n"
	"    error(\"TRAP written 0xa5\")\n"
	"  end\n"
	"end\n"
	"function on_device_get(reg, value)\n"
	"  seen(reg)\n"
	"  if reg == \"TICK\" then\n"
	"    return (value + 0x10) & 0xff\n"
	"  elseif reg == \"HALF\" then\n"
	"    return (value + 1) & 0xffff\n"
	"  end\n"
	"end\n"
	"function on_device_set(reg, value, old)\n"
	"  seen(reg)\n"
	"  if reg == \"TRAP\" and value == 0x5a then\n"
	"    error(\"TRAP set to 0x5a\")\n"
	"  end\n"
	"end\n";

/* What the map makes of one bit of dev, worked out from the map built in code. */
enum bit_kind { BIT_ABSENT, BIT_RW, BIT_RO, BIT_WO, BIT_W1C, BIT_W1S, BIT_RC };

static uint8_t kinds[FUZZ_DEV_SIZE][8];
static uint8_t reset_bytes[FUZZ_DEV_SIZE];
static bool used; /* fuzz_sim_used() */

/* One register of dev, or one instance of an array: a hook's call names it so. */
struct instance {
	uint64_t off;
	unsigned bytes;
	char name[REGMAP_MAX_NAME + 24];
};

/* Every instance, by increasing offset (registers do not overlap). */
static struct instance instances[FUZZ_DEV_SIZE];
static unsigned n_instances;

static enum bit_kind
kind_of(enum regmap_access access)
{
	switch (access) {
	case REGMAP_RO:
		return BIT_RO;
	case REGMAP_WO:
		return BIT_WO;
	case REGMAP_W1C:
		return BIT_W1C;
	case REGMAP_W1S:
		return BIT_W1S;
	case REGMAP_RC:
		return BIT_RC;
	default:
		return BIT_RW;
	}
}

/* Bit b of a register: the access of the field it lies in, if that field has one; else the
 * register's (rw without one). */
static enum bit_kind
bit_kind(const struct regmap_register *r, unsigned b)
{
	for (unsigned f = 0; f < r->n_fields; f++) {
		const struct regmap_field *field = &r->fields[f];
		if (field->lsb <= b && b <= field->msb && field->has_access) {
			return kind_of(field->access);
		}
	}
	return r->has_access ? kind_of(r->access) : BIT_RW;
}

static void
add_instance(const struct regmap_register *r, uint64_t k, uint64_t at, unsigned bits)
{
	FUZZ_CHECK(n_instances < FUZZ_DEV_SIZE);
	struct instance *t = &instances[n_instances++];
	*t = (struct instance){.off = at, .bytes = bits / 8};
	if (r->count > 1) {
		snprintf(t->name, sizeof(t->name), "%s[%" PRIu64 "]", r->name, k);
	} else {
		snprintf(t->name, sizeof(t->name), "%s", r->name);
	}
	/* Kept in offset order. */
	for (struct instance *p = t; p > instances && p[-1].off > p->off; p--) {
		struct instance tmp = p[-1];
		p[-1] = *p;
		*p = tmp;
	}
}

static void
learn_rules(const struct regmap *map)
{
	memset(kinds, BIT_ABSENT, sizeof(kinds));
	memset(reset_bytes, 0, sizeof(reset_bytes));
	n_instances = 0;
	for (unsigned i = 0; i < map->n_registers; i++) {
		const struct regmap_register *r = &map->registers[i];
		unsigned bits = r->width ? r->width : map->width;
		for (uint64_t k = 0; k < r->count; k++) {
			uint64_t at = r->offset + k * r->stride;
			add_instance(r, k, at, bits);
			for (unsigned b = 0; b < bits; b++) {
				FUZZ_CHECK(at + b / 8 < FUZZ_DEV_SIZE);
				FUZZ_CHECK(kinds[at + b / 8][b % 8] == BIT_ABSENT);
				kinds[at + b / 8][b % 8] = (uint8_t)bit_kind(r, b);
				if (r->has_reset && (r->reset >> b) & 1) {
					reset_bytes[at + b / 8] |= (uint8_t)(1u << (b % 8));
				}
			}
		}
	}
}

struct region *
fuzz_sim_open(struct event_base *base)
{
	char err[512];
	size_t len;
	char *yaml = fuzz_map_yaml(fuzz_map_dev(), &len);
	struct regmap *map;
	if (regmap_yaml_parse(yaml, len, "fuzzdev.yaml", &map, err, sizeof(err)) < 0 ||
	    regmap_yaml_check("fuzzdev.yaml", map, FUZZ_DEV_SIZE, err, sizeof(err)) < 0) {
		fprintf(stderr, "fuzz: dev's map: %s\n", err);
		abort();
	}
	free(yaml);
	learn_rules(fuzz_map_dev());

	/* sim_model_open() reads a file; it keeps the text, so the file goes at once. */
	const char *tmp = getenv("TMPDIR");
	char path[4096];
	snprintf(path, sizeof(path), "%s/mmiod-fuzz-model-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	int fd = mkstemp(path);
	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(write(fd, MODEL_TEXT, sizeof(MODEL_TEXT) - 1) ==
		   (ssize_t)sizeof(MODEL_TEXT) - 1);
	close(fd);
	struct region_spec spec = {.type = "sim", .size = FUZZ_DEV_SIZE, .model = path};
	snprintf(spec.name, sizeof(spec.name), "dev");
	struct backend *b;
	int rc = backend_open_map(&spec, map, &b, err, sizeof(err));
	unlink(path);
	if (rc < 0 || sim_device_start(b, base, err, sizeof(err)) < 0) {
		fprintf(stderr, "fuzz: dev: %s\n", err);
		abort();
	}
	struct region *r = region_create("dev", b);
	FUZZ_CHECK(r != NULL);
	r->regmap = map;
	return r;
}

void
fuzz_sim_reset(struct region *dev)
{
	FUZZ_CHECK(sim_device_reset(dev->backend) == 0 && !sim_device_fault(dev->backend));
	used = false;
}

bool
fuzz_sim_pristine(const struct region *dev)
{
	struct fuzz_dev_state now;
	fuzz_dev_take(dev, &now);
	return !now.faulted && memcmp(now.bytes, reset_bytes, sizeof(now.bytes)) == 0;
}

bool
fuzz_sim_used(void)
{
	return used;
}

void
fuzz_dev_take(const struct region *dev, struct fuzz_dev_state *s)
{
	const struct regsim *regs = sim_device_registers(dev->backend);
	for (unsigned off = 0; off < FUZZ_DEV_SIZE; off += 8) {
		uint64_t v = regsim_peek(regs, off, 8);
		for (unsigned i = 0; i < 8; i++) {
			s->bytes[off + i] = (uint8_t)(v >> (8 * i));
		}
	}
	s->faulted = sim_device_fault(dev->backend) != NULL;
}

static bool
bit_of(uint64_t v, unsigned i)
{
	return (v >> i) & 1;
}

static bool
state_bit(const struct fuzz_dev_state *s, uint64_t off, unsigned i)
{
	return (s->bytes[off + i / 8] >> (i % 8)) & 1;
}

static void
set_state_bit(struct fuzz_dev_state *s, uint64_t off, unsigned i, bool on)
{
	uint8_t m = (uint8_t)(1u << (i % 8));
	s->bytes[off + i / 8] =
		(uint8_t)(on ? s->bytes[off + i / 8] | m : s->bytes[off + i / 8] & ~m);
}

static enum bit_kind
kind_at(uint64_t off, unsigned i)
{
	return (enum bit_kind)kinds[off + i / 8][i % 8];
}

static uint8_t
byte_of(uint64_t v, uint64_t off, uint64_t at)
{
	return (uint8_t)(v >> (8 * (at - off)));
}

static uint64_t
with_byte(uint64_t v, uint64_t off, uint64_t at, uint8_t b)
{
	unsigned shift = (unsigned)(8 * (at - off));
	return (v & ~((uint64_t)0xff << shift)) | (uint64_t)b << shift;
}

/* SEEN's 32 bits, raw. */
static uint32_t
seen_get(const struct fuzz_dev_state *s)
{
	uint32_t h = 0;
	for (unsigned i = 0; i < 4; i++) {
		h |= (uint32_t)s->bytes[FUZZ_DEV_SEEN + i] << (8 * i);
	}
	return h;
}

/* The model's seen(reg): the name folded into SEEN, h = h * 31 + byte. */
static void
seen(struct fuzz_dev_state *s, const char *name)
{
	uint32_t h = seen_get(s);
	for (const char *c = name; *c; c++) {
		h = h * 31 + (uint8_t)*c;
	}
	for (unsigned i = 0; i < 4; i++) {
		s->bytes[FUZZ_DEV_SEEN + i] = (uint8_t)(h >> (8 * i));
	}
}

enum hook { HOOK_LOAD, HOOK_STORE, HOOK_GET, HOOK_SET };

/* An access of width bytes at off, and its value. */
struct access {
	uint64_t off;
	unsigned width;
	uint64_t value;
};

static bool
covers(const struct access *a, uint64_t at)
{
	return at >= a->off && at - a->off < a->width;
}

/*
 * Register t's value as its hook gets it: the bytes the access covers from the access's value,
 * the others from the state.
 */
static uint64_t
hook_value(const struct fuzz_dev_state *s, const struct instance *t, const struct access *a)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < t->bytes; i++) {
		uint64_t at = t->off + i;
		uint8_t b = covers(a, at) ? byte_of(a->value, a->off, at) : s->bytes[at];
		v |= (uint64_t)b << (8 * i);
	}
	return v;
}

/* What a hook returned for register t: the bytes the access covers go into its value. */
static void
hook_returned(const struct instance *t, struct access *a, uint64_t v)
{
	for (unsigned i = 0; i < t->bytes; i++) {
		if (covers(a, t->off + i)) {
			a->value = with_byte(a->value, a->off, t->off + i, (uint8_t)(v >> (8 * i)));
		}
	}
}

/*
 * One hook call for register t, after seen(): what the model does (fuzz_sim.h). False: it
 * failed.
 */
static bool
hook(struct fuzz_dev_state *s, enum hook kind, const struct instance *t, struct access *a)
{
	uint64_t v = hook_value(s, t, a);
	switch (kind) {
	case HOOK_LOAD:
		if (t->off == FUZZ_DEV_TICK) {
			s->bytes[FUZZ_DEV_TICK] = (uint8_t)(s->bytes[FUZZ_DEV_TICK] + 1);
			hook_returned(t, a, s->bytes[FUZZ_DEV_TICK]);
		} else if (t->off == FUZZ_DEV_WIDE) {
			hook_returned(t, a, v ^ 0x0f0f0f0f0f0f0f0fu);
		}
		return !(t->off == FUZZ_DEV_TRAP && v == 0xee);
	case HOOK_GET:
		if (t->off == FUZZ_DEV_TICK) {
			hook_returned(t, a, (v + 0x10) & 0xff);
		} else if (t->off == FUZZ_DEV_HALF) {
			hook_returned(t, a, (v + 1) & 0xffff);
		}
		return true;
	case HOOK_STORE:
		return !(t->off == FUZZ_DEV_TRAP && v == 0xa5);
	default:
		return !(t->off == FUZZ_DEV_TRAP && s->bytes[FUZZ_DEV_TRAP] == 0x5a);
	}
}

/*
 * The model's hooks for an access, the access rules applied: one call per register instance
 * it touches, in increasing offset, each first folding its name into SEEN. a->value: a load's
 * or GET's value (the hooks may change it), a store's value written, a SET's new raw value.
 * OK, or IO_ERROR: the model failed (before, or now: the later hooks do not run).
 */
static Mmio__Status
run_hooks(struct fuzz_dev_state *s, enum hook kind, struct access *a)
{
	if (s->faulted) {
		return MMIO__STATUS__IO_ERROR;
	}
	for (unsigned i = 0; i < n_instances; i++) {
		const struct instance *t = &instances[i];
		if (t->off + t->bytes <= a->off || t->off >= a->off + a->width) {
			continue;
		}
		seen(s, t->name);
		if (!hook(s, kind, t, a)) {
			s->faulted = true;
			return MMIO__STATUS__IO_ERROR;
		}
	}
	return MMIO__STATUS__OK;
}

Mmio__Status
fuzz_dev_load(struct fuzz_dev_state *s, uint64_t off, unsigned width, uint64_t *value)
{
	used = true;
	uint64_t v = 0;
	for (unsigned i = 0; i < 8 * width; i++) {
		enum bit_kind k = kind_at(off, i);
		if (k != BIT_ABSENT && k != BIT_WO && state_bit(s, off, i)) {
			v |= (uint64_t)1 << i;
		}
	}
	for (unsigned i = 0; i < 8 * width; i++) {
		if (kind_at(off, i) == BIT_RC) {
			set_state_bit(s, off, i, false);
		}
	}
	struct access a = {off, width, v};
	Mmio__Status st = run_hooks(s, HOOK_LOAD, &a);
	if (st == MMIO__STATUS__OK) {
		*value = a.value;
	}
	return st;
}

Mmio__Status
fuzz_dev_store(struct fuzz_dev_state *s, uint64_t off, unsigned width, uint64_t value)
{
	used = true;
	for (unsigned i = 0; i < 8 * width; i++) {
		bool in = bit_of(value, i);
		switch (kind_at(off, i)) {
		case BIT_RW:
		case BIT_WO:
			set_state_bit(s, off, i, in);
			break;
		case BIT_W1C:
			if (in) {
				set_state_bit(s, off, i, false);
			}
			break;
		case BIT_W1S:
			if (in) {
				set_state_bit(s, off, i, true);
			}
			break;
		default: /* ro, rc, and no register there: the store leaves them */
			break;
		}
	}
	struct access a = {off, width, value};
	return run_hooks(s, HOOK_STORE, &a);
}

static uint64_t
raw(const struct fuzz_dev_state *s, uint64_t off, unsigned width)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < width; i++) {
		v |= (uint64_t)s->bytes[off + i] << (8 * i);
	}
	return v;
}

Mmio__Status
fuzz_dev_get(struct fuzz_dev_state *s, uint64_t off, unsigned width, uint64_t *value)
{
	used = true;
	struct access a = {off, width, raw(s, off, width)};
	Mmio__Status st = run_hooks(s, HOOK_GET, &a);
	if (st == MMIO__STATUS__OK) {
		*value = a.value;
	}
	return st;
}

Mmio__Status
fuzz_dev_set(struct fuzz_dev_state *s, uint64_t off, unsigned width, uint64_t mask, uint64_t value,
	     uint64_t *old)
{
	used = true;
	*old = raw(s, off, width);
	for (unsigned i = 0; i < 8 * width; i++) {
		if (kind_at(off, i) != BIT_ABSENT && bit_of(mask, i)) {
			set_state_bit(s, off, i, bit_of(value, i));
		}
	}
	struct access a = {off, width, raw(s, off, width)};
	return run_hooks(s, HOOK_SET, &a);
}

void
fuzz_dev_reset(struct fuzz_dev_state *s)
{
	used = true;
	memcpy(s->bytes, reset_bytes, sizeof(s->bytes));
	s->faulted = false;
}
