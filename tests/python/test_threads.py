"""A Client shared between threads; every blocking call releases the GIL."""

import os
import struct
import threading

import pytest

import mmio
from conftest import eventually


def run_threads(n, target):
    errors = []

    def run(i):
        try:
            target(i)
        except BaseException as e:  # reported by the test, not lost in the thread
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_gil_released_during_poll(new_daemon, tmp_path):
    """A thread polls in mmiod for a value that only this thread writes, meanwhile, into the
    file behind the region. Were the GIL held during the poll, the write would wait for it,
    and the poll would time out."""
    path = tmp_path / "regs.bin"
    path.write_bytes(bytes(0x1000))
    d = new_daemon().start("--region", "dev,type=file,path=%s,size=0x1000" % path)
    with mmio.connect(d.socket) as c, c.acquire("dev", 0x10, 4) as l:
        result = []
        t = threading.Thread(target=lambda: result.append(
            l.poll32(0, 0xFF, 0x5A, timeout_ms=60000, interval_us=50)))
        t.start()
        fd = os.open(path, os.O_WRONLY)
        try:
            assert os.pwrite(fd, struct.pack("=I", 0x125A), 0x10) == 4
        finally:
            os.close(fd)
        t.join()
        assert result == [0x125A]


def test_shared_client_many_threads(client):
    def work(i):
        with client.acquire("sim0", 0x3000 + i * 0x100, 0x100) as l:
            for k in range(200):
                l.store32(4 * (k % 64), i * 1000 + k)
                assert l.load32(4 * (k % 64)) == i * 1000 + k
            assert l.batch([("load", 4, 0), ("store", 4, 4, i), ("load", 4, 4)])[2] == i
            low = l.split(0x10)
            low.store64(0, i)
            assert low.load64(0) == i
            low.release()
            assert client.stats().leases >= 1

    run_threads(8, work)
    assert [x for x in client.leases() if x.start >= 0x3000 and x.start < 0x3800] == []


def test_release_while_threads_use_the_lease(client):
    l = client.acquire("sim0", 0x4000, 4)
    started = threading.Barrier(5)

    def hammer(i):
        started.wait()
        while True:
            try:
                l.load32(0)
            except ValueError:
                return  # released: the only way out

    threads = [threading.Thread(target=hammer, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    started.wait()
    l.release()  # waits for the loads in flight, then releases
    for t in threads:
        t.join()
    assert l.released
    assert all(x.start != 0x4000 for x in client.leases())


def test_close_while_threads_use_leases(daemon):
    c = mmio.connect(daemon.socket)
    leases = [c.acquire("sim0", 0x5000 + 4 * i, 4) for i in range(4)]
    started = threading.Barrier(5)
    outcomes = []

    def hammer(i):
        started.wait()
        try:
            while True:
                leases[i].store32(0, i)
        except ValueError as e:
            outcomes.append(str(e))

    threads = [threading.Thread(target=hammer, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    started.wait()
    c.close()
    for t in threads:
        t.join()
    assert len(outcomes) == 4
    assert all(l.released for l in leases)
    with mmio.connect(daemon.socket) as observer:
        eventually(lambda: all(not (0x5000 <= x.start < 0x5010) for x in observer.leases()))
