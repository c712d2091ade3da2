"""Object lifetime: leases dropped without release(), clients closed while leases exist, and
an interpreter that exits with everything still open."""

import gc
import os
import subprocess
import sys
import textwrap
import weakref

import mmio
from conftest import eventually


def live_ids(socket):
    with mmio.connect(socket) as observer:
        return {x.id for x in observer.leases()}


def test_dropped_lease_is_released(client, daemon):
    l = client.acquire("sim0", 0x6000, 4)
    lease_id = l.id
    assert lease_id in live_ids(daemon.socket)
    gone = weakref.ref(l)
    del l  # no release(): the last reference goes, and so does the lease
    assert gone() is None
    assert lease_id not in live_ids(daemon.socket)


def test_lease_in_a_garbage_cycle_is_released(client, daemon):
    class Holder:
        pass

    h = Holder()
    h.me = h
    h.lease = client.acquire("sim0", 0x6010, 4)
    lease_id = h.lease.id
    del h
    gc.collect()
    assert lease_id not in live_ids(daemon.socket)


def test_a_lease_keeps_its_client(daemon):
    before = mmio.connect(daemon.socket)
    base = before.stats().connections
    c = mmio.connect(daemon.socket)
    l = c.acquire("sim0", 0x6020, 4)
    gone = weakref.ref(c)
    del c
    assert gone() is not None  # the lease holds it
    l.store32(0, 7)
    assert l.client.stats().connections == base + 1
    del l  # the lease, then its client, go: the connection closes
    assert gone() is None
    eventually(lambda: before.stats().connections == base)
    before.close()


def test_close_with_live_leases(daemon):
    c = mmio.connect(daemon.socket)
    a = c.acquire("sim0", 0x6100, 8)
    b = a.split(4)
    ids = {a.id, b.id}
    c.close()
    assert c.closed and a.released and b.released
    eventually(lambda: not ids & live_ids(daemon.socket))
    for l in (a, b):
        try:
            l.load32(0)
        except ValueError:
            pass
        else:
            raise AssertionError("a lease of a closed client still works")
        l.release()  # released with its client: nothing to do
    assert "released" in repr(a)
    assert a.id in ids and a.region == "sim0"  # what it was is still known


def test_interpreter_exit_with_open_objects(daemon):
    """Clients, leases, a split and a subscription attempt left open at exit, one lease in a
    garbage cycle, and a daemon thread still loading when the interpreter shuts down."""
    script = textwrap.dedent("""
        import sys, threading, mmio
        c = mmio.connect(sys.argv[1])
        other = mmio.connect(sys.argv[1])
        a = c.acquire("sim0", 0x7000, 0x10)
        low = a.split(4)
        b = other.acquire("sim0", 0x7010, 4)
        class Cycle: pass
        cyc = Cycle(); cyc.me = cyc; cyc.lease = other.acquire("sim0", 0x7020, 4)
        spinning = mmio.connect(sys.argv[1]).acquire("sim0", 0x7030, 4)
        ready = threading.Event()
        def spin():
            ready.set()
            while True:
                spinning.load32(0)
        threading.Thread(target=spin, daemon=True).start()
        ready.wait()
        closed = mmio.connect(sys.argv[1])
        dead = closed.acquire("sim0", 0x7040, 4)
        closed.close()
        print("exiting", flush=True)
        """)
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(mmio.__file__)))
    for _ in range(3):
        r = subprocess.run([sys.executable, "-c", script, daemon.socket], env=env,
                           capture_output=True, text=True, timeout=60)
        assert (r.returncode, r.stdout, r.stderr) == (0, "exiting\n", "")
    # Every connection of those processes is gone, and with it every lease.
    with mmio.connect(daemon.socket) as observer:
        eventually(lambda: all(not (0x7000 <= x.start < 0x7100) for x in observer.leases()))
