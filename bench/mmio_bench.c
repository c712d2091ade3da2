/*
 * mmio-bench: how much an access through mmiod costs, next to what it cannot
 * beat. Baselines: a volatile load/store in this process, a raw AF_UNIX
 * SOCK_SEQPACKET ping-pong and a shared-memory one between two processes of
 * its own; then mmiod through libmmio-client (single ops over the socket and
 * over the shared-memory ring, batches, concurrent clients, the idle daemon),
 * `mmioctl read` as a whole, and the daemon's memory. Each socket case runs in every
 * placement: both processes pinned to one CPU, and spread over two.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "cases.h"
#include "daemon.h"
#include "pingpong.h"
#include "report.h"
#include "stats.h"
#include "sys.h"

/* The region of an mmiod of our own: the same size as mmiod's default sim0. */
#define OWN_REGION_SIZE 0x10000

static const char usage_text[] =
	"Usage: mmio-bench [-s SOCKET] [-r REGION] [--quick] [--json]\n"
	"Measure mmiod through libmmio-client next to its baselines and print a table\n"
	"of p50, p99, ops/s and the ratio of each case to its baseline, with the\n"
	"project's targets and whether this run met them.\n"
	"\n"
	"Without -s it starts its own mmiod (" MMIOD_PATH ")\n"
	"on a temporary socket with a 64 KiB mem region, once per placement:\n"
	"  one-cpu  the benchmark's client threads and the server (ping-pong\n"
	"           process or mmiod) pinned to the same CPU\n"
	"  spread   client threads on one CPU, the server on another (2+ CPUs)\n"
	"Single ops and concurrent clients run over the socket (fast path off) and,\n"
	"when mmiod offers it, over the shared-memory ring (fast path on).\n"
	"\n"
	"Options:\n"
	"  -s, --socket SOCKET  measure the mmiod already serving SOCKET instead,\n"
	"                       unpinned (so single ops get no verdict: the two\n"
	"                       sides may share a CPU in one case, not the other);\n"
	"                       it must let you lease 2 KiB or more of REGION.\n"
	"                       Daemon CPU and memory come from /proc when the\n"
	"                       socket's owner is an mmiod process you may read.\n"
	"  -r, --region REGION  region to lease (default sim0)\n"
	"  -q, --quick          a few hundred iterations per case: proves it runs\n"
	"                       (under 10 s); the figures are rough\n"
	"  -j, --json           print the rows as a JSON array instead of a table\n"
	"  -h, --help           show this help\n"
	"\n"
	"Exit status: 0 when every case ran, whether or not it met its target;\n"
	"1 when a case could not run (the reason goes to stderr); 2 usage error.\n";

static const struct bench_params full_params = {
	.volatile_blocks = 20000,
	.single_warmup = 2000,
	.single_iters = 20000,
	.batch_seconds = 1.0,
	.clients_seconds = 1.0,
	.mmioctl_runs = 50,
	.churn_rounds = 20,
	.idle_seconds = 1.0,
};

static const struct bench_params quick_params = {
	.volatile_blocks = 1000,
	.single_warmup = 100,
	.single_iters = 500,
	.batch_seconds = 0.02,
	.clients_seconds = 0.05,
	.mmioctl_runs = 3,
	.churn_rounds = 2,
	.idle_seconds = 0.05,
};

struct placement {
	const char *name;
	int client_cpu; /* -1: unpinned */
	int server_cpu;
};

struct options {
	const char *socket_path; /* NULL: start our own mmiod */
	const char *region;
	int quick;
	int json;
};

static int
parse_options(int argc, char **argv, struct options *opt)
{
	static const struct option longopts[] = {
		{"socket", required_argument, NULL, 's'}, {"region", required_argument, NULL, 'r'},
		{"quick", no_argument, NULL, 'q'},        {"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
	};
	int c;
	while ((c = getopt_long(argc, argv, "s:r:qjh", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			opt->socket_path = optarg;
			break;
		case 'r':
			opt->region = optarg;
			break;
		case 'q':
			opt->quick = 1;
			break;
		case 'j':
			opt->json = 1;
			break;
		case 'h':
			fputs(usage_text, stdout);
			exit(0);
		default:
			fprintf(stderr, "Try 'mmio-bench --help'.\n");
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "mmio-bench: unexpected argument '%s'\nTry 'mmio-bench --help'.\n",
			argv[optind]);
		return -EINVAL;
	}
	return 0;
}

static int
volatile_rows(const struct bench_params *p, struct report *rep)
{
	for (int store = 0; store < 2; store++) {
		struct samples s;
		samples_init(&s);
		double elapsed = 0;
		int rc = pingpong_volatile(store, p->volatile_blocks, &s, &elapsed);
		struct row *row =
			rc == 0 ? report_add(rep, store ? "volatile store32" : "volatile load32",
					     "in-process")
				: NULL;
		if (row) {
			row->p50_ns = samples_quantile(&s, 0.5);
			row->p99_ns = samples_quantile(&s, 0.99);
			row->ops_per_s = (double)s.n * 1024 / elapsed * 1e9;
			snprintf(row->note, sizeof(row->note), "mean of blocks of 1024");
		}
		samples_finish(&s);
		if (!row) {
			fprintf(stderr, "mmio-bench: out of memory\n");
			return -ENOMEM;
		}
	}
	return 0;
}

/* A raw ping-pong row of a placement (socket, or shm); its p50 goes to *p50_ns. */
static int
pingpong_row(const struct bench_params *p, const struct placement *pl, int shm, struct report *rep,
	     double *p50_ns)
{
	struct samples s;
	samples_init(&s);
	struct pingpong_result res = {0};
	int rc = shm ? pingpong_shm_run(pl->server_cpu, p->single_warmup, p->single_iters, &s, &res)
		     : pingpong_run(pl->server_cpu, p->single_warmup, p->single_iters, &s, &res);
	const char *name = shm ? "raw shm ping-pong" : "raw ping-pong";
	struct row *row = rc == 0 ? report_add(rep, name, pl->name) : NULL;
	if (rc < 0) {
		fprintf(stderr, "mmio-bench: %s (%s): %s\n", name, pl->name, strerror(-rc));
	} else if (!row) {
		fprintf(stderr, "mmio-bench: out of memory\n");
		rc = -ENOMEM;
	} else {
		row->p50_ns = *p50_ns = samples_quantile(&s, 0.5);
		row->p99_ns = samples_quantile(&s, 0.99);
		row->ops_per_s = (double)s.n / res.elapsed_ns * 1e9;
		row->client_cpu_ns_per_op = (double)res.client_cpu_ns / (double)s.n;
		if (res.server_cpu_ns > 0) {
			row->server_cpu_ns_per_op = (double)res.server_cpu_ns / (double)s.n;
		}
		char size[32];
		snprintf(size, sizeof(size), shm ? "shared words, yield-spin" : "%d B each way",
			 PINGPONG_MSG_SIZE);
		report_note_cpu(row, size, "server");
	}
	samples_finish(&s);
	return rc;
}

/* Every socket case of one placement, against our own mmiod or opt->socket_path. */
static int
run_placement(const struct options *opt, const struct bench_params *p, const struct placement *pl,
	      struct report *rep, const char **cpu_source)
{
	/* Unpinned (-s) is the only placement then: the thread keeps the CPUs it started with. */
	int rc = pl->client_cpu >= 0 ? sys_pin(0, pl->client_cpu) : 0;
	if (rc < 0) {
		fprintf(stderr, "mmio-bench: set this thread's CPUs (%s): %s\n", pl->name,
			strerror(-rc));
		return rc;
	}
	double pingpong_p50 = NAN;
	double shm_p50 = NAN;
	rc = pingpong_row(p, pl, 0, rep, &pingpong_p50);
	if (rc == 0) {
		rc = pingpong_row(p, pl, 1, rep, &shm_p50);
	}
	if (rc < 0) {
		return rc;
	}
	struct bench_daemon d = {.pid = -1};
	struct bench_target t = {
		.socket_path = opt->socket_path,
		.region = opt->region,
		.mmioctl_path = MMIOCTL_PATH,
		.daemon_pid = -1,
		.client_cpu = pl->client_cpu,
		.placement = pl->name,
		.pingpong_p50_ns = pingpong_p50,
		.shm_pingpong_p50_ns = shm_p50,
	};
	if (!opt->socket_path) {
		rc = bench_daemon_start(&d, MMIOD_PATH, opt->region, OWN_REGION_SIZE,
					pl->server_cpu);
		if (rc < 0) {
			fprintf(stderr, "mmio-bench: start %s: %s\n", MMIOD_PATH,
				rc == -ECHILD ? "it exited before it was ready" : strerror(-rc));
			bench_daemon_stop(&d, 1);
			return rc;
		}
		t.socket_path = d.socket_path;
		t.daemon_pid = d.pid;
	} else {
		t.daemon_pid = sys_daemon_pid(opt->socket_path);
	}
	uint64_t ns;
	if (t.daemon_pid > 0 && sys_cpu_ns(t.daemon_pid, &ns, cpu_source) < 0) {
		*cpu_source = NULL;
	}
	rc = cases_run(&t, p, rep);
	int stop_rc = bench_daemon_stop(&d, rc < 0);
	return rc < 0 ? rc : stop_rc;
}

static void
cpu_model(char *buf, size_t cap)
{
	snprintf(buf, cap, "unknown CPU");
	FILE *f = fopen("/proc/cpuinfo", "re");
	char line[256];
	while (f && fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');
		if (colon && strncmp(line, "model name", 10) == 0) {
			colon += strspn(colon + 1, " \t") + 1;
			colon[strcspn(colon, "\n")] = '\0';
			snprintf(buf, cap, "%s", colon);
			break;
		}
	}
	if (f) {
		fclose(f);
	}
}

static void
print_preface(const struct options *opt, const struct placement *pl, int n_pl, int n_cpus)
{
	char model[128];
	struct utsname u;
	cpu_model(model, sizeof(model));
	if (uname(&u) < 0) {
		snprintf(u.release, sizeof(u.release), "?");
	}
	printf("mmio-bench%s: %d CPUs (%s), Linux %s\n", opt->quick ? " --quick" : "", n_cpus,
	       model, u.release);
	if (opt->socket_path) {
		printf("mmiod at %s, region %s, unpinned\n", opt->socket_path, opt->region);
	} else {
		printf("mmiod %s, started per placement, region %s: mem, %d KiB\n", MMIOD_PATH,
		       opt->region, OWN_REGION_SIZE / 1024);
	}
	for (int i = 0; i < n_pl && pl[i].client_cpu >= 0; i++) {
		printf("%s: client threads on CPU %d, server on CPU %d\n", pl[i].name,
		       pl[i].client_cpu, pl[i].server_cpu);
	}
	printf("\n");
}

static void
print_legend(const char *cpu_source)
{
	printf("\n"
	       "p50/p99: per access (volatile: mean of a block of 1024 accesses), per round trip\n"
	       "(ping-pong, mmiod load32/store32, clients), per batch (batch N), per process\n"
	       "(mmioctl read). raw ping-pong: two processes of mmio-bench over a SOCK_SEQPACKET\n"
	       "socketpair, %d-byte request and reply (libmmio-client's load32 sends 8 bytes and\n"
	       "gets 6 back). raw shm ping-pong: two processes answering through shared memory,\n"
	       "both spinning with sched_yield: the floor of the ring. mmiod rows go over the\n"
	       "socket (fast path off); ring rows through the shared-memory ring, their ratio\n"
	       "against the socket load32 of the same run. Batches mix loads and stores of widths\n"
	       "1, 2, 4 and 8; ring batch 16 is batch 16 with the fast path open (mmio_batch\n"
	       "puts it on the ring), its ratio to batch 16 over the socket of the same run;\n"
	       "all-or-nothing rows likewise, with that flag (a group of ring entries). posted\n"
	       "store32: mmio_store32 back to back on a posted lease (mmio_set_posted), p50 per\n"
	       "call, its ratio the time per store (the closing mmio_sync included) to the raw\n"
	       "shm ping-pong's p50.\n"
	       "Clients: each its own connection and lease, single load32s, ops/s\n"
	       "in aggregate. daemon idle: its CPU while a client holds an open, unused ring.\n"
	       "daemon CPU: %s; daemon faults/op: its minor page faults (/proc/PID/stat), 0\n"
	       "when it neither grows nor shrinks its memory. Targets are reported, not "
	       "enforced.\n",
	       PINGPONG_MSG_SIZE, cpu_source ? cpu_source : "not available");
}

int
main(int argc, char **argv)
{
	struct options opt = {.region = "sim0"};
	if (parse_options(argc, argv, &opt) < 0) {
		return 2;
	}
	const struct bench_params *p = opt.quick ? &quick_params : &full_params;
	int cpus[2];
	int n_cpus = sys_allowed_cpus(cpus, 2);
	if (n_cpus < 0) {
		fprintf(stderr, "mmio-bench: sched_getaffinity: %s\n", strerror(-n_cpus));
		return 1;
	}
	struct placement pl[2];
	int n_pl = 0;
	if (opt.socket_path) {
		pl[n_pl++] = (struct placement){"unpinned", -1, -1};
	} else {
		pl[n_pl++] = (struct placement){"one-cpu", cpus[0], cpus[0]};
		if (n_cpus >= 2) {
			pl[n_pl++] = (struct placement){"spread", cpus[0], cpus[1]};
		}
	}

	struct report rep = {0};
	const char *cpu_source = NULL;
	int rc = volatile_rows(p, &rep);
	for (int i = 0; i < n_pl && rc == 0; i++) {
		rc = run_placement(&opt, p, &pl[i], &rep, &cpu_source);
	}
	if (rc == 0) {
		if (opt.json) {
			report_print_json(&rep, stdout);
		} else {
			print_preface(&opt, pl, n_pl, n_cpus);
			report_print_table(&rep, stdout);
			print_legend(cpu_source);
		}
	}
	report_finish(&rep);
	return rc == 0 ? 0 : 1;
}
