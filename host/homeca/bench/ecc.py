"""Benchmark of the ecc C core: `python -m homeca.bench.ecc`.

Builds and runs, through firmware/cmodules/ecc/qemu/Makefile:
- the bare-metal harness on QEMU's lx106 (the ESP8266 CPU core): checks,
  instruction counts (CCOUNT x 25), peak stack, for -Os and -O2;
- a host (x86-64, gcc -O2) build of the same ops under valgrind's callgrind;
- the MicroPython unix port timing the native `ecc.mpy` (build/ecc/x64) and
  the pure-Python fallback (firmware/nodefw/ecc_pure.py), where they exist.
Prints a table, checks the targets, writes build/bench/ecc.json. Any failed
check stops it with an error.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from homeca.errors import HomecaError

REPO = Path(__file__).resolve().parents[3]
HARNESS_DIR = REPO / "firmware" / "cmodules" / "ecc" / "qemu"
MAKEFILE = HARNESS_DIR / "Makefile"
BUILD = REPO / "build" / "ecc-qemu"
JSON_OUT = REPO / "build" / "bench" / "ecc.json"
NATIVE_MPY = REPO / "build" / "ecc" / "x64" / "ecc.mpy"
PURE_PY = REPO / "firmware" / "nodefw" / "ecc_pure.py"

QEMU = "qemu-system-xtensa"
CROSS_GCC = "xtensa-lx106-elf-gcc"
# sleep=off: otherwise virtual time also runs with the host clock while QEMU
# starts up, CCOUNT's phase at main() varies, and a delta can differ by a tick
# between two runs of the same code.
QEMU_ARGS = [
    "-M", "sim", "-cpu", "lx106", "-semihosting", "-display", "none",
    "-monitor", "none", "-serial", "none", "-icount", "shift=0,sleep=off",
]  # fmt: skip
INSTRUCTIONS_PER_TICK = 25

# Targets from the design: lx106 instructions per operation, bytes.
TARGETS = {
    "x25519": 4_500_000,
    "p256_public": 7_000_000,
    "p256_ecdh": 11_000_000,
    "p256_sign": 8_000_000,
    "p256_verify": 15_000_000,
}
CODE_TARGET = 10 * 1024
STACK_TARGET = 1536


class BenchError(HomecaError):
    pass


@dataclass
class OpSample:
    instructions: int
    ccount: int
    stack: int


@dataclass
class QemuResult:
    passed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    ops: dict[str, OpSample] = field(default_factory=dict)
    calibration: tuple[int, int] = (0, 0)  # (loop instructions, ccount)
    output: str = ""


@dataclass
class CoreSize:
    text: int
    rodata: int


def missing_tools() -> list[str]:
    """The QEMU-harness tools not installed here (`make test` installs them)."""
    return [t for t in (QEMU, CROSS_GCC) if shutil.which(t) is None]


def make(
    *targets: str, opt: str = "Os", core_dir: Path | None = None, build: Path | None = None
) -> str:
    """Run the harness Makefile; its stdout, or BenchError with the log tail."""
    # PYTHON: the vector generator needs an interpreter with homeca, like this one.
    cmd = ["make", "--no-print-directory", "-f", str(MAKEFILE), f"OPT={opt}", *targets]
    cmd.append(f"PYTHON={sys.executable}")
    if core_dir is not None:
        cmd.append(f"CORE_DIR={core_dir.resolve()}")
    if build is not None:
        cmd.append(f"BUILD={build.resolve()}")
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-25:])
        raise BenchError(f"make {' '.join(targets)} (OPT={opt}) failed:\n{tail}")
    return proc.stdout


def build_qemu(opt: str = "Os", core_dir: Path | None = None) -> tuple[Path, CoreSize]:
    """Build the harness ELF for one variant; also the core's code size."""
    out = make("elf", "size", opt=opt, core_dir=core_dir)
    m = re.search(r"^CORE_SIZE opt=\S+ text=(\d+) rodata=(\d+)", out, re.M)
    if not m:
        raise BenchError("make size printed no CORE_SIZE line")
    return BUILD / opt / "ecc-bench.elf", CoreSize(int(m.group(1)), int(m.group(2)))


BENCH_LINE = re.compile(r"BENCH (\S+) rc=\S+ ccount=(\d+) instructions=(\d+) stack=(\d+)")


def parse_qemu_output(text: str) -> QemuResult:
    """The harness's PASS/FAIL/CALIBRATE/BENCH lines (see bench.c)."""
    res = QemuResult(output=text)
    for line in text.splitlines():
        if line.startswith("PASS "):
            res.passed.append(line[5:])
        elif line.startswith("FAIL "):
            res.failed.append(line[5:])
        elif m := re.match(r"CALIBRATE loop_instructions=(\d+) ccount=(\d+)", line):
            res.calibration = (int(m.group(1)), int(m.group(2)))
        elif m := BENCH_LINE.match(line):
            res.ops[m.group(1)] = OpSample(int(m.group(3)), int(m.group(2)), int(m.group(4)))
    return res


def run_qemu(elf: Path, timeout: float = 600) -> QemuResult:
    """Run the harness once; BenchError if it did not finish cleanly."""
    try:
        proc = subprocess.run(
            [QEMU, *QEMU_ARGS, "-kernel", str(elf)], capture_output=True, text=True,
            timeout=timeout,
        )  # fmt: skip
    except subprocess.TimeoutExpired as e:
        raise BenchError(f"QEMU did not finish in {timeout:.0f} s ({elf.name})") from e
    res = parse_qemu_output(proc.stdout)
    if "DONE fail=" not in proc.stdout:
        # start.S's exception vectors exit with 64 + EXCCAUSE (62, 63: debug, NMI).
        why = f"QEMU exit {proc.returncode}"
        if proc.returncode >= 64:
            why += f": CPU exception, EXCCAUSE {proc.returncode - 64}"
        tail = (proc.stdout[-1500:] + proc.stderr[-500:]).strip()
        raise BenchError(f"the harness stopped early ({why}); last output:\n{tail}")
    if proc.returncode not in (0, 1):
        raise BenchError(f"QEMU exited with {proc.returncode}: {proc.stderr.strip()}")
    return res


def check_calibration(res: QemuResult) -> None:
    """The harness's 2-instruction loop must come out at 25 per tick."""
    loop, ticks = res.calibration
    if abs(ticks * INSTRUCTIONS_PER_TICK - loop) > INSTRUCTIONS_PER_TICK:
        raise BenchError(f"CCOUNT calibration off: {loop} instructions took {ticks} ticks")


def callgrind_counts(ops: list[str], core_dir: Path | None = None) -> dict[str, int | None]:
    """x86-64 instructions per op (gcc -O2 build, callgrind); None without valgrind."""
    if shutil.which("valgrind") is None:
        return dict.fromkeys(ops)
    make("host", core_dir=core_dir)
    binary = BUILD / "host" / "host_bench"
    check = subprocess.run([str(binary), "check"], capture_output=True, text=True)
    failed = [ln for ln in check.stdout.splitlines() if ln.startswith("FAIL")]
    if check.returncode != 0 or failed:
        raise BenchError("host build of the checks failed:\n" + "\n".join(failed[:20]))
    counts: dict[str, int | None] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for op in ops:
            out_file = Path(tmp) / f"{op}.out"
            proc = subprocess.run(
                ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out_file}",
                 "--collect-atstart=no", "--toggle-collect=bench_run", str(binary), "run", op],
                capture_output=True, text=True,
            )  # fmt: skip
            summary = out_file.read_text() if proc.returncode == 0 else ""
            m = re.search(r"^summary: (\d+)", summary, re.M)
            if not m:
                raise BenchError(f"callgrind run of {op} failed:\n{proc.stderr[-1500:]}")
            counts[op] = int(m.group(1))
    return counts


# Runs on the MicroPython unix port. The binding's byte formats are its own
# business: every input it takes back comes from its own outputs.
UNIX_SCRIPT = """
import sys, time
sys.path[:0] = %(paths)r
try:
    m = __import__(%(module)r)
except Exception as e:
    print('IMPORT', repr(e))
    raise SystemExit
X = bytes.fromhex('c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721')
I = bytes.fromhex('c88f01f510d9ac3f70a292daa2316de544e9aab8afe84049c62a9c57862d1433')
K = bytes.fromhex('1f2e3d4c5b6a79880f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778')
D = bytes.fromhex('af2bdbe1aa9b6ec1e2ade1d694f41fc71a831d0268e9891562113d8a62add1bf')
S = bytes.fromhex('a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4')
U = bytes.fromhex('e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c')
st = {}
def setup():
    st['pub'] = m.p256_public(X)
    st['peer'] = m.p256_public(I)
    st['sig'] = m.p256_sign(X, D)
    st['comp'] = m.p256_compress(st['pub'])
ops = {
    'x25519': lambda: m.x25519(S, U),
    'x25519_base': lambda: m.x25519_base(S),
    'p256_public': lambda: m.p256_public(X),
    'p256_ecdh': lambda: m.p256_ecdh(X, st['peer']),
    'p256_sign': lambda: m.p256_sign(X, D),
    'p256_verify': lambda: m.p256_verify(st['pub'], D, st['sig']),
    'p256_scalar_mul': lambda: m.p256_scalar_mul(K, X),
    'p256_point_mul': lambda: m.p256_point_mul(K, st['pub']),
    'p256_compress': lambda: m.p256_compress(st['pub']),
    'p256_decompress': lambda: m.p256_decompress(st['comp']),
}
try:
    setup()
except Exception as e:
    print('SETUP', repr(e))
for name in %(ops)r:
    try:
        f = ops[name]
        n = 0
        t0 = time.ticks_us()
        while True:
            f()
            n += 1
            dt = time.ticks_diff(time.ticks_us(), t0)
            if dt > %(budget_us)d or n >= 50:
                break
        print('TIME', name, dt / n / 1000)
    except Exception as e:
        print('NA', name, repr(e))
"""


def unix_port_times(ops: list[str], timeout: float = 600) -> dict[str, dict[str, float | str]]:
    """ms per op on the unix port for 'native' and 'pure'; a string says why not."""
    from homeca.interpreters import InterpreterMissing, micropython_command

    try:
        mp = micropython_command()
    except InterpreterMissing:
        mp = ""
    sources = {
        "native": (NATIVE_MPY, "ecc", [str(NATIVE_MPY.parent)]),
        "pure": (PURE_PY, "ecc_pure", [str(PURE_PY.parent), str(PURE_PY.parent.parent)]),
    }
    out: dict[str, dict[str, float | str]] = {}
    for kind, (path, module, paths) in sources.items():
        if not path.exists():
            out[kind] = dict.fromkeys(ops, "n/a (not built)")
            continue
        if not mp:
            out[kind] = dict.fromkeys(ops, "n/a (no micropython)")
            continue
        script = UNIX_SCRIPT % {"paths": paths, "module": module, "ops": ops, "budget_us": 500_000}
        try:
            proc = subprocess.run(
                [mp, "-c", script], capture_output=True, text=True, timeout=timeout
            )
            text = proc.stdout
        except subprocess.TimeoutExpired:
            text = ""
        times: dict[str, float | str] = dict.fromkeys(ops, "n/a (no result)")
        for line in text.splitlines():
            parts = line.split(" ", 2)
            if parts[0] == "TIME" and len(parts) == 3:
                times[parts[1]] = float(parts[2])
            elif parts[0] == "NA" and len(parts) == 3:
                times[parts[1]] = "n/a (error)"
            elif parts[0] == "IMPORT":
                times = dict.fromkeys(ops, "n/a (import failed)")
        out[kind] = times
    return out


def est_ms(instructions: int, mhz: int) -> float:
    """Milliseconds at mhz, assuming about one instruction per cycle."""
    return instructions / mhz / 1000


@dataclass
class Report:
    variants: list[str]
    qemu: dict[str, QemuResult]
    sizes: dict[str, CoreSize]
    x86: dict[str, int | None]
    unix: dict[str, dict[str, float | str]]

    @property
    def primary(self) -> str:
        return self.variants[0]

    def ops(self) -> list[str]:
        return list(self.qemu[self.primary].ops)

    def code_bytes(self, opt: str) -> int:
        return self.sizes[opt].text + self.sizes[opt].rodata

    def stack_bytes(self, opt: str) -> int:
        return max((s.stack for s in self.qemu[opt].ops.values()), default=0)

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {}
        for op in self.ops():
            sample = self.qemu[self.primary].ops[op]
            entry: dict[str, Any] = {
                "lx106_instructions": sample.instructions,
                "lx106_ccount": sample.ccount,
                "est_ms_80mhz": round(est_ms(sample.instructions, 80), 2),
                "est_ms_160mhz": round(est_ms(sample.instructions, 160), 2),
                "stack_bytes": sample.stack,
                "x86_64_instructions": self.x86.get(op),
                "unix_native_ms": _json_ms(self.unix["native"].get(op)),
                "unix_pure_ms": _json_ms(self.unix["pure"].get(op)),
                "by_opt": {
                    opt: {
                        "lx106_instructions": self.qemu[opt].ops[op].instructions,
                        "stack_bytes": self.qemu[opt].ops[op].stack,
                    }
                    for opt in self.variants
                    if op in self.qemu[opt].ops
                },
            }
            if op in TARGETS:
                entry["target_instructions"] = TARGETS[op]
                entry["target_met"] = sample.instructions <= TARGETS[op]
            doc[op] = entry
        p = self.primary
        doc["opt"] = p
        doc["code_bytes"] = self.code_bytes(p)
        doc["text_bytes"] = self.sizes[p].text
        doc["rodata_bytes"] = self.sizes[p].rodata
        doc["stack_bytes"] = self.stack_bytes(p)
        doc["code_bytes_by_opt"] = {o: self.code_bytes(o) for o in self.variants}
        doc["stack_bytes_by_opt"] = {o: self.stack_bytes(o) for o in self.variants}
        doc["checks_passed"] = len(self.qemu[p].passed)
        doc["targets"] = {
            **TARGETS,
            "code_bytes": CODE_TARGET,
            "stack_bytes": STACK_TARGET,
        }
        return doc

    def targets(self) -> list[tuple[str, str, bool]]:
        """(what, 'value <= target', met) for every target."""
        p = self.primary
        rows = []
        for op, target in TARGETS.items():
            sample = self.qemu[p].ops.get(op)
            value = sample.instructions if sample else None
            met = value is not None and value <= target
            shown = f"{value / 1e6:.2f} M" if value is not None else "missing"
            rows.append((op, f"{shown} <= {target / 1e6:g} M", met))
        code = self.code_bytes(p)
        rows.append(("code+rodata", f"{code} B <= {CODE_TARGET} B", code <= CODE_TARGET))
        stack = self.stack_bytes(p)
        rows.append(("stack", f"{stack} B <= {STACK_TARGET} B", stack <= STACK_TARGET))
        return rows

    def text(self) -> str:
        p = self.primary
        others = self.variants[1:]
        head = ["op", f"lx106 -{p}"] + [f"-{o}" for o in others]
        head += ["ms@80", "ms@160", "x86-64", "native ms", "pure ms", "stack B"]
        rows = [head]
        for op in self.ops():
            s = self.qemu[p].ops[op]
            row = [op, f"{s.instructions:,}"]
            row += [f"{self.qemu[o].ops[op].instructions:,}" for o in others]
            row += [f"{est_ms(s.instructions, 80):.1f}", f"{est_ms(s.instructions, 160):.1f}"]
            x = self.x86.get(op)
            row.append(f"{x:,}" if x is not None else "n/a")
            row += [_fmt_ms(self.unix["native"].get(op)), _fmt_ms(self.unix["pure"].get(op))]
            row.append(str(s.stack))
            rows.append(row)
        widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
        # Names left-aligned, numbers right-aligned.
        lines = []
        for r in rows:
            cells = [c.rjust(w) for c, w in zip(r, widths, strict=True)]
            cells[0] = r[0].ljust(widths[0])
            lines.append("  ".join(cells))
        lines.append("")
        for o in self.variants:
            sz = self.sizes[o]
            lines.append(
                f"core -{o}: .text {sz.text} B + .rodata {sz.rodata} B = {sz.text + sz.rodata} B, "
                f"peak stack {self.stack_bytes(o)} B"
            )
        lines += [
            "",
            "lx106: instructions on QEMU's lx106 (CCOUNT x 25, +-25); stack without the harness's.",
            "ms@80/ms@160: instructions / MHz / 1000, assuming ~1 instruction per cycle;",
            "  flash-cache misses and wait states of a real ESP8266 are not modelled.",
            "x86-64: callgrind instruction count of a gcc -O2 host build.",
            "native/pure ms: wall time per call on the MicroPython unix port (this machine).",
            "",
            f"targets (lx106 -{p}):",
        ]
        for what, cmp, met in self.targets():
            lines.append(f"  {what:<14} {cmp:<24} {'met' if met else 'NOT MET'}")
        return "\n".join(lines)


def _json_ms(v: float | str | None) -> float | None:
    return round(v, 3) if isinstance(v, float) else None


def _fmt_ms(v: float | str | None) -> str:
    if isinstance(v, float):
        return f"{v:.2f}" if v >= 0.1 else f"{v:.3f}"
    return v if v is not None else "n/a"


def run(
    variants: list[str], core_dir: Path | None = None, x86: bool = True, unix: bool = True,
    timeout: float = 600,
) -> Report:  # fmt: skip
    """Build and run everything; BenchError on any failed check."""
    missing = missing_tools()
    if missing:
        raise BenchError(f"not installed: {', '.join(missing)} (`make test` installs them)")
    qemu: dict[str, QemuResult] = {}
    sizes: dict[str, CoreSize] = {}
    for opt in variants:
        elf, sizes[opt] = build_qemu(opt, core_dir)
        res = run_qemu(elf, timeout)
        if res.failed:
            failed = "\n".join(res.failed[:30])
            raise BenchError(f"-{opt}: {len(res.failed)} checks FAILED:\n{failed}")
        check_calibration(res)
        qemu[opt] = res
    ops = list(qemu[variants[0]].ops)
    x86_counts = callgrind_counts(ops, core_dir) if x86 else dict.fromkeys(ops)
    skipped = dict.fromkeys(ops, "n/a (skipped)")
    times = unix_port_times(ops, timeout) if unix else {"native": skipped, "pure": skipped}
    return Report(variants, qemu, sizes, x86_counts, times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="homeca.bench.ecc", description=__doc__.splitlines()[0])
    parser.add_argument("--variants", default="Os,O2", help="opt levels, the first is reported")
    parser.add_argument("--core-dir", type=Path, help="another core implementation (bring-up)")
    parser.add_argument("--no-callgrind", action="store_true", help="skip the x86-64 counts")
    parser.add_argument("--no-unix", action="store_true", help="skip the unix-port timings")
    parser.add_argument("--json", type=Path, default=JSON_OUT, help=f"output (default {JSON_OUT})")
    parser.add_argument("--strict", action="store_true", help="exit 1 if a target is not met")
    args = parser.parse_args(argv)
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    if not variants or any(v not in ("Os", "O2", "O3", "O1", "Oz") for v in variants):
        parser.error("--variants: comma-separated from Os, O2, O3, O1, Oz")
    try:
        report = run(variants, args.core_dir, x86=not args.no_callgrind, unix=not args.no_unix)
    except BenchError as e:
        print(f"homeca.bench.ecc: {e}", file=sys.stderr)
        return 1
    print(report.text())
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report.to_json(), indent=2) + "\n")
    print(f"\nwrote {args.json}")
    if args.strict and not all(met for _, _, met in report.targets()):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
