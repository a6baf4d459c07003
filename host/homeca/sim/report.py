"""Run the firmware on a unix-port device and measure it: boot time, link
round trips, and heap (live peak after collection, and the smallest heap the
firmware still boots and answers in). Every figure is taken after each main-
loop job has done its work once: a request answered, a sensor sample shown."""

from __future__ import annotations

import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from homeca.link import Link
from homeca.sim.device import SimDevice, SimError

if TYPE_CHECKING:
    from homeca.sim.heapprof import HeapProfile


@dataclass
class Report:
    name: str
    serial: str
    state: str
    heapsize: str
    heap_limit: int
    heap_free: int
    heap_peak: int
    boot_s: float
    status_ms_median: float
    status_ms_max: float
    requests: int
    sensor: str
    restarts: int
    oled_png: Path | None


def parse_size(text: str) -> int:
    """'64k', '1m' or '65536' in bytes, as micropython -X heapsize reads it."""
    t = text.strip().lower()
    mult = {"k": 1024, "m": 1024 * 1024}.get(t[-1:], 1)
    digits = t[:-1] if t[-1:] in "km" else t
    if not digits.isdigit() or int(digits) == 0:
        raise SimError(f"bad heap size {text!r} (e.g. 64k)")
    return int(digits) * mult


SENSOR_WAIT_S = 6.0  # the DHT22 driver measures first 2 s after boot


def wait_sensor(link: Link, timeout: float = SENSOR_WAIT_S) -> dict:
    """The first STATUS with a DHT22 measurement in it (its status may be a fault)."""
    from nodefw.messages import DHT_NONE as NONE

    deadline = time.monotonic() + timeout
    while True:
        st = link.status()
        if st["dht"] != NONE:
            return st
        if time.monotonic() > deadline:
            raise SimError(f"no DHT22 measurement within {timeout:.0f} s")
        time.sleep(0.2)


def sensor_text(st: dict) -> str:
    from nodefw.messages import DHT_NAMES as STATUS_NAMES

    status = STATUS_NAMES[st["dht"]] if st["dht"] < len(STATUS_NAMES) else str(st["dht"])
    if st["dht_age"] == 0xFFFFFFFF:
        return f"{status}, no value yet"
    return f"{st['temp'] / 10:.1f} degC {st['hum'] / 10:.1f} %RH ({status}, {st['dht_age']} s old)"


def measure(dev: SimDevice, requests: int = 50, oled_png: Path | None = None) -> Report:
    """Boot `dev` (started by the caller), exercise its link, and report."""
    from nodefw.messages import STATE_NAMES

    t0 = time.monotonic()
    dev.wait_ready(20)
    boot_s = time.monotonic() - t0
    times = []
    with Link(dev.hc05.path) as link:
        for _ in range(requests):
            t = time.perf_counter()
            st = link.status()
            times.append((time.perf_counter() - t) * 1000)
        wait_sensor(link)
        time.sleep(1.2)  # one housekeeping round samples the heap after the traffic
        st = link.status()
    if oled_png is not None:
        dev.save_oled_png(oled_png)
    return Report(
        name=st["name"], serial=st["mac"].hex().upper(), state=STATE_NAMES[st["state"]],
        heapsize=dev.heapsize, heap_limit=parse_size(dev.heapsize), heap_free=st["heap_free"],
        heap_peak=st["heap_peak"], boot_s=boot_s, status_ms_median=statistics.median(times),
        status_ms_max=max(times), requests=requests, sensor=sensor_text(st),
        restarts=st["restarts"], oled_png=oled_png,
    )  # fmt: skip


def boots_with(heap_bytes: int, interpreter: str = "unix") -> bool:
    """Does the firmware boot and answer status with this heap?"""
    with tempfile.TemporaryDirectory(prefix="hcheap-") as d:
        dev = SimDevice(Path(d), heapsize=str(heap_bytes), interpreter=interpreter).start()
        try:
            dev.wait_ready(8)
            with Link(dev.hc05.path, timeout=3) as link:
                for _ in range(5):
                    link.status()
                wait_sensor(link)
            return True
        except Exception:
            return False
        finally:
            dev.stop()


def heap_floor(
    interpreter: str = "unix", lo: int = 8 * 1024, hi: int = 128 * 1024, step: int = 1024
) -> int:
    """Smallest heap (to `step`) the firmware runs in, by bisection."""
    if not boots_with(hi, interpreter):
        raise SimError(f"firmware does not run even with a {hi}-byte heap")
    while hi - lo > step:
        mid = (lo + hi) // 2 // step * step
        if boots_with(mid, interpreter):
            hi = mid
        else:
            lo = mid
    return hi


def measure_interpreter(
    interpreter: str, requests: int = 50, floor: bool = False, oled_png: Path | None = None
) -> tuple[Report, HeapProfile, int | None]:
    """The report of a fresh device on `interpreter`, its heap profile, and
    with `floor` its heap floor."""
    from homeca.sim.heapprof import profile

    with (
        tempfile.TemporaryDirectory(prefix="hcreport-") as d,
        SimDevice(Path(d) / "dev", interpreter=interpreter) as dev,
    ):
        report = measure(dev, requests, oled_png)
    return report, profile(interpreter), heap_floor(interpreter) if floor else None
