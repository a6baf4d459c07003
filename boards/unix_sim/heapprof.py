# Where the firmware's heap goes, printed on the console for `homeca sim device
# --report` (homeca.sim.heapprof): live bytes after collection that each module
# keeps once imported, then what each main-loop job keeps once it has started
# and done its first round of work. Runs instead of main.py when the simulator
# starts the chip in "profile" mode. Lines: "HEAP <kind> <name> <bytes>".
import gc
import sys


def _live():
    gc.collect()
    return gc.mem_alloc()


def _say(kind, name, n):
    print("HEAP", kind, name, n)


_MODULES = (
    "nodefw",
    "nodefw.wire",
    "nodefw.messages",
    "nodefw.simctl",
    "board",
    "nodefw.drivers.dht22",
    "nodefw.drivers.hc05_link",
    "nodefw.drivers.ssd1306",
    "nodefw.screen",
    "nodefw.app",
)


def run():
    start = _live()
    _say("base", "boot", start)
    before = start
    for name in _MODULES:
        if name in sys.modules:
            continue
        __import__(name)
        now = _live()
        _say("module", name, now - before)
        before = now
    import time

    from nodefw import app

    dev = app.start()
    now = _live()
    _say("job", "start", now - before)
    before = now
    for job in dev.jobs:
        for _ in range(3):  # the job's first rounds: link open, frame drawn
            app.run_job(dev, job)
            time.sleep_ms(100)
        now = _live()
        _say("job", job.name, now - before)
        before = now
    dev.sample_heap()  # the firmware's own peak, once every job has run
    _say("peak", "lifecycle", dev.heap_peak)
    _say("total", "live", _live())
    import micropython

    micropython.qstr_info()  # "qstr pool: ... n_total_bytes=N": interned names
    print("HEAP end")
