"""The device's USB-serial console: MicroPython's raw REPL, as mpremote speaks it.

Works the same on a real NodeMCU and on the simulator's console pty. Opening
the console interrupts the running firmware (Ctrl-C), exactly as mpremote does;
soft_reset() starts it again.
"""

from __future__ import annotations

import time

from mpremote.transport import TransportError, TransportExecError
from mpremote.transport_serial import SerialTransport

from homeca.errors import HomecaError

CONSOLE_BAUD = 115200


class ConsoleError(HomecaError):
    pass


class Console:
    def __init__(self, url: str, baudrate: int = CONSOLE_BAUD) -> None:
        try:
            # A read timeout keeps every wait bounded, also on a pty.
            self._t = SerialTransport(url, baudrate=baudrate, timeout=1)
        except TransportError as e:
            raise ConsoleError(f"cannot open console {url}: {e}") from e
        self.url = url

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
