"""Board facts for the host, read from the boards' own modules.

A board's figures (UART baud and buffer, flash offsets) are written once, as
module-level constants of boards/<board>/board.py, the MicroPython module the
device imports as `board`. The host never imports that module (it needs
`machine`); it reads the constants from the source with `ast`. Only
`NAME = const(<int literal>)` and `NAME = <int literal>` are read: anything
else for a name asked for is an error naming the file.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from homeca import BOARDS_DIR
from homeca.errors import HomecaError

NODEMCU = "nodemcu_v3"  # the real board, which the simulator (unix_sim) stands in for


def board_file(board: str) -> Path:
    return BOARDS_DIR / board / "board.py"


@cache
def _assignments(path: Path) -> dict[str, list[ast.expr]]:
    # Each board.py is parsed once, however many figures are read from it.
    try:
        tree = ast.parse(path.read_text(), filename=str(path))
    except (OSError, SyntaxError, ValueError) as e:
        raise HomecaError(f"cannot read board constants from {path}: {e}") from e
    values: dict[str, list[ast.expr]] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            for t in node.targets:
                if isinstance(t, ast.Name):
                    values.setdefault(t.id, []).append(node.value)
    return values


def _only(path: Path, name: str) -> ast.expr:
    values = _assignments(path).get(name, [])
    if not values:
        raise HomecaError(f"{path} has no module-level {name}")
    if len(values) > 1:
        raise HomecaError(f"{path} assigns {name} {len(values)} times")
    return values[0]


def read_int(path: Path, name: str) -> int:
    """The integer `name` is assigned at module level in `path`."""
    value = _only(path, name)
    if (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Name)
        and value.func.id == "const"
        and len(value.args) == 1
        and not value.keywords
    ):
        value = value.args[0]
    if not (
        isinstance(value, ast.Constant)
        and isinstance(value.value, int)
        and not isinstance(value.value, bool)
    ):
        raise HomecaError(
            f"{path}:{value.lineno}: {name} is not an integer literal "
            f"(only {name} = const(<int>) or {name} = <int> are read)"
        )
    return value.value


def board_int(board: str, name: str) -> int:
    """The integer constant `name` of the board's board.py."""
    return read_int(board_file(board), name)


def board_text(board: str, name: str) -> str:
    """The string constant `name` of the board's board.py (NAME, MODEL)."""
    path = board_file(board)
    value = _only(path, name)
    if not (isinstance(value, ast.Constant) and isinstance(value.value, str)):
        raise HomecaError(f"{path}:{value.lineno}: {name} is not a string literal")
    return value.value


def romfs_size(board: str = NODEMCU) -> int:
    """Bytes in the board's ROMFS partition."""
    return board_int(board, "FLASH_ROMFS_END") - board_int(board, "FLASH_ROMFS_START")


def rom_image_capacity(board: str = NODEMCU) -> int:
    """Bytes of the ROMFS partition an image may use: all before the native code."""
    return board_int(board, "FLASH_NATIVE_CODE_START") - board_int(board, "FLASH_ROMFS_START")


@dataclass(frozen=True)
class BoardSpec:
    """What goes into one board's bundle besides the whole device package."""

    arch: str  # mpy-cross -march, and the build/ecc/<arch> the native module comes from
    other_archs: tuple[str, ...] = ()  # the same board on another interpreter (build_bundle arch=)
    skip_firmware: tuple[str, ...] = ()  # nodefw modules (package-relative) not deployed
    skip_board: tuple[str, ...] = ()  # board files that are not device files
    rom_capacity: int = field(kw_only=True)  # bytes of ROMFS partition the image may use


BOARDS: dict[str, BoardSpec] = {
    # simctl: the simulator's wire messages, imported only by boards/unix_sim.
    # The image may fill the ROMFS partition up to the native code boot.py
    # places in its last 32 KiB (the figures: boards/nodemcu_v3/board.py).
    NODEMCU: BoardSpec(
        "xtensa", skip_firmware=("simctl.py",), rom_capacity=rom_image_capacity(NODEMCU)
    ),
    # startup.py (and reset.py, which it runs) is the unix port's stand-in for
    # the C startup: the simulator runs it as the interpreter's script, it is
    # not on the device filesystem.
    # x86: the same board on the 32-bit ESP8266-like interpreter (unix32). Its
    # flash window (boards/unix_sim/simflash) is the whole partition it simulates.
    "unix_sim": BoardSpec(
        "x64",
        other_archs=("x86",),
        skip_board=("startup.py", "reset.py"),
        rom_capacity=romfs_size(NODEMCU),
    ),
}


def board_spec(board: str) -> BoardSpec:
    spec = BOARDS.get(board)
    if spec is None or not board_file(board).is_file():
        known = ", ".join(sorted(BOARDS))
        raise HomecaError(f"unknown board {board!r} (boards with a bundle: {known})")
    return spec
