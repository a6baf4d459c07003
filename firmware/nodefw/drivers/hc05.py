# The HC-05's AT command mode, for the bench: set the module's name, PIN and
# data baud rate once per board and read them back. Data mode (the frames of
# the wire format) is drivers/hc05_link.py; the firmware never loads this one.
import time
from micropython import const

_LINE_MAX = const(64)
_LINES_MAX = const(8)


class Hc05Error(Exception):
    """The module answered ERROR:(code), or nothing, or too much."""


class AtPort:
    def __init__(self, stream, timeout_ms=1000):
        self.stream = stream  # non-blocking read/write: board.hc05_at(True)
        self.timeout_ms = timeout_ms
        self._buf = bytearray(_LINE_MAX)

    def command(self, cmd):
        """Send one AT command; the reply lines before OK (e.g. ["+NAME:x"])."""
        self._drain()
        self.stream.write(cmd.encode() + b"\r\n")
        lines = []
        deadline = time.ticks_add(time.ticks_ms(), self.timeout_ms)
        n = 0
        while True:
            b = self.stream.read(1)
            if not b:
                if time.ticks_diff(deadline, time.ticks_ms()) < 0:
                    raise Hc05Error("no answer to " + cmd)
                time.sleep_ms(2)
                continue
            if b == b"\n":
                line = bytes(self._buf[:n]).decode().strip()
                n = 0
                if line == "OK":
                    return lines
                if line.startswith("ERROR"):
                    raise Hc05Error(cmd + ": " + line)
                if line:
                    if len(lines) == _LINES_MAX:
                        raise Hc05Error("too many reply lines to " + cmd)
                    lines.append(line)
            elif n < _LINE_MAX:
                self._buf[n] = b[0]
                n += 1

    def _drain(self):
        while self.stream.read(64):
            pass

    def query(self, what):
        """The value of AT+WHAT? (e.g. query("NAME") -> "HC-05")."""
        for line in self.command("AT+" + what + "?"):
            if line.startswith("+" + what + ":"):
                return line[len(what) + 2 :]
        raise Hc05Error("no +" + what + " in the reply")

    def configure(self, name=None, pin=None, baud=None):
        """Set what is given, then read everything back: the settings as the
        module now reports them."""
        self.command("AT")
        if name is not None:
            self.command("AT+NAME=" + name)
        if pin is not None:
            self.command("AT+PSWD=" + pin)
        if baud is not None:
            self.command("AT+UART=" + str(baud) + ",0,0")
        return {
            "name": self.query("NAME"),
            "pin": self.query("PSWD").strip('"'),
            "uart": self.query("UART"),
            "version": self.query("VERSION"),
            "addr": self.query("ADDR"),
        }
