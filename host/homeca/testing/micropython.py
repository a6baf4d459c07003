"""Running the MicroPython unix port from tests: one call for the argument
list, module path and output capture that every such test needs."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

from homeca.interpreters import interpreter


def run_micropython(
    *args: str,
    path: Sequence[Path | str] = (),
    heapsize: str | None = None,
    timeout: float = 60,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    interp: str = "unix",
) -> subprocess.CompletedProcess[str]:
    """`micropython [-X heapsize=H] ARGS` on interpreter `interp` (unix or
    unix32), with MICROPYPATH set to `path` (when given) and extra `env`;
    stdout and stderr captured as text."""
    full_env = dict(os.environ, **(env or {}))
    if path:
        full_env["MICROPYPATH"] = os.pathsep.join(str(p) for p in path)
    heap = ["-X", f"heapsize={heapsize}"] if heapsize else []
    return subprocess.run(
        [interpreter(interp).command(), *heap, *args],
        cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip
