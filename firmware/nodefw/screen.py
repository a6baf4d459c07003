# What the OLED shows. Redraws only when the content changes: an I2C frame
# write costs the ESP8266 ~25 ms at 400 kHz.
from nodefw.messages import STATE_NAMES


class Screen:
    def __init__(self, display):
        self.display = display
        self._shown = None

    def identity(self, name, serial, state):
        content = (name, serial, state)
        if content == self._shown:
            return False
        d = self.display
        d.fill(0)
        d.fill_rect(0, 0, 128, 11, 1)
        d.text("HomeCA node", 2, 2, 0)
        d.text(name[:16], 0, 16, 1)
        d.text(serial[:16], 0, 28, 1)
        d.text("state:", 0, 44, 1)
        d.text(STATE_NAMES[state], 0, 54, 1)
        d.show()
        self._shown = content
        return True
