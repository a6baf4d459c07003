# DHT22 (AM2302) temperature and humidity on any board. The sensor object is
# what board.dht22() returns: MicroPython's dht.DHT22 on the ESP8266, the
# simulated one on unix_sim. Nothing here knows which.
#
# sample() never raises. A failed measurement becomes a status code that a
# wire message can carry, and the last good values stay available with their
# timestamp, so a bad sensor cannot kill the task that reads it.
#
# Timing. The datasheet allows one measurement every 2 s. sample() only
# measures when interval_ms has passed since the last measurement (or since
# the driver was made, which covers the sensor's power-up time). A call that
# comes sooner does not touch the sensor: it returns the reading unchanged,
# with fresh=False.
#
# Retries. sample() never waits for a retry, because a retry must also wait
# 2 s. It reports the fault at once. wait_ms() then says when to call again:
# after interval_ms while the failed measurements in a row are at most
# `retries`, and after period_ms once they are more. So one bad answer costs
# one early retry, and a dead sensor is polled at the normal rate.
#
# Runs unchanged on CPython for the host tests. CPython has no time.ticks_ms,
# so pass a clock there.
try:
    from micropython import const
except ImportError:  # CPython

    def const(x):
        return x


import time

# The status codes of a measurement (messages.DHT_OK ...) are wire values: the
# message catalogue has them.
from nodefw import messages as m

_INTERVAL_MS = const(2000)  # datasheet: at least 2 s between measurements
_PERIOD_MS = const(10000)  # default schedule when all is well
_RETRIES = const(2)  # early retries after a failed measurement

_T_MIN = const(-400)  # datasheet range in 0.1 degC
_T_MAX = const(800)
_H_MAX = const(1000)  # 0.1 %RH
_WINDOW = const(3)  # readings in the median
# MicroPython's dht module raises Exception("checksum error"), not a subclass.
_CHECKSUM_MSG = const("checksum error")

try:
    _ticks_diff = time.ticks_diff
except AttributeError:  # CPython: the ESP8266's ticks arithmetic (period 2**30)

    def _ticks_diff(a, b):
        return ((a - b + 0x20000000) & 0x3FFFFFFF) - 0x20000000


class Reading:
    """The driver's one reading. sample() updates it in place, so read the
    fields right away or copy them. Temperatures are in 0.1 degC and
    humidities in 0.1 %RH, as ints (both fit an I16). temp, hum, temp_med,
    hum_med and ticks belong to the last good measurement. status and fails
    belong to the latest measurement."""

    def __init__(self):
        self.status = m.DHT_NONE
        self.temp = m.NO_VALUE  # the last good values
        self.hum = m.NO_VALUE
        self.temp_med = m.NO_VALUE  # median of up to the last 3 good values
        self.hum_med = m.NO_VALUE
        self.ticks = 0  # clock (time.ticks_ms) at the last good measurement
        self.seq = 0  # good measurements so far; 0: none, the values are m.NO_VALUE
        self.fails = 0  # failed measurements in a row
        self.fresh = False  # the sample() that returned this measured


class Dht22:
    """Readings from `sensor` (measure(), temperature(), humidity() in degC
    and %RH, as in MicroPython's dht.DHT22). interval_ms is the shortest gap
    between measurements; keep the default on hardware and lower it only for
    simulated sensors in tests. period_ms is the gap wait_ms() suggests when
    nothing failed. clock is the ticks_ms function (default time.ticks_ms)."""

    def __init__(
        self, sensor, interval_ms=_INTERVAL_MS, period_ms=_PERIOD_MS, retries=_RETRIES, clock=None
    ):
        if interval_ms <= 0 or retries < 0:
            raise ValueError("interval_ms > 0 and retries >= 0")
        self._sensor = sensor
        self._clock = time.ticks_ms if clock is None else clock
        self.interval_ms = interval_ms
        self.period_ms = max(period_ms, interval_ms)
        self.retries = retries
        self.reading = Reading()
        # The median window: a ring of the last good values, filled from slot
        # 0 after every reset, so the first _n slots are valid until it is full.
        self._t = [0] * _WINDOW
        self._h = [0] * _WINDOW
        self._n = 0
        self._i = 0
        # The datasheet also wants time after power-up, and we cannot tell
        # when that was. So creating the driver counts as a measurement.
        self._last = self._clock()

    def sample(self):
        """Measure if allowed, and return the Reading. Never raises
        (KeyboardInterrupt still goes through)."""
        r = self.reading
        now = self._clock()
        if _ticks_diff(now, self._last) < self.interval_ms:
            r.fresh = False
            return r
        self._last = now
        r.fresh = True
        status = self._measure()
        r.status = status
        if status == m.DHT_OK:
            r.fails = 0
            r.ticks = now
            r.seq += 1
            self._filter(r)
        else:
            r.fails += 1
            if r.fails > self.retries:
                # The sensor is failing, not glitching. Old values must not
                # outvote the first ones after it recovers.
                self._n = 0
                self._i = 0
        return r

    def wait_ms(self):
        """Milliseconds until sample() is worth calling again."""
        r = self.reading
        if r.status == m.DHT_NONE or 0 < r.fails <= self.retries:
            due = self.interval_ms  # the first measurement, or a retry
        else:
            due = self.period_ms
        left = due - _ticks_diff(self._clock(), self._last)
        return left if left > 0 else 0

    def _measure(self):
        """Status of one measurement. A good one leaves its values in the Reading."""
        s = self._sensor
        try:
            s.measure()
            t = round(s.temperature() * 10)
            h = round(s.humidity() * 10)
        except OSError:
            return m.DHT_TIMEOUT
        except Exception as e:
            if e.args and e.args[0] == _CHECKSUM_MSG:
                return m.DHT_CHECKSUM
            return m.DHT_ERROR
        if not (_T_MIN <= t <= _T_MAX and 0 <= h <= _H_MAX):
            return m.DHT_RANGE
        r = self.reading
        r.temp = t
        r.hum = h
        return m.DHT_OK

    def _filter(self, r):
        i = self._i
        self._t[i] = r.temp
        self._h[i] = r.hum
        self._i = 0 if i == _WINDOW - 1 else i + 1
        if self._n < _WINDOW:
            self._n += 1
        r.temp_med = _median(self._t, self._n)
        r.hum_med = _median(self._h, self._n)


def _median(v, n):
    """Median of the first n (1..3) values; with two, their mean rounded down."""
    if n == 1:
        return v[0]
    if n == 2:
        return (v[0] + v[1]) // 2
    a = v[0]
    b = v[1]
    c = v[2]
    if a > b:
        a, b = b, a
    if b > c:
        b = c
    return a if a > b else b
