/*
 * The top of the device backends: backend_open() finds the spec's type in the
 * table of backend types and calls its one constructor, backend_locate() its
 * locator, and backend_close(); backing_overlap() compares where two are;
 * backend_irq_ack() re-enables an interrupt.
 * Nothing below calls back up here, so adding a type is one line in the table.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config/region_spec.h"
#include "device/backend.h"
#include "device/backend_type.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
/* The high byte of the PCI command register, and Interrupt Disable (bit 10) in it. */
#define PCI_COMMAND_HIGH              5
#define PCI_COMMAND_INTX_DISABLE_HIGH 0x04u

static const struct backend_type *const backend_types[] = {
	&backend_type_mem, &backend_type_file, &backend_type_devmem,
	&backend_type_pci, &backend_type_uio,  &backend_type_sim,
};

/* The type spec names, or NULL with the reason in err. */
static const struct backend_type *
find_type(const struct region_spec *spec, char *err, size_t errlen)
{
	for (size_t i = 0; i < ARRAY_LEN(backend_types); i++) {
		if (strcmp(spec->type, backend_types[i]->name) == 0) {
			return backend_types[i];
		}
	}
	snprintf(err, errlen, "unknown backend type '%s'", spec->type);
	return NULL;
}

int
backend_open(const struct region_spec *spec, struct backend **out, char *err, size_t errlen)
{
	return backend_open_map(spec, NULL, out, err, errlen);
}

int
backend_open_map(const struct region_spec *spec, const struct regmap *map, struct backend **out,
		 char *err, size_t errlen)
{
	const struct backend_type *type = find_type(spec, err, errlen);
	if (!type) {
		return -EINVAL;
	}
	return type->open_map ? type->open_map(spec, map, out, err, errlen)
			      : type->open(spec, out, err, errlen);
}

int
backend_irq_ack(const struct backend *b)
{
	if (b->ops->reenable_irq) {
		return b->ops->reenable_irq(b);
	}
	if (b->intx_fd >= 0) {
		/*
		 * uio_pci_generic: clear Interrupt Disable (bit 10 of the command register, at
		 * offset 4), as its documentation's example does: one byte written, the high
		 * one, so the enables in the low byte are never rewritten.
		 */
		uint8_t high;
		if (pread(b->intx_fd, &high, 1, PCI_COMMAND_HIGH) != 1) {
			return -EIO;
		}
		high &= (uint8_t)~PCI_COMMAND_INTX_DISABLE_HIGH;
		return pwrite(b->intx_fd, &high, 1, PCI_COMMAND_HIGH) == 1 ? 0 : -EIO;
	}
	/* UIO: writing 1 re-enables an interrupt its handler disabled. */
	int32_t enable = 1;
	return write(b->irq_fd, &enable, sizeof(enable)) == sizeof(enable) ? 0 : -EIO;
}

int
backend_locate(const struct region_spec *spec, struct backing *where, uint64_t *len, char *err,
	       size_t errlen)
{
	const struct backend_type *type = find_type(spec, err, errlen);
	return type ? type->locate(spec, where, len, err, errlen) : -EINVAL;
}

bool
backing_overlap(const struct backing *a, uint64_t len_a, const struct backing *b, uint64_t len_b,
		struct lease_overlap *out)
{
	if (!a->shared || !b->shared || a->device != b->device || a->dev != b->dev ||
	    a->ino != b->ino || a->part != b->part) {
		return false;
	}
	return lease_ranges_overlap(a->start, len_a, b->start, len_b, out);
}

void
backend_close(struct backend *b)
{
	if (b) {
		b->ops->close(b);
	}
}
