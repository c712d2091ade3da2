/*
 * mmiod's figures: the Stats request through libmmio-client, STATUS= through
 * sd_notify, and `mmioctl stats` as text, JSON and a Prometheus textfile.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "daemon_fixture.h"
#include "mmio/client.h"
#include "spawn_proc.h"

struct env {
	struct daemon_fixture daemon;
	char file_path[64];
};

static int
setup(void **state)
{
	struct env *env = calloc(1, sizeof(*env));
	if (!env) {
		return -1;
	}
	snprintf(env->file_path, sizeof(env->file_path), "/tmp/mmiod-stats-XXXXXX");
	int fd = mkstemp(env->file_path);
	if (fd < 0 || ftruncate(fd, 0x2000) < 0) {
		goto err;
	}
	close(fd);
	char file_region[128];
	snprintf(file_region, sizeof(file_region), "dev1,type=file,path=%s,size=0x100",
		 env->file_path);
	const char *regions[] = {"sim0,type=mem,size=0x1000", file_region, NULL};
	if (daemon_fixture_start(&env->daemon, regions) < 0) {
		goto err;
	}
	*state = env;
	return 0;
err:
	unlink(env->file_path);
	free(env);
	return -1;
}

static int
teardown(void **state)
{
	struct env *env = *state;
	int rc = env->daemon.pid > 0 ? daemon_fixture_stop(&env->daemon) : 0;
	unlink(env->file_path);
	free(env);
	return rc == 0 ? 0 : -1;
}

/* Waits for the STATUS= line; each step waits, so the rate limit cannot merge two states. */
static void
expect_status(struct env *env, const char *status)
{
	assert_int_equal(daemon_fixture_wait_notify(&env->daemon, status), 0);
}

/* 2 connections, 3 leases, one fault: the figures of Stats and STATUS= follow each step. */
static void
test_stats_figures_after_known_sequence(void **state)
{
	struct env *env = *state;
	expect_status(env, "STATUS=0 clients, 0 leases, 0 faults");
	struct mmio_client *c1, *c2;
	assert_int_equal(mmio_connect(env->daemon.socket_path, &c1), 0);
	expect_status(env, "STATUS=1 clients, 0 leases, 0 faults");
	assert_int_equal(mmio_connect(env->daemon.socket_path, &c2), 0);
	expect_status(env, "STATUS=2 clients, 0 leases, 0 faults");
	struct mmio_lease *a, *b, *d;
	assert_int_equal(mmio_acquire(c1, "sim0", 0, 0x10, &a), 0);
	assert_int_equal(mmio_acquire(c1, "sim0", 0x100, 0x10, &b), 0);
	assert_int_equal(mmio_acquire(c2, "dev1", 0x10, 0x10, &d), 0);
	expect_status(env, "STATUS=2 clients, 3 leases, 0 faults");
	assert_int_equal(truncate(env->file_path, 0), 0);
	uint32_t v;
	assert_int_equal(mmio_load32(d, 0, &v), -EIO);
	expect_status(env, "STATUS=2 clients, 3 leases, 1 faults");

	struct mmio_stats *st;
	assert_int_equal(mmio_stats(c1, &st), 0);
	assert_int_equal(st->connections, 2);
	assert_int_equal(st->leases, 3);
	assert_int_equal(st->faults, 1);
	/* Two Hellos, three acquires, the load, and this request. */
	assert_int_equal(st->requests, 7);
	assert_true(st->uptime_ms < 600000);
	assert_int_equal(st->rings, 0);
	/* The test runs as the uid that started mmiod, which sees every region. */
	assert_int_equal(st->n_regions, 2);
	assert_string_equal(st->regions[0].name, "sim0");
	assert_int_equal(st->regions[0].leases, 2);
	assert_int_equal(st->regions[0].faults, 0);
	assert_string_equal(st->regions[1].name, "dev1");
	assert_int_equal(st->regions[1].leases, 1);
	assert_int_equal(st->regions[1].faults, 1);
	free(st);

	/* A ring counts while its connection lives. */
	assert_int_equal(mmio_set_fast_path(c2, MMIO_FAST_PATH_ON), 0);
	assert_int_equal(mmio_stats(c1, &st), 0);
	assert_int_equal(st->rings, 1);
	free(st);

	mmio_disconnect(c2);
	expect_status(env, "STATUS=1 clients, 2 leases, 1 faults");
	assert_int_equal(mmio_stats(c1, &st), 0);
	assert_int_equal(st->rings, 0);
	free(st);
	assert_int_equal(mmio_release(a), 0);
	expect_status(env, "STATUS=1 clients, 1 leases, 1 faults");
	mmio_disconnect(c1);
	expect_status(env, "STATUS=0 clients, 0 leases, 1 faults");
	assert_int_equal(daemon_fixture_stop(&env->daemon), 0);
}

/* The one line of text that starts with prefix, cut at its newline, in buf. */
static const char *
line_starting(const char *text, const char *prefix, char *buf, size_t cap)
{
	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (strncmp(p, prefix, strlen(prefix)) == 0) {
			size_t n = strcspn(p, "\n");
			snprintf(buf, cap, "%.*s", (int)n, p);
			return buf;
		}
	}
	return NULL;
}

/* mmioctl's output with the line that starts with prefix replaced by prefix and "X". */
static char *
mask_line(const char *text, const char *prefix)
{
	char *out = malloc(strlen(text) + 8);
	assert_non_null(out);
	const char *at = strstr(text, prefix);
	assert_non_null(at);
	const char *end = at + strlen(prefix) + strcspn(at + strlen(prefix), ",\n}");
	sprintf(out, "%.*sX%s", (int)(at - text + (ptrdiff_t)strlen(prefix)), text, end);
	return out;
}

static void run_stats(struct env *env, const char *const *args, struct spawn_proc_result *r);

/* text starts with prefix (shown whole when it does not). */
static void
expect_prefix(const char *text, const char *prefix)
{
	if (strncmp(text, prefix, strlen(prefix)) != 0) {
		fail_msg("expected it to start with:\n%s\ngot:\n%s", prefix, text);
	}
}

/* text has the line line. */
static void
expect_line(const char *text, const char *line)
{
	char buf[256];
	if (!line_starting(text, line, buf, sizeof(buf)) || strcmp(buf, line) != 0) {
		fail_msg("no line '%s' in:\n%s", line, text);
	}
}

/*
 * Known requests on one lease, over the socket: the lease's and its region's figures count
 * them (a modify is a load and a store too, a block one access per value), the failed load
 * by its status, and every access request in the latency histogram; mmioctl shows them.
 */
static void
test_stats_access_figures(void **state)
{
	struct env *env = *state;
	struct mmio_client *c;
	struct mmio_lease *l;
	assert_int_equal(mmio_connect(env->daemon.socket_path, &c), 0);
	/* Every request through the socket, which is what the histogram times. */
	assert_int_equal(mmio_set_fast_path(c, MMIO_FAST_PATH_OFF), 0);
	assert_int_equal(mmio_acquire(c, "sim0", 0x40, 0x40, &l), 0);
	uint64_t v;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(mmio_load(l, 0, 4, &v), 0);
	}
	assert_int_equal(mmio_store(l, 0, 4, 1), 0);
	assert_int_equal(mmio_store(l, 4, 4, 2), 0);
	assert_int_equal(mmio_modify(l, 0, 4, 0xf0, 0x30, &v), 0);
	assert_int_equal(mmio_load(l, 0x40, 4, &v), -ERANGE);
	const uint64_t block[4] = {1, 2, 3, 4};
	assert_int_equal(mmio_write_block(l, 0x10, 4, block, 4, 0), 0);
	assert_int_equal(mmio_poll(l, 0, 4, 0xff, 0x31, 0, 0, &v), 0);

	struct mmio_stats *st;
	assert_int_equal(mmio_stats(c, &st), 0);
	assert_int_equal(st->n_leases, 1);
	assert_int_equal(st->lease_stats_more, 0);
	const struct mmio_lease_stats *ls = &st->lease_stats[0];
	assert_int_equal(ls->id, mmio_lease_id(l));
	assert_string_equal(ls->region, "sim0");
	assert_int_equal(ls->pid, getpid());
	assert_int_equal(ls->uid, getuid());
	const struct mmio_access_figures *figs[2] = {&ls->figures, &st->region_figures[0]};
	for (int k = 0; k < 2; k++) {
		const struct mmio_access_figures *f = figs[k];
		assert_int_equal(f->loads,
				 3 + 1 + 1 + 1); /* 3, the modify's, the failed, the poll's */
		assert_int_equal(f->stores, 2 + 1 + 4);
		assert_int_equal(f->modifies, 1);
		assert_int_equal(f->polls, 1);
		assert_int_equal(f->block_bytes, 16);
		assert_int_equal(f->n_errors, 1);
		assert_int_equal(f->errors[0].status, -ERANGE);
		assert_int_equal(f->errors[0].count, 1);
		uint64_t timed = 0;
		for (int b = 0; b < MMIO_LATENCY_BUCKETS; b++) {
			timed += f->latency[b];
		}
		assert_int_equal(timed,
				 3 + 2 + 1 + 1 + 1); /* loads, stores, modify, failed, block */
		assert_true(f->latency_sum_ns > 0);
	}
	assert_string_equal(st->regions[1].name, "dev1");
	assert_int_equal(st->region_figures[1].loads, 0);
	free(st);

	struct spawn_proc_result r;
	run_stats(env, ARGS("stats", "-o", "prometheus"), &r);
	char want[160];
	snprintf(want, sizeof(want),
		 "mmiod_lease_ops_total{lease=\"%" PRIu64 "\",region=\"sim0\",op=\"load\"} 6",
		 mmio_lease_id(l));
	expect_line(r.out, want);
	snprintf(want, sizeof(want),
		 "mmiod_lease_request_seconds_count{lease=\"%" PRIu64 "\",region=\"sim0\"} 8",
		 mmio_lease_id(l));
	expect_line(r.out, want);
	snprintf(want, sizeof(want),
		 "mmiod_lease_request_seconds_bucket{lease=\"%" PRIu64
		 "\",region=\"sim0\",le=\"+Inf\"} 8",
		 mmio_lease_id(l));
	expect_line(r.out, want);
	expect_line(r.out, "mmiod_region_ops_total{region=\"sim0\",op=\"store\"} 7");
	expect_line(r.out, "mmiod_region_ops_total{region=\"sim0\",op=\"modify\"} 1");
	expect_line(r.out, "mmiod_region_block_bytes_total{region=\"sim0\"} 16");
	expect_line(r.out, "mmiod_region_errors_total{region=\"sim0\",status=\"OUT_OF_RANGE\"} 1");
	expect_line(r.out, "mmiod_region_request_seconds_count{region=\"sim0\"} 8");
	expect_line(r.out, "# TYPE mmiod_region_request_seconds histogram");
	spawn_proc_result_finish(&r);
	mmio_disconnect(c);
	assert_int_equal(daemon_fixture_stop(&env->daemon), 0);
}

/* One client holds one lease; mmioctl adds its own connection, Hello and Stats. */
static struct mmio_client *
hold_one_lease(struct env *env)
{
	struct mmio_client *c;
	struct mmio_lease *l;
	assert_int_equal(mmio_connect(env->daemon.socket_path, &c), 0);
	assert_int_equal(mmio_acquire(c, "sim0", 0x40, 0x40, &l), 0);
	return c;
}

static void
run_stats(struct env *env, const char *const *args, struct spawn_proc_result *r)
{
	cli_run(env->daemon.socket_path, NULL, r, args);
	if (r->status != 0) {
		print_error("stdout:\n%s\nstderr:\n%s\n", r->out, r->err);
	}
	assert_int_equal(r->status, 0);
	assert_string_equal(r->err, "");
}

static void
test_stats_mmioctl_prometheus(void **state)
{
	struct env *env = *state;
	struct mmio_client *c = hold_one_lease(env);
	struct spawn_proc_result r;
	run_stats(env, ARGS("stats", "-o", "prometheus"), &r);
	char line[128];
	assert_non_null(line_starting(r.out, "mmiod_uptime_seconds ", line, sizeof(line)));
	char *masked = mask_line(r.out, "\nmmiod_uptime_seconds ");
	/* The daemon's figures, then the regions' and leases' access figures (below). */
	expect_prefix(
		masked,
		"# HELP mmiod_connections Live client connections.\n"
		"# TYPE mmiod_connections gauge\n"
		"mmiod_connections 2\n"
		"# HELP mmiod_rings Open shared-memory rings (fast paths).\n"
		"# TYPE mmiod_rings gauge\n"
		"mmiod_rings 0\n"
		"# HELP mmiod_leases Live leases over every region.\n"
		"# TYPE mmiod_leases gauge\n"
		"mmiod_leases 1\n"
		"# HELP mmiod_faults_total Device faults (bus errors) since mmiod started, every "
		"region.\n"
		"# TYPE mmiod_faults_total counter\n"
		"mmiod_faults_total 0\n"
		"# HELP mmiod_requests_total Requests served since mmiod started.\n"
		"# TYPE mmiod_requests_total counter\n"
		"mmiod_requests_total 4\n"
		"# HELP mmiod_uptime_seconds Seconds since mmiod started.\n"
		"# TYPE mmiod_uptime_seconds gauge\n"
		"mmiod_uptime_seconds X\n"
		"# HELP mmiod_region_leases Live leases on the region.\n"
		"# TYPE mmiod_region_leases gauge\n"
		"mmiod_region_leases{region=\"sim0\"} 1\n"
		"mmiod_region_leases{region=\"dev1\"} 0\n"
		"# HELP mmiod_region_faults_total Device faults (bus errors) on the region since "
		"mmiod started.\n"
		"# TYPE mmiod_region_faults_total counter\n"
		"mmiod_region_faults_total{region=\"sim0\"} 0\n"
		"mmiod_region_faults_total{region=\"dev1\"} 0\n"
		"# HELP mmiod_region_ops_total");
	/* Seconds with a fraction: a float, as the format wants. */
	double up;
	assert_int_equal(sscanf(line, "mmiod_uptime_seconds %lf", &up), 1);
	assert_true(up >= 0 && up < 600);
	free(masked);
	spawn_proc_result_finish(&r);
	mmio_disconnect(c);
	assert_int_equal(daemon_fixture_stop(&env->daemon), 0);
}

static void
test_stats_mmioctl_text_and_json(void **state)
{
	struct env *env = *state;
	struct mmio_client *c = hold_one_lease(env);
	struct spawn_proc_result r;
	run_stats(env, ARGS("stats"), &r);
	char *masked = mask_line(r.out, "uptime       ");
	expect_prefix(masked, "connections  2\n"
			      "rings        0\n"
			      "leases       1\n"
			      "faults       0\n"
			      "requests     4\n"
			      "uptime       X\n"
			      "\n"
			      "REGION    LEASES    FAULTS\n"
			      "sim0           1         0\n"
			      "dev1           0         0\n"
			      "\n"
			      "FIGURES          LOADS    STORES  MODIFIES   POLLS  BLOCK_BYTES  "
			      "REQUESTS  MEAN_NS  ERRORS\n"
			      "sim0                 0         0         0       0            0  "
			      "       0        0  -\n");
	free(masked);
	spawn_proc_result_finish(&r);

	/* -o before the command, too; one more Hello and Stats since. */
	run_stats(env, ARGS("-o", "json", "stats"), &r);
	masked = mask_line(r.out, "\"uptime_ms\": ");
	expect_prefix(masked, "{\"connections\": 2, \"rings\": 0, \"leases\": 1, \"faults\": 0, "
			      "\"requests\": 6, \"uptime_ms\": X, \"regions\": [{\"name\": "
			      "\"sim0\", \"leases\": 1, \"faults\": 0, \"figures\": {\"loads\": 0, "
			      "\"stores\": 0, \"modifies\": 0, \"polls\": 0, \"block_bytes\": 0, "
			      "\"errors\": {}, \"latency_buckets\": [], \"latency_sum_ns\": 0}}, ");
	free(masked);
	spawn_proc_result_finish(&r);
	mmio_disconnect(c);
	assert_int_equal(daemon_fixture_stop(&env->daemon), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_stats_figures_after_known_sequence, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stats_mmioctl_prometheus, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stats_access_figures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stats_mmioctl_text_and_json, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
