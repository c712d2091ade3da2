/* What a test asks of mmiod's figures through libmmio-client. */
#ifndef MMIO_TEST_CLIENT_STATS_H
#define MMIO_TEST_CLIENT_STATS_H

#include <stdint.h>

struct mmio_client;

/* Requests mmiod has served so far, the Stats request that asks included; UINT64_MAX on error. */
uint64_t requests_served(struct mmio_client *c);

#endif
