#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>

#include "base/log.h"
#include "base/pool.h"
#include "config/conf.h"
#include "core/lease.h"
#include "device/backend.h"
#include "device/backend_sim.h"
#include "device/region.h"
#include "device/region_table.h"
#include "live_state.h"
#include "net/server.h"
#include "net/server_state.h"
#include "notify.h"
#include "request/service.h"
#include "restart.h"
#include "restart_export.h"
#include "restart_state.h"
#include "service_config.h"

/* How long the new binary may take to judge the state before the old one gives up on it. */
#define RESTART_CHECK_MS 10000

static uint64_t
monotonic_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

int
restart_plan_init(struct restart_plan *plan, int argc, char **argv)
{
	plan->argc = argc;
	plan->argv = argv;
	const char *name = argv[0];
	if (strchr(name, '/')) {
		/* Absolute now: a later chdir must not change which file is run. */
		return realpath(name, plan->exe) ? 0 : -ENOENT;
	}
	const char *path = getenv("PATH");
	for (const char *dir = path; dir && *dir;) {
		size_t n = strcspn(dir, ":");
		if (n > 0 &&
		    snprintf(plan->exe, sizeof(plan->exe), "%.*s/%s", (int)n, dir, name) <
			    (int)sizeof(plan->exe) &&
		    access(plan->exe, X_OK) == 0) {
			return 0;
		}
		dir += n + (dir[n] == ':');
	}
	plan->exe[0] = '\0';
	return -ENOENT;
}

/* --- The old process: writing the state ------------------------------------------------- */

/* The numbers of the descriptors, by name, for a successor that inherits them as they are. */
static int
list_fds(MmiodState__State *st, const struct named_fds *fds, struct pool *p)
{
	st->fds = pool_alloc(p, fds->n * sizeof(MmiodState__NamedFd *));
	if (!st->fds) {
		return -ENOMEM;
	}
	for (size_t i = 0; i < fds->n; i++) {
		MmiodState__NamedFd *m = pool_alloc(p, sizeof(*m));
		if (!m) {
			return -ENOMEM;
		}
		mmiod_state__named_fd__init(m);
		m->name = fds->v[i].name;
		m->fd = fds->v[i].fd;
		st->fds[st->n_fds++] = m;
	}
	return 0;
}

static int
set_inherit(const struct named_fds *fds, int state_fd, bool inherit)
{
	int flag = inherit ? 0 : FD_CLOEXEC;
	for (size_t i = 0; i < fds->n; i++) {
		if (fcntl(fds->v[i].fd, F_SETFD, flag) < 0) {
			return -errno;
		}
	}
	return fcntl(state_fd, F_SETFD, flag) < 0 ? -errno : 0;
}

/*
 * The successor's arguments: ours, less a previous restart's --restart-state and --ready-fd
 * (that descriptor was used up at the first start), plus mode and state_fd.
 */
static char **
successor_argv(struct restart_plan *plan, char *mode, char *fd_text)
{
	char **argv = calloc((size_t)plan->argc + 3, sizeof(*argv));
	if (!argv) {
		return NULL;
	}
	int n = 0;
	argv[n++] = plan->exe;
	for (int i = 1; i < plan->argc; i++) {
		char *a = plan->argv[i];
		if (strcmp(a, "--restart-state") == 0 || strcmp(a, "--ready-fd") == 0) {
			i++; /* and its value */
			continue;
		}
		if (strncmp(a, "--restart-state=", 16) == 0 || strncmp(a, "--ready-fd=", 11) == 0) {
			continue;
		}
		argv[n++] = a;
	}
	argv[n++] = mode;
	argv[n++] = fd_text;
	argv[n] = NULL;
	return argv;
}

/*
 * Runs the new binary with --restart-check on the state: does it read it? Waits for its
 * verdict (bounded: the clients are paused meanwhile). 0, or -1 with the reason logged.
 */
static int
check_with_new_binary(struct restart_plan *plan, int state_fd, char *fd_text)
{
	static char mode[] = "--restart-check";
	char **argv = successor_argv(plan, mode, fd_text);
	if (!argv) {
		log_error("restart: out of memory");
		return -1;
	}
	pid_t pid = fork();
	if (pid == 0) {
		/* Only async-signal-safe calls here: the parent has threads. */
		if (fcntl(state_fd, F_SETFD, 0) == 0) {
			execv(argv[0], argv);
		}
		_exit(127);
	}
	free(argv);
	if (pid < 0) {
		log_error("restart: fork: %s", strerror(errno));
		return -1;
	}
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
	if (pidfd >= 0 && poll(&pfd, 1, RESTART_CHECK_MS) == 0) {
		log_error("restart: %s --restart-check gave no verdict within %d ms", plan->exe,
			  RESTART_CHECK_MS);
		kill(pid, SIGKILL);
	}
	if (pidfd >= 0) {
		close(pidfd);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		return 0;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
		log_error("restart: cannot run %s", plan->exe);
	} else {
		log_error("restart: %s refused the state (exit status %d); serving on", plan->exe,
			  WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	}
	return -1;
}

static int
write_state(struct server *srv, const struct region_table *regions, struct named_fds *fds,
	    uint64_t paused_ns)
{
	struct pool p;
	pool_init(&p);
	MmiodState__State st = MMIOD_STATE__STATE__INIT;
	st.paused_ns = paused_ns;
	int rc = restart_build_state(srv, regions, &st, &p, fds, false);
	if (rc == 0) {
		rc = list_fds(&st, fds, &p);
	}
	if (rc == 0) {
		rc = restart_state_write(&st);
		if (rc < 0) {
			log_error("restart: cannot write the state: %s", strerror(-rc));
		}
	} else if (rc == -ENOMEM) {
		log_error("restart: out of memory");
	}
	pool_finish(&p);
	return rc;
}

void
restart_reexec(struct restart_plan *plan, struct server *srv, const struct region_table *regions)
{
	if (!plan->exe[0]) {
		log_error("restart: mmiod's own path was not found at start; cannot re-execute");
		return;
	}
	uint64_t paused_ns = monotonic_ns();
	notify_state("RELOADING=1");
	server_pause(srv);
	struct named_fds fds;
	named_fds_init(&fds);
	int state_fd = write_state(srv, regions, &fds, paused_ns);
	char fd_text[16];
	if (state_fd >= 0) {
		snprintf(fd_text, sizeof(fd_text), "%d", state_fd);
		log_info("restart: handing %u connection%s over to %s",
			 srv->n_conns + srv->n_refused,
			 srv->n_conns + srv->n_refused == 1 ? "" : "s", plan->exe);
	}
	if (state_fd >= 0 && check_with_new_binary(plan, state_fd, fd_text) == 0) {
		static char mode[] = "--restart-state";
		char **argv = successor_argv(plan, mode, fd_text);
		if (argv && set_inherit(&fds, state_fd, true) == 0) {
			execv(plan->exe, argv);
			log_error("restart: exec %s: %s", plan->exe, strerror(errno));
		}
		(void)set_inherit(&fds, state_fd, false);
		free(argv);
	}
	if (state_fd >= 0) {
		close(state_fd);
	}
	named_fds_forget(&fds); /* all still ours, in use */
	server_resume(srv);
	notify_state("READY=1\nX_MMIOD_RESTART=failed");
}

/* --- Through systemd's file descriptor store ------------------------------------------------ */

#define STATE_FDNAME "mmiod-state"

/* Is systemd stopping us to start us again (systemctl restart, a package upgrade)? */
bool
restart_systemd_is_restarting(void)
{
	sd_bus *bus = NULL;
	sd_bus_error error = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	const char *unit = NULL;
	char *job_type = NULL;
	uint32_t job_id = 0;
	const char *job_path = NULL;
	bool restarting = false;
	if (sd_bus_open_system(&bus) < 0) {
		log_warn("restart: no system bus to ask systemd why it stops mmiod: a stop");
		return false;
	}
	(void)sd_bus_set_method_call_timeout(bus, 2000000); /* us: we are stopping meanwhile */
	if (sd_bus_call_method(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
			       "org.freedesktop.systemd1.Manager", "GetUnitByPID", &error, &reply,
			       "u", (uint32_t)getpid()) < 0 ||
	    sd_bus_message_read(reply, "o", &unit) < 0) {
		goto out;
	}
	sd_bus_message *job = NULL;
	if (sd_bus_get_property(bus, "org.freedesktop.systemd1", unit,
				"org.freedesktop.systemd1.Unit", "Job", &error, &job, "(uo)") < 0) {
		goto out;
	}
	if (sd_bus_message_read(job, "(uo)", &job_id, &job_path) >= 0 && job_id != 0 &&
	    sd_bus_get_property_string(bus, "org.freedesktop.systemd1", job_path,
				       "org.freedesktop.systemd1.Job", "JobType", &error,
				       &job_type) >= 0) {
		restarting = strstr(job_type, "restart") != NULL;
	}
	sd_bus_message_unref(job);
out:
	if (sd_bus_error_is_set(&error)) {
		log_warn("restart: asking systemd why it stops mmiod: %s", error.message);
	}
	free(job_type);
	sd_bus_error_free(&error);
	sd_bus_message_unref(reply);
	sd_bus_flush_close_unref(bus);
	return restarting;
}

/* How long a restart's hand-over may wait for room in systemd's queue, all told. */
#define RESTART_STORE_MS 5000

/*
 * Through notify.c's nonblocking socket: a full queue is waited for (systemd reads it while it
 * stops us), until deadline_ns; then the hand-over fails and the stop revokes as usual.
 */
static int
store_fd(int fd, const char *name, uint64_t deadline_ns)
{
	char msg[300];
	snprintf(msg, sizeof(msg), "FDSTORE=1\nFDNAME=%s", name);
	for (;;) {
		int rc = notify_send_fds(msg, &fd, 1);
		uint64_t now = monotonic_ns();
		if (rc != -EAGAIN || now >= deadline_ns) {
			return rc;
		}
		struct pollfd p = {.fd = notify_fd(), .events = POLLOUT};
		(void)poll(&p, 1, (int)((deadline_ns - now) / 1000000) + 1);
	}
}

int
restart_to_fd_store(struct server *srv, const struct region_table *regions)
{
	server_pause(srv);
	struct named_fds fds;
	named_fds_init(&fds);
	int state_fd = write_state(srv, regions, &fds, monotonic_ns());
	int rc = state_fd;
	uint64_t deadline_ns = monotonic_ns() + (uint64_t)RESTART_STORE_MS * 1000000u;
	/* The listener is the socket unit's: systemd has it already. Those the state kept for a
	 * crash has stored already, systemd takes once. */
	for (size_t i = 0; rc >= 0 && i < fds.n; i++) {
		if (fds.v[i].fd != srv->listen_fd) {
			rc = store_fd(fds.v[i].fd, fds.v[i].name, deadline_ns);
		}
	}
	/* The state last: a successor that finds it finds everything it names. */
	if (rc >= 0) {
		rc = store_fd(state_fd, STATE_FDNAME, deadline_ns);
	}
	if (rc < 0) {
		log_error("restart: cannot hand the state to systemd's store: %s", strerror(-rc));
	} else {
		log_info("restart: %zu descriptors and the state are in systemd's store", fds.n);
	}
	if (state_fd >= 0) {
		close(state_fd);
	}
	named_fds_forget(&fds);
	return rc < 0 ? rc : 0;
}

/* --- The successor: restoring it ---------------------------------------------------------- */

/* Every descriptor beside stdio: what a state we cannot read may have listed. */
static void
close_inherited(int keep)
{
	for (int fd = 3; fd < 65536; fd++) {
		if (fd != keep) {
			(void)close(fd);
		}
	}
}

int
restart_in_load(struct restart_in *in, int state_fd, char *err, size_t errlen)
{
	in->st = NULL;
	in->crashed = false;
	in->drop_conn = 0;
	named_fds_init(&in->fds);
	int rc = restart_state_read(state_fd, &in->st, err, errlen);
	if (rc == 0) {
		for (size_t i = 0; i < in->st->n_fds && rc == 0; i++) {
			const MmiodState__NamedFd *m = in->st->fds[i];
			/* Only what is open, and ours from now on (close-on-exec again). */
			if (m->fd < 3 || fcntl(m->fd, F_SETFD, FD_CLOEXEC) < 0) {
				snprintf(err, errlen, "descriptor %s (%d) is not open", m->name,
					 m->fd);
				rc = -EBADF;
			} else {
				rc = named_fds_add(&in->fds, m->name, m->fd);
			}
		}
	}
	close(state_fd);
	in->read_ns = monotonic_ns();
	if (rc < 0) {
		named_fds_forget(&in->fds);
		if (in->st) {
			mmiod_state__state__free_unpacked(in->st, NULL);
			in->st = NULL;
		}
		close_inherited(-1);
	}
	return rc;
}

static void
forget_stored(const char *name)
{
	char msg[300];
	snprintf(msg, sizeof(msg), "FDSTOREREMOVE=1\nFDNAME=%s", name);
	(void)sd_pid_notify(0, 0, msg);
}

int
restart_in_from_store(struct restart_in *in, int n, const int *fds, char **names, char *err,
		      size_t errlen)
{
	in->st = NULL;
	in->drop_conn = 0;
	in->crashed = false;
	named_fds_init(&in->fds);
	int state_fd = -1;
	int live_fd = -1;
	int rc = 0;
	for (int i = 0; i < n; i++) {
		if (names && names[i] && strcmp(names[i], STATE_FDNAME) == 0 && state_fd < 0) {
			state_fd = fds[i];
		} else if (names && names[i] && strcmp(names[i], LIVE_STATE_FDNAME) == 0 &&
			   live_fd < 0) {
			live_fd = fds[i];
		} else if (rc == 0) {
			rc = named_fds_add(&in->fds, names && names[i] ? names[i] : "unknown",
					   fds[i]);
		}
		if (names && names[i]) {
			/* Ours from here on: a connection closed later must not live on in the
			 * store. */
			forget_stored(names[i]);
		}
	}
	if (state_fd < 0 && live_fd >= 0) {
		/* No planned hand-over: the predecessor died. Its copy kept for that, then. */
		in->crashed = true;
		if (rc == 0) {
			rc = live_state_read(live_fd, &in->st, &in->drop_conn, err, errlen);
		} else {
			snprintf(err, errlen, "out of memory");
		}
		close(live_fd);
		in->read_ns = monotonic_ns();
		if (rc < 0) {
			named_fds_finish(&in->fds);
		}
		return rc;
	}
	if (live_fd >= 0) {
		close(live_fd); /* a planned hand-over's state is newer */
	}
	if (state_fd < 0) {
		if (in->fds.n > 0) {
			snprintf(err, errlen, "systemd's store holds %zu descriptors but no state",
				 in->fds.n);
			named_fds_finish(&in->fds);
			return -EPROTO;
		}
		return 0;
	}
	if (rc == 0) {
		rc = restart_state_read(state_fd, &in->st, err, errlen);
	} else {
		snprintf(err, errlen, "out of memory");
	}
	close(state_fd);
	in->read_ns = monotonic_ns();
	if (rc < 0) {
		named_fds_finish(&in->fds); /* every client sees its connection end */
	}
	return rc;
}

static const MmiodState__Region *
state_region(const MmiodState__State *st, const char *name)
{
	for (size_t i = 0; i < st->n_regions; i++) {
		if (strcmp(st->regions[i]->name, name) == 0) {
			return st->regions[i];
		}
	}
	return NULL;
}

void
restart_in_give_memory(struct restart_in *in, struct mmiod_config *cfg)
{
	for (unsigned i = 0; in->st && i < cfg->n_regions; i++) {
		struct region_spec *spec = &cfg->regions[i].spec;
		const MmiodState__Region *m = state_region(in->st, spec->name);
		if (!m || strcmp(spec->type, "mem") != 0 || strcmp(m->type, "mem") != 0 ||
		    m->len != spec->size || !m->memory[0]) {
			continue;
		}
		int fd = named_fds_take(&in->fds, m->memory);
		if (fd >= 0) {
			spec->has_memory = true;
			spec->memory_fd = fd;
		}
	}
}

int
restart_in_listener(struct restart_in *in, const char **socket_path)
{
	if (!in->st) {
		return -1;
	}
	*socket_path = in->st->socket_path;
	return named_fds_take(&in->fds, in->st->listener);
}

struct kept_arg {
	const MmiodState__State *st;
	const struct region_table *regions;
};

/* Same name, type and size, and the same bytes behind it (a mem region: its memory came back). */
static bool
region_kept(const char *name, void *arg)
{
	const struct kept_arg *k = arg;
	const MmiodState__Region *m = state_region(k->st, name);
	const struct region *r = region_table_find(k->regions, name);
	if (!m || !r || strcmp(m->type, r->backend->type) != 0 || m->len != r->space.len) {
		return false;
	}
	const struct backing *b = &r->backend->backing;
	if (!m->backing_shared) {
		return !b->shared && (m->memory[0] == '\0' || r->backend->memory_fd >= 0);
	}
	return b->shared && m->backing_dev == (uint64_t)b->dev &&
	       m->backing_ino == (uint64_t)b->ino && m->backing_offset == b->start;
}

/* A sim region that is the same device (name, size) gets its registers back, as a device would. */
static void
restore_sim_registers(const MmiodState__State *st, const struct region_table *regions)
{
	for (size_t i = 0; i < st->n_regions; i++) {
		const MmiodState__Region *m = st->regions[i];
		struct region *r = region_table_find(regions, m->name);
		if (r && backend_is_sim(r->backend) && strcmp(m->type, "sim") == 0 &&
		    m->registers.len == r->backend->len && m->len == r->space.len) {
			sim_registers_restore(r->backend, m->registers.data);
		}
	}
}

void
restart_in_restore(struct restart_in *in, struct server *srv, struct service *svc)
{
	if (!in->st) {
		return;
	}
	const MmiodState__State *st = in->st;
	lease_continue_ids(st->next_lease_id);
	uint64_t now = monotonic_ns();
	uint64_t elapsed_ms = now > st->written_ns ? (now - st->written_ns) / 1000000 : 0;
	struct kept_arg kept = {st, svc->regions};
	restore_sim_registers(st, svc->regions);
	struct restore_counts counts;
	const struct import_args args = {.elapsed_ms = elapsed_ms,
					 .kept = region_kept,
					 .arg = &kept,
					 .drop_conn = in->drop_conn};
	server_state_import(srv, st, &in->fds, &args, &counts);
	int revoked = service_recheck_leases(svc);
	size_t closed = named_fds_finish(&in->fds);
	uint64_t age_us =
		monotonic_ns() > st->paused_ns ? (monotonic_ns() - st->paused_ns) / 1000 : 0;
	/* A crash's state was written at its last change, not when serving stopped. */
	char when[64];
	snprintf(when, sizeof(when),
		 in->crashed ? "its state written %" PRIu64 " us before" : "paused %" PRIu64 " us",
		 age_us);
	log_event(MSGID_STARTED, LOG_LEVEL_INFO,
		  "%s: %u connection%s and %u lease%s restored (%u lease%s not, %d revoked by "
		  "the policy, %u connection%s gone, %zu descriptor%s closed); %s",
		  in->crashed ? "recovered after a crash" : "restart", counts.conns,
		  counts.conns == 1 ? "" : "s", counts.leases, counts.leases == 1 ? "" : "s",
		  counts.leases_lost, counts.leases_lost == 1 ? "" : "s", revoked,
		  counts.conns_lost, counts.conns_lost == 1 ? "" : "s", closed,
		  closed == 1 ? "" : "s", when);
	char msg[128];
	if (in->crashed) {
		snprintf(msg, sizeof(msg), "X_MMIOD_RESTART=recovered");
	} else {
		snprintf(msg, sizeof(msg), "X_MMIOD_RESTART=done\nX_MMIOD_PAUSE_US=%" PRIu64,
			 age_us);
	}
	notify_state(msg);
	mmiod_state__state__free_unpacked(in->st, NULL);
	in->st = NULL;
}

void
restart_in_finish(struct restart_in *in)
{
	named_fds_finish(&in->fds);
	if (in->st) {
		mmiod_state__state__free_unpacked(in->st, NULL);
		in->st = NULL;
	}
}
