# SSD1306 128x64 OLED on I2C, drawn one page (8 rows) at a time: a whole
# frame buffer would take 1 KB of the chip's heap, a page takes 129 bytes.
# draw(paint) has paint render the screen into the page's FrameBuffer once per
# page, shifted up by the page's first row; framebuf clips the rest. The page
# is in the controller's own layout (MONO_VLSB), after the data control byte,
# so each page is one bulk write and the pages fill GDDRAM in order.
import framebuf
from micropython import const

_CTRL_CMD = const(0x00)  # Co=0, D/C#=0: the rest of the transfer is commands
_CTRL_DATA = const(0x40)  # Co=0, D/C#=1: the rest of the transfer is GDDRAM data
_SET_CONTRAST = const(0x81)
_SET_NORM_INV = const(0xA6)
_SET_DISP = const(0xAE)
_SET_MEM_ADDR = const(0x20)
_SET_DISP_START_LINE = const(0x40)
_SET_SEG_REMAP = const(0xA0)
_SET_MUX_RATIO = const(0xA8)
_SET_COM_OUT_DIR = const(0xC0)
_SET_DISP_OFFSET = const(0xD3)
_SET_COM_PIN_CFG = const(0xDA)
_SET_DISP_CLK_DIV = const(0xD5)
_SET_PRECHARGE = const(0xD9)
_SET_VCOM_DESEL = const(0xDB)
_SET_ENTIRE_ON = const(0xA4)
_SET_CHARGE_PUMP = const(0x8D)

# Commands before each frame: the whole screen as the write window.
_SHOW_WINDOW = const(b"\x00\x21\x00\x7f\x22\x00\x07")  # column 0..127 (0x21), page 0..7 (0x22)

_ADDR = const(0x3C)
_WIDTH = const(128)
_HEIGHT = const(64)
_PAGE = const(8)  # rows per page


class SSD1306:
    def __init__(self, i2c, addr=_ADDR):
        if addr not in i2c.scan():
            raise OSError(19, "no SSD1306 at I2C address 0x%02x" % addr)
        self.i2c = i2c
        self.addr = addr
        self._page = bytearray(1 + _WIDTH)  # the data control byte, then the page
        self._page[0] = _CTRL_DATA
        page = memoryview(self._page)[1:]
        self.fb = framebuf.FrameBuffer(page, _WIDTH, _PAGE, framebuf.MONO_VLSB)
        self._cmd = bytearray(7)
        self._send(
            _SET_DISP,  # off while configuring
            _SET_MEM_ADDR, 0x00,  # horizontal addressing
            _SET_DISP_START_LINE,
            _SET_SEG_REMAP | 1,  # column 127 is SEG0: buffer x grows to the right
            _SET_MUX_RATIO, _HEIGHT - 1,
            _SET_COM_OUT_DIR | 0x08,  # scan from COM[N-1]: buffer y grows down
            _SET_DISP_OFFSET, 0x00,
            _SET_COM_PIN_CFG, 0x12,  # alternative COM pins, as on 128x64 panels
            _SET_DISP_CLK_DIV, 0x80,
            _SET_PRECHARGE, 0xF1,  # internal charge pump
            _SET_VCOM_DESEL, 0x30,
            _SET_CONTRAST, 0xFF,
            _SET_ENTIRE_ON,  # follow RAM
            _SET_NORM_INV,  # not inverted
            _SET_CHARGE_PUMP, 0x14,
        )  # fmt: skip
        self.draw(_blank)
        self.power(True)

    def _send(self, *cmds):
        buf = self._cmd
        for i in range(0, len(cmds), len(buf) - 1):
            part = cmds[i : i + len(buf) - 1]
            buf[0] = _CTRL_CMD
            for j, c in enumerate(part):
                buf[j + 1] = c
            self.i2c.writeto(self.addr, memoryview(buf)[: len(part) + 1])

    def power(self, on):
        self._send(_SET_DISP | (1 if on else 0))

    def contrast(self, level):
        self._send(_SET_CONTRAST, level & 0xFF)

    def invert(self, on):
        self._send(_SET_NORM_INV | (1 if on else 0))

    def draw(self, paint):
        """Draw the screen: paint(fb, y) renders it into fb shifted up by y,
        for y = 0, 8, ..., 56. Allocates nothing of its own."""
        i2c = self.i2c
        fb = self.fb
        i2c.writeto(self.addr, _SHOW_WINDOW)
        for y in range(0, _HEIGHT, _PAGE):
            fb.fill(0)
            paint(fb, y)
            i2c.writeto(self.addr, self._page)


def _blank(fb, y):
    pass
