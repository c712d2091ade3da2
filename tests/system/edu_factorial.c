/*
 * A user-space driver for QEMU's "edu" PCI device (QEMU's docs/specs/edu.rst),
 * on libmmio-client: it computes N! on the device.
 *
 *   edu_factorial REGION N
 *
 * REGION is a region of mmiod over the device's BAR0 (any backend: pci,
 * devmem, uio). The device computes in a thread of its own, so the driver
 * must wait for the status register's busy bit to clear before it reads the
 * result: a store of the operand, a poll that mmiod runs, a load. Prints
 * "N! = RESULT" (decimal, modulo 2^32 as the device computes it); exit status
 * 0, or 1 with the failing step and mmiod's explanation on stderr.
 *
 * The QEMU boot tier (tests/system/boot_test_qemu.sh) runs it in its guest.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <mmio/client.h>

#define EDU_IDENT       0x00 /* reads 0x010000ed: major 1, minor 0, 0xed */
#define EDU_FACTORIAL   0x08 /* store the operand, load the result */
#define EDU_STATUS      0x20
#define EDU_STATUS_BUSY 0x01u /* set while the device computes */
#define EDU_IDENT_VALUE 0x010000edu
#define EDU_REGS_LEN    0x24 /* the lease: ident up to the status register */
#define EDU_COMPUTE_MS  5000 /* TCG is slow, but a factorial is a few multiplications */

/* Reports a failed step with mmiod's detail, if any. Returns 1, the exit status. */
static int
failed(struct mmio_client *c, const char *step, int rc)
{
	char detail[256];
	mmio_error_detail_copy(c, detail, sizeof(detail));
	fprintf(stderr, "edu_factorial: %s: %s%s%s\n", step, mmio_strerror(rc),
		detail[0] ? ": " : "", detail);
	return 1;
}

static int
compute(struct mmio_client *c, const char *region, uint32_t n)
{
	struct mmio_lease *regs;
	int rc = mmio_acquire(c, region, 0, EDU_REGS_LEN, &regs);
	if (rc < 0) {
		return failed(c, "acquire", rc);
	}
	uint32_t ident = 0;
	uint64_t status = 0;
	uint32_t result = 0;
	if ((rc = mmio_load32(regs, EDU_IDENT, &ident)) < 0) {
		return failed(c, "load the identification register", rc);
	}
	if (ident != EDU_IDENT_VALUE) {
		fprintf(stderr, "edu_factorial: %s is not an edu device (ident 0x%08" PRIx32 ")\n",
			region, ident);
		return 1;
	}
	/* The device ignores an operand stored while it is busy: wait for it to be idle. */
	if ((rc = mmio_poll(regs, EDU_STATUS, 4, EDU_STATUS_BUSY, 0, EDU_COMPUTE_MS, 0, &status)) <
	    0) {
		return failed(c, "wait for the device to be idle", rc);
	}
	if ((rc = mmio_store32(regs, EDU_FACTORIAL, n)) < 0) {
		return failed(c, "store the operand", rc);
	}
	if ((rc = mmio_poll(regs, EDU_STATUS, 4, EDU_STATUS_BUSY, 0, EDU_COMPUTE_MS, 0, &status)) <
	    0) {
		return failed(c, "poll the status register", rc);
	}
	if ((rc = mmio_load32(regs, EDU_FACTORIAL, &result)) < 0) {
		return failed(c, "load the result", rc);
	}
	if ((rc = mmio_release(regs)) < 0) {
		return failed(c, "release", rc);
	}
	printf("%" PRIu32 "! = %" PRIu32 "\n", n, result);
	return 0;
}

int
main(int argc, char **argv)
{
	char *end = NULL;
	errno = 0;
	unsigned long n = argc == 3 ? strtoul(argv[2], &end, 0) : 0;
	if (argc != 3 || !end || end == argv[2] || *end || errno || n > UINT32_MAX) {
		fprintf(stderr, "usage: edu_factorial REGION N\n");
		return 2;
	}
	struct mmio_client *c;
	int rc = mmio_connect(NULL, &c);
	if (rc < 0) {
		fprintf(stderr, "edu_factorial: connect: %s\n", mmio_strerror(rc));
		return 1;
	}
	rc = compute(c, argv[1], (uint32_t)n);
	mmio_disconnect(c);
	return rc;
}
