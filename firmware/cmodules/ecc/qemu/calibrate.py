"""Cross-check CCOUNT x 25 = instructions against QEMU's translation-block log.

`make calibrate` runs calib.elf under `-d in_asm,exec,nochain`: every
translated block is printed once (IN: ... its instructions), and every
execution of a block is one "Trace" line (nochain: no block runs another
without returning to the logger). Replaying that log gives the exact
sequence of executed instructions. One catch: when the icount budget (at
most 65535 instructions) runs out, a block is logged, exits before its first
instruction and is logged again; QEMU then prints "Stopped execution of TB
chain before <block>", and that entry is taken back. This script counts the instructions from
one rsr.ccount (exclusive) to the next (inclusive) for each span the program
printed ("span NAME ccount=DELTA") and compares with the CCOUNT delta.

Usage: python calibrate.py TB_LOG PROGRAM_OUTPUT
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

TICK = 25  # instructions per CCOUNT tick claimed by the harness

INSN = re.compile(r"^0x([0-9a-f]+):\s+(\S+)")
SPAN = re.compile(r"^span (\S+) ccount=(\d+)$", re.M)
TRACE = re.compile(r"^Trace \d+: (0x[0-9a-f]+) \[[0-9a-f]+/([0-9a-f]+)/")
STOPPED = re.compile(r"^Stopped execution of TB chain before (0x[0-9a-f]+)")


def executed(log: str) -> list[tuple[int, str]]:
    """The executed (pc, mnemonic) sequence, replayed from the log."""
    blocks: dict[str, list[tuple[int, str]]] = {}
    pending: list[tuple[int, str]] | None = None
    out: list[tuple[int, str]] = []
    last = ""
    for line in log.splitlines():
        if line.startswith("IN:"):
            pending = []
        elif (m := INSN.match(line)) and pending is not None:
            pending.append((int(m.group(1), 16), m.group(2)))
        elif m := TRACE.match(line):
            host_ptr = m.group(1)
            if pending is not None:  # a block is logged just before its first run
                blocks[host_ptr] = pending
                pending = None
            block = blocks[host_ptr]
            if block[0][0] != int(m.group(2), 16):
                raise ValueError(f"block at {host_ptr} changed without a new IN: entry")
            out.extend(block)
            last = host_ptr
        elif m := STOPPED.match(line):
            if m.group(1) != last:
                raise ValueError(f"stopped before {m.group(1)}, but {last} was logged last")
            del out[len(out) - len(blocks[last]) :]
    return out


def main(argv: list[str]) -> int:
    log, output = (Path(a).read_text() for a in argv[1:3])
    spans = [(m.group(1), int(m.group(2))) for m in SPAN.finditer(output)]
    trace = executed(log)
    reads = [i for i, (_, op) in enumerate(trace) if op == "rsr.ccount"]
    if not spans or len(reads) != len(spans) + 1:
        print(f"calibrate: {len(spans)} spans but {len(reads)} CCOUNT reads", file=sys.stderr)
        return 1
    print(f"TB log: {len(trace)} instructions executed in all")
    ok = True
    for (name, delta), start, end in zip(spans, reads, reads[1:], strict=False):
        counted = end - start
        estimate = delta * TICK
        ok = ok and abs(estimate - counted) <= TICK
        print(
            f"span {name}: {counted} instructions in the log, "
            f"CCOUNT delta {delta} x {TICK} = {estimate} (error {estimate - counted:+d})"
        )
    print("calibration OK" if ok else "calibration MISMATCH")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
