"""The ecc core's rodata must be readable on the ESP8266: a native module's
rodata sits with its code, where only 32-bit loads work, and the core is built
without -mforce-l32 (firmware/cmodules/ecc/Makefile). So every table is made of
32-bit words; a narrower table would build, pass every test here, and crash on
the chip."""

from __future__ import annotations

import re
from pathlib import Path

CORE = Path(__file__).resolve().parent.parent / "firmware" / "cmodules" / "ecc" / "core"
DECL = re.compile(r"\bstatic\s+const\s+(\w+)\s+(\w+)")


def test_core_tables_are_32_bit_words() -> None:
    decls = []
    for src in sorted(CORE.glob("*.[ch]")):
        for m in DECL.finditer(src.read_text()):
            decls.append((src.name, m.group(1), m.group(2)))
    assert decls, "no tables found: did the core move?"
    narrow = [d for d in decls if d[1] not in ("uint32_t", "lbc")]
    assert not narrow, f"tables must be uint32_t or lbc (32-bit words): {narrow}"


def test_generated_constants_are_current() -> None:
    import subprocess
    import sys

    out = subprocess.run([sys.executable, str(CORE / "gen_p256.py")], capture_output=True,
                         text=True, check=True).stdout  # fmt: skip
    assert out == (CORE / "p256_consts.h").read_text(), "run gen_p256.py > p256_consts.h"
