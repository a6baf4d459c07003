"""The wire codec across interpreters (CPython only).

The device decodes on MicroPython what the host encodes on CPython, so this
runs the shared codec tests on the MicroPython unix port, checks codec
properties with hypothesis, and replays the same inputs on both interpreters
to catch any divergence between them.
"""

from __future__ import annotations

import ast
import subprocess
import tempfile
from pathlib import Path

import pytest
import wire_replay as replay
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# One field of every kind, the integer ranges, the frame overhead: the shared
# codec tests' own definitions (that file is plain Python on both interpreters).
from test_wire_codec import ALL_KINDS, INT_RANGES, OVERHEAD, fields

from homeca.testing.micropython import run_micropython
from nodefw import messages, simctl, wire, wirebytes

TESTS = Path(__file__).resolve().parent
FIRMWARE = TESTS.parent / "firmware"
CODEC_TESTS = TESTS / "test_wire_codec.py"
REPLAY = TESTS / "wire_replay.py"
# Every schema by type; the catalogue and simctl type ranges do not overlap.
SCHEMAS = {**messages.SCHEMAS, **simctl.SCHEMAS, 0x77: ALL_KINDS}


def run_shared(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return run_micropython(
        *args, path=[FIRMWARE, TESTS], heapsize="256k", timeout=timeout, cwd=TESTS.parent
    )


# --- the shared tests on MicroPython ---------------------------------------------


def test_codec_tests_pass_on_micropython():
    tree = ast.parse(CODEC_TESTS.read_text())
    n = sum(
        isinstance(node, ast.FunctionDef) and node.name.startswith("test_") for node in tree.body
    )
    proc = run_shared(str(CODEC_TESTS), timeout=120)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert proc.stdout.splitlines()[-1] == f"{n} passed, 0 failed", out


# --- strategies --------------------------------------------------------------------


def field(kind: int, size: int) -> st.SearchStrategy:
    if kind == wire.BOOL:
        return st.booleans()
    if kind in INT_RANGES:
        return st.integers(*INT_RANGES[kind])
    if kind == wire.BYTES:
        return st.binary(min_size=size, max_size=size)
    if kind == wire.VAR:
        return st.binary(max_size=size)
    return st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=size)


def values_for(schema) -> st.SearchStrategy:
    return st.fixed_dictionaries({name: field(kind, size) for name, kind, size in fields(schema)})


@st.composite
def bodies(draw) -> bytes:
    mtype = draw(st.sampled_from(sorted(SCHEMAS)))
    schema = SCHEMAS[mtype]
    return wirebytes.encode(mtype, draw(st.integers(0, 0xFFFF)), schema, draw(values_for(schema)))


# Garbage that cannot start a frame, and garbage that can.
clean_garbage = st.binary(max_size=24).map(lambda b: b.replace(b"\xf3", b""))
any_garbage = st.one_of(
    st.binary(max_size=24),
    st.binary(max_size=12).map(lambda b: b"\xf3\x8c" + b),  # a false start
)


def put(data: bytes, i: int, b: int) -> bytes:
    return data[:i] + bytes([b]) + data[i + 1 :]


@st.composite
def mutated(draw, data: bytes) -> bytes:
    """data after one random edit: the damage a noisy serial line does."""
    n = len(data)
    at = draw(st.integers(0, n))
    op = draw(st.sampled_from(["flip", "cut", "insert", "delete", "dup", "set"]))
    if op == "flip" and n:
        i = draw(st.integers(0, n - 1))
        return put(data, i, data[i] ^ (1 << draw(st.integers(0, 7))))
    if op == "cut":
        return data[:at]
    if op == "insert":
        return data[:at] + draw(st.binary(min_size=1, max_size=4)) + data[at:]
    if op == "delete":
        return data[:at] + data[at + draw(st.integers(1, 8)) :]
    if op == "dup":
        return data[:at] + data[at : at + draw(st.integers(1, 16))] + data[at:]
    if n:
        i = draw(st.integers(0, n - 1))
        return put(data, i, draw(st.sampled_from([0, 1, 0x7F, 0xFF, 0xF3, 0x8C])))
    return data


chunk_sizes = st.lists(st.integers(1, wire.MAX_BODY), max_size=12)


def split(data: bytes, sizes: list[int]) -> list[bytes]:
    """data cut into chunks of the given sizes, cycled; never over MAX_BODY,
    the most the Decoder takes per drain without overflowing."""
    sizes = sizes or [wire.MAX_BODY]
    chunks = []
    pos = 0
    while pos < len(data):
        k = sizes[len(chunks) % len(sizes)]
        chunks.append(data[pos : pos + k])
        pos += k
    return chunks


def feed(dec: wire.Decoder, chunks: list[bytes]) -> tuple[list[bytes], int]:
    got = []
    errors = 0
    for chunk in chunks:
        dec.feed(chunk)
        while True:
            try:
                body = wirebytes.next_body(dec)
            except wire.WireError:
                errors += 1
                continue
            if body is None:
                break
            got.append(body)
    return got, errors


def is_subsequence(items: list[bytes], seq: list[bytes]) -> bool:
    rest = iter(seq)
    return all(any(x == y for y in rest) for x in items)


def check_body(data: bytes) -> None:
    """Only WireError, and whatever is accepted re-encodes to the same bytes."""
    try:
        mtype, rid, fields = messages.decode(data)
    except wire.WireError:
        pass
    else:
        assert messages.encode(mtype, rid, fields) == data
    for schema in SCHEMAS.values():
        try:
            fields = wire.decode(data, schema)
        except wire.WireError:
            continue
        mtype, rid = wirebytes.header(data)
        assert wirebytes.encode(mtype, rid, schema, fields) == data


def check_stream(data: bytes, sizes: list[int]) -> None:
    """A body only ever comes out of the bytes it was framed in: its exact frame
    is somewhere in the input. Every input byte is delivered or dropped."""
    dec = wire.Decoder()
    got, errors = feed(dec, split(data, sizes))
    for body in got:
        assert wirebytes.frame(body) in data
        check_body(body)
    assert dec.bad == errors
    dec.reset()
    assert len(data) == dec.dropped + sum(len(b) + OVERHEAD for b in got)


# --- properties on CPython ----------------------------------------------------------


@pytest.mark.parametrize("mtype", sorted(SCHEMAS), ids=hex)
@settings(deadline=None, max_examples=60)
@given(data=st.data())
def test_roundtrip(mtype, data):
    schema = SCHEMAS[mtype]
    rid = data.draw(st.integers(0, 0xFFFF))
    values = data.draw(values_for(schema))
    body = wirebytes.encode(mtype, rid, schema, values)
    assert wirebytes.header(body) == (mtype, rid)
    assert wire.decode(body, schema) == values
    if mtype in messages.SCHEMAS:
        assert messages.encode(mtype, rid, values) == body
        assert messages.decode(body) == (mtype, rid, values)
    dec = wire.Decoder()
    assert feed(dec, [wirebytes.frame(body)]) == ([body], 0)


@settings(deadline=None, max_examples=150)
@given(data=st.data(), msgs=st.lists(bodies(), min_size=1, max_size=5), sizes=chunk_sizes)
def test_frames_in_clean_garbage_all_come_out(data, msgs, sizes):
    # Without 0xF3 the garbage can never look like a frame start: nothing is
    # lost, nothing is reported corrupt, and all the garbage is counted.
    stream = b""
    garbage = 0
    for body in msgs:
        g = data.draw(clean_garbage)
        garbage += len(g)
        stream += g + wirebytes.frame(body)
    g = data.draw(clean_garbage)
    stream += g
    garbage += len(g)
    dec = wire.Decoder()
    assert feed(dec, split(stream, sizes)) == (msgs, 0)
    assert dec.bad == 0
    dec.reset()
    assert dec.dropped == garbage


@settings(deadline=None, max_examples=150)
@given(data=st.data(), msgs=st.lists(bodies(), min_size=1, max_size=5), sizes=chunk_sizes)
def test_frames_in_any_garbage(data, msgs, sizes):
    stream = b""
    for body in msgs:
        stream += data.draw(any_garbage) + wirebytes.frame(body)
    stream += data.draw(any_garbage)
    # Zeros complete any false start still waiting for its claimed length.
    stream += bytes(wire.MAX_BODY + OVERHEAD)
    dec = wire.Decoder()
    got, errors = feed(dec, split(stream, sizes))
    for body in got:
        assert wirebytes.frame(body) in stream
    assert dec.bad == errors
    # A false start whose CRC happened to match could swallow good frames; the
    # check above is all that holds then. Otherwise every frame comes out.
    if all(body in msgs for body in got):
        assert is_subsequence(msgs, got)


noise = st.one_of(
    st.binary(max_size=300),
    st.binary(max_size=120).map(lambda b: b"\x01" + b),
    st.tuples(st.sampled_from(sorted(SCHEMAS)), st.binary(max_size=120)).map(
        lambda t: bytes([wire.VERSION, t[0]]) + t[1]
    ),
)
framed_noise = st.binary(min_size=3, max_size=200).map(lambda b: wirebytes.frame(b"\x01" + b))


@settings(deadline=None, max_examples=300)
@given(data=st.one_of(noise, framed_noise), sizes=st.lists(st.integers(1, 64), max_size=8))
def test_arbitrary_bytes_only_wire_error(data, sizes):
    check_body(data)
    check_stream(data, sizes)


@settings(deadline=None, max_examples=200)
@given(data=st.data(), body=bodies())
def test_mutated_bodies_and_frames(data, body):
    bad = data.draw(mutated(body))
    check_body(bad)
    check_stream(wirebytes.frame(bad) if 4 <= len(bad) <= wire.MAX_BODY else bad, [])
    stream = data.draw(mutated(wirebytes.frame(body) + wirebytes.frame(data.draw(bodies()))))
    check_stream(stream, data.draw(chunk_sizes))


# --- CPython and MicroPython agree ---------------------------------------------------


@st.composite
def replay_inputs(draw) -> list[bytes]:
    kind = draw(st.sampled_from(["body", "mutated", "noise", "stream", "mutated stream"]))
    if kind == "body":
        data = draw(bodies())
    elif kind == "mutated":
        data = draw(mutated(draw(bodies())))
    elif kind == "noise":
        data = draw(noise)
    else:
        data = b""
        for _ in range(draw(st.integers(1, 3))):
            data += draw(any_garbage) + wirebytes.frame(draw(bodies()))
        if kind == "mutated stream":
            data = draw(mutated(data))
    sizes = draw(st.lists(st.integers(1, 64), max_size=6))
    return split(data, sizes) or [b""]


@settings(
    deadline=None,
    max_examples=15,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(inputs=st.lists(replay_inputs(), min_size=20, max_size=30))
def test_micropython_decodes_like_cpython(inputs):
    lines = [",".join(chunk.hex() for chunk in chunks) for chunks in inputs]
    expected = [replay.describe(chunks) for chunks in inputs]
    for line, result in zip(lines, expected, strict=True):
        assert "EXC" not in result, f"CPython: non-WireError for {line}: {result}"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "inputs.txt"
        path.write_text("".join(line + "\n" for line in lines))
        proc = run_shared(str(REPLAY), str(path), timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    actual = proc.stdout.splitlines()
    assert len(actual) == len(expected), proc.stdout + proc.stderr
    for line, want, got in zip(lines, expected, actual, strict=True):
        assert got == want, f"input {line}\nCPython:     {want}\nMicroPython: {got}"
