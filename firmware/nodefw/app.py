# The firmware's main loop: asyncio tasks for the HC-05 link, the display and
# housekeeping, each restarted if it fails so the device keeps answering.
import asyncio
import gc
import micropython
import sys
import time
from binascii import hexlify

import board
from nodefw import VERSION, config, rng, wire
from nodefw import messages as m

_RESTART_DELAY_MS = micropython.const(1000)


class Device:
    """What the device knows about itself, and its answers to requests."""

    def __init__(self):
        self.mac = board.mac()
        self.serial = hexlify(self.mac).decode().upper()
        self.name = config.device_name(config.load(), self.serial)
        self.state = m.ST_BLANK  # provisioning (a later layer) moves it on
        self.warning = None  # short text for the OLED, e.g. an RNG failure
        self.changed = asyncio.Event()
        self.heap_peak = 0
        self.link_bad = 0
        self._uptime_ms = 0
        self._ticks = time.ticks_ms()
        self._handlers = {m.STATUS_REQ: self._status}

    def tick(self):
        now = time.ticks_ms()
        self._uptime_ms += time.ticks_diff(now, self._ticks)
        self._ticks = now

    def sample_heap(self):
        gc.collect()
        used = gc.mem_alloc()
        if used > self.heap_peak:
            self.heap_peak = used

    def handle(self, body):
        """Reply body for a request body, or None when there is nothing to say."""
        try:
            mtype, rid = wire.header(body)
        except wire.WireError:
            return None
        handler = self._handlers.get(mtype)
        if handler is None:
            if mtype == m.ERROR:
                return None  # never answer an error with an error
            return _error(rid, m.E_UNKNOWN_TYPE, "unknown message type")
        try:
            fields = wire.decode(body, m.SCHEMAS[mtype])
        except wire.WireError as e:
            return _error(rid, m.E_BAD_REQUEST, str(e))
        try:
            return handler(rid, fields)
        except Exception as e:
            sys.print_exception(e)
            return _error(rid, m.E_INTERNAL, "internal error")

    def _status(self, rid, fields):
        self.tick()
        return m.encode(
            m.STATUS,
            rid,
            {
                "mac": self.mac,
                "name": self.name,
                "model": board.MODEL,
                "fw": VERSION,
                "state": self.state,
                "uptime": self._uptime_ms // 1000,
                "heap_free": gc.mem_free(),
                "heap_peak": self.heap_peak,
                "link_bad": self.link_bad,
            },
        )


def _error(rid, code, detail):
    return m.encode(m.ERROR, rid, {"code": code, "detail": detail[:64]})


async def serve_link(dev, stream):
    """Answer framed requests on a byte stream (the HC-05 link)."""
    reader = asyncio.StreamReader(stream)
    writer = asyncio.StreamWriter(stream, {})
    dec = wire.Decoder()
    while True:
        data = await reader.read(64)
        if not data:
            raise OSError("link closed")
        dec.feed(data)
        while True:
            try:
                body = dec.next()
            except wire.WireError:
                dev.link_bad = dec.bad
                continue
            if body is None:
                break
            reply = dev.handle(body)
            if reply is not None:
                writer.write(wire.frame(reply))
                await writer.drain()


async def show_identity(dev):
    from nodefw.drivers.ssd1306 import SSD1306
    from nodefw.screen import Screen

    screen = Screen(SSD1306(board.i2c()))
    while True:
        screen.status(dev.name, dev.serial, dev.state, warning=dev.warning)
        await dev.changed.wait()
        dev.changed.clear()


async def housekeeping(dev):
    while True:
        dev.tick()
        dev.sample_heap()
        await asyncio.sleep_ms(1000)


async def supervise(name, factory):
    """Run a task forever: log and restart it whenever it fails."""
    while True:
        try:
            await factory()
        except Exception as e:
            print("task", name, "failed:", repr(e))
        await asyncio.sleep_ms(_RESTART_DELAY_MS)


async def main(dev):
    dev.sample_heap()
    tasks = (
        asyncio.create_task(supervise("link", lambda: serve_link(dev, board.hc05()))),
        asyncio.create_task(supervise("display", lambda: show_identity(dev))),
        asyncio.create_task(supervise("housekeeping", lambda: housekeeping(dev))),
    )
    await asyncio.sleep_ms(0)  # every task reaches its first wait: the link is open
    board.ready()
    await asyncio.gather(*tasks)


def check_rng(dev):
    """The start-up health test of the random source, before anything uses it.
    A failed source puts the device in the fault state: it keeps answering,
    shows why on the OLED and will not make keys."""
    try:
        rng.shared(board.entropy).read(32)
    except rng.RngFailure as e:
        print("rng:", e)
        dev.state = m.ST_FAULT
        dev.warning = "RNG FAILED"


def run():
    if board.repl_requested():
        print("FLASH held at boot: firmware not started, REPL kept")
        return
    dev = Device()
    print("HomeCA node fw", VERSION, "board", board.NAME, "serial", dev.serial)
    check_rng(dev)
    asyncio.run(main(dev))
