/* mmio-bench baselines: in-process volatile accesses, and a raw AF_UNIX ping-pong. */
#ifndef BENCH_PINGPONG_H
#define BENCH_PINGPONG_H

#include <stddef.h>
#include <stdint.h>

#include "stats.h"

/*
 * Bytes each way of one ping-pong round trip. libmmio-client's load32
 * exchange is smaller (an 8-byte request and a 6-byte reply while lease ids
 * and offsets are small, seen with strace); 24 bytes is the reference
 * size and bounds a single access of any width with large ids and offsets.
 */
#define PINGPONG_MSG_SIZE 24

/*
 * Times blocks of 1024 volatile 32-bit loads (store != 0: stores) of one
 * in-process word, blocks times after a warm-up, and adds the mean per access
 * of each block to out. 0 or -ENOMEM.
 */
int pingpong_volatile(int store, size_t blocks, struct samples *out, double *elapsed_ns);

/* What one ping-pong run measured besides its samples. */
struct pingpong_result {
	double elapsed_ns;      /* of the timed round trips */
	uint64_t client_cpu_ns; /* of the calling thread, meanwhile */
	uint64_t server_cpu_ns; /* of the server process, meanwhile; 0 if /proc does not say */
};

/*
 * Forks a server process (pinned to server_cpu unless it is -1) that answers
 * every PINGPONG_MSG_SIZE-byte SOCK_SEQPACKET packet with one of the same size,
 * as mmiod answers a request, then times warmup + iters round trips from the
 * calling thread and adds the last iters to out. The server ends when the
 * socket closes. 0 or a negative errno.
 */
int pingpong_run(int server_cpu, size_t warmup, size_t iters, struct samples *out,
		 struct pingpong_result *res);

/*
 * The shared-memory floor of mmiod's fast path: a forked process (pinned to
 * server_cpu unless -1) answers each request word written into a shared page
 * by writing it back into another cache line. Both sides wait as mmiod and
 * libmmio-client do on a busy ring: spinning, yielding the CPU each time round.
 * Times warmup + iters round trips like pingpong_run. 0 or a negative errno.
 */
int pingpong_shm_run(int server_cpu, size_t warmup, size_t iters, struct samples *out,
		     struct pingpong_result *res);

#endif
