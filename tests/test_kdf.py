"""HMAC-SHA256 and HKDF-SHA256 (nodefw.kdf) against RFC 4231 and RFC 5869,
unchanged on CPython and MicroPython (test_kdf_interpreters.py runs this file
there, on unix and unix32):

    MICROPYPATH=firmware:tests micropython tests/test_kdf.py
"""

import sys
from binascii import unhexlify

from nodefw.kdf import hkdf, hmac_sha256


def h(s):
    return unhexlify(s.replace(" ", ""))


def test_hmac_rfc4231_case_1():
    got = hmac_sha256(b"\x0b" * 20, b"Hi There")
    assert got == h("b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")


def test_hmac_rfc4231_case_2_short_key():
    got = hmac_sha256(b"Jefe", b"what do ya want for nothing?")
    assert got == h("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")


def test_hmac_rfc4231_case_6_key_longer_than_a_block():
    data = b"Test Using Larger Than Block-Size Key - Hash Key First"
    got = hmac_sha256(b"\xaa" * 131, data)
    assert got == h("60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")


def test_hkdf_rfc5869_case_1():
    okm = hkdf(h("0b" * 22), h("000102030405060708090a0b0c"), h("f0f1f2f3f4f5f6f7f8f9"), 42)
    assert okm == h(
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
    )


def test_hkdf_rfc5869_case_2_long_inputs():
    ikm = bytes(range(0x00, 0x50))
    salt = bytes(range(0x60, 0xB0))
    info = bytes(range(0xB0, 0x100))
    okm = hkdf(ikm, salt, info, 82)
    assert okm == h(
        "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
        "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
        "cc30c58179ec3e87c14c01d5c1f3434f1d87"
    )


def test_hkdf_rfc5869_case_3_no_salt_no_info():
    okm = hkdf(h("0b" * 22), b"", b"", 42)
    assert okm == h(
        "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"
    )


def test_hkdf_refuses_bad_lengths():
    for n in (0, 255 * 32 + 1):
        try:
            hkdf(b"k", b"", b"", n)
        except ValueError:
            continue
        raise AssertionError("hkdf took length " + str(n))


if __name__ == "__main__":  # MicroPython (no pytest): MICROPYPATH has tests/
    from mpy_runner import run_all

    sys.exit(1 if run_all(globals()) else 0)
