/*
 * mmioctl sim get|set|irq|reset on a real mmiod whose region uart0 is a sim of
 * etc/maps/uart16550.yaml: the device side as the hardware would act (LSR.DR set, the interrupt
 * raised to `wait-irq`), text and JSON output, and the errors of its arguments and requests.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "daemon_fixture.h"
#include "spawn_proc.h"

#define UART_MAP MMIO_SOURCE_DIR "/etc/maps/uart16550.yaml"

static const char conf[] =
	"regions = (\n"
	"  { name = \"uart0\"; type = \"sim\"; size = 0x100; map = \"" UART_MAP "\"; },\n"
	"  { name = \"plain\"; type = \"mem\"; size = 0x100; }\n"
	");\n";

struct env {
	struct daemon_fixture daemon;
	char conf_path[160];
};

static int
setup(void **state)
{
	struct env *env = calloc(1, sizeof(*env));
	if (!env || daemon_fixture_prepare(&env->daemon) < 0) {
		free(env);
		return -1;
	}
	snprintf(env->conf_path, sizeof(env->conf_path), "%s/mmiod.conf", env->daemon.dir);
	FILE *f = fopen(env->conf_path, "w");
	int ok = f && fputs(conf, f) >= 0;
	if (f && fclose(f) != 0) {
		ok = 0;
	}
	const char *const args[] = {"--config", env->conf_path, NULL};
	if (!ok || daemon_fixture_start_args(&env->daemon, args) < 0) {
		unlink(env->conf_path);
		daemon_fixture_cleanup(&env->daemon);
		free(env);
		return -1;
	}
	*state = env;
	return 0;
}

static int
teardown(void **state)
{
	struct env *env = *state;
	int rc = daemon_fixture_stop(&env->daemon);
	unlink(env->conf_path);
	free(env);
	return rc == 0 ? 0 : -1;
}

static void
test_mmioctl_sim_bits(void **state)
{
	const char *sock = ((struct env *)*state)->daemon.socket_path;
	/* LSR (ro, reset 0x60): a byte "arrived", so the hardware sets DR. */
	cli_expect(sock, ARGS("sim", "get", "uart0", "0x14", "-w", "8"), 0, "0x60\n");
	cli_expect(sock, ARGS("sim", "set", "uart0", "0x14", "1", "--mask", "0x01", "-w", "8"), 0,
		   "");
	cli_expect(sock, ARGS("read", "uart0", "0x14", "-w", "8"), 0, "0x61\n");
	/* The driver cannot clear it: LSR is ro. */
	cli_expect(sock, ARGS("write", "uart0", "0x14", "0", "-w", "8"), 0, "");
	cli_expect(sock, ARGS("sim", "get", "uart0", "0x14", "-w", "8"), 0, "0x61\n");
	/* OE is rc: set by the device, the driver's read clears it, the device's get does not. */
	cli_expect(sock, ARGS("sim", "set", "uart0", "0x14", "0x2", "--mask", "0x2", "-w", "8"), 0,
		   "");
	cli_expect(sock, ARGS("sim", "get", "uart0", "0x14", "-w", "8"), 0, "0x63\n");
	cli_expect(sock, ARGS("read", "uart0", "0x14", "-w", "8"), 0, "0x63\n");
	cli_expect(sock, ARGS("read", "uart0", "0x14", "-w", "8"), 0, "0x61\n");
	/* THR is wo: the driver reads 0, the device sees what was sent. */
	cli_expect(sock, ARGS("write", "uart0", "0", "0x41", "-w", "8"), 0, "");
	cli_expect(sock, ARGS("read", "uart0", "0", "-w", "8"), 0, "0x00\n");
	cli_expect(sock, ARGS("sim", "get", "uart0", "0", "-w", "8"), 0, "0x41\n");
	cli_expect(sock, ARGS("-o", "json", "sim", "get", "uart0", "0x14", "-w", "8"), 0,
		   "{\"region\": \"uart0\", \"op\": \"get\", \"offset\": \"0x14\", \"offset_int\": "
		   "20, \"width\": 8, \"value\": \"0x61\", \"value_int\": 97}\n");
	cli_expect(sock, ARGS("-o", "json", "sim", "set", "uart0", "0xc", "0x80", "-w", "8"), 0,
		   "{\"region\": \"uart0\", \"op\": \"set\", \"offset\": \"0xc\", \"offset_int\": "
		   "12, \"width\": 8, \"mask\": \"0xff\", \"mask_int\": 255, \"value\": \"0x80\", "
		   "\"value_int\": 128}\n");
	cli_expect(sock, ARGS("-o", "json", "sim", "reset", "uart0"), 0,
		   "{\"region\": \"uart0\", \"op\": \"reset\"}\n");
	cli_expect(sock, ARGS("sim", "get", "uart0", "0x14", "-w", "8"), 0, "0x60\n");
	cli_expect(sock, ARGS("sim", "get", "uart0", "0xc", "-w", "8"), 0, "0x03\n");
}

/* The interrupt a harness raises reaches `wait-irq` (pending until it subscribes, as UIO's). */
static void
test_mmioctl_sim_irq(void **state)
{
	const char *sock = ((struct env *)*state)->daemon.socket_path;
	cli_expect(sock, ARGS("sim", "irq", "uart0"), 0, "");
	cli_expect(sock, ARGS("wait-irq", "uart0", "-t", "30000"), 0, "irq 1\n");
	cli_expect(sock, ARGS("-o", "json", "sim", "irq", "uart0"), 0,
		   "{\"region\": \"uart0\", \"op\": \"irq\"}\n");
	cli_expect(sock, ARGS("wait-irq", "uart0", "-t", "30000"), 0, "irq 1\n");
}

static void
test_mmioctl_sim_errors(void **state)
{
	const char *sock = ((struct env *)*state)->daemon.socket_path;
	cli_expect_failure(sock, ARGS("sim", "get", "plain", "0"), "INVALID_ARGUMENT",
			   "only a sim region has a device side");
	cli_expect_failure(sock, ARGS("sim", "irq", "nosuch"), "NOT_FOUND", "no region named");
	cli_expect_failure(sock, ARGS("sim", "get", "uart0", "0x13", "-w", "16"), "UNALIGNED",
			   "not 2-byte aligned");
	cli_expect_failure(sock, ARGS("sim", "set", "uart0", "0x100", "1", "-w", "8"),
			   "OUT_OF_RANGE", "does not fit region uart0");
	/* Usage errors: exit 2 before any request. */
	cli_expect_failure(sock, ARGS("sim", "poke", "uart0"), NULL, NULL);
	cli_expect_failure(sock, ARGS("sim", "set", "uart0", "0x14"), NULL, NULL);
	cli_expect_failure(sock, ARGS("sim", "get", "uart0", "0x14", "1"), NULL, NULL);
	cli_expect_failure(sock, ARGS("sim", "irq", "uart0", "--mask", "1"), NULL, NULL);
	cli_expect_failure(sock, ARGS("sim", "set", "uart0", "0x14", "0x100", "-w", "8"), NULL,
			   NULL);
	cli_expect_failure(sock,
			   ARGS("sim", "set", "uart0", "0x14", "1", "--mask", "0x100", "-w", "8"),
			   NULL, NULL);
	cli_expect_failure(sock, ARGS("sim"), NULL, NULL);
}

int
main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_mmioctl_sim_bits),
		T(test_mmioctl_sim_irq),
		T(test_mmioctl_sim_errors),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
