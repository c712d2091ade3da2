/* mmiod: argv, config, regions, socket, privilege drop, signals, event loop, exit code. */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <systemd/sd-daemon.h>

#include "base/fd_closer.h"
#include "base/log.h"
#include "config/conf.h"
#include "core/limits.h"
#include "device/backend.h"
#include "device/fault.h"
#include "device/region.h"
#include "device/region_table.h"
#include "live_state.h"
#include "mmio/client.h" /* MMIO_DEFAULT_SOCKET_PATH */
#include "net/server.h"
#include "notify.h"
#include "parse.h"
#include "privdrop.h"
#include "request/service.h"
#include "restart.h"
#include "restart_state.h"
#include "service_config.h"
#include "status_notify.h"
#include "wire.h"

#define DEFAULT_REGION "sim0,type=mem,size=0x10000"

static const char usage_text[] =
	"Usage: mmiod [OPTIONS]\n"
	"Lease sub-ranges of device memory to unprivileged clients over a Unix socket,\n"
	"checking every load and store against the caller's lease and grants.\n"
	"\n"
	"  -c, --config FILE      read regions, socket, user, limits and the access policy\n"
	"                         from FILE (see " MMIOD_DEFAULT_CONFIG ")\n"
	"      --check-config FILE  validate FILE, print 'FILE:LINE: message' errors, exit;\n"
	"                         each region's file, device or BAR must be there (as\n"
	"                         start-up needs it); a note per pair of regions that\n"
	"                         alias the same device bytes (a lease on one excludes\n"
	"                         the other)\n"
	"  -r, --region SPEC      serve a region as well; repeatable. SPEC is one of\n"
	"                           NAME,type=mem,size=N          simulated device (zeroed "
	"memory)\n"
	"                           NAME,type=file,path=P,size=N[,offset=O]\n"
	"                                                         a regular file, mapped shared\n"
	"                           NAME,type=devmem,phys=A,size=N[,path=/dev/mem]\n"
	"                                                         physical memory (uncached)\n"
	"                           NAME,type=pci,device=[DDDD:]BB:DD.F,bar=N[,offset=O][,size=N]\n"
	"                                [,sysfs=/sys]            a PCI memory BAR (size: to its "
	"end)\n"
	"                           NAME,type=uio,name=UIONAME|device=uioN,map=M[,size=N]\n"
	"                                [,sysfs=/sys][,dev=/dev][,irq=yes[,irq_dev=PATH]]\n"
	"                                                         a UIO map (size: all of it)\n"
	"                         numbers are decimal (no leading 0) or 0x hex. Such regions\n"
	"                         have no grants: only root and the user who started mmiod\n"
	"                         may lease them.\n"
	"                         Without --config or --region, mmiod serves " DEFAULT_REGION ".\n"
	"  -s, --socket PATH      listen on PATH (default " MMIO_DEFAULT_SOCKET_PATH
	"); ignored when\n"
	"                         systemd passes a listening socket\n"
	"  -u, --user USER        after opening the regions and the socket, drop to USER\n"
	"  -f, --foreground       log plain lines to stderr even when systemd connected it\n"
	"                         to the journal (otherwise journal entries with fields).\n"
	"                         mmiod never forks either way\n"
	"  -l, --log-level LEVEL  error, warn, info (default, or the config's log_level) or\n"
	"                         debug (each connection, grant and release)\n"
	"  -v, --verbose          the same as --log-level debug\n"
	"      --ready-fd FD      once serving, write \"READY\\n\" to FD and close it\n"
	"      --fd-store         under systemd with FileDescriptorStoreMax=: when systemd\n"
	"                         stops mmiod to start it again (systemctl restart, a\n"
	"                         package upgrade), hand every connection, lease and\n"
	"                         ring to its file descriptor store instead of revoking;\n"
	"                         and keep them there as they change, so that after a\n"
	"                         crash Restart=on-failure gets them back\n"
	"      --restart-state FD  internal (SIGUSR2): restore the state a predecessor\n"
	"                         wrote to FD, with the descriptors it lists\n"
	"      --restart-check FD  internal (SIGUSR2): exit 0 if this mmiod would restore\n"
	"                         the state in FD under this config, else say why, exit 2\n"
	"  -h, --help             show this help\n"
	"  -V, --version          show the version\n"
	"\n"
	"Signals: SIGTERM or SIGINT revoke every lease, remove the socket and exit 0;\n"
	"SIGHUP re-reads the config's policy and limits (leases it no longer grants are\n"
	"revoked); SIGUSR2 restarts mmiod from its installed path (an upgraded binary\n"
	"takes over) keeping every connection, lease and ring, and applies region changes\n"
	"(if the new mmiod refuses, the old one serves on). Exit status: 0 clean stop,\n"
	"1 could not start, 2 usage or config error.\n";

struct options {
	const char *config_path;
	bool check_only;
	const char *regions[MMIO_MAX_REGIONS]; /* --region texts, re-added on reload */
	unsigned n_regions;
	const char *socket_path;
	const char *user;
	bool foreground;
	enum log_level level;
	bool level_given; /* --log-level or -v: wins over the config's log_level */
	int ready_fd;
	int restart_state_fd; /* -1, or the state a predecessor handed over */
	int restart_check_fd; /* -1, or a state to judge, for a predecessor's SIGUSR2 */
	bool fd_store;        /* systemctl restart hands everything over through systemd */
};

/* Returns 0 to run, 1 to exit successfully (help, version), 2 for a usage error. */
static int
parse_options(int argc, char **argv, struct options *opt)
{
	enum {
		OPT_READY_FD = 256,
		OPT_CHECK_CONFIG,
		OPT_RESTART_STATE,
		OPT_RESTART_CHECK,
		OPT_FD_STORE
	};
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"check-config", required_argument, NULL, OPT_CHECK_CONFIG},
		{"region", required_argument, NULL, 'r'},
		{"socket", required_argument, NULL, 's'},
		{"user", required_argument, NULL, 'u'},
		{"foreground", no_argument, NULL, 'f'},
		{"log-level", required_argument, NULL, 'l'},
		{"verbose", no_argument, NULL, 'v'},
		{"ready-fd", required_argument, NULL, OPT_READY_FD},
		{"fd-store", no_argument, NULL, OPT_FD_STORE},
		{"restart-state", required_argument, NULL, OPT_RESTART_STATE},
		{"restart-check", required_argument, NULL, OPT_RESTART_CHECK},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	int c;
	while ((c = getopt_long(argc, argv, "c:r:s:u:fl:vhV", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_CHECK_CONFIG:
			opt->check_only = true;
			opt->config_path = optarg;
			break;
		case 'c':
			opt->config_path = optarg;
			break;
		case 'r':
			if (opt->n_regions == MMIO_MAX_REGIONS) {
				fprintf(stderr, "mmiod: at most %d regions\n", MMIO_MAX_REGIONS);
				return 2;
			}
			opt->regions[opt->n_regions++] = optarg;
			break;
		case 's':
			opt->socket_path = optarg;
			break;
		case 'u':
			opt->user = optarg;
			break;
		case 'f':
			opt->foreground = true;
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
			opt->level_given = true;
			break;
		}
		case 'v':
			opt->level = LOG_LEVEL_DEBUG;
			opt->level_given = true;
			break;
		case OPT_FD_STORE:
			opt->fd_store = true;
			break;
		case OPT_READY_FD:
		case OPT_RESTART_STATE:
		case OPT_RESTART_CHECK: {
			uint64_t fd;
			if (parse_u64(optarg, &fd) < 0 || fd > 65535) {
				fprintf(stderr, "mmiod: %s %s: not a file descriptor\n",
					c == OPT_READY_FD        ? "--ready-fd"
					: c == OPT_RESTART_STATE ? "--restart-state"
								 : "--restart-check",
					optarg);
				return 2;
			}
			*(c == OPT_READY_FD        ? &opt->ready_fd
			  : c == OPT_RESTART_STATE ? &opt->restart_state_fd
						   : &opt->restart_check_fd) = (int)fd;
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
	return 0;
}

/* The reason for rc a conf_* call left in err; out of memory leaves it empty. */
static const char *
conf_reason(const char *err, int rc)
{
	return err[0] ? err : strerror(-rc);
}

/*
 * Builds the configuration from the file (if any) and the command line, which
 * wins. Returns 0, or 2 with the reason printed.
 */
/* The map region serves, for a reload's grants' park sequences (conf.h, live_map). */
static const struct regmap *
live_map_of(const char *region, void *arg)
{
	const struct region *r = region_table_find(arg, region);
	return r ? r->regmap : NULL;
}

static int
load_config(const struct options *opt, struct mmiod_config *cfg, struct region_table *live)
{
	char err[512] = "";
	int rc;
	conf_init(cfg);
	/* A reload (live: the regions served) changes no region, so reads no map: those read at
	 * start stay (mmiod.conf(5)). */
	cfg->skip_maps = live != NULL;
	cfg->live_map = live ? live_map_of : NULL;
	cfg->live_map_arg = live;
	if (opt->config_path && (rc = conf_load(cfg, opt->config_path, err, sizeof(err))) < 0) {
		if (err[0]) {
			fprintf(stderr, "%s\n", err);
		} else {
			fprintf(stderr, "mmiod: %s: %s\n", opt->config_path, strerror(-rc));
		}
		return 2;
	}
	for (unsigned i = 0; i < opt->n_regions; i++) {
		if ((rc = conf_add_region(cfg, opt->regions[i], err, sizeof(err))) < 0) {
			fprintf(stderr, "mmiod: --region %s: %s\n", opt->regions[i],
				conf_reason(err, rc));
			return 2;
		}
	}
	if (!opt->config_path && cfg->n_regions == 0 &&
	    (rc = conf_add_region(cfg, DEFAULT_REGION, err, sizeof(err))) < 0) {
		fprintf(stderr, "mmiod: default region %s: %s\n", DEFAULT_REGION,
			conf_reason(err, rc));
		return 2;
	}
	if (opt->socket_path) {
		free(cfg->socket_path);
		if (!(cfg->socket_path = strdup(opt->socket_path))) {
			fprintf(stderr, "mmiod: --socket %s: %s\n", opt->socket_path,
				strerror(ENOMEM));
			return 2;
		}
	}
	if (!cfg->socket_path && !(cfg->socket_path = strdup(MMIO_DEFAULT_SOCKET_PATH))) {
		fprintf(stderr, "mmiod: socket path: %s\n", strerror(ENOMEM));
		return 2;
	}
	if (opt->user && (rc = conf_set_user(cfg, opt->user, err, sizeof(err))) < 0) {
		fprintf(stderr, "mmiod: --user %s: %s\n", opt->user, conf_reason(err, rc));
		return 2;
	}
	return 0;
}

/* The command line's level, else the config's log_level, else info. */
static enum log_level
effective_level(const struct options *opt, const struct mmiod_config *cfg)
{
	if (opt->level_given || cfg->log_level < 0) {
		return opt->level;
	}
	return (enum log_level)cfg->log_level;
}

/* What --check-config reports beyond parsing: the config and its file name. */
struct check_report {
	const struct mmiod_config *cfg;
	const char *path;
};

/* A region start-up would fail on: "FILE:LINE: region 'NAME': why" on stderr. */
static void
print_region_error(void *arg, unsigned region, const char *why)
{
	const struct check_report *r = arg;
	const struct region_config *rc = &r->cfg->regions[region];
	if (rc->line > 0) {
		fprintf(stderr, "%s:%d: region '%s': %s\n", r->path, rc->line, rc->spec.name, why);
	} else {
		fprintf(stderr, "mmiod: --region %s: %s\n", rc->spec.name, why);
	}
}

/* --check-config's notes: "FILE: note: text" on stdout. */
static void
print_note(void *arg, const char *text)
{
	printf("%s: note: %s\n", ((const struct check_report *)arg)->path, text);
}

struct daemon {
	struct options *opt;
	struct event_base *base;
	struct service svc;
	struct region_table regions;
	struct server srv;
	struct status_notify status; /* STATUS= for systemd */
	struct restart_plan plan;    /* how SIGUSR2 re-executes mmiod */
	struct restart_in restart;   /* the state a predecessor handed over, until restored */
	struct live_state live;      /* the state kept for a crash (--fd-store under systemd) */
	int systemd_listen_fd;       /* the listening socket systemd passed, or -1 */
};

static void
stop_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	struct daemon *d = arg;
	log_info("signal %d: shutting down", (int)sig);
	notify_state("STOPPING=1");
	if (d->opt->fd_store && sig == SIGTERM && restart_systemd_is_restarting() &&
	    restart_to_fd_store(&d->srv, &d->regions) == 0) {
		/* Nothing revoked, nothing closed: the next start takes it all from the store. */
		log_event(
			MSGID_STOPPED, LOG_LEVEL_INFO,
			"stopped for a restart: every lease and connection is in systemd's store");
		_exit(0);
	}
	event_base_loopbreak(d->base);
}

static void
reload_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	struct daemon *d = arg;
	notify_state("RELOADING=1");
	struct mmiod_config cfg;
	if (load_config(d->opt, &cfg, d->svc.regions) != 0) {
		log_error("reload: configuration not valid; keeping the current policy");
	} else {
		log_set_level(effective_level(d->opt, &cfg));
		int revoked = service_apply_config(&d->svc, &cfg);
		log_event(MSGID_POLICY_RELOADED, LOG_LEVEL_INFO,
			  "reload: policy applied, %d lease%s revoked", revoked < 0 ? 0 : revoked,
			  revoked == 1 ? "" : "s");
	}
	conf_finish(&cfg);
	notify_state("READY=1");
	status_notify_poke(&d->status);
}

static void
restart_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	struct daemon *d = arg;
	log_info("SIGUSR2: restarting");
	restart_reexec(&d->plan, &d->srv, &d->regions);
}

static void
report_ready(int fd)
{
	static const char msg[] = "READY\n";
	notify_state("READY=1");
	if (fd < 0) {
		return;
	}
	if (write(fd, msg, sizeof(msg) - 1) < 0) {
		log_warn("--ready-fd %d: %s", fd, strerror(errno));
	}
	wire_close_fd(&fd);
}

/*
 * What systemd passed (socket activation, and after a restart through its file descriptor
 * store, the state and the descriptors it names): exactly one listening SOCK_SEQPACKET unix
 * socket, kept for open_socket; the rest go to the restart. 0 or -EINVAL with err.
 */
static int
take_listen_fds(struct daemon *d, char *err, size_t errlen)
{
	char **names = NULL;
	int n = sd_listen_fds_with_names(1, &names);
	if (n < 0) {
		snprintf(err, errlen, "sd_listen_fds: %s", strerror(-n));
		return n;
	}
	int rc = 0;
	int *others = calloc((size_t)n + 1, sizeof(*others));
	char **other_names = calloc((size_t)n + 1, sizeof(*other_names));
	unsigned n_listen = 0;
	int n_others = 0;
	for (int i = 0; i < n && others && other_names; i++) {
		int fd = SD_LISTEN_FDS_START + i;
		if (sd_is_socket_unix(fd, SOCK_SEQPACKET, 1, NULL, 0) > 0) {
			n_listen++;
			d->systemd_listen_fd = fd;
		} else {
			others[n_others] = fd;
			other_names[n_others++] = names ? names[i] : NULL;
		}
	}
	if (n > 0 && (!others || !other_names)) {
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
	} else if (n > 0 && n_listen != 1) {
		snprintf(err, errlen,
			 "systemd must pass exactly one listening SOCK_SEQPACKET unix "
			 "socket (ListenSequentialPacket=)");
		rc = -EINVAL;
	} else if (n_others > 0 && restart_in_from_store(&d->restart, n_others, others, other_names,
							 err, errlen) < 0) {
		log_error("restart: the state in systemd's store is refused (%s): starting clean, "
			  "every client has to connect again",
			  err);
		err[0] = '\0';
	}
	for (int i = 0; names && i < n; i++) {
		free(names[i]);
	}
	free(names);
	free(others);
	free(other_names);
	return rc;
}

/* The predecessor's socket after a re-exec, else the one systemd passed, else our own. */
static int
open_socket(struct daemon *d, const struct mmiod_config *cfg, char *err, size_t errlen)
{
	const char *path = NULL;
	int handed = restart_in_listener(&d->restart, &path);
	if (handed >= 0) {
		int rc = server_adopt(&d->srv, d->base, &d->svc, handed, err, errlen);
		if (rc == 0 && path && path[0] && !(d->srv.socket_path = strdup(path))) {
			log_warn("out of memory: %s will not be removed at stop", path);
		}
		return rc;
	}
	if (d->systemd_listen_fd < 0) {
		return server_open(&d->srv, d->base, &d->svc, cfg->socket_path, cfg->socket_mode,
				   cfg->socket_gid, err, errlen);
	}
	log_info("using the socket systemd passed");
	return server_adopt(&d->srv, d->base, &d->svc, d->systemd_listen_fd, err, errlen);
}

static int
run(struct daemon *d, struct mmiod_config *cfg)
{
	char err[512] = "";
	uid_t started_by = getuid();
	int rc = fault_init();
	if (rc < 0) {
		log_error("installing the SIGBUS handler: %s", strerror(-rc));
		return 1;
	}
	if (take_listen_fds(d, err, sizeof(err)) < 0) {
		log_error("%s", err);
		restart_in_finish(&d->restart);
		return 1;
	}
	if (d->opt->restart_state_fd >= 0) {
		if (restart_in_load(&d->restart, d->opt->restart_state_fd, err, sizeof(err)) < 0) {
			log_error("restart: the state handed over is refused (%s): starting clean, "
				  "every client has to connect again",
				  err);
		}
	}
	restart_in_give_memory(&d->restart, cfg);
	if (region_table_open(&d->regions, cfg->regions, cfg->n_regions, err, sizeof(err)) < 0) {
		log_error("%s", err);
		restart_in_finish(&d->restart);
		return 1;
	}
	int exit_code = 1;
	service_init(&d->svc, &d->regions, cfg, started_by);
	status_notify_start(&d->status, &d->svc);
	d->base = event_base_new();
	if (!d->base) {
		log_error("cannot create the event loop");
		goto out_regions;
	}
	d->svc.base = d->base;
	if (open_socket(d, cfg, err, sizeof(err)) < 0) {
		log_error("%s", err);
		goto out_base;
	}
	notify_open(d->base); /* before the drop: $NOTIFY_SOCKET may be root's alone */
	/* A restart's successor runs as the user its predecessor dropped to already. */
	if (cfg->user && !(getuid() == cfg->uid && geteuid() == cfg->uid)) {
		if (privdrop(cfg->uid, cfg->gid, err, sizeof(err)) < 0) {
			log_error("dropping privileges: %s", err);
			goto out_server;
		}
		log_info("running as %s (uid %u gid %u)", cfg->user, (unsigned)cfg->uid,
			 (unsigned)cfg->gid);
	}
	if (region_table_start(&d->regions, d->base, err, sizeof(err)) < 0) {
		log_error("%s", err);
		goto out_server;
	}
	struct event *signals[4] = {
		evsignal_new(d->base, SIGTERM, stop_cb, d),
		evsignal_new(d->base, SIGINT, stop_cb, d),
		evsignal_new(d->base, SIGHUP, reload_cb, d),
		evsignal_new(d->base, SIGUSR2, restart_cb, d),
	};
	for (int i = 0; i < 4; i++) {
		if (!signals[i] || event_add(signals[i], NULL) < 0) {
			log_error("cannot install signal handlers");
			goto out_signals;
		}
	}
	for (unsigned i = 0; i < d->regions.count; i++) {
		const struct region *r = d->regions.regions[i];
		log_info("region %s: %s, 0x%llx bytes, %u grant%s", r->name, r->backend->type,
			 (unsigned long long)r->space.len, r->policy.n_grants,
			 r->policy.n_grants == 1 ? "" : "s");
	}
	log_event(MSGID_STARTED, LOG_LEVEL_INFO, "serving on %s",
		  d->srv.socket_path ? d->srv.socket_path : "systemd's socket");
	if (d->opt->restart_state_fd >= 0) {
		live_state_seed(&d->live, &d->restart.fds); /* the predecessor stored them */
	}
	restart_in_restore(&d->restart, &d->srv, &d->svc);
	if (d->opt->fd_store && getenv("NOTIFY_SOCKET")) {
		(void)live_state_start(&d->live, &d->srv, &d->regions); /* logs a failure */
	}
	report_ready(d->opt->ready_fd);
	status_notify_poke(&d->status); /* the first STATUS=: 0 clients, 0 leases, 0 faults */

	if (event_base_dispatch(d->base) < 0) {
		log_error("event loop failed");
	} else {
		exit_code = 0;
	}
out_signals:
	for (int i = 0; i < 4; i++) {
		if (signals[i]) {
			event_free(signals[i]);
		}
	}
out_server:
	server_close(&d->srv);
	live_state_stop(&d->live, true); /* a stop: nothing left for a successor to restore */
	fd_closer_stop(1000);
out_base:
	restart_in_finish(&d->restart);
	status_notify_finish(&d->status);
	notify_close();
	region_table_stop(&d->regions);
	event_base_free(d->base);
out_regions:
	region_table_close(&d->regions);
	return exit_code;
}

/*
 * A request's memory (a batch's 4096 decoded ops, its reply) comes from the heap and goes back
 * to it. By default glibc gives the top of the heap back to the kernel after each big request
 * (brk, a TLB shootdown on every CPU) and takes it again with page faults for the next, and
 * serves the largest pieces with mmap/munmap. Fixed thresholds keep the heap at its high-water
 * mark instead; a connection that closes gives its memory back (malloc_trim in conn.c).
 */
static void
steady_heap(void)
{
	(void)mallopt(M_MMAP_THRESHOLD, 32 << 20);
	(void)mallopt(M_TRIM_THRESHOLD, 64 << 20);
}

/*
 * --restart-check: would this mmiod restore the state under this config? Its verdict is the
 * exit status; the old process, whose state it is, serves on if it is not 0.
 */
static int
check_restart_state(const struct options *opt, struct mmiod_config *cfg)
{
	char err[256];
	MmiodState__State *st = NULL;
	if (restart_state_read(opt->restart_check_fd, &st, err, sizeof(err)) < 0) {
		fprintf(stderr, "mmiod: --restart-check: %s\n", err);
		return 2;
	}
	mmiod_state__state__free_unpacked(st, NULL);
	/* The successor runs as we do: it cannot drop to another user. */
	if (cfg->user && getuid() != 0 && getuid() != cfg->uid) {
		fprintf(stderr,
			"mmiod: --restart-check: the config's user %s is not the user mmiod runs "
			"as "
			"(uid %u): restart the service instead\n",
			cfg->user, (unsigned)getuid());
		return 2;
	}
	/* The regions, as the successor will open them: a device it may not open fails here. */
	struct region_table regions;
	if (region_table_open(&regions, cfg->regions, cfg->n_regions, err, sizeof(err)) < 0) {
		fprintf(stderr, "mmiod: --restart-check: %s\n", err);
		return 2;
	}
	region_table_close(&regions);
	return 0;
}

int
main(int argc, char **argv)
{
	static struct options opt = {.level = LOG_LEVEL_INFO,
				     .ready_fd = -1,
				     .restart_state_fd = -1,
				     .restart_check_fd = -1};
	int rc = parse_options(argc, argv, &opt);
	if (rc != 0) {
		return rc == 1 ? 0 : 2;
	}
	if (opt.restart_state_fd >= 0) {
		opt.ready_fd = -1; /* used up by the first start; the number may be anything now */
	}
	struct mmiod_config cfg;
	rc = load_config(&opt, &cfg, NULL);
	if (opt.restart_check_fd >= 0) {
		rc = rc == 0 ? check_restart_state(&opt, &cfg) : 2;
		conf_finish(&cfg);
		return rc;
	}
	if (opt.check_only || rc != 0) {
		if (rc == 0) {
			/* Each region's file, device or BAR, as start-up would need it; aliases
			 * are allowed, only told (notes first, then the verdict). */
			struct check_report report = {&cfg, opt.config_path};
			struct region_check_report cb = {print_region_error, print_note, &report};
			if (region_table_check(cfg.regions, cfg.n_regions, &cb) > 0) {
				rc = 2;
			} else {
				printf("%s: ok (%u region%s)\n", opt.config_path, cfg.n_regions,
				       cfg.n_regions == 1 ? "" : "s");
			}
		}
		conf_finish(&cfg);
		return rc;
	}
	/* systemd sets JOURNAL_STREAM when our stderr goes to the journal: log there natively. */
	bool journal = !opt.foreground && getenv("JOURNAL_STREAM");
	log_init(effective_level(&opt, &cfg), journal ? LOG_SINK_JOURNAL : LOG_SINK_STDERR);
	/* Sends use MSG_NOSIGNAL; this covers any other write to a vanished peer. */
	(void)signal(SIGPIPE, SIG_IGN); /* fails only for an invalid signal number */
	steady_heap();

	/* The receive and send buffers make this large: keep it off the stack. */
	static struct daemon d;
	d.opt = &opt;
	d.restart.st = NULL;
	d.systemd_listen_fd = -1;
	d.live.fd = -1;
	named_fds_init(&d.restart.fds);
	if (restart_plan_init(&d.plan, argc, argv) < 0) {
		log_warn("cannot find %s's own path: SIGUSR2 cannot restart it", argv[0]);
	}
	rc = run(&d, &cfg);
	conf_finish(&cfg);
	log_event(MSGID_STOPPED, LOG_LEVEL_INFO, "stopped");
	return rc;
}
