# The unix_sim board's reset path: what the ESP8266's C startup does before and
# around boot.py and main.py. The simulator runs `micropython -i startup.py`, so
# the REPL follows, as on a board. The device filesystem (the simulated flash)
# is mounted at "/", the firmware and this board folder read-only like frozen
# code (under dot names, which no import can pick up by accident).
import os
import sys
import vfs


def _mount():
    getenv = os.getenv
    vfs.mount(vfs.VfsPosix(getenv("HOMECA_SIM_FLASH")), "/")
    vfs.mount(vfs.VfsPosix(getenv("HOMECA_SIM_FIRMWARE")), "/.fw", readonly=True)
    vfs.mount(vfs.VfsPosix(getenv("HOMECA_SIM_BOARD")), "/.board", readonly=True)
    sys.path[:] = ["", ".frozen", "/.fw", "/.board", "/lib"]
    natmod = getenv("HOMECA_SIM_NATMOD")  # the x64 ecc.mpy, when it is built
    if natmod:
        vfs.mount(vfs.VfsPosix(natmod), "/.natmod", readonly=True)
        sys.path.insert(2, "/.natmod")
    os.chdir("/")


def _run(name):
    try:
        with open(name) as f:
            src = f.read()
    except OSError:
        return
    exec(src, globals())


_mount()
del _mount
_run("boot.py")
# After a soft reset from the raw REPL a board runs boot.py only.
if os.getenv("HOMECA_SIM_MODE") != "raw":
    _run("main.py")
