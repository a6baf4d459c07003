"""The DHT22 driver (nodefw.drivers.dht22).

The first part tests the driver's logic on CPython with a fake sensor and a
fake clock. The second part runs it on a device under test. The tests marked
`sim` use board.dht22() and set the simulated sensor's answers. The others
use a fake sensor on the device, so they also run on hardware. A device test
that needs several samples makes the driver with a short interval_ms.

Each device test first soft-resets into the raw REPL, as `mpremote run` does:
only boot.py runs, not the firmware. Compiling the driver's source takes more
heap than the interrupted firmware leaves (the 64k simulated heap keeps about
19 KB free, in pieces of at most 1.4 KB).
"""

from __future__ import annotations

import math

import pytest

from homeca.testing.dut import Dut
from nodefw import messages
from nodefw.drivers import dht22
from nodefw.drivers.dht22 import Dht22
from nodefw.messages import DHT_CHECKSUM as CHECKSUM
from nodefw.messages import DHT_ERROR as ERROR
from nodefw.messages import DHT_NONE as NONE
from nodefw.messages import DHT_OK as OK
from nodefw.messages import DHT_RANGE as RANGE
from nodefw.messages import DHT_TIMEOUT as TIMEOUT
from nodefw.messages import NO_VALUE

TIMEOUT_ERR = OSError(110)  # what MicroPython's dht raises when nobody answers
CHECKSUM_ERR = Exception("checksum error")  # ... and for a corrupted answer


class FakeClock:
    """time.ticks_ms that only moves when a test moves it."""

    def __init__(self, now: int = 0) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now

    def advance(self, ms: int) -> None:
        self.now += ms


class FakeSensor:
    """The dht.DHT22 interface. Each measure() takes the next script entry:
    a (degC, %RH) pair, or an exception to raise. The last entry repeats."""

    def __init__(self, *script: object) -> None:
        self.script = list(script)
        self.measures = 0
        self._t: object = None
        self._h: object = None

    def measure(self) -> None:
        self.measures += 1
        item = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        if isinstance(item, BaseException):
            raise item
        self._t, self._h = item

    def temperature(self) -> object:
        return self._t

    def humidity(self) -> object:
        return self._h


def make(*script: object, **kwargs: int) -> tuple[Dht22, FakeSensor, FakeClock]:
    sensor, clock = FakeSensor(*script), FakeClock()
    return Dht22(sensor, clock=clock, **kwargs), sensor, clock


INTERVAL_MS = 2000  # the datasheet's shortest gap, the driver's default


def step(d: Dht22, clock: FakeClock, ms: int = INTERVAL_MS) -> dht22.Reading:
    clock.advance(ms)
    return d.sample()


def as_tuple(r: dht22.Reading) -> tuple:
    return (r.status, r.temp, r.hum, r.temp_med, r.hum_med, r.ticks, r.seq, r.fails, r.fresh)


# -- the driver's logic, on CPython ----------------------------------------


def test_a_good_reading_in_tenths_with_its_timestamp() -> None:
    d, sensor, clock = make((23.4, 51.2))
    r = step(d, clock)
    assert as_tuple(r) == (OK, 234, 512, 234, 512, 2000, 1, 0, True)
    assert isinstance(r.temp, int) and isinstance(r.hum, int)
    assert sensor.measures == 1


def test_nothing_before_the_first_interval_after_power_up() -> None:
    d, sensor, clock = make((20.0, 40.0))
    r = d.sample()
    assert (r.status, r.temp, r.hum, r.temp_med, r.hum_med, r.seq, r.fresh) == (
        NONE, NO_VALUE, NO_VALUE, NO_VALUE, NO_VALUE, 0, False,
    )  # fmt: skip
    assert d.wait_ms() == 2000
    assert step(d, clock, 1999).status == NONE
    assert sensor.measures == 0
    assert d.wait_ms() == 1
    assert step(d, clock, 1).status == OK


def test_calls_within_two_seconds_return_the_cached_reading() -> None:
    d, sensor, clock = make((21.0, 40.0), (22.0, 41.0))
    first = as_tuple(step(d, clock))
    for _ in range(5):
        r = step(d, clock, 399)  # 1995 ms after the measurement at the end
        assert not r.fresh
        assert as_tuple(r)[:-1] == first[:-1]  # status and values unchanged
    assert sensor.measures == 1
    r = step(d, clock, 5)
    assert r.fresh and (r.status, r.temp, r.hum, r.ticks) == (OK, 220, 410, 4000)
    assert sensor.measures == 2


def test_a_failed_measurement_also_counts_for_the_interval() -> None:
    d, sensor, clock = make(TIMEOUT_ERR, (21.0, 40.0))
    assert step(d, clock).status == TIMEOUT
    assert not step(d, clock, 1000).fresh
    assert sensor.measures == 1


@pytest.mark.parametrize(
    ("exc", "status"),
    [
        (OSError(110), TIMEOUT),  # ETIMEDOUT from dht_readinto
        (OSError(5), TIMEOUT),  # any other bus error: still no usable answer
        (Exception("checksum error"), CHECKSUM),
        (Exception("something else"), ERROR),
        (ValueError("bad"), ERROR),
        (Exception(), ERROR),
        (MemoryError(), ERROR),
    ],
)
def test_sensor_exceptions_become_fault_codes(exc: BaseException, status: int) -> None:
    d, _, clock = make(exc)
    r = step(d, clock)
    assert (r.status, r.fails, r.seq, r.temp, r.fresh) == (status, 1, 0, NO_VALUE, True)


@pytest.mark.parametrize(
    "values",
    [(None, 50.0), (20.0, "wet"), (math.nan, 50.0), (20.0, math.inf), (object(), object())],
)
def test_garbage_from_the_sensor_object_is_an_error_not_an_exception(values: tuple) -> None:
    d, _, clock = make(values)
    assert step(d, clock).status == ERROR


def test_keyboard_interrupt_is_not_swallowed() -> None:
    d, _, clock = make(KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        step(d, clock)


def test_faults_keep_the_last_good_values_and_their_timestamp() -> None:
    d, _, clock = make((-7.5, 60.0), TIMEOUT_ERR, CHECKSUM_ERR, (30.0, 99.0))
    good = step(d, clock)
    assert (good.status, good.temp, good.hum, good.ticks, good.seq) == (OK, -75, 600, 2000, 1)
    r = step(d, clock)
    assert (r.status, r.temp, r.hum, r.temp_med, r.ticks, r.seq, r.fails) == (
        TIMEOUT, -75, 600, -75, 2000, 1, 1,
    )  # fmt: skip
    r = step(d, clock)
    assert (r.status, r.temp, r.ticks, r.fails) == (CHECKSUM, -75, 2000, 2)
    r = step(d, clock)
    assert (r.status, r.temp, r.hum, r.ticks, r.seq, r.fails) == (OK, 300, 990, 8000, 2, 0)


def test_retries_come_early_then_back_off_to_the_period() -> None:
    d, sensor, clock = make(
        (20.0, 50.0), TIMEOUT_ERR, CHECKSUM_ERR, TIMEOUT_ERR, TIMEOUT_ERR, (20.5, 50.5),
        period_ms=10_000, retries=2,
    )  # fmt: skip
    step(d, clock)
    assert d.wait_ms() == 10_000  # all well: the period
    clock.advance(10_000)
    assert d.sample().status == TIMEOUT
    assert d.wait_ms() == 2000  # first retry
    clock.advance(500)
    assert d.wait_ms() == 1500
    clock.advance(1500)
    assert d.sample().status == CHECKSUM
    assert d.wait_ms() == 2000  # second retry
    assert step(d, clock).status == TIMEOUT
    assert d.reading.fails == 3
    assert d.wait_ms() == 10_000  # retries used up: a failing sensor is polled at the period
    clock.advance(10_000)
    assert d.sample().status == TIMEOUT
    assert d.wait_ms() == 10_000
    clock.advance(10_000)
    r = d.sample()
    assert (r.status, r.fails, r.temp) == (OK, 0, 205)
    assert d.wait_ms() == 10_000
    assert sensor.measures == 6


def test_no_retries() -> None:
    d, _, clock = make(TIMEOUT_ERR, retries=0, period_ms=5000)
    step(d, clock)
    assert d.wait_ms() == 5000


@pytest.mark.parametrize(
    ("t", "h"),
    [(-40.1, 50.0), (80.1, 50.0), (20.0, 100.1), (20.0, -0.1), (-300.0, 50.0), (3276.7, 0.0)],
)
def test_values_out_of_the_sensor_range_are_range_faults(t: float, h: float) -> None:
    d, _, clock = make((21.0, 45.0), (t, h))
    step(d, clock)
    r = step(d, clock)
    assert (r.status, r.temp, r.hum, r.temp_med, r.hum_med, r.seq, r.fails) == (
        RANGE, 210, 450, 210, 450, 1, 1,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("t", "h", "tenths"),
    [
        (-40.0, 0.0, (-400, 0)),
        (80.0, 100.0, (800, 1000)),
        (-0.1, 0.1, (-1, 1)),
        (-12.3, 99.9, (-123, 999)),
        (0.0, 45.0, (0, 450)),
    ],
)
def test_limits_and_negative_temperatures(t: float, h: float, tenths: tuple[int, int]) -> None:
    d, _, clock = make((t, h))
    r = step(d, clock)
    assert (r.status, r.temp, r.hum) == (OK, *tenths)


def test_median_of_the_last_three_good_readings() -> None:
    d, _, clock = make(
        (21.0, 40.0), (21.4, 44.0), (35.0, 90.0), TIMEOUT_ERR, (21.2, 42.0), (21.3, 43.0)
    )
    meds = []
    for _ in range(6):
        r = step(d, clock)
        meds.append((r.status, r.temp, r.hum, r.temp_med, r.hum_med))
    assert meds == [
        (OK, 210, 400, 210, 400),  # one reading: itself
        (OK, 214, 440, 212, 420),  # two: their mean
        (OK, 350, 900, 214, 440),  # the spike shows raw, not in the median
        (TIMEOUT, 350, 900, 214, 440),  # a glitch changes nothing
        (OK, 212, 420, 214, 440),  # window 214, 350, 212
        (OK, 213, 430, 213, 430),  # window 350, 212, 213: the spike is outvoted
    ]


def test_median_with_negative_temperatures() -> None:
    d, _, clock = make((-5.0, 10.0), (-5.3, 12.0), (-5.4, 11.0), (-30.0, 11.5))
    r = [step(d, clock).temp_med for _ in range(4)]
    assert r == [-50, -52, -53, -54]  # the mean of two rounds down


def test_median_window_is_cleared_once_the_sensor_is_failing() -> None:
    d, _, clock = make(
        (10.0, 20.0), (10.0, 20.0), (10.0, 20.0),
        TIMEOUT_ERR, TIMEOUT_ERR, TIMEOUT_ERR,
        (25.0, 60.0),
    )  # fmt: skip
    for _ in range(6):
        step(d, clock)
    r = step(d, clock)
    # Three old readings would have outvoted the new one; they are gone.
    assert (r.status, r.temp, r.temp_med, r.hum_med) == (OK, 250, 250, 600)


def test_a_glitch_keeps_the_median_window() -> None:
    d, _, clock = make((10.0, 20.0), (10.0, 20.0), TIMEOUT_ERR, TIMEOUT_ERR, (25.0, 60.0))
    for _ in range(4):
        step(d, clock)
    assert step(d, clock).temp_med == 100


def test_sequence_counts_good_measurements_only() -> None:
    d, _, clock = make((20.0, 50.0), CHECKSUM_ERR, (80.5, 50.0), (20.0, 50.0))
    seqs = [step(d, clock).seq for _ in range(4)]
    assert seqs == [1, 1, 1, 2]
    assert not step(d, clock, 10).fresh and d.reading.seq == 2


def test_clock_wraps_like_ticks_ms() -> None:
    # The ESP8266's ticks_ms wraps at 2**30; the interval is measured across it.
    sensor = FakeSensor((20.0, 50.0))
    clock = FakeClock((1 << 30) - 1500)
    d = Dht22(sensor, clock=clock)
    clock.now = 499  # 1999 ms later, after the wrap
    assert not d.sample().fresh
    clock.now = 500
    r = d.sample()
    assert r.fresh and r.status == OK and r.ticks == 500


def test_short_interval_for_simulated_sensors_and_period_at_least_the_interval() -> None:
    d, sensor, clock = make((20.0, 50.0), interval_ms=50, period_ms=10)
    assert d.period_ms == 50
    step(d, clock, 50)
    step(d, clock, 50)
    assert sensor.measures == 2
    assert d.wait_ms() == 50


@pytest.mark.parametrize("kwargs", [{"interval_ms": 0}, {"retries": -1}])
def test_bad_arguments(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        Dht22(FakeSensor((20.0, 50.0)), clock=FakeClock(), **kwargs)


def test_status_names() -> None:
    names = dict(enumerate(messages.DHT_NAMES))
    assert names == {
        OK: "ok", TIMEOUT: "timeout", CHECKSUM: "checksum", RANGE: "range", ERROR: "error",
        NONE: "waiting",
    }  # fmt: skip


# -- on a device under test ------------------------------------------------


def without_firmware(dut: Dut) -> None:
    """Soft reset into the raw REPL: the device runs boot.py and not main.py."""
    dut.console._t.enter_raw_repl(soft_reset=True)


# `d` is the driver, `show` prints a reading, `fresh` samples until it measures.
# The simulator sends the sensor's state when the board connects its bus: wait
# for it, or the first measurement after the reset would time out.
DEVICE_SETUP = """\
import board, time
from nodefw.drivers.dht22 import Dht22
bus = board.simbus()
for _ in range(200):
    bus.poll()
    if bus.dht is not None:
        break
    time.sleep_ms(10)
def show(r):
    print(r.status, r.temp, r.hum, r.temp_med, r.hum_med, r.seq, r.fails, int(r.fresh))
def fresh(d):
    for _ in range(200):
        r = d.sample()
        if r.fresh:
            return show(r)
        time.sleep_ms(d.wait_ms() or 1)
    print('never measured')
"""
FAST = "d = Dht22(board.dht22(), interval_ms=50, period_ms=50)\n"


def fresh(dut: Dut) -> tuple[int, ...]:
    """(status, temp, hum, temp_med, hum_med, seq, fails, fresh) of a new measurement."""
    return tuple(int(v) for v in dut.exec("fresh(d)").split())


@pytest.mark.sim
def test_device_readings_from_the_simulated_sensor(dut: Dut) -> None:
    without_firmware(dut)
    dut.exec(DEVICE_SETUP + FAST)
    dut.sim.set_dht(23.4, 51.2)
    assert fresh(dut) == (OK, 234, 512, 234, 512, 1, 0, 1)
    dut.sim.set_dht(-12.3, 99.9)
    assert fresh(dut) == (OK, -123, 999, 55, 755, 2, 0, 1)
    dut.sim.set_dht(-12.0, 98.0)
    assert fresh(dut) == (OK, -120, 980, -120, 980, 3, 0, 1)


@pytest.mark.sim
def test_device_faults_come_out_as_values(dut: Dut) -> None:
    without_firmware(dut)
    dut.exec(DEVICE_SETUP + FAST)
    dut.sim.set_dht(21.5, 40.0)
    assert fresh(dut) == (OK, 215, 400, 215, 400, 1, 0, 1)
    dut.sim.set_dht_fault("timeout")
    assert fresh(dut) == (TIMEOUT, 215, 400, 215, 400, 1, 1, 1)
    dut.sim.set_dht_fault("checksum")
    assert fresh(dut) == (CHECKSUM, 215, 400, 215, 400, 1, 2, 1)
    dut.sim.set_dht(95.0, 50.0)  # a valid answer, but no DHT22 measures that
    assert fresh(dut) == (RANGE, 215, 400, 215, 400, 1, 3, 1)
    dut.sim.set_dht(20.0, 100.5)
    assert fresh(dut) == (RANGE, 215, 400, 215, 400, 1, 4, 1)
    dut.sim.set_dht(-40.5, 10.0)
    assert fresh(dut)[0] == RANGE
    dut.sim.set_dht(-40.0, 100.0)  # the limits are fine; the window restarts after the faults
    assert fresh(dut) == (OK, -400, 1000, -400, 1000, 2, 0, 1)


@pytest.mark.sim
def test_device_two_second_rule_with_the_defaults(dut: Dut) -> None:
    without_firmware(dut)
    out = dut.exec(
        DEVICE_SETUP + "t0 = time.ticks_ms()\nd = Dht22(board.dht22())\nshow(d.sample())"
    )
    assert out.split()[0] == str(NONE)  # too soon after power-up
    dut.sim.set_dht(22.0, 50.0)
    out = dut.exec("print(d.wait_ms())\nfresh(d)\nprint(time.ticks_diff(time.ticks_ms(), t0))")
    wait, *reading, elapsed = (int(v) for v in out.split())
    assert 0 < wait <= 2000  # the first measurement waits for the interval
    assert tuple(reading) == (OK, 220, 500, 220, 500, 1, 0, 1)
    assert elapsed >= 2000
    dut.sim.set_dht(30.0, 70.0)
    out = dut.exec("show(d.sample())\nprint(d.wait_ms())")
    *reading, wait = (int(v) for v in out.split())
    assert tuple(reading) == (OK, 220, 500, 220, 500, 1, 0, 0)  # cached: sensor not read
    assert 2000 < wait <= 10_000  # all well: the default period, not the interval


# A sensor whose answers and exceptions exist before the heap is locked.
FAKE_SENSOR = """\
import micropython, time
from nodefw.drivers.dht22 import Dht22
class Fake:
    def __init__(self):
        self.t = 21
        self.h = 45
        self.err = None
    def measure(self):
        if self.err is not None:
            raise self.err
    def temperature(self):
        return self.t
    def humidity(self):
        return self.h
"""


def test_device_sampling_allocates_nothing(dut: Dut) -> None:
    """Every path through sample() and wait_ms() runs with the heap locked."""
    without_firmware(dut)
    code = FAKE_SENSOR + (
        "s = Fake()\nnow = [0]\nd = Dht22(s, clock=lambda: now[0])\n"
        "errs = (None, OSError(110), Exception('checksum error'), ValueError())\n"
        "out = bytearray(40)\n"
        "def run():\n"
        "    k = 0\n"
        "    for i in range(40):\n"
        "        now[0] += 2000 if i % 2 else 500\n"  # every other call is too soon
        "        s.err = errs[i % 8 // 2]\n"
        "        s.t = 90 if i % 10 == 9 else -5\n"  # sometimes out of range
        "        r = d.sample()\n"
        "        d.wait_ms()\n"
        "        out[k] = r.status\n"
        "        k += 1\n"
        "run()\n"  # warm up: first calls may intern or grow things
        "micropython.heap_lock()\n"
        "try:\n    run()\nfinally:\n    micropython.heap_unlock()\n"
        "print(bytes(out).hex(), d.reading.temp_med)"
    )
    statuses, med = dut.exec(code).split()
    seen = set(bytes.fromhex(statuses))
    assert {OK, TIMEOUT, CHECKSUM, ERROR, RANGE} <= seen
    assert int(med) == -50


def test_device_interval_across_a_ticks_wrap(dut: Dut) -> None:
    """On MicroPython the driver uses time.ticks_diff, whatever the ticks period."""
    without_firmware(dut)
    code = FAKE_SENSOR + (
        "off = [0]\nbase = time.ticks_add(0, -1000)\n"
        "d = Dht22(Fake(), clock=lambda: time.ticks_add(base, off[0]))\n"
        "off[0] = 1999\nr1 = d.sample().fresh\n"
        "off[0] = 2000\nr = d.sample()\n"
        "print(r1, r.fresh, r.status, r.temp)"
    )
    assert dut.exec(code).split() == ["False", "True", str(OK), "210"]
