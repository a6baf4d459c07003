# What the OLED shows: one status screen, 16 x 8 characters. Redraws only when
# the content changes: an I2C frame write costs the ESP8266 ~25 ms at 400 kHz.
from nodefw.messages import DHT_NAMES, ST_PENDING, STATE_NAMES


class Screen:
    def __init__(self, display):
        self.display = display
        self._shown = None

    def status(self, name, serial, state, code=None, reading=None, warning=None):
        """Draw the device's status. code: the pairing/approval short code shown
        while pending; reading: (status, tenths degC, tenths %RH) or None;
        warning: a short text shown inverted at the bottom, or None.
        Returns True when the screen was redrawn."""
        content = (name, serial, state, code, reading, warning)
        if content == self._shown:
            return False
        self._shown = content  # what _paint draws
        try:
            self.display.draw(self._paint)
        except Exception:
            self._shown = None  # half drawn: the same content must draw again
            raise
        return True

    def _paint(self, d, y):
        # The whole screen, y rows up: called once per page (drivers/ssd1306.py).
        name, serial, state, code, reading, warning = self._shown
        d.fill_rect(0, -y, 128, 11, 1)
        d.text(name[:16], 1, 2 - y, 0)
        d.text(serial[:16], 0, 14 - y, 1)
        d.text(STATE_NAMES[state], 0, 26 - y, 1)
        if state == ST_PENDING and code:
            d.text("code " + code[:11], 0, 36 - y, 1)
        elif reading is not None:
            d.text(_reading_text(reading), 0, 38 - y, 1)
        if warning:
            d.fill_rect(0, 52 - y, 128, 12, 1)
            d.text(warning[:16], 1, 54 - y, 0)


def _tenths(v):
    sign = "-" if v < 0 else ""
    v = -v if v < 0 else v
    return sign + str(v // 10) + "." + str(v % 10)


def _reading_text(reading):
    status, t, h = reading
    if status:
        return "sensor " + (DHT_NAMES[status] if status < len(DHT_NAMES) else "fault")
    return _tenths(t) + "C " + _tenths(h) + "%"
