# The wire format shared by device, phone, HomeCA and gateway (docs/wire-format.md).
# Runs unchanged on CPython and MicroPython: no f-strings in hot paths, no
# CPython-only modules, and every malformed input ends in WireError.
#
# The device's hot path (a frame in, its body checked, a reply framed) allocates
# nothing: the Decoder keeps frames in its own buffer and hands out offsets, the
# CRC runs on 16-bit halves (small ints on a 32-bit chip, whose small ints have
# 31 bits), and replies are encoded and framed into a buffer the caller owns.
# Module-level tables are bytes constants, which stay in flash on the chip.
try:
    from micropython import const
except ImportError:  # CPython

    def const(x):
        return x


import struct

VERSION = const(1)
MAX_BODY = const(1024)  # largest message body on any link
HEADER = const(4)  # version, type, request id
OVERHEAD = const(8)  # SOF(2) + LEN(2) + CRC(4)
_SOF0 = const(0xF3)
_SOF1 = const(0x8C)
_SOF = const(b"\xf3\x8c")  # start of frame

# Field kinds. A schema is one flat tuple, name, kind, size for each field in
# turn (one tuple, not one per field: 32 bytes of heap less per field on the
# chip); size is the exact length for BYTES and the maximum length for VAR and
# STR.
U8 = const(1)
U16 = const(2)
U32 = const(3)
U64 = const(4)
I16 = const(5)
I32 = const(6)
BOOL = const(7)
BYTES = const(8)
VAR = const(9)
STR = const(10)
_INT_SIZE = const(b"\x00\x01\x02\x04\x08\x02\x04\x01")  # by kind, U8..BOOL


class WireError(ValueError):
    """The one error for anything malformed on the wire, decoding or encoding."""


# CRC-32 (IEEE 802.3, reflected, as binascii.crc32), four bits at a time:
# entry i is the CRC of nibble i, 4 bytes big-endian, read as two 16-bit halves.
_CRC_TABLE = const(
    b"\x00\x00\x00\x00\x1d\xb7\x10\x64\x3b\x6e\x20\xc8\x26\xd9\x30\xac"
    b"\x76\xdc\x41\x90\x6b\x6b\x51\xf4\x4d\xb2\x61\x58\x50\x05\x71\x3c"
    b"\xed\xb8\x83\x20\xf0\x0f\x93\x44\xd6\xd6\xa3\xe8\xcb\x61\xb3\x8c"
    b"\x9b\x64\xc2\xb0\x86\xd3\xd2\xd4\xa0\x0a\xe2\x78\xbd\xbd\xf2\x1c"
)  # fmt: skip


class Crc32:
    """A running CRC-32 kept as two 16-bit halves: no big integers, so no
    allocation on a 32-bit MicroPython. update() takes a buffer and a range."""

    def __init__(self):
        self.reset()

    def reset(self, value=0):
        if value:  # a big integer on the chip: only off the hot path
            value ^= 0xFFFFFFFF
            self._hi = value >> 16
            self._lo = value & 0xFFFF
        else:
            self._hi = self._lo = 0xFFFF

    def update(self, buf, start, end):
        t = _CRC_TABLE
        hi = self._hi
        lo = self._lo
        for i in range(start, end):
            lo ^= buf[i]
            j = (lo & 15) << 2
            lo = (((hi & 15) << 12) | (lo >> 4)) ^ ((t[j + 2] << 8) | t[j + 3])
            hi = (hi >> 4) ^ ((t[j] << 8) | t[j + 1])
            j = (lo & 15) << 2
            lo = (((hi & 15) << 12) | (lo >> 4)) ^ ((t[j + 2] << 8) | t[j + 3])
            hi = (hi >> 4) ^ ((t[j] << 8) | t[j + 1])
        self._hi = hi
        self._lo = lo

    def put(self, out, pos):
        """Write the CRC big-endian at out[pos:pos + 4]."""
        hi = self._hi ^ 0xFFFF
        lo = self._lo ^ 0xFFFF
        out[pos] = hi >> 8
        out[pos + 1] = hi & 0xFF
        out[pos + 2] = lo >> 8
        out[pos + 3] = lo & 0xFF

    def matches(self, buf, pos):
        """Does buf[pos:pos + 4] hold this CRC, big-endian?"""
        hi = self._hi ^ 0xFFFF
        lo = self._lo ^ 0xFFFF
        return (buf[pos] << 8 | buf[pos + 1]) == hi and (buf[pos + 2] << 8 | buf[pos + 3]) == lo

    def value(self):
        """The CRC as an int (a big integer on a 32-bit MicroPython)."""
        return ((self._hi ^ 0xFFFF) << 16) | (self._lo ^ 0xFFFF)


# The codec's one running CRC (frame_into and Decoder):
# single-threaded, and nothing awaits between its uses.
_crc = Crc32()


def _int_fmt(kind):
    if kind == U8 or kind == BOOL:
        return ">B"
    if kind == U16:
        return ">H"
    if kind == U32:
        return ">I"
    if kind == U64:
        return ">Q"
    if kind == I16:
        return ">h"
    return ">i"


def _int_fits(kind, v):
    if kind == U8:
        return 0 <= v <= 0xFF
    if kind == U16:
        return 0 <= v <= 0xFFFF
    if kind == U32:
        return 0 <= v <= 0xFFFFFFFF
    if kind == U64:
        return 0 <= v <= 0xFFFFFFFFFFFFFFFF
    if kind == I16:
        return -0x8000 <= v <= 0x7FFF
    return -0x80000000 <= v <= 0x7FFFFFFF


def _bad(name, what):
    return WireError("field %s %s" % (name, what))


def encode_into(out, pos, mtype, rid, schema, values):
    """Encode a message body into out[pos:]; returns the position after it.

    values: a dict by field name, or a list or tuple in schema order (what the
    device's hot path uses: it allocates nothing). A STR value is a str, or
    bytes of printable ASCII: the hot path passes bytes, since taking a str
    apart would intern each of its characters on MicroPython."""
    if not (_is_int(mtype) and _is_int(rid) and 0 <= mtype <= 0xFF and 0 <= rid <= 0xFFFF):
        raise WireError("bad message type or request id")
    end = len(out)
    if end > pos + MAX_BODY:
        end = pos + MAX_BODY
    room = end - pos  # what the message may take: out's space, at most MAX_BODY
    if room < HEADER:
        raise WireError("no room for the message")
    out[pos] = VERSION
    out[pos + 1] = mtype
    out[pos + 2] = rid >> 8
    out[pos + 3] = rid & 0xFF
    pos += HEADER
    by_name = isinstance(values, dict)
    for i in range(0, len(schema), 3):
        name = schema[i]
        kind = schema[i + 1]
        size = schema[i + 2]
        if by_name:
            if name not in values:
                raise WireError("missing field " + name)
            v = values[name]
        else:
            if i // 3 >= len(values):
                raise WireError("missing field " + name)
            v = values[i // 3]
        if kind <= BOOL:
            if kind == BOOL:
                if v is not True and v is not False:
                    raise _bad(name, "must be a bool")
                v = 1 if v else 0
            elif not _is_int(v):
                raise _bad(name, "must be an int")
            elif not _int_fits(kind, v):
                raise _bad(name, "out of range")
            n = _INT_SIZE[kind]
            if pos + n > end:
                raise WireError("message longer than " + str(room))
            struct.pack_into(_int_fmt(kind), out, pos, v)
            pos += n
            continue
        if kind == STR and isinstance(v, str):
            v = _utf8(v)  # checked as bytes below
            if v is None:
                raise _bad(name, "must be printable ASCII")
        elif isinstance(v, memoryview):
            v = bytes(v)  # a memoryview's len() counts items, not bytes
        elif not isinstance(v, bytes) and not isinstance(v, bytearray):  # no tuple of types
            raise _bad(name, "must be a str" if kind == STR else "must be bytes")
        n = len(v)
        w = 0  # bytes of its length prefix
        if kind == BYTES:
            if n != size:
                raise _bad(name, "must be %d bytes" % size)
        elif kind == VAR or kind == STR:
            if n > size:
                raise _bad(name, "longer than %d" % size)
            if kind == STR and not _printable(v):
                raise _bad(name, "must be printable ASCII")
            w = 2 if size > 255 else 1  # a 1-byte length when the maximum fits
        else:
            raise WireError("bad schema for " + name)
        if pos + w + n > end:
            raise WireError("message longer than " + str(room))
        if w == 2:
            out[pos] = n >> 8
            pos += 1
        if w:
            out[pos] = n & 0xFF
            pos += 1
        out[pos : pos + n] = v
        pos += n
    return pos


def check_header(buf, start, n):
    """Check the header of the body buf[start:start + n]; the type is then
    buf[start + 1] and the request id buf[start + 2] << 8 | buf[start + 3]."""
    if n < HEADER:
        raise WireError("message shorter than its header")
    if buf[start] != VERSION:
        raise WireError("unsupported version " + str(buf[start]))


def decode(body, schema, start=0, n=-1):
    """Dict of the fields of the body buf[start:start + n] (default: all of
    `body`) according to `schema`; strict and canonical."""
    if n < 0:
        n = len(body) - start
    if n > MAX_BODY:
        raise WireError("message longer than " + str(MAX_BODY))
    check_header(body, start, n)
    pos = start + HEADER
    end = start + n
    values = {}
    for i in range(0, len(schema), 3):
        name = schema[i]
        kind = schema[i + 1]
        size = schema[i + 2]
        if kind <= BOOL:
            k = _INT_SIZE[kind]
            if pos + k > end:
                raise WireError("truncated field " + name)
            v = struct.unpack_from(_int_fmt(kind), body, pos)[0]
            pos += k
            if kind == BOOL:
                if v > 1:
                    raise _bad(name, "is not a bool")
                v = v == 1
            values[name] = v
            continue
        if kind == BYTES:
            k = size
        elif kind == VAR or kind == STR:
            w = 2 if size > 255 else 1
            if pos + w > end:
                raise WireError("truncated field " + name)
            k = body[pos] if w == 1 else (body[pos] << 8) | body[pos + 1]
            pos += w
            if k > size:
                raise _bad(name, "longer than %d" % size)
        else:
            raise WireError("bad schema for " + name)
        if pos + k > end:
            raise WireError("truncated field " + name)
        v = bytes(body[pos : pos + k])
        pos += k
        if kind == STR:
            if not _printable(v):
                raise _bad(name, "is not printable ASCII")
            v = v.decode()
        values[name] = v
    if pos != end:
        raise WireError("trailing bytes after message")
    return values


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _printable(b):
    for c in b:  # noqa: SIM110 - all() over a generator would allocate
        if c < 32 or c > 126:
            return False
    return True


def _utf8(text):
    # A str's bytes, None if it has none (CPython: lone surrogates). Text is
    # checked as bytes: each character of a str indexed or iterated on the
    # device would be interned for good.
    try:
        return text.encode()
    except UnicodeError:
        return None


def printable(text):
    """Is `text` (a str) printable ASCII, as a STR field must be?"""
    b = _utf8(text)
    return b is not None and _printable(b)


def frame_into(out, n):
    """Frame the n-byte body already at out[4:4 + n] in place: SOF, LEN before
    it, CRC after it. Returns the frame's length, n + 8."""
    if not HEADER <= n <= MAX_BODY:
        raise WireError("bad body length " + str(n))
    out[0] = _SOF0
    out[1] = _SOF1
    out[2] = n >> 8
    out[3] = n & 0xFF
    _crc.reset()
    _crc.update(out, 2, n + 4)
    _crc.put(out, n + 4)
    return n + OVERHEAD


def _move(buf, dst, src, n):
    # memmove within one bytearray; a slice copy would allocate on MicroPython.
    for i in range(n):
        buf[dst + i] = buf[src + i]


class Decoder:
    """Streaming frame decoder with a fixed buffer: finds frames in a byte
    stream, skips garbage, and resynchronises after a corrupt frame. The
    device uses next_frame(), which hands out the body in place and
    allocates nothing; next() returns a copy."""

    def __init__(self, max_body=MAX_BODY, chunk=0):
        """chunk: the most bytes fed between two drains (default: a whole
        frame). The buffer holds one partial frame plus one chunk, so a
        reader that feeds small chunks needs little more than a frame."""
        if not HEADER <= max_body <= MAX_BODY:
            raise WireError("bad max_body")
        chunk = chunk or max_body + OVERHEAD
        if not 0 < chunk <= max_body + OVERHEAD:
            raise WireError("bad chunk")
        self.max_body = max_body
        self.chunk = chunk
        self.buf = bytearray(max_body + OVERHEAD + chunk)
        self._s = 0  # bytes held are buf[_s:_e]
        self._e = 0
        self.body = 0  # offset in buf of the body next_frame() returned
        self.dropped = 0  # bytes discarded: garbage, corrupt frames, overflow
        self.bad = 0  # corrupt frames seen

    def reset(self):
        """Forget partial input, e.g. when the link goes down."""
        self._drop_to(self._e)

    @property
    def pending(self):
        """Bytes held: the start of a frame still waiting for the rest."""
        return self._e - self._s

    def feed(self, data, n=-1):
        """Append the first n bytes of data (default: all); on overflow the
        oldest bytes are dropped. Call next_frame() (or next()) until it
        returns nothing after each chunk of at most `chunk` bytes and nothing
        is ever lost to overflow. Invalidates the body last handed out."""
        if n < 0:
            n = len(data)
        buf = self.buf
        cap = len(buf)
        i = 0
        while i < n:
            if self._e == cap:
                if self._s == 0:
                    self._drop_to(cap // 2)
                held = self._e - self._s
                _move(buf, 0, self._s, held)
                self._s = 0
                self._e = held
            e = self._e
            k = min(cap - e, n - i)
            if i == 0 and k == len(data):
                buf[e : e + k] = data  # the whole of data: no copy made
            else:
                for j in range(k):
                    buf[e + j] = data[i + j]
            self._e = e + k
            i += k

    def _drop_to(self, pos):
        self.dropped += pos - self._s
        if pos >= self._e:
            self._s = self._e = 0
        else:
            self._s = pos

    def resync(self):
        """Give up on the partial frame held (e.g. nothing more came for it):
        count it corrupt and drop only its SOF, so that whole frames behind a
        false SOF or a damaged LEN are still found by the next call."""
        if self._e - self._s:
            self.bad += 1
            self._drop_to(self._s + 2 if self._e - self._s >= 2 else self._e)

    def next_frame(self):
        """Length of the next complete body, which is then at
        buf[body:body + length] until the next feed(); 0 if more input is
        needed. Raises WireError for a corrupt frame; it is already discarded,
        so calling again continues with the following bytes."""
        buf = self.buf
        s = self._s
        e = self._e
        i = buf.find(_SOF, s, e)
        if i < 0:
            # Keep a trailing first SOF byte: its partner may be on the way.
            self._drop_to(e - 1 if e > s and buf[e - 1] == _SOF0 else e)
            return 0
        if i > s:
            self._drop_to(i)
            s = i
        if e - s < 5:
            return 0
        ln = (buf[s + 2] << 8) | buf[s + 3]
        if ln < HEADER or ln > self.max_body or buf[s + 4] != VERSION:
            self._drop_to(s + 2)
            self.bad += 1
            raise WireError("bad frame header")
        total = ln + OVERHEAD
        if e - s < total:
            return 0
        _crc.reset()
        _crc.update(buf, s + 2, s + 4 + ln)
        if not _crc.matches(buf, s + 4 + ln):
            # Frame boundaries are untrustworthy: resume right after the SOF.
            self._drop_to(s + 2)
            self.bad += 1
            raise WireError("frame CRC mismatch")
        self.body = s + 4
        # Consumed, but left in place: the next feed() may overwrite it.
        self._s = s + total
        if self._s == e:
            self._s = self._e = 0
        return ln
