/* mmio-bench: clocks, CPU placement and /proc readers. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "sys.h"

uint64_t
sys_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t
sys_thread_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int
sys_allowed_cpus(int *cpus, int max)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	if (sched_getaffinity(0, sizeof(set), &set) < 0) {
		return -errno;
	}
	int n = 0;
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (CPU_ISSET(cpu, &set)) {
			if (n < max) {
				cpus[n] = cpu;
			}
			n++;
		}
	}
	return n > 0 ? n : -ESRCH;
}

int
sys_pin(pid_t tid, int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(tid, sizeof(set), &set) < 0 ? -errno : 0;
}

/* Reads the first line of path into buf. 0 or a negative errno. */
static int
read_line(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "re");
	if (!f) {
		return -errno;
	}
	int rc = fgets(buf, (int)cap, f) ? 0 : -EIO;
	fclose(f);
	return rc;
}

/* Sum of the first field (ns on the CPU) of every thread's schedstat. */
static int
schedstat_ns(pid_t pid, uint64_t *ns)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	DIR *dir = opendir(path);
	if (!dir) {
		return -errno;
	}
	uint64_t sum = 0;
	int rc = -ENOENT;
	struct dirent *e;
	while ((e = readdir(dir))) {
		if (e->d_name[0] == '.') {
			continue;
		}
		char file[384];
		char line[128];
		snprintf(file, sizeof(file), "/proc/%d/task/%.64s/schedstat", (int)pid, e->d_name);
		/* A thread that just ended is no error; a kernel without schedstat is. */
		int r = read_line(file, line, sizeof(line));
		if (r == -ENOENT && rc == 0) {
			continue;
		}
		if (r < 0) {
			rc = r;
			break;
		}
		sum += strtoull(line, NULL, 10);
		rc = 0;
	}
	closedir(dir);
	*ns = sum;
	return rc;
}

/* utime + stime (fields 14 and 15) of /proc/PID/stat, in ns. */
static int
stat_ns(pid_t pid, uint64_t *ns)
{
	char path[64];
	char line[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int rc = read_line(path, line, sizeof(line));
	if (rc < 0) {
		return rc;
	}
	/* The command name (field 2) may hold spaces and parentheses: start after the last ')'. */
	const char *p = strrchr(line, ')');
	unsigned long long utime;
	unsigned long long stime;
	if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime,
			 &stime) != 2) {
		return -EPROTO;
	}
	long hz = sysconf(_SC_CLK_TCK);
	*ns = (utime + stime) * (1000000000ull / (unsigned long long)(hz > 0 ? hz : 100));
	return 0;
}

int
sys_cpu_ns(pid_t pid, uint64_t *ns, const char **source)
{
	if (schedstat_ns(pid, ns) == 0) {
		*source = "/proc/PID/task/*/schedstat";
		return 0;
	}
	*source = "/proc/PID/stat utime+stime";
	return stat_ns(pid, ns);
}

int
sys_minor_faults(pid_t pid, uint64_t *minflt)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f) {
		return -errno;
	}
	unsigned long long flt = 0;
	/* The command name (field 2) of an mmiod has no spaces. */
	int n = fscanf(f, "%*d %*s %*c %*d %*d %*d %*d %*d %*u %llu", &flt);
	fclose(f);
	if (n != 1) {
		return -EPROTO;
	}
	*minflt = flt;
	return 0;
}

int
sys_rss_kib(pid_t pid, uint64_t *kib)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f) {
		return -errno;
	}
	char line[256];
	int rc = -ENOENT;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long v;
		if (sscanf(line, "VmRSS: %llu kB", &v) == 1) {
			*kib = v;
			rc = 0;
			break;
		}
	}
	fclose(f);
	return rc;
}

pid_t
sys_daemon_pid(const char *path)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(addr.sun_path)) {
		return -1;
	}
	memcpy(addr.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		return -1;
	}
	struct ucred cred = {.pid = -1};
	socklen_t len = sizeof(cred);
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		cred.pid = -1;
	}
	close(fd);
	if (cred.pid <= 0) {
		return -1;
	}
	char comm_path[64];
	char comm[64];
	snprintf(comm_path, sizeof(comm_path), "/proc/%d/comm", (int)cred.pid);
	if (read_line(comm_path, comm, sizeof(comm)) < 0 || strncmp(comm, "mmiod", 5) != 0) {
		return -1;
	}
	return cred.pid;
}
