# Board config written at deployment (`homeca flash`, or the simulator on a
# blank flash): settings that are not secrets, e.g. the device's display name.
import json

PATH = "config.json"
_NAME_MAX = 24


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


def device_name(cfg, serial):
    name = cfg.get("name")
    if isinstance(name, str) and 0 < len(name) <= _NAME_MAX:
        for c in name:
            if not " " <= c <= "~":
                break
        else:
            return name
    return "node-" + serial[-6:].lower()


DHT_PERIOD_S = 10  # default DHT22 sampling period
_DHT_PERIOD_RANGE = (2, 3600)  # the sensor allows one measurement per 2 s


def dht_period_s(cfg):
    """Seconds between DHT22 samples: the setting when it is an int in range."""
    v = cfg.get("dht_period_s")
    lo, hi = _DHT_PERIOD_RANGE
    if isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi:
        return v
    return DHT_PERIOD_S
