#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "stress_util.h"

long
proc_rss_kib(pid_t pid)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f) {
		return -1;
	}
	long kib = -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1) {
			break;
		}
	}
	fclose(f);
	return kib;
}

static int
cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

int
proc_fd_list(pid_t pid, int *fds, int max)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	DIR *d = opendir(path);
	if (!d) {
		return -1;
	}
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.') {
			continue;
		}
		if (fds && n < max) {
			fds[n] = atoi(e->d_name);
		}
		n++;
	}
	closedir(d);
	if (fds) {
		qsort(fds, (size_t)(n < max ? n : max), sizeof(int), cmp_int);
	}
	return n;
}

int
proc_fd_count(pid_t pid)
{
	return proc_fd_list(pid, NULL, 0);
}

int
proc_fd_flags(pid_t pid, int fd, unsigned long *flags)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", (int)pid, fd);
	FILE *f = fopen(path, "r");
	if (!f) {
		return -1;
	}
	int rc = -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "flags: %lo", flags) == 1) {
			rc = 0;
			break;
		}
	}
	fclose(f);
	return rc;
}

void
proc_fd_target(pid_t pid, int fd, char *buf, size_t cap)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)pid, fd);
	ssize_t n = readlink(path, buf, cap - 1);
	if (n < 0) {
		snprintf(buf, cap, "?");
		return;
	}
	buf[n] = '\0';
}

uint64_t
stress_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t
stress_rng_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint64_t
stress_rng_below(uint64_t *state, uint64_t n)
{
	return n ? stress_rng_next(state) % n : 0;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

uint64_t
stress_percentile(uint64_t *v, size_t n, unsigned pct)
{
	if (n == 0) {
		return 0;
	}
	qsort(v, n, sizeof(*v), cmp_u64);
	/* Nearest rank: the smallest value with at least pct% of the samples at or below it. */
	size_t rank = (n * pct + 99) / 100;
	return v[rank ? rank - 1 : 0];
}

bool
stress_daemon_wrapped(void)
{
	const char *w = getenv("MMIO_TEST_DAEMON_WRAPPER");
	return w && w[0];
}

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define STRESS_ASAN 1
#endif
#if __has_feature(thread_sanitizer)
#define STRESS_TSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define STRESS_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__)
#define STRESS_TSAN 1
#endif

bool
stress_sanitized(void)
{
#if defined(STRESS_ASAN) || defined(STRESS_TSAN)
	return true;
#else
	return false;
#endif
}

const char *
stress_build_name(void)
{
	if (stress_daemon_wrapped()) {
		return "wrapped";
	}
#if defined(STRESS_TSAN)
	return "TSan";
#elif defined(STRESS_ASAN)
	return "ASan";
#else
	return "plain";
#endif
}

unsigned
stress_count(unsigned full, unsigned reduced)
{
	return stress_daemon_wrapped() ? reduced : full;
}

bool
stress_assert_timing(void)
{
	/* A duration on a shared 2-CPU machine measures its load: only on a quiet one, asked for.
	 */
	const char *quiet = getenv("MMIO_STRESS_ASSERT_TIMING");
	return quiet && strcmp(quiet, "1") == 0 && !stress_daemon_wrapped() && !stress_sanitized();
}

bool
stress_assert_rss(void)
{
	return !stress_daemon_wrapped() && !stress_sanitized();
}

void
stress_report(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}
