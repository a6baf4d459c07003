"""pytest plugin: `--target` picks the device behind the `dut` fixture.

Protocol tests are written once against `dut` and run on the unix-port device
(default), on its console pty exactly like hardware, or on a real board.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from homeca.interpreters import InterpreterMissing, interpreter
from homeca.testing.dut import Dut, open_dut
from homeca.testing.tools import need


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("homeca", "HomeCA device targets")
    group.addoption(
        "--target",
        default="unix",
        help="device under test: unix (default), unix32 (the 32-bit ESP8266-like build, "
        "38k heap), pty, or serial:/dev/ttyUSB0 for a real NodeMCU; a comma-separated "
        "list runs each device test on every target",
    )
    group.addoption("--hc05", default=None, help="serial URL of the real board's HC-05 link")
    group.addoption("--heapsize", default=None, help="unix-port heap (default 64k; 38k on unix32)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sim: needs the simulator (peripheral control or power cut); not on hardware"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "dut" in metafunc.fixturenames:
        targets = [t.strip() for t in metafunc.config.getoption("--target").split(",")]
        metafunc.parametrize("dut", [t for t in targets if t], indirect=True)


@pytest.fixture
def dut(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dut]:
    target = request.param
    if request.node.get_closest_marker("sim") and target.startswith("serial:"):
        pytest.skip("needs the simulator's peripheral and power control: no such wires to hardware")
    if target == "unix32":
        try:
            interpreter("unix32").command()
        except InterpreterMissing as e:
            need(False, f"unix32: {e}")
    opt = request.config.getoption
    device = open_dut(
        target, tmp_path_factory.mktemp("dut"), hc05=opt("--hc05"), heapsize=opt("--heapsize")
    )
    try:
        yield device
    finally:
        device.close()
