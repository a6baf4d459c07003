"""The simulated chip's "ROM": the firmware compiled for the unix port, as a
board bundle (homeca.bundle) for unix_sim. Running .mpy rather than .py spares
the simulated heap the compile step, as on a real board, so the heap limit
measures the firmware and not the compiler. Rebuilt only when a source changes.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

from homeca import BOARDS_DIR, FIRMWARE_DIR, REPO_DIR
from homeca.bundle import FS_DIR, build_bundle

ROM_DIR = REPO_DIR / "build" / "sim-rom"
NATMOD = REPO_DIR / "build" / "ecc" / "x64" / "ecc.mpy"
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
    """The directory to mount as the simulated chip's ROM (the bundle's fs/)."""
    with _lock:
        stamp = ROM_DIR / "fingerprint"
        now = _fingerprint()
        if not (stamp.exists() and stamp.read_text() == now):
            build_bundle("unix_sim", ROM_DIR, ecc_mpy=NATMOD if NATMOD.exists() else None)
            stamp.write_text(now)
        return ROM_DIR / FS_DIR
