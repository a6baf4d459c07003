"""The simulated chip's flash partitions that hold the firmware: the unix_sim
bundle's ROMFS image (homeca.bundle), and the native module that maps it
outside the GC heap (boards/unix_sim/simflash). As on a board with ROMFS,
bytecode runs in place from the image, so the heap limit measures the
firmware's objects, not its code. Rebuilt only when a source changes.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from homeca import BOARDS_DIR, FIRMWARE_DIR, REPO_DIR, bundle
from homeca.bundle import ROM_IMAGE, build_bundle, mpy_cross_version
from homeca.errors import HomecaError

ROM_DIR = REPO_DIR / "build" / "sim-rom"
NATMOD = REPO_DIR / "build" / "ecc" / "x64" / "ecc.mpy"
SIMFLASH_SRC = BOARDS_DIR / "unix_sim" / "simflash"
SIMFLASH = REPO_DIR / "build" / "simflash" / "simflash.mpy"
LOCK = REPO_DIR / "build" / "sim-rom.lock"


@contextlib.contextmanager
def _locked() -> Iterator[None]:
    """One builder at a time, across threads and processes (test runs, demos)."""
    LOCK.parent.mkdir(parents=True, exist_ok=True)
    with open(LOCK, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _fingerprint() -> str:
    h = hashlib.sha256(mpy_cross_version().encode())
    files = sorted(FIRMWARE_DIR.rglob("*.py")) + sorted((BOARDS_DIR / "unix_sim").glob("*.py"))
    files.append(Path(bundle.__file__))  # the layout and the image format
    if NATMOD.exists():
        files.append(NATMOD)
    for f in files:
        st = f.stat()
        h.update(f"{f}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def ensure_rom(dest: Path) -> Path:
    """Copy the ROMFS image the simulated chip mounts at /rom to `dest`, a
    device's own copy: a rebuild for another device cannot change it mid-boot."""
    with _locked():
        stamp = ROM_DIR / "fingerprint"
        now = _fingerprint()
        if not (stamp.exists() and stamp.read_text() == now):
            build_bundle("unix_sim", ROM_DIR, ecc_mpy=NATMOD if NATMOD.exists() else None)
            stamp.write_text(now)
        shutil.copyfile(ROM_DIR / ROM_IMAGE, dest)
        return dest


def ensure_simflash() -> Path:
    """simflash.mpy, built by its Makefile when missing or stale."""
    with _locked():
        newest = max(p.stat().st_mtime_ns for p in SIMFLASH_SRC.iterdir())
        if SIMFLASH.exists() and SIMFLASH.stat().st_mtime_ns >= newest:
            return SIMFLASH
        cmd = ["make", "-C", str(SIMFLASH_SRC), f"SIMFLASH_PYTHON={sys.executable}"]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
        if proc.returncode != 0 or not SIMFLASH.exists():
            raise HomecaError(
                f"building {SIMFLASH.name} failed:\n{(proc.stdout + proc.stderr)[-3000:]}"
            )
        return SIMFLASH
