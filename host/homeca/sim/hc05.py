"""A model of the HC-05's AT command mode (KEY/EN high at power-up, 38400 baud):
what the bench uses once per board to set the module's name, PIN and data
baud rate. Commands and replies follow the HC-05 (firmware 2.0) command set."""

from __future__ import annotations

ERR_COMMAND = "ERROR:(0)"  # unknown command
ERR_PARAM = "ERROR:(1D)"  # a parameter the module refuses
BAUDS = (4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600, 1382400)


class Hc05Model:
    def __init__(self, address: bytes) -> None:
        self.address = address
        self.name = "HC-05"
        self.pin = "1234"
        self.uart = (9600, 0, 0)
        self.version = "2.0-20100601"
        self._line = b""

    def feed(self, data: bytes) -> bytes:
        """Bytes from the chip in AT mode; the module's replies."""
        replies: list[str] = []
        self._line += data
        while b"\r\n" in self._line:
            line, self._line = self._line.split(b"\r\n", 1)
            replies += self.command(line.decode(errors="replace"))
        self._line = self._line[-128:]  # a runaway line cannot grow without bound
        return "".join(r + "\r\n" for r in replies).encode()

    def command(self, line: str) -> list[str]:
        cmd, _, arg = line.strip().partition("=")
        cmd = cmd.upper()
        if cmd == "AT":
            return ["OK"]
        if cmd == "AT+VERSION?":
            return ["+VERSION:" + self.version, "OK"]
        if cmd == "AT+ADDR?":
            a = self.address.hex()
            return [f"+ADDR:{a[0:4]}:{a[4:6]}:{a[6:12]}", "OK"]
        if cmd == "AT+NAME?":
            return ["+NAME:" + self.name, "OK"]
        if cmd == "AT+NAME" and arg:
            if len(arg) > 32 or not arg.isprintable():
                return [ERR_PARAM]
            self.name = arg
            return ["OK"]
        if cmd == "AT+PSWD?":
            return ["+PSWD:" + self.pin, "OK"]
        if cmd == "AT+PSWD" and arg:
            pin = arg.strip('"')
            if not (pin.isdigit() and 4 <= len(pin) <= 16):
                return [ERR_PARAM]
            self.pin = pin
            return ["OK"]
        if cmd == "AT+UART?":
            return ["+UART:{},{},{}".format(*self.uart), "OK"]
        if cmd == "AT+UART" and arg:
            try:
                baud, stop, parity = (int(v) for v in arg.split(","))
            except ValueError:
                return [ERR_PARAM]
            if baud not in BAUDS or stop not in (0, 1) or parity not in (0, 1, 2):
                return [ERR_PARAM]
            self.uart = (baud, stop, parity)
            return ["OK"]
        return [ERR_COMMAND]
