"""RNG health test tests that run unchanged on CPython and on MicroPython.

The device runs nodefw.rng on MicroPython and the host imports the same file,
so both interpreters must agree. Under CPython pytest collects the test_*
functions. On MicroPython run the file as a script (the runner at the bottom):

    MICROPYPATH=firmware:tests micropython -X heapsize=128k tests/test_rng.py

The bad sources are built on a small seeded PRNG, so a failure seen on one
interpreter reproduces on the other.
"""

import os
import sys

from xorshift import Xorshift

from nodefw import rng
from nodefw.rng import STARTUP, WINDOW, HealthyRng, RngFailure

STUCK = 0x5A
DOMINANT = 0xC3


def stuck(prng):
    return STUCK


class Biased:
    """DOMINANT with probability 1/2 and the other 255 values uniform. Samples
    come in pairs, DOMINANT plus one other value in random order, so DOMINANT
    never repeats more than twice in a row and the RCT cannot see the bias.
    Only the APT can."""

    def __init__(self):
        self._pending = None

    def __call__(self, prng):
        if self._pending is not None:
            b = self._pending
            self._pending = None
            return b
        other = prng.byte()
        while other == DOMINANT:
            other = prng.byte()
        if prng.u32() & 1:
            self._pending = other
            return DOMINANT
        self._pending = DOMINANT
        return other


class Source:
    """A byte source for HealthyRng: PRNG bytes until sample number `after`,
    then bad(prng) for each byte (if bad is set). It counts what it gives out.
    Setting bad to None repairs it."""

    def __init__(self, seed=1, bad=None, after=0):
        self.prng = Xorshift(seed)
        self.bad = bad
        self.after = after
        self.drawn = 0

    def __call__(self, n):
        out = bytearray(n)
        for i in range(n):
            if self.bad is not None and self.drawn >= self.after:
                out[i] = self.bad(self.prng)
            else:
                out[i] = self.prng.byte()
            self.drawn += 1
        return bytes(out)


class Periodic:
    """The bytes of `cycle` over and over, one per call: a counter mod 256, or
    a block of random bytes captured once and replayed (a ring buffer)."""

    def __init__(self, cycle):
        self.cycle = cycle
        self.i = 0

    def __call__(self, prng):
        b = self.cycle[self.i]
        self.i = (self.i + 1) % len(self.cycle)
        return b


COUNTER = bytes(range(256))  # a counter mod 256: each window holds every value twice


def periodic_cycles():
    """(name, cycle) for each periodic source the repeated-block test is for."""
    return (
        ("counter mod 256", COUNTER),
        ("64-byte block", Xorshift(41).bytes(64)),
        ("256-byte block", Xorshift(43).bytes(256)),
        ("512-byte period", Xorshift(47).bytes(512)),
        ("1024-byte period", Xorshift(53).bytes(1024)),
    )


class Misbehaving:
    """Source(seed) until `after` samples, then bad(n) on every call instead:
    it raises, or returns something that is not n bytes. Setting bad to None
    repairs it. `calls` counts the calls."""

    def __init__(self, bad, after=0, seed=1):
        self.good = Source(seed)
        self.bad = bad
        self.after = after
        self.calls = 0

    def __call__(self, n):
        self.calls += 1
        if self.bad is not None and self.good.drawn >= self.after:
            return self.bad(n)
        return self.good(n)


def eio(n):
    raise OSError(5)  # EIO: what a failed hardware read raises


def raises(fn, *args):
    """The RngFailure that fn(*args) raises. Fails if it raises nothing."""
    try:
        fn(*args)
    except RngFailure as e:
        return e
    raise AssertionError("no RngFailure")


def read_until_failure(r, n, limit):
    """Read n bytes at a time until RngFailure, returning the exception and
    everything read before it."""
    got = b""
    while len(got) < limit:
        try:
            got += r.read(n)
        except RngFailure as e:
            return e, got
    raise AssertionError("no failure in " + str(limit) + " bytes")


def windows_passed(r):
    """Whole windows before the one that failed, not counting start-up."""
    return (r.samples - 1 - STARTUP) // WINDOW


class Runs:
    """The longest run of one value in data fed piece by piece."""

    def __init__(self):
        self.longest = self.run = 0
        self.last = -1

    def feed(self, data):
        for b in data:
            self.run = self.run + 1 if b == self.last else 1
            self.last = b
            if self.run > self.longest:
                self.longest = self.run


# --- cutoffs ----------------------------------------------------------------------


def test_cutoffs():
    r = HealthyRng(Source())
    assert r.entropy == rng.ENTROPY == 4
    assert r.rct_cutoff == 6
    assert r.apt_cutoff == 63
    assert STARTUP >= 1024
    assert WINDOW == 512
    # RCT: the smallest C with (2^-H)^(C - 1) <= 2^-20, checked in exponents.
    for h in range(1, 9):
        c = rng.rct_cutoff(h)
        assert h * (c - 1) >= 20 > h * (c - 2), h
        assert HealthyRng(Source(), entropy=h).apt_cutoff == rng.APT_CUTOFFS[h - 1]
    # More entropy claimed, a tighter APT cutoff (tests/test_rng_interpreters.py
    # recomputes the exact values).
    cuts = rng.APT_CUTOFFS
    assert len(cuts) == 8
    assert all(cuts[i] > cuts[i + 1] for i in range(7))


def test_bad_entropy_rejected():
    for h in (0, 9, -4, 2.5, "4", None):
        try:
            HealthyRng(Source(), entropy=h)
        except ValueError:
            continue
        raise AssertionError("accepted entropy " + repr(h))


# --- a good source ------------------------------------------------------------------


def test_good_source_long_run():
    # A uniform source trips the RCT with probability about 2^-40 per sample,
    # and the APT with far less than the 2^-20 per window its H = 4 cutoff
    # allows. So 64 KiB of os.urandom (plus the discarded window tails) must
    # pass. Reads of 1 KiB keep it inside a 64 KiB MicroPython heap.
    r = HealthyRng()
    total = 0
    while total < 64 * 1024:
        data = r.read(1024)
        assert len(data) == 1024
        total += len(data)
    assert r.samples >= STARTUP + total


def test_read_lengths():
    r = HealthyRng(Source(7))
    assert r.read(0) == b""
    for n in (1, 31, 32, 64, 65, 511, 512, 513, 1500):
        data = r.read(n)
        assert isinstance(data, bytes), n
        assert len(data) == n, n
    try:
        r.read(-1)
    except ValueError:
        pass
    else:
        raise AssertionError("read(-1) accepted")


def test_bytes_are_the_source_bytes_from_whole_windows():
    ref = Source(3)  # the same stream, read alongside (small pieces: small heap)
    r = HealthyRng(Source(3))
    assert r.samples == STARTUP
    ref(STARTUP)
    # Each read starts a window and throws away the rest of its last window.
    assert r.read(100) == ref(100)
    assert r.samples == 1536
    ref(412)
    assert r.read(600) == ref(600)
    assert r.samples == 2560
    ref(424)
    assert r.read(512) == ref(512)
    assert r.samples == 3072
    assert r.read(0) == b""
    assert r.samples == 3072


# --- start-up and reset -------------------------------------------------------------


def test_startup_consumes_at_least_1024_samples():
    src = Source(5)
    r = HealthyRng(src)
    assert src.drawn >= 1024
    assert r.samples == src.drawn  # every byte drawn was tested
    before = src.drawn
    r.reset()
    assert src.drawn - before >= 1024
    assert r.samples == src.drawn - before


def test_not_started_until_reset():
    src = Source(5)
    r = HealthyRng(src, start=False)
    assert src.drawn == 0
    raises(r.read, 1)
    assert src.drawn == 0
    r.reset()
    assert len(r.read(16)) == 16


def test_reset_recovers_with_good_source():
    src = Source(9, bad=stuck, after=STARTUP + 700)
    r = HealthyRng(src)
    read_until_failure(r, 32, 8192)
    # Still broken: reset fails too, and the object stays failed.
    raises(r.reset)
    raises(r.read, 32)
    src.bad = None
    r.reset()
    assert r.samples == STARTUP
    for _ in range(20):
        assert len(r.read(32)) == 32


# --- a stuck source -------------------------------------------------------------------


def test_stuck_source_fails_startup():
    src = Source(bad=stuck)
    r = HealthyRng(src, start=False)
    e = raises(r.reset)
    assert "repetition" in str(e)
    assert r.samples == r.rct_cutoff  # caught at the C-th stuck sample
    raises(HealthyRng, Source(bad=stuck))


def test_source_that_gets_stuck_is_caught_within_c_samples():
    after = STARTUP + 5000
    r = HealthyRng(Source(11, bad=stuck, after=after))
    e, got = read_until_failure(r, 16, 8192)
    assert "repetition" in str(e)
    # The previous good byte may already equal STUCK: then one sample sooner.
    assert after < r.samples <= after + r.rct_cutoff
    assert len(got) == 16 * windows_passed(r)


# --- a biased source -----------------------------------------------------------------


def test_biased_source_has_short_runs():
    # 64 KiB in 1 KiB pieces to fit a 64 KiB MicroPython heap.
    src = Source(13, bad=Biased())
    runs = Runs()
    dominant = 0
    for _ in range(64):
        data = src(1024)
        runs.feed(data)
        dominant += data.count(bytes([DOMINANT]))
    assert runs.longest < rng.rct_cutoff(rng.ENTROPY)
    assert dominant == 32 * 1024


def test_biased_source_caught_by_apt():
    # Every window that starts with DOMINANT fails: about half of them. This
    # seed's source turns biased right after start-up and is caught within a
    # few windows.
    r = HealthyRng(Source(13, bad=Biased(), after=STARTUP))
    e, got = read_until_failure(r, 32, 64 * 1024)
    assert "adaptive proportion" in str(e)
    assert r.samples <= STARTUP + 4 * WINDOW
    # Each read took one whole window, and only windows that passed gave bytes.
    assert len(got) == 32 * windows_passed(r)


def test_biased_source_fails_startup():
    e = raises(HealthyRng, Source(17, bad=Biased()))
    assert "adaptive proportion" in str(e)


# --- failing stays failed, and failing windows give nothing ---------------------------


def test_failed_stays_failed():
    src = Source(19, bad=stuck, after=STARTUP + 100)
    r = HealthyRng(src)
    raises(r.read, 32)
    src.bad = None  # the source recovers on its own: not good enough
    drawn = src.drawn
    for n in (0, 1, 32, 1000):
        e = raises(r.read, n)
        assert "repetition" in str(e)
    assert src.drawn == drawn  # nothing drawn while failed


def test_source_turning_bad_mid_read_returns_nothing():
    r = HealthyRng(Source(23, bad=stuck, after=STARTUP + 100))
    raises(r.read, 300)


def test_bad_window_tail_condemns_the_read():
    # The 32 bytes themselves are good, but the rest of their window is not.
    r = HealthyRng(Source(29, bad=stuck, after=STARTUP + 40))
    raises(r.read, 32)
    # A read over two windows whose second window goes bad late.
    r = HealthyRng(Source(29, bad=stuck, after=STARTUP + 700))
    raises(r.read, 600)


def test_short_source_is_a_failure():
    r = HealthyRng(Source(31))
    r._source = lambda n: os.urandom(n)[:-1] if n > 1 else b""
    e = raises(r.read, 32)
    assert "source gave" in str(e)
    r._source = os.urandom
    raises(r.read, 32)
    r.reset()
    assert len(r.read(32)) == 32


def test_long_source_is_a_failure():
    r = HealthyRng(Source(31))
    r._source = lambda n: os.urandom(n + 1)
    e = raises(r.read, 32)
    assert "source gave" in str(e)
    r._source = os.urandom
    raises(r.read, 32)


# --- a source that raises or returns the wrong thing ---------------------------------


def test_source_raising_oserror_fails_startup():
    # os.urandom on a chip whose hardware read fails raises OSError. That must
    # come out as RngFailure (the one exception app.check_rng catches), with
    # the reason, and the object must stay failed.
    src = Misbehaving(eio)
    r = HealthyRng(src, start=False)
    e = raises(r.reset)
    assert "source raised OSError" in str(e), str(e)
    calls = src.calls
    e = raises(r.read, 32)
    assert "source raised OSError" in str(e)
    assert src.calls == calls  # failed: the source is not asked again
    e = raises(HealthyRng, Misbehaving(eio))
    assert "OSError" in str(e)


def test_source_raising_mid_read_stays_failed_until_reset():
    src = Misbehaving(eio, after=STARTUP + 700, seed=37)
    r = HealthyRng(src)
    e, got = read_until_failure(r, 32, 8192)
    assert "source raised OSError" in str(e)
    assert len(got) == 32  # the first read's window was all good bytes
    src.bad = None  # the hardware recovers: not good enough until reset()
    calls = src.calls
    for n in (0, 1, 32):
        e = raises(r.read, n)
        assert "OSError" in str(e)
    assert src.calls == calls
    r.reset()
    assert len(r.read(32)) == 32


def test_source_raising_anything_is_a_failure():
    for exc in (ValueError("bad"), MemoryError(), RngFailure("inner")):

        def bad(n, exc=exc):
            raise exc

        e = raises(HealthyRng, Misbehaving(bad))
        assert "source raised " + type(exc).__name__ in str(e), str(e)


def test_source_returning_non_bytes_is_a_failure():
    bads = (
        lambda n: None,
        lambda n: "x" * n,
        lambda n: [7] * n,
        lambda n: n,
        lambda n: bytearray(os.urandom(n)),
    )
    for bad in bads:
        e = raises(HealthyRng, Misbehaving(bad))
        assert "not bytes" in str(e), str(e)
    # Mid-read too, and it stays failed until reset() passes.
    src = Misbehaving(None, after=STARTUP + 100, seed=39)
    r = HealthyRng(src)
    src.bad = bads[0]
    e = raises(r.read, 32)
    assert "source gave NoneType, not bytes" in str(e), str(e)
    src.bad = None
    raises(r.read, 32)
    r.reset()
    assert len(r.read(32)) == 32


def test_shared_rng_on_a_raising_source_fails_with_rngfailure():
    # What app.check_rng does at boot: rng.shared(board.entropy).read(32),
    # catching RngFailure only.
    saved = rng._shared
    rng._shared = None
    try:
        e = raises(lambda: rng.shared(eio).read(32))
        assert "source raised OSError" in str(e)
        assert rng.shared() is rng.shared()
        raises(rng.shared().read, 32)  # stays failed
    finally:
        rng._shared = saved


# --- a periodic source ----------------------------------------------------------------


def test_periodic_sources_pass_rct_and_apt():
    # Why the repeated-block test is needed: SP 800-90B's two tests cannot see
    # these sources. Their runs are short, and no window's first value comes
    # near the APT cutoff (the counter puts each value in a window twice).
    for name, cycle in periodic_cycles():
        src = Source(bad=Periodic(cycle))
        runs = Runs()
        worst = 0
        for _ in range(8):
            window = src(WINDOW)
            runs.feed(window)
            c = window.count(bytes([window[0]]))
            if c > worst:
                worst = c
        assert runs.longest < rng.rct_cutoff(rng.ENTROPY), name
        assert worst < rng.APT_CUTOFFS[rng.ENTROPY - 1], name


def test_periodic_source_fails_startup():
    # Caught at the first block that repeats one of the 16 before it. On the
    # code without the repeated-block test each of these passed start-up, and
    # the last three gave the same 32 bytes to every read.
    for name, cycle, at in (
        ("counter mod 256", COUNTER, 5 * 64),
        ("64-byte block", Xorshift(41).bytes(64), 2 * 64),
        ("256-byte block", Xorshift(43).bytes(256), 5 * 64),
        ("512-byte period", Xorshift(47).bytes(512), 9 * 64),
    ):
        r = HealthyRng(Source(bad=Periodic(cycle)), start=False)
        e = raises(r.reset)
        assert "repeated block" in str(e), name + ": " + str(e)
        assert r.samples == at, name
        raises(r.read, 32)  # stays failed


def test_period_of_1024_fails_the_first_read():
    # Start-up (16 blocks) is all new blocks; the 17th repeats the 1st.
    r = HealthyRng(Source(bad=Periodic(Xorshift(53).bytes(1024))))
    e = raises(r.read, 32)
    assert "repeated block" in str(e)
    assert r.samples == STARTUP + 64


def test_source_turning_periodic_never_repeats_a_read():
    # The source turns periodic after start-up, on a block boundary or not.
    # No read may hand out bytes it handed out before, and the first repeated
    # block fails: the one a period after the first wholly periodic block.
    for name, cycle in periodic_cycles():
        for after in (STARTUP + 700, STARTUP + 2048):
            src = Source(59, bad=Periodic(cycle), after=after)
            r = HealthyRng(src)
            e, got = read_until_failure(r, 32, 16 * 1024)
            assert "repeated block" in str(e), name + ": " + str(e)
            first = (after + 63) // 64 * 64
            assert r.samples == first + len(cycle) + 64, name
            reads = [got[i : i + 32] for i in range(0, len(got), 32)]
            for i in range(len(reads)):
                assert reads[i] not in reads[:i], name


def test_healthy_binary_source_passes_repeated_block_test():
    # One bit per byte (entropy=1): a healthy source with few values. Two of
    # its blocks are equal with probability 2^-64, so 16 KiB of it (256 blocks,
    # each compared with the 16 before) passes.
    r = HealthyRng(Source(61, bad=lambda prng: prng.u32() >> 31), entropy=1)
    for _ in range(32):
        assert len(r.read(512)) == 512


# --- the shared instance --------------------------------------------------------------


def test_random_bytes():
    a = rng.random_bytes(32)
    b = rng.random_bytes(32)
    assert len(a) == len(b) == 32
    assert a != b
    assert rng.shared() is rng.shared()
    assert rng.shared().samples >= STARTUP


if __name__ == "__main__":  # MicroPython (no pytest): MICROPYPATH has tests/
    from mpy_runner import run_all

    sys.exit(1 if run_all(globals()) else 0)
