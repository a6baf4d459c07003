# HMAC-SHA256 (RFC 2104) and HKDF-SHA256 (RFC 5869), for keys derived from
# seed material and shared secrets: the burn-in station's seed mode and the
# HomeCA key update. MicroPython has hashlib.sha256 but no hmac module. Runs
# unchanged on CPython and MicroPython (tests/test_kdf.py, on both).
import hashlib

try:
    from micropython import const
except ImportError:  # CPython

    def const(x):
        return x


_BLOCK = const(64)  # SHA-256's block size
_HASH = const(32)


def _pad(key, byte):
    out = bytearray(_BLOCK)
    for i in range(_BLOCK):
        out[i] = (key[i] if i < len(key) else 0) ^ byte
    return out


def hmac_sha256(key, data):
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    inner = hashlib.sha256(_pad(key, 0x36))
    inner.update(data)
    outer = hashlib.sha256(_pad(key, 0x5C))
    outer.update(inner.digest())
    return outer.digest()


def hkdf(ikm, salt, info, n):
    """n bytes (at most 255 * 32) of output keying material."""
    if not 0 < n <= 255 * _HASH:
        raise ValueError("hkdf length")
    prk = hmac_sha256(salt if salt else bytes(_HASH), ikm)
    out = b""
    t = b""
    i = 1
    while len(out) < n:
        t = hmac_sha256(prk, t + info + bytes((i,)))
        out += t
        i += 1
    return out[:n]
