# The message catalogue: one schema per message type, shared by every party.
# Type ranges: 0x00-0x0F link and device basics, 0x10-0x3F HomeCA (0x10-0x12:
# the burn-in station's, on the console only, in nodefw/identity.py), 0x40-0x6F
# P3, 0xF0-0xFF simulator control (never on a real link).
from nodefw import wire
from nodefw.wire import BYTES, I16, STR, U8, U16, U32, WireError

try:
    from micropython import const
except ImportError:  # CPython

    def const(x):
        return x


# The largest body on the HC-05 link, both ways: its buffers on the chip are
# sized by it (a 1,024-byte wire.MAX_BODY would cost 1 KB more of the 38 KiB
# heap), and at 9600 baud a 512-byte frame already takes half a second.
LINK_MAX_BODY = const(512)

ERROR = const(0x00)
STATUS_REQ = const(0x01)
STATUS = const(0x02)

# Error codes follow HTTP where one fits, so logs read the same everywhere.
E_BAD_REQUEST = const(400)
E_UNAUTHORIZED = const(401)
E_UNKNOWN_TYPE = const(404)
E_WRONG_STATE = const(409)
E_INTERNAL = const(500)
E_UNAVAILABLE = const(503)  # a part the request needs has failed (the RNG)

# Device lifecycle states, as carried in STATUS and shown on the OLED.
ST_BLANK = const(0)  # no identity key yet: waiting for burn-in provisioning
ST_RELEASED = const(1)
ST_UNOWNED = const(2)
ST_PENDING = const(3)
ST_OWNED = const(4)
ST_PAIRED = const(5)
ST_FAULT = const(6)
STATE_NAMES = ("blank", "released", "unowned", "pending", "owned", "paired", "fault")

# DHT22 status of the latest measurement, STATUS "dht" (drivers/dht22.py makes
# them). 0 is good, the rest are faults.
DHT_OK = const(0)  # the values come from this measurement
DHT_TIMEOUT = const(1)  # OSError from the sensor: no answer (unplugged, no pull-up, dead)
DHT_CHECKSUM = const(2)  # the answer's checksum did not match (noise on the data line)
DHT_RANGE = const(3)  # a valid answer outside -40..80 degC or 0..100 %RH: not used
DHT_ERROR = const(4)  # any other exception from the sensor object
DHT_NONE = const(5)  # nothing measured yet
# Shown on the OLED ("sensor checksum") and in reports.
DHT_NAMES = ("ok", "timeout", "checksum", "range", "error", "waiting")
# STATUS temp and hum before the first good reading: the I16 minimum.
NO_VALUE = const(-32768)

# One flat tuple per type: name, kind, size for each field (wire.py).
SCHEMAS = {
    ERROR: ("code", U16, 0, "detail", STR, 64),
    STATUS_REQ: (),
    STATUS: (
        "mac", BYTES, 6,
        "name", STR, 24,
        "model", STR, 24,
        "fw", STR, 16,
        "state", U8, 0,
        "uptime", U32, 0,  # seconds since boot
        "heap_free", U32, 0,
        "heap_peak", U32, 0,  # most heap ever live after a collection
        "link_bad", U32, 0,  # corrupt frames seen on the link this boot
        "dht", U8, 0,  # DHT22 latest measurement: DHT_OK ... DHT_NONE above
        "temp", I16, 0,  # 0.1 degC, median of the last good values; -32768: none
        "hum", I16, 0,  # 0.1 %RH, likewise
        "dht_age", U32, 0,  # seconds since the last good value; 0xFFFFFFFF: none
        "restarts", U32, 0,  # main-loop task failures this boot (each restarted)
        "last_fail", STR, 48,  # "task: error" of the latest failure, or ""
    ),
}  # fmt: skip


# The host's forms (the device encodes and decodes in place, in app.py), so
# wirebytes is imported on first use and never on the device.


def encode(mtype, rid, values):
    from nodefw import wirebytes

    schema = SCHEMAS.get(mtype)
    if schema is None:
        raise WireError("unknown message type " + str(mtype))
    return wirebytes.encode(mtype, rid, schema, values)


def decode(body):
    """(type, request id, fields) of a message body."""
    from nodefw import wirebytes

    mtype, rid = wirebytes.header(body)
    schema = SCHEMAS.get(mtype)
    if schema is None:
        raise WireError("unknown message type " + str(mtype))
    return mtype, rid, wire.decode(body, schema)
