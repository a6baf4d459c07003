"""The station database: SQLite, append-only. The schema refuses UPDATE and
DELETE (triggers), and each record carries the hash of the one before
(models.Record.chain_hash), so a record altered, removed or reordered behind
the schema's back is found by verify()."""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import fields
from pathlib import Path

from homeca.errors import HomecaError
from homeca.station.models import GENESIS, Record

_COLUMNS = [f.name for f in fields(Record)]

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    {", ".join(f"{c} TEXT NOT NULL" for c in _COLUMNS)},
    prev TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    UNIQUE (serial, public_key)
);
CREATE TRIGGER IF NOT EXISTS records_no_update BEFORE UPDATE ON records
BEGIN SELECT RAISE(ABORT, 'station records are append-only'); END;
CREATE TRIGGER IF NOT EXISTS records_no_delete BEFORE DELETE ON records
BEGIN SELECT RAISE(ABORT, 'station records are append-only'); END;
"""


class StationDbError(HomecaError):
    pass


def _to_row(rec: Record) -> list[str]:
    out = []
    for c in _COLUMNS:
        v = getattr(rec, c)
        out.append(str(int(v)) if isinstance(v, bool | int) else v)
    return out


def _from_row(row: sqlite3.Row) -> Record:
    kw: dict[str, object] = {}
    for f in fields(Record):
        v = row[f.name]
        if f.type == "bool":
            kw[f.name] = v == "1"
        elif f.type == "int":
            kw[f.name] = int(v)
        else:
            kw[f.name] = v
    return Record(**kw)  # type: ignore[arg-type]


class StationDb:
    def __init__(self, path: Path, create: bool = False) -> None:
        if not create and not path.is_file():
            raise StationDbError(f"no station database at {path}: run `homeca station init`")
        self.path = path
        self._lock = threading.Lock()  # the chain: read the last hash and append as one
        try:
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA journal_mode=WAL")  # a crash mid-append loses nothing else
            self._db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as e:
            raise StationDbError(f"{path} is not a usable station database: {e}") from None

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> StationDb:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def append(self, rec: Record) -> Record:
        """Add rec; a record with the same serial and key is there already: it."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                same = self._db.execute(
                    "SELECT * FROM records WHERE serial = ? AND public_key = ?",
                    (rec.serial, rec.public_key),
                ).fetchone()
                if same is not None:
                    self._db.execute("ROLLBACK")
                    return _from_row(same)
                prev = self.head()
                cols = ", ".join([*_COLUMNS, "prev", "hash"])
                marks = ", ".join("?" * (len(_COLUMNS) + 2))
                self._db.execute(
                    f"INSERT INTO records ({cols}) VALUES ({marks})",
                    [*_to_row(rec), prev, rec.chain_hash(prev)],
                )
                self._db.execute("COMMIT")
            except sqlite3.DatabaseError as e:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise StationDbError(f"{self.path}: cannot append: {e}") from None
        return rec

    def head(self) -> str:
        """The last record's hash (GENESIS when there is none)."""
        row = self._query("SELECT hash FROM records ORDER BY seq DESC LIMIT 1", ())
        return row[0]["hash"] if row else GENESIS

    def latest(self, serial: str) -> Record | None:
        row = self._query(
            "SELECT * FROM records WHERE serial = ? ORDER BY seq DESC LIMIT 1", (serial,)
        )
        return _from_row(row[0]) if row else None

    def records(self) -> list[Record]:
        return [_from_row(r) for r in self._query("SELECT * FROM records ORDER BY seq", ())]

    def current(self) -> list[Record]:
        """The newest record of each serial, in serial order: what a manifest lists."""
        newest: dict[str, Record] = {}
        for rec in self.records():
            newest[rec.serial] = rec
        return [newest[s] for s in sorted(newest)]

    def verify(self) -> list[str]:
        """Every break in the chain, as text; empty when all is intact."""
        problems = []
        prev = GENESIS
        for row in self._query("SELECT * FROM records ORDER BY seq", ()):
            seq = row["seq"]
            try:
                rec = _from_row(row)
            except (TypeError, ValueError) as e:
                problems.append(f"record {seq}: unreadable ({e})")
                prev = row["hash"]
                continue
            if row["prev"] != prev:
                problems.append(f"record {seq}: does not follow the record before it")
            if rec.chain_hash(row["prev"]) != row["hash"]:
                problems.append(f"record {seq} ({rec.serial}): altered after it was written")
            prev = row["hash"]
        return problems

    def _query(self, sql: str, args: tuple) -> list[sqlite3.Row]:
        try:
            return self._db.execute(sql, args).fetchall()
        except sqlite3.DatabaseError as e:
            raise StationDbError(f"{self.path}: {e}") from None
