"""The board layer's contract: firmware above it never tests which board it
runs on, so every board offers the same functions with the same parameters,
and the firmware uses nothing else of `board`."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BOARDS = ("nodemcu_v3", "unix_sim")
# Board-specific helpers the firmware never calls (the simulator's wires).
PRIVATE = {"unix_sim": {"simbus", "SimBus", "OLED_ADDR"}}


def interface(board: str) -> dict[str, tuple[str, ...] | None]:
    """Public functions (name -> parameter names) and constants (name -> None)."""
    tree = ast.parse((ROOT / "boards" / board / "board.py").read_text())
    found: dict[str, tuple[str, ...] | None] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            found[node.name] = tuple(a.arg for a in node.args.args)
        elif isinstance(node, ast.Assign):
            for t in node.targets:
                if isinstance(t, ast.Name):
                    found[t.id] = None
        elif isinstance(node, ast.ClassDef):
            found[node.name] = None
    skip = PRIVATE.get(board, set())
    # Pin numbers, buffer sizes and flash offsets are the board's own business.
    own = ("PIN_", "HC05_", "UART_", "FLASH_")
    return {
        k: v
        for k, v in found.items()
        if not k.startswith("_") and k not in skip and not k.startswith(own)
    }


def used_by_firmware() -> set[str]:
    names = set()
    for src in (ROOT / "firmware" / "nodefw").rglob("*.py"):
        for node in ast.walk(ast.parse(src.read_text())):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "board"
            ):
                names.add(node.attr)
    return names


def test_every_board_offers_the_same_interface() -> None:
    real, sim = (interface(b) for b in BOARDS)
    assert real == sim


def test_the_firmware_uses_only_the_common_interface() -> None:
    used = used_by_firmware()
    assert used, "no board.* use found: the scan is broken"
    assert used <= set(interface("nodemcu_v3")), used - set(interface("nodemcu_v3"))
