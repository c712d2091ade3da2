/*
 * backend_file.c: a regular file mapped MAP_SHARED as the device. The region's
 * absolute address is the file offset, so sub-page and odd offsets change
 * alignment; the region is exactly size bytes; every bad spec fails cleanly.
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
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/region_spec.h"
#include "core/lease.h"
#include "device/backend.h"
#include "device/region.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

struct fixture {
	char path[64];
	int fd;
	struct region *r;
	struct lease_set set;
	struct lease *l;
};

static int
setup(void **state)
{
	struct fixture *f = test_calloc(1, sizeof(*f));
	snprintf(f->path, sizeof(f->path), "/tmp/mmiod-test-file-XXXXXX");
	f->fd = mkstemp(f->path);
	assert_true(f->fd >= 0);
	lease_set_init(&f->set, 16, 1, 1000);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	lease_revoke_all(&f->set);
	region_destroy(f->r);
	close(f->fd);
	unlink(f->path);
	test_free(f);
	return 0;
}

/* The file holds len bytes; byte i is pattern(i). */
static uint8_t
pattern(uint64_t i)
{
	return (uint8_t)(i * 7 + (i >> 8) + 1);
}

static void
fill_file(struct fixture *f, size_t len)
{
	uint8_t buf[8192];
	assert_true(len <= sizeof(buf));
	for (size_t i = 0; i < len; i++) {
		buf[i] = pattern(i);
	}
	assert_int_equal(pwrite(f->fd, buf, len, 0), (ssize_t)len);
}

static uint64_t
file_bytes(struct fixture *f, uint64_t off, unsigned width)
{
	uint8_t buf[8];
	assert_int_equal(pread(f->fd, buf, width, (off_t)off), (ssize_t)width);
	uint64_t v = 0;
	for (unsigned i = 0; i < width; i++) {
		v |= (uint64_t)buf[i] << (8 * i);
	}
	return v;
}

static uint64_t
pattern_bytes(uint64_t off, unsigned width)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < width; i++) {
		v |= (uint64_t)pattern(off + i) << (8 * i);
	}
	return v;
}

/* Opens size bytes of path from offset through backend_open(). */
static int
open_file(const char *path, uint64_t offset, uint64_t size, struct backend **b, char *err,
	  size_t errlen)
{
	struct region_spec spec = {.type = "file", .offset = offset, .size = size};
	spec.path = strdup(path);
	assert_non_null(spec.path);
	int rc = backend_open(&spec, b, err, errlen);
	region_spec_finish(&spec);
	return rc;
}

/* Opens the file as region "file" and leases all of it. */
static void
open_region(struct fixture *f, uint64_t offset, uint64_t size)
{
	struct backend *b = NULL;
	char err[256] = "";
	int rc = open_file(f->path, offset, size, &b, err, sizeof(err));
	if (rc != 0) {
		print_error("open_file: %s\n", err);
	}
	assert_int_equal(rc, 0);
	assert_string_equal(b->type, "file");
	assert_int_equal(b->len, size);
	assert_int_equal(b->addr, offset);
	f->r = region_create("file", b);
	assert_non_null(f->r);
	assert_int_equal(lease_acquire(&f->r->space, &f->set, 0, size, &f->l), 0);
}

/* Port of vmo.rs test_page_offset. */
static void
test_backend_file_page_offset(void **state)
{
	struct fixture *f = *state;
	uint16_t words[512];
	for (unsigned i = 0; i < 512; i++) {
		words[i] = (uint16_t)(2 * i);
	}
	assert_int_equal(pwrite(f->fd, words, sizeof(words), 0), (ssize_t)sizeof(words));
	open_region(f, 128, 256);
	for (uint64_t i = 0; i < 256; i += 2) {
		uint64_t v;
		assert_int_equal(region_load(f->l, i, 2, &v), 0);
		assert_int_equal(v, i + 128);
	}
}

/* Offset 0 of the region sits at the file offset: an odd one makes offset 0 odd. */
static void
test_backend_file_odd_offsets(void **state)
{
	struct fixture *f = *state;
	static const uint64_t offsets[] = {3, 4097};
	fill_file(f, 8192);

	for (size_t i = 0; i < ARRAY_LEN(offsets); i++) {
		uint64_t base = offsets[i];
		uint64_t v;
		open_region(f, base, 64);
		assert_int_equal(lease_align_offset(f->l, 2), 1);
		assert_int_equal(lease_align_offset(f->l, 8), (8 - base % 8) % 8);
		assert_int_equal(region_load(f->l, 0, 2, &v), -EFAULT);
		assert_int_equal(region_load(f->l, 0, 1, &v), 0);
		assert_int_equal(v, pattern_bytes(base, 1));
		assert_int_equal(region_load(f->l, 1, 2, &v), 0);
		assert_int_equal(v, pattern_bytes(base + 1, 2));
		/* Every width, at every relative offset whose absolute address it fits. */
		for (unsigned w = 1; w <= 8; w *= 2) {
			for (uint64_t rel = 0; rel + w <= 64; rel++) {
				int want = (base + rel) % w == 0 ? 0 : -EFAULT;
				assert_int_equal(region_load(f->l, rel, w, &v), want);
				if (want == 0) {
					assert_int_equal(v, pattern_bytes(base + rel, w));
				}
			}
		}
		/* Stores reach the file at offset + rel. */
		uint64_t rel8 = (8 - base % 8) % 8;
		assert_int_equal(region_store(f->l, rel8, 8, 0x1122334455667788), 0);
		assert_int_equal(file_bytes(f, base + rel8, 8), 0x1122334455667788);
		assert_int_equal(region_store(f->l, 0, 1, 0xa5), 0);
		assert_int_equal(file_bytes(f, base, 1), 0xa5);
		assert_int_equal(region_store(f->l, 63, 1, 0x5a), 0);
		assert_int_equal(file_bytes(f, base + 63, 1), 0x5a);
		/* Neighbours outside the region are untouched. */
		assert_int_equal(file_bytes(f, base - 1, 1), pattern(base - 1));
		assert_int_equal(file_bytes(f, base + 64, 1), pattern(base + 64));
		lease_revoke_all(&f->set);
		region_destroy(f->r);
		f->r = NULL;
	}
}

/* The region is exactly size bytes: the rest of the mapped page is unreachable. */
static void
test_backend_file_length_is_exact(void **state)
{
	struct fixture *f = *state;
	static const struct {
		uint64_t offset, size;
	} cases[] = {{0, 100}, {128, 256}, {4097, 10}, {4096, 4096}};
	fill_file(f, 8192);

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		uint64_t size = cases[i].size;
		uint64_t v;
		open_region(f, cases[i].offset, size);
		assert_int_equal(f->l->len, size);
		assert_int_equal(region_load(f->l, size - 1, 1, &v), 0);
		assert_int_equal(v, pattern(cases[i].offset + size - 1));
		for (unsigned w = 1; w <= 8; w *= 2) {
			/* The first aligned offset at or past the end. */
			uint64_t off = size + (w - (cases[i].offset + size) % w) % w;
			assert_int_equal(region_load(f->l, off, w, &v), -ERANGE);
			assert_int_equal(region_store(f->l, off, w, 0), -ERANGE);
		}
		struct lease *x;
		assert_int_equal(lease_acquire(&f->r->space, &f->set, size, 1, &x), -ERANGE);
		lease_revoke_all(&f->set);
		region_destroy(f->r);
		f->r = NULL;
	}
}

/* The lowest free fd: it moves if a failed open leaks one. */
static int
lowest_free_fd(void)
{
	int fd = fcntl(0, F_DUPFD_CLOEXEC, 0);
	assert_true(fd >= 0);
	close(fd);
	return fd;
}

static void
expect_open_error(const char *path, uint64_t offset, uint64_t size, int want)
{
	struct backend *b = NULL;
	char err[256] = "";
	int fd_before = lowest_free_fd();
	int rc = open_file(path, offset, size, &b, err, sizeof(err));
	if (rc != want) {
		print_error("%s offset %#llx size %#llx: %s\n", path, (unsigned long long)offset,
			    (unsigned long long)size, err);
	}
	assert_int_equal(rc, want);
	assert_null(b);
	assert_true(strlen(err) > 0);
	assert_int_equal(lowest_free_fd(), fd_before);
}

static void
test_backend_file_errors(void **state)
{
	struct fixture *f = *state;
	char missing[80];
	char fifo[80];
	fill_file(f, 1024);

	snprintf(missing, sizeof(missing), "%s.missing", f->path);
	expect_open_error(missing, 0, 16, -ENOENT);
	/* Shorter than offset + size. */
	expect_open_error(f->path, 0, 1025, -EINVAL);
	expect_open_error(f->path, 1000, 100, -EINVAL);
	expect_open_error(f->path, 1024, 1, -EINVAL);
	expect_open_error(f->path, UINT64_C(1) << 62, 1, -EINVAL);
	/* Empty, wrapping 2^64, or too big to map. */
	expect_open_error(f->path, 0, 0, -EINVAL);
	expect_open_error(f->path, 16, 0, -EINVAL);
	expect_open_error(f->path, UINT64_MAX - 10, 100, -EINVAL);
	expect_open_error(f->path, UINT64_MAX, 1, -EINVAL);
	expect_open_error(f->path, 4096, UINT64_MAX, -EINVAL);
	expect_open_error(f->path, 0, (uint64_t)SSIZE_MAX + 1, -EINVAL);
	/* Not regular files. */
	expect_open_error("/tmp", 0, 16, -EISDIR);
	expect_open_error("/dev/null", 0, 16, -EINVAL);
	snprintf(fifo, sizeof(fifo), "%s.fifo", f->path);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	expect_open_error(fifo, 0, 16, -EINVAL);
	unlink(fifo);
	/* The whole file is fine. */
	open_region(f, 0, 1024);
}

/* backend_open() picks the file backend from a spec. */
static void
test_backend_file_open_from_spec(void **state)
{
	struct fixture *f = *state;
	struct region_spec spec;
	struct backend *b = NULL;
	char err[256] = "";
	fill_file(f, 4096);

	memset(&spec, 0, sizeof(spec));
	snprintf(spec.type, sizeof(spec.type), "file");
	spec.path = f->path;
	spec.offset = 8;
	spec.size = 16;
	assert_int_equal(backend_open(&spec, &b, err, sizeof(err)), 0);
	assert_string_equal(b->type, "file");
	assert_int_equal(b->len, 16);
	assert_int_equal(b->addr, 8);
	backend_close(b);
	backend_close(NULL);

	b = NULL;
	snprintf(spec.type, sizeof(spec.type), "disk");
	assert_int_equal(backend_open(&spec, &b, err, sizeof(err)), -EINVAL);
	assert_null(b);
	assert_true(strlen(err) > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_backend_file_page_offset),     T(test_backend_file_odd_offsets),
		T(test_backend_file_length_is_exact), T(test_backend_file_errors),
		T(test_backend_file_open_from_spec),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
