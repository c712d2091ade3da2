/* Hostile frames close only the offending connection; the daemon serves on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon_fixture.h"
#include "mmio/client.h"
#include "mmio_limits.h"
#include "raw_client.h"
#include "wire.h"

static int
group_setup(void **state)
{
	static const char *const regions[] = {"sim0,type=mem,size=0x1000", NULL};
	struct daemon_fixture *f = calloc(1, sizeof(*f));
	if (daemon_fixture_start(f, regions) < 0) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int
group_teardown(void **state)
{
	struct daemon_fixture *f = *state;
	if (!f) {
		return -1;
	}
	int rc = f->pid > 0 ? daemon_fixture_stop(f) : 0;
	free(f);
	return rc == 0 ? 0 : -1;
}

/* Last test: cmocka does not count a failing group teardown, so assert the clean stop here. */
static void
test_hostile_daemon_stops_cleanly(void **state)
{
	struct daemon_fixture *f = *state;
	assert_int_equal(daemon_fixture_stop(f), 0);
}

/* After every hostile act the daemon must still serve a well-behaved client. */
static void
assert_daemon_serves(const struct daemon_fixture *f)
{
	struct mmio_client *c;
	struct mmio_lease *l;
	assert_int_equal(mmio_connect(f->socket_path, &c), 0);
	assert_int_equal(mmio_acquire(c, "sim0", 0, 8, &l), 0);
	assert_int_equal(mmio_store64(l, 0, 42), 0);
	mmio_disconnect(c);
}

static int
connect_with_hello(const struct daemon_fixture *f)
{
	int fd = raw_connect(f->socket_path);
	assert_true(fd >= 0);
	assert_int_equal(raw_hello(fd, MMIO_PROTOCOL_VERSION), MMIO__STATUS__OK);
	return fd;
}

static void
test_hostile_garbage_frame_closes(void **state)
{
	struct daemon_fixture *f = *state;
	int fd = raw_connect(f->socket_path);
	static const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
	assert_int_equal(wire_send(fd, junk, sizeof(junk)), 0);
	assert_true(raw_wait_closed(fd));
	close(fd);
	assert_daemon_serves(f);
}

static void
test_hostile_truncated_frame_closes(void **state)
{
	struct daemon_fixture *f = *state;
	int fd = connect_with_hello(f);
	Mmio__Acquire acquire = MMIO__ACQUIRE__INIT;
	acquire.region = "sim0";
	acquire.offset = 0x100;
	acquire.length = 0x100;
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.id = 9;
	req.body_case = MMIO__REQUEST__BODY_ACQUIRE;
	req.acquire = &acquire;
	uint8_t buf[64];
	size_t len = mmio__request__pack(&req, buf);
	assert_int_equal(wire_send(fd, buf, len - 3), 0);
	assert_true(raw_wait_closed(fd));
	close(fd);
	assert_daemon_serves(f);
}

static void
test_hostile_oversize_frame_closes(void **state)
{
	struct daemon_fixture *f = *state;
	int fd = connect_with_hello(f);
	size_t len = MMIO_MAX_FRAME + 1;
	uint8_t *big = calloc(1, len);
	assert_int_equal(send(fd, big, len, MSG_NOSIGNAL), (ssize_t)len);
	free(big);
	assert_true(raw_wait_closed(fd));
	close(fd);
	assert_daemon_serves(f);
}

static void
test_hostile_request_without_body_closes(void **state)
{
	struct daemon_fixture *f = *state;
	int fd = connect_with_hello(f);
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.id = 5;
	assert_int_equal(raw_send(fd, &req), 0);
	assert_true(raw_wait_closed(fd));
	close(fd);
	assert_daemon_serves(f);
}

static void
test_hostile_request_before_hello_closes(void **state)
{
	struct daemon_fixture *f = *state;
	int fd = raw_connect(f->socket_path);
	Mmio__ListRegions list = MMIO__LIST_REGIONS__INIT;
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.body_case = MMIO__REQUEST__BODY_LIST_REGIONS;
	req.list_regions = &list;
	assert_int_equal(raw_send(fd, &req), 0);
	assert_true(raw_wait_closed(fd));
	close(fd);
	assert_daemon_serves(f);
}

static void
test_hostile_second_hello_closes(void **state)
{
	struct daemon_fixture *f = *state;
	int fd = connect_with_hello(f);
	assert_int_equal(raw_hello(fd, MMIO_PROTOCOL_VERSION), -1);
	close(fd);
	assert_daemon_serves(f);
}

static void
test_hostile_version_mismatch_replies_then_closes(void **state)
{
	struct daemon_fixture *f = *state;
	int fd = raw_connect(f->socket_path);
	Mmio__Hello hello = MMIO__HELLO__INIT;
	hello.version = MMIO_PROTOCOL_VERSION + 1;
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.id = 77;
	req.body_case = MMIO__REQUEST__BODY_HELLO;
	req.hello = &hello;
	assert_int_equal(raw_send(fd, &req), 0);
	Mmio__Reply *reply = raw_recv(fd);
	assert_non_null(reply);
	assert_int_equal(reply->id, 77);
	assert_int_equal(reply->status, MMIO__STATUS__VERSION_MISMATCH);
	assert_int_equal(reply->body_case, MMIO__REPLY__BODY_HELLO);
	assert_int_equal(reply->hello->version, MMIO_PROTOCOL_VERSION);
	mmio__reply__free_unpacked(reply, NULL);
	assert_true(raw_wait_closed(fd));
	close(fd);
}

static void
test_hostile_stray_fds_are_closed(void **state)
{
	struct daemon_fixture *f = *state;
	int fd = raw_connect(f->socket_path);
	int pipefd[2];
	assert_int_equal(pipe(pipefd), 0);

	Mmio__Hello hello = MMIO__HELLO__INIT;
	hello.version = MMIO_PROTOCOL_VERSION;
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.body_case = MMIO__REQUEST__BODY_HELLO;
	req.hello = &hello;
	uint8_t buf[32];
	struct iovec iov = {.iov_base = buf, .iov_len = mmio__request__pack(&req, buf)};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = control.buf,
			     .msg_controllen = sizeof(control.buf)};
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &pipefd[1], sizeof(int));
	if (raw_kernel_refuses_fds()) {
		/* mmiod had the kernel refuse them (SO_PASSRIGHTS); stress_fds tests the rest. */
		errno = 0;
		assert_int_equal(sendmsg(fd, &msg, MSG_NOSIGNAL), -1);
		assert_int_equal(errno, EPERM);
		msg.msg_control = NULL;
		msg.msg_controllen = 0;
	}
	assert_true(sendmsg(fd, &msg, MSG_NOSIGNAL) > 0);
	close(pipefd[1]);

	/* The reply comes after the daemon closed what it received. */
	Mmio__Reply *reply = raw_recv(fd);
	assert_non_null(reply);
	assert_int_equal(reply->status, MMIO__STATUS__OK);
	mmio__reply__free_unpacked(reply, NULL);
	/* Only our in-flight copy is gone too, so the read end must see EOF, not block. */
	struct pollfd pfd = {.fd = pipefd[0], .events = POLLIN};
	assert_int_equal(poll(&pfd, 1, 10000), 1);
	char c;
	assert_int_equal(read(pipefd[0], &c, 1), 0);
	close(pipefd[0]);
	close(fd);
}

static void
test_hostile_foreign_lease_id_not_found(void **state)
{
	struct daemon_fixture *f = *state;
	struct mmio_client *owner;
	struct mmio_lease *l;
	assert_int_equal(mmio_connect(f->socket_path, &owner), 0);
	assert_int_equal(mmio_acquire(owner, "sim0", 0x800, 8, &l), 0);
	assert_int_equal(mmio_store32(l, 0, 0x1234), 0);

	int fd = connect_with_hello(f);
	Mmio__Store store = MMIO__STORE__INIT;
	store.lease = mmio_lease_id(l);
	store.width = 4;
	store.value = 0xdead;
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.id = 3;
	req.body_case = MMIO__REQUEST__BODY_STORE;
	req.store = &store;
	assert_int_equal(raw_send(fd, &req), 0);
	Mmio__Reply *reply = raw_recv(fd);
	assert_non_null(reply);
	assert_int_equal(reply->id, 3);
	assert_int_equal(reply->status, MMIO__STATUS__NOT_FOUND);
	mmio__reply__free_unpacked(reply, NULL);

	Mmio__Release release = MMIO__RELEASE__INIT;
	release.lease = mmio_lease_id(l);
	req.body_case = MMIO__REQUEST__BODY_RELEASE;
	req.release = &release;
	assert_int_equal(raw_send(fd, &req), 0);
	reply = raw_recv(fd);
	assert_non_null(reply);
	assert_int_equal(reply->status, MMIO__STATUS__NOT_FOUND);
	mmio__reply__free_unpacked(reply, NULL);
	close(fd);

	uint32_t v;
	assert_int_equal(mmio_load32(l, 0, &v), 0);
	assert_int_equal(v, 0x1234);
	mmio_disconnect(owner);
}

static void
test_hostile_unknown_batch_op_and_ragged_arrays(void **state)
{
	struct daemon_fixture *f = *state;
	int fd = connect_with_hello(f);
	uint64_t leases[2] = {1, 2};
	Mmio__BatchOp ops[2] = {MMIO__BATCH_OP__BATCH_OP_LOAD, 77};
	uint32_t widths[2] = {4, 4};
	uint64_t zeros[2] = {0, 0};
	Mmio__Batch batch = MMIO__BATCH__INIT;
	batch.n_lease = 2;
	batch.lease = leases;
	batch.n_op = 2;
	batch.op = ops;
	batch.n_width = 2;
	batch.width = widths;
	batch.n_offset = 2;
	batch.offset = zeros;
	batch.n_value = 1; /* ragged */
	batch.value = zeros;
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.id = 4;
	req.body_case = MMIO__REQUEST__BODY_BATCH;
	req.batch = &batch;
	assert_int_equal(raw_send(fd, &req), 0);
	Mmio__Reply *reply = raw_recv(fd);
	assert_non_null(reply);
	assert_int_equal(reply->status, MMIO__STATUS__INVALID_ARGUMENT);
	mmio__reply__free_unpacked(reply, NULL);

	batch.n_value = 2;
	assert_int_equal(raw_send(fd, &req), 0);
	reply = raw_recv(fd);
	assert_non_null(reply);
	assert_int_equal(reply->status, MMIO__STATUS__OK);
	assert_int_equal(reply->batch->n_status, 2);
	/* Lease 1 is not ours; op 77 does not exist: neither runs. */
	assert_int_equal(reply->batch->status[0], MMIO__STATUS__NOT_FOUND);
	assert_int_equal(reply->batch->status[1], MMIO__STATUS__NOT_FOUND);
	mmio__reply__free_unpacked(reply, NULL);
	close(fd);
}

/* A client that never reads its replies must not stall anyone else. */
static void
test_hostile_non_reader_does_not_block_others(void **state)
{
	struct daemon_fixture *f = *state;
	int fd = connect_with_hello(f);
	Mmio__ListRegions list = MMIO__LIST_REGIONS__INIT;
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.body_case = MMIO__REQUEST__BODY_LIST_REGIONS;
	req.list_regions = &list;
	uint8_t buf[32];
	size_t len = mmio__request__pack(&req, buf);
	int sent = 0;
	for (; sent < 200000; sent++) {
		if (send(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
			assert_int_equal(errno, EAGAIN);
			struct pollfd pfd = {.fd = fd, .events = POLLOUT};
			/* The daemon stops reading us once our unread replies pass its cap. */
			if (poll(&pfd, 1, 1000) == 0) {
				break;
			}
		}
	}
	assert_true(sent > 0);
	assert_daemon_serves(f);
	close(fd);
	assert_daemon_serves(f);
}

/* The daemon's own detail carries no client bytes that are not printable ASCII (test_client sees
 * the library's sanitising). */
static void
test_hostile_region_name_not_echoed_raw(void **state)
{
	struct daemon_fixture *f = *state;
	int fd = connect_with_hello(f);
	Mmio__Acquire acquire = MMIO__ACQUIRE__INIT;
	acquire.region = "\xff\xfe\x1b[2J";
	acquire.length = 8;
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.id = 6;
	req.body_case = MMIO__REQUEST__BODY_ACQUIRE;
	req.acquire = &acquire;
	assert_int_equal(raw_send(fd, &req), 0);
	Mmio__Reply *reply = raw_recv(fd);
	assert_non_null(reply);
	assert_int_equal(reply->status, MMIO__STATUS__NOT_FOUND);
	assert_string_equal(reply->detail, "no region named '???[2J'");
	mmio__reply__free_unpacked(reply, NULL);
	close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hostile_garbage_frame_closes),
		cmocka_unit_test(test_hostile_truncated_frame_closes),
		cmocka_unit_test(test_hostile_oversize_frame_closes),
		cmocka_unit_test(test_hostile_request_without_body_closes),
		cmocka_unit_test(test_hostile_request_before_hello_closes),
		cmocka_unit_test(test_hostile_second_hello_closes),
		cmocka_unit_test(test_hostile_version_mismatch_replies_then_closes),
		cmocka_unit_test(test_hostile_stray_fds_are_closed),
		cmocka_unit_test(test_hostile_foreign_lease_id_not_found),
		cmocka_unit_test(test_hostile_unknown_batch_op_and_ragged_arrays),
		cmocka_unit_test(test_hostile_non_reader_does_not_block_others),
		cmocka_unit_test(test_hostile_region_name_not_echoed_raw),
		cmocka_unit_test(test_hostile_daemon_stops_cleanly),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
