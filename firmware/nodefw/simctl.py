# Messages between the unix_sim board and the simulator that hosts it. They
# model wires (I2C bus, sensor data line, button, HC-05 STATE pin), so they
# never appear on a real link and are not part of the nodemcu_v3 bundle.
from nodefw.wire import BOOL, BYTES, U8, VAR

try:
    from micropython import const
except ImportError:  # CPython

    def const(x):
        return x


I2C_WRITE = const(0xF0)  # device -> sim: one I2C write, maybe in several chunks
# sim -> device: the state of every input wire, sent whole on connect and on
# each change (one message type, not one per wire: fewer names and tuples on
# the chip's heap, and the chip never sees half an update).
PINS = const(0xF1)
READY = const(0xF4)  # device -> sim: the firmware's main loop is running
HC05_KEY = const(0xF5)  # device -> sim: HC-05 KEY/EN pin: AT command mode

I2C_CHUNK = const(512)

SCHEMAS = {
    I2C_WRITE: ("addr", U8, 0, "first", BOOL, 0, "data", VAR, I2C_CHUNK),
    PINS: (
        "dht", BOOL, 0,  # the DHT22 answers `raw` on its next read (else: unplugged, dead)
        "raw", BYTES, 5,
        "button", BOOL, 0,  # FLASH held
        "link", BOOL, 0,  # HC-05 STATE pin: a phone is connected
        "i2c_nack", BOOL, 0,  # no I2C device acknowledges (OLED unplugged)
    ),
    READY: (),
    HC05_KEY: ("on", BOOL, 0),
}  # fmt: skip
