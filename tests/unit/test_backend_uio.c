/*
 * backend_uio.c on a fake sysfs tree and regular files as /dev/uioN: the
 * device is found by name (exactly one) or number, map M is file offset
 * M * pagesize, the registers start 'offset' bytes into it and alignment is
 * judged on their physical address; irq=yes keeps the device (or irq_dev)
 * open, and for uio_pci_generic its PCI config space, where the ack re-enables
 * INTx; every refusal fails cleanly with its errno and a message.
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
#include "hw_tree.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

struct fixture {
	struct hw_tree tree;
	uint64_t page;
	char sysfs[128];
	char dev[128];
	struct region_spec spec;
	struct region *r;
	struct lease_set set;
	struct lease *l;
};

/* Writes maps/mapM of device as the kernel prints them (addr and size "%pa", offset "0x%llx"). */
static void
write_map(struct fixture *f, const char *device, unsigned map, uint64_t addr, uint64_t size,
	  uint64_t offset)
{
	static const char *const files[] = {"addr", "size", "offset"};
	const uint64_t values[] = {addr, size, offset};
	for (unsigned i = 0; i < 3; i++) {
		char rel[128], text[32];
		snprintf(rel, sizeof(rel), "sys/class/uio/%s/maps/map%u/%s", device, map, files[i]);
		snprintf(text, sizeof(text), i == 2 ? "0x%llx\n" : "0x%016llx\n",
			 (unsigned long long)values[i]);
		hw_tree_write(&f->tree, rel, text);
	}
}

static void
write_name(struct fixture *f, const char *device, const char *name)
{
	char rel[128], text[64];
	snprintf(rel, sizeof(rel), "sys/class/uio/%s/name", device);
	snprintf(text, sizeof(text), "%s\n", name);
	hw_tree_write(&f->tree, rel, text);
}

static int
setup(void **state)
{
	struct fixture *f = test_calloc(1, sizeof(*f));
	f->page = (uint64_t)sysconf(_SC_PAGESIZE);
	hw_tree_create(&f->tree);
	hw_tree_path(&f->tree, "sys", f->sysfs, sizeof(f->sysfs));
	hw_tree_path(&f->tree, "dev", f->dev, sizeof(f->dev));
	/* uio0 "gpio": map0 a page-aligned block, map1 one starting 0x104 into its page. */
	write_name(f, "uio0", "gpio");
	write_map(f, "uio0", 0, 0xfe200000, 0x1000, 0);
	write_map(f, "uio0", 1, 0xfe201000, 0x1000, 0x104);
	hw_tree_file(&f->tree, "dev/uio0", 2 * f->page);
	/* uio1 "pwm": two pages, the registers 0x2c into the first. */
	write_name(f, "uio1", "pwm");
	write_map(f, "uio1", 0, 0x12345000, 0x2000, 0x2c);
	hw_tree_file(&f->tree, "dev/uio1", f->page + 0x2000);
	/* Two devices of one name, one without maps, and entries that are not devices. */
	write_name(f, "uio2", "dup");
	write_map(f, "uio2", 0, 0x1000, 0x1000, 0);
	write_name(f, "uio3", "dup");
	write_map(f, "uio3", 0, 0x2000, 0x1000, 0);
	write_name(f, "uio4", "nomaps");
	write_name(f, "uio", "gpio");
	write_name(f, "uio05", "gpio");
	hw_tree_write(&f->tree, "sys/class/uio/README", "gpio\n");
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
	region_spec_finish(&f->spec);
	hw_tree_destroy(&f->tree);
	test_free(f);
	return 0;
}

/* A fresh spec for map of the device named name (or, if it starts with "uio", numbered). */
static struct region_spec *
spec_for(struct fixture *f, const char *name, unsigned map, uint64_t size)
{
	region_spec_finish(&f->spec);
	memset(&f->spec, 0, sizeof(f->spec));
	snprintf(f->spec.name, sizeof(f->spec.name), "r");
	snprintf(f->spec.type, sizeof(f->spec.type), "uio");
	if (strncmp(name, "uio", 3) == 0 || name[0] == '\0') {
		f->spec.device = strdup(name);
	} else {
		f->spec.uio_name = strdup(name);
	}
	f->spec.map = map;
	f->spec.size = size;
	f->spec.sysfs = strdup(f->sysfs);
	f->spec.dev_dir = strdup(f->dev);
	return &f->spec;
}

static struct backend *
open_ok(struct fixture *f, const struct region_spec *spec, uint64_t want_addr, uint64_t want_len)
{
	(void)f;
	struct backend *b = NULL;
	char err[512] = "";
	int rc = backend_open(spec, &b, err, sizeof(err));
	if (rc != 0) {
		print_error("backend_open: %s\n", err);
	}
	assert_int_equal(rc, 0);
	assert_string_equal(b->type, "uio");
	assert_int_equal(b->addr, want_addr);
	assert_int_equal(b->len, want_len);
	return b;
}

static void
lease_all(struct fixture *f, struct backend *b)
{
	f->r = region_create("r", b);
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

static void
test_backend_uio_by_name(void **state)
{
	struct fixture *f = *state;
	uint64_t v;
	struct backend *b = open_ok(f, spec_for(f, "gpio", 0, 0), 0xfe200000, 0x1000);
	assert_int_equal(b->irq_fd, -1);
	lease_all(f, b);
	assert_int_equal(lease_align_offset(f->l, 8), 0);
	assert_int_equal(region_load(f->l, 0x10, 4, &v), 0);
	assert_int_equal(v, hw_pattern_bytes(0x10, 4));
	assert_int_equal(region_store(f->l, 0x10, 4, 0x600d600d), 0);
	assert_int_equal(hw_tree_bytes(&f->tree, "dev/uio0", 0x10, 4), 0x600d600d);
	assert_int_equal(region_store(f->l, 0xff8, 8, 0x1122334455667788), 0);
	assert_int_equal(hw_tree_bytes(&f->tree, "dev/uio0", 0xff8, 8), 0x1122334455667788);
	assert_int_equal(region_load(f->l, 0x1000, 1, &v), -ERANGE);
	/* Map 1 is untouched. */
	assert_int_equal(hw_tree_bytes(&f->tree, "dev/uio0", f->page, 8),
			 hw_pattern_bytes(f->page, 8));
}

/* Map 1 sits at file offset one page; its registers 0x104 into it, at 0xfe201104. */
static void
test_backend_uio_sub_page_offset(void **state)
{
	struct fixture *f = *state;
	uint64_t v;
	uint64_t at = f->page + 0x104; /* region offset 0 in the file */
	lease_all(f, open_ok(f, spec_for(f, "gpio", 1, 0), 0xfe201104, 0xefc));
	assert_int_equal(lease_align_offset(f->l, 8), 4);
	assert_int_equal(region_load(f->l, 0, 8, &v), -EFAULT);
	assert_int_equal(region_load(f->l, 0, 4, &v), 0);
	assert_int_equal(v, hw_pattern_bytes(at, 4));
	assert_int_equal(region_store(f->l, 4, 8, 0xa1a2a3a4a5a6a7a8), 0);
	assert_int_equal(hw_tree_bytes(&f->tree, "dev/uio0", at + 4, 8), 0xa1a2a3a4a5a6a7a8);
	assert_int_equal(region_store(f->l, 0xefb, 1, 0x42), 0);
	assert_int_equal(hw_tree_bytes(&f->tree, "dev/uio0", f->page + 0xfff, 1), 0x42);
	assert_int_equal(region_load(f->l, 0xefc, 1, &v), -ERANGE);
	assert_int_equal(hw_tree_bytes(&f->tree, "dev/uio0", at - 1, 1), hw_pattern(at - 1));
	close_region(f);

	/* A smaller size=, down to one byte, and exactly all of the map. */
	static const uint64_t sizes[] = {1, 0x10, 0xefc};
	for (size_t i = 0; i < ARRAY_LEN(sizes); i++) {
		lease_all(f, open_ok(f, spec_for(f, "gpio", 1, sizes[i]), 0xfe201104, sizes[i]));
		assert_int_equal(region_store(f->l, sizes[i] - 1, 1, 0x99), 0);
		assert_int_equal(hw_tree_bytes(&f->tree, "dev/uio0", at + sizes[i] - 1, 1), 0x99);
		assert_int_equal(region_load(f->l, sizes[i], 1, &v), -ERANGE);
		close_region(f);
	}
}

/* uio1 by number: two pages, registers from 0x2c; a store past the first page lands there. */
static void
test_backend_uio_page_crossing(void **state)
{
	struct fixture *f = *state;
	uint64_t v;
	lease_all(f, open_ok(f, spec_for(f, "uio1", 0, 0), 0x1234502c, 0x1fd4));
	assert_int_equal(lease_align_offset(f->l, 8), 4);
	assert_int_equal(region_store(f->l, 0xfd4, 8, 0x0807060504030201), 0); /* 0x12346000 */
	assert_int_equal(hw_tree_bytes(&f->tree, "dev/uio1", 0x1000, 8), 0x0807060504030201);
	assert_int_equal(region_store(f->l, 0xfd0, 4, 0xfeedface), 0); /* 0x12345ffc */
	assert_int_equal(hw_tree_bytes(&f->tree, "dev/uio1", 0xffc, 4), 0xfeedface);
	assert_int_equal(region_load(f->l, 0x1fd3, 1, &v), 0);
	assert_int_equal(v, hw_pattern(0x1fff));
	assert_int_equal(region_load(f->l, 0x1fd4, 1, &v), -ERANGE);
	assert_int_equal(region_load(f->l, 0x1fcc, 8, &v), 0);
	assert_int_equal(v, hw_pattern_bytes(0x1ff8, 8));
}

/* irq=yes keeps the device open, nonblocking and close-on-exec; irq_dev picks another file. */
static void
test_backend_uio_irq(void **state)
{
	struct fixture *f = *state;
	char path[256];
	struct stat want, got;
	int fd_before = hw_lowest_free_fd();

	struct region_spec *spec = spec_for(f, "gpio", 0, 0);
	spec->irq = true;
	struct backend *b = open_ok(f, spec, 0xfe200000, 0x1000);
	assert_true(b->irq_fd >= 0);
	assert_int_equal(fstat(b->irq_fd, &got), 0);
	assert_int_equal(stat(hw_tree_path(&f->tree, "dev/uio0", path, sizeof(path)), &want), 0);
	assert_int_equal(got.st_ino, want.st_ino);
	int fl = fcntl(b->irq_fd, F_GETFL);
	assert_int_equal(fl & O_ACCMODE, O_RDWR);
	assert_int_equal(fl & O_NONBLOCK, O_NONBLOCK);
	assert_int_equal(fcntl(b->irq_fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	backend_close(b);
	assert_int_equal(hw_lowest_free_fd(), fd_before);

	hw_tree_write(&f->tree, "dev/irq0", "");
	spec = spec_for(f, "gpio", 1, 0);
	spec->irq = true;
	spec->irq_dev = strdup(hw_tree_path(&f->tree, "dev/irq0", path, sizeof(path)));
	b = open_ok(f, spec, 0xfe201104, 0xefc);
	assert_int_equal(fstat(b->irq_fd, &got), 0);
	assert_int_equal(stat(path, &want), 0);
	assert_int_equal(got.st_ino, want.st_ino);
	backend_close(b);
	assert_int_equal(hw_lowest_free_fd(), fd_before);
}

/* The command register's two bytes (offset 4) in a config file of the fake tree. */
static unsigned
config_command(struct fixture *f, const char *rel)
{
	return (unsigned)hw_tree_bytes(&f->tree, rel, 4, 2);
}

static void
set_config_command(struct fixture *f, const char *rel, uint16_t cmd)
{
	char path[256];
	int fd = open(hw_tree_path(&f->tree, rel, path, sizeof(path)), O_WRONLY);
	assert_true(fd >= 0);
	uint8_t le[2] = {(uint8_t)cmd, (uint8_t)(cmd >> 8)};
	assert_int_equal(pwrite(fd, le, 2, 4), 2);
	close(fd);
}

/*
 * uio_pci_generic masks INTx in its handler and has no irqcontrol: the ack clears Interrupt
 * Disable (bit 10) in the device's config space, nothing else, and writes nothing to
 * /dev/uioN. Another driver's device is acked by UIO's write of 1, and so is one whose
 * interrupt comes from irq_dev.
 */
static void
test_backend_uio_pci_generic_intx(void **state)
{
	struct fixture *f = *state;
	const char *config = "sys/class/uio/uio7/device/config";
	int fd_before = hw_lowest_free_fd();
	write_name(f, "uio7", "uio_pci_generic");
	write_map(f, "uio7", 0, 0xfea00000, 0x1000, 0);
	hw_tree_file(&f->tree, "dev/uio7", f->page);

	/* No config space where sysfs has it: refused, with the reason. */
	struct region_spec *spec = spec_for(f, "uio7", 0, 0);
	spec->irq = true;
	struct backend *b = NULL;
	char err[512] = "";
	assert_int_equal(backend_open(spec, &b, err, sizeof(err)), -ENOENT);
	assert_null(b);
	assert_non_null(strstr(err, "uio_pci_generic"));
	assert_non_null(strstr(err, "device/config"));
	assert_int_equal(hw_lowest_free_fd(), fd_before);

	hw_tree_file(&f->tree, config, 64);
	set_config_command(f, config, 0x0507); /* INTx masked; I/O, memory, bus master on */
	uint64_t uio_bytes = hw_tree_bytes(&f->tree, "dev/uio7", 0, 8);
	spec = spec_for(f, "uio7", 0, 0);
	spec->irq = true;
	b = open_ok(f, spec, 0xfea00000, 0x1000);
	assert_true(b->intx_fd >= 0);
	assert_int_equal(backend_irq_ack(b), 0);
	assert_int_equal(config_command(f, config), 0x0107);
	assert_int_equal(hw_tree_bytes(&f->tree, "dev/uio7", 0, 8), uio_bytes);
	/* Already enabled: stays so. */
	assert_int_equal(backend_irq_ack(b), 0);
	assert_int_equal(config_command(f, config), 0x0107);
	backend_close(b);
	assert_int_equal(hw_lowest_free_fd(), fd_before);

	/* irq_dev: the interrupt is another file's, acked the UIO way. */
	char path[256];
	hw_tree_file(&f->tree, "dev/irq7", 8);
	set_config_command(f, config, 0x0507);
	spec = spec_for(f, "uio7", 0, 0);
	spec->irq = true;
	spec->irq_dev = strdup(hw_tree_path(&f->tree, "dev/irq7", path, sizeof(path)));
	b = open_ok(f, spec, 0xfea00000, 0x1000);
	assert_int_equal(b->intx_fd, -1);
	assert_int_equal(backend_irq_ack(b), 0);
	assert_int_equal(hw_tree_bytes(&f->tree, "dev/irq7", 0, 4), 1);
	assert_int_equal(config_command(f, config), 0x0507);
	backend_close(b);

	/* Another driver's device: no config space is opened. */
	spec = spec_for(f, "gpio", 0, 0);
	spec->irq = true;
	b = open_ok(f, spec, 0xfe200000, 0x1000);
	assert_int_equal(b->intx_fd, -1);
	backend_close(b);
	assert_int_equal(hw_lowest_free_fd(), fd_before);
}

static void
expect_error(struct fixture *f, const struct region_spec *spec, int want, const char *needle)
{
	struct backend *b = NULL;
	char err[512] = "";
	int fd_before = hw_lowest_free_fd();
	int rc = backend_open(spec, &b, err, sizeof(err));
	if (rc != want || (needle && !strstr(err, needle))) {
		print_error("uio %s map %u: rc %d: %s\n",
			    spec->device ? spec->device : spec->uio_name, spec->map, rc, err);
	}
	assert_int_equal(rc, want);
	assert_null(b);
	assert_true(strlen(err) > 0);
	if (needle) {
		assert_non_null(strstr(err, needle));
	}
	assert_int_equal(hw_lowest_free_fd(), fd_before);
	(void)f;
}

static void
test_backend_uio_find_errors(void **state)
{
	struct fixture *f = *state;
	char path[256];

	/* Not found: the message lists what there is. Ambiguous: it lists the matches. */
	expect_error(f, spec_for(f, "spi", 0, 0), -ENOENT, "'spi'");
	expect_error(f, spec_for(f, "spi", 0, 0), -ENOENT, "uio1 'pwm'");
	expect_error(f, spec_for(f, "gpi", 0, 0), -ENOENT, "uio0 'gpio'");
	expect_error(f, spec_for(f, "dup", 0, 0), -ENOTUNIQ, "uio2 'dup'");
	expect_error(f, spec_for(f, "dup", 0, 0), -ENOTUNIQ, "uio3 'dup'");
	expect_error(f, spec_for(f, "dup", 0, 0), -ENOTUNIQ, "device=uioN");
	/* No such device number; malformed ones; neither name nor device. */
	expect_error(f, spec_for(f, "uio9", 0, 0), -ENOENT, "uio9");
	static const char *const bad[] = {"uio", "uio05", "uio-1", "uio1/../uio0", ""};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		expect_error(f, spec_for(f, bad[i], 0, 0), -EINVAL, NULL);
	}
	struct region_spec *spec = spec_for(f, "gpio", 0, 0);
	free(spec->uio_name);
	spec->uio_name = NULL;
	expect_error(f, spec, -EINVAL, NULL);
	/* No UIO class at all. */
	hw_tree_mkdir(&f->tree, "empty");
	spec = spec_for(f, "gpio", 0, 0);
	free(spec->sysfs);
	spec->sysfs = strdup(hw_tree_path(&f->tree, "empty", path, sizeof(path)));
	expect_error(f, spec, -ENOENT, "CONFIG_UIO");
}

static void
test_backend_uio_map_errors(void **state)
{
	struct fixture *f = *state;
	char path[256];

	/* A map index the device lacks, one no UIO device can have, a device without maps. */
	expect_error(f, spec_for(f, "gpio", 2, 0), -ENOENT, "map 2");
	expect_error(f, spec_for(f, "uio0", 4, 0), -ENOENT, "map 4");
	expect_error(f, spec_for(f, "gpio", 5, 0), -EINVAL, "map 5");
	expect_error(f, spec_for(f, "gpio", UINT32_MAX, 0), -EINVAL, NULL);
	expect_error(f, spec_for(f, "nomaps", 0, 0), -ENOENT, "map 0");
	/* size= beyond what the map has. */
	expect_error(f, spec_for(f, "gpio", 0, 0x1001), -EINVAL, "0x1001");
	expect_error(f, spec_for(f, "gpio", 1, 0xefd), -EINVAL, "0xefd");
	expect_error(f, spec_for(f, "gpio", 1, UINT64_MAX), -EINVAL, NULL);

	/* Malformed or impossible map attributes, on a device of its own. */
	write_name(f, "uio7", "bad");
	hw_tree_file(&f->tree, "dev/uio7", 4 * f->page);
	static const struct {
		const char *file, *text;
		int rc;
	} cases[] = {
		{"addr", "zzz\n", -EINVAL},
		{"addr", "0x1000 x\n", -EINVAL},
		{"addr", "0x1000\n\n", -EINVAL},
		{"addr", "", -EINVAL},
		{"addr", "-1\n", -EINVAL},
		{"size", "0x10000000000000000\n", -ERANGE},
		{"size", "0x0\n", -EINVAL},        /* an empty map */
		{"size", "0x100\n", -EINVAL},      /* no bytes after offset 0x100 */
		{"offset", "0x100000\n", -EINVAL}, /* not inside a page */
		{"size", "0x7fffffffffffffff\n", -EINVAL},
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		char rel[128];
		write_map(f, "uio7", 0, 0x40000000, 0x1000, 0x100);
		snprintf(rel, sizeof(rel), "sys/class/uio/uio7/maps/map0/%s", cases[i].file);
		hw_tree_write(&f->tree, rel, cases[i].text);
		expect_error(f, spec_for(f, "bad", 0, 0), cases[i].rc, NULL);
	}
	write_map(f, "uio7", 0, 0x40000000, 0x1000, 0x100);
	assert_int_equal(unlink(hw_tree_path(&f->tree, "sys/class/uio/uio7/maps/map0/offset", path,
					     sizeof(path))),
			 0);
	expect_error(f, spec_for(f, "bad", 0, 0), -ENOENT, "offset");

	/* The device node: missing, too short for the map, a directory. */
	write_map(f, "uio7", 1, 0x40000000, 0x1000, 0x100);
	hw_tree_file(&f->tree, "dev/uio7", f->page + 0xfff);
	expect_error(f, spec_for(f, "bad", 1, 0), -EINVAL, "bytes");
	assert_int_equal(unlink(hw_tree_path(&f->tree, "dev/uio7", path, sizeof(path))), 0);
	expect_error(f, spec_for(f, "bad", 1, 0), -ENOENT, "dev/uio7");
	hw_tree_mkdir(&f->tree, "dev/uio7");
	expect_error(f, spec_for(f, "bad", 1, 0), -EISDIR, NULL);
	/* irq_dev missing: nothing stays mapped or open. */
	struct region_spec *spec = spec_for(f, "gpio", 0, 0);
	spec->irq = true;
	spec->irq_dev = strdup(hw_tree_path(&f->tree, "dev/noirq", path, sizeof(path)));
	expect_error(f, spec, -ENOENT, "interrupts");
}

/* Parsed specs open through backend_open(), by name with irq and by number. */
static void
test_backend_uio_from_spec(void **state)
{
	struct fixture *f = *state;
	char text[512], err[256] = "";
	struct region_spec spec;

	snprintf(text, sizeof(text), "gpio,type=uio,name=gpio,map=1,sysfs=%s,dev=%s,irq=yes",
		 f->sysfs, f->dev);
	assert_int_equal(region_spec_parse(text, &spec, err, sizeof(err)), 0);
	struct backend *b = NULL;
	assert_int_equal(backend_open(&spec, &b, err, sizeof(err)), 0);
	assert_string_equal(b->type, "uio");
	assert_int_equal(b->addr, 0xfe201104);
	assert_int_equal(b->len, 0xefc);
	assert_true(b->irq_fd >= 0);
	lease_all(f, b);
	assert_int_equal(region_store(f->l, 0, 4, 0x5555aaaa), 0);
	assert_int_equal(hw_tree_bytes(&f->tree, "dev/uio0", f->page + 0x104, 4), 0x5555aaaa);
	region_spec_finish(&spec);

	snprintf(text, sizeof(text), "pwm,type=uio,device=uio1,map=0,size=0x10,sysfs=%s,dev=%s",
		 f->sysfs, f->dev);
	assert_int_equal(region_spec_parse(text, &spec, err, sizeof(err)), 0);
	b = NULL;
	assert_int_equal(backend_open(&spec, &b, err, sizeof(err)), 0);
	assert_int_equal(b->addr, 0x1234502c);
	assert_int_equal(b->len, 0x10);
	assert_int_equal(b->irq_fd, -1);
	backend_close(b);
	region_spec_finish(&spec);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_backend_uio_by_name),       T(test_backend_uio_sub_page_offset),
		T(test_backend_uio_page_crossing), T(test_backend_uio_irq),
		T(test_backend_uio_find_errors),   T(test_backend_uio_map_errors),
		T(test_backend_uio_from_spec),     T(test_backend_uio_pci_generic_intx),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
