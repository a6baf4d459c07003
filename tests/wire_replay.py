"""Decode recorded inputs and print one canonical line per input.

Runs on CPython and MicroPython alike, so tests/test_wire_interpreters.py can
replay the same inputs on both and compare the lines: any difference is a
divergence between the device's codec and the host's.

    MICROPYPATH=firmware micropython tests/wire_replay.py INPUTS

INPUTS holds one input per line: the hex of its chunks, separated by commas.
A line shows what messages.decode makes of the chunks joined, then what a
streaming Decoder delivers when fed the chunks one by one (default and 64-byte
max_body).
"""

import sys
from binascii import hexlify, unhexlify

from nodefw import messages, wire, wirebytes


def hx(data):
    return hexlify(bytes(data)).decode()


def failure(e):
    # The text is the codec's own, so it has to match as well.
    if isinstance(e, wire.WireError):
        return "err " + str(e)
    return "EXC " + type(e).__name__ + " " + str(e)


def value(v):
    # Tagged by type, so an int where a bool belongs is a difference.
    if v is True or v is False:
        return "b" + ("1" if v else "0")
    if type(v) is int:
        return "i" + str(v)
    if type(v) is str:
        return "s" + hx(v.encode())
    if type(v) is bytes:
        return "x" + hx(v)
    return "?" + type(v).__name__


def message(data):
    try:
        mtype, rid, fields = messages.decode(data)
    except Exception as e:
        return failure(e)
    parts = ["ok", str(mtype), str(rid)]
    for name in sorted(fields):
        parts.append(name + "=" + value(fields[name]))
    try:
        parts.append(hx(messages.encode(mtype, rid, fields)))
    except Exception as e:
        parts.append(failure(e))
    return " ".join(parts)


def stream(chunks, max_body):
    dec = wire.Decoder(max_body)
    out = []
    for chunk in chunks:
        dec.feed(chunk)
        while True:
            try:
                body = wirebytes.next_body(dec)
            except Exception as e:
                out.append("E(" + failure(e) + ")")
                continue
            if body is None:
                break
            out.append("y" + hx(body))
    out.append("d" + str(dec.dropped))
    out.append("b" + str(dec.bad))
    return " ".join(out)


def describe(chunks):
    """The canonical result line for one input, given as a list of chunks."""
    whole = b"".join(chunks)
    return " | ".join((message(whole), stream(chunks, wire.MAX_BODY), stream(chunks, 64)))


def parse(line):
    return [unhexlify(c) for c in line.strip().split(",")]


def main(path):
    with open(path) as f:
        for line in f:
            print(describe(parse(line)))


if __name__ == "__main__":
    main(sys.argv[1])
