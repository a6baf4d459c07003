"""The simulated ESP8266 bootloader against the real esptool: as a subprocess
over the pty and over RFC 2217 (with its DTR/RTS reset), and in-process for the
malformed packets esptool itself never sends."""

from __future__ import annotations

import hashlib
import os
import struct
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from esptool.targets.esp8266 import ESP8266ROM
from esptool.util import FatalError

from homeca.sim.bootloader import (
    FLASH_SIZE,
    SECTOR,
    BootloaderError,
    Esp8266,
    FlashImage,
    SimBootloader,
    checksum,
    rom_erase_area,
    serve_forever,
)

# 0xC0 and 0xDB in the eFuse words: every READ_REG of the MAC needs SLIP escapes
MAC_TAIL = bytes.fromhex("c0dbee")


def esptool(port: str, *args: str, ok: bool = True) -> str:
    cmd = [sys.executable, "-m", "esptool", "--port", port, *args]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=90)
    out = res.stdout + res.stderr
    assert (res.returncode == 0) == ok, f"{' '.join(cmd)} -> {res.returncode}\n{out}"
    return out


def payload(size: int, seed: int = 1) -> bytes:
    """Half noise, half text: compressible, but not to nothing."""
    noise = hashlib.sha256(str(seed).encode()).digest() * (size // 64)
    text = b"NodeMCU flash test %d " % seed * size
    return (noise[: size // 2] + text)[:size]


@pytest.fixture
def sim(tmp_path: Path):
    with SimBootloader(tmp_path / "flash.bin", MAC_TAIL) as s:
        yield s
    assert s.error is None


def image(sim: SimBootloader) -> bytes:
    return sim.image.read_bytes()


# -- the pty: no reset lines, always in bootloader mode --------------------------


def test_chip_id_and_mac_over_the_pty(sim: SimBootloader) -> None:
    out = esptool(sim.port, "--before", "no-reset", "chip-id")
    assert "Chip type:          ESP8266EX" in out
    assert "Crystal frequency:  26MHz" in out
    assert "MAC:                5c:cf:7f:c0:db:ee" in out
    assert "Chip ID: 0x00c0dbee" in out
    assert sim.mode == "stub"  # esptool's hard reset cannot reach a pty
    # Its default reset fails harmlessly on a pty; the stub answers the SYNC
    out = esptool(sim.port, "read-mac")
    assert "Chip was NOT reset" in out
    assert "Stub flasher is already running" in out
    assert "MAC:                5c:cf:7f:c0:db:ee" in out
    assert sim.stats.stub_starts == 1


def test_write_verify_read_and_erase_over_the_pty(sim: SimBootloader, tmp_path: Path) -> None:
    data = payload(70_000)
    src = tmp_path / "app.bin"
    src.write_bytes(data)
    out = esptool(sim.port, "write-flash", "0x1000", str(src))
    assert "Hash of data verified." in out
    assert sim.stats.commands["FLASH_DEFL_DATA"] > 0  # compressed, as by default
    img = image(sim)
    assert img[0x1000 : 0x1000 + len(data)] == data
    assert img[:0x1000] == img[0x1000 + len(data) :][:0x1000] == b"\xff" * 0x1000

    assert "Verification successful" in esptool(sim.port, "verify-flash", "0x1000", str(src))
    back = tmp_path / "back.bin"
    esptool(sim.port, "read-flash", "0x1000", str(len(data)), str(back))
    assert back.read_bytes() == data
    assert sim.stats.bytes_read == len(data)

    esptool(sim.port, "erase-region", "0x2000", "0x1000")
    img = image(sim)
    assert img[0x2000:0x3000] == b"\xff" * 0x1000
    assert img[0x1000:0x2000] == data[:0x1000] and img[0x3000 : 0x1000 + len(data)] == data[0x2000:]
    esptool(sim.port, "erase-flash")
    assert image(sim) == b"\xff" * FLASH_SIZE


def test_uncompressed_write_at_460800_baud(sim: SimBootloader, tmp_path: Path) -> None:
    data = os.urandom(40_000)  # incompressible: esptool sends it as it is
    src = tmp_path / "noise.bin"
    src.write_bytes(data)
    out = esptool(sim.port, "-b", "460800", "write-flash", "--no-compress", "0x20000", str(src))
    assert "Changing baud rate to 460800" in out and "Hash of data verified." in out
    assert sim.stats.baud == 460800
    assert sim.stats.commands["FLASH_DATA"] == 3  # 16 KiB blocks
    assert image(sim)[0x20000 : 0x20000 + len(data)] == data


def test_rom_writes_without_the_stub(sim: SimBootloader, tmp_path: Path) -> None:
    data = payload(9_000, seed=2)
    src = tmp_path / "rom.bin"
    src.write_bytes(data)
    # An unaligned address: esptool pads to the sector with 0xFF
    esptool(sim.port, "--no-stub", "--after", "no-reset", "write-flash", "0x51234", str(src))
    img = image(sim)
    assert img[0x51234 : 0x51234 + len(data)] == data
    assert img[0x51000:0x51234] == b"\xff" * 0x234
    assert sim.stats.stub_starts == 0
    assert sim.stats.commands["FLASH_DATA"] == -(-(len(data) + 0x234) // 0x400)  # 1 KiB blocks
    assert sim.mode == "rom"


def test_soft_reset_leaves_the_loader_and_the_pty_comes_back(sim: SimBootloader) -> None:
    out = esptool(sim.port, "--before", "no-reset", "--after", "soft-reset", "chip-id")
    assert "Soft resetting" in out
    assert sim.stats.app_boots == 1  # RUN_USER_CODE
    assert sim.mode == "rom"  # the pty's board is straight back in its ROM loader
    esptool(sim.port, "--before", "no-reset", "--after", "no-reset", "read-mac")
    assert sim.stats.stub_starts == 2 and sim.mode == "rom"  # FLASH_END "reboot": the ROM


def test_write_past_the_end_is_refused_by_esptool(sim: SimBootloader, tmp_path: Path) -> None:
    src = tmp_path / "big.bin"
    src.write_bytes(payload(8192))
    before = image(sim)
    out = esptool(sim.port, "write-flash", "0x3ff000", str(src), ok=False)
    assert "will not fit in 4194304 bytes of flash" in out  # esptool read the size via RDID
    assert image(sim) == before


def test_write_past_the_end_is_refused_by_the_chip(tmp_path: Path) -> None:
    src = tmp_path / "big.bin"
    src.write_bytes(payload(8192))
    # A flash chip whose RDID esptool cannot size: it sends the write, the chip refuses it
    with SimBootloader(tmp_path / "flash.bin", flash_jedec=bytes.fromhex("ef4000")) as sim:
        before = image(sim)
        out = esptool(sim.port, "write-flash", "0x3ff000", str(src), ok=False)
        assert "Failed SPI operation" in out
        assert image(sim) == before
        assert sim.stats.bytes_erased == 0 and sim.stats.bytes_written == 0


# -- RFC 2217: esptool's DTR/RTS reset, as on the board ---------------------------
# pyserial's client renegotiates the port whenever esptool changes its timeout,
# polling at 50 ms: each command costs ~0.2 s, so these tests do little.


def test_rfc2217_resets_into_the_bootloader_and_flashes(sim: SimBootloader, tmp_path: Path) -> None:
    data = payload(30_000, seed=3)
    src = tmp_path / "app.bin"
    src.write_bytes(data)
    sim.reset(bootloader=False)  # the board is running its application
    out = esptool(sim.rfc2217_url, "write-flash", "0x0", str(src))
    assert "Hash of data verified." in out
    assert image(sim)[: len(data)] == data
    assert sim.stats.bootloader_resets == 1  # the classic DTR/RTS sequence, GPIO0 low
    # --after hard-reset: EN pulsed with GPIO0 high boots the application
    assert sim.wait_for(lambda s: s.stats.app_boots == 2)
    assert sim.mode == "app"
    # which does not speak the loader's protocol until the next reset
    esptool(sim.rfc2217_url, "--before", "no-reset", "--connect-attempts", "1", "chip-id", ok=False)
    assert sim.stats.bootloader_resets == 1


def test_rfc2217_with_ign_set_control(sim: SimBootloader) -> None:
    out = esptool(sim.rfc2217_url + "?ign_set_control", "--after", "no-reset", "read-mac")
    assert "MAC:                5c:cf:7f:c0:db:ee" in out
    assert sim.stats.bootloader_resets == 1
    assert sim.mode == "rom"


# -- packets esptool never sends, sent with esptool's own framing --------------------


def _block(seq: int, data: bytes) -> bytes:
    return struct.pack("<IIII", len(data), seq, 0, 0) + data


def test_bad_checksums_and_sequences_are_refused(sim: SimBootloader) -> None:
    before = image(sim)
    esp = ESP8266ROM(sim.port)
    try:
        esp.connect("no-reset", attempts=1)
        block = b"\x12" * 0x400
        esp.flash_begin(0x800, 0x10000)  # ROM: erases, 1 KiB blocks
        with pytest.raises(FatalError, match="Checksum error"):
            esp.check_command("write", 0x03, _block(0, block), checksum(block) ^ 1)
        with pytest.raises(FatalError, match="running result is wrong"):
            esp.check_command("write", 0x03, _block(1, block), checksum(block))
        esp.check_command("write", 0x03, _block(0, block), checksum(block))
        with pytest.raises(FatalError, match="Flash write error"):
            esp.flash_begin(0x2000, FLASH_SIZE - 0x1000)

        stub = esp.run_stub()
        with pytest.raises(FatalError, match="Failed SPI operation"):
            stub.flash_begin(0x2000, FLASH_SIZE - 0x1000)
        with pytest.raises(FatalError, match="Failed SPI operation"):
            stub.erase_region(FLASH_SIZE - SECTOR, 2 * SECTOR)
        stub.flash_begin(0x800, 0x20000)
        with pytest.raises(FatalError, match="Bad data checksum"):
            stub.check_command("write", 0x03, _block(0, block), checksum(block) ^ 0x40)
        with pytest.raises(FatalError, match="Not enough data"):  # block 0 skipped
            stub.check_command("write", 0x03, _block(1, block), checksum(block))
        stub.check_command("write", 0x03, _block(0, block), checksum(block))
        with pytest.raises(FatalError, match="Too much data"):  # block 0 again
            stub.check_command("write", 0x03, _block(0, block), checksum(block))
        with pytest.raises(FatalError, match="Bad data length"):  # 0x400 bytes still due
            stub.flash_finish()
        stub.check_command("write", 0x03, _block(1, block), checksum(block))
        stub.flash_finish()
        with pytest.raises(FatalError, match="Invalid command"):
            stub.check_command("nothing", 0x55)
    finally:
        esp._port.close()
    img = image(sim)
    assert img[0x10000:0x10400] == block and img[0x20000:0x20800] == block * 2
    assert img[0x10400:0x20000] == before[0x10400:0x20000] and img[0x20800:] == before[0x20800:]


# -- the model's parts ------------------------------------------------------------


@pytest.mark.parametrize("offset", [0, 0x1000, 0x7000, 0xF000, 0x12000, 0x3F0000])
@pytest.mark.parametrize("size", [1, 0x1000, 0x2001, 0x9000, 0x10000, 0x23456])
def test_rom_erase_bug_meets_esptools_workaround(offset: int, size: int) -> None:
    size = min(size, FLASH_SIZE - offset)
    start, length = rom_erase_area(offset, ESP8266ROM.get_erase_size(ESP8266ROM, offset, size))
    assert start <= offset and start + length >= offset + size


class _Lines:
    """esptool's classic reset over RFC 2217, each change a round trip after the last."""

    def __init__(self, chip: Esp8266, step: float) -> None:
        self.chip, self.step, self.now = chip, step, 0.0
        self.dtr = self.rts = True  # as pyserial opens a port

    def set(self, dtr: bool | None = None, rts: bool | None = None, wait: float = 0.0) -> None:
        self.dtr = self.dtr if dtr is None else dtr
        self.rts = self.rts if rts is None else rts
        self.now += self.step
        self.chip.set_lines(self.dtr, self.rts, self.now)
        self.chip.tick(self.now)
        self.now += wait

    def settle(self) -> None:
        self.now += 1
        self.chip.tick(self.now)


@pytest.mark.parametrize("step", [0.001, 0.01, 0.1])  # a USB adapter, RFC 2217, ign_set_control
@pytest.mark.parametrize("reset_delay", [0.05, 0.55])  # esptool's two attempts
def test_classic_reset_enters_the_bootloader(
    tmp_path: Path, step: float, reset_delay: float
) -> None:
    flash = FlashImage(tmp_path / "flash.bin")
    chip = Esp8266(flash, MAC_TAIL, bytes.fromhex("ef4016"), lambda _: None)
    chip.power_on_reset(bootloader=False)
    lines = _Lines(chip, step)
    lines.set(dtr=False)  # IO0 high
    lines.set(rts=True)  # EN low: in reset
    lines.set(wait=0.1)  # esp_pylib's set_rts writes DTR again after RTS
    assert chip.mode == "reset"
    lines.set(dtr=True)  # both asserted: EN released, GPIO0 still high for a moment
    lines.set(rts=False)  # GPIO0 low
    lines.set(wait=reset_delay)
    lines.set(dtr=False)
    lines.settle()
    assert chip.mode == "rom" and chip.stats.bootloader_resets == 1
    # esptool's hard reset: EN pulsed, GPIO0 high
    lines.set(rts=True, wait=0.1)
    lines.set(rts=False)
    lines.settle()
    assert chip.mode == "app" and chip.stats.app_boots == 2
    flash.close()


def test_bad_input_changes_nothing(tmp_path: Path) -> None:
    short = tmp_path / "short.bin"
    short.write_bytes(b"\x00" * 1024)
    with pytest.raises(BootloaderError, match="4 MiB"):
        SimBootloader(short).start()
    assert short.read_bytes() == b"\x00" * 1024
    with pytest.raises(BootloaderError, match="does not exist"):
        SimBootloader(tmp_path / "nowhere" / "flash.bin").start()
    assert not (tmp_path / "nowhere").exists()
    with pytest.raises(BootloaderError, match="3 bytes"):
        SimBootloader(tmp_path / "flash.bin", b"\x01\x02")
    assert not (tmp_path / "flash.bin").exists()
    with (
        SimBootloader(tmp_path / "flash.bin") as sim,
        pytest.raises(BootloaderError, match="in use"),
    ):
        SimBootloader(tmp_path / "flash.bin").start()
    assert sim.error is None and sim._thread is None  # stopped cleanly


def test_serve_forever_tells_where_to_find_it(tmp_path: Path) -> None:
    lines: list[str] = []
    stop = threading.Event()
    server = threading.Thread(
        target=serve_forever,
        args=(tmp_path / "flash.bin", MAC_TAIL),
        kwargs={"out": lines.append, "stop": stop},
    )
    server.start()
    try:
        for _ in range(200):
            if len(lines) >= 3:
                break
            threading.Event().wait(0.01)
        pty = next(line.split()[1] for line in lines if line.startswith("pty:"))
        assert any(line.startswith("rfc2217:  rfc2217://127.0.0.1:") for line in lines)
        assert "5c:cf:7f:c0:db:ee" in lines[0]
        assert "Chip ID: 0x00c0dbee" in esptool(pty, "--before", "no-reset", "chip-id")
    finally:
        stop.set()
        server.join(timeout=10)
    assert not server.is_alive()
    assert "resets into the bootloader" in lines[-1]
