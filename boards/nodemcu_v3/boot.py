# boot.py for the NodeMCU v3: runs at every reset, also mpremote's soft reset.
import esp
import gc
import network
import sys

esp.osdebug(None)  # vendor SDK debug output would land on the HC-05 UART
# MicroPython's inisetup.py turns on a Wi-Fi access point with a well-known
# password at first boot; the device has no use for it.
network.WLAN(network.AP_IF).active(False)
# The firmware is in the ROMFS partition, mounted at /rom. MicroPython 1.25's
# _boot.py puts only /rom on sys.path; later versions add /rom/lib as well.
if "/rom/lib" not in sys.path:
    sys.path.insert(sys.path.index("/rom") + 1 if "/rom" in sys.path else 1, "/rom/lib")
# Native code (the ecc module, ~15 KB) goes to flash: only ~500 bytes of IRAM
# are free. The bundle's image stops short of the ROMFS partition's last 32 KiB
# (board.FLASH_NATIVE_CODE_START up to FLASH_ROMFS_END), which hold the native
# code and are rewritten at every load. `board` is /rom/board.mpy: importable
# here because the firmware mounts /rom and puts it on sys.path before boot.py.
# Then load ecc, while the heap still has one block as big as its code. Any
# failure (no image: ImportError, no room: MemoryError, a bad .mpy: ValueError)
# is reported and boot goes on, so main.py still runs; the firmware then shows
# the fault.
try:
    import board

    esp.set_native_code_location(
        board.FLASH_NATIVE_CODE_START, board.FLASH_ROMFS_END - board.FLASH_NATIVE_CODE_START
    )
    gc.collect()
    from nodefw import ecc  # noqa: F401
except Exception as e:
    print("boot: ecc not loaded (deploy rom.img: mpremote romfs deploy):", repr(e))
