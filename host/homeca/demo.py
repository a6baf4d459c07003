"""The simulated home that `make demo` runs. It grows with the project: today
two NodeMCU devices boot on the unix port, sample their DHT22 sensors and
report over their HC-05 links."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

from rich.console import Console
from rich.table import Table

from homeca.link import Link
from homeca.sim.device import SimDevice
from homeca.sim.report import sensor_text, wait_sensor
from nodefw.messages import STATE_NAMES

DEVICES = ("kitchen-node", "hall-node")
CLIMATE = {"kitchen-node": (23.4, 41.0), "hall-node": (19.8, 55.5)}  # degC, %RH


def run_demo(workdir: Path, out: Console) -> list[dict]:
    workdir.mkdir(parents=True, exist_ok=True)
    rows = []
    with ExitStack() as stack:
        devices = [stack.enter_context(SimDevice(workdir / n, name=n)) for n in DEVICES]
        for dev in devices:
            dev.set_dht(*CLIMATE[dev.name])
            dev.wait_ready(20)
            out.print(f"booted {dev.name}: console {dev.console.path}, HC-05 {dev.hc05.path}")
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
