"""Hardware in the loop: the project's device test suites, the same pytest
files the simulated targets run, against a board on a serial port
(`--target serial:PORT`), with a summary and a JUnit XML report."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from homeca import REPO_DIR
from homeca.errors import HomecaError

TESTS_DIR = REPO_DIR / "tests"


@dataclass(frozen=True)
class HilSummary:
    tests: int
    failures: int
    errors: int
    skipped: int
    seconds: float
    returncode: int

    @property
    def passed(self) -> int:
        return self.tests - self.failures - self.errors - self.skipped


def pytest_command(port: str, hc05: str | None, junit: Path, select: str | None) -> list[str]:
    cmd = [sys.executable, "-m", "pytest", str(TESTS_DIR), "-q", "-p", "no:cacheprovider",
           "--device-tests-only", "--target", f"serial:{port}", f"--junitxml={junit}"]  # fmt: skip
    if hc05:
        cmd += ["--hc05", hc05]
    if select:
        cmd += ["-k", select]
    return cmd


def read_junit(path: Path) -> tuple[int, int, int, int, float]:
    """(tests, failures, errors, skipped, seconds) of a JUnit XML report."""
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as e:
        raise HomecaError(f"no readable JUnit report at {path}: {e}") from None
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    total = [0, 0, 0, 0]
    seconds = 0.0
    for s in suites:
        for i, key in enumerate(("tests", "failures", "errors", "skipped")):
            total[i] += int(s.get(key, 0))
        seconds += float(s.get("time", 0))
    return total[0], total[1], total[2], total[3], seconds


def run_hil(port: str, hc05: str | None, junit: Path, select: str | None = None) -> HilSummary:
    """Run the device suites on the board; its output goes to this terminal."""
    if not TESTS_DIR.is_dir():
        raise HomecaError(f"no test suites at {TESTS_DIR}: hil runs from a source checkout")
    junit.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(pytest_command(port, hc05, junit, select), cwd=REPO_DIR, check=False)
    if proc.returncode not in (0, 1, 5):  # 5: nothing collected
        raise HomecaError(f"pytest stopped with code {proc.returncode}")
    tests, failures, errors, skipped, seconds = read_junit(junit)
    return HilSummary(tests, failures, errors, skipped, seconds, proc.returncode)
