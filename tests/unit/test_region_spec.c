/*
 * region_spec.c and parse_u64(): the operator's region definitions. Every
 * error is -EINVAL with a message; region_spec_finish() runs after every parse
 * so ASan sees any leak on an error path.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "config/conf.h"
#include "config/region_spec.h"
#include "core/limits.h"
#include "device/region.h"
#include "device/region_table.h"
#include "parse.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

struct fixture {
	struct region_spec spec;
	char err[256];
};

static int
setup(void **state)
{
	struct fixture *f = test_calloc(1, sizeof(*f));
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	region_spec_finish(&f->spec);
	test_free(f);
	return 0;
}

/* Parses text into the fixture, finishing the previous spec first. */
static int
parse(struct fixture *f, const char *text)
{
	region_spec_finish(&f->spec);
	memset(f->err, 0, sizeof(f->err));
	return region_spec_parse(text, &f->spec, f->err, sizeof(f->err));
}

static void
test_region_spec_mem(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(parse(f, "ram0,type=mem,size=4096"), 0);
	assert_string_equal(f->spec.name, "ram0");
	assert_string_equal(f->spec.type, "mem");
	assert_null(f->spec.path);
	assert_int_equal(f->spec.size, 4096);
	assert_int_equal(f->spec.offset, 0);

	/* Hex, any key order, the widest number. */
	assert_int_equal(parse(f, "Dev_1.x-y,size=0x1000,type=mem"), 0);
	assert_string_equal(f->spec.name, "Dev_1.x-y");
	assert_int_equal(f->spec.size, 0x1000);
	assert_int_equal(parse(f, "r,type=mem,size=0XfF"), 0);
	assert_int_equal(f->spec.size, 0xff);
	assert_int_equal(parse(f, "r,type=mem,size=18446744073709551615"), 0);
	assert_int_equal(f->spec.size, UINT64_MAX);
}

static void
test_region_spec_file(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(parse(f, "bar0,type=file,path=/tmp/dev.img,size=0x100,offset=4097"), 0);
	assert_string_equal(f->spec.name, "bar0");
	assert_string_equal(f->spec.type, "file");
	assert_non_null(f->spec.path);
	assert_string_equal(f->spec.path, "/tmp/dev.img");
	assert_int_equal(f->spec.size, 0x100);
	assert_int_equal(f->spec.offset, 4097);

	assert_int_equal(parse(f, "b,path=rel/x=y,size=16,type=file"), 0);
	assert_string_equal(f->spec.path, "rel/x=y");
	assert_int_equal(f->spec.size, 16);
	assert_int_equal(f->spec.offset, 0);

	assert_int_equal(parse(f, "b,type=file,path=/x,size=1,offset=0xffffffffffffffff"), 0);
	assert_int_equal(f->spec.offset, UINT64_MAX);
}

static void
test_region_spec_name_limits(void **state)
{
	struct fixture *f = *state;
	char text[MMIO_MAX_NAME + 64];
	char name[MMIO_MAX_NAME + 2];

	memset(name, 'n', MMIO_MAX_NAME);
	name[MMIO_MAX_NAME] = '\0';
	snprintf(text, sizeof(text), "%s,type=mem,size=8", name);
	assert_int_equal(parse(f, text), 0);
	assert_string_equal(f->spec.name, name);

	name[MMIO_MAX_NAME] = 'n';
	name[MMIO_MAX_NAME + 1] = '\0';
	snprintf(text, sizeof(text), "%s,type=mem,size=8", name);
	assert_int_equal(parse(f, text), -EINVAL);
	assert_true(strlen(f->err) > 0);
}

/* A leading zero is refused with the reason, not as junk. */
static void
test_region_spec_leading_zero(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(parse(f, "r,type=mem,size=010"), -EINVAL);
	assert_non_null(strstr(f->err, "size '010': a leading 0 is ambiguous"));
	assert_int_equal(parse(f, "r,type=mem,size=0x010"), 0);
	assert_int_equal(f->spec.size, 0x10);
}

static void
test_region_spec_errors(void **state)
{
	struct fixture *f = *state;
	static const char *const bad[] = {
		"",
		"r",
		"r,",
		"r,size=16",            /* missing type */
		",type=mem,size=16",    /* empty name */
		"type=mem,size=16",     /* the first item is the name */
		"r/0,type=mem,size=16", /* illegal name characters */
		"r 0,type=mem,size=16",
		"r:0,type=mem,size=16",
		"r\xc3\xa9,type=mem,size=16",
		"r,type=mem,size=16,color=red", /* unknown key */
		"r,type=mem,size=16,Size=16",
		"r,type=mem,type=mem,size=16", /* duplicate key */
		"r,type=mem,size=16,size=16",
		"r,type=file,path=/a,path=/b,size=16", /* duplicate, and a leak if mishandled */
		"r,type=file,path=/a,size=16,offset=1,offset=1",
		"r,type=disk,size=16", /* unknown type */
		"r,type=,size=16",
		"r,type=mem,size",       /* not key=value */
		"r,type=mem,size=12abc", /* bad numbers */
		"r,type=mem,size=",
		"r,type=mem,size=0x",
		"r,type=mem,size= 16",
		"r,type=mem,size=+16",
		"r,type=mem,size=-1",                   /* negative */
		"r,type=mem,size=18446744073709551616", /* 2^64 */
		"r,type=mem,size=0x10000000000000000",
		"r,type=file,path=/x,size=16,offset=-1",
		"r,type=file,path=/x,size=16,offset=abc",
		"r,type=mem,path=/tmp/x,size=16", /* mem takes only size */
		"r,type=mem,size=16,offset=0",
		"r,type=file,size=16", /* file needs a path */
		"r,type=file,path=,size=16",
		"r,type=mem,size=0", /* zero or missing size */
		"r,type=mem,size=0x0",
		"r,type=mem",
		"r,type=file,path=/x",
		"r,type=file,path=/x,size=0,offset=16",
	};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		int rc = parse(f, bad[i]);
		if (rc != -EINVAL || strlen(f->err) == 0) {
			print_error("spec '%s': rc %d, err '%s'\n", bad[i], rc, f->err);
		}
		assert_int_equal(rc, -EINVAL);
		assert_true(strlen(f->err) > 0);
	}
}

static void
test_region_spec_devmem(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(parse(f, "gpio,type=devmem,phys=0xfe200000,size=0xb4"), 0);
	assert_string_equal(f->spec.type, "devmem");
	assert_int_equal(f->spec.phys, 0xfe200000);
	assert_int_equal(f->spec.size, 0xb4);
	assert_null(f->spec.path);
	assert_int_equal(f->spec.keys, REGION_KEY_TYPE | REGION_KEY_PHYS | REGION_KEY_SIZE);

	/* phys 0 is a physical address like any other; the path override. */
	assert_int_equal(parse(f, "low,size=16,phys=0,path=/tmp/mem.img,type=devmem"), 0);
	assert_int_equal(f->spec.phys, 0);
	assert_string_equal(f->spec.path, "/tmp/mem.img");
	/* The end, phys + size, must fit 64 bits. */
	assert_int_equal(parse(f, "top,type=devmem,phys=0xfffffffffffffff0,size=0xf"), 0);
	assert_int_equal(f->spec.phys + f->spec.size, UINT64_MAX);
	assert_int_equal(parse(f, "top,type=devmem,phys=0xfffffffffffffff0,size=0x10"), -EINVAL);
}

static void
test_region_spec_pci(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(parse(f, "nic,type=pci,device=0000:03:00.0,bar=0"), 0);
	assert_string_equal(f->spec.type, "pci");
	assert_string_equal(f->spec.device, "0000:03:00.0");
	assert_int_equal(f->spec.bar, 0);
	assert_int_equal(f->spec.offset, 0);
	assert_int_equal(f->spec.size, 0); /* all of the BAR */
	/* lspci's short form names domain 0000, as sysfs spells it. */
	assert_int_equal(parse(f, "nic,type=pci,device=03:1f.7,bar=0"), 0);
	assert_string_equal(f->spec.device, "0000:03:1f.7");
	assert_null(f->spec.sysfs);
	assert_int_equal(f->spec.keys, REGION_KEY_TYPE | REGION_KEY_DEVICE | REGION_KEY_BAR);

	assert_int_equal(parse(f, "nic,type=pci,device=ffff:FF:1f.7,bar=5,offset=0x1000,size=0x20,"
				  "sysfs=/tmp/sys"),
			 0);
	assert_string_equal(f->spec.device, "ffff:FF:1f.7");
	assert_int_equal(f->spec.bar, 5);
	assert_int_equal(f->spec.offset, 0x1000);
	assert_int_equal(f->spec.size, 0x20);
	assert_string_equal(f->spec.sysfs, "/tmp/sys");
}

static void
test_region_spec_uio(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(parse(f, "gpio,type=uio,name=fe200000.gpio,map=0"), 0);
	assert_string_equal(f->spec.type, "uio");
	assert_string_equal(f->spec.uio_name, "fe200000.gpio");
	assert_null(f->spec.device);
	assert_int_equal(f->spec.map, 0);
	assert_int_equal(f->spec.size, 0);
	assert_false(f->spec.irq);
	assert_int_equal(f->spec.keys, REGION_KEY_TYPE | REGION_KEY_UIO_NAME | REGION_KEY_MAP);

	assert_int_equal(parse(f, "g,type=uio,uio_name=x,map=4,size=0x10,irq=yes,irq_dev=/tmp/i,"
				  "sysfs=/tmp/sys,dev=/tmp/dev"),
			 0);
	assert_string_equal(f->spec.uio_name, "x");
	assert_int_equal(f->spec.map, 4);
	assert_int_equal(f->spec.size, 0x10);
	assert_true(f->spec.irq);
	assert_string_equal(f->spec.irq_dev, "/tmp/i");
	assert_string_equal(f->spec.sysfs, "/tmp/sys");
	assert_string_equal(f->spec.dev_dir, "/tmp/dev");

	assert_int_equal(parse(f, "g,type=uio,device=uio12,map=1,irq=no"), 0);
	assert_string_equal(f->spec.device, "uio12");
	assert_null(f->spec.uio_name);
	assert_false(f->spec.irq);
	assert_int_equal(parse(f, "g,type=uio,device=uio0,map=0,irq=true"), 0);
	assert_true(f->spec.irq);
}

static void
test_region_spec_hw_errors(void **state)
{
	struct fixture *f = *state;
	static const char *const bad[] = {
		/* devmem: phys and size required, nothing of other types, no wrap. */
		"r,type=devmem,size=16",
		"r,type=devmem,phys=0x1000",
		"r,type=devmem,phys=0x1000,size=0",
		"r,type=devmem,phys=0x1000,size=16,offset=4",
		"r,type=devmem,phys=0x1000,size=16,bar=0",
		"r,type=devmem,phys=0x1000,size=16,device=0000:03:00.0",
		"r,type=devmem,phys=0x1000,size=16,irq=yes",
		"r,type=devmem,phys=0x1000,size=16,sysfs=/sys",
		"r,type=devmem,phys=0xfffffffffffffff0,size=0x11",
		"r,type=devmem,phys=0xffffffffffffffff,size=2",
		"r,type=devmem,phys=1,size=0xffffffffffffffff",
		"r,type=devmem,phys=0x,size=16",
		"r,type=devmem,phys=-1,size=16",
		"r,type=devmem,phys=0x10000000000000000,size=16",
		"r,type=devmem,phys=0x1000,size=16,path=",
		"r,type=devmem,phys=1,phys=1,size=16",
		/* pci: device and bar required, strict address, bar 0-5. */
		"r,type=pci,bar=0",
		"r,type=pci,device=0000:03:00.0",
		"r,type=pci,device=0000:03:00.0,bar=6",
		"r,type=pci,device=0000:03:00.0,bar=256",
		"r,type=pci,device=0000:03:00.0,bar=0x100000000",
		"r,type=pci,device=0000:03:00.0,bar=x",
		"r,type=pci,device=3:00.0,bar=0",
		"r,type=pci,device=03:20.0,bar=0",
		"r,type=pci,device=0000:03:00.8,bar=0",
		"r,type=pci,device=0000:03:20.0,bar=0",
		"r,type=pci,device=0000:3:00.0,bar=0",
		"r,type=pci,device=0000:03:00.0x,bar=0",
		"r,type=pci,device=0000:03:00:0,bar=0",
		"r,type=pci,device=000g:03:00.0,bar=0",
		"r,type=pci,device=,bar=0",
		"r,type=pci,device=0000:03:00.0,bar=0,size=0",
		"r,type=pci,device=0000:03:00.0,bar=0,offset=0xfffffffffffffff0,size=0x20",
		"r,type=pci,device=0000:03:00.0,bar=0,phys=0",
		"r,type=pci,device=0000:03:00.0,bar=0,path=/x",
		"r,type=pci,device=0000:03:00.0,bar=0,map=0",
		"r,type=pci,device=0000:03:00.0,bar=0,irq=yes",
		"r,type=pci,device=0000:03:00.0,bar=0,dev=/dev",
		"r,type=pci,device=0000:03:00.0,bar=0,sysfs=",
		"r,type=pci,device=0000:03:00.0,bar=0,name=x",
		/* uio: exactly one of name and device, map 0-4, irq yes/no, irq_dev needs irq. */
		"r,type=uio,map=0",
		"r,type=uio,name=x",
		"r,type=uio,name=x,device=uio0,map=0",
		"r,type=uio,name=x,uio_name=x,map=0",
		"r,type=uio,name=,map=0",
		"r,type=uio,device=uio,map=0",
		"r,type=uio,device=uio01,map=0",
		"r,type=uio,device=uio-1,map=0",
		"r,type=uio,device=uio0/..,map=0",
		"r,type=uio,device=0,map=0",
		"r,type=uio,device=0000:03:00.0,map=0",
		"r,type=uio,device=uio0,map=5",
		"r,type=uio,device=uio0,map=256",
		"r,type=uio,device=uio0,map=0,size=0",
		"r,type=uio,device=uio0,map=0,irq=maybe",
		"r,type=uio,device=uio0,map=0,irq=",
		"r,type=uio,device=uio0,map=0,irq=YES",
		"r,type=uio,device=uio0,map=0,irq_dev=/dev/uio0",
		"r,type=uio,device=uio0,map=0,irq=no,irq_dev=/dev/uio0",
		"r,type=uio,device=uio0,map=0,irq=yes,irq_dev=",
		"r,type=uio,device=uio0,map=0,dev=",
		"r,type=uio,device=uio0,map=0,offset=4",
		"r,type=uio,device=uio0,map=0,phys=4",
		"r,type=uio,device=uio0,map=0,bar=0",
		"r,type=uio,device=uio0,map=0,path=/dev/uio0",
		/* The older types take none of the new keys. */
		"r,type=mem,size=16,phys=0",
		"r,type=mem,size=16,irq=no",
		"r,type=file,path=/x,size=16,device=uio0",
		"r,type=file,path=/x,size=16,sysfs=/sys",
		"r,type=file,path=/x,size=16,map=0",
	};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		int rc = parse(f, bad[i]);
		if (rc != -EINVAL || strlen(f->err) == 0) {
			print_error("spec '%s': rc %d, err '%s'\n", bad[i], rc, f->err);
		}
		assert_int_equal(rc, -EINVAL);
		assert_true(strlen(f->err) > 0);
	}
	/* A key of the wrong type is named, with what the type takes. */
	assert_int_equal(parse(f, "r,type=devmem,phys=0,size=16,bar=1"), -EINVAL);
	assert_non_null(strstr(f->err, "bar"));
	assert_non_null(strstr(f->err, "phys"));
	assert_int_equal(parse(f, "r,type=uio,device=uio0,map=0,offset=4"), -EINVAL);
	assert_non_null(strstr(f->err, "offset"));
	assert_int_equal(parse(f, "r,type=pci,device=0000:03:00.0"), -EINVAL);
	assert_non_null(strstr(f->err, "bar"));
}

static void
test_region_spec_device_formats(void **state)
{
	(void)state;
	static const char *const pci_ok[] = {"0000:00:00.0", "0000:03:00.0", "ffff:ff:1f.7",
					     "FFFF:FF:1F.7", "10de:0a:1e.3"};
	static const char *const pci_bad[] = {
		"",
		"0000:00:00",
		"0000:00:00.",
		"0000:00:00.8",
		"0000:00:20.0",
		"0000:00:00.00",
		"00000:00:00.0",
		"0000:000:00.0",
		"0000.00:00.0",
		"0000:00.00:0",
		"g000:00:00.0",
		"0000:0g:00.0",
		"0000:00:0g.0",
		"0000:00:00.g",
		"+000:00:00.0",
		" 000:00:00.0",
		"0000:00:00.0\n",
	};
	for (size_t i = 0; i < ARRAY_LEN(pci_ok); i++) {
		assert_true(region_spec_pci_device_valid(pci_ok[i]));
	}
	for (size_t i = 0; i < ARRAY_LEN(pci_bad); i++) {
		if (region_spec_pci_device_valid(pci_bad[i])) {
			print_error("'%s' taken as a PCI address\n", pci_bad[i]);
		}
		assert_false(region_spec_pci_device_valid(pci_bad[i]));
	}
	static const char *const uio_ok[] = {"uio0", "uio1", "uio10", "uio999999999"};
	static const char *const uio_bad[] = {"",      "uio",   "uio01", "uio00",         "uio-1",
					      "uio+1", "UIO0",  "uio0a", "uio1000000000", "xuio0",
					      "uio 0", "uio0/", "/uio0"};
	for (size_t i = 0; i < ARRAY_LEN(uio_ok); i++) {
		assert_true(region_spec_uio_device_valid(uio_ok[i]));
	}
	for (size_t i = 0; i < ARRAY_LEN(uio_bad); i++) {
		assert_false(region_spec_uio_device_valid(uio_bad[i]));
	}
}

/* Parsed specs open as a region table; any failure leaves nothing open. */
static void
test_region_spec_table_open(void **state)
{
	(void)state;
	static const char *const texts[] = {"a,type=mem,size=64", "b,type=mem,size=0x1000",
					    "a,type=mem,size=8",
					    "c,type=file,path=/nonexistent/mmiod,size=8"};
	struct region_config configs[ARRAY_LEN(texts)] = {0};
	struct region_table t;
	char err[256];

	for (size_t i = 0; i < ARRAY_LEN(texts); i++) {
		assert_int_equal(region_spec_parse(texts[i], &configs[i].spec, err, sizeof(err)),
				 0);
	}
	assert_int_equal(region_table_open(&t, configs, 2, err, sizeof(err)), 0);
	assert_int_equal(t.count, 2);
	assert_int_equal(region_table_find(&t, "a")->space.len, 64);
	assert_int_equal(region_table_find(&t, "b")->space.len, 0x1000);
	assert_string_equal(region_table_find(&t, "b")->name, "b");
	assert_null(region_table_find(&t, "c"));
	assert_null(region_table_find(&t, ""));
	region_table_close(&t);
	assert_int_equal(t.count, 0);

	/* A duplicate name; a backend that fails after two opened; too many regions. */
	static const struct {
		unsigned pick[3];
		unsigned n;
		int rc;
	} bad[] = {{{0, 1, 2}, 3, -EINVAL}, {{0, 1, 3}, 3, -ENOENT}, {{0, 1, 2}, 65, -EINVAL}};
	_Static_assert(MMIO_MAX_REGIONS == 64, "the last case is one past the limit");
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		struct region_config tmp[3];
		for (size_t k = 0; k < 3; k++) {
			tmp[k] = configs[bad[i].pick[k]];
		}
		err[0] = '\0';
		assert_int_equal(region_table_open(&t, tmp, bad[i].n, err, sizeof(err)), bad[i].rc);
		assert_int_equal(t.count, 0);
		assert_true(strlen(err) > 0);
	}
	for (size_t i = 0; i < ARRAY_LEN(texts); i++) {
		region_spec_finish(&configs[i].spec);
	}
}

static void
test_region_spec_parse_u64_ok(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		uint64_t value;
	} good[] = {
		{"0", 0},
		{"0x0", 0},
		{"0X0", 0},
		{"1", 1},
		{"0x010", 0x10},
		{"0x00", 0},
		{"4096", 4096},
		{"0x1000", 0x1000},
		{"0xDeadBeef", 0xdeadbeef},
		{"18446744073709551615", UINT64_MAX},
		{"0xffffffffffffffff", UINT64_MAX},
		{"0x0000000000000000ffffffffffffffff", UINT64_MAX},
	};
	for (size_t i = 0; i < ARRAY_LEN(good); i++) {
		uint64_t v = 12345;
		assert_int_equal(parse_u64(good[i].text, &v), 0);
		assert_int_equal(v, good[i].value);
	}
}

static void
test_region_spec_parse_u64_errors(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		int rc;
	} bad[] = {
		{"18446744073709551616", -ERANGE},
		{"99999999999999999999999", -ERANGE},
		{"0x10000000000000000", -ERANGE},
		{"0x", -EINVAL},
		{"0X", -EINVAL},
		{"", -EINVAL},
		{" 1", -EINVAL},
		{"\t1", -EINVAL},
		{"1 ", -EINVAL},
		{"-1", -EINVAL},
		{"-0", -EINVAL},
		{"+1", -EINVAL},
		{"1x", -EINVAL},
		{"0x-1", -EINVAL},
		{"0x+1", -EINVAL},
		{"0x 1", -EINVAL},
		{"0xg", -EINVAL},
		{"0x1g", -EINVAL},
		{"0x0x1", -EINVAL},
		{"abc", -EINVAL},
		{"1.0", -EINVAL},
		{"1e3", -EINVAL},
		{"0b1", -EINVAL},
		/* A leading zero: octal to C and busybox devmem, decimal to libconfig. */
		{"010", -EINVAL},
		{"00", -EINVAL},
		{"09", -EINVAL},
		{"00000010", -EINVAL},
		{"018446744073709551615", -EINVAL},
	};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		uint64_t v = 12345;
		int rc = parse_u64(bad[i].text, &v);
		if (rc != bad[i].rc) {
			print_error("parse_u64('%s')\n", bad[i].text);
		}
		assert_int_equal(rc, bad[i].rc);
		assert_int_equal(v, 12345);
	}
	uint64_t v = 12345;
	assert_int_equal(parse_u64(NULL, &v), -EINVAL);
	assert_int_equal(v, 12345);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_region_spec_mem),
		T(test_region_spec_file),
		T(test_region_spec_name_limits),
		T(test_region_spec_leading_zero),
		T(test_region_spec_errors),
		T(test_region_spec_devmem),
		T(test_region_spec_pci),
		T(test_region_spec_uio),
		T(test_region_spec_hw_errors),
		cmocka_unit_test(test_region_spec_device_formats),
		cmocka_unit_test(test_region_spec_table_open),
		cmocka_unit_test(test_region_spec_parse_u64_ok),
		cmocka_unit_test(test_region_spec_parse_u64_errors),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
