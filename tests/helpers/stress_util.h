/*
 * What the stress tests measure a running mmiod with, and how they scale:
 * /proc probes (RSS, fds, fd flags), a monotonic clock, a seeded PRNG,
 * percentiles, and the build they run in (plain, ASan, TSan, daemon under valgrind).
 */
#ifndef MMIO_TEST_STRESS_UTIL_H
#define MMIO_TEST_STRESS_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* VmRSS of pid in KiB (from /proc/pid/status), or -1. */
long proc_rss_kib(pid_t pid);

/* Number of open fds of pid (entries of /proc/pid/fd), or -1. */
int proc_fd_count(pid_t pid);

/* Fills fds (up to max) with pid's open fd numbers, sorted; returns how many, or -1. */
int proc_fd_list(pid_t pid, int *fds, int max);

/* The open flags of pid's fd (the octal "flags:" of /proc/pid/fdinfo/fd); 0 or -1. */
int proc_fd_flags(pid_t pid, int fd, unsigned long *flags);

/* Where pid's fd points (readlink of /proc/pid/fd/fd), "?" if unknown. */
void proc_fd_target(pid_t pid, int fd, char *buf, size_t cap);

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t stress_now_ns(void);

/* splitmix64: any seed is fine. */
uint64_t stress_rng_next(uint64_t *state);
/* Uniform enough in [0, n); 0 when n is 0. */
uint64_t stress_rng_below(uint64_t *state, uint64_t n);

/* The pct-th percentile (nearest rank) of v[0..n); sorts v. 0 when n is 0. */
uint64_t stress_percentile(uint64_t *v, size_t n, unsigned pct);

/* mmiod runs under $MMIO_TEST_DAEMON_WRAPPER (valgrind in tools/test.sh). */
bool stress_daemon_wrapped(void);

/* This program (and so mmiod, built alike) has AddressSanitizer or ThreadSanitizer. */
bool stress_sanitized(void);

/* "plain", "ASan", "TSan" or "wrapped" (valgrind): printed with each figure. */
const char *stress_build_name(void);

/* full in a plain, ASan or TSan build, reduced when mmiod runs under a wrapper. */
unsigned stress_count(unsigned full, unsigned reduced);

/*
 * Timing targets are printed, and asserted only when MMIO_STRESS_ASSERT_TIMING=1
 * asks for it in a plain build on a quiet machine: on a shared 2-CPU machine (CI,
 * parallel ctest) a duration measures the load, and under ASan, TSan and valgrind
 * (2-50x slower) the tool.
 */
bool stress_assert_timing(void);

/*
 * RSS targets likewise: ASan's quarantine holds freed memory back on purpose,
 * TSan's shadow memory and its per-thread history grow with every access, and
 * valgrind's RSS is mostly its own, so there the leak checkers (LSan at mmiod's
 * exit, memcheck's --leak-check) are the memory assertion instead, and under
 * TSan (no leak checker) the plain build's bounds stand for it.
 */
bool stress_assert_rss(void);

/* Prints one figure line and flushes, so it shows up in ctest's output in order. */
void stress_report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
