"""Registers by name (Lease.reg, reg_load, reg_store, reg_store_fields) against a real mmiod
whose region dev names a register map written into the test's directory; plain has none."""

import os
import textwrap
import threading

import pytest

import mmio
from conftest import Daemon

MAP = """\
name: testdev
width: 32
registers:
  - name: CTRL
    offset: 0x0
    fields:
      - { name: EN,    bits: "0" }
      - { name: MODE,  bits: "3:1", values: { IDLE: 0, RUN: 1, SLEEP: 2, TURBO: 7 } }
      - { name: DIV,   bits: "15:8" }
  - name: STATUS
    offset: 0x4
    access: ro
    fields:
      - { name: READY, bits: "0" }
      - { name: ERR,   bits: "1", access: w1c }
  - name: CH
    offset: 0x10
    count: 4
    stride: 4
    fields:
      - { name: EN,    bits: "0" }
      - { name: LEVEL, bits: "7:4" }
  - name: WIDE
    offset: 0x20
    width: 64
  - name: BYTE
    offset: 0x28
    width: 8
"""


@pytest.fixture(scope="module")
def daemon():
    d = Daemon()
    try:
        map_path = os.path.join(d.dir, "testdev.yaml")
        with open(map_path, "w") as f:
            f.write(MAP)
        conf = os.path.join(d.dir, "mmiod.conf")
        with open(conf, "w") as f:
            f.write(textwrap.dedent("""\
                regions = (
                  { name = "dev"; type = "mem"; size = 0x100; map = "%s"; },
                  { name = "plain"; type = "mem"; size = 0x100; }
                );
                """ % map_path))
        d.start("--config", conf)
        yield d
        assert d.stop() == 0, d.log_text()
    finally:
        d.cleanup()


@pytest.fixture
def client(daemon):
    with mmio.connect(daemon.socket) as c:
        c.set_fast_path("off")  # every access a request, so that requests() counts them
        yield c


@pytest.fixture
def dev(client):
    with client.acquire("dev", 0, 0x100) as l:
        l.write_block(0, bytes(0x100))
        yield l


def requests(client):
    return client.stats().requests


def test_find_a_register_and_a_field(dev):
    r = dev.reg("CTRL.MODE")
    assert isinstance(r, mmio.Register)
    assert r == ("CTRL", "MODE", "rw", 0, 0x0, 4, 3, 1, 0xE, True)
    assert (r.name, r.field, r.access, r.index, r.offset, r.width, r.msb, r.lsb, r.mask,
            r.is_field) == tuple(r)
    whole = dev.reg("STATUS")
    assert whole == ("STATUS", None, "ro", 0, 0x4, 4, 31, 0, 0xFFFFFFFF, False)
    assert dev.reg("STATUS.ERR").access == "w1c"
    assert dev.reg("STATUS.READY").access == "ro"  # the register's, when the field has none
    ch = dev.reg("CH[2].LEVEL")
    assert (ch.name, ch.field, ch.index, ch.offset, ch.mask) == ("CH", "LEVEL", 2, 0x18, 0xF0)
    assert dev.reg("CH[3]").offset == 0x1C
    assert dev.reg("WIDE") == ("WIDE", None, "rw", 0, 0x20, 8, 63, 0, (1 << 64) - 1, False)
    assert dev.reg("BYTE").width == 1


def test_offsets_are_the_leases(client):
    with client.acquire("dev", 0x10, 0x10) as part:
        assert part.reg("CH[1].EN").offset == 0x4
        e = raises(mmio.OutOfRange, part.reg, "CTRL")
        assert "outside the lease" in e.detail
        raises(mmio.OutOfRange, part.reg_load, "WIDE")
        raises(mmio.OutOfRange, part.reg_store, "CTRL.EN", 1)
        raises(mmio.OutOfRange, part.reg_store_fields, "CTRL.EN=1")


def test_load_and_store_by_name(dev):
    dev.reg_store("CTRL", 0x1234)
    assert dev.load32(0x0) == 0x1234
    assert dev.reg_load("CTRL") == 0x1234
    assert dev.reg_load("CTRL.DIV") == 0x12
    assert dev.reg_load("CTRL.MODE") == 0x2  # 0x4 >> 1
    assert dev.reg_load("CTRL.EN") == 0
    dev.reg_store("WIDE", (1 << 64) - 1)
    assert dev.load64(0x20) == (1 << 64) - 1
    dev.reg_store("BYTE", 0xA5)
    assert dev.load8(0x28) == 0xA5
    assert dev.load8(0x29) == 0
    dev.reg_store("CH[3]", 0x77)
    assert dev.load32(0x1C) == 0x77
    assert dev.reg_load("CH[3].LEVEL") == 7


def test_a_field_store_keeps_the_other_bits(client, dev):
    dev.store32(0x0, 0xFFFFF0F1)  # bits 7:4 and 31:16 belong to no field
    dev.reg("CTRL")  # the map fetched, so that only the store is counted below
    before = requests(client)
    dev.reg_store("CTRL.MODE", 2)
    assert requests(client) - before == 2  # one Modify, and this Stats
    assert dev.load32(0x0) == 0xFFFFF0F5
    dev.reg_store("CTRL.DIV", 0)
    assert dev.load32(0x0) == 0xFFFF00F5
    dev.reg_store("CTRL.EN", 0)
    assert dev.load32(0x0) == 0xFFFF00F4


def test_store_fields_in_one_modify(client, dev):
    dev.store32(0x0, 0xABCD0000)
    dev.reg("CTRL")  # the map fetched, so that only the store is counted below
    before = requests(client)
    dev.reg_store_fields("CTRL.EN=1", "CTRL.DIV=0x5A")
    assert requests(client) - before == 2  # one Modify, and this Stats
    assert dev.load32(0x0) == 0xABCD5A01
    before = requests(client)
    dev.reg_store_fields({"CTRL.EN": 0, "CTRL.MODE": "TURBO", "CTRL.DIV": 3})
    assert requests(client) - before == 2
    assert dev.load32(0x0) == 0xABCD030E


def test_enum_value_names(dev):
    dev.reg_store_fields("CTRL.MODE=SLEEP")
    assert dev.reg_load("CTRL.MODE") == 2
    dev.reg_store_fields({"CTRL.MODE": "RUN"})
    assert dev.reg_load("CTRL.MODE") == 1
    assert dev.load32(0x0) == 0x2
    dev.reg_store_fields("CTRL.MODE=7")  # a number is a number
    assert dev.reg_load("CTRL.MODE") == 7


def test_did_you_mean(dev):
    e = raises(mmio.NotFound, dev.reg, "CTLR")
    assert e.detail == "no register 'CTLR' in dev (did you mean CTRL?)"
    assert "did you mean CTRL?" in str(e)
    assert (e.status, e.errno) == ("NOT_FOUND", 2)
    e = raises(mmio.NotFound, dev.reg_load, "CTRL.MDOE")
    assert e.detail == "no field 'MDOE' in CTRL of dev (did you mean MODE?)"
    e = raises(mmio.InvalidArgument, dev.reg_store_fields, "CTRL.MODE=SLEPP")
    assert e.detail == ("'CTRL.MODE=SLEPP': not a number nor a value of CTRL.MODE "
                        "(did you mean SLEEP?)")
    e = raises(mmio.NotFound, dev.reg, "NOTHING_LIKE_IT")
    assert e.detail == "no register 'NOTHING_LIKE_IT' in dev"
    e = raises(mmio.NotFound, dev.reg, "CH[4]")
    assert e.detail == "no register CH[4] in dev (CH has 4)"


def test_names_of_no_such_shape(dev):
    e = raises(mmio.InvalidArgument, dev.reg, "CH.EN")
    assert e.detail == "CH is an array of 4: name one, CH[0]"
    for name in ("", "CTRL.", "CTRL.MODE.X", "CH[x]", "CH[1"):
        raises(mmio.InvalidArgument, dev.reg, name)


def test_a_region_without_a_map(client):
    with client.acquire("plain", 0, 0x10) as l:
        e = raises(mmio.NotFound, l.reg, "CTRL")
        assert "plain has no register map" in e.detail


def test_values_that_do_not_fit_send_nothing(client, dev):
    dev.store32(0x0, 0x00000F0F)
    dev.reg("CTRL")
    before = requests(client)
    e = raises(mmio.InvalidArgument, dev.reg_store, "CTRL.MODE", 8)
    assert e.detail == "value 0x8 does not fit CTRL.MODE (3 bits, at most 0x7)"
    raises(mmio.InvalidArgument, dev.reg_store, "BYTE", 0x100)
    e = raises(mmio.InvalidArgument, dev.reg_store_fields, "CTRL.EN=1", "CTRL.DIV=256")
    assert "does not fit CTRL.DIV" in e.detail
    e = raises(mmio.InvalidArgument, dev.reg_store_fields, {"CTRL.EN": 2})
    assert "does not fit CTRL.EN" in e.detail
    e = raises(mmio.InvalidArgument, dev.reg_store_fields, "CTRL.EN=1", "CH[0].EN=1")
    assert "fields of different registers" in e.detail
    raises(mmio.InvalidArgument, dev.reg_store_fields, "CH[0].EN=1", "CH[1].EN=1")
    e = raises(mmio.InvalidArgument, dev.reg_store_fields, "CTRL.EN=1", "CTRL.EN=0")
    assert e.detail == "field CTRL.EN is given twice"
    raises(mmio.InvalidArgument, dev.reg_store_fields, "CTRL=1")
    raises(mmio.InvalidArgument, dev.reg_store_fields, "CTRL.EN")
    raises(mmio.InvalidArgument, dev.reg_store_fields)
    raises(mmio.InvalidArgument, dev.reg_store_fields, {})
    assert requests(client) - before == 1  # only this Stats
    assert dev.load32(0x0) == 0x00000F0F


def test_bad_arguments_before_any_request(client, dev):
    dev.reg("CTRL")
    before = requests(client)
    with pytest.raises(ValueError):
        dev.reg_store("CTRL", -1)
    with pytest.raises(ValueError):
        dev.reg_store("WIDE", 1 << 64)
    with pytest.raises(TypeError):
        dev.reg_store("CTRL", 1.0)
    with pytest.raises(TypeError):
        dev.reg(b"CTRL")
    with pytest.raises(ValueError):
        dev.reg("CTRL\0.EN")
    with pytest.raises(TypeError):
        dev.reg_store("CTRL")
    with pytest.raises(TypeError):
        dev.reg_store_fields("CTRL.EN=1", 1)
    with pytest.raises(TypeError):
        dev.reg_store_fields({"CTRL.EN": 1.5})
    with pytest.raises(TypeError):
        dev.reg_store_fields({1: 1})
    with pytest.raises(ValueError):
        dev.reg_store_fields({"CTRL.EN": -1})
    with pytest.raises(ValueError):
        dev.reg_store_fields({"CTRL.EN=1": 1})
    with pytest.raises(ValueError):
        dev.reg_store_fields({"CTRL.MODE": "RUN\0"})
    assert requests(client) - before == 1


def test_released_lease_and_closed_client(daemon):
    c = mmio.connect(daemon.socket)
    l = c.acquire("dev", 0, 0x100)
    l.reg("CTRL")
    l.release()
    for call in (lambda: l.reg("CTRL"), lambda: l.reg_load("CTRL"),
                 lambda: l.reg_store("CTRL", 1), lambda: l.reg_store_fields("CTRL.EN=1")):
        with pytest.raises(ValueError, match="released"):
            call()
    l = c.acquire("dev", 0, 0x100)
    c.close()
    with pytest.raises(ValueError):
        l.reg_load("CTRL")


def test_threads_share_the_map(daemon):
    # A fresh client: the threads race for the first fetch of the map.
    with mmio.connect(daemon.socket) as c, c.acquire("dev", 0x10, 0x10) as l:
        start = threading.Barrier(4)
        errors = []

        def work(i):
            try:
                start.wait()
                for k in range(50):
                    l.reg_store("CH[%d].LEVEL" % i, k % 16)
                    assert l.reg_load("CH[%d].LEVEL" % i) == k % 16
                    assert l.reg("CH[%d]" % i).offset == 4 * i
            except BaseException as e:  # reported by the test, not lost in the thread
                errors.append(e)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert [l.reg_load("CH[%d].LEVEL" % i) for i in range(4)] == [49 % 16] * 4


def test_release_while_threads_load_by_name(client):
    l = client.acquire("dev", 0, 0x100)
    started = threading.Barrier(5)
    outcomes = []

    def hammer(i):
        started.wait()
        while True:
            try:
                l.reg_load("CTRL.MODE")
                l.reg("STATUS.ERR")
            except ValueError:
                outcomes.append(i)
                return  # released: the only way out

    threads = [threading.Thread(target=hammer, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    started.wait()
    l.release()  # waits for the calls in flight, then releases
    for t in threads:
        t.join()
    assert sorted(outcomes) == [0, 1, 2, 3]


def test_docs():
    for name in ("reg", "reg_load", "reg_store", "reg_store_fields"):
        assert "NotFound" in getattr(mmio.Lease, name).__doc__, name
    assert mmio.Lease.reg.__text_signature__ == "($self, name, /)"
    assert "did you mean" in mmio.Lease.reg.__doc__


def raises(cls, call, *args):
    with pytest.raises(cls) as info:
        call(*args)
    assert type(info.value) is cls
    return info.value
