"""The simulated bench and home that `make demo` runs. It grows with the
project: today three NodeMCU devices boot on the unix port, the burn-in
station gives each its factory identity (one per key mode) and records it,
and then they sample their DHT22 sensors and report, released, over their
HC-05 links."""

from __future__ import annotations

import secrets
from contextlib import ExitStack
from pathlib import Path

from rich.console import Console
from rich.table import Table

from homeca.boards import board_text
from homeca.errors import HomecaError
from homeca.link import Link
from homeca.sim.device import SimDevice
from homeca.sim.report import sensor_text, wait_sensor
from homeca.station.provision import Job, Outcome, provision_ports
from homeca.station.settings import station_paths
from homeca.station.station import init_station, open_db, station_name
from nodefw.messages import STATE_NAMES

DEVICES = ("kitchen-node", "hall-node", "garage-node")
CLIMATE = {"kitchen-node": (23.4, 41.0), "hall-node": (19.8, 55.5), "garage-node": (11.2, 70.0)}
KEY_MODES = {"kitchen-node": "local", "hall-node": "feed", "garage-node": "seed"}


def bench(workdir: Path, devices: list[SimDevice], out: Console) -> None:
    """The burn-in station: made on first run (its passphrase is random, in a
    0600 file beside it), then each device provisioned in its key mode."""
    paths = station_paths(workdir / "station")
    if not paths.key.exists():
        secret = workdir / "station-passphrase"
        secret.write_text(secrets.token_urlsafe(24))
        secret.chmod(0o600)
        init_station(paths, secret.read_text().encode(), "demo-bench")
    model = board_text("unix_sim", "MODEL")
    job = {KEY_MODES[d.name]: Job(KEY_MODES[d.name], model, "demo",
                                  station_name(paths), paths.labels) for d in devices}  # fmt: skip
    with open_db(paths) as db:
        results = provision_ports({d.console.path: job[KEY_MODES[d.name]] for d in devices},
                                  db, paths.logs)  # fmt: skip
        records = db.records()
    for d in devices:
        r = results[d.console.path]
        if not isinstance(r, Outcome):
            raise HomecaError(f"bench: {d.name}: {r}")
        out.print(f"bench: {d.name} {r.serial}: {r.action}, {r.record.key_mode} key")
    table = Table(title=f"Station records ({paths.db})")
    for col in ("serial", "model", "key mode", "maker knows", "key fingerprint", "fw", "time"):
        table.add_column(col)
    for r in records:
        table.add_row(r.serial, r.model, r.key_mode, "yes" if r.maker_knows else "no",
                      r.fingerprint[:16], r.fw_version, r.time)  # fmt: skip
    out.print(table)


def run_demo(workdir: Path, out: Console) -> list[dict]:
    workdir.mkdir(parents=True, exist_ok=True)
    rows = []
    with ExitStack() as stack:
        devices = [stack.enter_context(SimDevice(workdir / n, name=n)) for n in DEVICES]
        for dev in devices:
            dev.set_dht(*CLIMATE[dev.name])
            dev.wait_ready(20)
            out.print(f"booted {dev.name}: console {dev.console.path}, HC-05 {dev.hc05.path}")
        bench(workdir, devices, out)
        for dev in devices:
            dev.wait_ready(20)
        table = Table(title="Devices (status over the HC-05 link)")
        for col in ("name", "serial", "model", "firmware", "state", "DHT22", "heap free",
                    "heap peak", "OLED"):  # fmt: skip
            table.add_column(col)
        for dev in devices:
            with Link(dev.hc05.path) as link:
                st = wait_sensor(link)
            png = dev.save_oled_png(workdir / f"{dev.name}-oled.png")
            rows.append(st | {"oled_png": png})
            table.add_row(
                st["name"], st["mac"].hex().upper(), st["model"], st["fw"],
                STATE_NAMES[st["state"]], sensor_text(st), str(st["heap_free"]),
                str(st["heap_peak"]), str(png),
            )  # fmt: skip
        out.print(table)
    return rows
