"""The ecc C core (firmware/cmodules/ecc/core) built for the host and wrapped with ctypes.

`load()` compiles every core .c file into build/ecc-host/libecc.so (again whenever a
core source or header is newer than the library, or the compile command changed) and
returns an `EccCore` whose methods mirror ecc.h: bytes in, (rc, output bytes) out.
Only the .c files are built: lb_mul_xtensa.S and the like are for the device.

ECC_CORE_DIR points the build at another directory holding ecc.h and the .c files,
e.g. a throwaway stub during bring-up (built as libecc-<hash>.so); the default is
the real core.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORE_DIR = ROOT / "firmware" / "cmodules" / "ecc" / "core"
CORE_DIR = Path(os.environ.get("ECC_CORE_DIR", DEFAULT_CORE_DIR))
BUILD_DIR = ROOT / "build" / "ecc-host"
CC = os.environ.get("CC", "gcc")
CFLAGS = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-fPIC", "-shared"]

# ecc.h return codes (tests check these against the header too).
OK = 0
EPOINT = -1
ESCALAR = -2
EZERO = -3
ESIG = -4

# Bytes written around every buffer handed to the core: out-of-bounds writes change them.
_GUARD = bytes(range(0xA0, 0xB0))


class CoreError(Exception):
    """The core is missing or does not compile."""


def have_compiler() -> bool:
    return shutil.which(CC) is not None


def core_inputs(core_dir: Path = CORE_DIR) -> tuple[list[Path], list[Path]]:
    """(C sources, headers) of the core."""
    return sorted(core_dir.glob("*.c")), sorted(core_dir.glob("*.h"))


def _stale(target: Path, inputs: Sequence[Path], cmd_file: Path, cmd: str) -> bool:
    if not target.exists() or not cmd_file.exists() or cmd_file.read_text() != cmd:
        return True
    built = target.stat().st_mtime_ns
    return any(p.stat().st_mtime_ns > built for p in inputs)


def build(core_dir: Path = CORE_DIR, out_dir: Path = BUILD_DIR) -> Path:
    """Compile the core into a shared library if needed; return its path."""
    sources, headers = core_inputs(core_dir)
    if not (core_dir / "ecc.h").exists():
        raise CoreError(f"{core_dir}/ecc.h is missing")
    if not sources:
        raise CoreError(f"no .c files in {core_dir}: the ecc core is not written yet")
    out_dir.mkdir(parents=True, exist_ok=True)
    # One library per core directory: runs against a stub never clobber the real one.
    name = "libecc"
    if core_dir.resolve() != DEFAULT_CORE_DIR.resolve():
        name += "-" + hashlib.sha256(str(core_dir.resolve()).encode()).hexdigest()[:10]
    lib = out_dir / f"{name}.so"
    args = [*CFLAGS, "-I", str(core_dir), *map(str, sources)]
    cmd_file = out_dir / f"{name}.cmd"
    cmd_text = " ".join([CC, *args]) + "\n"
    if not _stale(lib, [*sources, *headers], cmd_file, cmd_text):
        return lib
    # Build beside the target and rename: a half-written library is never loaded.
    tmp = out_dir / f".{name}-{os.getpid()}.so"
    proc = subprocess.run([CC, *args, "-o", str(tmp)], capture_output=True, text=True)
    if proc.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise CoreError(f"the ecc core does not compile:\n{proc.stderr}")
    os.replace(tmp, lib)
    cmd_file.write_text(cmd_text)
    return lib


class EccCore:
    """ctypes view of ecc.h. Lengths are checked here; the C side takes fixed arrays."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lib = ctypes.CDLL(str(path))
        p = ctypes.c_void_p
        for name, nargs in (
            ("ecc_x25519", 3),
            ("ecc_x25519_base", 2),
            ("ecc_p256_public", 2),
            ("ecc_p256_ecdh", 3),
            ("ecc_p256_sign", 3),
            ("ecc_p256_verify", 3),
            ("ecc_p256_scalar_mul", 3),
            ("ecc_p256_point_mul", 3),
            ("ecc_p256_compress", 2),
            ("ecc_p256_decompress", 2),
        ):
            fn = getattr(self._lib, name)
            fn.argtypes = [p] * nargs
            fn.restype = None if name == "ecc_x25519_base" else ctypes.c_int

    def _call(self, name: str, out_len: int, *inputs: tuple[bytes, int]) -> tuple[int, bytes]:
        """Call `name`(out, *inputs), each buffer fenced by guard bytes.

        Raises AssertionError if the core writes outside `out` or into an input:
        the C signatures promise neither.
        """
        g = len(_GUARD)
        bufs = []
        for data, size in inputs:
            if len(data) != size:
                raise ValueError(f"{name}: input of {len(data)} bytes, expected {size}")
            bufs.append(ctypes.create_string_buffer(_GUARD + data + _GUARD, size + 2 * g))
        out = ctypes.create_string_buffer(_GUARD + bytes(out_len) + _GUARD, out_len + 2 * g)
        ptrs = [ctypes.addressof(b) + g for b in bufs]
        if out_len:
            ptrs.insert(0, ctypes.addressof(out) + g)
        rc = getattr(self._lib, name)(*ptrs)
        for (data, _), buf in zip(inputs, bufs, strict=True):
            assert buf.raw == _GUARD + data + _GUARD, f"{name} wrote into an input buffer"
        raw = out.raw
        assert raw[:g] == _GUARD and raw[-g:] == _GUARD, f"{name} wrote outside its output"
        return (OK if rc is None else rc), raw[g:-g]

    def x25519(self, scalar: bytes, u: bytes) -> tuple[int, bytes]:
        return self._call("ecc_x25519", 32, (scalar, 32), (u, 32))

    def x25519_base(self, scalar: bytes) -> tuple[int, bytes]:
        """The C function returns nothing; rc is always OK here."""
        return self._call("ecc_x25519_base", 32, (scalar, 32))

    def p256_public(self, priv: bytes) -> tuple[int, bytes]:
        return self._call("ecc_p256_public", 64, (priv, 32))

    def p256_ecdh(self, priv: bytes, pub: bytes) -> tuple[int, bytes]:
        return self._call("ecc_p256_ecdh", 32, (priv, 32), (pub, 64))

    def p256_sign(self, priv: bytes, digest: bytes) -> tuple[int, bytes]:
        return self._call("ecc_p256_sign", 64, (priv, 32), (digest, 32))

    def p256_verify(self, pub: bytes, digest: bytes, sig: bytes) -> int:
        """No output buffer: just rc."""
        return self._call("ecc_p256_verify", 0, (pub, 64), (digest, 32), (sig, 64))[0]

    def p256_scalar_mul(self, k: bytes, priv: bytes) -> tuple[int, bytes]:
        return self._call("ecc_p256_scalar_mul", 32, (k, 32), (priv, 32))

    def p256_point_mul(self, k: bytes, pub: bytes) -> tuple[int, bytes]:
        return self._call("ecc_p256_point_mul", 64, (k, 32), (pub, 64))

    def p256_compress(self, pub: bytes) -> tuple[int, bytes]:
        return self._call("ecc_p256_compress", 33, (pub, 64))

    def p256_decompress(self, data: bytes) -> tuple[int, bytes]:
        return self._call("ecc_p256_decompress", 64, (data, 33))


_loaded: dict[Path, EccCore] = {}


def load(core_dir: Path = CORE_DIR) -> EccCore:
    """Build (if needed) and load the core; raises CoreError if it is missing or broken."""
    path = build(core_dir)
    if path not in _loaded:
        _loaded[path] = EccCore(path)
    return _loaded[path]


def announce(request: pytest.FixtureRequest, line: str) -> None:
    """Print a line in the test output even under -q and output capture."""
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capman = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capman is None:
        return
    with capman.global_and_fixture_disabled():
        reporter.write("\n" + line + "\n")
