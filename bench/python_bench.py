#!/usr/bin/python3
"""python_bench.py: what the mmio Python module adds over libmmio-client, in one run.

Starts its own mmiod (sim0: 64 KiB of memory) and, in this one process and on the same lease,
times a load32 loop in C (mmio._bench_c_load32: mmio_load32() calls with the GIL released) and
the same loop in Python (lease.load32), over the shared-memory ring and over the socket; and
batches of 256 and 4096 four-byte loads, built once, sent by mmio_batch() from C
(mmio._bench_c_batch) and by Lease.batch() from Python. C and Python alternate in rounds; the
medians are printed, and the overhead (or ratio) is the median of the rounds' own. Each case
runs with client and mmiod on one CPU, and spread over two.

Targets (issue 17): the binding adds at most 1 us per load32 over C, and Python batches reach
at least half of C's ops/s. Printed as PASS or MISS; the exit status is 0 either way.

usage: PYTHONPATH=build/python /usr/bin/python3 bench/python_bench.py [--quick] [--mmiod PATH]
"""

import argparse
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

import mmio

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


class Daemon:
    def __init__(self, mmiod, cpu):
        self.dir = tempfile.mkdtemp(prefix="mmiod-pybench-")
        self.socket = os.path.join(self.dir, "mmiod.sock")
        r, w = os.pipe()
        self.proc = subprocess.Popen(
            [mmiod, "--foreground", "--socket", self.socket, "--ready-fd", str(w),
             "--region", "sim0,type=mem,size=0x10000", "--log-level", "warn"],
            pass_fds=(w,), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        os.close(w)
        with os.fdopen(r, "rb") as ready:
            if ready.readline() != b"READY\n":
                self.proc.wait()
                sys.exit("python_bench: mmiod did not start (exit %s)" % self.proc.returncode)
        if cpu is not None:
            os.sched_setaffinity(self.proc.pid, {cpu})

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def paired(rounds, c_round, py_round):
    """C and Python rounds alternately; the medians of C's, of Python's, and of each round's
    Python minus C and C / Python. Paired per round, so that drift in the machine's speed
    (another VM's load, frequency) falls on both sides of a difference."""
    c, py = [], []
    for _ in range(rounds):
        c.append(c_round())
        py.append(py_round())
    med = statistics.median
    return (med(c), med(py), med(p - q for p, q in zip(py, c)),
            med(q / p for p, q in zip(py, c)))


def bench_load32(lease, n, rounds):
    load32 = lease.load32

    def c_round():
        return mmio._bench_c_load32(lease, n, 0) / n

    def py_round():
        t0 = time.perf_counter_ns()
        for _ in range(n):
            load32(0)
        return (time.perf_counter_ns() - t0) / n

    return paired(rounds, c_round, py_round)


def bench_batch(lease, nops, reps, rounds):
    span = lease.length // 4 * 4
    ops = [("load", 4, (i * 4) % span) for i in range(nops)]  # what _bench_c_batch sends

    def c_round():
        return mmio._bench_c_batch(lease, nops, reps) / (reps * nops)

    def py_round():
        batch = lease.batch
        t0 = time.perf_counter_ns()
        for _ in range(reps):
            batch(ops)
        return (time.perf_counter_ns() - t0) / (reps * nops)

    return paired(rounds, c_round, py_round)


def fmt_ns(ns, sign=""):
    if abs(ns) >= 1000:
        return ("%" + sign + ".2f us") % (ns / 1000)
    return ("%" + sign + ".0f ns") % ns


def fmt_rate(ns_per_op):
    rate = 1e9 / ns_per_op
    return "%.2f M/s" % (rate / 1e6) if rate >= 1e6 else "%.1f k/s" % (rate / 1e3)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="a smoke run: few iterations")
    ap.add_argument("--mmiod", default=os.path.join(ROOT, "build", "daemon", "mmiod"))
    args = ap.parse_args()
    n, rounds, reps = (2000, 3, 3) if args.quick else (20000, 21, 40)

    ncpu = len(os.sched_getaffinity(0))
    placements = [("one-cpu", 0, 0)]
    if ncpu >= 2:
        placements.append(("spread", 0, 1))
    print("python_bench: %d CPUs (%s), Linux %s, Python %s, libmmio-client %s" % (
        os.cpu_count(), cpu_model(), platform.release(), platform.python_version(),
        mmio.library_version))
    print("mmiod %s started per placement, region sim0: mem, 64 KiB; %d rounds, C and Python"
          " alternating: medians, and overhead/ratio as the median of each round's" % (
              args.mmiod, rounds))
    print()
    head = "%-18s %-10s %10s %12s %12s  %-14s %s" % ("case", "placement", "C", "Python",
                                                     "overhead", "target", "verdict")
    print(head)
    print("-" * len(head))
    saved = os.sched_getaffinity(0)
    try:
        for name, client_cpu, daemon_cpu in placements:
            d = Daemon(args.mmiod, daemon_cpu)
            os.sched_setaffinity(0, {client_cpu})
            try:
                with mmio.connect(d.socket) as c, c.acquire("sim0", 0, 0x4000) as lease:
                    for mode, label in (("on", "load32 ring"), ("off", "load32 socket")):
                        c.set_fast_path(mode)
                        lease.load32(0)
                        cn, pn, extra, _ = bench_load32(lease, n if mode == "on" else n // 10,
                                                        rounds)
                        print("%-18s %-10s %10s %12s %12s  %-14s %s" % (
                            label, name, fmt_ns(cn), fmt_ns(pn), fmt_ns(extra, "+"),
                            "<= +1 us/op", "PASS" if extra <= 1000 else "MISS"))
                    c.set_fast_path("auto")
                    for nops in (256, 4096):
                        cn, pn, _, ratio = bench_batch(lease, nops, max(1, reps * 256 // nops),
                                                       rounds)
                        print("%-18s %-10s %10s %12s %12s  %-14s %s" % (
                            "batch %d loads" % nops, name, fmt_rate(cn), fmt_rate(pn),
                            "%.2fx of C" % ratio, ">= 0.50x of C",
                            "PASS" if ratio >= 0.5 else "MISS"))
                    sys.stdout.flush()
            finally:
                os.sched_setaffinity(0, saved)
                d.stop()
    finally:
        os.sched_setaffinity(0, saved)
    return 0


if __name__ == "__main__":
    sys.exit(main())
