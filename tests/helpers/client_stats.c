#include <stdlib.h>

#include "client_stats.h"
#include "mmio/client.h"

uint64_t
requests_served(struct mmio_client *c)
{
	struct mmio_stats *st;
	if (mmio_stats(c, &st) < 0) {
		return UINT64_MAX;
	}
	uint64_t n = st->requests;
	free(st);
	return n;
}
