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

#include <event2/event.h>

#include "base/log.h"
#include "clock.h"
#include "config/region_spec.h"
#include "core/lease.h"
#include "core/limits.h"
#include "core/regmap.h"
#include "core/regsim.h"
#include "device/backend_sim.h"
#include "device/backend_type.h"
#include "device/sim_model.h"

/* Lines a model may log per second; the rest are counted and said once the second is over. */
#define MODEL_LOG_PER_SECOND 20

/* A timer the model armed (device.after), pending on the event loop. */
struct sim_timer {
	struct sim_timer *next;
	struct sim_backend *sim;
	struct event *ev;
	uint64_t token;
};

struct sim_backend {
	struct backend b; /* first: a struct backend * is a struct sim_backend * */
	struct regsim *regs;
	int device_fd; /* the device's end of the interrupt pair; b.irq_fd is mmiod's */
	uint32_t irq_count;
	/* Its model (model = "PATH"), or NULL: the map's rules alone. */
	struct sim_model *model;
	char region[MMIO_MAX_NAME + 1]; /* for the model's log lines and faults */
	struct event_base *base;        /* the model's timers run here; set at start */
	struct sim_timer *timers;       /* pending */
	bool fault_logged;              /* the model's current fault has been logged */
	uint64_t log_second;            /* the second log_lines counts in */
	unsigned log_lines, log_dropped;
};

static const struct backend_ops sim_ops;

static struct sim_backend *
sim_of(const struct backend *b)
{
	return (struct sim_backend *)b;
}

/* A hook's rc; the first failure of a fault is logged with the model's reason. */
static int
model_result(struct sim_backend *s, int rc)
{
	const char *why = sim_model_faulted(s->model);
	if (rc == -EIO && why && !s->fault_logged) {
		s->fault_logged = true;
		log_warn("region %s: its model failed: %s; every access fails with IO_ERROR until "
			 "the device is reset (mmioctl sim reset %s)",
			 s->region, why, s->region);
	}
	return rc;
}

static int
sim_access(const struct backend *b, uint64_t off, unsigned width, bool is_store, uint64_t *value)
{
	struct sim_backend *s = sim_of(b);
	if (is_store) {
		uint64_t old = s->model ? regsim_peek(s->regs, off, width) : 0;
		regsim_store(s->regs, off, width, *value);
		return s->model
			       ? model_result(s, sim_model_store(s->model, off, width, *value, old))
			       : 0;
	}
	*value = regsim_load(s->regs, off, width);
	return s->model ? model_result(s, sim_model_load(s->model, off, width, value)) : 0;
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
cancel_timers(struct sim_backend *s)
{
	struct sim_timer *next;
	for (struct sim_timer *t = s->timers; t; t = next) {
		next = t->next;
		event_free(t->ev);
		free(t);
	}
	s->timers = NULL;
}

static void
sim_close(struct backend *b)
{
	struct sim_backend *s = sim_of(b);
	cancel_timers(s);
	sim_model_close(s->model);
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

void
sim_registers_save(const struct backend *b, uint8_t *out)
{
	const struct sim_backend *s = sim_of(b);
	for (uint64_t i = 0; i < b->len; i++) {
		out[i] = (uint8_t)regsim_peek(s->regs, i, 1);
	}
}

void
sim_registers_restore(struct backend *b, const uint8_t *in)
{
	struct sim_backend *s = sim_of(b);
	for (uint64_t i = 0; i < b->len; i++) {
		regsim_poke(s->regs, i, 1, 0xff, in[i]);
	}
}

/* --- what the model may do to its device (struct sim_model_host) --- */

static uint64_t
host_get(void *ctx, uint64_t off, unsigned width)
{
	struct sim_backend *s = ctx;
	return regsim_peek(s->regs, off, width);
}

static void
host_set(void *ctx, uint64_t off, unsigned width, uint64_t mask, uint64_t value)
{
	struct sim_backend *s = ctx;
	regsim_poke(s->regs, off, width, mask, value);
}

static void
host_irq(void *ctx)
{
	struct sim_backend *s = ctx;
	if (sim_device_irq(&s->b) < 0) {
		log_warn("region %s: its model raised the interrupt, which could not be delivered",
			 s->region);
	}
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct sim_timer *t = arg;
	struct sim_backend *s = t->sim;
	for (struct sim_timer **p = &s->timers; *p; p = &(*p)->next) {
		if (*p == t) {
			*p = t->next;
			break;
		}
	}
	uint64_t token = t->token;
	event_free(t->ev);
	free(t);
	(void)model_result(s, sim_model_timer(s->model, token));
}

static int
host_after(void *ctx, uint64_t ms, uint64_t token)
{
	struct sim_backend *s = ctx;
	if (!s->base) {
		return -EAGAIN; /* not started: no loop to run it on */
	}
	struct sim_timer *t = calloc(1, sizeof(*t));
	if (!t) {
		return -ENOMEM;
	}
	t->sim = s;
	t->token = token;
	struct timeval tv = {.tv_sec = (time_t)(ms / 1000),
			     .tv_usec = (suseconds_t)(ms % 1000) * 1000};
	if (!(t->ev = evtimer_new(s->base, timer_cb, t)) || evtimer_add(t->ev, &tv) < 0) {
		if (t->ev) {
			event_free(t->ev);
		}
		free(t);
		return -ENOMEM;
	}
	t->next = s->timers;
	s->timers = t;
	return 0;
}

static void
host_log(void *ctx, const char *message)
{
	struct sim_backend *s = ctx;
	uint64_t second = now_ns() / 1000000000u;
	if (second != s->log_second) {
		if (s->log_dropped) {
			log_info("region %s: model: %u more lines not logged", s->region,
				 s->log_dropped);
		}
		s->log_second = second;
		s->log_lines = 0;
		s->log_dropped = 0;
	}
	if (s->log_lines++ < MODEL_LOG_PER_SECOND) {
		log_info("region %s: model: %s", s->region, message);
	} else {
		s->log_dropped++;
	}
}

/* Opens spec's model for s (as root, before the drop: it only reads and compiles the file). */
static int
open_model(struct sim_backend *s, const struct region_spec *spec, const struct regmap *map,
	   char *err, size_t errlen)
{
	const struct sim_model_host host = {
		.ctx = s,
		.get = host_get,
		.set = host_set,
		.irq = host_irq,
		.after = host_after,
		.log = host_log,
	};
	char why[512];
	int rc = sim_model_open(spec->model, map, &host, &s->model, why, sizeof(why));
	if (rc < 0) {
		snprintf(err, errlen, "its model: %s", why);
	}
	return rc;
}

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
	s->b.memory_fd = -1; /* its registers travel in the restart state itself */
	s->b.intx_fd = -1;   /* a sim re-enables its interrupt through reenable_irq */
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
	snprintf(s->region, sizeof(s->region), "%s", spec->name);
	if (spec->model && (rc = open_model(s, spec, map, err, errlen)) < 0) {
		sim_close(&s->b);
		return rc;
	}
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
	if (spec->model) {
		/* What open would find wrong with the model: open + close compiles it, runs
		 * nothing. */
		struct sim_backend probe = {.b.irq_fd = -1, .b.memory_fd = -1, .b.intx_fd = -1};
		int rc = open_model(&probe, spec, NULL, err, errlen);
		sim_model_close(probe.model);
		if (rc < 0) {
			return rc;
		}
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

int
sim_device_get(struct backend *b, uint64_t off, unsigned width, uint64_t *value)
{
	struct sim_backend *s = sim_of(b);
	*value = regsim_peek(s->regs, off, width);
	return s->model ? model_result(s, sim_model_device_get(s->model, off, width, value)) : 0;
}

int
sim_device_set(struct backend *b, uint64_t off, unsigned width, uint64_t mask, uint64_t value,
	       uint64_t *old)
{
	struct sim_backend *s = sim_of(b);
	*old = regsim_poke(s->regs, off, width, mask, value);
	return s->model ? model_result(s, sim_model_device_set(s->model, off, width, *old)) : 0;
}

int
sim_device_reset(struct backend *b)
{
	struct sim_backend *s = sim_of(b);
	regsim_reset(s->regs);
	if (!s->model) {
		return 0;
	}
	/* The old state's timers are stale now; the model ignores them, so drop them here. */
	cancel_timers(s);
	char why[512];
	int rc = sim_model_reset(s->model, why, sizeof(why));
	s->fault_logged = false;
	return model_result(s, rc);
}

const char *
sim_device_fault(const struct backend *b)
{
	const struct sim_backend *s = sim_of(b);
	return s->model ? sim_model_faulted(s->model) : NULL;
}

void
sim_device_stop(struct backend *b)
{
	struct sim_backend *s = sim_of(b);
	cancel_timers(s);
	s->base = NULL;
}

int
sim_device_start(struct backend *b, struct event_base *base, char *err, size_t errlen)
{
	struct sim_backend *s = sim_of(b);
	s->base = base;
	if (!s->model) {
		return 0;
	}
	int rc = sim_model_start(s->model, err, errlen);
	if (rc == -EIO) {
		s->fault_logged = true; /* the caller says why */
	}
	return rc;
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

const struct regsim *
sim_device_registers(const struct backend *b)
{
	return sim_of(b)->regs;
}
