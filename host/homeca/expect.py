"""What expect() on the console and on the link share: the timeout error, whose
message says what was wanted, for how long, the bytes that came instead and
where the device's log is, as pytest-embedded's `dut.expect` reports it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from homeca.errors import HomecaError

TAIL = 1024  # bytes seen shown in a timeout message


class ExpectTimeout(HomecaError):
    """expect() gave up on `where` (a port): no `wanted` within `timeout`
    seconds, while `total` bytes came, of which `seen` holds at least the last
    TAIL. The message shows those as a repr (control bytes show), then
    `details` (counters, frames) and the device's log file, if it has one."""

    def __init__(
        self, where: str, wanted: str, timeout: float, seen: bytes, total: int,
        details: Sequence[str] = (), log: Path | None = None,
    ) -> None:  # fmt: skip
        self.seen = bytes(seen[-TAIL:])
        self.details = list(details)
        self.log = log
        count = f"last {len(self.seen)} of {total}" if total > len(self.seen) else str(total)
        lines = [f"{where}: no {wanted} within {timeout:g} s"]
        lines += [f"  {count} bytes seen: {self.seen!r}", *(f"  {d}" for d in self.details)]
        if log is not None:
            lines.append(f"  device log: {log}")
        super().__init__("\n".join(lines))
