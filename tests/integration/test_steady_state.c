/*
 * Issue 18, part 1: once warmed up, mmiod serves batches of any size without growing or
 * shrinking its memory: no brk, mmap or munmap (its /proc/PID/maps stay as they were) and no
 * page fault (its minflt stays), over 1,000 rounds of a batch of 4096 mixed loads and stores,
 * block writes and reads of 4096 words and single ops, then 2,000 ops through the ring. Meaningless
 * where malloc is not glibc's (sanitizers, valgrind): skipped there.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon_fixture.h"
#include "mmio/client.h"

#define OPS     4096
#define ROUNDS  1000
#define WARM_UP 50

/* mmiod's minor faults (field 10 of /proc/PID/stat; the name in field 2 has no spaces). */
static unsigned long long
minor_faults(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	unsigned long long minflt = 0;
	assert_int_equal(fscanf(f, "%*d %*s %*c %*d %*d %*d %*d %*d %*u %llu", &minflt), 1);
	fclose(f);
	return minflt;
}

/* mmiod's mappings as text (the caller frees). */
static char *
mappings(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	size_t cap = 1 << 16;
	char *text = calloc(1, cap);
	assert_non_null(text);
	size_t n = fread(text, 1, cap - 1, f);
	assert_true(n > 0 && n < cap - 1);
	fclose(f);
	return text;
}

/* Each round: a batch of OPS mixed ops, a block write and read of OPS words, one single op. */
static void
run_rounds(struct mmio_client *c, struct mmio_lease *l, struct mmio_op *ops, unsigned rounds)
{
	static uint64_t block[OPS];
	for (unsigned i = 0; i < rounds; i++) {
		assert_int_equal(mmio_batch(c, ops, OPS, 0), 0);
		assert_int_equal(mmio_write_block(l, 0, 4, block, OPS, 0), 0);
		assert_int_equal(mmio_read_block(l, 0, 4, block, OPS, 0), 0);
		assert_int_equal(mmio_store32(l, 0x10, i), 0);
	}
}

static void
test_steady_state_batches_and_single_ops(void **state)
{
	(void)state;
	if (MMIO_TEST_SANITIZED || getenv("MMIO_TEST_DAEMON_WRAPPER")) {
		skip();
	}
	struct daemon_fixture f;
	assert_int_equal(daemon_fixture_prepare(&f), 0);
	assert_int_equal(daemon_fixture_start(&f, NULL), 0);
	struct mmio_client *c;
	struct mmio_lease *l;
	assert_int_equal(mmio_connect(f.socket_path, &c), 0);
	assert_int_equal(mmio_set_fast_path(c, MMIO_FAST_PATH_OFF), 0);
	assert_int_equal(mmio_acquire(c, "sim0", 0, 0x8000, &l), 0);
	static struct mmio_op ops[OPS];
	for (unsigned i = 0; i < OPS; i++) {
		unsigned width = 1u << (i % 4);
		ops[i] = (struct mmio_op){.lease = l,
					  .kind = i % 2 ? MMIO_OP_LOAD : MMIO_OP_STORE,
					  .width = width,
					  .offset = (uint64_t)i * 8,
					  .value = i & ((1u << (width * 4)) - 1)};
	}
	/* The ring's ops too (a second client: its ring is set up in the warm-up). */
	struct mmio_client *rc;
	struct mmio_lease *rl;
	assert_int_equal(mmio_connect(f.socket_path, &rc), 0);
	assert_int_equal(mmio_set_fast_path(rc, MMIO_FAST_PATH_ON), 0);
	assert_int_equal(mmio_acquire(rc, "sim0", 0x8000, 0x10, &rl), 0);
	run_rounds(c, l, ops, WARM_UP);
	for (unsigned i = 0; i < WARM_UP; i++) {
		uint32_t v;
		assert_int_equal(mmio_store32(rl, 0, i), 0);
		assert_int_equal(mmio_load32(rl, 0, &v), 0);
	}
	unsigned long long faults = minor_faults(f.pid);
	char *maps = mappings(f.pid);
	run_rounds(c, l, ops, ROUNDS);
	for (unsigned i = 0; i < ROUNDS; i++) {
		uint32_t v;
		assert_int_equal(mmio_store32(rl, 0, i), 0);
		assert_int_equal(mmio_load32(rl, 0, &v), 0);
		assert_int_equal(v, i);
	}
	char *after = mappings(f.pid);
	assert_string_equal(after, maps);
	assert_int_equal(minor_faults(f.pid), faults);
	free(after);
	free(maps);
	assert_int_equal(mmio_fast_path_active(rc), 1);
	mmio_disconnect(rc);
	mmio_disconnect(c);
	assert_int_equal(daemon_fixture_stop(&f), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_steady_state_batches_and_single_ops),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
