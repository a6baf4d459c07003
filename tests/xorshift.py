"""xorshift32 for the shared test files: the same sequence on CPython and
MicroPython, so a failing fuzz iteration found on one reproduces on the other."""


class Xorshift:
    def __init__(self, seed):
        self._x = (seed & 0xFFFFFFFF) or 1

    def u32(self):
        x = self._x
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        self._x = x
        return x

    def byte(self):
        return self.u32() >> 24

    def below(self, n):
        return self.u32() % n

    def between(self, lo, hi):
        return lo + ((self.u32() << 32) | self.u32()) % (hi - lo + 1)

    def pick(self, seq):
        return seq[self.below(len(seq))]

    def bytes(self, n):
        out = bytearray(n)
        for i in range(n):
            out[i] = self.u32() & 0xFF
        return bytes(out)
