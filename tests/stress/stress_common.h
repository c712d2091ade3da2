/*
 * What stress_flood and stress_stall share: an mmiod per test, a probe
 * connection kept open across measurements, and asserting helpers (cmocka).
 */
#ifndef MMIO_STRESS_COMMON_H
#define MMIO_STRESS_COMMON_H

#include "daemon_fixture.h"
#include "mmio/client.h"

/* sim0: 64 KiB of memory. NULL-terminated, for daemon_fixture_start(). */
extern const char *const stress_regions[];

/* cmocka setup: mmiod serving stress_regions; *state is its struct daemon_fixture. */
int stress_setup(void **state);
/* stress_setup, with mmiod told not to use SO_PASSRIGHTS (as on kernels before 6.16). */
int stress_setup_no_passrights(void **state);

/* Only cleans up after a failure: each test asserts its daemon's clean stop itself. */
int stress_teardown(void **state);

/* Stops mmiod, prints the line "<test>: mmiod stopped with status N" and asserts 0. */
void stress_assert_stops(struct daemon_fixture *f, const char *test);

/* Connects, leases, stores and disconnects: mmiod still serves a well-behaved client. */
void stress_assert_serves(const struct daemon_fixture *f);

/* A connection kept open across a test's measurements, so its own hangup never races them. */
struct mmio_client *stress_open_probe(const struct daemon_fixture *f);

/*
 * A round trip on probe: every hangup that was readable before its request
 * has been handled by the time the reply comes (mmiod handles one frame per
 * wakeup). Returns the live leases (root sees all of them).
 */
int stress_settle(struct mmio_client *probe);

/* A raw connection that said Hello (asserted). */
int stress_connect_hello(const struct daemon_fixture *f);

#endif
