/* mmiod: argv, regions, socket, signals, event loop, exit code. Nothing else. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "backend.h"
#include "log.h"
#include "parse.h"
#include "region.h"
#include "region_spec.h"
#include "server.h"
#include "wire.h"

#define DEFAULT_REGION "sim0,type=mem,size=0x10000"

static const char usage_text[] =
	"Usage: mmiod [OPTIONS]\n"
	"Lease sub-ranges of device memory to unprivileged clients over a Unix socket,\n"
	"checking every load and store against the caller's lease.\n"
	"\n"
	"  -r, --region SPEC      serve a region; repeatable. SPEC is one of\n"
	"                           NAME,type=mem,size=N          simulated device (zeroed "
	"memory)\n"
	"                           NAME,type=file,path=P,size=N[,offset=O]\n"
	"                                                         a regular file, mapped shared\n"
	"                         numbers are decimal or 0x hex. Without any --region, mmiod\n"
	"                         serves " DEFAULT_REGION ".\n"
	"  -s, --socket PATH      listen on PATH (default " MMIO_DEFAULT_SOCKET ")\n"
	"  -f, --foreground       log to stderr. mmiod never forks and always logs to stderr\n"
	"                         today; the option is accepted for service files and scripts\n"
	"  -l, --log-level LEVEL  error, warn, info (default) or debug\n"
	"      --ready-fd FD      once the socket accepts connections, write \"READY\\n\" to FD\n"
	"                         and close it (for scripts and tests that must not poll)\n"
	"  -h, --help             show this help\n"
	"  -V, --version          show the version\n"
	"\n"
	"SIGTERM or SIGINT stops mmiod: every lease is revoked and the socket removed.\n";

struct options {
	struct region_spec specs[MMIO_MAX_REGIONS];
	unsigned n_specs;
	const char *socket_path;
	enum log_level level;
	int ready_fd;
};

static void
options_finish(struct options *opt)
{
	for (unsigned i = 0; i < opt->n_specs; i++) {
		region_spec_finish(&opt->specs[i]);
	}
}

static int
add_region(struct options *opt, const char *text)
{
	if (opt->n_specs == MMIO_MAX_REGIONS) {
		fprintf(stderr, "mmiod: at most %d regions\n", MMIO_MAX_REGIONS);
		return -1;
	}
	char err[256];
	struct region_spec *spec = &opt->specs[opt->n_specs++];
	if (region_spec_parse(text, spec, err, sizeof(err)) < 0) {
		fprintf(stderr, "mmiod: --region %s: %s\n", text, err);
		return -1;
	}
	return 0;
}

/* Returns 0 to run, 1 to exit successfully (help, version), 2 for a usage error. */
static int
parse_options(int argc, char **argv, struct options *opt)
{
	enum { OPT_READY_FD = 256 };
	static const struct option longopts[] = {
		{"region", required_argument, NULL, 'r'},
		{"socket", required_argument, NULL, 's'},
		{"foreground", no_argument, NULL, 'f'},
		{"log-level", required_argument, NULL, 'l'},
		{"ready-fd", required_argument, NULL, OPT_READY_FD},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	int c;
	while ((c = getopt_long(argc, argv, "r:s:fl:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'r':
			if (add_region(opt, optarg) < 0) {
				return 2;
			}
			break;
		case 's':
			opt->socket_path = optarg;
			break;
		case 'f':
			break;
		case 'l': {
			int level = log_level_parse(optarg);
			if (level < 0) {
				fprintf(stderr,
					"mmiod: --log-level %s: expected error, warn, info or "
					"debug\n",
					optarg);
				return 2;
			}
			opt->level = (enum log_level)level;
			break;
		}
		case OPT_READY_FD: {
			uint64_t fd;
			if (parse_u64(optarg, &fd) < 0 || fd > 65535) {
				fprintf(stderr, "mmiod: --ready-fd %s: not a file descriptor\n",
					optarg);
				return 2;
			}
			opt->ready_fd = (int)fd;
			break;
		}
		case 'h':
			fputs(usage_text, stdout);
			return 1;
		case 'V':
			printf("mmiod %s (protocol %d)\n", MMIOD_VERSION, MMIO_PROTOCOL_VERSION);
			return 1;
		default:
			fputs("Try 'mmiod --help'.\n", stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "mmiod: unexpected argument '%s'\nTry 'mmiod --help'.\n",
			argv[optind]);
		return 2;
	}
	if (opt->n_specs == 0 && add_region(opt, DEFAULT_REGION) < 0) {
		return 2;
	}
	return 0;
}

static void
stop_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	log_info("signal %d: shutting down", (int)sig);
	event_base_loopbreak(arg);
}

static void
report_ready(int fd)
{
	static const char msg[] = "READY\n";
	if (fd < 0) {
		return;
	}
	if (write(fd, msg, sizeof(msg) - 1) < 0) {
		log_warn("--ready-fd %d: %s", fd, strerror(errno));
	}
	wire_close_fd(&fd);
}

int
main(int argc, char **argv)
{
	struct options opt = {
		.socket_path = MMIO_DEFAULT_SOCKET, .level = LOG_LEVEL_INFO, .ready_fd = -1};
	int rc = parse_options(argc, argv, &opt);
	if (rc != 0) {
		options_finish(&opt);
		return rc == 1 ? 0 : 2;
	}
	log_init(opt.level);
	/* Sends use MSG_NOSIGNAL; this covers any other write to a vanished peer. */
	signal(SIGPIPE, SIG_IGN);

	int exit_code = 1;
	char err[512] = "";
	static struct region_table regions;
	if (region_table_open(&regions, opt.specs, opt.n_specs, err, sizeof(err)) < 0) {
		log_error("%s", err);
		goto out_options;
	}
	struct event_base *base = event_base_new();
	if (!base) {
		log_error("cannot create the event loop");
		goto out_regions;
	}
	/* The receive and send buffers make this large: keep it off the stack. */
	static struct server srv;
	if (server_open(&srv, base, &regions, opt.socket_path, err, sizeof(err)) < 0) {
		log_error("%s", err);
		goto out_base;
	}
	struct event *sigterm = evsignal_new(base, SIGTERM, stop_cb, base);
	struct event *sigint = evsignal_new(base, SIGINT, stop_cb, base);
	if (!sigterm || !sigint || event_add(sigterm, NULL) < 0 || event_add(sigint, NULL) < 0) {
		log_error("cannot install signal handlers");
		goto out_signals;
	}
	for (unsigned i = 0; i < regions.count; i++) {
		const struct region *r = regions.regions[i];
		log_info("region %s: %s, 0x%llx bytes", r->name, r->backend->type,
			 (unsigned long long)r->space.len);
	}
	log_info("listening on %s", opt.socket_path);
	report_ready(opt.ready_fd);

	if (event_base_dispatch(base) < 0) {
		log_error("event loop failed");
	} else {
		exit_code = 0;
	}

out_signals:
	if (sigterm) {
		event_free(sigterm);
	}
	if (sigint) {
		event_free(sigint);
	}
	server_close(&srv);
out_base:
	event_base_free(base);
out_regions:
	region_table_close(&regions);
out_options:
	options_finish(&opt);
	log_info("stopped");
	return exit_code;
}
