"""The firmware spine on a device under test (any --target): status over the
HC-05 link, answers to bad requests, and the console like a real board's."""

from __future__ import annotations

import os

import pytest

import nodefw
from homeca.link import DeviceError, LinkError
from homeca.testing.dut import Dut
from nodefw import messages, wirebytes


def test_status_describes_the_device(dut: Dut) -> None:
    st = dut.status()
    assert len(st["mac"]) == 6
    assert st["fw"] == nodefw.VERSION
    assert messages.STATE_NAMES[st["state"]] == "blank"  # nothing provisioned yet
    assert st["heap_peak"] > 0
    assert st["heap_free"] > 0
    if dut.sim is not None:
        assert st["mac"] == dut.sim.mac
        assert st["name"] == dut.sim.name
        assert st["model"] == "nodemcu-v3-sim"


def test_unknown_message_type_gets_404(dut: Dut) -> None:
    link = dut.link
    assert 0x3E not in messages.SCHEMAS
    link.send_raw(wirebytes.frame(wirebytes.encode(0x3E, 77, (), {})))
    with pytest.raises(DeviceError) as err:
        link.receive(77)
    assert err.value.code == messages.E_UNKNOWN_TYPE


def test_malformed_request_gets_400_and_link_survives(dut: Dut) -> None:
    link = dut.link
    body = wirebytes.encode(messages.STATUS_REQ, 9, (), {}) + b"\x00"  # trailing byte
    link.send_raw(wirebytes.frame(body))
    with pytest.raises(DeviceError) as err:
        link.receive(9)
    assert err.value.code == messages.E_BAD_REQUEST
    assert "trailing" in err.value.detail
    assert dut.status()["state"] == messages.ST_BLANK


def test_garbage_on_the_link_is_skipped_and_counted(dut: Dut) -> None:
    link = dut.link
    good = wirebytes.frame(messages.encode(messages.STATUS_REQ, 1, {}))
    corrupt = bytearray(good)
    corrupt[-1] ^= 0xFF
    link.send_raw(os.urandom(300).replace(b"\xf3", b"") + bytes(corrupt) + b"\x00\xf3\x8c")
    st = dut.status()
    assert st["link_bad"] >= 1
    # An error message is never answered (no ping-pong between two parties).
    rid = link.send(messages.ERROR, {"code": 400, "detail": "x"})
    with pytest.raises(LinkError, match="no answer"):
        link.receive(rid, timeout=0.5)


def test_console_exec_files_and_soft_reset(dut: Dut) -> None:
    """Raw REPL over the console (mpremote's transport), a file pushed and read
    back, a soft reset, and the firmware answers on the HC-05 link again."""
    con = dut.console  # interrupts the firmware, as mpremote does on a board
    assert con.exec("print(6 * 7)").strip() == "42"
    assert con.eval("1 + 2") == 3
    payload = bytes(range(256)) * 9 + b"end"
    con.put("probe.bin", payload)
    assert con.get("probe.bin") == payload
    assert "probe.bin" in con.listdir("")
    with pytest.raises(Exception, match="ZeroDivisionError"):
        con.exec("1 / 0")
    dut.reboot()
    assert dut.status()["fw"] == nodefw.VERSION
    # The file survived the reset: it is on the device's flash.
    assert dut.get("probe.bin") == payload
    dut.reboot()


def test_raw_repl_soft_reset_like_mpremote(dut: Dut) -> None:
    """mpremote's own soft reset (Ctrl-D in the raw REPL) comes back in the raw
    REPL without main.py, as on a board; a friendly soft reset then starts it."""
    con = dut.console
    transport = con._t
    transport.enter_raw_repl(soft_reset=True)
    assert con.exec("import sys; print('app' in sys.modules)").strip() == "False"
    dut.reboot()
    assert dut.status()["name"]


def test_flood_of_random_bytes_leaves_the_device_answering(dut: Dut) -> None:
    """Seconds of garbage on the HC-05 line: the decoder's fixed buffer drops
    it, the heap stays bounded, and status answers right after."""
    import random
    import time

    link = dut.link
    before = dut.status()
    rng = random.Random(0xF100D)
    sent = 0
    deadline = time.monotonic() + 3.0
    while time.monotonic() < deadline:
        chunk = rng.randbytes(512)
        link.send_raw(chunk)
        sent += len(chunk)
    time.sleep(1.5)  # one housekeeping round samples the heap after the flood
    after = dut.status()
    # A real HC-05 at 9600 baud carries ~3 KB in that time, the simulator far more.
    assert sent > (100_000 if dut.sim is not None else 1024)
    assert after["heap_peak"] - before["heap_peak"] < 4096, (before, after)
    assert after["uptime"] >= before["uptime"]  # no reboot on the way
