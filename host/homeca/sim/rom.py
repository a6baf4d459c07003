"""The simulated chip's flash partitions that hold the firmware: the unix_sim
bundle's ROMFS image (homeca.bundle), and the native module that maps it
outside the GC heap (boards/unix_sim/simflash). As on a board with ROMFS,
bytecode runs in place from the image, so the heap limit measures the
firmware's objects, not its code. Rebuilt only when a source changes.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import threading
from pathlib import Path

from homeca import BOARDS_DIR, FIRMWARE_DIR, REPO_DIR
from homeca.bundle import ROM_IMAGE, build_bundle
from homeca.errors import HomecaError

ROM_DIR = REPO_DIR / "build" / "sim-rom"
NATMOD = REPO_DIR / "build" / "ecc" / "x64" / "ecc.mpy"
SIMFLASH_SRC = BOARDS_DIR / "unix_sim" / "simflash"
SIMFLASH = REPO_DIR / "build" / "simflash" / "simflash.mpy"
_lock = threading.Lock()


def _fingerprint() -> str:
    h = hashlib.sha256()
    files = sorted(FIRMWARE_DIR.rglob("*.py")) + sorted((BOARDS_DIR / "unix_sim").glob("*.py"))
    if NATMOD.exists():
        files.append(NATMOD)
    for f in files:
        st = f.stat()
        h.update(f"{f}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def ensure_rom() -> Path:
    """The ROMFS image the simulated chip mounts at /rom."""
    with _lock:
        stamp = ROM_DIR / "fingerprint"
        now = _fingerprint()
        if not (stamp.exists() and stamp.read_text() == now):
            build_bundle("unix_sim", ROM_DIR, ecc_mpy=NATMOD if NATMOD.exists() else None)
            stamp.write_text(now)
        return ROM_DIR / ROM_IMAGE


def ensure_simflash() -> Path:
    """simflash.mpy, built by its Makefile when missing or stale."""
    with _lock:
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
