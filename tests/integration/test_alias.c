/*
 * Regions that alias the same device bytes, through a live mmiod and
 * libmmio-client: two file regions on one file (one of them by a second
 * name), two devmem windows whose physical ranges overlap on a stand-in
 * /dev/mem, the same PCI BAR twice on a fake sysfs. A lease on one region
 * excludes the same bytes of the other (CONFLICT, with a detail naming it to
 * those who may see it); regions exactly adjacent on the device do not;
 * mem regions alias nothing. The socket, a batch and the ring reach only the
 * bytes of the caller's own lease, and releasing the other lease frees them.
 * mmiod logs each alias pair at start, and --check-config notes them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon_fixture.h"
#include "hw_tree.h"
#include "mmio/client.h"
#include "run_as.h"

#define NIC     "0000:03:00.0"
#define NIC_DIR "sys/bus/pci/devices/" NIC
/* BAR0 128 KiB of memory, BAR1 absent. */
#define NIC_RESOURCE                                                                               \
	"0x00000000fe000000 0x00000000fe01ffff 0x0000000000040200\n"                               \
	"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
#define OTHER_UID 4242

/*
 * File "data": a = bytes [0, 0x1000), b = [0x800, 0x1000) (so a 0x800 is b 0),
 * c = [0x1000, 0x2000) (adjacent to both), and c2 = [0x1800, 0x1900) through a
 * hard link "data2" (c 0x800 is c2 0). The stand-in /dev/mem: dm0 = phys
 * [0x10000, 0x11000), dm1 = [0x10800, 0x11800) (dm0 0x800 is dm1 0), dm2 =
 * [0x11800, 0x11900) (adjacent to dm1). BAR0 of the NIC as bar and again as
 * bar2; bar3 its next 0x1000 bytes. uid OTHER_UID may lease b, and nothing else.
 */
static const char conf_template[] =
	"socket = { mode = \"0666\"; };\n"
	"regions = (\n"
	"  { name = \"a\"; type = \"file\"; path = \"%1$s/data\"; size = 0x1000; },\n"
	"  { name = \"b\"; type = \"file\"; path = \"%1$s/data\"; offset = 0x800; size = 0x800;\n"
	"    grants = ( { user = 4242; access = \"rw\"; } ); },\n"
	"  { name = \"c\"; type = \"file\"; path = \"%1$s/data\"; offset = 0x1000; size = 0x1000; "
	"},\n"
	"  { name = \"c2\"; type = \"file\"; path = \"%1$s/data2\"; offset = 0x1800; size = 0x100; "
	"},\n"
	"  { name = \"dm0\"; type = \"devmem\"; path = \"%1$s/dev/mem\"; phys = 0x10000;\n"
	"    size = 0x1000; },\n"
	"  { name = \"dm1\"; type = \"devmem\"; path = \"%1$s/dev/mem\"; phys = 0x10800;\n"
	"    size = 0x1000; },\n"
	"  { name = \"dm2\"; type = \"devmem\"; path = \"%1$s/dev/mem\"; phys = 0x11800;\n"
	"    size = 0x100; },\n"
	"  { name = \"bar\"; type = \"pci\"; device = \"" NIC "\"; bar = 0; size = 0x1000;\n"
	"    sysfs = \"%1$s/sys\"; },\n"
	"  { name = \"bar2\"; type = \"pci\"; device = \"" NIC "\"; bar = 0; offset = 0;\n"
	"    size = 0x1000; sysfs = \"%1$s/sys\"; },\n"
	"  { name = \"bar3\"; type = \"pci\"; device = \"" NIC "\"; bar = 0; offset = 0x1000;\n"
	"    size = 0x1000; sysfs = \"%1$s/sys\"; },\n"
	"  { name = \"m0\"; type = \"mem\"; size = 0x1000; },\n"
	"  { name = \"m1\"; type = \"mem\"; size = 0x1000; }\n"
	");\n";

/* What mmiod says of each alias pair, at start and in --check-config. */
static const char *const alias_notes[] = {
	"regions 'a' and 'b' alias the same bytes (a [0x800, 0x1000) is b [0x0, 0x800)): a "
	"lease on one excludes the other",
	"regions 'c' and 'c2' alias the same bytes (c [0x800, 0x900) is c2 [0x0, 0x100)): a "
	"lease on one excludes the other",
	"regions 'dm0' and 'dm1' alias the same bytes (dm0 [0x800, 0x1000) is dm1 [0x0, 0x800)): "
	"a lease on one excludes the other",
	"regions 'bar' and 'bar2' alias the same bytes (bar [0x0, 0x1000) is bar2 [0x0, 0x1000)): "
	"a lease on one excludes the other",
};

struct env {
	struct hw_tree tree;
	struct daemon_fixture daemon;
	char conf_path[160];
	struct mmio_client *one; /* two connections: two holders */
	struct mmio_client *two;
};

static void
write_conf(struct env *env, const char *text)
{
	snprintf(env->conf_path, sizeof(env->conf_path), "%s/mmiod.conf", env->daemon.dir);
	FILE *f = fopen(env->conf_path, "w");
	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

/* The stand-ins and the config; the daemon is not started. */
static void
make_env(struct env *env)
{
	hw_tree_create(&env->tree);
	/* The daemon opens them as root; the tree is only made reachable for the socket's sake. */
	hw_tree_file(&env->tree, "data", 0x3000);
	char data[512], data2[512];
	assert_int_equal(link(hw_tree_path(&env->tree, "data", data, sizeof(data)),
			      hw_tree_path(&env->tree, "data2", data2, sizeof(data2))),
			 0);
	hw_tree_file(&env->tree, "dev/mem", 0x20000);
	hw_tree_write(&env->tree, NIC_DIR "/resource", NIC_RESOURCE);
	hw_tree_file(&env->tree, NIC_DIR "/resource0", 0x20000);
	assert_int_equal(daemon_fixture_prepare(&env->daemon), 0);
	char text[4096];
	int n = snprintf(text, sizeof(text), conf_template, env->tree.root);
	assert_true(n > 0 && (size_t)n < sizeof(text));
	write_conf(env, text);
	/* Another uid reaches the socket through the fixture's directory. */
	assert_int_equal(chmod(env->daemon.dir, 0755), 0);
}

static int
setup(void **state)
{
	unsetenv("MMIO_FAST_PATH");
	struct env *env = test_calloc(1, sizeof(*env));
	make_env(env);
	const char *const args[] = {"--config", env->conf_path, NULL};
	assert_int_equal(daemon_fixture_start_args(&env->daemon, args), 0);
	assert_int_equal(mmio_connect(env->daemon.socket_path, &env->one), 0);
	assert_int_equal(mmio_connect(env->daemon.socket_path, &env->two), 0);
	*state = env;
	return 0;
}

static int
teardown(void **state)
{
	struct env *env = *state;
	mmio_disconnect(env->one);
	mmio_disconnect(env->two);
	unlink(env->conf_path);
	int rc = env->daemon.pid > 0 ? daemon_fixture_stop(&env->daemon) : 0;
	hw_tree_destroy(&env->tree);
	test_free(env);
	assert_int_equal(rc, 0);
	return 0;
}

/*
 * Acquire that must fail with CONFLICT and this detail, then the holder: ours
 * (this process and uid), so named with its lease.
 */
static void
assert_conflict(struct mmio_client *c, const char *region, uint64_t off, uint64_t len,
		const char *detail)
{
	struct mmio_lease *l = NULL;
	int rc = mmio_acquire(c, region, off, len, &l);
	char holder[64];
	snprintf(holder, sizeof(holder), " held by pid %d uid %u (", (int)getpid(),
		 (unsigned)getuid());
	const char *got = mmio_error_detail(c);
	size_t n = strlen(detail);
	if (rc != -EBUSY || strncmp(got, detail, n) != 0 || strncmp(got + n, ": lease ", 8) != 0 ||
	    !strstr(got, holder)) {
		fail_msg("acquire %s [0x%" PRIx64 " +0x%" PRIx64 "): %d '%s', want CONFLICT '%s'",
			 region, off, len, rc, mmio_error_detail(c), detail);
	}
	assert_null(l);
}

static struct mmio_lease *
acquire_ok(struct mmio_client *c, const char *region, uint64_t off, uint64_t len)
{
	struct mmio_lease *l = NULL;
	int rc = mmio_acquire(c, region, off, len, &l);
	if (rc != 0) {
		fail_msg("acquire %s [0x%" PRIx64 " +0x%" PRIx64 "): %d '%s'", region, off, len, rc,
			 mmio_error_detail(c));
	}
	return l;
}

/* mmiod said so at start: one line per pair, and none for the pairs that do not alias. */
static void
test_alias_logged_at_start(void **state)
{
	struct env *env = *state;
	for (size_t i = 0; i < sizeof(alias_notes) / sizeof(alias_notes[0]); i++) {
		assert_int_equal(daemon_fixture_log_count(&env->daemon, alias_notes[i]), 1);
	}
	assert_int_equal(daemon_fixture_log_count(&env->daemon, "alias the same bytes"), 4);
}

/* The case: one client holds a [0x800, 0x810), which is b [0x0, 0x10). */
static void
test_alias_file_regions(void **state)
{
	struct env *env = *state;
	struct mmio_lease *la = acquire_ok(env->one, "a", 0x800, 0x10);
	assert_conflict(env->two, "b", 0x0, 0x10,
			"range overlaps a live lease on a, which aliases these bytes of b");
	/* One byte in common is enough; the holder itself is refused as well. */
	assert_conflict(env->two, "b", 0xf, 0x1,
			"range overlaps a live lease on a, which aliases these bytes of b");
	assert_conflict(env->one, "b", 0x0, 0x800,
			"range overlaps a live lease on a, which aliases these bytes of b");
	/* The bytes next to it on the file are free, through either region. */
	struct mmio_lease *lb = acquire_ok(env->two, "b", 0x10, 0x10);
	assert_conflict(env->one, "a", 0x81f, 0x1,
			"range overlaps a live lease on b, which aliases these bytes of a");
	struct mmio_lease *la2 = acquire_ok(env->one, "a", 0x7f0, 0x10);
	/* A conflict within one region says what it always said. */
	assert_conflict(env->two, "a", 0x7f0, 0x1, "range overlaps a live lease on a");
	/* Released, the bytes can be leased through the other region. */
	assert_int_equal(mmio_release(la), 0);
	struct mmio_lease *lb2 = acquire_ok(env->two, "b", 0x0, 0x10);
	assert_int_equal(mmio_store32(lb2, 0x0, 0xc0ffee11), 0);
	assert_int_equal(hw_tree_bytes(&env->tree, "data", 0x800, 4), 0xc0ffee11);
	assert_int_equal(mmio_release(lb2), 0);
	assert_int_equal(mmio_release(lb), 0);
	assert_int_equal(mmio_release(la2), 0);

	/* c and c2 are the same file by another name: the same bytes. */
	struct mmio_lease *lc2 = acquire_ok(env->one, "c2", 0x0, 0x100);
	assert_conflict(env->two, "c", 0x0, 0x1000,
			"range overlaps a live lease on c2, which aliases these bytes of c");
	struct mmio_lease *lc = acquire_ok(env->two, "c", 0x900, 0x700);
	assert_int_equal(mmio_release(lc), 0);
	lc = acquire_ok(env->two, "c", 0x0, 0x800);
	assert_int_equal(mmio_release(lc), 0);
	assert_int_equal(mmio_release(lc2), 0);
}

/* a ends where c begins on the file: the whole of both at once, by two holders. */
static void
test_alias_adjacent_regions(void **state)
{
	struct env *env = *state;
	struct mmio_lease *la = acquire_ok(env->one, "a", 0x0, 0x1000);
	struct mmio_lease *lc = acquire_ok(env->two, "c", 0x0, 0x1000);
	struct mmio_lease *d1 = acquire_ok(env->one, "dm1", 0x0, 0x1000);
	struct mmio_lease *d2 = acquire_ok(env->two, "dm2", 0x0, 0x100);
	struct mmio_lease *b1 = acquire_ok(env->one, "bar", 0x0, 0x1000);
	struct mmio_lease *b3 = acquire_ok(env->two, "bar3", 0x0, 0x1000);
	/* mem regions are memory of their own. */
	struct mmio_lease *m0 = acquire_ok(env->one, "m0", 0x0, 0x1000);
	struct mmio_lease *m1 = acquire_ok(env->two, "m1", 0x0, 0x1000);
	struct mmio_lease *all[] = {la, lc, d1, d2, b1, b3, m0, m1};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		assert_int_equal(mmio_release(all[i]), 0);
	}
}

/* dm0 [0x800, 0x1000) is dm1 [0x0, 0x800): physical 0x10800 to 0x11000. */
static void
test_alias_devmem_regions(void **state)
{
	struct env *env = *state;
	struct mmio_lease *d0 = acquire_ok(env->one, "dm0", 0xff8, 0x8);
	assert_conflict(env->two, "dm1", 0x0, 0x1000,
			"range overlaps a live lease on dm0, which aliases these bytes of dm1");
	assert_conflict(env->two, "dm1", 0x7ff, 0x1,
			"range overlaps a live lease on dm0, which aliases these bytes of dm1");
	struct mmio_lease *d1 = acquire_ok(env->two, "dm1", 0x0, 0x7f8);
	struct mmio_lease *d1b = acquire_ok(env->two, "dm1", 0x800, 0x800);
	assert_conflict(env->one, "dm0", 0x7f8, 0x10,
			"range overlaps a live lease on dm1, which aliases these bytes of dm0");
	assert_int_equal(mmio_store64(d0, 0, 0x1122334455667788), 0);
	assert_int_equal(hw_tree_bytes(&env->tree, "dev/mem", 0x10ff8, 8), 0x1122334455667788);
	assert_int_equal(mmio_release(d0), 0);
	struct mmio_lease *d1c = acquire_ok(env->two, "dm1", 0x7f8, 0x8);
	uint64_t v = 0;
	assert_int_equal(mmio_load64(d1c, 0, &v), 0);
	assert_int_equal(v, 0x1122334455667788);
	assert_int_equal(mmio_release(d1c), 0);
	assert_int_equal(mmio_release(d1b), 0);
	assert_int_equal(mmio_release(d1), 0);
}

/* The same BAR twice: the same resource0, the same bytes. */
static void
test_alias_pci_same_bar(void **state)
{
	struct env *env = *state;
	struct mmio_lease *b = acquire_ok(env->one, "bar", 0x100, 0x4);
	assert_conflict(env->two, "bar2", 0x0, 0x1000,
			"range overlaps a live lease on bar, which aliases these bytes of bar2");
	assert_conflict(env->two, "bar2", 0x103, 0x1,
			"range overlaps a live lease on bar, which aliases these bytes of bar2");
	struct mmio_lease *lo = acquire_ok(env->two, "bar2", 0x0, 0x100);
	struct mmio_lease *hi = acquire_ok(env->two, "bar2", 0x104, 0xefc);
	assert_int_equal(mmio_release(b), 0);
	b = acquire_ok(env->two, "bar2", 0x100, 0x4);
	assert_conflict(env->one, "bar", 0x0, 0x1000,
			"range overlaps a live lease on bar2, which aliases these bytes of bar");
	assert_int_equal(mmio_release(b), 0);
	assert_int_equal(mmio_release(hi), 0);
	assert_int_equal(mmio_release(lo), 0);
}

/*
 * After the refused acquire, the refused client's own lease (adjacent on the
 * file) reaches only its own bytes through a batch and through the ring, and
 * the other's bytes are untouched; once they are released it gets them.
 */
static void
test_alias_batch_and_ring(void **state)
{
	struct env *env = *state;
	struct mmio_lease *la = acquire_ok(env->one, "a", 0x800, 0x10);
	assert_conflict(env->two, "b", 0x0, 0x20,
			"range overlaps a live lease on a, which aliases these bytes of b");
	struct mmio_lease *lb = acquire_ok(env->two, "b", 0x10, 0x10);
	uint64_t before_lo = hw_tree_bytes(&env->tree, "data", 0x800, 8);
	uint64_t before_hi = hw_tree_bytes(&env->tree, "data", 0x808, 8);

	/* A batch: its own 16 bytes, then a byte past them. */
	struct mmio_op ops[] = {
		{.lease = lb, .kind = MMIO_OP_STORE, .width = 8, .offset = 0x0, .value = 0x1111},
		{.lease = lb, .kind = MMIO_OP_STORE, .width = 8, .offset = 0x8, .value = 0x2222},
		{.lease = lb, .kind = MMIO_OP_STORE, .width = 1, .offset = 0x10, .value = 0x33},
		{.lease = lb, .kind = MMIO_OP_LOAD, .width = 8, .offset = 0x0},
		{.lease = lb,
		 .kind = MMIO_OP_STORE,
		 .width = 8,
		 .offset = UINT64_MAX - 7,
		 .value = 1},
	};
	assert_int_equal(mmio_batch(env->two, ops, 5, 0), 2);
	assert_int_equal(ops[0].status, 0);
	assert_int_equal(ops[1].status, 0);
	assert_int_equal(ops[2].status, -ERANGE);
	assert_int_equal(ops[3].status, 0);
	assert_int_equal(ops[3].value, 0x1111);
	assert_int_equal(ops[4].status, -ERANGE);
	assert_int_equal(hw_tree_bytes(&env->tree, "data", 0x810, 8), 0x1111);
	assert_int_equal(hw_tree_bytes(&env->tree, "data", 0x818, 8), 0x2222);
	assert_int_equal(hw_tree_bytes(&env->tree, "data", 0x820, 1), hw_pattern(0x820));

	/* The ring: the same checks. */
	int rings = daemon_fixture_log_count(&env->daemon, "entries open");
	assert_int_equal(mmio_set_fast_path(env->two, MMIO_FAST_PATH_ON), 0);
	assert_int_equal(mmio_fast_path_active(env->two), 1);
	assert_int_equal(daemon_fixture_log_count(&env->daemon, "entries open"), rings + 1);
	assert_int_equal(mmio_store64(lb, 0x8, 0x4444), 0);
	assert_int_equal(mmio_store8(lb, 0x10, 0x55), -ERANGE);
	assert_int_equal(mmio_store64(lb, UINT64_MAX - 7, 0x55), -ERANGE);
	uint8_t byte = 0;
	assert_int_equal(mmio_load8(lb, 0xf, &byte), 0);
	assert_int_equal(byte, 0);
	assert_int_equal(mmio_store8(lb, 0xf, 0x66), 0);
	assert_int_equal(hw_tree_bytes(&env->tree, "data", 0x818, 8), 0x6600000000004444);
	/* The bytes of a's lease are as they were. */
	assert_int_equal(hw_tree_bytes(&env->tree, "data", 0x800, 8), before_lo);
	assert_int_equal(hw_tree_bytes(&env->tree, "data", 0x808, 8), before_hi);

	/* Released, they are the other client's, over the ring as over the socket. */
	assert_int_equal(mmio_release(la), 0);
	struct mmio_lease *lb0 = acquire_ok(env->two, "b", 0x0, 0x10);
	assert_int_equal(mmio_store64(lb0, 0x0, 0x7777), 0);
	assert_int_equal(hw_tree_bytes(&env->tree, "data", 0x800, 8), 0x7777);
	assert_conflict(env->one, "a", 0x800, 0x10,
			"range overlaps a live lease on b, which aliases these bytes of a");
	assert_int_equal(mmio_release(lb0), 0);
	assert_int_equal(mmio_release(lb), 0);
}

static int
other_uid_checks(void *arg)
{
	const char *socket_path = arg;
	struct mmio_client *c;
	struct mmio_lease *l = NULL;
	CHILD_CHECK(mmio_connect(socket_path, &c) == 0);
	CHILD_CHECK(mmio_acquire(c, "b", 0x0, 0x10, &l) == -EBUSY);
	/* Nor is the holder, of another uid: only that there is one. */
	CHILD_CHECK(strcmp(mmio_error_detail(c), "range overlaps a live lease on another region, "
						 "which aliases these bytes of b: held by another "
						 "client") == 0);
	CHILD_CHECK(mmio_acquire(c, "b", 0x10, 0x10, &l) == 0);
	mmio_disconnect(c);
	return 0;
}

/* A region the caller may not lease is not named: the detail does not confirm it exists. */
static void
test_alias_unlisted_region_not_named(void **state)
{
	struct env *env = *state;
	if (geteuid() != 0) {
		skip();
	}
	struct mmio_lease *la = acquire_ok(env->one, "a", 0x800, 0x10);
	assert_int_equal(
		run_as(OTHER_UID, OTHER_UID, NULL, 0, other_uid_checks, env->daemon.socket_path),
		0);
	assert_int_equal(mmio_release(la), 0);
}

/*
 * Runs mmiod --check-config path with stdout to out_path and stderr to
 * out_path.err; returns its exit status.
 */
static int
check_config(const char *path, const char *out_path)
{
	char err_path[256];
	snprintf(err_path, sizeof(err_path), "%s.err", out_path);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		int efd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0 || efd < 0 || dup2(fd, STDOUT_FILENO) < 0 ||
		    dup2(efd, STDERR_FILENO) < 0) {
			_exit(126);
		}
		execl(MMIOD_PATH, MMIOD_PATH, "--check-config", path, (char *)NULL);
		_exit(127);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* The lines of path in buf, NUL-terminated. */
static void
read_all(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	size_t n = fread(buf, 1, cap - 1, f);
	buf[n] = '\0';
	fclose(f);
}

/* --check-config opens nothing, and says which regions alias each other; the verdict is ok. */
static void
test_alias_check_config_notes(void **state)
{
	(void)state;
	struct env env = {0};
	make_env(&env);
	char out_path[200], out[8192], want[8192];
	snprintf(out_path, sizeof(out_path), "%s/check.out", env.daemon.dir);
	assert_int_equal(check_config(env.conf_path, out_path), 0);
	read_all(out_path, out, sizeof(out));
	size_t n = 0;
	for (size_t i = 0; i < sizeof(alias_notes) / sizeof(alias_notes[0]); i++) {
		n += (size_t)snprintf(want + n, sizeof(want) - n, "%s: note: %s\n", env.conf_path,
				      alias_notes[i]);
	}
	snprintf(want + n, sizeof(want) - n, "%s: ok (12 regions)\n", env.conf_path);
	assert_string_equal(out, want);

	/* A region start-up would fail on is an error, in the system's words, at its line. */
	char text[1024];
	snprintf(text, sizeof(text),
		 "regions = (\n"
		 "  { name = \"x\"; type = \"file\"; path = \"%1$s/data\"; size = 0x10; },\n"
		 "  { name = \"gone\"; type = \"file\"; path = \"%1$s/nothing\"; size = 0x10; }\n"
		 ");\n",
		 env.tree.root);
	write_conf(&env, text);
	assert_int_equal(check_config(env.conf_path, out_path), 2);
	read_all(out_path, out, sizeof(out));
	assert_string_equal(out, "");
	char err_path[256];
	snprintf(err_path, sizeof(err_path), "%s.err", out_path);
	read_all(err_path, out, sizeof(out));
	snprintf(want, sizeof(want),
		 "%1$s:3: region 'gone': %2$s/nothing: No such file or directory\n", env.conf_path,
		 env.tree.root);
	assert_string_equal(out, want);

	unlink(err_path);
	unlink(out_path);
	unlink(env.conf_path);
	daemon_fixture_cleanup(&env.daemon);
	hw_tree_destroy(&env.tree);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_alias_logged_at_start),
		T(test_alias_file_regions),
		T(test_alias_adjacent_regions),
		T(test_alias_devmem_regions),
		T(test_alias_pci_same_bar),
		T(test_alias_batch_and_ring),
		T(test_alias_unlisted_region_not_named),
		cmocka_unit_test(test_alias_check_config_notes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
