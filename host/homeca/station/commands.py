"""`homeca station ...` and `homeca provision`: thin over the station library."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from homeca.errors import HomecaError
from homeca.station import keys
from homeca.station.provision import MODES, Job, Outcome, provision_ports
from homeca.station.settings import DIR_ENV, PASSPHRASE_ENV, station_paths
from homeca.station.station import export_manifest, init_station, open_db, station_name

out = Console(width=None if sys.stdout.isatty() else 140)

_dir = click.option(
    "--dir", "root", type=click.Path(file_okay=False, path_type=Path),
    help=f"station directory  [default: ${DIR_ENV}, else ~/.local/share/homeca/station]",
)  # fmt: skip
_passfile = click.option(
    "--passphrase-file", type=click.Path(dir_okay=False, path_type=Path),
    help=f"file (mode 0600) with the key's passphrase  [else ${PASSPHRASE_ENV}, else a prompt]",
)  # fmt: skip


def _passphrase(file: Path | None, confirm: bool = False) -> bytes:
    got = keys.passphrase_from(file)
    if got is not None:
        return got
    if not sys.stdin.isatty():
        raise HomecaError(f"no passphrase: give --passphrase-file or ${PASSPHRASE_ENV}")
    text = click.prompt("station key passphrase", hide_input=True, confirmation_prompt=confirm)
    return text.encode()


@click.group()
def station() -> None:
    """The burn-in station: signing key, device records, manifest."""


@station.command("init")
@_dir
@_passfile
@click.option("--name", help="the station's name in records and manifests  [default: host name]")
def station_init(root: Path | None, passphrase_file: Path | None, name: str | None) -> None:
    """Create the manufacturer signing key (encrypted) and the station database."""
    paths = station_paths(root)
    pem = init_station(paths, _passphrase(passphrase_file, confirm=True), name)
    out.print(f"station {station_name(paths)} in {paths.root}")
    out.print(f"manufacturer public key ({paths.public_key}):\n{pem}")


@station.command("verify")
@_dir
def station_verify(root: Path | None) -> None:
    """Check the record chain: any altered, removed or reordered record is named."""
    with open_db(station_paths(root)) as db:
        problems = db.verify()
        n = len(db.records())
    if problems:
        for p in problems:
            out.print(f"[red]{p}[/red]")
        raise HomecaError(f"{len(problems)} problem(s) in {n} records")
    out.print(f"{n} records, chain intact")


@station.command("manifest")
@_dir
@_passfile
@click.option("--out", "out_file", required=True, type=click.Path(dir_okay=False, path_type=Path))
def station_manifest(root: Path | None, passphrase_file: Path | None, out_file: Path) -> None:
    """Write the signed public-key-delivery manifest for a HomeCA to import."""
    paths = station_paths(root)
    n = export_manifest(paths, _passphrase(passphrase_file), out_file)
    out.print(f"manifest of {n} devices, signed, in {out_file}")


@station.command("records")
@_dir
def station_records(root: Path | None) -> None:
    """The station's records, oldest first."""
    with open_db(station_paths(root)) as db:
        recs = db.records()
    t = Table(title=f"{len(recs)} station records")
    for col in ("serial", "model", "key", "mode", "fw", "operator", "time", "note"):
        t.add_column(col)
    for r in recs:
        mode = r.key_mode + (" (maker knows)" if r.maker_knows else "")
        mode += " +rng" if r.rng_mixed else ""
        t.add_row(r.serial, r.model, r.fingerprint[:16], mode, r.fw_version, r.operator,
                  r.time, r.note)  # fmt: skip
    out.print(t)


@click.command("provision")
@click.option("--port", "ports", multiple=True, required=True, help="a board's console (repeat)")
@click.option("--key-mode", required=True, type=click.Choice(sorted(MODES)))
@click.option("--model", required=True, help="the model the boards must report")
@click.option("--operator", required=True, help="who runs the bench, for the records")
@click.option("--factory-reset", is_flag=True, help="replace a board's existing identity")
@_dir
def provision(ports: tuple[str, ...], key_mode: str, model: str, operator: str,
              factory_reset: bool, root: Path | None) -> None:  # fmt: skip
    """Make and record the factory identity of each board, in parallel."""
    if not operator.strip():
        raise HomecaError("--operator must name someone")
    if len(set(ports)) != len(ports):
        raise HomecaError("a port is given twice")
    paths = station_paths(root)
    job = Job(key_mode, model, operator, station_name(paths), paths.labels, factory_reset)
    with open_db(paths) as db:
        results = provision_ports(
            dict.fromkeys(ports, job), db, paths.logs, on_line=lambda p, t: out.print(f"{p}: {t}")
        )
    t = Table(title="provisioning")
    for col in ("port", "serial", "result", "key"):
        t.add_column(col)
    failed = 0
    for port in ports:
        r = results[port]
        if isinstance(r, Outcome):
            t.add_row(port, r.serial, r.action, r.record.fingerprint[:16])
        else:
            failed += 1
            t.add_row(port, "", f"[red]failed: {r}[/red]", "")
    out.print(t)
    if failed:
        raise HomecaError(f"{failed} of {len(ports)} boards failed; logs in {paths.logs}")
