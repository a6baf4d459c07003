"""Request/response over a framed byte link: the device's HC-05 serial line.

The host end is any pyserial URL: the simulator's pty, an rfcomm tty bound to
a real HC-05, or socket:// for a bridge.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import serial

from homeca.boards import NODEMCU, board_int
from homeca.errors import HomecaError
from homeca.expect import TAIL, ExpectTimeout
from nodefw import messages, wire, wirebytes

HC05_BAUD = board_int(NODEMCU, "HC05_BAUD")  # the device's side of the link


class LinkError(HomecaError):
    """No answer, a malformed answer, or the wrong kind of answer."""


class LinkTimeout(LinkError, ExpectTimeout):
    """expect() saw no message of the type in time; the message shows what came instead."""


class Message(NamedTuple):
    mtype: int
    rid: int
    fields: dict[str, Any]


class DeviceError(LinkError):
    """The device answered with an ERROR message."""

    def __init__(self, code: int, detail: str) -> None:
        super().__init__(f"device error {code}: {detail}")
        self.code = code
        self.detail = detail


class Link:
    def __init__(
        self, url: str, baudrate: int = HC05_BAUD, timeout: float = 5.0, log: Path | None = None
    ) -> None:
        """`log`: the device's log, named in expect() timeouts."""
        try:
            self._port = serial.serial_for_url(url, baudrate=baudrate, timeout=0.05)
        except (serial.SerialException, ValueError) as e:
            raise LinkError(f"cannot open link {url}: {e}") from e
        self.url = url
        self.timeout = timeout
        self._dec = wire.Decoder(messages.LINK_MAX_BODY)
        self._rid = int.from_bytes(os.urandom(2), "big")
        self.stale = 0  # answers to earlier requests, discarded
        self.log = log
        self.received = 0  # bytes read from the line
        self._tail = bytearray()  # the last TAIL of them

    def close(self) -> None:
        self._port.close()

    def __enter__(self) -> Link:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send_raw(self, data: bytes) -> None:
        self._port.write(data)
        self._port.flush()

    def send(self, mtype: int, fields: dict[str, Any] | None = None) -> int:
        """Send one message; returns its request id."""
        self._rid = (self._rid + 1) & 0xFFFF
        body = messages.encode(mtype, self._rid, fields or {})
        if len(body) > messages.LINK_MAX_BODY:
            raise LinkError(
                f"message of {len(body)} bytes is over the link's {messages.LINK_MAX_BODY}"
            )
        self.send_raw(wirebytes.frame(body))
        return self._rid

    def receive(
        self, rid: int, *, expect: int | None = None, timeout: float | None = None
    ) -> dict[str, Any]:
        """The fields of the answer to request `rid`; DeviceError if it is an ERROR."""
        wait = self.timeout if timeout is None else timeout
        for body in self._bodies(time.monotonic() + wait):
            try:
                rtype, rrid, rfields = messages.decode(body)
            except wire.WireError as e:
                raise LinkError(f"malformed answer from the device: {e}") from e
            if rrid != rid:
                self.stale += 1
                continue
            if rtype == messages.ERROR:
                raise DeviceError(rfields["code"], rfields["detail"])
            if expect is not None and rtype != expect:
                raise LinkError(f"expected message type {expect:#04x}, got {rtype:#04x}")
            return rfields
        raise LinkError(f"no answer on {self.url} within {wait:g} s")

    def request(
        self, mtype: int, fields: dict[str, Any] | None = None, *, expect: int | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """Send one request and return the fields of its answer."""
        return self.receive(self.send(mtype, fields), expect=expect, timeout=timeout)

    def expect(self, mtype: int, timeout: float | None = None) -> Message:
        """The next message of type `mtype`, whatever its request id; messages
        of other types before it are skipped. LinkTimeout shows them, the bytes
        that came, the decoder's counters and the device's log."""
        wait = self.timeout if timeout is None else timeout
        start = self.received
        skipped: list[str] = []
        for body in self._bodies(time.monotonic() + wait):
            try:
                rtype, rid, fields = messages.decode(body)
            except wire.WireError as e:
                skipped.append(f"{len(body)} B undecodable: {e}")
                continue
            if rtype == mtype:
                return Message(rtype, rid, fields)
            error = f" ({fields['code']}: {fields['detail']})" if rtype == messages.ERROR else ""
            skipped.append(f"{rtype:#04x} rid {rid} {len(body)} B{error}")
        d = self._dec
        details = [
            f"decoder: dropped={d.dropped} bad={d.bad} pending={d.pending}; stale={self.stale}",
            f"{len(skipped)} messages of other types: " + (", ".join(skipped[-16:]) or "none"),
        ]
        n = self.received - start
        raise LinkTimeout(
            self.url, f"message {mtype:#04x}", wait, self._tail[-n:] if n else b"", n,
            details, self.log,
        )  # fmt: skip

    def _bodies(self, deadline: float) -> Iterator[bytes]:
        """Message bodies as they come, until the deadline."""
        while time.monotonic() < deadline:
            body = self._next_body()
            if body is not None:
                yield body

    def _next_body(self) -> bytes | None:
        while True:
            try:
                body = wirebytes.next_body(self._dec)
            except wire.WireError:
                continue  # corrupt frame on the line: counted in the decoder
            if body is not None:
                return body
            data = self._port.read(max(1, min(self._port.in_waiting, wire.MAX_BODY)))
            if not data:
                return None
            self.received += len(data)
            self._tail += data
            del self._tail[:-TAIL]
            self._dec.feed(data)

    def status(self, timeout: float | None = None) -> dict[str, Any]:
        return self.request(messages.STATUS_REQ, expect=messages.STATUS, timeout=timeout)
