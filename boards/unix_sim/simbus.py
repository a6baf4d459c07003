# The simulator's side wires: a socket carrying simctl frames both ways. The
# simulated peripherals read the latest state pushed by the simulator; nothing
# here blocks for long.
import os
import socket
import struct
import time

from nodefw import simctl, wire


class SimBus:
    def __init__(self, path):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(struct.pack("<H", socket.AF_UNIX) + path.encode() + b"\0")
        s.setblocking(False)
        self._sock = s
        self._dec = wire.Decoder(64)
        self.dht = None  # (status, raw 5 bytes) or None before the simulator says
        self.button = False
        self.i2c_nack = False  # the OLED does not acknowledge: unplugged
        self.link = None  # None until the simulator's first state arrives
        # On connect the simulator sends the wires' state, LINK last: wait for
        # it (bounded), or a button held at power-on would be missed.
        deadline = time.ticks_add(time.ticks_ms(), 1000)
        while self.link is None and time.ticks_diff(deadline, time.ticks_ms()) > 0:
            self.poll()
            time.sleep_ms(2)
        if self.link is None:
            self.link = False

    def poll(self):
        """Apply what the simulator has sent since the last call."""
        while True:
            data = self._sock.read(64)
            if not data:
                break
            self._dec.feed(data)
            while True:
                try:
                    body = self._dec.next()
                except wire.WireError:
                    continue
                if body is None:
                    break
                self._apply(body)

    def _apply(self, body):
        try:
            mtype, _ = wire.header(body)
            schema = simctl.SCHEMAS.get(mtype)
            if schema is None:
                return
            f = wire.decode(body, schema)
        except wire.WireError:
            return
        if mtype == simctl.DHT:
            self.dht = (f["status"], f["raw"])
        elif mtype == simctl.BUTTON:
            self.button = f["pressed"]
        elif mtype == simctl.LINK:
            self.link = f["up"]
        elif mtype == simctl.I2C_NACK:
            self.i2c_nack = f["on"]

    def send(self, mtype, values):
        data = wire.frame(wire.encode(mtype, 0, simctl.SCHEMAS[mtype], values))
        mv = memoryview(data)
        deadline = time.ticks_add(time.ticks_ms(), 2000)
        while len(mv):
            n = self._sock.write(mv)
            if n:
                mv = mv[n:]
            elif time.ticks_diff(deadline, time.ticks_ms()) < 0:
                raise OSError(110, "simulator not reading")
            else:
                time.sleep_ms(1)


def open_from_env():
    path = os.getenv("HOMECA_SIM_CTL")
    if not path:
        raise RuntimeError("unix_sim runs under the simulator: homeca sim device")
    return SimBus(path)
