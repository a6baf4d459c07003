"""The simulated chip's flash partitions that hold the firmware: the unix_sim
bundle's ROMFS image (homeca.bundle), and the native module that maps it
outside the GC heap (boards/unix_sim/simflash). As on a board with ROMFS,
bytecode runs in place from the image, so the heap limit measures the
firmware's objects, not its code. One of each per interpreter architecture
(the image holds that architecture's ecc.mpy); rebuilt only when a source
changes.
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
from homeca.interpreters import Interpreter

ROM_DIR = REPO_DIR / "build" / "sim-rom"
SIMFLASH_SRC = BOARDS_DIR / "unix_sim" / "simflash"
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


def _fingerprint(natmod: Path) -> str:
    h = hashlib.sha256(mpy_cross_version().encode())
    files = sorted(FIRMWARE_DIR.rglob("*.py")) + sorted((BOARDS_DIR / "unix_sim").glob("*.py"))
    files.append(Path(bundle.__file__))  # the layout and the image format
    if natmod.exists():
        files.append(natmod)
    for f in files:
        st = f.stat()
        h.update(f"{f}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def _ensure_bundle(interp: Interpreter) -> Path:
    natmod = interp.natmod("ecc")
    out = ROM_DIR / interp.arch
    stamp = out / "fingerprint"
    now = _fingerprint(natmod)
    if not (stamp.exists() and stamp.read_text() == now):
        ecc = natmod if natmod.exists() else None
        build_bundle("unix_sim", out, ecc_mpy=ecc, arch=interp.arch)
        stamp.write_text(now)
    return out


def ensure_rom(dest: Path, interp: Interpreter) -> Path:
    """Copy the ROMFS image the simulated chip mounts at /rom to `dest`, a
    device's own copy: a rebuild for another device cannot change it mid-boot."""
    with _locked():
        shutil.copyfile(_ensure_bundle(interp) / ROM_IMAGE, dest)
        return dest


def compiled_lib(interp: Interpreter, dest: Path) -> Path:
    """A copy in `dest` of the compiled firmware package (nodefw/*.mpy), for a
    MicroPython path: what a board imports, without compiling source on a
    small heap."""
    with _locked():
        shutil.copytree(_ensure_bundle(interp) / "rom" / "lib", dest, dirs_exist_ok=True)
        return dest


def ensure_simflash(interp: Interpreter) -> Path:
    """simflash.mpy for the interpreter, built by its Makefile when missing or stale."""
    built = interp.natmod("simflash")
    with _locked():
        newest = max(p.stat().st_mtime_ns for p in SIMFLASH_SRC.iterdir())
        if built.exists() and built.stat().st_mtime_ns >= newest:
            return built
        cmd = ["make", "-C", str(SIMFLASH_SRC), f"ARCH={interp.arch}",
               f"SIMFLASH_PYTHON={sys.executable}"]  # fmt: skip
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
        if proc.returncode != 0 or not built.exists():
            raise HomecaError(
                f"building {built.name} failed:\n{(proc.stdout + proc.stderr)[-3000:]}"
            )
        return built
