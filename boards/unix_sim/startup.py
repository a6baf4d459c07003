# The unix_sim board's reset path: what the ESP8266's C startup does before and
# around boot.py and main.py. The simulator runs `micropython -i -m startup`
# in this directory with an empty MICROPYPATH, so the REPL follows, as on a
# board, and no host path is interned on the chip's heap. This module stays
# alive under main.py, so it is small: the reset itself (map the ROMFS image,
# mount it and the flash) is reset.py beside it, exec'd so that its compiled
# code is freed afterwards.
import os

with open("reset.py") as file:
    exec(file.read())
del file


def _run(name):
    # As the chip's pyexec_file: nothing of the source stays while it runs
    # (main.py runs for the device's life).
    try:
        with open(name) as file:
            code = compile(file.read(), name, "exec")
    except OSError:
        return
    file = None
    exec(code, globals())


_run("boot.py")
# After a soft reset from the raw REPL a board runs boot.py only. The
# simulator's "profile" mode runs the heap profile instead of main.py.
mode = os.getenv("HOMECA_SIM_MODE")
if mode == "profile":
    import heapprof

    heapprof.run()
elif mode != "raw":
    _run("main.py")
