"""Every exception class, each raised by a real failure where mmiod or a stand-in can give one;
and bad arguments, refused before any request is sent."""

import errno
import os
import socket
import subprocess
import sys
import textwrap
import threading

import pytest

import mmio

# Every status of libmmio-client's table (include/mmio/client.h), and its class.
STATUSES = {
    "OUT_OF_RANGE": (mmio.OutOfRange, errno.ERANGE),
    "UNALIGNED": (mmio.Unaligned, errno.EFAULT),
    "CONFLICT": (mmio.Conflict, errno.EBUSY),
    "NOT_FOUND": (mmio.NotFound, errno.ENOENT),
    "PERMISSION_DENIED": (mmio.PermissionDenied, errno.EACCES),
    "INVALID_ARGUMENT": (mmio.InvalidArgument, errno.EINVAL),
    "IO_ERROR": (mmio.IoError, errno.EIO),
    "RESOURCE_EXHAUSTED": (mmio.ResourceExhausted, errno.ENOSPC),
    "CANCELLED": (mmio.Cancelled, errno.ECANCELED),
    "VERSION_MISMATCH": (mmio.VersionMismatch, errno.EPROTONOSUPPORT),
    "TIMEOUT": (mmio.Timeout, errno.ETIMEDOUT),
    "REVOKED": (mmio.Revoked, errno.EKEYREVOKED),
    "PROTOCOL_ERROR": (mmio.ProtocolError, errno.EPROTO),
    "DISCONNECTED": (mmio.Disconnected, errno.ECONNRESET),
    "TOO_LARGE": (mmio.TooLarge, errno.EMSGSIZE),
    "NO_MEMORY": (mmio.NoMemory, errno.ENOMEM),
    "UNAVAILABLE": (mmio.Unavailable, None),
}


def test_one_class_per_status():
    assert set(mmio._error_classes) == set(STATUSES)
    for status, (cls, err) in STATUSES.items():
        assert mmio._error_classes[status] is cls
        assert issubclass(cls, mmio.Error) and cls.status == status
        assert cls.__module__ == "mmio" and cls.__doc__.startswith(status)
        if err is not None:
            e = mmio._error_for(err, "why")
            assert type(e) is cls
            assert (e.status, e.detail, e.errno, str(e)) == (status, "why", err, status + ": why")
    # An errno with no status: mmio.Error named after the errno.
    e = mmio._error_for(errno.EOPNOTSUPP)
    assert type(e) is mmio.Error and e.status == "EOPNOTSUPP"


def raises(cls, fn, *args, **kwargs):
    with pytest.raises(cls) as e:
        fn(*args, **kwargs)
    assert e.value.status == cls.status
    assert str(e.value).startswith(cls.status + ": ")
    return e.value


def test_access_errors(client):
    with client.acquire("sim0", 0x1000, 0x10) as l:
        e = raises(mmio.OutOfRange, l.load32, 0x10)
        assert "lease" in e.detail
        e = raises(mmio.Unaligned, l.store32, 0x2, 1)
        assert "not 4-byte aligned" in e.detail and e.errno == errno.EFAULT
        raises(mmio.Timeout, l.poll8, 0, 1, 1)
        # Cancelled is what a batch reports for the ops it did not run after a failure.
        e = raises(mmio.OutOfRange, l.batch, [("load", 4, 0x10), ("load", 4, 0)],
                   stop_on_error=True)
        cancelled = e.results[1]
        assert type(cancelled) is mmio.Cancelled and cancelled.status == "CANCELLED"
        assert cancelled.errno == errno.ECANCELED and str(cancelled).startswith("CANCELLED: ")
        with mmio.connect(client.path) as other:
            e = raises(mmio.Conflict, other.acquire, "sim0", 0x1008, 4)
            assert e.detail
        raises(mmio.NotFound, client.acquire, "nosuch", 0, 4)
        raises(mmio.InvalidArgument, l.irq_subscribe)  # sim0 has no interrupt
        raises(mmio.OutOfRange, client.acquire, "sim0", 0xFFFF, 2)


def test_unavailable(tmp_path):
    e = raises(mmio.Unavailable, mmio.connect, tmp_path / "none.sock")
    assert e.errno == errno.ENOENT and "none.sock" in str(e)


def test_disconnected(new_daemon):
    d = new_daemon().start("--region", "sim0,type=mem,size=0x1000")
    with mmio.connect(d.socket) as c:
        l = c.acquire("sim0", 0, 4)
        assert d.stop() == 0
        raises(mmio.Disconnected, l.load32, 0)
        raises(mmio.Disconnected, c.regions)  # a dead connection stays dead


def test_io_error(new_daemon, tmp_path):
    path = tmp_path / "regs.bin"
    path.write_bytes(bytes(0x1000))
    d = new_daemon().start("--region", "dev,type=file,path=%s,size=0x1000" % path)
    with mmio.connect(d.socket) as c, c.acquire("dev", 0, 0x10) as l:
        assert l.load32(0) == 0
        os.truncate(path, 0)  # the device goes away under its mapping
        raises(mmio.IoError, l.load32, 0)
        assert c.regions()[0].faults == 1
        os.truncate(path, 0x1000)
        assert l.load32(0) == 0


def config(d, body):
    path = os.path.join(d.dir, "mmiod.conf")
    with open(path, "w") as f:
        f.write('socket = { mode = "0666"; };\n' + textwrap.dedent(body))
    return path


def test_resource_exhausted(new_daemon):
    d = new_daemon()
    conf = config(d, """
        limits = { max_leases_per_connection = 2; };
        regions = ( { name = "sim0"; type = "mem"; size = 0x1000; } );
        """)
    d.start("--config", conf)
    with mmio.connect(d.socket) as c:
        # Kept: a Lease object dropped at once would be released as it is collected.
        held = [c.acquire("sim0", 0, 4), c.acquire("sim0", 4, 4)]
        e = raises(mmio.ResourceExhausted, c.acquire, "sim0", 8, 4)
        assert e.errno == errno.ENOSPC
        held.pop().release()
        c.acquire("sim0", 8, 4).release()


@pytest.mark.skipif(os.getuid() != 0, reason="a client of another uid needs root to start it")
def test_permission_denied(new_daemon):
    # nobody may lease sim0 read-only: a store, a subscription, a revoke are refused.
    d = new_daemon()
    conf = config(d, """
        regions = ( { name = "sim0"; type = "mem"; size = 0x1000;
                      grants = ( { user = 65534; access = "ro"; } ); } );
        """)
    d.start("--config", conf)
    script = textwrap.dedent("""
        import sys, mmio
        with mmio.connect(sys.argv[1]) as c:
            l = c.acquire("sim0", 0, 4)
            assert l.access == "ro" and l.load32(0) == 0
            for call in (lambda: l.store32(0, 1), lambda: c.revoke(l.id),
                         lambda: l.modify32(0, 1, 1)):
                try:
                    call()
                except mmio.PermissionDenied as e:
                    assert e.status == "PERMISSION_DENIED" and e.errno == 13, e
                else:
                    sys.exit("not refused")
        print("ok")
        """)
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(mmio.__file__)))
    r = subprocess.run([sys.executable, "-c", script, d.socket], user=65534, group=65534,
                       extra_groups=[], env=env, capture_output=True, text=True, timeout=60)
    assert (r.returncode, r.stdout, r.stderr) == (0, "ok\n", "")


class FakeDaemon:
    """A socket that answers the first request (Hello) with reply(request) and closes."""

    def __init__(self, path, reply):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock.bind(str(path))
        self.sock.listen(1)
        self.reply = reply
        self.thread = threading.Thread(target=self.serve)
        self.thread.start()

    def serve(self):
        conn, _ = self.sock.accept()
        with conn:
            conn.sendall(self.reply(conn.recv(4096)))

    def close(self):
        self.thread.join()
        self.sock.close()


def varint(n):
    out = b""
    while True:
        if n < 0x80:
            return out + bytes([n])
        out += bytes([0x80 | (n & 0x7F)])
        n >>= 7


def request_id(req):
    # Request.id is field 1, a varint: the first thing libmmio-client encodes.
    assert req[0] == 0x08
    n, shift, i = 0, 0, 1
    while True:
        n |= (req[i] & 0x7F) << shift
        shift += 7
        i += 1
        if req[i - 1] < 0x80:
            return n


def test_version_mismatch(tmp_path):
    # Reply{id, status = VERSION_MISMATCH (11), hello = Hello{version = 99}}.
    def reply(req):
        return b"\x08" + varint(request_id(req)) + b"\x10\x0b" + b"\x22\x02\x08\x63"

    fake = FakeDaemon(tmp_path / "s", reply)
    try:
        raises(mmio.VersionMismatch, mmio.connect, tmp_path / "s")
    finally:
        fake.close()


def test_protocol_error(tmp_path):
    fake = FakeDaemon(tmp_path / "s", lambda req: b"\xff\xff\xff\xff")
    try:
        raises(mmio.ProtocolError, mmio.connect, tmp_path / "s")
    finally:
        fake.close()


def test_bad_arguments_send_nothing(client):
    """TypeError/ValueError before any request: mmiod's request count does not move."""
    with client.acquire("sim0", 0x1100, 0x10) as l:
        before = client.stats().requests
        bad = [
            (TypeError, l.load32, "0"),
            (TypeError, l.load32, 1.0),
            (TypeError, l.load32, None),
            (ValueError, l.load32, -1),
            (ValueError, l.load32, 1 << 64),
            (TypeError, l.store32, 0),
            (ValueError, l.store8, 0, 0x100),
            (ValueError, l.store16, 0, 0x10000),
            (ValueError, l.store32, 0, 1 << 32),
            (ValueError, l.store64, 0, 1 << 64),
            (ValueError, l.store32, 0, -1),
            (ValueError, l.load, 0, 3),
            (ValueError, l.store, 0, 16, 1),
            (ValueError, l.modify32, 0, 1 << 32, 0),
            (ValueError, l.modify8, 0, 1, 0x100),
            (ValueError, l.poll32, 0, 1, 1, -1),
            (ValueError, l.poll32, 0, 1, 1, 60001),
            (TypeError, l.poll32, 0, 1, 1, None),
            (ValueError, l.read_block, 0, 0),
            (ValueError, l.read_block, 0, 6),  # not a whole number of 4-byte loads
            (ValueError, l.read_block, 0, 4097, 1),
            (ValueError, l.write_block, 0, b"abc"),
            (ValueError, l.write_block, 0, [1 << 32]),
            (TypeError, l.write_block, 0, ["x"]),
            (TypeError, l.write_block, 0, 5),
            (ValueError, l.split, -1),
            (TypeError, l.batch, [("load", 4)]),
            (TypeError, l.batch, ["load"]),
            (ValueError, l.batch, [("fetch", 4, 0)]),
            (ValueError, l.batch, [("load", 3, 0)]),
            (ValueError, l.batch, [("store", 1, 0, 256)]),
            (ValueError, l.batch, [("barrier",)] * 4097),
            (TypeError, client.batch, [("load", 4, 0)]),
            (TypeError, client.acquire, 5, 0, 4),
            (ValueError, client.acquire, "sim0", -4, 4),
            (ValueError, client.revoke, -1),
        ]
        for exc, fn, *args in bad:
            with pytest.raises(exc):
                fn(*args)
        with pytest.raises(TypeError):
            l.batch([("load", 4, 0)], fast=True)
        assert client.stats().requests == before + 1  # the stats call itself


def test_released_and_closed_objects_raise_value_error(daemon):
    c = mmio.connect(daemon.socket)
    l = c.acquire("sim0", 0x1200, 4)
    l.release()
    for call in (lambda: l.load32(0), lambda: l.store32(0, 0), lambda: l.split(0),
                 lambda: l.batch([("barrier",)]), lambda: l.batch([]), lambda: l.length,
                 lambda: l.irq_subscribe(), lambda: l.__enter__()):
        with pytest.raises(ValueError, match="released"):
            call()
    c.close()
    for call in (c.regions, c.stats, c.leases, lambda: c.acquire("sim0", 0, 4),
                 lambda: c.revoke(1), lambda: c.batch([]), c.__enter__):
        with pytest.raises(ValueError, match="closed"):
            call()
    c.close()  # twice: nothing
