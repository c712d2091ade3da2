/* mmiod as a service: config checking, privilege drop, socket mode, limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon_fixture.h"
#include "mmio/client.h"
#include "mmio_limits.h"
#include "raw_client.h"
#include "run_as.h"
#include "wire.h"

static int
write_conf(struct daemon_fixture *f, char *path, size_t cap, const char *text)
{
	snprintf(path, cap, "%s/mmiod.conf", f->dir);
	FILE *file = fopen(path, "w");
	if (!file) {
		return -1;
	}
	fputs(text, file);
	return fclose(file);
}

/* Starts mmiod on a fresh fixture with text as its config. */
static void
start_with_conf(struct daemon_fixture *f, char *conf, size_t cap, const char *text)
{
	memset(f, 0, sizeof(*f));
	assert_int_equal(daemon_fixture_prepare(f), 0);
	assert_int_equal(write_conf(f, conf, cap, text), 0);
	assert_int_equal(chmod(f->dir, 0755), 0);
	const char *const args[] = {"--config", conf, NULL};
	assert_int_equal(daemon_fixture_start_args(f, args), 0);
}

static void
stop(struct daemon_fixture *f, const char *conf)
{
	unlink(conf);
	assert_int_equal(daemon_fixture_stop(f), 0);
}

static void
test_service_check_config(void **state)
{
	(void)state;
	struct daemon_fixture f = {0};
	char conf[160];
	assert_int_equal(daemon_fixture_prepare(&f), 0);
	assert_int_equal(
		write_conf(&f, conf, sizeof(conf),
			   "regions = ( { name = \"a\"; type = \"mem\"; size = 64; } );\n"),
		0);
	const char *const good[] = {"--check-config", conf, NULL};
	assert_int_equal(daemon_fixture_run_to_exit(f.socket_path, good), 0);
	/* An error names the file and the line, and mmiod does not start. */
	assert_int_equal(
		write_conf(
			&f, conf, sizeof(conf),
			"regions = (\n  { name = \"a\"; type = \"mem\";\n    size = -1; }\n);\n"),
		0);
	assert_int_equal(daemon_fixture_run_logged(f.socket_path, good, f.log_path), 2);
	assert_int_equal(daemon_fixture_log_count(&f, "mmiod.conf:3: size must not be negative"),
			 1);
	const char *const run[] = {"--config", conf, NULL};
	assert_int_equal(daemon_fixture_run_to_exit(f.socket_path, run), 2);
	struct stat st;
	assert_int_equal(stat(f.socket_path, &st), -1);
	unlink(conf);
	daemon_fixture_cleanup(&f);
}

/* Reads "Key:\tvalue" from /proc/PID/status. */
static int
proc_status_field(pid_t pid, const char *key, char *out, size_t cap)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f) {
		return -1;
	}
	int rc = -1;
	size_t klen = strlen(key);
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			const char *v = line + klen + 1;
			v += strspn(v, " \t");
			snprintf(out, cap, "%.*s", (int)strcspn(v, "\n"), v);
			rc = 0;
			break;
		}
	}
	fclose(f);
	return rc;
}

static void
test_service_drops_privileges(void **state)
{
	(void)state;
	if (geteuid() != 0) {
		skip();
	}
	struct daemon_fixture f;
	char conf[160];
	/* LeakSanitizer cannot trace a process that changed its uid; valgrind still checks. */
	setenv("ASAN_OPTIONS", "detect_leaks=0", 1);
	start_with_conf(&f, conf, sizeof(conf),
			"user = 65534;\nsocket = { mode = \"0640\"; group = 0; };\n"
			"regions = ( { name = \"a\"; type = \"mem\"; size = 64; } );\n");
	unsetenv("ASAN_OPTIONS");
	char v[128];
	assert_int_equal(proc_status_field(f.pid, "Uid", v, sizeof(v)), 0);
	assert_string_equal(v, "65534\t65534\t65534\t65534");
	assert_int_equal(proc_status_field(f.pid, "Gid", v, sizeof(v)), 0);
	assert_string_equal(v, "65534\t65534\t65534\t65534");
	assert_int_equal(proc_status_field(f.pid, "Groups", v, sizeof(v)), 0);
	assert_string_equal(v, "65534 ");
	static const char *const caps[] = {"CapInh", "CapPrm", "CapEff", "CapAmb"};
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(proc_status_field(f.pid, caps[i], v, sizeof(v)), 0);
		assert_string_equal(v, "0000000000000000");
	}
	assert_int_equal(proc_status_field(f.pid, "NoNewPrivs", v, sizeof(v)), 0);
	assert_string_equal(v, "1");
	/* The socket was born with the configured mode and group, root-owned. */
	struct stat st;
	assert_int_equal(stat(f.socket_path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(st.st_gid, 0);
	/* Still serving, as nobody: root's client gets everything. */
	struct mmio_client *c;
	struct mmio_lease *l;
	assert_int_equal(mmio_connect(f.socket_path, &c), 0);
	assert_int_equal(mmio_acquire(c, "a", 0, 8, &l), 0);
	assert_int_equal(mmio_store64(l, 0, 1), 0);
	mmio_disconnect(c);
	/* As nobody it cannot unlink the socket in our root-owned directory: it says so. */
	unlink(conf);
	assert_int_equal(daemon_fixture_stop(&f), 0);
}

static int
per_uid_checks(void *arg)
{
	const char *socket_path = arg;
	struct mmio_client *a, *b, *c;
	CHILD_CHECK(mmio_connect(socket_path, &a) == 0);
	CHILD_CHECK(mmio_connect(socket_path, &b) == 0);
	CHILD_CHECK(mmio_connect(socket_path, &c) == -ENOSPC);
	mmio_disconnect(b);
	return 0;
}

static void
test_service_connection_limits(void **state)
{
	(void)state;
	if (geteuid() != 0) {
		skip();
	}
	struct daemon_fixture f;
	char conf[160];
	start_with_conf(&f, conf, sizeof(conf),
			"socket = { mode = \"0666\"; };\n"
			"limits = { max_connections = 4; max_connections_per_uid = 2; };\n"
			"regions = ( { name = \"a\"; type = \"mem\"; size = 64;\n"
			"  grants = ( { user = 4242; access = \"rw\"; } ); } );\n");
	assert_int_equal(run_as(4242, 4242, NULL, 0, per_uid_checks, f.socket_path), 0);
	assert_int_equal(daemon_fixture_log_count(&f, "uid 4242 refused"), 1);

	/* Past the total cap a connection is closed at once; those below it still work. */
	struct mmio_client *c[4];
	for (int i = 0; i < 2; i++) {
		assert_int_equal(mmio_connect(f.socket_path, &c[i]), 0);
	}
	int fds[2];
	for (int i = 0; i < 2; i++) {
		fds[i] = raw_connect(f.socket_path);
		assert_true(fds[i] >= 0);
	}
	int extra = raw_connect(f.socket_path);
	assert_true(raw_wait_closed(extra));
	close(extra);
	for (int i = 0; i < 2; i++) {
		close(fds[i]);
		mmio_disconnect(c[i]);
	}
	stop(&f, conf);
}

static void
test_service_lease_and_frame_limits(void **state)
{
	(void)state;
	struct daemon_fixture f;
	char conf[160];
	start_with_conf(&f, conf, sizeof(conf),
			"limits = { max_leases_per_connection = 3; max_frame = 1024; };\n"
			"regions = ( { name = \"a\"; type = \"mem\"; size = 64; } );\n");
	struct mmio_client *c;
	struct mmio_lease *l;
	assert_int_equal(mmio_connect(f.socket_path, &c), 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(mmio_acquire(c, "a", (uint64_t)i * 8, 8, &l), 0);
	}
	assert_int_equal(mmio_acquire(c, "a", 32, 8, &l), -ENOSPC);
	assert_int_equal(mmio_split(l, 4, &l), -ENOSPC);

	/* A batch over the frame limit closes the connection. */
	struct mmio_op ops[400];
	for (int i = 0; i < 400; i++) {
		ops[i] = (struct mmio_op){.lease = l, .kind = MMIO_OP_LOAD, .width = 1};
	}
	assert_int_equal(mmio_batch(c, ops, 100, 0), 0);
	assert_int_equal(mmio_batch(c, ops, 400, 0), -ECONNRESET);
	mmio_disconnect(c);
	stop(&f, conf);
}

/* Only a silent client on this daemon: a prompt one must never race the short timeout. */
static void
test_service_hello_timeout(void **state)
{
	(void)state;
	struct daemon_fixture f;
	char conf[160];
	start_with_conf(&f, conf, sizeof(conf),
			"limits = { handshake_timeout_ms = 100; };\n"
			"regions = ( { name = \"a\"; type = \"mem\"; size = 64; } );\n");
	int fd = raw_connect(f.socket_path);
	assert_true(raw_wait_closed(fd));
	close(fd);
	assert_int_equal(daemon_fixture_log_count(&f, "no Hello within 100 ms"), 1);
	stop(&f, conf);
}

/*
 * systemd socket activation: mmiod serves on the listening socket it is given
 * as fd 3 (LISTEN_FDS=1, LISTEN_PID=its pid), ignores --socket, and leaves the
 * socket file to its owner when it stops.
 */
static void
test_service_socket_activation(void **state)
{
	(void)state;
	struct daemon_fixture f = {0};
	assert_int_equal(daemon_fixture_prepare(&f), 0);
	int lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	memcpy(addr.sun_path, f.socket_path, strlen(f.socket_path) + 1);
	assert_int_equal(bind(lfd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(listen(lfd, 8), 0);
	int ready[2];
	assert_int_equal(pipe2(ready, O_CLOEXEC), 0);

	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char listen_pid[16];
		snprintf(listen_pid, sizeof(listen_pid), "%d", (int)getpid());
		int log_fd = open(f.log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (log_fd < 0 || dup2(log_fd, STDERR_FILENO) < 0 || dup2(lfd, 3) < 0 ||
		    dup2(ready[1], 4) < 0 || setenv("LISTEN_FDS", "1", 1) < 0 ||
		    setenv("LISTEN_PID", listen_pid, 1) < 0) {
			_exit(126);
		}
		execl(MMIOD_PATH, MMIOD_PATH, "--foreground", "--ready-fd", "4", "--socket",
		      "/nonexistent/ignored.sock", "--region", "a,type=mem,size=64", (char *)NULL);
		_exit(127);
	}
	close(ready[1]);
	close(lfd);
	char buf[8] = "";
	assert_int_equal(read(ready[0], buf, 6), 6);
	assert_string_equal(buf, "READY\n");
	close(ready[0]);

	struct mmio_client *c;
	struct mmio_lease *l;
	assert_int_equal(mmio_connect(f.socket_path, &c), 0);
	assert_int_equal(mmio_acquire(c, "a", 0, 8, &l), 0);
	mmio_disconnect(c);
	assert_int_equal(daemon_fixture_log_count(&f, "using the socket systemd passed"), 1);

	int status;
	assert_int_equal(kill(pid, SIGTERM), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	struct stat st;
	assert_int_equal(stat(f.socket_path, &st), 0);
	daemon_fixture_cleanup(&f);
}

/* An orderly client: connect, acquire, release, disconnect. */
static void
orderly_client(const char *socket_path)
{
	struct mmio_client *c;
	struct mmio_lease *l;
	assert_int_equal(mmio_connect(socket_path, &c), 0);
	assert_int_equal(mmio_acquire(c, "a", 0, 8, &l), 0);
	assert_int_equal(mmio_release(l), 0);
	mmio_disconnect(c);
}

/* A client that leaves holding a lease: its revocation is news, at info. */
static void
leaving_client(const char *socket_path)
{
	struct mmio_client *c;
	struct mmio_lease *l;
	assert_int_equal(mmio_connect(socket_path, &c), 0);
	assert_int_equal(mmio_acquire(c, "a", 8, 8, &l), 0);
	mmio_disconnect(c);
}

/*
 * Per-connection lines are debug: an orderly client (one mmioctl call) writes
 * nothing at the default level; a lease revoked because its holder left still
 * says so. log_level in the config, and -v, bring the debug lines back.
 */
static void
test_service_log_levels(void **state)
{
	(void)state;
	struct daemon_fixture f;
	char conf[160];
	static const char regions[] =
		"regions = ( { name = \"a\"; type = \"mem\"; size = 64; } );\n";
	start_with_conf(&f, conf, sizeof(conf), regions);
	orderly_client(f.socket_path);
	leaving_client(f.socket_path);
	/* Both clients' grants were answered before the second left. */
	assert_int_equal(daemon_fixture_wait_log(&f, "disconnected, 1 lease revoked", 1, 10000), 1);
	assert_int_equal(daemon_fixture_log_count(&f, "): connected"), 0);
	assert_int_equal(daemon_fixture_log_count(&f, " granted: a "), 0);
	assert_int_equal(daemon_fixture_log_count(&f, " released"), 0);
	stop(&f, conf);

	char text[256];
	snprintf(text, sizeof(text), "log_level = \"debug\";\n%s", regions);
	start_with_conf(&f, conf, sizeof(conf), text);
	orderly_client(f.socket_path);
	leaving_client(f.socket_path);
	assert_int_equal(daemon_fixture_wait_log(&f, "disconnected, 1 lease revoked", 1, 10000), 1);
	assert_int_equal(daemon_fixture_log_count(&f, "): connected"), 2);
	assert_int_equal(daemon_fixture_log_count(&f, " granted: a "), 2);
	assert_int_equal(daemon_fixture_log_count(&f, " released"), 1);
	stop(&f, conf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_service_check_config),
		cmocka_unit_test(test_service_log_levels),
		cmocka_unit_test(test_service_drops_privileges),
		cmocka_unit_test(test_service_connection_limits),
		cmocka_unit_test(test_service_lease_and_frame_limits),
		cmocka_unit_test(test_service_hello_timeout),
		cmocka_unit_test(test_service_socket_activation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
