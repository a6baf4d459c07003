"""Where the firmware's heap goes: runs boards/unix_sim/heapprof.py on a
simulated chip and reads its figures off the console. Live bytes after
collection, per imported module and per main-loop job once started."""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from homeca.sim.device import SimDevice, SimError


@dataclass
class HeapProfile:
    interpreter: str
    heapsize: str
    boot: int = 0  # live after boot.py, before the firmware's imports
    modules: dict[str, int] = field(default_factory=dict)
    jobs: dict[str, int] = field(default_factory=dict)
    peak: int = 0  # the firmware's own peak of live heap once every job ran
    live: int = 0  # live at the end
    qstr_bytes: int = 0  # of which the interned names (qstr pools and their strings)
    qstrs: int = 0


def parse(text: str, interpreter: str, heapsize: str) -> HeapProfile:
    prof = HeapProfile(interpreter, heapsize)
    for line in text.splitlines():
        if line.startswith("qstr pool:"):
            fields = dict(f.split("=") for f in line[len("qstr pool:") :].replace(",", "").split())
            prof.qstrs = int(fields.get("n_qstr", 0))
            prof.qstr_bytes = int(fields.get("n_total_bytes", 0))
            continue
        parts = line.split()
        if len(parts) != 4 or parts[0] != "HEAP" or not parts[3].isdigit():
            continue
        kind, name, n = parts[1], parts[2], int(parts[3])
        if kind == "base":
            prof.boot = n
        elif kind == "module":
            prof.modules[name] = n
        elif kind == "job":
            prof.jobs[name] = n
        elif kind == "peak":
            prof.peak = n
        elif kind == "total":
            prof.live = n
    return prof


def profile(interpreter: str = "unix", heapsize: str | None = None,
            timeout: float = 20.0) -> HeapProfile:  # fmt: skip
    """Boot a fresh simulated chip in profile mode and collect its figures."""
    with tempfile.TemporaryDirectory(prefix="hcprof-") as d:
        dev = SimDevice(Path(d) / "dev", heapsize=heapsize, interpreter=interpreter)
        dev.start("profile")
        try:
            deadline = time.monotonic() + timeout
            while "HEAP end" not in (text := dev.console_tail(1 << 20)):
                if time.monotonic() > deadline or not dev.running:
                    tail = text[-1500:]
                    raise SimError(f"heap profile did not finish; console ends with:\n{tail}")
                time.sleep(0.1)
            return parse(text, interpreter, dev.heapsize)
        finally:
            dev.stop()
