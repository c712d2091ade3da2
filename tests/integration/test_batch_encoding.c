/*
 * Batch's two encodings (mmio.proto): the fixed-width columns give the same results as the
 * varint arrays for the same ops, flags and failures; every malformed shape of the columns gets
 * its status and the connection serves on; libmmio-client sends the columns only to an mmiod
 * that offers them (MMIO_FEATURE_BATCH_FIXED) and falls back to the arrays otherwise.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon_fixture.h"
#include "mmio/client.h"
#include "mmio_limits.h"
#include "mmio_ring.h"
#include "raw_client.h"
#include "wire.h"

#define REGION_SIZE 0x1000

/* The file behind region dev1: truncated, it faults as a dead device would (SIGBUS). */
static char file_path[64];

static int
group_setup(void **state)
{
	snprintf(file_path, sizeof(file_path), "/tmp/mmiod-batch-XXXXXX");
	int fd = mkstemp(file_path);
	if (fd < 0 || ftruncate(fd, 0x1000) < 0) {
		return -1;
	}
	close(fd);
	char file_region[160];
	snprintf(file_region, sizeof(file_region), "dev1,type=file,path=%s,size=0x100", file_path);
	const char *const regions[] = {"sim0,type=mem,size=0x1000", file_region, NULL};
	struct daemon_fixture *f = calloc(1, sizeof(*f));
	if (daemon_fixture_start(f, regions) < 0) {
		free(f);
		unlink(file_path);
		return -1;
	}
	*state = f;
	return 0;
}

static int
group_teardown(void **state)
{
	struct daemon_fixture *f = *state;
	if (!f) {
		return -1;
	}
	int rc = f->pid > 0 ? daemon_fixture_stop(f) : 0;
	free(f);
	unlink(file_path);
	return rc == 0 ? 0 : -1;
}

/* Last test: cmocka does not count a failing group teardown, so assert the clean stop here. */
static void
test_batch_encoding_daemon_stops_cleanly(void **state)
{
	struct daemon_fixture *f = *state;
	assert_int_equal(daemon_fixture_stop(f), 0);
}

/* A raw connection after Hello, which must offer the fixed encoding. */
static int
connect_with_hello(const struct daemon_fixture *f)
{
	int fd = raw_connect(f->socket_path);
	assert_true(fd >= 0);
	Mmio__Hello hello = MMIO__HELLO__INIT;
	hello.version = MMIO_PROTOCOL_VERSION;
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.body_case = MMIO__REQUEST__BODY_HELLO;
	req.hello = &hello;
	assert_int_equal(raw_send(fd, &req), 0);
	Mmio__Reply *reply = raw_recv(fd);
	assert_non_null(reply);
	assert_int_equal(reply->status, MMIO__STATUS__OK);
	assert_int_equal(reply->body_case, MMIO__REPLY__BODY_HELLO);
	assert_true(reply->hello->features & MMIO_FEATURE_BATCH_FIXED);
	mmio__reply__free_unpacked(reply, NULL);
	return fd;
}

/* A lease on [0, length) of region, by Acquire over fd: its id. */
static uint64_t
raw_acquire_of(int fd, const char *region, uint64_t length)
{
	Mmio__Acquire acq = MMIO__ACQUIRE__INIT;
	acq.region = (char *)region;
	acq.offset = 0;
	acq.length = length;
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.id = 2;
	req.body_case = MMIO__REQUEST__BODY_ACQUIRE;
	req.acquire = &acq;
	assert_int_equal(raw_send(fd, &req), 0);
	Mmio__Reply *reply = raw_recv(fd);
	assert_non_null(reply);
	assert_int_equal(reply->status, MMIO__STATUS__OK);
	uint64_t id = reply->lease->id;
	mmio__reply__free_unpacked(reply, NULL);
	return id;
}

/* A lease on the whole of sim0. */
static uint64_t
raw_acquire(int fd)
{
	return raw_acquire_of(fd, "sim0", REGION_SIZE);
}

/* One op of a test batch, as either encoding carries it (kind and width may be invalid). */
struct t_op {
	uint64_t lease;
	unsigned kind;
	unsigned width;
	uint64_t offset;
	uint64_t value;
};

/* One result: status, and the value (0 unless a load succeeded). */
struct t_result {
	Mmio__Status status;
	uint64_t value;
};

static Mmio__Reply *
send_batch(int fd, Mmio__Batch *batch)
{
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.id = 9;
	req.body_case = MMIO__REQUEST__BODY_BATCH;
	req.batch = batch;
	assert_int_equal(raw_send(fd, &req), 0);
	Mmio__Reply *reply = raw_recv(fd);
	assert_non_null(reply); /* a status, never a closed connection */
	return reply;
}

/* ops in the varint arrays; their results. */
static void
run_varint(int fd, const struct t_op *ops, size_t n, bool stop, bool aon, struct t_result *out)
{
	uint64_t lease[64];
	uint64_t offset[64];
	uint64_t value[64];
	uint32_t width[64];
	Mmio__BatchOp op[64];
	assert_true(n <= 64);
	for (size_t i = 0; i < n; i++) {
		lease[i] = ops[i].lease;
		offset[i] = ops[i].offset;
		value[i] = ops[i].value;
		width[i] = ops[i].width;
		op[i] = (Mmio__BatchOp)ops[i].kind;
	}
	Mmio__Batch b = MMIO__BATCH__INIT;
	b.n_lease = b.n_offset = b.n_value = b.n_width = b.n_op = n;
	b.lease = lease;
	b.offset = offset;
	b.value = value;
	b.width = width;
	b.op = op;
	b.stop_on_error = stop;
	b.all_or_nothing = aon;
	Mmio__Reply *reply = send_batch(fd, &b);
	assert_int_equal(reply->status, MMIO__STATUS__OK);
	assert_int_equal(reply->body_case, MMIO__REPLY__BODY_BATCH);
	const Mmio__BatchResult *res = reply->batch;
	assert_int_equal(res->n_status, n);
	assert_int_equal(res->n_value, n);
	assert_int_equal(res->fixed_status.len, 0);
	assert_int_equal(res->fixed_value.len, 0);
	for (size_t i = 0; i < n; i++) {
		out[i] = (struct t_result){res->status[i], res->value[i]};
	}
	mmio__reply__free_unpacked(reply, NULL);
}

static void
put_le(uint8_t *col, unsigned size, size_t i, uint64_t v)
{
	for (unsigned b = 0; b < size; b++) {
		col[i * size + b] = (uint8_t)(v >> (8 * b));
	}
}

static uint64_t
get_le(const uint8_t *p, unsigned size)
{
	uint64_t v = 0;
	for (unsigned b = 0; b < size; b++) {
		v |= (uint64_t)p[b] << (8 * b);
	}
	return v;
}

/* Columns of a fixed batch, element sizes chosen by the caller (value 0: empty). */
struct t_fixed {
	uint8_t lease[64 * 8];
	uint8_t offset[64 * 8];
	uint8_t value[64 * 8];
	uint8_t kind[64];
	uint8_t width[64];
};

static void
fill_fixed(Mmio__Batch *b, struct t_fixed *c, const struct t_op *ops, size_t n, unsigned lease_size,
	   unsigned offset_size, unsigned value_size)
{
	assert_true(n <= 64);
	for (size_t i = 0; i < n; i++) {
		put_le(c->lease, lease_size, i, ops[i].lease);
		put_le(c->offset, offset_size, i, ops[i].offset);
		put_le(c->value, value_size, i, ops[i].value);
		c->kind[i] = (uint8_t)ops[i].kind;
		c->width[i] = (uint8_t)ops[i].width;
	}
	b->fixed_lease = (ProtobufCBinaryData){n * lease_size, c->lease};
	b->fixed_offset = (ProtobufCBinaryData){n * offset_size, c->offset};
	b->fixed_value = (ProtobufCBinaryData){n * value_size, c->value};
	b->fixed_op = (ProtobufCBinaryData){n, c->kind};
	b->fixed_width = (ProtobufCBinaryData){n, c->width};
}

/* ops in the fixed columns; their results, read as the protocol says. */
static void
run_fixed(int fd, const struct t_op *ops, size_t n, bool stop, bool aon, unsigned lease_size,
	  unsigned offset_size, unsigned value_size, struct t_result *out)
{
	struct t_fixed c;
	Mmio__Batch b = MMIO__BATCH__INIT;
	fill_fixed(&b, &c, ops, n, lease_size, offset_size, value_size);
	b.stop_on_error = stop;
	b.all_or_nothing = aon;
	Mmio__Reply *reply = send_batch(fd, &b);
	assert_int_equal(reply->status, MMIO__STATUS__OK);
	assert_int_equal(reply->body_case, MMIO__REPLY__BODY_BATCH);
	const Mmio__BatchResult *res = reply->batch;
	assert_int_equal(res->n_status, 0);
	assert_int_equal(res->n_value, 0);
	assert_true(res->fixed_status.len == n || res->fixed_status.len == 0);
	size_t at = 0;
	for (size_t i = 0; i < n; i++) {
		out[i].status = res->fixed_status.len ? (Mmio__Status)res->fixed_status.data[i]
						      : MMIO__STATUS__OK;
		out[i].value = 0;
		if (out[i].status == MMIO__STATUS__OK &&
		    ops[i].kind == MMIO__BATCH_OP__BATCH_OP_LOAD) {
			assert_true(at + ops[i].width <= res->fixed_value.len);
			out[i].value = get_le(res->fixed_value.data + at, ops[i].width);
			at += ops[i].width;
		}
	}
	assert_int_equal(at, res->fixed_value.len);
	if (res->fixed_status.len) {
		bool any_failed = false;
		for (size_t i = 0; i < n; i++) {
			any_failed |= out[i].status != MMIO__STATUS__OK;
		}
		assert_true(any_failed); /* all OK goes as no statuses at all */
	}
	mmio__reply__free_unpacked(reply, NULL);
}

enum { LOAD = MMIO__BATCH_OP__BATCH_OP_LOAD, STORE = MMIO__BATCH_OP__BATCH_OP_STORE };

/*
 * Stores first, so that both runs start from the same bytes; loads of every width; and a
 * failure of every kind the checks know, in the middle.
 */
static size_t
mixed_ops(uint64_t lease, struct t_op *ops, bool with_failures)
{
	size_t n = 0;
	ops[n++] = (struct t_op){lease, STORE, 8, 0x10, 0x1122334455667788};
	ops[n++] = (struct t_op){lease, STORE, 4, 0x18, 0xdeadbeef};
	ops[n++] = (struct t_op){lease, STORE, 2, 0x1c, 0xbeef};
	ops[n++] = (struct t_op){lease, STORE, 1, 0x1e, 0x5a};
	ops[n++] = (struct t_op){lease, STORE, 8, REGION_SIZE - 8, UINT64_MAX};
	ops[n++] = (struct t_op){lease, LOAD, 8, 0x10, 0};
	if (with_failures) {
		ops[n++] = (struct t_op){lease + 1000, LOAD, 4, 0, 0};    /* NOT_FOUND */
		ops[n++] = (struct t_op){lease, LOAD, 4, 0x12, 0};        /* UNALIGNED */
		ops[n++] = (struct t_op){lease, LOAD, 4, REGION_SIZE, 0}; /* OUT_OF_RANGE */
		ops[n++] = (struct t_op){lease, 9, 4, 0, 0};              /* no such op */
		ops[n++] = (struct t_op){lease, LOAD, 3, 0, 0};           /* no such width */
		ops[n++] = (struct t_op){lease, STORE, 1, 0x20, 0x1ff};   /* value too wide */
		ops[n++] = (struct t_op){lease, STORE, 4, 1ull << 40, 1}; /* OUT_OF_RANGE */
	}
	ops[n++] = (struct t_op){lease, LOAD, 4, 0x18, 0};
	ops[n++] = (struct t_op){lease, MMIO__BATCH_OP__BATCH_OP_BARRIER, 0, 0, 0};
	ops[n++] = (struct t_op){lease, LOAD, 2, 0x1c, 0};
	ops[n++] = (struct t_op){lease, LOAD, 1, 0x1e, 0};
	ops[n++] = (struct t_op){lease, LOAD, 8, REGION_SIZE - 8, 0};
	return n;
}

static void
assert_same_results(const struct t_result *a, const struct t_result *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(a[i].status, b[i].status);
		assert_true(a[i].value == b[i].value);
	}
}

/* Both encodings, every flag, with and without failing ops: the same results, op by op. */
static void
test_batch_encoding_same_results(void **state)
{
	struct daemon_fixture *f = *state;
	int fd = connect_with_hello(f);
	uint64_t lease = raw_acquire(fd);
	/* Element sizes of the lease, offset and value columns (values: one is UINT64_MAX). */
	static const unsigned sizes[][3] = {{1, 2, 8}, {8, 8, 8}, {2, 4, 8}, {4, 8, 8}};
	unsigned tried = 0;
	for (int failures = 0; failures < 2; failures++) {
		struct t_op ops[32];
		size_t n = mixed_ops(lease, ops, failures);
		for (unsigned flags = 0; flags < 3; flags++) {
			bool stop = flags == 1;
			bool aon = flags == 2;
			struct t_result want[32];
			run_varint(fd, ops, n, stop, aon, want);
			for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
				/* Only the sizes that hold every number of their column. */
				bool fits = true;
				for (size_t i = 0; i < n; i++) {
					fits &= sizes[s][0] == 8 ||
						ops[i].lease >> (8 * sizes[s][0]) == 0;
					fits &= sizes[s][1] == 8 ||
						ops[i].offset >> (8 * sizes[s][1]) == 0;
				}
				if (!fits) {
					continue;
				}
				struct t_result got[32];
				run_fixed(fd, ops, n, stop, aon, sizes[s][0], sizes[s][1],
					  sizes[s][2], got);
				assert_same_results(want, got, n);
				tried++;
			}
			/* The results themselves, so that the comparison is not of two wrongs. */
			if (!failures) {
				for (size_t i = 0; i < n; i++) {
					assert_int_equal(want[i].status, MMIO__STATUS__OK);
				}
				assert_true(want[5].value == 0x1122334455667788);
				assert_true(want[6].value == 0xdeadbeef);
				assert_true(want[8].value == 0xbeef);
				assert_true(want[9].value == 0x5a);
				assert_true(want[10].value == UINT64_MAX);
			} else if (aon) {
				assert_int_equal(want[0].status, MMIO__STATUS__CANCELLED);
				assert_int_equal(want[6].status, MMIO__STATUS__NOT_FOUND);
				assert_int_equal(want[7].status, MMIO__STATUS__UNALIGNED);
				assert_int_equal(want[8].status, MMIO__STATUS__OUT_OF_RANGE);
				assert_int_equal(want[9].status, MMIO__STATUS__INVALID_ARGUMENT);
				assert_int_equal(want[10].status, MMIO__STATUS__INVALID_ARGUMENT);
				assert_int_equal(want[11].status, MMIO__STATUS__INVALID_ARGUMENT);
				assert_int_equal(want[12].status, MMIO__STATUS__OUT_OF_RANGE);
				assert_int_equal(want[13].status, MMIO__STATUS__CANCELLED);
			} else if (stop) {
				assert_int_equal(want[5].status, MMIO__STATUS__OK);
				assert_int_equal(want[6].status, MMIO__STATUS__NOT_FOUND);
				assert_int_equal(want[7].status, MMIO__STATUS__CANCELLED);
				assert_int_equal(want[n - 1].status, MMIO__STATUS__CANCELLED);
			} else {
				assert_int_equal(want[6].status, MMIO__STATUS__NOT_FOUND);
				assert_int_equal(want[9].status, MMIO__STATUS__INVALID_ARGUMENT);
				assert_int_equal(want[13].status, MMIO__STATUS__OK);
				assert_true(want[13].value == 0xdeadbeef);
			}
		}
	}
	assert_int_equal(tried, 3 * (4 + 2)); /* every size without failures; 8 and 4 with */
	close(fd);
}

/* A fixed batch of n loads at offset 0 with these column lengths: the reply's status. */
static Mmio__Status
shape_status(int fd, uint64_t lease, size_t lease_len, size_t offset_len, size_t value_len,
	     size_t op_len, size_t width_len, bool with_varint)
{
	static uint8_t zeros[MMIO_MAX_BATCH_OPS * 8 + 64];
	static uint8_t kinds[MMIO_MAX_BATCH_OPS + 8];
	static uint8_t widths[MMIO_MAX_BATCH_OPS + 8];
	static uint8_t leases[MMIO_MAX_BATCH_OPS + 8];
	memset(kinds, LOAD, sizeof(kinds));
	memset(widths, 4, sizeof(widths));
	memset(leases, (int)lease, sizeof(leases)); /* one-byte lease ids */
	Mmio__Batch b = MMIO__BATCH__INIT;
	b.fixed_lease = (ProtobufCBinaryData){lease_len, lease_len <= op_len ? leases : zeros};
	b.fixed_offset = (ProtobufCBinaryData){offset_len, zeros};
	b.fixed_value = (ProtobufCBinaryData){value_len, zeros};
	b.fixed_op = (ProtobufCBinaryData){op_len, kinds};
	b.fixed_width = (ProtobufCBinaryData){width_len, widths};
	uint64_t one_lease = lease;
	uint64_t zero = 0;
	uint32_t four = 4;
	Mmio__BatchOp load = MMIO__BATCH_OP__BATCH_OP_LOAD;
	if (with_varint) {
		b.n_lease = b.n_offset = b.n_value = b.n_width = b.n_op = 1;
		b.lease = &one_lease;
		b.offset = &zero;
		b.value = &zero;
		b.width = &four;
		b.op = &load;
	}
	Mmio__Reply *reply = send_batch(fd, &b);
	Mmio__Status st = reply->status;
	if (st != MMIO__STATUS__OK) {
		assert_true(reply->detail && reply->detail[0]); /* says what is wrong */
		assert_int_not_equal(reply->body_case, MMIO__REPLY__BODY_BATCH);
	}
	mmio__reply__free_unpacked(reply, NULL);
	return st;
}

/* Every malformed shape of the columns: a status for the whole batch, nothing run. */
static void
test_batch_encoding_malformed_shapes(void **state)
{
	struct daemon_fixture *f = *state;
	int fd = connect_with_hello(f);
	uint64_t lease = raw_acquire(fd);
	assert_true(lease < 256);
	const Mmio__Status ok = MMIO__STATUS__OK;
	const Mmio__Status inval = MMIO__STATUS__INVALID_ARGUMENT;
	/* Well-formed: 4 ops, lease in 1 byte, offsets in 2, values in 4 or none. */
	assert_int_equal(shape_status(fd, lease, 4, 8, 16, 4, 4, false), ok);
	assert_int_equal(shape_status(fd, lease, 4, 8, 0, 4, 4, false), ok);
	/* Ops in both encodings. */
	assert_int_equal(shape_status(fd, lease, 4, 8, 16, 4, 4, true), inval);
	/* A column not a whole number of elements of n. */
	assert_int_equal(shape_status(fd, lease, 5, 8, 16, 4, 4, false), inval);
	assert_int_equal(shape_status(fd, lease, 4, 9, 16, 4, 4, false), inval);
	assert_int_equal(shape_status(fd, lease, 4, 8, 17, 4, 4, false), inval);
	/* Whole, but of an element size that is none of 1, 2, 4 and 8. */
	assert_int_equal(shape_status(fd, lease, 12, 8, 16, 4, 4, false), inval);
	assert_int_equal(shape_status(fd, lease, 4, 64, 16, 4, 4, false), inval);
	assert_int_equal(shape_status(fd, lease, 4, 8, 12, 4, 4, false), inval);
	/* Counts that disagree: widths against ops; an empty lease or offset column. */
	assert_int_equal(shape_status(fd, lease, 4, 8, 16, 4, 3, false), inval);
	assert_int_equal(shape_status(fd, lease, 4, 8, 16, 4, 5, false), inval);
	assert_int_equal(shape_status(fd, lease, 0, 8, 16, 4, 4, false), inval);
	assert_int_equal(shape_status(fd, lease, 4, 0, 16, 4, 4, false), inval);
	/* Columns without ops. */
	assert_int_equal(shape_status(fd, lease, 8, 0, 0, 0, 0, false), inval);
	assert_int_equal(shape_status(fd, lease, 0, 0, 0, 0, 4, false), inval);
	/* One op over the maximum, well-formed otherwise; and the maximum itself. */
	assert_int_equal(shape_status(fd, lease, MMIO_MAX_BATCH_OPS + 1, MMIO_MAX_BATCH_OPS + 1, 0,
				      MMIO_MAX_BATCH_OPS + 1, MMIO_MAX_BATCH_OPS + 1, false),
			 MMIO__STATUS__RESOURCE_EXHAUSTED);
	assert_int_equal(shape_status(fd, lease, MMIO_MAX_BATCH_OPS, MMIO_MAX_BATCH_OPS, 0,
				      MMIO_MAX_BATCH_OPS, MMIO_MAX_BATCH_OPS, false),
			 ok);
	/* The connection serves on. */
	struct t_op ops[32];
	struct t_result got[32];
	size_t n = mixed_ops(lease, ops, false);
	run_fixed(fd, ops, n, false, false, 8, 8, 8, got);
	assert_int_equal(got[0].status, MMIO__STATUS__OK);
	close(fd);
}

/* The faults of region dev1, as ListRegions counts them. */
static uint64_t
dev_faults(int fd)
{
	Mmio__ListRegions list = MMIO__LIST_REGIONS__INIT;
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.id = 3;
	req.body_case = MMIO__REQUEST__BODY_LIST_REGIONS;
	req.list_regions = &list;
	assert_int_equal(raw_send(fd, &req), 0);
	Mmio__Reply *reply = raw_recv(fd);
	assert_non_null(reply);
	uint64_t faults = UINT64_MAX;
	for (size_t i = 0; i < reply->regions->n_regions; i++) {
		if (strcmp(reply->regions->regions[i]->name, "dev1") == 0) {
			faults = reply->regions->regions[i]->faults;
		}
	}
	mmio__reply__free_unpacked(reply, NULL);
	assert_true(faults != UINT64_MAX);
	return faults;
}

/*
 * A device that faults mid-batch (its file truncated): each faulting op is IO_ERROR and counted
 * as a fault, the ops after it run as they would have (or are CANCELLED with stop_on_error), in
 * both encodings; once the device is back, the same batch runs whole.
 */
static void
test_batch_encoding_fault_mid_batch(void **state)
{
	struct daemon_fixture *f = *state;
	int fd = connect_with_hello(f);
	uint64_t sim = raw_acquire(fd);
	uint64_t dev = raw_acquire_of(fd, "dev1", 0x100);
	const struct t_op ops[] = {
		{sim, STORE, 4, 0x10, 1}, {dev, LOAD, 4, 0, 0}, {sim, STORE, 4, 0x14, 2},
		{sim, LOAD, 4, 0x10, 0},  {dev, LOAD, 8, 8, 0}, {dev, STORE, 2, 2, 7},
		{sim, LOAD, 4, 0x14, 0},
	};
	size_t n = sizeof(ops) / sizeof(ops[0]);
	const Mmio__Status io = MMIO__STATUS__IO_ERROR, ok = MMIO__STATUS__OK;
	const Mmio__Status plain[] = {ok, io, ok, ok, io, io, ok};
	const Mmio__Status cancelled = MMIO__STATUS__CANCELLED;
	const Mmio__Status stopped[] = {ok,        io,        cancelled, cancelled,
					cancelled, cancelled, cancelled};
	assert_int_equal(truncate(file_path, 0), 0);
	uint64_t faults = dev_faults(fd);
	for (int fixed = 0; fixed < 2; fixed++) {
		for (int stop = 0; stop < 2; stop++) {
			struct t_result got[8];
			if (fixed) {
				run_fixed(fd, ops, n, stop, false, 8, 8, 8, got);
			} else {
				run_varint(fd, ops, n, stop, false, got);
			}
			for (size_t i = 0; i < n; i++) {
				assert_int_equal(got[i].status, stop ? stopped[i] : plain[i]);
			}
			if (!stop) {
				assert_true(got[3].value == 1);
				assert_true(got[6].value == 2);
			}
			uint64_t now = dev_faults(fd);
			assert_true(now == faults + (stop ? 1 : 3));
			faults = now;
		}
	}
	assert_int_equal(truncate(file_path, 0x1000), 0);
	struct t_result got[8];
	run_fixed(fd, ops, n, true, false, 8, 8, 8, got);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(got[i].status, ok);
	}
	assert_true(dev_faults(fd) == faults);
	close(fd);
}

/* libmmio-client against the real mmiod: values of every width and size round-trip. */
static void
test_batch_encoding_client_round_trip(void **state)
{
	struct daemon_fixture *f = *state;
	struct mmio_client *c;
	struct mmio_lease *l;
	assert_int_equal(mmio_connect(f->socket_path, &c), 0);
	assert_int_equal(mmio_acquire(c, "sim0", 0, REGION_SIZE, &l), 0);
	struct mmio_op ops[] = {
		{.lease = l,
		 .kind = MMIO_OP_STORE,
		 .width = 8,
		 .offset = 0xff8,
		 .value = UINT64_MAX},
		{.lease = l, .kind = MMIO_OP_STORE, .width = 2, .offset = 0x2, .value = 0xabcd},
		{.lease = l, .kind = MMIO_OP_LOAD, .width = 8, .offset = 0xff8},
		{.lease = l, .kind = MMIO_OP_LOAD, .width = 2, .offset = 0x2},
		{.lease = l, .kind = MMIO_OP_LOAD, .width = 4, .offset = 0x3}, /* UNALIGNED */
		{.lease = l, .kind = MMIO_OP_LOAD, .width = 1, .offset = 0x3},
	};
	assert_int_equal(mmio_batch(c, ops, 6, 0), 1);
	assert_true(ops[2].value == UINT64_MAX);
	assert_true(ops[3].value == 0xabcd);
	assert_int_equal(ops[4].status, -EFAULT);
	assert_true(ops[5].value == 0xab);
	/* All OK: the reply carries no statuses; the library still sets each. */
	ops[4].offset = 0x4;
	ops[4].status = -1;
	assert_int_equal(mmio_batch(c, ops, 6, 0), 0);
	assert_int_equal(ops[4].status, 0);
	mmio_disconnect(c);
}

/*
 * A stand-in for an mmiod: Hello with the features it is given, a lease for any Acquire, a
 * Batch answered in the encoding it came in (each load reads its offset + 1), OK to anything
 * else. It notes which encoding the batch came in.
 */
struct fake {
	int listener;
	uint32_t features;
	int saw_fixed;  /* batches in the fixed columns */
	int saw_varint; /* batches in the varint arrays */
};

static void
fake_reply(int fd, Mmio__Reply *reply)
{
	static uint8_t buf[MMIO_MAX_FRAME];
	size_t len = mmio__reply__pack(reply, buf);
	assert_int_equal(wire_send(fd, buf, len), 0);
}

static void
fake_batch(struct fake *fk, const Mmio__Batch *b, Mmio__Reply *reply)
{
	static Mmio__Status status[64];
	static uint64_t value[64];
	static uint8_t packed[64 * 8];
	static Mmio__BatchResult res;
	mmio__batch_result__init(&res);
	if (b->fixed_op.len) {
		fk->saw_fixed++;
		size_t n = b->fixed_op.len;
		unsigned osize = (unsigned)(b->fixed_offset.len / n);
		size_t at = 0;
		for (size_t i = 0; i < n; i++) {
			if (b->fixed_op.data[i] == LOAD) {
				uint64_t v = get_le(b->fixed_offset.data + i * osize, osize) + 1;
				put_le(packed + at, b->fixed_width.data[i], 0, v);
				at += b->fixed_width.data[i];
			}
		}
		res.fixed_value = (ProtobufCBinaryData){at, packed};
	} else {
		fk->saw_varint++;
		for (size_t i = 0; i < b->n_op; i++) {
			status[i] = MMIO__STATUS__OK;
			value[i] = b->op[i] == MMIO__BATCH_OP__BATCH_OP_LOAD ? b->offset[i] + 1 : 0;
		}
		res.n_status = res.n_value = b->n_op;
		res.status = status;
		res.value = value;
	}
	reply->body_case = MMIO__REPLY__BODY_BATCH;
	reply->batch = &res;
}

static void *
fake_serve(void *arg)
{
	struct fake *fk = arg;
	int fd = accept(fk->listener, NULL, NULL);
	assert_true(fd >= 0);
	static uint8_t buf[MMIO_MAX_FRAME];
	ssize_t len;
	while ((len = wire_recv(fd, buf, sizeof(buf))) > 0) {
		Mmio__Request *req = mmio__request__unpack(NULL, (size_t)len, buf);
		assert_non_null(req);
		Mmio__Reply reply = MMIO__REPLY__INIT;
		reply.id = req->id;
		reply.status = MMIO__STATUS__OK;
		Mmio__Hello hello = MMIO__HELLO__INIT;
		Mmio__LeaseInfo info = MMIO__LEASE_INFO__INIT;
		switch (req->body_case) {
		case MMIO__REQUEST__BODY_HELLO:
			hello.version = MMIO_PROTOCOL_VERSION;
			hello.features = fk->features;
			reply.body_case = MMIO__REPLY__BODY_HELLO;
			reply.hello = &hello;
			break;
		case MMIO__REQUEST__BODY_ACQUIRE:
			info.id = 7;
			info.region = req->acquire->region;
			info.length = req->acquire->length;
			info.access = MMIO__ACCESS__ACCESS_RW;
			reply.body_case = MMIO__REPLY__BODY_LEASE;
			reply.lease = &info;
			break;
		case MMIO__REQUEST__BODY_BATCH:
			fake_batch(fk, req->batch, &reply);
			break;
		default:
			break;
		}
		fake_reply(fd, &reply);
		mmio__request__free_unpacked(req, NULL);
	}
	close(fd);
	return NULL;
}

/* mmio_batch against a stand-in offering features: which encoding it used. */
static void
client_against_fake(uint32_t features, struct fake *fk)
{
	char dir[] = "/tmp/mmio-batch-fake-XXXXXX";
	assert_non_null(mkdtemp(dir));
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/s", dir);
	*fk = (struct fake){.features = features};
	fk->listener = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	assert_true(fk->listener >= 0);
	assert_int_equal(bind(fk->listener, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(listen(fk->listener, 1), 0);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, fake_serve, fk), 0);

	struct mmio_client *c;
	struct mmio_lease *l;
	assert_int_equal(mmio_connect(addr.sun_path, &c), 0);
	assert_int_equal(mmio_acquire(c, "sim0", 0, 0x100, &l), 0);
	struct mmio_op ops[3] = {
		{.lease = l, .kind = MMIO_OP_LOAD, .width = 4, .offset = 0x10},
		{.lease = l, .kind = MMIO_OP_STORE, .width = 4, .offset = 0x14, .value = 3},
		{.lease = l, .kind = MMIO_OP_LOAD, .width = 8, .offset = 0x18},
	};
	assert_int_equal(mmio_batch(c, ops, 3, MMIO_BATCH_STOP_ON_ERROR), 0);
	assert_true(ops[0].value == 0x11);
	assert_true(ops[2].value == 0x19);
	mmio_disconnect(c);
	assert_int_equal(pthread_join(t, NULL), 0);
	close(fk->listener);
	unlink(addr.sun_path);
	rmdir(dir);
}

static void
test_batch_encoding_client_falls_back_without_feature(void **state)
{
	(void)state;
	struct fake fk;
	client_against_fake(0, &fk);
	assert_int_equal(fk.saw_varint, 1);
	assert_int_equal(fk.saw_fixed, 0);
	client_against_fake(MMIO_FEATURE_BATCH_FIXED, &fk);
	assert_int_equal(fk.saw_varint, 0);
	assert_int_equal(fk.saw_fixed, 1);
}

int
main(void)
{
	/* Batches over the socket, whatever their size: the ring has its own tests. */
	setenv("MMIO_FAST_PATH", "off", 1);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_batch_encoding_same_results),
		cmocka_unit_test(test_batch_encoding_malformed_shapes),
		cmocka_unit_test(test_batch_encoding_fault_mid_batch),
		cmocka_unit_test(test_batch_encoding_client_round_trip),
		cmocka_unit_test(test_batch_encoding_client_falls_back_without_feature),
		cmocka_unit_test(test_batch_encoding_daemon_stops_cleanly),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
