"""Elliptic curves for the firmware: X25519 and P-256.

Every firmware module imports these functions from here, never from `ecc` or
nodefw.ecc_pure directly. The native C module `ecc` (firmware/cmodules/ecc) is
used when the build has it; otherwise the pure-Python nodefw.ecc_pure, which
has the same API but is far slower and not constant-time. NATIVE says which.

`import ecc` is absolute on MicroPython and CPython alike, so it looks for a
top-level module and does not find this file as nodefw.ecc. The attribute
check still guards against a stray top-level ecc.py without the API (or this
file itself, if nodefw/ were ever put on the path).
"""

try:
    import ecc as _impl

    _impl.p256_decompress  # noqa: B018 - not the native module without it
    NATIVE = True
except (ImportError, AttributeError) as e:
    # A board that sets NATIVE_ECC (the ESP8266: about ten times slower in
    # Python, seconds per operation) fails loudly instead of falling back.
    try:
        import board

        _required = getattr(board, "NATIVE_ECC", False)
    except ImportError:  # the host
        _required = False
    if _required:
        raise ImportError("native ecc module not loaded: " + str(e)) from None
    from nodefw import ecc_pure as _impl

    NATIVE = False

x25519 = _impl.x25519
x25519_base = _impl.x25519_base
p256_public = _impl.p256_public
p256_ecdh = _impl.p256_ecdh
p256_sign = _impl.p256_sign
p256_verify = _impl.p256_verify
p256_scalar_mul = _impl.p256_scalar_mul
p256_point_mul = _impl.p256_point_mul
p256_compress = _impl.p256_compress
p256_decompress = _impl.p256_decompress
