# The unix_sim board's reset, run by startup.py as exec'd source, so its
# compiled code is freed once it has run: what the ESP8266's C startup does
# before boot.py. The firmware is a ROMFS image mounted at /rom, as
# MicroPython's ESP8266 FLASH_2M_ROMFS firmware mounts its partition, and the
# device filesystem (the simulated flash) is mounted at "/".
#
# Every name in source code is interned for good, even once the code is
# freed: this runs at top level with few names, which it deletes.
import os
import sys
import vfs

import uctypes

# The image goes into the simflash module's window, which lies outside the GC
# heap like memory-mapped flash: bytecode imported from it runs in place.
path = os.getenv("HOMECA_SIM_SIMFLASH")
os.chdir(path[: path.rfind("/")])  # short import paths: each is interned
sys.path[:] = [""]
import simflash  # noqa: E402 - found once the path is set

start, end = simflash.window()  # address and size
del sys.modules["simflash"], simflash
path = os.getenv("HOMECA_SIM_ROM")
key = os.stat(path)[6]
if key > end:
    raise OSError("ROMFS image of %d bytes over the %d-byte partition" % (key, end))
data = uctypes.bytearray_at(start, key)
with open(path, "rb") as file:
    file.readinto(data)

# The host's filesystem is out of reach once anything is mounted: open first.
# A flash image (written by `homeca flash`) holds LittleFS at "/", as a
# board's flash does; otherwise "/" is a host directory.
path = os.getenv("HOMECA_SIM_FS_IMAGE")
file = path and open(path, "r+b")  # noqa: SIM115 - the mounted filesystem keeps it
vfs.mount(vfs.VfsRom(data), "/rom")
if file:
    sys.path[:] = ["/rom"]
    __import__("flashbdev").mount(file)
else:
    vfs.mount(vfs.VfsPosix(os.getenv("HOMECA_SIM_FLASH")), "/")
sys.path[:] = ["", ".frozen", "/rom", "/rom/lib", "/lib"]
os.chdir("/")
del path, start, end, key, data, uctypes, vfs  # `file`: startup.py's own del
