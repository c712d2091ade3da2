/* libmmio-client against a real mmiod: regions, leases, accesses, split, batch. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client_stats.h"
#include "daemon_fixture.h"
#include "mmio/client.h"
#include "mmio_limits.h"
#include "raw_client.h"

/* The file region starts at an odd file offset, so its device addresses are odd-based. */
#define FILE_OFFSET      0x1003
#define FILE_REGION_SIZE 0x100

struct env {
	struct daemon_fixture daemon;
	char file_path[64];
	struct mmio_client *client;
};

static int
group_setup(void **state)
{
	struct env *env = calloc(1, sizeof(*env));
	snprintf(env->file_path, sizeof(env->file_path), "/tmp/mmiod-file-XXXXXX");
	int fd = mkstemp(env->file_path);
	if (fd < 0 || ftruncate(fd, 0x2000) < 0) {
		goto err;
	}
	close(fd);
	char file_region[160];
	snprintf(file_region, sizeof(file_region), "dev1,type=file,path=%s,size=%#x,offset=%#x",
		 env->file_path, FILE_REGION_SIZE, FILE_OFFSET);
	const char *regions[] = {"sim0,type=mem,size=0x1000", file_region, NULL};
	if (daemon_fixture_start(&env->daemon, regions) < 0) {
		goto err;
	}
	*state = env;
	return 0;
err:
	unlink(env->file_path);
	free(env);
	return -1;
}

static int
group_teardown(void **state)
{
	struct env *env = *state;
	if (!env) {
		return -1;
	}
	int rc = env->daemon.pid > 0 ? daemon_fixture_stop(&env->daemon) : 0;
	unlink(env->file_path);
	free(env);
	return rc == 0 ? 0 : -1;
}

/* A file truncated under its region faults like a dead device: IO_ERROR, and the daemon lives. */
static void
test_client_device_fault_is_io_error(void **state)
{
	struct env *env = *state;
	struct mmio_lease *dev, *sim;
	assert_int_equal(mmio_acquire(env->client, "dev1", 0x11, 0x10, &dev), 0);
	assert_int_equal(mmio_acquire(env->client, "sim0", 0xf00, 0x10, &sim), 0);
	assert_int_equal(truncate(env->file_path, 0), 0);
	uint32_t v;
	for (int i = 0; i < 10; i++) {
		assert_int_equal(mmio_load32(dev, 0, &v), -EIO);
		assert_string_equal(mmio_status_name(-EIO), "IO_ERROR");
		assert_int_equal(mmio_store32(sim, 0, (uint32_t)i), 0);
	}
	struct mmio_region_info *regions;
	assert_int_equal(mmio_list_regions(env->client, &regions), 2);
	assert_int_equal(regions[0].faults, 0);
	assert_int_equal(regions[1].faults, 10);
	free(regions);
	assert_int_equal(truncate(env->file_path, 0x2000), 0);
	assert_int_equal(mmio_load32(dev, 0, &v), 0);
	assert_int_equal(daemon_fixture_log_count(&env->daemon, "region dev1: device fault"), 4);
}

/*
 * Last test of the group: cmocka does not count a failing group teardown, so
 * the clean stop (no crash, no leak under valgrind or LSan) is asserted here.
 */
static void
test_client_daemon_stops_cleanly(void **state)
{
	struct env *env = *state;
	assert_int_equal(daemon_fixture_stop(&env->daemon), 0);
}

static int
setup(void **state)
{
	struct env *env = *state;
	return mmio_connect(env->daemon.socket_path, &env->client) == 0 ? 0 : -1;
}

static int
teardown(void **state)
{
	struct env *env = *state;
	mmio_disconnect(env->client);
	env->client = NULL;
	return 0;
}

static void
test_client_regions_listed(void **state)
{
	struct env *env = *state;
	struct mmio_region_info *regions;
	int n = mmio_list_regions(env->client, &regions);
	assert_int_equal(n, 2);
	assert_string_equal(regions[0].name, "sim0");
	assert_string_equal(regions[0].type, "mem");
	assert_int_equal(regions[0].size, 0x1000);
	assert_string_equal(regions[1].name, "dev1");
	assert_string_equal(regions[1].type, "file");
	assert_int_equal(regions[1].size, FILE_REGION_SIZE);
	/* The absolute address of a file region is its file offset. */
	assert_int_equal(regions[1].address, FILE_OFFSET);
	free(regions);
}

static void
test_client_every_width_round_trips(void **state)
{
	struct env *env = *state;
	struct mmio_lease *l;
	assert_int_equal(mmio_acquire(env->client, "sim0", 0x100, 0x20, &l), 0);
	assert_int_equal(mmio_store8(l, 0, 0xab), 0);
	assert_int_equal(mmio_store16(l, 2, 0xbeef), 0);
	assert_int_equal(mmio_store32(l, 4, 0xdeadbeef), 0);
	assert_int_equal(mmio_store64(l, 8, 0x0123456789abcdefULL), 0);
	uint8_t v8;
	uint16_t v16;
	uint32_t v32;
	uint64_t v64;
	assert_int_equal(mmio_load8(l, 0, &v8), 0);
	assert_int_equal(v8, 0xab);
	assert_int_equal(mmio_load16(l, 2, &v16), 0);
	assert_int_equal(v16, 0xbeef);
	assert_int_equal(mmio_load32(l, 4, &v32), 0);
	assert_int_equal(v32, 0xdeadbeef);
	assert_int_equal(mmio_load64(l, 8, &v64), 0);
	assert_int_equal(v64, 0x0123456789abcdefULL);
	/* Widths alias the same little-endian bytes. */
	assert_int_equal(mmio_load64(l, 0, &v64), 0);
	assert_int_equal(v64, 0xdeadbeefbeef00abULL);
	assert_int_equal(mmio_release(l), 0);
}

static void
test_client_errors_have_distinct_codes(void **state)
{
	struct env *env = *state;
	struct mmio_lease *l;
	uint32_t v = 0x5a5a5a5a;
	assert_int_equal(mmio_acquire(env->client, "nosuch", 0, 8, &l), -ENOENT);
	assert_string_equal(mmio_error_detail(env->client), "no region named 'nosuch'");
	/* A name that is not printable ASCII is not echoed as sent (strict proto3 decoders want
	 * UTF-8). */
	assert_int_equal(mmio_acquire(env->client, "\xff\xfe\x1b[2J", 0, 8, &l), -ENOENT);
	assert_string_equal(mmio_error_detail(env->client), "no region named '???[2J'");
	assert_int_equal(mmio_acquire(env->client, "sim0", 0xff8, 0x10, &l), -ERANGE);
	assert_int_equal(mmio_acquire(env->client, "sim0", UINT64_MAX, 2, &l), -ERANGE);
	assert_int_equal(mmio_acquire(env->client, "sim0", 0x200, 8, &l), 0);
	assert_int_equal(mmio_load32(l, 2, &v), -EFAULT);
	assert_non_null(strstr(mmio_error_detail(env->client), "not 4-byte aligned"));
	assert_int_equal(mmio_load32(l, 8, &v), -ERANGE);
	assert_non_null(strstr(mmio_error_detail(env->client), "does not fit lease"));
	/* Unaligned is judged before capacity. */
	assert_int_equal(mmio_load32(l, 10, &v), -EFAULT);
	assert_int_equal(mmio_load32(l, UINT64_MAX - 3, &v), -ERANGE);
	assert_int_equal(v, 0x5a5a5a5a);
	uint64_t v64;
	assert_int_equal(mmio_load(l, 0, 3, &v64), -EINVAL);
	assert_string_equal(mmio_error_detail(env->client), "width 3 is not 1, 2, 4 or 8 bytes");
	assert_int_equal(mmio_load(l, 0, 4, &v64), 0);
	assert_string_equal(mmio_error_detail(env->client), "");
	assert_int_equal(mmio_store(l, 0, 1, 0x100), -EINVAL);
	assert_string_equal(mmio_error_detail(env->client), "value is wider than 8 bits");
	assert_string_equal(mmio_status_name(-EFAULT), "UNALIGNED");
	assert_string_equal(mmio_status_name(-ERANGE), "OUT_OF_RANGE");
	uint64_t id = mmio_lease_id(l);
	assert_int_equal(mmio_release(l), 0);
	/* A released id is gone for good: a fresh lease never reuses it. */
	assert_int_equal(mmio_acquire(env->client, "sim0", 0x200, 8, &l), 0);
	assert_true(mmio_lease_id(l) > id);
	assert_int_equal(mmio_release(l), 0);
}

/* mmiod's answer to a Load of width bytes at offset 0 of a fresh lease on sim0: its detail. */
static void
daemon_width_detail(const char *socket_path, unsigned width, char *detail, size_t len)
{
	int fd = raw_connect(socket_path);
	assert_true(fd >= 0);
	assert_int_equal(raw_hello(fd, MMIO_PROTOCOL_VERSION), MMIO__STATUS__OK);
	Mmio__Acquire acquire = MMIO__ACQUIRE__INIT;
	acquire.region = "sim0";
	acquire.length = 8;
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.id = 2;
	req.body_case = MMIO__REQUEST__BODY_ACQUIRE;
	req.acquire = &acquire;
	assert_int_equal(raw_send(fd, &req), 0);
	Mmio__Reply *reply = raw_recv(fd);
	assert_non_null(reply);
	assert_int_equal(reply->status, MMIO__STATUS__OK);
	Mmio__Load load = MMIO__LOAD__INIT;
	load.lease = reply->lease->id;
	load.width = width;
	mmio__reply__free_unpacked(reply, NULL);
	req = (Mmio__Request)MMIO__REQUEST__INIT;
	req.id = 3;
	req.body_case = MMIO__REQUEST__BODY_LOAD;
	req.load = &load;
	assert_int_equal(raw_send(fd, &req), 0);
	reply = raw_recv(fd);
	assert_non_null(reply);
	assert_int_equal(reply->status, MMIO__STATUS__INVALID_ARGUMENT);
	snprintf(detail, len, "%s", reply->detail);
	mmio__reply__free_unpacked(reply, NULL);
	close(fd);
}

/*
 * A width that is not 1, 2, 4 or 8 fails in the library, before any round
 * trip, over the socket and with the ring open alike: the same status and
 * detail as mmiod gives.
 */
static void
test_client_bad_width_fails_locally(void **state)
{
	struct env *env = *state;
	struct mmio_client *c = env->client;
	static const unsigned widths[] = {0, 3, 5, 16, 256, 0x80000004u};
	char want[64];
	daemon_width_detail(env->daemon.socket_path, 3, want, sizeof(want));
	assert_string_equal(want, "width 3 is not 1, 2, 4 or 8 bytes");
	struct mmio_lease *l;
	assert_int_equal(mmio_acquire(c, "sim0", 0, 16, &l), 0);
	for (int ring = 0; ring < 2; ring++) {
		if (ring) {
			assert_int_equal(mmio_set_fast_path(c, MMIO_FAST_PATH_ON), 0);
			assert_int_equal(mmio_fast_path_active(c), 1);
		}
		uint64_t before = requests_served(c);
		for (size_t i = 0; i < sizeof(widths) / sizeof(widths[0]); i++) {
			unsigned w = widths[i];
			snprintf(want, sizeof(want), "width %u is not 1, 2, 4 or 8 bytes", w);
			uint64_t v = 7;
			uint64_t vals[2] = {0, 0};
			int rcs[] = {
				mmio_load(l, 0, w, &v),
				mmio_store(l, 0, w, 1),
				mmio_modify(l, 0, w, 1, 1, &v),
				mmio_poll(l, 0, w, 1, 1, 0, 0, &v),
				mmio_read_block(l, 0, w, vals, 2, 0),
				mmio_write_block(l, 0, w, vals, 2, 0),
			};
			for (size_t k = 0; k < sizeof(rcs) / sizeof(rcs[0]); k++) {
				assert_int_equal(rcs[k], -EINVAL);
			}
			assert_string_equal(mmio_error_detail(c), want);
			assert_int_equal(v, 7);
			/* The next request clears the detail as usual. */
			assert_int_equal(mmio_load(l, 0, 4, &v), 0);
			assert_string_equal(mmio_error_detail(c), "");
		}
		/* Only the good loads reached mmiod (which counts ring ops too), and the Stats. */
		assert_int_equal(requests_served(c),
				 before + sizeof(widths) / sizeof(widths[0]) + 1);
	}
	assert_int_equal(mmio_release(l), 0);
}

/* The header's release, the library's and the project's are one. */
static void
test_client_version(void **state)
{
	(void)state;
	unsigned major = 99, minor = 99, patch = 99;
	const char *v = mmio_client_version(&major, &minor, &patch);
	assert_string_equal(v, MMIOD_VERSION);
	assert_int_equal(major, MMIO_CLIENT_VERSION_MAJOR);
	assert_int_equal(minor, MMIO_CLIENT_VERSION_MINOR);
	assert_int_equal(patch, MMIO_CLIENT_VERSION_PATCH);
	char numbers[32];
	snprintf(numbers, sizeof(numbers), "%d.%d.%d", MMIO_CLIENT_VERSION_MAJOR,
		 MMIO_CLIENT_VERSION_MINOR, MMIO_CLIENT_VERSION_PATCH);
	assert_string_equal(numbers, MMIOD_VERSION);
	assert_ptr_equal(mmio_client_version(NULL, NULL, NULL), v);
}

static void
test_client_conflict_between_clients(void **state)
{
	struct env *env = *state;
	struct mmio_client *other;
	struct mmio_lease *mine, *theirs;
	assert_int_equal(mmio_connect(env->daemon.socket_path, &other), 0);
	assert_int_equal(mmio_acquire(env->client, "sim0", 0x300, 0x10, &mine), 0);
	assert_int_equal(mmio_acquire(other, "sim0", 0x30f, 1, &theirs), -EBUSY);
	assert_int_equal(mmio_acquire(other, "sim0", 0x2f0, 0x11, &theirs), -EBUSY);
	assert_int_equal(mmio_acquire(other, "sim0", 0x310, 0x10, &theirs), 0);
	assert_int_equal(mmio_release(mine), 0);
	assert_int_equal(mmio_acquire(other, "sim0", 0x300, 0x10, &mine), 0);
	mmio_disconnect(other);
}

static void
test_client_split_low_part_is_new(void **state)
{
	struct env *env = *state;
	struct mmio_lease *a, *lo, *empty;
	assert_int_equal(mmio_acquire(env->client, "sim0", 0x400, 0x10, &a), 0);
	assert_int_equal(mmio_store32(a, 4, 0x11223344), 0);
	assert_int_equal(mmio_split(a, 4, &lo), 0);
	assert_int_equal(mmio_lease_start(lo), 0x400);
	assert_int_equal(mmio_lease_length(lo), 4);
	assert_int_equal(mmio_lease_start(a), 0x404);
	assert_int_equal(mmio_lease_length(a), 0xc);
	uint32_t v;
	/* The parent's offset 0 is the old offset 4. */
	assert_int_equal(mmio_load32(a, 0, &v), 0);
	assert_int_equal(v, 0x11223344);
	assert_int_equal(mmio_load32(lo, 4, &v), -ERANGE);
	assert_int_equal(mmio_split(a, 0xd, &empty), -ERANGE);
	assert_int_equal(mmio_lease_length(a), 0xc);
	assert_int_equal(mmio_split(a, 0xc, &empty), 0);
	/* a is now empty: every access is out of range, the barrier still works. */
	assert_int_equal(mmio_lease_length(a), 0);
	assert_int_equal(mmio_load8(a, 0, (uint8_t *)&v), -ERANGE);
	assert_int_equal(mmio_barrier(a), 0);
	assert_int_equal(mmio_release(a), 0);
	assert_int_equal(mmio_release(empty), 0);
	assert_int_equal(mmio_release(lo), 0);
}

static void
test_client_alignment_is_absolute(void **state)
{
	struct env *env = *state;
	struct mmio_lease *l;
	/* dev1 offset 0 is file offset 0x1003: offset 1 is 4-aligned, offset 0 is not. */
	assert_int_equal(mmio_acquire(env->client, "dev1", 0, 0x20, &l), 0);
	assert_int_equal(mmio_store32(l, 0, 1), -EFAULT);
	assert_int_equal(mmio_store32(l, 1, 0xcafef00d), 0);
	assert_int_equal(mmio_store16(l, 5, 0x7788), 0);
	assert_int_equal(mmio_store64(l, 5, 1), 0);
	assert_int_equal(mmio_store64(l, 1, 1), -EFAULT);
	assert_int_equal(mmio_store64(l, 13, 0x0102030405060708ULL), 0);
	int fd = open(env->file_path, O_RDONLY);
	assert_true(fd >= 0);
	uint64_t word = 0;
	assert_int_equal(pread(fd, &word, 8, FILE_OFFSET + 13), 8);
	assert_int_equal(word, 0x0102030405060708ULL);
	uint32_t w32 = 0;
	assert_int_equal(pread(fd, &w32, 4, FILE_OFFSET + 1), 4);
	assert_int_equal(w32, 0xcafef00d);
	close(fd);
	assert_int_equal(mmio_release(l), 0);
}

static void
test_client_batch_results_per_op(void **state)
{
	struct env *env = *state;
	struct mmio_lease *l;
	assert_int_equal(mmio_acquire(env->client, "sim0", 0x500, 0x10, &l), 0);
	struct mmio_op ops[] = {
		{.lease = l, .kind = MMIO_OP_STORE, .width = 4, .offset = 0, .value = 0xa5a5a5a5},
		{.lease = l, .kind = MMIO_OP_BARRIER},
		{.lease = l, .kind = MMIO_OP_LOAD, .width = 4, .offset = 0},
		{.lease = l, .kind = MMIO_OP_LOAD, .width = 4, .offset = 2},
		{.lease = l, .kind = MMIO_OP_LOAD, .width = 8, .offset = 0x10},
		{.lease = l, .kind = MMIO_OP_LOAD, .width = 1, .offset = 3},
	};
	assert_int_equal(mmio_batch(env->client, ops, 6, 0), 2);
	assert_int_equal(ops[0].status, 0);
	assert_int_equal(ops[1].status, 0);
	assert_int_equal(ops[2].status, 0);
	assert_int_equal(ops[2].value, 0xa5a5a5a5);
	assert_int_equal(ops[3].status, -EFAULT);
	assert_int_equal(ops[4].status, -ERANGE);
	assert_int_equal(ops[5].status, 0);
	assert_int_equal(ops[5].value, 0xa5);

	/* Stop on error: the store after the failure must not run. */
	struct mmio_op stop[] = {
		{.lease = l, .kind = MMIO_OP_STORE, .width = 2, .offset = 1, .value = 1},
		{.lease = l, .kind = MMIO_OP_STORE, .width = 4, .offset = 0, .value = 0},
	};
	assert_int_equal(mmio_batch(env->client, stop, 2, MMIO_BATCH_STOP_ON_ERROR), 2);
	assert_int_equal(stop[0].status, -EFAULT);
	assert_int_equal(stop[1].status, -ECANCELED);
	uint32_t v;
	assert_int_equal(mmio_load32(l, 0, &v), 0);
	assert_int_equal(v, 0xa5a5a5a5);

	struct mmio_op bad = {.lease = l, .kind = 99};
	assert_int_equal(mmio_batch(env->client, &bad, 1, 0), -EINVAL);
	assert_int_equal(mmio_batch(env->client, ops, 4097, 0), -EMSGSIZE);
	assert_int_equal(mmio_release(l), 0);
}

static void
test_client_batch_of_max_size(void **state)
{
	struct env *env = *state;
	struct mmio_lease *l;
	enum { N = 4096 };
	assert_int_equal(mmio_acquire(env->client, "sim0", 0x800, 0x800, &l), 0);
	struct mmio_op *ops = calloc(N, sizeof(*ops));
	for (size_t i = 0; i < N; i++) {
		ops[i].lease = l;
		ops[i].width = 8;
		ops[i].offset = (i % 256) * 8;
		ops[i].kind = i < N / 2 ? MMIO_OP_STORE : MMIO_OP_LOAD;
		ops[i].value = i < N / 2 ? UINT64_MAX - i : 0;
	}
	assert_int_equal(mmio_batch(env->client, ops, N, 0), 0);
	/* The last store to each slot wins: slot k was last written by op N/2 - 256 + k. */
	for (size_t i = N / 2; i < N; i++) {
		size_t k = i % 256;
		assert_int_equal(ops[i].value, UINT64_MAX - (N / 2 - 256 + k));
	}
	free(ops);
	assert_int_equal(mmio_release(l), 0);
}

static void
test_client_leases_listed_with_holder(void **state)
{
	struct env *env = *state;
	struct mmio_lease *l;
	assert_int_equal(mmio_acquire(env->client, "dev1", 0x10, 0x8, &l), 0);
	struct mmio_lease_info *infos;
	int n = mmio_list_leases(env->client, &infos);
	assert_true(n >= 1);
	int found = 0;
	for (int i = 0; i < n; i++) {
		if (infos[i].id == mmio_lease_id(l)) {
			found = 1;
			assert_string_equal(infos[i].region, "dev1");
			assert_int_equal(infos[i].start, 0x10);
			assert_int_equal(infos[i].length, 0x8);
			assert_int_equal(infos[i].pid, getpid());
			assert_int_equal(infos[i].uid, getuid());
		}
	}
	assert_true(found);
	free(infos);
	/* Disconnecting revokes it: a new client sees no lease of ours. */
	mmio_disconnect(env->client);
	assert_int_equal(mmio_connect(env->daemon.socket_path, &env->client), 0);
	n = mmio_list_leases(env->client, &infos);
	for (int i = 0; i < n; i++) {
		assert_int_not_equal(infos[i].pid, getpid());
	}
	free(infos);
}

/* Splits a lease one byte at a time, releasing each low part, while another thread reads it. */
struct splitter {
	struct mmio_lease *lease;
	unsigned splits;
	atomic_bool done;
	unsigned failures;
};

static void *
split_bytes(void *arg)
{
	struct splitter *s = arg;
	for (unsigned i = 0; i < s->splits; i++) {
		struct mmio_lease *lo = NULL;
		if (mmio_split(s->lease, 1, &lo) != 0 || mmio_release(lo) != 0) {
			s->failures++;
		}
	}
	atomic_store(&s->done, true);
	return NULL;
}

/*
 * Issue 20: a split wrote start and length under the client's lock while the
 * getters read them without it, so a reader could see the new start with the
 * old length. mmio_lease_range reads them as one pair: their sum, the lease's
 * end, never changes.
 */
static void
test_client_range_consistent_during_splits(void **state)
{
	struct env *env = *state;
	enum { START = 0xa00, LEN = 0x200 };
	struct splitter s = {.splits = LEN};
	assert_int_equal(mmio_acquire(env->client, "sim0", START, LEN, &s.lease), 0);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, split_bytes, &s), 0);
	uint64_t last = START;
	unsigned reads = 0;
	bool done;
	do {
		done = atomic_load(&s.done);
		uint64_t start;
		uint64_t len;
		mmio_lease_range(s.lease, &start, &len);
		assert_int_equal(start + len, START + LEN);
		assert_true(start >= last && start <= START + LEN);
		last = start;
		/* Alone, each getter gives a value the lease had, and never goes back. */
		uint64_t one = mmio_lease_start(s.lease);
		assert_true(one >= start && one <= START + LEN);
		assert_true(mmio_lease_length(s.lease) <= len);
		reads++;
	} while (!done);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(s.failures, 0);
	assert_true(reads > 0);
	assert_int_equal(last, START + LEN);
	assert_int_equal(mmio_lease_length(s.lease), 0);
	assert_int_equal(mmio_release(s.lease), 0);
}

/* A failing load on lease at off, by whichever thread runs it; returns its rc. */
struct failer {
	struct mmio_client *client;
	struct mmio_lease *lease;
	uint64_t off;
	int rc;
	char detail[192];
};

static void *
fail_load(void *arg)
{
	struct failer *f = arg;
	uint32_t v;
	f->rc = mmio_load32(f->lease, f->off, &v);
	mmio_error_detail_copy(f->client, f->detail, sizeof(f->detail));
	return NULL;
}

/*
 * Issue 20: mmio_error_detail is the calling thread's, per client. Another
 * thread's failure on the same client, or this thread's success on another
 * client, leaves it alone; a single-threaded caller sees what it always saw.
 */
static void
test_client_error_detail_per_thread_and_client(void **state)
{
	struct env *env = *state;
	struct mmio_client *other;
	struct mmio_lease *l, *ol;
	uint32_t v;
	char buf[192];
	assert_string_equal(mmio_error_detail(env->client), "");
	assert_int_equal(mmio_error_detail_copy(env->client, NULL, 0), 0);
	assert_int_equal(mmio_connect(env->daemon.socket_path, &other), 0);
	assert_int_equal(mmio_acquire(env->client, "sim0", 0xc00, 8, &l), 0);
	assert_int_equal(mmio_acquire(other, "sim0", 0xc08, 8, &ol), 0);
	assert_int_equal(mmio_load32(l, 0x10, &v), -ERANGE);
	char want[192];
	snprintf(want, sizeof(want),
		 "4-byte access at offset 0x10 does not fit lease %llu of length 0x8 (sim0 [0xc00, "
		 "+0x8))",
		 (unsigned long long)mmio_lease_id(l));
	assert_string_equal(mmio_error_detail(env->client), want);
	/* This thread's success on another client: the first client's detail stays. */
	assert_int_equal(mmio_load32(ol, 0, &v), 0);
	assert_string_equal(mmio_error_detail(other), "");
	assert_string_equal(mmio_error_detail(env->client), want);

	/* Another thread fails on the same client: it gets its own detail, ours stays. */
	struct failer f = {.client = env->client, .lease = l, .off = 0x20};
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, fail_load, &f), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(f.rc, -ERANGE);
	assert_non_null(strstr(f.detail, "at offset 0x20 does not fit"));
	assert_string_equal(mmio_error_detail(env->client), want);
	assert_int_equal(mmio_error_detail_copy(env->client, buf, sizeof(buf)), (int)strlen(want));
	assert_string_equal(buf, want);
	assert_int_equal(mmio_error_detail_copy(env->client, buf, 5), (int)strlen(want));
	assert_string_equal(buf, "4-by");

	/* A thread that fails on a client that is then disconnected: nothing is left behind. */
	struct failer g = {.client = other, .lease = ol, .off = 0x40};
	assert_int_equal(pthread_create(&t, NULL, fail_load, &g), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(g.rc, -ERANGE);
	assert_int_equal(mmio_load32(ol, 0x30, &v), -ERANGE);
	assert_non_null(strstr(mmio_error_detail(other), "at offset 0x30 does not fit"));
	mmio_disconnect(other);
	/* Our own success clears ours. */
	assert_int_equal(mmio_load32(l, 0, &v), 0);
	assert_string_equal(mmio_error_detail(env->client), "");
	assert_int_equal(mmio_release(l), 0);
}

/* Messages about $MMIO_FAST_PATH that reached the handler, and the last one. */
static unsigned fast_path_warnings;
static char fast_path_warning[256];

static void
count_fast_path_warnings(enum mmio_log_level level, const char *message, void *userdata)
{
	(void)userdata;
	if (strstr(message, "MMIO_FAST_PATH")) {
		fast_path_warnings += level == MMIO_LOG_WARN;
		snprintf(fast_path_warning, sizeof(fast_path_warning), "%s", message);
	}
}

/*
 * In a child (the report is once per process), with stderr on err_fd and,
 * if handler, a log handler: three connections under an unknown
 * $MMIO_FAST_PATH, each in AUTO. Exits 0 if all went as said.
 */
static void __attribute__((noreturn))
fast_path_env_child(const char *socket_path, int err_fd, bool handler)
{
	if (dup2(err_fd, STDERR_FILENO) < 0 || setenv("MMIO_FAST_PATH", "fast\033[2J", 1) < 0) {
		_exit(10);
	}
	if (handler) {
		mmio_set_log_handler(count_fast_path_warnings, NULL);
	}
	for (int i = 0; i < 3; i++) {
		struct mmio_client *c;
		struct mmio_lease *l;
		uint32_t v;
		if (mmio_connect(socket_path, &c) < 0 || mmio_acquire(c, "sim0", 0, 4, &l) < 0) {
			_exit(11);
		}
		/* AUTO: the ring opens at the 8th single op, not before. */
		for (int k = 0; k < 7; k++) {
			if (mmio_load32(l, 0, &v) < 0 || mmio_fast_path_active(c)) {
				_exit(12);
			}
		}
		mmio_disconnect(c);
	}
	if (handler && (fast_path_warnings != 1 ||
			strcmp(fast_path_warning, "$MMIO_FAST_PATH=fast?[2J is not auto, on or "
						  "off: using auto") != 0)) {
		_exit(13);
	}
	_exit(0);
}

/* Runs fast_path_env_child; returns what it wrote on stderr (free it). */
static char *
run_fast_path_env_child(const char *socket_path, bool handler)
{
	char path[] = "/tmp/mmio-fast-path-env-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	fflush(NULL);
	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		fast_path_env_child(socket_path, fd, handler);
	}
	int status;
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	char *err = calloc(1, 4096);
	assert_non_null(err);
	assert_true(pread(fd, err, 4095, 0) >= 0);
	close(fd);
	return err;
}

/* An unknown $MMIO_FAST_PATH is reported once per process: on stderr, or to the handler. */
static void
test_client_fast_path_env_unknown_reported_once(void **state)
{
	struct env *env = *state;
	char *err = run_fast_path_env_child(env->daemon.socket_path, false);
	assert_string_equal(err, "libmmio-client: $MMIO_FAST_PATH=fast?[2J is not auto, on or off: "
				 "using auto\n");
	free(err);
	err = run_fast_path_env_child(env->daemon.socket_path, true);
	assert_string_equal(err, "");
	free(err);
}

/* A log handler that counts its calls and, once, removes itself from within. */
static void
log_once(enum mmio_log_level level, const char *message, void *userdata)
{
	(void)level;
	(void)message;
	(*(unsigned *)userdata)++;
	mmio_set_log_handler(NULL, NULL);
}

/*
 * Issue 20: replacing the handler waits for calls of the old one to return;
 * a handler replacing itself must not wait for itself. It gets its own
 * userdata, and is not called again.
 */
static void
test_client_log_handler_replaced_from_within(void **state)
{
	struct env *env = *state;
	struct mmio_lease *l;
	unsigned calls = 0;
	uint64_t v[2];
	assert_int_equal(mmio_acquire(env->client, "sim0", 0xd00, 8, &l), 0);
	mmio_set_log_handler(log_once, &calls);
	/* Over the socket, with a detail: mmiod's words are logged (DEBUG). */
	assert_int_equal(mmio_read_block(l, 4, 4, v, 2, 0), -ERANGE);
	assert_int_equal(calls, 1);
	assert_int_equal(mmio_read_block(l, 4, 4, v, 2, 0), -ERANGE);
	assert_int_equal(calls, 1);
	assert_int_equal(mmio_release(l), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_client_regions_listed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_every_width_round_trips, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_client_errors_have_distinct_codes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_client_bad_width_fails_locally, setup,
						teardown),
		cmocka_unit_test(test_client_version),
		cmocka_unit_test_setup_teardown(test_client_conflict_between_clients, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_client_split_low_part_is_new, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_alignment_is_absolute, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_batch_results_per_op, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_batch_of_max_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_leases_listed_with_holder, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_client_range_consistent_during_splits, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_client_error_detail_per_thread_and_client,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_log_handler_replaced_from_within, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_client_fast_path_env_unknown_reported_once,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_device_fault_is_io_error, setup,
						teardown),
		cmocka_unit_test(test_client_daemon_stops_cleanly),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
