"""Wire codec tests that run unchanged on CPython and on MicroPython.

The device decodes with the same code the host does, so both interpreters must
agree. Under CPython pytest collects the test_* functions; on MicroPython run
the file as a script (the runner at the bottom):

    MICROPYPATH=firmware:tests micropython tests/test_wire_codec.py

WIRE_FUZZ_ITERATIONS and WIRE_FUZZ_SEED tune the fuzz loop.
"""

import array
import os
import struct
import sys
from binascii import hexlify

from xorshift import Xorshift

from nodefw import messages, simctl, wire, wirebytes

# The spec, written out here rather than read from wire.py so a change in the
# codec shows up as a failing test.
INT_RANGES = {
    wire.U8: (0, 0xFF),
    wire.U16: (0, 0xFFFF),
    wire.U32: (0, 0xFFFFFFFF),
    wire.U64: (0, 0xFFFFFFFFFFFFFFFF),
    wire.I16: (-0x8000, 0x7FFF),
    wire.I32: (-0x80000000, 0x7FFFFFFF),
}
INT_SIZES = {wire.U8: 1, wire.U16: 2, wire.U32: 4, wire.U64: 8, wire.I16: 2, wire.I32: 4}
SOF = b"\xf3\x8c"
OVERHEAD = 8  # SOF(2) + LEN(2) + CRC(4)
HEADER = 4  # version, type, request id

# One field of every kind, with both widths of length prefix.
ALL_KINDS = (
    "u8", wire.U8, 0,
    "u16", wire.U16, 0,
    "u32", wire.U32, 0,
    "u64", wire.U64, 0,
    "i16", wire.I16, 0,
    "i32", wire.I32, 0,
    "flag", wire.BOOL, 0,
    "raw", wire.BYTES, 3,
    "short", wire.VAR, 255,
    "long", wire.VAR, 256,
    "text", wire.STR, 8,
    "note", wire.STR, 300,
)  # fmt: skip

# Every schema the codec must handle: (type, schema), the catalogue first.
SCHEMAS = [(t, messages.SCHEMAS[t]) for t in sorted(messages.SCHEMAS)]
SCHEMAS += [(t, simctl.SCHEMAS[t]) for t in sorted(simctl.SCHEMAS)]
SCHEMAS.append((0x77, ALL_KINDS))


def fuzz_iterations():
    return int(os.getenv("WIRE_FUZZ_ITERATIONS") or "5000")


def fuzz_seed():
    return int(os.getenv("WIRE_FUZZ_SEED") or "20240601")


def fields(schema):
    """A flat schema's (name, kind, size) triples."""
    return [schema[i : i + 3] for i in range(0, len(schema), 3)]


def hx(data):
    return hexlify(bytes(data)).decode()


def wire_error(fn, *args):
    """The WireError raised by fn(*args); any other exception fails the test."""
    try:
        fn(*args)
    except Exception as e:
        assert isinstance(e, wire.WireError), "expected WireError, got " + repr(e)
        return e
    raise AssertionError("no WireError from " + repr(args))


def printable(rng, n):
    out = bytearray(n)
    for i in range(n):
        out[i] = 0x20 + rng.below(95)
    return out.decode()


def extreme_values(schema, high):
    """Every field at its minimum (high=False) or maximum (high=True)."""
    values = {}
    for name, kind, size in fields(schema):
        if kind == wire.BOOL:
            v = high
        elif kind in INT_RANGES:
            v = INT_RANGES[kind][1 if high else 0]
        elif kind == wire.BYTES:
            v = (b"\xff" if high else b"\x00") * size
        elif kind == wire.VAR:
            v = b"\xff" * size if high else b""
        else:
            v = "~" * size if high else ""
        values[name] = v
    return values


def random_values(rng, schema):
    """Valid field values, biased towards the boundaries."""
    values = {}
    for name, kind, size in fields(schema):
        r = rng.below(8)
        if kind == wire.BOOL:
            v = r & 1 == 1
        elif kind in INT_RANGES:
            lo, hi = INT_RANGES[kind]
            v = lo if r == 0 else hi if r == 1 else 0 if r == 2 else rng.between(lo, hi)
        elif kind == wire.BYTES:
            v = rng.bytes(size)
        else:
            n = 0 if r == 0 else size if r == 1 else rng.below(size + 1)
            v = rng.bytes(n) if kind == wire.VAR else printable(rng, n)
        values[name] = v
    return values


def body_length(schema, values):
    n = 4
    for name, kind, size in fields(schema):
        if kind == wire.BOOL:
            n += 1
        elif kind in INT_SIZES:
            n += INT_SIZES[kind]
        elif kind == wire.BYTES:
            n += size
        else:
            n += (2 if size > 255 else 1) + len(values[name])
    return n


def random_message(rng):
    mtype, schema = rng.pick(SCHEMAS)
    return wirebytes.encode(mtype, rng.below(0x10000), schema, random_values(rng, schema))


def drain(dec):
    """Bodies and number of WireErrors until the decoder wants more input."""
    bodies = []
    errors = 0
    while True:
        try:
            body = wirebytes.next_body(dec)
        except Exception as e:
            assert isinstance(e, wire.WireError), "Decoder raised " + repr(e)
            errors += 1
            continue
        if body is None:
            return bodies, errors
        bodies.append(body)


def feed_all(dec, data, step):
    bodies = []
    errors = 0
    for i in range(0, len(data), step):
        dec.feed(data[i : i + step])
        b, e = drain(dec)
        bodies += b
        errors += e
    return bodies, errors


def no_sof0(data):
    """Garbage that cannot start a frame: no 0xF3 byte anywhere."""
    return bytes(b for b in data if b != 0xF3)


def status_values():
    return {
        "mac": b"\x5c\xcf\x7f\x01\x02\x03",
        "name": "node-01",
        "model": "NodeMCU v3",
        "fw": "0.1.0",
        "state": messages.ST_OWNED,
        "uptime": 3600,
        "heap_free": 21000,
        "heap_peak": 17000,
        "link_bad": 2,
        "dht": 1,
        "temp": -75,
        "hum": 999,
        "dht_age": 12,
        "restarts": 3,
        "last_fail": "display: OSError(19,)",
    }


# --- CRC ---------------------------------------------------------------------


def test_crc32_check_value():
    assert wirebytes.crc32(b"123456789") == 0xCBF43926
    assert wirebytes.crc32(b"") == 0
    assert wirebytes.crc32(b"56789", wirebytes.crc32(b"1234")) == 0xCBF43926


def test_crc32_matches_binascii():
    # The device's CRC (16-bit halves, no binascii.crc32 on the ESP8266) is the
    # same function as zlib's, continued or not.
    import binascii

    samples = [b"", b"\x00", b"\xff" * 7, b"123456789", bytes(range(256)), os.urandom(1500)]
    for s in samples:
        assert wirebytes.crc32(s) == binascii.crc32(s)
        assert wirebytes.crc32(s, 0xDEADBEEF) == binascii.crc32(s, 0xDEADBEEF)
    crc = wire.Crc32()
    crc.update(b"xx123456789yy", 2, 11)
    out = bytearray(6)
    crc.put(out, 1)
    assert out[1:5] == (0xCBF43926).to_bytes(4, "big")
    assert crc.matches(out, 1) and not crc.matches(out, 0)


# --- encoding and round trips --------------------------------------------------


def test_status_req_golden_frame():
    # Pinned bytes: the worked example in docs/wire-format.md.
    body = messages.encode(messages.STATUS_REQ, 0x1234, {})
    assert body == b"\x01\x01\x12\x34"
    assert wirebytes.frame(body) == b"\xf3\x8c\x00\x04\x01\x01\x12\x34\xa4\x7c\x8e\x57"


def test_every_field_kind_layout():
    values = {
        "u8": 0xAB,
        "u16": 0x1234,
        "u32": 0x89ABCDEF,
        "u64": 0x0102030405060708,
        "i16": -2,
        "i32": -0x12345678,
        "flag": True,
        "raw": b"\x00\xf3\x8c",
        "short": b"hi",
        "long": b"\xff",
        "text": "Hi ~",
        "note": "",
    }
    body = wirebytes.encode(0x77, 5, ALL_KINDS, values)
    expected = (
        b"\x01\x77\x00\x05"
        + b"\xab"
        + b"\x12\x34"
        + b"\x89\xab\xcd\xef"
        + b"\x01\x02\x03\x04\x05\x06\x07\x08"
        + b"\xff\xfe"
        + b"\xed\xcb\xa9\x88"
        + b"\x01"
        + b"\x00\xf3\x8c"
        + b"\x02hi"
        + b"\x00\x01\xff"
        + b"\x04Hi ~"
        + b"\x00\x00"
    )
    assert body == expected, hx(body)
    assert wire.decode(body, ALL_KINDS) == values
    assert wirebytes.header(body) == (0x77, 5)


def test_length_prefix_width():
    for size, width in ((2, 1), (255, 1), (256, 2), (1000, 2)):
        for kind, value in ((wire.VAR, b"ab"), (wire.STR, "ab")):
            body = wirebytes.encode(9, 0, ("f", kind, size), {"f": value})
            assert body[4:] == b"\x00" * (width - 1) + b"\x02ab", (size, hx(body))


def test_roundtrip_every_message_at_extremes():
    for mtype, schema in SCHEMAS:
        for high in (False, True):
            values = extreme_values(schema, high)
            for rid in (0, 1, 0x7FFF, 0xFFFF):
                body = wirebytes.encode(mtype, rid, schema, values)
                assert len(body) == body_length(schema, values)
                assert wirebytes.header(body) == (mtype, rid)
                assert wire.decode(body, schema) == values
                if mtype in messages.SCHEMAS:
                    assert messages.encode(mtype, rid, values) == body
                    assert messages.decode(body) == (mtype, rid, values)
                dec = wire.Decoder()
                dec.feed(wirebytes.frame(body))
                assert drain(dec) == ([body], 0)


def test_roundtrip_random_messages():
    rng = Xorshift(7)
    for mtype, schema in SCHEMAS:
        for _ in range(60):
            values = random_values(rng, schema)
            rid = rng.below(0x10000)
            body = wirebytes.encode(mtype, rid, schema, values)
            assert len(body) == body_length(schema, values)
            assert wire.decode(body, schema) == values
            if mtype in messages.SCHEMAS:
                assert messages.decode(body) == (mtype, rid, values)


def test_status_roundtrip_and_types():
    body = messages.encode(messages.STATUS, 9, status_values())
    mtype, rid, fields = messages.decode(body)
    assert (mtype, rid) == (messages.STATUS, 9)
    assert fields == status_values()
    assert type(fields["mac"]) is bytes
    assert type(fields["name"]) is str
    assert type(fields["uptime"]) is int


def test_decoded_bool_is_bool():
    body = wirebytes.encode(1, 0, ALL_KINDS, extreme_values(ALL_KINDS, True))
    fields = wire.decode(body, ALL_KINDS)
    assert fields["flag"] is True
    body = wirebytes.encode(1, 0, ALL_KINDS, extreme_values(ALL_KINDS, False))
    assert wire.decode(body, ALL_KINDS)["flag"] is False


def test_encode_accepts_bytes_like_values():
    schema = ("raw", wire.BYTES, 3, "var", wire.VAR, 8)
    plain = wirebytes.encode(1, 0, schema, {"raw": b"abc", "var": b"xyz"})
    for kind in (bytearray, memoryview):
        values = {"raw": kind(b"abc"), "var": kind(b"xyz")}
        assert wirebytes.encode(1, 0, schema, values) == plain


def test_encode_rejects_missing_field():
    values = status_values()
    for name, _, _ in fields(messages.SCHEMAS[messages.STATUS]):
        partial = dict(values)
        del partial[name]
        wire_error(messages.encode, messages.STATUS, 0, partial)
    wire_error(messages.encode, messages.ERROR, 0, {"code": 400})


def test_encode_rejects_wrong_types():
    base = extreme_values(ALL_KINDS, False)
    wrong = {
        wire.U8: ("1", 1.0, None, True, False, b"\x01"),
        wire.BOOL: (0, 1, None, "True", b"\x01"),
        wire.BYTES: ("abc", None, 3, [1, 2, 3]),
        wire.VAR: ("ab", None, 2, [1, 2]),
        wire.STR: (None, 2, ["a", "b"], b"a\x7f", bytearray(b"\x80b"), "caf\xe9"),
    }
    for name, kind, _ in fields(ALL_KINDS):
        for v in wrong.get(kind, wrong[wire.U8]):
            values = dict(base)
            values[name] = v
            wire_error(wirebytes.encode, 1, 0, ALL_KINDS, values)


def test_str_fields_take_printable_bytes_as_text():
    # The device passes its text as bytes: iterating a str on MicroPython
    # would intern each of its characters.
    schema = ("text", wire.STR, 8)
    plain = wirebytes.encode(1, 0, schema, {"text": "node-1~"})
    for v in (b"node-1~", bytearray(b"node-1~")):
        assert wirebytes.encode(1, 0, schema, {"text": v}) == plain
    assert wire.decode(plain, schema) == {"text": "node-1~"}
    wire_error(wirebytes.encode, 1, 0, schema, {"text": b"123456789"})


def test_encode_rejects_out_of_range():
    base = extreme_values(ALL_KINDS, False)
    for name, kind, _ in fields(ALL_KINDS):
        if kind not in INT_RANGES:
            continue
        lo, hi = INT_RANGES[kind]
        for v in (lo - 1, hi + 1, 1 << 70, -(1 << 70)):
            values = dict(base)
            values[name] = v
            wire_error(wirebytes.encode, 1, 0, ALL_KINDS, values)


def test_encode_rejects_wrong_lengths():
    base = extreme_values(ALL_KINDS, False)
    cases = (
        ("raw", b"ab"),
        ("raw", b"abcd"),
        ("raw", b""),
        ("short", b"x" * 256),
        ("long", b"x" * 257),
        ("text", "x" * 9),
        ("note", "x" * 301),
    )
    for name, v in cases:
        values = dict(base)
        values[name] = v
        wire_error(wirebytes.encode, 1, 0, ALL_KINDS, values)
    detail = {"code": 500, "detail": "x" * 65}
    wire_error(messages.encode, messages.ERROR, 0, detail)


def test_encode_rejects_non_printable_str():
    for bad in ("\x00", "\x1f", "\x7f", "tab\there", "line\n", "caf\xe9", "\u20ac"):
        wire_error(messages.encode, messages.ERROR, 0, {"code": 400, "detail": bad})
    ok = {"code": 400, "detail": " ~"}
    assert messages.decode(messages.encode(messages.ERROR, 0, ok))[2] == ok


def test_encode_rejects_lone_surrogate_str():
    # A lone surrogate cannot even be encoded on CPython: the printable check
    # must come first, or CPython and MicroPython raise different errors.
    wire_error(messages.encode, messages.ERROR, 0, {"code": 400, "detail": "a" + chr(0xD800)})


def test_encode_never_emits_a_body_decode_refuses():
    # A memoryview's len() counts items, not bytes: with a multi-byte format
    # the length check must still see the bytes that get copied.
    wide = memoryview(array.array("H", [0x0101, 0x0202]))  # 2 items, 4 bytes
    for schema in (("raw", wire.BYTES, 2, "n", wire.U8, 0), ("var", wire.VAR, 8)):
        values = {schema[0]: wide, "n": 7}
        try:
            body = wirebytes.encode(1, 0, schema, values)
        except Exception as e:
            assert isinstance(e, wire.WireError), repr(e)
            continue
        try:
            wire.decode(body, schema)
        except wire.WireError as e:
            why = "encode() emitted " + hx(body) + " that decode() refuses: " + str(e)
            raise AssertionError(why) from None


def test_encode_rejects_bad_header_values():
    for mtype, rid in ((-1, 0), (256, 0), (1, -1), (1, 0x10000)):
        wire_error(wirebytes.encode, mtype, rid, (), {})
    for mtype in (0x03, 0x7F, 0xFF):
        wire_error(messages.encode, mtype, 0, {})


def test_encode_rejects_body_over_max():
    schema = ("blob", wire.VAR, 2000)
    most = wire.MAX_BODY - 6  # header and a 2-byte length prefix
    assert len(wirebytes.encode(1, 0, schema, {"blob": b"\x00" * most})) == wire.MAX_BODY
    wire_error(wirebytes.encode, 1, 0, schema, {"blob": b"\x00" * (most + 1)})


def test_bad_schema_kind():
    schema = ("x", 99, 0)
    wire_error(wirebytes.encode, 1, 0, schema, {"x": 1})
    wire_error(wire.decode, b"\x01\x01\x00\x00\x00", schema)


# --- strict decoding -----------------------------------------------------------


def extreme_bodies():
    for mtype, schema in SCHEMAS:
        for high in (False, True):
            yield (
                mtype,
                schema,
                wirebytes.encode(mtype, 0xA5A5, schema, extreme_values(schema, high)),
            )


def test_decode_rejects_truncation_everywhere():
    for mtype, schema, body in extreme_bodies():
        for k in range(len(body)):
            wire_error(wire.decode, body[:k], schema)
            if mtype in messages.SCHEMAS:
                wire_error(messages.decode, body[:k])


def test_decode_rejects_trailing_bytes():
    for mtype, schema, body in extreme_bodies():
        for extra in (b"\x00", b"\xff", b"\x01\x02\x03"):
            wire_error(wire.decode, body + extra, schema)
            if mtype in messages.SCHEMAS:
                wire_error(messages.decode, body + extra)


def test_decode_rejects_wrong_version():
    body = messages.encode(messages.STATUS, 1, status_values())
    for version in (0, 2, 0x7F, 0xFF):
        bad = bytes([version]) + body[1:]
        wire_error(wirebytes.header, bad)
        wire_error(wire.decode, bad, messages.SCHEMAS[messages.STATUS])
        wire_error(messages.decode, bad)


def test_decode_rejects_unknown_type():
    for mtype in range(256):
        if mtype in messages.SCHEMAS:
            continue
        body = bytes([wire.VERSION, mtype, 0, 7])
        assert wirebytes.header(body) == (mtype, 7)
        wire_error(messages.decode, body)


def test_decode_rejects_overlong_length_prefix():
    # ERROR.detail may hold 64 characters: a prefix of 65 is refused even
    # when 65 bytes follow.
    for n in (65, 0x80, 0xFF):
        body = b"\x01\x00\x00\x01\x01\x90" + bytes([n]) + b"a" * n
        wire_error(messages.decode, body)
    body = b"\x01\x00\x00\x01\x01\x90\x40" + b"a" * 64
    assert messages.decode(body)[2]["detail"] == "a" * 64
    # Two-byte prefix.
    schema = ("blob", wire.VAR, 300)
    wire_error(wire.decode, b"\x01\x01\x00\x00\x01\x2d" + b"\x00" * 301, schema)
    wire_error(wire.decode, b"\x01\x01\x00\x00\xff\xff" + b"\x00" * 8, schema)
    # A prefix longer than what is left.
    wire_error(messages.decode, b"\x01\x00\x00\x01\x01\x90\x05abcd")


def test_decode_rejects_bad_bool_byte():
    schema = simctl.SCHEMAS[simctl.HC05_KEY]
    assert wire.decode(b"\x01\xf5\x00\x00\x00", schema) == {"on": False}
    assert wire.decode(b"\x01\xf5\x00\x00\x01", schema) == {"on": True}
    for b in (2, 0x80, 0xFF):
        wire_error(wire.decode, b"\x01\xf5\x00\x00" + bytes([b]), schema)


def test_decode_rejects_non_printable_str():
    for c in (0x00, 0x09, 0x1F, 0x7F, 0x80, 0xC3, 0xFF):
        body = b"\x01\x00\x00\x01\x01\x90\x03a" + bytes([c]) + b"b"
        wire_error(messages.decode, body)


def test_decode_rejects_body_over_max():
    schema = ("blob", wire.VAR, 2000)
    most = wire.MAX_BODY - 6
    body = b"\x01\x01\x00\x00" + struct.pack(">H", most) + b"\x00" * most
    assert len(wire.decode(body, schema)["blob"]) == most
    n = most + 1
    wire_error(wire.decode, b"\x01\x01\x00\x00" + struct.pack(">H", n) + b"\x00" * n, schema)


def test_decode_accepts_bytes_like_bodies():
    body = messages.encode(messages.STATUS, 3, status_values())
    for kind in (bytearray, memoryview):
        assert messages.decode(kind(body)) == (messages.STATUS, 3, status_values())


def test_decode_short_header():
    for body in (b"", b"\x01", b"\x01\x01", b"\x01\x01\x00"):
        wire_error(wirebytes.header, body)
        wire_error(messages.decode, body)


# --- frames --------------------------------------------------------------------


def test_frame_layout():
    body = messages.encode(messages.STATUS, 0xBEEF, status_values())
    f = wirebytes.frame(body)
    n = len(body)
    assert f[:2] == SOF
    assert f[2:4] == bytes([n >> 8, n & 0xFF])
    assert f[4:-4] == body
    assert f[-4:] == struct.pack(">I", wirebytes.crc32(f[2:4] + body))
    assert len(f) == n + OVERHEAD


def test_frame_rejects_bad_lengths():
    wire_error(wirebytes.frame, b"\x01\x01\x00")
    wire_error(wirebytes.frame, b"")
    wire_error(wirebytes.frame, b"\x01" * (wire.MAX_BODY + 1))
    assert len(wirebytes.frame(b"\x01" * wire.MAX_BODY)) == wire.MAX_BODY + OVERHEAD


# --- streaming decoder ---------------------------------------------------------


def test_decoder_rejects_bad_max_body():
    wire_error(wire.Decoder, 3)
    wire_error(wire.Decoder, wire.MAX_BODY + 1)
    wire.Decoder(4)
    wire.Decoder(wire.MAX_BODY)


def test_decoder_split_at_every_byte_boundary():
    a = messages.encode(messages.STATUS, 1, status_values())
    b = messages.encode(messages.STATUS_REQ, 2, {})
    stream = wirebytes.frame(a) + wirebytes.frame(b)
    for k in range(len(stream) + 1):
        dec = wire.Decoder()
        dec.feed(stream[:k])
        got, errors = drain(dec)
        dec.feed(stream[k:])
        more, errors2 = drain(dec)
        assert got + more == [a, b], k
        assert errors == errors2 == 0
        assert (dec.dropped, dec.bad) == (0, 0)


def test_decoder_byte_at_a_time():
    bodies = [wirebytes.encode(t, 3, s, extreme_values(s, True)) for t, s in SCHEMAS]
    stream = b"".join(wirebytes.frame(b) for b in bodies)
    dec = wire.Decoder()
    assert feed_all(dec, stream, 1) == (bodies, 0)
    assert (dec.dropped, dec.bad) == (0, 0)


def test_decoder_skips_garbage():
    a = messages.encode(messages.STATUS, 1, status_values())
    b = messages.encode(messages.ERROR, 2, {"code": 404, "detail": "no"})
    fa, fb = wirebytes.frame(a), wirebytes.frame(b)
    patterns = (b"", b"\x00", b"\xf3", b"\x8c", b"\xf3\xf3", b"\x8c\xf3", b"\xf3\x00\x8c")
    patterns += (b"hello world\r\n", bytes(range(0xF3)), b"\xf3" * 9)
    for g in patterns:
        stream = g + fa + g + fb + g
        for step in (1, 5, len(stream)):
            dec = wire.Decoder()
            assert feed_all(dec, stream, step) == ([a, b], 0), (hx(g), step)
            assert dec.bad == 0
            dec.reset()
            assert dec.dropped == 3 * len(g), (hx(g), step, dec.dropped)


def test_decoder_keeps_trailing_sof_byte_across_feeds():
    body = messages.encode(messages.STATUS_REQ, 5, {})
    f = wirebytes.frame(body)
    dec = wire.Decoder()
    dec.feed(b"zz" + f[:1])
    assert drain(dec) == ([], 0)
    assert dec.dropped == 2
    dec.feed(f[1:])
    assert drain(dec) == ([body], 0)


def test_decoder_bit_flip_anywhere_then_recovers():
    a = messages.encode(messages.STATUS, 0x0101, status_values())
    b = messages.encode(messages.STATUS_REQ, 0x0202, {})
    fa, fb = wirebytes.frame(a), wirebytes.frame(b)
    flush = b"\x00" * (wire.MAX_BODY + OVERHEAD)  # completes any bogus length
    for i in range(len(fa)):
        for bit in range(8):
            bad = bytearray(fa)
            bad[i] ^= 1 << bit
            dec = wire.Decoder()
            dec.feed(bytes(bad) + fb)
            got, errors = drain(dec)
            if not got:
                dec.feed(flush)
                got, more = drain(dec)
                errors += more
            assert got == [b], (i, bit)
            assert dec.bad == errors
            # A broken SOF only turns the frame into garbage; anywhere else the
            # decoder must notice and say so.
            assert errors >= 1 or i < 2, (i, bit)


def test_decoder_resyncs_right_after_bad_sof():
    body = messages.encode(messages.STATUS_REQ, 9, {})
    f = wirebytes.frame(body)
    cases = (
        SOF + b"\xff\xff",  # length over max_body
        SOF + b"\x00\x03",  # length under the header size
        SOF + b"\x00\x04\x02",  # unsupported version
        SOF + b"\x00\x40\x01",  # plausible header; CRC fails once 72 bytes are in
    )
    for head in cases:
        dec = wire.Decoder()
        dec.feed(head + f + b"\x00" * 80)
        assert drain(dec) == ([body], 1), hx(head)
        assert dec.bad == 1


def test_decoder_counts_every_byte():
    # Fed bytes are either delivered in frames or counted in dropped.
    rng = Xorshift(11)
    dec = wire.Decoder()
    fed = 0
    delivered = 0
    bad_seen = 0
    for _ in range(50):
        data = wirebytes.frame(random_message(rng))
        if rng.below(3) == 0:
            data = rng.bytes(rng.below(40)) + data
        if rng.below(4) == 0:
            data = bytearray(data)
            data[rng.below(len(data))] ^= 1 << rng.below(8)
        fed += len(data)
        dec.feed(data)
        got, errors = drain(dec)
        delivered += sum(len(b) + OVERHEAD for b in got)
        bad_seen += errors
    dec.reset()
    assert fed == dec.dropped + delivered
    assert dec.bad == bad_seen


def test_decoder_overflow_is_bounded():
    body = messages.encode(messages.STATUS_REQ, 1, {})
    for max_body in (4, 64, wire.MAX_BODY):
        dec = wire.Decoder(max_body)
        garbage = no_sof0(bytes(range(256))) * 40
        stream = garbage + wirebytes.frame(body)
        dec.feed(stream)
        # At most the buffer, 2 * (max_body + 8) bytes, is kept...
        assert len(stream) - dec.dropped <= 2 * (max_body + OVERHEAD)
        # ...and it is the newest half, so a whole frame at the end survives.
        assert drain(dec) == ([body], 0)
        assert dec.dropped == len(garbage)


def test_decoder_chunks_up_to_max_body_lose_nothing():
    # The feed() contract: chunks of at most max_body bytes, drained after
    # each, never overflow.
    rng = Xorshift(5)
    for max_body in (64, wire.MAX_BODY):
        bodies = []
        for _ in range(30):
            body = random_message(rng)
            if len(body) <= max_body:
                bodies.append(body)
        stream = b"".join(wirebytes.frame(b) for b in bodies)
        dec = wire.Decoder(max_body)
        assert feed_all(dec, stream, max_body) == (bodies, 0)
        assert dec.dropped == 0


def test_decoder_small_chunks_need_a_small_buffer_and_lose_nothing():
    # A reader of fixed small chunks (the HC-05 link reads 64 bytes) needs
    # room for one partial frame plus one chunk, not two frames.
    rng = Xorshift(11)
    bodies = [random_message(rng) for _ in range(30)]
    stream = b"".join(wirebytes.frame(b) for b in bodies)
    for chunk in (1, 7, 64):
        dec = wire.Decoder(wire.MAX_BODY, chunk)
        assert len(dec.buf) == wire.MAX_BODY + OVERHEAD + chunk
        assert feed_all(dec, stream, chunk) == (bodies, 0)
        assert dec.dropped == 0
    assert len(wire.Decoder().buf) == 2 * (wire.MAX_BODY + OVERHEAD)  # whole frames


def test_decoder_rejects_bad_chunk():
    wire_error(wire.Decoder, 64, -1)
    wire_error(wire.Decoder, 64, 64 + OVERHEAD + 1)
    assert wire.Decoder(64, 64 + OVERHEAD).chunk == 64 + OVERHEAD


def test_decoder_max_body_limit():
    schema = ("blob", wire.VAR, 100)
    fits = wirebytes.encode(1, 0, schema, {"blob": b"x" * 11})
    too_big = wirebytes.encode(1, 0, schema, {"blob": b"x" * 12})
    assert len(fits) == 16
    dec = wire.Decoder(16)
    dec.feed(wirebytes.frame(too_big))
    assert drain(dec) == ([], 1)
    dec.feed(wirebytes.frame(fits))
    assert drain(dec) == ([fits], 0)


def test_decoder_reset():
    a = messages.encode(messages.STATUS, 1, status_values())
    b = messages.encode(messages.STATUS_REQ, 2, {})
    fa = wirebytes.frame(a)
    dec = wire.Decoder()
    dec.feed(fa[:20])
    assert drain(dec) == ([], 0)
    dec.reset()
    assert dec.dropped == 20
    dec.feed(fa[20:])
    got, _ = drain(dec)
    assert got == []
    dec.feed(wirebytes.frame(b))
    got, _ = drain(dec)
    assert got == [b]
    dec.reset()
    assert dec.dropped == len(fa)


def test_decoder_body_is_a_copy():
    b = messages.encode(messages.STATUS_REQ, 2, {})
    dec = wire.Decoder()
    dec.feed(wirebytes.frame(b))
    body = wirebytes.next_body(dec)
    assert type(body) is bytes
    dec.feed(b"\x00" * 100 + wirebytes.frame(messages.encode(messages.STATUS_REQ, 3, {})))
    wirebytes.next_body(dec)
    assert body == b


# --- fuzz ------------------------------------------------------------------------

INTERESTING = (0x00, 0x01, 0x7F, 0x80, 0xFF, 0xF3, 0x8C, 0x20, 0x7E)


def mutate(rng, data, other):
    """data changed by one random edit; other is a second input to splice in."""
    data = bytearray(data)
    op = rng.below(8)
    n = len(data)
    at = rng.below(n + 1)
    if op == 0 and n:
        for _ in range(1 + rng.below(3)):
            data[rng.below(n)] ^= 1 << rng.below(8)
    elif op == 1:
        data = data[:at]
    elif op == 2:
        extra = SOF if rng.below(4) == 0 else rng.bytes(1 + rng.below(4))
        data = data[:at] + extra + data[at:]
    elif op == 3:
        data = data[:at] + data[at + 1 + rng.below(8) :]
    elif op == 4:
        data = data[:at] + data[at : at + 1 + rng.below(16)] + data[at:]
    elif op == 5:
        data = data[:at] + other[rng.below(len(other) + 1) :]
    elif op == 6 and n:
        data[rng.below(n)] = rng.pick(INTERESTING)
    else:
        data += rng.bytes(1 + rng.below(4))
    return bytes(data)


def check_body(data, where):
    """Decoders either refuse data with WireError or accept it canonically."""
    try:
        mtype, rid, fields = messages.decode(data)
    except Exception as e:
        assert isinstance(e, wire.WireError), where + " messages.decode: " + repr(e)
    else:
        assert messages.encode(mtype, rid, fields) == data, where
    for _, schema in SCHEMAS:
        try:
            fields = wire.decode(data, schema)
        except Exception as e:
            assert isinstance(e, wire.WireError), where + " wire.decode: " + repr(e)
            continue
        mtype, rid = wirebytes.header(data)
        assert wirebytes.encode(mtype, rid, schema, fields) == data, where


def check_stream(rng, stream, where):
    """Feed stream in random chunks. Only WireError may escape. A body is only
    ever delivered from bytes it was framed in, so the frame around every
    delivered body must occur in the stream verbatim: either one we framed or
    a corrupted one whose CRC happens to match, which is all a 32-bit CRC can
    promise. Every byte fed is delivered in a frame or counted as dropped."""
    max_body = wire.MAX_BODY if rng.below(4) else 64
    dec = wire.Decoder(max_body)
    drain_each = rng.below(8) != 0  # otherwise let the buffer overflow
    got = []
    errors = 0
    pos = 0
    while pos < len(stream):
        k = 1 + rng.below(max_body)
        dec.feed(stream[pos : pos + k])
        pos += k
        if drain_each or pos >= len(stream):
            bodies, e = drain(dec)
            got += bodies
            errors += e
    for body in got:
        assert HEADER <= len(body) <= max_body, where
        assert body[0] == wire.VERSION, where
        assert wirebytes.frame(body) in stream, where + " foreign body " + hx(body)
        check_body(body, where)
    assert dec.bad == errors, where
    dec.reset()
    assert len(stream) == dec.dropped + sum(len(b) + OVERHEAD for b in got), where


def test_fuzz_decoders():
    seed = fuzz_seed()
    rng = Xorshift(seed)
    for i in range(fuzz_iterations()):
        where = "seed " + str(seed) + " iteration " + str(i)
        case = i % 5
        if case == 0:
            # Noise, half of it behind a plausible header to get past it.
            data = rng.bytes(rng.below(80))
            if rng.below(2):
                data = bytes([wire.VERSION, rng.pick(SCHEMAS)[0]]) + data
            check_body(data, where)
            check_stream(rng, data, where)
        elif case == 1:
            data = random_message(rng)
            for _ in range(1 + rng.below(2)):
                data = mutate(rng, data, random_message(rng))
            check_body(data, where)
            framable = HEADER <= len(data) <= wire.MAX_BODY
            check_stream(rng, wirebytes.frame(data) if framable else data, where)
        elif case == 2:
            # Mutated streams of frames.
            frames = [wirebytes.frame(random_message(rng)) for _ in range(1 + rng.below(3))]
            stream = b"".join(frames)
            for _ in range(1 + rng.below(3)):
                stream = mutate(rng, stream, rng.pick(frames))
            check_body(stream[4:], where)
            check_stream(rng, stream, where)
        elif case == 3:
            # Clean frames in garbage that cannot start a frame: all must come out.
            bodies = [random_message(rng) for _ in range(1 + rng.below(3))]
            stream = b""
            for body in bodies:
                stream += no_sof0(rng.bytes(rng.below(12))) + wirebytes.frame(body)
            stream += no_sof0(rng.bytes(rng.below(12)))
            dec = wire.Decoder()
            assert feed_all(dec, stream, 1 + rng.below(200)) == (bodies, 0), where
            assert dec.bad == 0, where
        else:
            # Splice two frames at random points.
            fa = wirebytes.frame(random_message(rng))
            fb = wirebytes.frame(random_message(rng))
            stream = fa[: rng.below(len(fa) + 1)] + fb[rng.below(len(fb) + 1) :]
            check_stream(rng, stream + fa, where)


if __name__ == "__main__":  # MicroPython (no pytest): MICROPYPATH has tests/
    from mpy_runner import run_all

    sys.exit(1 if run_all(globals()) else 0)
