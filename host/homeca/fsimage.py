"""The device filesystem as one LittleFS image, built on the host
(littlefs-python), so that flashing a board writes "/" in one esptool write
instead of copying file after file over the REPL.

The image is what MicroPython's ESP8266 port mounts at "/" (its frozen
flashbdev.py and _boot.py): LittleFS v2 in 4 KiB blocks, from
esp.flash_user_start() (FLASH_ROMFS_END on the FLASH_2M_ROMFS firmware) up to
the 20 KiB the SDK keeps at the end of the flash. VfsLfs2's defaults (read
and prog size 32, lookahead 32) are used here too."""

from __future__ import annotations

from pathlib import Path

from littlefs import LittleFS, LittleFSError

from homeca.boards import NODEMCU, board_int
from homeca.errors import HomecaError

BLOCK = 4096
FLASH_SIZE = 4 * 1024 * 1024  # the NodeMCU v3's ESP-12E module
SDK_RESERVED = 20 * 1024  # RF calibration and system parameters (flashbdev.py)
_IO_SIZE = 32  # VfsLfs2's readsize and progsize, and its lookahead


def fs_region(board: str = NODEMCU) -> tuple[int, int]:
    """(offset, bytes) of the LittleFS filesystem in the board's flash."""
    start = board_int(board, "FLASH_ROMFS_END")
    end = FLASH_SIZE - SDK_RESERVED
    return start, (end - start) // BLOCK * BLOCK


def build_fs_image(files: dict[str, bytes], size: int) -> bytes:
    """A LittleFS image of `size` bytes holding `files` (paths relative to
    "/", directories made as needed), cut after its last used block: the rest
    of the region only has to be erased, which the flasher does."""
    if size % BLOCK or size < 2 * BLOCK:
        raise HomecaError(f"filesystem size {size}: a multiple of {BLOCK}, at least 2 blocks")
    fs = _littlefs(size)
    try:
        for name in sorted(files):
            path = name.strip("/")
            if not path or ".." in path.split("/"):
                raise HomecaError(f"bad path in the filesystem image: {name!r}")
            parent = path.rpartition("/")[0]
            if parent:
                fs.makedirs(parent, exist_ok=True)
            with fs.open(path, "wb") as f:
                f.write(files[name])
    except LittleFSError as e:
        raise HomecaError(f"the files do not fit a {size}-byte filesystem: {e}") from None
    image = bytes(fs.context.buffer)
    end = len(image)
    while end > 0 and image[end - BLOCK : end] == b"\xff" * BLOCK:
        end -= BLOCK
    return image[:end]


def read_fs_image(image: bytes, size: int) -> dict[str, bytes]:
    """Every file in a filesystem image (as a board's flash holds it, the
    region's bytes from its start), by path: for checks and tests."""
    from littlefs import UserContext

    ctx = UserContext(size)
    ctx.buffer[: len(image)] = image[:size]
    try:
        fs = _littlefs(size, ctx)
    except LittleFSError as e:
        raise HomecaError(f"no LittleFS filesystem in the image: {e}") from None
    out: dict[str, bytes] = {}
    for root, _dirs, names in fs.walk("/"):
        for n in names:
            path = f"{root.rstrip('/')}/{n}".lstrip("/")
            with fs.open(path, "rb") as f:
                out[path] = f.read()
    return out


def _littlefs(size: int, context: object = None) -> LittleFS:
    """A LittleFS of `size` bytes with the device's geometry; a new one, or
    mounted on `context`'s bytes."""
    return LittleFS(context, block_size=BLOCK, block_count=size // BLOCK, read_size=_IO_SIZE,
                    prog_size=_IO_SIZE, lookahead_size=_IO_SIZE)  # fmt: skip


def bundle_files(fs_dir: Path) -> dict[str, bytes]:
    """The files of a bundle's fs/ tree, by device path."""
    return {p.relative_to(fs_dir).as_posix(): p.read_bytes()
            for p in sorted(fs_dir.rglob("*")) if p.is_file()}  # fmt: skip
