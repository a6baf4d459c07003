# Board config written at deployment (`homeca flash`, or the simulator on a
# blank flash): settings that are not secrets, e.g. the device's display name.
import json

from nodefw import wire

PATH = "config.json"
NAME_MAX = 24
DHT_PERIOD_S = 10  # default DHT22 sampling period
DHT_PERIOD_MIN = 2  # the sensor allows one measurement per 2 s
DHT_PERIOD_MAX = 3600
KEYS = ("name", "dht_period_s")  # every setting there is


def load(path=PATH):
    """The config dict; {} when absent. A broken file is reported, not used."""
    try:
        with open(path) as f:
            data = json.load(f)
    except OSError:
        return {}
    except ValueError:
        print("config:", path, "is corrupt, using defaults")
        return {}
    if not isinstance(data, dict):
        print("config:", path, "is not an object, using defaults")
        return {}
    return data


def valid_name(v):
    """1-24 printable ASCII characters: what the OLED and STATUS can show."""
    return isinstance(v, str) and 0 < len(v) <= NAME_MAX and wire.printable(v)


def valid_dht_period(v):
    return isinstance(v, int) and not isinstance(v, bool) and DHT_PERIOD_MIN <= v <= DHT_PERIOD_MAX


# The device takes a bad value as absent (the default), rather than refusing
# to boot; the host tools refuse it with the same checks.


def device_name(cfg, serial):
    name = cfg.get("name")
    return name if valid_name(name) else "node-" + serial[-6:].lower()


def dht_period_s(cfg):
    """Seconds between DHT22 samples."""
    v = cfg.get("dht_period_s")
    return v if valid_dht_period(v) else DHT_PERIOD_S
