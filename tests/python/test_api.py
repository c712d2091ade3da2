"""Every method of Client and Lease against a real mmiod (sim0: 64 KiB of memory)."""

import os
import pathlib
import struct

import pytest

import mmio


def test_issue_example(daemon, monkeypatch):
    # The usage of issue 17, verbatim but for the socket, which comes from $MMIOD_SOCKET.
    monkeypatch.setenv("MMIOD_SOCKET", daemon.socket)
    with mmio.connect() as c:
        print(c.regions())
        with c.acquire("sim0", 0x100, 16) as regs:
            regs.store32(0x0, 0xDEADBEEF)
            assert regs.load32(0x0) == 0xDEADBEEF
            low = regs.split(4)
            old = regs.modify32(0x4, mask=0xFF, value=0x12)
            vals = regs.batch([("load", 4, 0x4), ("store", 2, 0x8, 7), ("barrier",)])
            data = regs.read_block(0x4, 8)
        assert regs.released
        assert not low.released  # split off, so not released with regs
        assert low.load32(0) == 0xDEADBEEF
        low.release()
    assert c.closed
    assert old == 0
    assert vals == [0x12, None, None]
    assert data == struct.pack("<II", 0x12, 7)


def test_regions(client):
    (r,) = client.regions()
    assert (r.name, r.type, r.size, r.access, r.address, r.faults) == ("sim0", "mem", 0x10000,
                                                                      "rw", 0, 0)
    assert [tuple(g) for g in r.grants] == [(0, 0x10000, "rw")]
    assert isinstance(r.grants[0], mmio.Grant)
    assert isinstance(r, mmio.Region) and r[0] == "sim0"


def test_connect_path_forms(daemon):
    for path in (daemon.socket, pathlib.Path(daemon.socket), os.fsencode(daemon.socket)):
        with mmio.Client(path) as c:
            assert c.path == path
            assert not c.closed
            assert "mmio.Client" in repr(c)
    assert "closed" in repr(c)


def test_loads_and_stores_every_width(client):
    with client.acquire("sim0", 0x200, 0x40) as l:
        for bits in (8, 16, 32, 64):
            top = (1 << bits) - 1
            getattr(l, "store%d" % bits)(0x10, top)
            assert getattr(l, "load%d" % bits)(0x10) == top
            getattr(l, "store%d" % bits)(0x10, 0)
            assert getattr(l, "load%d" % bits)(0x10) == 0
        for width in (1, 2, 4, 8):
            l.store(0x20, width, 0x5A)
            assert l.load(0x20, width) == 0x5A
        l.store64(0x0, 0x1122334455667788)
        assert l.load8(0x0) == 0x88 and l.load16(0x2) == 0x5566 and l.load32(0x4) == 0x11223344


def test_modify_every_width(client):
    with client.acquire("sim0", 0x300, 0x10) as l:
        for bits in (8, 16, 32, 64):
            modify = getattr(l, "modify%d" % bits)
            l.store64(0x8, 0)
            assert modify(0x8, 0x0F, 0xFF) == 0
            assert modify(0x8, mask=0xF0, value=0x30) == 0x0F
            assert getattr(l, "load%d" % bits)(0x8) == 0x3F
        assert l.modify(0x8, 4, 0xFF, 0) == 0x3F
        assert l.load32(0x8) == 0


def test_poll_every_width(client):
    with client.acquire("sim0", 0x400, 0x10) as l:
        l.store64(0, 0x8000000000000081)
        for bits in (8, 16, 32, 64):
            poll = getattr(l, "poll%d" % bits)
            assert poll(0, 0x1, 0x1) & 1 == 1
            assert poll(0, mask=0x81, value=0x81, timeout_ms=10, interval_us=50) & 0x81 == 0x81
        assert l.poll(0, 8, 1 << 63, 1 << 63, timeout_ms=0) == 0x8000000000000081
        with pytest.raises(mmio.Timeout) as e:
            l.poll32(0, 0x2, 0x2, timeout_ms=1)
        assert e.value.last == 0x81
        assert e.value.status == "TIMEOUT"


def test_blocks(client):
    with client.acquire("sim0", 0x500, 0x40) as l:
        l.write_block(0, bytes(range(16)))
        assert l.read_block(0, 16) == bytes(range(16))
        assert l.read_block(2, 4, width=1) == bytes(range(2, 6))
        l.write_block(0x10, [1, 2, 3], width=2)
        assert l.read_block(0x10, 6, 2) == struct.pack("=HHH", 1, 2, 3)
        l.write_block(0x20, memoryview(struct.pack("=Q", 0xAABBCCDD11223344)), width=8)
        assert l.load64(0x20) == 0xAABBCCDD11223344
        # A FIFO register: every access at the same offset.
        l.write_block(0x30, [7, 8, 9], width=4, repeat=True)
        assert l.load32(0x30) == 9
        assert memoryview(l.read_block(0x30, 12, repeat=True)).cast("I").tolist() == [9, 9, 9]
        with pytest.raises(mmio.OutOfRange):
            l.read_block(0x3C, 8)


def test_batch(client):
    with client.acquire("sim0", 0x600, 0x20) as l:
        assert l.batch([]) == []
        res = l.batch([("store", 4, 0, 0xAB), ("load", 4, 0), ("barrier",), ("load", 1, 0)])
        assert res == [None, 0xAB, None, 0xAB]
        # A failure: the first failed op's exception, with every op's outcome.
        with pytest.raises(mmio.OutOfRange) as e:
            l.batch([("load", 4, 0), ("load", 4, 0x40), ("load", 4, 4)])
        assert e.value.index == 1
        assert e.value.results[0] == 0xAB and e.value.results[2] == 0
        assert isinstance(e.value.results[1], mmio.OutOfRange)
        with pytest.raises(mmio.Unaligned) as e:
            l.batch([("store", 4, 8, 1), ("load", 4, 2), ("store", 4, 8, 2)], stop_on_error=True)
        assert e.value.results[0] is None
        assert isinstance(e.value.results[2], mmio.Cancelled)
        assert l.load32(8) == 1
        # all_or_nothing: nothing runs if one op would fail.
        with pytest.raises(mmio.OutOfRange) as e:
            l.batch([("store", 4, 8, 5), ("load", 4, 0x40)], all_or_nothing=True)
        assert isinstance(e.value.results[0], mmio.Cancelled)
        assert l.load32(8) == 1


def test_client_batch_over_leases(client):
    with client.acquire("sim0", 0x700, 8) as a, client.acquire("sim0", 0x708, 8) as b:
        assert client.batch([(a, "store", 4, 0, 1), (b, "store", 4, 0, 2), (a, "load", 4, 0),
                             (b, "load", 4, 0), (b, "barrier")]) == [None, None, 1, 2, None]
        with mmio.connect(client.path) as other, other.acquire("sim0", 0x710, 8) as c:
            with pytest.raises(ValueError, match="another client"):
                client.batch([(a, "load", 4, 0), (c, "load", 4, 0)])


def test_split_and_lease_attributes(client):
    l = client.acquire("sim0", 0x800, 0x20)
    assert (l.region, l.start, l.length, l.access, l.released) == ("sim0", 0x800, 0x20, "rw",
                                                                   False)
    assert l.client is client
    low = l.split(0x8)
    assert (low.start, low.length, l.start, l.length) == (0x800, 8, 0x808, 0x18)
    assert low.id != l.id
    l.store32(0, 0x1234)  # offset 0 of l is now region offset 0x808
    with l as same:
        assert same.load32(0) == 0x1234
    assert l.released and "released" in repr(l)
    with pytest.raises(mmio.OutOfRange):
        low.split(9)
    empty = low.split(0)
    assert empty.length == 0
    empty.barrier()  # needs no bounds
    with pytest.raises(mmio.OutOfRange):
        empty.load8(0)
    low.release()
    low.release()  # twice: nothing
    empty.release()


def test_leases_stats_revoke(client, daemon):
    with client.acquire("sim0", 0x900, 0x10) as l:
        infos = {i.id: i for i in client.leases()}
        info = infos[l.id]
        assert (info.region, info.start, info.length, info.pid, info.uid, info.access) == (
            "sim0", 0x900, 0x10, os.getpid(), os.getuid(), "rw")
        s = client.stats()
        assert s.connections >= 1 and s.leases >= 1 and s.requests > 0 and s.uptime_ms >= 0
        assert [r.name for r in s.regions] == ["sim0"] and s.regions[0].leases >= 1
        assert isinstance(s, mmio.Stats) and isinstance(s.regions[0], mmio.RegionStats)
        if os.getuid() == 0:  # root is an admin
            with mmio.connect(daemon.socket) as admin:
                admin.revoke(l.id)
            with pytest.raises(mmio.Revoked):
                l.load32(0)
            with pytest.raises(mmio.Revoked):
                l.release()  # mmiod had revoked it; the handle is gone all the same
            assert l.released


def test_fast_path(client):
    with client.acquire("sim0", 0xA00, 4) as l:
        client.set_fast_path("off")
        l.store32(0, 1)
        assert not client.fast_path_active()
        client.set_fast_path("on")
        assert client.fast_path_active()
        l.store32(0, 2)
        assert l.load32(0) == 2
        # Posted stores: in order with the load after them; a failure comes with sync.
        l.set_posted(True)
        l.store32(0, 3)
        assert l.load32(0) == 3
        l.store32(4, 1)  # past the lease: raised later
        with pytest.raises(mmio.OutOfRange, match="posted 4-byte store at offset 0x4"):
            l.sync()
        l.sync()
        l.set_posted(False)
        client.set_fast_path("auto")
        with pytest.raises(ValueError):
            client.set_fast_path("fast")
        with pytest.raises(TypeError):
            client.set_fast_path(1)


def test_module_attributes():
    assert mmio.DEFAULT_SOCKET_PATH == "/run/mmiod/mmiod.sock"
    assert mmio.MAX_OPS == 4096
    assert mmio.__version__ == mmio.library_version
    assert all(part.isdigit() for part in mmio.__version__.split("."))
    for name in mmio.__all__:
        assert getattr(mmio, name).__doc__, name
    # help() shows a signature and what each access raises.
    assert "OutOfRange" in mmio.Lease.load32.__doc__
    assert mmio.Lease.load32.__text_signature__ == "($self, offset, /)"


def test_type_stub_lists_the_module():
    # mmio/__init__.pyi names everything the module exports.
    stub = pathlib.Path(mmio.__file__).with_suffix(".pyi").read_text()
    for name in mmio.__all__:
        assert ("class %s" % name in stub or "def %s" % name in stub or
                "%s:" % name in stub), name
    for cls in (mmio.Client, mmio.Lease, mmio.Irq, mmio.Trace):
        for attr in dir(cls):
            if not attr.startswith("_"):
                assert "def %s(" % attr in stub, "%s.%s" % (cls.__name__, attr)
