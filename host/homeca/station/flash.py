"""Flashing boards at the bench with esptool's Python API: detect the chip,
read its MAC, erase, write the MicroPython image, the firmware bundle's ROMFS
image at its partition and the filesystem as one LittleFS image, verify every
region by MD5, reset, and check on the console that the firmware boots.

Many ports run in parallel threads. esptool logs through one process-wide
logger, so a logger installed here sends each line and progress bar to the
board whose thread is running."""

from __future__ import annotations

import hashlib
import re
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from homeca.boards import NODEMCU, board_int
from homeca.console import Console, ConsoleError
from homeca.errors import HomecaError
from homeca.fsimage import BLOCK, build_fs_image, bundle_files, fs_region

DEFAULT_BAUD = 460800
ROM_BAUD = 115200
BOOT_TIMEOUT = 20.0  # reset, the NodeMCU's 2 s REPL window, the firmware's start
_BANNER = re.compile(rb"HomeCA node fw (\S+)")
_ESP_IMAGE_MAGIC = 0xE9
_IROM_OFFSET = 0x9000  # MicroPython's ESP8266 image: irom0 text from here


class FlashError(HomecaError):
    pass


@dataclass(frozen=True)
class Region:
    name: str
    offset: int
    data: bytes

    @property
    def md5(self) -> str:
        return hashlib.md5(self.data).hexdigest()


@dataclass
class BoardResult:
    port: str
    mac: str = ""
    version: str = ""
    regions: list[Region] = field(default_factory=list)


def check_micropython_image(data: bytes, rom_start: int) -> None:
    """A MicroPython ESP8266 image as its releases ship it: an ESP8266 boot
    image (magic 0xE9, its segments whole) then irom0 from 0x9000, all of it
    before the ROMFS partition. FlashError says what is wrong."""
    if len(data) < 8 or data[0] != _ESP_IMAGE_MAGIC:
        raise FlashError("not an ESP8266 firmware image (no 0xE9 header)")
    segments = data[1]
    if not 1 <= segments <= 16:
        raise FlashError(f"not an ESP8266 firmware image ({segments} segments)")
    pos = 8
    for i in range(segments):
        if pos + 8 > len(data):
            raise FlashError(f"truncated firmware image: segment {i + 1} of {segments} missing")
        _addr, size = struct.unpack_from("<II", data, pos)
        pos += 8 + size
        if pos > len(data):
            raise FlashError(f"truncated firmware image: segment {i + 1} of {segments} cut short")
    if len(data) <= _IROM_OFFSET:
        raise FlashError("truncated firmware image: no irom0 part after 0x9000")
    if len(data) > rom_start:
        raise FlashError(f"firmware image of {len(data)} bytes runs into the ROMFS partition")


def regions_for(micropython: bytes, bundle_dir: Path, board: str = NODEMCU) -> list[Region]:
    """What goes where: the MicroPython image at 0, rom.img at the ROMFS
    partition, and the used blocks of the filesystem image (the rest of the
    region is erased)."""
    rom_start = board_int(board, "FLASH_ROMFS_START")
    check_micropython_image(micropython, rom_start)
    rom = bundle_dir / "rom.img"
    fs_dir = bundle_dir / "fs"
    if not rom.is_file() or not fs_dir.is_dir():
        raise FlashError(f"{bundle_dir} is not a firmware bundle (`make firmware` builds one)")
    rom_data = rom.read_bytes()
    if len(rom_data) > board_int(board, "FLASH_NATIVE_CODE_START") - rom_start:
        raise FlashError(f"{rom} is larger than the ROMFS partition's image space")
    fs_start, fs_size = fs_region(board)
    image = build_fs_image(bundle_files(fs_dir), fs_size)
    regions = [Region("micropython", 0, micropython), Region("romfs", rom_start, rom_data)]
    # Only the blocks that hold something: each run of them is one write.
    run_start = None
    for i in range(0, len(image) + BLOCK, BLOCK):
        used = i < len(image) and image[i : i + BLOCK] != b"\xff" * BLOCK
        if used and run_start is None:
            run_start = i
        elif not used and run_start is not None:
            regions.append(Region("littlefs", fs_start + run_start, image[run_start:i]))
            run_start = None
    return regions


class _ThreadLogger:
    """esptool's logger for threads that flash boards: each thread's lines
    and progress go to that board's sinks; other threads' are dropped."""

    def __init__(self) -> None:
        self.boards: dict[int, tuple[Callable[[str], None], Callable[[int, int], None]]] = {}

    def _sinks(self) -> tuple[Callable[[str], None], Callable[[int, int], None]] | None:
        return self.boards.get(threading.get_ident())

    def print(self, *args: object, **kwargs: object) -> None:
        if s := self._sinks():
            s[0](" ".join(str(a) for a in args))

    def note(self, message: str) -> None:
        self.print("Note:", message)

    def warning(self, message: str) -> None:
        self.print("Warning:", message)

    def error(self, message: str) -> None:
        self.print("Error:", message)

    def stage(self, finish: bool = False) -> None:
        pass

    def progress_bar(self, cur_iter: int, total_iters: int, prefix: str = "", suffix: str = "",
                     bar_length: int = 30) -> None:  # fmt: skip
        if s := self._sinks():
            s[1](cur_iter, total_iters)

    def set_verbosity(self, verbosity: str) -> None:
        pass


_logger: _ThreadLogger | None = None
_logger_lock = threading.Lock()


def _install_logger() -> _ThreadLogger:
    global _logger
    with _logger_lock:
        if _logger is None:
            from esptool.logger import TemplateLogger, log

            class Adapter(_ThreadLogger, TemplateLogger):
                pass

            _logger = Adapter()
            log.set_logger(_logger)
        return _logger


def flash_board(port: str, regions: list[Region], expect_version: str, *, baud: int = DEFAULT_BAUD,
                before: str = "default-reset", log: Callable[[str], None] = print,
                progress: Callable[[int, int], None] = lambda done, total: None,
                check_boot: bool = True) -> BoardResult:  # fmt: skip
    """Flash one board; BoardResult, or FlashError saying which step failed."""
    from esptool.cmds import detect_chip, erase_flash, reset_chip, write_flash

    logger = _install_logger()
    logger.boards[threading.get_ident()] = (log, progress)
    result = BoardResult(port)
    esp = None
    try:
        try:
            esp = detect_chip(port, baud=ROM_BAUD, connect_mode=before, connect_attempts=3)
        except Exception as e:  # esptool raises FatalError, serial errors, OSError
            raise FlashError(f"{port}: no ESP8266 bootloader answers: {e}") from None
        if esp.CHIP_NAME != "ESP8266":
            raise FlashError(f"{port}: the chip is an {esp.CHIP_NAME}, not an ESP8266")
        try:
            esp = esp.run_stub()
            if baud != ROM_BAUD:
                esp.change_baud(baud)
            result.mac = ":".join(f"{b:02X}" for b in esp.read_mac())
            log(f"chip ESP8266, MAC {result.mac}")
            erase_flash(esp)
            write_flash(esp, [(r.offset, r.data) for r in regions], flash_size="keep")
            for r in regions:
                got = esp.flash_md5sum(r.offset, len(r.data))
                got = got if isinstance(got, str) else got.hex()
                if got != r.md5:
                    raise FlashError(f"{port}: {r.name} at {r.offset:#x}: MD5 {got} != {r.md5}")
                log(f"verified {r.name} at {r.offset:#x}, {len(r.data)} bytes, MD5 {r.md5}")
            result.regions = regions
            reset_chip(esp, "hard-reset")
        except FlashError:
            raise
        except Exception as e:
            raise FlashError(f"{port}: flashing failed: {e}") from None
        finally:
            with_port = getattr(esp, "_port", None)
            if with_port is not None:
                with_port.close()
        if check_boot:
            result.version = _boot_version(port, log)
            if result.version != expect_version:
                raise FlashError(
                    f"{port}: the board boots firmware {result.version}, not {expect_version}"
                )
        return result
    finally:
        logger.boards.pop(threading.get_ident(), None)


def _boot_version(port: str, log: Callable[[str], None]) -> str:
    try:
        with Console(port) as con:
            m = con.expect(_BANNER, timeout=BOOT_TIMEOUT)
    except ConsoleError as e:
        raise FlashError(f"{port}: the firmware did not boot: {e}") from None
    version = m.group(1).decode()
    log(f"boots firmware {version}")
    return version
