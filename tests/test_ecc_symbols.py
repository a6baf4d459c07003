"""Every global symbol of the ecc C core carries the module prefix `ecc_`.

Compiled into a firmware as a user C module, the core shares one namespace
with MicroPython: its lib/crypto-algorithms, for one, defines sha256_init,
sha256_update and sha256_final (hashlib, in the ESP8266 build too), which the
core's SHA-256 would collide with. So every global the core defines is
ecc_*, and the native module's binding exports only mpy_init.
(tests/test_ecc_usercmod.py links the module into a unix port beside that
hashlib.) Checked with nm on the objects of the .mpy builds, per architecture
whose compiler is installed.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import test_ecc_natmod as natmod

from homeca.testing.tools import need

PREFIX = "ecc_"
# GCC's i386 PIC helpers: hidden, in COMDAT groups that the linker merges,
# so they cannot collide.
COMPILER_HELPERS = ("__x86.get_pc_thunk.",)
ARCHES = {
    "x64": ("gcc", "nm"),
    "x86": ("gcc", "nm"),
    "xtensa": ("xtensa-lx106-elf-gcc", "xtensa-lx106-elf-nm"),
}


def symbols(nm: str, obj: Path) -> tuple[set[str], set[str]]:
    """(defined globals, undefined) of one object, from nm -P."""
    out = subprocess.run([nm, "-P", "-g", str(obj)], capture_output=True, text=True, check=True)
    defined, undefined = set(), set()
    for line in out.stdout.splitlines():
        fields = line.split()
        if len(fields) < 2 or line.endswith(":"):
            continue
        name, kind = fields[0], fields[1]
        if kind in "Uw":
            undefined.add(name)
        elif not name.startswith(COMPILER_HELPERS):
            defined.add(name)
    return defined, undefined


def unprefixed(names: set[str]) -> list[str]:
    return sorted(n for n in names if not n.startswith(PREFIX))


def check_core_objects(nm: str, objects: list[Path], libc: frozenset[str] = frozenset()) -> None:
    """Every defined global is ecc_*; the core needs no symbol but its own
    (and, on i386, the linker's GOT), and those in `libc`: a native module links
    no library, a firmware has one (GCC may make a loop a memmove call there)."""
    assert objects, "no core objects"
    defined_all, undefined_all = set(), set()
    for obj in objects:
        defined, undefined = symbols(nm, obj)
        assert not unprefixed(defined), (
            f"{obj.name}: globals without {PREFIX}: {unprefixed(defined)}"
        )
        defined_all |= defined
        undefined_all |= undefined
    assert len(defined_all) > 20  # the API and the shared limb routines
    outside = sorted(undefined_all - defined_all - libc - {"_GLOBAL_OFFSET_TABLE_"})
    assert not outside, f"the core uses symbols from outside: {outside}"


@pytest.mark.parametrize("arch", sorted(ARCHES))
def test_natmod_objects_carry_the_prefix(arch: str) -> None:
    cc, nm = ARCHES[arch]
    need(shutil.which(cc) is not None and shutil.which(nm) is not None, f"{cc}/{nm} not installed")
    natmod.make_ecc(arch)
    build = natmod.BUILD / arch
    check_core_objects(nm, sorted((build / "core").glob("*.o")))
    defined, _ = symbols(nm, build / "modecc.o")
    assert defined == {"mpy_init"}, defined
