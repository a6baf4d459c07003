"""The station as the CLI uses it: make one, open its database, export its
manifest, verify its records. Each function is one command's work."""

from __future__ import annotations

import json
import socket
from pathlib import Path

from homeca.errors import HomecaError
from homeca.station import keys, manifest
from homeca.station.settings import StationPaths
from homeca.station.storage import StationDb


def init_station(paths: StationPaths, passphrase: bytes, name: str | None = None) -> str:
    """Create the signing key, the database and the station's name; refuses
    to touch a station that exists. Returns the public key's PEM."""
    if paths.key.exists() or paths.db.exists():
        raise HomecaError(f"{paths.root} already holds a station")
    name = name or socket.gethostname()
    if not name or any(c.isspace() for c in name):
        raise HomecaError(f"station name {name!r}: no spaces")
    pub = keys.create_key(paths.key, paths.public_key, passphrase)
    StationDb(paths.db, create=True).close()
    (paths.root / "station.json").write_text(json.dumps({"name": name}) + "\n")
    return keys.public_pem(pub).decode()


def station_name(paths: StationPaths) -> str:
    try:
        return json.loads((paths.root / "station.json").read_text())["name"]
    except FileNotFoundError:
        raise HomecaError(f"no station at {paths.root}: run `homeca station init`") from None
    except (ValueError, KeyError, TypeError):
        raise HomecaError(f"{paths.root / 'station.json'} is damaged") from None


def open_db(paths: StationPaths) -> StationDb:
    return StationDb(paths.db)


def export_manifest(paths: StationPaths, passphrase: bytes | None, out: Path) -> int:
    """Sign the current record of every device into `out`; returns the count."""
    key = keys.load_key(paths.key, passphrase)
    with open_db(paths) as db:
        problems = db.verify()
        if problems:
            raise HomecaError("the station records are damaged: " + "; ".join(problems))
        records = db.current()
        head = db.head()
    signed = manifest.build(records, station_name(paths), key, head)
    manifest.write(out, signed)
    return len(records)
