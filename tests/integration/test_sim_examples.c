/*
 * The example devices etc/ ships, as a driver meets them in CI: a real mmiod with sim regions
 * on etc/maps/uart16550.yaml + etc/models/uart16550.lua and etc/maps/timer.yaml +
 * etc/models/timer.lua. A tiny user-space UART driver (uart_driver.c, on libmmio-client, by
 * register name) transmits, receives on the interrupt and sees an overrun flagged with LSR.OE
 * (read-clears), while the test plays the hardware through the device side (mmio_sim_*). The
 * timer counts, raises its interrupt and says DONE as its model says.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon_fixture.h"
#include "mmio/client.h"
#include "uart_driver.h"

/* Generous bounds on waits for events that come on their own: never a measured duration. */
#define WAIT_MS 10000

struct env {
	struct daemon_fixture daemon;
	char conf_path[160];
	struct mmio_client *driver; /* the code under test's connection */
	struct mmio_client *device; /* the test's, playing the hardware */
	struct uart uart;
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
	if (!f) {
		return -1;
	}
	fprintf(f,
		"regions = (\n"
		"  { name = \"uart0\"; type = \"sim\"; size = 0x20;\n"
		"    map = \"%s/etc/maps/uart16550.yaml\"; model = "
		"\"%s/etc/models/uart16550.lua\"; },\n"
		"  { name = \"timer0\"; type = \"sim\"; size = 0x20;\n"
		"    map = \"%s/etc/maps/timer.yaml\"; model = \"%s/etc/models/timer.lua\"; }\n"
		");\n",
		MMIO_SOURCE_DIR, MMIO_SOURCE_DIR, MMIO_SOURCE_DIR, MMIO_SOURCE_DIR);
	const char *const args[] = {"--config", env->conf_path, NULL};
	if (fclose(f) != 0 || daemon_fixture_start_args(&env->daemon, args) < 0 ||
	    mmio_connect(env->daemon.socket_path, &env->driver) < 0 ||
	    mmio_connect(env->daemon.socket_path, &env->device) < 0) {
		return -1;
	}
	*state = env;
	return 0;
}

static int
teardown(void **state)
{
	struct env *env = *state;
	uart_close(&env->uart);
	mmio_disconnect(env->driver);
	mmio_disconnect(env->device);
	int rc = daemon_fixture_stop(&env->daemon);
	unlink(env->conf_path);
	daemon_fixture_cleanup(&env->daemon);
	free(env);
	return rc;
}

/* The hardware's side: a register's raw value, through its model's on_device_get. */
static uint64_t
device_get(struct env *env, const char *region, const char *name)
{
	struct mmio_reg r;
	uint64_t v = 0;
	assert_int_equal(mmio_regmap_find(env->device, region, name, &r), 0);
	assert_int_equal(mmio_sim_get(env->device, region, r.offset, r.width, &v), 0);
	return (v & r.mask) >> r.lsb;
}

static void
device_set(struct env *env, const char *region, const char *name, uint64_t value)
{
	struct mmio_reg r;
	assert_int_equal(mmio_regmap_find(env->device, region, name, &r), 0);
	assert_int_equal(
		mmio_sim_set(env->device, region, r.offset, r.width, r.mask, value << r.lsb), 0);
}

static void
open_uart(struct env *env)
{
	assert_int_equal(uart_open(env->driver, "uart0", &env->uart), 0);
	assert_int_equal(device_get(env, "uart0", "LCR"), 0x03);
	assert_int_equal(device_get(env, "uart0", "IER"), 0x05);
	assert_int_equal(device_get(env, "uart0", "IIR.NINT"), 1);
}

static void
test_transmit(void **state)
{
	struct env *env = *state;
	open_uart(env);
	const char text[] = "hi\n";
	for (size_t i = 0; i < sizeof(text) - 1; i++) {
		assert_int_equal(uart_putc(&env->uart, (uint8_t)text[i]), 0);
	}
	/* The line, as the hardware at the other end sees it: the bytes in order, then none. */
	for (size_t i = 0; i < sizeof(text) - 1; i++) {
		assert_int_equal(device_get(env, "uart0", "THR"), (uint8_t)text[i]);
	}
	assert_int_equal(device_get(env, "uart0", "THR"), 0);
}

static void
test_receive_on_interrupt(void **state)
{
	struct env *env = *state;
	open_uart(env);
	uint8_t buf[32];
	size_t n;
	unsigned status;
	/* Nothing yet: no interrupt, nothing to read. */
	assert_int_equal(uart_wait(&env->uart, 0), -ETIMEDOUT);
	assert_int_equal(uart_read(&env->uart, buf, sizeof(buf), &n, &status), 0);
	assert_int_equal(n, 0);
	device_set(env, "uart0", "THR", 'o');
	device_set(env, "uart0", "THR", 'k');
	assert_int_equal(device_get(env, "uart0", "IIR.IID"), 2); /* received data available */
	assert_int_equal(uart_wait(&env->uart, WAIT_MS), 0);
	assert_int_equal(uart_read(&env->uart, buf, sizeof(buf), &n, &status), 0);
	assert_int_equal(n, 2);
	assert_memory_equal(buf, "ok", 2);
	assert_int_equal(status, UART_LSR_DR);
	assert_int_equal(device_get(env, "uart0", "IIR.NINT"), 1);
	/* The next byte is the next interrupt. */
	device_set(env, "uart0", "THR", '!');
	assert_int_equal(uart_wait(&env->uart, WAIT_MS), 0);
	assert_int_equal(uart_read(&env->uart, buf, sizeof(buf), &n, &status), 0);
	assert_int_equal(n, 1);
	assert_int_equal(buf[0], '!');
}

static void
test_overrun(void **state)
{
	struct env *env = *state;
	open_uart(env);
	/* 17 bytes into a 16-byte FIFO the driver does not drain: the last is lost. */
	for (int i = 0; i < 17; i++) {
		device_set(env, "uart0", "THR", (uint64_t)('A' + i));
	}
	assert_int_equal(device_get(env, "uart0", "LSR.OE"), 1);
	assert_int_equal(uart_wait(&env->uart, WAIT_MS), 0);
	uint8_t buf[32];
	size_t n;
	unsigned status;
	assert_int_equal(uart_read(&env->uart, buf, sizeof(buf), &n, &status), 0);
	assert_int_equal(n, 16);
	assert_memory_equal(buf, "ABCDEFGHIJKLMNOP", 16);
	assert_int_equal(status, UART_LSR_DR | UART_LSR_OE);
	/* The driver's first read of LSR cleared OE (rc); the device side's reads never do. */
	assert_int_equal(device_get(env, "uart0", "LSR.OE"), 0);
	assert_int_equal(uart_read(&env->uart, buf, sizeof(buf), &n, &status), 0);
	assert_int_equal(n, 0);
	assert_int_equal(status, 0);
}

/* The timer: START sets BUSY; LOAD ms later DONE (w1c), COUNT and the interrupt. */
static void
test_timer(void **state)
{
	struct env *env = *state;
	struct mmio_lease *l;
	static const char *const start[] = {"CTRL.START=1", "CTRL.IRQEN=1"};
	assert_int_equal(mmio_acquire(env->driver, "timer0", 0, 0x14, &l), 0);
	assert_int_equal(mmio_irq_subscribe(l), 0);
	uint64_t v;
	assert_int_equal(mmio_reg_load(l, "ID", &v), 0);
	assert_int_equal(v, 0x71e50001);
	assert_int_equal(mmio_reg_store(l, "LOAD", 1), 0);
	assert_int_equal(mmio_reg_store_fields(l, start, 2), 0);
	assert_int_equal(mmio_reg_load(l, "CTRL.START", &v), 0); /* self-clearing */
	assert_int_equal(v, 0);
	uint32_t count;
	assert_int_equal(mmio_irq_wait(l, WAIT_MS, &count), 0);
	assert_int_equal(mmio_reg_load(l, "STATUS.DONE", &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(mmio_reg_load(l, "STATUS.BUSY", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(mmio_reg_load(l, "COUNT", &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(mmio_reg_store(l, "STATUS.DONE", 1), 0); /* write 1 to clear */
	assert_int_equal(mmio_reg_load(l, "STATUS", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(mmio_release(l), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_transmit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_receive_on_interrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overrun, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timer, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
