"""X25519 and P-256 in pure Python: the fallback for the native `ecc` module.

Same API as the C module (firmware/cmodules/ecc/core/ecc.h and its binding):
bytes in, bytes out, ValueError on bad lengths, invalid points, zero or
out-of-range scalars and failed validation. Firmware imports it through
nodefw.ecc, which prefers the native module when the build has it.

Runs on CPython and MicroPython alike, including the ESP8266 build, so it does
without what that build lacks: three-argument pow(), the hmac module and
int.bit_length(). Modular exponentiation and HMAC-SHA256 are written out below.
Nothing is precomputed beyond the curve constants, to keep RAM small.

Side channels: every scalar loop runs a fixed number of steps (256 bits for
P-256, the 255 bits of a clamped scalar for X25519) and does the same point
operations for every bit. That is as far as pure Python goes: big-int
arithmetic takes time that depends on the values, and point addition branches
on its special cases (e.g. while the accumulator is still the point at
infinity). This code is not constant-time and cannot be made so; the native
module is.
"""

from hashlib import sha256

try:
    from micropython import const
except ImportError:  # CPython

    def const(x):
        return x


_A24 = const(121665)  # (486662 - 2) / 4, RFC 7748 section 5

# Curve25519: field prime, and the mask that clamps a scalar (clears bits 0-2
# and 255; bit 254 is set separately).
_P25519 = (1 << 255) - 19
_CLAMP = (1 << 255) - 8
_U_MASK = (1 << 255) - 1

# P-256 (SEC 2 secp256r1): y^2 = x^3 - 3x + b over GF(p), base point G of prime
# order n, cofactor 1.
_P = 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF
_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_B = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B
_GX = 0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296
_GY = 0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5


# --- arithmetic ------------------------------------------------------------------


def _pow_mod(b, e, m):
    # Right-to-left square and multiply. The exponents used here are public
    # constants (m - 2 and (p + 1) / 4), so the branch leaks nothing secret.
    r = 1
    b %= m
    while e:
        if e & 1:
            r = r * b % m
        b = b * b % m
        e >>= 1
    return r


def _inv(a, m):
    # Fermat: a^(m-2) is 1/a for prime m (p, n and 2^255 - 19 all are). The
    # same sequence of operations for every a, unlike Euclid's algorithm.
    return _pow_mod(a, m - 2, m)


def _check_len(data, size, what):
    if len(data) != size:
        raise ValueError(what + " must be " + str(size) + " bytes, not " + str(len(data)))


# --- X25519 (RFC 7748) -----------------------------------------------------------


def _clamp(scalar):
    _check_len(scalar, 32, "X25519 scalar")
    return (int.from_bytes(scalar, "little") & _CLAMP) | (1 << 254)


def _ladder(k, u):
    # RFC 7748 section 5: Montgomery ladder on the u-coordinate, over bits 254
    # down to 0 (bit 255 of a clamped scalar is always 0): a fixed 255 steps.
    p = _P25519
    x1 = u
    x2, z2, x3, z3 = 1, 0, u, 1
    swap = 0
    for t in range(254, -1, -1):
        bit = (k >> t) & 1
        swap ^= bit
        # The RFC's arithmetic conditional swap, rather than a branch.
        m = (x2 ^ x3) * swap
        x2 ^= m
        x3 ^= m
        m = (z2 ^ z3) * swap
        z2 ^= m
        z3 ^= m
        swap = bit
        a = x2 + z2
        aa = a * a % p
        b = x2 - z2
        bb = b * b % p
        e = aa - bb
        da = (x3 - z3) * a % p
        cb = (x3 + z3) * b % p
        x3 = (da + cb) * (da + cb) % p
        z3 = x1 * ((da - cb) * (da - cb) % p) % p
        x2 = aa * bb % p
        z2 = e * (aa + _A24 * e) % p
    m = (x2 ^ x3) * swap
    x2 ^= m
    m = (z2 ^ z3) * swap
    z2 ^= m
    # z2 = 0 (small-order u) gives 0, as the RFC's x2 * z2^(p-2) does.
    return x2 * _inv(z2, p) % p


def x25519(scalar, u):
    """RFC 7748 X25519: the shared secret of scalar (clamped) and the peer's u."""
    k = _clamp(scalar)
    _check_len(u, 32, "X25519 u-coordinate")
    # Mask bit 255 and accept non-canonical u (>= p) by reducing it (RFC 7748).
    u = (int.from_bytes(u, "little") & _U_MASK) % _P25519
    shared = _ladder(k, u)
    if shared == 0:
        raise ValueError("X25519 shared secret is all zero (small-order u-coordinate)")
    return shared.to_bytes(32, "little")


def x25519_base(scalar):
    """The X25519 public key of scalar: scalar times the base point u = 9."""
    return _ladder(_clamp(scalar), 9).to_bytes(32, "little")


# --- P-256 points in Jacobian coordinates -------------------------------------------
# (X, Y, Z) stands for the affine point (X/Z^2, Y/Z^3); Z = 0 is the point at
# infinity. Every value is kept reduced mod p.

_INFINITY = (1, 1, 0)


def _jdouble(x, y, z):
    # dbl-2001-b, for a = -3. Doubling infinity (z = 0) gives z = 0 again, and
    # y = 0 cannot occur: the group has odd order.
    p = _P
    delta = z * z % p
    gamma = y * y % p
    beta = x * gamma % p
    alpha = 3 * (x - delta) * (x + delta) % p
    x3 = (alpha * alpha - 8 * beta) % p
    z3 = ((y + z) * (y + z) - gamma - delta) % p
    y3 = (alpha * (4 * beta - x3) - 8 * (gamma * gamma % p)) % p
    return x3, y3, z3


def _jadd_affine(x1, y1, z1, x2, y2):
    # Jacobian (x1, y1, z1) plus affine (x2, y2), with the special cases the
    # formula does not cover: infinity, equal points and opposite points.
    p = _P
    if z1 == 0:
        return x2, y2, 1
    zz = z1 * z1 % p
    h = (x2 * zz - x1) % p
    r = (y2 * zz % p * z1 - y1) % p
    if h == 0:
        if r == 0:
            return _jdouble(x1, y1, z1)
        return _INFINITY
    hh = h * h % p
    hhh = h * hh % p
    v = x1 * hh % p
    x3 = (r * r - hhh - 2 * v) % p
    y3 = (r * (v - x3) - y1 * hhh) % p
    return x3, y3, z1 * h % p


def _mul(k, x, y):
    # k * (x, y) by double-and-add-always over all 256 bits, most significant
    # first: the addition is computed for every bit and kept only for ones.
    rx, ry, rz = _INFINITY
    for i in range(255, -1, -1):
        rx, ry, rz = _jdouble(rx, ry, rz)
        tx, ty, tz = _jadd_affine(rx, ry, rz, x, y)
        if (k >> i) & 1:
            rx, ry, rz = tx, ty, tz
    return rx, ry, rz


def _mul2(a, b, qx, qy):
    # a*G + b*Q for verification. All of it is public, so Shamir's trick may
    # skip additions: one shared chain of doublings, adding G, Q or G+Q.
    gq = _jadd_affine(_GX, _GY, 1, qx, qy)
    table = (None, (_GX, _GY), (qx, qy), None if gq[2] == 0 else _affine(*gq))
    rx, ry, rz = _INFINITY
    for i in range(255, -1, -1):
        rx, ry, rz = _jdouble(rx, ry, rz)
        pt = table[((a >> i) & 1) | (((b >> i) & 1) << 1)]
        if pt is not None:
            rx, ry, rz = _jadd_affine(rx, ry, rz, pt[0], pt[1])
    return rx, ry, rz


def _affine(x, y, z):
    if z == 0:
        # Unreachable for valid inputs (prime order, scalars in [1, n-1]), but
        # never encode infinity as if it were a point.
        raise ValueError("result is the point at infinity")
    p = _P
    zi = _inv(z, p)
    zi2 = zi * zi % p
    return x * zi2 % p, y * zi2 % p * zi % p


def _rhs(x):
    # x^3 - 3x + b: y^2 for a point on the curve.
    p = _P
    return (x * x % p * x - 3 * x + _B) % p


def _encode(x, y):
    return b"\x04" + x.to_bytes(32, "big") + y.to_bytes(32, "big")


def _decode_public(pub):
    # Full validation: length, uncompressed prefix, coordinates below p, on the
    # curve. Cofactor 1, so that is all a point needs; infinity has no encoding.
    _check_len(pub, 65, "public key")
    if pub[0] != 4:
        raise ValueError("public key must start with 0x04 (uncompressed)")
    x = int.from_bytes(pub[1:33], "big")
    y = int.from_bytes(pub[33:65], "big")
    if x >= _P or y >= _P:
        raise ValueError("public key coordinate is not below p")
    if y * y % _P != _rhs(x):
        raise ValueError("public key is not on the curve")
    return x, y


def _decode_scalar(data, what):
    _check_len(data, 32, what)
    d = int.from_bytes(data, "big")
    if d == 0 or d >= _N:
        raise ValueError(what + " must be in [1, n-1]")
    return d


# --- RFC 6979 nonces ---------------------------------------------------------------


def _hmac_sha256(key, msg):
    # RFC 2104; there is no hmac module on the device.
    if len(key) > 64:
        key = sha256(key).digest()
    key = key + bytes(64 - len(key))
    inner = sha256(bytes(c ^ 0x36 for c in key) + msg).digest()
    return sha256(bytes(c ^ 0x5C for c in key) + inner).digest()


def _nonces(d, digest):
    # RFC 6979 section 3.2 with HMAC-SHA256 and h1 = digest. qlen = hlen = 256,
    # so one HMAC output is one candidate and bits2int is a plain conversion.
    x = d.to_bytes(32, "big")
    h = (int.from_bytes(digest, "big") % _N).to_bytes(32, "big")  # bits2octets
    v = b"\x01" * 32
    k = _hmac_sha256(bytes(32), v + b"\x00" + x + h)
    v = _hmac_sha256(k, v)
    k = _hmac_sha256(k, v + b"\x01" + x + h)
    v = _hmac_sha256(k, v)
    while True:
        v = _hmac_sha256(k, v)
        t = int.from_bytes(v, "big")
        if 0 < t < _N:
            yield t
        # Out of range, or the caller wants another (r or s was 0): step 3.2 h.3.
        k = _hmac_sha256(k, v + b"\x00")
        v = _hmac_sha256(k, v)


# --- P-256 API ---------------------------------------------------------------------


def p256_public(priv):
    """The uncompressed public key 0x04||X||Y of priv (0 < priv < n)."""
    d = _decode_scalar(priv, "private key")
    return _encode(*_affine(*_mul(d, _GX, _GY)))


def p256_ecdh(priv, pub):
    """ECDH: the x-coordinate of priv * pub; pub is fully validated."""
    d = _decode_scalar(priv, "private key")
    x, y = _decode_public(pub)
    return _affine(*_mul(d, x, y))[0].to_bytes(32, "big")


def p256_sign(priv, digest):
    """ECDSA signature r||s of a SHA-256 digest, nonce by RFC 6979; no low-S."""
    d = _decode_scalar(priv, "private key")
    _check_len(digest, 32, "digest")
    e = int.from_bytes(digest, "big")
    n = _N
    for k in _nonces(d, digest):
        r = _affine(*_mul(k, _GX, _GY))[0] % n
        if r == 0:
            continue
        s = _inv(k, n) * ((e + r * d) % n) % n
        if s == 0:
            continue
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def p256_verify(pub, digest, sig):
    """True if sig (r||s) is a valid ECDSA signature of digest under pub.

    False for any invalid signature, including r or s outside [1, n-1];
    ValueError only for bad lengths or an invalid public key.
    """
    qx, qy = _decode_public(pub)
    _check_len(digest, 32, "digest")
    _check_len(sig, 64, "signature")
    n = _N
    r = int.from_bytes(sig[:32], "big")
    s = int.from_bytes(sig[32:], "big")
    if not (0 < r < n and 0 < s < n):
        return False
    w = _inv(s, n)
    x, y, z = _mul2(int.from_bytes(digest, "big") * w % n, r * w % n, qx, qy)
    if z == 0:
        return False
    return _affine(x, y, z)[0] % n == r


def p256_scalar_mul(k, priv):
    """k * priv mod n, both in [1, n-1] (HomeCA key update)."""
    a = _decode_scalar(k, "scalar k")
    d = _decode_scalar(priv, "private key")
    return (a * d % _N).to_bytes(32, "big")


def p256_point_mul(k, pub):
    """k * pub as an uncompressed point, k in [1, n-1], pub validated."""
    a = _decode_scalar(k, "scalar k")
    x, y = _decode_public(pub)
    return _encode(*_affine(*_mul(a, x, y)))


def p256_compress(pub):
    """SEC 1 compressed form 0x02/0x03||X of a validated public key."""
    x, y = _decode_public(pub)
    return bytes((2 | (y & 1),)) + x.to_bytes(32, "big")


def p256_decompress(data):
    """The uncompressed public key for 0x02/0x03||X; ValueError if there is none."""
    _check_len(data, 33, "compressed public key")
    if data[0] != 2 and data[0] != 3:
        raise ValueError("compressed public key must start with 0x02 or 0x03")
    x = int.from_bytes(data[1:], "big")
    if x >= _P:
        raise ValueError("compressed public key x is not below p")
    rhs = _rhs(x)
    # p = 3 mod 4, so rhs^((p+1)/4) is a square root of rhs if rhs has one.
    y = _pow_mod(rhs, (_P + 1) >> 2, _P)
    if y * y % _P != rhs:
        raise ValueError("compressed public key x is not on the curve")
    if (y & 1) != (data[0] & 1):
        y = _P - y  # y != 0: no point of odd order has y = 0
    return _encode(x, y)
