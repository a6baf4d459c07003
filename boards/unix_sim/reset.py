# The unix_sim board's reset, run by startup.py as exec'd source, so its
# compiled code is freed once it has run: what the ESP8266's C startup does
# before boot.py. The firmware is a ROMFS image mounted at /rom, as
# MicroPython's ESP8266 FLASH_2M_ROMFS firmware mounts its partition, and the
# device filesystem (the simulated flash) is mounted at "/".
import os
import sys


def _map_rom(image):
    # The image goes into the simflash module's window, which lies outside the
    # GC heap like memory-mapped flash: bytecode imported from it runs in place.
    import uctypes

    mod = os.getenv("HOMECA_SIM_SIMFLASH")
    sys.path[:] = [mod[: mod.rfind("/")]]
    import simflash

    addr, size = simflash.window()
    del sys.modules["simflash"]
    n = os.stat(image)[6]
    if n > size:
        raise OSError("ROMFS image of %d bytes over the %d-byte partition" % (n, size))
    rom = uctypes.bytearray_at(addr, n)
    with open(image, "rb") as f:
        f.readinto(rom)
    return rom


def _mount(rom):
    # The host's filesystem is out of reach once "/" is mounted: map first.
    import vfs

    vfs.mount(vfs.VfsPosix(os.getenv("HOMECA_SIM_FLASH")), "/")
    vfs.mount(vfs.VfsRom(rom), "/rom")
    sys.path[:] = ["", ".frozen", "/rom", "/rom/lib", "/lib"]
    os.chdir("/")


_mount(_map_rom(os.getenv("HOMECA_SIM_ROM")))
del _mount, _map_rom
