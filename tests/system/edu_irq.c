/*
 * The interrupt of QEMU's "edu" PCI device, end to end through mmiod, as a
 * driver handles it: subscribe, make the device raise (a store to 0x60), wait
 * for the event, read the cause (0x24), acknowledge it at the device (0x64),
 * then re-enable the interrupt (mmio_irq_ack), and again.
 *
 *   edu_irq REGION ROUNDS [PCI-CONFIG]
 *
 * REGION is a region of mmiod with irq = true over the device's BAR0 whose
 * interrupt comes from uio_pci_generic. Each round must deliver exactly one
 * interrupt. With PCI-CONFIG (the device's sysfs config file) it also checks
 * the INTx masking uio_pci_generic does: the command register's Interrupt
 * Disable bit is set once the interrupt has arrived (the kernel's handler
 * masked it) and clear after mmio_irq_ack (mmiod re-enabled it). Prints one
 * line per round; exit status 0, or 1 with the failing step on stderr.
 *
 * The QEMU boot tier (tests/system/boot_test_qemu.sh) runs it in its guest.
 */
#define _POSIX_C_SOURCE 200809L /* pread, O_CLOEXEC under -std=c11 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <mmio/client.h>

#define EDU_IRQ_STATUS           0x24
#define EDU_IRQ_RAISE            0x60
#define EDU_IRQ_ACK              0x64
#define EDU_REGS_LEN             0x68
#define IRQ_WAIT_MS              20000 /* an interrupt under TCG: well under a second */
#define PCI_COMMAND              0x04
#define PCI_COMMAND_INTX_DISABLE 0x400u

/* Reports a failed step with mmiod's detail, if any. Returns 1, the exit status. */
static int
failed(struct mmio_client *c, const char *step, int rc)
{
	char detail[256];
	mmio_error_detail_copy(c, detail, sizeof(detail));
	fprintf(stderr, "edu_irq: %s: %s%s%s\n", step, mmio_strerror(rc), detail[0] ? ": " : "",
		detail);
	return 1;
}

/* The command register's Interrupt Disable bit, from the config file: 0, 1, or -1 on error. */
static int
intx_masked(const char *config)
{
	int fd = open(config, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		return -1;
	}
	unsigned char cmd[2];
	ssize_t n = pread(fd, cmd, sizeof(cmd), PCI_COMMAND);
	close(fd);
	if (n != (ssize_t)sizeof(cmd)) {
		return -1;
	}
	/* PCI config space is little-endian. */
	return ((unsigned)cmd[0] | (unsigned)cmd[1] << 8) & PCI_COMMAND_INTX_DISABLE ? 1 : 0;
}

static int
check_intx(const char *config, int want, const char *when)
{
	if (!config) {
		return 0;
	}
	int masked = intx_masked(config);
	if (masked != want) {
		fprintf(stderr, "edu_irq: %s: INTx is %s, expected %s\n", when,
			masked < 0 ? "unreadable"
			: masked   ? "masked"
				   : "enabled",
			want ? "masked" : "enabled");
		return 1;
	}
	return 0;
}

static int
round_trip(struct mmio_client *c, struct mmio_lease *regs, unsigned round, const char *config)
{
	/* A different cause each round, so a stale status would show. */
	uint32_t cause = 1u << (round % 32);
	uint32_t count = 0;
	uint32_t status = 0;
	int rc;
	if ((rc = mmio_store32(regs, EDU_IRQ_RAISE, cause)) < 0) {
		return failed(c, "raise", rc);
	}
	if ((rc = mmio_irq_wait(regs, IRQ_WAIT_MS, &count)) < 0) {
		return failed(c, "wait for the interrupt", rc);
	}
	if (count != 1) {
		fprintf(stderr, "edu_irq: round %u: %" PRIu32 " interrupts, expected 1\n", round,
			count);
		return 1;
	}
	if (check_intx(config, 1, "after the interrupt")) {
		return 1;
	}
	if ((rc = mmio_load32(regs, EDU_IRQ_STATUS, &status)) < 0) {
		return failed(c, "load the interrupt status", rc);
	}
	if (status != cause) {
		fprintf(stderr, "edu_irq: round %u: status 0x%" PRIx32 ", expected 0x%" PRIx32 "\n",
			round, status, cause);
		return 1;
	}
	/* The device first (its line drops), then the kernel: else INTx fires again at once. */
	if ((rc = mmio_store32(regs, EDU_IRQ_ACK, status)) < 0) {
		return failed(c, "acknowledge at the device", rc);
	}
	if ((rc = mmio_load32(regs, EDU_IRQ_STATUS, &status)) < 0) {
		return failed(c, "load the interrupt status after the acknowledgement", rc);
	}
	if (status != 0) {
		fprintf(stderr, "edu_irq: round %u: status 0x%" PRIx32 " after the ack\n", round,
			status);
		return 1;
	}
	if ((rc = mmio_irq_ack(regs)) < 0) {
		return failed(c, "re-enable the interrupt", rc);
	}
	if (check_intx(config, 0, "after mmio_irq_ack")) {
		return 1;
	}
	printf("round %u: 1 interrupt, cause 0x%" PRIx32 ", acknowledged%s\n", round, cause,
	       config ? "; INTx masked by the kernel, re-enabled by mmiod" : "");
	return 0;
}

int
main(int argc, char **argv)
{
	char *end = NULL;
	unsigned long rounds = argc >= 3 ? strtoul(argv[2], &end, 0) : 0;
	if (argc < 3 || argc > 4 || !end || *end || rounds == 0 || rounds > 1000) {
		fprintf(stderr, "usage: edu_irq REGION ROUNDS [PCI-CONFIG]\n");
		return 2;
	}
	const char *config = argc == 4 ? argv[3] : NULL;
	struct mmio_client *c;
	int rc = mmio_connect(NULL, &c);
	if (rc < 0) {
		fprintf(stderr, "edu_irq: connect: %s\n", mmio_strerror(rc));
		return 1;
	}
	struct mmio_lease *regs;
	int status = 0;
	if ((rc = mmio_acquire(c, argv[1], 0, EDU_REGS_LEN, &regs)) < 0) {
		status = failed(c, "acquire", rc);
	} else if ((rc = mmio_irq_subscribe(regs)) < 0) {
		status = failed(c, "subscribe", rc);
	}
	for (unsigned i = 0; status == 0 && i < rounds; i++) {
		status = round_trip(c, regs, i, config);
	}
	mmio_disconnect(c);
	return status;
}
