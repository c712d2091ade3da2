"""Client.trace: a region's accesses as TraceRecords, and Client.stats' per-lease and
per-region figures. Records are awaited on the trace's fd (select's timeout is a safety net)."""

import os
import select
import subprocess
import sys
import textwrap

import pytest

import mmio

RECORD_TIMEOUT_S = 60


def next_record(trace):
    assert select.select([trace], [], [], RECORD_TIMEOUT_S)[0] == [trace], "no record came"
    return next(trace)


def test_trace_a_store_and_a_load(daemon):
    with mmio.connect(daemon.socket) as admin, mmio.connect(daemon.socket) as other:
        with admin.trace("sim0") as trace:
            assert trace.region == "sim0" and not trace.closed
            assert "mmio.Trace" in repr(trace)
            with other.acquire("sim0", 0x6000, 16) as lease:
                lease.store16(0x4, 0xBEEF)
                assert lease.load32(0x4) == 0xBEEF
                with pytest.raises(mmio.OutOfRange):
                    lease.load8(0x10)  # refused before the region: not traced
                store = next_record(trace)
                load = next_record(trace)
        assert trace.closed
    for rec, op, width, value in ((store, "store", 2, 0xBEEF), (load, "load", 4, 0xBEEF)):
        assert isinstance(rec, mmio.TraceRecord)
        assert (rec.op, rec.width, rec.offset, rec.value, rec.status) == (op, width, 0x6004,
                                                                         value, "OK")
        assert (rec.lease, rec.uid, rec.pid) == (lease.id, os.getuid(), os.getpid())
        assert rec.register is None  # sim0 has no register map
        assert rec.dropped == 0 and rec.time_ns > 0
    assert store.mask == 0xFFFF and load.mask == 0xFFFFFFFF
    assert store.time_ns <= load.time_ns and store.conn == load.conn


def test_trace_ends_with_its_client(daemon):
    admin = mmio.connect(daemon.socket)
    trace = admin.trace("sim0")
    admin.close()  # mmiod ends the trace: the pipe reads EOF
    assert select.select([trace], [], [], RECORD_TIMEOUT_S)[0] == [trace]
    assert list(trace) == []
    trace.close()
    trace.close()
    with pytest.raises(ValueError, match="closed"):
        trace.fileno()
    with pytest.raises(ValueError, match="closed"):
        next(trace)


def test_trace_errors(client):
    with pytest.raises(mmio.NotFound):
        client.trace("nosuch")
    with pytest.raises(TypeError):
        client.trace(7)
    client.close()
    with pytest.raises(ValueError, match="closed"):
        client.trace("sim0")


@pytest.mark.skipif(os.getuid() != 0, reason="a client of another uid needs root to start it")
def test_trace_is_for_admins(new_daemon):
    # nobody may lease sim0, and trace nothing: whether or not the region exists.
    d = new_daemon()
    conf = os.path.join(d.dir, "mmiod.conf")
    with open(conf, "w") as f:
        f.write('socket = { mode = "0666"; };\n'
                'regions = ( { name = "sim0"; type = "mem"; size = 0x1000;\n'
                '              grants = ( { user = 65534; access = "rw"; } ); } );\n')
    d.start("--config", conf)
    script = textwrap.dedent("""
        import sys, mmio
        with mmio.connect(sys.argv[1]) as c:
            for region in ("sim0", "nosuch"):
                try:
                    c.trace(region)
                except mmio.PermissionDenied:
                    pass
                else:
                    sys.exit("traced " + region)
        print("ok")
        """)
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(mmio.__file__)))
    r = subprocess.run([sys.executable, "-c", script, d.socket], user=65534, group=65534,
                       extra_groups=[], env=env, capture_output=True, text=True, timeout=60)
    assert (r.returncode, r.stdout, r.stderr) == (0, "ok\n", "")
    assert d.stop() == 0, d.log_text()


def test_stats_per_lease_and_per_region(new_daemon):
    # A daemon of its own: sim0's region figures count this test's accesses only.
    d = new_daemon().start("--region", "sim0,type=mem,size=0x1000",
                           "--region", "dev1,type=mem,size=0x1000")
    with mmio.connect(d.socket) as c:
        c.set_fast_path("off")  # every request through the socket, which the histogram times
        with c.acquire("sim0", 0x40, 0x40) as lease:
            for _ in range(3):
                lease.load32(0)
            lease.store32(0, 1)
            lease.store32(4, 2)
            assert lease.modify32(0, 0xF0, 0x30) == 1
            with pytest.raises(mmio.OutOfRange):
                lease.load32(0x40)
            lease.write_block(0x10, [1, 2, 3, 4], 4)
            lease.poll32(0, 0xFF, 0x31)
            s = c.stats()
        assert len(s) == 7  # the figures are attributes, after the tuple's items
        assert s.lease_stats_more is False
        (mine,) = s.lease_stats
        assert isinstance(mine, mmio.LeaseStats)
        assert (mine.id, mine.region, mine.uid, mine.pid) == (lease.id, "sim0", os.getuid(),
                                                              os.getpid())
        sim0, dev1 = s.regions
        assert (sim0.name, dev1.name) == ("sim0", "dev1") and len(sim0) == 3
        for f in (mine.figures, sim0.figures):
            assert isinstance(f, mmio.AccessFigures)
            # loads: 3, the modify's, the failed one, the poll's; stores: 2, the modify's, 4.
            assert (f.loads, f.stores, f.modifies, f.polls, f.block_bytes) == (6, 7, 1, 1, 16)
            assert f.errors == {"OUT_OF_RANGE": 1}
            assert len(f.latency) == 32
            assert sum(f.latency) == 3 + 2 + 1 + 1 + 1  # loads, stores, modify, failed, block
            assert f.latency_sum_ns > 0
        assert dev1.figures.loads == 0 and dev1.figures.errors == {}
        assert c.stats().lease_stats == ()  # released
    assert d.stop() == 0, d.log_text()


def test_close_during_a_read_in_another_thread(daemon):
    from conftest import start_waiter

    with mmio.connect(daemon.socket) as admin:
        trace = admin.trace("sim0")
        outcome = []

        def reader():
            try:
                outcome.append(next(trace))
            except ValueError as e:
                outcome.append(e)

        t = start_waiter(reader)  # blocked in poll on the pipe, the GIL released
        trace.close()
        t.join()
        assert isinstance(outcome[0], ValueError) and "closed" in str(outcome[0])
        assert trace.closed
