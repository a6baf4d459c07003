# The HC-05 in data mode: wire frames over its UART, with the STATE pin for
# "a phone is connected". The UART is a plain byte stream, so this layer owns
# what the module does not do:
#
# - Framing and resynchronisation: a wire.Decoder with a fixed buffer. Garbage
#   and corrupt frames are skipped and counted, never raised to the caller.
# - Link up/down: STATE is sampled every _WATCH_MS. When the phone goes away,
#   the partial frame it left in the decoder is dropped, so it cannot join the
#   next session's first frame. A partial frame that gets no byte for _STALE_MS
#   gives up its SOF only: a false SOF or a damaged but plausible length would
#   otherwise swallow the genuine frames behind it, which a rescan still finds.
# - Never blocking the main loop: on the ESP8266 a UART read waits between
#   characters and a write busy-waits once the 128-byte TX FIFO is full (a 1 KB
#   reply at 9600 baud would stall every job for a second). So the link reads
#   only what uart.any() says has arrived, at most _CHUNK bytes, and writes at
#   most _TX_PIECE bytes a step, leaving the FIFO to drain between steps.
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
import time
from micropython import const

from nodefw import messages, wire

_CHUNK = const(64)  # bytes per read, and so per Decoder.feed
_POLL_MS = const(10)  # idle UART polling period: about 10 characters at 9600 baud
_WATCH_MS = const(200)  # STATE pin sampling period
_STALE_MS = const(2000)  # a partial frame this long without a byte gives up its SOF
_TX_PIECE = const(128)  # the ESP8266's TX FIFO
_TX_WAIT_MS = const(5)  # a reply in flight: the FIFO drains meanwhile
_TX_STALL_MS = const(3000)  # a reply the UART takes nothing of for this long is dropped


class Hc05Link:
    """`uart`: the HC-05's UART (board.hc05()); `linked`: reads the STATE pin
    (board.hc05_linked); `handle(buf, start, n, out)`: answers the request body
    buf[start:start + n] by encoding a reply body at out[4:], returning its
    length, or 0 for no reply. The main loop calls step()."""

    def __init__(self, uart, linked, handle):
        self._uart = uart
        self._linked = linked
        self._handle = handle
        self._rx = bytearray(_CHUNK)
        self._out = bytearray(messages.LINK_MAX_BODY + wire.OVERHEAD)
        self._sent = 0  # of the reply frame in _out, _total bytes long
        self._total = 0
        self._stalled = 0  # ticks of the UART's last progress on that reply
        # 584 bytes instead of 1,040 for two frames; .bad counts corrupt frames.
        self.decoder = wire.Decoder(messages.LINK_MAX_BODY, _CHUNK)
        self.up = linked()
        self._last_rx = self._last_watch = time.ticks_ms()

    def step(self):
        """Do what can be done now without waiting: send a piece of the reply
        in flight, or answer the frames held, or take what the UART has.
        Returns the milliseconds until it is worth calling again."""
        if self._total:
            return self._send()
        if self._answer():  # frames held: drained before the decoder takes more
            return self._send()
        uart = self._uart
        dec = self.decoder
        waiting = uart.any()
        n = 0
        if waiting:
            n = uart.readinto(self._rx, waiting if waiting < _CHUNK else _CHUNK)
            if n is None:
                n = 0
        now = time.ticks_ms()
        if n:
            self._last_rx = now
            dec.feed(self._rx, n)
        elif dec.pending and time.ticks_diff(now, self._last_rx) > _STALE_MS:
            dec.resync()
            self._last_rx = now  # the next SOF, if any, gets its own time
        if time.ticks_diff(now, self._last_watch) >= _WATCH_MS:
            self._last_watch = now
            up = bool(self._linked())
            if up != self.up:
                self.up = up
                if not up:
                    dec.reset()
        if self._answer():
            return self._send()
        return 0 if n else _POLL_MS  # a flood still lets the other jobs run

    def _answer(self):
        # The first frame held that has a reply: framed in _out, True.
        dec = self.decoder
        while True:
            try:
                size = dec.next_frame()
            except wire.WireError:
                continue  # counted in dec.bad; the decoder has resynchronised
            if not size:
                return False
            size = self._handle(dec.buf, dec.body, size, self._out)
            if size:
                self._total = wire.frame_into(self._out, size)
                self._sent = 0
                self._stalled = time.ticks_ms()
                return True

    def _send(self):
        # One piece of the reply in flight, once the FIFO has drained.
        uart = self._uart
        if not uart.txdone():
            return _TX_WAIT_MS
        k = self._total - self._sent
        took = uart.write(self._out, self._sent, k if k < _TX_PIECE else _TX_PIECE)
        now = time.ticks_ms()
        if took:
            self._sent += took
            self._stalled = now
        elif time.ticks_diff(now, self._stalled) > _TX_STALL_MS:
            self._sent = self._total  # the rest of this reply is dropped
        if self._sent < self._total:
            return 0 if took and uart.txdone() else _TX_WAIT_MS
        self._total = 0
        return 0
