"""Tests that need an installed tool (a compiler, QEMU, valgrind) skip without
it on a developer's machine. In CI (CI set) `make test` has installed every
one, so a missing tool fails the test instead of hiding the work it checks."""

from __future__ import annotations

import os

import pytest


def need(available: bool, what: str) -> None:
    if available:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{what}: missing in CI, where `make test` installs it")
    pytest.skip(what)
