# The firmware's main loop: jobs polled in turn (the HC-05 link, the DHT22, the
# display, housekeeping), each a step() that does what it can without waiting
# and says when it wants to run again. A job that fails is logged and started
# afresh after a back-off, so the device keeps answering.
#
# No asyncio: on the chip's 38 KiB heap its module, tasks and events cost about
# 3.4 KB, and a poll loop needs none of them and allocates nothing.
#
# Requests arrive as message bodies; a protocol registers a handler per message
# type (Device.register) and its periodic work as a job (Device.add_job), so
# protocol packages load only when they are needed.
import gc
import sys
import time
from binascii import hexlify
from micropython import const

import board
from nodefw import VERSION, wire
from nodefw import messages as m

# A failed job waits before its restart, doubling up to the maximum, so a
# part that is gone for good (an unplugged OLED) costs little. A job that
# then runs for _STABLE_MS starts again from the minimum.
_RESTART_MIN_MS = const(1000)
_RESTART_MAX_MS = const(60000)
_STABLE_MS = const(60000)
_IDLE_MS = const(1000)  # the longest sleep of the main loop
_DRAW_MS = const(100)  # how often the display looks for a change
_HOUSEKEEPING_MS = const(1000)
_FAIL_TEXT = const(48)  # STATUS last_fail
# Not small ints on the chip: each use is an int object made once, at import.
_U32 = const(0xFFFFFFFF)  # a U32's maximum; as STATUS dht_age: no good reading yet
_MAX_AGE = const(0xFFFFFFFE)


class Job:
    """A part of the main loop: start(dev) (or None) makes what step(dev)
    needs; step(dev) returns the milliseconds until it wants to run again."""

    def __init__(self, name, start, step):
        self.name = name
        self.start = start
        self.step = step
        self.running = False
        self.due = time.ticks_ms()
        self.delay = _RESTART_MIN_MS  # before the next restart
        self.since = 0  # uptime at the last start


class Device:
    """What the device knows about itself, and its answers to requests."""

    def __init__(self, cfg):
        from nodefw import config  # needed at boot only: run() unloads it

        self.mac = board.mac()
        self.serial = hexlify(self.mac).decode().upper()
        self.name = config.device_name(cfg, self.serial)
        self.dht_period_ms = config.dht_period_s(cfg) * 1000
        self.state = m.ST_BLANK  # start() reads the stored one
        self.warning = None  # short text for the OLED, e.g. an RNG failure
        self.changed = True  # what the screen shows has changed
        self.heap_peak = 0
        self.link = None  # the Hc05Link while the link job runs
        self.link_bad = 0  # corrupt frames on earlier Hc05Links (link job restarts)
        self.sensor = None  # the Dht22 driver once the sensor job runs
        self.screen = None  # the Screen once the display job runs
        self.good_ms = 0  # uptime at the last good reading
        self.restarts = 0  # job failures since boot
        self.last_fail = b""  # "job: error" of the latest, as STATUS carries it
        self._uptime_ms = 0
        self._ticks = time.ticks_ms()
        self._handlers = {}
        self.jobs = [
            Job("link", start_link, serve_link),
            Job("sensor", start_sensor, sense),
            Job("display", start_display, display),
            Job("housekeeping", None, housekeeping),
        ]
        # STATUS values, reused: no allocation. Text goes in as bytes: taking
        # a str apart on the wire would intern each of its characters.
        v = self._status_values = [None] * (len(m.SCHEMAS[m.STATUS]) // 3)
        v[0] = self.mac
        v[1] = self.name.encode()
        v[2] = board.MODEL.encode()
        v[3] = VERSION.encode()
        self.register(m.STATUS_REQ, self._status)

    def register(self, mtype, handler):
        """handler(rid, fields, out) answers a request of type mtype, whose
        fields (a dict; None for a message without fields) are already
        checked against its schema, by encoding the reply body at out[4:]
        (see reply()); it returns the body's length, or 0 for no answer."""
        self._handlers[mtype] = handler

    def add_job(self, name, start, step):
        """Run step(dev) in the main loop from now on (see Job)."""
        self.jobs.append(Job(name, start, step))

    def uptime_ms(self):
        """Milliseconds since boot. Ticks wrap every 2**30 ms on the ESP8266
        (12 days): durations that may be long are differences of this, which
        the housekeeping job keeps current every second."""
        now = time.ticks_ms()
        self._uptime_ms += time.ticks_diff(now, self._ticks)
        self._ticks = now
        return self._uptime_ms

    def sample_heap(self):
        gc.collect()
        used = gc.mem_alloc()
        if used > self.heap_peak:
            self.heap_peak = used

    def job_failed(self, name, error):
        self.restarts += 1
        text = bytearray((name + ": " + error).encode()[:_FAIL_TEXT])
        for i in range(len(text)):  # STATUS carries printable ASCII only
            if not 32 <= text[i] <= 126:
                text[i] = 63  # "?"
        self.last_fail = bytes(text)
        print("job", name, "failed (restart", self.restarts, "since boot):", error)

    def link_errors(self):
        return self.link_bad + (0 if self.link is None else self.link.decoder.bad)

    def shown_reading(self):
        """(status, tenths degC, tenths %RH) for the screen, or None."""
        if self.sensor is None:
            return None
        r = self.sensor.reading
        return (r.status, r.temp_med, r.hum_med)

    def handle(self, buf, start, n, out):
        """Answer the request body buf[start:start + n] with a reply body at
        out[4:]; returns its length, 0 when there is nothing to say. The
        STATUS round trip allocates nothing."""
        try:
            wire.check_header(buf, start, n)
        except wire.WireError:
            return 0
        mtype = buf[start + 1]
        rid = (buf[start + 2] << 8) | buf[start + 3]
        handler = self._handlers.get(mtype)
        if handler is None:
            if mtype == m.ERROR:
                return 0  # never answer an error with an error
            return _error(out, rid, m.E_UNKNOWN_TYPE, "unknown message type")
        try:
            schema = m.SCHEMAS[mtype]
            if schema:
                fields = wire.decode(buf, schema, start, n)
            elif n != wire.HEADER:
                raise wire.WireError("trailing bytes after message")
            else:
                fields = None
        except wire.WireError as e:
            return _error(out, rid, m.E_BAD_REQUEST, str(e))
        try:
            return handler(rid, fields, out)
        except Exception as e:
            sys.print_exception(e)
            return _error(out, rid, m.E_INTERNAL, "internal error")

    def _status(self, rid, fields, out):
        # One assignment each: unpacking four values would build a tuple.
        uptime = self.uptime_ms()
        r = None if self.sensor is None else self.sensor.reading
        v = self._status_values  # in schema order (messages.SCHEMAS[STATUS])
        if r is None:
            dht = m.DHT_NONE
            temp = hum = m.NO_VALUE
            age = _U32
        else:
            dht = r.status
            temp = r.temp_med
            hum = r.hum_med
            age = min((uptime - self.good_ms) // 1000, _MAX_AGE) if r.seq else _U32
        v[4] = self.state
        v[5] = min(uptime // 1000, _U32)
        v[6] = gc.mem_free()
        v[7] = self.heap_peak
        v[8] = min(self.link_errors(), _U32)
        v[9] = dht
        v[10] = temp
        v[11] = hum
        v[12] = age
        v[13] = min(self.restarts, _U32)
        v[14] = self.last_fail
        return reply(out, m.STATUS, rid, v)


def reply(out, mtype, rid, values):
    """Encode a reply body at out[4:] for a handler; returns its length."""
    return wire.encode_into(out, 4, mtype, rid, m.SCHEMAS[mtype], values) - 4


def _error(out, rid, code, detail):
    return reply(out, m.ERROR, rid, (code, detail[:64]))


# The jobs. A start raises when its part is missing; the job then waits its
# back-off and starts again.


def start_link(dev):
    from nodefw.drivers.hc05_link import Hc05Link

    if dev.link is not None:  # a restart: keep the count of the link it replaces
        dev.link_bad += dev.link.decoder.bad
        dev.link = None
    dev.link = Hc05Link(board.hc05(), board.hc05_linked, dev.handle)


def serve_link(dev):
    """Answer requests on the HC-05 link."""
    return dev.link.step()


def start_sensor(dev):
    from nodefw.drivers import dht22

    dev.sensor = dht22.Dht22(board.dht22(), period_ms=dev.dht_period_ms)


def sense(dev):
    """Sample the DHT22 on its schedule; faults are values, never raised."""
    drv = dev.sensor
    r = drv.reading
    seq = r.seq
    drv.sample()
    if r.seq != seq:
        dev.good_ms = dev.uptime_ms()
    if r.fresh:
        dev.changed = True  # the screen tells whether what it shows differs
    return drv.wait_ms()


def start_display(dev):
    from nodefw.drivers.ssd1306 import SSD1306
    from nodefw.screen import Screen

    dev.screen = None  # a restart: the old one can be collected for the new one
    dev.screen = Screen(SSD1306(board.i2c()))
    dev.changed = True


def display(dev):
    if dev.changed:
        dev.changed = False
        dev.screen.status(
            dev.name, dev.serial, dev.state, reading=dev.shown_reading(), warning=dev.warning
        )
    return _DRAW_MS


def housekeeping(dev):
    dev.uptime_ms()
    dev.sample_heap()
    return _HOUSEKEEPING_MS


def run_job(dev, job):
    """One step of job, starting it first if needed; a failure is logged and
    the job stopped until its back-off has passed. Returns the milliseconds
    until the job is due again."""
    try:
        if not job.running:
            job.since = dev.uptime_ms()
            if job.start is not None:
                job.start(dev)
            job.running = True
        return job.step(dev)
    except MemoryError:
        # Reporting must not need the memory that just ran out.
        gc.collect()
        error = "MemoryError"
    except Exception as e:
        error = "MemoryError"
        try:
            error = repr(e)
            sys.print_exception(e)
        except MemoryError:
            pass
    job.running = False
    dev.job_failed(job.name, error)
    if dev.uptime_ms() - job.since >= _STABLE_MS:
        job.delay = _RESTART_MIN_MS
    ms = job.delay
    job.delay = min(2 * ms, _RESTART_MAX_MS)
    return ms


def main(dev):
    """Poll the jobs forever, sleeping until the next one is due."""
    dev.sample_heap()
    jobs = dev.jobs
    first = True
    while True:
        wait = _IDLE_MS
        for job in jobs:
            left = time.ticks_diff(job.due, time.ticks_ms())
            if left <= 0:
                left = run_job(dev, job)
                job.due = time.ticks_add(time.ticks_ms(), left)
            if left < wait:
                wait = left
        if first:  # every job has had its first step: the link is open
            first = False
            board.ready()
        if wait > 0:
            time.sleep_ms(wait)


def check_rng(dev):
    """The start-up health test of the random source, before anything uses it.
    A failed source puts the device in the fault state: it keeps answering,
    shows why on the OLED and will not make keys."""
    from nodefw import rng

    try:
        rng.shared(board.entropy).read(32)
    except rng.RngFailure as e:
        print("rng:", e)
        dev.state = m.ST_FAULT
        dev.warning = "RNG FAILED"


def repl_requested():
    """The way back to a REPL: for board.REPL_WINDOW_MS after reset the LED
    blinks, and FLASH held meanwhile keeps the REPL on UART0 (USB) instead of
    handing the UART to the HC-05. It cannot be held *at* reset: GPIO0 low then
    starts the ESP8266's ROM serial bootloader, not MicroPython."""
    btn = board.button()
    start = time.ticks_ms()
    while True:
        t = time.ticks_diff(time.ticks_ms(), start)
        if t >= board.REPL_WINDOW_MS:
            board.led(False)
            return False
        if btn.value() == 0:
            board.led(True)  # lit: the REPL stays
            return True
        board.led((t // 100) & 1)
        time.sleep_ms(20)


def unload(name):
    """Forget a module of the nodefw package that is no longer needed, so that
    its functions and tables can be collected; an import brings it back from
    flash."""
    del sys.modules["nodefw." + name]
    delattr(sys.modules["nodefw"], name)


def start():
    """The device, made from its settings, its random source tested and its
    curves checked; what is needed only for that is unloaded again."""
    from nodefw import config

    dev = Device(config.load())
    unload("config")
    print("HomeCA node fw", VERSION, "board", board.NAME, "serial", dev.serial)
    load_state(dev)
    check_rng(dev)
    # The test's verdict is in dev.state; a protocol that needs random bytes
    # imports rng again, and a fresh source passes its start-up test first.
    unload("rng")
    try:
        from nodefw import ecc  # noqa: F401 - boot.py loaded the native module early

        unload("ecc")  # the curves are there; a protocol imports them when it needs them
    except Exception as e:
        print("ecc:", repr(e))
        dev.state = m.ST_FAULT
        dev.warning = "NO CRYPTO"
    return dev


def load_state(dev):
    """The lifecycle state the store holds (blank until the burn-in station
    has made the factory identity); a store that cannot be read is a fault."""
    from nodefw import identity, store

    try:
        dev.state = identity.lifecycle(store.Store(), m.ST_BLANK)
    except (OSError, store.StoreError) as e:
        print("store:", e)
        dev.state = m.ST_FAULT
        dev.warning = "STORE FAILED"
    unload("identity")
    unload("store")
    print("state", m.STATE_NAMES[dev.state])


def run():
    if repl_requested():
        print("FLASH held at boot: firmware not started, REPL kept")
        return
    main(start())
