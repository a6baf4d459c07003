# The HC-05 in data mode: wire frames over its UART, with the STATE pin for
# "a phone is connected". The UART is a plain byte stream, so this layer owns
# what the module does not do:
#
# - Framing and resynchronisation: a wire.Decoder with a fixed buffer. Garbage
#   and corrupt frames are skipped and counted, never raised to the caller.
# - Link up/down: STATE is sampled every WATCH_MS. When the phone goes away,
#   the partial frame it left in the decoder is dropped, so it cannot join the
#   next session's first frame. A partial frame that gets no byte for STALE_MS
#   gives up its SOF only: a false SOF or a damaged but plausible length would
#   otherwise swallow the genuine frames behind it, which a rescan still finds.
# - Never blocking the event loop: on the ESP8266 a UART read waits between
#   characters and a write busy-waits once the 128-byte TX FIFO is full (a 1 KB
#   reply at 9600 baud would stall every task for a second). So the link reads
#   only what uart.any() says has arrived, at most CHUNK bytes, and writes at
#   most TX_PIECE bytes at a time, then yields until the FIFO has drained.
# - Bounded buffers and no allocation: one receive chunk, the decoder, one
#   reply frame, all made once. A flood waits in the UART's own bounded receive
#   buffer, where the excess is lost, and never grows the heap; answering a
#   request allocates nothing (tests/test_heap_lock.py).
#
# Replies are written whatever STATE says: the module discards what arrives
# while nobody is connected, and a STATE line that is unwired or noisy must
# not silence the device.
#
# The UART is what board.hc05() returns: any() -> bytes waiting, readinto(buf,
# n), write(buf, off, n) -> bytes taken, txdone().
import asyncio
import time
from micropython import const

from nodefw import wire

CHUNK = const(64)  # bytes per read, and so per Decoder.feed
POLL_MS = const(10)  # idle UART polling period: about 10 characters at 9600 baud
WATCH_MS = const(200)  # STATE pin sampling period
STALE_MS = const(2000)  # a partial frame this long without a byte gives up its SOF
TX_PIECE = const(128)  # the ESP8266's TX FIFO
TX_WAIT_MS = const(5)
TX_STALL_MS = const(3000)  # a reply the UART takes nothing of for this long is dropped


class Hc05Link:
    """`uart`: the HC-05's UART (board.hc05()); `linked`: reads the STATE pin
    (board.hc05_linked); `handle(buf, start, n, out)`: answers the request body
    buf[start:start + n] by encoding a reply body at out[4:], returning its
    length, or 0 for no reply."""

    def __init__(self, uart, linked, handle):
        self._uart = uart
        self._linked = linked
        self._handle = handle
        self._rx = bytearray(CHUNK)
        self._out = bytearray(wire.MAX_BODY + wire.OVERHEAD)
        self.decoder = wire.Decoder(chunk=CHUNK)  # 1,096 bytes instead of 2,064
        self.up = linked()

    @property
    def bad(self):
        """Corrupt frames seen on the link."""
        return self.decoder.bad

    async def serve(self):
        """Answer frames forever. One loop, no helper coroutines: awaiting a
        coroutine would allocate its generator on every request."""
        uart = self._uart
        dec = self.decoder
        rx = self._rx
        out = self._out
        last_rx = time.ticks_ms()
        last_watch = last_rx
        while True:
            waiting = uart.any()
            n = 0
            if waiting:
                n = uart.readinto(rx, waiting if waiting < CHUNK else CHUNK)
                if n is None:
                    n = 0
            now = time.ticks_ms()
            if n:
                last_rx = now
                dec.feed(rx, n)
            elif dec.pending and time.ticks_diff(now, last_rx) > STALE_MS:
                dec.resync()
                last_rx = now  # the next SOF, if any, gets its own time
            if time.ticks_diff(now, last_watch) >= WATCH_MS:
                last_watch = now
                up = bool(self._linked())
                if up != self.up:
                    self.up = up
                    if not up:
                        dec.reset()
            while True:
                try:
                    size = dec.next_frame()
                except wire.WireError:
                    continue  # counted in dec.bad; the decoder has resynchronised
                if not size:
                    break
                size = self._handle(dec.buf, dec.body, size, out)
                if not size:
                    continue
                total = wire.frame_into(out, size)
                off = 0
                stalled = time.ticks_ms()
                while off < total:
                    k = total - off
                    took = uart.write(out, off, k if k < TX_PIECE else TX_PIECE)
                    if took:
                        off += took
                        stalled = time.ticks_ms()
                    elif time.ticks_diff(time.ticks_ms(), stalled) > TX_STALL_MS:
                        break  # the rest of this reply is dropped
                    while not uart.txdone():
                        await asyncio.sleep_ms(TX_WAIT_MS)
                    if not took:
                        await asyncio.sleep_ms(TX_WAIT_MS)
            await asyncio.sleep_ms(0 if n else POLL_MS)  # a flood still lets others run
