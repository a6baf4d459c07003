# The codec's allocating forms, bytes in and bytes out, for the host, the
# simulator and tests (docs/wire-format.md). The device encodes, frames and
# decodes in place with wire.py and never imports this module: on the chip
# every function loaded costs heap, used or not.
from nodefw import wire


def crc32(data, crc=0):
    """CRC-32 of data, continuing from crc, as binascii.crc32 computes it."""
    c = wire.Crc32()
    c.reset(crc)
    c.update(data, 0, len(data))
    return c.value()


def encode(mtype, rid, schema, values):
    """Message body: header plus the fields of `schema` taken from `values`."""
    out = bytearray(wire.MAX_BODY)
    n = wire.encode_into(out, 0, mtype, rid, schema, values)
    return bytes(out[:n])


def header(body):
    """(type, request id) of a body, checking only the header."""
    wire.check_header(body, 0, len(body))
    return body[1], (body[2] << 8) | body[3]


def frame(body):
    """Stream frame around a body, for byte links with no integrity of their own."""
    n = len(body)
    if not wire.HEADER <= n <= wire.MAX_BODY:
        raise wire.WireError("bad body length " + str(n))
    out = bytearray(n + wire.OVERHEAD)
    out[4 : 4 + n] = body
    wire.frame_into(out, n)
    return bytes(out)


def next_body(dec):
    """The next complete body a wire.Decoder holds, as bytes; None if it needs
    more input. Raises WireError for a corrupt frame, as next_frame() does."""
    n = dec.next_frame()
    if not n:
        return None
    return bytes(dec.buf[dec.body : dec.body + n])
