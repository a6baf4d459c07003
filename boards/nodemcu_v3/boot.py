# boot.py for the NodeMCU v3: runs at every reset, also mpremote's soft reset.
import esp
import gc

esp.osdebug(None)  # vendor SDK debug output would land on the HC-05 UART
# Native code (the ecc module, ~15 KB) goes to flash: only ~500 bytes of IRAM
# are free. 32 KiB between the end of MicroPython's image and the filesystem
# at 1 MiB; the region is rewritten at every load.
esp.set_native_code_location(0xF8000, 0x8000)
gc.collect()
# Load ecc now, while the heap still has one block as big as its code.
from nodefw import ecc  # noqa: E402, F401
