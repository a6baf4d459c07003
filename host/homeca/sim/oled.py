"""A model of the SSD1306 controller, fed with the I2C writes of the device.

The firmware's real driver runs unchanged on the unix port; this model decodes
its command stream, so a driver bug shows up as a wrong picture or an error
here rather than only on the bench.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image

WIDTH, HEIGHT, PAGES = 128, 64, 8

# Commands and how many argument bytes follow each one.
_ARGS = {
    0x20: 1, 0x21: 2, 0x22: 2, 0x26: 6, 0x27: 6, 0x29: 5, 0x2A: 5, 0x81: 1, 0x8D: 1,
    0xA3: 2, 0xA8: 1, 0xD3: 1, 0xD5: 1, 0xD9: 1, 0xDA: 1, 0xDB: 1,
}  # fmt: skip
_NO_ARGS = {0x2E, 0x2F, 0xA0, 0xA1, 0xA4, 0xA5, 0xA6, 0xA7, 0xAE, 0xAF, 0xC0, 0xC8, 0xE3}


class OledError(ValueError):
    """The device sent the controller something it does not understand."""


class SSD1306Model:
    def __init__(self) -> None:
        self.ram = bytearray(WIDTH * PAGES)
        self.on = False
        self.inverted = False
        self.entire_on = False
        self.contrast = 0x7F
        self.seg_remap = False
        self.com_reversed = False
        self.mode = 2  # page addressing after reset
        self.col_range = (0, WIDTH - 1)
        self.page_range = (0, PAGES - 1)
        self.col = 0
        self.page = 0
        # Frames started, to notice redraws: a data transfer in page mode, or one
        # that starts at the beginning of the column/page window (the driver
        # writes the whole screen as a window, a page per transfer) ...
        self.frames = 0
        # ... and finished: a transfer in page mode at once, otherwise when the
        # window is full.
        self.frames_done = 0
        self._pending: list[int] = []  # a command waiting for its arguments
        self._data = False

    def write(self, data: bytes, first: bool) -> None:
        """One I2C write transfer (possibly split in chunks: first marks a new one)."""
        if first:
            if not data:
                raise OledError("empty I2C write")
            ctrl, data = data[0], data[1:]
            if ctrl & 0x80:
                raise OledError("continuation control bytes (Co=1) are not used by the driver")
            self._data = bool(ctrl & 0x40)
        if self._data:
            at_start = (self.col, self.page) == (self.col_range[0], self.page_range[0])
            for b in data:
                self._put(b)
            if first and (self.mode == 2 or at_start):
                self.frames += 1  # however the transfers were chunked
                if self.mode == 2:
                    self.frames_done = self.frames
        else:
            for b in data:
                self._command_byte(b)

    def bus_released(self) -> None:
        """The chip reset or lost power: a transfer it had begun has ended."""
        self.frames_done = self.frames

    def _command_byte(self, b: int) -> None:
        if self._pending:
            self._pending.append(b)
            if len(self._pending) == 1 + _ARGS[self._pending[0]]:
                cmd, *args = self._pending
                self._pending = []
                self._command(cmd, args)
            return
        if b in _ARGS:
            self._pending = [b]
        else:
            self._command(b, [])

    def _command(self, cmd: int, args: list[int]) -> None:
        if cmd == 0x20:
            self.mode = args[0] & 3
        elif cmd == 0x21:
            self.col_range = (args[0] & 0x7F, args[1] & 0x7F)
            self.col = self.col_range[0]
        elif cmd == 0x22:
            self.page_range = (args[0] & 7, args[1] & 7)
            self.page = self.page_range[0]
        elif cmd == 0x81:
            self.contrast = args[0]
        elif cmd in (0xA0, 0xA1):
            self.seg_remap = cmd == 0xA1
        elif cmd in (0xA4, 0xA5):
            self.entire_on = cmd == 0xA5
        elif cmd in (0xA6, 0xA7):
            self.inverted = cmd == 0xA7
        elif cmd in (0xAE, 0xAF):
            self.on = cmd == 0xAF
        elif cmd in (0xC0, 0xC8):
            self.com_reversed = cmd == 0xC8
        elif cmd <= 0x0F and self.mode == 2:
            self.col = (self.col & 0xF0) | cmd
        elif 0x10 <= cmd <= 0x1F and self.mode == 2:
            self.col = (self.col & 0x0F) | ((cmd & 0x0F) << 4)
        elif 0xB0 <= cmd <= 0xB7:
            self.page = cmd & 7
        elif 0x40 <= cmd <= 0x7F or cmd in _ARGS or cmd in _NO_ARGS:
            pass  # timing, scrolling and panel wiring: no effect on the picture here
        else:
            raise OledError(f"unknown SSD1306 command 0x{cmd:02x}")

    def _put(self, b: int) -> None:
        self.ram[self.page * WIDTH + self.col] = b
        if self.mode == 2:  # page mode: the column wraps inside the page
            self.col = 0 if self.col == WIDTH - 1 else self.col + 1
            return
        c0, c1 = self.col_range
        p0, p1 = self.page_range
        if self.col < c1:
            self.col += 1
            return
        self.col = c0
        if self.page >= p1:
            self.page = p0
            self.frames_done = self.frames  # the window is full: the transfer is complete
        else:
            self.page += 1

    def pixels(self) -> list[list[bool]]:
        """What the glass shows, row by row (the usual module: A1/C8 is upright)."""
        rows = []
        for y in range(HEIGHT):
            ry = y if self.com_reversed else HEIGHT - 1 - y
            row = []
            for x in range(WIDTH):
                rx = x if self.seg_remap else WIDTH - 1 - x
                bit = bool(self.ram[(ry // 8) * WIDTH + rx] >> (ry % 8) & 1)
                if self.entire_on:
                    bit = True
                row.append(self.on and (bit != self.inverted))
            rows.append(row)
        return rows

    def state(self) -> dict:
        return {"on": self.on, "inverted": self.inverted, "ram": bytes(self.ram)}


def frame_to_png(pixels: list[list[bool]], path: Path, scale: int = 4) -> Path:
    """Render a frame like the panel looks: cyan-white dots on black."""
    img = Image.new("RGB", (WIDTH, HEIGHT), (8, 8, 12))
    px = img.load()
    for y, row in enumerate(pixels):
        for x, lit in enumerate(row):
            if lit:
                px[x, y] = (170, 230, 255)
    img = img.resize((WIDTH * scale, HEIGHT * scale), Image.NEAREST)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)
    return path
