"""The `homeca` command: in-process for the report and bad arguments, and one
real subprocess running the demo end to end."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from homeca.cli import main

Capture = pytest.CaptureFixture[str]


def test_sim_device_report_prints_heap_peak_under_limit(tmp_path: Path, capsys: Capture) -> None:
    png = tmp_path / "oled.png"
    rc = main(["sim", "device", str(tmp_path / "d"), "--name", "bench-1", "--report",
               "--requests", "5", "--oled-png", str(png)])  # fmt: skip
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "bench-1" in out and "state" in out and "blank" in out
    peak_line = next(line for line in out.splitlines() if "heap peak" in line)
    peak = int(peak_line.split("heap peak")[1].split()[1])
    assert 0 < peak < 64 * 1024
    assert Image.open(png).size == (512, 256)


def test_bad_arguments_are_refused_clearly(tmp_path: Path, capsys: Capture) -> None:
    assert main(["sim", "device", str(tmp_path / "a"), "--heapsize", "lots", "--report"]) == 1
    assert "homeca: bad heap size 'lots'" in capsys.readouterr().err
    assert not (tmp_path / "a").exists()
    assert main(["sim", "device", str(tmp_path / "b"), "--name", "\u00e9t\u00e9"]) == 1
    assert "printable ASCII" in capsys.readouterr().err
    assert main(["sim", "device", str(tmp_path / "c"), "--report", "--requests", "0"]) == 2
    assert main(["no-such-command"]) == 2


def test_demo_runs_end_to_end(tmp_path: Path) -> None:
    homeca = Path(sys.executable).parent / "homeca"
    cmd = [str(homeca), "demo", "--dir", str(tmp_path)]
    env = {"COLUMNS": "200", "PATH": "/usr/bin:/bin"}
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
    assert res.returncode == 0, res.stderr
    for name in ("kitchen-node", "hall-node", "garage-node"):
        assert name in res.stdout
        assert Image.open(tmp_path / f"{name}-oled.png").size == (512, 256)
    assert res.stdout.count(": provisioned, ") == 3  # one board per key mode
    assert res.stdout.count("released") == 3  # and each boots released
    assert "23.4 degC 41.0 %RH" in res.stdout and "19.8 degC 55.5 %RH" in res.stdout
    # A rerun provisions nothing twice.
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
    assert res.returncode == 0, res.stderr
    assert res.stdout.count(": already provisioned, ") == 3
