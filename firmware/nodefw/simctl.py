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
DHT = const(0xF1)  # sim -> device: what the DHT22 answers on its next read
BUTTON = const(0xF2)  # sim -> device: FLASH button state
LINK = const(0xF3)  # sim -> device: HC-05 STATE pin (a phone is connected)
READY = const(0xF4)  # device -> sim: the firmware's main loop is running
HC05_KEY = const(0xF5)  # device -> sim: HC-05 KEY/EN pin: AT command mode
I2C_NACK = const(0xF6)  # sim -> device: no I2C device acknowledges (OLED unplugged)

DHT_OK = const(0)
DHT_TIMEOUT = const(1)  # the sensor does not answer (unplugged, dead)

I2C_CHUNK = const(512)

SCHEMAS = {
    I2C_WRITE: ("addr", U8, 0, "first", BOOL, 0, "data", VAR, I2C_CHUNK),
    DHT: ("status", U8, 0, "raw", BYTES, 5),
    BUTTON: ("pressed", BOOL, 0),
    LINK: ("up", BOOL, 0),
    READY: (),
    HC05_KEY: ("on", BOOL, 0),
    I2C_NACK: ("on", BOOL, 0),
}
