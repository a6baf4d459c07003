"""MicroPython's ESP8266 API, and a static check that code uses nothing else.

The model of the API is the stub package micropython-esp8266-esp8266-generic-stubs
(MicroPython 1.29, board ESP8266_GENERIC) plus the tables below, which hold what
the stubs get wrong for this build. The stubs are made by listing each built-in
module on a board and merging in the documentation, so module-level names of
the board's own C modules are right, but:

- the documentation adds names and signatures of other ports (Pin.PULL_DOWN,
  UART(txbuf=), machine.ATTN_0DB, random.randrange are not in this build);
- os, sys, struct, json, io, asyncio, ... are deferred to micropython-stdlib-stubs,
  a copy of CPython's typeshed with all of CPython's API (os.getpid, asyncio.Queue);
- what ports/esp8266/mpconfigport.h compiles out does not show (str.partition,
  pow() with three arguments), nor CPython builtins MicroPython never had.

So each table entry says where in MicroPython's source (the tree tools/unix32.py
extracts, build/micropython-src/micropython) the fact comes from, and
tests/test_esp8266_api.py checks the tables against that source when it is
there. `check()` is the checker; its docstring says what it covers.
"""

from __future__ import annotations

import ast
import functools
import importlib.metadata
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar

from homeca import BOARDS_DIR, FIRMWARE_DIR, REPO_DIR
from homeca.boards import board_spec
from homeca.bundle import PACKAGE

STUBS_DIST = "micropython-esp8266-esp8266-generic-stubs"
STDLIB_DIST = "micropython-stdlib-stubs"

ROOT = REPO_DIR
BOARD = "nodemcu_v3"

# --------------------------------------------------------------------------
# Facts from MicroPython's source that the stubs lack. Paths are relative to
# the MicroPython tree. The ESP8266 build is MICROPY_CONFIG_ROM_LEVEL_EXTRA_FEATURES:
# options at "FULL" or "EVERYTHING" level are off, "CORE" to "EXTRA" are on
# unless mpconfigport.h says otherwise.

PORT_CONFIG = "ports/esp8266/mpconfigport.h"


def _off(macro: str) -> str:
    return f"{macro} (0) in {PORT_CONFIG}"


_PARTITION = _off("MICROPY_PY_BUILTINS_STR_PARTITION")
_SPLITLINES = _off("MICROPY_PY_BUILTINS_STR_SPLITLINES")
_CENTER = _off("MICROPY_PY_BUILTINS_STR_CENTER")
_RANDOM = _off("MICROPY_PY_RANDOM_EXTRA_FUNCS")
_ESP32 = "another port's: not in ports/esp8266 (the stubs merge in the documentation)"

# Names that do not exist in the ESP8266 build, with the reason. Qualified by
# module (builtins for the built-in functions and types).
ABSENT: dict[str, str] = {
    "binascii.crc32": _off("MICROPY_PY_BINASCII_CRC32"),
    **{
        f"builtins.{t}.{m}": _PARTITION
        for t in ("str", "bytes", "bytearray")
        for m in ("partition", "rpartition")
    },
    **{f"builtins.{t}.splitlines": _SPLITLINES for t in ("str", "bytes", "bytearray")},
    **{f"builtins.{t}.center": _CENTER for t in ("str", "bytes", "bytearray")},
    "builtins.slice.indices": _off("MICROPY_PY_BUILTINS_SLICE_INDICES"),
    "builtins.compile": _off("MICROPY_PY_BUILTINS_COMPILE"),
    "builtins.execfile": _off("MICROPY_PY_BUILTINS_EXECFILE"),
    "builtins.NotImplemented": _off("MICROPY_PY_BUILTINS_NOTIMPLEMENTED"),
    "builtins.complex": _off("MICROPY_PY_BUILTINS_COMPLEX"),
    "builtins.__file__": _off("MICROPY_MODULE___FILE__"),
    "sys.ps1": _off("MICROPY_PY_SYS_PS1_PS2"),
    "sys.ps2": _off("MICROPY_PY_SYS_PS1_PS2"),
    "math.inf": _off("MICROPY_PY_MATH_CONSTANTS"),
    "math.nan": _off("MICROPY_PY_MATH_CONSTANTS"),
    "math.tau": _off("MICROPY_PY_MATH_CONSTANTS"),
    "math.isclose": _off("MICROPY_PY_MATH_ISCLOSE"),
    "math.factorial": _off("MICROPY_PY_MATH_FACTORIAL"),
    **{
        f"math.{f}": _off("MICROPY_PY_MATH_SPECIAL_FUNCTIONS")
        for f in ("erf", "erfc", "gamma", "lgamma")
    },
    **{f"random.{f}": _RANDOM for f in ("randrange", "randint", "choice", "random", "uniform")},
    "hashlib.md5": _off("MICROPY_PY_HASHLIB_MD5"),
    # Documentation of other ports, merged into the stubs (their qstrs occur
    # nowhere in py/, extmod/, shared/, drivers/ or ports/esp8266/).
    **{
        f"machine.{n}": _ESP32
        for n in ("ATTN_0DB", "IDLE", "SLEEP", "WLAN_WAKE", "PIN_WAKE", "RTC_WAKE", "ADCWiPy")
    },
    "machine.SPI.CONTROLLER": _ESP32,
    **{f"esp.LOG_{n}": _ESP32 for n in ("NONE", "ERROR", "WARNING", "INFO", "DEBUG", "VERBOSE")},
    **{f"network.{n}": _ESP32 for n in ("LAN", "WLANWiPy", "AbstractNIC")},
    **{f"network.WLAN.{n}": _ESP32 for n in ("PROTOCOL_DEFAULT", "PROTOCOL_LR", "BANDWIDTH_20")},
    "socket.IPPROTO_SEC": _ESP32,
    "machine.RTC.init": "not in ports/esp8266/machine_rtc.c pyb_rtc_locals_dict_table",
    "errno.ENOTSUP": "not in py/moderrno.c (EOPNOTSUPP is)",
    "vfs.AbstractBlockDev": "the documentation's block device protocol, no class of extmod/vfs.c",
}


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Not builtins at run time, but what the compiler makes of them (const()
# assignments, viper code) or a module's own global.
COMPILER_NAMES = _names("const ptr ptr8 ptr16 ptr32 uint __name__ __debug__")

_STR_METHODS = """find rfind index rindex join split rsplit startswith endswith strip
    lstrip rstrip format replace count lower upper isspace isalpha isdigit isupper islower"""
_STR_TABLE = "py/objstr.c array_bytearray_str_bytes_locals_table"

# Namespaces whose complete list of names is given here (dunder names aside):
# a name the stubs have and the list lacks is not in the ESP8266 build. Each
# entry: (where in the source, names).
ONLY: dict[str, tuple[str, frozenset[str]]] = {
    "builtins": (
        "py/modbuiltins.c mp_module_builtins_globals_table",
        _names(
            """__build_class__ __import__ __repl_print__ bool bytes bytearray dict enumerate
            filter float frozenset int list map memoryview object property range reversed set
            slice str super tuple type zip classmethod staticmethod Ellipsis abs all any bin
            callable chr delattr dir divmod eval exec getattr setattr globals hasattr hash help
            hex id input isinstance issubclass iter len locals max min next oct open ord pow
            print repr round sorted sum BaseException ArithmeticError AssertionError
            AttributeError EOFError Exception GeneratorExit ImportError IndentationError
            IndexError KeyboardInterrupt KeyError LookupError MemoryError NameError
            NotImplementedError OSError OverflowError RuntimeError StopAsyncIteration
            StopIteration SyntaxError SystemExit TypeError UnicodeError ValueError
            ViperTypeError ZeroDivisionError"""
        )
        | COMPILER_NAMES,
    ),
    "builtins.str": (_STR_TABLE, _names(_STR_METHODS + " encode")),
    "builtins.bytes": (_STR_TABLE, _names(_STR_METHODS + " hex fromhex decode")),
    "builtins.bytearray": (_STR_TABLE, _names(_STR_METHODS + " append extend hex fromhex decode")),
    "builtins.memoryview": (f"{_STR_TABLE}; py/objarray.c memoryview_attr", _names("hex itemsize")),
    "builtins.int": ("py/objint.c int_locals_dict_table", _names("from_bytes to_bytes")),
    "builtins.float": ("py/objfloat.c (no methods)", frozenset()),
    "builtins.list": (
        "py/objlist.c list_locals_dict_table",
        _names("append clear copy count extend index insert pop remove reverse sort"),
    ),
    "builtins.dict": (
        "py/objdict.c dict_locals_dict_table",
        _names("clear copy fromkeys get items keys pop popitem setdefault update values"),
    ),
    "builtins.set": (
        "py/objset.c set_locals_dict_table",
        _names(
            """add clear copy discard difference difference_update intersection
            intersection_update isdisjoint issubset issuperset pop remove symmetric_difference
            symmetric_difference_update union update"""
        ),
    ),
    "builtins.frozenset": (
        "py/objset.c frozenset_locals_dict_table",
        _names(
            "copy difference intersection isdisjoint issubset issuperset symmetric_difference union"
        ),
    ),
    "builtins.tuple": ("py/objtuple.c tuple_locals_dict_table", _names("count index")),
    "os": (
        "extmod/modos.c os_module_globals_table",
        _names(
            """sync uname urandom sep chdir getcwd listdir mkdir remove rename rmdir unlink
            stat statvfs dupterm dupterm_notify ilistdir mount umount VfsFat VfsLfs2"""
        ),
    ),
    "sys": (
        "py/modsys.c mp_module_sys_globals_table, sys_mutable_keys",
        _names(
            """argv version version_info implementation platform byteorder maxsize exit
            stdin stdout stderr modules print_exception path"""
        ),
    ),
    "struct": (
        "py/modstruct.c mp_module_struct_globals_table",
        _names("calcsize pack pack_into unpack unpack_from"),
    ),
    "json": ("extmod/modjson.c mp_module_json_globals_table", _names("dump dumps load loads")),
    "io": (
        "py/modio.c mp_module_io_globals_table",
        _names("open IOBase StringIO BytesIO"),
    ),
    **{
        f"io.{cls}": (
            "py/objstringio.c stringio_locals_dict_table",
            _names("read readinto readline write seek tell flush close getvalue"),
        )
        for cls in ("StringIO", "BytesIO")
    },
    "collections": (
        "py/modcollections.c mp_module_collections_globals_table",
        _names("deque namedtuple OrderedDict"),
    ),
    "array": ("py/modarray.c mp_module_array_globals_table", _names("array")),
    "array.array": (_STR_TABLE, _names("append extend")),
    "re": ("extmod/modre.c mp_module_re_globals_table", _names("compile match search sub")),
    "random": (
        "extmod/modrandom.c mp_module_random_globals_table",
        _names("getrandbits seed"),
    ),
    "machine": (
        "extmod/modmachine.c machine_module_globals_table; ports/esp8266/modmachine.c",
        _names(
            """mem8 mem16 mem32 unique_id soft_reset reset reset_cause idle freq lightsleep
            deepsleep disable_irq enable_irq bitstream dht_readinto time_pulse_us Signal
            SoftI2C SoftSPI ADC PWM SPI UART WDT sleep RTC Timer Pin I2C DEEPSLEEP
            PWRON_RESET HARD_RESET DEEPSLEEP_RESET WDT_RESET SOFT_RESET"""
        ),
    ),
    "machine.Pin": (
        "ports/esp8266/machine_pin.c pyb_pin_locals_dict_table",
        _names("init value off on toggle irq IN OUT OPEN_DRAIN PULL_UP IRQ_RISING IRQ_FALLING"),
    ),
    "machine.ADC": (
        "extmod/machine_adc.c machine_adc_locals_dict_table, MICROPY_PY_MACHINE_ADC_READ (1)",
        _names("read_u16 read"),
    ),
    "machine.UART": (
        "extmod/machine_uart.c machine_uart_locals_dict_table",
        _names("init deinit flush read readline readinto write any txdone"),
    ),
    # machine.I2C is machine.SoftI2C on the ESP8266 (ports/esp8266/modmachine.c).
    **{
        f"machine.{i2c}": (
            "extmod/machine_i2c.c machine_i2c_locals_dict_table",
            _names(
                """init deinit scan start stop readinto write readfrom readfrom_into writeto
                writevto readfrom_mem readfrom_mem_into writeto_mem"""
            ),
        )
        for i2c in ("I2C", "SoftI2C")
    },
    **{
        f"hashlib.{h}": (
            f"extmod/modhashlib.c hashlib_{h}_locals_dict_table",
            _names("update digest"),
        )
        for h in ("sha256", "sha1")
    },
    # asyncio is frozen Python (extmod/asyncio) over the C module _asyncio.
    "asyncio": (
        "extmod/asyncio/__init__.py _attrs, extmod/asyncio/core.py",
        _names(
            """wait_for wait_for_ms gather Event ThreadSafeFlag Lock open_connection
            start_server StreamReader StreamWriter ticks ticks_diff ticks_add sys select
            TaskQueue Task CancelledError TimeoutError SingletonGenerator sleep_ms sleep
            IOQueue create_task run_until_complete run cur_task Loop get_event_loop
            current_task new_event_loop"""
        ),
    ),
    "_asyncio": ("extmod/modasyncio.c mp_module_asyncio_globals_table", _names("TaskQueue Task")),
    "asyncio.Event": ("extmod/asyncio/event.py", _names("is_set set clear wait")),
    "asyncio.ThreadSafeFlag": ("extmod/asyncio/event.py", _names("ioctl set clear wait")),
    "asyncio.Lock": ("extmod/asyncio/lock.py", _names("locked release acquire")),
    **{
        f"asyncio.{stream}": (
            "extmod/asyncio/stream.py Stream",
            _names(
                """get_extra_info close wait_closed read readinto readexactly readline write
                drain aclose awrite awritestr"""
            ),
        )
        for stream in ("StreamReader", "StreamWriter")
    },
    "asyncio.Loop": (
        "extmod/asyncio/core.py Loop",
        _names(
            """create_task run_forever run_until_complete stop close set_exception_handler
            get_exception_handler default_exception_handler call_exception_handler"""
        ),
    ),
    "asyncio.Task": (
        "extmod/modasyncio.c task_attr",
        _names("coro data state done cancel ph_key"),
    ),
}

_UART_ARGS = (
    "baudrate=0, bits=0, parity=None, stop=0, *, tx=None, rx=None, rxbuf=0, timeout=0, "
    "timeout_char=0"
)
_I2C_ARGS = "(scl, sda, *, freq=400000, timeout=50000)"
# Call signatures, in Python's notation, where the stubs have the
# documentation's (another port's) instead. Several signatures: overloads.
SIGNATURES: dict[str, tuple[str, tuple[str, ...]]] = {
    "machine.Pin": (
        # mode is required once anything follows the id: Pin(n, value=1) fails.
        "ports/esp8266/machine_pin.c mp_pin_make_new, pyb_pin_obj_init_helper",
        ("(id, /)", "(id, /, mode, pull=None, *, value=None)"),
    ),
    "machine.Pin.init": (
        "ports/esp8266/machine_pin.c pyb_pin_obj_init_helper",
        ("(mode, pull=None, *, value=None)",),
    ),
    "machine.Pin.irq": (
        "ports/esp8266/machine_pin.c pyb_pin_irq",
        ("(handler=None, trigger=3, hard=False)",),
    ),
    "machine.UART": (
        "ports/esp8266/machine_uart.c mp_machine_uart_init_helper",
        (f"(id, /, {_UART_ARGS})",),
    ),
    "machine.UART.init": (
        "ports/esp8266/machine_uart.c mp_machine_uart_init_helper",
        (f"({_UART_ARGS})",),
    ),
    **{
        name: ("extmod/machine_i2c.c mp_machine_soft_i2c_init", (_I2C_ARGS,))
        for name in ("machine.I2C", "machine.I2C.init", "machine.SoftI2C", "machine.SoftI2C.init")
    },
    "machine.PWM": (
        "ports/esp8266/machine_pwm.c mp_machine_pwm_init_helper",
        ("(dest, /, freq=-1, duty=-1, duty_u16=-1, duty_ns=-1)",),
    ),
    "machine.PWM.init": (
        "ports/esp8266/machine_pwm.c mp_machine_pwm_init_helper",
        ("(freq=-1, duty=-1, duty_u16=-1, duty_ns=-1)",),
    ),
    "builtins.pow": (_off("MICROPY_PY_BUILTINS_POW3"), ("(base, exp, /)",)),
}

# `import uos` finds os only because os is an extensible module: the u-prefix
# works for those (py/objmodule.c mp_module_get_builtin) and for frozen
# u-modules, not for the rest the stubs give a u-name (usys, ussl).
EXTENSIBLE = (
    "MP_REGISTER_EXTENSIBLE_MODULE in py/, extmod/",
    _names(
        """array binascii collections cryptolib errno hashlib heapq io json machine os
        platform random re select socket struct time websocket"""
    ),
)
FROZEN_U_MODULES = {"uasyncio": "extmod/asyncio/manifest.py module('uasyncio.py')"}

# Modules of the build that the stubs do not describe: importable, their names
# unchecked unless ONLY lists them.
UNDESCRIBED: dict[str, str] = {
    "upysh": "ports/esp8266/boards/ESP8266_GENERIC/manifest_2MiB.py require('upysh')",
    "_asyncio": "extmod/modasyncio.c (MICROPY_PY_ASYNCIO)",
}

# Modules of the type system, not of the board: a base class from them adds
# members the stubs do not list (typing.IO's read), except the pure scaffolding.
_TYPING_MODULES = (
    "typing",
    "typing_extensions",
    "_typeshed",
    "collections.abc",
    "_collections_abc",
    "abc",
    "types",
)
_SCAFFOLDING = {"Generic", "Protocol", "object", "ABC", "ABCMeta", "Any", "Final"}


def _is_dunder(name: str) -> bool:
    return name.startswith("__") and name.endswith("__")


_K = TypeVar("_K")
_V = TypeVar("_V")


def _once(
    done: dict[_K, _V | None], busy: set[_K], key: _K, make: Callable[[], _V | None]
) -> _V | None:
    """done[key], made by make() the first time; None while it is being made
    (a cycle: a module that imports itself, a name bound to itself)."""
    if key in done:
        return done[key]
    if key in busy:
        return None
    busy.add(key)
    try:
        done[key] = make()
    finally:
        busy.discard(key)
    return done[key]


# --------------------------------------------------------------------------
# Signatures


@dataclass(frozen=True)
class Param:
    name: str
    kind: str  # "pos" (positional only), "any" (positional or keyword), "kw" (keyword only)
    required: bool


@dataclass(frozen=True)
class Sig:
    params: tuple[Param, ...]
    var_pos: bool = False
    var_kw: bool = False

    @classmethod
    def from_args(cls, args: ast.arguments, drop_first: bool = False) -> Sig:
        positional = [*args.posonlyargs, *args.args]
        n_posonly = len(args.posonlyargs)
        first_default = len(positional) - len(args.defaults)
        params = []
        for i, a in enumerate(positional):
            # typeshed's older spelling of positional-only: __name
            posonly = i < n_posonly or (a.arg.startswith("__") and not a.arg.endswith("__"))
            params.append(Param(a.arg, "pos" if posonly else "any", i < first_default))
        for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True):
            params.append(Param(a.arg, "kw", d is None))
        if drop_first and params:
            params = params[1:]
        return cls(tuple(params), args.vararg is not None, args.kwarg is not None)

    @classmethod
    def parse(cls, text: str) -> Sig:
        """A signature in Python's notation, e.g. "(id, /, mode, *, value=None)"."""
        fn = ast.parse(f"def f{text}: pass").body[0]
        assert isinstance(fn, ast.FunctionDef)
        return cls.from_args(fn.args)

    def problem(self, n_pos: int | None, keywords: Sequence[str], star_kw: bool) -> str | None:
        """Why a call with n_pos positional arguments (None: a *args) and these
        keyword arguments does not fit, or None when it fits."""
        positional = [p for p in self.params if p.kind != "kw"]
        if n_pos is not None and n_pos > len(positional) and not self.var_pos:
            return f"takes at most {len(positional)} positional arguments ({n_pos} given)"
        for kw in keywords:
            match = [p for p in self.params if p.name == kw and p.kind != "pos"]
            if not match:
                if not self.var_kw:
                    return f"has no keyword argument {kw!r}"
                continue
            if n_pos is not None and match[0].kind == "any" and positional.index(match[0]) < n_pos:
                return f"gets {kw!r} both by position and by keyword"
        if n_pos is None or star_kw:
            return None
        for i, p in enumerate(self.params):
            if not p.required:
                continue
            if p.kind != "kw" and i < n_pos:
                continue
            if p.kind != "pos" and p.name in keywords:
                continue
            return f"needs argument {p.name!r}"
        return None

    def __str__(self) -> str:
        out: list[str] = []
        pos = [p for p in self.params if p.kind != "kw"]
        for i, p in enumerate(pos):
            out.append(p.name if p.required else p.name + "=…")
            if p.kind == "pos" and (i + 1 == len(pos) or pos[i + 1].kind != "pos"):
                out.append("/")
        kw = [p for p in self.params if p.kind == "kw"]
        if self.var_pos:
            out.append("*args")
        elif kw:
            out.append("*")
        out.extend(p.name if p.required else p.name + "=…" for p in kw)
        if self.var_kw:
            out.append("**kwargs")
        return "(" + ", ".join(out) + ")"


# --------------------------------------------------------------------------
# The API model


@dataclass(eq=False)
class Sym:
    """A module, class, function or value of the ESP8266 API."""

    qualname: str
    kind: str  # "module", "class", "function", "value" or "unknown" (exists, nothing more known)
    members: dict[str, Sym] = field(default_factory=dict)
    sigs: list[Sig] = field(default_factory=list)
    bases: list[ast.expr] = field(default_factory=list)
    returns: ast.expr | None = None
    home: StubModule | None = None  # where its names (bases, return types) resolve
    method: bool = False  # a function in a class, called with self bound
    open: bool = False  # members beyond those listed may exist


@dataclass(eq=False)
class StubModule:
    name: str
    sym: Sym
    imports: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # local -> (mod, name)
    stars: list[str] = field(default_factory=list)


def _absolute(node: ast.ImportFrom, package: str) -> str:
    """The module a (relative) from-import names, inside package."""
    if not node.level:
        return node.module or ""
    parts = package.split(".") if package else []
    if node.level > 1:
        parts = parts[: len(parts) - (node.level - 1)]
    return ".".join([*parts, node.module] if node.module else parts)


def _unknown(qualname: str) -> Sym:
    return Sym(qualname, "unknown", open=True)


class Api:
    """The ESP8266 API: the stubs, corrected by the tables above.

    esp_root holds the ESP8266 stub files (relative paths in esp_files),
    stdlib_root the directory `stdlib` of micropython-stdlib-stubs, natives the
    firmware's own C modules (name -> function names)."""

    def __init__(
        self,
        esp_root: Path,
        esp_files: Iterable[str],
        stdlib_root: Path | None,
        natives: dict[str, frozenset[str]] | None = None,
    ) -> None:
        self.esp_root = esp_root
        self.esp_files = {f for f in esp_files if f.endswith(".pyi")}
        self.stdlib_root = stdlib_root
        self.natives = natives or {}
        self._modules: dict[str, StubModule | None] = {}
        self._loading: set[str] = set()
        self._views: dict[tuple[int, str], Sym] = {}
        # uos.pyi is "from os import *": the u-name of a built-in module. Where
        # the ESP8266 stubs have no os.pyi, the board's os is the stdlib stubs'.
        self._aliases: dict[str, str] = {}
        self._deferred: set[str] = set()
        for f in self.esp_files:
            if "/" in f or not f.startswith("u"):
                continue
            tree = ast.parse((esp_root / f).read_text())
            defines = [n for n in tree.body if not isinstance(n, ast.Expr | ast.ImportFrom)]
            for node in tree.body:
                if (
                    isinstance(node, ast.ImportFrom)
                    and node.names[0].name == "*"
                    and node.module == f[1:-4]
                    and not defines
                ):
                    self._aliases[f[:-4]] = node.module
                    if self._esp_file(node.module) is None:
                        self._deferred.add(node.module)

    # Loading

    def _esp_file(self, name: str) -> Path | None:
        base = name.replace(".", "/")
        for rel in (base + ".pyi", base + "/__init__.pyi"):
            if rel in self.esp_files:
                return self.esp_root / rel
        return None

    def _stdlib_file(self, name: str) -> Path | None:
        if self.stdlib_root is None:
            return None
        # The stdlib stubs' own helpers (_mpy_shed) sit beside their stdlib/.
        root = self.stdlib_root.parent if name.startswith("_mpy_shed") else self.stdlib_root
        base = root / name.replace(".", "/")
        for path in (base.with_suffix(".pyi"), base / "__init__.pyi"):
            if path.is_file():
                return path
        return None

    def _is_package_dir(self, name: str) -> bool:
        prefix = name.replace(".", "/") + "/"
        return any(f.startswith(prefix) for f in self.esp_files)

    def available(self, name: str) -> bool:
        """Whether `import name` works on the ESP8266."""
        if name == "builtins" or name in self.natives or name in UNDESCRIBED:
            return True
        if name in self._aliases:
            target = self._aliases[name]
            extensible = target in EXTENSIBLE[1] or name in FROZEN_U_MODULES
            return extensible and self.available(target)
        if self._esp_file(name) is not None or self._is_package_dir(name):
            return True
        return name in self._deferred and self._stdlib_file(name) is not None

    def module(self, name: str) -> Sym | None:
        """The module `import name` finds on the ESP8266, or None."""
        if not self.available(name):
            return None
        mod = self._module(name)
        return mod.sym if mod else None

    def _module(self, name: str) -> StubModule | None:
        return _once(self._modules, self._loading, name, lambda: self._load(name))

    def _load(self, name: str) -> StubModule | None:
        if name == "builtins":
            return self._load_builtins()
        if name in self._aliases:
            return self._module(self._aliases[name])
        if name in self.natives:
            sym = Sym(name, "module")
            for fn in self.natives[name]:
                sym.members[fn] = Sym(f"{name}.{fn}", "function")
            return StubModule(name, sym)
        top = name.split(".")[0]
        path = self._esp_file(name) or self._stdlib_file(name)
        if path is None:
            if self._is_package_dir(name):
                return StubModule(name, Sym(name, "module"))
            if name in UNDESCRIBED:
                return StubModule(name, Sym(name, "module", open=True))
            return None
        # The stdlib stubs' private submodules (asyncio.tasks) are asyncio's.
        qual = name if self._esp_file(name) else top
        return self._parse_module(name, qual, ast.parse(path.read_text()))

    def _load_builtins(self) -> StubModule | None:
        mod = StubModule("builtins", Sym("builtins", "module"))
        for path in (self._stdlib_file("builtins"), self.esp_root / "__builtins__.pyi"):
            if path is not None and path.is_file():
                part = self._parse_module("builtins", "builtins", ast.parse(path.read_text()))
                mod.sym.members.update(part.sym.members)
                mod.imports.update(part.imports)
        for m in mod.sym.members.values():
            m.home = mod
        return mod

    def _parse_module(self, name: str, qual: str, tree: ast.Module) -> StubModule:
        mod = StubModule(name, Sym(qual, "module"))
        mod.sym.home = mod
        package = name if self._is_package(name) else name.rpartition(".")[0]
        self._collect(tree.body, mod.sym, mod, package, in_class=False)
        return mod

    def _is_package(self, name: str) -> bool:
        path = self._esp_file(name) or self._stdlib_file(name)
        return path is not None and path.name == "__init__.pyi"

    def _collect(
        self, body: list[ast.stmt], owner: Sym, mod: StubModule, package: str, in_class: bool
    ) -> None:
        for node in body:
            if isinstance(node, ast.If):
                self._collect(node.body, owner, mod, package, in_class)
                self._collect(node.orelse, owner, mod, package, in_class)
            elif isinstance(node, ast.Try):
                self._collect(node.body, owner, mod, package, in_class)
                for h in node.handlers:
                    self._collect(h.body, owner, mod, package, in_class)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                self._add_function(node, owner, mod, in_class)
            elif isinstance(node, ast.ClassDef):
                cls = Sym(f"{owner.qualname}.{node.name}", "class", home=mod, bases=node.bases)
                self._collect(node.body, cls, mod, package, in_class=True)
                owner.members[node.name] = cls
            elif isinstance(node, ast.AnnAssign | ast.Assign):
                self._add_value(node, owner)
            elif isinstance(node, ast.ImportFrom) and not in_class:
                source = _absolute(node, package)
                for alias in node.names:
                    if alias.name == "*":
                        mod.stars.append(source)
                        continue
                    local = alias.asname or alias.name
                    mod.imports[local] = (source, alias.name)
                    if alias.asname == alias.name:  # an explicit re-export
                        owner.members[local] = Sym(f"{owner.qualname}.{local}", "unknown")
                        owner.members[local].home = mod
            elif isinstance(node, ast.Import) and not in_class:
                for alias in node.names:
                    mod.imports[alias.asname or alias.name.split(".")[0]] = (
                        alias.name if alias.asname else alias.name.split(".")[0],
                        None,
                    )

    def _add_function(
        self,
        node: ast.FunctionDef | ast.AsyncFunctionDef,
        owner: Sym,
        mod: StubModule,
        in_class: bool,
    ) -> None:
        decorators = {ast.unparse(d).split("(")[0].split(".")[-1] for d in node.decorator_list}
        if "property" in decorators or any(d.endswith(("setter", "deleter")) for d in decorators):
            owner.members[node.name] = Sym(f"{owner.qualname}.{node.name}", "value", home=mod)
            return
        static = "staticmethod" in decorators
        drop = in_class and not static
        method = in_class and not static and "classmethod" not in decorators
        existing = owner.members.get(node.name)
        if existing is None or existing.kind != "function":
            existing = Sym(f"{owner.qualname}.{node.name}", "function", home=mod, method=method)
            owner.members[node.name] = existing
        existing.sigs.append(Sig.from_args(node.args, drop_first=drop))
        if node.returns is not None and existing.returns is None:
            existing.returns = node.returns

    @staticmethod
    def _add_value(node: ast.AnnAssign | ast.Assign, owner: Sym) -> None:
        targets = [node.target] if isinstance(node, ast.AnnAssign) else node.targets
        if isinstance(node, ast.AnnAssign) and "TypeAlias" in ast.unparse(node.annotation):
            return
        value = node.value
        if isinstance(value, ast.Call) and ast.unparse(value.func).split(".")[-1] in (
            "TypeVar",
            "ParamSpec",
            "TypeVarTuple",
            "NewType",
        ):
            return
        for t in targets:
            if isinstance(t, ast.Name) and t.id != "__all__":
                alias = owner.members.get(value.id) if isinstance(value, ast.Name) else None
                if alias is not None and alias.kind in ("class", "function"):
                    owner.members[t.id] = alias  # e.g. StreamReader = Stream
                else:
                    owner.members[t.id] = Sym(f"{owner.qualname}.{t.id}", "value")

    # Names

    def resolve_in(self, mod: StubModule | None, expr: ast.expr) -> Sym | str | None:
        """What a name in a stub module's code means: a Sym, None when it is
        not known, or "typing" for typing scaffolding."""
        if mod is None:
            return None
        if isinstance(expr, ast.Subscript):
            return self.resolve_in(mod, expr.value)
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
            try:
                return self.resolve_in(mod, ast.parse(expr.value, mode="eval").body)
            except SyntaxError:
                return None
        if isinstance(expr, ast.Attribute):
            base = self.resolve_in(mod, expr.value)
            if isinstance(base, Sym):
                return self._find(base, expr.attr)
            return base
        if not isinstance(expr, ast.Name):
            return None
        if expr.id == "object":
            return "typing"
        if expr.id in mod.sym.members and mod.sym.members[expr.id].kind != "unknown":
            return mod.sym.members[expr.id]
        if expr.id in mod.imports:
            source, name = mod.imports[expr.id]
            if source.split(".")[0] in _TYPING_MODULES or source in _TYPING_MODULES:
                return "typing"
            target = self._module(source)
            if target is None:
                return None
            return target.sym if name is None else self._find(target.sym, name)
        for star in mod.stars:
            target = self._module(star)
            if target is not None:
                found = self._find(target.sym, expr.id)
                if found is not None:
                    return found
        return None

    def _find(self, sym: Sym, name: str, seen: frozenset[int] = frozenset()) -> Sym | None:
        """The member as the stubs have it (own, inherited, re-exported), or None."""
        if id(sym) in seen:
            return None
        seen = seen | {id(sym)}
        member = sym.members.get(name)
        if member is not None and member.kind == "unknown" and member.home is not None:
            # An explicit re-export: what it re-exports.
            source, orig = member.home.imports.get(name, ("", None))
            target = self._module(source)
            if target is not None and orig is not None:
                found = self._find(target.sym, orig, seen)
                if found is not None:
                    return found
            elif target is not None:
                return target.sym
        if member is not None:
            return member
        if sym.kind == "module":
            mod = sym.home
            for star in mod.stars if mod else ():
                target = self._module(star)
                if target is not None:
                    found = self._find(target.sym, name, seen)
                    if found is not None and not name.startswith("_"):
                        return found
            sub = self._module(f"{self._module_name(sym)}.{name}")
            return sub.sym if sub else None
        if sym.kind == "class":
            for base in sym.bases:
                target = self.resolve_in(sym.home, base)
                if isinstance(target, Sym) and target.kind == "class":
                    found = self._find(target, name, seen)
                    if found is not None:
                        return found
        return None

    def _module_name(self, sym: Sym) -> str:
        return sym.home.name if sym.home else sym.qualname

    def is_open(self, sym: Sym, seen: frozenset[int] = frozenset()) -> bool:
        """Whether a namespace may have members the stubs do not list."""
        if sym.open or sym.kind == "unknown" or id(sym) in seen:
            return sym.open or sym.kind == "unknown"
        if sym.kind == "module":
            return "__getattr__" in sym.members
        if sym.kind != "class":
            return True
        if "__getattr__" in sym.members:
            return True
        for base in sym.bases:
            target = self.resolve_in(sym.home, base)
            if target == "typing":
                node = base.value if isinstance(base, ast.Subscript) else base
                name = node.attr if isinstance(node, ast.Attribute) else ast.unparse(node)
                if name in _SCAFFOLDING:
                    continue
                return True
            if not isinstance(target, Sym) or target.kind != "class":
                return True
            if self.is_open(target, seen | {id(sym)}):
                return True
        return False

    def lookup(self, sym: Sym, name: str) -> tuple[Sym | None, str]:
        """(the member, "") or (None, why the ESP8266 build lacks it: the source's
        option or table, or the stubs)."""
        qual = f"{sym.qualname}.{name}"
        if qual in ABSENT:
            return None, ABSENT[qual]
        only = ONLY.get(sym.qualname)
        found = self._find(sym, name)
        if only is not None and name in only[1]:
            if found is None:
                if qual in ONLY:  # a class the stubs lack: its names are listed
                    return self._view(Sym(qual, "class"), qual), ""
                return _unknown(qual), ""
        elif only is not None and not _is_dunder(name):
            return None, f"not in {only[0]}"
        if found is None:
            if self.is_open(sym):
                return _unknown(qual), ""
            return None, "not in the ESP8266 stubs"
        if found.kind in ("function", "class", "value") and found.qualname != qual:
            found = self._view(found, qual)
        return found, ""

    def _view(self, sym: Sym, qual: str) -> Sym:
        """sym under the name it was reached by (the tables' keys), the same each time."""
        key = (id(sym), qual) if sym.qualname != qual else (0, qual)
        if key not in self._views:
            self._views[key] = replace(sym, qualname=qual) if key[0] else sym
        return self._views[key]

    def signatures(self, sym: Sym) -> tuple[list[Sig], str]:
        """A function's or a class's constructor's overloads (empty: unknown) and their source."""
        if sym.qualname in SIGNATURES:
            cite, texts = SIGNATURES[sym.qualname]
            return [Sig.parse(t) for t in texts], cite
        if sym.kind == "function":
            return sym.sigs, ""
        if sym.kind != "class":
            return [], ""
        for ctor in ("__init__", "__new__"):
            found = self._find(sym, ctor)
            if found is not None and found.kind == "function":
                return found.sigs, ""
        return [], ""

    def returned_class(self, sym: Sym) -> Sym | None:
        """The class a stub function's annotation says it returns, if one of the API's."""
        if sym.returns is None:
            return None
        target = self.resolve_in(sym.home, sym.returns)
        return target if isinstance(target, Sym) and target.kind == "class" else None

    def all_member_names(self) -> set[str]:
        """Every name any class in the ESP8266 stubs has."""
        names: set[str] = set()
        for f in self.esp_files:
            tree = ast.parse((self.esp_root / f).read_text())
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef):
                    for item in node.body:
                        if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                            names.add(item.name)
                        elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                            names.add(item.target.id)
        return names

    def builtin_type_names(self) -> dict[str, set[str]]:
        """CPython's methods of the built-in types (from the stdlib stubs)."""
        out: dict[str, set[str]] = {}
        builtins = self._module("builtins")
        if builtins is None:
            return out
        types = ("str", "bytes", "bytearray", "int", "float", "list", "dict", "set", "frozenset")
        for t in (*types, "tuple", "memoryview"):
            cls = builtins.sym.members.get(t)
            if cls is not None:
                out[t] = {n for n in cls.members if not n.startswith("_")}
        return out

    @functools.cached_property
    def cpython_only_methods(self) -> dict[str, list[str]]:
        """Method name -> CPython built-in types that have it, for methods none
        of the ESP8266 build's types has (nor any class of its stubs). Worked
        out once: it parses every stub file, and every check() needs it."""
        if self.module("builtins") is None:
            return {}
        have: set[str] = set()
        for key, (_, names) in ONLY.items():
            if key.startswith("builtins.") or key == "array.array":
                have |= names
        have |= self.all_member_names()
        out: dict[str, list[str]] = {}
        for t, names in self.builtin_type_names().items():
            for name in names - have:
                out.setdefault(name, []).append(t)
        return out


def installed_api(natives: dict[str, frozenset[str]] | None = None) -> Api | None:
    """The Api from the installed stub packages, or None when they are missing."""
    try:
        esp = importlib.metadata.distribution(STUBS_DIST)
    except importlib.metadata.PackageNotFoundError:
        return None
    files = [str(f) for f in esp.files or () if str(f).endswith(".pyi")]
    if not files:
        return None
    root = Path(str(esp.locate_file("")))
    try:
        std = importlib.metadata.distribution(STDLIB_DIST)
        stdlib_root: Path | None = Path(str(std.locate_file("stdlib")))
    except importlib.metadata.PackageNotFoundError:
        stdlib_root = None
    return Api(root, files, stdlib_root, natives)


def firmware_natives(root: Path = ROOT) -> dict[str, frozenset[str]]:
    """The firmware's own C modules (firmware/cmodules/*): name -> global names."""
    out: dict[str, frozenset[str]] = {}
    for c in sorted((root / "firmware" / "cmodules").glob("*/*.c")):
        text = c.read_text(errors="replace")
        for m in re.finditer(r"MP_REGISTER_MODULE\(MP_QSTR_(\w+)", text):
            names = set(re.findall(r"mp_store_global\(MP_QSTR_(\w+)", text))
            names |= set(re.findall(r"MP_ROM_QSTR\(MP_QSTR_(\w+)\)", text))
            out[m.group(1)] = frozenset(n for n in names if not _is_dunder(n))
    return out


# --------------------------------------------------------------------------
# The device code


def device_sources() -> dict[str, Path]:
    """The code that runs on the NodeMCU, by module name: what its bundle
    (homeca.bundle) deploys, firmware/nodefw (but simctl.py, the simulator's)
    and boards/nodemcu_v3."""
    spec = board_spec(BOARD)
    out: dict[str, Path] = {}
    pkg = FIRMWARE_DIR / PACKAGE
    for path in sorted(pkg.rglob("*.py")):
        if path.relative_to(pkg).as_posix() in spec.skip_firmware:
            continue
        parts = list(path.relative_to(FIRMWARE_DIR).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    for path in sorted((BOARDS_DIR / BOARD).glob("*.py")):
        if path.name not in spec.skip_board:
            out[path.stem] = path
    return out


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    message: str
    optional: bool = False  # the code handles its absence (try/except, hasattr, getattr default)

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass(eq=False)
class Scope:
    node: ast.AST
    kind: str  # "module", "function", "class"
    parent: Scope | None
    bindings: dict[str, list[Binding]] = field(default_factory=dict)
    globals_: set[str] = field(default_factory=set)
    klass: ast.ClassDef | None = None  # for a function directly in a class body


@dataclass(eq=False)
class Binding:
    kind: str  # "import", "from", "assign", "def", "class", "param", "other"
    node: ast.AST
    scope: Scope
    value: ast.expr | None = None
    module: str = ""  # import: the module bound; from: the module imported from
    name: str = ""  # from: the imported name


@dataclass(eq=False)
class DevModule:
    name: str
    path: str
    tree: ast.Module
    is_package: bool
    scope: Scope = field(init=False)
    scopes: dict[int, Scope] = field(default_factory=dict)  # id(def/class/lambda node) -> scope
    parents: dict[int, ast.AST] = field(default_factory=dict)
    bound: set[str] = field(default_factory=set)  # every name bound anywhere in the file

    @property
    def package(self) -> str:
        return self.name if self.is_package else self.name.rpartition(".")[0]


@dataclass(frozen=True)
class ApiVal:
    sym: Sym
    instance: bool = False  # an instance of the class sym
    bound: bool = False  # a method looked up on an instance


@dataclass(frozen=True)
class DevMod:
    mod: DevModule


@dataclass(frozen=True)
class DevFunc:
    mod: DevModule
    node: ast.FunctionDef | ast.AsyncFunctionDef


@dataclass(frozen=True)
class DevClass:
    mod: DevModule
    node: ast.ClassDef


@dataclass(frozen=True)
class DevInst:
    cls: DevClass
    via_super: bool = False  # super() in a method of cls: its bases' members only


Val = ApiVal | DevMod | DevFunc | DevClass | DevInst


def _agreed(vals: list[Val | None]) -> Val | None:
    """The value all of vals are, or None (none known, or they differ)."""
    if not vals or vals[0] is None or any(v != vals[0] for v in vals[1:]):
        return None
    return vals[0]


def _catches(handler: ast.ExceptHandler, errors: tuple[str, ...]) -> bool:
    """Whether the handler names one of the errors. A catch-all (bare, Exception)
    is a safety net, not a fallback: what fails under it fails on every call."""
    if handler.type is None:
        return False
    types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return bool({ast.unparse(t).split(".")[-1] for t in types} & set(errors))


def _binds_name(body: list[ast.stmt], name: str) -> bool:
    for stmt in body:
        for node in ast.walk(stmt):
            if isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Store):
                return True
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and (
                node.name == name
            ):
                return True
            if isinstance(node, ast.alias) and (node.asname or node.name.split(".")[0]) == name:
                return True
    return False


def _silent(body: list[ast.stmt]) -> bool:
    """A handler that only swallows the error."""
    return all(
        isinstance(s, ast.Pass) or (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
        for s in body
    )


class Checker:
    """Walks the device modules and reports every use the ESP8266 build cannot satisfy."""

    def __init__(self, api: Api, sources: dict[str, tuple[str, str]]) -> None:
        """sources: module name -> (path shown in findings, source text)."""
        self.api = api
        self.modules: dict[str, DevModule] = {}
        for name, (path, text) in sources.items():
            tree = ast.parse(text, filename=path)
            is_package = Path(path).name == "__init__.py"
            mod = DevModule(name, path, tree, is_package)
            self._scopes(mod)
            self.modules[name] = mod
        self.findings: dict[tuple[str, int, str], Finding] = {}
        self._memo: dict[int, Val | None] = {}
        self._namespaces: dict[str, DevMod] = {}
        self._busy: set[int] = set()
        self._defined_attrs = self._attrs_defined_by_device_code()

    # Scopes and bindings

    def _scopes(self, mod: DevModule) -> None:
        mod.scope = Scope(mod.tree, "module", None)
        for parent in ast.walk(mod.tree):
            for child in ast.iter_child_nodes(parent):
                mod.parents[id(child)] = parent

        def bind(scope: Scope, name: str, b: Binding) -> None:
            mod.bound.add(name)
            target = mod.scope if name in scope.globals_ else scope
            target.bindings.setdefault(name, []).append(b)

        def visit(node: ast.AST, scope: Scope) -> None:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                if not isinstance(node, ast.Lambda):
                    bind(scope, node.name, Binding("def", node, scope))
                    for d in node.decorator_list:
                        visit(d, scope)
                    if node.returns:
                        visit(node.returns, scope)
                for d in [*node.args.defaults, *node.args.kw_defaults]:
                    if d is not None:
                        visit(d, scope)
                klass = scope.node if scope.kind == "class" else None
                assert klass is None or isinstance(klass, ast.ClassDef)
                inner = Scope(node, "function", scope, klass=klass)
                mod.scopes[id(node)] = inner
                args = node.args
                for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]:
                    bind(inner, a.arg, Binding("param", a, inner))
                for a in (args.vararg, args.kwarg):
                    if a is not None:
                        bind(inner, a.arg, Binding("other", a, inner))
                body = node.body if isinstance(node.body, list) else [node.body]
                for stmt in body:
                    for n in ast.walk(stmt):
                        if isinstance(n, ast.Global | ast.Nonlocal):
                            inner.globals_.update(n.names if isinstance(n, ast.Global) else ())
                for stmt in body:
                    visit(stmt, inner)
                return
            if isinstance(node, ast.ClassDef):
                bind(scope, node.name, Binding("class", node, scope))
                for e in [*node.bases, *node.decorator_list, *(k.value for k in node.keywords)]:
                    visit(e, scope)
                inner = Scope(node, "class", scope)
                mod.scopes[id(node)] = inner
                for stmt in node.body:
                    visit(stmt, inner)
                return
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        bind(
                            scope, alias.asname, Binding("import", alias, scope, module=alias.name)
                        )
                    else:
                        top = alias.name.split(".")[0]
                        bind(scope, top, Binding("import", alias, scope, module=top))
                return
            if isinstance(node, ast.ImportFrom):
                source = _absolute(node, mod.package)
                for alias in node.names:
                    if alias.name != "*":
                        b = Binding("from", alias, scope, module=source, name=alias.name)
                        bind(scope, alias.asname or alias.name, b)
                return
            if isinstance(node, ast.Assign):
                visit(node.value, scope)
                for t in node.targets:
                    if isinstance(t, ast.Name):
                        bind(scope, t.id, Binding("assign", t, scope, value=node.value))
                    else:
                        visit(t, scope)
                return
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                if node.value is not None:
                    visit(node.value, scope)
                bind(scope, node.target.id, Binding("assign", node.target, scope, value=node.value))
                return
            if isinstance(node, ast.NamedExpr) and isinstance(node.target, ast.Name):
                visit(node.value, scope)
                bind(scope, node.target.id, Binding("assign", node.target, scope, value=node.value))
                return
            if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
                bind(scope, node.id, Binding("other", node, scope))
                return
            if isinstance(node, ast.ExceptHandler) and node.name:
                bind(scope, node.name, Binding("other", node, scope))
            if isinstance(node, ast.MatchAs | ast.MatchStar) and node.name:
                bind(scope, node.name, Binding("other", node, scope))
            for child in ast.iter_child_nodes(node):
                visit(child, scope)

        for stmt in mod.tree.body:
            visit(stmt, mod.scope)

    def _scope_of(self, mod: DevModule, node: ast.AST) -> Scope:
        cur: ast.AST | None = mod.parents.get(id(node))
        child = node
        while cur is not None:
            if id(cur) in mod.scopes:
                # Defaults, decorators and bases belong to the enclosing scope.
                inner = mod.scopes[id(cur)]
                if isinstance(cur, ast.ClassDef):
                    if child in cur.body:
                        return inner
                elif isinstance(cur, ast.Lambda):
                    if child is cur.body:
                        return inner
                elif child in cur.body:
                    return inner
            child = cur
            cur = mod.parents.get(id(cur))
        return mod.scope

    # Findings

    def _report(self, mod: DevModule, node: ast.AST, message: str, errors: tuple[str, ...]) -> None:
        optional = self._guarded(mod, node, errors)
        line = getattr(node, "lineno", 0)
        key = (mod.path, line, message)
        if key not in self.findings or not optional:
            self.findings[key] = Finding(mod.path, line, message, optional)

    def _guarded(self, mod: DevModule, node: ast.AST, errors: tuple[str, ...]) -> bool:
        """Inside a try that catches the error, or under an `if hasattr(x, "name")`."""
        attr = node.attr if isinstance(node, ast.Attribute) else None
        receiver = ast.unparse(node.value) if isinstance(node, ast.Attribute) else None
        child: ast.AST = node
        cur = mod.parents.get(id(node))
        while cur is not None:
            if (
                isinstance(cur, ast.Try | ast.TryStar)
                and child in cur.body
                and any(_catches(h, errors) for h in cur.handlers)
            ):
                return True
            if isinstance(cur, ast.If | ast.IfExp | ast.While) and attr is not None:
                for n in ast.walk(cur.test):
                    if (
                        isinstance(n, ast.Call)
                        and isinstance(n.func, ast.Name)
                        and n.func.id == "hasattr"
                        and len(n.args) == 2
                        and ast.unparse(n.args[0]) == receiver
                        and isinstance(n.args[1], ast.Constant)
                        and n.args[1].value == attr
                    ):
                        return True
            child = cur
            cur = mod.parents.get(id(cur))
        return False

    # The walk

    def run(self) -> list[Finding]:
        for mod in self.modules.values():
            for node in ast.walk(mod.tree):
                if isinstance(node, ast.Import | ast.ImportFrom):
                    self._check_import(mod, node)
                elif isinstance(node, ast.Attribute | ast.Call):
                    self.infer(mod, node)
                elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                    self._check_free_name(mod, node)
        return sorted(self.findings.values(), key=lambda f: (f.path, f.line, f.message))

    def _check_import(self, mod: DevModule, node: ast.Import | ast.ImportFrom) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if self.module_val(alias.name) is None:
                    self._missing_import(
                        mod,
                        node,
                        alias.asname or alias.name.split(".")[0],
                        f"import {alias.name}: no module {alias.name!r} on the ESP8266",
                    )
            return
        source = _absolute(node, mod.package)
        base = self.module_val(source)
        if base is None:
            self._missing_import(
                mod, node, None, f"from {source} import: no module {source!r} on the ESP8266"
            )
            return
        for alias in node.names:
            if alias.name == "*":
                continue
            if self.from_import(source, alias.name) is None:
                why = self._why_missing(base, alias.name)
                self._missing_import(
                    mod,
                    node,
                    alias.asname or alias.name,
                    f"from {source} import {alias.name}: {why}",
                )

    def _why_missing(self, base: Val, name: str) -> str:
        if isinstance(base, ApiVal):
            _, why = self.api.lookup(base.sym, name)
            return f"{base.sym.qualname}.{name} is not in the ESP8266 build ({why})"
        if isinstance(base, DevMod):
            return f"{base.mod.name} ({base.mod.path}) defines no {name!r}"
        return "not found"

    def _missing_import(
        self, mod: DevModule, node: ast.AST, local: str | None, message: str
    ) -> None:
        self._report(mod, node, message, ("ImportError",))
        if local is None or not self._guarded(mod, node, ("ImportError",)):
            return
        # An optional import needs a fallback: the handler binds the name, or
        # does something (sets a flag, raises); one that only swallows the error
        # leaves the name unbound for the code that uses it.
        cur: ast.AST | None = mod.parents.get(id(node))
        child: ast.AST = node
        while cur is not None and not (isinstance(cur, ast.Try) and child in cur.body):
            child, cur = cur, mod.parents.get(id(cur))
        if not isinstance(cur, ast.Try):
            return
        handlers = [h for h in cur.handlers if _catches(h, ("ImportError",))]
        if any(_binds_name(h.body, local) or not _silent(h.body) for h in handlers):
            return
        for n in ast.walk(mod.tree):
            if isinstance(n, ast.Name) and n.id == local and isinstance(n.ctx, ast.Load):
                self._report(
                    mod,
                    n,
                    f"{local} is used, but {message} and the except ImportError leaves no fallback",
                    (),
                )
                return

    def _check_free_name(self, mod: DevModule, node: ast.Name) -> None:
        if node.id in mod.bound:
            return
        for star in mod.tree.body:
            if isinstance(star, ast.ImportFrom) and any(a.name == "*" for a in star.names):
                source = self.module_val(_absolute(star, mod.package))
                if isinstance(source, ApiVal) and self.api.lookup(source.sym, node.id)[0]:
                    return
                if isinstance(source, DevMod) and node.id in source.mod.scope.bindings:
                    return
        builtins = self.api.module("builtins")
        if builtins is None:
            return
        found, why = self.api.lookup(builtins, node.id)
        if found is None:
            message = (
                f"{node.id} is bound nowhere in the file and no builtin of the ESP8266 ({why})"
            )
            self._report(mod, node, message, ("NameError",))

    # Values

    def module_val(self, name: str) -> Val | None:
        if name in self.modules:
            return DevMod(self.modules[name])
        if any(m.startswith(name + ".") for m in self.modules):
            # A package of the device code without an __init__.py of its own.
            if name not in self._namespaces:
                empty = DevModule(name, name.replace(".", "/"), ast.Module([], []), True)
                self._scopes(empty)
                self._namespaces[name] = DevMod(empty)
            return self._namespaces[name]
        sym = self.api.module(name)
        return ApiVal(sym) if sym is not None else None

    def from_import(self, source: str, name: str) -> Val | None:
        sub = f"{source}.{name}"
        base = self.module_val(source)
        if isinstance(base, DevMod):
            if name in base.mod.scope.bindings:
                return self._binding_val(base.mod, base.mod.scope.bindings[name]) or _ANY
            return self.module_val(sub)
        if isinstance(base, ApiVal):
            found, _ = self.api.lookup(base.sym, name)
            if found is not None:
                return ApiVal(found)
            return self.module_val(sub)
        return None

    def infer(self, mod: DevModule, node: ast.AST) -> Val | None:
        return _once(self._memo, self._busy, id(node), lambda: self._infer(mod, node))

    def _infer(self, mod: DevModule, node: ast.AST) -> Val | None:
        literal = _literal_type(node)
        if literal is not None:
            builtins = self.api.module("builtins")
            cls = builtins.members.get(literal) if builtins else None
            return ApiVal(cls, instance=True) if cls is not None else None
        if isinstance(node, ast.Name):
            return self._name(mod, node.id, self._scope_of(mod, node))
        if isinstance(node, ast.Attribute):
            base = self.infer(mod, node.value)
            if isinstance(node.ctx, ast.Load):
                return self.attr(mod, base, node.attr, node)
            return None
        if isinstance(node, ast.Call):
            return self._call(mod, node)
        return None

    def _name(self, mod: DevModule, name: str, scope: Scope) -> Val | None:
        s: Scope | None = scope
        if name in scope.globals_:
            s = mod.scope
        first = True
        while s is not None:
            if (first or s.kind != "class") and name in s.bindings:
                return self._binding_val(mod, s.bindings[name])
            first = False
            s = s.parent
        builtins = self.api.module("builtins")
        if builtins is not None:
            found, _ = self.api.lookup(builtins, name)
            if found is not None and found.kind != "unknown":
                return ApiVal(found)
        return None

    def _binding_val(self, mod: DevModule, bindings: list[Binding]) -> Val | None:
        return _agreed([self._one_binding(mod, b) for b in bindings])

    def _one_binding(self, mod: DevModule, b: Binding) -> Val | None:
        if b.kind == "import":
            return self.module_val(b.module)
        if b.kind == "from":
            val = self.from_import(b.module, b.name)
            return None if val is _ANY else val
        if b.kind == "def":
            assert isinstance(b.node, ast.FunctionDef | ast.AsyncFunctionDef)
            return DevFunc(mod, b.node)
        if b.kind == "class":
            assert isinstance(b.node, ast.ClassDef)
            return DevClass(mod, b.node)
        if b.kind == "assign" and b.value is not None:
            return self.infer(mod, b.value)
        if b.kind == "param" and b.scope.klass is not None:
            fn = b.scope.node
            assert isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef)
            decorators = {ast.unparse(d) for d in fn.decorator_list}
            args = [*fn.args.posonlyargs, *fn.args.args]
            if args and args[0] is b.node and "staticmethod" not in decorators:
                cls = DevClass(mod, b.scope.klass)
                return cls if "classmethod" in decorators else DevInst(cls)
        return None

    def attr(self, mod: DevModule, base: Val | None, name: str, node: ast.AST) -> Val | None:
        if isinstance(base, ApiVal):
            sym = base.sym
            if sym.kind not in ("module", "class"):
                return None
            found, why = self.api.lookup(sym, name)
            if found is None:
                message = f"{sym.qualname}.{name} is not in the ESP8266 build ({why})"
                self._report(mod, node, message, ("AttributeError",))
                return None
            return ApiVal(found, bound=base.instance and found.method)
        if isinstance(base, DevMod):
            target = base.mod
            if name in target.scope.bindings:
                return self._binding_val(target, target.scope.bindings[name])
            sub = self.module_val(f"{target.name}.{name}")
            if sub is not None:
                return sub
            if "__getattr__" in target.scope.bindings or _star_imports(target.tree):
                return None
            self._report(
                mod, node, f"{target.name} ({target.path}) has no {name!r}", ("AttributeError",)
            )
            return None
        if isinstance(base, DevInst | DevClass):
            return self._dev_attr(mod, base, name, node)
        return None

    def _dev_attr(
        self, mod: DevModule, base: DevInst | DevClass, name: str, node: ast.AST
    ) -> Val | None:
        """An attribute of a device class or its instance: its own (unchecked
        unless assigned once from something known), else its ESP8266 bases'."""
        cls = base if isinstance(base, DevClass) else base.cls
        instance = not isinstance(base, DevClass)
        own = isinstance(base, DevClass) or not base.via_super
        api_bases: list[Sym] = []
        closed = True
        for c in self._dev_mro(cls):
            if own or c is not cls:
                found, val = self._class_member(c, name)
                if found:
                    return val
            for b in c.node.bases:
                bval = self.infer(c.mod, b)
                if isinstance(bval, ApiVal) and bval.sym.kind == "class":
                    api_bases.append(bval.sym)
                elif not isinstance(bval, DevClass):
                    closed = False
        if not api_bases or name in self._defined_attrs:
            return None  # set on the object from outside its class, maybe
        for sym in api_bases:
            found, _ = self.api.lookup(sym, name)
            if found is not None:
                return ApiVal(found, bound=instance and found.method)
        if closed:
            quals = ", ".join(s.qualname for s in api_bases)
            _, why = self.api.lookup(api_bases[0], name)
            self._report(
                mod,
                node,
                f"{cls.node.name}.{name}: neither the class nor its base {quals} has it ({why})",
                ("AttributeError",),
            )
        return None

    def _dev_mro(self, cls: DevClass) -> Iterator[DevClass]:
        seen: set[int] = set()
        todo = [cls]
        while todo:
            c = todo.pop(0)
            if id(c.node) in seen:
                continue
            seen.add(id(c.node))
            yield c
            for b in c.node.bases:
                bval = self.infer(c.mod, b)
                if isinstance(bval, DevClass):
                    todo.append(bval)

    def _class_member(self, cls: DevClass, name: str) -> tuple[bool, Val | None]:
        """(defined by the device class, its value if known)."""
        scope = cls.mod.scopes.get(id(cls.node))
        if scope is not None and name in scope.bindings:
            return True, self._binding_val(cls.mod, scope.bindings[name])
        values: list[tuple[DevModule, ast.expr | None]] = []
        for item in cls.node.body:
            if not isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            args = [*item.args.posonlyargs, *item.args.args]
            if not args:
                continue
            me = args[0].arg
            for n in ast.walk(item):
                targets: list[ast.expr] = []
                value: ast.expr | None = None
                if isinstance(n, ast.Assign):
                    targets, value = n.targets, n.value
                elif isinstance(n, ast.AnnAssign | ast.AugAssign):
                    targets, value = [n.target], None
                for t in targets:
                    for e in ast.walk(t):
                        if (
                            isinstance(e, ast.Attribute)
                            and e.attr == name
                            and isinstance(e.value, ast.Name)
                            and e.value.id == me
                        ):
                            values.append((cls.mod, value if t is e else None))
        if not values:
            return False, None
        return True, _agreed([self.infer(m, v) if v is not None else None for m, v in values])

    def _call(self, mod: DevModule, node: ast.Call) -> Val | None:
        func = node.func
        scope = self._scope_of(mod, node)
        if isinstance(func, ast.Name) and func.id not in mod.bound:
            if func.id == "super" and not node.args:
                cls = self._enclosing_class(mod, scope)
                return DevInst(cls, via_super=True) if cls is not None else None
            if func.id == "getattr" and len(node.args) >= 2:
                target, attr = node.args[0], node.args[1]
                base = self.infer(mod, target)
                if len(node.args) == 2 and isinstance(attr, ast.Constant):
                    return self.attr(mod, base, str(attr.value), node)
                return None
        fval = self.infer(mod, func)
        n_pos: int | None = len(node.args)
        if any(isinstance(a, ast.Starred) for a in node.args):
            n_pos = None
        keywords = [k.arg for k in node.keywords if k.arg is not None]
        star_kw = any(k.arg is None for k in node.keywords)
        if isinstance(fval, ApiVal):
            sym = fval.sym
            if sym.kind == "class" and not fval.instance:
                self._check_sig(mod, node, sym, n_pos, keywords, star_kw)
                return ApiVal(sym, instance=True)
            if sym.kind == "class" and fval.instance:
                call, _ = self.api.lookup(sym, "__call__")
                if call is not None and call.kind == "function":
                    self._check_sig(mod, node, call, n_pos, keywords, star_kw)
                return None
            if sym.kind == "function":
                if not sym.method or fval.bound:
                    self._check_sig(mod, node, sym, n_pos, keywords, star_kw)
                cls = self.api.returned_class(sym)
                return ApiVal(cls, instance=True) if cls is not None else None
            return None
        if isinstance(fval, DevClass):
            return DevInst(fval)
        if isinstance(fval, DevFunc):
            return self._returns(fval)
        if fval is None and isinstance(func, ast.Attribute):
            receiver = self.infer(mod, func.value)
            if receiver is None or (
                isinstance(receiver, ApiVal) and receiver.sym.kind in ("value", "unknown")
            ):
                self._check_unknown_method(mod, node, func)
        return None

    def _enclosing_class(self, mod: DevModule, scope: Scope) -> DevClass | None:
        s: Scope | None = scope
        while s is not None:
            if s.kind == "function" and s.klass is not None:
                return DevClass(mod, s.klass)
            s = s.parent
        return None

    def _check_sig(
        self,
        mod: DevModule,
        node: ast.Call,
        sym: Sym,
        n_pos: int | None,
        keywords: list[str],
        star_kw: bool,
    ) -> None:
        sigs, cite = self.api.signatures(sym)
        if not sigs:
            return
        problems = [s.problem(n_pos, keywords, star_kw) for s in sigs]
        if any(p is None for p in problems):
            return
        # The overload the call comes closest to: one it only lacks arguments for.
        rank = ("needs", "gets", "has no", "takes")
        problems.sort(key=lambda p: next(i for i, r in enumerate(rank) if p and p.startswith(r)))
        shown = " | ".join(str(s) for s in sigs)
        source = f" ({cite})" if cite else ""
        self._report(
            mod,
            node,
            f"{sym.qualname}() {problems[0]}: the ESP8266's is "
            f"{sym.qualname.split('.')[-1]}{shown}{source}",
            ("TypeError",),
        )

    def _returns(self, fn: DevFunc) -> Val | None:
        node = fn.node
        if node.returns is not None:
            ann = self.infer(fn.mod, node.returns)
            if isinstance(ann, ApiVal) and ann.sym.kind == "class":
                return ApiVal(ann.sym, instance=True)
            if isinstance(ann, DevClass):
                return DevInst(ann)
        values: list[Val | None] = []
        todo: list[ast.AST] = list(node.body)
        while todo:
            n = todo.pop()
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
                continue
            if isinstance(n, ast.Return):
                if n.value is None or (isinstance(n.value, ast.Constant) and n.value.value is None):
                    continue
                values.append(self.infer(fn.mod, n.value))
                continue
            todo.extend(ast.iter_child_nodes(n))
        return _agreed(values)

    # Methods of values of unknown type

    def _attrs_defined_by_device_code(self) -> set[str]:
        names: set[str] = set()
        for mod in self.modules.values():
            for n in ast.walk(mod.tree):
                if isinstance(n, ast.ClassDef):
                    for item in ast.walk(n):
                        if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                            names.add(item.name)
                        elif isinstance(item, ast.Name) and isinstance(item.ctx, ast.Store):
                            names.add(item.id)
                elif isinstance(n, ast.Attribute) and not isinstance(n.ctx, ast.Load):
                    names.add(n.attr)
        return names

    def _check_unknown_method(self, mod: DevModule, node: ast.Call, func: ast.Attribute) -> None:
        name = func.attr
        types = self.api.cpython_only_methods.get(name)
        if not types or name in self._defined_attrs:
            return
        why = next(
            (ABSENT[f"builtins.{t}.{name}"] for t in types if f"builtins.{t}.{name}" in ABSENT),
            "only CPython's " + "/".join(sorted(types)) + " have it",
        )
        message = f".{name}() is a method of no ESP8266 type ({why})"
        self._report(mod, func, message, ("AttributeError",))


_ANY = DevMod(DevModule("?", "?", ast.Module([], []), False))  # known to exist, nothing more


def _star_imports(tree: ast.Module) -> bool:
    return any(
        isinstance(n, ast.ImportFrom) and any(a.name == "*" for a in n.names)
        for n in ast.walk(tree)
    )


def _literal_type(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant):
        if isinstance(node.value, str):
            return "str"
        if isinstance(node.value, bytes):
            return "bytes"
        if isinstance(node.value, bool):
            return None
        if isinstance(node.value, int):
            return "int"
        if isinstance(node.value, float):
            return "float"
        return None
    if isinstance(node, ast.JoinedStr):
        return "str"
    if isinstance(node, ast.List | ast.ListComp):
        return "list"
    if isinstance(node, ast.Dict | ast.DictComp):
        return "dict"
    if isinstance(node, ast.Set | ast.SetComp):
        return "set"
    if isinstance(node, ast.Tuple):
        return "tuple"
    return None


def check(api: Api, sources: dict[str, tuple[str, str]]) -> list[Finding]:
    """Every use in `sources` (module name -> (path, text)) of a module, name,
    attribute, argument count or keyword that the ESP8266 build lacks.

    Covered:
    - `import m`, `from m import n` (also relative): the module exists (the
      ESP8266 stubs, the frozen modules, the firmware's own modules and C
      modules), and so does n;
    - attribute chains on modules and classes (machine.Pin.IN), on instances
      made by a known constructor (network.WLAN(...).config), on names bound
      once to those, on what a device function returns when all its returns
      agree (uart = board.hc05(); uart.init(...)), and on `self` in device
      classes derived from an API class (an SSD1306 on framebuf.FrameBuffer);
      `getattr(x, "name")` counts as x.name;
    - calls of API functions, classes and methods: the positional count,
      keyword names and required arguments against the signatures (SIGNATURES
      where the stubs are wrong; pow() with three arguments);
    - names used but bound nowhere in the file must be builtins of the
      ESP8266 build (no FileNotFoundError, TimeoutError, __file__);
    - methods called on values of unknown type that only CPython's built-in
      types have (.partition(), .splitlines(), .center(), .bit_length(),
      .zfill()), unless some device class or API class defines the name.

    Optional uses are reported with optional=True, not as violations: inside
    a `try` with a handler naming the error (ImportError for imports,
    AttributeError for attributes, TypeError for calls, NameError for names;
    a catch-all such as `except Exception` does not count), under
    `if hasattr(x, "name")`, or `getattr(x, "name", default)` (not reported).
    An optional import whose handler only swallows the error while the name is
    used elsewhere is a violation: the name has no fallback.

    Not covered: types the code does not make visible (parameters, attributes
    of device objects assigned from parameters, containers), keyword names
    of built-in methods (MicroPython's mostly take none), what values
    functions accept, and names the stubs have but the tables do not correct
    (classes other than Pin, UART, I2C keep the stubs' signatures)."""
    return Checker(api, sources).run()


def check_paths(api: Api, paths: dict[str, Path], root: Path = ROOT) -> list[Finding]:
    sources = {}
    for name, path in paths.items():
        shown = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
        sources[name] = (shown, path.read_text())
    return check(api, sources)


# --------------------------------------------------------------------------
# MicroPython's source, for checking the tables


def c_block(text: str, marker: str) -> list[str]:
    """The lines of the table, function or #define that starts at the line
    containing marker, up to its end ("};", a "}" in column 0, or a #define
    line without a trailing backslash)."""
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if marker in line]
    if not starts:
        raise KeyError(marker)
    i = starts[0]
    out = []
    define = lines[i].lstrip().startswith("#define")
    for line in lines[i:]:
        out.append(line)
        if define and not line.rstrip().endswith("\\"):
            break
        if not define and line.startswith("}"):
            break
    return out


def c_table_names(text: str, marker: str) -> tuple[set[str], set[str]]:
    """The qstr names in a C table: (all, those under no #if)."""
    every: set[str] = set()
    always: set[str] = set()
    depth = 0
    for line in c_block(text, marker)[1:]:
        s = line.strip()
        if s.startswith("//") or s.startswith("/*"):
            continue
        if s.startswith("#if"):  # also #ifdef, #ifndef
            depth += 1
        elif s.startswith("#endif"):
            depth -= 1
        else:
            names = re.findall(r"MP_ROM_QSTR\(MP_QSTR_(\w+)\)\s*,", s)
            every.update(names)
            if not depth:
                always.update(names)
    return every, always


def c_allowed_args(text: str, function: str) -> list[tuple[str, bool, bool]]:
    """A C function's mp_arg_t allowed_args: (name, required, keyword only) in order."""
    body = "\n".join(c_block(text, function))
    table = body.split("allowed_args[] = {", 1)[1].split("};", 1)[0]
    out = []
    for m in re.finditer(r"\{\s*MP_QSTR_(\w+)\s*,\s*([^,}]*)", table):
        flags = m.group(2)
        out.append((m.group(1), "MP_ARG_REQUIRED" in flags, "MP_ARG_KW_ONLY" in flags))
    return out


def sig_as_args(sig: Sig, skip: int = 0) -> list[tuple[str, bool, bool]]:
    return [(p.name, p.required, p.kind == "kw") for p in sig.params[skip:]]


def py_public_names(path: Path) -> set[str]:
    """Names a Python module binds at its top level (also in if/try), not private."""
    tree = ast.parse(path.read_text())
    names: set[str] = set()

    def walk(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.If | ast.Try):
                walk(node.body)
                walk(node.orelse)
                for h in getattr(node, "handlers", []):
                    walk(h.body)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(node.name)
            elif isinstance(node, ast.Assign):
                names.update(t.id for t in node.targets if isinstance(t, ast.Name))
            elif isinstance(node, ast.Import | ast.ImportFrom):
                for a in node.names:
                    names.add(a.asname or a.name.split(".")[0])

    walk(tree.body)
    return {n for n in names if not n.startswith("_")}


def py_class_members(path: Path, cls: str) -> set[str]:
    """A Python class's methods and class attributes, also those assigned as
    Class.name = ... at module level, not private."""
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == cls:
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    names.add(item.name)
                elif isinstance(item, ast.Assign):
                    names.update(t.id for t in item.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.Assign):
            for t in node.targets:
                if isinstance(t, ast.Attribute) and ast.unparse(t.value) == cls:
                    names.add(t.attr)
    return {n for n in names if not n.startswith("_")}


def source_qstrs(src: Path) -> set[str]:
    """Every qstr the ESP8266 build's source could define (py, extmod, shared,
    drivers, ports/esp8266): MP_QSTR_x and the X(x) lists (errno)."""
    found: set[str] = set()
    for part in ("py", "extmod", "shared", "drivers", "ports/esp8266"):
        for path in (src / part).rglob("*"):
            if path.suffix not in (".c", ".h"):
                continue
            text = path.read_text(errors="replace")
            found.update(re.findall(r"MP_QSTR_(\w+)", text))
            found.update(re.findall(r"\bX\((\w+)\)", text))
    return found


def registered_c_modules(src: Path, extensible: bool = False) -> set[str]:
    """The C modules py/, extmod/ and ports/esp8266 register (built or not)."""
    found: set[str] = set()
    pattern = r"MP_REGISTER_EXTENSIBLE_MODULE\(MP_QSTR_(\w+)"
    if not extensible:
        pattern = r"MP_REGISTER_(?:EXTENSIBLE_)?MODULE\(MP_QSTR_(\w+)"
    for part in ("py", "extmod", "ports/esp8266"):
        for path in (src / part).rglob("*.c"):
            found.update(re.findall(pattern, path.read_text(errors="replace")))
    return found


def manifest_modules(src: Path) -> set[str]:
    """Modules the FLASH_2M_ROMFS firmware freezes (its manifest and the port's)."""
    board = src / "ports/esp8266/boards/ESP8266_GENERIC"
    found: set[str] = set()
    for manifest in (board / "manifest_2MiB.py", src / "ports/esp8266/boards/manifest.py"):
        text = manifest.read_text()
        for name in re.findall(r"require\(\"([\w.-]+)\"\)", text):
            if not name.startswith("bundle-"):
                found.add(name)
        if "extmod/asyncio" in text:
            found.add("asyncio")
        if "$(PORT_DIR)/modules" in text:
            found.update(p.stem for p in (src / "ports/esp8266/modules").glob("*.py"))
    return found


def stub_names(api: Api, module: str) -> Iterator[tuple[str, Sym]]:
    """(qualified name, sym) of a stub module's own names and its classes' members."""
    mod = api._module(module) if api.available(module) else None
    if mod is None:
        return
    for name, sym in mod.sym.members.items():
        if name.startswith("_") or sym.kind == "unknown":
            continue
        yield f"{module}.{name}", sym
        if sym.kind == "class":
            for member in sym.members:
                if not member.startswith("_"):
                    yield f"{module}.{name}.{member}", sym.members[member]
