"""Every OLED screen, drawn by the firmware's real SSD1306 driver on the
simulated device, compared pixel for pixel with the expected frame in
tests/golden/. After a deliberate change of a screen, regenerate them with
UPDATE_GOLDEN=1 and look at the PNGs before committing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image

from homeca.testing.dut import Dut
from nodefw import messages as m

pytestmark = pytest.mark.sim
GOLDEN = Path(__file__).parent / "golden"

# name: (state, code, reading, warning)
SCREENS = {
    "blank": (m.ST_BLANK, None, None, None),
    "released": (m.ST_RELEASED, None, (0, 215, 450), None),
    "unowned": (m.ST_UNOWNED, None, (0, -75, 999), None),
    "pending": (m.ST_PENDING, "482 913", (0, 215, 450), None),
    "owned": (m.ST_OWNED, None, (1, 0, 0), None),
    "paired": (m.ST_PAIRED, None, (0, 231, 388), None),
    "fault-rng": (m.ST_FAULT, None, None, "RNG FAILED"),
    "warn-manufacturer": (m.ST_OWNED, None, (0, 215, 450), "MFR COMPROMISED"),
    "warn-cert": (m.ST_OWNED, None, (2, 0, 0), "CERT EXPIRED"),
}


def _frame(pixels: list[list[bool]]) -> Image.Image:
    data = bytes(255 if lit else 0 for row in pixels for lit in row)
    return Image.frombytes("L", (128, 64), data).convert("1")


def _same(a: Image.Image, b: Image.Image) -> bool:
    return a.size == b.size and a.convert("L").tobytes() == b.convert("L").tobytes()


def test_every_screen_matches_its_golden_frame(dut: Dut) -> None:
    con = dut.console
    con.exec(
        "import board\nfrom nodefw.drivers.ssd1306 import SSD1306\n"
        "from nodefw.screen import Screen\ns = Screen(SSD1306(board.i2c()))"
    )
    update = os.environ.get("UPDATE_GOLDEN") == "1"
    mismatched = []
    for name, (state, code, reading, warning) in SCREENS.items():
        frames = dut.sim.oled.frames
        redrawn = con.exec(
            f"print(s.status('kitchen-node', '5CCF7F0A1B2C', {state}, {code!r}, {reading!r}, "
            f"{warning!r}))"
        )
        assert redrawn.strip() == "True", name
        frame = _frame(dut.sim.oled_pixels(after=frames))
        path = GOLDEN / f"screen-{name}.png"
        if update:
            frame.save(path)
        elif not path.exists() or not _same(Image.open(path), frame):
            frame.save(GOLDEN / f"screen-{name}.actual.png")
            mismatched.append(name)
    assert not mismatched, f"screens differ from tests/golden (see *.actual.png): {mismatched}"
    # Same content again: no redraw, no I2C traffic.
    frames = dut.sim.oled.frames
    assert con.exec("print(s.status('kitchen-node', '5CCF7F0A1B2C', 4, None, None, "
                    "'CERT EXPIRED'))").strip() in ("True", "False")  # fmt: skip
    assert con.exec("print(s.status('kitchen-node', '5CCF7F0A1B2C', 4, None, None, "
                    "'CERT EXPIRED'))").strip() == "False"  # fmt: skip
    assert dut.sim.oled.frames == frames + 1
