"""Constant-time and sanitizer checks of the ecc C core, on the host.

Builds firmware/cmodules/ecc/test (its Makefile) against the core, then

- runs ctgrind (secret inputs marked undefined) under valgrind's memcheck, per
  entry point, at -O2 and -Os: every "Conditional jump ... depends on
  uninitialised value(s)" or "Use of uninitialised value" is a branch or a
  memory index that depends on a secret. Each one fails the test unless it is
  listed in ALLOWED_BRANCHES below: a reviewed branch on a bit that is public
  anyway (accept/reject of an input, RFC 6979's rare nonce retry). Those that
  are allowed are printed in the test output, not hidden.
- runs the sanitizer driver (AddressSanitizer + UBSan) for ECC_SAN_ITERATIONS
  random rounds of cross-checks (default 300).

Skipped only if gcc, make or valgrind (and its memcheck.h) are missing.
ECC_CORE_DIR points at another core directory, as in tests/ecc_core.py.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import ecc_core
import pytest

from homeca.testing.tools import need

TEST_DIR = ecc_core.ROOT / "firmware" / "cmodules" / "ecc" / "test"
CHECKS = (
    "x25519",
    "x25519_base",
    "p256_public",
    "p256_ecdh",
    "p256_sign",
    "p256_scalar_mul",
    "p256_point_mul",
)
OPT_LEVELS = ("O2", "Os")
SAN_ITERATIONS = int(os.environ.get("ECC_SAN_ITERATIONS", "300"))
MEMCHECK_H = Path("/usr/include/valgrind/memcheck.h")

# Secret-dependent branches that are accepted, each on a bit that becomes public
# anyway. Keys are regular expressions for the reported source line (comments
# and runs of spaces dropped; fullmatch), loose only about variable names, so a
# refactoring that moves a line keeps it allowed. Only "Conditional jump"
# reports in the core's own files can be allowed, never a secret memory index.
# Rewriting one of these lines makes the test fail until it is reviewed again.
RANGE_CHECK = "branch on the final accept/reject bit of 0 < scalar < n (computed in constant time)"
ALLOWED_BRANCHES: dict[str, str] = {
    r"if \(!sc_from_bytes\(\w+, (priv|k)\)\) return ECC_ESCALAR;": RANGE_CHECK,
    r"if \(!ok\) return ECC_ESCALAR;": RANGE_CHECK + " (scalar_mul: both operands)",
    # RFC 6979 3.2 h: a candidate k outside [1, n-1] (probability ~2^-32) is
    # dropped for the next one; the k finally used is not revealed.
    r"if \(!sc_from_bytes\(\w+, kb\)\) continue;": "RFC 6979 nonce retry",
    # r and s are the signature's public output; zero (probability ~2^-256) retries.
    r"if \(ecc_lb_is_zero\(r\)\) continue;": "r = 0 retry, r is public",
    r"if \(ecc_lb_is_zero\(s\)\) continue;": "s = 0 retry, s is public",
    r"if \(!finish_s\(.*\)\) continue;": "s = 0 retry (finish_s returns s != 0), s is public",
    # An all-zero X25519 result means a low-order u, which is public.
    r"return any \? ECC_OK : ECC_EZERO;": "X25519 all-zero result check",
}


# ---- build ----


def build_dir() -> Path:
    """build/ecc-test for the real core; one directory per other core (stubs)."""
    if ecc_core.CORE_DIR.resolve() == ecc_core.DEFAULT_CORE_DIR.resolve():
        return ecc_core.ROOT / "build" / "ecc-test"
    tag = hashlib.sha256(str(ecc_core.CORE_DIR.resolve()).encode()).hexdigest()[:10]
    return ecc_core.ROOT / "build" / f"ecc-test-{tag}"


def make(*targets: str) -> None:
    """Build targets with the test Makefile; a missing or broken core fails here."""
    need(
        shutil.which("make") is not None and ecc_core.have_compiler(),
        f"needs make and {ecc_core.CC} to build the ecc test drivers",
    )
    cmd = [
        "make",
        "-C",
        str(TEST_DIR),
        f"CORE={ecc_core.CORE_DIR}",
        f"BUILD={build_dir()}",
        f"CC={ecc_core.CC}",
        *targets,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.fail(f"{' '.join(cmd)} failed:\n{proc.stdout}\n{proc.stderr}", pytrace=False)


@pytest.fixture(scope="module")
def ctgrind() -> dict[str, Path]:
    need(
        shutil.which("valgrind") is not None and MEMCHECK_H.exists(),
        f"needs valgrind and {MEMCHECK_H} (Debian package valgrind)",
    )
    bins = {opt: build_dir() / f"ctgrind-{opt}" for opt in OPT_LEVELS}
    make(*map(str, bins.values()))
    return bins


@pytest.fixture(scope="module")
def sanitize() -> Path:
    path = build_dir() / "sanitize"
    make(str(path))
    return path


# ---- valgrind's XML ----


@dataclass
class Frame:
    fn: str
    file: str
    line: int
    path: Path | None

    def source(self) -> str:
        """The reported source line, without comments and runs of spaces."""
        if self.path is None or not self.path.exists():
            return ""
        lines = self.path.read_text().splitlines()
        text = lines[self.line - 1] if 0 < self.line <= len(lines) else ""
        text = re.sub(r"/\*.*?\*/|//.*$", "", text)
        return " ".join(text.split())

    def where(self) -> str:
        return f"{self.fn} ({self.file}:{self.line})"


@dataclass
class Report:
    kind: str
    what: str
    stack: list[Frame]

    def describe(self) -> str:
        top = self.stack[0] if self.stack else Frame("?", "?", 0, None)
        chain = " <- ".join(f.where() for f in self.stack[1:4])
        return f"{self.kind}: {self.what}\n    at {top.where()}: `{top.source()}`\n    via {chain}"

    def allowed(self) -> str | None:
        """The reason this report is accepted, or None."""
        if self.kind != "UninitCondition" or not self.stack:
            return None
        top = self.stack[0]
        if top.path is None or top.path.parent.resolve() != ecc_core.CORE_DIR.resolve():
            return None
        line = top.source()
        for pattern, reason in ALLOWED_BRANCHES.items():
            if re.fullmatch(pattern, line):
                return reason
        return None


def parse_memcheck_xml(text: str) -> list[Report]:
    reports = []
    for err in ET.fromstring(text).iter("error"):
        what = err.findtext("what") or err.findtext("xwhat/text") or ""
        frames = []
        stack = err.find("stack")
        for fr in stack.iter("frame") if stack is not None else []:
            d, f = fr.findtext("dir"), fr.findtext("file")
            frames.append(
                Frame(
                    fr.findtext("fn") or "?",
                    f or "?",
                    int(fr.findtext("line") or 0),
                    Path(d) / f if d and f else None,
                )
            )
        reports.append(Report(err.findtext("kind") or "?", what, frames))
    return reports


# ---- tests ----


@pytest.mark.parametrize("opt", OPT_LEVELS)
@pytest.mark.parametrize("check", CHECKS)
def test_constant_time(
    ctgrind: dict[str, Path],
    check: str,
    opt: str,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    xml = tmp_path / "memcheck.xml"
    proc = subprocess.run(
        [
            "valgrind",
            "--tool=memcheck",
            "--error-exitcode=1",
            "--num-callers=30",
            "--xml=yes",
            f"--xml-file={xml}",
            str(ctgrind[opt]),
            check,
        ],
        capture_output=True,
        text=True,
    )
    # The driver exits 2 when a result is wrong; valgrind 1 on any report.
    assert proc.returncode in (0, 1), f"ctgrind crashed:\n{proc.stdout}\n{proc.stderr}"
    assert f"ran {check}\n" in proc.stdout and "FAIL" not in proc.stdout, proc.stdout
    reports = parse_memcheck_xml(xml.read_text())
    bad = [r for r in reports if r.allowed() is None]
    assert not bad, f"secret-dependent code in {check} at -{opt}:\n" + "\n".join(
        r.describe() for r in bad
    )
    # Allowed is not hidden: say where (once per source line).
    sites = {
        f"ctgrind {check} -{opt}: allowed branch at {r.stack[0].where()} "
        f"`{r.stack[0].source()}`: {r.allowed()}": None
        for r in reports
    }
    if sites:
        ecc_core.announce(request, "\n".join(sites))


def test_sanitizers(sanitize: Path) -> None:
    proc = subprocess.run(
        [str(sanitize), str(SAN_ITERATIONS)],
        capture_output=True,
        text=True,
        env={**os.environ, "ASAN_OPTIONS": "detect_leaks=1", "UBSAN_OPTIONS": "print_stacktrace=1"},
    )
    assert proc.returncode == 0, f"{proc.stdout[-4000:]}\n{proc.stderr[-8000:]}"
    assert f"{SAN_ITERATIONS} iterations, 0 failures" in proc.stdout


def test_memcheck_xml_parser() -> None:
    """The parser reads what valgrind 3.x writes (a trimmed real report)."""
    text = """<?xml version="1.0"?><valgrindoutput><error><unique>0x0</unique><tid>1</tid>
    <kind>UninitCondition</kind><what>Conditional jump or move depends on uninitialised
    value(s)</what><stack><frame><ip>0x1</ip><fn>ecc_p256_public</fn><dir>/nonexistent</dir>
    <file>p256.c</file><line>374</line></frame><frame><ip>0x2</ip><fn>check_p256_public</fn>
    <dir>/x</dir><file>ctgrind.c</file><line>142</line></frame></stack></error>
    <error><kind>UninitValue</kind><xwhat><text>Use of uninitialised value of size 8</text>
    </xwhat><stack><frame><ip>0x3</ip><obj>/lib/x.so</obj></frame></stack></error>
    </valgrindoutput>"""
    first, second = parse_memcheck_xml(text)
    assert first.kind == "UninitCondition" and first.stack[0].where() == (
        "ecc_p256_public (p256.c:374)"
    )
    assert first.allowed() is None  # not a readable line of the core: never allowed
    assert second.kind == "UninitValue" and second.what.startswith("Use of uninitialised")
    assert second.allowed() is None
