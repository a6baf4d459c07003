"""Work on many boards at once, as a bench does: one thread and one log file
per port, and one board's failure never stops the others."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from homeca.errors import HomecaError

T = TypeVar("T")
Log = Callable[[str], None]


def now() -> str:
    """UTC now, ISO 8601 to the second: log lines and records."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def each_port(ports: Iterable[str], work: Callable[[str, Log], T], log_dir: Path,
              prefix: str = "", on_line: Callable[[str, str], None] | None = None,
              ) -> dict[str, T | HomecaError]:  # fmt: skip
    """work(port, log) for every port in its own thread. The result per port
    is what work returned, or the error that stopped it (a lost port, an
    OSError, becomes a HomecaError). Each port logs to LOG_DIR/PREFIXname.log;
    on_line(port, text) sees every line too."""
    log_dir.mkdir(parents=True, exist_ok=True)
    results: dict[str, T | HomecaError] = {}
    lock = threading.Lock()

    def run(port: str) -> None:
        name = prefix + (Path(port).name or port.replace("/", "_"))
        with open(log_dir / f"{name}.log", "a") as f:

            def log(text: str) -> None:
                f.write(f"{now()} {port}: {text}\n")
                f.flush()
                if on_line:
                    on_line(port, text)

            result: T | HomecaError
            try:
                result = work(port, log)
            except HomecaError as e:
                result = e
            except OSError as e:  # the cable pulled mid-run
                result = HomecaError(f"{port}: lost the board: {e}")
            if isinstance(result, HomecaError):
                log(f"FAILED: {result}")
        with lock:
            results[port] = result

    threads = [threading.Thread(target=run, args=(p,), name=f"board {p}") for p in ports]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results
