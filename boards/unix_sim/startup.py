# The unix_sim board's reset path: what the ESP8266's C startup does before and
# around boot.py and main.py. The simulator runs `micropython -i startup.py`, so
# the REPL follows, as on a board. The device filesystem (the simulated flash)
# is mounted at "/", the compiled firmware read-only at "/.rom" like frozen
# code (a dot name, which no import can pick up by accident).
import os
import sys
import vfs


def _mount():
    getenv = os.getenv
    vfs.mount(vfs.VfsPosix(getenv("HOMECA_SIM_FLASH")), "/")
    # The firmware compiled for this board (homeca.sim.rom), read-only like
    # frozen code: board modules at its top, the device package in lib/.
    vfs.mount(vfs.VfsPosix(getenv("HOMECA_SIM_ROM")), "/.rom", readonly=True)
    sys.path[:] = ["", ".frozen", "/.rom", "/.rom/lib", "/lib"]
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
