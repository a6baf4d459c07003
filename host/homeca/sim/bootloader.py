"""A simulated ESP8266 serial bootloader that the real esptool can flash.

`SimBootloader` puts a NodeMCU's 4 MiB SPI flash, kept in an image file, behind
the ESP8266's ROM serial bootloader and behind esptool's flasher stub, reachable
over a pty and over an RFC 2217 server on 127.0.0.1. The protocol follows what
esptool 5 (esptool/loader.py, targets/esp8266.py, cmds.py) sends and parses:

- SLIP frames (0xC0 ends a frame, 0xDB 0xDC / 0xDB 0xDD escape 0xC0 / 0xDB);
  commands `00 op size:u16 checksum:u32 data`, answers `01 op size:u16
  value:u32 data status`. Two status bytes: the ROM answers `01 xx` on failure
  (xx one of the ROM's error codes), the stub a big-endian word such as C1 00
  ("bad data checksum").
- The ROM: SYNC (eight answers with the value 0x20120707), READ_REG/WRITE_REG
  (the chip-detect magic 0xFFF0C101, the eFuse words esptool turns into
  "ESP8266EX", the MAC 5C:CF:7F + a 3-byte tail and the chip ID, the UART
  divider it derives the crystal from, and the SPI controller's user commands:
  RDID, SFDP, status registers), FLASH_BEGIN/DATA/END (uncompressed, 1 KiB
  blocks, with the ROM's erase-size bug that esptool works around), and
  MEM_BEGIN/DATA/END. Nothing uploaded to RAM runs: MEM_END with an entry point
  answers, greets with the stub's "OHAI" frame and from then on the chip is the
  flasher stub. Every other command (the ESP8266 ROM has no compressed writes,
  MD5, baud change, SPI_ATTACH or SPI_SET_PARAMS) answers "invalid message".
- The stub (esp-flasher-stub 1.x, which esptool 5 uploads): SYNC answered with
  the value 0 (so a second esptool run finds it already running), FLASH_BEGIN/
  DATA/END, FLASH_DEFL_BEGIN/DATA/END (zlib, streamed), SPI_FLASH_MD5 (16 raw
  bytes), ERASE_FLASH, ERASE_REGION, READ_FLASH (one packet per acknowledgement,
  then the MD5 frame), SPI_ATTACH, SPI_SET_PARAMS, CHANGE_BAUDRATE (answered at
  the old rate; the rate itself is only recorded) and RUN_USER_CODE.
- The flash: NOR semantics (erase sets 0xFF, programming can only clear bits),
  every change written through to the image file and flushed. Writes past
  4 MiB, data blocks with a bad checksum and blocks out of sequence are refused
  with an error status and change nothing. (The real stub checks no sequence
  numbers and reports write errors one command late; here they are checked and
  reported on the block itself.)
- Reset and strapping, as on the NodeMCU: DTR and RTS reach EN and GPIO0 through
  the board's two cross-coupled transistors (EN low only for RTS asserted with
  DTR released, GPIO0 low only for DTR asserted with RTS released). When EN
  rises the chip starts `en_delay` seconds later and samples GPIO0: low enters
  the ROM loader, high boots the application, which is not simulated: the chip
  then stays silent until the next reset. Over RFC 2217 each line change of
  esptool's reset sequence arrives one network round trip (100 ms with
  `?ign_set_control`) after the last, much later than from a USB adapter, so
  the board's filters are modelled as slow: EN is sampled 0.2 s after release
  and GPIO0 reads low for 0.3 s after it was last pulled low.
- The pty has no modem lines a simulator could see (esptool's DTR/RTS ioctls
  fail with ENOTTY; it warns and carries on), so behind it the chip is always in
  bootloader mode: it starts in the ROM loader, and when software leaves it for
  the application (RUN_USER_CODE, FLASH_END "run user code") over the pty it is
  counted as an application boot and the chip is straight back in the ROM
  loader, as a board with GPIO0 held low would be after its next reset.
  Software reboots (FLASH_END with its reboot flag) return to the ROM loader on
  either transport, since the ESP8266 keeps the boot mode latched at the last
  EN reset; that is what esptool's `--after no-reset` relies on.

Not modelled: the application and the ROM's boot messages (74880 baud), baud
rate mismatches (any host rate works), timing of flash operations, flash
encryption, the ESP8266's RAM (uploads are counted, not stored), READ_FLASH_SLOW
and load-ram (RAM code started from the stub just counts as an application
boot), the flash status register's write protection, several hosts at once
(answers go to the transport the request came from; one RFC 2217 client at a
time).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import math
import os
import select
import socket
import struct
import termios
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from serial import rfc2217

from homeca.errors import HomecaError
from homeca.sim.ptyport import PtyPort

FLASH_SIZE = 4 * 1024 * 1024  # the NodeMCU's ESP-12E module: 4 MiB
SECTOR = 0x1000
ESPRESSIF_OUI = bytes.fromhex("5ccf7f")
DEFAULT_MAC_TAIL = bytes.fromhex("0a1b2c")
W25Q32 = bytes.fromhex("ef4016")  # RDID of the ESP-12E's Winbond W25Q32: 4 MiB

# Registers esptool reads on an ESP8266
CHIP_DETECT_MAGIC_REG = 0x40001000
CHIP_DETECT_MAGIC = 0xFFF0C101
EFUSE_REGS = (0x3FF00050, 0x3FF00054, 0x3FF00058, 0x3FF0005C)
UART_CLKDIV_REG = 0x60000014
APB_HZ = 52_000_000  # 2 x the 26 MHz crystal: esptool divides by XTAL_CLK_DIVIDER = 2
SPI_BASE = 0x60000200
SPI_CMD = SPI_BASE + 0x00
SPI_ADDR = SPI_BASE + 0x04
SPI_USR = SPI_BASE + 0x1C
SPI_USR1 = SPI_BASE + 0x20
SPI_USR2 = SPI_BASE + 0x24
SPI_W0 = SPI_BASE + 0x40
SPI_CMD_USR = 1 << 18
SPI_USR_ADDR, SPI_USR_MISO, SPI_USR_MOSI = 1 << 30, 1 << 28, 1 << 27

OPS = {
    0x02: "FLASH_BEGIN",
    0x03: "FLASH_DATA",
    0x04: "FLASH_END",
    0x05: "MEM_BEGIN",
    0x06: "MEM_END",
    0x07: "MEM_DATA",
    0x08: "SYNC",
    0x09: "WRITE_REG",
    0x0A: "READ_REG",
    0x0B: "SPI_SET_PARAMS",
    0x0D: "SPI_ATTACH",
    0x0E: "READ_FLASH_SLOW",
    0x0F: "CHANGE_BAUDRATE",
    0x10: "FLASH_DEFL_BEGIN",
    0x11: "FLASH_DEFL_DATA",
    0x12: "FLASH_DEFL_END",
    0x13: "SPI_FLASH_MD5",
    0x14: "GET_SECURITY_INFO",
    0xD0: "ERASE_FLASH",
    0xD1: "ERASE_REGION",
    0xD2: "READ_FLASH",
    0xD3: "RUN_USER_CODE",
}
SYNC_PAYLOAD = b"\x07\x07\x12\x20" + 32 * b"\x55"
ROM_SYNC_VALUE = 0x20120707  # the ROM's SYNC answer; the stub answers 0
CHECKSUM_SEED = 0xEF
MAX_FRAME = 0x4000 + 64  # the stub's 16 KiB data blocks and their headers
READ_PACKET_MAX = 4096  # the stub's READ_FLASH buffer

# Failures: (the ROM's error byte after 01, the stub's big-endian status word)
ERRORS = {
    "bad_length": (0x05, 0xC000),
    "checksum": (0x07, 0xC100),
    "invalid": (0x05, 0xC300),
    "spi": (0x08, 0xC400),
    "not_in_flash_mode": (0x05, 0xC600),
    "inflate": (0x0B, 0xC700),
    "missing_block": (0x06, 0xC800),  # a block was skipped
    "too_much": (0x05, 0xC900),  # a block repeated, or more data than announced
    "not_implemented": (0x05, 0xFF00),
}

# The RFC 2217 lines are slow: see the module docstring
EN_DELAY = 0.2
GPIO0_HOLD = 0.3
DEFAULT_BAUD = 115200
_TERMIOS_BAUDS = {
    getattr(termios, f"B{b}"): b
    for b in (9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600, 1500000, 3000000)
    if hasattr(termios, f"B{b}")
}


class BootloaderError(HomecaError):
    pass


def checksum(data: bytes) -> int:
    """The ROM's data checksum: 0xEF xor every byte."""
    state = CHECKSUM_SEED
    for b in data:
        state ^= b
    return state


def slip_frame(payload: bytes) -> bytes:
    body = payload.replace(b"\xdb", b"\xdb\xdd").replace(b"\xc0", b"\xdb\xdc")
    return b"\xc0" + body + b"\xc0"


class SlipDecoder:
    """Frames out of a byte stream; bytes between frames and bad frames are dropped."""

    def __init__(self) -> None:
        self._buf: bytearray | None = None  # None: between frames
        self._discard = False  # inside a frame that grew too long

    def feed(self, data: bytes) -> list[bytes]:
        frames: list[bytes] = []
        parts = data.split(b"\xc0")
        for i, part in enumerate(parts):
            if self._buf is not None and not self._discard:
                self._buf += part
                if len(self._buf) > 2 * MAX_FRAME:  # even escaped it cannot be this long
                    self._discard = True
            if i == len(parts) - 1:
                break
            # a 0xC0 follows `part`
            if self._buf is None:
                self._buf = bytearray()
            elif self._discard:
                self._buf, self._discard = None, False
            elif self._buf:
                frame = self._unescape(bytes(self._buf))
                self._buf = None
                if frame is not None:
                    frames.append(frame)
            # else C0 C0: an empty frame, the second C0 opens the next one
        return frames

    @staticmethod
    def _unescape(raw: bytes) -> bytes | None:
        if b"\xdb" not in raw:
            return raw
        pieces = raw.split(b"\xdb")
        out = [pieces[0]]
        for piece in pieces[1:]:
            if piece[:1] == b"\xdc":
                out.append(b"\xc0" + piece[1:])
            elif piece[:1] == b"\xdd":
                out.append(b"\xdb" + piece[1:])
            else:
                return None  # an escape the ROM would reject: drop the frame
        return b"".join(out)


class FlashImage:
    """The 4 MiB SPI NOR flash, kept in a file: erase sets 0xFF, programming ANDs."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if path.is_dir():
            raise BootloaderError(f"{path} is a directory, not a flash image")
        if not path.exists():
            if not path.parent.is_dir():
                raise BootloaderError(f"{path.parent} does not exist")
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_bytes(b"\xff" * FLASH_SIZE)
            os.replace(tmp, path)
        size = path.stat().st_size
        if size != FLASH_SIZE:
            raise BootloaderError(
                f"{path} holds {size} bytes; a NodeMCU flash image is {FLASH_SIZE} (4 MiB)"
            )
        self._file = open(path, "r+b")  # noqa: SIM115 - held open for the simulator's life
        try:
            # Two simulators writing one image would each keep a stale copy
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._file.close()
            raise BootloaderError(f"{path} is in use by another simulator") from None
        self._data = bytearray(self._file.read())

    def read(self, addr: int, size: int) -> bytes:
        return bytes(self._data[addr : addr + size])

    def erase(self, addr: int, size: int) -> None:
        self._data[addr : addr + size] = b"\xff" * size
        self._store(addr, size)

    def program(self, addr: int, data: bytes) -> None:
        old = int.from_bytes(self._data[addr : addr + len(data)], "little")
        new = old & int.from_bytes(data, "little")
        self._data[addr : addr + len(data)] = new.to_bytes(len(data), "little")
        self._store(addr, len(data))

    def _store(self, addr: int, size: int) -> None:
        self._file.seek(addr)
        self._file.write(self._data[addr : addr + size])
        self._file.flush()

    def close(self) -> None:
        self._file.close()


@dataclass
class Stats:
    """What the simulated chip went through, for tests and the CLI."""

    bootloader_resets: int = 0  # EN resets with GPIO0 low: into the ROM loader
    app_boots: int = 0  # times the chip left the loader for the application
    stub_starts: int = 0  # RAM code started from the ROM (esptool's stub)
    bytes_written: int = 0  # programmed into the flash
    bytes_erased: int = 0
    bytes_read: int = 0  # streamed by READ_FLASH
    errors: int = 0  # commands answered with a failure status
    baud: int = DEFAULT_BAUD  # the chip's UART rate after CHANGE_BAUDRATE
    commands: Counter[str] = field(default_factory=Counter)


@dataclass
class _FlashOp:
    kind: str  # "rom", "stub" or "defl"
    base: int  # ROM: where block 0 goes
    pos: int  # stub: where the next byte goes
    remaining: int  # stub: bytes still to come
    num_blocks: int
    block_size: int
    next_seq: int = 0
    inflater: zlib._Decompress | None = None


@dataclass
class _MemOp:
    remaining: int
    next_seq: int = 0


@dataclass
class _ReadOp:
    pos: int
    remaining: int  # still to send
    total: int
    packet: int
    md5: hashlib._Hash
    acked: int = 0


class Esp8266:
    """The chip: its ROM loader, the stub once started, the strapping of its boot mode.

    Not thread-safe: SimBootloader calls it from its I/O thread under a lock.
    `tx` takes the chip's UART output.
    """

    def __init__(
        self,
        flash: FlashImage,
        mac_tail: bytes,
        flash_jedec: bytes,
        tx: Callable[[bytes], None],
        *,
        en_delay: float = EN_DELAY,
        gpio0_hold: float = GPIO0_HOLD,
    ) -> None:
        self.flash = flash
        self.flash_jedec = flash_jedec
        self.tx = tx
        self.en_delay = en_delay
        self.gpio0_hold = gpio0_hold
        self.stats = Stats()
        self.host_baud = DEFAULT_BAUD  # what the host's port is set to: the ROM auto-bauds
        self.app_returns_to_rom = False  # set while serving the pty: see the module docstring
        tail = int.from_bytes(mac_tail, "big")
        self._efuse = {
            EFUSE_REGS[0]: (tail & 0xFF) << 24,
            EFUSE_REGS[1]: tail >> 8,
            EFUSE_REGS[2]: 0,
            EFUSE_REGS[3]: int.from_bytes(ESPRESSIF_OUI, "big"),  # OUI in eFuse: no 8285 bits
        }
        self._en_low = False
        self._boot_at: float | None = None
        self._gpio0_pulled = False
        self._gpio0_released = -math.inf
        self.mode = "rom"  # "reset", "rom", "stub" or "app"
        self._restart("rom")

    # -- the board: EN, GPIO0 and the reset button ---------------------------

    def set_lines(self, dtr: bool, rts: bool, now: float) -> None:
        """The USB adapter's DTR/RTS (True: asserted), through the NodeMCU's transistors."""
        self.tick(now)  # a boot that fell due before this change saw the old levels
        en_low = rts and not dtr
        gpio0_low = dtr and not rts
        if self._gpio0_pulled and not gpio0_low:
            self._gpio0_released = now
        self._gpio0_pulled = gpio0_low
        if en_low and not self._en_low:
            self.mode = "reset"
            self._boot_at = None
        elif self._en_low and not en_low:
            self._boot_at = now + self.en_delay
        self._en_low = en_low

    def deadline(self) -> float | None:
        return self._boot_at

    def tick(self, now: float) -> None:
        at = self._boot_at
        if at is not None and now >= at:
            self._boot_at = None
            # GPIO0's level at the boot instant, however late the I/O thread gets here
            low = self._gpio0_pulled or at - self._gpio0_released < self.gpio0_hold
            self.power_on_reset(bootloader=low)

    def power_on_reset(self, *, bootloader: bool) -> None:
        """The chip comes out of an EN reset, in the boot mode GPIO0 selected."""
        if bootloader:
            self.stats.bootloader_resets += 1
            self._restart("rom")
        else:
            self.stats.app_boots += 1
            self._restart("app")

    def _restart(self, mode: str) -> None:
        self.mode = mode
        self._slip = SlipDecoder()
        self._regs: dict[int, int] = {}
        self._flash_op: _FlashOp | None = None
        self._mem_op: _MemOp | None = None
        self._read_op: _ReadOp | None = None
        self._spi_status = bytearray(3)
        self._spi_wel = False

    def _run_app(self) -> None:
        """Software leaves the loader for the application."""
        self.stats.app_boots += 1
        self._restart("rom" if self.app_returns_to_rom else "app")

    # -- the UART ------------------------------------------------------------

    def receive(self, data: bytes) -> None:
        if self.mode not in ("rom", "stub"):
            return  # held in reset, or the (silent) application ignores the loader protocol
        for frame in self._slip.feed(data):
            if self.mode not in ("rom", "stub"):
                break
            if self._read_op is not None:
                self._read_ack(frame)
            else:
                self._command(frame)

    def _send(self, payload: bytes) -> None:
        self.tx(slip_frame(payload))

    def _reply(self, op: int, value: int = 0, data: bytes = b"") -> None:
        body = data + b"\x00\x00"
        self._send(struct.pack("<BBHI", 1, op, len(body), value) + body)

    def _fail(self, op: int, error: str) -> None:
        rom, stub = ERRORS[error]
        status = stub.to_bytes(2, "big") if self.mode == "stub" else bytes([1, rom])
        self.stats.errors += 1
        self._send(struct.pack("<BBHI", 1, op, len(status), 0) + status)

    def _command(self, frame: bytes) -> None:
        if len(frame) < 8:
            return
        direction, op, size, chk = struct.unpack_from("<BBHI", frame)
        data = frame[8:]
        if direction != 0:
            return
        self.stats.commands[OPS.get(op, f"0x{op:02X}")] += 1
        if size != len(data):
            self._fail(op, "bad_length")
            return
        handlers = self._STUB if self.mode == "stub" else self._ROM
        name = handlers.get(op)
        if name is None:
            self._fail(op, "not_implemented" if op == 0x14 and self.mode == "stub" else "invalid")
            return
        getattr(self, name)(op, data, chk)

    # -- commands both speak -------------------------------------------------

    def _sync(self, op: int, data: bytes, chk: int) -> None:
        if self.mode == "rom":
            if data != SYNC_PAYLOAD:
                return  # the ROM's auto-baud did not lock on it
            for _ in range(8):  # the ROM answers one SYNC eight times
                self._reply(op, ROM_SYNC_VALUE)
            return
        if len(data) != len(SYNC_PAYLOAD):
            self._fail(op, "bad_length")
            return
        for _ in range(8):  # so does the stub, with 0: "the stub is running"
            self._reply(op, 0)

    def _read_reg(self, op: int, data: bytes, chk: int) -> None:
        if len(data) != 4:
            self._fail(op, "bad_length")
            return
        self._reply(op, self._register(struct.unpack("<I", data)[0]))

    def _write_reg(self, op: int, data: bytes, chk: int) -> None:
        if not data or len(data) % 16:
            self._fail(op, "bad_length")
            return
        for addr, value, mask, _delay in struct.iter_unpack("<IIII", data):
            self._store_register(addr, value, mask)
        self._reply(op)

    def _mem_begin(self, op: int, data: bytes, chk: int) -> None:
        if len(data) != 16:
            self._fail(op, "bad_length")
            return
        size = struct.unpack_from("<I", data)[0]
        self._mem_op = _MemOp(size)
        self._reply(op)

    def _mem_data(self, op: int, data: bytes, chk: int) -> None:
        mem = self._mem_op
        payload = self._block(op, data, chk, mem)
        if payload is None:
            return
        if len(payload) > mem.remaining:
            self._fail(op, "too_much")
            return
        mem.remaining -= len(payload)
        mem.next_seq += 1
        self._reply(op)

    def _mem_end(self, op: int, data: bytes, chk: int) -> None:
        if len(data) != 8:
            self._fail(op, "bad_length")
            return
        if self._mem_op is None and self.mode == "stub":
            self._fail(op, "not_in_flash_mode")
            return
        dont_run, _entry = struct.unpack("<II", data)
        self._mem_op = None
        self._reply(op)
        if dont_run:
            return
        if self.mode == "rom":
            # Whatever was uploaded, it is taken for esptool's flasher stub
            self.stats.stub_starts += 1
            self._restart("stub")
            self._send(b"OHAI")
        else:
            self._run_app()  # RAM code started from the stub

    def _block(self, op: int, data: bytes, chk: int,
               pending: _MemOp | _FlashOp | None) -> bytes | None:  # fmt: skip
        """A data block's payload for the operation in progress (`pending`),
        once its header, checksum and sequence number check out."""
        if pending is None:
            self._fail(op, "not_in_flash_mode")
            return None
        expected_seq = pending.next_seq
        if len(data) < 16:
            self._fail(op, "bad_length")
            return None
        size, seq = struct.unpack_from("<II", data)
        payload = data[16:]
        if size != len(payload):
            self._fail(op, "bad_length" if self.mode == "rom" else "too_much")
            return None
        if checksum(payload) != chk:
            self._fail(op, "checksum")
            return None
        if seq != expected_seq:
            self._fail(op, "missing_block" if seq > expected_seq else "too_much")
            return None
        return payload

    # -- the ROM's flash commands ----------------------------------------------

    def _rom_flash_begin(self, op: int, data: bytes, chk: int) -> None:
        if len(data) != 16:  # the ESP8266 ROM takes no encryption flag
            self._fail(op, "bad_length")
            return
        erase_size, blocks, block_size, offset = struct.unpack("<IIII", data)
        if blocks and not 0 < block_size <= MAX_FRAME:
            self._fail(op, "bad_length")
            return
        if offset + max(erase_size, blocks * block_size) > FLASH_SIZE:
            self._fail(op, "spi")
            return
        start, length = rom_erase_area(offset, erase_size)
        self._erase(start, min(length, FLASH_SIZE - start))
        self._flash_op = _FlashOp("rom", offset, offset, 0, blocks, block_size)
        self._reply(op)

    def _rom_flash_data(self, op: int, data: bytes, chk: int) -> None:
        fop = self._flash_op
        payload = self._block(op, data, chk, fop)
        if payload is None:
            return
        addr = fop.base + fop.next_seq * fop.block_size
        if fop.next_seq >= fop.num_blocks or len(payload) > fop.block_size:
            self._fail(op, "too_much")
            return
        if addr + len(payload) > FLASH_SIZE:
            self._fail(op, "spi")
            return
        self._program(addr, payload)
        fop.next_seq += 1
        self._reply(op)

    def _rom_flash_end(self, op: int, data: bytes, chk: int) -> None:
        if len(data) != 4:
            self._fail(op, "bad_length")
            return
        run_user_code = struct.unpack("<I", data)[0]
        self._flash_op = None
        self._reply(op)
        if run_user_code:
            self._run_app()
        else:
            self._restart("rom")  # a software reboot: the latched boot mode is the loader

    # -- the stub's commands -------------------------------------------------

    def _stub_flash_begin(self, op: int, data: bytes, chk: int) -> None:
        if len(data) not in (16, 20):
            self._fail(op, "bad_length")
            return
        size, blocks, block_size, offset = struct.unpack_from("<IIII", data)
        if len(data) == 20 and struct.unpack_from("<I", data, 16)[0]:
            self._fail(op, "not_implemented")  # the ESP8266 has no flash encryption
            return
        if offset + size > FLASH_SIZE:
            self._fail(op, "spi")
            return
        if size:  # the stub erases the sectors the data will cover
            start = offset - offset % SECTOR
            end = -(-(offset + size) // SECTOR) * SECTOR
            self._erase(start, end - start)
        defl = op == 0x10
        self._flash_op = _FlashOp(
            "defl" if defl else "stub",
            offset,
            offset,
            size,
            blocks,
            block_size,
            inflater=zlib.decompressobj() if defl else None,
        )
        self._reply(op)

    def _stub_flash_data(self, op: int, data: bytes, chk: int) -> None:
        fop = self._flash_op
        if fop is not None and fop.kind != ("defl" if op == 0x11 else "stub"):
            fop = None  # a plain block for a compressed write, or the other way round
        payload = self._block(op, data, chk, fop)
        if payload is None:
            return
        if fop.inflater is not None:
            try:
                out = fop.inflater.decompress(payload)
            except zlib.error:
                self._fail(op, "inflate")
                return
            if len(out) > fop.remaining or fop.inflater.unused_data:
                self._fail(op, "too_much")
                return
        else:
            out = payload[: fop.remaining]  # the last block's padding is not written
        self._program(fop.pos, out)
        fop.pos += len(out)
        fop.remaining -= len(out)
        fop.next_seq += 1
        self._reply(op)

    def _stub_flash_end(self, op: int, data: bytes, chk: int) -> None:
        if len(data) != 4:
            self._fail(op, "bad_length")
            return
        fop = self._flash_op
        if fop is None:
            self._fail(op, "not_in_flash_mode")
            return
        if fop.remaining:
            self._fail(op, "bad_length")  # the stub's answer to data still missing
            return
        stay = struct.unpack("<I", data)[0]
        self._flash_op = None
        self._reply(op)
        if not stay:
            self._restart("rom")  # a software reboot: the latched boot mode is the loader

    def _spi_set_params(self, op: int, data: bytes, chk: int) -> None:
        if len(data) != 24:
            self._fail(op, "bad_length")
            return
        self._reply(op)  # the size esptool sets is its business: the chip has 4 MiB

    def _spi_attach(self, op: int, data: bytes, chk: int) -> None:
        if len(data) != 4:
            self._fail(op, "bad_length")
            return
        self._reply(op)

    def _change_baudrate(self, op: int, data: bytes, chk: int) -> None:
        if len(data) != 8:
            self._fail(op, "bad_length")
            return
        new, _old = struct.unpack("<II", data)
        self._reply(op)  # still at the old rate; a pty or RFC 2217 carries any rate
        self.stats.baud = new

    def _md5(self, op: int, data: bytes, chk: int) -> None:
        if len(data) != 16:
            self._fail(op, "bad_length")
            return
        addr, size, _, _ = struct.unpack("<IIII", data)
        if addr + size > FLASH_SIZE:
            self._fail(op, "spi")
            return
        self._reply(op, data=hashlib.md5(self.flash.read(addr, size)).digest())

    def _erase_flash(self, op: int, data: bytes, chk: int) -> None:
        self._erase(0, FLASH_SIZE)
        self._reply(op)

    def _erase_region(self, op: int, data: bytes, chk: int) -> None:
        if len(data) != 8:
            self._fail(op, "bad_length")
            return
        addr, size = struct.unpack("<II", data)
        if addr % SECTOR or size % SECTOR:
            self._fail(op, "bad_length")
            return
        if addr + size > FLASH_SIZE:
            self._fail(op, "spi")
            return
        self._erase(addr, size)
        self._reply(op)

    def _read_flash(self, op: int, data: bytes, chk: int) -> None:
        if len(data) != 16:
            self._fail(op, "bad_length")
            return
        addr, size, packet, _in_flight = struct.unpack("<IIII", data)
        if not 0 < packet <= READ_PACKET_MAX:
            self._fail(op, "bad_length")
            return
        if addr + size > FLASH_SIZE:
            self._fail(op, "spi")
            return
        self._reply(op)
        # One packet in flight, as the stub does (esptool asks for 64, cannot take them)
        self._read_op = _ReadOp(addr, size, size, packet, hashlib.md5())
        self._read_next()

    def _read_next(self) -> None:
        rop = self._read_op
        assert rop is not None
        if rop.remaining:
            chunk = self.flash.read(rop.pos, min(rop.packet, rop.remaining))
            rop.md5.update(chunk)
            rop.pos += len(chunk)
            rop.remaining -= len(chunk)
            self.stats.bytes_read += len(chunk)
            self._send(chunk)
        elif rop.acked >= rop.total:
            self._send(rop.md5.digest())
            self._read_op = None

    def _read_ack(self, frame: bytes) -> None:
        rop = self._read_op
        assert rop is not None
        if len(frame) != 4:  # not an acknowledgement: the stub gives up, sends the digest
            self._send(rop.md5.digest())
            self._read_op = None
            return
        rop.acked = struct.unpack("<I", frame)[0]
        self._read_next()

    def _run_user_code(self, op: int, data: bytes, chk: int) -> None:
        self._run_app()  # no answer

    _ROM = {
        0x02: "_rom_flash_begin",
        0x03: "_rom_flash_data",
        0x04: "_rom_flash_end",
        0x05: "_mem_begin",
        0x06: "_mem_end",
        0x07: "_mem_data",
        0x08: "_sync",
        0x09: "_write_reg",
        0x0A: "_read_reg",
    }
    _STUB = {
        **{k: v for k, v in _ROM.items() if k not in (0x02, 0x03, 0x04)},
        0x02: "_stub_flash_begin",
        0x03: "_stub_flash_data",
        0x04: "_stub_flash_end",
        0x0B: "_spi_set_params",
        0x0D: "_spi_attach",
        0x0F: "_change_baudrate",
        0x10: "_stub_flash_begin",
        0x11: "_stub_flash_data",
        0x12: "_stub_flash_end",
        0x13: "_md5",
        0xD0: "_erase_flash",
        0xD1: "_erase_region",
        0xD2: "_read_flash",
        0xD3: "_run_user_code",
    }

    # -- flash and registers ---------------------------------------------------

    def _erase(self, addr: int, size: int) -> None:
        if size:
            self.flash.erase(addr, size)
            self.stats.bytes_erased += size

    def _program(self, addr: int, data: bytes) -> None:
        if data:
            self.flash.program(addr, data)
            self.stats.bytes_written += len(data)

    def _register(self, addr: int) -> int:
        if addr == CHIP_DETECT_MAGIC_REG:
            return CHIP_DETECT_MAGIC
        if addr in self._efuse:
            return self._efuse[addr]
        if addr == UART_CLKDIV_REG:
            return round(APB_HZ / max(self.host_baud, 1)) & 0xFFFFF
        return self._regs.get(addr, 0)

    def _store_register(self, addr: int, value: int, mask: int) -> None:
        if addr == CHIP_DETECT_MAGIC_REG or addr in self._efuse:
            return  # mask ROM and eFuses do not take writes
        value = (self._regs.get(addr, 0) & ~mask) | (value & mask)
        if addr == SPI_CMD and value & SPI_CMD_USR:
            self._spi_user_command()
            value &= ~SPI_CMD_USR  # done at once: esptool polls for this bit to clear
        self._regs[addr] = value

    def _spi_user_command(self) -> None:
        """The SPI controller's "user" command, the way esptool drives the flash chip."""
        usr = self._regs.get(SPI_USR, 0)
        usr1 = self._regs.get(SPI_USR1, 0)
        command = self._regs.get(SPI_USR2, 0) & 0xFF
        addr_bits = ((usr1 >> 26) & 0x3F) + 1 if usr & SPI_USR_ADDR else 0
        addr = self._regs.get(SPI_ADDR, 0) >> (32 - addr_bits) if addr_bits else 0
        miso_bits = ((usr1 >> 8) & 0x1FF) + 1 if usr & SPI_USR_MISO else 0
        mosi_bits = ((usr1 >> 17) & 0x1FF) + 1 if usr & SPI_USR_MOSI else 0
        mosi = b"".join(
            self._regs.get(SPI_W0 + 4 * i, 0).to_bytes(4, "little")
            for i in range((mosi_bits + 31) // 32)
        )[: mosi_bits // 8]
        reply = self._spi_flash(command, addr, mosi, (miso_bits + 7) // 8)
        if miso_bits:
            word = int.from_bytes(reply[:4].ljust(4, b"\xff"), "little")
            self._regs[SPI_W0] = word & ((1 << min(miso_bits, 32)) - 1)

    def _spi_flash(self, command: int, addr: int, mosi: bytes, n: int) -> bytes:
        """The W25Q32's answer to one command (only those esptool sends)."""
        if command == 0x9F:  # RDID
            return self.flash_jedec
        if command == 0x5A:  # SFDP: the signature, then no parameter tables of note
            table = b"SFDP\x06\x01\x00\xff" + b"\x00\x06\x01\x10\x80\x00\x00\xff"
            return table[addr : addr + n].ljust(n, b"\xff")
        status = {0x05: 0, 0x35: 1, 0x15: 2}
        if command in status:
            return bytes(self._spi_status[status[command] :][:n]).ljust(n, b"\x00")
        if command in (0x06, 0x50):  # write enable (non-volatile, volatile)
            self._spi_wel = True
        elif command == 0x04:
            self._spi_wel = False
        elif command in (0x01, 0x31, 0x11) and self._spi_wel:
            first = {0x01: 0, 0x31: 1, 0x11: 2}[command]
            for i, b in enumerate(mosi[: 3 - first]):
                self._spi_status[first + i] = b
            self._spi_wel = False
        return b"\xff" * n  # reset, power-down and the like: nothing to read


def rom_erase_area(offset: int, size: int) -> tuple[int, int]:
    """What the ESP8266 ROM's FLASH_BEGIN really erases for `size` bytes at `offset`.

    The ROM counts the sectors up to the next 64 KiB block twice and so erases
    that many more; esptool's ESP8266ROM.get_erase_size asks for less to get
    what it needs. Returns (start, length)."""
    sectors = -(-size // SECTOR)
    start = offset // SECTOR
    head = min(16 - start % 16, sectors)
    return start * SECTOR, (sectors + head) * SECTOR


class _AdapterSerial:
    """What PortManager drives on the server side: the USB-UART's settings and lines."""

    def __init__(self, on_lines: Callable[[bool, bool], None]) -> None:
        self._on_lines = on_lines
        self._baudrate = DEFAULT_BAUD
        self.bytesize = 8
        self.parity = "N"
        self.stopbits = 1
        self.xonxoff = False
        self.rtscts = False
        self.break_condition = False
        self._dtr = False
        self._rts = False
        # Inputs the NodeMCU leaves unconnected
        self.cts = self.dsr = self.ri = self.cd = False

    @property
    def baudrate(self) -> int:
        return self._baudrate

    @baudrate.setter
    def baudrate(self, value: int) -> None:
        if value <= 0:
            raise ValueError(f"baud rate {value}")  # PortManager keeps the old rate
        self._baudrate = value

    @property
    def dtr(self) -> bool:
        return self._dtr

    @dtr.setter
    def dtr(self, value: bool) -> None:
        self._dtr = bool(value)
        self._on_lines(self._dtr, self._rts)

    @property
    def rts(self) -> bool:
        return self._rts

    @rts.setter
    def rts(self, value: bool) -> None:
        self._rts = bool(value)
        self._on_lines(self._dtr, self._rts)

    def reset_input_buffer(self) -> None:
        pass  # nothing is buffered between the socket and the chip

    def reset_output_buffer(self) -> None:
        pass


class _Client:
    """The RFC 2217 client's socket, as PortManager writes to it."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def write(self, data: bytes) -> None:
        self.sock.sendall(data)


class SimBootloader:
    """An ESP8266 in its serial bootloader, on a pty and an RFC 2217 server.

    `image` is the 4 MiB flash image (made, all 0xFF, if absent); the MAC is
    5C:CF:7F followed by `mac_tail`; `flash_jedec` is what the flash chip
    answers to RDID (esptool derives the flash size from its last byte).
    """

    def __init__(
        self,
        image: Path | str,
        mac_tail: bytes = DEFAULT_MAC_TAIL,
        *,
        flash_jedec: bytes = W25Q32,
        en_delay: float = EN_DELAY,
        gpio0_hold: float = GPIO0_HOLD,
        host: str = "127.0.0.1",
        rfc2217_port: int = 0,
    ) -> None:
        self.image = Path(image)
        if not isinstance(mac_tail, bytes | bytearray) or len(mac_tail) != 3:
            raise BootloaderError("the MAC tail is 3 bytes (the MAC is 5C:CF:7F + tail)")
        if not isinstance(flash_jedec, bytes | bytearray) or len(flash_jedec) != 3:
            raise BootloaderError("the flash chip's JEDEC ID is 3 bytes")
        if en_delay < 0 or gpio0_hold < 0:
            raise BootloaderError("EN delay and GPIO0 hold time cannot be negative")
        if not 0 <= rfc2217_port < 65536:
            raise BootloaderError(f"TCP port {rfc2217_port} out of range")
        self.mac = ESPRESSIF_OUI + bytes(mac_tail)
        self._mac_tail = bytes(mac_tail)
        self._flash_jedec = bytes(flash_jedec)
        self._en_delay = en_delay
        self._gpio0_hold = gpio0_hold
        self._host = host
        self._tcp_port = rfc2217_port
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._flash: FlashImage | None = None
        self._chip: Esp8266 | None = None
        self._pty: PtyPort | None = None
        self._pty_keeper: int | None = None
        self._listener: socket.socket | None = None
        self._client: socket.socket | None = None
        self._manager: rfc2217.PortManager | None = None
        self._lines = _AdapterSerial(self._on_lines)
        self._wake_r, self._wake_w = -1, -1
        self._source = "pty"  # where the last request came from: answers go there
        self.error: BaseException | None = None
        self.port = ""
        self.rfc2217_url = ""

    # -- life cycle ----------------------------------------------------------

    def start(self) -> SimBootloader:
        if self._thread is not None:
            raise BootloaderError("the simulator is already running")
        self._flash = FlashImage(self.image)  # checks the image before anything else opens
        try:
            self._chip = Esp8266(
                self._flash,
                self._mac_tail,
                self._flash_jedec,
                self._transmit,
                en_delay=self._en_delay,
                gpio0_hold=self._gpio0_hold,
            )
            self._pty = PtyPort()
            self.port = self._pty.path
            # Held open so the master never sees a hang-up (poll would spin on POLLHUP
            # between esptool runs); output nobody reads is flushed by esptool on connect.
            self._pty_keeper = os.open(self.port, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
            self._listener = socket.create_server((self._host, self._tcp_port))
            self.rfc2217_url = f"rfc2217://{self._host}:{self._listener.getsockname()[1]}"
            self._wake_r, self._wake_w = os.pipe()
        except OSError as e:
            self._close_all()
            raise BootloaderError(f"cannot start the simulated bootloader: {e}") from None
        self._stop.clear()
        self._thread = threading.Thread(target=self._io_loop, name="sim-bootloader", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is None:
            return
        self._stop.set()
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"x")
        self._thread.join(timeout=5)
        self._thread = None
        self._close_all()

    def __enter__(self) -> SimBootloader:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _close_all(self) -> None:
        for sock in (self._client, self._listener):
            if sock is not None:
                sock.close()
        self._client = self._listener = None
        self._manager = None
        if self._pty is not None:
            self._pty.close()
            self._pty = None
        for fd in (self._pty_keeper, self._wake_r, self._wake_w):
            if fd is not None and fd >= 0:
                os.close(fd)
        self._pty_keeper, self._wake_r, self._wake_w = None, -1, -1
        if self._flash is not None:
            self._flash.close()
            self._flash = None

    # -- what tests and the CLI look at ------------------------------------------

    @property
    def stats(self) -> Stats:
        return self._require_chip().stats

    @property
    def mode(self) -> str:
        """The chip's state: rom, stub, app (left the loader) or reset (EN held low)."""
        return self._require_chip().mode

    @property
    def chip_id(self) -> int:
        return int.from_bytes(self._mac_tail, "big")

    def reset(self, *, bootloader: bool = True) -> None:
        """Press and release RST, holding FLASH (GPIO0 low) for the bootloader."""
        with self._lock:
            self._require_chip().power_on_reset(bootloader=bootloader)

    def wait_for(self, predicate: Callable[[SimBootloader], bool], timeout: float = 5.0) -> bool:
        """Whether `predicate(self)` came true within `timeout` seconds."""
        end = time.monotonic() + timeout
        while not predicate(self):
            if time.monotonic() > end:
                return False
            time.sleep(0.01)
        return True

    def _require_chip(self) -> Esp8266:
        if self._chip is None:
            raise BootloaderError("the simulator has not been started")
        return self._chip

    # -- the I/O thread ------------------------------------------------------

    def _io_loop(self) -> None:
        try:
            while not self._stop.is_set():
                self._io_once()
        except BaseException as e:  # kept for the caller to see
            self.error = e

    def _io_once(self) -> None:
        chip = self._require_chip()
        assert self._pty is not None and self._listener is not None
        poller = select.poll()
        poller.register(self._wake_r, select.POLLIN)
        poller.register(self._pty.master, select.POLLIN)
        poller.register(self._listener, select.POLLIN)
        if self._client is not None:
            poller.register(self._client, select.POLLIN)
        deadline = chip.deadline()
        timeout = None if deadline is None else max(0, (deadline - time.monotonic()) * 1000)
        events = poller.poll(None if timeout is None else math.ceil(timeout))
        with self._lock:
            for fd, _ev in events:
                if fd == self._wake_r:
                    os.read(self._wake_r, 64)
                elif fd == self._pty.master:
                    data = self._pty.read()
                    if data:
                        self._source = "pty"
                        chip.host_baud = self._pty_baud()
                        chip.app_returns_to_rom = True
                        chip.receive(data)
                elif fd == self._listener.fileno():
                    self._accept()
                elif self._client is not None and fd == self._client.fileno():
                    self._from_client()
            chip.tick(time.monotonic())

    def _pty_baud(self) -> int:
        assert self._pty is not None
        try:
            speed = termios.tcgetattr(self._pty.master)[5]  # the master reports the slave's
        except termios.error:
            return DEFAULT_BAUD
        return _TERMIOS_BAUDS.get(speed, DEFAULT_BAUD)

    def _accept(self) -> None:
        assert self._listener is not None
        sock, _ = self._listener.accept()
        if self._client is not None:
            sock.close()  # a serial port has one user at a time
            return
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(10)  # sends block at most this long on a client that stopped reading
        self._client = sock
        self._lines = _AdapterSerial(self._on_lines)
        try:
            self._manager = rfc2217.PortManager(self._lines, _Client(sock))
        except OSError:
            self._drop_client()

    def _from_client(self) -> None:
        assert self._client is not None
        try:
            data = self._client.recv(65536)
        except OSError:
            data = b""
        if not data:
            self._drop_client()
            return
        assert self._manager is not None
        try:
            payload = b"".join(self._manager.filter(data))  # may set lines and baud
        except OSError:
            self._drop_client()
            return
        if payload and self._chip is not None:
            self._source = "rfc2217"
            self._chip.host_baud = self._lines.baudrate
            self._chip.app_returns_to_rom = False
            self._chip.receive(payload)

    def _drop_client(self) -> None:
        if self._client is not None:
            self._client.close()
        self._client = None
        self._manager = None
        # A closed port releases DTR and RTS: both high, which resets nothing
        self._on_lines(False, False)

    def _on_lines(self, dtr: bool, rts: bool) -> None:
        if self._chip is not None:
            self._chip.set_lines(dtr, rts, time.monotonic())

    def _transmit(self, data: bytes) -> None:
        if self._source == "pty":
            if self._pty is not None:
                self._pty.write(data)
            return
        if self._client is None or self._manager is None:
            return  # nobody listening: lost, as on a UART
        try:
            self._client.sendall(b"".join(self._manager.escape(data)))
        except OSError:  # gone, or stopped reading for 10 s: as if the cable were pulled
            self._drop_client()


def serve_forever(
    image: Path | str,
    mac_tail: bytes = DEFAULT_MAC_TAIL,
    *,
    out: Callable[[str], None] = print,
    stop: threading.Event | None = None,
    **options: object,
) -> None:
    """Run the simulator until interrupted (or `stop` is set), telling where esptool finds it.

    `options` are SimBootloader's keyword arguments."""
    sim = SimBootloader(image, mac_tail, **options)  # type: ignore[arg-type]
    stop = stop or threading.Event()
    with sim:
        mac = ":".join(f"{b:02x}" for b in sim.mac)
        out(f"ESP8266 bootloader on {sim.image} (MAC {mac})")
        out(f"pty:      {sim.port}   (esptool --port {sim.port} ...)")
        out(f"rfc2217:  {sim.rfc2217_url}   (esptool resets it over DTR/RTS)")
        try:
            while sim.error is None and not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        stats = sim.stats
        out(
            f"{stats.bytes_written} bytes written, {stats.bytes_erased} erased, "
            f"{stats.bytes_read} read; {stats.bootloader_resets} resets into the bootloader"
        )
    if sim.error is not None:
        raise BootloaderError(f"the simulated bootloader failed: {sim.error}") from sim.error
