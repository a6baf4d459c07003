# Continuous health tests on the device's random bytes (NIST SP 800-90B 4.4).
# On the ESP8266 os.urandom reads an undocumented hardware register that
# nobody has assessed, and the HomeCA paper calls it suspect. Every byte goes
# through SP 800-90B's two cheap tests, and every 64-byte block through a
# repeated-block test, before it can end up in a key. So a stuck, badly
# biased or periodic source, or one that raises, stops key generation instead
# of silently weakening the keys. Runs unchanged on CPython and MicroPython.
try:
    from micropython import const
except ImportError:  # CPython

    def const(x):
        return x


import hashlib
import os

# Assessed min-entropy H in bits per byte. Nobody has assessed this source, so
# we claim half of the 8 bits. That is conservative: a healthy source almost
# never trips the tests (each cutoff is set for a worst case of 2^-H per
# value), and a stuck source or one value near 1 in 8 still trips them.
ENTROPY = const(4)
WINDOW = const(512)  # APT window size, SP 800-90B 4.4.2 for non-binary samples
STARTUP = const(1024)  # samples tested and thrown away before first use (4.3)
BLOCK = const(64)  # bytes asked of the source at a time, and the block tested
HISTORY = const(16)  # blocks a new block is compared with: 1024 samples
_FP = const(8)  # bytes of a block's fingerprint

# Repeated-block test (after FIPS 140-2's continuous RNG test, which compares
# each block with the one before). SP 800-90B's two tests only look at runs of
# one value and at one value's share of a window, so a periodic source passes
# them: a counter mod 256, or a 64-, 256- or 512-byte block over and over. And
# since every read() starts a fresh window, a source whose period divides 512
# would give the same bytes to every read. So each block (64 samples, aligned
# to the window, so block i of a window lines up with block i of the one
# before) is fingerprinted with SHA-256 cut to 8 bytes and refused if its
# fingerprint occurs anywhere among the last HISTORY blocks' fingerprints, so
# a block may not repeat any of the 16 blocks (1024 samples) before it, across
# reads too. That catches every period p with lcm(p, 64) <= 1024: every
# multiple of 64 up to 1024 and every divisor of 1024 (a counter mod 256 at its
# 5th block, a repeated 64-byte block at its 2nd, a period of 512 at the 1st
# block of its 2nd window, before that window's read returns). Longer periods
# pass (with a period of 2048 every 4th read would repeat): HISTORY trades RAM
# for reach. Cost: a 128-byte bytearray and one SHA-256 of 64 bytes (in C) per
# block, whose hash object and digest are garbage at once.
#
# False alarm on a healthy source: two different blocks are equal with
# probability at most 2^(-64 H) <= 2^-64 (H >= 1 bit per sample, as the APT
# cutoffs assume), and a new fingerprint matches any of the 121 8-byte strings
# in the history (aligned or not: `in` searches the bytes) by chance with
# probability 2^-64 each. So a block fails with probability below
# 16 * 2^-64 + 121 * 2^-64 < 2^-56, and a window (8 blocks) below 2^-53:
# nothing next to the 2^-20 that the RCT and APT each allow.

# APT cutoffs for H = 1..8 bits per byte. For each H this is the smallest C
# with P(B >= C) <= 2^-20, where B = 1 + Binomial(WINDOW - 1, 2^-H): the
# window's first sample plus its matches among the other 511 samples. It was
# computed with exact integer binomial sums on the host, and
# tests/test_rng_interpreters.py recomputes it the same way. This is
# 2 + CRITBINOM(511, 2^-H, 1 - 2^-20). SP 800-90B's table uses one less
# (62 for H = 4), and that cutoff fails a good window with probability
# 1.33 * 2^-20, which is more than alpha. The APT is not computed here because
# the exact sums need big integers the device cannot spare.
APT_CUTOFFS = (311, 178, 104, 63, 40, 26, 18, 14)


class RngFailure(Exception):
    """The source failed a health test or has not passed start-up, so there
    are no random bytes. This is deliberately not an OSError: code that reads
    OSError as "file missing" or "network down" must not swallow it and go on
    without keys."""


def rct_cutoff(entropy):
    # SP 800-90B 4.4.1: C = 1 + ceil(20 / H), so that a good source repeats
    # one value C times in a row with probability 2^(-H * (C - 1)) <= 2^-20.
    return 1 + (20 + entropy - 1) // entropy


class HealthyRng:
    """Random bytes from source(n) -> n bytes (default os.urandom) that have
    passed the Repetition Count Test, the Adaptive Proportion Test and the
    repeated-block test.

    Each byte is one sample, and the tests run across calls. A source that
    raises, or returns anything but n bytes, has failed too. The first
    failure raises RngFailure. After that every call raises until reset()
    passes the start-up test again. With start=False the object starts out
    failed and waits for reset()."""

    def __init__(self, source=None, entropy=ENTROPY, start=True):
        if not isinstance(entropy, int) or not 1 <= entropy <= 8:
            raise ValueError("entropy must be 1..8 bits per byte")
        self._source = os.urandom if source is None else source
        self.entropy = entropy
        self.rct_cutoff = rct_cutoff(entropy)
        self.apt_cutoff = APT_CUTOFFS[entropy - 1]
        self._clear()
        if start:
            self.reset()

    def _clear(self):
        self._failed = True
        self._why = "rng: not started, call reset()"
        self._last = -1  # RCT: the previous sample and its run length
        self._run = 0
        self._first = -1  # APT: the window's first sample and its count
        self._count = 0
        self._pos = 0  # samples so far in the current window
        self._windows = 0  # completed windows, for the samples count
        self._seen = bytearray(HISTORY * _FP)  # the last blocks' fingerprints
        self._slot = 0  # where the next fingerprint goes in _seen

    @property
    def samples(self):
        """Samples tested since the last reset, including the failing one."""
        return self._windows * WINDOW + self._pos

    def reset(self):
        """Forget all test state and run the start-up test again. Raises
        RngFailure, and the object stays failed, if the source still fails."""
        self._clear()
        self._why = "rng: start-up test did not finish"
        for _ in range(STARTUP // BLOCK):
            self._draw()
        self._failed = False

    def read(self, n):
        """n bytes that have passed the tests, or RngFailure."""
        if self._failed:
            raise RngFailure(self._why)
        if n < 0:
            raise ValueError("negative length")
        out = bytearray(n)
        got = 0
        while got < n:
            block = self._draw()
            k = n - got
            if k >= BLOCK:
                k = BLOCK
            else:
                block = block[:k]
            out[got : got + k] = block
            got += k
        # Finish the window before handing the bytes out. A failure later in
        # the window would condemn these bytes too, and holding the bytes in a
        # buffer would cost more RAM than throwing the rest of the window away.
        # The last block's unused bytes go with them.
        while self._pos:  # 0 again at the window's end
            self._draw()
        return bytes(out)

    def _draw(self):
        # One whole block, so blocks stay aligned to the window whatever the
        # read lengths. Anything wrong with the source is a failed source:
        # the caller must get RngFailure, never the source's own exception.
        try:
            block = self._source(BLOCK)
        except Exception as e:  # OSError, or any other: no tested bytes
            # (from None: MicroPython warns about chaining. The reason names e.)
            raise self._fail("rng: source raised %s: %s" % (type(e).__name__, e)) from None
        if not isinstance(block, bytes):
            raise self._fail("rng: source gave " + type(block).__name__ + ", not bytes")
        if len(block) != BLOCK:
            raise self._fail("rng: source gave %d of %d bytes" % (len(block), BLOCK))
        self._test(block)
        fp = hashlib.sha256(block).digest()[:_FP]
        if fp in self._seen:
            raise self._fail("rng: repeated block test failed")
        i = self._slot
        self._seen[i : i + _FP] = fp
        i += _FP
        self._slot = 0 if i == HISTORY * _FP else i
        return block

    def _fail(self, why):
        self._failed = True
        self._why = why
        return RngFailure(why)

    def _test(self, buf):
        # Copy the state into locals: much faster on MicroPython.
        last = self._last
        run = self._run
        first = self._first
        count = self._count
        pos = self._pos
        rct = self.rct_cutoff
        apt = self.apt_cutoff
        for b in buf:
            # Repetition Count Test (4.4.1): one value rct times in a row.
            if b == last:
                run += 1
                if run >= rct:
                    self._pos = pos + 1
                    raise self._fail("rng: repetition count test failed")
            else:
                last = b
                run = 1
            # Adaptive Proportion Test (4.4.2): the window's first value apt times.
            if pos == 0:
                first = b
                count = 1
            elif b == first:
                count += 1
                if count >= apt:
                    self._pos = pos + 1
                    raise self._fail("rng: adaptive proportion test failed")
            pos += 1
            if pos == WINDOW:
                pos = 0
                self._windows += 1
        self._last = last
        self._run = run
        self._first = first
        self._count = count
        self._pos = pos


_shared = None


def shared(source=None):
    """The one HealthyRng that everything on the device uses, created on first
    use on `source` (default os.urandom; the board's at boot). If its start-up
    test fails it stays failed until shared().reset() succeeds."""
    global _shared
    if _shared is None:
        _shared = HealthyRng(source, start=False)
        _shared.reset()
    return _shared


def random_bytes(n):
    """n bytes from os.urandom that have passed the health tests."""
    return shared().read(n)
