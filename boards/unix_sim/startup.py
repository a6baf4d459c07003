# The unix_sim board's reset path: what the ESP8266's C startup does before and
# around boot.py and main.py. The simulator runs `micropython -i startup.py`, so
# the REPL follows, as on a board. This file stays alive under main.py, so it
# is small: the reset itself (map the ROMFS image, mount it and the flash) is
# reset.py beside it, exec'd so that its compiled code is freed afterwards.
import os
import sys

with open(sys.argv[0][: sys.argv[0].rfind("/") + 1] + "reset.py") as _f:
    exec(_f.read())
del _f


def _run(name):
    try:
        with open(name) as f:
            src = f.read()
    except OSError:
        return
    exec(src, globals())


_run("boot.py")
# After a soft reset from the raw REPL a board runs boot.py only. The
# simulator's "profile" mode runs the heap profile instead of main.py.
_mode = os.getenv("HOMECA_SIM_MODE")
if _mode == "profile":
    import heapprof

    heapprof.run()
elif _mode != "raw":
    _run("main.py")
