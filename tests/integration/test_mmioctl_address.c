/*
 * mmioctl -a/--address: registers named by device address, as a devmem user
 * knows them. The regions are devmem regions on a stand-in for /dev/mem (a
 * sparse file), whose device addresses are their physical addresses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "daemon_fixture.h"
#include "spawn_proc.h"

/* The stand-in's size: the regions below lie under it. */
#define MEM_SIZE 0x30000

struct env {
	struct daemon_fixture daemon;
	char mem_path[64];
};

static int
setup(void **state)
{
	struct env *env = calloc(1, sizeof(*env));
	if (!env) {
		return -1;
	}
	snprintf(env->mem_path, sizeof(env->mem_path), "/tmp/mmioctl-devmem-XXXXXX");
	int fd = mkstemp(env->mem_path);
	if (fd < 0 || ftruncate(fd, MEM_SIZE) < 0) {
		goto err;
	}
	close(fd);
	char gpio[160];
	char fsel[160];
	char uart[160];
	/* fsel is an alias of gpio's 0x10..0x1f; uart starts at an odd physical address. */
	snprintf(gpio, sizeof(gpio), "gpio,type=devmem,phys=0x20000,size=0x100,path=%s",
		 env->mem_path);
	snprintf(fsel, sizeof(fsel), "fsel,type=devmem,phys=0x20010,size=0x10,path=%s",
		 env->mem_path);
	snprintf(uart, sizeof(uart), "uart,type=devmem,phys=0x21003,size=0x40,path=%s",
		 env->mem_path);
	const char *regions[] = {gpio, fsel, uart, "sim0,type=mem,size=0x1000", NULL};
	if (daemon_fixture_start(&env->daemon, regions) < 0) {
		goto err;
	}
	*state = env;
	return 0;
err:
	unlink(env->mem_path);
	free(env);
	return -1;
}

static int
teardown(void **state)
{
	struct env *env = *state;
	int rc = env->daemon.pid > 0 ? daemon_fixture_stop(&env->daemon) : 0;
	unlink(env->mem_path);
	free(env);
	return rc == 0 ? 0 : -1;
}

/* The little-endian value of width bytes of the stand-in at physical address phys. */
static uint64_t
mem_bytes(const struct env *env, uint64_t phys, unsigned width)
{
	unsigned char b[8] = {0};
	int fd = open(env->mem_path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, b, width, (off_t)phys), (ssize_t)width);
	close(fd);
	uint64_t v = 0;
	for (unsigned i = 0; i < width; i++) {
		v |= (uint64_t)b[i] << (8 * i);
	}
	return v;
}

/*
 * Runs mmioctl args: exit status status, stdout exactly out (unless NULL), and
 * every fragment of err (NULL-terminated) somewhere in stderr.
 */
static void
expect_run(const char *sock, const char *const *args, int status, const char *out,
	   const char *const *err)
{
	struct spawn_proc_result r;
	cli_run(sock, NULL, &r, args);
	bool ok = r.status == status && (!out || strcmp(r.out, out) == 0);
	for (int i = 0; ok && err && err[i]; i++) {
		ok = strstr(r.err, err[i]) != NULL;
	}
	if (!ok) {
		fail_msg("exit %d, stdout '%s', stderr '%s'", r.status, r.out, r.err);
	}
	spawn_proc_result_finish(&r);
}

/* Every one-register command and dump reach the register at its physical address. */
static void
test_mmioctl_address_finds_the_region(void **state)
{
	struct env *env = *state;
	const char *sock = env->daemon.socket_path;
	/* 0x21004 is uart's offset 1, and 4-byte aligned as a device address. */
	cli_expect(sock, ARGS("write", "--address", "0x21004", "0xabcd"), 0, "");
	assert_int_equal(mem_bytes(env, 0x21004, 4), 0xabcd);
	cli_expect(sock, ARGS("read", "uart", "1"), 0, "0x0000abcd\n");
	cli_expect(sock, ARGS("read", "-a", "0x21004"), 0, "0x0000abcd\n");
	cli_expect(sock, ARGS("read", "--address=135172", "-w", "16"), 0, "0xabcd\n");
	cli_expect(sock, ARGS("modify", "-a", "0x21004", "0xff", "0x11"), 0, "0x0000abcd\n");
	cli_expect(sock, ARGS("poll", "-a", "0x21004", "0xffff", "0xab11", "-t", "0"), 0,
		   "0x0000ab11\n");
	/* Alignment is judged on the device address, as for REGION OFFSET. */
	static const char *const unaligned[] = {"mmioctl: read 0x21006: UNALIGNED: ",
						"device address 0x21006, not 4-byte aligned", NULL};
	expect_run(sock, ARGS("read", "-a", "0x21006"), 1, "", unaligned);
	/* Past gpio's alias fsel (0x20010..0x2001f), gpio alone covers 0x20020. */
	cli_expect(sock, ARGS("write", "-a", "0x20020", "0x5a", "-w", "8"), 0, "");
	cli_expect(sock, ARGS("read", "gpio", "0x20", "-w", "8"), 0, "0x5a\n");
	assert_int_equal(mem_bytes(env, 0x20020, 1), 0x5a);
	/* With -o json the region and offset it found, and the address. */
	cli_expect(sock, ARGS("-o", "json", "read", "-a", "0x20020", "-w", "8"), 0,
		   "{\"region\": \"gpio\", \"offset\": \"0x20\", \"offset_int\": 32, \"address\": "
		   "\"0x20020\", \"address_int\": 131104, \"width\": 8, \"value\": \"0x5a\", "
		   "\"value_int\": 90}\n");
	/* dump: the range in device addresses, shown as device addresses. */
	static const char line[] = "00021004  11 ab 00 00                                       "
				   "|....|\n";
	char want[160];
	snprintf(want, sizeof(want), "%s00021008\n", line);
	cli_expect(sock, ARGS("dump", "-a", "0x21004+4"), 0, want);
	cli_expect(sock, ARGS("dump", "-a", "0x21004-0x21008"), 0, want);
	cli_expect(sock, ARGS("dump", "-a", "0x21004", "4"), 0, want);
	cli_expect(sock, ARGS("-q", "dump", "-a", "0x21004", "4"), 0, line);
	cli_expect(sock, ARGS("-o", "json", "dump", "-a", "0x21004+4"), 0,
		   "{\"region\": \"uart\", \"offset\": \"0x1\", \"offset_int\": 1, \"address\": "
		   "\"0x21004\", \"address_int\": 135172, \"length\": \"0x4\", \"length_int\": 4, "
		   "\"data\": \"11ab0000\"}\n");
	/* A range that runs past the region is refused by mmiod, as for REGION RANGE. */
	static const char *const past[] = {": OUT_OF_RANGE: ", NULL};
	expect_run(sock, ARGS("dump", "-a", "0x21040+8"), 1, "", past);
	assert_int_equal(daemon_fixture_stop(&env->daemon), 0);
}

/* An address no region covers, or that aliases cover, is refused and named. */
static void
test_mmioctl_address_none_or_ambiguous(void **state)
{
	struct env *env = *state;
	const char *sock = env->daemon.socket_path;
	static const char *const ambiguous[] = {
		"mmioctl: read 0x20018: AMBIGUOUS: device address 0x20018 is in 2 regions: gpio "
		"(devmem, offset 0x18), fsel (devmem, offset 0x8)\n",
		"mmioctl: hint: name the region and the offset in it instead of -a, e.g. 'mmioctl "
		"read gpio 0x18'\n",
		NULL};
	expect_run(sock, ARGS("read", "-a", "0x20018"), 1, "", ambiguous);
	static const char *const ambiguous_write[] = {"'mmioctl write gpio 0x10 ...'", NULL};
	expect_run(sock, ARGS("write", "-a", "0x20010", "1"), 1, "", ambiguous_write);
	static const char *const ambiguous_dump[] = {
		"mmioctl: dump 0x2001c+4: AMBIGUOUS: device address 0x2001c is in 2 regions: gpio "
		"(devmem, offset 0x1c), fsel (devmem, offset 0xc)\n",
		"'mmioctl dump gpio 0x1c ...'", NULL};
	expect_run(sock, ARGS("dump", "-a", "0x2001c+4"), 1, "", ambiguous_dump);
	cli_expect(
		sock, ARGS("-o", "json", "read", "-a", "0x20018"), 1,
		"{\"error\": \"AMBIGUOUS\", \"detail\": \"device address 0x20018 is in 2 regions: "
		"gpio (devmem, offset 0x18), fsel (devmem, offset 0x8)\", \"hint\": [\"name the "
		"region and the offset in it instead of -a, e.g. 'mmioctl read gpio 0x18'\"]}\n");
	/* Nothing was written by the refused write. */
	assert_int_equal(mem_bytes(env, 0x20010, 4), 0);
	static const char *const none[] = {
		"mmioctl: read 0x20100: NOT_FOUND: no region you may lease covers device address "
		"0x20100\n",
		"mmioctl: hint: 'mmioctl regions' lists the regions you may lease", NULL};
	expect_run(sock, ARGS("read", "-a", "0x20100"), 1, "", none);
	static const char *const below[] = {"covers device address 0x1fffc\n", NULL};
	expect_run(sock, ARGS("read", "-a", "0x1fffc"), 1, "", below);
	static const char *const top[] = {"covers device address 0xfffffffffffffff8\n", NULL};
	expect_run(sock, ARGS("read", "-a", "0xfffffffffffffff8", "-w", "64"), 1, "", top);
	assert_int_equal(daemon_fixture_stop(&env->daemon), 0);
}

/* -a stands for REGION OFFSET: with them, or on a command without it, a usage error. */
static void
test_mmioctl_address_usage(void **state)
{
	struct env *env = *state;
	const char *sock = env->daemon.socket_path;
	cli_expect_failure(sock, ARGS("read", "gpio", "0", "-a", "0x20000"), NULL, NULL);
	cli_expect_failure(sock, ARGS("write", "-a", "0x20000"), NULL, NULL);
	cli_expect_failure(sock, ARGS("modify", "-a", "0x20000", "1"), NULL, NULL);
	cli_expect_failure(sock, ARGS("dump", "-a", "0x20000", "4", "4"), NULL, NULL);
	cli_expect_failure(sock, ARGS("dump", "-a", "0x20000"), NULL, NULL);
	cli_expect_failure(sock, ARGS("revoke", "1", "-a", "0x20000"), NULL, NULL);
	cli_expect_failure(sock, ARGS("read", "-a", "020000"), NULL, NULL);
	cli_expect_failure(sock, ARGS("read", "-a"), NULL, NULL);
	assert_int_equal(daemon_fixture_stop(&env->daemon), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_mmioctl_address_finds_the_region),
		T(test_mmioctl_address_none_or_ambiguous),
		T(test_mmioctl_address_usage),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
