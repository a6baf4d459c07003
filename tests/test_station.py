"""The burn-in station against simulated boards on their console ptys, the
path a real bench uses (docs/factory.md): provisioning in three key modes in
parallel, a cable pulled mid-run, reruns, the signed manifest, the record
chain, labels, and bad input."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from homeca.cli import main
from homeca.errors import HomecaError
from homeca.sim.device import SimDevice
from homeca.station import manifest
from homeca.station.provision import Job, Outcome, provision_ports
from homeca.station.settings import PASSPHRASE_ENV, station_paths
from homeca.station.station import init_station, open_db
from nodefw import identity as ident
from nodefw import messages as m

PASS = "correct horse battery staple"
MODEL = "nodemcu-v3-sim"


@pytest.fixture
def station(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(PASSPHRASE_ENV, PASS)
    root = tmp_path / "station"
    init_station(station_paths(root), PASS.encode(), "bench-1")
    return root


def store_item(dev: SimDevice, name: str) -> bytes:
    """An item's data as nodefw.store keeps it: MAGIC | len | data | CRC."""
    raw = (dev.flash_dir / "store" / name).read_bytes()
    n = int.from_bytes(raw[4:8])
    return raw[8 : 8 + n]


def job(root: Path, mode: str, **kw: object) -> Job:
    paths = station_paths(root)
    return Job(mode, MODEL, "ann", "bench-1", paths.labels, **kw)  # type: ignore[arg-type]


def files_under(*roots: Path) -> list[Path]:
    return [p for r in roots for p in r.rglob("*") if p.is_file()]


def test_four_boards_in_parallel_one_cable_pulled(tmp_path: Path, station: Path) -> None:
    devs = {mode: SimDevice(tmp_path / mode).start() for mode in ("local", "feed", "seed")}
    pulled = SimDevice(tmp_path / "pulled").start()
    for d in [*devs.values(), pulled]:
        d.wait_ready()
    jobs = {d.console.path: job(station, mode) for mode, d in devs.items()}
    jobs[pulled.console.path] = job(station, "local")

    def pull_cable(port: str, text: str) -> None:
        # Mid-run: once the board has said who it is, its USB cable goes.
        if port == pulled.console.path and text.startswith("board "):
            threading.Timer(0.02, pulled.stop).start()

    paths = station_paths(station)
    with open_db(paths) as db:
        results = provision_ports(jobs, db, paths.logs, on_line=pull_cable)
    for mode, d in devs.items():
        r = results[d.console.path]
        assert isinstance(r, Outcome), r
        assert r.action == "provisioned" and r.record.key_mode == mode
    err = results[pulled.console.path]
    assert isinstance(err, HomecaError), err
    assert "lost the board" in str(err) or "raw REPL" in str(err) or "console" in str(err), err

    rec = {mode: results[d.console.path].record for mode, d in devs.items()}  # type: ignore[union-attr]
    assert rec["feed"].maker_knows and not rec["local"].maker_knows
    assert rec["seed"].rng_mixed and not rec["seed"].maker_knows
    for mode, d in devs.items():  # the record holds the key the board holds
        assert bytes.fromhex(rec[mode].public_key) == ident.unpack(store_item(d, "id"))[3]
        assert store_item(d, "lifecycle") == bytes((m.ST_RELEASED,))

    # The rerun: the pulled board is plugged in again (a new port), the others
    # are left as they are, and nothing is recorded twice.
    pulled.start()
    pulled.wait_ready()
    ports = [d.console.path for d in devs.values()] + [pulled.console.path]
    args = ["provision", "--dir", str(station), "--key-mode", "local", "--model", MODEL,
            "--operator", "ann"]  # fmt: skip
    for p in ports:
        args += ["--port", p]
    assert main(args) == 0
    assert main(args) == 0  # and once more: still nothing new
    with open_db(paths) as db:
        records = db.records()
        assert db.verify() == []
    assert len(records) == 4
    assert len({r.serial for r in records}) == 4
    for d in [*devs.values(), pulled]:
        d.wait_ready()  # every board is left running its firmware

    # The manifest verifies with cryptography and the station's public key.
    out = tmp_path / "manifest.json"
    assert main(["station", "manifest", "--dir", str(station), "--out", str(out)]) == 0
    signed = json.loads(out.read_text())
    trusted = serialization.load_pem_public_key(paths.public_key.read_bytes())
    body = manifest.verify(signed, trusted)  # type: ignore[arg-type]
    assert sorted(x["serial"] for x in body["devices"]) == sorted(r.serial for r in records)
    pub = signed["manifest"]["devices"][0]["public_key"]
    signed["manifest"]["devices"][0]["public_key"] = pub[:-1] + ("0" if pub[-1] != "0" else "1")
    with pytest.raises(manifest.ManifestError):
        manifest.verify(signed, trusted)  # type: ignore[arg-type]

    # A local or seed key never leaves its board: not in the station's files
    # (database, logs, labels, manifest), nor on any console.
    secrets = [store_item(devs[m], "id_key") for m in ("local", "seed")]
    blobs = [p.read_bytes() for p in files_under(station, tmp_path / "manifest.json")]
    blobs += [d.console_log_path.read_bytes() for d in [*devs.values(), pulled]]
    for key in secrets:
        for form in (key, key.hex().encode(), key.hex().upper().encode()):
            assert not any(form in b for b in blobs)

    # Labels: text and a PNG for each board.
    for r in records:
        assert (paths.labels / f"{r.serial}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert r.serial in (paths.labels / f"{r.serial}.txt").read_text()

    for d in [*devs.values(), pulled]:
        d.stop()


def test_altering_one_byte_of_a_record_is_found(tmp_path: Path, station: Path) -> None:
    with SimDevice(tmp_path / "d").start() as dev:
        dev.wait_ready()
        args = ["provision", "--dir", str(station), "--key-mode", "seed", "--model", MODEL,
                "--operator", "ann", "--port", dev.console.path]  # fmt: skip
        assert main(args) == 0
    db_path = station_paths(station).db
    assert main(["station", "verify", "--dir", str(station)]) == 0
    with open_db(station_paths(station)) as db:
        pub = db.records()[0].public_key
    # The schema itself refuses changes ...
    con = sqlite3.connect(db_path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("UPDATE records SET operator = 'eve'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("DELETE FROM records")
    con.close()
    # ... and one byte changed in the file behind its back is found.
    data = bytearray(db_path.read_bytes())
    at = data.find(pub.encode())
    assert at > 0
    data[at + 10] = ord("0") if data[at + 10] != ord("0") else ord("1")
    db_path.write_bytes(bytes(data))
    assert main(["station", "verify", "--dir", str(station)]) == 1


def test_a_board_whose_rng_fails_is_refused_local_mode(tmp_path: Path, station: Path) -> None:
    with SimDevice(tmp_path / "d", rng_fault="stuck").start() as dev:
        dev.wait_ready()
        paths = station_paths(station)
        with open_db(paths) as db:
            r = provision_ports({dev.console.path: job(station, "local")}, db, paths.logs)
            assert db.records() == []
        err = r[dev.console.path]
        assert isinstance(err, HomecaError)
        assert "503" in str(err) and "rng" in str(err), err
        assert not (dev.flash_dir / "store" / "id_key").exists()
        dev.wait_ready()  # left running


def test_a_known_serial_with_another_key_is_refused(tmp_path: Path, station: Path) -> None:
    with SimDevice(tmp_path / "d").start() as dev:
        dev.wait_ready()
        paths = station_paths(station)
        with open_db(paths) as db:
            first = provision_ports({dev.console.path: job(station, "local")}, db, paths.logs)
            assert isinstance(first[dev.console.path], Outcome)
            # The board is erased and made anew elsewhere: same serial, other key.
            dev.stop()
            for f in (dev.flash_dir / "store").iterdir():
                f.unlink()
            dev.start()
            dev.wait_ready()
            again = provision_ports({dev.console.path: job(station, "local")}, db, paths.logs)
            err = again[dev.console.path]
            assert isinstance(err, HomecaError) and "recorded with key" in str(err), err
            assert len(db.records()) == 1
            # A factory reset, asked for, replaces it and is recorded.
            reset = provision_ports(
                {dev.console.path: job(station, "local", factory_reset=True)}, db, paths.logs
            )
            out = reset[dev.console.path]
            assert isinstance(out, Outcome), out
            assert len(db.records()) == 2 and db.verify() == []


def test_bad_input_changes_nothing(tmp_path: Path, station: Path) -> None:
    paths = station_paths(station)
    before = paths.db.read_bytes()
    base = ["provision", "--dir", str(station), "--model", MODEL, "--operator", "ann"]
    assert main([*base, "--key-mode", "magic", "--port", "/dev/null"]) == 2
    not_a_device = tmp_path / "not-a-port"
    not_a_device.write_text("")
    assert main([*base, "--key-mode", "local", "--port", str(not_a_device)]) == 1
    # A wrong passphrase: no manifest is written.
    out = tmp_path / "m.json"
    wrong = tmp_path / "wrong"
    wrong.write_text("not the passphrase at all")
    wrong.chmod(0o600)
    assert main(["station", "manifest", "--dir", str(station), "--out", str(out),
                 "--passphrase-file", str(wrong)]) == 1  # fmt: skip
    assert not out.exists()
    # A passphrase file others can read is refused.
    wrong.chmod(0o644)
    assert main(["station", "manifest", "--dir", str(station), "--out", str(out),
                 "--passphrase-file", str(wrong)]) == 1  # fmt: skip
    assert paths.db.read_bytes() == before
    # A corrupt database is named, and nothing is provisioned against it.
    paths.db.write_bytes(b"this is not sqlite" * 100)
    for wal in paths.root.glob("station.db-*"):
        wal.unlink()
    assert main([*base, "--key-mode", "local", "--port", str(not_a_device)]) == 1
    assert main(["station", "verify", "--dir", str(station)]) == 1
    # A station is never initialised twice.
    assert main(["station", "init", "--dir", str(station)]) == 1
