/* mmio-bench: what every case of a run shares (run.h): rows, failures, the daemon's usage. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mmio/client.h>

#include "run.h"
#include "sys.h"

/* Lets the daemon finish revoking the leases of closed connections. */
#define REVOKE_TIMEOUT_NS 10000000000ull

int
run_fail(struct mmio_client *client, int rc, const char *what)
{
	/* Without a client it is mmio_connect's error: connect(2)'s errno but for protocol ones. */
	if (!client && rc != -EPROTONOSUPPORT && rc != -EPROTO) {
		fprintf(stderr, "mmio-bench: %s: %s\n", what, strerror(-rc));
		return rc;
	}
	const char *name = mmio_status_name(rc);
	const char *detail = client ? mmio_error_detail(client) : "";
	fprintf(stderr, "mmio-bench: %s: %s%s%s%s%s\n", what, name ? name : "", name ? ": " : "",
		mmio_strerror(rc), detail[0] ? ": " : "", detail);
	return rc;
}

struct daemon_usage
run_daemon_usage(const struct run *r)
{
	struct daemon_usage u = {0};
	const char *source;
	if (r->t->daemon_pid <= 0) {
		return u;
	}
	if (sys_cpu_ns(r->t->daemon_pid, &u.cpu_ns, &source) < 0) {
		u.cpu_ns = 0;
	}
	u.has_minflt = sys_minor_faults(r->t->daemon_pid, &u.minflt) == 0;
	return u;
}

void
run_set_daemon_usage(const struct run *r, struct row *row, const struct daemon_usage *before,
		     const struct daemon_usage *after, double ops)
{
	if (r->t->daemon_pid <= 0 || ops <= 0) {
		return;
	}
	if (after->cpu_ns >= before->cpu_ns) {
		row->server_cpu_ns_per_op = (double)(after->cpu_ns - before->cpu_ns) / ops;
	}
	if (before->has_minflt && after->has_minflt && after->minflt >= before->minflt) {
		row->server_faults_per_op = (double)(after->minflt - before->minflt) / ops;
	}
}

struct row *
run_add_row(struct run *r, const char *name)
{
	struct row *row = report_add(r->rep, name, r->t->placement);
	if (!row) {
		fprintf(stderr, "mmio-bench: out of memory\n");
	}
	return row;
}

/* Waits until no connection of this process but the main one holds a lease. */
int
run_wait_revoked(struct run *r)
{
	uint64_t deadline = sys_now_ns() + REVOKE_TIMEOUT_NS;
	for (;;) {
		struct mmio_lease_info *leases;
		int n = mmio_list_leases(r->client, &leases);
		if (n < 0) {
			return run_fail(r->client, n, "list leases");
		}
		int mine = 0;
		for (int i = 0; i < n; i++) {
			mine += leases[i].pid == getpid();
		}
		free(leases);
		if (mine <= 1) {
			return 0;
		}
		if (sys_now_ns() > deadline) {
			fprintf(stderr,
				"mmio-bench: mmiod still holds leases of closed connections\n");
			return -ETIMEDOUT;
		}
		nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
	}
}

/* Op i of a mixed batch: loads and stores alternate, widths cycle 1, 2, 4, 8. */
void
run_fill_batch(struct run *r, struct mmio_op *ops, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		ops[i] = (struct mmio_op){
			.lease = r->lease,
			.kind = i % 2 ? MMIO_OP_STORE : MMIO_OP_LOAD,
			.width = 1u << (i / 2 % 4),
			.offset = (uint64_t)i * 8 % r->lay.main_len,
			.value = i & 0xff,
		};
	}
}
