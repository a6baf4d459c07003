"""pytest plugin: `--target` picks the devices behind the `dut` and `duts` fixtures.

Protocol tests are written once against `dut` and run on the unix-port device
(default), on its console pty exactly like hardware, or on a real board.
Tests with several parties take `duts` and call it: `a, b, c = duts(3)`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import pytest

from homeca.interpreters import InterpreterMissing, interpreter
from homeca.testing.dut import Dut, NotEnoughBoards, open_dut, open_duts
from homeca.testing.tools import need


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("homeca", "HomeCA device targets")
    group.addoption(
        "--target",
        default="unix",
        help="device under test: unix (default), unix32 (the 32-bit ESP8266-like build, "
        "38k heap), pty, or serial:/dev/ttyUSB0 for a real NodeMCU (serial:PORT1|PORT2|... "
        "for several, as tests with several devices need); a comma-separated list runs each "
        "device test on every target",
    )
    group.addoption(
        "--hc05",
        default=None,
        help="serial URL of the real board's HC-05 link (URL1|URL2|... for several boards)",
    )
    group.addoption("--heapsize", default=None, help="unix-port heap (default 64k; 38k on unix32)")
    group.addoption(
        "--device-tests-only",
        action="store_true",
        help="collect only the tests that run on a device target (`homeca hil`)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sim: needs the simulator (peripheral control or power cut); not on hardware"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.getoption("--device-tests-only"):
        return
    keep = [i for i in items if "target" in getattr(i, "fixturenames", ())]
    gone = [i for i in items if "target" not in getattr(i, "fixturenames", ())]
    if gone:
        config.hook.pytest_deselected(items=gone)
    items[:] = keep


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "target" in metafunc.fixturenames:
        targets = [t.strip() for t in metafunc.config.getoption("--target").split(",")]
        metafunc.parametrize("target", [t for t in targets if t], indirect=True)


@pytest.fixture
def target(request: pytest.FixtureRequest) -> str:
    """One of --target's targets, usable on this machine for this test."""
    target = request.param
    if request.node.get_closest_marker("sim") and target.startswith("serial:"):
        pytest.skip("needs the simulator's peripheral and power control: no such wires to hardware")
    if target == "unix32":
        try:
            interpreter("unix32").command()
        except InterpreterMissing as e:
            need(False, f"unix32: {e}")
    return target


@pytest.fixture
def dut(
    target: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Dut]:
    opt = request.config.getoption
    device = open_dut(
        target, tmp_path_factory.mktemp("dut"), hc05=opt("--hc05"), heapsize=opt("--heapsize")
    )
    try:
        yield device
    finally:
        device.close()


@pytest.fixture
def duts(
    target: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[int], tuple[Dut, ...]]]:
    """`duts(n)`: n ready, independent devices on the target. Simulated ones
    (dut1, dut2, ...) each have their own directory and MAC and boot side by
    side; on serial:PORT1|PORT2|... the first n boards, and the test skips when
    fewer are given. All are closed at teardown, also when one failed to start."""
    opt = request.config.getoption
    with contextlib.ExitStack() as opened:

        def open_n(n: int) -> tuple[Dut, ...]:
            names = [f"dut{i}" for i in range(1, n + 1)]
            try:
                devices = open_duts(
                    target, tmp_path_factory.mktemp("duts"), names, hc05=opt("--hc05"),
                    heapsize=opt("--heapsize"),
                )  # fmt: skip
            except NotEnoughBoards as e:
                pytest.skip(str(e))
            for device in devices:
                opened.callback(device.close)
            return tuple(devices)

        yield open_n
