# The wire format shared by device, phone, HomeCA and gateway (docs/wire-format.md).
# Runs unchanged on CPython and MicroPython: no f-strings in hot paths, no
# CPython-only modules, and every malformed input ends in WireError.
try:
    from micropython import const
except ImportError:  # CPython

    def const(x):
        return x


import struct

try:
    from binascii import crc32 as _crc32
except ImportError:  # MicroPython built without MICROPY_PY_BINASCII_CRC32
    _crc32 = None

VERSION = const(1)
MAX_BODY = const(1024)  # largest message body on any link
HEADER = const(4)  # version, type, request id
_SOF0 = const(0xF3)
_SOF = b"\xf3\x8c"  # start of frame
_OVERHEAD = const(8)  # SOF(2) + LEN(2) + CRC(4)

# Field kinds. A schema is a tuple of (name, kind, size) entries; size is the
# exact length for BYTES and the maximum length for VAR and STR.
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

_INT_FMT = {U8: ">B", U16: ">H", U32: ">I", U64: ">Q", I16: ">h", I32: ">i", BOOL: ">B"}
_INT_SIZE = {U8: 1, U16: 2, U32: 4, U64: 8, I16: 2, I32: 4, BOOL: 1}
_INT_RANGE = {
    U8: (0, 0xFF),
    U16: (0, 0xFFFF),
    U32: (0, 0xFFFFFFFF),
    U64: (0, 0xFFFFFFFFFFFFFFFF),
    I16: (-0x8000, 0x7FFF),
    I32: (-0x80000000, 0x7FFFFFFF),
    BOOL: (0, 1),
}


class WireError(ValueError):
    """The one error for anything malformed on the wire, decoding or encoding."""


def crc32(data, crc=0):
    if _crc32 is not None:
        return _crc32(data, crc) & 0xFFFFFFFF
    # Nibble-table CRC-32 (IEEE 802.3): 16 entries instead of 256 saves RAM.
    crc ^= 0xFFFFFFFF
    t = _CRC_NIBBLES
    for b in data:
        crc ^= b
        crc = (crc >> 4) ^ t[crc & 15]
        crc = (crc >> 4) ^ t[crc & 15]
    return crc ^ 0xFFFFFFFF


_CRC_NIBBLES = (
    0x00000000, 0x1DB71064, 0x3B6E20C8, 0x26D930AC,
    0x76DC4190, 0x6B6B51F4, 0x4DB26158, 0x5005713C,
    0xEDB88320, 0xF00F9344, 0xD6D6A3E8, 0xCB61B38C,
    0x9B64C2B0, 0x86D3D2D4, 0xA00AE278, 0xBDBDF21C,
)  # fmt: skip


def _wide(size):
    # Variable fields carry a 1-byte length when their maximum fits, else 2.
    return size > 255


def encode(mtype, rid, schema, values):
    """Message body: header plus the fields of `schema` taken from dict `values`."""
    if not (_is_int(mtype) and _is_int(rid) and 0 <= mtype <= 0xFF and 0 <= rid <= 0xFFFF):
        raise WireError("bad message type or request id")
    out = bytearray(struct.pack(">BBH", VERSION, mtype, rid))
    for name, kind, size in schema:
        if name not in values:
            raise WireError("missing field " + name)
        v = values[name]
        if kind in _INT_FMT:
            if kind == BOOL:
                if v is not True and v is not False:
                    raise WireError("field " + name + " must be a bool")
                v = 1 if v else 0
            elif not _is_int(v):
                raise WireError("field " + name + " must be an int")
            lo, hi = _INT_RANGE[kind]
            if not lo <= v <= hi:
                raise WireError("field " + name + " out of range")
            out += struct.pack(_INT_FMT[kind], v)
            continue
        if kind == STR:
            if not isinstance(v, str):
                raise WireError("field " + name + " must be a str")
            for c in v:  # before encoding: CPython cannot encode lone surrogates
                if not " " <= c <= "~":
                    raise WireError("field " + name + " must be printable ASCII")
            v = v.encode()
        elif isinstance(v, (bytes, bytearray, memoryview)):
            v = bytes(v)  # a memoryview's len() counts items, not bytes
        else:
            raise WireError("field " + name + " must be bytes")
        n = len(v)
        if kind == BYTES:
            if n != size:
                raise WireError("field " + name + " must be " + str(size) + " bytes")
        elif kind in (VAR, STR):
            if n > size:
                raise WireError("field " + name + " longer than " + str(size))
            out += struct.pack(">H" if _wide(size) else ">B", n)
        else:
            raise WireError("bad schema for " + name)
        out += v
    if len(out) > MAX_BODY:
        raise WireError("message longer than " + str(MAX_BODY))
    return bytes(out)


def header(body):
    """(type, request id) of a body, checking only the header."""
    if len(body) < HEADER:
        raise WireError("message shorter than its header")
    if body[0] != VERSION:
        raise WireError("unsupported version " + str(body[0]))
    return body[1], (body[2] << 8) | body[3]


def decode(body, schema):
    """Dict of the fields of `body` according to `schema`; strict and canonical."""
    if len(body) > MAX_BODY:
        raise WireError("message longer than " + str(MAX_BODY))
    header(body)
    pos = HEADER
    end = len(body)
    values = {}
    for name, kind, size in schema:
        if kind in _INT_FMT:
            n = _INT_SIZE[kind]
            if pos + n > end:
                raise WireError("truncated field " + name)
            v = struct.unpack_from(_INT_FMT[kind], body, pos)[0]
            pos += n
            if kind == BOOL:
                if v > 1:
                    raise WireError("field " + name + " is not a bool")
                v = v == 1
            values[name] = v
            continue
        if kind == BYTES:
            n = size
        elif kind in (VAR, STR):
            w = 2 if _wide(size) else 1
            if pos + w > end:
                raise WireError("truncated field " + name)
            n = body[pos] if w == 1 else (body[pos] << 8) | body[pos + 1]
            pos += w
            if n > size:
                raise WireError("field " + name + " longer than " + str(size))
        else:
            raise WireError("bad schema for " + name)
        if pos + n > end:
            raise WireError("truncated field " + name)
        v = bytes(body[pos : pos + n])
        pos += n
        if kind == STR:
            if not _printable(v):
                raise WireError("field " + name + " is not printable ASCII")
            v = v.decode()
        values[name] = v
    if pos != end:
        raise WireError("trailing bytes after message")
    return values


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _printable(b):
    return all(not (c < 32 or c > 126) for c in b)


def frame(body):
    """Stream frame around a body, for byte links with no integrity of their own."""
    n = len(body)
    if not HEADER <= n <= MAX_BODY:
        raise WireError("bad body length " + str(n))
    head = _SOF + struct.pack(">H", n)
    crc = crc32(body, crc32(head[2:]))
    return head + bytes(body) + struct.pack(">I", crc)


class Decoder:
    """Streaming frame decoder with a fixed buffer: finds frames in a byte
    stream, skips garbage, and resynchronises after a corrupt frame."""

    def __init__(self, max_body=MAX_BODY, chunk=0):
        """chunk: the most bytes fed between two drains (default: a whole
        frame). The buffer holds one partial frame plus one chunk, so a
        reader that feeds small chunks needs little more than a frame."""
        if not HEADER <= max_body <= MAX_BODY:
            raise WireError("bad max_body")
        chunk = chunk or max_body + _OVERHEAD
        if not 0 < chunk <= max_body + _OVERHEAD:
            raise WireError("bad chunk")
        self.max_body = max_body
        self.chunk = chunk
        self._buf = bytearray(max_body + _OVERHEAD + chunk)
        self._mv = memoryview(self._buf)
        self._n = 0
        self.dropped = 0  # bytes discarded: garbage, corrupt frames, overflow
        self.bad = 0  # corrupt frames seen

    def reset(self):
        """Forget partial input, e.g. when the link goes down."""
        self._drop(self._n)

    @property
    def pending(self):
        """Bytes held: the start of a frame still waiting for the rest."""
        return self._n

    def feed(self, data):
        """Append received bytes; on overflow the oldest bytes are dropped.
        Call next() until it returns None after each chunk of at most
        `chunk` bytes and nothing is ever lost to overflow."""
        data = memoryview(data)
        cap = len(self._buf)
        while len(data):
            if self._n == cap:
                self._drop(cap // 2)
            k = min(cap - self._n, len(data))
            self._buf[self._n : self._n + k] = data[:k]
            self._n += k
            data = data[k:]

    def _consume(self, k):
        n = self._n
        if k < n:
            self._buf[0 : n - k] = self._mv[k:n]
            self._n = n - k
        else:
            self._n = 0

    def _drop(self, k):
        self.dropped += min(k, self._n)
        self._consume(k)

    def next(self):
        """Next complete body (bytes), None if more input is needed.

        Raises WireError for a corrupt frame; it is already discarded, so
        calling again continues with the following bytes."""
        buf = self._buf
        while True:
            n = self._n
            i = buf.find(_SOF, 0, n)
            if i < 0:
                # Keep a trailing first SOF byte: its partner may be on the way.
                self._drop(n - 1 if n and buf[n - 1] == _SOF0 else n)
                return None
            if i:
                self._drop(i)
                n = self._n
            if n < 5:
                return None
            ln = (buf[2] << 8) | buf[3]
            if ln < HEADER or ln > self.max_body or buf[4] != VERSION:
                self._drop(2)
                self.bad += 1
                raise WireError("bad frame header")
            total = ln + _OVERHEAD
            if n < total:
                return None
            mv = self._mv
            crc = struct.unpack_from(">I", buf, total - 4)[0]
            if crc32(mv[4 : total - 4], crc32(mv[2:4])) != crc:
                # Frame boundaries are untrustworthy: resume right after the SOF.
                self._drop(2)
                self.bad += 1
                raise WireError("frame CRC mismatch")
            body = bytes(mv[4 : total - 4])
            self._consume(total)
            return body
