"""Build the unix_sim board's 32-bit interpreter: MicroPython's unix port with
the ESP8266 build's differences (boards/unix_sim/esp8266like), into
build/unix32/micropython, and print that path.

The source is $MPY_SRC (a MicroPython checkout: py/, ports/unix/, mpy-cross/)
when set, else the tarball in ../shared/micropython/ beside the repository,
extracted once into build/micropython-src (its sha256 checked). The source
tree is never modified: the variant, the objects and mpy-cross are all built
under build/unix32. Needs a 32-bit C library (Debian's gcc-multilib).

Exit status 0 with the path on stdout; 2 when no source tree can be found
(the message says where it looked); 1 when the build fails.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import NoReturn

from mpy_dir import sha256_of  # beside this file: python puts tools/ on the path

REPO = Path(__file__).resolve().parent.parent
BUILD = REPO / "build" / "unix32"
PROGRAM = BUILD / "micropython"
VARIANT = REPO / "boards" / "unix_sim" / "esp8266like"
TARBALL = REPO.parent / "shared" / "micropython" / "micropython-1c3c201149-unix.tar.gz"
TARBALL_SHA256 = "482d19120e20eaf4481c45a72fe082038fa26e42b10b1b09dda21db113b5e230"
EXTRACTED = REPO / "build" / "micropython-src"
NO_SOURCE = 2


def fail(message: str, code: int = 1) -> NoReturn:
    print(f"unix32: {message}", file=sys.stderr)
    sys.exit(code)


def is_source_tree(path: Path) -> bool:
    return all((path / p).exists() for p in ("py/mkrules.mk", "ports/unix/Makefile", "mpy-cross"))


def source_tree() -> Path:
    """MPY_SRC, or the shared tarball extracted under build/."""
    given = os.environ.get("MPY_SRC")
    if given:
        path = Path(given).resolve()
        if not is_source_tree(path):
            fail(f"MPY_SRC={given} is not a MicroPython source tree (py/, ports/unix/)")
        return path
    stamp = EXTRACTED / ".sha256"
    if stamp.is_file() and stamp.read_text() == TARBALL_SHA256:
        return EXTRACTED / "micropython"
    if not TARBALL.is_file():
        fail(f"no MicroPython source: set MPY_SRC to a checkout, or provide {TARBALL}", NO_SOURCE)
    digest = sha256_of(TARBALL)
    if digest != TARBALL_SHA256:
        fail(f"{TARBALL}: sha256 {digest}, expected {TARBALL_SHA256}")
    EXTRACTED.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=EXTRACTED.parent, prefix=".mpy-src.") as tmp:
        staging = Path(tmp) / "tree"
        with tarfile.open(TARBALL, "r:gz") as tar:
            tar.extractall(staging, filter="data")
        if not is_source_tree(staging / "micropython"):
            fail(f"{TARBALL} holds no micropython/ source tree")
        (staging / ".sha256").write_text(TARBALL_SHA256)
        if EXTRACTED.exists():
            shutil.rmtree(EXTRACTED)
        staging.rename(EXTRACTED)  # whole or not at all
    return EXTRACTED / "micropython"


def make(args: list[str], log: Path) -> None:
    jobs = f"-j{os.cpu_count() or 2}"
    with log.open("a") as f:
        proc = subprocess.run(
            ["make", jobs, *args], stdout=f, stderr=subprocess.STDOUT, check=False
        )
    if proc.returncode != 0:
        tail = log.read_text()[-3000:]
        fail(f"make {' '.join(args)} failed (log {log}):\n{tail}")


def build(src: Path) -> Path:
    BUILD.mkdir(parents=True, exist_ok=True)
    log = BUILD / "build.log"
    log.write_text("")
    mpy_cross = BUILD / "mpy-cross" / "mpy-cross"
    make(["-C", str(src / "mpy-cross"), f"BUILD={BUILD / 'mpy-cross'}"], log)
    # The variant's manifest needs no micropython-lib; the build only checks
    # that the directory looks like one.
    mplib = BUILD / "no-micropython-lib"
    mplib.mkdir(exist_ok=True)
    (mplib / "README.md").write_text("not micropython-lib: the esp8266like variant needs none\n")
    make([
        "-C", str(src / "ports" / "unix"), f"VARIANT_DIR={VARIANT}", f"BUILD={BUILD / 'obj'}",
        f"MICROPY_MPYCROSS={mpy_cross}", "MICROPY_MPYCROSS_DEPENDENCY=",
        f"MPY_LIB_DIR={mplib}", "PROG=micropython",
    ], log)  # fmt: skip
    built = BUILD / "obj" / "micropython"
    if not built.is_file():
        fail(f"the build made no interpreter at {built} (log {log})")
    shutil.copy2(built, PROGRAM)
    return PROGRAM


def main() -> None:
    print(build(source_tree()))


if __name__ == "__main__":
    main()
