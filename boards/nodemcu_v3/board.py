# Board support for the NodeMCU v3 (ESP8266, 4 MiB flash) as wired in the
# project's prototype: see README.md, "Wiring a NodeMCU v3". Same interface as
# boards/unix_sim/board.py; firmware above this layer never asks which it is.
#
# The HC-05 talks on UART0 swapped to GPIO15 (TX) / GPIO13 (RX), so the USB
# serial pins (GPIO1/3) stay free for flashing and the boot ROM's chatter never
# reaches the phone. The REPL lives on UART0 too: hc05() detaches it.
from machine import I2C, UART, Pin
from micropython import const

NAME = "nodemcu_v3"
MODEL = "nodemcu-v3"

PIN_SCL = const(5)  # D1: SSD1306 SCL
PIN_SDA = const(4)  # D2: SSD1306 SDA
PIN_BUTTON = const(0)  # D3: FLASH button, low while pressed
PIN_LED = const(2)  # D4: on-board LED, lit when low
PIN_DHT = const(14)  # D5: DHT22 data, 10k pull-up to 3V3
PIN_HC05_STATE = const(12)  # D6: HC-05 STATE, high while a phone is connected
PIN_HC05_RX = const(13)  # D7: ESP RX <- HC-05 TXD
PIN_HC05_TX = const(15)  # D8: ESP TX -> HC-05 RXD
PIN_HC05_KEY = const(16)  # D0: HC-05 KEY/EN, high for AT command mode
HC05_AT_BAUD = const(38400)  # the HC-05's AT command mode (KEY high at its power-up)
HC05_BAUD = const(9600)  # data mode: the link to the phone or host
NATIVE_ECC = True  # the pure-Python curves take seconds per operation here: never fall back
UART_RXBUF = const(1024)  # bytes UART0 buffers between reads of the HC-05 link

# Flash layout of MicroPython's ESP8266_GENERIC FLASH_2M_ROMFS firmware (offsets
# in the 4 MiB flash; README.md, "Flash layout"), written only here: boot.py uses
# them, the host reads them (homeca.boards) for the bundle's image capacity, and
# a test holds the simulator's C flash window to them. The writable LittleFS at
# "/" starts at FLASH_ROMFS_END.
FLASH_ROMFS_START = const(0xB0000)  # the ROMFS partition, mounted at /rom
FLASH_ROMFS_END = const(0x100000)  # end of that partition (exclusive)
FLASH_NATIVE_CODE_START = const(0xF8000)  # its last 32 KiB: native code (boot.py), not the image


def mac():
    """The station MAC, the device's serial number."""
    import network

    return network.WLAN(network.STA_IF).config("mac")


def i2c():
    return I2C(scl=Pin(PIN_SCL), sda=Pin(PIN_SDA), freq=400000)


def dht22():
    import dht

    return dht.DHT22(Pin(PIN_DHT))


def button():
    return Pin(PIN_BUTTON, Pin.IN, Pin.PULL_UP)


def _uart0(baud):
    # Every init names the pins: UART.init() without tx/rx moves UART0 back to
    # GPIO1/3, the USB pins (ports/esp8266/machine_uart.c). timeout=0: a read
    # returns what has arrived instead of waiting for the first character. The
    # REPL is detached from UART0 first.
    import os

    os.dupterm(None, 1)
    return UART(0, baud, tx=Pin(PIN_HC05_TX), rx=Pin(PIN_HC05_RX), rxbuf=UART_RXBUF, timeout=0)


def hc05():
    """UART0 on the swapped pins, with the REPL detached from it."""
    return _uart0(HC05_BAUD)


def hc05_at(on):
    """KEY/EN high: the HC-05 takes AT commands at 38400 baud; low: data mode.
    (Most modules enter AT mode only when KEY is high at their power-up.)"""
    Pin(PIN_HC05_KEY, Pin.OUT, value=1 if on else 0)
    return _uart0(HC05_AT_BAUD if on else HC05_BAUD)


def hc05_linked():
    """STATE high: a phone is connected. Pulled up, so a module without the
    STATE wire reads as always connected rather than never."""
    return Pin(PIN_HC05_STATE, Pin.IN, Pin.PULL_UP).value() == 1


def entropy(n):
    """The ESP8266's hardware random number generator, through os.urandom."""
    import os

    return os.urandom(n)


REPL_WINDOW_MS = const(2000)  # after reset: FLASH held keeps the REPL (app.repl_requested)


def led(on):
    """The on-board LED (lit when its pin is low)."""
    Pin(PIN_LED, Pin.OUT, value=0 if on else 1)


def ready():
    """Main loop up: the LED blinks once."""
    import time

    led(True)
    time.sleep_ms(50)
    led(False)
