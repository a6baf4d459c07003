"""Device settings (the device's config.json), checked on the host as the
device reads them (nodefw.config), so that a value the device would ignore is
refused where it is given: the bundle builder, the simulator, the station."""

from __future__ import annotations

import json

from homeca.errors import HomecaError
from nodefw import config


def config_text(settings: dict) -> str:
    """config.json for `settings`, checked as the device reads it (nodefw.config):
    a value the device would ignore is refused here, with the reason."""
    if not isinstance(settings, dict):
        raise HomecaError("settings must be a dict (written as config.json)")
    unknown = sorted(set(settings) - set(config.KEYS))
    if unknown:
        raise HomecaError(
            f"unknown setting(s) {', '.join(unknown)}; known: {', '.join(config.KEYS)}"
        )
    name = settings.get("name")
    if name is not None and not config.valid_name(name):
        raise HomecaError(f"device name {name!r}: 1-{config.NAME_MAX} printable ASCII characters")
    period = settings.get("dht_period_s")
    if period is not None and not config.valid_dht_period(period):
        lo, hi = config.DHT_PERIOD_MIN, config.DHT_PERIOD_MAX
        raise HomecaError(f"dht_period_s {period!r}: whole seconds, {lo}-{hi}")
    return json.dumps(settings, sort_keys=True, separators=(",", ":"))
