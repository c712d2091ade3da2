/*
 * Restart without revoking (SIGUSR2, docs/RESTART.md): leases, lease ids, a mem region's
 * contents, rings, a poll in progress and queued work survive; clients doing loads and stores
 * on every path through many restarts see no failed request and no lost store; region changes
 * apply; a state the new binary refuses leaves the old process serving.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon_fixture.h"
#include "mmio/client.h"
#include "run_as.h"

#define N_CLIENTS  16
#define CLIENT_LEN 0x40
/* A client that is not the user who started mmiod: grants bind it. */
#define GRANTEE_UID 4243

/* %s: the grant's access (rw, ro), then the map's path. */
static const char granted[] =
	"socket = { mode = \"0666\"; };\n"
	"regions = (\n"
	"  { name = \"keep\"; type = \"mem\"; size = 0x1000;\n"
	"    grants = ( { user = 4243; access = \"%s\"; offset = 0x800; length = 0x100; } ); },\n"
	"  { name = \"dev\"; type = \"sim\"; size = 0x10; map = \"%s\"; }\n"
	");\n";

struct env {
	struct daemon_fixture daemon;
	char conf_path[160];
	char map_path[160];
};

/* Writes the config from template (with the map's path). 0 or -1. */
static int
write_config(struct env *e, const char *template)
{
	char text[1024];
	snprintf(text, sizeof(text), template, e->map_path);
	return daemon_fixture_write_file(e->conf_path, text);
}

/* A simulated device with an interrupt: its registers survive a restart as a device's would. */
static const char dev_map[] = "name: restartdev\n"
			      "width: 32\n"
			      "registers:\n"
			      "  - { name: CTRL, offset: 0x0 }\n"
			      "  - { name: STATUS, offset: 0x4, access: ro, reset: 0x60 }\n";

/* %s: the map's path. "gone" goes and "new" comes in the changed config. */
static const char two_regions[] =
	"regions = (\n"
	"  { name = \"keep\"; type = \"mem\"; size = 0x1000; },\n"
	"  { name = \"gone\"; type = \"mem\"; size = 0x1000; },\n"
	"  { name = \"dev\"; type = \"sim\"; size = 0x10; map = \"%s\"; }\n"
	");\n";
static const char changed_regions[] =
	"regions = (\n"
	"  { name = \"keep\"; type = \"mem\"; size = 0x1000; },\n"
	"  { name = \"new\"; type = \"mem\"; size = 0x1000; },\n"
	"  { name = \"dev\"; type = \"sim\"; size = 0x10; map = \"%s\"; }\n"
	");\n";

/* A daemon on the config write_conf writes (from a template, or with a grant). */
static int
start_with(void **state, int (*write_conf)(struct env *e, const void *arg), const void *arg)
{
	struct env *e = calloc(1, sizeof(*e));
	if (!e || daemon_fixture_prepare(&e->daemon) < 0) {
		free(e);
		return -1;
	}
	snprintf(e->conf_path, sizeof(e->conf_path), "%s/mmiod.conf", e->daemon.dir);
	snprintf(e->map_path, sizeof(e->map_path), "%s/dev.yaml", e->daemon.dir);
	const char *args[] = {"--config", e->conf_path, NULL};
	/* 0755: a client of another uid reaches the socket (GRANTEE_UID). */
	if (daemon_fixture_write_file(e->map_path, dev_map) < 0 || write_conf(e, arg) < 0 ||
	    chmod(e->daemon.dir, 0755) < 0 || daemon_fixture_start_args(&e->daemon, args) < 0) {
		free(e);
		return -1;
	}
	*state = e;
	return 0;
}

static int
write_template(struct env *e, const void *template)
{
	return write_config(e, template);
}

static int
setup(void **state)
{
	return start_with(state, write_template, two_regions);
}

static int
teardown(void **state)
{
	struct env *e = *state;
	daemon_fixture_stop(&e->daemon);
	daemon_fixture_cleanup(&e->daemon);
	free(e);
	return 0;
}

/* SIGUSR2, and the successor's word that it restored the state. */
static void
restart(struct env *e)
{
	assert_int_equal(kill(e->daemon.pid, SIGUSR2), 0);
	assert_int_equal(daemon_fixture_wait_notify(&e->daemon, "X_MMIOD_RESTART=done"), 0);
}

static struct mmio_client *
connect_to(struct env *e)
{
	struct mmio_client *c = NULL;
	assert_int_equal(mmio_connect(e->daemon.socket_path, &c), 0);
	return c;
}

static void
test_lease_and_memory_survive(void **state)
{
	struct env *e = *state;
	struct mmio_client *c = connect_to(e);
	struct mmio_lease *l;
	assert_int_equal(mmio_acquire(c, "keep", 0x100, 0x100, &l), 0);
	uint64_t id = mmio_lease_id(l);
	assert_int_equal(mmio_store32(l, 0x10, 0xabcd1234), 0);

	restart(e);

	uint32_t v = 0;
	assert_int_equal(mmio_load32(l, 0x10, &v), 0);
	assert_int_equal(v, 0xabcd1234);
	/* Still its: another client cannot take those bytes. */
	struct mmio_client *other = connect_to(e);
	struct mmio_lease *clash;
	assert_int_equal(mmio_acquire(other, "keep", 0x180, 4, &clash), -EBUSY);
	struct mmio_lease_info *leases;
	int n = mmio_list_leases(c, &leases);
	assert_true(n >= 1);
	bool listed = false;
	for (int i = 0; i < n; i++) {
		listed |= leases[i].id == id;
	}
	free(leases);
	assert_true(listed);
	/* Ids go on from the predecessor's: never one a client saw before. */
	struct mmio_lease *fresh;
	assert_int_equal(mmio_acquire(other, "keep", 0x800, 4, &fresh), 0);
	assert_true(mmio_lease_id(fresh) > id);
	assert_int_equal(mmio_release(l), 0);
	mmio_disconnect(other);
	mmio_disconnect(c);
}

static void
test_sim_registers_and_interrupt_survive(void **state)
{
	struct env *e = *state;
	struct mmio_client *c = connect_to(e);
	struct mmio_client *device = connect_to(e); /* the test's uid started mmiod: an admin */
	struct mmio_lease *l;
	assert_int_equal(mmio_acquire(c, "dev", 0, 0x10, &l), 0);
	assert_int_equal(mmio_store32(l, 0, 0xc0ffee), 0);
	assert_int_equal(mmio_sim_set(device, "dev", 4, 4, 0x1, 0x1), 0); /* STATUS = 0x61 */
	assert_int_equal(mmio_irq_subscribe(l), 0);
	uint32_t count = 0;
	assert_int_equal(mmio_sim_irq(device, "dev"), 0);
	assert_int_equal(mmio_irq_wait(l, 10000, &count), 0);
	assert_true(count >= 1);
	assert_int_equal(mmio_irq_ack(l), 0);

	restart(e);

	uint32_t v = 0;
	assert_int_equal(mmio_load32(l, 0, &v), 0);
	assert_int_equal(v, 0xc0ffee);
	assert_int_equal(mmio_load32(l, 4, &v), 0);
	assert_int_equal(v, 0x61);
	/* The subscription is the same pipe: the next interrupt arrives on it. */
	assert_int_equal(mmio_sim_irq(device, "dev"), 0);
	assert_int_equal(mmio_irq_wait(l, 10000, &count), 0);
	assert_true(count >= 1);
	assert_int_equal(mmio_irq_ack(l), 0);
	mmio_disconnect(device);
	mmio_disconnect(c);
}

static void
test_ring_survives(void **state)
{
	struct env *e = *state;
	struct mmio_client *c = connect_to(e);
	assert_int_equal(mmio_set_fast_path(c, MMIO_FAST_PATH_ON), 0);
	struct mmio_lease *l;
	assert_int_equal(mmio_acquire(c, "keep", 0x200, 0x40, &l), 0);
	assert_int_equal(mmio_store64(l, 0, 0x1122334455667788u), 0);
	assert_int_equal(mmio_fast_path_active(c), 1);
	for (int round = 0; round < 3; round++) {
		restart(e);
		uint64_t v = 0;
		assert_int_equal(mmio_load64(l, 0, &v), 0);
		assert_int_equal(v, 0x1122334455667788u + (uint64_t)round);
		assert_int_equal(mmio_store64(l, 0, v + 1), 0);
		assert_int_equal(mmio_fast_path_active(c), 1);
	}
	/* Posted stores still in the ring at the restart are served by the successor, in order,
	 * once each; an all-or-nothing batch (a linked ring group) after it too. */
	assert_int_equal(mmio_set_posted(l, true), 0);
	for (uint32_t i = 0; i < 16; i++) {
		assert_int_equal(mmio_store32(l, 8 + (i % 8) * 4, 0x100 + i), 0);
	}
	restart(e);
	assert_int_equal(mmio_sync(l), 0);
	struct mmio_op ops[2] = {
		{.kind = MMIO_OP_LOAD, .lease = l, .offset = 8, .width = 4},
		{.kind = MMIO_OP_LOAD, .lease = l, .offset = 36, .width = 4},
	};
	assert_int_equal(mmio_batch(c, ops, 2, MMIO_BATCH_ALL_OR_NOTHING), 0);
	assert_int_equal(ops[0].value, 0x108);
	assert_int_equal(ops[1].value, 0x10f);
	mmio_disconnect(c);
}

struct poll_arg {
	struct mmio_lease *lease;
	int rc;
};

static void *
poller(void *p)
{
	struct poll_arg *a = p;
	uint64_t seen = 0;
	/* A condition nobody makes true: the answer is its timeout, from whichever mmiod. */
	a->rc = mmio_poll(a->lease, 0, 4, 0x1, 0x1, 500, 0, &seen);
	return NULL;
}

static void
test_poll_in_progress_is_answered(void **state)
{
	struct env *e = *state;
	struct mmio_client *c = connect_to(e);
	struct mmio_lease *l;
	assert_int_equal(mmio_acquire(c, "keep", 0x300, 4, &l), 0);
	assert_int_equal(mmio_store32(l, 0, 0), 0);
	struct poll_arg a = {l, 1};
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, poller, &a), 0);
	restart(e);
	pthread_join(t, NULL);
	assert_int_equal(a.rc, -ETIMEDOUT);
	/* The connection is in step: the next request gets its own answer. */
	uint32_t v = 1;
	assert_int_equal(mmio_load32(l, 0, &v), 0);
	assert_int_equal(v, 0);
	mmio_disconnect(c);
}

/* Ops checked by all clients, so that every restart happens under load. */
static pthread_mutex_t progress_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t progress_cond = PTHREAD_COND_INITIALIZER;
static unsigned long progress;

static void
made_progress(void)
{
	pthread_mutex_lock(&progress_lock);
	progress++;
	pthread_cond_broadcast(&progress_cond);
	pthread_mutex_unlock(&progress_lock);
}

/* Until the clients have checked n more ops (a client that failed stops: then not all). */
static void
wait_progress(unsigned long n, atomic_uint *failed)
{
	pthread_mutex_lock(&progress_lock);
	unsigned long target = progress + n;
	while (progress < target && atomic_load(failed) == 0) {
		pthread_cond_wait(&progress_cond, &progress_lock);
	}
	pthread_mutex_unlock(&progress_lock);
}

struct worker {
	struct env *e;
	atomic_uint *failed;
	int index;
	atomic_bool *stop;
	unsigned failures;
	unsigned long ops;
	uint64_t lease_id_before;
	uint64_t lease_id_after;
	char why[160];
};

/* One client: stores a sequence on its own lease and checks every load against its model. */
static void *
work(void *p)
{
	struct worker *w = p;
	struct mmio_client *c = NULL;
	if (mmio_connect(w->e->daemon.socket_path, &c) < 0) {
		w->failures++;
		snprintf(w->why, sizeof(w->why), "connect failed");
		return NULL;
	}
	int kind = w->index % 3; /* 0 socket, 1 batch, 2 ring */
	mmio_set_fast_path(c, kind == 2 ? MMIO_FAST_PATH_ON : MMIO_FAST_PATH_OFF);
	struct mmio_lease *l;
	int rc = mmio_acquire(c, "keep", 0x400 + (uint64_t)w->index * CLIENT_LEN, CLIENT_LEN, &l);
	if (rc < 0) {
		w->failures++;
		snprintf(w->why, sizeof(w->why), "acquire: %s", mmio_strerror(rc));
		mmio_disconnect(c);
		return NULL;
	}
	w->lease_id_before = mmio_lease_id(l);
	uint32_t model[CLIENT_LEN / 4] = {0};
	for (uint32_t seq = 1; !atomic_load(w->stop); seq++) {
		unsigned slot = seq % (CLIENT_LEN / 4);
		uint32_t got = 0;
		if (kind == 1) {
			struct mmio_op ops[2] = {
				{.kind = MMIO_OP_STORE,
				 .lease = l,
				 .offset = slot * 4,
				 .width = 4,
				 .value = seq},
				{.kind = MMIO_OP_LOAD,
				 .lease = l,
				 .offset = ((slot + 1) % (CLIENT_LEN / 4)) * 4,
				 .width = 4},
			};
			rc = mmio_batch(c, ops, 2, 0);
			got = (uint32_t)ops[1].value;
			model[slot] = seq;
			slot = (slot + 1) % (CLIENT_LEN / 4);
		} else {
			rc = mmio_store32(l, slot * 4, seq);
			model[slot] = seq;
			if (rc == 0) {
				rc = mmio_load32(l, slot * 4, &got);
			}
		}
		if (rc < 0 || got != model[slot]) {
			w->failures++;
			snprintf(w->why, sizeof(w->why), "op %u: %s, read 0x%x, model 0x%x", seq,
				 rc < 0 ? mmio_strerror(rc) : "ok", got, model[slot]);
			atomic_fetch_add(w->failed, 1);
			made_progress(); /* wakes the waiter, who sees the failure */
			break;
		}
		w->ops++;
		made_progress();
	}
	w->lease_id_after = mmio_lease_id(l);
	/* Every store of the run is there, none lost: the whole lease against the model. */
	for (unsigned i = 0; i < CLIENT_LEN / 4 && w->failures == 0; i++) {
		uint32_t v = 0;
		if (mmio_load32(l, i * 4, &v) < 0 || v != model[i]) {
			w->failures++;
			snprintf(w->why, sizeof(w->why), "final check at 0x%x: 0x%x, model 0x%x",
				 i * 4, v, model[i]);
		}
	}
	mmio_disconnect(c);
	return NULL;
}

static int
compare_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a;
	uint64_t y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* The pauses the successors logged ("paused N us"), sorted; how many. */
static size_t
read_pauses(const char *log_path, uint64_t *out, size_t max)
{
	FILE *f = fopen(log_path, "r");
	size_t n = 0;
	char line[512];
	while (f && n < max && fgets(line, sizeof(line), f)) {
		const char *p = strstr(line, "paused ");
		unsigned long long us;
		if (p && strstr(line, "restart:") && sscanf(p, "paused %llu us", &us) == 1) {
			out[n++] = us;
		}
	}
	if (f) {
		fclose(f);
	}
	qsort(out, n, sizeof(*out), compare_u64);
	return n;
}

static void
test_clients_through_restarts(void **state)
{
	struct env *e = *state;
	/* Each restart re-executes mmiod; under a wrapper (valgrind) the successors run bare. */
	bool slow = getenv("MMIO_TEST_DAEMON_WRAPPER") != NULL;
	int restarts = slow ? 5 : 100;
	atomic_bool stop = false;
	atomic_uint failed = 0;
	struct worker w[N_CLIENTS];
	pthread_t t[N_CLIENTS];
	for (int i = 0; i < N_CLIENTS; i++) {
		w[i] = (struct worker){.e = e, .failed = &failed, .index = i, .stop = &stop};
		assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
	}
	/* One more client holds an interrupt subscription: an interrupt after every restart
	 * arrives on it. */
	struct mmio_client *subscriber = connect_to(e);
	struct mmio_client *device = connect_to(e);
	struct mmio_lease *irq_lease;
	assert_int_equal(mmio_acquire(subscriber, "dev", 0, 0x10, &irq_lease), 0);
	assert_int_equal(mmio_irq_subscribe(irq_lease), 0);
	for (int i = 0; i < restarts && atomic_load(&failed) == 0; i++) {
		/* Under load: the clients have been at it since the last restart. */
		wait_progress(4 * N_CLIENTS, &failed);
		restart(e);
		uint32_t count = 0;
		assert_int_equal(mmio_sim_irq(device, "dev"), 0);
		assert_int_equal(mmio_irq_wait(irq_lease, 10000, &count), 0);
		assert_int_equal(mmio_irq_ack(irq_lease), 0);
	}
	mmio_disconnect(device);
	mmio_disconnect(subscriber);
	atomic_store(&stop, true);
	unsigned long ops = 0;
	for (int i = 0; i < N_CLIENTS; i++) {
		pthread_join(t[i], NULL);
		if (w[i].failures) {
			print_error("client %d: %s\n", i, w[i].why);
		}
		assert_int_equal(w[i].failures, 0);
		assert_int_equal(w[i].lease_id_after, w[i].lease_id_before);
		ops += w[i].ops;
	}
	uint64_t pauses[128];
	size_t n = read_pauses(e->daemon.log_path, pauses, 128);
	assert_int_equal(atomic_load(&failed), 0);
	assert_true(n >= (size_t)restarts);
	print_message("%d restarts, %lu checked ops by %d clients; pause p50 %llu us, p99 %llu us, "
		      "max %llu us\n",
		      restarts, ops, N_CLIENTS, (unsigned long long)pauses[n / 2],
		      (unsigned long long)pauses[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1],
		      (unsigned long long)pauses[n - 1]);
}

static void
test_region_changes_apply(void **state)
{
	struct env *e = *state;
	struct mmio_client *c = connect_to(e);
	struct mmio_lease *kept;
	struct mmio_lease *lost;
	assert_int_equal(mmio_acquire(c, "keep", 0xf00, 0x10, &kept), 0);
	assert_int_equal(mmio_acquire(c, "gone", 0, 0x10, &lost), 0);
	assert_int_equal(mmio_store32(kept, 0, 0x600d), 0);
	assert_int_equal(write_config(e, changed_regions), 0);
	restart(e);
	uint32_t v = 0;
	assert_int_equal(mmio_load32(kept, 0, &v), 0);
	assert_int_equal(v, 0x600d);
	assert_int_equal(mmio_load32(lost, 0, &v), -EKEYREVOKED);
	struct mmio_lease *fresh;
	assert_int_equal(mmio_acquire(c, "new", 0, 0x10, &fresh), 0);
	mmio_disconnect(c);
}

/* Writes the granted config with access (rw or ro). 0 or -1. */
static int
write_granted(struct env *e, const char *access)
{
	char text[1024];
	snprintf(text, sizeof(text), granted, access, e->map_path);
	return daemon_fixture_write_file(e->conf_path, text);
}

static int
write_granted_rw(struct env *e, const void *unused)
{
	(void)unused;
	return write_granted(e, "rw");
}

/* The grant binds GRANTEE_UID: not the user who started mmiod. */
static int
setup_granted(void **state)
{
	return start_with(state, write_granted_rw, NULL);
}

struct grantee {
	const char *socket_path;
	int ready[2]; /* the grantee: its lease is held and written */
	int go[2];    /* the test: mmiod restarted under the narrowed grant */
	int status;
};

/* As GRANTEE_UID: a lease and a store under rw; after the restart, read-only: the store is refused.
 */
static int
grantee_steps(struct grantee *g, bool *told)
{
	struct mmio_client *c = NULL;
	struct mmio_lease *l;
	CHILD_CHECK(mmio_connect(g->socket_path, &c) == 0);
	CHILD_CHECK(mmio_acquire(c, "keep", 0x800, 0x10, &l) == 0);
	uint64_t id = mmio_lease_id(l);
	CHILD_CHECK(mmio_store32(l, 0, 0xa11ce) == 0);
	char byte = 'R';
	CHILD_CHECK(write(g->ready[1], &byte, 1) == 1);
	*told = true;
	CHILD_CHECK(read(g->go[0], &byte, 1) == 1);
	uint32_t v = 0;
	CHILD_CHECK(mmio_load32(l, 0, &v) == 0 && v == 0xa11ce);
	CHILD_CHECK(mmio_store32(l, 0, 1) == -EACCES);
	CHILD_CHECK(mmio_lease_id(l) == id);
	mmio_disconnect(c);
	return 0;
}

static int
grantee_checks(void *arg)
{
	struct grantee *g = arg;
	bool told = false;
	int rc = grantee_steps(g, &told);
	if (!told) {
		/* The test waits for a byte: tell it this went wrong before the restart. */
		char byte = 'F';
		(void)!write(g->ready[1], &byte, 1);
	}
	return rc;
}

static void *
run_grantee(void *arg)
{
	struct grantee *g = arg;
	g->status = run_as(GRANTEE_UID, GRANTEE_UID, NULL, 0, grantee_checks, g);
	return NULL;
}

/* A grant narrowed across a restart: the lease stays, read-only from then on (as a reload). */
static void
test_restart_applies_a_narrowed_grant(void **state)
{
	struct env *e = *state;
	struct grantee g = {.socket_path = e->daemon.socket_path};
	assert_int_equal(pipe(g.ready), 0);
	assert_int_equal(pipe(g.go), 0);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, run_grantee, &g), 0);
	char byte = 0;
	/* 'F' instead if the child failed before: its status says why. */
	if (read(g.ready[0], &byte, 1) == 1 && byte == 'R') {
		assert_int_equal(write_granted(e, "ro"), 0);
		restart(e);
	}
	assert_int_equal(write(g.go[1], &byte, 1), 1);
	pthread_join(t, NULL);
	assert_int_equal(g.status, 0);
	for (int i = 0; i < 2; i++) {
		close(g.ready[i]);
		close(g.go[i]);
	}
}

static void
test_refused_restart_keeps_serving(void **state)
{
	struct env *e = *state;
	struct mmio_client *c = connect_to(e);
	struct mmio_lease *l;
	assert_int_equal(mmio_acquire(c, "keep", 0xe00, 0x10, &l), 0);
	assert_int_equal(mmio_store32(l, 0, 0x5eed), 0);
	/* A config the new process cannot start with: its check says no, the old one stays. */
	assert_int_equal(daemon_fixture_write_file(e->conf_path, "regions = ("), 0);
	assert_int_equal(kill(e->daemon.pid, SIGUSR2), 0);
	assert_int_equal(daemon_fixture_wait_notify(&e->daemon, "X_MMIOD_RESTART=failed"), 0);
	uint32_t v = 0;
	assert_int_equal(mmio_load32(l, 0, &v), 0);
	assert_int_equal(v, 0x5eed);
	assert_int_equal(mmio_store32(l, 4, 1), 0);
	/* Fixed, the next restart goes through. */
	assert_int_equal(write_config(e, two_regions), 0);
	restart(e);
	assert_int_equal(mmio_load32(l, 4, &v), 0);
	assert_int_equal(v, 1);
	mmio_disconnect(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lease_and_memory_survive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ring_survives, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sim_registers_and_interrupt_survive, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_poll_in_progress_is_answered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_region_changes_apply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_restart_keeps_serving, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_restart_applies_a_narrowed_grant,
						setup_granted, teardown),
		cmocka_unit_test_setup_teardown(test_clients_through_restarts, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
