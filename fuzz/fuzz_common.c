#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>
#include <sanitizer/asan_interface.h>

#include "arena.h"
#include "base/fd_closer.h"
#include "base/log.h"
#include "config/conf.h"
#include "config/regmap_yaml.h"
#include "device/backend.h"
#include "device/fault.h"
#include "fuzz_common.h"
#include "fuzz_maps.h"
#include "fuzz_model.h"
#include "fuzz_oracle.h"
#include "fuzz_sim.h"
#include "mmio_limits.h"
#include "service_config.h"
#include "wire.h"

struct fuzz_world fuzz_world;
static struct arena arena;
static bool trace; /* FUZZ_TRACE=1: one line per request, to see what an input does */

/*
 * arena.c's allocator, with the arena's free bytes kept poisoned: a piece
 * becomes addressable when handed out, up to the size asked for, and the whole
 * arena is poisoned again after each frame, so ASan sees overruns of a piece
 * into its padding and any use of a decoded request after it was freed.
 */
static void *
checked_alloc(void *data, size_t size)
{
	(void)data;
	void *p = arena.allocator.alloc(arena.allocator.allocator_data, size);
	if (p) {
		ASAN_UNPOISON_MEMORY_REGION(p, size);
	}
	return p;
}

static void
checked_free(void *data, void *p)
{
	(void)data;
	arena.allocator.free(arena.allocator.allocator_data, p);
}

static ProtobufCAllocator checked_allocator = {
	.alloc = checked_alloc,
	.free = checked_free,
	.allocator_data = NULL,
};

Mmio__Request *
fuzz_unpack(const uint8_t *frame, size_t len)
{
	arena_reset(&arena);
	Mmio__Request *req = mmio__request__unpack(&checked_allocator, len, frame);
	if (!req) {
		ASAN_POISON_MEMORY_REGION(arena.buf, sizeof(arena.buf));
	}
	return req;
}

void
fuzz_free_unpacked(Mmio__Request *req)
{
	mmio__request__free_unpacked(req, &checked_allocator);
	ASAN_POISON_MEMORY_REGION(arena.buf, sizeof(arena.buf));
}

void
fuzz_fail(const char *what, const char *file, int line)
{
	fprintf(stderr, "fuzz: invariant broken: %s (%s:%d)\n", what, file, line);
	__builtin_trap();
}

/* Bytes kept poisoned on each side of a region (inside its mapping). */
#define REDZONE 64

/*
 * A mem region of size bytes whose offset 0 lies skew bytes past a page, with
 * REDZONE poisoned bytes before and after it: ASan reports any access outside.
 */
static struct region *
open_region(const char *name, uint64_t size, unsigned skew)
{
	struct backend *b;
	char err[128];
	struct region_spec spec = {.type = "mem", .size = REDZONE + size + REDZONE};
	if (backend_open(&spec, &b, err, sizeof(err)) < 0) {
		fprintf(stderr, "fuzz: %s: %s\n", name, err);
		abort();
	}
	/* The mem backend mapped a page; offset 0 moves past the front redzone and the skew. */
	b->base += REDZONE + skew;
	b->addr += REDZONE + skew;
	b->len = size;
	ASAN_POISON_MEMORY_REGION(b->map, REDZONE + skew);
	ASAN_POISON_MEMORY_REGION(b->base + size, REDZONE - skew);
	struct region *r = region_create(name, b);
	if (!r) {
		abort();
	}
	return r;
}

static struct grant *
add_grant(struct region *r, enum grant_subject subject, uint32_t id, uint64_t offset,
	  uint64_t length, bool read_only)
{
	struct region_policy *p = &r->policy;
	p->grants = realloc(p->grants, (p->n_grants + 1) * sizeof(*p->grants));
	if (!p->grants) {
		abort();
	}
	p->grants[p->n_grants] = (struct grant){
		.subject = subject,
		.id = id,
		.offset = offset,
		.length = length,
		.read_only = read_only,
	};
	return &p->grants[p->n_grants++];
}

/*
 * The grants add_grant() collected, applied as mmiod applies a config's (region_set_policy()):
 * each grant's register rules compiled against the region's map, so that leases are bound by
 * the map's read-sensitive registers as in mmiod. After the maps are given.
 */
static void
apply_policy(struct region *r)
{
	struct region_policy collected = r->policy;
	char why[256];
	r->policy = (struct region_policy){0};
	if (region_set_policy(r, &collected, NULL, why, sizeof(why)) < 0) {
		fprintf(stderr, "fuzz: %s's grants: %s\n", r->name, why);
		abort();
	}
	free(collected.grants);
}

/* regs' map (fuzz_maps.h), given to mmiod as its config would: YAML, parsed and checked. */
static void
give_regs_map(struct region *regs)
{
	char err[512];
	size_t len;
	char *yaml = fuzz_map_yaml(fuzz_map_regs(), &len);
	if (regmap_yaml_parse(yaml, len, "fuzzregs.yaml", &regs->regmap, err, sizeof(err)) < 0 ||
	    regmap_yaml_check("fuzzregs.yaml", regs->regmap, FUZZ_REGS_SIZE, err, sizeof(err)) <
		    0) {
		fprintf(stderr, "fuzz: regs' map: %s\n", err);
		abort();
	}
	free(yaml);
}

void
fuzz_world_init(unsigned max_leases)
{
	/* Warnings per hostile request would only slow the fuzzer down. */
	trace = getenv("FUZZ_TRACE") != NULL;
	/* As in mmiod: a tracer or IRQ subscriber that closed its pipe gives EPIPE, not death. */
	(void)signal(SIGPIPE, SIG_IGN);
	log_init(trace ? LOG_LEVEL_DEBUG : LOG_LEVEL_ERROR, LOG_SINK_STDERR);
	arena_init(&arena);
	ASAN_POISON_MEMORY_REGION(arena.buf, sizeof(arena.buf));

	struct region_table *t = &fuzz_world.table;
	struct region *ram = open_region("ram", FUZZ_RAM_SIZE, 0);
	add_grant(ram, GRANT_USER, 1000, 0, 0x800, false);
	add_grant(ram, GRANT_USER, 1000, 0x800, 0x800, true);
	struct region *regs = open_region("regs", FUZZ_REGS_SIZE, FUZZ_REGS_SKEW);
	add_grant(regs, GRANT_USER, 1000, 0x10, 0x10, true);
	add_grant(regs, GRANT_GROUP, 2000, 0, FUZZ_REGS_SIZE, false);
	give_regs_map(regs);
	/* Interrupt subscriptions and the model's timers need a loop; nothing runs it. */
	struct event_base *base = event_base_new();
	FUZZ_CHECK(base != NULL);
	struct region *dev = fuzz_sim_open(base);
	add_grant(dev, GRANT_USER, 1000, 0, FUZZ_DEV_RW, false)->irq = true;
	add_grant(dev, GRANT_USER, 1000, FUZZ_DEV_RW, FUZZ_DEV_SIZE - FUZZ_DEV_RW, true);
	add_grant(dev, GRANT_USER, 1002, 0, FUZZ_DEV_SIZE, false)->device = true;
	t->regions[FUZZ_REGION_RAM] = ram;
	t->regions[FUZZ_REGION_REGS] = regs;
	t->regions[FUZZ_REGION_DEV] = dev;
	t->count = FUZZ_N_REGIONS;
	for (unsigned i = 0; i < FUZZ_N_REGIONS; i++) {
		apply_policy(t->regions[i]);
	}

	struct mmiod_config cfg;
	conf_init(&cfg);
	cfg.has_admin_gid = true;
	cfg.admin_gid = 50;
	cfg.limits.max_leases_per_connection = max_leases;
	service_init(&fuzz_world.svc, t, &cfg, (uid_t)-1);
	conf_finish(&cfg);
	fuzz_world.svc.base = base;

	fuzz_world.ids[FUZZ_ID_ROOT] = (struct identity){.pid = 100, .uid = 0, .gid = 0};
	fuzz_world.ids[FUZZ_ID_USER] = (struct identity){
		.pid = 101, .uid = 1000, .gid = 1000, .n_groups = 2, .groups = {1000, 2000}};
	fuzz_world.ids[FUZZ_ID_ADMIN] = (struct identity){
		.pid = 102, .uid = 1001, .gid = 1001, .n_groups = 2, .groups = {1001, 50}};
	fuzz_world.ids[FUZZ_ID_STRANGER] = (struct identity){
		.pid = 103, .uid = 1002, .gid = 1002, .n_groups = 1, .groups = {1002}};
	fuzz_world_reset();
}

void
fuzz_world_reset(void)
{
	for (unsigned i = FUZZ_REGION_RAM; i <= FUZZ_REGION_REGS; i++) {
		const struct backend *b = fuzz_world.table.regions[i]->backend;
		for (uint64_t k = 0; k < b->len; k++) {
			b->base[k] = (uint8_t)(k * 7 + 1 + i);
		}
	}
	struct region *dev = fuzz_world.table.regions[FUZZ_REGION_DEV];
	FUZZ_CHECK(dev->irq == NULL && fuzz_sim_pristine(dev));
	fuzz_oracle_reset();
}

void
fuzz_world_finish(void)
{
	if (fuzz_sim_used()) {
		fuzz_sim_reset(fuzz_world.table.regions[FUZZ_REGION_DEV]);
	}
}

/* What conn.c must do with req in s's state, by the rules of docs/PROTOCOL.md and mmio.proto. */
enum dispatch_result
fuzz_expected_result(const struct session *s, const Mmio__Request *req)
{
	if (req->body_case == MMIO__REQUEST__BODY_HELLO) {
		if (s->hello_done) {
			return DISPATCH_CLOSE;
		}
		if (req->hello->version != MMIO_PROTOCOL_VERSION || s->refused) {
			return DISPATCH_REPLY_CLOSE;
		}
		return DISPATCH_REPLY;
	}
	if (!s->hello_done) {
		return DISPATCH_CLOSE;
	}
	switch (req->body_case) {
	case MMIO__REQUEST__BODY_LIST_REGIONS:
	case MMIO__REQUEST__BODY_ACQUIRE:
	case MMIO__REQUEST__BODY_SPLIT:
	case MMIO__REQUEST__BODY_RELEASE:
	case MMIO__REQUEST__BODY_LOAD:
	case MMIO__REQUEST__BODY_STORE:
	case MMIO__REQUEST__BODY_BARRIER:
	case MMIO__REQUEST__BODY_LIST_LEASES:
	case MMIO__REQUEST__BODY_BATCH:
	case MMIO__REQUEST__BODY_REVOKE:
	case MMIO__REQUEST__BODY_IRQ_SUBSCRIBE:
	case MMIO__REQUEST__BODY_IRQ_ACK:
	case MMIO__REQUEST__BODY_IRQ_UNSUBSCRIBE:
	case MMIO__REQUEST__BODY_MODIFY:
	case MMIO__REQUEST__BODY_BLOCK_READ:
	case MMIO__REQUEST__BODY_BLOCK_WRITE:
	case MMIO__REQUEST__BODY_STATS:
	case MMIO__REQUEST__BODY_RING_SETUP:
	case MMIO__REQUEST__BODY_LIST_REGISTERS:
	case MMIO__REQUEST__BODY_SIM_DEVICE:
	case MMIO__REQUEST__BODY_TRACE_SUBSCRIBE:
	case MMIO__REQUEST__BODY_RENEW:
		return DISPATCH_REPLY;
	case MMIO__REQUEST__BODY_POLL:
		return DISPATCH_DEFER; /* or DISPATCH_REPLY */
	default:
		return DISPATCH_CLOSE;
	}
}

/* A reply as the client receives it: a status, the request's id, one frame, decodable. */
void
fuzz_check_reply(const Mmio__Reply *reply, uint64_t request_id)
{
	static uint8_t frame[MMIO_MAX_FRAME];

	FUZZ_CHECK(reply->id == request_id);
	FUZZ_CHECK(reply->status != MMIO__STATUS__STATUS_UNSPECIFIED);
	FUZZ_CHECK(protobuf_c_enum_descriptor_get_value(&mmio__status__descriptor,
							(int)reply->status) != NULL);
	size_t len = mmio__reply__get_packed_size(reply);
	FUZZ_CHECK(len <= MMIO_MAX_FRAME);
	FUZZ_CHECK(mmio__reply__pack(reply, frame) == len);
	Mmio__Reply *back = mmio__reply__unpack(NULL, len, frame);
	FUZZ_CHECK(back != NULL);
	FUZZ_CHECK(back->id == reply->id && back->status == reply->status &&
		   back->body_case == reply->body_case);
	mmio__reply__free_unpacked(back, NULL);
}

static void
trace_reply(const struct session *s, const char *what, enum dispatch_result res,
	    const Mmio__Reply *reply)
{
	static const char *const results[] = {"reply", "defer", "reply+close", "close"};
	const ProtobufCEnumValue *status =
		protobuf_c_enum_descriptor_get_value(&mmio__status__descriptor, (int)reply->status);
	fprintf(stderr, "fuzz: conn %" PRIu64 " %s -> %s %s %s\n", s->conn_id, what, results[res],
		res == DISPATCH_REPLY || res == DISPATCH_REPLY_CLOSE ? (status ? status->name : "?")
								     : "",
		reply->detail && res != DISPATCH_CLOSE ? reply->detail : "");
}

static void
close_pass_fd(struct reply_scratch *scratch)
{
	for (unsigned i = 0; i < WIRE_MAX_PASS_FDS; i++) {
		if (scratch->pass_fds[i] >= 0) {
			close(scratch->pass_fds[i]);
			scratch->pass_fds[i] = -1;
		}
	}
}

void
fuzz_exchange_run(struct fuzz_exchange *x, struct session *s, const Mmio__Request *req)
{
	enum dispatch_result want = fuzz_expected_result(s, req);
	struct fuzz_before b;
	fuzz_capture(&b, s, req);
	mmio__reply__init(&x->reply);
	/* Uninitialised, as in conn.c: dispatch() must set what it needs. */
	x->res = dispatch(s, req, &x->reply, &x->scratch);
	if (want == DISPATCH_DEFER) {
		FUZZ_CHECK(x->res == DISPATCH_DEFER || x->res == DISPATCH_REPLY);
		FUZZ_CHECK((x->res == DISPATCH_DEFER) == x->scratch.poll.pending);
		FUZZ_CHECK(x->res == DISPATCH_REPLY || req->poll->timeout_ms != 0);
	} else {
		FUZZ_CHECK(x->res == want);
	}
	if (req->body_case == MMIO__REQUEST__BODY_HELLO && x->res == DISPATCH_REPLY) {
		FUZZ_CHECK(s->hello_done);
	}
	if (trace) {
		const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(
			&mmio__request__descriptor, (unsigned)req->body_case);
		trace_reply(s, f ? f->name : "(no body)", x->res, &x->reply);
	}
	if (x->res == DISPATCH_REPLY || x->res == DISPATCH_REPLY_CLOSE) {
		fuzz_check_reply(&x->reply, req->id);
	}
	/* A poll's first attempt: fuzz_check_poll() judges it, the devices with it. */
	bool polled = req->body_case == MMIO__REQUEST__BODY_POLL && x->res != DISPATCH_CLOSE &&
		      req->poll->timeout_ms <= MMIO_POLL_MAX_MS;
	if (x->res == DISPATCH_REPLY) {
		fuzz_check_outcome(s, req, &x->reply, &b);
	} else if (!polled) {
		FUZZ_CHECK(fuzz_snapshot_same(&b.mem));
	}
	if (polled) {
		const Mmio__Poll *m = req->poll;
		struct poll_state p = {
			.lease_id = m->lease,
			.offset = m->offset,
			.width = m->width,
			.mask = m->mask,
			.value = m->value,
		};
		fuzz_check_poll(s, &p, m->timeout_ms == 0, x->res, &x->reply, &b.mem);
	}
	close_pass_fd(&x->scratch);
}

void
fuzz_exchange_poll(struct fuzz_exchange *x, struct session *s, const struct poll_state *p,
		   bool last_chance)
{
	mmio__reply__init(&x->reply);
	x->scratch = (struct reply_scratch){.pass_fds = {-1, -1}};
	static struct fuzz_snapshot before;
	fuzz_snapshot_take(&before);
	x->res = dispatch_poll_step(s, p, last_chance, &x->reply, &x->scratch);
	fuzz_check_poll(s, p, last_chance, x->res, &x->reply, &before);
	if (trace) {
		trace_reply(s, last_chance ? "poll, last chance" : "poll", x->res, &x->reply);
	}
	FUZZ_CHECK(x->res == DISPATCH_REPLY || (x->res == DISPATCH_DEFER && !last_chance));
	if (x->res == DISPATCH_REPLY) {
		fuzz_check_reply(&x->reply, p->request_id);
	}
	close_pass_fd(&x->scratch);
}

void
fuzz_exchange_finish(struct fuzz_exchange *x)
{
	reply_finish(&x->scratch);
}

/*
 * The fixed encoding's lease column (mmio.proto), rebased as the varint one. Its ids may be
 * narrower than the absolute ones: a column of 1, 2 or 4-byte ids is widened to 8 in the
 * request's own allocator (a decoded request's: session and frame harnesses build their own
 * with 8-byte ids, rebased in place). A column mmiod refuses, or with more ops than a batch
 * holds, is left as it is: its ids are never looked at.
 */
static void
rebase_fixed_leases(Mmio__Batch *b, uint64_t base)
{
	size_t n = b->fixed_op.len;
	ProtobufCBinaryData *col = &b->fixed_lease;
	if (n == 0 || n > MMIO_MAX_BATCH_OPS || col->len % n != 0) {
		return;
	}
	size_t size = col->len / n;
	if (size != 1 && size != 2 && size != 4 && size != 8) {
		return;
	}
	uint8_t *out = col->data;
	if (size != 8 && !(out = checked_alloc(NULL, n * 8))) {
		return;
	}
	/* In place (8-byte ids) each id is read before it is written. */
	for (size_t i = 0; i < n; i++) {
		uint64_t id = 0;
		for (size_t k = 0; k < size; k++) {
			id |= (uint64_t)col->data[i * size + k] << (8 * k);
		}
		id += base - 1;
		for (size_t k = 0; k < 8; k++) {
			out[i * 8 + k] = (uint8_t)(id >> (8 * k));
		}
	}
	if (out != col->data) {
		checked_free(NULL, col->data);
		col->data = out;
		col->len = n * 8;
	}
}

void
fuzz_rebase_lease_ids(Mmio__Request *req, uint64_t base)
{
	uint64_t *id = NULL;
	switch (req->body_case) {
	case MMIO__REQUEST__BODY_SPLIT:
		id = &req->split->lease;
		break;
	case MMIO__REQUEST__BODY_RELEASE:
		id = &req->release->lease;
		break;
	case MMIO__REQUEST__BODY_LOAD:
		id = &req->load->lease;
		break;
	case MMIO__REQUEST__BODY_STORE:
		id = &req->store->lease;
		break;
	case MMIO__REQUEST__BODY_BARRIER:
		id = &req->barrier->lease;
		break;
	case MMIO__REQUEST__BODY_REVOKE:
		id = &req->revoke->lease;
		break;
	case MMIO__REQUEST__BODY_IRQ_SUBSCRIBE:
		id = &req->irq_subscribe->lease;
		break;
	case MMIO__REQUEST__BODY_IRQ_ACK:
		id = &req->irq_ack->lease;
		break;
	case MMIO__REQUEST__BODY_IRQ_UNSUBSCRIBE:
		id = &req->irq_unsubscribe->lease;
		break;
	case MMIO__REQUEST__BODY_MODIFY:
		id = &req->modify->lease;
		break;
	case MMIO__REQUEST__BODY_POLL:
		id = &req->poll->lease;
		break;
	case MMIO__REQUEST__BODY_BLOCK_READ:
		id = &req->block_read->lease;
		break;
	case MMIO__REQUEST__BODY_BLOCK_WRITE:
		id = &req->block_write->lease;
		break;
	case MMIO__REQUEST__BODY_LIST_LEASES:
		/* 0 (an empty request) becomes the id before the input's first: all of them. */
		id = &req->list_leases->after_id;
		break;
	case MMIO__REQUEST__BODY_BATCH:
		for (size_t i = 0; i < req->batch->n_lease; i++) {
			req->batch->lease[i] += base - 1;
		}
		rebase_fixed_leases(req->batch, base);
		return;
	default:
		return;
	}
	*id += base - 1;
}

static bool
held_by(const struct lease *l, struct session *const *sessions, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		if (l->set == &sessions[i]->leases) {
			return true;
		}
	}
	return false;
}

/* Checks r's lease list (sorted, inside r, disjoint, held by one of the sessions); its length. */
static unsigned
check_region_leases(const struct region *r, struct session *const *sessions, unsigned n)
{
	unsigned count = 0;
	uint64_t last_start = 0;
	uint64_t busy_until = 0;
	const struct lease *l;
	TAILQ_FOREACH(l, &r->space.leases, space_link)
	{
		FUZZ_CHECK(l->space == &r->space);
		FUZZ_CHECK(held_by(l, sessions, n));
		/* Ids are unique across regions and holders (revoke names them so). */
		FUZZ_CHECK(service_find_lease(&fuzz_world.svc, l->id) == l);
		FUZZ_CHECK(l->start <= r->space.len && r->space.len - l->start >= l->len);
		FUZZ_CHECK(l->start >= last_start);
		last_start = l->start;
		if (l->len != 0) {
			FUZZ_CHECK(l->start >= busy_until);
			busy_until = l->start + l->len;
		}
		count++;
	}
	FUZZ_CHECK(count == r->space.count);
	return count;
}

/* Checks that set lists its own leases, each once, as many as it counts; their number. */
static unsigned
check_set_leases(const struct lease_set *set)
{
	unsigned count = 0;
	const struct lease *l;
	TAILQ_FOREACH(l, &set->leases, set_link)
	{
		FUZZ_CHECK(l->set == set);
		FUZZ_CHECK(lease_find(set, l->id) == l);
		count++;
	}
	FUZZ_CHECK(count == set->count && count <= set->max);
	return count;
}

void
fuzz_check_leases(struct session *const *sessions, unsigned n)
{
	FUZZ_CHECK(fault_jump == NULL);
	unsigned in_regions = 0;
	for (unsigned i = 0; i < fuzz_world.table.count; i++) {
		in_regions += check_region_leases(fuzz_world.table.regions[i], sessions, n);
	}
	unsigned in_sets = 0;
	for (unsigned i = 0; i < n; i++) {
		in_sets += check_set_leases(&sessions[i]->leases);
	}
	FUZZ_CHECK(in_sets == in_regions);
	fuzz_check_irq();
}

unsigned
fuzz_fd_count(void)
{
	DIR *d = opendir("/proc/self/fd");
	FUZZ_CHECK(d != NULL);
	unsigned n = 0;
	const struct dirent *e;
	while ((e = readdir(d))) {
		n += e->d_name[0] != '.';
	}
	closedir(d);
	return n - 1; /* the directory's own */
}

int
fuzz_lowest_free_fd(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	FUZZ_CHECK(fd >= 0);
	close(fd);
	return fd;
}

void
fuzz_fds_settle(void)
{
	if (fd_closer_threaded()) {
		/* Joins the thread once it has made every close queued: none of ours can sleep. */
		fd_closer_stop(5000);
		FUZZ_CHECK(!fd_closer_threaded());
	}
}

void
fuzz_fds_open(struct fuzz_fds *f)
{
	fuzz_fds_settle();
	f->open_before = fuzz_fd_count();
	int p[2];
	FUZZ_CHECK(pipe2(p, O_CLOEXEC | O_NONBLOCK) == 0);
	f->pipe_r = p[0];
	f->pipe_w = p[1];
	f->null_fd = -1;
	f->nested = -1;
}

ssize_t
fuzz_send_fds(int sock, const void *buf, size_t len, const int *fds, unsigned n, int flags)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * WIRE_MAX_RECV_FDS)];
		struct cmsghdr align;
	} control;
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
	FUZZ_CHECK(n <= WIRE_MAX_RECV_FDS);
	if (n > 0) {
		memset(&control, 0, sizeof(control));
		msg.msg_control = control.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * n);
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * n);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
	}
	ssize_t sent = sendmsg(sock, &msg, MSG_NOSIGNAL | flags);
	return sent < 0 ? -errno : sent;
}

void
fuzz_fds_pick(struct fuzz_fds *f, uint8_t pattern, int peer, int *fds, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		switch ((pattern >> (2 * (i % 4))) & 3) {
		case FUZZ_FD_PIPE:
			fds[i] = f->pipe_w;
			break;
		case FUZZ_FD_NULL:
			if (f->null_fd < 0) {
				f->null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
				FUZZ_CHECK(f->null_fd >= 0);
			}
			fds[i] = f->null_fd;
			break;
		case FUZZ_FD_PEER:
			fds[i] = peer >= 0 ? peer : f->pipe_w;
			break;
		default:
			if (f->nested < 0) {
				int sp[2];
				FUZZ_CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
						      sp) == 0);
				FUZZ_CHECK(fuzz_send_fds(sp[0], "n", 1, &f->pipe_w, 1, 0) == 1);
				close(sp[0]);
				f->nested = sp[1];
			}
			fds[i] = f->nested;
			break;
		}
	}
}

static void
close_own(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

void
fuzz_fds_close_check(struct fuzz_fds *f)
{
	close_own(&f->pipe_w);
	close_own(&f->null_fd);
	close_own(&f->nested);
	fuzz_fds_settle();
	char c;
	/* 0: no writer left. EAGAIN: a copy of the write end is open or in flight somewhere. */
	FUZZ_CHECK(read(f->pipe_r, &c, 1) == 0);
	close_own(&f->pipe_r);
	FUZZ_CHECK(fuzz_fd_count() == f->open_before);
}

/* a and b are one object (a pipe end, /dev/null, a socket). */
static bool
same_object(int a, int b)
{
	struct stat sa;
	struct stat sb;
	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

ssize_t
fuzz_conn_recv(int sock, void *buf, size_t cap, const int *sent, unsigned n_sent, unsigned room,
	       unsigned *n_got)
{
	int fds[WIRE_MAX_RECV_FDS];
	unsigned n_fds = UINT_MAX;
	struct rlimit saved;
	if (room != UINT_MAX) {
		FUZZ_CHECK(getrlimit(RLIMIT_NOFILE, &saved) == 0);
		struct rlimit low = saved;
		low.rlim_cur = (rlim_t)fuzz_lowest_free_fd() + room;
		FUZZ_CHECK(setrlimit(RLIMIT_NOFILE, &low) == 0);
	}
	ssize_t n = wire_recv_keep_fds(sock, buf, cap, fds, &n_fds);
	if (room != UINT_MAX) {
		/* Before any check: a finding needs descriptors to be written down. */
		FUZZ_CHECK(setrlimit(RLIMIT_NOFILE, &saved) == 0);
	}
	FUZZ_CHECK(n_fds <= n_sent);
	for (unsigned i = 0; i < n_fds; i++) {
		FUZZ_CHECK(fds[i] >= 0);
		int flags = fcntl(fds[i], F_GETFD);
		FUZZ_CHECK(flags >= 0 && (flags & FD_CLOEXEC));
		FUZZ_CHECK(i == 0 || fds[i] != fds[i - 1]);
		FUZZ_CHECK(same_object(fds[i], sent[i]));
	}
	/* As conn_read_cb(): mmiod takes none, and closes them where a close may sleep. */
	for (unsigned i = 0; i < n_fds; i++) {
		fd_closer_close(&fds[i]);
		FUZZ_CHECK(fds[i] == -1);
	}
	if (n_fds < n_sent) {
		/* The kernel dropped the ones it could not install: the frame is refused. */
		FUZZ_CHECK(room != UINT_MAX && n == -EMSGSIZE);
	}
	*n_got = n_fds;
	return n;
}
