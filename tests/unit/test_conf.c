/*
 * conf.c: etc/mmiod.conf into struct mmiod_config. A valid file gives exactly
 * the values written (grants normalised to the region); every mistake is
 * -EINVAL with "path:line: message" naming the line; the shipped example
 * parses. Files live in a mkdtemp directory; conf_finish runs after every
 * load so ASan sees a leak on any error path.
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

#include "base/log.h"
#include "config/conf.h"
#include "core/limits.h"
#include "core/policy.h"
#include "mmio/client.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* A region "r" of 0x1000 bytes of memory on lines 1-5; its next key is on line 6. */
#define REGION_HEAD "regions = (\n  {\n    name = \"r\";\n    type = \"mem\";\n    size = 0x1000;\n"
#define REGION_TAIL "  }\n);\n"
/* Region r with one grant list; the first grant is on line 7. */
#define GRANTS(g) REGION_HEAD "    grants = (\n      " g "\n    );\n" REGION_TAIL
/* One region defined by body alone; the region's "{" is on line 2. */
#define REGION(body) "regions = (\n  {\n" body "  }\n);\n"
/* One region on line 2. */
#define SPEC(keys) "regions = (\n  { " keys " }\n);\n"
#define NAME64                                                                                     \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" /* MMIO_MAX_NAME */

struct fixture {
	char dir[64];
	char path[96]; /* dir/mmiod.conf */
	struct mmiod_config cfg;
	char err[512];
};

static int
setup(void **state)
{
	struct fixture *f = test_calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/mmiod-test-conf-XXXXXX");
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

static void
write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	assert_true(fputs(text, fp) >= 0);
	assert_int_equal(fclose(fp), 0);
}

/* Writes text to the fixture's file and loads it into a fresh config. */
static int
load(struct fixture *f, const char *text)
{
	write_file(f->path, text);
	conf_finish(&f->cfg);
	conf_init(&f->cfg);
	memset(f->err, 0, sizeof(f->err));
	return conf_load(&f->cfg, f->path, f->err, sizeof(f->err));
}

/* Loads text and asserts rc; an error must start with "<path>:<line>:" and say something. */
static void
expect(struct fixture *f, const char *text, int rc, int line)
{
	char want[160], got[160];
	int got_rc = load(f, text);
	int n = snprintf(want, sizeof(want), "%s:%d:", f->path, line);
	size_t k = strnlen(f->err, (size_t)n < sizeof(got) ? (size_t)n : sizeof(got) - 1);
	memcpy(got, f->err, k);
	got[k] = '\0';
	if (got_rc != rc || (rc && strcmp(got, want) != 0)) {
		print_error("config:\n%s---\nrc %d err '%s'\n", text, got_rc, f->err);
	}
	assert_int_equal(got_rc, rc);
	if (rc) {
		assert_string_equal(got, want);
		assert_true(strlen(f->err) > strlen(want) + 1);
	}
}

static void
assert_grant(const struct grant *g, enum grant_subject subject, uint32_t id, uint64_t offset,
	     uint64_t length, bool read_only)
{
	assert_int_equal(g->subject, subject);
	assert_int_equal(g->id, id);
	assert_int_equal(g->offset, offset);
	assert_int_equal(g->length, length);
	assert_int_equal(g->read_only, read_only);
}

/* The user mmiod drops to: its name as kept, uid and primary gid. */
static void
assert_user(const struct mmiod_config *c, const char *user, uid_t uid, gid_t gid)
{
	assert_string_equal(c->user, user);
	assert_int_equal(c->uid, uid);
	assert_int_equal(c->gid, gid);
}

/* conf_init's limits, in struct limits order. */
#define N_LIMITS 7
static const unsigned long long default_limits[N_LIMITS] = {
	MMIO_MAX_CONNS, MMIO_MAX_CONNS_PER_UID, MMIO_MAX_LEASES_PER_CONN,
	MMIO_MAX_FRAME, MMIO_MAX_QUEUED_BYTES,  MMIO_HANDSHAKE_TIMEOUT_MS,
	MMIO_MAX_RINGS};

static void
assert_limits(const struct limits *l, const unsigned long long want[N_LIMITS])
{
	const unsigned long long got[N_LIMITS] = {
		l->max_connections, l->max_connections_per_uid, l->max_leases_per_connection,
		l->max_frame,       l->max_queued_bytes,        l->handshake_timeout_ms,
		l->max_rings};
	for (size_t i = 0; i < N_LIMITS; i++) {
		assert_int_equal(got[i], want[i]);
	}
}

static void
test_conf_full(void **state)
{
	struct fixture *f = *state;
	/* Line breaks do not matter here; every key appears once. */
	static const char text[] =
		"socket = { path = \"/run/test/mmiod.sock\"; mode = \"0640\"; group = \"nogroup\"; "
		"};\n"
		"user = \"nobody\";\nadmin_group = 0;\n"
		"limits = { max_connections = 100; max_connections_per_uid = 10;\n"
		"  max_leases_per_connection = 7; max_frame = 4096; max_queued_bytes = 65536;\n"
		"  handshake_timeout_ms = 250; max_rings = 3; };\n"
		"regions = (\n"
		"  { name = \"ram\"; type = \"mem\"; size = 0x2000; offset = 0; audit = \"all\";\n"
		"    grants = ( { user = \"daemon\"; access = \"rw\"; },\n"
		"               { group = 65534; access = \"ro\"; offset = 0x100; },\n"
		"               { user = 65534; access = \"rw\"; offset = 0x10; length = 0x20; },\n"
		"               { group = \"root\"; access = \"ro\"; length = 0x40; } ); },\n"
		"  { name = \"regs.bin\"; type = \"file\"; path = \"/tmp/regs.bin\"; offset = "
		"0x3000;\n"
		"    size = 4096; audit = \"stores\";\n"
		"    grants = ( { group = \"daemon\"; access = \"rw\"; offset = 0x800; } ); }\n"
		");\n";
	expect(f, text, 0, 0);
	const struct mmiod_config *c = &f->cfg;
	assert_string_equal(c->socket_path, "/run/test/mmiod.sock");
	assert_int_equal(c->socket_mode, 0640);
	assert_int_equal(c->socket_gid, 65534);
	assert_user(c, "nobody", 65534, 65534);
	assert_true(c->has_admin_gid);
	assert_int_equal(c->admin_gid, 0);
	assert_limits(&c->limits,
		      (const unsigned long long[N_LIMITS]){100, 10, 7, 4096, 65536, 250, 3});
	assert_int_equal(c->n_regions, 2);

	const struct region_config *r = &c->regions[0];
	assert_string_equal(r->spec.name, "ram");
	assert_string_equal(r->spec.type, "mem");
	assert_null(r->spec.path);
	assert_int_equal(r->spec.size, 0x2000);
	assert_int_equal(r->spec.offset, 0);
	assert_int_equal(r->policy.audit, AUDIT_ALL);
	assert_int_equal(r->policy.n_grants, 4);
	assert_grant(&r->policy.grants[0], GRANT_USER, 1, 0, 0x2000, false);
	assert_grant(&r->policy.grants[1], GRANT_GROUP, 65534, 0x100, 0x1f00, true);
	assert_grant(&r->policy.grants[2], GRANT_USER, 65534, 0x10, 0x20, false);
	assert_grant(&r->policy.grants[3], GRANT_GROUP, 0, 0, 0x40, true);

	r = &c->regions[1];
	assert_string_equal(r->spec.name, "regs.bin");
	assert_string_equal(r->spec.type, "file");
	assert_string_equal(r->spec.path, "/tmp/regs.bin");
	assert_int_equal(r->spec.size, 4096);
	assert_int_equal(r->spec.offset, 0x3000);
	assert_int_equal(r->policy.audit, AUDIT_STORES);
	assert_int_equal(r->policy.n_grants, 1);
	assert_grant(&r->policy.grants[0], GRANT_GROUP, 1, 0x800, 0x800, false);

	assert_ptr_equal(conf_find_region(c, "ram"), &c->regions[0]);
	assert_ptr_equal(conf_find_region(c, "regs.bin"), &c->regions[1]);
	assert_null(conf_find_region(c, "ra"));
	assert_null(conf_find_region(c, "ram0"));
	assert_null(conf_find_region(c, "RAM"));
	assert_null(conf_find_region(c, ""));
}

/* Absent keys keep conf_init's values; numbers name users and groups too. */
static void
test_conf_defaults(void **state)
{
	struct fixture *f = *state;
	static const char *const texts[] = {
		"", "# nothing\n", "limits = { };\nsocket = { };\n",
		REGION("    name = \"r\"; type = \"mem\"; size = 1;\n")};
	for (size_t i = 0; i < ARRAY_LEN(texts); i++) {
		expect(f, texts[i], 0, 0);
		const struct mmiod_config *c = &f->cfg;
		assert_null(c->socket_path);
		assert_int_equal(c->socket_mode, 0660);
		assert_int_equal(c->socket_gid, (gid_t)-1);
		assert_null(c->user);
		assert_int_equal(c->uid, (uid_t)-1);
		assert_int_equal(c->gid, (gid_t)-1);
		assert_false(c->has_admin_gid);
		assert_limits(&c->limits, default_limits);
		assert_int_equal(c->n_regions, i == 3 ? 1 : 0);
	}
	const struct region_config *r = &f->cfg.regions[0];
	assert_int_equal(r->policy.audit, AUDIT_NONE);
	assert_int_equal(r->policy.n_grants, 0);

	expect(f, "limits = { max_frame = 256; };\nuser = 1;\nsocket = { group = 1; };\n", 0, 0);
	unsigned long long want[N_LIMITS];
	memcpy(want, default_limits, sizeof(want));
	want[3] = 256;
	assert_limits(&f->cfg.limits, want);
	assert_user(&f->cfg, "1", 1, 1);
	assert_int_equal(f->cfg.socket_gid, 1);
	assert_int_equal(f->cfg.socket_mode, 0660);

	expect(f, "user = 65534;\nadmin_group = \"nogroup\";\n", 0, 0);
	assert_user(&f->cfg, "65534", 65534, 65534);
	assert_true(f->cfg.has_admin_gid);
	assert_int_equal(f->cfg.admin_gid, 65534);
}

static void
test_conf_unreadable(void **state)
{
	struct fixture *f = *state;
	char missing[128], prefix[160];
	snprintf(missing, sizeof(missing), "%s/missing.conf", f->dir);
	const char *const paths[] = {missing, f->dir};
	/* The reason is the system's own, not a guess between two. */
	const char *const reasons[] = {strerror(ENOENT), strerror(EISDIR)};
	for (size_t i = 0; i < ARRAY_LEN(paths); i++) {
		f->err[0] = '\0';
		assert_int_equal(conf_load(&f->cfg, paths[i], f->err, sizeof(f->err)), -ENOENT);
		snprintf(prefix, sizeof(prefix), "%s: %s", paths[i], reasons[i]);
		assert_string_equal(f->err, prefix);
		assert_int_equal(f->cfg.n_regions, 0);
	}
	/* Over 1 MiB is said as such (comments only: it would parse). */
	size_t big = (1u << 20) + 1;
	char *text = malloc(big + 1);
	assert_non_null(text);
	memset(text, '\n', big);
	text[0] = '#';
	text[big] = '\0';
	f->err[0] = '\0';
	assert_int_equal(load(f, text), -EINVAL);
	free(text);
	assert_non_null(strstr(f->err, "too big for a config file"));
	/* Exactly 1 MiB still loads. */
	text = malloc(big);
	assert_non_null(text);
	memset(text, '\n', big - 1);
	text[big - 1] = '\0';
	assert_int_equal(load(f, text), 0);
	free(text);
}

/* log_level: one of the four levels; not set, the command line's (or info) holds. */
static void
test_conf_log_level(void **state)
{
	struct fixture *f = *state;
	expect(f, "regions = ();\n", 0, 0);
	assert_int_equal(f->cfg.log_level, -1);
	expect(f, "log_level = \"debug\";\n", 0, 0);
	assert_int_equal(f->cfg.log_level, LOG_LEVEL_DEBUG);
	expect(f, "log_level = \"warn\";\n", 0, 0);
	assert_int_equal(f->cfg.log_level, LOG_LEVEL_WARN);
	expect(f, "\nlog_level = \"loud\";\n", -EINVAL, 2);
	assert_non_null(strstr(f->err, "log_level must be"));
	expect(f, "log_level = 3;\n", -EINVAL, 1);
}

static void
test_conf_errors(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *text;
		int line;
	} bad[] = {
		/* Syntax. */
		{"user = \"nobody\";\nlimits = {\n  max_frame = ;\n};\n", 3},
		{"socket = {\n  path = \"/run/x\";\n};\n};\n", 4},
		/* Unknown keys at every level. */
		{"user = \"nobody\";\n\ncolour = \"red\";\n", 3},
		{"socket = {\n  path = \"/run/x\";\n  owner = \"root\";\n};\n", 3},
		{"limits = {\n  max_connections = 4;\n  max_conections_per_uid = 2;\n};\n", 3},
		{REGION_HEAD "    colour = \"red\";\n" REGION_TAIL, 6},
		{GRANTS("{ group = \"root\"; access = \"rw\";\n        colour = 1; }"), 8},
		/* Wrong shapes and types. */
		{"socket = \"/run/x\";\n", 1},
		{"\nlimits = 5;\n", 2},
		{"\nregions = { name = \"r\"; };\n", 2},
		{"\nregions = ( \"r\" );\n", 2},
		{REGION_HEAD "    grants = { group = \"root\"; access = \"rw\"; };\n" REGION_TAIL,
		 6},
		{REGION_HEAD "    grants = [ 1 ];\n" REGION_TAIL, 6},
		{REGION("    name = \"r\";\n    type = \"mem\";\n    size = \"big\";\n"), 5},
		{REGION("    name = \"r\";\n    type = \"mem\";\n    size = 16.0;\n"), 5},
		{REGION("    name = \"r\";\n    type = \"mem\";\n    size = 16;\n    audit = 1;\n"),
		 6},
		{"socket = {\n  mode = 0660;\n};\n", 2},
		{"limits = {\n  max_frame = 4096.0;\n};\n", 2},
		{"\nuser = 1.5;\n", 2},
		{GRANTS("{ group = \"root\";\n        access = 1; }"), 8},
		{GRANTS("{ group = \"root\"; access = \"rw\";\n        offset = \"0\"; }"), 8},
		/* Negative numbers. */
		{REGION("    name = \"r\";\n    type = \"mem\";\n    size = -1;\n"), 5},
		{REGION("    name = \"r\";\n    type = \"mem\";\n    size = "
			"0xffffffffffffffffL;\n"),
		 5},
		{GRANTS("{ group = \"root\"; access = \"rw\";\n        offset = -16; }"), 8},
		{GRANTS("{ group = \"root\"; access = \"rw\";\n        length = -1L; }"), 8},
		{"limits = {\n  max_connections = -1;\n};\n", 2},
		{"\nuser = -1;\n", 2},
		/* Names that do not resolve; ids out of range. */
		{"# users\nuser = \"no-such-user-mmiod\";\n", 2},
		{"socket = {\n  group = \"no-such-group-mmiod\";\n};\n", 2},
		{"\nadmin_group = \"no-such-group-mmiod\";\n", 2},
		{"\nadmin_group = -1;\n", 2},
		{"\nadmin_group = 4294967295L;\n", 2},
		{"\nuser = 4294967296L;\n", 2},
		{GRANTS("{ group = \"no-such-group-mmiod\"; access = \"rw\"; }"), 7},
		{GRANTS("{ user = \"no-such-user-mmiod\"; access = \"rw\"; }"), 7},
		{GRANTS("{ user = \"nogroup\"; access = \"rw\"; }"), 7}, /* a group, not a user */
		/* mmiod must drop privileges. */
		{"\n\nuser = \"root\";\n", 3},
		{"\nuser = 0;\n", 2},
		/* A grant names exactly one subject and a known access. */
		{GRANTS("{ group = \"root\"; access = \"rw\"; },\n      {\n        user = "
			"\"nobody\";\n"
			"        group = \"nogroup\";\n        access = \"ro\";\n      }"),
		 8},
		{GRANTS("{ access = \"rw\"; }"), 7},
		{GRANTS("{ user = \"nobody\"; }"), 7},
		{GRANTS("{ user = \"nobody\"; access = \"wo\"; }"), 7},
		{GRANTS("{ user = \"nobody\"; access = \"\"; }"), 7},
		/* Grant ranges outside region r (size 0x1000), including ones whose end wraps. */
		{GRANTS("{ group = 0; access = \"ro\"; offset = 0x1001; }"), 7},
		{GRANTS("{ group = 0; access = \"ro\"; offset = 0x1000; length = 1; }"), 7},
		{GRANTS("{ group = 0; access = \"ro\"; offset = 0x800; length = 0x801; }"), 7},
		{GRANTS("{ group = 0; access = \"ro\"; length = 0x1001; }"), 7},
		{GRANTS("{ group = 0; access = \"ro\"; offset = 0x10; length = "
			"0x7ffffffffffffff8L; }"),
		 7},
		{GRANTS("{ group = 0; access = \"ro\"; offset = 0x7fffffffffffffffL; length = 2; "
			"}"),
		 7},
		{GRANTS("{ group = 0; access = \"ro\"; offset = 0x7fffffffffffffffL; }"), 7},
		{GRANTS("{ group = 0; access = \"ro\"; offset = 0x1000; },\n"
			"      { group = 0; access = \"ro\"; offset = 0x7ffffffffffff000L; }"),
		 8},
		/* Region specs (reported at the region). */
		{SPEC("name = \"r\"; type = \"mem\"; path = \"/tmp/x\"; size = 16;"), 2},
		{SPEC("name = \"r\"; type = \"mem\"; offset = 1; size = 16;"), 2},
		{SPEC("name = \"r\"; type = \"file\"; size = 16;"), 2},
		{SPEC("name = \"r\"; type = \"file\"; path = \"/x\";"), 2},
		{SPEC("name = \"r\"; type = \"mem\"; size = 0;"), 2},
		{SPEC("name = \"r/0\"; type = \"mem\"; size = 16;"), 2},
		{SPEC("name = \"\"; type = \"mem\"; size = 16;"), 2},
		{SPEC("type = \"mem\"; size = 16;"), 2},
		{SPEC("name = \"r\"; type = \"disk\"; size = 16;"), 2},
		{SPEC("name = \"r\"; size = 16;"), 2},
		{SPEC("name = \"r\"; type = \"memmemmemmemmemmem\"; size = 16;"), 2},
		{SPEC("name = \"" NAME64 "a\"; type = \"mem\"; size = 16;"), 2},
		/* A name defined twice: reported at the second definition. */
		{"regions = (\n  { name = \"a\"; type = \"mem\"; size = 8; },\n"
		 "  { name = \"b\"; type = \"mem\"; size = 8; },\n"
		 "  { name = \"a\"; type = \"file\"; path = \"/x\"; size = 16; }\n);\n",
		 4},
	};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		expect(f, bad[i].text, -EINVAL, bad[i].line);
	}
	/* The longest name is fine. */
	expect(f, SPEC("name = \"" NAME64 "\"; type = \"mem\"; size = 16;"), 0, 0);
	assert_int_equal(strlen(f->cfg.regions[0].spec.name), MMIO_MAX_NAME);
}

/*
 * Settings whose value alone is wrong. The message names the setting; the
 * line should be the setting's own (value_line), see test_conf_value_error_lines.
 */
static const struct {
	const char *text;
	const char *message;
	int value_line;
} value_errors[] = {
	{"socket = {\n  path = \"/run/x\";\n  mode = \"0999\";\n};\n", "mode must be", 3},
	{"socket = {\n  path = \"/run/x\";\n  mode = \"rw\";\n};\n", "mode must be", 3},
	{"socket = {\n  path = \"/run/x\";\n  mode = \"\";\n};\n", "mode must be", 3},
	{"socket = {\n  path = \"/run/x\";\n  mode = \"01000\";\n};\n", "mode must be", 3},
	{"socket = {\n  path = \"/run/x\";\n  mode = \"0x1ff\";\n};\n", "mode must be", 3},
	{"socket = {\n  mode = \"0660\";\n  path = \"run/mmiod.sock\";\n};\n", "absolute", 3},
	{"socket = {\n  mode = \"0660\";\n  path = \"\";\n};\n", "absolute", 3},
	{REGION_HEAD "    audit = \"some\";\n" REGION_TAIL, "audit must be", 6},
	{REGION_HEAD "    audit = \"ALL\";\n" REGION_TAIL, "audit must be", 6},
	{GRANTS("{\n        group = \"root\";\n        access = \"wo\";\n      }"),
	 "access must be", 9},
};

static void
test_conf_value_errors(void **state)
{
	struct fixture *f = *state;
	for (size_t i = 0; i < ARRAY_LEN(value_errors); i++) {
		assert_int_equal(load(f, value_errors[i].text), -EINVAL);
		assert_int_equal(strncmp(f->err, f->path, strlen(f->path)), 0);
		assert_int_equal(f->err[strlen(f->path)], ':');
		if (!strstr(f->err, value_errors[i].message)) {
			print_error("config:\n%s---\nerr '%s'\n", value_errors[i].text, f->err);
		}
		assert_non_null(strstr(f->err, value_errors[i].message));
	}
	expect(f, "socket = {\n  mode = \"0\";\n  path = \"/\";\n};\n", 0, 0);
	assert_int_equal(f->cfg.socket_mode, 0);
	expect(f, "socket = {\n  mode = \"777\";\n};\n", 0, 0);
	assert_int_equal(f->cfg.socket_mode, 0777);
}

static void
test_conf_limits_range(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *key;
		unsigned long long min, max;
	} keys[] = {
		{"max_connections", 1, 65536},
		{"max_connections_per_uid", 1, 65536},
		{"max_leases_per_connection", 1, 65536},
		{"max_frame", 256, MMIO_MAX_FRAME},
		{"max_queued_bytes", 1, 1u << 30},
		{"handshake_timeout_ms", 1, 3600000},
		{"max_rings", 0, 65536}, /* 0: no ring offered */
	};
	char text[128];
	for (size_t i = 0; i < ARRAY_LEN(keys); i++) {
		/* With min 0 there is nothing below it to refuse: min - 1 would wrap. */
		const unsigned long long bad[] = {keys[i].max + 1, keys[i].min - 1, 0};
		for (size_t k = 0; k < (keys[i].min > 0 ? ARRAY_LEN(bad) : 1); k++) {
			snprintf(text, sizeof(text), "limits = {\n  %s = %llu;\n};\n", keys[i].key,
				 bad[k]);
			expect(f, text, -EINVAL, 2);
		}
		const unsigned long long good[] = {keys[i].min, keys[i].max};
		for (size_t k = 0; k < ARRAY_LEN(good); k++) {
			snprintf(text, sizeof(text), "limits = {\n  %s = %llu;\n};\n", keys[i].key,
				 good[k]);
			expect(f, text, 0, 0);
			unsigned long long want[N_LIMITS];
			memcpy(want, default_limits, sizeof(want));
			want[i] = good[k];
			assert_limits(&f->cfg.limits, want);
		}
	}
}

static void
test_conf_grants_and_audit(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *grant;
		uint64_t offset, length;
	} cases[] = {
		{"{ user = 1; access = \"ro\"; }", 0, 0x1000},
		{"{ user = 1; access = \"ro\"; offset = 0x100; }", 0x100, 0xf00},
		{"{ user = 1; access = \"ro\"; length = 0x40; }", 0, 0x40},
		{"{ user = 1; access = \"ro\"; offset = 0x100; length = 0x40; }", 0x100, 0x40},
		{"{ user = 1; access = \"ro\"; offset = 0; length = 0x1000; }", 0, 0x1000},
		{"{ user = 1; access = \"ro\"; offset = 0xfff; length = 1; }", 0xfff, 1},
		{"{ user = 1; access = \"ro\"; offset = 0xfffL; }", 0xfff, 1},
		{"{ user = 1; access = \"ro\"; offset = 0x1000; }", 0x1000, 0},
		{"{ user = 1; access = \"ro\"; offset = 0x1000; length = 0; }", 0x1000, 0},
	};
	char text[512];
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		snprintf(text, sizeof(text), GRANTS("%s"), cases[i].grant);
		expect(f, text, 0, 0);
		assert_int_equal(f->cfg.regions[0].policy.n_grants, 1);
		assert_grant(&f->cfg.regions[0].policy.grants[0], GRANT_USER, 1, cases[i].offset,
			     cases[i].length, true);
	}
	/* An empty list is no grant at all; so is an empty array. */
	expect(f, REGION_HEAD "    grants = ( );\n" REGION_TAIL, 0, 0);
	assert_int_equal(f->cfg.regions[0].policy.n_grants, 0);
	expect(f, REGION_HEAD "    grants = [ ];\n" REGION_TAIL, 0, 0);
	assert_int_equal(f->cfg.regions[0].policy.n_grants, 0);

	static const char *const audit[] = {"none", "stores", "all"}; /* enum audit_mode order */
	for (size_t i = 0; i < ARRAY_LEN(audit); i++) {
		snprintf(text, sizeof(text), REGION_HEAD "    audit = \"%s\";\n" REGION_TAIL,
			 audit[i]);
		expect(f, text, 0, 0);
		assert_int_equal(f->cfg.regions[0].policy.audit, (enum audit_mode)i);
	}
}

/* Builds a region with n one-line grants (line 6), or n one-line regions (lines 2..n+1). */
static void
test_conf_counts(void **state)
{
	struct fixture *f = *state;
	static const char grant[] = "{ user = 1; access = \"ro\"; },";
	static const char region[] = "  { name = \"r%03u\"; type = \"mem\"; size = 8; },\n";
	static char text[256 + (MMIO_MAX_REGIONS + 1) * sizeof(region) +
			 (MMIO_MAX_GRANTS_PER_REGION + 1) * sizeof(grant)];
	const size_t cap = sizeof(text);

	for (unsigned n = MMIO_MAX_GRANTS_PER_REGION; n <= MMIO_MAX_GRANTS_PER_REGION + 1; n++) {
		size_t len = (size_t)snprintf(text, cap, REGION_HEAD "    grants = (");
		for (unsigned i = 0; i < n; i++) {
			len += (size_t)snprintf(text + len, cap - len, "%s", grant);
		}
		snprintf(text + len - 1, cap - len + 1, " );\n" REGION_TAIL);
		if (n == MMIO_MAX_GRANTS_PER_REGION) {
			expect(f, text, 0, 0);
			assert_int_equal(f->cfg.regions[0].policy.n_grants, n);
		} else {
			expect(f, text, -EINVAL, 6);
		}
	}
	for (unsigned n = MMIO_MAX_REGIONS; n <= MMIO_MAX_REGIONS + 1; n++) {
		size_t len = (size_t)snprintf(text, cap, "regions = (\n");
		for (unsigned i = 0; i < n; i++) {
			len += (size_t)snprintf(text + len, cap - len, region, i);
		}
		snprintf(text + len - 2, cap - len + 2, "\n);\n");
		if (n == MMIO_MAX_REGIONS) {
			expect(f, text, 0, 0);
			assert_int_equal(f->cfg.n_regions, n);
			assert_ptr_equal(conf_find_region(&f->cfg, "r063"), &f->cfg.regions[63]);
		} else {
			expect(f, text, -EINVAL, (int)n + 1);
		}
	}
}

static void
test_conf_add_region(void **state)
{
	struct fixture *f = *state;
	struct mmiod_config *c = &f->cfg;

	assert_int_equal(conf_add_region(c, "a,type=mem,size=64", f->err, sizeof(f->err)), 0);
	assert_int_equal(c->n_regions, 1);
	const struct region_config *r = conf_find_region(c, "a");
	assert_ptr_equal(r, &c->regions[0]);
	assert_int_equal(r->spec.size, 64);
	assert_int_equal(r->policy.n_grants, 0); /* root only */
	assert_null(r->policy.grants);
	assert_int_equal(r->policy.audit, AUDIT_NONE);

	assert_int_equal(conf_add_region(c, "b,type=file,path=/tmp/b,size=8,offset=4", f->err,
					 sizeof(f->err)),
			 0);
	assert_string_equal(conf_find_region(c, "b")->spec.path, "/tmp/b");
	assert_null(conf_find_region(c, "c"));

	static const char *const bad[] = {"a,type=mem,size=8", "c,type=mem", "c,type=file,size=8",
					  "c/1,type=mem,size=8", ""};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		f->err[0] = '\0';
		assert_int_equal(conf_add_region(c, bad[i], f->err, sizeof(f->err)), -EINVAL);
		assert_true(strlen(f->err) > 0);
	}
	assert_int_equal(conf_find_region(c, "a")->spec.size, 64);

	/* A config's regions and the command line's share one namespace and one limit. */
	expect(f, REGION_HEAD REGION_TAIL, 0, 0);
	assert_int_equal(conf_add_region(c, "r,type=mem,size=8", f->err, sizeof(f->err)), -EINVAL);
	assert_non_null(strstr(f->err, "twice"));
	conf_finish(c);
	conf_init(c);
	char text[32];
	for (unsigned i = 0; i < MMIO_MAX_REGIONS; i++) {
		snprintf(text, sizeof(text), "r%u,type=mem,size=8", i);
		assert_int_equal(conf_add_region(c, text, f->err, sizeof(f->err)), 0);
	}
	assert_int_equal(conf_add_region(c, "x,type=mem,size=8", f->err, sizeof(f->err)), -EINVAL);
	assert_int_equal(c->n_regions, MMIO_MAX_REGIONS);
}

static void
test_conf_set_user(void **state)
{
	struct fixture *f = *state;
	struct mmiod_config *c = &f->cfg;

	assert_int_equal(conf_set_user(c, "nobody", f->err, sizeof(f->err)), 0);
	assert_user(c, "nobody", 65534, 65534);
	assert_int_equal(conf_set_user(c, "1", f->err, sizeof(f->err)), 0);
	assert_user(c, "daemon", 1, 1);
	assert_int_equal(conf_set_user(c, "0x1", f->err, sizeof(f->err)), 0);
	assert_user(c, "daemon", 1, 1);

	static const char *const bad[] = {"root", "0",          "0x0", "no-such-user-mmiod",
					  "",     "4294967295", "-1",  "99999999999999999999"};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		f->err[0] = '\0';
		assert_int_equal(conf_set_user(c, bad[i], f->err, sizeof(f->err)), -EINVAL);
		assert_true(strlen(f->err) > 0);
		assert_user(c, "daemon", 1, 1); /* a refusal changes nothing */
	}
	/* The command line wins over the file. */
	expect(f, "user = \"daemon\";\n", 0, 0);
	assert_int_equal(conf_set_user(c, "nobody", f->err, sizeof(f->err)), 0);
	assert_user(c, "nobody", 65534, 65534);
}

/* Copies the shipped example with its user and group names replaced by ones every Debian has. */
static void
write_example(struct fixture *f)
{
	static const char *const names[][2] = {{"\"mmio\"", "\"nogroup\""},
					       {"\"mmio-admin\"", "\"root\""},
					       {"\"mmiod\"", "\"nobody\""},
					       {"\"gpio-daemon\"", "\"daemon\""}};
	static char src[16384], out[2 * sizeof(src)];
	FILE *in = fopen(MMIOD_EXAMPLE_CONF, "r");
	assert_non_null(in);
	size_t len = fread(src, 1, sizeof(src) - 1, in);
	fclose(in);
	assert_true(len > 0 && len < sizeof(src) - 1);
	src[len] = '\0';
	char *o = out;
	for (const char *p = src; *p;) {
		size_t k = 0;
		while (k < ARRAY_LEN(names) && strncmp(p, names[k][0], strlen(names[k][0])) != 0) {
			k++;
		}
		if (k < ARRAY_LEN(names)) {
			o = stpcpy(o, names[k][1]);
			p += strlen(names[k][0]);
		} else {
			*o++ = *p++;
		}
	}
	*o = '\0';
	write_file(f->path, out);
}

/* The shipped example parses, its names resolve, and its "defaults" are ours. */
static void
test_conf_example(void **state)
{
	struct fixture *f = *state;
	write_example(f);
	int rc = conf_load(&f->cfg, f->path, f->err, sizeof(f->err));
	if (rc != 0) {
		print_error("%s\n", f->err);
	}
	assert_int_equal(rc, 0);
	const struct mmiod_config *c = &f->cfg;
	assert_string_equal(c->socket_path, MMIO_DEFAULT_SOCKET_PATH);
	assert_int_equal(c->socket_gid, 65534);
	assert_int_equal(c->uid, 65534);
	assert_true(c->has_admin_gid);
	assert_int_equal(c->admin_gid, 0);
	assert_limits(&c->limits, default_limits);
	assert_true(c->n_regions > 0);
	for (unsigned i = 0; i < c->n_regions; i++) {
		const struct region_config *r = &c->regions[i];
		for (unsigned g = 0; g < r->policy.n_grants; g++) {
			const struct grant *gr = &r->policy.grants[g];
			assert_true(gr->offset <= r->spec.size);
			assert_true(gr->length <= r->spec.size - gr->offset);
		}
	}
}

/*
 * Regression: an error in a setting's value was reported at the line of the
 * enclosing group (socket, region or grant), not at the setting's own line.
 */
static void
test_conf_value_error_lines(void **state)
{
	struct fixture *f = *state;
	for (size_t i = 0; i < ARRAY_LEN(value_errors); i++) {
		expect(f, value_errors[i].text, -EINVAL, value_errors[i].value_line);
	}
}

/*
 * Regression: libconfig 1.5 (Debian 12) keeps an integer literal without the L
 * suffix in 32 bits, silently dropping the high bits, and conf.c took the
 * result as written. A number must be read as written or refused.
 */
static void
test_conf_big_literal_not_truncated(void **state)
{
	struct fixture *f = *state;
	/* 2^32 + 256: over the max_frame limit, must not load as 256. */
	expect(f, "limits = {\n  max_frame = 4294967552;\n};\n", -EINVAL, 2);

	/* An 8 GiB region: a grant meant for 0x100000100 must not cover 0x100. */
	int rc = load(f, REGION("    name = \"r\";\n    type = \"mem\";\n    size = 0x200000000L;\n"
				"    grants = ( { user = 1; access = \"rw\"; offset = 0x100000100; "
				"length = 0x40; } );\n"));
	if (rc == 0) {
		assert_int_equal(f->cfg.regions[0].policy.grants[0].offset, 0x100000100ull);
	} else {
		assert_int_equal(rc, -EINVAL);
	}
	rc = load(f, REGION("    name = \"r\";\n    type = \"mem\";\n    size = 0x100001000;\n"));
	if (rc == 0) {
		assert_int_equal(f->cfg.regions[0].spec.size, 0x100001000ull);
	} else {
		assert_int_equal(rc, -EINVAL);
	}
}

/*
 * Regression: the guard read 04294967296 as octal (strtoull base 0: it fits 32
 * bits) while libconfig 1.5 reads decimal 4294967296 and truncates it to 0, so
 * a grant written for offset 04294967296 covered offset 0. A leading zero is
 * refused whatever the value: C would read it as octal, libconfig as decimal.
 */
static void
test_conf_leading_zero_refused(void **state)
{
	struct fixture *f = *state;
	static const char *const bad[] = {"04294967296", "0755",  "00",    "08",
					  "-0755",       "0755L", "00LL",  "-00",
					  "000000001",   "09L",   "+0100", "0000"};
	char text[512];
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		snprintf(text, sizeof(text),
			 GRANTS("{ user = 1; access = \"rw\";\n        offset = %s; length = 4; }"),
			 bad[i]);
		expect(f, text, -EINVAL, 8);
		if (!strstr(f->err, "leading zero")) {
			print_error("%s: err '%s'\n", bad[i], f->err);
		}
		assert_non_null(strstr(f->err, "leading zero"));
		assert_non_null(strstr(f->err, bad[i]));
	}
	/* Zero itself, hex with leading zeros, and floats (decimal to everyone) are no problem. */
	static const struct {
		const char *literal;
		uint64_t offset;
	} good[] = {{"0", 0},
		    {"0L", 0},
		    {"-0", 0},
		    {"0x0", 0},
		    {"0x010", 16},
		    {"0X0000ff", 255},
		    {"0x0000000000000800L", 0x800}};
	for (size_t i = 0; i < ARRAY_LEN(good); i++) {
		snprintf(text, sizeof(text),
			 GRANTS("{ user = 1; access = \"rw\";\n        offset = %s; length = 4; }"),
			 good[i].literal);
		expect(f, text, 0, 0);
		assert_int_equal(f->cfg.regions[0].policy.grants[0].offset, good[i].offset);
	}
	/* A float passes the guard and is refused as what it is, not as a literal. */
	static const char *const floats[] = {"0.5", "00.5", "1e3", "1.5e3", ".5", "5.", "-0.0"};
	for (size_t i = 0; i < ARRAY_LEN(floats); i++) {
		snprintf(text, sizeof(text),
			 GRANTS("{ user = 1; access = \"rw\";\n        offset = %s; length = 4; }"),
			 floats[i]);
		expect(f, text, -EINVAL, 8);
		assert_non_null(strstr(f->err, "offset must be an integer"));
	}
	/* Numbers in strings and comments are not literals. */
	expect(f,
	       "# offset = 04294967296;\n"
	       "// 0755 0x100000000\n"
	       "/* 00 4294967552\n   08 */\n" GRANTS("{ user = \"04294967296\"; access = \"rw\"; } "
						     "/* 0755 */ # 00"),
	       -EINVAL, 11); /* the user named "04294967296" does not exist */
	assert_non_null(strstr(f->err, "no user named '04294967296'"));
	expect(f,
	       "# 04294967296\n" REGION("    name = \"r0755\"; # 00\n"
					"    type = \"mem\"; // 0755\n"
					"    size = 0x100; /* 09 */\n"),
	       0, 0);
	assert_string_equal(f->cfg.regions[0].spec.name, "r0755");
	assert_int_equal(f->cfg.regions[0].spec.size, 0x100);
	/* The line named is the literal's, past strings and comments spanning lines. */
	expect(f, "/*\n\n*/ limits = {\n  max_frame = \"a\n\";\n  max_connections = 016;\n};\n",
	       -EINVAL, 6);
	assert_non_null(strstr(f->err, "016 has a leading zero"));
	/* The included file would escape the guard. */
	expect(f, "regions = ( );\n@include \"/dev/null\"\n", -EINVAL, 2);
	assert_non_null(strstr(f->err, "@include"));
}

/*
 * The guard reads every integer as libconfig 1.5 does: 32 bits without L
 * (whatever the leading zeros of a hex one), a signed 64-bit value with L.
 */
static void
test_conf_literal_widths(void **state)
{
	struct fixture *f = *state;
	static const char *const bad[] = {"0x0000000100000000",
					  "0x80000000",
					  "0xffffffff",
					  "2147483648",
					  "-2147483649",
					  "4294967296",
					  "0x8000000000000000L",
					  "0x10000000000000000L",
					  "9223372036854775808L",
					  "-9223372036854775809L",
					  "99999999999999999999L",
					  "0xffffffffffffffffLL"};
	char text[512];
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		snprintf(text, sizeof(text), "limits = {\n  max_frame = %s;\n};\n", bad[i]);
		expect(f, text, -EINVAL, 2);
		if (!strstr(f->err, "does not fit")) {
			print_error("%s: err '%s'\n", bad[i], f->err);
		}
		assert_non_null(strstr(f->err, "does not fit"));
	}
	/* With L, a 64-bit value is read as written, leading zeros of hex or not. */
	expect(f,
	       REGION("    name = \"r\";\n    type = \"mem\";\n    size = 0x0000000100000000L;\n"),
	       0, 0);
	assert_int_equal(f->cfg.regions[0].spec.size, 0x100000000ull);
	expect(f, REGION("    name = \"r\";\n    type = \"mem\";\n    size = 8589934592LL;\n"), 0,
	       0);
	assert_int_equal(f->cfg.regions[0].spec.size, 0x200000000ull);
	/* The extremes that fit are not the guard's to refuse (later checks judge the sign). */
	expect(f, "limits = {\n  max_frame = 0x7fffffff;\n};\n", -EINVAL, 2);
	assert_non_null(strstr(f->err, "max_frame must be in"));
	expect(f, "limits = {\n  max_frame = -2147483648;\n};\n", -EINVAL, 2);
	assert_non_null(strstr(f->err, "must not be negative"));
	expect(f, "limits = {\n  max_frame = -9223372036854775808L;\n};\n", -EINVAL, 2);
	assert_non_null(strstr(f->err, "must not be negative"));
	expect(f, "limits = {\n  max_frame = 0x7fffffffffffffffL;\n};\n", -EINVAL, 2);
	assert_non_null(strstr(f->err, "max_frame must be in"));
}

/*
 * A grant's irq lets its holder own the region's interrupt (policy_may_own_irq).
 * Acknowledging one writes to the device, so irq on a read-only grant is an
 * error, reported at its line.
 */
static void
test_conf_grant_irq(void **state)
{
	struct fixture *f = *state;
	expect(f, GRANTS("{ user = 1; access = \"rw\"; offset = 0x10; length = 4; irq = true; }"),
	       0, 0);
	assert_true(f->cfg.regions[0].policy.grants[0].irq);
	assert_false(f->cfg.regions[0].policy.grants[0].read_only);
	expect(f, GRANTS("{ user = 1; access = \"rw\"; irq = \"yes\"; }"), 0, 0);
	assert_true(f->cfg.regions[0].policy.grants[0].irq);
	static const char *const off[] = {"", "irq = false;", "irq = \"no\";"};
	char text[512];
	for (size_t i = 0; i < ARRAY_LEN(off); i++) {
		snprintf(text, sizeof(text), GRANTS("{ user = 1; access = \"rw\"; %s }"), off[i]);
		expect(f, text, 0, 0);
		assert_false(f->cfg.regions[0].policy.grants[0].irq);
	}
	/* ro: refused, whichever way irq is spelt; irq = false is fine. */
	expect(f, GRANTS("{ user = 1; access = \"ro\";\n        irq = true; }"), -EINVAL, 8);
	assert_non_null(strstr(f->err, "irq = true needs access = \"rw\""));
	expect(f,
	       GRANTS("{ user = 1; access = \"ro\"; offset = 0x10; length = 4; },\n"
		      "      { group = 0;\n        irq = \"yes\";\n        access = \"ro\"; }"),
	       -EINVAL, 9);
	assert_non_null(strstr(f->err, "irq = true needs access"));
	expect(f, GRANTS("{ user = 1; access = \"ro\"; irq = false; }"), 0, 0);
	assert_false(f->cfg.regions[0].policy.grants[0].irq);
	/* Anything but a boolean or "yes"/"no". */
	expect(f, GRANTS("{ user = 1; access = \"rw\";\n        irq = 1; }"), -EINVAL, 8);
	assert_non_null(strstr(f->err, "irq must be"));
	expect(f, GRANTS("{ user = 1; access = \"rw\";\n        irq = \"always\"; }"), -EINVAL, 8);
	assert_non_null(strstr(f->err, "irq must be"));
}

/* A region r with the map at map_path (line 6) and grants (first on line 8), into text. */
static void
rules_conf(char *text, size_t len, const char *map_path, const char *grants)
{
	snprintf(text, len,
		 REGION_HEAD "    map = \"%s\";\n    grants = (\n      %s\n    );\n" REGION_TAIL,
		 map_path, grants);
}

/* registers = [...] and rules = (...) in grants: parsed, compiled against the map, FILE:LINE. */
static void
test_conf_grant_rules(void **state)
{
	struct fixture *f = *state;
	char map[128];
	char text[2048];
	snprintf(map, sizeof(map), "%s/m.yaml", f->dir);
	write_file(map, "name: m\nwidth: 32\nregisters:\n"
			"  - name: CTRL\n    offset: 0x0\n    fields:\n"
			"      - { name: EN, bits: \"0\" }\n      - { name: MODE, bits: \"2:1\" }\n"
			"  - { name: ST, offset: 0x4, access: rc }\n"
			"  - { name: D, offset: 0x10 }\n");
	/* The element as written, and registers only: an exact grant. */
	rules_conf(text, sizeof(text), map,
		   "{ group = 7; access = \"rw\"; rules = ( { register = \"CTRL\"; write_mask = "
		   "\"EN|MODE\"; } ); },\n"
		   "      { user = 8; access = \"rw\"; registers = [\"ST\", \"D\"]; }");
	expect(f, text, 0, 0);
	const struct region_policy *p = &conf_find_region(&f->cfg, "r")->policy;
	assert_int_equal(p->n_grants, 2);
	assert_non_null(p->grants[0].rules);
	assert_int_equal(p->grants[0].rules->n_rules, 1);
	assert_string_equal(p->grants[0].rules->rules[0].write_mask, "EN|MODE");
	assert_false(p->grants[0].rules->exact);
	assert_int_equal(p->grants[0].length, 0x1000);
	assert_true(p->grants[1].rules->exact);
	assert_int_equal(p->grants[1].offset, 0x4);
	assert_int_equal(p->grants[1].length, 0x10);
	assert_string_equal(p->grants[1].rules->label, "grant of user 8");

	/* Every key of a rule; a numeric mask. */
	rules_conf(text, sizeof(text), map,
		   "{ group = 7; access = \"rw\"; rules = ( { register = \"CTRL\"; write_mask = 6;"
		   " mask_mode = \"preserve\"; widths = [32, 16]; } ); }");
	expect(f, text, 0, 0);
	const struct regrule_spec *r =
		&conf_find_region(&f->cfg, "r")->policy.grants[0].rules->rules[0];
	assert_string_equal(r->write_mask, "0x6");
	assert_true(r->preserve);
	assert_int_equal(r->widths, 4 | 2);

	/* What does not fit the map: the config's line of the rule or name. */
	static const struct {
		const char *grant;
		const char *message;
	} bad[] = {
		{"{ group = 7; access = \"rw\"; registers = [\"NOPE\"]; }", "no register 'NOPE'"},
		{"{ group = 7; access = \"rw\"; registers = [\"CTLR\"]; }",
		 "no register 'CTLR' in map 'm' (did you mean CTRL?)"},
		{"{ group = 7; access = \"rw\"; rules = ( { register = \"CTRL\"; write_mask = "
		 "\"EN|SPEED\"; } ); }",
		 "CTRL has no field 'SPEED' (the map"},
		{"{ group = 7; access = \"rw\"; rules = ( { register = \"CTRL\"; write_mask = "
		 "\"EN|MDOE\"; } ); }",
		 "CTRL has no field 'MDOE' (did you mean MODE?)"},
		{"{ group = 7; access = \"rw\"; rules = ( { register = \"ST\"; write_mask = 1; "
		 "mask_mode = \"preserve\"; } ); }",
		 "reading it has side effects"},
		{"{ group = 7; access = \"rw\"; rules = ( { register = \"CTRL\"; widths = [64]; } "
		 "); }",
		 "CTRL is 32 bits, not 64"},
		{"{ group = 7; access = \"rw\"; rules = ( { register = \"CTRL\"; widths = [12]; } "
		 "); }",
		 "each is 8, 16, 32 or 64"},
		{"{ group = 7; access = \"rw\"; rules = ( { register = \"CTRL\"; mask_mode = "
		 "\"x\"; } "
		 "); }",
		 "mask_mode must be"},
		{"{ group = 7; access = \"rw\"; rules = ( { write_mask = 1; } ); }",
		 "a rule names its register"},
		{"{ group = 7; access = \"rw\"; rules = ( { register = \"CTRL\"; mask = 1; } ); }",
		 "unknown"},
		{"{ group = 7; access = \"rw\"; registers = \"CTRL\"; }", "registers is a list"},
	};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		rules_conf(text, sizeof(text), map, bad[i].grant);
		expect(f, text, -EINVAL, 8);
		assert_non_null(strstr(f->err, bad[i].message));
	}
	/* No map: nothing to name. */
	expect(f, GRANTS("{ group = 7; access = \"rw\"; registers = [\"CTRL\"]; }"), -EINVAL, 7);
	assert_non_null(strstr(f->err, "has none (map = \"PATH\")"));
	assert_int_equal(unlink(map), 0);
}

/* map = "PATH": the register map file, read with the config; an integer map stays the UIO map. */
static void
test_conf_regmap(void **state)
{
	struct fixture *f = *state;
	char map[128];
	char text[1024];
	snprintf(map, sizeof(map), "%s/m.yaml", f->dir);
	write_file(map, "name: m\nwidth: 32\nregisters:\n  - { name: A, offset: 0x0 }\n"
			"  - { name: B, offset: 0xffc }\n");
	snprintf(text, sizeof(text), REGION_HEAD "    map = \"%s\";\n" REGION_TAIL, map);
	expect(f, text, 0, 0);
	const struct region_config *r = conf_find_region(&f->cfg, "r");
	assert_non_null(r->regmap);
	assert_string_equal(r->spec.regmap, map);
	assert_int_equal(r->regmap->n_registers, 2);
	assert_int_equal(r->spec.map, 0);

	/* Past the region's end: the map file's line, then the region and the config's line. */
	write_file(map, "name: m\nwidth: 32\nregisters:\n  - { name: A, offset: 0x1000 }\n");
	assert_int_equal(load(f, text), -EINVAL);
	char want[256];
	snprintf(want, sizeof(want), "%s:4: A: bytes up to 0x1004 are past the region's end", map);
	assert_non_null(strstr(f->err, want));
	snprintf(want, sizeof(want), "(the map of region 'r', %s:6)", f->path);
	assert_non_null(strstr(f->err, want));
	write_file(map, "name: m\nwidth: 32\nregisters:\n  - { name: A, offset: 0x2, x: 1 }\n");
	assert_int_equal(load(f, text), -EINVAL);
	assert_int_equal(strncmp(f->err, map, strlen(map)), 0);
	assert_non_null(strstr(f->err, ":4: unknown key 'x'"));
	assert_int_equal(unlink(map), 0);
	assert_int_equal(load(f, text), -EINVAL);
	assert_non_null(strstr(f->err, "No such file"));
	expect(f, REGION_HEAD "    map = \"\";\n" REGION_TAIL, -EINVAL, 6);

	/* The UIO map index: an integer map, or uio_map; not both; uio_map only for uio. */
	expect(f, SPEC("name = \"u\"; type = \"uio\"; uio_name = \"x\"; map = 1;"), 0, 0);
	assert_int_equal(f->cfg.regions[0].spec.map, 1);
	assert_null(f->cfg.regions[0].regmap);
	expect(f, SPEC("name = \"u\"; type = \"uio\"; uio_name = \"x\"; uio_map = 2;"), 0, 0);
	assert_int_equal(f->cfg.regions[0].spec.map, 2);
	expect(f, SPEC("name = \"u\"; type = \"uio\"; uio_name = \"x\"; uio_map = 5;"), -EINVAL, 2);
	assert_non_null(strstr(f->err, "uio_map must be in 0..4"));
	expect(f, SPEC("name = \"u\"; type = \"uio\"; uio_name = \"x\"; map = 1; uio_map = 2;"),
	       -EINVAL, 2);
	assert_non_null(strstr(f->err, "map and uio_map both"));
	expect(f, SPEC("name = \"u\"; type = \"mem\"; size = 16; uio_map = 0;"), -EINVAL, 2);
	expect(f, SPEC("name = \"u\"; type = \"mem\"; size = 16; map = 0;"), -EINVAL, 2);
	write_file(map, "name: m\nwidth: 32\nregisters:\n  - { name: A, offset: 0x0 }\n");
	snprintf(text, sizeof(text),
		 SPEC("name = \"u\"; type = \"uio\"; uio_name = \"x\"; uio_map = 3; map = \"%s\";"),
		 map);
	expect(f, text, 0, 0);
	assert_int_equal(f->cfg.regions[0].spec.map, 3);
	assert_non_null(f->cfg.regions[0].regmap);
	/* Without uio_map a uio region has map 0 and the map file: map is required for uio. */
	snprintf(text, sizeof(text),
		 SPEC("name = \"u\"; type = \"uio\"; uio_name = \"x\"; map = \"%s\";"), map);
	expect(f, text, -EINVAL, 2);
	conf_finish(&f->cfg);
	conf_init(&f->cfg);
	assert_int_equal(unlink(map), 0);
}

/* max_lease_ms on a grant: 1 to a day; policy_lease_ttl takes the least of those covering. */
static void
test_conf_max_lease_ms(void **state)
{
	struct fixture *f = *state;
	expect(f,
	       GRANTS("{ user = 1; access = \"rw\"; max_lease_ms = 500; },\n"
		      "      { user = 1; access = \"ro\"; offset = 0x10; length = 0x10; "
		      "max_lease_ms = 200; }"),
	       0, 0);
	const struct region_policy *p = &f->cfg.regions[0].policy;
	assert_int_equal(p->grants[0].max_lease_ms, 500);
	struct identity who = {.pid = 1, .uid = 1, .gid = 1};
	assert_int_equal(policy_lease_ttl(p, &who, (uid_t)-1, 0, 0x10), 500);
	assert_int_equal(policy_lease_ttl(p, &who, (uid_t)-1, 0x10, 0x10), 200);
	assert_int_equal(policy_lease_ttl(p, &who, (uid_t)-1, 0x10, 0x11), 500);
	assert_int_equal(policy_lease_ttl(p, &who, 1, 0, 0x10), 0); /* the starting uid */
	expect(f, GRANTS("{ user = 1; access = \"rw\"; }"), 0, 0);
	assert_int_equal(f->cfg.regions[0].policy.grants[0].max_lease_ms, 0);
	expect(f, GRANTS("{ user = 1; access = \"rw\";\n        max_lease_ms = 0; }"), -EINVAL, 8);
	assert_non_null(strstr(f->err, "max_lease_ms must be in 1..86400000"));
	expect(f, GRANTS("{ user = 1; access = \"rw\";\n        max_lease_ms = 86400001; }"),
	       -EINVAL, 8);
}

/* park = ( ... ): steps by name resolved in the map; its errors at their line; the caps. */
static void
test_conf_park(void **state)
{
	struct fixture *f = *state;
	char map[128];
	char text[2048];
	snprintf(map, sizeof(map), "%s/p.yaml", f->dir);
	write_file(map,
		   "name: p\nwidth: 32\nregisters:\n"
		   "  - name: CTRL\n    offset: 0x0\n    fields:\n"
		   "      - { name: EN, bits: \"0\" }\n      - { name: DMA, bits: \"1\" }\n"
		   "      - { name: MODE, bits: \"7:4\", values: { IDLE: 0, RUN: 15 } }\n"
		   "  - { name: IER, offset: 0x4 }\n  - { name: ST, offset: 0x8, access: ro }\n");
#define PARK(steps)                                                                                \
	REGION_HEAD "    map = \"%s\";\n    park = (\n      " steps "\n    );\n" REGION_TAIL
	snprintf(text, sizeof(text),
		 PARK("{ store = \"IER\"; value = 0; }, { modify = \"CTRL.MODE\"; value = \"RUN\"; "
		      "},\n"
		      "      { register = \"CTRL\"; mask = \"EN|DMA\"; value = 3; },\n"
		      "      { barrier = true; }, { delay_us = 100; }, { store = \"CTRL.EN\"; "
		      "value = 1; }"),
		 map);
	expect(f, text, 0, 0);
	const struct park_seq *park = &conf_find_region(&f->cfg, "r")->park;
	assert_int_equal(park->n, 6);
	assert_int_equal(park->steps[0].op, PARK_STORE);
	assert_int_equal(park->steps[0].offset, 4);
	assert_int_equal(park->steps[0].width, 4);
	assert_int_equal(park->steps[1].op, PARK_MODIFY);
	assert_int_equal(park->steps[1].mask, 0xf0);
	assert_int_equal(park->steps[1].value, 0xf0);
	assert_int_equal(park->steps[2].mask, 0x3);
	assert_int_equal(park->steps[2].value, 0x3);
	assert_int_equal(park->steps[3].op, PARK_BARRIER);
	assert_int_equal(park->steps[4].delay_us, 100);
	assert_int_equal(park->steps[5].op, PARK_MODIFY);
	assert_int_equal(park->steps[5].mask, 0x1);

	static const struct {
		const char *steps;
		const char *why;
	} bad[] = {
		{"{ store = \"NOPE\"; value = 0; }", "no register or field \"NOPE\""},
		{"{ store = \"ST\"; value = 0; }", "read-only"},
		{"{ store = \"IER\"; }", "needs a value"},
		{"{ modify = \"IER\"; value = 0; }", "names a whole register"},
		{"{ register = \"CTRL\"; mask = \"EN|XX\"; value = 0; }", "XX is not a field"},
		{"{ modify = \"CTRL.MODE\"; value = 16; }", "does not fit field MODE"},
		{"{ modify = \"CTRL.MODE\"; value = \"FAST\"; }", "not a value name of MODE"},
		{"{ store = \"IER\"; barrier = true; }", "one of store, modify"},
		{"{ delay_us = 6000; }, { delay_us = 6000; }", "add up to at most 10000 us"},
		{"{ delay_us = 1; colour = 1; }", "colour"},
	};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		char steps[256];
		snprintf(steps, sizeof(steps), PARK("%s"), map, bad[i].steps);
		expect(f, steps, -EINVAL, 8);
		if (!strstr(f->err, bad[i].why)) {
			fail_msg("%s: %s", bad[i].steps, f->err);
		}
	}
	/* 65 steps. */
	char many[4096] = "";
	for (int i = 0; i < 65; i++) {
		strcat(many, i ? ", { barrier = true; }" : "{ barrier = true; }");
	}
	char longer[5000];
	snprintf(longer, sizeof(longer),
		 REGION_HEAD "    map = \"%s\";\n    park = (%s);\n" REGION_TAIL, map, many);
	expect(f, longer, -EINVAL, 7);
	assert_non_null(strstr(f->err, "at most 64 steps"));
	/* No map: refused at the park key. */
	expect(f, REGION_HEAD "    park = ( { barrier = true; } );\n" REGION_TAIL, -EINVAL, 6);
	assert_non_null(strstr(f->err, "needs a map"));
#undef PARK
	conf_finish(&f->cfg);
	conf_init(&f->cfg);
	assert_int_equal(unlink(map), 0);
}

/* type = "sim": size and map required, size capped; device grants only there, whole. */
static void
test_conf_sim(void **state)
{
	struct fixture *f = *state;
	char map[128];
	char text[1024];
	snprintf(map, sizeof(map), "%s/m.yaml", f->dir);
	write_file(map, "name: m\nwidth: 32\nregisters:\n  - { name: A, offset: 0x0 }\n");
#define SIM(extra) "regions = (\n  { name = \"s\"; type = \"sim\"; " extra " }\n);\n"
	snprintf(text, sizeof(text),
		 SIM("size = 0x100; map = \"%s\";\n    grants = ({ user = 7; access = \"device\"; "
		     "},\n"
		     "      { user = 8; access = \"rw\"; });"),
		 map);
	expect(f, text, 0, 0);
	const struct region_config *r = conf_find_region(&f->cfg, "s");
	assert_non_null(r->regmap);
	assert_int_equal(r->policy.n_grants, 2);
	assert_true(r->policy.grants[0].device);
	assert_false(r->policy.grants[1].device);
	/* Without map, size, or too big: the region's line. */
	expect(f, SIM("size = 0x100;"), -EINVAL, 2);
	assert_non_null(strstr(f->err, "type sim needs map = \"PATH\""));
	snprintf(text, sizeof(text), SIM("map = \"%s\";"), map);
	expect(f, text, -EINVAL, 2);
	assert_non_null(strstr(f->err, "size"));
	snprintf(text, sizeof(text), SIM("size = 0x1000001; map = \"%s\";"), map);
	expect(f, text, -EINVAL, 2);
	assert_non_null(strstr(f->err, "the most a sim region may have"));
	snprintf(text, sizeof(text), SIM("size = 0x1000000; map = \"%s\";"), map);
	expect(f, text, 0, 0);
	/* A map past the region's end. */
	snprintf(text, sizeof(text), SIM("size = 0x2; map = \"%s\";"), map);
	assert_int_equal(load(f, text), -EINVAL);
	assert_non_null(strstr(f->err, "past the region's end"));
	/* A device grant: only on a sim region, and only the whole of it. */
	expect(f, GRANTS("{ user = 1; access = \"device\"; }"), -EINVAL, 7);
	assert_non_null(strstr(f->err, "access = \"device\" is for a region of type sim"));
	snprintf(text, sizeof(text),
		 SIM("size = 0x100; map = \"%s\";\n    grants = ({ user = 7; access = \"device\";\n"
		     "      offset = 0x10; });"),
		 map);
	expect(f, text, -EINVAL, 4);
	assert_non_null(strstr(f->err, "a device grant is the whole device"));
	expect(f, GRANTS("{ user = 1; access = \"dev\"; }"), -EINVAL, 7);
	assert_non_null(strstr(f->err, "\"ro\", \"rw\" or \"device\""));
#undef SIM
	conf_finish(&f->cfg);
	conf_init(&f->cfg);
	assert_int_equal(unlink(map), 0);
}

int
main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_conf_full),
		T(test_conf_regmap),
		T(test_conf_park),
		T(test_conf_max_lease_ms),
		T(test_conf_grant_rules),
		T(test_conf_sim),
		T(test_conf_defaults),
		T(test_conf_unreadable),
		T(test_conf_log_level),
		T(test_conf_errors),
		T(test_conf_value_errors),
		T(test_conf_limits_range),
		T(test_conf_grants_and_audit),
		T(test_conf_counts),
		T(test_conf_add_region),
		T(test_conf_set_user),
		T(test_conf_example),
		T(test_conf_value_error_lines),
		T(test_conf_big_literal_not_truncated),
		T(test_conf_leading_zero_refused),
		T(test_conf_literal_widths),
		T(test_conf_grant_irq),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
