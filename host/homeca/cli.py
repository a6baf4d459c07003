"""The `homeca` command: a thin layer over the library; errors print as
`homeca: message` and exit 1."""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from homeca.errors import HomecaError
from homeca.interpreters import INTERPRETERS
from homeca.sim.device import SimDevice
from homeca.sim.report import Report

# Wide enough for the tables when the output goes to a file or a CI log.
out = Console(width=None if sys.stdout.isatty() else 140)


@click.group()
@click.version_option(package_name="homeca")
def cli() -> None:
    """HomeCA / P3 toolkit for NodeMCU ESP8266 devices."""


@cli.group()
def sim() -> None:
    """Simulated devices on the MicroPython unix port."""


@sim.command("device")
@click.argument("state_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--name", help="device name (first start only; kept in STATE_DIR)")
@click.option(
    "--interpreter",
    type=click.Choice(sorted(INTERPRETERS)),
    default="unix",
    show_default=True,
    help="unix: the 64-bit port; unix32: the ESP8266-like build",
)
@click.option("--heapsize", help="-X heapsize  [default: 64k on unix, 38k on unix32]")
@click.option("--report", is_flag=True, help="boot, exercise the link, print measurements, exit")
@click.option("--requests", default=50, show_default=True, help="status requests for --report")
@click.option("--heap-floor", is_flag=True, help="with --report: bisect the smallest heap too")
@click.option("--oled-png", type=click.Path(dir_okay=False, path_type=Path), help="save the OLED")
def sim_device(
    state_dir: Path, name: str | None, interpreter: str, heapsize: str | None, report: bool,
    requests: int,
    heap_floor: bool, oled_png: Path | None,
) -> None:  # fmt: skip
    """Run one simulated NodeMCU whose flash lives in STATE_DIR.

    Without --report it runs until interrupted and prints where its USB console
    and HC-05 link are (ptys for mpremote, pyserial or a terminal)."""
    from homeca.sim import report as rep

    if heapsize is not None:
        rep.parse_size(heapsize)
    if requests < 1:
        raise click.BadParameter("must be at least 1", param_hint="--requests")
    with SimDevice(state_dir, name=name, heapsize=heapsize, interpreter=interpreter) as dev:
        if report:
            r = rep.measure(dev, requests, oled_png)
            _print_report(r)
            if heap_floor:
                floor = rep.heap_floor(interpreter) // 1024
                out.print(f"heap floor       {floor} KiB (smallest heap that "
                          "boots and answers, to 1 KiB)")  # fmt: skip
            return
        dev.wait_ready(20)
        out.print(f"[bold]{dev.name}[/] serial {dev.serial}")
        out.print(f"console  {dev.console.path}   (mpremote connect {dev.console.path})")
        out.print(f"hc05     {dev.hc05.path}")
        out.print(f"flash    {dev.flash_dir}")
        out.print("Ctrl-C stops the device.")
        _wait_for_interrupt(dev, oled_png)


@sim.command("report")
@click.option("--requests", default=50, show_default=True, help="status requests per interpreter")
@click.option("--heap-floor", is_flag=True, help="bisect the smallest heap too (slow)")
@click.option("--oled-png", type=click.Path(dir_okay=False, path_type=Path), help="save the OLED")
def sim_report(requests: int, heap_floor: bool, oled_png: Path | None) -> None:
    """The firmware's figures on both interpreters side by side (unix: 64-bit,
    unix32: the ESP8266-like 32-bit build at the chip's 38 KiB heap), then its
    live heap by module and by main-loop job."""
    from homeca.sim import report as rep

    names = [n for n in sorted(INTERPRETERS) if INTERPRETERS[n].available()]
    missing = sorted(set(INTERPRETERS) - set(names))
    reports, profiles, floors = {}, {}, {}
    for n in names:
        png = oled_png if n == names[-1] else None
        reports[n], profiles[n], floors[n] = rep.measure_interpreter(n, requests, heap_floor, png)
    t = Table(title="firmware on the simulated NodeMCU")
    t.add_column("")
    for n in names:
        t.add_column(f"{n} ({INTERPRETERS[n].arch})", justify="right")
    rows = [
        ("heap limit", lambda r, f: f"{r.heap_limit} B (-X heapsize={r.heapsize})"),
        ("heap peak (live)", lambda r, f: f"{r.heap_peak} B, "
         f"{100 * r.heap_peak / r.heap_limit:.0f}%"),
        ("heap free now", lambda r, f: f"{r.heap_free} B"),
        ("heap floor", lambda r, f: "-" if f is None else f"{f // 1024} KiB"),
        ("boot to ready", lambda r, f: f"{r.boot_s * 1000:.0f} ms"),
        ("status round trip", lambda r, f: f"median {r.status_ms_median:.1f} ms, "
         f"max {r.status_ms_max:.1f} ms"),
        ("job restarts", lambda r, f: str(r.restarts)),
    ]  # fmt: skip
    for label, cell in rows:
        t.add_row(label, *(cell(reports[n], floors[n]) for n in names))
    out.print(t)
    t = Table(title="live heap after collection: by module imported, by job started")
    t.add_column("what")
    for n in names:
        t.add_column(n, justify="right")
    first = profiles[names[0]] if names else None
    if first is not None:
        t.add_row("boot (before the firmware)", *(str(profiles[n].boot) for n in names))
        for mod in first.modules:
            t.add_row(f"module {mod}", *(str(profiles[n].modules.get(mod, "")) for n in names))
        for job in first.jobs:
            t.add_row(f"job {job}", *(str(profiles[n].jobs.get(job, "")) for n in names))
        t.add_section()
        t.add_row("live with every job running", *(str(profiles[n].live) for n in names))
        peaks = (str(profiles[n].peak) for n in names)
        t.add_row("peak in this run (the profiler included)", *peaks)
        qstrs = (f"{profiles[n].qstr_bytes} ({profiles[n].qstrs} names)" for n in names)
        t.add_row("of which interned names (qstr pools)", *qstrs)
    out.print(t)
    if missing:
        out.print(f"not measured (not built): {', '.join(missing)}")


def _wait_for_interrupt(dev: SimDevice, oled_png: Path | None) -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while True:
            time.sleep(0.5)
            if oled_png is not None:
                dev.save_oled_png(oled_png)
            if dev.error:
                raise HomecaError(f"simulator failed: {dev.error!r}")
    except KeyboardInterrupt:
        out.print("stopped")


def _print_report(r: Report) -> None:
    t = Table(title=f"{r.name} ({r.serial})", show_header=False)
    t.add_row("state", r.state)
    t.add_row("boot to ready", f"{r.boot_s * 1000:.0f} ms")
    t.add_row("status round trip", f"median {r.status_ms_median:.1f} ms, max "
              f"{r.status_ms_max:.1f} ms over {r.requests}")  # fmt: skip
    t.add_row("heap limit", f"{r.heap_limit} bytes (-X heapsize={r.heapsize})")
    t.add_row("heap peak", f"{r.heap_peak} bytes live after collection "
              f"({100 * r.heap_peak / r.heap_limit:.0f}% of the limit)")  # fmt: skip
    t.add_row("heap free now", f"{r.heap_free} bytes")
    t.add_row("DHT22", r.sensor)
    t.add_row("job restarts", str(r.restarts))
    if r.oled_png:
        t.add_row("oled", str(r.oled_png))
    out.print(t)


@cli.group()
def firmware() -> None:
    """Firmware builds: what gets deployed to a board."""


@firmware.command("bundle")
@click.argument("board")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="bundle directory  [default: build/bundle/BOARD]")  # fmt: skip
@click.option("--ecc", "ecc_mpy", type=click.Path(dir_okay=False, path_type=Path),
              help="native ecc module  [default: build/ecc/ARCH/ecc.mpy]")  # fmt: skip
@click.option("--no-ecc", is_flag=True, help="leave ecc.mpy out: the device falls back to ecc_pure")
@click.option("--name", help="device name, written to config.json (none without it)")
@click.option("--dht-period", type=int, help="DHT22 sampling period in s (2-3600), to config.json")
def firmware_bundle(
    board: str,
    out_dir: Path | None,
    ecc_mpy: Path | None,
    no_ecc: bool,
    name: str | None,
    dht_period: int | None,
) -> None:
    """Compile the firmware for BOARD: OUT/rom.img, the ROMFS image of OUT/rom
    (every module and the native ecc), OUT/fs for the writable filesystem
    (boot.py, main.py, config.json), OUT/manifest.json; print files and sizes."""
    from homeca import bundle

    if no_ecc and ecc_mpy is not None:
        raise click.UsageError("--ecc and --no-ecc exclude each other")
    if not no_ecc and ecc_mpy is None:
        ecc_mpy = bundle.default_ecc_mpy(board)
    settings = {k: v for k, v in (("name", name), ("dht_period_s", dht_period)) if v is not None}
    report = bundle.build_bundle(
        board,
        out_dir if out_dir is not None else Path("build/bundle") / board,
        ecc_mpy=ecc_mpy,
        settings=settings or None,
    )
    bundle.print_report(report, out)


@cli.command()
@click.option("--dir", "workdir", default=Path("build/demo"), show_default=True,
              type=click.Path(file_okay=False, path_type=Path))  # fmt: skip
def demo(workdir: Path) -> None:
    """The simulated home: boots two NodeMCU devices, shows their status and OLEDs."""
    from homeca.demo import run_demo

    run_demo(workdir, out)


def _add_station_commands() -> None:
    from homeca.station.commands import flash, hil, provision, station

    cli.add_command(station)
    cli.add_command(provision)
    cli.add_command(flash)
    cli.add_command(hil)


_add_station_commands()


def main(argv: list[str] | None = None) -> int:
    try:
        cli.main(args=argv, prog_name="homeca", standalone_mode=False)
    except click.exceptions.Abort:
        return 1
    except click.ClickException as e:
        e.show()
        return e.exit_code
    except HomecaError as e:
        click.echo(f"homeca: {e}", err=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
