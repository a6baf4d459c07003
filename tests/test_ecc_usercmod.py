"""The ecc module compiled into a firmware as a user C module (the route of
firmware/cmodules/ecc/micropython.mk), proved on MicroPython's unix port.

Builds the unix port from the shared MicroPython source (tools/unix32.py's
source_tree(): $MPY_SRC or the 1.29 tarball extracted under build/) with
USER_C_MODULES=firmware/cmodules, out of tree under build/usercmod/<key>,
where <key> hashes the source tree's identity, the variant and the make
variables: a rerun is an incremental make of a few seconds, a new source or
variant starts afresh. The variant is the unix_sim board's esp8266like one
(i386 like the lx106's 32-bit words, the ESP8266 build's features: hashlib's
SHA-256 from lib/crypto-algorithms among them, whose sha256_* the core once
collided with), without its frozen asyncio, so no mpy-cross is needed.

Then `import ecc` runs known answers (RFC 7748, RFC 6979), every function
with its inputs at every alignment (tests/test_ecc_flash_inputs.py), and the
objects of the module are checked for the ecc_ prefix.

Off CI, skipped when there is no MicroPython source or no 32-bit gcc; in CI
(CI set) those fail.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from functools import partial
from pathlib import Path

import pytest
import test_ecc_flash_inputs as flash_inputs
import test_ecc_symbols as symbols

from homeca.testing.tools import need

ROOT = Path(__file__).resolve().parent.parent
CMODULES = ROOT / "firmware" / "cmodules"
VARIANT = ROOT / "boards" / "unix_sim" / "esp8266like"
CACHE = ROOT / "build" / "usercmod"
TOOLS = ROOT / "tools"

KNOWN_ANSWERS = """\
import ecc, hashlib
from binascii import unhexlify as h

# RFC 7748 5.2, the first vector; 6.1, Alice's key pair.
assert ecc.x25519(
    h("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4"),
    h("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c"),
) == h("c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552")
assert ecc.x25519_base(
    h("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
) == h("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")

# RFC 6979 A.2.5: P-256, SHA-256, message "sample".
x = h("c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721")
pub = h(
    "04"
    "60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6"
    "7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299"
)
assert ecc.p256_public(x) == pub
digest = hashlib.sha256(b"sample").digest()
sig = ecc.p256_sign(x, digest)
assert sig == h(
    "efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716"
    "f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8"
), sig
assert ecc.p256_verify(pub, digest, sig) is True
assert ecc.p256_verify(pub, hashlib.sha256(b"test").digest(), sig) is False
assert ecc.p256_decompress(ecc.p256_compress(pub)) == pub
print("ok")
"""


def source_tree() -> Path:
    """tools/unix32.py's MicroPython source; skips (fails in CI) without one."""
    sys.path.insert(0, str(TOOLS))
    try:
        import unix32
    finally:
        sys.path.remove(str(TOOLS))
    try:
        return unix32.source_tree()
    except SystemExit as e:
        need(e.code != unix32.NO_SOURCE, "no MicroPython source tree (tools/unix32.py)")
        pytest.fail(f"tools/unix32.py could not provide the source (exit {e.code})", pytrace=False)


def have_gcc_m32(tmp: Path) -> bool:
    src = tmp / "m32.c"
    src.write_text("#include <stdio.h>\nint main(void) { return 0; }\n")
    cmd = ["gcc", "-m32", "-o", str(tmp / "m32"), str(src)]
    return subprocess.run(cmd, capture_output=True, check=False).returncode == 0


def make_vars(build: Path) -> list[str]:
    return [
        f"VARIANT_DIR={VARIANT}",
        f"BUILD={build}",
        f"USER_C_MODULES={CMODULES}",
        # No frozen asyncio: no mpy-cross, no micropython-lib needed.
        "FROZEN_MANIFEST=",
        "MICROPY_MPYCROSS_DEPENDENCY=",
        "PROG=micropython",
    ]


def cache_key(src: Path) -> str:
    """The source tree's identity (its tarball's sha256, else its build files),
    the variant and the make variables."""
    h = hashlib.sha256(str(src).encode())
    stamp = src.parent / ".sha256"
    if stamp.is_file():
        h.update(stamp.read_bytes())
    else:
        for rel in ("py/mpconfig.h", "py/py.mk", "py/mkrules.mk", "ports/unix/Makefile"):
            h.update((src / rel).read_bytes())
    for f in sorted(VARIANT.iterdir()):
        h.update(f.name.encode() + f.read_bytes())
    h.update(" ".join(make_vars(Path("obj"))).encode())
    return h.hexdigest()[:16]


@pytest.fixture(scope="module")
def usercmod_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The unix port with ecc built in: its object directory (micropython in it)."""
    need(shutil.which("make") is not None and shutil.which("gcc") is not None, "needs make, gcc")
    need(VARIANT.is_dir(), f"no variant at {VARIANT}")
    need(have_gcc_m32(tmp_path_factory.mktemp("m32")), "gcc -m32 cannot link (gcc-multilib)")
    src = source_tree()
    build = CACHE / cache_key(src)
    if CACHE.is_dir():  # one cached build at a time
        for old in CACHE.iterdir():
            if old != build:
                shutil.rmtree(old, ignore_errors=True)
    build.mkdir(parents=True, exist_ok=True)
    cmd = ["make", f"-j{os.cpu_count() or 2}", "-C", str(src / "ports" / "unix"), *make_vars(build)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    (build / "make.log").write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        tail = (proc.stdout + proc.stderr)[-4000:]
        pytest.fail(f"the unix port with ecc did not build:\n{tail}", pytrace=False)
    assert f"Including User C Module from {CMODULES}/ecc" in proc.stdout
    assert (build / "ecc" / "modecc.o").is_file() and (build / "micropython").is_file()
    return build


def run(build: Path, script: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(build / "micropython"), "-X", "heapsize=256k", str(script), *args],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def test_import_ecc_known_answers(usercmod_build: Path, tmp_path: Path) -> None:
    script = tmp_path / "kat.py"
    script.write_text(KNOWN_ANSWERS)
    proc = run(usercmod_build, script)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.split() == ["ok"]


def test_inputs_at_every_alignment(usercmod_build: Path, tmp_path: Path) -> None:
    assert flash_inputs.alignment_mismatches(partial(run, usercmod_build), tmp_path) == []


def test_module_objects_carry_the_prefix_beside_hashlib(usercmod_build: Path) -> None:
    # The build does hold MicroPython's own sha256_*, which the core's
    # functions were once named like.
    hashlib_defined, _ = symbols.symbols("nm", usercmod_build / "extmod" / "modhashlib.o")
    assert {"sha256_init", "sha256_update", "sha256_final"} <= hashlib_defined
    core = sorted((usercmod_build / "ecc" / "core").glob("*.o"))
    symbols.check_core_objects("nm", core, libc=frozenset({"memcpy", "memmove", "memset"}))
    binding, _ = symbols.symbols("nm", usercmod_build / "ecc" / "modecc.o")
    assert binding == {"ecc_user_cmodule"}, binding
