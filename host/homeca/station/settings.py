"""Where a station keeps its files, and where its passphrase comes from."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PASSPHRASE_ENV = "HOMECA_STATION_PASSPHRASE"
DIR_ENV = "HOMECA_STATION_DIR"
DEFAULT_DIR = Path("~/.local/share/homeca/station")


@dataclass(frozen=True)
class StationPaths:
    root: Path

    @property
    def key(self) -> Path:  # the manufacturer's signing key, encrypted
        return self.root / "manufacturer.key"

    @property
    def public_key(self) -> Path:  # its public half, to hand to HomeCAs
        return self.root / "manufacturer.pub"

    @property
    def db(self) -> Path:
        return self.root / "station.db"

    @property
    def logs(self) -> Path:  # one log per board
        return self.root / "logs"

    @property
    def labels(self) -> Path:
        return self.root / "labels"


def station_paths(root: Path | str | None = None) -> StationPaths:
    """The station directory: `root`, else $HOMECA_STATION_DIR, else the default."""
    if root is None:
        root = os.environ.get(DIR_ENV) or DEFAULT_DIR
    return StationPaths(Path(root).expanduser())
