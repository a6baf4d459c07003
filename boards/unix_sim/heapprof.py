# Where the firmware's heap goes, printed on the console for `homeca sim device
# --report` (homeca.sim.heapprof): live bytes after collection that each module
# keeps once imported, then what each main-loop task keeps once it has started
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
    "asyncio",
    "nodefw",
    "nodefw.wire",
    "nodefw.messages",
    "nodefw.simctl",
    "simbus",
    "board",
    "nodefw.config",
    "nodefw.rng",
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
    import asyncio

    from nodefw import app, config

    dev = app.Device(config.load())
    now = _live()
    _say("task", "device", now - before)
    before = now
    app.check_rng(dev)
    now = _live()
    _say("task", "rng", now - before)
    before = now

    async def main():
        nonlocal before
        tasks = []
        for name, task in app.TASKS:
            tasks.append(asyncio.create_task(app.supervise(dev, name, task)))
            await asyncio.sleep_ms(300)  # the task's first round: link open, frame drawn
            now = _live()
            _say("task", name, now - before)
            before = now
        await asyncio.sleep_ms(1500)
        _say("peak", "lifecycle", dev.heap_peak)
        _say("total", "live", _live())
        import micropython

        micropython.qstr_info()  # "qstr pool: ... n_total_bytes=N": interned names
        print("HEAP end")

    asyncio.run(main())
