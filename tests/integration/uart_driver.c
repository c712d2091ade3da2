/* A 16550 driver by register name on libmmio-client (uart_driver.h). */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "mmio/client.h"
#include "uart_driver.h"

/* The UART's register window: THR at 0x0 to SCR at 0x1c, 4 bytes apart. */
#define UART_WINDOW 0x20
/* How long a byte may take to leave the transmitter before uart_putc gives up. */
#define THRE_TIMEOUT_MS 1000

int
uart_open(struct mmio_client *client, const char *region, struct uart *u)
{
	static const char *const line_8n1[] = {"LCR.WLS=8BIT", "LCR.STB=0", "LCR.DLAB=0"};
	static const char *const interrupts[] = {"IER.ERBFI=1", "IER.ELSI=1"};
	int rc = mmio_acquire(client, region, 0, UART_WINDOW, &u->lease);
	if (rc < 0) {
		return rc;
	}
	if ((rc = mmio_reg_store_fields(u->lease, line_8n1, 3)) < 0 ||
	    (rc = mmio_irq_subscribe(u->lease)) < 0 ||
	    (rc = mmio_reg_store_fields(u->lease, interrupts, 2)) < 0) {
		mmio_release(u->lease);
		u->lease = NULL;
	}
	return rc;
}

int
uart_putc(struct uart *u, uint8_t ch)
{
	struct mmio_reg thre;
	uint64_t lsr;
	int rc = mmio_reg_find(u->lease, "LSR.THRE", &thre);
	/* mmiod polls for us: the transmitter empties on the device's time, not ours. */
	if (rc == 0) {
		rc = mmio_poll(u->lease, thre.offset, thre.width, thre.mask, thre.mask,
			       THRE_TIMEOUT_MS, 0, &lsr);
	}
	return rc < 0 ? rc : mmio_reg_store(u->lease, "THR", ch);
}

int
uart_wait(struct uart *u, int timeout_ms)
{
	uint32_t count;
	int rc = mmio_irq_wait(u->lease, timeout_ms, &count);
	return rc < 0 ? rc : mmio_irq_ack(u->lease);
}

int
uart_read(struct uart *u, uint8_t *buf, size_t cap, size_t *n, unsigned *line_status)
{
	*n = 0;
	*line_status = 0;
	for (;;) {
		uint64_t lsr;
		int rc = mmio_reg_load(u->lease, "LSR", &lsr);
		if (rc < 0) {
			return rc;
		}
		*line_status |= (unsigned)lsr & (UART_LSR_DR | UART_LSR_OE);
		if (!(lsr & UART_LSR_DR) || *n == cap) {
			return 0;
		}
		uint64_t byte;
		/* Offset 0 read is the receive buffer (the map names it by its write side, THR). */
		if ((rc = mmio_reg_load(u->lease, "THR", &byte)) < 0) {
			return rc;
		}
		buf[(*n)++] = (uint8_t)byte;
	}
}

void
uart_close(struct uart *u)
{
	if (u->lease) {
		mmio_release(u->lease);
		u->lease = NULL;
	}
}
