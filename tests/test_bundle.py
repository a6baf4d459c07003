"""Board bundles (homeca.bundle, CPython only): the nodemcu_v3 bundle's contents,
headers, ROMFS image and manifest, clean rebuilds and clear failures; then the
unix_sim bundle is run on the MicroPython unix port, which proves the .mpy files
load, and its heap is compared with importing the same modules from source and
from the ROMFS image mapped as the simulated board maps it."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from homeca import bundle
from homeca.boards import BOARDS, BoardSpec
from homeca.bundle import BundleReport, build_bundle, compile_module, read_mpy_header
from homeca.errors import HomecaError
from homeca.interpreters import INTERPRETERS
from homeca.sim.rom import ensure_simflash
from homeca.testing.micropython import run_micropython

ROOT = Path(__file__).resolve().parent.parent
NODEFW = ROOT / "firmware" / "nodefw"
ECC_DIR = ROOT / "firmware" / "cmodules" / "ecc"
# What mpy-cross writes for bytecode: 'M', version 6, arch 0 (none: no native
# code, so any architecture loads it, and the sub-version is not recorded),
# 31-bit small ints (the ESP8266's; the unix port has more).
BYTECODE_HEADER = b"M\x06\x00\x1f"
MPY_SUB_VERSION = 3  # mpy v6.3: native code must match it exactly
UNIX_HEAP = INTERPRETERS["unix"].heapsize


def make_ecc(arch: str) -> Path:
    """build/ecc/<arch>/ecc.mpy, built if missing or stale (quick when up to date)."""
    cmd = ["make", "-C", str(ECC_DIR), f"ARCH={arch}", f"ECC_PYTHON={sys.executable}"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    if proc.returncode != 0:
        pytest.fail(f"building the {arch} ecc.mpy failed:\n{(proc.stdout + proc.stderr)[-4000:]}")
    return ROOT / "build" / "ecc" / arch / "ecc.mpy"


@pytest.fixture(scope="module")
def nodemcu(tmp_path_factory: pytest.TempPathFactory) -> BundleReport:
    out = tmp_path_factory.mktemp("bundle") / "nodemcu_v3"
    return build_bundle("nodemcu_v3", out, ecc_mpy=make_ecc("xtensa"))


def tree(fs: Path) -> set[str]:
    return {p.relative_to(fs).as_posix() for p in fs.rglob("*") if p.is_file()}


def firmware_modules(skip: tuple[str, ...]) -> set[str]:
    """Device paths of every nodefw module, as .mpy, but those in `skip`."""
    rels = (p.relative_to(NODEFW) for p in NODEFW.rglob("*.py"))
    return {
        f"lib/nodefw/{r.with_suffix('.mpy').as_posix()}" for r in rels if r.as_posix() not in skip
    }


# --- the nodemcu_v3 bundle -----------------------------------------------------------


def test_every_module_is_compiled_but_the_documented_exclusions(nodemcu: BundleReport) -> None:
    skip = BOARDS["nodemcu_v3"].skip_firmware
    assert skip == ("simctl.py",)
    assert tree(nodemcu.fs_dir) == {"boot.py", "main.py"}
    assert tree(nodemcu.rom_dir) == firmware_modules(skip) | {"board.mpy", "lib/ecc.mpy"}
    assert nodemcu.excluded == ["firmware/nodefw/simctl.py"]
    for name in ("boot.py", "main.py"):
        board_src = ROOT / "boards" / "nodemcu_v3" / name
        assert (nodemcu.fs_dir / name).read_bytes() == board_src.read_bytes()


def test_nothing_deployed_imports_an_excluded_module(nodemcu: BundleReport) -> None:
    deployed = [ROOT / f.source for f in nodemcu.files if f.source and f.source.endswith(".py")]
    assert len(deployed) == len(nodemcu.files) - 1  # all but ecc.mpy
    uses = re.compile(r"^\s*(from|import)\s.*\bsimctl\b", re.MULTILINE)
    for src in deployed:
        assert not uses.search(src.read_text()), f"{src} imports simctl, left out of nodemcu_v3"


def test_mpy_headers_match_what_mpy_cross_documents(nodemcu: BundleReport) -> None:
    rom = nodemcu.rom_dir
    compiled = [p for p in rom.rglob("*.mpy") if p.relative_to(rom).as_posix() != "lib/ecc.mpy"]
    assert len(compiled) == len(nodemcu.files) - 3  # all but boot.py, main.py, lib/ecc.mpy
    for path in compiled:
        assert path.read_bytes()[:4] == BYTECODE_HEADER, path
    header = read_mpy_header((rom / "lib" / "ecc.mpy").read_bytes())
    assert (header.version, header.arch, header.sub_version) == (6, 9, MPY_SUB_VERSION)


def test_march_reaches_mpy_cross(tmp_path: Path) -> None:
    """Bytecode headers name no arch, so a native function shows that -march is passed."""
    src = tmp_path / "probe.py"
    src.write_text("import micropython\n\n\n@micropython.native\ndef f(x):\n    return x + 1\n")
    for arch in ("xtensa", "x64"):
        dst = tmp_path / f"probe-{arch}.mpy"
        compile_module(src, dst, arch=arch, source_name="probe.py")
        header = read_mpy_header(dst.read_bytes())
        assert (header.arch, header.sub_version) == (bundle.MPY_ARCH[arch], MPY_SUB_VERSION)


def test_manifest_lists_every_file_and_the_total(nodemcu: BundleReport) -> None:
    manifest = json.loads(nodemcu.manifest_path.read_text())
    assert (manifest["board"], manifest["arch"]) == ("nodemcu_v3", "xtensa")
    assert "mpy v6" in manifest["mpy_cross"]
    entries = {e["path"]: e for e in manifest["files"]}
    assert set(entries) == tree(nodemcu.fs_dir) | {f"rom/{p}" for p in tree(nodemcu.rom_dir)}
    for f in nodemcu.files:
        data = nodemcu.local_path(f).read_bytes()
        e = entries[f.path]
        assert (e["size"], e["sha256"]) == (len(data), hashlib.sha256(data).hexdigest()), f.path
    trees = (nodemcu.fs_dir, nodemcu.rom_dir)
    on_disk = sum(p.stat().st_size for d in trees for p in d.rglob("*") if p.is_file())
    assert manifest["total_size"] == nodemcu.total_size == on_disk
    assert manifest["excluded"] == nodemcu.excluded
    image = nodemcu.rom_image_path.read_bytes()
    assert manifest["rom_image"] == {
        "path": "rom.img",
        "size": len(image),
        "sha256": hashlib.sha256(image).hexdigest(),
        "capacity": 288 * 1024,  # the partition's 320 KiB less the native code's 32 KiB
    }


# MicroPython's own VfsRom reads the image back: every file, with its hash.
READ_ROMFS = """
import vfs, os, hashlib, binascii
with open(IMAGE, "rb") as f:
    vfs.mount(vfs.VfsRom(f.read()), "/rom")
def walk(d):
    for name, kind, *_ in os.ilistdir(d):
        p = d + "/" + name
        if kind == 0x4000:
            walk(p)
        else:
            with open(p, "rb") as f:
                print(p[1:], binascii.hexlify(hashlib.sha256(f.read()).digest()).decode())
walk("/rom")
"""


def test_rom_image_is_the_rom_tree_as_micropython_reads_it(nodemcu: BundleReport) -> None:
    code = f"IMAGE = {str(nodemcu.rom_image_path)!r}\n{READ_ROMFS}"
    proc = run_micropython("-c", code)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    read = dict(line.split() for line in proc.stdout.splitlines())
    expected = {f.path: f.sha256 for f in nodemcu.files if f.path.startswith("rom/")}
    assert read == expected


def test_rom_image_over_the_partition_fails_and_keeps_the_bundle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "b"
    build_bundle("nodemcu_v3", out, ecc_mpy=None)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    small = BoardSpec("xtensa", skip_firmware=("simctl.py",), rom_capacity=4096)
    monkeypatch.setitem(BOARDS, "nodemcu_v3", small)
    with pytest.raises(HomecaError, match=r"ROMFS image is \d+ bytes, over the board's 4096"):
        build_bundle("nodemcu_v3", out, ecc_mpy=None)
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


# --- failures and rebuilds ---------------------------------------------------------


def test_unknown_board_fails_clearly(tmp_path: Path) -> None:
    for board in ("nodemcu_v4", "../boards/nodemcu_v3", ""):
        with pytest.raises(HomecaError, match="unknown board"):
            build_bundle(board, tmp_path / "b", ecc_mpy=None)
    assert not (tmp_path / "b").exists()


def test_mpy_cross_errors_carry_its_message(tmp_path: Path) -> None:
    src = tmp_path / "broken.py"
    src.write_text("def f(:\n    pass\n")
    with pytest.raises(HomecaError, match=r"(?s)mpy-cross failed on .*broken\.py.*SyntaxError"):
        compile_module(src, tmp_path / "broken.mpy", arch="xtensa", source_name="broken.py")


# The nodemcu_v3 boot.py on the unix port: its ROMFS image mounted at /rom,
# sys.path as MicroPython 1.25's _boot.py leaves it (no /rom/lib) or as later
# versions do, and stand-ins for the ESP8266-only `esp` and `network` modules
# that record the native-code region and the access point switched off, and
# for the `machine` classes the board module imports.
BOOT_NODEMCU = """
import sys, vfs
class machine:
    I2C = UART = Pin = None
sys.modules["machine"] = machine
class esp:
    calls = []
    def osdebug(x): esp.calls.append(("osdebug", x))
    def set_native_code_location(a, n): esp.calls.append(("native", a, n))
sys.modules["esp"] = esp
class network:
    AP_IF = 1
    class WLAN:
        def __init__(self, i): self.i = i
        def active(self, on): esp.calls.append(("wlan", self.i, on))
sys.modules["network"] = network
with open(IMAGE, "rb") as f:
    vfs.mount(vfs.VfsRom(f.read()), "/rom")
sys.path[:] = PATH
exec(open(BOOT).read())
print(sys.path.index("/rom/lib") == sys.path.index("/rom") + 1, esp.calls)
"""


@pytest.mark.parametrize(
    "path", [["", ".frozen", "/rom", "/lib"], ["", ".frozen", "/rom", "/rom/lib", "/lib"]]
)
def test_nodemcu_boot_finds_the_firmware_in_rom(tmp_path: Path, path: list[str]) -> None:
    report = build_bundle("nodemcu_v3", tmp_path / "b", ecc_mpy=None)  # xtensa ecc cannot load here
    code = (
        f"IMAGE = {str(report.rom_image_path)!r}\nPATH = {path!r}\n"
        f"BOOT = {str(report.fs_dir / 'boot.py')!r}\n{BOOT_NODEMCU}"
    )
    proc = run_micropython("-c", code)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # The native code region is board.py's (0xF8000, 32 KiB); without an ecc
    # module the board's NATIVE_ECC refuses the fallback, and boot.py says so.
    lines = proc.stdout.split("\n")
    assert lines[-2] == (
        "True [('osdebug', None), ('wlan', 1, False), ('native', 1015808, 32768)]"
    ), proc.stdout
    assert lines[-3].startswith("boot: ecc not loaded (deploy rom.img"), proc.stdout
    assert "native ecc module not loaded" in lines[-3], proc.stdout


def test_failed_build_keeps_the_previous_bundle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "b"
    build_bundle("nodemcu_v3", out, ecc_mpy=None)
    before = tree(out)
    firmware = tmp_path / "firmware"
    shutil.copytree(NODEFW, firmware / "nodefw", ignore=shutil.ignore_patterns("__pycache__"))
    (firmware / "nodefw" / "broken.py").write_text("x = (\n")
    monkeypatch.setattr(bundle, "FIRMWARE_DIR", firmware)
    with pytest.raises(HomecaError, match="SyntaxError"):
        build_bundle("nodemcu_v3", out, ecc_mpy=None)
    assert tree(out) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_rebuild_is_clean_and_config_only_with_settings(tmp_path: Path) -> None:
    out = tmp_path / "b"
    report = build_bundle("nodemcu_v3", out, ecc_mpy=None, settings={"name": "kitchen-node"})
    assert json.loads((out / "fs" / "config.json").read_text()) == {"name": "kitchen-node"}
    assert "config.json" in {f.path for f in report.files}
    (out / "rom" / "lib" / "nodefw" / "gone.mpy").write_bytes(b"M\x06\x00\x1f")
    report = build_bundle("nodemcu_v3", out, ecc_mpy=None)
    assert tree(out / "fs") == {"boot.py", "main.py"}
    assert tree(out / "rom") == firmware_modules(("simctl.py",)) | {"board.mpy"}
    assert len(json.loads((out / "manifest.json").read_text())["files"]) == len(report.files)


def test_refuses_what_it_must_not_build_or_replace(tmp_path: Path) -> None:
    precious = tmp_path / "docs"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    with pytest.raises(HomecaError, match="holds no bundle"):
        build_bundle("nodemcu_v3", precious, ecc_mpy=None)
    assert (precious / "notes.txt").read_text() == "keep me"
    with pytest.raises(HomecaError, match="native code for x64; the board needs xtensa"):
        build_bundle("nodemcu_v3", tmp_path / "b", ecc_mpy=make_ecc("x64"))
    with pytest.raises(HomecaError, match="no ecc module"):
        build_bundle("nodemcu_v3", tmp_path / "b", ecc_mpy=tmp_path / "ecc.mpy")
    with pytest.raises(HomecaError, match="printable ASCII"):
        build_bundle("nodemcu_v3", tmp_path / "b", ecc_mpy=None, settings={"name": "x" * 25})
    with pytest.raises(HomecaError, match=r"unknown setting.*dht_period; known: name, dht_"):
        build_bundle("nodemcu_v3", tmp_path / "b", ecc_mpy=None, settings={"dht_period": 5})
    for period in (1, 3601, 2.5, True, "10"):
        with pytest.raises(HomecaError, match="dht_period_s"):
            settings = {"dht_period_s": period}
            build_bundle("nodemcu_v3", tmp_path / "b", ecc_mpy=None, settings=settings)
    assert not (tmp_path / "b").exists()


# --- the unix_sim bundle on the unix port ----------------------------------------

ROOMY_HEAP = "1m"

# Imports every module, then prints the live heap after collection and where
# each module came from. Run with -c, so sys.path[0] stays '' as on a board.
IMPORT_ALL = """
import gc, sys
gc.collect()
base = gc.mem_alloc()
for n in MODS:
    __import__(n)
gc.collect()
alloc = gc.mem_alloc()
from nodefw import ecc
print(base, alloc, ecc.NATIVE)
for n in MODS:
    print(n, sys.modules[n].__file__)
"""


RESET = ROOT / "boards" / "unix_sim" / "reset.py"  # what startup.py runs first


def import_all(
    mods: list[str], cwd: Path, path: list[str], heapsize: str, rom: Path | None = None
) -> dict | None:
    """The import script's figures, or None when the heap is too small. With
    `rom`, the board's reset (startup.py's first step) maps and mounts that
    ROMFS image (the flash at "/" is the empty `cwd`: no boot.py or main.py)."""
    code = f"MODS = {mods!r}\n{IMPORT_ALL}"
    env = {"MICROPYPATH": os.pathsep.join(path)}
    if rom is not None:
        code = RESET.read_text() + code
        env.update(
            HOMECA_SIM_ROM=str(rom),
            HOMECA_SIM_FLASH=str(cwd),
            HOMECA_SIM_SIMFLASH=str(ensure_simflash(INTERPRETERS["unix"])),
        )
    proc = run_micropython("-c", code, heapsize=heapsize, cwd=cwd, env=env)
    output = proc.stdout + proc.stderr
    if proc.returncode != 0:
        if "MemoryError" in output:
            return None
        pytest.fail(f"importing on the unix port failed:\n{output}")
    figures, *files = proc.stdout.splitlines()
    base, alloc, native = figures.split()
    return {
        "base": int(base),
        "alloc": int(alloc),
        "native": native == "True",
        "files": dict(line.split(" ", 1) for line in files),
    }


def heap_floor_kib(mods: list[str], cwd: Path, path: list[str], rom: Path | None = None) -> int:
    """Smallest heap, to 1 KiB, that imports everything (compiling needs more)."""
    lo, hi = 8, 1024  # lo fails, hi works
    assert import_all(mods, cwd, path, f"{hi}k", rom) is not None
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if import_all(mods, cwd, path, f"{mid}k", rom) is None:
            lo = mid
        else:
            hi = mid
    return hi


def test_unix_sim_bundle_loads_on_the_unix_port(tmp_path: Path) -> None:
    ecc_x64 = make_ecc("x64")
    report = build_bundle("unix_sim", tmp_path / "unix_sim", ecc_mpy=ecc_x64)
    fs = report.rom_dir
    assert "lib/nodefw/simctl.mpy" in tree(fs)
    assert "startup.py" not in tree(fs) | tree(report.fs_dir)
    # Board modules at "/", the package under lib/; ".frozen" holds the port's asyncio.
    mods = sorted(p.stem for p in fs.glob("*.mpy")) + sorted(
        ".".join(p.relative_to(fs / "lib").with_suffix("").parts).removesuffix(".__init__")
        for p in (fs / "lib" / "nodefw").rglob("*.mpy")
    )
    bundle_path = ["", ".frozen", "lib"]
    compiled = {f.path.removeprefix("rom/") for f in report.files if f.path.endswith(".mpy")} - {
        "lib/ecc.mpy"
    }

    # Each module, with what it imports, loads from its .mpy in the device's heap model.
    for mod in mods:
        alone = import_all([mod], fs, bundle_path, UNIX_HEAP)
        assert alone is not None, f"{mod} does not load in -X heapsize={UNIX_HEAP}"
        assert alone["files"][mod] in compiled
    # All of them at once (more than the firmware ever holds: the ecc_pure fallback
    # next to the native ecc), with room, for the live heap they keep.
    got = import_all(mods, fs, bundle_path, ROOMY_HEAP)
    assert got is not None and got["native"] is True
    assert set(got["files"].values()) == compiled

    # The same modules from source, in an empty directory: the repo's trees on the path.
    src_path = ["", ".frozen", str(NODEFW.parent), str(ROOT / "boards" / "unix_sim")]
    src_path.append(str(ecc_x64.parent))
    empty = tmp_path / "empty"
    empty.mkdir()
    src = import_all(mods, empty, src_path, ROOMY_HEAP)
    assert src is not None and src["files"]["nodefw.wire"].endswith("/nodefw/wire.py")
    # And from the ROMFS image, as the simulated board runs them: in place.
    flash = tmp_path / "flash"
    flash.mkdir()
    romfs = import_all(mods, flash, [], ROOMY_HEAP, report.rom_image_path)
    assert romfs is not None and romfs["files"]["nodefw.wire"] == "/rom/lib/nodefw/wire.mpy"
    assert set(romfs["files"].values()) == {f"/rom/{p}" for p in compiled}
    floor_mpy = heap_floor_kib(mods, fs, bundle_path)
    floor_src = heap_floor_kib(mods, empty, src_path)
    floor_rom = heap_floor_kib(mods, flash, [], report.rom_image_path)
    print(
        f"\nunix_sim bundle: {len(mods)} modules, {report.total_size} bytes on flash\n"
        f"  live heap after importing them all (gc.mem_alloc after gc.collect, "
        f"{got['base']} before): .mpy {got['alloc']} bytes, .py {src['alloc']} bytes, "
        f"ROMFS {romfs['alloc']} bytes\n"
        f"  smallest heap that imports them all: .mpy {floor_mpy} KiB, .py {floor_src} KiB, "
        f"ROMFS {floor_rom} KiB (-X heapsize={UNIX_HEAP} models the ESP8266)"
    )
    assert floor_mpy < floor_src  # no compiler at import: its parse tree is the difference
    # Bytecode in place: the image's modules keep less heap than the same .mpy files.
    assert romfs["alloc"] - romfs["base"] < got["alloc"] - got["base"]
    assert floor_rom < floor_mpy
