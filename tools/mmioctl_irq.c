/* mmioctl wait-irq: subscribe to a region's interrupt, wait, print, acknowledge. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmio/client.h"
#include "mmioctl.h"

const char mmioctl_wait_irq_help[] =
	"Wait for the interrupt of REGION (a region served with irq = yes) and print\n"
	"'irq N' for each wake-up, N being how many interrupts arrived since the last\n"
	"one; acknowledge each (re-enabling the interrupt) before waiting again.\n"
	"Holds an empty lease while it waits, at the start of your first read-write\n"
	"grant of REGION (else of your first grant, else at offset 0): owning an\n"
	"interrupt takes a read-write lease, and a read-write grant of the whole region\n"
	"or one with irq = true. Only one client may wait on a region's interrupt at a\n"
	"time.\n"
	"\n"
	"  -t, --timeout MS     give up after MS milliseconds per interrupt (default:\n"
	"                       wait forever); exit 1 with TIMEOUT\n"
	"  -n, --count N        wait for N wake-ups, then exit 0 (default 1)\n"
	"\n"
	"With -o json it prints one document at the end instead of the lines:\n"
	"{\"region\": REGION, \"interrupts\": [N, ...]}.\n";

/*
 * Where to hold the empty lease: owning an interrupt takes a read-write lease,
 * so at the start of the caller's first read-write grant of region; without
 * one, of its first grant (the subscription's refusal then says what is
 * missing); 0 if region is not listed or the listing fails.
 */
static uint64_t
lease_offset(struct mmio_client *client, const char *region)
{
	struct mmio_region_info *regions = NULL;
	int n = mmio_list_regions(client, &regions);
	uint64_t offset = 0;
	for (int i = 0; i < n; i++) {
		const struct mmio_region_info *r = &regions[i];
		if (strcmp(r->name, region) != 0) {
			continue;
		}
		size_t pick = 0;
		for (size_t g = 0; g < r->n_grants; g++) {
			if (r->grants[g].access == MMIO_ACCESS_RW) {
				pick = g;
				break;
			}
		}
		offset = pick < r->n_grants ? r->grants[pick].offset : 0;
		break;
	}
	free(regions);
	return offset;
}

int
mmioctl_wait_irq(const struct invocation *inv)
{
	const char *region = inv->args[0];
	uint32_t *counts = NULL; /* -o json: the wake-ups so far */
	struct mmio_client *client;
	int rc = mmioctl_connect(inv->socket_path, &client);
	if (rc != 0) {
		return rc;
	}
	struct mmio_lease *lease;
	rc = mmio_acquire(client, region, lease_offset(client, region), 0, &lease);
	if (rc < 0) {
		rc = mmioctl_fail(client, rc, "wait-irq %s", region);
		goto out;
	}
	rc = mmio_irq_subscribe(lease);
	if (rc < 0) {
		rc = mmioctl_fail(client, rc, "wait-irq %s", region);
		goto out;
	}
	/* -o json: printed once every wake-up arrived; a failure prints its error object alone. */
	bool json = mmioctl_output == MMIOCTL_OUTPUT_JSON;
	for (unsigned i = 0; i < inv->count; i++) {
		uint32_t n;
		rc = mmio_irq_wait(lease, inv->timeout_ms, &n);
		if (rc == -ETIMEDOUT) {
			fprintf(stderr,
				"mmioctl: wait-irq %s: TIMEOUT: no interrupt within %d ms\n",
				region, inv->timeout_ms);
			if (json) {
				mmioctl_json_error("TIMEOUT", "no interrupt in time");
			}
			rc = MMIOCTL_EXIT_FAILURE;
			goto out;
		}
		if (rc < 0) {
			rc = mmioctl_fail(NULL, rc, "wait-irq %s", region);
			goto out;
		}
		if (json) {
			uint32_t *more = realloc(counts, (i + 1) * sizeof(*counts));
			if (!more) {
				rc = mmioctl_fail(NULL, -ENOMEM, "wait-irq %s", region);
				goto out;
			}
			counts = more;
			counts[i] = n;
		} else {
			printf("irq %u\n", n);
			(void)fflush(
				stdout); /* errors stay in ferror(stdout), which main() checks */
		}
		rc = mmio_irq_ack(lease);
		if (rc < 0) {
			rc = mmioctl_fail(client, rc, "wait-irq %s: acknowledge", region);
			goto out;
		}
	}
	if (json) {
		fputs("{\"region\": ", stdout);
		mmioctl_json_string(region);
		fputs(", \"interrupts\": [", stdout);
		for (unsigned i = 0; i < inv->count; i++) {
			printf("%s%u", i ? ", " : "", counts[i]);
		}
		fputs("]}\n", stdout);
	}
	rc = 0;
out:
	free(counts);
	mmio_disconnect(client);
	return rc;
}
