"""The firmware's main loop on the simulated device: the DHT22 job turns every
sensor fault into a value in STATUS and on the OLED while the device keeps
answering, a job that fails is logged and restarted, and the HC-05 link
follows its STATE pin. These need the simulator (marker `sim`)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from homeca.link import Link
from homeca.sim.device import SimDevice
from homeca.sim.report import parse_size, wait_sensor
from nodefw import messages, wirebytes

pytestmark = pytest.mark.sim

PERIOD_S = 2  # the DHT22's shortest period (config dht_period_s), to keep tests short
NO_AGE = 0xFFFFFFFF


@pytest.fixture
def dev(tmp_path: Path) -> Iterator[SimDevice]:
    with SimDevice(tmp_path / "d", settings={"dht_period_s": PERIOD_S}) as d:
        d.wait_ready()
        yield d


def wait_status(link: Link, ok: Callable[[dict], bool], timeout: float = 8.0) -> dict:
    """Poll STATUS until ok(status); every poll must be answered."""
    deadline = time.monotonic() + timeout
    while True:
        st = link.status()
        if ok(st):
            return st
        assert time.monotonic() < deadline, f"timed out; last status {st}"
        time.sleep(0.1)


def test_sensor_values_and_every_fault_reach_status_and_the_oled(dev: SimDevice) -> None:
    with Link(dev.hc05.path) as link:
        # STATUS may answer before the display job has drawn the same reading:
        # each check waits for a frame started after the change.
        frames = dev.oled.frames
        dev.set_dht(22.5, 48.0)
        good = wait_status(link, lambda s: s["dht"] == messages.DHT_OK and s["temp"] == 225)
        assert (good["hum"], good["restarts"]) == (480, 0)
        assert 0 <= good["dht_age"] <= PERIOD_S + 1
        shown_good = dev.oled_pixels(after=frames, quiet=0.3)

        faults = {
            "timeout": (lambda: dev.set_dht_fault("timeout"), messages.DHT_TIMEOUT),
            "checksum": (lambda: dev.set_dht_fault("checksum"), messages.DHT_CHECKSUM),
            "range": (lambda: dev.set_dht(95.0, 40.0), messages.DHT_RANGE),  # over 80 degC
        }
        for name, (inject, code) in faults.items():
            frames = dev.oled.frames
            inject()
            st = wait_status(link, lambda s, c=code: s["dht"] == c)
            # The last good value stays, with its age; the loop keeps answering.
            assert (st["temp"], st["hum"]) == (225, 480), name
            assert st["dht_age"] != NO_AGE and st["restarts"] == 0, name
            shown = dev.oled_pixels(after=frames, quiet=0.3)
            assert shown != shown_good, f"{name} not on the OLED"
            frames = dev.oled.frames
            dev.set_dht(22.5, 48.0)
            wait_status(link, lambda s: s["dht"] == messages.DHT_OK)
            assert dev.oled_pixels(after=frames, quiet=0.3) == shown_good, name

        # A sensor that stays dead: the reading ages, the device answers throughout.
        dev.set_dht_fault("timeout")
        first = wait_status(link, lambda s: s["dht"] == messages.DHT_TIMEOUT)
        later = wait_status(link, lambda s: s["dht_age"] >= first["dht_age"] + 2)
        assert later["dht"] == messages.DHT_TIMEOUT and later["uptime"] > first["uptime"]


def test_no_sensor_at_boot_reports_none_then_the_fault(tmp_path: Path) -> None:
    with SimDevice(tmp_path / "d", settings={"dht_period_s": PERIOD_S}) as dev:
        dev.set_dht_fault("timeout")
        dev.wait_ready()
        with Link(dev.hc05.path) as link:
            st = link.status()
            # NONE until the first measurement, 2 s after boot (a slow machine may be past it).
            assert st["dht"] in (messages.DHT_NONE, messages.DHT_TIMEOUT)
            assert (st["temp"], st["hum"], st["dht_age"]) == (messages.NO_VALUE, -32768, NO_AGE)
            st = wait_status(link, lambda s: s["dht"] == messages.DHT_TIMEOUT)
            assert (st["temp"], st["dht_age"]) == (messages.NO_VALUE, NO_AGE)


def test_a_failing_job_is_logged_and_restarted_while_the_device_answers(
    dev: SimDevice,
) -> None:
    with Link(dev.hc05.path) as link:
        wait_sensor(link)
        dev.set_i2c_nack(True)  # the OLED stops acknowledging: unplugged
        dev.set_dht(30.0, 20.0)  # a new reading makes the display job draw, and fail
        st = wait_status(link, lambda s: s["restarts"] >= 2)
        assert st["last_fail"].startswith("display: OSError"), st["last_fail"]
        log = dev.console_tail(4000)
        assert "job display failed (restart 1 since boot)" in log
        # Restarts back off (1 s, 2 s, 4 s ...): no busy loop while the part is gone.
        time.sleep(3.0)
        assert link.status()["restarts"] <= st["restarts"] + 2

        frames = dev.oled.frames
        dev.set_i2c_nack(False)  # plugged back: the next restart draws the screen
        deadline = time.monotonic() + 10
        while dev.oled.frames == frames:
            assert time.monotonic() < deadline, "the display job never came back"
            time.sleep(0.1)
        settled = link.status()["restarts"]
        time.sleep(2.5)
        assert link.status()["restarts"] == settled  # running again, not failing


def test_a_partial_frame_is_dropped_when_the_phone_disconnects(dev: SimDevice) -> None:
    request = wirebytes.frame(messages.encode(messages.STATUS_REQ, 5, {}))
    with Link(dev.hc05.path) as link:
        wait_sensor(link)
        link.send_raw(request[:7])  # the phone goes away mid-frame
    time.sleep(0.8)  # STATE low for a few of the driver's samples
    with Link(dev.hc05.path) as link:
        time.sleep(0.5)
        st = link.status()
        # The old half frame did not swallow the new one: nothing counted as corrupt.
        assert st["link_bad"] == 0


def test_a_stale_partial_frame_does_not_swallow_the_next_request(dev: SimDevice) -> None:
    # A damaged length that is still plausible (1000) would make the decoder
    # wait for 1000 bytes, holding every later request back with it.
    with Link(dev.hc05.path) as link:
        wait_sensor(link)
        link.send_raw(b"\xf3\x8c\x03\xe8\x01\x01\x00")
        time.sleep(3.2)  # the driver gives up a partial frame after 2 s without a byte
        st = link.status(timeout=5)
        assert st["link_bad"] == 1  # the false start, counted once


def test_a_request_behind_a_false_sof_is_answered(dev: SimDevice) -> None:
    # A false SOF with a plausible length (240) arrives right before a genuine
    # request, which the decoder takes as part of that frame. When no more
    # bytes come, the driver drops only the false SOF and finds the request
    # behind it; dropping everything held would lose it.
    with Link(dev.hc05.path) as link:
        wait_sensor(link)
        rid = link.send_raw(b"\xf3\x8c\x00\xf0\x01") or link.send(messages.STATUS_REQ)
        st = link.receive(rid, expect=messages.STATUS, timeout=5)
        assert st["link_bad"] == 1


def test_the_loop_with_every_job_fits_the_heap_limit(dev: SimDevice) -> None:
    with Link(dev.hc05.path) as link:
        wait_sensor(link)
        before = dev.oled.frames
        dev.set_dht(18.0, 60.0)
        wait_status(link, lambda s: s["temp"] == 180 and dev.oled.frames > before)
        time.sleep(1.2)  # a housekeeping round samples the heap after all of it
        st = link.status()
    limit = parse_size(dev.heapsize)
    assert 0 < st["heap_peak"] < limit
    assert st["heap_free"] > 8192, st
