"""Fixtures for the mmio module's tests: a real mmiod per test module, on a temporary socket.

mmiod is $MMIOD (CTest passes the build's), else build/daemon/mmiod of this tree. Readiness is
awaited on --ready-fd (mmiod writes "READY\\n"), never by sleeping. $MMIO_TEST_DAEMON_WRAPPER
(e.g. "valgrind -q") runs mmiod under a wrapper, as the C tests do. Only the processes these
fixtures start are stopped, by their pid.
"""

import ctypes
import os
import platform
import shlex
import signal
import subprocess
import tempfile
import threading

import pytest

import mmio

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MMIOD = os.environ.get("MMIOD") or os.path.join(ROOT, "build", "daemon", "mmiod")
PR_SET_PDEATHSIG = 1


def _die_with_parent():
    # If the test process dies, so does its mmiod (as tests/helpers/daemon_fixture.c does).
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Daemon:
    """One mmiod: start(*args) runs it on dir/mmiod.sock and returns once it serves."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="mmiod-py-")
        os.chmod(self.dir, 0o755)  # clients of other uids connect too (test_errors)
        self.socket = os.path.join(self.dir, "mmiod.sock")
        self.log = os.path.join(self.dir, "mmiod.log")
        self.proc = None

    def start(self, *args):
        r, w = os.pipe()
        wrapper = shlex.split(os.environ.get("MMIO_TEST_DAEMON_WRAPPER", ""))
        argv = wrapper + [MMIOD, "--foreground", "--socket", self.socket,
                          "--ready-fd", str(w), *args]
        # Under the ASan build python3 runs with the sanitizer runtime preloaded for the
        # extension (tests/python/CMakeLists.txt); mmiod links its own.
        env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(argv, pass_fds=(w,), env=env, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=log,
                                         preexec_fn=_die_with_parent)
        os.close(w)
        got = b""
        with os.fdopen(r, "rb") as ready:
            while not got.endswith(b"\n"):
                chunk = ready.read(1)
                if not chunk:
                    break  # EOF: mmiod exited without being ready
                got += chunk
        if got != b"READY\n":
            self.proc.wait()
            raise RuntimeError("mmiod did not start (exit %s):\n%s" % (self.proc.returncode,
                                                                       self.log_text()))
        return self

    def log_text(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def stop(self):
        """SIGTERM, then the exit status (0: a clean stop)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait()
        self.proc = None
        return rc

    def cleanup(self):
        self.stop()
        subprocess.run(["rm", "-rf", self.dir], check=False)


@pytest.fixture(scope="module")
def daemon():
    """mmiod serving sim0 (64 KiB of memory), for the whole test module."""
    d = Daemon()
    try:
        d.start("--region", "sim0,type=mem,size=0x10000")
        yield d
        assert d.stop() == 0, d.log_text()
    finally:
        d.cleanup()


@pytest.fixture
def client(daemon):
    with mmio.connect(daemon.socket) as c:
        yield c


@pytest.fixture
def new_daemon():
    """Daemon objects for one test, each started by the test itself."""
    made = []

    def make():
        d = Daemon()
        made.append(d)
        return d

    yield make
    for d in made:
        d.cleanup()


# poll(2) and ppoll(2) by number, as /proc/PID/task/TID/syscall shows them.
POLL_SYSCALLS = {"x86_64": ("7", "271"), "aarch64": ("73",)}.get(platform.machine(), ())


def in_poll(tid):
    """Whether thread tid of this process is blocked in poll(2) or ppoll(2) right now."""
    try:
        with open("/proc/self/task/%d/syscall" % tid) as f:
            return f.read().split(" ", 1)[0] in POLL_SYSCALLS
    except OSError:
        return False


def start_waiter(target):
    """Starts target in a thread; returns once the thread blocks in poll (no sleeping)."""
    if not POLL_SYSCALLS:
        pytest.skip("poll's syscall number on %s is not known here" % platform.machine())
    tid = []
    t = threading.Thread(target=lambda: (tid.append(threading.get_native_id()), target()))
    t.start()
    for _ in range(10000000):
        if tid and in_poll(tid[0]):
            return t
        os.sched_yield()
    raise AssertionError("the thread never blocked in poll")


def eventually(check, rounds=100000):
    """check() until it is true. For what follows a disconnect: mmiod revokes a closed
    connection's leases when its loop sees the hangup, which a request on another connection
    may overtake. Each round is a request, so mmiod's loop turns; no sleeping."""
    for _ in range(rounds):
        if check():
            return
    raise AssertionError("never became true: %r" % check)
