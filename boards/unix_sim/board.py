# Board support for the unix-port device: the same interface as
# boards/nodemcu_v3/board.py, backed by the simulator's peripherals.
import os
import select
import socket
import struct
from binascii import unhexlify
from micropython import const

from nodefw import simctl

NAME = "unix_sim"
MODEL = "nodemcu-v3-sim"
NATIVE_ECC = False  # tests may run the firmware without the native build: ecc_pure then
OLED_ADDR = const(0x3C)
_ENODEV = const(19)
_UART_ANY = const(64)  # what any() reports while the socket is readable

_bus = None


def simbus():
    global _bus
    if _bus is None:
        import simbus as _simbus

        _bus = _simbus.open_from_env()
    return _bus


def mac():
    """The chip MAC, the device's serial number."""
    return unhexlify(os.getenv("HOMECA_SIM_MAC"))


class SimI2C:
    """machine.I2C's write side; the devices on the bus live in the simulator."""

    def scan(self):
        return [OLED_ADDR]

    def writeto(self, addr, buf, stop=True):
        return self.writevto(addr, (buf,), stop)

    def writevto(self, addr, vector, stop=True):
        bus = simbus()
        bus.poll()
        if addr != OLED_ADDR or bus.i2c_nack:
            raise OSError(_ENODEV)  # what machine.I2C raises when nobody ACKs
        first = True
        n = 0
        for buf in vector:
            mv = memoryview(buf)
            for i in range(0, len(mv), simctl.I2C_CHUNK):
                part = mv[i : i + simctl.I2C_CHUNK]
                bus.send(simctl.I2C_WRITE, {"addr": addr, "first": first, "data": part})
                first = False
                n += len(part)
        return n


class SimButton:
    """The FLASH button (GPIO0): 0 while pressed, like the real pull-up pin."""

    def value(self):
        bus = simbus()
        bus.poll()
        return 0 if bus.button else 1


def i2c():
    return SimI2C()


def dht22():
    import dht

    return dht.DHT22(None)


def button():
    return SimButton()


class _SimUart:
    """The HC-05's UART as machine.UART offers it to the firmware (any,
    readinto, write, txdone), on the simulator's socket. The socket cannot say
    how many bytes wait, so any() says "up to CHUNK" while it is readable;
    readinto(buf, n) then never blocks and may return fewer."""

    def __init__(self, sock):
        self._sock = sock
        self._poll = select.poll()
        self._poll.register(sock, select.POLLIN)

    def any(self):
        return _UART_ANY if self._poll.poll(0) else 0

    def readinto(self, buf, n):
        return self._sock.readinto(buf, n)

    def read(self, n):
        return self._sock.read(n)

    def write(self, buf, off=0, n=-1):
        return self._sock.write(buf, off, len(buf) - off if n < 0 else n)

    def txdone(self):
        return True

    def close(self):
        self._sock.close()


_hc05 = None


def hc05():
    """The HC-05's UART. Each call reconnects, replacing a stream that failed."""
    global _hc05
    if _hc05 is not None:
        _hc05.close()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    path = os.getenv("HOMECA_SIM_HC05")
    s.connect(struct.pack("<H", socket.AF_UNIX) + path.encode() + b"\0")
    s.setblocking(False)
    _hc05 = _SimUart(s)
    return _hc05


def hc05_at(on):
    """KEY/EN high: the HC-05 takes AT commands (38400 baud on the real module)
    until it is set low again. Returns the stream to talk on."""
    simbus().send(simctl.HC05_KEY, {"on": bool(on)})
    return _hc05 if _hc05 is not None else hc05()


def hc05_linked():
    """HC-05 STATE pin: a phone is connected."""
    bus = simbus()
    bus.poll()
    return bus.link


_drawn = 0


def entropy(n):
    """The chip's random bytes: os.urandom, unless the simulator injects a
    broken source (HOMECA_SIM_RNG=stuck or biased) to show the health tests.
    Biased: five bytes in six are 0xA5, in runs short enough to pass the
    repetition count test, so only the adaptive proportion test can tell."""
    global _drawn
    fault = os.getenv("HOMECA_SIM_RNG")
    if fault == "stuck":
        return bytes(n)
    if fault == "biased":
        raw = os.urandom(n)
        out = bytes(raw[i] if (_drawn + i) % 6 == 5 else 0xA5 for i in range(n))
        _drawn += n
        return out
    return os.urandom(n)


REPL_WINDOW_MS = const(200)  # the NodeMCU's is 2 s; short here, where tests boot often


def led(on):
    """The on-board LED: nothing models it."""


def ready():
    """Tell the world the firmware's main loop runs."""
    simbus().send(simctl.READY, {})
