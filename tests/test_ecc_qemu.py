"""The ecc C core bare-metal on QEMU's lx106 (the ESP8266 CPU core): every
known-answer and Wycheproof check passes, and the instruction counts are
positive and deterministic. Also the host build of the same checks, and the
build's refusal of a core that needs libgcc helpers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from homeca.bench import ecc as bench
from homeca.testing.tools import need


@pytest.fixture(scope="module")
def needs_qemu() -> None:
    missing = bench.missing_tools()
    need(not missing, f"not installed: {', '.join(missing)}")


# Every operation of ecc.h that the harness times.
OPS = {
    "x25519", "x25519_base", "p256_public", "p256_ecdh", "p256_sign", "p256_verify",
    "p256_scalar_mul", "p256_point_mul", "p256_compress", "p256_decompress",
}  # fmt: skip


@pytest.fixture(scope="module")
def elf(needs_qemu: None) -> Path:
    path, size = bench.build_qemu("Os")
    assert size.text > 0
    return path


def test_checks_pass_and_counts_are_deterministic(elf: Path) -> None:
    first = bench.run_qemu(elf)
    assert not first.failed, "\n".join(first.failed)
    # RFC vectors plus 3 x 20 Wycheproof cases.
    assert len(first.passed) >= 80
    assert sum(p.startswith("p256_verify wycheproof-") for p in first.passed) == 20
    bench.check_calibration(first)
    assert set(first.ops) == OPS
    for op, sample in first.ops.items():
        assert isinstance(sample.instructions, int) and sample.instructions > 0, op
        assert sample.instructions == sample.ccount * bench.INSTRUCTIONS_PER_TICK
        assert sample.stack > 0, op

    second = bench.run_qemu(elf)
    assert not second.failed
    assert {op: (s.instructions, s.stack) for op, s in second.ops.items()} == {
        op: (s.instructions, s.stack) for op, s in first.ops.items()
    }


@pytest.mark.usefixtures("needs_qemu")
def test_a_core_needing_libgcc_helpers_is_refused(tmp_path: Path) -> None:
    core = tmp_path / "core"
    core.mkdir()
    (core / "ecc.h").write_text((bench.REPO / "firmware/cmodules/ecc/core/ecc.h").read_text())
    # A 64-bit product: __muldi3, a slow ROM routine on the ESP8266.
    (core / "wide.c").write_text(
        "#include <stdint.h>\n"
        "uint32_t wide(uint32_t a, uint32_t b) { return (uint32_t)(((uint64_t)a * b) >> 32); }\n"
    )
    with pytest.raises(bench.BenchError, match="__muldi3"):
        bench.make("elf", core_dir=core, build=tmp_path / "build")


def test_host_build_passes_the_same_checks(tmp_path: Path) -> None:
    bench.make("host", build=tmp_path)
    proc = subprocess.run([str(tmp_path / "host" / "host_bench"), "check"],
                          capture_output=True, text=True)  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "FAIL" not in proc.stdout


def test_failed_checks_and_bench_lines_are_parsed() -> None:
    res = bench.parse_qemu_output(
        "PASS x25519 rfc7748-5.2-1\n"
        "FAIL p256_sign rfc6979-a.2.5-sample rc=-2\n"
        "CALIBRATE loop_instructions=200000 ccount=8000\n"
        "BENCH x25519 rc=0 ccount=100 instructions=2500 stack=64\n"
        "DONE fail=1\n"
    )
    assert res.passed == ["x25519 rfc7748-5.2-1"]
    assert res.failed == ["p256_sign rfc6979-a.2.5-sample rc=-2"]
    assert res.ops["x25519"] == bench.OpSample(instructions=2500, ccount=100, stack=64)
    bench.check_calibration(res)


@pytest.mark.usefixtures("needs_qemu")
def test_every_wycheproof_vector_passes_on_lx106(tmp_path: Path) -> None:
    """All of them, not a subset: the lx106 build runs the assembly paths
    (products, squares, the 25519 reduction) that the host build does not."""
    cmd = ["make", "--no-print-directory", "-f", str(bench.MAKEFILE), "OPT=Os", "run",
           f"BUILD={tmp_path}", "WYCHEPROOF_COUNT=100000", f"PYTHON={sys.executable}"]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=bench.REPO, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    res = bench.parse_qemu_output(proc.stdout)
    assert not res.failed, "\n".join(res.failed[:20])
    wycheproof = [p for p in res.passed if "wycheproof-" in p]
    from homeca.testing import wycheproof as wp

    # Signatures of another length than r||s never reach the C API.
    sigs = [v for v in wp.load("ecdsa_secp256r1_sha256_p1363") if len(v.hex("sig")) == 64]
    assert sum(p.startswith("x25519 ") for p in wycheproof) == 518
    assert sum(p.startswith("p256_verify ") for p in wycheproof) == len(sigs)
    assert sum(p.startswith("p256_ecdh ") for p in wycheproof) >= 300
