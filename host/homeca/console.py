"""The device's USB-serial console: MicroPython's raw REPL, as mpremote speaks it.

Works the same on a real NodeMCU and on the simulator's console pty. The raw
REPL (exec, eval, put, get, listdir) interrupts the running firmware (Ctrl-C),
exactly as mpremote does; soft_reset() starts it again. expect() only reads.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

from mpremote.transport import TransportError, TransportExecError
from mpremote.transport_serial import SerialTransport

from homeca.errors import HomecaError
from homeca.expect import ExpectTimeout

CONSOLE_BAUD = 115200
_OPEN_TRIES = 4
_EXPECT_HELD = 64 * 1024  # console output expect() keeps unmatched: the newest

Pattern = str | bytes | re.Pattern[str] | re.Pattern[bytes]


class ConsoleError(HomecaError):
    pass


class ConsoleTimeout(ConsoleError, ExpectTimeout):
    """expect() saw no match in time; the message shows what came instead."""


class Console:
    def __init__(self, url: str, baudrate: int = CONSOLE_BAUD, log: Path | None = None) -> None:
        """`log`: the device's own log of its console, named in expect() timeouts."""
        # A read timeout keeps every wait bounded, also on a pty. A port that
        # has just (re)appeared can refuse the first open: a few quick retries.
        for attempt in range(_OPEN_TRIES):
            try:
                self._t = SerialTransport(url, baudrate=baudrate, timeout=1)
                break
            except TransportError as e:
                if attempt == _OPEN_TRIES - 1:
                    raise ConsoleError(f"cannot open console {url}: {e}") from e
                time.sleep(0.2)
        self.url = url
        self.log = log
        self._rx = bytearray()  # output read by expect() since its last match (the newest)
        self._rx_total = 0  # its length, had none been let go

    def close(self) -> None:
        if self._t.in_raw_repl:
            self._t.exit_raw_repl()
        self._t.close()

    def __enter__(self) -> Console:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _raw(self) -> SerialTransport:
        if not self._t.in_raw_repl:
            try:
                self._t.enter_raw_repl(soft_reset=False)
            except TransportError as e:
                raise ConsoleError(f"{self.url}: no raw REPL: {e}") from e
        return self._t

    def exec(self, code: str, timeout: float = 10) -> str:
        """Run code in the raw REPL; its printed output, or ConsoleError with the traceback."""
        t = self._raw()
        try:
            out = t.exec_raw(code, timeout=timeout)
        except TransportError as e:
            raise ConsoleError(f"{self.url}: {e}") from e
        stdout, stderr = out
        if stderr:
            raise ConsoleError(stderr.decode(errors="replace").strip())
        return stdout.decode(errors="replace")

    def eval(self, expression: str) -> object:
        try:
            return self._raw().eval(expression)
        except TransportExecError as e:
            raise ConsoleError(e.error_output.strip()) from e

    def put(self, path: str, data: bytes) -> None:
        try:
            self._raw().fs_writefile(path, data)
        except (TransportError, OSError) as e:
            raise ConsoleError(f"cannot write {path}: {e}") from e

    def get(self, path: str) -> bytes:
        try:
            return self._raw().fs_readfile(path)
        except (TransportError, OSError) as e:
            raise ConsoleError(f"cannot read {path}: {e}") from e

    def listdir(self, path: str = "") -> list[str]:
        return [entry.name for entry in self._raw().fs_listdir(path)]

    def expect(self, pattern: Pattern, timeout: float = 10) -> re.Match[bytes]:
        """Wait for `pattern` in the console output that came since the last
        match (the output exec() and friends read is theirs, not expect's):
        a regex (str, encoded as UTF-8, or compiled) or literal bytes. Returns
        the match, on the bytes; the output up to its end is consumed.
        ConsoleTimeout shows the bytes seen instead and the device's log."""
        rx = _compile(pattern)
        ser = self._t.serial
        deadline = time.monotonic() + timeout
        saved, ser.timeout = ser.timeout, 0.05  # short reads: the deadline holds
        try:
            while not (m := rx.search(self._rx)):
                if time.monotonic() >= deadline:
                    raise ConsoleTimeout(
                        self.url, _describe(pattern), timeout, self._rx, self._rx_total,
                        log=self.log,
                    )  # fmt: skip
                data = ser.read(max(1, ser.in_waiting))
                self._rx += data
                self._rx_total += len(data)
                del self._rx[:-_EXPECT_HELD]
        finally:
            ser.timeout = saved
        self._rx = self._rx[m.end() :]  # a new buffer: the match keeps the old one whole
        self._rx_total = len(self._rx)
        return m

    def soft_reset(self, timeout: float = 10) -> str:
        """Ctrl-D at the friendly REPL: boot.py and main.py run again, as after
        pressing reset minus the hardware. Returns what the device printed."""
        t = self._t
        t.serial.write(b"\r\x03")  # stop whatever runs
        time.sleep(0.05)
        t.exit_raw_repl()
        t.serial.reset_input_buffer()
        t.serial.write(b"\x04")
        out = t.read_until(1, b"soft reboot\r\n", timeout=timeout)
        if not out.endswith(b"soft reboot\r\n"):
            raise ConsoleError(f"{self.url}: no soft reboot: {out[-200:]!r}")
        return out.decode(errors="replace")


def _compile(pattern: Pattern) -> re.Pattern[bytes]:
    if isinstance(pattern, bytes):
        return re.compile(re.escape(pattern))
    if isinstance(pattern, str):
        return re.compile(pattern.encode())
    if isinstance(pattern.pattern, str):
        return re.compile(pattern.pattern.encode(), pattern.flags & ~re.UNICODE)
    return pattern


def _describe(pattern: Pattern) -> str:
    if isinstance(pattern, bytes):
        return repr(pattern)
    src = pattern if isinstance(pattern, str) else pattern.pattern
    return f"/{src if isinstance(src, str) else src.decode(errors='backslashreplace')}/"
