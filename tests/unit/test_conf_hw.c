/*
 * conf.c: the hardware backends' settings in etc/mmiod.conf (devmem, pci,
 * uio). A valid region gives exactly the spec written; every mistake is
 * -EINVAL with "path:line: message" at the setting or the region; phys may be
 * a string so that large addresses need no L suffix.
 */
#include <errno.h>
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
#include "core/policy.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* One region on line 2. */
#define SPEC(keys) "regions = (\n  { name = \"r\"; " keys " }\n);\n"
/* One region named on line 3; the keys of body follow from line 4, one per line. */
#define REGION(body) "regions = (\n  {\n    name = \"r\";\n" body "  }\n);\n"

struct fixture {
	char dir[64];
	char path[96];
	struct mmiod_config cfg;
	char err[512];
};

static int
setup(void **state)
{
	struct fixture *f = test_calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/mmiod-test-conf-hw-XXXXXX");
	if (!mkdtemp(f->dir)) {
		test_free(f);
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s/mmiod.conf", f->dir);
	conf_init(&f->cfg);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	conf_finish(&f->cfg);
	unlink(f->path);
	rmdir(f->dir);
	test_free(f);
	return 0;
}

static int
load(struct fixture *f, const char *text)
{
	FILE *fp = fopen(f->path, "w");
	assert_non_null(fp);
	assert_true(fputs(text, fp) >= 0);
	assert_int_equal(fclose(fp), 0);
	conf_finish(&f->cfg);
	conf_init(&f->cfg);
	memset(f->err, 0, sizeof(f->err));
	return conf_load(&f->cfg, f->path, f->err, sizeof(f->err));
}

/* Loads text; 0 means it must load, else -EINVAL at line with needle in the message. */
static void
expect(struct fixture *f, const char *text, int line, const char *needle)
{
	char want[160];
	int rc = load(f, text);
	snprintf(want, sizeof(want), "%s:%d: ", f->path, line);
	bool ok = line == 0 ? rc == 0
			    : rc == -EINVAL && strncmp(f->err, want, strlen(want)) == 0 &&
				      strlen(f->err) > strlen(want) &&
				      (!needle || strstr(f->err, needle));
	if (!ok) {
		print_error("config:\n%s---\nrc %d err '%s' (want line %d, '%s')\n", text, rc,
			    f->err, line, needle ? needle : "");
	}
	assert_true(ok);
}

static const struct region_spec *
only_spec(struct fixture *f)
{
	assert_int_equal(f->cfg.n_regions, 1);
	return &f->cfg.regions[0].spec;
}

static void
test_conf_hw_devmem(void **state)
{
	struct fixture *f = *state;

	/* Above 0x7fffffff: with the L suffix, or as a string. */
	expect(f, SPEC("type = \"devmem\"; phys = 0xfe200000L; size = 0xb4;"), 0, NULL);
	assert_string_equal(only_spec(f)->type, "devmem");
	assert_int_equal(only_spec(f)->phys, 0xfe200000);
	assert_int_equal(only_spec(f)->size, 0xb4);
	assert_null(only_spec(f)->path);
	expect(f, SPEC("type = \"devmem\"; phys = \"0xfe200000\"; size = 0xb4;"), 0, NULL);
	assert_int_equal(only_spec(f)->phys, 0xfe200000);
	expect(f, SPEC("type = \"devmem\"; phys = \"0x3f00000000\"; size = 4;"), 0, NULL);
	assert_int_equal(only_spec(f)->phys, 0x3f00000000);
	expect(f, SPEC("type = \"devmem\"; phys = 0; size = 4; path = \"/tmp/mem\";"), 0, NULL);
	assert_int_equal(only_spec(f)->phys, 0);
	assert_string_equal(only_spec(f)->path, "/tmp/mem");
	expect(f,
	       SPEC("type = \"devmem\"; phys = \"4096\"; size = 0x1000;\n"
		    "    grants = ( { user = 0; access = \"ro\"; } );"),
	       0, NULL);
	assert_int_equal(f->cfg.regions[0].policy.grants[0].length, 0x1000);

	/* Without L, a large literal is refused (it would read truncated), naming the fix. */
	expect(f, REGION("    type = \"devmem\";\n    phys = 0xfe200000;\n    size = 4;\n"), 5,
	       "L suffix");
	expect(f, REGION("    type = \"devmem\";\n    phys = \"0xfe2000zz\";\n    size = 4;\n"), 5,
	       "phys");
	expect(f, REGION("    type = \"devmem\";\n    phys = \"\";\n    size = 4;\n"), 5, "phys");
	/* A leading zero is said to be the trouble, not just "not a number". */
	expect(f, REGION("    type = \"devmem\";\n    phys = \"0100\";\n    size = 4;\n"), 5,
	       "a leading 0 is ambiguous");
	expect(f, REGION("    type = \"devmem\";\n    phys = \"-1\";\n    size = 4;\n"), 5, "phys");
	expect(f, REGION("    type = \"devmem\";\n    phys = 1.5;\n    size = 4;\n"), 5, "phys");
	expect(f, REGION("    type = \"devmem\";\n    phys = true;\n    size = 4;\n"), 5, "phys");
	expect(f, REGION("    type = \"devmem\";\n    phys = -4096;\n    size = 4;\n"), 5,
	       "negative");
	/* Region-level: missing keys, a key of another type, wrapping. */
	expect(f, SPEC("type = \"devmem\"; size = 4;"), 2, "phys");
	expect(f, SPEC("type = \"devmem\"; phys = 4;"), 2, "size");
	expect(f, SPEC("type = \"devmem\"; phys = 4; size = 4; bar = 0;"), 2, "bar");
	expect(f, SPEC("type = \"devmem\"; phys = 4; size = 4; offset = 0;"), 2, "offset");
	expect(f, SPEC("type = \"devmem\"; phys = 4; size = 4; irq = false;"), 2, "irq");
	expect(f, SPEC("type = \"devmem\"; phys = \"0xffffffffffffffff\"; size = 2;"), 2, "wraps");
}

static void
test_conf_hw_pci(void **state)
{
	struct fixture *f = *state;

	expect(f, SPEC("type = \"pci\"; device = \"0000:03:00.0\"; bar = 0;"), 0, NULL);
	const struct region_spec *s = only_spec(f);
	assert_string_equal(s->type, "pci");
	assert_string_equal(s->device, "0000:03:00.0");
	assert_int_equal(s->bar, 0);
	assert_int_equal(s->size, 0);
	assert_null(s->sysfs);
	expect(f,
	       SPEC("type = \"pci\"; device = \"0000:03:00.0\"; bar = 3; offset = 0x100;\n"
		    "    size = 0x40; sysfs = \"/tmp/sys\";\n"
		    "    grants = ( { group = 0; access = \"rw\"; offset = 0x10; } );"),
	       0, NULL);
	s = only_spec(f);
	assert_int_equal(s->bar, 3);
	assert_int_equal(s->offset, 0x100);
	assert_int_equal(s->size, 0x40);
	assert_string_equal(s->sysfs, "/tmp/sys");
	assert_int_equal(f->cfg.regions[0].policy.grants[0].length, 0x30);

	expect(f, REGION("    type = \"pci\";\n    device = \"0000:03:00.0\";\n    bar = 6;\n"), 6,
	       "bar");
	expect(f, REGION("    type = \"pci\";\n    device = \"0000:03:00.0\";\n    bar = \"0\";\n"),
	       6, "bar");
	expect(f, REGION("    type = \"pci\";\n    device = 3;\n    bar = 0;\n"), 5, "device");
	expect(f, SPEC("type = \"pci\"; device = \"0000:03:00.8\"; bar = 0;"), 2, "0000:03:00.8");
	expect(f, SPEC("type = \"pci\"; device = \"03:00.0\"; bar = 0;"), 0, NULL);
	assert_string_equal(only_spec(f)->device, "0000:03:00.0");
	expect(f, SPEC("type = \"pci\"; device = \"0:03:00.0\"; bar = 0;"), 2, "DDDD:BB:DD.F");
	expect(f, SPEC("type = \"pci\"; device = \"0000:03:00.0\";"), 2, "bar");
	expect(f, SPEC("type = \"pci\"; bar = 0;"), 2, "device");
	expect(f, SPEC("type = \"pci\"; device = \"0000:03:00.0\"; bar = 0; size = 0;"), 2, "size");
	expect(f, SPEC("type = \"pci\"; device = \"0000:03:00.0\"; bar = 0; phys = 0;"), 2, "phys");
	expect(f, SPEC("type = \"pci\"; device = \"0000:03:00.0\"; bar = 0; map = 0;"), 2, "map");
	expect(f, SPEC("type = \"pci\"; device = \"0000:03:00.0\"; bar = 0; uio_name = \"x\";"), 2,
	       "uio_name");
	/* Grants are normalised to the size: a region with grants must state it. */
	expect(f,
	       SPEC("type = \"pci\"; device = \"0000:03:00.0\"; bar = 0;\n"
		    "    grants = ( { group = 0; access = \"rw\"; } );"),
	       2, "needs size");
}

static void
test_conf_hw_uio(void **state)
{
	struct fixture *f = *state;

	expect(f, SPEC("type = \"uio\"; uio_name = \"fe200000.gpio\"; map = 0; irq = true;"), 0,
	       NULL);
	const struct region_spec *s = only_spec(f);
	assert_string_equal(s->name, "r");
	assert_string_equal(s->type, "uio");
	assert_string_equal(s->uio_name, "fe200000.gpio");
	assert_null(s->device);
	assert_int_equal(s->map, 0);
	assert_true(s->irq);
	assert_null(s->irq_dev);
	expect(f,
	       SPEC("type = \"uio\"; device = \"uio3\"; map = 4; size = 0x20; irq = \"yes\";\n"
		    "    irq_dev = \"/tmp/irq\"; sysfs = \"/tmp/sys\"; dev = \"/tmp/dev\";"),
	       0, NULL);
	s = only_spec(f);
	assert_string_equal(s->device, "uio3");
	assert_int_equal(s->map, 4);
	assert_int_equal(s->size, 0x20);
	assert_true(s->irq);
	assert_string_equal(s->irq_dev, "/tmp/irq");
	assert_string_equal(s->sysfs, "/tmp/sys");
	assert_string_equal(s->dev_dir, "/tmp/dev");
	expect(f, SPEC("type = \"uio\"; device = \"uio0\"; map = 0; irq = false;"), 0, NULL);
	assert_false(only_spec(f)->irq);
	expect(f, SPEC("type = \"uio\"; device = \"uio0\"; map = 0; irq = \"no\";"), 0, NULL);
	assert_false(only_spec(f)->irq);

	expect(f, REGION("    type = \"uio\";\n    device = \"uio0\";\n    map = 5;\n"), 6, "map");
	expect(f,
	       REGION("    type = \"uio\";\n    device = \"uio0\";\n    map = 0;\n    irq = 1;\n"),
	       7, "irq");
	expect(f,
	       REGION("    type = \"uio\";\n    device = \"uio0\";\n    map = 0;\n"
		      "    irq = \"maybe\";\n"),
	       7, "irq");
	expect(f, SPEC("type = \"uio\"; map = 0;"), 2, "uio_name");
	expect(f, SPEC("type = \"uio\"; uio_name = \"a\"; device = \"uio0\"; map = 0;"), 2,
	       "exactly one");
	expect(f, SPEC("type = \"uio\"; device = \"uio01\"; map = 0;"), 2, "uio01");
	expect(f, SPEC("type = \"uio\"; device = \"uio0\";"), 2, "map");
	expect(f, SPEC("type = \"uio\"; device = \"uio0\"; map = 0; irq_dev = \"/x\";"), 2, "irq");
	expect(f, SPEC("type = \"uio\"; device = \"uio0\"; map = 0; offset = 4;"), 2, "offset");
	expect(f, SPEC("type = \"uio\"; device = \"uio0\"; map = 0; dev = \"\";"), 2, "dev");
	expect(f,
	       SPEC("type = \"uio\"; device = \"uio0\"; map = 0;\n"
		    "    grants = ( { group = 0; access = \"rw\"; } );"),
	       2, "needs size");
	/* Keys of the new types are unknown to the old ones. */
	expect(f, SPEC("type = \"mem\"; size = 16; irq = true;"), 2, "irq");
	expect(f, SPEC("type = \"file\"; path = \"/x\"; size = 16; sysfs = \"/sys\";"), 2, "sysfs");
	expect(f, SPEC("type = \"uio\"; device = \"uio0\"; map = 0; color = 1;"), 2, "color");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_conf_hw_devmem),
		T(test_conf_hw_pci),
		T(test_conf_hw_uio),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
