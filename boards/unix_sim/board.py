# Board support for the unix-port device: the same interface as
# boards/nodemcu_v3/board.py, backed by the simulator's peripherals.
import os
import socket
import struct
from binascii import unhexlify
from micropython import const

from nodefw import simctl

NAME = "unix_sim"
MODEL = "nodemcu-v3-sim"
OLED_ADDR = const(0x3C)
_ENODEV = const(19)

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


_hc05 = None


def hc05():
    """The HC-05's serial stream: non-blocking read/write, pollable by asyncio.
    Each call reconnects, replacing a stream that failed."""
    global _hc05
    if _hc05 is not None:
        _hc05.close()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    path = os.getenv("HOMECA_SIM_HC05")
    s.connect(struct.pack("<H", socket.AF_UNIX) + path.encode() + b"\0")
    s.setblocking(False)
    _hc05 = s
    return s


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


def repl_requested():
    """FLASH held at boot: the user wants the REPL, not the firmware."""
    return button().value() == 0


def ready():
    """Tell the world the firmware's main loop runs."""
    simbus().send(simctl.READY, {})
