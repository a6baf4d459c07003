"""`homeca station ...` and `homeca provision`: thin over the station library."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from homeca.errors import HomecaError
from homeca.station import keys
from homeca.station.flash import DEFAULT_BAUD, BoardResult, flash_board, regions_for
from homeca.station.ports import Log, each_port
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


@click.command("flash")
@click.option("--port", "ports", multiple=True, required=True, help="a serial port (repeat)")
@click.option(
    "--micropython",
    "image",
    required=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="MicroPython for the ESP8266 (FLASH_2M_ROMFS), as downloaded",
)
@click.option(
    "--bundle",
    "bundle_dir",
    default=Path("build/bundle/nodemcu_v3"),
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="the firmware bundle (`make firmware`)",
)
@click.option("--baud", default=DEFAULT_BAUD, show_default=True, help="baud rate for writing")
@click.option(
    "--before",
    type=click.Choice(["default-reset", "no-reset"]),
    default="default-reset",
    show_default=True,
    help="how esptool enters the bootloader (no-reset: already there)",
)
@click.option(
    "--skip-boot-check",
    is_flag=True,
    help="do not wait for the firmware's banner on the port after the reset",
)
@_dir
def flash(
    ports: tuple[str, ...],
    image: Path,
    bundle_dir: Path,
    baud: int,
    before: str,
    skip_boot_check: bool,
    root: Path | None,
) -> None:
    """Erase each board and write MicroPython, the firmware and its filesystem, in parallel."""
    from rich.progress import BarColumn, Progress, TextColumn

    from nodefw import VERSION

    if len(set(ports)) != len(ports):
        raise HomecaError("a port is given twice")
    regions = regions_for(image.read_bytes(), bundle_dir)
    logs = station_paths(root).logs
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
    )
    with Progress(*columns, console=out) as bars:
        tasks = {p: bars.add_task(p, total=1) for p in ports}

        def work(port: str, log: Log) -> BoardResult:
            def progress(done: int, total: int) -> None:
                bars.update(tasks[port], completed=done, total=max(total, 1))

            result = flash_board(port, regions, VERSION, baud=baud, before=before, log=log,
                                 progress=progress, check_boot=not skip_boot_check)  # fmt: skip
            bars.update(tasks[port], description=f"{port} done")
            return result

        results = each_port(ports, work, logs, prefix="flash-")
    t = Table(title="flashing")
    for col in ("port", "MAC", "firmware", "result"):
        t.add_column(col)
    failed = 0
    for port in ports:
        r = results[port]
        if isinstance(r, BoardResult):
            t.add_row(port, r.mac, r.version or "(not checked)", "ok, every region verified")
        else:
            failed += 1
            t.add_row(port, "", "", f"[red]failed: {r}[/red]")
    out.print(t)
    if failed:
        raise HomecaError(f"{failed} of {len(ports)} boards failed; logs in {logs}")


@click.command("hil")
@click.option("--port", required=True, help="the board's console (USB serial)")
@click.option("--hc05", help="serial URL of the board's HC-05 link (e.g. /dev/rfcomm0)")
@click.option(
    "--junit",
    default=Path("build/hil/junit.xml"),
    show_default=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="JUnit XML report",
)
@click.option("-k", "select", help="only tests matching this pytest -k expression")
def hil(port: str, hc05: str | None, junit: Path, select: str | None) -> None:
    """Run the device test suites against a board on a serial port."""
    from homeca.hil import run_hil

    s = run_hil(port, hc05, junit, select)
    t = Table(title=f"hardware in the loop: {port}")
    for col in ("tests", "passed", "failed", "errors", "skipped", "time"):
        t.add_column(col, justify="right")
    t.add_row(
        str(s.tests),
        str(s.passed),
        str(s.failures),
        str(s.errors),
        str(s.skipped),
        f"{s.seconds:.1f} s",
    )
    out.print(t)
    out.print(f"JUnit XML: {junit}")
    if s.failures or s.errors or s.tests == 0:
        raise HomecaError("the board failed its tests" if s.tests else "no device test ran")
