/*
 * A simulated device: a region of size bytes whose registers (the region's map) live in memory
 * and keep the map's rules (core/regsim.h). Accesses go through backend_ops.access, so that a
 * model of the device (hooks on loads and stores) can sit there without region.c knowing.
 *
 * Its interrupt fd is one end of a socket pair: a raise sends the running count from the other
 * end, after taking back any count not read yet, so the fd reads the latest count, as a UIO
 * device's does. IrqAck writes nothing (reenable_irq): nothing piles up whatever a client sends.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config/region_spec.h"
#include "core/lease.h"
#include "core/limits.h"
#include "core/regmap.h"
#include "core/regsim.h"
#include "device/backend_sim.h"
#include "device/backend_type.h"

struct sim_backend {
	struct backend b; /* first: a struct backend * is a struct sim_backend * */
	struct regsim *regs;
	int device_fd; /* the device's end of the interrupt pair; b.irq_fd is mmiod's */
	uint32_t irq_count;
};

static const struct backend_ops sim_ops;

static struct sim_backend *
sim_of(const struct backend *b)
{
	return (struct sim_backend *)b;
}

static int
sim_access(const struct backend *b, uint64_t off, unsigned width, bool is_store, uint64_t *value)
{
	struct regsim *regs = sim_of(b)->regs;
	if (is_store) {
		regsim_store(regs, off, width, *value);
	} else {
		*value = regsim_load(regs, off, width);
	}
	return 0;
}

/* The plain accessors, for completeness: the same rules (region.c calls sim_access). */
#define SIM_LOAD(bits)                                                                             \
	static uint##bits##_t sim_load##bits(const struct backend *b, uint64_t off)                \
	{                                                                                          \
		return (uint##bits##_t)regsim_load(sim_of(b)->regs, off, (bits) / 8);              \
	}
#define SIM_STORE(bits)                                                                            \
	static void sim_store##bits(const struct backend *b, uint64_t off, uint##bits##_t v)       \
	{                                                                                          \
		regsim_store(sim_of(b)->regs, off, (bits) / 8, v);                                 \
	}
SIM_LOAD(8)
SIM_LOAD(16)
SIM_LOAD(32)
SIM_LOAD(64)
SIM_STORE(8)
SIM_STORE(16)
SIM_STORE(32)
SIM_STORE(64)

static void
sim_write_barrier(const struct backend *b)
{
	(void)b; /* one thread, plain memory: stores are in order already */
}

static int
sim_reenable_irq(const struct backend *b)
{
	(void)b; /* the simulated interrupt needs no re-enabling */
	return 0;
}

static void
sim_close(struct backend *b)
{
	struct sim_backend *s = sim_of(b);
	if (s->b.irq_fd >= 0) {
		close(s->b.irq_fd);
	}
	if (s->device_fd >= 0) {
		close(s->device_fd);
	}
	regsim_free(s->regs);
	free(s);
}

static const struct backend_ops sim_ops = {
	.load8 = sim_load8,
	.load16 = sim_load16,
	.load32 = sim_load32,
	.load64 = sim_load64,
	.store8 = sim_store8,
	.store16 = sim_store16,
	.store32 = sim_store32,
	.store64 = sim_store64,
	.write_barrier = sim_write_barrier,
	.close = sim_close,
	.access = sim_access,
	.reenable_irq = sim_reenable_irq,
};

/* size in 1..MMIO_SIM_MAX_SIZE: 0, or -EINVAL with the reason in err. */
static int
sim_check(const struct region_spec *spec, char *err, size_t errlen)
{
	if (spec->size == 0 || spec->size > MMIO_SIM_MAX_SIZE) {
		snprintf(err, errlen,
			 "size 0x%" PRIx64
			 " is not in 1..0x%x (%u MiB, the most a sim region may have)",
			 spec->size, MMIO_SIM_MAX_SIZE, MMIO_SIM_MAX_SIZE >> 20);
		return -EINVAL;
	}
	return 0;
}

static int
sim_open(const struct region_spec *spec, const struct regmap *map, struct backend **out, char *err,
	 size_t errlen)
{
	if (sim_check(spec, err, errlen) < 0) {
		return -EINVAL;
	}
	if (!map) {
		snprintf(err, errlen, "type sim needs map = \"PATH\", its register map");
		return -EINVAL;
	}
	struct sim_backend *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	s->b.ops = &sim_ops;
	s->b.type = "sim";
	s->b.len = spec->size;
	/* Like mem: its device address is its offset, its own memory aliases nothing. */
	s->b.addr = 0;
	s->b.backing = (struct backing){.shared = false};
	s->b.irq_fd = -1;
	s->device_fd = -1;
	int rc = regsim_new(map, spec->size, &s->regs);
	if (rc < 0) {
		snprintf(err, errlen, "%s",
			 rc == -ENOMEM ? "out of memory"
				       : "its register map does not fit its size");
		sim_close(&s->b);
		return rc;
	}
	int pair[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair) < 0) {
		rc = -errno;
		snprintf(err, errlen, "socketpair for its interrupt: %s", strerror(-rc));
		sim_close(&s->b);
		return rc;
	}
	s->b.irq_fd = pair[0];
	s->device_fd = pair[1];
	*out = &s->b;
	return 0;
}

/* Without a map: what open says (the config never gets here: it needs map). */
static int
sim_open_plain(const struct region_spec *spec, struct backend **out, char *err, size_t errlen)
{
	return sim_open(spec, NULL, out, err, errlen);
}

static int
sim_locate(const struct region_spec *spec, struct backing *where, uint64_t *len, char *err,
	   size_t errlen)
{
	if (sim_check(spec, err, errlen) < 0) {
		return -EINVAL;
	}
	*where = (struct backing){.shared = false};
	*len = spec->size;
	return 0;
}

const struct backend_type backend_type_sim = {"sim", sim_open_plain, sim_locate, sim_open};

bool
backend_is_sim(const struct backend *b)
{
	return b->ops == &sim_ops;
}

int
sim_device_check(const struct backend *b, uint64_t off, unsigned width)
{
	if (!lease_width_valid(width)) {
		return -EINVAL;
	}
	/* Alignment first, as for a lease (lease_check_access). */
	if ((off & (width - 1)) != 0) {
		return -EFAULT;
	}
	if (off > b->len || b->len - off < width) {
		return -ERANGE;
	}
	return 0;
}

uint64_t
sim_device_get(struct backend *b, uint64_t off, unsigned width)
{
	return regsim_peek(sim_of(b)->regs, off, width);
}

uint64_t
sim_device_set(struct backend *b, uint64_t off, unsigned width, uint64_t mask, uint64_t value)
{
	return regsim_poke(sim_of(b)->regs, off, width, mask, value);
}

void
sim_device_reset(struct backend *b)
{
	regsim_reset(sim_of(b)->regs);
}

int
sim_device_irq(struct backend *b)
{
	struct sim_backend *s = sim_of(b);
	uint32_t stale;
	/* A count not read yet is superseded by this one: at most one waits, as on UIO. */
	while (read(s->b.irq_fd, &stale, sizeof(stale)) > 0) {
	}
	s->irq_count++;
	uint32_t count = s->irq_count;
	return send(s->device_fd, &count, sizeof(count), MSG_DONTWAIT | MSG_NOSIGNAL) ==
			       (ssize_t)sizeof(count)
		       ? 0
		       : -EIO;
}

uint32_t
sim_device_irq_count(const struct backend *b)
{
	return sim_of(b)->irq_count;
}
