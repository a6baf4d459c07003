"""nodefw.ecc_pure on the MicroPython unix port (driven from CPython).

The fallback has to behave the same on the device's interpreter as on CPython,
where tests/test_ecc_pure.py checks it in depth. Here a representative subset
(Wycheproof cases of each kind, random cases made with `cryptography`, error
cases) goes through tests/ecc_pure_replay.py on both interpreters; the lines
must be identical, and must be the expected results. The heap is limited to
2 MB. Also checked: the source uses nothing the ESP8266 build lacks.
"""

from __future__ import annotations

import ast
import hashlib
import json
import random
import subprocess
from pathlib import Path

import ecc_pure_replay as replay
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization as ser
from cryptography.hazmat.primitives.asymmetric import ec, utils
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from homeca.testing import wycheproof
from homeca.testing.micropython import run_micropython

TESTS = Path(__file__).resolve().parent
FIRMWARE = TESTS.parent / "firmware"
SOURCE = FIRMWARE / "nodefw" / "ecc_pure.py"
REPLAY = TESTS / "ecc_pure_replay.py"
SEED = 0x5EED_ECC
PER_KIND = 8  # Wycheproof cases per kind and result class (valid / not valid)
RANDOM = 5  # random cases per operation
N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
ANY_VALUE_ERROR = "ValueError"  # an expectation: any ValueError line (text compared with CPython)


def run_replay(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return run_micropython(
        str(REPLAY), *args, path=[FIRMWARE], heapsize="2m", timeout=timeout, cwd=TESTS.parent
    )


# --- the cases -----------------------------------------------------------------------------


def case(name: str, *args: bytes) -> list[str]:
    return [name, *(a.hex() for a in args)]


def ok(out: bytes) -> str:
    return "ok " + out.hex()


def pick(r: random.Random, vectors):
    # Some valid cases and some that are not, in file order.
    valid = [v for v in vectors if v.result == "valid"]
    other = [v for v in vectors if v.result != "valid"]
    chosen = r.sample(valid, PER_KIND) + r.sample(other, min(PER_KIND, len(other)))
    return sorted(chosen, key=lambda v: v.tc_id)


def wycheproof_cases(r: random.Random):
    for v in pick(r, wycheproof.load("x25519")):
        zero = v.data["shared"] == "00" * 32
        expect = ANY_VALUE_ERROR if zero else ok(v.hex("shared"))
        yield case("x25519", v.hex("private"), v.hex("public")), expect

    for v in pick(r, wycheproof.load("ecdh_secp256r1_ecpoint")):
        priv, pub = int.from_bytes(v.hex("private"), "big").to_bytes(32, "big"), v.hex("public")
        expect = ok(v.hex("shared")) if v.result == "valid" else ANY_VALUE_ERROR
        yield case("p256_ecdh", priv, pub), expect
        if len(pub) == 33:
            if v.result == "acceptable":
                point = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), pub)
                full = point.public_bytes(ser.Encoding.X962, ser.PublicFormat.UncompressedPoint)
                yield case("p256_decompress", pub), ok(full)
            else:
                yield case("p256_decompress", pub), ANY_VALUE_ERROR

    for v in pick(r, wycheproof.load("ecdsa_secp256r1_sha256_p1363")):
        pub = bytes.fromhex(v.group["publicKey"]["uncompressed"])
        sig = v.hex("sig")
        # A signature of the wrong length is a ValueError, not False.
        expect = ANY_VALUE_ERROR if len(sig) != 64 else str(v.result == "valid")
        yield case("p256_verify", pub, hashlib.sha256(v.hex("msg")).digest(), sig), expect


def uncompressed(key) -> bytes:
    return key.public_bytes(ser.Encoding.X962, ser.PublicFormat.UncompressedPoint)


def random_cases(r: random.Random):
    prehashed = ec.ECDSA(utils.Prehashed(hashes.SHA256()))
    for _ in range(RANDOM):
        a, u = r.randbytes(32), r.randbytes(32)
        x_key = X25519PrivateKey.from_private_bytes(a)
        yield case("x25519", a, u), ok(x_key.exchange(X25519PublicKey.from_public_bytes(u)))
        yield case("x25519_base", a), ok(x_key.public_key().public_bytes_raw())

        d, e, k = r.randrange(1, N), r.randrange(1, N), r.randrange(1, N)
        priv, key = d.to_bytes(32, "big"), ec.derive_private_key(d, ec.SECP256R1())
        pub = uncompressed(key.public_key())
        peer = ec.derive_private_key(e, ec.SECP256R1()).public_key()
        digest = r.randbytes(32)
        yield case("p256_public", priv), ok(pub)
        yield case("p256_ecdh", priv, uncompressed(peer)), ok(key.exchange(ec.ECDH(), peer))
        rr, ss = utils.decode_dss_signature(key.sign(digest, prehashed))
        sig = rr.to_bytes(32, "big") + ss.to_bytes(32, "big")
        yield case("p256_verify", pub, digest, sig), "True"
        yield case("p256_verify", pub, bytes(32), sig), "False"
        # Checked against cryptography's verifier below rather than an expected line.
        yield case("p256_sign", priv, digest), None
        kd = (k * d % N).to_bytes(32, "big")
        kd_pub = uncompressed(ec.derive_private_key(k * d % N, ec.SECP256R1()).public_key())
        yield case("p256_scalar_mul", k.to_bytes(32, "big"), priv), ok(kd)
        yield case("p256_point_mul", k.to_bytes(32, "big"), pub), ok(kd_pub)
        short = key.public_key().public_bytes(ser.Encoding.X962, ser.PublicFormat.CompressedPoint)
        yield case("p256_compress", pub), ok(short)
        yield case("p256_decompress", short), ok(pub)


def error_cases():
    k, u = (0x1234).to_bytes(32, "big"), bytes(range(1, 33))
    pub = uncompressed(ec.derive_private_key(0x1234, ec.SECP256R1()).public_key())
    off_curve = pub[:-1] + bytes([pub[-1] ^ 1])
    for args in (
        ("x25519", u[:31], u),
        ("x25519", u, bytes(32)),
        ("x25519_base", b""),
        ("p256_public", bytes(32)),
        ("p256_public", N.to_bytes(32, "big")),
        ("p256_ecdh", k, pub[1:]),
        ("p256_ecdh", k, b"\x02" + pub[1:]),
        ("p256_ecdh", k, off_curve),
        ("p256_ecdh", k, pub[:33] + b"\xff" * 32),
        ("p256_sign", k, u[:20]),
        ("p256_verify", pub, u, bytes(63)),
        ("p256_scalar_mul", bytes(32), k),
        ("p256_point_mul", k, off_curve),
        ("p256_compress", off_curve),
        ("p256_decompress", b"\x04" + pub[1:33]),
    ):
        yield case(*args), ANY_VALUE_ERROR
    # Out-of-range signatures are False, not errors.
    yield case("p256_verify", pub, u, bytes(64)), "False"
    yield case("p256_verify", pub, u, b"\xff" * 64), "False"


def all_cases():
    r = random.Random(SEED)
    return [*wycheproof_cases(r), *random_cases(r), *error_cases()]


# --- running them --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def replayed(tmp_path_factory):
    cases = all_cases()
    path = tmp_path_factory.mktemp("ecc") / "cases.json"
    path.write_text(json.dumps([c for c, _ in cases]))
    proc = run_replay(str(path), timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr
    lines = proc.stdout.splitlines()
    cpython = [replay.result(c[0], c[1:]) for c, _ in cases]
    return cases, lines, cpython


def test_loader_falls_back_on_micropython(replayed):
    _, lines, _ = replayed
    assert lines[0] == "native False"


def test_micropython_lines_match_cpython(replayed):
    cases, lines, cpython = replayed
    assert len(lines) == len(cases) + 1
    for i, (c, mp, cp) in enumerate(zip(cases, lines[1:], cpython, strict=True)):
        assert mp == cp, f"case {i} {c[0]}: micropython {mp!r} != cpython {cp!r}"


def test_results_are_expected(replayed):
    cases, _, cpython = replayed
    for i, ((c, expect), line) in enumerate(zip(cases, cpython, strict=True)):
        if expect == ANY_VALUE_ERROR:
            assert line.startswith("ValueError "), f"case {i} {c}: {line}"
        elif expect is not None:
            assert line == expect, f"case {i} {c}: {line}"


def test_signatures_verify_with_cryptography(replayed):
    cases, lines, _ = replayed
    # The random signing cases, the ones with no expected line.
    signed = [(c, line) for (c, e), line in zip(cases, lines[1:], strict=True) if e is None]
    assert [c[0] for c, _ in signed] == ["p256_sign"] * RANDOM
    for (_, priv, digest), line in signed:
        sig = bytes.fromhex(line.removeprefix("ok "))
        key = ec.derive_private_key(int(priv, 16), ec.SECP256R1()).public_key()
        rr, ss = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")
        der = utils.encode_dss_signature(rr, ss)
        key.verify(der, bytes.fromhex(digest), ec.ECDSA(utils.Prehashed(hashes.SHA256())))


def test_bench_runs_on_micropython():
    proc = run_replay("--bench", "1", timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    names = [line.split()[0] for line in proc.stdout.splitlines()]
    assert names[:6] == ["x25519", "x25519_base", "p256_public", "p256_ecdh", "p256_sign",
                         "p256_verify"]  # fmt: skip


# --- what the ESP8266 build lacks ----------------------------------------------------------


def calls(tree: ast.AST, name: str):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == name:
            yield node


def test_no_three_argument_pow():
    tree = ast.parse(SOURCE.read_text())
    bad = [node.lineno for node in calls(tree, "pow") if len(node.args) + len(node.keywords) >= 3]
    assert bad == [], f"pow() with a modulus at lines {bad}: the ESP8266 build has none"


def test_no_hmac_bit_length_or_fstrings():
    source = SOURCE.read_text()
    tree = ast.parse(source)
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in (node.names if isinstance(node, ast.Import) else [ast.alias(node.module)])
    }
    assert imported <= {"hashlib", "micropython"}, imported
    assert not any(isinstance(node, ast.JoinedStr) for node in ast.walk(tree))
    assert not any(
        isinstance(node, ast.Attribute) and node.attr == "bit_length" for node in ast.walk(tree)
    )
