"""Flashing at the bench: the filesystem as one LittleFS image, the regions a
board gets, the checks on the MicroPython image, and a simulated NodeMCU that
boots from a whole-flash image (its ROMFS partition and its LittleFS "/")."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from homeca.bundle import build_bundle, default_ecc_mpy
from homeca.cli import main
from homeca.console import Console
from homeca.fsimage import FLASH_SIZE, build_fs_image, fs_region, read_fs_image
from homeca.link import Link
from homeca.sim.device import SimDevice
from homeca.station.flash import FlashError, check_micropython_image, regions_for
from nodefw import VERSION

ROM_START = 0xB0000


def micropython_image(irom: int = 0x20000) -> bytes:
    """Shaped like MicroPython's ESP8266 release: a boot image (magic 0xE9, two
    segments) padded to 0x9000, then irom0. The simulator does not run it."""
    segs = [(0x40100000, b"\x11" * 300), (0x3FFE8000, b"\x22" * 100)]
    out = bytes([0xE9, len(segs), 0, 0x40]) + struct.pack("<I", 0x40100004)
    for addr, data in segs:
        out += struct.pack("<II", addr, len(data)) + data
    return out + b"\xff" * (0x9000 - len(out)) + bytes(i & 0xFF for i in range(irom))


@pytest.fixture(scope="module")
def sim_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bundle") / "unix_sim"
    build_bundle("unix_sim", out, ecc_mpy=default_ecc_mpy("unix_sim"),
                 settings={"name": "imaged-node"})  # fmt: skip
    return out


def whole_flash(regions: list) -> bytearray:
    img = bytearray(b"\xff" * FLASH_SIZE)
    for r in regions:
        img[r.offset : r.offset + len(r.data)] = r.data
    return img


def test_the_fs_image_round_trips_and_is_cut_after_its_last_block() -> None:
    _, size = fs_region()
    files = {"boot.py": b"# boot\n", "main.py": b"x" * 5000, "store/id": bytes(range(256))}
    image = build_fs_image(files, size)
    assert len(image) < size and len(image) % 4096 == 0
    assert read_fs_image(image, size) == files
    with pytest.raises(Exception, match="bad path"):
        build_fs_image({"../x": b""}, size)
    with pytest.raises(Exception, match="do not fit"):
        build_fs_image({"big": bytes(3 * 4096)}, 2 * 4096)


def test_a_board_boots_from_its_flash_image(tmp_path: Path, sim_bundle: Path) -> None:
    regions = regions_for(micropython_image(), sim_bundle)
    assert [r.name for r in regions[:2]] == ["micropython", "romfs"]
    assert regions[1].offset == ROM_START
    assert all(r.offset >= fs_region()[0] for r in regions[2:])
    image = tmp_path / "flash.bin"
    image.write_bytes(whole_flash(regions))
    with SimDevice(tmp_path / "d", flash_image=image).start() as dev:
        dev.wait_ready()
        with Link(dev.hc05.path) as link:
            st = link.status()
        assert st["name"] == "imaged-node" and st["fw"] == VERSION  # config.json from the image
        with Console(dev.console.path) as con:
            con.exec("f = open('/kept.txt', 'w'); f.write('on flash'); f.close()")
        dev.power_cut()
        dev.power_on()
        dev.wait_ready()
        with Console(dev.console.path) as con:
            assert con.exec("print(open('/kept.txt').read())").strip() == "on flash"
    start, size = fs_region()
    files = read_fs_image(bytes(image.read_bytes()[start : start + size]), size)
    assert files["kept.txt"] == b"on flash" and "boot.py" in files


@pytest.mark.parametrize(
    ("damage", "why"),
    [
        (lambda b: b"\x00" + b[1:], "no 0xE9 header"),
        (lambda b: b[:200], "cut short"),
        (lambda b: b[:8], "segment 1 of 2 missing"),
        (lambda b: b[:0x9000], "no irom0"),
        (lambda b: b + bytes(ROM_START), "runs into the ROMFS partition"),
    ],
)
def test_a_bad_micropython_image_is_refused(damage: object, why: str) -> None:
    with pytest.raises(FlashError, match=why):
        check_micropython_image(damage(micropython_image()), ROM_START)  # type: ignore[operator]


def test_flash_refuses_a_truncated_image_before_any_port(tmp_path: Path, sim_bundle: Path) -> None:
    bad = tmp_path / "mp.bin"
    bad.write_bytes(micropython_image()[:1000])
    args = ["flash", "--port", "/dev/null", "--micropython", str(bad), "--bundle",
            str(sim_bundle), "--dir", str(tmp_path / "st")]  # fmt: skip
    assert main(args) == 1
    assert not (tmp_path / "st" / "logs").exists()  # no board was tried
    assert main([*args[:4], str(tmp_path / "missing.bin"), *args[5:]]) == 2
