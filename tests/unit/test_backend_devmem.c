/*
 * backend_devmem.c on a regular file standing in for /dev/mem: region offset 0
 * is file offset phys, alignment is judged on phys, the region is exactly size
 * bytes, the device is opened O_SYNC, and every refusal (the kernel's too,
 * through a wrapped mmap) fails cleanly with a message saying why.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/conf.h"
#include "config/region_spec.h"
#include "core/lease.h"
#include "device/backend.h"
#include "device/region.h"
#include "device/region_table.h"
#include "hw_tree.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define MEM_SIZE     0x20000 /* the stand-in's bytes */

/* Armed per test: the errno mmap fails with (0: the real mmap), and what the last call saw. */
static int mmap_fail_errno;
static int mmap_seen_fl = -1;
static int mmap_seen_fd_flags = -1;

void *__real_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);

void *
__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	if (fd >= 0) {
		mmap_seen_fl = fcntl(fd, F_GETFL);
		mmap_seen_fd_flags = fcntl(fd, F_GETFD);
	}
	if (mmap_fail_errno) {
		errno = mmap_fail_errno;
		return MAP_FAILED;
	}
	return __real_mmap(addr, len, prot, flags, fd, off);
}

struct fixture {
	struct hw_tree tree;
	char mem[128]; /* the stand-in /dev/mem */
	struct region *r;
	struct lease_set set;
	struct lease *l;
};

static int
setup(void **state)
{
	struct fixture *f = test_calloc(1, sizeof(*f));
	hw_tree_create(&f->tree);
	hw_tree_file(&f->tree, "dev/mem", MEM_SIZE);
	hw_tree_path(&f->tree, "dev/mem", f->mem, sizeof(f->mem));
	lease_set_init(&f->set, 16, 1, 1000);
	mmap_fail_errno = 0;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	lease_revoke_all(&f->set);
	region_destroy(f->r);
	hw_tree_destroy(&f->tree);
	mmap_fail_errno = 0;
	test_free(f);
	return 0;
}

static uint64_t
mem_bytes(struct fixture *f, uint64_t off, unsigned width)
{
	return hw_tree_bytes(&f->tree, "dev/mem", off, width);
}

/* Wraps b as region "gpio" and leases all of it. */
static void
lease_all(struct fixture *f, struct backend *b)
{
	f->r = region_create("gpio", b);
	assert_non_null(f->r);
	assert_int_equal(lease_acquire(&f->r->space, &f->set, 0, b->len, &f->l), 0);
}

static void
close_region(struct fixture *f)
{
	lease_revoke_all(&f->set);
	region_destroy(f->r);
	f->r = NULL;
}

/* Opens [phys, phys + size) of the stand-in at path through backend_open(). */
static int
open_devmem(const char *path, uint64_t phys, uint64_t size, struct backend **b, char *err,
	    size_t errlen)
{
	struct region_spec spec = {.type = "devmem", .phys = phys, .size = size};
	spec.path = strdup(path);
	assert_non_null(spec.path);
	int rc = backend_open(&spec, b, err, errlen);
	region_spec_finish(&spec);
	return rc;
}

static struct backend *
open_ok(struct fixture *f, uint64_t phys, uint64_t size)
{
	struct backend *b = NULL;
	char err[256] = "";
	int rc = open_devmem(f->mem, phys, size, &b, err, sizeof(err));
	if (rc != 0) {
		print_error("open_devmem: %s\n", err);
	}
	assert_int_equal(rc, 0);
	assert_string_equal(b->type, "devmem");
	assert_int_equal(b->addr, phys);
	assert_int_equal(b->len, size);
	assert_int_equal(b->irq_fd, -1);
	long page = sysconf(_SC_PAGESIZE);
	assert_int_equal(b->base - (uint8_t *)b->map, phys % (uint64_t)page);
	assert_int_equal(b->map_len, size + phys % (uint64_t)page);
	return b;
}

/* The example: phys 0x12345, 0x20 bytes; offset 0 is file offset 0x12345 and odd. */
static void
test_backend_devmem_phys_is_file_offset(void **state)
{
	struct fixture *f = *state;
	uint64_t v;
	lease_all(f, open_ok(f, 0x12345, 0x20));

	assert_int_equal(region_load(f->l, 0, 4, &v), -EFAULT);
	assert_int_equal(region_load(f->l, 0, 2, &v), -EFAULT);
	assert_int_equal(region_load(f->l, 0, 1, &v), 0);
	assert_int_equal(v, hw_pattern(0x12345));
	assert_int_equal(region_load(f->l, 3, 4, &v), 0); /* 0x12348 */
	assert_int_equal(v, hw_pattern_bytes(0x12348, 4));
	assert_int_equal(region_load(f->l, 0x1b, 4, &v), 0); /* 0x12360 */
	assert_int_equal(v, hw_pattern_bytes(0x12360, 4));
	assert_int_equal(lease_align_offset(f->l, 2), 1);
	assert_int_equal(lease_align_offset(f->l, 8), 3);
	assert_int_equal(region_load(f->l, 3, 8, &v), 0); /* 0x12348 */
	assert_int_equal(v, hw_pattern_bytes(0x12348, 8));
	assert_int_equal(region_load(f->l, 0x14, 8, &v), -EFAULT);
	assert_int_equal(region_load(f->l, 0x1b, 8, &v), -ERANGE); /* 0x12360, 5 bytes left */

	assert_int_equal(region_store(f->l, 0, 1, 0xa5), 0);
	assert_int_equal(mem_bytes(f, 0x12345, 1), 0xa5);
	assert_int_equal(region_store(f->l, 3, 4, 0xdeadbeef), 0);
	assert_int_equal(mem_bytes(f, 0x12348, 4), 0xdeadbeef);
	assert_int_equal(region_store(f->l, 0x1b, 4, 0x11223344), 0);
	assert_int_equal(mem_bytes(f, 0x12360, 4), 0x11223344);
	assert_int_equal(region_store(f->l, 0x1f, 1, 0x5a), 0);
	assert_int_equal(mem_bytes(f, 0x12364, 1), 0x5a);
	/* Exactly 0x20 bytes: the rest of the page is out of range; neighbours untouched. */
	assert_int_equal(region_load(f->l, 0x20, 1, &v), -ERANGE);
	assert_int_equal(region_store(f->l, 0x23, 4, 0), -ERANGE);
	assert_int_equal(mem_bytes(f, 0x12344, 1), hw_pattern(0x12344));
	assert_int_equal(mem_bytes(f, 0x12365, 1), hw_pattern(0x12365));
}

/* Sub-page, page-aligned and page-crossing ranges: first and last byte land right. */
static void
test_backend_devmem_sizes_and_offsets(void **state)
{
	struct fixture *f = *state;
	static const struct {
		uint64_t phys, size;
	} cases[] = {{0, 1},         {0, 0x1000},      {0x1000, 0x10},  {0xfff, 2},
		     {0x1ffc, 8},    {0x7, 0x3000},    {0x12345, 0x20}, {0x1fff0, 0x10},
		     {0x3, 0x1fffd}, {0x10001, 0xfffe}};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		uint64_t phys = cases[i].phys, size = cases[i].size;
		uint64_t v;
		lease_all(f, open_ok(f, phys, size));
		assert_int_equal(region_load(f->l, size - 1, 1, &v), 0);
		assert_int_equal(v, hw_pattern(phys + size - 1));
		assert_int_equal(region_store(f->l, 0, 1, (uint8_t)~hw_pattern(phys)), 0);
		assert_int_equal(mem_bytes(f, phys, 1), (uint8_t)~hw_pattern(phys));
		assert_int_equal(region_store(f->l, size - 1, 1, 0x3c), 0);
		assert_int_equal(mem_bytes(f, phys + size - 1, 1), 0x3c);
		/* Every width at the first offset its absolute address is aligned for. */
		for (unsigned w = 2; w <= 8; w *= 2) {
			uint64_t rel = (w - phys % w) % w;
			if (rel + w <= size) {
				assert_int_equal(region_store(f->l, rel, w,
							      0x0102030405060708 >> (64 - 8 * w)),
						 0);
				assert_int_equal(mem_bytes(f, phys + rel, w),
						 0x0102030405060708 >> (64 - 8 * w));
			}
			if (rel > 0) {
				assert_int_equal(region_load(f->l, rel - 1, w, &v), -EFAULT);
			}
		}
		assert_int_equal(region_load(f->l, size, 1, &v), -ERANGE);
		close_region(f);
		hw_tree_file(&f->tree, "dev/mem", MEM_SIZE);
	}
}

/* O_SYNC (uncached on real /dev/mem) and O_CLOEXEC on the fd that is mapped. */
static void
test_backend_devmem_open_flags(void **state)
{
	struct fixture *f = *state;
	mmap_seen_fl = mmap_seen_fd_flags = -1;
	lease_all(f, open_ok(f, 0x100, 0x100));
	assert_true(mmap_seen_fl >= 0);
	assert_int_equal(mmap_seen_fl & O_SYNC, O_SYNC);
	assert_int_equal(mmap_seen_fl & O_ACCMODE, O_RDWR);
	assert_int_equal(mmap_seen_fd_flags & FD_CLOEXEC, FD_CLOEXEC);
}

static void
expect_open_error(const char *path, uint64_t phys, uint64_t size, int want, const char *needle)
{
	struct backend *b = NULL;
	char err[512] = "";
	int fd_before = hw_lowest_free_fd();
	int rc = open_devmem(path, phys, size, &b, err, sizeof(err));
	if (rc != want || (needle && !strstr(err, needle))) {
		print_error("%s phys %#llx size %#llx: rc %d: %s\n", path, (unsigned long long)phys,
			    (unsigned long long)size, rc, err);
	}
	assert_int_equal(rc, want);
	assert_null(b);
	assert_true(strlen(err) > 0);
	if (needle) {
		assert_non_null(strstr(err, needle));
	}
	assert_int_equal(hw_lowest_free_fd(), fd_before);
}

static void
test_backend_devmem_errors(void **state)
{
	struct fixture *f = *state;
	char path[256];

	/* Missing, a directory, a FIFO, a file too short for the range. */
	expect_open_error(hw_tree_path(&f->tree, "dev/nomem", path, sizeof(path)), 0, 16, -ENOENT,
			  "open");
	expect_open_error(hw_tree_path(&f->tree, "dev", path, sizeof(path)), 0, 16, -EISDIR, NULL);
	hw_tree_path(&f->tree, "dev/fifo", path, sizeof(path));
	assert_int_equal(mkfifo(path, 0600), 0);
	expect_open_error(path, 0, 16, -EINVAL, "character device");
	expect_open_error(f->mem, 0, MEM_SIZE + 1, -EINVAL, "bytes");
	expect_open_error(f->mem, MEM_SIZE - 4, 8, -EINVAL, "bytes");
	expect_open_error(f->mem, MEM_SIZE, 1, -EINVAL, "bytes");
	/* Empty; phys + size wrapping 2^64; beyond what mmap can address. */
	expect_open_error(f->mem, 0x1000, 0, -EINVAL, "empty");
	expect_open_error(f->mem, UINT64_MAX - 4, 16, -EINVAL, "wraps");
	expect_open_error(f->mem, UINT64_MAX, 1, -EINVAL, "wraps");
	expect_open_error(f->mem, 1, UINT64_MAX, -EINVAL, "wraps");
	expect_open_error(f->mem, UINT64_C(1) << 63, 16, -EINVAL, "does not fit");
	expect_open_error(f->mem, 0, (uint64_t)SSIZE_MAX + 1, -EINVAL, "does not fit");
	/* After all that, the range still opens. */
	lease_all(f, open_ok(f, 0, 16));
}

/* The kernel's refusals (CONFIG_STRICT_DEVMEM, lockdown) name their cause and the way out. */
static void
test_backend_devmem_mmap_refused(void **state)
{
	struct fixture *f = *state;
	static const int refusals[] = {EPERM, EINVAL};
	for (size_t i = 0; i < ARRAY_LEN(refusals); i++) {
		mmap_fail_errno = refusals[i];
		expect_open_error(f->mem, 0x12345, 0x20, -refusals[i], "CONFIG_STRICT_DEVMEM");
		expect_open_error(f->mem, 0x12345, 0x20, -refusals[i], "iomem=relaxed");
		expect_open_error(f->mem, 0x12345, 0x20, -refusals[i], "0x12345");
		expect_open_error(f->mem, 0x12345, 0x20, -refusals[i], strerror(refusals[i]));
	}
	mmap_fail_errno = ENOMEM;
	struct backend *b = NULL;
	char err[512] = "";
	assert_int_equal(open_devmem(f->mem, 0, 16, &b, err, sizeof(err)), -ENOMEM);
	assert_null(strstr(err, "STRICT_DEVMEM"));
	assert_non_null(strstr(err, strerror(ENOMEM)));
	mmap_fail_errno = 0;
	lease_all(f, open_ok(f, 0x12345, 0x20));
}

/* A parsed spec opens through backend_open(); its refusal stops region_table_open. */
static void
test_backend_devmem_from_spec(void **state)
{
	struct fixture *f = *state;
	char text[256], err[256] = "";
	struct region_config cfg[1] = {0};
	struct region_table t;

	snprintf(text, sizeof(text), "gpio,type=devmem,phys=0x12345,size=0x20,path=%s", f->mem);
	assert_int_equal(region_spec_parse(text, &cfg[0].spec, err, sizeof(err)), 0);
	struct backend *b = NULL;
	assert_int_equal(backend_open(&cfg[0].spec, &b, err, sizeof(err)), 0);
	assert_string_equal(b->type, "devmem");
	assert_int_equal(b->addr, 0x12345);
	assert_int_equal(b->len, 0x20);
	lease_all(f, b);
	assert_int_equal(region_store(f->l, 0, 1, 0x77), 0);
	assert_int_equal(mem_bytes(f, 0x12345, 1), 0x77);
	close_region(f);

	assert_int_equal(region_table_open(&t, cfg, 1, err, sizeof(err)), 0);
	assert_int_equal(region_table_find(&t, "gpio")->space.len, 0x20);
	region_table_close(&t);
	mmap_fail_errno = EPERM;
	err[0] = '\0';
	assert_int_equal(region_table_open(&t, cfg, 1, err, sizeof(err)), -EPERM);
	assert_int_equal(t.count, 0);
	assert_non_null(strstr(err, "region 'gpio'"));
	assert_non_null(strstr(err, "CONFIG_STRICT_DEVMEM"));
	mmap_fail_errno = 0;
	region_spec_finish(&cfg[0].spec);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_backend_devmem_phys_is_file_offset),
		T(test_backend_devmem_sizes_and_offsets),
		T(test_backend_devmem_open_flags),
		T(test_backend_devmem_errors),
		T(test_backend_devmem_mmap_refused),
		T(test_backend_devmem_from_spec),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
