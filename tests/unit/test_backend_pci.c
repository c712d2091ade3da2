/*
 * backend_pci.c on a fake sysfs tree: the BAR's bus address and size come
 * from the device's resource file, region offset 0 is resourceN's file offset
 * 'offset', alignment is judged on the bus address, and every refusal (no such
 * device or BAR, an I/O BAR, a range outside the BAR, a short resource file,
 * a malformed address) fails cleanly with its errno and a message.
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
#include <unistd.h>

#include <cmocka.h>

#include "config/conf.h"
#include "config/region_spec.h"
#include "core/lease.h"
#include "device/backend.h"
#include "device/region.h"
#include "hw_tree.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define NIC          "0000:03:00.0"
#define NIC_DIR      "sys/bus/pci/devices/" NIC

/*
 * As an Intel i210 shows it: BAR0 128 KiB memory, BAR1 absent, BAR2 I/O
 * ports, BAR3 16 KiB memory, BAR4 1 MiB 64-bit prefetchable above 4 GiB
 * (BAR5 its upper half), then the ROM and bridge windows.
 */
#define NIC_RESOURCE                                                                               \
	"0x00000000fe000000 0x00000000fe01ffff 0x0000000000040200\n"                               \
	"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"                               \
	"0x000000000000e000 0x000000000000e01f 0x0000000000040101\n"                               \
	"0x00000000fe020000 0x00000000fe023fff 0x0000000000040200\n"                               \
	"0x0000006000000000 0x00000060000fffff 0x000000000014220c\n"                               \
	"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"                               \
	"0x00000000fe100000 0x00000000fe17ffff 0x0000000000046200\n"                               \
	"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"                               \
	"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"                               \
	"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"                               \
	"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"                               \
	"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"                               \
	"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"

struct fixture {
	struct hw_tree tree;
	char sysfs[128];
	struct region *r;
	struct lease_set set;
	struct lease *l;
};

static int
setup(void **state)
{
	struct fixture *f = test_calloc(1, sizeof(*f));
	hw_tree_create(&f->tree);
	hw_tree_path(&f->tree, "sys", f->sysfs, sizeof(f->sysfs));
	hw_tree_write(&f->tree, NIC_DIR "/resource", NIC_RESOURCE);
	hw_tree_file(&f->tree, NIC_DIR "/resource0", 0x20000);
	hw_tree_file(&f->tree, NIC_DIR "/resource3", 0x4000);
	hw_tree_file(&f->tree, NIC_DIR "/resource4", 0x100000);
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
	hw_tree_destroy(&f->tree);
	test_free(f);
	return 0;
}

static void
lease_all(struct fixture *f, struct backend *b)
{
	f->r = region_create("nic", b);
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

/* Opens BAR bar of device under the fake sysfs through backend_open(). */
static int
open_pci(struct fixture *f, const char *device, unsigned bar, uint64_t offset, uint64_t size,
	 struct backend **b, char *err, size_t errlen)
{
	struct region_spec spec = {.type = "pci", .bar = bar, .offset = offset, .size = size};
	spec.device = strdup(device);
	spec.sysfs = strdup(f->sysfs);
	assert_true(spec.device && spec.sysfs);
	int rc = backend_open(&spec, b, err, errlen);
	region_spec_finish(&spec);
	return rc;
}

/* Opens BAR bar of device and checks the address and length it reports. */
static struct backend *
open_ok(struct fixture *f, const char *device, unsigned bar, uint64_t offset, uint64_t size,
	uint64_t want_addr, uint64_t want_len)
{
	struct backend *b = NULL;
	char err[256] = "";
	int rc = open_pci(f, device, bar, offset, size, &b, err, sizeof(err));
	if (rc != 0) {
		print_error("open_pci: %s\n", err);
	}
	assert_int_equal(rc, 0);
	assert_string_equal(b->type, "pci");
	assert_int_equal(b->addr, want_addr);
	assert_int_equal(b->len, want_len);
	assert_int_equal(b->irq_fd, -1);
	return b;
}

static uint64_t
bar_bytes(struct fixture *f, unsigned bar, uint64_t off, unsigned width)
{
	char rel[128];
	snprintf(rel, sizeof(rel), NIC_DIR "/resource%u", bar);
	return hw_tree_bytes(&f->tree, rel, off, width);
}

/* All of BAR0: its size from the resource file, stores at the right file offsets. */
static void
test_backend_pci_whole_bar(void **state)
{
	struct fixture *f = *state;
	uint64_t v;
	lease_all(f, open_ok(f, NIC, 0, 0, 0, 0xfe000000, 0x20000));

	assert_int_equal(lease_align_offset(f->l, 8), 0);
	assert_int_equal(region_load(f->l, 0, 4, &v), 0);
	assert_int_equal(v, hw_pattern_bytes(0, 4));
	assert_int_equal(region_store(f->l, 0x100, 4, 0xcafef00d), 0);
	assert_int_equal(bar_bytes(f, 0, 0x100, 4), 0xcafef00d);
	assert_int_equal(region_store(f->l, 0x1fff8, 8, 0x8877665544332211), 0);
	assert_int_equal(bar_bytes(f, 0, 0x1fff8, 8), 0x8877665544332211);
	assert_int_equal(region_load(f->l, 0x20000, 1, &v), -ERANGE);
	close_region(f);

	/* BAR3 and the 64-bit BAR4 above 4 GiB. */
	lease_all(f, open_ok(f, NIC, 3, 0, 0, 0xfe020000, 0x4000));
	assert_int_equal(region_store(f->l, 0x3ffc, 4, 0x01020304), 0);
	assert_int_equal(bar_bytes(f, 3, 0x3ffc, 4), 0x01020304);
	close_region(f);
	lease_all(f, open_ok(f, NIC, 4, 0x80000, 0, 0x6000080000, 0x80000));
	assert_int_equal(region_store(f->l, 8, 8, 0x0123456789abcdef), 0);
	assert_int_equal(bar_bytes(f, 4, 0x80008, 8), 0x0123456789abcdef);
}

/* offset and size inside the BAR: sub-page, odd, page-crossing, up to the end. */
static void
test_backend_pci_offsets_and_sizes(void **state)
{
	struct fixture *f = *state;
	static const struct {
		uint64_t offset, size, len;
	} cases[] = {
		{0, 0x10, 0x10},       {0x1003, 0x10, 0x10},     {0xffe, 4, 4},
		{0x1000, 0, 0x1f000},  {0x1fffc, 0, 4},          {0x1ffff, 1, 1},
		{0x7, 0x2000, 0x2000}, {0x10, 0x1fff0, 0x1fff0}, {0x1fff, 0, 0x1e001},
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		uint64_t off = cases[i].offset, len = cases[i].len;
		uint64_t v;
		lease_all(f, open_ok(f, NIC, 0, off, cases[i].size, 0xfe000000 + off, len));
		assert_int_equal(region_load(f->l, 0, 1, &v), 0);
		assert_int_equal(v, hw_pattern(off));
		for (unsigned w = 2; w <= 8; w *= 2) {
			uint64_t rel = (w - off % w) % w;
			assert_int_equal(lease_align_offset(f->l, w), rel);
			if (rel + w <= len) {
				assert_int_equal(region_load(f->l, rel, w, &v), 0);
				assert_int_equal(v, hw_pattern_bytes(off + rel, w));
			}
			if (rel > 0) {
				assert_int_equal(region_load(f->l, rel - 1, w, &v), -EFAULT);
			}
		}
		assert_int_equal(region_store(f->l, len - 1, 1, 0xee), 0);
		assert_int_equal(bar_bytes(f, 0, off + len - 1, 1), 0xee);
		assert_int_equal(region_load(f->l, len, 1, &v), -ERANGE);
		close_region(f);
		hw_tree_file(&f->tree, NIC_DIR "/resource0", 0x20000);
	}
	/* Hex digits in upper case name the same (lower-case) sysfs directory. */
	hw_tree_write(&f->tree, "sys/bus/pci/devices/0000:0a:1f.7/resource", NIC_RESOURCE);
	hw_tree_file(&f->tree, "sys/bus/pci/devices/0000:0a:1f.7/resource0", 0x20000);
	lease_all(f, open_ok(f, "0000:0A:1F.7", 0, 0, 0x100, 0xfe000000, 0x100));
}

static void
expect_error(struct fixture *f, const char *device, unsigned bar, uint64_t offset, uint64_t size,
	     int want)
{
	struct backend *b = NULL;
	char err[512] = "";
	int fd_before = hw_lowest_free_fd();
	int rc = open_pci(f, device, bar, offset, size, &b, err, sizeof(err));
	if (rc != want) {
		print_error("%s bar %u offset %#llx size %#llx: rc %d: %s\n", device, bar,
			    (unsigned long long)offset, (unsigned long long)size, rc, err);
	}
	assert_int_equal(rc, want);
	assert_null(b);
	assert_true(strlen(err) > 0);
	assert_int_equal(hw_lowest_free_fd(), fd_before);
}

static void
test_backend_pci_bad_device(void **state)
{
	struct fixture *f = *state;
	static const char *const bad[] = {
		"",
		"0000:03:00",
		"000:03:00.0",
		"00000:03:00.0",
		"0000:03:00.8",
		"0000:03:20.0",
		"0000:03:ff.0",
		"0000:g3:00.0",
		"0000-03-00.0",
		"0000:03:00.0 ",
		" 0000:03:00.0",
		"0000:03:0.00",
		"0000:3:000.0",
		"0000:03:00.a",
		"../../../etc",
		"0000:03:00.-",
	};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		expect_error(f, bad[i], 0, 0, 0, -EINVAL);
	}
	expect_error(f, NIC, 6, 0, 0, -EINVAL);
	expect_error(f, NIC, UINT32_MAX, 0, 0, -EINVAL);
	/* Well-formed, but no such device. */
	expect_error(f, "0000:04:00.0", 0, 0, 0, -ENOENT);
}

static void
test_backend_pci_bad_bar(void **state)
{
	struct fixture *f = *state;
	struct backend *b = NULL;
	char err[512] = "";

	/* Absent, the upper half of a 64-bit BAR, an I/O BAR, a BAR without a resource file. */
	expect_error(f, NIC, 1, 0, 0, -ENODEV);
	expect_error(f, NIC, 5, 0, 0, -ENODEV);
	expect_error(f, NIC, 2, 0, 0, -ENOTSUP);
	assert_int_equal(open_pci(f, NIC, 2, 0, 0, &b, err, sizeof(err)), -ENOTSUP);
	assert_non_null(strstr(err, "I/O"));
	/* The resource file says so, but resource3 went missing; a directory instead. */
	char path[256];
	assert_int_equal(unlink(hw_tree_path(&f->tree, NIC_DIR "/resource3", path, sizeof(path))),
			 0);
	expect_error(f, NIC, 3, 0, 0, -ENOENT);
	hw_tree_mkdir(&f->tree, NIC_DIR "/resource3");
	expect_error(f, NIC, 3, 0, 0, -EISDIR);

	/* A resource file with fewer lines, malformed lines, a flag-less BAR. */
	static const struct {
		const char *text;
		unsigned bar;
		int rc;
	} files[] = {
		{"0x00000000fe000000 0x00000000fe01ffff 0x0000000000040200\n", 1, -ENODEV},
		{"", 0, -ENODEV},
		{"garbage\n", 0, -EINVAL},
		{"0xfe000000 0xfe01ffff\n", 0, -EINVAL},
		{"0xfe000000 0xfe01ffff 0x200 0x0\n", 0, -EINVAL},
		{"0xfe010000 0xfe00ffff 0x200\n", 0, -EINVAL},  /* end before start */
		{"0x0 0xffffffffffffffff 0x200\n", 0, -EINVAL}, /* 2^64 bytes */
		{"-0x1 0xfe01ffff 0x200\n", 0, -EINVAL},
		{"0xfe000000 0xfe01ffff 0x0\n", 0, -ENOTSUP},     /* neither memory nor I/O */
		{"0xfe000000 0xfe01ffff 0x40101\n", 0, -ENOTSUP}, /* I/O */
	};
	for (size_t i = 0; i < ARRAY_LEN(files); i++) {
		hw_tree_write(&f->tree, NIC_DIR "/resource", files[i].text);
		expect_error(f, NIC, files[i].bar, 0, 0, files[i].rc);
	}
	/* The resource file itself missing. */
	assert_int_equal(unlink(hw_tree_path(&f->tree, NIC_DIR "/resource", path, sizeof(path))),
			 0);
	expect_error(f, NIC, 0, 0, 0, -ENOENT);
}

static void
test_backend_pci_range_outside_bar(void **state)
{
	struct fixture *f = *state;
	static const struct {
		uint64_t offset, size;
	} bad[] = {
		{0x20000, 0},    {0x20000, 1},
		{0x1ffff, 2},    {0, 0x20001},
		{0x10, 0x1fff1}, {UINT64_MAX, 0},
		{UINT64_MAX, 1}, {1, UINT64_MAX},
		{0, UINT64_MAX}, {UINT64_C(1) << 63, 16},
	};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		expect_error(f, NIC, 0, bad[i].offset, bad[i].size, -EINVAL);
	}
	/* A resource0 shorter than the BAR: refused before it could SIGBUS. */
	hw_tree_file(&f->tree, NIC_DIR "/resource0", 0x1ffff);
	expect_error(f, NIC, 0, 0, 0x10, -EINVAL);
	struct backend *b = NULL;
	char err[512] = "";
	assert_int_equal(open_pci(f, NIC, 0, 0, 0x10, &b, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "resource0"));
	hw_tree_file(&f->tree, NIC_DIR "/resource0", 0);
	expect_error(f, NIC, 0, 0, 0, -EINVAL);
}

/* A parsed spec opens through backend_open(), sysfs= and all. */
static void
test_backend_pci_from_spec(void **state)
{
	struct fixture *f = *state;
	char text[256], err[256] = "";
	struct region_spec spec;

	snprintf(text, sizeof(text), "nic,type=pci,device=%s,bar=0,offset=0x40,size=0x20,sysfs=%s",
		 NIC, f->sysfs);
	assert_int_equal(region_spec_parse(text, &spec, err, sizeof(err)), 0);
	struct backend *b = NULL;
	assert_int_equal(backend_open(&spec, &b, err, sizeof(err)), 0);
	assert_string_equal(b->type, "pci");
	assert_int_equal(b->addr, 0xfe000040);
	assert_int_equal(b->len, 0x20);
	lease_all(f, b);
	assert_int_equal(region_store(f->l, 4, 4, 0xabcd1234), 0);
	assert_int_equal(bar_bytes(f, 0, 0x44, 4), 0xabcd1234);
	region_spec_finish(&spec);

	snprintf(text, sizeof(text), "nic,type=pci,device=%s,bar=2,sysfs=%s", NIC, f->sysfs);
	assert_int_equal(region_spec_parse(text, &spec, err, sizeof(err)), 0);
	b = NULL;
	assert_int_equal(backend_open(&spec, &b, err, sizeof(err)), -ENOTSUP);
	assert_null(b);
	region_spec_finish(&spec);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_backend_pci_whole_bar),         T(test_backend_pci_offsets_and_sizes),
		T(test_backend_pci_bad_device),        T(test_backend_pci_bad_bar),
		T(test_backend_pci_range_outside_bar), T(test_backend_pci_from_spec),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
