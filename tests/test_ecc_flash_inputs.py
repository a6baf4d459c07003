"""The ecc module must take inputs that sit in memory-mapped flash.

On the ESP8266 a bytes object may point straight into flash (a literal in a
module imported from ROMFS), which allows only aligned 32-bit loads: any
narrower load raises LoadStoreError and resets the chip. The ecc core reads its
inputs byte by byte and is built without -mforce-l32, so the binding
(firmware/cmodules/ecc/modecc.c) copies every input onto the stack with
`ecc_copy_in`, which reads only aligned words. No test here can run the binding
on a chip or on an emulator that faults like one, so the property is proved in
parts (the ecc README, "Inputs in flash", has the argument):

1. `ecc_copy_in`'s machine code has no narrow load and calls nothing: checked
   in the xtensa build of the .mpy and in compiles *without* -mforce-l32 at
   three optimisation levels (dynruntime.mk's -mforce-l32 would hide a byte
   loop in the binding; a firmware build may not have it). A control shows the
   check does see the byte loads of a plain copy loop.
2. In modecc.c's source, a pointer from Python reaches nothing but
   `ecc_copy_in`, and the core is called with the binding's stack arrays only.
3. The copy is right: every function with each argument at each of the four
   alignments, fill bytes around it, against `cryptography` (x64 .mpy).
4. The core reads its own rodata and code only with aligned 32-bit loads:
   every load of the bare-metal harness on QEMU's lx106 is watched by a QEMU
   plugin (firmware/cmodules/ecc/qemu/loadwidth.c), over every check and
   operation. As a control the same run must show the core's byte loads of
   its inputs (the harness hands it its own rodata), which is what (2) keeps
   away from flash on the chip.
"""

from __future__ import annotations

import random
import re
import shlex
import shutil
import subprocess
import sys
from functools import partial
from pathlib import Path

import pytest
import test_ecc_natmod as natmod
from cryptography.hazmat.primitives.asymmetric import ec, x25519

from homeca.bench import ecc as bench
from homeca.testing.tools import need

ROOT = Path(__file__).resolve().parent.parent
ECC_DIR = ROOT / "firmware" / "cmodules" / "ecc"
MODECC = ECC_DIR / "modecc.c"
PLUGIN_SRC = ECC_DIR / "qemu" / "loadwidth.c"
XTENSA_OBJDUMP = "xtensa-lx106-elf-objdump"
XTENSA_GCC = "xtensa-lx106-elf-gcc"
COPY = "ecc_copy_in"
NARROW_LOADS = {"l8ui", "l16ui", "l16si"}
CALLS = {"call0", "callx0", "call4", "callx4", "call8", "callx8", "call12", "callx12", "jx"}

# --- 1. the copy routine's instructions ------------------------------------------------


def function_mnemonics(obj: Path, name: str) -> list[str]:
    """The mnemonics of one function in an xtensa object, from objdump -d."""
    proc = subprocess.run(
        [XTENSA_OBJDUMP, "-d", str(obj)], capture_output=True, text=True, check=True
    )
    body = re.search(
        rf"^[0-9a-f]+ <{re.escape(name)}>:\n(.*?)(?:\n\n|\Z)", proc.stdout, re.M | re.S
    )
    assert body, f"{name} not in {obj}: inlined, renamed, or not built?"
    mnemonics = []
    for line in body.group(1).splitlines():
        # "  2d:\t0228      \tl32i.n\ta2, a2, 0"; ".byte" fill has no mnemonic field
        fields = line.split("\t")
        if len(fields) >= 3 and fields[2].strip():
            mnemonics.append(fields[2].split()[0])
    return mnemonics


def load_problems(mnemonics: list[str]) -> list[str]:
    """What makes a routine unfit to read flash: narrow loads, or calls and
    indirect jumps (whose target's loads this check would not see)."""
    base = [m.removesuffix(".n") for m in mnemonics]
    problems = sorted({m for m in base if m in NARROW_LOADS})
    problems += sorted({m for m in base if m in CALLS})
    if "l32i" not in base:
        problems.append("no l32i at all: is this the copy routine?")
    return problems


@pytest.fixture(scope="module")
def xtensa_build() -> Path:
    need(
        shutil.which(XTENSA_GCC) is not None and shutil.which(XTENSA_OBJDUMP) is not None,
        "xtensa-lx106-elf-gcc/objdump not installed",
    )
    natmod.make_ecc("xtensa")
    return natmod.BUILD / "xtensa"


def binding_compile_command(build: Path) -> list[str]:
    """modecc.c's compile command in the xtensa .mpy build (from make -n)."""
    proc = subprocess.run(
        ["make", "-n", "-B", "-C", str(ECC_DIR), "ARCH=xtensa", f"ECC_PYTHON={sys.executable}"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    obj = str(build / "modecc.o")
    for line in proc.stdout.splitlines():
        words = shlex.split(line)
        if words and words[0] == XTENSA_GCC and obj in words:
            return words
    raise AssertionError(f"no compile command for {obj} in make -n:\n{proc.stdout}")


def test_copy_routine_in_the_mpy_loads_only_words(xtensa_build: Path) -> None:
    assert load_problems(function_mnemonics(xtensa_build / "modecc.o", COPY)) == []


@pytest.mark.parametrize("opt", ["-O0", "-Os", "-O2"])
def test_copy_routine_loads_only_words_without_force_l32(
    opt: str, xtensa_build: Path, tmp_path: Path
) -> None:
    """The routine itself, not -mforce-l32, must keep narrow loads away."""
    cmd = binding_compile_command(xtensa_build)
    assert "-mforce-l32" in cmd  # what dynruntime.mk adds, and this compile drops
    out = tmp_path / "modecc.o"
    i = cmd.index("-o")
    cmd[i + 1] = str(out)
    cmd = [w for w in cmd if w not in ("-mforce-l32", "-O0", "-Os", "-O2")] + [opt]
    proc = subprocess.run(cmd, cwd=ECC_DIR, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert load_problems(function_mnemonics(out, COPY)) == []


def test_the_load_check_sees_a_byte_copy(xtensa_build: Path, tmp_path: Path) -> None:
    """Control for the two tests above: a plain byte loop fails the check
    without -mforce-l32, and with it passes (which is why they compile
    without it)."""
    src = tmp_path / "bytecopy.c"
    src.write_text(
        "#include <stddef.h>\n"
        f"void {COPY}(unsigned char *d, const unsigned char *s, size_t n) {{\n"
        "    while (n--) *d++ = *s++;\n"
        "}\n"
    )
    for flags, expect_l8ui in ([], True), (["-mforce-l32"], False):
        obj = tmp_path / f"bytecopy{len(flags)}.o"
        subprocess.run([XTENSA_GCC, "-Os", *flags, "-c", str(src), "-o", str(obj)], check=True)
        problems = load_problems(function_mnemonics(obj, COPY))
        assert ("l8ui" in problems) == expect_l8ui, (flags, problems)


# The routine alone on the host, its input at the edges of a page between two
# inaccessible ones: a load before the word of the first byte or after the
# word of the last one faults. Every length 1..72 at every alignment, both
# edges; the copy is compared byte for byte and must not write past n.
BOUNDS_DRIVER = r"""
#define _DEFAULT_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#define MP_ENDIANNESS_BIG 0
static void ecc_copy_in(PARAMS) {BODY}
int main(void) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    uint8_t *m = mmap(NULL, 3 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return 2;
    uint8_t *data = m + page;
    for (size_t i = 0; i < page; i++) data[i] = (uint8_t)(i * 7 + 3);
    if (mprotect(m, page, PROT_NONE) || mprotect(m + 2 * page, page, PROT_NONE)) return 2;
    unsigned copies = 0;
    for (size_t n = 1; n <= 72; n++) {
        for (size_t a = 0; a < 4; a++) {
            size_t words = (a + n + 3) / 4;
            const uint8_t *at[2] = {data + a, data + page - 4 * words + a};
            for (int e = 0; e < 2; e++) {
                uint8_t dst[80];
                memset(dst, 0x5a, sizeof dst);
                ecc_copy_in(dst, at[e], n);
                if (memcmp(dst, at[e], n) != 0 || dst[n] != 0x5a) {
                    printf("wrong copy: n=%zu align=%zu edge=%d\n", n, a, e);
                    return 1;
                }
                copies++;
            }
        }
    }
    printf("ok %u\n", copies);
    return 0;
}
"""


@pytest.mark.parametrize("opt", ["-O0", "-O2"])
def test_copy_routine_reads_no_word_outside_its_input(opt: str, tmp_path: Path) -> None:
    need(shutil.which("gcc") is not None, "gcc not installed")
    params, body = functions(strip_comments(MODECC.read_text()))[COPY]
    src = tmp_path / "bounds.c"
    src.write_text(BOUNDS_DRIVER.replace("PARAMS", params).replace("BODY", body))
    exe = tmp_path / "bounds"
    cc = ["gcc", "-std=c99", opt, "-Wall", "-Wextra", "-Werror", "-o", str(exe), str(src)]
    subprocess.run(cc, check=True)
    proc = subprocess.run([str(exe)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, f"exit {proc.returncode} (-11: a load outside): {proc.stdout}"
    assert proc.stdout.split() == ["ok", str(72 * 4 * 2)]


# --- 2. where pointers from Python go (source of modecc.c) -----------------------------


def strip_comments(c: str) -> str:
    return re.sub(r"/\*.*?\*/|//[^\n]*", " ", c, flags=re.S)


def functions(c: str) -> dict[str, tuple[str, str]]:
    """Top-level function definitions: name -> (parameter list, body)."""
    found = {}
    for m in re.finditer(r"^(?:static\s+)?[\w\s\*()]*?\b(\w+)\(([^()]*)\)\s*\{", c, re.M):
        depth, i = 1, m.end()
        while depth:
            depth += {"{": 1, "}": -1}.get(c[i], 0)
            i += 1
        found[m.group(1)] = (m.group(2), c[m.end() : i - 1])
    return found


def core_api() -> set[str]:
    header = strip_comments((ECC_DIR / "core" / "ecc.h").read_text())
    return set(re.findall(r"^\w+\s+(ecc_\w+)\(", header, re.M))


def call_args(body: str, name: str) -> list[list[str]]:
    """The argument lists of every call to `name`, whose arguments may hold
    one level of parentheses (`MP_ERROR_TEXT("...")`, `sizeof(out)`)."""
    return [
        [a.strip() for a in re.split(r",(?![^()]*\))", m.group(1))]
        for m in re.finditer(rf"\b{name}\(((?:[^()]|\([^()]*\))*)\)", body)
    ]


def test_python_buffers_reach_only_the_copy_routine() -> None:
    src = strip_comments(MODECC.read_text())
    funcs = functions(src)
    # Python's memory is read through mp_buffer_info_t.buf: once, into the copy.
    assert re.findall(r"\b\w+\s*(?:\.|->)\s*buf\b", src) == ["info.buf"], "a .buf besides ecc_in's"
    assert call_args(funcs["ecc_in"][1], COPY) == [["dst", "info.buf", "len"]]
    for name, (_, body) in funcs.items():
        if "mp_get_buffer" in body:
            assert name == "ecc_in", f"{name} gets a buffer"
    # ecc_need_len is ecc_in without the copy.
    need_len = r"#define ecc_need_len\((\w+), (\w+), (\w+)\) ecc_in\(NULL, \1, \2, \3\)"
    assert re.search(need_len, src), "ecc_need_len is not ecc_in(NULL, ...)"
    # No other way to Python memory in the whole file.
    for api in ("mp_get_buffer(", "mp_obj_str_get_data", "mp_obj_str_get_str", "GET_STR_DATA_LEN",
                "mp_obj_get_array", "bufinfo"):  # fmt: skip
        assert api not in src, api


def test_each_function_gives_the_core_only_its_stack_copies() -> None:
    src = strip_comments(MODECC.read_text())
    funcs = functions(src)
    api = core_api() - {"ecc_wipe"}
    bindings = {n: f for n, f in funcs.items() if n.startswith("ecc_py_")}
    assert len(bindings) == len(natmod.SIGNATURES)
    called = set()
    for name, (params, body) in bindings.items():
        arrays = set(re.findall(r"\buint8_t\s+(\w+)\[\d+\]", body))
        arrays |= set(re.findall(r",\s*(\w+)\[\d+\]", body))  # uint8_t a[32], b[32]
        # Each object from Python goes only to ecc_in, ecc_in_pub65 or ecc_need_len.
        for obj in re.findall(r"mp_obj_t\s+(\w+)", params):
            uses = re.findall(rf"[^;{{}}]*\b{obj}\b[^;{{}}]*", body)
            for use in uses:
                ok = re.fullmatch(
                    rf"\s*ecc_(?:in\(\w+, {obj}, .*\)|in_pub65\(\w+, {obj}\)"
                    rf"|need_len\({obj}, .*\))\s*",
                    use,
                )
                assert ok, f"{name}: {obj} used as {use.strip()!r}"
            assert uses, f"{name}: {obj} unused"
        # Copies land in this function's arrays.
        for fn in ("ecc_in", "ecc_in_pub65"):
            for args in call_args(body, fn):
                assert args[0] in arrays, f"{name}: {fn} into {args[0]}"
        # The core gets this function's arrays (X||Y being pub + 1), nothing else.
        for fn in api:
            for args in call_args(body, fn):
                called.add(fn)
                for a in args:
                    assert re.fullmatch(r"(\w+)( \+ 1)?", a) and a.split()[0] in arrays, (
                        f"{name}: {fn}(..., {a}, ...)"
                    )
    assert called == api, f"core functions the binding does not call: {api - called}"


# --- 3. the copy at every alignment (x64 .mpy on the unix port) ------------------------

# On MicroPython, after test_ecc_natmod's RUNNER_BASE: each argument placed in
# a bytearray at a given address mod 4 (bytes 0xA5 around it) and passed as a
# memoryview slice. Per case [[align, result], ...], results as natmod's; the
# address is checked with uctypes where present.
PLACED_CALLS = """
try:
    from uctypes import addressof
except ImportError:
    addressof = None

def placed(data, align):
    buf = bytearray(b"\\xa5" * (len(data) + 12))
    base = addressof(buf) if addressof else 0
    off = 4 + (align - base) % 4
    buf[off:off + len(data)] = data
    view = memoryview(buf)[off:off + len(data)]
    if addressof:
        assert addressof(view) % 4 == align, (addressof(view), align)
    return buf, bytes(buf), view

def run(name, args, align):
    placed_args = [placed(a, (align + i) % 4) for i, a in enumerate(args)]
    result = call(name, [view for _, _, view in placed_args])
    for buf, before, _ in placed_args:
        assert bytes(buf) == before, "an input or the bytes around it changed"
    return result

main(lambda name, args: [[align, run(name, args, align)] for align in range(4)])
"""
ALIGNMENT_RUNNER = natmod.RUNNER_BASE + PLACED_CALLS

Case = tuple[str, list[bytes], tuple[str, object]]


def alignment_cases() -> list[Case]:
    """Every function on random inputs (distinct bytes: a shifted copy changes
    them), plus the binding's own checks of length and prefix."""
    rng = random.Random(0xF1A5)
    d, peer, k = (rng.randrange(1, natmod.N) for _ in range(3))
    priv, pub, digest = natmod.be32(d), natmod.pub65(peer), rng.randbytes(32)
    scalar = rng.randbytes(32)
    u = x25519.X25519PrivateKey.from_private_bytes(rng.randbytes(32)).public_key()
    u_raw = u.public_bytes_raw()
    sig = natmod.sign_raw(d, digest, deterministic=True)
    x_pub = x25519.X25519PrivateKey.from_private_bytes(scalar).public_key().public_bytes_raw()
    shared = natmod.p256_key(d).exchange(ec.ECDH(), natmod.p256_key(peer).public_key())
    ok = natmod.ok
    bad_sig = sig[:-1] + bytes([sig[-1] ^ 1])
    return [
        ("x25519", [scalar, u_raw], natmod.x25519_ref(scalar, u_raw)),
        ("x25519_base", [scalar], ok(x_pub)),
        ("p256_public", [priv], ok(natmod.pub65(d))),
        ("p256_ecdh", [priv, pub], ok(shared)),
        ("p256_sign", [priv, digest], ok(sig)),
        ("p256_verify", [natmod.pub65(d), digest, sig], ("bool", True)),
        ("p256_verify", [natmod.pub65(d), digest, bad_sig], ("bool", False)),
        ("p256_scalar_mul", [natmod.be32(k), priv], ok(natmod.be32(k * d % natmod.N))),
        ("p256_point_mul", [natmod.be32(k), pub], ok(natmod.pub65(k * peer % natmod.N))),
        ("p256_compress", [pub], ok(natmod.pub33(peer))),
        ("p256_decompress", [natmod.pub33(peer)], ok(pub)),
        ("p256_compress", [b"\x05" + pub[1:]], ("ValueError", "pub must start with 0x04")),
        ("p256_ecdh", [priv[1:], pub], ("ValueError", "priv must be 32 bytes")),
        ("p256_verify", [pub, digest, sig + b"\0"], ("ValueError", "sig must be 64 bytes")),
    ]


def alignment_mismatches(run: natmod.RunMicropython, tmp_path: Path) -> list[str]:
    """Runs every alignment case through `run(script, *args)`; the mismatches."""
    cases = alignment_cases()
    calls = [(name, args) for name, args, _ in cases]
    results = natmod.run_calls(run, ALIGNMENT_RUNNER, calls, tmp_path)
    wrong = []
    for (name, args, expected), per_align in zip(cases, results, strict=True):
        assert [align for align, _ in per_align] == [0, 1, 2, 3]
        for align, got in per_align:
            if tuple(got) != expected:
                lengths = [len(a) for a in args]
                wrong.append(f"{name}{lengths} at alignment {align}: {got} != {expected}")
    return wrong


def test_every_function_at_every_alignment(tmp_path: Path) -> None:
    mpy = natmod.make_ecc("x64")
    assert alignment_mismatches(partial(natmod.run_script, mpy), tmp_path) == []


# --- 4. the core's own loads on QEMU's lx106 --------------------------------------------

IRAM = (0x40000000, 0x40100000)  # the harness's code and literals (qemu.ld)
SYSROM = (0x50000000, 0x50010000)


def input_sections(map_file: Path, section: str) -> dict[str, tuple[int, int]]:
    """Input sections of one output section in an ld map: object -> (start, end)."""
    text = map_file.read_text()
    # " .rodata        0x3ffc25b8      0x5ec /path/core.o", the name may wrap.
    pattern = rf"^ {re.escape(section)}(?:\.\S*)?\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S+\.o)$"
    found: dict[str, tuple[int, int]] = {}
    for m in re.finditer(pattern, text, re.M):
        start, size = int(m.group(1), 16), int(m.group(2), 16)
        if size:
            lo, hi = found.get(Path(m.group(3)).name, (start, start))
            found[Path(m.group(3)).name] = (min(lo, start), max(hi, start + size))
    return found


def test_core_reads_its_rodata_and_code_only_by_aligned_word(tmp_path: Path) -> None:
    missing = bench.missing_tools()
    need(not missing, f"not installed: {', '.join(missing)}")
    need(shutil.which("gcc") is not None, "gcc not installed (builds the QEMU plugin)")
    plugin = tmp_path / "loadwidth.so"
    subprocess.run(
        ["gcc", "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC",
         "-o", str(plugin), str(PLUGIN_SRC)],
        check=True,
    )  # fmt: skip
    elf, size = bench.build_qemu("Os")
    rodata = input_sections(elf.parent / "ecc-bench.map", ".rodata")
    core_rodata = rodata["core.o"]
    assert core_rodata[1] - core_rodata[0] == size.rodata
    inputs = rodata["vectors.o"]  # the known-answer vectors the core reads
    watched = {"core rodata": core_rodata, "iram": IRAM, "sysrom": SYSROM}
    ranges = {**watched, "inputs": inputs}
    report = tmp_path / "loads.txt"
    plugin_args = [str(plugin), f"out={report}"]
    for name, (lo, hi) in ranges.items():
        plugin_args.append(f"{'range' if name in watched else 'count'}={lo:x}:{hi:x}")
    proc = subprocess.run(
        [bench.QEMU, *bench.QEMU_ARGS, "-plugin", ",".join(plugin_args), "-kernel", str(elf)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 0 and "DONE fail=0" in proc.stdout, proc.stdout[-2000:] + proc.stderr
    lines = report.read_text().splitlines()
    counts = {}
    for name, line in zip(ranges, lines, strict=False):
        _, _, _, one, two, four, unaligned = line.split()
        counts[name] = (int(one), int(two), int(four), int(unaligned))
    assert len(counts) == len(ranges), lines
    bad = [line for line in lines if line.startswith("bad ")]  # PCs to look up in the ELF
    assert bad == []
    # The core's tables: read a lot, only by aligned word.
    assert counts["core rodata"][2] > 100_000
    assert counts["core rodata"][0:2] == (0, 0) and counts["core rodata"][3] == 0, bad
    # Code memory (literal pools): only l32r, aligned words.
    assert counts["iram"][2] > 0
    assert counts["iram"][0:2] == (0, 0) and counts["iram"][3] == 0, bad
    assert counts["sysrom"][0:2] == (0, 0) and counts["sysrom"][3] == 0, bad
    # Control: the plugin does see narrow loads, those of the core reading its
    # inputs byte by byte, which on the chip only ever come from the stack.
    assert counts["inputs"][0] > 0
