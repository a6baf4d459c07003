"""Devices under test: one interface over the simulator and real boards.

Protocol tests talk to `Dut`; the target decides what is behind it:
  unix            the unix-port device, with the simulator's shortcuts
  unix32          the same on the 32-bit ESP8266-like interpreter, at the
                  chip's 38 KiB heap
  pty             the same device, driven only through its console pty
  serial:PORT     a real NodeMCU (console on PORT, HC-05 via --hc05 URL)
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from homeca.console import Console
from homeca.errors import HomecaError
from homeca.link import Link, LinkError
from homeca.sim.device import SimDevice


class DutError(HomecaError):
    pass


SIM_TARGETS = ("unix", "unix32", "pty")


class Dut:
    target: str
    sim: SimDevice | None = None  # peripherals and power; None on hardware

    def __init__(self, console_url: str, hc05_url: str | None) -> None:
        self.console_url = console_url
        self.hc05_url = hc05_url
        self._console: Console | None = None
        self._link: Link | None = None

    # What every target offers --------------------------------------------

    @property
    def link(self) -> Link:
        """The phone's end of the HC-05 link."""
        if self.hc05_url is None:
            raise DutError(f"{self.target}: no HC-05 link (pass --hc05 URL)")
        if self._link is None:
            self._link = Link(self.hc05_url)
        return self._link

    @property
    def console(self) -> Console:
        """The raw REPL; opening it stops the firmware until reboot()."""
        if self._console is None:
            self._console = Console(self.console_url)
        return self._console

    def status(self) -> dict[str, Any]:
        return self.link.status()

    def exec(self, code: str, timeout: float = 10) -> str:
        return self.console.exec(code, timeout)

    def put(self, path: str, data: bytes) -> None:
        self.console.put(path, data)

    def get(self, path: str) -> bytes:
        return self.console.get(path)

    def reboot(self, timeout: float = 15) -> None:
        """Soft reset into the firmware and wait until it answers."""
        self.console.soft_reset()
        self._close_console()
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.link.status(timeout=1)
                return
            except LinkError:
                if time.monotonic() > deadline:
                    raise

    def _close_console(self) -> None:
        if self._console is not None:
            self._console.close()
            self._console = None

    def disconnect(self) -> None:
        """Close console and link; the device runs on."""
        self._close_console()
        if self._link is not None:
            self._link.close()
            self._link = None

    def close(self) -> None:
        self.disconnect()


class SimDut(Dut):
    """`pty`: the simulated device, used only through what a real board offers."""

    target = "pty"

    def __init__(self, sim: SimDevice) -> None:
        self.sim = sim
        super().__init__(sim.console.path, sim.hc05.path)

    def wait_ready(self, timeout: float = 15) -> None:
        self.sim.wait_ready(timeout)

    def close(self) -> None:
        self.disconnect()
        self.sim.stop()


class UnixDut(SimDut):
    """`unix`: the simulated device with shortcuts: files go straight to its
    flash and reboot is a power cycle."""

    target = "unix"

    def _flash_path(self, path: str) -> Path:
        rel = Path(path.lstrip("/"))
        if ".." in rel.parts:
            raise DutError(f"path {path!r} leaves the device filesystem")
        return self.sim.flash_dir / rel

    def put(self, path: str, data: bytes) -> None:
        dest = self._flash_path(path)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)

    def get(self, path: str) -> bytes:
        return self._flash_path(path).read_bytes()

    def reboot(self, timeout: float = 15) -> None:
        self._close_console()
        self.sim.restart()
        self.sim.wait_ready(timeout)


def open_dut(target: str, workdir: Path, hc05: str | None = None, heapsize: str | None = None,
             name: str = "dut") -> Dut:  # fmt: skip
    """A ready device for `target` (unix, unix32, pty or serial:PORT)."""
    if target in SIM_TARGETS:
        interp = "unix32" if target == "unix32" else "unix"
        sim = SimDevice(workdir / name, name=name, heapsize=heapsize, interpreter=interp).start()
        dut: Dut = SimDut(sim) if target == "pty" else UnixDut(sim)
        dut.target = target
    elif target.startswith("serial:"):
        dut = Dut(target.removeprefix("serial:"), hc05)
        dut.target = "serial"
    else:
        raise DutError(f"unknown target {target!r}: unix, unix32, pty or serial:PORT")
    try:
        dut.wait_ready()
    except BaseException:
        dut.close()
        raise
    return dut
