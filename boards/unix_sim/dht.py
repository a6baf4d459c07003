# Stand-in for MicroPython's `dht` module on the ESP8266, as far as the
# firmware uses it: DHT22 with its errors, the 40-bit sensor answer coming from
# the simulator. On the chip the module is frozen into the firmware and costs
# no heap, so this one is one class (the chip's has DHTBase and DHT11 too).
from micropython import const

import board

_ETIMEDOUT = const(110)


class DHT22:
    def __init__(self, pin):
        self.pin = pin
        self.buf = bytearray(5)

    def measure(self):
        # As the chip's dht_readinto: OSError(ETIMEDOUT) when nobody answers.
        bus = board.simbus()
        bus.poll()
        state = bus.dht
        if state is None or not state[0]:
            raise OSError(_ETIMEDOUT)
        buf = self.buf
        buf[:] = state[1]
        if (buf[0] + buf[1] + buf[2] + buf[3]) & 0xFF != buf[4]:
            raise Exception("checksum error")

    def humidity(self):
        return (self.buf[0] << 8 | self.buf[1]) * 0.1

    def temperature(self):
        t = ((self.buf[2] & 0x7F) << 8 | self.buf[3]) * 0.1
        if self.buf[2] & 0x80:
            t = -t
        return t
