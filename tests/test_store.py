"""The crash-safe store: its API and checks on CPython, and power cuts on the
MicroPython unix port: hundreds of SIGKILLs in the middle of single writes and
multi-item transactions, each followed by a restart that must read the old or
the new consistent state, never a corrupt one."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest

from homeca import FIRMWARE_DIR
from homeca.sim.device import micropython_command
from nodefw.store import Store, StoreError


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(os, "sync", lambda: None)  # the host's sync is not under test
    return Store()


def test_put_get_delete(store: Store) -> None:
    assert store.get("key") is None
    assert store.get("key", b"dflt") == b"dflt"
    store.put("key", b"\x00secret\xff")
    assert store.get("key") == b"\x00secret\xff"
    store.put("key", b"")
    assert store.get("key") == b""
    store.put("cert", bytes(range(256)) * 16)
    assert store.names() == ["cert", "key"]
    store.delete("key")
    assert store.get("key") is None
    assert store.names() == ["cert"]


def test_bad_names_and_data_are_refused(store: Store) -> None:
    for name in ("", "Key", "a/b", "../x", "x.new", "journal.tmp", "x" * 33, 5):
        with pytest.raises(StoreError):
            store.put(name, b"x")  # type: ignore[arg-type]
    with pytest.raises(StoreError):
        store.put("big", bytes(4097))
    with pytest.raises(StoreError):
        store.put("text", "not bytes")  # type: ignore[arg-type]
    assert store.names() == []


@pytest.mark.parametrize(
    "damage",
    [
        lambda raw: raw[:-1],  # truncated
        lambda raw: raw[:5],  # torn header
        lambda raw: raw[:10] + bytes([raw[10] ^ 1]) + raw[11:],  # a flipped data bit
        lambda raw: b"HCs2" + raw[4:],  # another format
        lambda raw: raw + b"\x00",  # trailing byte
        lambda raw: b"",  # empty
    ],
)
def test_corrupt_items_are_never_used(store: Store, damage) -> None:
    store.put("key", b"0123456789abcdef")
    path = Path("store/key")
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(StoreError, match="corrupt"):
        store.get("key")


def test_transaction_replaces_and_deletes_together(store: Store) -> None:
    store.put("old", b"gone soon")
    store.transaction({"a": b"A1", "b": b"B1", "old": None})
    assert (store.get("a"), store.get("b"), store.get("old")) == (b"A1", b"B1", None)
    assert sorted(os.listdir("store")) == ["a", "b"]


def test_opening_finishes_a_committed_transaction(store: Store) -> None:
    store.transaction({"a": b"A1", "b": b"B1"})
    # As if power went after the commit and one rename: a.new applied, b.new not.
    Path("store/b.new").write_bytes(Path("store/b").read_bytes())
    Path("store/b").write_bytes(Path("store/a").read_bytes())
    Path("store/journal").write_bytes(_journal(b"+a\n+b"))
    reopened = Store()
    assert reopened.get("b") == b"B1"
    assert sorted(os.listdir("store")) == ["a", "b"]


def test_opening_drops_an_uncommitted_transaction(store: Store) -> None:
    store.put("a", b"A0")
    Path("store/a.new").write_bytes(b"half")
    Path("store/b.new").write_bytes(b"")
    Path("store/a.tmp").write_bytes(b"torn")
    reopened = Store()
    assert reopened.get("a") == b"A0"
    assert sorted(os.listdir("store")) == ["a"]


def test_wipe_overwrites_before_deleting(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    store.put("key", b"\x5a" * 64)
    seen = []
    real_remove = os.remove

    def remove(path: str) -> None:
        seen.append(Path(path).read_bytes())
        real_remove(path)

    monkeypatch.setattr(os, "remove", remove)
    store.wipe("key")
    assert store.get("key") is None
    assert seen == [bytes(76)]  # 12 bytes of framing + 64 of secret, all zero
    store.wipe("absent")  # nothing to wipe is not an error


def _journal(data: bytes) -> bytes:
    """A journal file as the store writes it."""
    import nodefw.store as st

    return st._encode(data)


# ---- power cuts on the unix port --------------------------------------------

WRITER = """
import os
from nodefw.store import Store
s = Store()
i = int(s.get("n", b"0"))
started = i + 1
while True:
    i += 1
    pad = bytes([i & 0xFF]) * (100 + 37 * (i % 23))
    # a multi-item transition: all three move together, c comes and goes
    items = {"a": b"%d|" % i + pad, "b": b"%d|" % i + pad[1:] + b"!", "n": b"%d" % i}
    items["c"] = None if i % 2 else b"%d" % i
    s.transaction(items)
    s.put("single", b"%d|" % i + pad)  # a plain atomic replace
    if i == started:
        print("committed")  # the test cuts power from here on
"""

CHECKER = """
from nodefw.store import Store, StoreError
try:
    s = Store()
    a, b, n, c, single = (s.get(k) for k in ("a", "b", "n", "c", "single"))
    print("OK", a and int(a.split(b"|")[0]), b and int(b.split(b"|")[0]),
          n and int(n), c and int(c), single and int(single.split(b"|")[0]),
          sorted(s.names()))
except StoreError as e:
    print("CORRUPT", e)
"""


def _micropython(code: str, cwd: Path, heap: str) -> subprocess.Popen[str]:
    env = dict(os.environ, MICROPYPATH=str(FIRMWARE_DIR))
    return subprocess.Popen(
        [micropython_command(), "-X", f"heapsize={heap}", "-c", code],
        cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )  # fmt: skip


def test_power_cuts_leave_old_or_new_state(tmp_path: Path) -> None:
    cuts = int(os.environ.get("STORE_POWER_CUTS", "200"))
    rng = random.Random(2026)
    last = last_single = 0
    moved = 0
    for cut in range(cuts):
        writer = _micropython(WRITER, tmp_path, "64k")  # the device's heap
        # One cut in ten lands anywhere, start-up included; the rest land after
        # this run's first commit, however slow the machine is to start it.
        if cut % 10 and writer.stdout is not None:
            writer.stdout.readline()
        time.sleep(rng.uniform(0.0, 0.1))
        os.killpg(writer.pid, signal.SIGKILL)
        writer.wait()
        checker = _micropython(CHECKER, tmp_path, "256k")  # test harness: room to print
        out, _ = checker.communicate(timeout=30)
        line = out.strip().splitlines()[-1] if out.strip() else ""
        files = {f.name: f.stat().st_size for f in (tmp_path / "store").iterdir()}
        assert line.startswith("OK "), f"cut {cut}: {out!r}, files {files}"
        _, a, b, n, c, single, _names = line.split(" ", 6)
        if a == "None":  # killed before the first transaction committed
            assert last == 0 and b == n == "None", line
            continue
        a_, b_, n_ = int(a), int(b), int(n)
        assert a_ == b_ == n_, f"cut {cut}: a transaction was torn: {line}"
        assert n_ >= last, f"cut {cut}: went back from {last}: {line}"
        assert (c == "None") == (n_ % 2 == 1), f"cut {cut}: c out of step: {line}"
        # The single put follows each transaction; a cut between them, then a
        # restart, can leave it behind by more than one, never ahead or back.
        if single != "None":
            assert last_single <= int(single) <= n_, f"cut {cut}: {line}"
            last_single = int(single)
        assert not [f for f in os.listdir(tmp_path / "store") if "." in f or f == "journal"]
        moved += n_ > last
        last = n_
    assert moved > cuts // 2, "too few cuts landed after a commit: the test is too quick"
