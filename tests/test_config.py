"""The device's settings file (nodefw.config, run here on CPython): a broken
or out-of-range setting falls back to the default instead of stopping boot."""

from __future__ import annotations

from pathlib import Path

import pytest

from nodefw import config


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"name": "kitchen"}', {"name": "kitchen"}),
        ('{"name": "kit', {}),  # truncated by a power cut mid-write
        ("[1, 2]", {}),
        ("", {}),
    ],
)
def test_load_never_raises_on_a_bad_file(tmp_path: Path, text: str, expected: dict) -> None:
    path = tmp_path / "config.json"
    path.write_text(text)
    assert config.load(str(path)) == expected
    assert config.load(str(tmp_path / "missing.json")) == {}


@pytest.mark.parametrize(
    ("value", "expected"),
    [(2, 2), (60, 60), (3600, 3600), (1, 10), (3601, 10), (2.5, 10), (True, 10), ("5", 10)],
)
def test_dht_period_is_used_only_in_range(value: object, expected: int) -> None:
    assert config.dht_period_s({"dht_period_s": value}) == expected
    assert config.dht_period_s({}) == config.DHT_PERIOD_S == 10


def test_device_name_falls_back_to_the_serial() -> None:
    assert config.device_name({"name": "kitchen-node"}, "5CCF7F0A1B2C") == "kitchen-node"
    for bad in ("", "x" * 25, "caf\u00e9", 7, None):
        assert config.device_name({"name": bad}, "5CCF7F0A1B2C") == "node-0a1b2c"
