"""Board facts in one place: the UART and flash figures are constants of
boards/nodemcu_v3/board.py, which the host reads (homeca.boards) and the rest
must agree with: the link's baud, the simulator's UART buffer, the bundle's
ROMFS capacities, and the simulator's flash window (C, checked here)."""

from __future__ import annotations

import ast
import operator
import re
from pathlib import Path

import pytest

from homeca import BOARDS_DIR, link
from homeca.boards import BOARDS, NODEMCU, board_int, read_int, rom_image_capacity, romfs_size
from homeca.errors import HomecaError
from homeca.sim import device

KIB = 1024
SIMFLASH_C = BOARDS_DIR / "unix_sim" / "simflash" / "simflash.c"


def test_the_host_reads_the_boards_figures() -> None:
    figures = {
        "HC05_BAUD": 9600,
        "HC05_AT_BAUD": 38400,
        "UART_RXBUF": 1024,
        "FLASH_ROMFS_START": 0xB0000,
        "FLASH_ROMFS_END": 0x100000,
        "FLASH_NATIVE_CODE_START": 0xF8000,
    }
    assert {name: board_int(NODEMCU, name) for name in figures} == figures
    assert romfs_size() == 320 * KIB  # FLASH_2M_ROMFS's partition
    assert rom_image_capacity() == 288 * KIB  # less the native code's 32 KiB
    assert link.HC05_BAUD == 9600
    assert device.UART_RXBUF == 1024
    assert BOARDS[NODEMCU].rom_capacity == 288 * KIB
    assert BOARDS["unix_sim"].rom_capacity == 320 * KIB


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ("X = const(1 << 4)\n", "X is not an integer literal"),
        ("A = 1\nX = A\n", "X is not an integer literal"),
        ("X = True\n", "X is not an integer literal"),
        ("X = '9600'\n", "X is not an integer literal"),
        ("X = const(9600, 1)\n", "X is not an integer literal"),
        ("if 1:\n    X = 1\n", "has no module-level X"),
        ("X = 1\nX = 2\n", "assigns X 2 times"),
        ("X = (\n", "cannot read board constants"),
    ],
)
def test_the_host_refuses_what_is_not_a_literal(tmp_path: Path, source: str, error: str) -> None:
    path = tmp_path / "board.py"
    path.write_text(source)
    with pytest.raises(HomecaError, match=re.escape(error)) as raised:
        read_int(path, "X")
    assert str(path) in str(raised.value)


def test_the_host_reads_both_forms(tmp_path: Path) -> None:
    path = tmp_path / "board.py"
    path.write_text("from micropython import const\nA = const(0xB0000)\nB = 7\n")
    assert (read_int(path, "A"), read_int(path, "B")) == (0xB0000, 7)


_C_OPS = {ast.Mult: operator.mul, ast.Add: operator.add, ast.Sub: operator.sub}


def _c_int(node: ast.expr) -> int:
    """A C integer expression of literals, +, - and * (as Python parses it)."""
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _C_OPS:
        return _C_OPS[type(node.op)](_c_int(node.left), _c_int(node.right))
    raise AssertionError(f"not a plain integer expression: {ast.unparse(node)}")


def test_the_simflash_window_is_the_romfs_partition() -> None:
    """The simulator maps the simulated board's whole partition (its C cannot
    read board.py, so this holds the two together)."""
    found = re.findall(r"^#define WINDOW_BYTES (.+)$", SIMFLASH_C.read_text(), re.MULTILINE)
    assert len(found) == 1, f"{SIMFLASH_C}: one #define WINDOW_BYTES expected"
    window = _c_int(ast.parse(found[0].strip(), mode="eval").body)
    assert window == romfs_size(NODEMCU) == BOARDS["unix_sim"].rom_capacity
