"""Devices under test: one interface over the simulator and real boards.

Protocol tests talk to `Dut`; the target decides what is behind it:
  unix            the unix-port device, with the simulator's shortcuts
  unix32          the same on the 32-bit ESP8266-like interpreter, at the
                  chip's 38 KiB heap
  pty             the same device, driven only through its console pty
  serial:PORT     a real NodeMCU (console on PORT, HC-05 via --hc05 URL);
                  serial:PORT1|PORT2|... several, their links URL1|URL2|...
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from homeca.console import Console, Pattern
from homeca.errors import HomecaError
from homeca.link import Link, LinkError
from homeca.sim.device import SimDevice


class DutError(HomecaError):
    pass


class NotEnoughBoards(DutError):
    """More devices wanted on `serial:` than the target names."""


SIM_TARGETS = ("unix", "unix32", "pty")


class Dut:
    target: str
    sim: SimDevice | None = None  # peripherals and power; None on hardware
    log_path: Path | None = None  # the device's console log; none kept for hardware

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
            self._link = Link(self.hc05_url, log=self.log_path)
        return self._link

    @property
    def console(self) -> Console:
        """The console; its raw REPL (exec and friends) stops the firmware until reboot()."""
        if self._console is None:
            self._console = Console(self.console_url, log=self.log_path)
        return self._console

    def expect(self, pattern: Pattern, timeout: float = 10) -> re.Match[bytes]:
        """`console.expect`: wait for a regex or literal bytes on the console."""
        return self.console.expect(pattern, timeout)

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
        self.log_path = sim.console_log_path
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
    """A ready device for `target` (unix, unix32, pty or serial:PORT); on
    serial:PORT1|PORT2|... the first board."""
    return open_duts(target, workdir, [name], hc05, heapsize)[0]


def open_duts(target: str, workdir: Path, names: Sequence[str], hc05: str | None = None,
              heapsize: str | None = None) -> list[Dut]:  # fmt: skip
    """Ready devices, one per name, all on `target`. Simulated ones each have
    their own state directory, workdir/name, and MAC, and boot side by side;
    on serial:PORT1|PORT2|... they are the boards in that order, with the
    links of `hc05` (URL1|URL2|...), and NotEnoughBoards says when the target
    names fewer than wanted. If one fails to start, all are closed."""
    boards: list[tuple[str, str | None] | None]
    if target in SIM_TARGETS:
        boards = [None] * len(names)
    elif target.startswith("serial:"):
        boards = [*serial_boards(target, hc05)]
        if len(boards) < len(names):
            raise NotEnoughBoards(
                f"{len(names)} boards needed, {target!r} names {len(boards)}: give their "
                "consoles as serial:PORT1|PORT2|... and their links as --hc05 URL1|URL2|..."
            )
    else:
        raise DutError(f"unknown target {target!r}: unix, unix32, pty or serial:PORT")
    duts: list[Dut] = []
    with contextlib.ExitStack() as opened:  # closes every one if any fails
        for name, board in zip(names, boards, strict=False):
            dut = _new_dut(target, workdir / name, name, board, heapsize)
            opened.callback(dut.close)
            duts.append(dut)
        for dut in duts:  # simulated devices boot meanwhile, together
            dut.wait_ready()
        opened.pop_all()
    return duts


def _new_dut(target: str, state_dir: Path, name: str, board: tuple[str, str | None] | None,
             heapsize: str | None) -> Dut:  # fmt: skip
    """Started, not yet ready: a board (console, link), or else a simulated device."""
    if board is not None:
        dut = Dut(*board)
        dut.target = "serial"
        return dut
    interp = "unix32" if target == "unix32" else "unix"
    sim = SimDevice(state_dir, name=name, heapsize=heapsize, interpreter=interp).start()
    dut = SimDut(sim) if target == "pty" else UnixDut(sim)
    dut.target = target
    return dut


def serial_boards(target: str, hc05: str | None) -> list[tuple[str, str | None]]:
    """(console, HC-05 link) of each board of serial:PORT1|PORT2|...; the
    links are `hc05` split likewise, one per board, or none at all."""
    ports = target.removeprefix("serial:").split("|")
    links = hc05.split("|") if hc05 else None
    if not all(ports) or (links is not None and (len(links) != len(ports) or not all(links))):
        raise DutError(
            f"{target!r} with --hc05 {hc05!r}: one console and one link per board, separated by |"
        )
    return [(port, links[i] if links else None) for i, port in enumerate(ports)]
