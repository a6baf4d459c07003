"""Print the path of a MicroPython tree for native-module (.mpy) builds.

If MPY_DIR is set, it is used as is. Otherwise the sdist of mpy-cross-v6-3
1.1.1 (MicroPython 1.23, .mpy v6.3) is fetched from the package index, its
sha256 checked, and its micropython/ subtree (py/dynruntime.mk, py/*.h,
tools/mpy_ld.py, ...) extracted to build/mpy_dir. A stamp file makes every
later call instant and offline.

Run with the project's venv python: mpy_ld.py, run later by make, needs
pyelftools from it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path, PurePosixPath
from typing import NoReturn

REPO = Path(__file__).resolve().parent.parent
DEST = REPO / "build" / "mpy_dir"
PACKAGE = "mpy-cross-v6-3"
VERSION = "1.1.1"
SHA256 = "55414c358f5844c784e76d3b253cbd7af5f243ddd4c0b47a26d3875d628df300"
SUBTREE = f"mpy_cross_v6_3-{VERSION}/micropython/"
STAMP = DEST / ".mpy_dir.stamp"
STAMP_TEXT = f"{PACKAGE}=={VERSION} sha256:{SHA256}\n"


def fail(message: str) -> NoReturn:
    print(f"mpy_dir: {message}", file=sys.stderr)
    sys.exit(1)


def download(workdir: Path) -> Path:
    """The sdist, fetched by pip into workdir."""
    # The pinned hash makes pip check the archive before it runs the sdist's
    # build backend to read its metadata; we check it again ourselves below.
    requirements = workdir / "requirements.txt"
    requirements.write_text(f"{PACKAGE}=={VERSION} --hash=sha256:{SHA256}\n")
    command = [
        sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
        "--no-deps", "--no-binary", ":all:", "--require-hashes", "-r", str(requirements),
        "-d", str(workdir),
    ]  # fmt: skip
    proc = subprocess.run(command, stdout=sys.stderr, check=False)
    if proc.returncode != 0:
        fail(f"pip download of {PACKAGE}=={VERSION} failed (exit {proc.returncode})")
    archives = sorted(workdir.glob("*.tar.gz"))
    if len(archives) != 1:
        fail(f"expected one sdist from pip, found {[a.name for a in archives]}")
    return archives[0]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def extract_subtree(archive: Path, target: Path) -> int:
    """Regular files under SUBTREE into target; returns how many."""
    count = 0
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar.getmembers():
            if not member.name.startswith(SUBTREE) or not member.isfile():
                continue  # only the micropython/ tree, and no links or devices
            relative = PurePosixPath(member.name[len(SUBTREE) :])
            if relative.is_absolute() or ".." in relative.parts:
                fail(f"unsafe path in the sdist: {member.name}")
            out = target.joinpath(*relative.parts)
            out.parent.mkdir(parents=True, exist_ok=True)
            source = tar.extractfile(member)
            assert source is not None  # a regular file always has data
            with source, out.open("wb") as sink:
                shutil.copyfileobj(source, sink)
            count += 1
    return count


def provision() -> Path:
    if STAMP.is_file() and STAMP.read_text() == STAMP_TEXT:
        return DEST
    DEST.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=DEST.parent, prefix=".mpy_dir.") as tmp:
        work = Path(tmp)
        archive = download(work)
        digest = sha256_of(archive)
        if digest != SHA256:
            fail(f"{archive.name}: sha256 {digest}, expected {SHA256}")
        staging = work / "tree"
        if extract_subtree(archive, staging) == 0:
            fail(f"{archive.name} has no {SUBTREE} tree")
        for needed in ("py/dynruntime.mk", "py/dynruntime.h", "tools/mpy_ld.py"):
            if not (staging / needed).is_file():
                fail(f"{archive.name} lacks micropython/{needed}")
        (staging / STAMP.name).write_text(STAMP_TEXT)
        # Swap in the complete tree at once, so an interrupted run leaves no half tree.
        if DEST.exists():
            shutil.rmtree(DEST)
        staging.rename(DEST)
    return DEST


def main() -> None:
    given = os.environ.get("MPY_DIR")
    print(given if given else provision())


if __name__ == "__main__":
    main()
