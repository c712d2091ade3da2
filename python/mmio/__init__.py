"""mmio: device registers leased from mmiod, through libmmio-client.

    import mmio
    with mmio.connect() as c:              # $MMIOD_SOCKET or the default; or connect(path)
        print(c.regions())
        with c.acquire("sim0", 0x100, 16) as regs:
            regs.store32(0x0, 0xDEADBEEF)
            assert regs.load32(0x0) == 0xDEADBEEF
        with c.acquire("uart0", 0, 0x20) as uart:  # a region whose config names a map
            uart.reg_store_fields("LCR.DLAB=1", "LCR.WLS=8BIT")
            status = uart.reg_load("LSR.THRE")

Every failure mmiod or the library reports is an mmio.Error, of the subclass
named after its status (mmio.OutOfRange, mmio.Conflict, ...), with .status and
.detail. Arguments that cannot be right (wrong type, negative, too wide for the
width) raise TypeError or ValueError before anything is sent.

Each call releases the GIL while it waits for mmiod; a Client and its leases may
be shared between threads. Close clients and release leases with `with` or
close()/release(); one left over is released when it is garbage-collected.
"""

from mmio._mmio import (  # noqa: F401 (re-exported)
    DEFAULT_SOCKET_PATH,
    MAX_OPS,
    AccessFigures,
    Client,
    Error,
    Grant,
    Irq,
    Lease,
    LeaseInfo,
    LeaseStats,
    Region,
    RegionStats,
    Register,
    RevokeNotice,
    Stats,
    Trace,
    TraceRecord,
    _bench_c_batch,
    _bench_c_load32,
    _error_classes,
    _error_for,
    connect,
    library_version,
)
from mmio import _mmio

# One class per status name, made by the extension from libmmio-client's table.
for _status, _cls in _error_classes.items():
    globals()[_cls.__name__] = _cls
del _status, _cls

__version__ = library_version

__all__ = [
    "DEFAULT_SOCKET_PATH",
    "MAX_OPS",
    "AccessFigures",
    "Client",
    "Error",
    "Grant",
    "Irq",
    "Lease",
    "LeaseInfo",
    "LeaseStats",
    "Region",
    "RegionStats",
    "Register",
    "RevokeNotice",
    "Stats",
    "Trace",
    "TraceRecord",
    "connect",
    "library_version",
    "wait_async",
] + sorted(cls.__name__ for cls in _error_classes.values())


async def wait_async(irq):
    """Waits for interrupts on irq in asyncio; returns their count, as Irq.wait().

    Watches irq.fileno() with the running loop's add_reader, then collects the
    interrupts with irq.wait(0). Raises NotFound if the subscription ends.
    """
    import asyncio

    loop = asyncio.get_running_loop()
    fd = irq.fileno()
    while True:
        ready = loop.create_future()

        def readable():
            if not ready.done():
                ready.set_result(None)

        loop.add_reader(fd, readable)
        try:
            await ready
        finally:
            loop.remove_reader(fd)
        try:
            return irq.wait(0)
        except _mmio._error_classes["TIMEOUT"]:
            continue  # readable without a count: look again
