# The HC-05 in data mode: wire frames over its UART, with the STATE pin for
# "a phone is connected". The UART is a plain byte stream, so this layer owns
# what the module does not do:
#
# - Framing and resynchronisation: a wire.Decoder with a fixed buffer. Garbage
#   and corrupt frames are skipped and counted, never raised to the caller.
# - Link up/down: watch() samples STATE. When the phone goes away, the partial
#   frame it left in the decoder is dropped, so it cannot join the next
#   session's first frame. A partial frame that gets no byte for STALE_MS is
#   dropped too: a damaged but plausible length would otherwise swallow the
#   frames after it until a whole frame's worth of bytes had arrived.
# - Back-pressure and bounded buffers: one read of at most CHUNK bytes into a
#   fixed buffer, then every frame in it is answered (each reply drained to the
#   UART before the next read), so a flood waits in the UART's own bounded
#   receive buffer, where the excess is lost, and never grows the heap.
#
# Replies are written whatever STATE says: the module discards what arrives
# while nobody is connected, and a STATE line that is unwired or noisy must
# not silence the device.
import asyncio
import time
from micropython import const

from nodefw import wire

CHUNK = const(64)  # bytes per read, and so per Decoder.feed
WATCH_MS = const(200)  # STATE pin sampling period
STALE_MS = const(2000)  # a partial frame this long without a byte is dropped


class Hc05Link:
    """`stream`: the UART (non-blocking, pollable: board.hc05()); `linked`:
    reads the STATE pin (board.hc05_linked)."""

    def __init__(self, stream, linked):
        self._reader = asyncio.StreamReader(stream)
        self._writer = asyncio.StreamWriter(stream, {})
        self._linked = linked
        self._buf = bytearray(CHUNK)
        self._mv = memoryview(self._buf)
        self._rx_ticks = time.ticks_ms()
        self.decoder = wire.Decoder(chunk=CHUNK)  # 1,096 bytes instead of 2,064
        self.up = linked()

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
            self._rx_ticks = time.ticks_ms()
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
                    self._writer.write(wire.frame(reply))
                    await self._writer.drain()

    async def watch(self):
        """Follow the STATE pin, and drop stale partial frames, forever."""
        dec = self.decoder
        while True:
            await asyncio.sleep_ms(WATCH_MS)
            up = bool(self._linked())
            if up != self.up:
                self.up = up
                if not up:
                    dec.reset()
            if dec.pending and time.ticks_diff(time.ticks_ms(), self._rx_ticks) > STALE_MS:
                dec.reset()
