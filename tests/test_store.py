"""The crash-safe store: its API and checks on CPython, and power cuts on the
MicroPython unix port: hundreds of SIGKILLs in the middle of single writes and
multi-item transactions, each followed by a restart that must read the old or
the new consistent state, never a corrupt one."""

from __future__ import annotations

import errno
import itertools
import os
import random
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import pytest

import nodefw.store as st
from homeca import FIRMWARE_DIR
from homeca.interpreters import INTERPRETERS
from homeca.sim.rom import compiled_lib
from homeca.testing.micropython import run_micropython
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
    """A journal file as the store writes it: framed like an item."""
    Store("framing").put("x", data)
    return Path("framing/x").read_bytes()


# ---- faults injected on CPython -----------------------------------------------


class Cut(BaseException):
    """The power went (not an Exception: the store must not catch it)."""


class _File:
    """A file the store opened for writing, for a fault in its write()."""

    def __init__(self, f: BinaryIO) -> None:
        self.f = f

    def __getattr__(self, name: str) -> object:
        return getattr(self.f, name)

    def __enter__(self) -> _File:
        return self

    def __exit__(self, *exc: object) -> None:
        self.f.close()


@contextmanager
def _power_goes_after(changes: int) -> Iterator[None]:
    """Power goes after `changes` changes to the flash by the store: opening a
    file for writing, a write (the one it lands in is torn: half its bytes
    reach the flash), a rename, a remove."""
    left = [changes]
    real_open, real_rename, real_remove = open, os.rename, os.remove

    def change() -> None:
        if left[0] == 0:
            raise Cut
        left[0] -= 1

    class File(_File):
        def write(self, data: bytes) -> int:
            if left[0] == 0:
                self.f.write(bytes(data[: len(data) // 2]))
            change()
            return self.f.write(data)

    def open_(path: str, mode: str = "r") -> object:
        if "b" not in mode or mode == "rb":
            return real_open(path, mode)
        f = File(real_open(path, mode))
        try:
            change()  # the file is already created or truncated
        except Cut:
            f.f.close()
            raise
        return f

    def rename(src: str, dst: str) -> None:
        change()
        real_rename(src, dst)

    def remove(path: str) -> None:
        change()
        real_remove(path)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(st, "open", open_, raising=False)
        mp.setattr(os, "rename", rename)
        mp.setattr(os, "remove", remove)
        yield


def _reopen_checked() -> Store:
    """Open the store as at boot: a wipe left behind is zeroed before it goes,
    and nothing internal is left."""
    real_remove = os.remove
    wiped = []

    def remove(path: str) -> None:
        if path.endswith(".wipe"):
            wiped.append(Path(path).read_bytes())
        real_remove(path)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(os, "remove", remove)
        reopened = Store()
    assert all(not any(raw) for raw in wiped), wiped
    assert not [n for n in os.listdir("store") if "." in n or n == "journal"]
    return reopened


_OLD = {"key": b"\x5a" * 300, "other": b"unrelated"}
_BIG = {f"k{i:031}": bytes([i]) * 40 for i in range(32)}  # the largest allowed


@pytest.mark.parametrize(
    "operation, new, steps_after_commit",
    [
        (lambda s: s.put("key", b"\xa5" * 200), {"key": b"\xa5" * 200}, False),
        (lambda s: s.delete("key"), {"key": None}, False),
        (lambda s: s.wipe("key"), {"key": None}, True),
        (lambda s: s.transaction({"key": b"K1", "other": None, "x": b"X1"}),
         {"key": b"K1", "other": None, "x": b"X1"}, True),
        (lambda s: s.transaction(_BIG), _BIG, True),
    ],
    ids=["put", "delete", "wipe", "transaction", "largest-transaction"],
)  # fmt: skip
def test_a_cut_anywhere_leaves_old_or_new(
    store: Store, operation, new, steps_after_commit: bool
) -> None:
    """A wipe cut after its overwrite left a zeroed, corrupt item in names()
    that failed every boot; the store now gives the old value or the new one
    after a cut at every step of every write."""
    names = sorted(set(_OLD) | set(new))
    old = {n: _OLD.get(n) for n in names}
    new = {n: new.get(n, _OLD.get(n)) for n in names}
    seen = set()
    for changes in itertools.count():
        for n in store.names():
            store.delete(n)
        for n, data in _OLD.items():
            store.put(n, data)
        with _power_goes_after(changes):
            try:
                operation(store)
            except Cut:
                pass
            else:
                break
        store = _reopen_checked()
        state = {n: store.get(n) for n in names}  # never a StoreError
        assert state in (old, new), f"cut after {changes} changes: {state}"
        assert store.names() == sorted(n for n in names if state[n] is not None)
        seen.add(state == new)
    assert seen == {False, steps_after_commit}  # cuts on both sides of a commit
    assert {n: store.get(n) for n in names} == new


def test_internal_names_are_not_item_names(store: Store) -> None:
    """An item "journal" was replayed as a transaction journal at the next
    open: here it would have deleted "a"."""
    store.put("a", b"A0")
    for name in ("journal", "journal.tmp", "a.new", "a.tmp", "a.wipe"):
        for call in (
            lambda n: store.put(n, b"-a"),
            store.get,
            store.delete,
            store.wipe,
            lambda n: store.transaction({n: b"-a"}),
        ):
            with pytest.raises(StoreError, match="name"):
                call(name)
    assert Store().get("a") == b"A0"
    assert os.listdir("store") == ["a"]


def test_a_transaction_that_could_not_be_recovered_is_refused(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A journal over the 4 KiB item limit was committed, but after a cut in
    the apply it could not be read back: the store was left torn. Every limit
    is now checked before anything is written."""
    store.put("keep", b"K0")
    too_big_journal = {f"n{i:031}": b"x" for i in range(130)}  # 130 * 34 bytes
    with pytest.raises(StoreError, match="more than 32 items"):
        store.transaction(too_big_journal)
    with monkeypatch.context() as mp:  # the journal's own limit, should the count grow
        mp.setattr(st, "_MAX_OPS", 1000, raising=False)
        with pytest.raises(StoreError, match="journal too large"):
            store.transaction(too_big_journal)
    assert os.listdir("store") == ["keep"]
    for items in (
        {f"k{i}": b"x" for i in range(33)},
        {"a": b"A1", "big": bytes(4097)},  # the last item too large
        {"a": b"A1", "text": "not bytes"},
        {"a": b"A1", "Bad": b"x"},
        {"a": b"A1", "journal": b"x"},
    ):
        with pytest.raises(StoreError):
            store.transaction(items)  # type: ignore[arg-type]
        assert os.listdir("store") == ["keep"]  # nothing staged was left
    store.transaction({})  # nothing to do
    assert os.listdir("store") == ["keep"]
    assert Store().names() == ["keep"]


def test_a_journal_left_behind_never_undoes_later_writes(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The journal's removal after the apply failed silently; the next boot
    replayed it and deleted "c" again, written since. Now the failure raises,
    and writes are refused until the journal is gone (each write first
    finishes it), so a replay finds nothing to undo."""
    store.put("c", b"C0")
    real_remove = os.remove
    stuck = True

    def remove(path: str) -> None:
        if stuck and path.endswith("/journal"):
            raise OSError(errno.EIO, "Input/output error")
        real_remove(path)

    monkeypatch.setattr(os, "remove", remove)
    with pytest.raises(StoreError, match="committed"):
        store.transaction({"a": b"A1", "c": None})
    assert (store.get("a"), store.get("c")) == (b"A1", None)  # applied
    for write in (
        lambda: store.put("c", b"C1"),
        lambda: store.delete("a"),
        lambda: store.wipe("a"),
        lambda: store.transaction({"c": b"C1"}),
    ):
        with pytest.raises(StoreError):
            write()
    reopened = Store()  # replays the journal again (harmless), still cannot remove it
    assert (reopened.get("a"), reopened.get("c")) == (b"A1", None)
    with pytest.raises(StoreError):
        reopened.put("c", b"C1")
    assert "c.tmp" not in os.listdir("store")
    stuck = False
    store.put("c", b"C1")  # removes the journal first
    assert sorted(os.listdir("store")) == ["a", "c"]
    assert Store().get("c") == b"C1"


def test_a_failed_apply_is_finished_by_the_next_write(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.put("a", b"A0")
    store.put("b", b"B0")
    real_rename = os.rename
    fail = True

    def rename(src: str, dst: str) -> None:
        if fail and src.endswith("/b.new"):
            raise OSError(errno.EIO, "Input/output error")
        real_rename(src, dst)

    monkeypatch.setattr(os, "rename", rename)
    with pytest.raises(StoreError, match="committed"):
        store.transaction({"a": b"A1", "b": b"B1"})
    with pytest.raises(StoreError):
        store.put("x", b"X")  # still failing: refused, nothing written
    assert "x" not in store.names()
    assert Store().get("b") == b"B0"  # still pending: its b.new is kept
    fail = False
    store.put("x", b"X")
    assert (store.get("a"), store.get("b"), store.get("x")) == (b"A1", b"B1", b"X")
    assert sorted(os.listdir("store")) == ["a", "b", "x"]


@contextmanager
def _flash_of(size: int) -> Iterator[None]:
    """The store's files may take `size` bytes in all; a write beyond that
    writes what fits, then fails as a full filesystem does."""
    real_open = open

    class File(_File):
        def write(self, data: bytes) -> int:
            self.f.flush()
            room = size - sum(p.stat().st_size for p in Path("store").iterdir())
            if len(data) > room:
                self.f.write(bytes(data[: max(room, 0)]))
                raise OSError(errno.ENOSPC, "No space left on device")
            return self.f.write(data)

    def open_(path: str, mode: str = "r") -> object:
        f = real_open(path, mode)
        return f if mode == "rb" else File(f)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(st, "open", open_, raising=False)
        yield


def test_a_full_flash_is_a_store_error_and_leaves_nothing_behind(store: Store) -> None:
    """ENOSPC came out as OSError, and the .tmp or .new files of the failed
    write took space until the next boot."""
    store.put("a", b"A0")
    store.put("b", b"B0")
    before = sorted(os.listdir("store"))
    with _flash_of(3000):
        for write in (
            lambda: store.put("a", bytes(2990)),
            lambda: store.put("c", bytes(4000)),
            lambda: store.transaction({"a": bytes(1400), "b": bytes(1400), "c": bytes(200)}),
            lambda: store.transaction({"a": bytes(1400), "c": bytes(1540)}),  # the journal
        ):
            with pytest.raises(StoreError, match="flash full"):
                write()
            assert sorted(os.listdir("store")) == before  # no .tmp, .new, journal
            assert (store.get("a"), store.get("b")) == (b"A0", b"B0")
        store.put("a", bytes(2000))  # what fits still fits
        store.transaction({"a": None, "b": bytes(900)})
    assert (store.get("a"), store.get("b")) == (None, bytes(900))


LITTLEFS_FULL = """
import os, vfs
from nodefw.store import Store, StoreError


class RAMDisk:  # the chip's flash is littlefs too: 40 blocks of 512 bytes here
    def __init__(self, blocks):
        self.data = bytearray(512 * blocks)

    def readblocks(self, n, buf, off=0):
        buf[:] = self.data[n * 512 + off : n * 512 + off + len(buf)]

    def writeblocks(self, n, buf, off=0):
        self.data[n * 512 + off : n * 512 + off + len(buf)] = buf

    def ioctl(self, op, arg):
        return {4: len(self.data) // 512, 5: 512, 6: 0}.get(op)


disk = RAMDisk(40)
vfs.VfsLfs2.mkfs(disk)
vfs.mount(vfs.VfsLfs2(disk), "/flash")
os.chdir("/flash")
s = Store()


def left():
    return sorted(n for n in os.listdir("store") if "." in n or n == "journal")


for i in range(40):
    try:
        s.put("k%d" % i, bytes([i]) * 900)
    except StoreError as e:
        print(i, e, left())
        break
full = i
for items in ({"k0": b"x" * 900, "t": b"y" * 900}, {"t1": b"x" * 4000}):
    try:
        s.transaction(items)
    except StoreError as e:
        print(e, left())
s.wipe("k1")
s.delete("k2")
s.put("k%d" % full, b"fits now")
s = Store()
print([(n, s.get(n)[:1]) for n in s.names()])
"""


def test_a_full_littlefs(tmp_path: Path) -> None:
    """The same on littlefs, whose ENOSPC is real: a store filled up refuses
    the writes that do not fit, keeps its items and leaves no file behind."""
    out = run_micropython("-c", LITTLEFS_FULL, path=[FIRMWARE_DIR], heapsize="256k")
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    full, error = lines[0].split(" ", 1)
    assert error == f"put k{full} failed: flash full []", lines
    full = int(full)
    assert lines[1:3] == ["transaction failed: flash full []"] * 2, lines
    kept = {"k0": b"\x00", f"k{full}": b"f"} | {f"k{i}": bytes([i]) for i in range(3, full)}
    assert lines[3:] == [repr(sorted(kept.items()))], lines


# ---- power cuts on the unix port --------------------------------------------

# The store on littlefs, as on the chip: a flash of 256 blocks of 512 bytes
# kept in a host file, each block write one write(2), so a kill keeps every
# finished write and none after it.
LITTLEFS = """
import os, vfs


class FileFlash:
    def __init__(self, path):
        self.f = open(path, "r+b")

    def readblocks(self, n, buf, off=0):
        self.f.seek(n * 512 + off)
        self.f.readinto(buf)

    def writeblocks(self, n, buf, off=0):
        self.f.seek(n * 512 + off)
        self.f.write(buf)

    def ioctl(self, op, arg):
        return {4: 256, 5: 512, 6: 0}.get(op)


flash = FileFlash("flash.img")
try:
    fs = vfs.VfsLfs2(flash)
except OSError:  # new, or killed while formatting
    vfs.VfsLfs2.mkfs(flash)
    fs = vfs.VfsLfs2(flash)
vfs.mount(fs, "/flash")
os.chdir("/flash")
"""

WRITER = """
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
    s.put("secret", b"%d|" % i + pad)
    s.wipe("secret")  # there, or gone: never corrupt
    if i == started:
        print("committed")  # the test cuts power from here on
"""

CHECKER = """
import os
from nodefw.store import Store, StoreError
try:
    s = Store()
    got = [s.get(k) for k in ("a", "b", "n", "c", "single", "secret")]
    left = [f for f in os.listdir("store") if "." in f or f == "journal"]
    print("OK", *[v and int(v.split(b"|")[0]) for v in got], len(left), sorted(s.names()))
except StoreError as e:
    print("CORRUPT", e)
"""


UNIX = INTERPRETERS["unix"]


@pytest.fixture(scope="module")
def lib(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The compiled modules, as a board imports them: compiling source would
    need more heap than the device has."""
    return compiled_lib(UNIX, tmp_path_factory.mktemp("lib"))


def _writer(code: str, cwd: Path, lib: Path) -> subprocess.Popen[str]:
    """The writer at the device's heap, in a session of its own to be killed."""
    return subprocess.Popen(
        [UNIX.command(), "-X", f"heapsize={UNIX.heapsize}", "-c", code],
        cwd=cwd, env=dict(os.environ, MICROPYPATH=str(lib)), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip


@pytest.mark.parametrize("fs", ["posix", "littlefs"])
def test_power_cuts_leave_old_or_new_state(tmp_path: Path, fs: str, lib: Path) -> None:
    cuts = int(os.environ.get("STORE_POWER_CUTS", "200"))
    prologue = ""
    if fs == "littlefs":
        (tmp_path / "flash.img").write_bytes(b"\xff" * 256 * 512)
        prologue = LITTLEFS
    rng = random.Random(2026)
    last = last_single = 0
    moved = 0
    for cut in range(cuts):
        writer = _writer(prologue + WRITER, tmp_path, lib)
        # One cut in ten lands anywhere, start-up included; the rest land after
        # this run's first commit, however slow the machine is to start it.
        if cut % 10 and writer.stdout is not None:
            writer.stdout.readline()
        time.sleep(rng.uniform(0.0, 0.1))
        os.killpg(writer.pid, signal.SIGKILL)
        writer.wait()
        checker = run_micropython(
            "-c", prologue + CHECKER, path=[lib], heapsize="256k", cwd=tmp_path, timeout=30
        )  # room to print
        out = checker.stdout + checker.stderr
        line = out.strip().splitlines()[-1] if out.strip() else ""
        assert line.startswith("OK "), f"cut {cut}: {out!r}"
        _, a, b, n, c, single, secret, left, _names = line.split(" ", 8)
        assert left == "0", f"cut {cut}: internal files left after opening: {line}"
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
        # Written after this transaction and wiped before the next one.
        assert secret in ("None", n), f"cut {cut}: {line}"
        moved += n_ > last
        last = n_
    assert moved > cuts // 2, "too few cuts landed after a commit: the test is too quick"
