"""expect() on the console and on the link, and tests with several devices
(`duts`): a match is returned, a timeout says what came instead (the bytes
seen, the decoder's counters, the device's log), and every device opened is
its own, closed at the end."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

import nodefw
from homeca.console import Console, ConsoleTimeout
from homeca.expect import ExpectTimeout
from homeca.link import Link, LinkTimeout, Message
from homeca.sim.device import SimError
from homeca.testing import dut as dut_module
from homeca.testing.dut import Dut, DutError, NotEnoughBoards, open_duts, serial_boards
from nodefw import messages, wire, wirebytes

BANNER = r"HomeCA node fw (\S+) board \S+ serial "  # a regex; bytes are literal


def _reboot_to_banner(dut: Dut) -> re.Match[bytes]:
    """A console soft reset: the firmware starts again and prints its banner."""
    dut.console.soft_reset()
    m = dut.expect(BANNER, timeout=10)
    dut.wait_ready()
    return m


def test_console_expect_finds_the_boot_banner(dut: Dut) -> None:
    m = _reboot_to_banner(dut)
    assert m.group(1) == nodefw.VERSION.encode()
    # The rest of the line follows the match: the serial number, the MAC in hex.
    serial = dut.expect(re.compile(r"(\w+)\r?\n")).group(1).decode()  # the unix port: no CR
    assert serial == dut.status()["mac"].hex().upper()


def test_console_expect_timeout_shows_what_came_and_the_log(dut: Dut) -> None:
    _reboot_to_banner(dut)
    with pytest.raises(ConsoleTimeout) as err:
        dut.expect("HomeCA node fw", timeout=0.5)  # the banner's match consumed it
    e = err.value
    msg = str(e)
    assert msg.startswith(f"{dut.console_url}: no /HomeCA node fw/ within 0.5 s\n")
    serial = dut.status()["mac"].hex().upper()
    assert re.match(serial.encode() + rb"\r?\n", e.seen)  # the banner's tail, after the match
    # One line each, the bytes as a repr: control bytes cannot break the message.
    log = [f"  device log: {dut.log_path}"] if dut.log_path is not None else []
    assert msg.splitlines()[1:] == [f"  {len(e.seen)} bytes seen: {e.seen!r}", *log]
    assert e.log == dut.log_path
    if dut.sim is not None:  # the device's own log has it all, the banner included
        assert "HomeCA node fw" in dut.sim.console_tail()  # (which flushes the log first)


def test_console_expect_patterns_and_bytes_on_a_loopback(tmp_path: Path) -> None:
    with Console("loop://", log=tmp_path / "console.log") as con:
        con._t.serial.write(b"\x1b[1mboot\x00 ok\r\nrest\x07")
        assert con.expect(b"boot\x00", timeout=1).group() == b"boot\x00"  # literal bytes
        assert con.expect(re.compile(r"(o+)k"), timeout=1).group(1) == b"o"  # compiled str
        assert con.expect("\r\n", timeout=1).start() == 0  # right after the last match
        with pytest.raises(ExpectTimeout) as err:
            con.expect(b"boot", timeout=0.2)
    assert err.value.seen == b"rest\x07"
    assert "no b'boot' within 0.2 s" in str(err.value)
    assert "5 bytes seen: b'rest\\x07'" in str(err.value)
    assert f"device log: {tmp_path / 'console.log'}" in str(err.value)


def test_link_expect_finds_the_status_answer(dut: Dut) -> None:
    rid = dut.link.send(messages.STATUS_REQ)
    msg = dut.link.expect(messages.STATUS, timeout=5)
    assert isinstance(msg, Message)
    assert (msg.mtype, msg.rid) == (messages.STATUS, rid)
    assert msg.fields["fw"] == nodefw.VERSION


def test_link_expect_timeout_shows_frames_counters_and_the_log(dut: Dut) -> None:
    link = dut.link
    rid = link.send(messages.STATUS_REQ)
    with pytest.raises(LinkTimeout) as err:
        link.expect(messages.ERROR, timeout=1)  # the STATUS answer comes, no ERROR
    msg = str(err.value)
    assert msg.startswith(f"{dut.hc05_url}: no message 0x00 within 1 s\n")
    assert re.search(rf"1 messages of other types: 0x02 rid {rid} \d+ B$", msg, re.M), msg
    assert re.search(r"decoder: dropped=\d+ bad=\d+ pending=0", msg), msg
    assert err.value.seen.startswith(b"\xf3\x8c")  # the frame's SOF
    assert f"device log: {dut.log_path}" in msg if dut.log_path else "device log" not in msg


def test_link_expect_counts_garbage_and_corrupt_frames_on_a_loopback(tmp_path: Path) -> None:
    good = wirebytes.frame(messages.encode(messages.STATUS_REQ, 7, {}))
    corrupt = bytearray(good)
    corrupt[-1] ^= 0xFF
    junk = b"noise\x00"
    with Link("loop://", log=tmp_path / "dev.log") as link:
        link.send_raw(junk + bytes(corrupt) + good)
        with pytest.raises(LinkTimeout) as err:
            link.expect(messages.STATUS, timeout=0.3)
        msg = str(err.value)
        assert f"decoder: dropped={len(junk) + len(corrupt)} bad=1 pending=0" in msg
        assert f"1 messages of other types: 0x01 rid 7 {len(good) - wire.OVERHEAD} B" in msg
        assert f"{len(junk) + 2 * len(good)} bytes seen: {junk + bytes(corrupt) + good!r}" in msg
        assert f"device log: {tmp_path / 'dev.log'}" in msg
        link.send_raw(good)
        assert link.expect(messages.STATUS_REQ, timeout=1) == (messages.STATUS_REQ, 7, {})


def test_duts_are_three_devices_each_with_its_own_mac(
    duts: Callable[[int], tuple[Dut, ...]],
) -> None:
    devices = duts(3)
    assert len(devices) == 3
    status = [d.status() for d in devices]
    macs = {st["mac"] for st in status}
    assert len(macs) == 3, status
    assert len({d.hc05_url for d in devices}) == 3
    for d, st in zip(devices, status, strict=True):
        assert st["fw"] == nodefw.VERSION
        if d.sim is not None:
            assert st["mac"] == d.sim.mac
            assert st["name"] == d.sim.name
    logs = [d.log_path for d in devices]
    assert None in logs or len(set(logs)) == 3


def test_open_duts_closes_the_started_ones_when_one_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed: list[Dut] = []
    close = dut_module.UnixDut.close

    def recording_close(self: Dut) -> None:
        closed.append(self)
        close(self)

    monkeypatch.setattr(dut_module.UnixDut, "close", recording_close)
    with pytest.raises(SimError, match="device name"):
        open_duts("unix", tmp_path, ["dut1", "x" * 40])  # too long a name
    assert [d.sim.name for d in closed if d.sim] == ["dut1"]
    assert not closed[0].sim.running


def test_serial_boards_pair_consoles_with_links(tmp_path: Path) -> None:
    target = "serial:/dev/ttyUSB0|/dev/ttyUSB1"
    assert serial_boards(target, "/dev/rfcomm0|socket://h:1") == [
        ("/dev/ttyUSB0", "/dev/rfcomm0"),
        ("/dev/ttyUSB1", "socket://h:1"),
    ]
    assert serial_boards(target, None) == [("/dev/ttyUSB0", None), ("/dev/ttyUSB1", None)]
    with pytest.raises(DutError, match="one link per board"):
        serial_boards(target, "/dev/rfcomm0")
    with pytest.raises(NotEnoughBoards, match="3 boards needed"):
        open_duts(target, tmp_path, ["a", "b", "c"])
