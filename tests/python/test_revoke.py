"""Revocation as a conversation: RevokeNotices through set_revoke_handler, event_fd and
process_events; revoke with grace; Lease.renew and a lease's time (a grant's max_lease_ms).
Notices are awaited on the event fd (select's timeout is a safety net only), never by sleeping."""

import os
import select
import selectors
import subprocess
import sys
import textwrap

import pytest

import mmio

# The safety net of every wait on an event fd: a notice that never comes fails the test.
NOTICE_TIMEOUT_S = 60

# The time of nobody's leases (a grant's max_lease_ms); root's leases have none.
TTL_MS = 500


def start_ttl_daemon(new_daemon, ttl_ms=TTL_MS):
    """mmiod serving sim0 (64 KiB of memory): nobody (65534) leases it with a time."""
    d = new_daemon()
    conf = os.path.join(d.dir, "mmiod.conf")
    with open(conf, "w") as f:
        f.write(textwrap.dedent("""\
            socket = { mode = "0666"; };
            regions = ( { name = "sim0"; type = "mem"; size = 0x10000;
                          grants = ( { user = 65534; access = "rw"; max_lease_ms = %d; } ); } );
            """ % ttl_ms))
    return d.start("--config", conf)


def wait_readable(fd):
    assert select.select([fd], [], [], NOTICE_TIMEOUT_S)[0] == [fd], "no notice came"


def notices_until(client, got, n):
    """process_events() on each wake of the event fd until the handler has n notices."""
    fd = client.event_fd()
    while len(got) < n:
        wait_readable(fd)
        client.process_events()
    assert len(got) == n, got


def test_admin_revoke_tells_the_holder(daemon):
    with mmio.connect(daemon.socket) as holder, mmio.connect(daemon.socket) as admin:
        lease = holder.acquire("sim0", 0x5000, 16)
        got = []
        holder.set_revoke_handler(got.append)
        fd = holder.event_fd()
        assert fd == holder.event_fd() and fd >= 0
        assert select.select([fd], [], [], 0)[0] == []
        assert holder.process_events() == 0 and got == []

        admin.revoke(lease.id)
        wait_readable(fd)
        assert holder.process_events() == 1
        (notice,) = got
        assert isinstance(notice, mmio.RevokeNotice)
        assert (notice.lease_id, notice.reason, notice.grace_ms) == (lease.id, "admin", 0)
        assert "admin" in notice.detail and str(lease.id) in notice.detail
        assert select.select([fd], [], [], 0)[0] == []  # handled: quiet again

        with pytest.raises(mmio.Revoked) as e:
            lease.load32(0)
        assert e.value.reason == "admin" and "admin" in str(e.value)
        assert e.value.status == "REVOKED" and isinstance(e.value, mmio.Error)
        with pytest.raises(mmio.Revoked):
            lease.renew()
        with pytest.raises(mmio.Revoked):
            lease.release()  # released all the same
        assert lease.released


def test_event_fd_with_selectors(daemon):
    with mmio.connect(daemon.socket) as holder, mmio.connect(daemon.socket) as admin:
        lease = holder.acquire("sim0", 0x5100, 4)
        sel = selectors.DefaultSelector()
        sel.register(holder.event_fd(), selectors.EVENT_READ, holder)
        try:
            admin.revoke(lease.id)
            got = []
            holder.set_revoke_handler(got.append)
            while not got:
                events = sel.select(NOTICE_TIMEOUT_S)
                assert events, "no notice came"
                for key, _ in events:
                    key.data.process_events()
            assert [(n.lease_id, n.reason) for n in got] == [(lease.id, "admin")]
        finally:
            sel.close()


def test_no_handler_drops_notices(daemon):
    with mmio.connect(daemon.socket) as holder, mmio.connect(daemon.socket) as admin:
        lease = holder.acquire("sim0", 0x5200, 4)
        admin.revoke(lease.id)
        wait_readable(holder.event_fd())
        assert holder.process_events() == 1  # counted, nobody told
        with pytest.raises(mmio.Revoked):
            lease.store32(0, 1)


def test_handler_exception_propagates_and_the_rest_wait(daemon):
    with mmio.connect(daemon.socket) as holder, mmio.connect(daemon.socket) as admin:
        first = holder.acquire("sim0", 0x5300, 4)
        second = holder.acquire("sim0", 0x5304, 4)
        seen = []

        def handler(notice):
            seen.append(notice.lease_id)
            if len(seen) == 1:
                raise RuntimeError("handler failed")

        holder.set_revoke_handler(handler)
        admin.revoke(first.id)
        admin.revoke(second.id)
        fd = holder.event_fd()
        with pytest.raises(RuntimeError, match="handler failed"):
            while True:
                wait_readable(fd)
                holder.process_events()
        assert seen == [first.id]
        while len(seen) < 2:
            if holder.process_events() == 0:
                wait_readable(fd)
        assert seen == [first.id, second.id]


def test_set_revoke_handler_arguments(client):
    with pytest.raises(TypeError):
        client.set_revoke_handler(42)
    client.set_revoke_handler(print)
    client.set_revoke_handler(None)
    with pytest.raises(ValueError):
        client.revoke(1, grace_ms=60001)
    with pytest.raises(ValueError):
        client.revoke(1, grace_ms=-1)
    with pytest.raises(mmio.NotFound):
        client.revoke(999999, grace_ms=10)
    client.close()
    for call in (client.event_fd, client.process_events, lambda: client.set_revoke_handler(None)):
        with pytest.raises(ValueError, match="closed"):
            call()


def test_grace_released_in_time(daemon):
    with mmio.connect(daemon.socket) as holder, mmio.connect(daemon.socket) as admin:
        lease = holder.acquire("sim0", 0x5400, 8)
        got = []

        def handler(notice):
            got.append(notice)
            if notice.grace_ms:
                lease.release()  # in time: nothing is revoked

        holder.set_revoke_handler(handler)
        admin.revoke(lease.id, grace_ms=60000)
        notices_until(holder, got, 1)
        assert (got[0].lease_id, got[0].reason, got[0].grace_ms) == (lease.id, "admin", 60000)
        assert "unless released" in got[0].detail
        assert lease.released
        assert lease.id not in [i.id for i in admin.leases()]
        # The range is free again, for anyone.
        admin.acquire("sim0", 0x5400, 8).release()


def test_grace_runs_out(daemon):
    with mmio.connect(daemon.socket) as holder, mmio.connect(daemon.socket) as admin:
        lease = holder.acquire("sim0", 0x5500, 8)
        got = []
        holder.set_revoke_handler(got.append)  # does not release
        admin.revoke(lease.id, grace_ms=1)
        notices_until(holder, got, 2)  # the ask, then the revoke at the end of the grace
        assert [(n.lease_id, n.reason, n.grace_ms) for n in got] == [(lease.id, "admin", 1),
                                                                    (lease.id, "admin", 0)]
        with pytest.raises(mmio.Revoked) as e:
            lease.load32(0)
        assert e.value.reason == "admin"
        with pytest.raises(mmio.Revoked):
            lease.release()


def run_as_nobody(script, *args):
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(mmio.__file__)))
    r = subprocess.run([sys.executable, "-c", textwrap.dedent(script), *args], user=65534,
                       group=65534, extra_groups=[], env=env, capture_output=True, text=True,
                       timeout=120)
    assert (r.returncode, r.stdout, r.stderr) == (0, "ok\n", "")


@pytest.mark.skipif(os.getuid() != 0, reason="a client of another uid needs root to start it")
def test_renew_keeps_a_lease_past_its_time_then_ttl_revokes(new_daemon):
    d = start_ttl_daemon(new_daemon)
    # first is leased before second, so unrenewed it would run out first; renewed until
    # second's time runs out, it is still alive then. Then, unrenewed, it runs out too.
    script = """
        import select, sys, mmio
        with mmio.connect(sys.argv[1]) as c:
            first = c.acquire("sim0", 0, 4)
            second = c.acquire("sim0", 4, 4)
            got = []
            c.set_revoke_handler(got.append)
            fd = c.event_fd()
            while not got:
                first.renew()  # a request each: no sleeping
                if select.select([fd], [], [], 0)[0]:
                    c.process_events()
            assert [(n.lease_id, n.reason, n.grace_ms) for n in got] == [(second.id, "ttl", 0)], got
            first.store32(0, 0x1234)  # alive past its first time
            assert first.load32(0) == 0x1234
            try:
                second.load32(0)
            except mmio.Revoked as e:
                assert e.reason == "ttl" and "ttl" in str(e), e
            else:
                sys.exit("second was not revoked")
            while len(got) < 2:
                assert select.select([fd], [], [], 60)[0], "no ttl notice"
                c.process_events()
            assert (got[1].lease_id, got[1].reason) == (first.id, "ttl"), got
            try:
                first.renew()
            except mmio.Revoked as e:
                assert e.reason == "ttl", e
            else:
                sys.exit("first was renewed after its time")
        print("ok")
        """
    run_as_nobody(script, d.socket)
    assert d.stop() == 0, d.log_text()


def test_leases_list_the_time_left(new_daemon):
    d = start_ttl_daemon(new_daemon, ttl_ms=600000)
    script = """
        import sys, mmio
        with mmio.connect(sys.argv[1]) as c:
            lease = c.acquire("sim0", 0, 4)
            (info,) = [i for i in c.leases() if i.id == lease.id]
            assert 0 < info.ttl_ms <= 600000, info.ttl_ms
            assert len(info) == 7  # an attribute, not in the tuple
        print("ok")
        """
    run_as_nobody(script, d.socket)
    assert d.stop() == 0, d.log_text()


def test_renew_without_a_time(client):
    with client.acquire("sim0", 0x5600, 4) as lease:  # root's lease: no time
        assert [i.ttl_ms for i in client.leases() if i.id == lease.id] == [None]
        lease.renew()
        lease.store32(0, 5)
    with pytest.raises(ValueError, match="released"):
        lease.renew()


def test_handler_closes_its_client(daemon):
    with mmio.connect(daemon.socket) as admin:
        holder = mmio.connect(daemon.socket)
        leases = [holder.acquire("sim0", 0x5700 + 4 * i, 4) for i in range(2)]
        got = []

        def handler(notice):
            got.append(notice)
            holder.close()  # the notices still waiting go with it

        holder.set_revoke_handler(handler)
        fd = holder.event_fd()
        for lease in leases:
            admin.revoke(lease.id)
        wait_readable(fd)
        assert holder.process_events() >= 1
        assert holder.closed and len(got) == 1
        assert all(lease.released for lease in leases)
        with pytest.raises(ValueError, match="closed"):
            holder.process_events()
