# Board support for the unix-port device: the same interface as
# boards/nodemcu_v3/board.py, backed by the simulator's peripherals. The
# simulated wires are one socket carrying simctl frames both ways: the
# peripherals read the latest state the simulator pushed, and nothing here
# blocks for long. Module and function count are kept low: on the chip the
# board layer is mostly the firmware's built-in machine module.
import os
import select
import socket
import struct
import time
from binascii import unhexlify
from micropython import const

from nodefw import simctl, wire

NAME = "unix_sim"
MODEL = "nodemcu-v3-sim"
NATIVE_ECC = False  # tests may run the firmware without the native build: ecc_pure then
OLED_ADDR = const(0x3C)
_ENODEV = const(19)
_UART_ANY = const(64)  # what any() reports while the socket is readable


def _connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(struct.pack("<H", socket.AF_UNIX) + path.encode() + b"\0")
    s.setblocking(False)
    return s


class SimBus:
    """The simulator's side wires (HOMECA_SIM_CTL)."""

    def __init__(self, path):
        self._sock = _connect(path)
        # PINS, the largest message the simulator sends, has a 13-byte body.
        self._dec = wire.Decoder(16)
        self._rx = bytearray(self._dec.chunk)
        self.dht = None  # (status, raw 5 bytes) or None before the simulator says
        self.button = False
        self.i2c_nack = False  # the OLED does not acknowledge: unplugged
        self.link = None  # None until the simulator's first state arrives
        # On connect the simulator sends the wires' state: wait for it
        # (bounded), or a button held at power-on would be missed.
        deadline = time.ticks_add(time.ticks_ms(), 1000)
        while self.link is None and time.ticks_diff(deadline, time.ticks_ms()) > 0:
            self.poll()
            time.sleep_ms(2)
        if self.link is None:
            self.link = False

    def poll(self):
        """Apply what the simulator has sent since the last call."""
        dec = self._dec
        while True:
            n = self._sock.readinto(self._rx)  # what dec takes between two drains
            if not n:
                return
            dec.feed(self._rx, n)
            while True:
                try:
                    n = dec.next_frame()
                    if not n:
                        break
                    if dec.buf[dec.body + 1] != simctl.PINS:
                        continue
                    f = wire.decode(dec.buf, simctl.SCHEMAS[simctl.PINS], dec.body, n)
                except wire.WireError:
                    continue
                self.dht = (f["dht"], f["raw"])
                self.button = f["button"]
                self.link = f["link"]
                self.i2c_nack = f["i2c_nack"]

    def send(self, mtype, values, room=16):
        """Send one message whose fields take at most `room` bytes."""
        out = bytearray(wire.OVERHEAD + wire.HEADER + room)
        n = wire.encode_into(out, 4, mtype, 0, simctl.SCHEMAS[mtype], values) - 4
        mv = memoryview(out)[: wire.frame_into(out, n)]
        deadline = time.ticks_add(time.ticks_ms(), 2000)
        while len(mv):
            n = self._sock.write(mv)
            if n:
                mv = mv[n:]
            elif time.ticks_diff(deadline, time.ticks_ms()) < 0:
                raise OSError(110, "simulator not reading")
            else:
                time.sleep_ms(1)

    # The bus is also the I2C bus (machine.I2C's write side, the OLED in the
    # simulator) and the FLASH button's pin (0 while pressed, like the real
    # pull-up pin): one object, not three, on the chip's heap.

    def scan(self):
        return [OLED_ADDR]

    def writeto(self, addr, buf, stop=True):
        self.poll()
        if addr != OLED_ADDR or self.i2c_nack:
            raise OSError(_ENODEV)  # what machine.I2C raises when nobody ACKs
        mv = memoryview(buf)
        for i in range(0, len(mv), simctl.I2C_CHUNK):
            part = mv[i : i + simctl.I2C_CHUNK]
            self.send(simctl.I2C_WRITE, (addr, i == 0, part), 8 + len(part))
        return len(mv)

    def value(self):
        self.poll()
        return 0 if self.button else 1


_bus = None


def simbus():
    global _bus
    if _bus is None:
        path = os.getenv("HOMECA_SIM_CTL")
        if not path:
            raise RuntimeError("unix_sim runs under the simulator: homeca sim device")
        _bus = SimBus(path)
    return _bus


def mac():
    """The chip MAC, the device's serial number."""
    return unhexlify(os.getenv("HOMECA_SIM_MAC"))


def i2c():
    return simbus()


def dht22():
    import dht

    return dht.DHT22(None)


def button():
    return simbus()


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
    _hc05 = _SimUart(_connect(os.getenv("HOMECA_SIM_HC05")))
    return _hc05


def hc05_at(on):
    """KEY/EN high: the HC-05 takes AT commands (38400 baud on the real module)
    until it is set low again. Returns the stream to talk on."""
    simbus().send(simctl.HC05_KEY, (bool(on),))
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
    simbus().send(simctl.READY, ())
