"""nodefw.ecc_pure, the pure-Python fallback of the native ecc module (CPython).

Differential tests against `cryptography` on seeded random inputs (how many
per operation: env ECC_PURE_CASES, default 100), the published RFC 6979 and
RFC 7748 vectors, every Wycheproof vector for X25519, P-256 ECDH and P-256
ECDSA, and the error paths. tests/test_ecc_pure_micropython.py runs a subset
on the MicroPython unix port.

Our choices where Wycheproof says "acceptable":
- X25519 with a small-order public value gives an all-zero secret: we raise
  ValueError, as the native module does (RFC 7748 section 6.1 allows the
  check). Other acceptable X25519 inputs (twist points, non-canonical u) are
  computed as the RFC says and must give Wycheproof's result.
- ECDH with a compressed public key: p256_ecdh takes only the 65-byte form and
  raises ValueError; p256_decompress then p256_ecdh gives the shared secret.
- ECDSA signatures that are not 64 bytes: ValueError (a bad length), not False.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib.util
import os
import random
import sys

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization as ser
from cryptography.hazmat.primitives.asymmetric import ec, utils
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from homeca.testing import wycheproof
from nodefw import ecc, ecc_pure

CASES = int(os.environ.get("ECC_PURE_CASES", "100"))
SEED = 0x5EED_ECC

# P-256 (SEC 2), typed here rather than taken from the module under test.
P = 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF
N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
B = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B
G = bytes.fromhex(
    "046b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"
    "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5"
)
PREHASHED = ec.ECDSA(utils.Prehashed(hashes.SHA256()))


def rng(name: str) -> random.Random:
    # One stream per test, so adding a test does not change the others' inputs.
    return random.Random(f"{SEED}-{name}")


def b32(x: int) -> bytes:
    return x.to_bytes(32, "big")


def crypto_key(d: int) -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(d, ec.SECP256R1())


def encoded(key: ec.EllipticCurvePublicKey, fmt=ser.PublicFormat.UncompressedPoint) -> bytes:
    return key.public_bytes(ser.Encoding.X962, fmt)


def scalars(r: random.Random) -> list[int]:
    # Random scalars plus the edges of [1, n-1].
    return [1, 2, 3, N - 1, N - 2] + [r.randrange(1, N) for _ in range(CASES)]


def split(sig: bytes) -> tuple[int, int]:
    return int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")


def joined(r: int, s: int) -> bytes:
    return b32(r) + b32(s)


# --- the loader ------------------------------------------------------------------------


API = [
    "x25519",
    "x25519_base",
    "p256_public",
    "p256_ecdh",
    "p256_sign",
    "p256_verify",
    "p256_scalar_mul",
    "p256_point_mul",
    "p256_compress",
    "p256_decompress",
]


def test_loader_falls_back_on_the_host():
    # No top-level `ecc` on the host: the loader must pick the pure module.
    assert importlib.util.find_spec("ecc") is None
    assert ecc.NATIVE is False
    for name in API:
        assert getattr(ecc, name) is getattr(ecc_pure, name), name


@pytest.fixture
def top_level_ecc(tmp_path, monkeypatch):
    # A directory on sys.path where a test can put a top-level ecc.py.
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path / "ecc.py"
    sys.modules.pop("ecc", None)


def fresh_loader():
    # nodefw/ecc.py executed again under another name, leaving nodefw.ecc alone.
    spec = importlib.util.spec_from_file_location("loader_under_test", ecc.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_loader_prefers_the_native_module(top_level_ecc):
    top_level_ecc.write_text("".join(f"def {name}(*args):\n    return 'native'\n" for name in API))
    loader = fresh_loader()
    assert loader.NATIVE is True
    for name in API:
        assert getattr(loader, name)() == "native", name


def test_loader_ignores_a_top_level_ecc_without_the_api(top_level_ecc):
    top_level_ecc.write_text("x25519 = None\n")
    loader = fresh_loader()
    assert loader.NATIVE is False
    assert loader.p256_sign is ecc_pure.p256_sign


# --- differential tests against cryptography ---------------------------------------------


def test_x25519_matches_cryptography():
    r = rng("x25519")
    for i in range(CASES):
        scalar, u = r.randbytes(32), r.randbytes(32)
        ours = ecc_pure.x25519(scalar, u)
        key = X25519PrivateKey.from_private_bytes(scalar)
        assert ours == key.exchange(X25519PublicKey.from_public_bytes(u)), i
        assert ecc_pure.x25519_base(scalar) == key.public_key().public_bytes_raw(), i


def test_x25519_agreement():
    r = rng("x25519-agree")
    for i in range(CASES // 4):
        a, b = r.randbytes(32), r.randbytes(32)
        ab = ecc_pure.x25519(a, ecc_pure.x25519_base(b))
        assert ab == ecc_pure.x25519(b, ecc_pure.x25519_base(a)), i


def test_p256_public_matches_cryptography():
    for d in scalars(rng("public")):
        assert ecc_pure.p256_public(b32(d)) == encoded(crypto_key(d).public_key()), hex(d)


def test_p256_public_edges():
    assert ecc_pure.p256_public(b32(1)) == G
    # (n-1)G = -G: same x, y negated.
    minus_g = ecc_pure.p256_public(b32(N - 1))
    assert minus_g[:33] == G[:33]
    assert int.from_bytes(minus_g[33:], "big") == P - int.from_bytes(G[33:], "big")


def test_p256_ecdh_matches_cryptography():
    r = rng("ecdh")
    for d in scalars(r):
        peer = crypto_key(r.randrange(1, N)).public_key()
        expected = crypto_key(d).exchange(ec.ECDH(), peer)
        assert ecc_pure.p256_ecdh(b32(d), encoded(peer)) == expected, hex(d)


def test_p256_sign_is_verified_by_cryptography():
    r = rng("sign")
    for d in scalars(r):
        digest = r.randbytes(32)
        sig = ecc_pure.p256_sign(b32(d), digest)
        assert len(sig) == 64
        assert sig == ecc_pure.p256_sign(b32(d), digest)  # deterministic
        der = utils.encode_dss_signature(*split(sig))
        crypto_key(d).public_key().verify(der, digest, PREHASHED)  # raises if invalid


def deterministic_ecdsa():
    try:
        algorithm = ec.ECDSA(utils.Prehashed(hashes.SHA256()), deterministic_signing=True)
        crypto_key(1).sign(bytes(32), algorithm)
    except Exception as e:  # older cryptography or OpenSSL < 3.2: a broken setup
        pytest.fail(f"cryptography lacks deterministic ECDSA (pyproject needs >= 44): {e}")
    return algorithm


def test_p256_sign_equals_cryptography_rfc6979():
    algorithm = deterministic_ecdsa()
    r = rng("sign-rfc6979")
    # Digests >= n, where bits2octets has to reduce h1 mod n, then random ones.
    edges = [b32(0), b32(N - 1), b32(N), b32(N + 1), b"\xff" * 32]
    for d, digest in zip(scalars(r), edges + [r.randbytes(32) for _ in range(CASES)], strict=True):
        theirs = crypto_key(d).sign(digest, algorithm)
        assert ecc_pure.p256_sign(b32(d), digest) == joined(*utils.decode_dss_signature(theirs))


def test_p256_verify_matches_cryptography():
    r = rng("verify")
    for i in range(CASES):
        key = crypto_key(r.randrange(1, N))
        pub = encoded(key.public_key())
        digest = r.randbytes(32)
        rr, ss = utils.decode_dss_signature(key.sign(digest, PREHASHED))
        assert ecc_pure.p256_verify(pub, digest, joined(rr, ss)), i
        # No low-S rule: (r, n - s) is just as valid.
        assert ecc_pure.p256_verify(pub, digest, joined(rr, N - ss)), i
        flipped = bytes([digest[0] ^ 1]) + digest[1:]
        assert not ecc_pure.p256_verify(pub, flipped, joined(rr, ss)), i
        assert not ecc_pure.p256_verify(pub, digest, joined(rr ^ 1, ss)), i
        assert not ecc_pure.p256_verify(pub, digest, joined(rr, ss ^ 1)), i
        other = encoded(crypto_key(r.randrange(1, N)).public_key())
        assert not ecc_pure.p256_verify(other, digest, joined(rr, ss)), i


def test_p256_verify_out_of_range_r_s_is_false():
    d = 0x1234
    pub, digest = ecc_pure.p256_public(b32(d)), bytes(range(32))
    rr, ss = split(ecc_pure.p256_sign(b32(d), digest))
    assert ecc_pure.p256_verify(pub, digest, joined(rr, ss))
    for bad_r, bad_s in ((0, ss), (rr, 0), (N, ss), (rr, N), (rr + N, ss), (rr, ss + N)):
        if bad_r < 1 << 256 and bad_s < 1 << 256:
            assert ecc_pure.p256_verify(pub, digest, joined(bad_r, bad_s)) is False
    assert ecc_pure.p256_verify(pub, digest, b"\xff" * 64) is False
    assert ecc_pure.p256_verify(pub, digest, bytes(64)) is False


def test_scalar_mul_and_point_mul_agree():
    r = rng("keyupdate")
    for d in scalars(r):
        k = r.randrange(1, N)
        product = ecc_pure.p256_scalar_mul(b32(k), b32(d))
        assert product == b32(k * d % N)
        pub = ecc_pure.p256_public(b32(d))
        assert ecc_pure.p256_public(product) == ecc_pure.p256_point_mul(b32(k), pub), hex(d)
    # k = n-1 negates the point; the product wraps mod n.
    assert ecc_pure.p256_point_mul(b32(N - 1), G) == ecc_pure.p256_public(b32(N - 1))
    assert ecc_pure.p256_scalar_mul(b32(N - 1), b32(N - 1)) == b32(1)


def test_point_mul_matches_cryptography_ecdh():
    # ECDH is the x-coordinate of the same product.
    r = rng("pointmul")
    for i in range(CASES // 4):
        k, d = r.randrange(1, N), r.randrange(1, N)
        pub = encoded(crypto_key(d).public_key())
        assert ecc_pure.p256_point_mul(b32(k), pub)[1:33] == ecc_pure.p256_ecdh(b32(k), pub), i
        assert ecc_pure.p256_point_mul(b32(k), pub) == encoded(crypto_key(k * d % N).public_key())


def test_compress_decompress_match_cryptography():
    for d in scalars(rng("compress")):
        key = crypto_key(d).public_key()
        full, short = encoded(key), encoded(key, ser.PublicFormat.CompressedPoint)
        assert ecc_pure.p256_compress(full) == short, hex(d)
        assert ecc_pure.p256_decompress(short) == full, hex(d)


def nonresidue_xs(r: random.Random, count: int) -> list[int]:
    # x whose x^3 - 3x + b is not a square mod p (Euler's criterion): no point.
    found = []
    while len(found) < count:
        x = r.randrange(P)
        if pow((x**3 - 3 * x + B) % P, (P - 1) // 2, P) == P - 1:
            found.append(x)
    return found


def test_decompress_rejects_x_without_square_root():
    for x in nonresidue_xs(rng("nonresidue"), max(CASES // 4, 5)):
        for prefix in (b"\x02", b"\x03"):
            with pytest.raises(ValueError, match="not on the curve"):
                ecc_pure.p256_decompress(prefix + b32(x))


# --- published vectors --------------------------------------------------------------------


def test_rfc6979_p256_sha256():
    # RFC 6979 appendix A.2.5: the P-256 key, SHA-256, messages "sample" and "test".
    priv = bytes.fromhex("C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721")
    pub = bytes.fromhex(
        "04"
        "60FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6"
        "7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299"
    )
    published = {
        b"sample": (
            "EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716",
            "F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8",
        ),
        b"test": (
            "F1ABB023518351CD71D881567B1EA663ED3EFCF6C5132B354F28D3B0B7D38367",
            "019F4113742A2B14BD25926B49C649155F267E60D3814B4C0CC84250E46F0083",
        ),
    }
    assert ecc_pure.p256_public(priv) == pub
    for message, (rr, ss) in published.items():
        digest = hashlib.sha256(message).digest()
        sig = bytes.fromhex(rr + ss)
        assert ecc_pure.p256_sign(priv, digest) == sig, message
        assert ecc_pure.p256_verify(pub, digest, sig), message


def test_rfc7748_section_5_2():
    vectors = (
        (
            "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
            "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
            "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552",
        ),
        (
            "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
            "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
            "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957",
        ),
    )
    for scalar, u, out in vectors:
        assert ecc_pure.x25519(bytes.fromhex(scalar), bytes.fromhex(u)).hex() == out


def test_rfc7748_iterated():
    # k = u = 9, then (k, u) = (X25519(k, u), k); after 1 and 1000 iterations.
    k = u = (9).to_bytes(32, "little")
    after = {
        1: "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079",
        1000: "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51",
    }
    for i in range(1, 1001):
        k, u = ecc_pure.x25519(k, u), k
        if i in after:
            assert k.hex() == after[i], i


def test_rfc7748_section_6_1():
    alice = bytes.fromhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
    bob = bytes.fromhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb")
    alice_pub = ecc_pure.x25519_base(alice)
    bob_pub = ecc_pure.x25519_base(bob)
    assert alice_pub.hex() == "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
    assert bob_pub.hex() == "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"
    shared = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"
    assert ecc_pure.x25519(alice, bob_pub).hex() == shared
    assert ecc_pure.x25519(bob, alice_pub).hex() == shared


# --- Wycheproof --------------------------------------------------------------------------


def by_id(vectors):
    return pytest.mark.parametrize("v", vectors, ids=[f"tc{v.tc_id}" for v in vectors])


@by_id(wycheproof.load("x25519"))
def test_wycheproof_x25519(v):
    assert v.result in ("valid", "acceptable")  # the file has no invalid X25519 case
    if v.data["shared"] == "00" * 32:
        with pytest.raises(ValueError, match="all zero"):
            ecc_pure.x25519(v.hex("private"), v.hex("public"))
    else:
        assert ecc_pure.x25519(v.hex("private"), v.hex("public")) == v.hex("shared")


@by_id(wycheproof.load("ecdh_secp256r1_ecpoint"))
def test_wycheproof_ecdh(v):
    # Private keys are DER-style integers (leading zero byte, or shorter).
    d = int.from_bytes(v.hex("private"), "big")
    assert 0 < d < N
    priv, pub = b32(d), v.hex("public")
    if v.result == "valid":
        assert ecc_pure.p256_ecdh(priv, pub) == v.hex("shared")
        return
    with pytest.raises(ValueError):
        ecc_pure.p256_ecdh(priv, pub)
    if len(pub) == 33 and v.result == "acceptable":
        assert ecc_pure.p256_ecdh(priv, ecc_pure.p256_decompress(pub)) == v.hex("shared")
    elif len(pub) == 33:
        with pytest.raises(ValueError):
            ecc_pure.p256_decompress(pub)


@by_id(wycheproof.load("ecdsa_secp256r1_sha256_p1363"))
def test_wycheproof_ecdsa(v):
    assert v.result in ("valid", "invalid")
    pub = bytes.fromhex(v.group["publicKey"]["uncompressed"])
    digest = hashlib.sha256(v.hex("msg")).digest()
    sig = v.hex("sig")
    if len(sig) != 64:
        assert v.result == "invalid"
        with pytest.raises(ValueError, match="signature must be 64 bytes"):
            ecc_pure.p256_verify(pub, digest, sig)
    else:
        assert ecc_pure.p256_verify(pub, digest, sig) is (v.result == "valid")


# --- error paths -------------------------------------------------------------------------

K = b32(0x1234)
PUB = ecc_pure.p256_public(K)
U = bytes(range(1, 33))
OFF_CURVE = PUB[:-1] + bytes([PUB[-1] ^ 1])
# Coordinates are range-checked before the curve equation, so any value >= p will do.
X_TOO_BIG = b"\x04" + b32(P) + PUB[33:]
Y_TOO_BIG = PUB[:33] + b"\xff" * 32


def small_x_point() -> tuple[int, int]:
    # A real point with x < 2^256 - p, so x + p still fits in 32 bytes.
    x = 0
    while pow((x**3 - 3 * x + B) % P, (P - 1) // 2, P) != 1:
        x += 1
    return x, pow((x**3 - 3 * x + B) % P, (P + 1) // 4, P)


SMALL = small_x_point()
# The same point with x written as x + p: on the curve mod p, but not canonical.
NON_CANONICAL_X = b"\x04" + b32(SMALL[0] + P) + b32(SMALL[1])

SCALAR_RANGE = r"must be in \[1, n-1\]"
ERRORS = [
    ("x25519 short scalar", ecc_pure.x25519, (U[:31], U), "X25519 scalar must be 32 bytes"),
    ("x25519 long u", ecc_pure.x25519, (U, U + b"\x00"), "u-coordinate must be 32 bytes"),
    ("x25519 u=0", ecc_pure.x25519, (U, bytes(32)), "all zero"),
    ("x25519 u=1", ecc_pure.x25519, (U, (1).to_bytes(32, "little")), "all zero"),
    ("x25519 u=p", ecc_pure.x25519, (U, ((1 << 255) - 19).to_bytes(32, "little")), "all zero"),
    ("x25519_base empty", ecc_pure.x25519_base, (b"",), "X25519 scalar must be 32 bytes"),
    ("public zero", ecc_pure.p256_public, (bytes(32),), "private key " + SCALAR_RANGE),
    ("public n", ecc_pure.p256_public, (b32(N),), "private key " + SCALAR_RANGE),
    ("public ff", ecc_pure.p256_public, (b"\xff" * 32,), "private key " + SCALAR_RANGE),
    ("public 33 bytes", ecc_pure.p256_public, (b"\x00" + K,), "private key must be 32 bytes"),
    ("ecdh zero key", ecc_pure.p256_ecdh, (bytes(32), PUB), "private key " + SCALAR_RANGE),
    ("ecdh 64-byte pub", ecc_pure.p256_ecdh, (K, PUB[1:]), "public key must be 65 bytes"),
    ("ecdh prefix 02", ecc_pure.p256_ecdh, (K, b"\x02" + PUB[1:]), "must start with 0x04"),
    ("ecdh infinity", ecc_pure.p256_ecdh, (K, b"\x00"), "public key must be 65 bytes"),
    ("ecdh zero point", ecc_pure.p256_ecdh, (K, b"\x04" + bytes(64)), "not on the curve"),
    ("ecdh off curve", ecc_pure.p256_ecdh, (K, OFF_CURVE), "not on the curve"),
    ("ecdh x >= p", ecc_pure.p256_ecdh, (K, X_TOO_BIG), "not below p"),
    ("ecdh y >= p", ecc_pure.p256_ecdh, (K, Y_TOO_BIG), "not below p"),
    ("ecdh x + p", ecc_pure.p256_ecdh, (K, NON_CANONICAL_X), "not below p"),
    ("decompress x + p", ecc_pure.p256_decompress, (b"\x02" + b32(SMALL[0] + P),), "not below p"),
    ("sign zero key", ecc_pure.p256_sign, (bytes(32), U), "private key " + SCALAR_RANGE),
    ("sign short digest", ecc_pure.p256_sign, (K, U[:20]), "digest must be 32 bytes"),
    ("verify bad pub", ecc_pure.p256_verify, (OFF_CURVE, U, bytes(64)), "not on the curve"),
    ("verify long digest", ecc_pure.p256_verify, (PUB, U + U, bytes(64)), "digest must be"),
    ("verify short sig", ecc_pure.p256_verify, (PUB, U, bytes(63)), "signature must be 64"),
    ("verify DER sig", ecc_pure.p256_verify, (PUB, U, bytes(70)), "signature must be 64"),
    ("scalar_mul k=0", ecc_pure.p256_scalar_mul, (bytes(32), K), "scalar k " + SCALAR_RANGE),
    ("scalar_mul k=n", ecc_pure.p256_scalar_mul, (b32(N), K), "scalar k " + SCALAR_RANGE),
    ("scalar_mul priv=0", ecc_pure.p256_scalar_mul, (K, bytes(32)), "private key " + SCALAR_RANGE),
    ("scalar_mul short", ecc_pure.p256_scalar_mul, (K[1:], K), "scalar k must be 32 bytes"),
    ("point_mul k=0", ecc_pure.p256_point_mul, (bytes(32), PUB), "scalar k " + SCALAR_RANGE),
    ("point_mul bad pub", ecc_pure.p256_point_mul, (K, OFF_CURVE), "not on the curve"),
    ("compress bad pub", ecc_pure.p256_compress, (OFF_CURVE,), "not on the curve"),
    ("compress short", ecc_pure.p256_compress, (PUB[:33],), "public key must be 65 bytes"),
    ("decompress 65", ecc_pure.p256_decompress, (PUB,), "compressed public key must be 33"),
    ("decompress prefix", ecc_pure.p256_decompress, (b"\x04" + PUB[1:33],), "0x02 or 0x03"),
    ("decompress x=p", ecc_pure.p256_decompress, (b"\x02" + b32(P),), "not below p"),
]


@pytest.mark.parametrize(
    ("func", "args", "message"), [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS]
)
def test_error_paths(func, args, message):
    with pytest.raises(ValueError, match=message):
        func(*args)


def test_inputs_as_bytearray_and_memoryview():
    digest = bytes(range(32))
    sig = ecc_pure.p256_sign(K, digest)
    for wrap in (bytearray, memoryview):
        assert ecc_pure.p256_public(wrap(K)) == PUB
        assert ecc_pure.p256_sign(wrap(K), wrap(digest)) == sig
        assert ecc_pure.p256_verify(wrap(PUB), wrap(digest), wrap(sig))
        assert ecc_pure.p256_decompress(wrap(ecc_pure.p256_compress(wrap(PUB)))) == PUB
        assert ecc_pure.x25519(wrap(U), wrap(U)) == ecc_pure.x25519(U, U)


# --- internals worth pinning down ----------------------------------------------------------


def test_hmac_sha256_matches_hmac_module():
    r = rng("hmac")
    for size in (0, 1, 32, 63, 64, 65, 200):
        key, msg = r.randbytes(size), r.randbytes(size * 3 + 1)
        assert ecc_pure._hmac_sha256(key, msg) == hmac.digest(key, msg, "sha256"), size


def test_pow_mod_and_inverse():
    r = rng("pow")
    for m in (P, N, (1 << 255) - 19, 97):
        for _ in range(20):
            a, e = r.randrange(1, m), r.randrange(1 << 260)
            assert ecc_pure._pow_mod(a, e, m) == pow(a, e, m)
            assert ecc_pure._inv(a, m) * a % m == 1
