"""`homeca hil` runs the device suites against a board on a serial port. Here
the board is a simulated NodeMCU whose console and HC-05 link are ptys, which
the `serial:` target drives exactly as it would drive hardware."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from homeca.hil import read_junit
from homeca.sim.device import SimDevice


def test_hil_runs_the_device_suites_and_writes_junit(tmp_path: Path) -> None:
    homeca = Path(sys.executable).parent / "homeca"
    junit = tmp_path / "junit.xml"
    with SimDevice(tmp_path / "board").start() as dev:
        dev.wait_ready()
        select = "status_describes or unknown_message_type"
        cmd = [str(homeca), "hil", "--port", dev.console.path, "--hc05", dev.hc05.path,
               "--junit", str(junit), "-k", select]  # fmt: skip
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    m = re.search(r"(\d+) passed", res.stdout)
    assert m, res.stdout
    tests, failures, errors, skipped, _ = read_junit(junit)
    assert (failures, errors) == (0, 0)
    assert tests - skipped == int(m.group(1)) >= 2  # the XML counts what ran
    assert "JUnit XML" in res.stdout


def test_hil_fails_when_a_test_fails(tmp_path: Path) -> None:
    # No board behind the port: every test errors, and hil says so.
    homeca = Path(sys.executable).parent / "homeca"
    junit = tmp_path / "junit.xml"
    cmd = [str(homeca), "hil", "--port", str(tmp_path / "no-such-port"), "--junit", str(junit),
           "-k", "status_describes"]  # fmt: skip
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert res.returncode == 1, res.stdout + res.stderr
    tests, failures, errors, _, _ = read_junit(junit)
    assert tests >= 1 and failures + errors == tests
