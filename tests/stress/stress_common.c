#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdlib.h>

#include "mmio_limits.h"
#include "raw_client.h"
#include "stress_common.h"
#include "stress_util.h"

const char *const stress_regions[] = {"sim0,type=mem,size=0x10000", NULL};

int
stress_setup(void **state)
{
	struct daemon_fixture *f = calloc(1, sizeof(*f));
	if (daemon_fixture_start(f, stress_regions) < 0) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

int
stress_setup_no_passrights(void **state)
{
	setenv("MMIOD_NO_SO_PASSRIGHTS", "1", 1);
	int rc = stress_setup(state);
	unsetenv("MMIOD_NO_SO_PASSRIGHTS");
	return rc;
}

int
stress_teardown(void **state)
{
	struct daemon_fixture *f = *state;
	int rc = f->pid > 0 ? daemon_fixture_stop(f) : 0;
	free(f);
	return rc == 0 ? 0 : -1;
}

void
stress_assert_stops(struct daemon_fixture *f, const char *test)
{
	int rc = daemon_fixture_stop(f);
	stress_report("%s: mmiod stopped with status %d: %s", test, rc, rc == 0 ? "PASS" : "FAIL");
	assert_int_equal(rc, 0);
}

void
stress_assert_serves(const struct daemon_fixture *f)
{
	struct mmio_client *c;
	struct mmio_lease *l;
	assert_int_equal(mmio_connect(f->socket_path, &c), 0);
	assert_int_equal(mmio_acquire(c, "sim0", 0xf000, 8, &l), 0);
	assert_int_equal(mmio_store64(l, 0, 42), 0);
	mmio_disconnect(c);
}

struct mmio_client *
stress_open_probe(const struct daemon_fixture *f)
{
	struct mmio_client *probe;
	assert_int_equal(mmio_connect(f->socket_path, &probe), 0);
	return probe;
}

int
stress_settle(struct mmio_client *probe)
{
	struct mmio_lease_info *leases;
	int n = mmio_list_leases(probe, &leases);
	free(leases);
	return n;
}

int
stress_connect_hello(const struct daemon_fixture *f)
{
	int fd = raw_connect(f->socket_path);
	assert_true(fd >= 0);
	assert_int_equal(raw_hello(fd, MMIO_PROTOCOL_VERSION), MMIO__STATUS__OK);
	return fd;
}
