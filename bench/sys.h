/* mmio-bench: clocks, CPU placement and what /proc says about another process. */
#ifndef BENCH_SYS_H
#define BENCH_SYS_H

#include <stdint.h>
#include <sys/types.h>

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t sys_now_ns(void);

/* CPU time of the calling thread (CLOCK_THREAD_CPUTIME_ID) in nanoseconds. */
uint64_t sys_thread_cpu_ns(void);

/*
 * The CPUs this process may run on, in order: stores up to max of them in
 * cpus and returns how many there are in all (>= 1), or a negative errno.
 */
int sys_allowed_cpus(int *cpus, int max);

/* Pins thread or process tid (0: the calling thread) to cpu. 0 or a negative errno. */
int sys_pin(pid_t tid, int cpu);

/*
 * CPU time pid has used so far in nanoseconds, summed over its threads: from
 * /proc/PID/task/TID/schedstat (ns resolution) where the kernel has it, else
 * utime + stime of /proc/PID/stat (clock ticks). *source names the file used.
 * 0 or a negative errno.
 */
int sys_cpu_ns(pid_t pid, uint64_t *ns, const char **source);

/*
 * pid's minor page faults so far (/proc/PID/stat): memory it maps or grows (brk, mmap) faults
 * when first touched. (No /proc file counts its system calls: /proc/PID/io leaves out
 * recvmsg and sendmsg; use strace -c.) 0 or a negative errno.
 */
int sys_minor_faults(pid_t pid, uint64_t *minflt);

/* VmRSS of pid in KiB. 0 or a negative errno. */
int sys_rss_kib(pid_t pid, uint64_t *kib);

/*
 * The pid of the process that listens on the AF_UNIX socket at path, taken
 * with SO_PEERCRED from a connection that is closed at once, if its command
 * name starts with "mmiod" (a socket systemd created reports pid 1); else -1.
 */
pid_t sys_daemon_pid(const char *path);

#endif
