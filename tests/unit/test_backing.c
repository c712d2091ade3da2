/*
 * Where a backend's bytes are (struct backing) and which regions alias each
 * other, on stand-ins under /tmp: backend_locate() (for --check-config, no
 * mapping) says exactly what backend_open() records; a file is the same file
 * by any name; devmem's place is the physical address; the same BAR is the
 * same resource file; a UIO device's maps are separate memories even where
 * their pages meet in the device file; mem aliases nothing. region_table_open()
 * links the regions that share bytes, and region_table_check() names
 * the same pairs without opening anything.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
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
#define NIC_DIR      "sys/bus/pci/devices/0000:03:00.0"
#define NIC_RESOURCE                                                                               \
	"0x00000000fe000000 0x00000000fe01ffff 0x0000000000040200\n"                               \
	"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"                               \
	"0x00000000fe020000 0x00000000fe023fff 0x0000000000040200\n"

struct fixture {
	struct hw_tree tree;
	uint64_t page;
	struct mmiod_config cfg;
	struct region_table table;
	char err[512];
};

static void
write_map(struct fixture *f, unsigned map, uint64_t addr, uint64_t size, uint64_t offset)
{
	static const char *const files[] = {"addr", "size", "offset"};
	const uint64_t values[] = {addr, size, offset};
	for (unsigned i = 0; i < 3; i++) {
		char rel[128], text[32];
		snprintf(rel, sizeof(rel), "sys/class/uio/uio0/maps/map%u/%s", map, files[i]);
		snprintf(text, sizeof(text), "0x%llx\n", (unsigned long long)values[i]);
		hw_tree_write(&f->tree, rel, text);
	}
}

static int
setup(void **state)
{
	struct fixture *f = test_calloc(1, sizeof(*f));
	f->page = (uint64_t)sysconf(_SC_PAGESIZE);
	hw_tree_create(&f->tree);
	char a[512], b[512];
	hw_tree_file(&f->tree, "data", 0x3000);
	assert_int_equal(link(hw_tree_path(&f->tree, "data", a, sizeof(a)),
			      hw_tree_path(&f->tree, "hardlink", b, sizeof(b))),
			 0);
	assert_int_equal(symlink(a, hw_tree_path(&f->tree, "symlink", b, sizeof(b))), 0);
	hw_tree_file(&f->tree, "other", 0x3000);
	hw_tree_file(&f->tree, "dev/mem", 0x20000);
	hw_tree_write(&f->tree, NIC_DIR "/resource", NIC_RESOURCE);
	hw_tree_file(&f->tree, NIC_DIR "/resource0", 0x20000);
	hw_tree_file(&f->tree, NIC_DIR "/resource2", 0x4000);
	/* uio0: map0 two pages, map1 one page 0x104 in: in the device file they meet. */
	hw_tree_write(&f->tree, "sys/class/uio/uio0/name", "gpio\n");
	write_map(f, 0, 0xfe200000, 2 * f->page, 0);
	write_map(f, 1, 0xfe300000, f->page, 0x104);
	hw_tree_file(&f->tree, "dev/uio0", 3 * f->page);
	conf_init(&f->cfg);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	region_table_close(&f->table);
	conf_finish(&f->cfg);
	hw_tree_destroy(&f->tree);
	test_free(f);
	return 0;
}

/* Adds a --region spec, "%R" in it replaced by the tree's root. */
static const struct region_spec *
add(struct fixture *f, const char *fmt)
{
	char text[1024] = "";
	const char *root = f->tree.root;
	size_t n = 0;
	for (const char *p = fmt; *p && n + 1 < sizeof(text); p++) {
		if (p[0] == '%' && p[1] == 'R') {
			n += (size_t)snprintf(text + n, sizeof(text) - n, "%s", root);
			p++;
		} else {
			text[n++] = *p;
		}
	}
	text[n] = '\0';
	int rc = conf_add_region(&f->cfg, text, f->err, sizeof(f->err));
	if (rc != 0) {
		fail_msg("%s: %s", text, f->err);
	}
	return &f->cfg.regions[f->cfg.n_regions - 1].spec;
}

/* Opens spec and locates it: both say the same; returns where, and the length. */
static struct backing
open_and_locate(struct fixture *f, const struct region_spec *spec, uint64_t *len)
{
	struct backend *b = NULL;
	if (backend_open(spec, &b, f->err, sizeof(f->err)) != 0) {
		fail_msg("open %s: %s", spec->name, f->err);
	}
	struct backing where;
	memset(&where, 0xa5, sizeof(where));
	if (backend_locate(spec, &where, len, f->err, sizeof(f->err)) != 0) {
		fail_msg("locate %s: %s", spec->name, f->err);
	}
	assert_int_equal(*len, b->len);
	assert_int_equal(where.shared, b->backing.shared);
	if (where.shared) {
		assert_int_equal(where.device, b->backing.device);
		assert_int_equal(where.dev, b->backing.dev);
		assert_int_equal(where.ino, b->backing.ino);
		assert_int_equal(where.part, b->backing.part);
		assert_int_equal(where.start, b->backing.start);
	}
	backend_close(b);
	return where;
}

static void
test_backing_of_each_type(void **state)
{
	struct fixture *f = *state;
	char path[512];
	struct stat data, other, mem, bar0, bar2, uio;
	assert_int_equal(stat(hw_tree_path(&f->tree, "data", path, sizeof(path)), &data), 0);
	assert_int_equal(stat(hw_tree_path(&f->tree, "other", path, sizeof(path)), &other), 0);
	assert_int_equal(stat(hw_tree_path(&f->tree, "dev/mem", path, sizeof(path)), &mem), 0);
	assert_int_equal(
		stat(hw_tree_path(&f->tree, NIC_DIR "/resource0", path, sizeof(path)), &bar0), 0);
	assert_int_equal(
		stat(hw_tree_path(&f->tree, NIC_DIR "/resource2", path, sizeof(path)), &bar2), 0);
	assert_int_equal(stat(hw_tree_path(&f->tree, "dev/uio0", path, sizeof(path)), &uio), 0);
	const struct {
		const char *spec;
		const struct stat *st; /* NULL: not shared */
		unsigned part;
		uint64_t start, len;
	} cases[] = {
		{"a,type=file,path=%R/data,offset=0x10,size=0x100", &data, 0, 0x10, 0x100},
		/* The same file by any name. */
		{"b,type=file,path=%R/hardlink,offset=0x800,size=0x800", &data, 0, 0x800, 0x800},
		{"c,type=file,path=%R/symlink,size=0x10", &data, 0, 0, 0x10},
		{"d,type=file,path=%R/other,size=0x10", &other, 0, 0, 0x10},
		/* devmem: the physical address. */
		{"e,type=devmem,path=%R/dev/mem,phys=0x10004,size=0x1000", &mem, 0, 0x10004,
		 0x1000},
		/* pci: the offset in the BAR's resource file. */
		{"f,type=pci,device=0000:03:00.0,bar=0,offset=0x100,sysfs=%R/sys", &bar0, 0, 0x100,
		 0x1ff00},
		{"g,type=pci,device=0000:03:00.0,bar=2,size=0x10,sysfs=%R/sys", &bar2, 0, 0, 0x10},
		/* uio: the map, and the offset in it. */
		{"h,type=uio,device=uio0,map=0,sysfs=%R/sys,dev=%R/dev", &uio, 0, 0, 2 * f->page},
		{"i,type=uio,name=gpio,map=1,size=0x10,sysfs=%R/sys,dev=%R/dev", &uio, 1, 0x104,
		 0x10},
		{"j,type=mem,size=0x100", NULL, 0, 0, 0x100},
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		uint64_t len = 0;
		struct backing w = open_and_locate(f, add(f, cases[i].spec), &len);
		assert_int_equal(len, cases[i].len);
		assert_int_equal(w.shared, cases[i].st != NULL);
		if (!cases[i].st) {
			continue;
		}
		/* Stand-ins are regular files: named by st_dev and st_ino. */
		assert_false(w.device);
		assert_int_equal(w.dev, cases[i].st->st_dev);
		assert_int_equal(w.ino, cases[i].st->st_ino);
		assert_int_equal(w.part, cases[i].part);
		assert_int_equal(w.start, cases[i].start);
	}
}

/* A character device is named by its number, so two nodes of one device are one backing. */
static void
test_backing_char_device(void **state)
{
	struct fixture *f = *state;
	struct stat null;
	assert_int_equal(stat("/dev/null", &null), 0);
	char node[512];
	hw_tree_path(&f->tree, "null-copy", node, sizeof(node));
	bool copy = mknod(node, S_IFCHR | 0600, null.st_rdev) == 0;
	const char *const specs[] = {
		"n,type=devmem,path=/dev/null,phys=0x1000,size=0x100",
		"m,type=devmem,path=%R/null-copy,phys=0x10ff,size=0x100",
	};
	struct backing w[2];
	uint64_t len[2];
	for (unsigned i = 0; i < (copy ? 2u : 1u); i++) {
		assert_int_equal(
			backend_locate(add(f, specs[i]), &w[i], &len[i], f->err, sizeof(f->err)),
			0);
		assert_true(w[i].shared && w[i].device);
		assert_int_equal(w[i].dev, null.st_rdev);
		assert_int_equal(w[i].ino, 0);
	}
	if (!copy) {
		/* No CAP_MKNOD here: the second node cannot be made. */
		return;
	}
	struct lease_overlap o;
	assert_true(backing_overlap(&w[0], len[0], &w[1], len[1], &o));
	assert_int_equal(o.a_off, 0xff);
	assert_int_equal(o.b_off, 0);
	assert_int_equal(o.len, 1);
	/* A regular file with the same numbers is another thing. */
	struct backing file = w[1];
	file.device = false;
	assert_false(backing_overlap(&w[0], len[0], &file, len[1], &o));
}

struct pair_case {
	const char *a, *b;
	bool alias;
	uint64_t a_off, b_off, len;
};

struct notes {
	unsigned n;
	char text[4][512];
};

static void
collect(void *arg, const char *text)
{
	struct notes *notes = arg;
	assert_true(notes->n < ARRAY_LEN(notes->text));
	snprintf(notes->text[notes->n++], sizeof(notes->text[0]), "%s", text);
}

/* Two specs opened as a table: linked, or not, exactly where they meet. */
static void
check_pair(struct fixture *f, const struct pair_case *c)
{
	conf_finish(&f->cfg);
	conf_init(&f->cfg);
	add(f, c->a);
	add(f, c->b);
	if (region_table_open(&f->table, f->cfg.regions, 2, f->err, sizeof(f->err)) != 0) {
		fail_msg("%s / %s: %s", c->a, c->b, f->err);
	}
	struct lease_space *x = &f->table.regions[0]->space;
	struct lease_space *y = &f->table.regions[1]->space;
	if (x->n_aliases != (c->alias ? 1u : 0u)) {
		fail_msg("%s / %s: %u links, want %d", c->a, c->b, x->n_aliases, c->alias);
	}
	assert_int_equal(y->n_aliases, x->n_aliases);
	if (c->alias) {
		assert_ptr_equal(x->aliases[0].other, y);
		assert_int_equal(x->aliases[0].here, c->a_off);
		assert_int_equal(x->aliases[0].there, c->b_off);
		assert_int_equal(x->aliases[0].len, c->len);
		/* And it holds: the last shared byte of one is taken from the other. */
		struct lease_set set;
		struct lease *l, *m;
		lease_set_init(&set, 4, 1, 0);
		assert_int_equal(lease_acquire(x, &set, c->a_off + c->len - 1, 1, &l), 0);
		assert_int_equal(lease_acquire(y, &set, c->b_off, c->len, &m), -EBUSY);
		assert_int_equal(lease_acquire(y, &set, c->b_off, c->len - 1, &m), 0);
		lease_revoke_all(&set);
	}
	/* --check-config finds the same, opening nothing. */
	struct notes notes = {0};
	struct region_check_report report = {NULL, collect, &notes};
	assert_int_equal(region_table_check(f->cfg.regions, 2, &report), 0);
	assert_int_equal(notes.n, c->alias ? 1 : 0);
	region_table_close(&f->table);
}

static void
test_backing_pairs(void **state)
{
	struct fixture *f = *state;
	const struct pair_case cases[] = {
		/* One file, by two names; adjacent; another file. */
		{"a,type=file,path=%R/data,size=0x1000",
		 "b,type=file,path=%R/hardlink,offset=0x800,size=0x800", true, 0x800, 0, 0x800},
		{"a,type=file,path=%R/symlink,offset=0x7ff,size=0x10",
		 "b,type=file,path=%R/data,offset=0x800,size=0x800", true, 1, 0, 0xf},
		{"a,type=file,path=%R/data,size=0x1000",
		 "b,type=file,path=%R/symlink,offset=0x1000,size=0x10", false, 0, 0, 0},
		{"a,type=file,path=%R/data,size=0x1000", "b,type=file,path=%R/other,size=0x1000",
		 false, 0, 0, 0},
		/* devmem: physical ranges on one device, one byte; adjacent. */
		{"a,type=devmem,path=%R/dev/mem,phys=0x10000,size=0x1000",
		 "b,type=devmem,path=%R/dev/mem,phys=0x10fff,size=0x10", true, 0xfff, 0, 1},
		{"a,type=devmem,path=%R/dev/mem,phys=0x10000,size=0x1000",
		 "b,type=devmem,path=%R/dev/mem,phys=0x11000,size=0x10", false, 0, 0, 0},
		/* A file region on the stand-in /dev/mem is the same bytes: honest, if odd. */
		{"a,type=devmem,path=%R/dev/mem,phys=0x10000,size=0x1000",
		 "b,type=file,path=%R/dev/mem,offset=0x10800,size=0x10", true, 0x800, 0, 0x10},
		/* pci: the same BAR twice, any window of it; another BAR. */
		{"a,type=pci,device=0000:03:00.0,bar=0,size=0x1000,sysfs=%R/sys",
		 "b,type=pci,device=0000:03:00.0,bar=0,sysfs=%R/sys", true, 0, 0, 0x1000},
		{"a,type=pci,device=0000:03:00.0,bar=0,offset=0x800,size=0x1000,sysfs=%R/sys",
		 "b,type=pci,device=0000:03:00.0,bar=0,offset=0x1000,size=0x10,sysfs=%R/sys", true,
		 0x800, 0, 0x10},
		{"a,type=pci,device=0000:03:00.0,bar=0,size=0x1000,sysfs=%R/sys",
		 "b,type=pci,device=0000:03:00.0,bar=2,size=0x1000,sysfs=%R/sys", false, 0, 0, 0},
		/* uio: the same map, by number and by name; two maps whose pages meet in the file.
		 */
		{"a,type=uio,device=uio0,map=1,sysfs=%R/sys,dev=%R/dev",
		 "b,type=uio,name=gpio,map=1,size=0x10,sysfs=%R/sys,dev=%R/dev", true, 0, 0, 0x10},
		{"a,type=uio,device=uio0,map=0,sysfs=%R/sys,dev=%R/dev",
		 "b,type=uio,device=uio0,map=1,sysfs=%R/sys,dev=%R/dev", false, 0, 0, 0},
		/* mem: never. */
		{"a,type=mem,size=0x1000", "b,type=mem,size=0x1000", false, 0, 0, 0},
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		check_pair(f, &cases[i]);
	}
}

struct errors {
	unsigned n;
	unsigned region[8];
	char why[8][512];
};

static void
collect_error(void *arg, unsigned region, const char *why)
{
	struct errors *errors = arg;
	assert_true(errors->n < ARRAY_LEN(errors->why));
	errors->region[errors->n] = region;
	snprintf(errors->why[errors->n++], sizeof(errors->why[0]), "%s", why);
}

/*
 * What --check-config reports: a region start-up would fail on (missing,
 * shorter than the region) is an error in the system's words, and an alias
 * pair a note.
 */
static void
test_backing_check_notes(void **state)
{
	struct fixture *f = *state;
	add(f, "first,type=file,path=%R/data,offset=0x100,size=0x100");
	add(f, "gone,type=file,path=%R/nothing,size=0x100");
	add(f, "second,type=file,path=%R/hardlink,size=0x180");
	add(f, "sim,type=mem,size=0x100");
	add(f, "long,type=file,path=%R/data,size=0x100000");
	add(f, "nopci,type=pci,device=0000:09:00.0,bar=0,sysfs=%R/sys");
	add(f, "nouio,type=uio,device=uio7,map=0,sysfs=%R/sys,dev=%R/dev");
	struct notes notes = {0};
	struct errors errors = {0};
	/* Errors first, then (the callbacks share one arg) the notes. */
	struct region_check_report report = {collect_error, NULL, &errors};
	assert_int_equal(region_table_check(f->cfg.regions, f->cfg.n_regions, &report), 4);
	assert_int_equal(errors.n, 4);
	char want[512];
	assert_int_equal(errors.region[0], 1);
	snprintf(want, sizeof(want), "%s/nothing: No such file or directory", f->tree.root);
	assert_string_equal(errors.why[0], want);
	assert_int_equal(errors.region[1], 4);
	assert_non_null(strstr(errors.why[1], "region needs 1048576"));
	/* A PCI device or UIO device that is not there, in the system's words. */
	assert_int_equal(errors.region[2], 5);
	assert_non_null(strstr(errors.why[2], "0000:09:00.0"));
	assert_non_null(strstr(errors.why[2], strerror(ENOENT)));
	assert_int_equal(errors.region[3], 6);
	assert_non_null(strstr(errors.why[3], "uio7"));
	assert_non_null(strstr(errors.why[3], strerror(ENOENT)));
	report = (struct region_check_report){NULL, collect, &notes};
	assert_int_equal(region_table_check(f->cfg.regions, f->cfg.n_regions, &report), 4);
	assert_int_equal(notes.n, 1);
	assert_string_equal(notes.text[0],
			    "regions 'first' and 'second' alias the same bytes (first [0x0, 0x80) "
			    "is second [0x100, 0x180)): a lease on one excludes the other");
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_backing_of_each_type),
		T(test_backing_char_device),
		T(test_backing_pairs),
		T(test_backing_check_notes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
