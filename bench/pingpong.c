/* mmio-bench baselines: in-process volatile accesses, a raw AF_UNIX ping-pong and a shared-memory
 * one. */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pingpong.h"
#include "sys.h"

#define VOLATILE_BLOCK 1024

/* Page-aligned like a register block; only word 0 is touched. */
static volatile uint32_t device_word[1024] __attribute__((aligned(4096)));

/* One block of volatile accesses; the compiler must emit every one. */
static void
volatile_block(int store)
{
	if (store) {
		for (uint32_t i = 0; i < VOLATILE_BLOCK; i++) {
			device_word[0] = i;
		}
	} else {
		for (uint32_t i = 0; i < VOLATILE_BLOCK; i++) {
			(void)device_word[0];
		}
	}
}

int
pingpong_volatile(int store, size_t blocks, struct samples *out, double *elapsed_ns)
{
	for (size_t i = 0; i < blocks / 10 + 1; i++) {
		volatile_block(store);
	}
	uint64_t start = sys_now_ns();
	for (size_t i = 0; i < blocks; i++) {
		uint64_t t0 = sys_now_ns();
		volatile_block(store);
		uint64_t t1 = sys_now_ns();
		int rc = samples_add(out, (double)(t1 - t0) / VOLATILE_BLOCK);
		if (rc < 0) {
			return rc;
		}
	}
	*elapsed_ns = (double)(sys_now_ns() - start);
	return 0;
}

/*
 * Both sides use sendmsg/recvmsg with the flags and the control buffer
 * proto/wire.c uses, so the baseline pays for what mmiod's transport pays for.
 */
static ssize_t
send_packet(int fd, const void *buf, size_t len)
{
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
	ssize_t n;
	do {
		n = sendmsg(fd, &msg, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

static ssize_t
recv_packet(int fd, void *buf, size_t cap)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * 4)];
		struct cmsghdr align;
	} control;
	struct iovec iov = {.iov_base = buf, .iov_len = cap};
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	ssize_t n;
	do {
		n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n >= 0 && (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		return -EMSGSIZE;
	}
	return n < 0 ? -errno : n;
}

/* As big as mmiod's and the library's receive buffers (MMIO_MAX_FRAME). */
static unsigned char server_buf[128 * 1024];

static void
serve(int fd, int cpu)
{
	if (cpu >= 0 && sys_pin(0, cpu) < 0) {
		_exit(3);
	}
	for (;;) {
		ssize_t n = recv_packet(fd, server_buf, sizeof(server_buf));
		if (n == 0) {
			_exit(0);
		}
		if (n != PINGPONG_MSG_SIZE ||
		    send_packet(fd, server_buf, PINGPONG_MSG_SIZE) != PINGPONG_MSG_SIZE) {
			_exit(4);
		}
	}
}

/* CPU time of pid so far, 0 if unknown. */
static uint64_t
cpu_of(pid_t pid)
{
	uint64_t ns;
	const char *source;
	return sys_cpu_ns(pid, &ns, &source) == 0 ? ns : 0;
}

int
pingpong_run(int server_cpu, size_t warmup, size_t iters, struct samples *out,
	     struct pingpong_result *res)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		return -errno;
	}
	pid_t pid = fork();
	if (pid < 0) {
		int err = -errno;
		close(sv[0]);
		close(sv[1]);
		return err;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(sv[0]);
		serve(sv[1], server_cpu);
	}
	close(sv[1]);

	unsigned char msg[PINGPONG_MSG_SIZE];
	static unsigned char reply[128 * 1024];
	memset(msg, 0x5a, sizeof(msg));
	int rc = 0;
	uint64_t start = 0;
	uint64_t cpu0 = 0;
	for (size_t i = 0; i < warmup + iters && rc == 0; i++) {
		if (i == warmup) {
			cpu0 = cpu_of(pid);
			res->client_cpu_ns = sys_thread_cpu_ns();
			start = sys_now_ns();
		}
		uint64_t t0 = sys_now_ns();
		ssize_t n = send_packet(sv[0], msg, sizeof(msg));
		if (n == (ssize_t)sizeof(msg)) {
			n = recv_packet(sv[0], reply, sizeof(reply));
		}
		uint64_t t1 = sys_now_ns();
		if (n != PINGPONG_MSG_SIZE) {
			rc = n < 0 ? (int)n : -EPROTO;
		} else if (i >= warmup) {
			rc = samples_add(out, (double)(t1 - t0));
		}
	}
	res->elapsed_ns = (double)(sys_now_ns() - start);
	res->client_cpu_ns = sys_thread_cpu_ns() - res->client_cpu_ns;
	uint64_t cpu1 = cpu_of(pid);
	res->server_cpu_ns = cpu0 && cpu1 > cpu0 ? cpu1 - cpu0 : 0;
	close(sv[0]);
	int status = 0;
	pid_t w;
	while ((w = waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
	}
	if (rc == 0 && !(w == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
		rc = -ECHILD;
	}
	return rc;
}

/* The two words of the shared-memory ping-pong, on separate cache lines as in a ring. */
struct shm_words {
	uint32_t request;
	uint8_t pad[60];
	uint32_t reply;
};

/* Request value that ends the server. */
#define SHM_STOP UINT32_MAX

static void
shm_serve(struct shm_words *w, int cpu)
{
	if (cpu >= 0 && sys_pin(0, cpu) < 0) {
		_exit(3);
	}
	uint32_t seen = 0;
	for (;;) {
		uint32_t req;
		while ((req = __atomic_load_n(&w->request, __ATOMIC_ACQUIRE)) == seen) {
			sched_yield();
		}
		if (req == SHM_STOP) {
			_exit(0);
		}
		seen = req;
		__atomic_store_n(&w->reply, req, __ATOMIC_RELEASE);
	}
}

int
pingpong_shm_run(int server_cpu, size_t warmup, size_t iters, struct samples *out,
		 struct pingpong_result *res)
{
	struct shm_words *w =
		mmap(NULL, sizeof(*w), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (w == MAP_FAILED) {
		return -errno;
	}
	pid_t pid = fork();
	if (pid < 0) {
		int err = -errno;
		munmap(w, sizeof(*w));
		return err;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		shm_serve(w, server_cpu);
	}
	int rc = 0;
	uint64_t start = 0;
	uint64_t cpu0 = 0;
	for (size_t i = 0; i < warmup + iters && rc == 0; i++) {
		if (i == warmup) {
			cpu0 = cpu_of(pid);
			res->client_cpu_ns = sys_thread_cpu_ns();
			start = sys_now_ns();
		}
		uint32_t req = (uint32_t)(i % (SHM_STOP - 1)) + 1;
		uint64_t t0 = sys_now_ns();
		__atomic_store_n(&w->request, req, __ATOMIC_RELEASE);
		while (__atomic_load_n(&w->reply, __ATOMIC_ACQUIRE) != req) {
			sched_yield();
		}
		uint64_t t1 = sys_now_ns();
		if (i >= warmup) {
			rc = samples_add(out, (double)(t1 - t0));
		}
	}
	res->elapsed_ns = (double)(sys_now_ns() - start);
	res->client_cpu_ns = sys_thread_cpu_ns() - res->client_cpu_ns;
	uint64_t cpu1 = cpu_of(pid);
	res->server_cpu_ns = cpu0 && cpu1 > cpu0 ? cpu1 - cpu0 : 0;
	__atomic_store_n(&w->request, SHM_STOP, __ATOMIC_RELEASE);
	int status = 0;
	pid_t got;
	while ((got = waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
	}
	munmap(w, sizeof(*w));
	if (rc == 0 && !(got == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
		rc = -ECHILD;
	}
	return rc;
}
