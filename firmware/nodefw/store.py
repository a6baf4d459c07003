# Crash-safe storage for the device's persistent state: keys, certificates,
# pairing keys, settings. Power may go at any instant; a read must then give
# the old or the new value, checked, never a torn or corrupt one.
#
# One item is one file: MAGIC | length (4, big-endian) | data | CRC-32 of all
# before it. A single put writes NAME.tmp, flushes and renames it over NAME
# (rename is atomic on littlefs and POSIX). A transaction stages every item as
# NAME.new, then commits by renaming a journal into place, then applies the
# renames; opening the store finishes a committed journal and drops anything
# staged but not committed.
import os

from nodefw.wire import crc32

_MAGIC = b"HCs1"  # format version 1
_JOURNAL = "journal"
_MAX_ITEM = 4096
_NAME_MAX = 32


class StoreError(Exception):
    """A corrupt item, a bad name or size: the store never hands out bad data."""


def _exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


def _remove(path):
    try:
        os.remove(path)
    except OSError:
        pass


def _sync():
    sync = getattr(os, "sync", None)
    if sync:
        sync()


def _encode(data):
    head = _MAGIC + len(data).to_bytes(4, "big")
    crc = crc32(data, crc32(head))
    return head + data + crc.to_bytes(4, "big")


def _decode(raw, what):
    if len(raw) < 12 or raw[:4] != _MAGIC:
        raise StoreError(what + " is corrupt (header)")
    n = int.from_bytes(raw[4:8], "big")
    if n != len(raw) - 12:
        raise StoreError(what + " is corrupt (length)")
    crc = int.from_bytes(raw[8 + n :], "big")
    if crc32(raw[8 : 8 + n], crc32(raw[:8])) != crc:
        raise StoreError(what + " is corrupt (checksum)")
    return raw[8 : 8 + n]


def _write(path, data):
    with open(path, "wb") as f:
        f.write(_encode(data))
        f.flush()
    _sync()


def _read(path, what):
    size = os.stat(path)[6]
    if size > _MAX_ITEM + 12:
        raise StoreError(what + " is corrupt (size)")
    with open(path, "rb") as f:
        raw = f.read(size)  # exactly: a small heap has no room for slack
    return _decode(raw, what)


class Store:
    def __init__(self, root="store"):
        self.root = root
        if not _exists(root):
            os.mkdir(root)
        self._recover()

    def _path(self, name):
        if not isinstance(name, str) or not 0 < len(name) <= _NAME_MAX:
            raise StoreError("bad item name")
        for c in name:
            if not ("a" <= c <= "z" or "0" <= c <= "9" or c in "_-"):
                raise StoreError("bad item name " + name)
        return self.root + "/" + name

    def get(self, name, default=None):
        """The item's bytes; default when it does not exist; StoreError if corrupt."""
        path = self._path(name)
        if not _exists(path):
            return default
        return _read(path, "item " + name)

    def put(self, name, data):
        path = self._path(name)
        data = self._check(data)
        _write(path + ".tmp", data)
        os.rename(path + ".tmp", path)
        _sync()

    def delete(self, name):
        _remove(self._path(name))
        _sync()

    def wipe(self, name):
        """Overwrite a secret with zeros before deleting it. (On littlefs the old
        blocks are only erased when reused: the overwrite is best effort there.)"""
        path = self._path(name)
        try:
            size = os.stat(path)[6]
        except OSError:
            return
        with open(path, "r+b") as f:
            f.write(bytes(size))
            f.flush()
        _sync()
        os.remove(path)
        _sync()

    def names(self):
        return sorted(n for n in os.listdir(self.root) if "." not in n and n != _JOURNAL)

    def transaction(self, items):
        """Replace (bytes) or delete (None) several items as one: after a power
        cut the store holds all of the old values or all of the new ones."""
        ops = []
        for name in items:
            path = self._path(name)
            data = items[name]
            if data is None:
                ops.append("-" + name)
            else:
                _write(path + ".new", self._check(data))
                ops.append("+" + name)
        _write(self.root + "/" + _JOURNAL + ".tmp", "\n".join(ops).encode())
        os.rename(self.root + "/" + _JOURNAL + ".tmp", self.root + "/" + _JOURNAL)
        _sync()  # committed
        self._apply(ops)

    def _check(self, data):
        if not isinstance(data, (bytes, bytearray)):
            raise StoreError("item data must be bytes")
        if len(data) > _MAX_ITEM:
            raise StoreError("item larger than " + str(_MAX_ITEM) + " bytes")
        return bytes(data)

    def _apply(self, ops):
        for op in ops:
            path = self.root + "/" + op[1:]
            if op[0] == "+":
                if _exists(path + ".new"):
                    os.rename(path + ".new", path)
            else:
                _remove(path)
        _sync()
        _remove(self.root + "/" + _JOURNAL)
        _sync()

    def _recover(self):
        """Finish a committed transaction, drop everything half-written."""
        journal = self.root + "/" + _JOURNAL
        if _exists(journal):
            try:
                ops = _read(journal, "journal").decode().split("\n")
            except StoreError:
                # Renamed into place only when complete: a bad journal is damaged
                # flash. Keep the old items rather than guess.
                print("store: journal corrupt, transaction dropped")
                ops = []
                _remove(journal)
            if ops:
                self._apply([op for op in ops if op])
        for n in os.listdir(self.root):
            if n.endswith(".new") or n.endswith(".tmp"):
                _remove(self.root + "/" + n)
