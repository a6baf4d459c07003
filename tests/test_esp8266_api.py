"""ESP8266 API contract: the device code uses only what MicroPython's ESP8266
build has, so a missing binascii.crc32 fails here rather than on a board.

The device code is firmware/nodefw (but simctl.py, the simulator's) and
boards/nodemcu_v3. The API is the stub package
micropython-esp8266-esp8266-generic-stubs, corrected by the tables in
tests/esp8266_api.py for what the stubs get wrong about this build; the
checker (esp8266_api.check, whose docstring says what it covers and what not)
reads the code with `ast`, nothing runs. In CI (CI set) the stubs must be
installed; elsewhere the tests skip without them.

Three kinds of tests: the device code against the API; the checker against
snippets that must (and must not) be reported, so this test can fail; the
tables against MicroPython's source (build/micropython-src, which `make
firmware` extracts, or $MPY_SRC), needed in CI like the stubs.
"""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

import esp8266_api as espapi
import pytest
from test_ecc_usercmod import source_tree

from homeca.testing.tools import need


@pytest.fixture(scope="module")
def api() -> espapi.Api:
    found = espapi.installed_api(espapi.firmware_natives())
    need(
        found is not None and found.stdlib_root is not None,
        f"{espapi.STUBS_DIST} (and {espapi.STDLIB_DIST}) not installed: "
        f"pip install {espapi.STUBS_DIST}",
    )
    assert found is not None
    return found


# --------------------------------------------------------------------------
# The device code


def test_device_code_uses_only_the_esp8266_api(api: espapi.Api) -> None:
    findings = espapi.check_paths(api, espapi.device_sources())
    violations = [f for f in findings if not f.optional]
    optional = [f for f in findings if f.optional]
    # Uses the code guards (try/except ImportError, hasattr) that fail on the
    # ESP8266: allowed, and shown (pytest -rA) since a board runs their fallback.
    for f in optional:
        print("optional, absent on the ESP8266:", f)
    assert not violations, "the ESP8266 build lacks what this device code uses:\n" + "\n".join(
        map(str, violations)
    )


def test_device_code_is_nodefw_and_the_nodemcu_board() -> None:
    found = espapi.device_sources()
    assert {"nodefw", "nodefw.app", "nodefw.wire", "nodefw.drivers.dht22", "board", "main"} <= set(
        found
    )
    assert "nodefw.simctl" not in found  # the simulator's
    assert not any(p.parts[-3:-1] == ("boards", "unix_sim") for p in found.values())
    assert found["board"] == espapi.ROOT / "boards" / "nodemcu_v3" / "board.py"


def test_stubs_are_the_esp8266_ones(api: espapi.Api) -> None:
    machine = api.module("machine")
    assert machine is not None
    header = (api.esp_root / "machine.pyi").read_text()
    assert "esp8266-ESP8266_GENERIC" in header
    for name in ("os", "sys", "struct", "json", "asyncio"):
        assert api.module(name) is not None, name  # deferred to the stdlib stubs
    assert api.module("bluetooth") is None  # the ESP8266 has none
    assert api.module("ecc") is not None  # the firmware's own C module


def test_table_keys_name_what_the_stubs_have(api: espapi.Api) -> None:
    """A key with a typo would correct nothing."""

    def resolve(qualname: str) -> espapi.Sym | None:
        parts = qualname.split(".")
        for n in range(len(parts), 0, -1):
            sym = api.module(".".join(parts[:n]))
            if sym is not None:
                break
        else:
            return None
        for part in parts[n:]:
            found, _ = api.lookup(sym, part)
            if found is None or found.kind == "unknown":
                return None
            sym = found
        return sym

    for key in [*espapi.ONLY, *espapi.SIGNATURES]:
        assert resolve(key) is not None, key


# --------------------------------------------------------------------------
# The checker


def findings(api: espapi.Api, code: str, **modules: str) -> list[espapi.Finding]:
    sources = {"snippet": ("snippet.py", code)}
    sources.update({name: (name + ".py", text) for name, text in modules.items()})
    return espapi.check(api, sources)


def violations(api: espapi.Api, code: str, **modules: str) -> list[str]:
    return [str(f) for f in findings(api, code, **modules) if not f.optional]


MUST_FAIL = {
    "crc32 attribute": ("import binascii\nbinascii.crc32(b'')\n", "binascii.crc32"),
    "crc32 import": ("from binascii import crc32\n", "binascii.crc32"),
    "crc32 import without fallback": (
        "try:\n    from binascii import crc32\nexcept ImportError:\n    pass\ncrc32(b'')\n",
        "no fallback",
    ),
    "UART.init keyword, through a function's return": (
        "from machine import UART, Pin\n"
        "def port():\n    return UART(0, 9600, tx=Pin(15), rx=Pin(13))\n"
        "uart = port()\nuart.init(9600, bogus=1)\n",
        "machine.UART.init() has no keyword argument 'bogus'",
    ),
    "UART.init keyword, through a return annotation": (
        "from machine import UART\ndef port(make) -> UART:\n    return make()\n"
        "port(None).init(txbuf=64)\n",
        "machine.UART.init() has no keyword argument 'txbuf'",
    ),
    "UART.init keyword, through an attribute set once": (
        "from machine import UART\nclass Link:\n    def __init__(self):\n"
        "        self.uart = UART(0, 9600)\n    def slow(self):\n"
        "        self.uart.init(1200, flow=0)\n",
        "machine.UART.init() has no keyword argument 'flow'",
    ),
    "UART keyword of another port": (
        "import machine\nmachine.UART(0, 9600, txbuf=64)\n",
        "machine.UART() has no keyword argument 'txbuf'",
    ),
    "Pin value without mode": (
        "from machine import Pin\nPin(2, value=1)\n",
        "needs argument 'mode'",
    ),
    "Pin constant of another port": (
        "from machine import Pin\nPin(2, Pin.IN, Pin.PULL_DOWN)\n",
        "machine.Pin.PULL_DOWN",
    ),
    "Pin method of another port": ("import machine\nmachine.Pin(2).drive(1)\n", "Pin.drive"),
    "I2C bus id": (
        "from machine import I2C, Pin\nI2C(0, scl=Pin(5), sda=Pin(4))\n",
        "gets 'scl' both",
    ),
    "str.partition of a literal": ("'a=b'.partition('=')\n", "builtins.str.partition"),
    "partition of a value of unknown type": (
        "def f(s):\n    return s.partition('=')\n",
        ".partition()",
    ),
    "splitlines": ("def f(s):\n    return s.splitlines()\n", "SPLITLINES"),
    "center": ("def f(s):\n    return s.center(16)\n", "CENTER"),
    "bit_length": ("def f(n):\n    return n.bit_length()\n", ".bit_length()"),
    "memoryview.tobytes": (
        "def f(b):\n    return memoryview(b).tobytes()\n",
        "builtins.memoryview.tobytes",
    ),
    "3-argument pow": ("pow(2, 3, 5)\n", "builtins.pow() takes at most 2 positional"),
    "CPython os": ("import os\nos.getpid()\n", "os.getpid"),
    "CPython sys": ("import sys\nsys.exc_info()\n", "sys.exc_info"),
    "CPython asyncio": ("import asyncio\nasyncio.Queue()\n", "asyncio.Queue"),
    "CPython stream method": (
        "import asyncio\ndef f(s):\n    asyncio.StreamWriter(s, {}).writelines([])\n",
        "asyncio.StreamWriter.writelines",
    ),
    "config-disabled random": ("import random\nrandom.randint(1, 6)\n", "RANDOM_EXTRA_FUNCS"),
    "CPython exception": (
        "try:\n    pass\nexcept FileNotFoundError:\n    pass\n",
        "FileNotFoundError",
    ),
    "__file__": ("print(__file__)\n", "MICROPY_MODULE___FILE__"),
    "missing module": ("import typing\n", "no module 'typing'"),
    "u-name of a module the ESP8266 lacks": ("import ubluetooth\n", "ubluetooth"),
    "u-name of a module that is not extensible": ("import usys\n", "no module 'usys'"),
    "instance attribute": (
        "import network\nnetwork.WLAN(network.STA_IF).bogus()\n",
        "network.WLAN.bogus",
    ),
    "a catch-all is no fallback": (
        "import os\ntry:\n    os.getpid()\nexcept Exception:\n    pass\n",
        "os.getpid",
    ),
    "2-argument getattr": ("import os\ngetattr(os, 'getpid')\n", "os.getpid"),
    "self in a class on an API class": (
        "import framebuf\n"
        "class D(framebuf.FrameBuffer):\n    def f(self):\n        self.no_such(0)\n",
        "D.no_such",
    ),
    "API method signature through self": (
        "import framebuf\n"
        "class D(framebuf.FrameBuffer):\n    def f(self):\n        self.fill(0, 1)\n",
        "framebuf.FrameBuffer.fill() takes at most 1",
    ),
    "name of the board module": ("import board\nboard.nope()\n", "board (board.py) has no 'nope'"),
    "firmware module": ("from nodefw import simctl\n", "simctl"),
}


@pytest.mark.parametrize("case", MUST_FAIL, ids=list(MUST_FAIL))
def test_checker_reports(api: espapi.Api, case: str) -> None:
    code, expected = MUST_FAIL[case]
    found = violations(api, code, board="def mac():\n    return b''\n", nodefw="VERSION = '1'\n")
    assert any(expected in f for f in found), f"{expected!r} not in {found}"


MUST_PASS = {
    "optional import with fallback": (
        "try:\n    from binascii import crc32\nexcept ImportError:\n    crc32 = None\n"
    ),
    "optional import, flag": (
        "try:\n    import ecc_none\n    HAVE = True\nexcept ImportError:\n    HAVE = False\n"
    ),
    "optional attribute": (
        "import binascii\ntry:\n    f = binascii.crc32\nexcept AttributeError:\n    f = None\n"
    ),
    "hasattr": "import os\nif hasattr(os, 'getpid'):\n    os.getpid()\n",
    "getattr with a default": "import os\nsync = getattr(os, 'sync', None)\n",
    "a device class defines the method": (
        "class T:\n    def partition(self, x):\n        return x\n"
        "def f(t):\n    return t.partition(1)\n"
    ),
    "module names": "print(__name__, __debug__, __import__('os'))\n",
    "u-names": "import uos, utime, ustruct, ujson, uasyncio\nuos.urandom(1)\n",
    "the board's calls": """
from machine import I2C, UART, Pin
from micropython import const
import network, os, time, esp, gc, sys, dht
PIN = const(5)
def i2c():
    return I2C(scl=Pin(PIN), sda=Pin(4), freq=400000)
def uart():
    os.dupterm(None, 1)
    return UART(0, 9600, tx=Pin(15), rx=Pin(13), rxbuf=1024, timeout=0)
u = uart()
u.init(38400, tx=Pin(15), rx=Pin(13))
u.write(b"x")
u.any()
Pin(16, Pin.OUT, value=1)
Pin(0, Pin.IN, Pin.PULL_UP).value()
p = Pin(2, Pin.OUT)
p.value(1)
p.irq(handler=None, trigger=Pin.IRQ_FALLING)
network.WLAN(network.STA_IF).config("mac")
esp.osdebug(None)
esp.set_native_code_location(0xF8000, 0x8000)
dht.DHT22(Pin(14)).measure()
time.sleep_ms(50)
time.ticks_diff(time.ticks_ms(), 0)
gc.collect()
gc.mem_free()
sys.print_exception(ValueError())
os.urandom(4)
os.stat("x")[6]
(5).to_bytes(2, "big")
int.from_bytes(b"ab", "big")
"a b".split()
b"ab".hex()
bytearray(4).decode()
""",
    "asyncio as MicroPython has it": """
import asyncio
async def main(stream):
    r = asyncio.StreamReader(stream)
    w = asyncio.StreamWriter(stream, {})
    buf = bytearray(8)
    await r.readinto(buf)
    w.write(buf)
    await w.drain()
    ev = asyncio.Event()
    ev.set()
    await asyncio.sleep_ms(1)
    await asyncio.gather(asyncio.create_task(ev.wait()), return_exceptions=True)
asyncio.run(main(None))
""",
    "framebuf subclass": """
import framebuf
class D(framebuf.FrameBuffer):
    def __init__(self):
        self.buffer = bytearray(8)
        super().__init__(self.buffer, 8, 8, framebuf.MONO_VLSB)
    def show(self):
        self.fill(0)
        self.text("x", 0, 0, 1)
        self.fill_rect(0, 0, 8, 8, 1)
""",
}


@pytest.mark.parametrize("case", MUST_PASS, ids=list(MUST_PASS))
def test_checker_accepts(api: espapi.Api, case: str) -> None:
    assert violations(api, MUST_PASS[case]) == []


def test_optional_uses_are_noted(api: espapi.Api) -> None:
    noted = findings(api, MUST_PASS["optional import with fallback"])
    assert [f.optional for f in noted] == [True]
    assert "MICROPY_PY_BINASCII_CRC32" in noted[0].message


def test_signatures() -> None:
    sig = espapi.Sig.parse("(id, /, baud=0, *, tx=None)")
    assert sig.problem(2, ["tx"], False) is None
    assert sig.problem(3, [], False) == "takes at most 2 positional arguments (3 given)"
    assert sig.problem(1, ["rx"], False) == "has no keyword argument 'rx'"
    assert sig.problem(2, ["baud"], False) == "gets 'baud' both by position and by keyword"
    assert sig.problem(0, [], False) == "needs argument 'id'"
    assert sig.problem(None, ["tx"], True) is None
    assert str(sig) == "(id, /, baud=…, *, tx=…)"


# --------------------------------------------------------------------------
# The tables against MicroPython's source


@pytest.fixture(scope="module")
def src() -> Path:
    # tools/unix32.py's: $MPY_SRC or the shared tarball, which `make firmware`
    # (before `make test`) extracts; needed in CI.
    tree = source_tree()
    need(
        (tree / "ports" / "esp8266" / "mpconfigport.h").is_file(),
        f"MicroPython's source with ports/esp8266 at {tree} (tools/unix32.py extracts it)",
    )
    return tree


@functools.cache  # mpconfigport.h, say, once for all of ABSENT
def _read(src: Path, rel: str) -> str:
    return (src / rel).read_text(errors="replace")


def test_absent_options_are_off(src: Path) -> None:
    for name, why in espapi.ABSENT.items():
        m = re.fullmatch(r"(MICROPY_\w+) \(0\) in (\S+)", why)
        if m is None:
            continue
        macro, path = m.groups()
        assert re.search(rf"#define {macro}\s+\(0\)", _read(src, path)), (name, why)


def _undunder(names: set[str] | frozenset[str]) -> set[str]:
    return {n for n in names if not espapi._is_dunder(n)}


# ONLY key -> (file, table): the table's unconditional entries must all be in
# the list, and the list holds nothing the table lacks.
C_TABLES = {
    "builtins": ("py/modbuiltins.c", "mp_module_builtins_globals_table[]"),
    "os": ("extmod/modos.c", "os_module_globals_table[]"),
    "sys": ("py/modsys.c", "mp_module_sys_globals_table[]"),
    "struct": ("py/modstruct.c", "mp_module_struct_globals_table[]"),
    "json": ("extmod/modjson.c", "mp_module_json_globals_table[]"),
    "io": ("py/modio.c", "mp_module_io_globals_table[]"),
    "collections": ("py/modcollections.c", "mp_module_collections_globals_table[]"),
    "array": ("py/modarray.c", "mp_module_array_globals_table[]"),
    "re": ("extmod/modre.c", "mp_module_re_globals_table[]"),
    "random": ("extmod/modrandom.c", "mp_module_random_globals_table[]"),
    "machine": ("extmod/modmachine.c", "machine_module_globals_table[]"),
    "machine.Pin": ("ports/esp8266/machine_pin.c", "pyb_pin_locals_dict_table[]"),
    "machine.UART": ("extmod/machine_uart.c", "machine_uart_locals_dict_table[]"),
    "machine.I2C": ("extmod/machine_i2c.c", "machine_i2c_locals_dict_table[]"),
    "machine.SoftI2C": ("extmod/machine_i2c.c", "machine_i2c_locals_dict_table[]"),
    "machine.ADC": ("extmod/machine_adc.c", "machine_adc_locals_dict_table[]"),
    "hashlib.sha256": ("extmod/modhashlib.c", "hashlib_sha256_locals_dict_table[]"),
    "hashlib.sha1": ("extmod/modhashlib.c", "hashlib_sha1_locals_dict_table[]"),
    "io.StringIO": ("py/objstringio.c", "stringio_locals_dict_table[]"),
    "io.BytesIO": ("py/objstringio.c", "stringio_locals_dict_table[]"),
    "_asyncio": ("extmod/modasyncio.c", "mp_module_asyncio_globals_table[]"),
    "builtins.int": ("py/objint.c", "int_locals_dict_table[]"),
    "builtins.list": ("py/objlist.c", "list_locals_dict_table[]"),
    "builtins.dict": ("py/objdict.c", "dict_locals_dict_table[]"),
    "builtins.set": ("py/objset.c", " set_locals_dict_table[]"),
    "builtins.frozenset": ("py/objset.c", "frozenset_locals_dict_table[]"),
    "builtins.tuple": ("py/objtuple.c", "tuple_locals_dict_table[]"),
}
# What a list may hold beyond its table: names from elsewhere in the source.
C_EXTRA = {
    "builtins": espapi.COMPILER_NAMES,
    "sys": {"path"},  # sys_mutable_keys, looked up by mp_module_sys_attr
}


@pytest.mark.parametrize("key", C_TABLES)
def test_only_lists_match_the_c_tables(src: Path, key: str) -> None:
    path, marker = C_TABLES[key]
    every, always = espapi.c_table_names(_read(src, path), marker)
    extra = set(C_EXTRA.get(key, ()))
    if key == "machine":  # the port's MICROPY_PY_MACHINE_EXTRA_GLOBALS
        port = _read(src, "ports/esp8266/modmachine.c")
        block = "\n".join(espapi.c_block(port, "#define MICROPY_PY_MACHINE_EXTRA_GLOBALS"))
        extra |= set(re.findall(r"MP_QSTR_(\w+)", block))
    if key == "sys":
        assert "MP_QSTR_path" in _read(src, "py/modsys.c")
    listed = _undunder(espapi.ONLY[key][1])
    assert _undunder(always) - listed == set(), "in the build, not in the list"
    assert listed - _undunder(every) - extra == set(), "in the list, not in the source"


def test_string_methods_match_the_c_table(src: Path) -> None:
    every, always = espapi.c_table_names(
        _read(src, "py/objstr.c"), "array_bytearray_str_bytes_locals_table[]"
    )
    # The table's sections (the end of py/objstr.c): bytearray and array take
    # the head, bytes skips append/extend, str also hex/fromhex/decode; only
    # str has encode.
    not_of = {
        "str": {"append", "extend", "hex", "fromhex", "decode"},
        "bytes": {"append", "extend", "encode"},
        "bytearray": {"encode"},
    }
    for t, excluded in not_of.items():
        off = {k.rsplit(".", 1)[1] for k in espapi.ABSENT if k.startswith(f"builtins.{t}.")}
        assert every - set(espapi.ONLY[f"builtins.{t}"][1]) == excluded | off, t
    assert espapi.ONLY["array.array"][1] == {"append", "extend"}
    assert espapi.ONLY["builtins.memoryview"][1] == {"hex", "itemsize"}
    assert "MP_QSTR_itemsize" in _read(src, "py/objarray.c")
    assert always <= set(espapi.ONLY["builtins.str"][1])


def test_asyncio_lists_match_its_source(src: Path) -> None:
    pkg = src / "extmod" / "asyncio"
    tree = ast.parse((pkg / "__init__.py").read_text())
    lazy = next(
        n.value
        for n in tree.body
        if isinstance(n, ast.Assign) and ast.unparse(n.targets[0]) == "_attrs"
    )
    assert isinstance(lazy, ast.Dict)
    names = {k.value for k in lazy.keys if isinstance(k, ast.Constant)}
    names |= espapi.py_public_names(pkg / "core.py")
    assert espapi.ONLY["asyncio"][1] == names
    for key, (path, cls) in {
        "asyncio.Event": ("event.py", "Event"),
        "asyncio.ThreadSafeFlag": ("event.py", "ThreadSafeFlag"),
        "asyncio.Lock": ("lock.py", "Lock"),
        "asyncio.StreamReader": ("stream.py", "Stream"),
        "asyncio.StreamWriter": ("stream.py", "Stream"),
        "asyncio.Loop": ("core.py", "Loop"),
    }.items():
        assert espapi.ONLY[key][1] == espapi.py_class_members(pkg / path, cls), key
    task = "\n".join(espapi.c_block(_read(src, "extmod/modasyncio.c"), "static void task_attr("))
    assert espapi.ONLY["asyncio.Task"][1] == set(re.findall(r"MP_QSTR_(\w+)", task))


# SIGNATURES key -> (file, C function with the allowed_args, overload, leading
# parameters the C function does not parse: the id).
C_ARGS = {
    "machine.Pin": ("ports/esp8266/machine_pin.c", "pyb_pin_obj_init_helper(", 1, 1),
    "machine.Pin.init": ("ports/esp8266/machine_pin.c", "pyb_pin_obj_init_helper(", 0, 0),
    "machine.Pin.irq": ("ports/esp8266/machine_pin.c", "mp_obj_t pyb_pin_irq(", 0, 0),
    "machine.UART": ("ports/esp8266/machine_uart.c", "mp_machine_uart_init_helper(", 0, 1),
    "machine.UART.init": ("ports/esp8266/machine_uart.c", "mp_machine_uart_init_helper(", 0, 0),
    "machine.PWM": ("ports/esp8266/machine_pwm.c", "mp_machine_pwm_init_helper(", 0, 1),
    "machine.PWM.init": ("ports/esp8266/machine_pwm.c", "mp_machine_pwm_init_helper(", 0, 0),
    **{
        key: ("extmod/machine_i2c.c", "void mp_machine_soft_i2c_init(", 0, 0)
        for key in ("machine.I2C", "machine.I2C.init", "machine.SoftI2C", "machine.SoftI2C.init")
    },
}


@pytest.mark.parametrize("key", C_ARGS)
def test_signatures_match_the_c_arguments(src: Path, key: str) -> None:
    path, function, overload, skip = C_ARGS[key]
    sig = espapi.Sig.parse(espapi.SIGNATURES[key][1][overload])
    assert espapi.sig_as_args(sig, skip) == espapi.c_allowed_args(_read(src, path), function)


def test_every_signature_is_checked_against_the_source() -> None:
    assert set(espapi.SIGNATURES) - set(C_ARGS) == {"builtins.pow"}  # an ABSENT-style option


def test_stub_names_absent_from_the_source_are_listed(api: espapi.Api, src: Path) -> None:
    """Names the stubs give a C module of the build that no qstr of the source
    could define (documentation of other ports) must be in ABSENT or outside
    an ONLY list, or the checker would let them pass."""
    qstrs = espapi.source_qstrs(src)
    unlisted = []
    for module in sorted(espapi.registered_c_modules(src)):
        if api._esp_file(module) is None:
            continue
        for qual, sym in espapi.stub_names(api, module):
            owner, name = qual.rsplit(".", 1)
            if name in qstrs or sym.kind == "unknown" or qual in espapi.ABSENT:
                continue
            if owner in espapi.ONLY and name not in espapi.ONLY[owner][1]:
                continue
            if owner != module and owner in espapi.ABSENT:
                continue
            unlisted.append(qual)
    assert unlisted == []


def test_u_names_are_the_extensible_modules(api: espapi.Api, src: Path) -> None:
    on_board = {m for m in espapi.registered_c_modules(src, extensible=True) if api.module(m)}
    assert set(espapi.EXTENSIBLE[1]) == on_board
    for name, where in espapi.FROZEN_U_MODULES.items():
        path = where.split()[0]
        assert f"{name}.py" in _read(src, path), where


def test_frozen_modules_are_known(api: espapi.Api, src: Path) -> None:
    for name in sorted(espapi.manifest_modules(src)):
        assert api.available(name), f"{name} is frozen into the firmware but unknown here"
