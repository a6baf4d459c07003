"""tests/test_kdf.py on MicroPython: the 64-bit unix port and unix32."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from homeca.interpreters import INTERPRETERS
from homeca.testing.micropython import run_micropython
from homeca.testing.tools import need

TESTS = Path(__file__).resolve().parent
KDF_TESTS = TESTS / "test_kdf.py"


@pytest.mark.parametrize("interp", ["unix", "unix32"])
def test_kdf_tests_pass_on_micropython(interp: str) -> None:
    need(INTERPRETERS[interp].available(), f"{interp} interpreter")
    tree = ast.parse(KDF_TESTS.read_text())
    n = sum(isinstance(f, ast.FunctionDef) and f.name.startswith("test_") for f in tree.body)
    proc = run_micropython(
        str(KDF_TESTS), path=[TESTS.parent / "firmware", TESTS], heapsize="128k", interp=interp
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert proc.stdout.splitlines()[-1] == f"{n} passed, 0 failed", out
