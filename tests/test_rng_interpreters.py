"""RNG health tests across interpreters, and their cutoffs (CPython only).

The shared tests in test_rng.py run here on the MicroPython unix port, and
nodefw.rng alone runs in a heap the size of the ESP8266's. The cutoffs
hard-coded in nodefw.rng are recomputed from exact binomial sums, because the
device cannot do that itself.
"""

from __future__ import annotations

import ast
import os
from fractions import Fraction
from math import comb
from pathlib import Path

import pytest

from homeca.testing.micropython import run_micropython
from nodefw import rng

TESTS = Path(__file__).resolve().parent
FIRMWARE = TESTS.parent / "firmware"
RNG_TESTS = TESTS / "test_rng.py"
ALPHA = Fraction(1, 2**20)  # SP 800-90B's false-alarm probability per test


def test_rng_tests_pass_on_micropython():
    tree = ast.parse(RNG_TESTS.read_text())
    n = sum(
        isinstance(node, ast.FunctionDef) and node.name.startswith("test_") for node in tree.body
    )
    # Most of this heap goes on compiling the test file (the 64-bit port
    # builds its parse tree at once); the next test holds the firmware to the
    # chip's heap.
    proc = run_micropython(
        str(RNG_TESTS), path=[FIRMWARE, TESTS], heapsize="128k", timeout=120, cwd=TESTS.parent
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert proc.stdout.splitlines()[-1] == f"{n} passed, 0 failed", out


CHIP_HEAP = """
import gc
import os
from nodefw import rng

gc.collect()
before = gc.mem_alloc()
r = rng.HealthyRng()
gc.collect()
print("kept", gc.mem_alloc() - before)
for _ in range(2048):  # 64 KiB in the 32-byte reads that keys take
    assert len(r.read(32)) == 32

def eio(n):
    raise OSError(5)

block = os.urandom(64)
for source in (eio, lambda n: None, lambda n: block):
    try:
        rng.HealthyRng(source)
    except rng.RngFailure as e:
        print("failed:", e)
print("ok")
"""


def test_rng_runs_in_a_chip_sized_heap():
    # 38 KiB is the ESP8266's heap, and this port's 64-bit objects are bigger
    # than the chip's. The health tests' state (the repeated-block test's
    # history included) stays small, reads allocate nothing that lives on, and
    # a raising, non-bytes or periodic source is an RngFailure here too.
    proc = run_micropython("-c", CHIP_HEAP, path=[FIRMWARE], heapsize="38k", timeout=120)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("kept "), out
    assert int(lines[0].split()[1]) <= 1024, out
    assert lines[1].startswith("failed: rng: source raised OSError"), out
    assert lines[2] == "failed: rng: source gave NoneType, not bytes", out
    assert lines[3] == "failed: rng: repeated block test failed", out
    assert lines[4:] == ["ok"], out


def tails(h: int) -> list[Fraction]:
    """P(X >= k) for k = 0..W, exactly, for X ~ Binomial(W - 1, 2^-H): the
    matches of the window's first sample among the other samples, each of
    which matches with probability at most 2^-H. Integer sums over 2^(H*n)."""
    n = rng.WINDOW - 1
    odds = 2**h - 1  # P(no match) = odds / 2^H
    terms = [comb(n, j) * odds ** (n - j) for j in range(n + 1)]
    out = [Fraction(0)] * (n + 2)
    acc = 0
    for k in range(n, -1, -1):
        acc += terms[k]
        out[k] = Fraction(acc, 2 ** (h * n))
    assert out[0] == 1
    return out


def apt_cutoff(h: int) -> int:
    """The smallest C with P(B >= C) <= alpha, where B = 1 + X counts the
    window's first sample too, as SP 800-90B's APT does."""
    t = tails(h)
    c = 1
    while t[c - 1] > ALPHA:
        c += 1
    return c


def critbinom(h: int, q: Fraction) -> int:
    """Excel's CRITBINOM(W - 1, 2^-H, q): the smallest k with P(X <= k) >= q."""
    t = tails(h)
    return next(k for k in range(rng.WINDOW) if 1 - t[k + 1] >= q)


@pytest.mark.parametrize("h", range(1, 9))
def test_apt_cutoff(h):
    c = rng.APT_CUTOFFS[h - 1]
    assert c == apt_cutoff(h)
    t = tails(h)
    assert t[c - 1] <= ALPHA < t[c - 2]
    assert c == 2 + critbinom(h, 1 - ALPHA)


def test_apt_cutoff_for_default_entropy():
    assert rng.ENTROPY == 4
    assert rng.APT_CUTOFFS[rng.ENTROPY - 1] == 63
    # SP 800-90B's table gives 62. With B counted from 1 that cutoff fails a
    # good window with probability about 1.33 * 2^-20, more than alpha.
    assert tails(4)[61] > ALPHA


@pytest.mark.parametrize("h", range(1, 9))
def test_rct_cutoff(h):
    # A good source repeats a value C - 1 more times with probability at most
    # (2^-H)^(C - 1): C is the smallest cutoff where that is <= alpha.
    p = Fraction(1, 2**h)
    c = 2
    while p ** (c - 1) > ALPHA:
        c += 1
    assert rng.rct_cutoff(h) == c
    assert rng.HealthyRng(os.urandom, entropy=h).rct_cutoff == c
