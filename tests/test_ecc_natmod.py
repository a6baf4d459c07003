"""The C module `ecc` as a native .mpy on the MicroPython unix port (CPython only).

Builds build/ecc/x64/ecc.mpy with firmware/cmodules/ecc/Makefile, runs it in
the unix port and checks every function against `cryptography` on fixed-seed
random cases, then every ValueError the binding raises. Also builds the
ESP8266 (xtensa) .mpy and reads its header. Cases and results travel through
JSON files: MicroPython runs a small script over them in one process.
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import subprocess
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, x25519
from cryptography.hazmat.primitives.asymmetric.utils import (
    Prehashed,
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from homeca.testing import wycheproof
from homeca.testing.micropython import run_micropython
from homeca.testing.tools import need

ROOT = Path(__file__).resolve().parent.parent
ECC_DIR = ROOT / "firmware" / "cmodules" / "ecc"
BUILD = ROOT / "build" / "ecc"
SEED = 0xECC
N_CASES = 50

# P-256 field prime and group order; X25519 field prime.
P = 2**256 - 2**224 + 2**192 + 2**96 - 1
N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
B = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B
P25519 = 2**255 - 19

# Native arch numbers in an .mpy header (py/persistentcode.h).
ARCH_X64 = 2
ARCH_XTENSA = 9

# Every function with its arguments' names and exact lengths.
SIGNATURES: dict[str, tuple[tuple[str, int], ...]] = {
    "x25519": (("scalar", 32), ("u", 32)),
    "x25519_base": (("scalar", 32),),
    "p256_public": (("priv", 32),),
    "p256_ecdh": (("priv", 32), ("pub", 65)),
    "p256_sign": (("priv", 32), ("digest", 32)),
    "p256_verify": (("pub", 65), ("digest", 32), ("sig", 64)),
    "p256_scalar_mul": (("k", 32), ("priv", 32)),
    "p256_point_mul": (("k", 32), ("pub", 65)),
    "p256_compress": (("pub", 65),),
    "p256_decompress": (("pub", 33),),
}

# Runs on MicroPython: each call is [function, [hex args]]; each result is
# ["bytes", hex], ["bool", b] or ["ValueError", message]. Any other exception
# ends the script with a traceback, which fails the test. RUNNER_BASE is the
# part tests/test_ecc_flash_inputs.py shares: call() makes one call's result,
# main(run) writes run(name, args) for each call, args as bytes.
RUNNER_BASE = """\
import sys, json, ecc
from binascii import hexlify, unhexlify

def call(name, args):
    try:
        out = getattr(ecc, name)(*args)
    except ValueError as e:
        return ["ValueError", str(e)]
    if out is True or out is False:
        return ["bool", out]
    return ["bytes", hexlify(out).decode()]

def main(run):
    with open(sys.argv[1]) as f:
        calls = json.load(f)
    with open(sys.argv[2], "w") as f:
        json.dump([run(name, [unhexlify(a) for a in args]) for name, args in calls], f)
"""
RUNNER = RUNNER_BASE + "\nmain(call)\n"

Call = tuple[str, list[bytes]]
Result = tuple[str, object]
RunEcc = Callable[[list[Call]], list[Result]]
# run(script, *args): MicroPython with ecc importable, e.g. partial(run_script, mpy).
RunMicropython = Callable[..., subprocess.CompletedProcess[str]]


# --- building and running ----------------------------------------------------------


def make_ecc(arch: str) -> Path:
    """Builds build/ecc/<arch>/ecc.mpy; fails the test with make's output if it cannot."""
    command = ["make", "-C", str(ECC_DIR), f"ARCH={arch}", f"ECC_PYTHON={sys.executable}"]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    if proc.returncode != 0:
        out = (proc.stdout + proc.stderr)[-4000:]
        pytest.fail(f"building the {arch} ecc.mpy failed:\n{out}", pytrace=False)
    return BUILD / arch / "ecc.mpy"


def run_script(mpy: Path, script: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_micropython(str(script), *args, path=[mpy.parent], heapsize="256k", timeout=300)


@pytest.fixture(scope="module")
def ecc_x64() -> Path:
    return make_ecc("x64")


def run_calls(
    run: RunMicropython, runner: str, calls: list[Call], tmp_path: Path
) -> list[list[object]]:
    """The results of a runner script (RUNNER_BASE's main) over the calls,
    run by `run`: one JSON value per call."""
    script = tmp_path / "ecc_runner.py"
    script.write_text(runner)
    calls_file = tmp_path / "calls.json"
    results_file = tmp_path / "results.json"
    calls_file.write_text(json.dumps([[name, [a.hex() for a in args]] for name, args in calls]))
    proc = run(script, str(calls_file), str(results_file))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = json.loads(results_file.read_text())
    assert len(results) == len(calls)
    return results


@pytest.fixture
def run_ecc(ecc_x64: Path, tmp_path: Path) -> RunEcc:
    """run_ecc(calls) -> the results of the calls on the unix port."""

    def run(calls: list[Call]) -> list[Result]:
        results = run_calls(partial(run_script, ecc_x64), RUNNER, calls, tmp_path)
        return [(kind, value) for kind, value in results]

    return run


# --- reference values from cryptography ---------------------------------------------


def be32(value: int) -> bytes:
    return value.to_bytes(32, "big")


def p256_key(d: int) -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(d, ec.SECP256R1())


def pub65(d: int) -> bytes:
    return p256_key(d).public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)


def pub33(d: int) -> bytes:
    return p256_key(d).public_key().public_bytes(Encoding.X962, PublicFormat.CompressedPoint)


def load_pub(pub: bytes) -> ec.EllipticCurvePublicKey:
    return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), pub)


def ecdsa(deterministic: bool = False) -> ec.ECDSA:
    return ec.ECDSA(Prehashed(hashes.SHA256()), deterministic_signing=deterministic)


def sign_raw(d: int, digest: bytes, deterministic: bool) -> bytes:
    der = p256_key(d).sign(digest, ecdsa(deterministic))
    r, s = decode_dss_signature(der)
    return be32(r) + be32(s)


def verifies(pub: bytes, digest: bytes, sig: bytes) -> bool:
    r, s = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")
    try:
        load_pub(pub).verify(encode_dss_signature(r, s), digest, ecdsa())
    except InvalidSignature:
        return False
    return True


def x25519_ref(scalar: bytes, u: bytes) -> Result:
    key = x25519.X25519PrivateKey.from_private_bytes(scalar)
    try:
        return ("bytes", key.exchange(x25519.X25519PublicKey.from_public_bytes(u)).hex())
    except ValueError:  # all-zero shared secret: u of small order
        return ("ValueError", "zero result")


def ok(data: bytes) -> Result:
    return ("bytes", data.hex())


def scalars(rng: random.Random) -> list[int]:
    """N_CASES P-256 scalars in [1, n-1], the edges first."""
    return [1, 2, N - 1] + [rng.randrange(1, N) for _ in range(N_CASES - 3)]


def digests(rng: random.Random) -> list[bytes]:
    """N_CASES digests, with the edges: zero, all ones (above n), n itself."""
    return [bytes(32), b"\xff" * 32, be32(N)] + [rng.randbytes(32) for _ in range(N_CASES - 3)]


# Small-order and non-canonical u values: 0, 1, two points of order 8, p-1, p, p+1,
# and all ones (the top bit is masked off by the RFC 7748 decoding).
SPECIAL_U = [
    0,
    1,
    0x00B8495F16056286FDB1329CEB8D09DA6AC49FF1FAE35616AEB8413B7C7AEBE0,
    0x57119FD0DD4E22D8868E1C58C45C44045BEF839C55B1D0B1248C50A3BC959C5F,
    P25519 - 1,
    P25519,
    P25519 + 1,
    2**256 - 1,
]


def cases_x25519(rng: random.Random) -> list[tuple[Call, Result]]:
    cases = []
    for i in range(N_CASES):
        scalar = rng.randbytes(32)
        if i % 2:  # a real public key
            peer = x25519.X25519PrivateKey.from_private_bytes(rng.randbytes(32))
            u = peer.public_key().public_bytes_raw()
        else:  # any 32 bytes: high bit set, values above p
            u = rng.randbytes(32)
        cases.append((("x25519", [scalar, u]), x25519_ref(scalar, u)))
    for value in SPECIAL_U:
        scalar, u = rng.randbytes(32), value.to_bytes(32, "little")
        cases.append((("x25519", [scalar, u]), x25519_ref(scalar, u)))
    return cases


def cases_x25519_base(rng: random.Random) -> list[tuple[Call, Result]]:
    cases = []
    for scalar in [bytes(32), b"\xff" * 32] + [rng.randbytes(32) for _ in range(N_CASES - 2)]:
        key = x25519.X25519PrivateKey.from_private_bytes(scalar)
        cases.append((("x25519_base", [scalar]), ok(key.public_key().public_bytes_raw())))
    return cases


def cases_p256_public(rng: random.Random) -> list[tuple[Call, Result]]:
    return [(("p256_public", [be32(d)]), ok(pub65(d))) for d in scalars(rng)]


def cases_p256_ecdh(rng: random.Random) -> list[tuple[Call, Result]]:
    cases = []
    for d in scalars(rng):
        peer = rng.randrange(1, N)
        shared = p256_key(d).exchange(ec.ECDH(), p256_key(peer).public_key())
        cases.append((("p256_ecdh", [be32(d), pub65(peer)]), ok(shared)))
    return cases


def cases_p256_scalar_mul(rng: random.Random) -> list[tuple[Call, Result]]:
    cases = []
    for d in scalars(rng):
        k = rng.choice([1, N - 1, rng.randrange(1, N)])
        cases.append((("p256_scalar_mul", [be32(k), be32(d)]), ok(be32(k * d % N))))
    return cases


def cases_p256_point_mul(rng: random.Random) -> list[tuple[Call, Result]]:
    cases = []
    for d in scalars(rng):
        k = rng.choice([1, N - 1, rng.randrange(1, N)])
        cases.append((("p256_point_mul", [be32(k), pub65(d)]), ok(pub65(k * d % N))))
    return cases


def cases_p256_compress(rng: random.Random) -> list[tuple[Call, Result]]:
    return [(("p256_compress", [pub65(d)]), ok(pub33(d))) for d in scalars(rng)]


def cases_p256_decompress(rng: random.Random) -> list[tuple[Call, Result]]:
    return [(("p256_decompress", [pub33(d)]), ok(pub65(d))) for d in scalars(rng)]


def cases_p256_verify(rng: random.Random) -> list[tuple[Call, Result]]:
    """Good signatures (random nonces, both s and n - s) and broken ones."""
    cases = []
    for d, digest in zip(scalars(rng), digests(rng), strict=True):
        pub = pub65(d)
        sig = sign_raw(d, digest, deterministic=False)
        r, s = sig[:32], int.from_bytes(sig[32:], "big")
        flipped = rng.randrange(32)
        other_digest = digest[:flipped] + bytes([digest[flipped] ^ 0x01]) + digest[flipped + 1 :]
        wrong = [
            (pub, other_digest, sig),  # another digest
            (pub, digest, be32(int.from_bytes(r, "big") ^ 1) + be32(s)),  # another r
            (pub65(d + 1 if d < N - 1 else 1), digest, sig),  # another key
            (pub, digest, bytes(32) + be32(s)),  # r = 0
            (pub, digest, r + bytes(32)),  # s = 0
            (pub, digest, be32(N) + be32(s)),  # r = n
            (pub, digest, r + be32(N)),  # s = n
        ]
        cases.append((("p256_verify", [pub, digest, sig]), ("bool", True)))
        cases.append((("p256_verify", [pub, digest, r + be32(N - s)]), ("bool", True)))
        bad = wrong[rng.randrange(len(wrong))]
        assert not verifies(*bad)
        cases.append((("p256_verify", list(bad)), ("bool", False)))
    return cases


CASES = {
    "x25519": cases_x25519,
    "x25519_base": cases_x25519_base,
    "p256_public": cases_p256_public,
    "p256_ecdh": cases_p256_ecdh,
    "p256_verify": cases_p256_verify,
    "p256_scalar_mul": cases_p256_scalar_mul,
    "p256_point_mul": cases_p256_point_mul,
    "p256_compress": cases_p256_compress,
    "p256_decompress": cases_p256_decompress,
}


# --- the tests -----------------------------------------------------------------------


def test_module_has_exactly_the_api(ecc_x64: Path, tmp_path: Path) -> None:
    script = tmp_path / "api.py"
    script.write_text("import ecc\nprint(' '.join(sorted(n for n in dir(ecc) if n[0] != '_')))\n")
    proc = run_script(ecc_x64, script)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.split() == sorted(SIGNATURES)


def test_x64_mpy_header_matches_the_unix_port(ecc_x64: Path, tmp_path: Path) -> None:
    script = tmp_path / "mpy_version.py"
    script.write_text("import sys\nprint(sys.implementation._mpy)\n")
    proc = run_script(ecc_x64, script)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    port = int(proc.stdout)
    header = ecc_x64.read_bytes()[:4]
    # _mpy is the header's bytes 1 and 2: version, then arch << 2 | sub-version.
    assert header[:1] == b"M"
    assert header[1] == port & 0xFF
    assert header[2] == port >> 8
    assert header[2] >> 2 == ARCH_X64


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_cryptography(name: str, run_ecc: RunEcc) -> None:
    cases = CASES[name](random.Random(f"{SEED}-{name}"))
    results = run_ecc([call for call, _ in cases])
    for (call, expected), got in zip(cases, results, strict=True):
        args = ", ".join(a.hex() for a in call[1])
        assert got == expected, f"{name}({args})"


@pytest.fixture(scope="module")
def signing_cases() -> list[tuple[int, bytes]]:
    rng = random.Random(f"{SEED}-p256_sign")
    return list(zip(scalars(rng), digests(rng), strict=True))


def test_p256_sign_verifies_with_cryptography(
    signing_cases: list[tuple[int, bytes]], run_ecc: RunEcc
) -> None:
    results = run_ecc([("p256_sign", [be32(d), digest]) for d, digest in signing_cases])
    for (d, digest), (kind, sig) in zip(signing_cases, results, strict=True):
        assert kind == "bytes", (d, digest.hex(), sig)
        assert verifies(pub65(d), digest, bytes.fromhex(sig)), (d, digest.hex(), sig)


def test_p256_sign_is_rfc6979(signing_cases: list[tuple[int, bytes]], run_ecc: RunEcc) -> None:
    results = run_ecc([("p256_sign", [be32(d), digest]) for d, digest in signing_cases])
    for (d, digest), got in zip(signing_cases, results, strict=True):
        assert got == ok(sign_raw(d, digest, deterministic=True)), (d, digest.hex())


def has_sqrt(v: int) -> bool:
    return pow(v, (P - 1) // 2, P) in (0, 1)


def small_x_point() -> tuple[int, int]:
    """A point with a tiny x, so that x + p still fits in 32 bytes."""
    x = next(v for v in range(100) if has_sqrt((v**3 - 3 * v + B) % P))
    return x, pow((x**3 - 3 * x + B) % P, (P + 1) // 4, P)


def valid_args(name: str) -> list[bytes]:
    """Arguments that the function accepts, to break one at a time."""
    d, k, digest = 0x1234567, 0x89ABCDEF, b"\x5a" * 32
    value = {
        "scalar": b"\x07" * 32,
        "u": x25519.X25519PrivateKey.from_private_bytes(b"\x09" * 32)
        .public_key()
        .public_bytes_raw(),
        "priv": be32(d),
        "k": be32(k),
        "digest": digest,
        "sig": sign_raw(d, digest, deterministic=True),
        "pub": pub33(d) if name == "p256_decompress" else pub65(d),
    }
    return [value[arg] for arg, _ in SIGNATURES[name]]


def error_cases() -> list[tuple[Call, str]]:
    cases: list[tuple[Call, str]] = []
    # Every argument one byte short, one byte long, and empty.
    for name, params in SIGNATURES.items():
        for i, (arg, length) in enumerate(params):
            for bad_length in (length - 1, length + 1, 0):
                args = valid_args(name)
                args[i] = (args[i] * 2)[:bad_length]
                cases.append(((name, args), f"{arg} must be {length} bytes"))
    # A 65-byte public key must be uncompressed: 0x04 first.
    good = pub65(0x1234567)
    for prefix in (0x00, 0x02, 0x03, 0x05):
        bad = bytes([prefix]) + good[1:]
        for name, params in SIGNATURES.items():
            if ("pub", 65) in params:
                args = valid_args(name)
                args[params.index(("pub", 65))] = bad
                cases.append(((name, args), "pub must start with 0x04"))
    # Points not on the curve, coordinates not below p, the all-zero encoding.
    x, y = int.from_bytes(good[1:33], "big"), int.from_bytes(good[33:], "big")
    small_x, small_y = small_x_point()
    off_curve = [
        b"\x04" + be32(x) + be32((y + 1) % P),
        b"\x04" + be32(small_x + P) + be32(small_y),  # on the curve only modulo p
        b"\x04" + bytes(64),
        b"\x04" + b"\xff" * 64,
    ]
    digest = b"\x5a" * 32
    sig = sign_raw(0x1234567, digest, deterministic=True)
    for pub in off_curve:
        cases += [
            (("p256_ecdh", [be32(5), pub]), "invalid point"),
            (("p256_point_mul", [be32(5), pub]), "invalid point"),
            (("p256_verify", [pub, digest, sig]), "invalid point"),
            (("p256_compress", [pub]), "invalid point"),
        ]
    no_root = next(v for v in range(1, 100) if not has_sqrt((v**3 - 3 * v + B) % P))
    for pub in (
        b"\x02" + be32(no_root),
        b"\x02" + be32(small_x + P),  # x not below p
        b"\x03" + b"\xff" * 32,
        b"\x04" + good[1:33],
        b"\x05" + good[1:33],
        b"\x00" + good[1:33],
    ):
        cases.append((("p256_decompress", [pub]), "invalid point"))
    # Scalars that are zero or not below n.
    for bad in (bytes(32), be32(N), b"\xff" * 32):
        cases += [
            (("p256_public", [bad]), "scalar out of range"),
            (("p256_ecdh", [bad, good]), "scalar out of range"),
            (("p256_sign", [bad, b"\x5a" * 32]), "scalar out of range"),
            (("p256_scalar_mul", [bad, be32(3)]), "scalar out of range"),
            (("p256_scalar_mul", [be32(3), bad]), "scalar out of range"),
            (("p256_point_mul", [bad, good]), "scalar out of range"),
        ]
    # X25519 with a small-order u: the all-zero shared secret is refused.
    cases.append((("x25519", [b"\x07" * 32, bytes(32)]), "zero result"))
    cases.append((("x25519", [b"\x07" * 32, (1).to_bytes(32, "little")]), "zero result"))
    return cases


def test_value_errors(run_ecc: RunEcc) -> None:
    cases = error_cases()
    results = run_ecc([call for call, _ in cases])
    for ((name, args), message), got in zip(cases, results, strict=True):
        shown = ", ".join(a.hex() for a in args)
        assert got == ("ValueError", message), f"{name}({shown})"


def small_s_signature(d: int, k: int, s: int) -> tuple[bytes, bytes]:
    """(digest, r||s): a valid signature by d with nonce k and the given s,
    small enough that s + n still fits in 32 bytes."""
    r = p256_key(k).public_key().public_numbers().x % N
    e = (s * k - r * d) % N  # s = (e + r*d) / k
    digest, sig = be32(e), be32(r) + be32(s)
    assert verifies(pub65(d), digest, sig)
    return digest, sig


def test_verify_says_false_for_out_of_range_signatures(run_ecc: RunEcc) -> None:
    d, digest = 0x1234567, b"\x5a" * 32
    good, sig = pub65(d), sign_raw(d, digest, deterministic=True)
    small_digest, small_sig = small_s_signature(d, k=0xC0FFEE, s=12345)
    r = small_sig[:32]
    calls: list[Call] = [
        ("p256_verify", [good, digest, bytes(64)]),
        ("p256_verify", [good, digest, b"\xff" * 64]),
        ("p256_verify", [good, small_digest, r + be32(12345 + N)]),  # s not reduced mod n
        ("p256_verify", [good, digest, sig]),
        ("p256_verify", [good, small_digest, small_sig]),
    ]
    results = run_ecc(calls)
    assert results == [("bool", False)] * 3 + [("bool", True)] * 2


def test_buffer_protocol_and_types(ecc_x64: Path, tmp_path: Path) -> None:
    script = tmp_path / "buffers.py"
    script.write_text(
        "import ecc\n"
        "s = bytes(range(32))\n"
        "a = ecc.x25519_base(s)\n"
        "assert type(a) is bytes\n"
        "assert ecc.x25519_base(bytearray(s)) == a\n"
        "assert ecc.x25519_base(memoryview(b'x' + s)[1:]) == a\n"
        "try:\n"
        "    ecc.x25519_base(5)\n"
        "except TypeError:\n"
        "    print('TypeError')\n"
        "assert ecc.p256_verify(ecc.p256_public(s), s, ecc.p256_sign(s, s)) is True\n"
        "print('ok')\n"
    )
    proc = run_script(ecc_x64, script)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.split() == ["TypeError", "ok"]


def test_xtensa_mpy_builds_for_the_esp8266() -> None:
    need(shutil.which("xtensa-lx106-elf-gcc") is not None, "xtensa-lx106-elf-gcc not installed")
    mpy = make_ecc("xtensa")
    header = mpy.read_bytes()[:4]
    assert header[:2] == b"M\x06"  # .mpy version 6
    assert header[2] >> 2 == ARCH_XTENSA
    assert header[2] & 3 == 3  # sub-version 3: what MicroPython 1.23 and later load
    assert header[3] == 31  # small ints of 31 bits, like the ESP8266's


def test_wycheproof_subset_through_the_x64_module(run_ecc: RunEcc) -> None:
    """A representative subset (valid, invalid and acceptable cases of each
    file, seeded) through ecc.mpy on the unix port; the whole set runs
    through the C core on the host and on QEMU's lx106."""
    rng = random.Random(7748)
    calls: list[Call] = []
    allowed: list[set[object]] = []  # acceptable results; "ValueError" for any message

    def sample(vectors: list[wycheproof.Vector], k: int = 12) -> list[wycheproof.Vector]:
        kinds: dict[str, list[wycheproof.Vector]] = {}
        for v in vectors:
            kinds.setdefault(v.result, []).append(v)
        return [v for vs in kinds.values() for v in rng.sample(vs, min(k, len(vs)))]

    for v in sample(wycheproof.load("x25519")):
        shared = v.hex("shared")
        calls.append(("x25519", [v.hex("private"), v.hex("public")]))
        allowed.append({("bytes", shared.hex())} if any(shared) else {"ValueError"})
    for v in sample(wycheproof.load("ecdh_secp256r1_ecpoint")):
        pub, priv = v.hex("public"), int(v.data["private"], 16).to_bytes(32, "big")
        if len(pub) != 65:
            continue  # compressed or malformed encodings: not what p256_ecdh takes
        calls.append(("p256_ecdh", [priv, pub]))
        good = ("bytes", v.hex("shared").hex())
        by_result = {"valid": {good}, "invalid": {"ValueError"}}
        allowed.append(by_result.get(v.result, {good, "ValueError"}))
    for v in sample(wycheproof.load("ecdsa_secp256r1_sha256_p1363")):
        sig = v.hex("sig")
        pub = bytes.fromhex(v.group["publicKey"]["uncompressed"])
        calls.append(("p256_verify", [pub, hashlib.sha256(v.hex("msg")).digest(), sig]))
        allowed.append({("bool", v.result == "valid")} if len(sig) == 64 else {"ValueError"})
    results = run_ecc(calls)

    def fits(r: Result, ok: set[object]) -> bool:
        return r in ok or (r[0] == "ValueError" and "ValueError" in ok)

    wrong = [(c[0], r) for c, r, ok in zip(calls, results, allowed, strict=True) if not fits(r, ok)]
    assert not wrong, wrong[:10]
    assert len(calls) > 60
