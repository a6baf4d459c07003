# The HC-05 in data mode: wire frames over its UART, with the STATE pin for
# "a phone is connected". The UART is a plain byte stream, so this layer owns
# what the module does not do:
#
# - Framing and resynchronisation: a wire.Decoder with a fixed buffer. Garbage
#   and corrupt frames are skipped and counted, never raised to the caller.
# - Link up/down: watch() samples STATE. When the phone goes away, the partial
#   frame it left in the decoder is dropped, so it cannot join the next
#   session's first frame.
# - Back-pressure and bounded buffers: one read of at most CHUNK bytes into a
#   fixed buffer, then every frame in it is answered (each reply drained to the
#   UART before the next read), so a flood waits in the UART's own bounded
#   receive buffer, where the excess is lost, and never grows the heap.
#   A reply while nobody is connected is dropped and counted, not queued.
import asyncio
from micropython import const

from nodefw import wire

CHUNK = const(64)  # bytes per read, and so per Decoder.feed
WATCH_MS = const(200)  # STATE pin sampling period


class Hc05Link:
    """`stream`: the UART (non-blocking, pollable: board.hc05()); `linked`:
    reads the STATE pin (board.hc05_linked); `on_change(up)` is called on each
    transition."""

    def __init__(self, stream, linked, on_change=None):
        self._reader = asyncio.StreamReader(stream)
        self._writer = asyncio.StreamWriter(stream, {})
        self._linked = linked
        self._on_change = on_change
        self._buf = bytearray(CHUNK)
        self._mv = memoryview(self._buf)
        self.decoder = wire.Decoder(chunk=CHUNK)  # 1,096 bytes instead of 2,064
        self.up = linked()
        self.sessions = 1 if self.up else 0  # connections seen since boot
        self.dropped = 0  # replies not sent: nobody connected

    @property
    def bad(self):
        """Corrupt frames seen on the link."""
        return self.decoder.bad

    async def serve(self, handle):
        """Answer frames forever: handle(body) returns a reply body or None."""
        dec = self.decoder
        while True:
            n = await self._reader.readinto(self._buf)
            if not n:
                raise OSError("HC-05 UART closed")
            dec.feed(self._mv[:n])
            while True:
                try:
                    body = dec.next()
                except wire.WireError:
                    continue  # counted in dec.bad; the decoder has resynchronised
                if body is None:
                    break
                reply = handle(body)
                if reply is not None:
                    await self.send(reply)

    async def send(self, body):
        # STATE is read now, not taken from watch(): a request can arrive
        # between two samples, and its answer must not be lost.
        if not self._linked():
            self.dropped += 1
            return
        self._writer.write(wire.frame(body))
        await self._writer.drain()

    async def watch(self):
        """Follow the STATE pin forever."""
        while True:
            await asyncio.sleep_ms(WATCH_MS)
            up = bool(self._linked())
            if up == self.up:
                continue
            self.up = up
            if up:
                self.sessions += 1
            else:
                self.decoder.reset()
            if self._on_change is not None:
                self._on_change(up)
