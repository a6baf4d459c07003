"""Run nodefw.ecc_pure on recorded inputs and print one line per input.

Runs on CPython and MicroPython alike, so tests/test_ecc_pure_micropython.py
can replay the same inputs on both interpreters and compare the lines.

    MICROPYPATH=firmware micropython tests/ecc_pure_replay.py CASES
    MICROPYPATH=firmware micropython tests/ecc_pure_replay.py --bench [ROUNDS]

CASES is a JSON list of cases, each [function name, hex argument, ...]. The
first line says which implementation the loader nodefw.ecc picked
("native True" or "native False"); then per case "ok HEX", "True", "False",
"ValueError MESSAGE" or, for anything else raised, "EXC TYPE MESSAGE".

--bench prints the mean wall time of each operation in milliseconds.
"""

import json
import sys
import time
from binascii import hexlify, unhexlify

from nodefw import ecc, ecc_pure


def result(name, args):
    func = getattr(ecc_pure, name)
    try:
        out = func(*[unhexlify(a) for a in args])
    except ValueError as e:
        return "ValueError " + str(e)
    except Exception as e:
        return "EXC " + type(e).__name__ + " " + str(e)
    if out is True or out is False:
        return str(out)
    return "ok " + hexlify(out).decode()


def replay(path):
    with open(path) as f:
        cases = json.load(f)
    print("native " + str(ecc.NATIVE))
    for case in cases:
        print(result(case[0], case[1:]))


def now_ms():
    # time.ticks_ms is MicroPython's; CPython has perf_counter instead.
    if hasattr(time, "ticks_ms"):
        return time.ticks_ms()
    return time.perf_counter() * 1000


def bench(rounds):
    priv = bytes(range(1, 33))
    peer = ecc_pure.p256_public(bytes(range(2, 34)))
    pub = ecc_pure.p256_public(priv)
    digest = bytes(range(32))
    sig = ecc_pure.p256_sign(priv, digest)
    ops = (
        ("x25519", ecc_pure.x25519, (priv, bytes(range(5, 37)))),
        ("x25519_base", ecc_pure.x25519_base, (priv,)),
        ("p256_public", ecc_pure.p256_public, (priv,)),
        ("p256_ecdh", ecc_pure.p256_ecdh, (priv, peer)),
        ("p256_sign", ecc_pure.p256_sign, (priv, digest)),
        ("p256_verify", ecc_pure.p256_verify, (pub, digest, sig)),
        ("p256_point_mul", ecc_pure.p256_point_mul, (priv, peer)),
        ("p256_decompress", ecc_pure.p256_decompress, (ecc_pure.p256_compress(pub),)),
    )
    for name, func, args in ops:
        start = now_ms()
        for _ in range(rounds):
            func(*args)
        print(name + " " + str((now_ms() - start) / rounds) + " ms")


if __name__ == "__main__":
    if sys.argv[1] == "--bench":
        bench(int(sys.argv[2]) if len(sys.argv) > 2 else 10)
    else:
        replay(sys.argv[1])
