"""Interrupts, as tests/integration/test_irq.c drives them: a UIO region on a fake sysfs tree
whose interrupt source is a pseudo-terminal. The test writes UIO-style 4-byte counts into the
master (the device raising its interrupt) and reads mmiod's 4-byte "re-enable" writes back."""

import asyncio
import os
import select
import struct
import tty

import pytest

import mmio
from conftest import Daemon, start_waiter


def make_uio_tree(root):
    files = {
        "sys/class/uio/uio0/name": "fakeuio\n",
        "sys/class/uio/uio0/maps/map0/addr": "0x10000000\n",
        "sys/class/uio/uio0/maps/map0/size": "0x1000\n",
        "sys/class/uio/uio0/maps/map0/offset": "0x0\n",
    }
    for rel, text in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
    os.makedirs(os.path.join(root, "dev"))
    with open(os.path.join(root, "dev", "uio0"), "wb") as f:
        f.truncate(4096)


class Uio:
    def __init__(self):
        self.daemon = Daemon()
        root = os.path.join(self.daemon.dir, "hw")
        make_uio_tree(root)
        self.master, self.slave = os.openpty()
        tty.setraw(self.master)  # counts pass through byte for byte
        region = ("irqdev,type=uio,name=fakeuio,map=0,sysfs=%s/sys,dev=%s/dev,irq=yes,irq_dev=%s"
                  % (root, root, os.ttyname(self.slave)))
        try:
            self.daemon.start("--region", region, "--region", "plain,type=mem,size=64")
        except BaseException:
            self.close()  # no fixture teardown for a setup that failed
            raise

    def raise_irq(self, total):
        """The device raises its interrupt: UIO's read() would now return this total."""
        assert os.write(self.master, struct.pack("=I", total)) == 4

    def expect_ack(self):
        assert struct.unpack("=i", os.read(self.master, 4)) == (1,)

    def close(self):
        rc = self.daemon.stop()
        self.daemon.cleanup()
        os.close(self.master)
        os.close(self.slave)
        return rc


@pytest.fixture(scope="module")
def uio():
    u = Uio()
    try:
        yield u
    finally:
        assert u.close() == 0


@pytest.fixture
def irq_client(uio):
    with mmio.connect(uio.daemon.socket) as c:
        yield c


def test_wait_ack_and_count(uio, irq_client):
    with irq_client.acquire("irqdev", 0, 0x10) as l, l.irq_subscribe() as irq:
        assert not irq.closed and irq.lease is l and "mmio.Irq" in repr(irq)
        with pytest.raises(mmio.Timeout):
            irq.wait(0)
        uio.raise_irq(41)
        assert irq.wait() == 1
        irq.ack()
        uio.expect_ack()
        uio.raise_irq(44)  # three more before anyone looked
        assert irq.wait(timeout_ms=60000) == 3
        irq.ack()
        uio.expect_ack()
        with pytest.raises(mmio.Conflict):
            l.irq_subscribe()  # one subscription per region
    assert irq.closed
    with pytest.raises(ValueError):
        irq.fileno()
    with pytest.raises(ValueError):
        irq.wait(0)


def test_select(uio, irq_client):
    with irq_client.acquire("irqdev", 0, 0) as l, l.irq_subscribe() as irq:
        assert select.select([irq], [], [], 0) == ([], [], [])
        uio.raise_irq(50)
        assert select.select([irq], [], [], 60) == ([irq], [], [])
        assert irq.wait(0) == 1
        irq.ack()
        uio.expect_ack()


def test_asyncio(uio, irq_client):
    with irq_client.acquire("irqdev", 0, 0) as l, l.irq_subscribe() as irq:

        async def main():
            waiter = asyncio.ensure_future(mmio.wait_async(irq))
            await asyncio.sleep(0)  # let it register its reader: no interrupt yet
            assert not waiter.done()
            uio.raise_irq(51)
            return await asyncio.wait_for(waiter, 60)

        assert asyncio.run(main()) == 1
        irq.ack()
        uio.expect_ack()


def test_close_wakes_a_waiting_thread(uio, irq_client):
    l = irq_client.acquire("irqdev", 0, 0)
    irq = l.irq_subscribe()
    outcome = []

    def wait():
        try:
            outcome.append(irq.wait())
        except mmio.Error as e:
            outcome.append(e)

    t = start_waiter(wait)
    irq.close()  # from this thread, during the other's wait: it returns at once
    t.join()
    assert len(outcome) == 1 and isinstance(outcome[0], mmio.NotFound)
    # The region is free again.
    with l.irq_subscribe() as again:
        uio.raise_irq(52)
        assert again.wait() == 1
        again.ack()
        uio.expect_ack()
    l.release()


def test_release_and_revoke_end_the_subscription(uio, irq_client):
    l = irq_client.acquire("irqdev", 0, 0)
    irq = l.irq_subscribe()
    fd = os.dup(irq.fileno())
    l.release()
    assert irq.closed
    assert os.read(fd, 1) == b""  # mmiod closed its end: the subscription is over
    os.close(fd)
    irq.close()  # nothing left to end


def test_no_interrupt(irq_client):
    with irq_client.acquire("plain", 0, 8) as l:
        with pytest.raises(mmio.InvalidArgument):
            l.irq_subscribe()


def waiter_outcome(call):
    """Runs call() in a thread blocked in poll; returns (thread, list of its outcome)."""
    outcome = []

    def run():
        try:
            outcome.append(call())
        except (mmio.Error, ValueError) as e:
            outcome.append(e)

    return start_waiter(run), outcome


def test_release_in_another_thread_ends_a_wait(uio, irq_client):
    l = irq_client.acquire("irqdev", 0, 0)
    irq = l.irq_subscribe()
    t, outcome = waiter_outcome(irq.wait)
    l.release()  # waits for the waiting thread, whose wait ends at once
    t.join()
    assert isinstance(outcome[0], mmio.NotFound) and irq.closed


def test_client_close_in_another_thread_ends_a_wait(uio):
    c = mmio.connect(uio.daemon.socket)
    l = c.acquire("irqdev", 0, 0)
    irq = l.irq_subscribe()
    t, outcome = waiter_outcome(irq.wait)
    c.close()
    t.join()
    assert isinstance(outcome[0], mmio.NotFound)
    assert l.released and irq.closed


def test_dropped_subscription_ends(uio, irq_client):
    with irq_client.acquire("irqdev", 0, 0) as l:
        l.irq_subscribe()  # dropped at once: its deallocation unsubscribes
        with l.irq_subscribe() as irq:
            uio.raise_irq(60)
            assert irq.wait() == 1
            irq.ack()
            uio.expect_ack()
