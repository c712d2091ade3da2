/*
 * A tiny user-space driver for a 16550 UART (etc/maps/uart16550.yaml), on libmmio-client and
 * the register names of the UART's map: what a driver tested in CI against the sim region and
 * its model (etc/models/uart16550.lua) looks like. It never sees an offset.
 */
#ifndef UART_DRIVER_H
#define UART_DRIVER_H

#include <stddef.h>
#include <stdint.h>

struct mmio_client;
struct mmio_lease;

struct uart {
	struct mmio_lease *lease; /* all of the UART's registers */
};

/* The line status bits the driver reports (LSR). */
#define UART_LSR_DR 0x01u /* a received byte is waiting */
#define UART_LSR_OE 0x02u /* a byte was lost: the receive FIFO was full */

/*
 * Leases the whole of region, subscribes to its interrupt and sets the line up: 8 data bits,
 * 1 stop bit, the receive and line-status interrupts enabled. 0 or a negative errno.
 */
int uart_open(struct mmio_client *client, const char *region, struct uart *u);

/* Waits for the transmitter to take a byte (LSR.THRE), then sends ch. 0 or a negative errno. */
int uart_putc(struct uart *u, uint8_t ch);

/*
 * Waits up to timeout_ms for the UART's interrupt, then acknowledges it. 0, -ETIMEDOUT or a
 * negative errno.
 */
int uart_wait(struct uart *u, int timeout_ms);

/*
 * Reads what has arrived: up to cap bytes into buf while LSR.DR says one waits; *n is how
 * many, *line_status the LSR bits seen (UART_LSR_OE if an overrun was flagged: reading LSR
 * clears it). 0 or a negative errno.
 */
int uart_read(struct uart *u, uint8_t *buf, size_t cap, size_t *n, unsigned *line_status);

/* Releases the lease (and with it the interrupt). */
void uart_close(struct uart *u);

#endif
