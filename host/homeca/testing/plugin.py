"""pytest plugin: `--target` picks the device behind the `dut` fixture.

Protocol tests are written once against `dut` and run on the unix-port device
(default), on its console pty exactly like hardware, or on a real board.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from homeca.testing.dut import Dut, open_dut


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("homeca", "HomeCA device targets")
    group.addoption(
        "--target",
        default="unix",
        help="device under test: unix (default), pty, or serial:/dev/ttyUSB0 for a real NodeMCU",
    )
    group.addoption("--hc05", default=None, help="serial URL of the real board's HC-05 link")
    group.addoption("--heapsize", default=None, help="unix-port heap, e.g. 64k (default)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sim: needs the simulator (peripheral control or power cut); not on hardware"
    )


def pytest_runtest_setup(item: pytest.Item) -> None:
    target = item.config.getoption("--target")
    if item.get_closest_marker("sim") and target.startswith("serial:"):
        pytest.skip("needs the simulator's peripheral and power control: no such wires to hardware")


@pytest.fixture
def dut(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dut]:
    opt = request.config.getoption
    device = open_dut(
        opt("--target"), tmp_path_factory.mktemp("dut"), hc05=opt("--hc05"),
        heapsize=opt("--heapsize"),
    )  # fmt: skip
    try:
        yield device
    finally:
        device.close()
