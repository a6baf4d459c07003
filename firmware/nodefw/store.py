# Crash-safe storage for the device's persistent state: keys, certificates,
# pairing keys, settings. Power may go at any instant; a read must then give
# the old or the new value, checked, never a torn or corrupt one.
#
# One item is one file: MAGIC | length (4, big-endian) | data | CRC-32 of all
# before it. A single put writes NAME.tmp, flushes and renames it over NAME
# (rename is atomic on littlefs and POSIX). A wipe renames NAME to NAME.wipe
# (the item is gone at once), overwrites that with zeros and removes it. A
# transaction checks every name and size first, stages every item as
# NAME.new, then commits by renaming a journal into place, then applies the
# renames and removes the journal. Opening the store finishes a committed
# journal and a begun wipe, and drops anything staged but not committed.
#
# Internal files are "journal" and names with a dot; neither is a valid item
# name. Every write first finishes a journal left behind (by a cut, or by a
# rename or remove that failed) and is refused while it cannot: so no write
# ever lands between a commit and the journal's removal, and replaying a
# journal again is harmless (its NAME.new files are gone, its deletes already
# done). A write that fails (a full flash, say) raises StoreError, removes its
# own temporary files and leaves the store as it was; only a transaction that
# fails after its commit stands, finished by the next write or open (until
# then a read may see it half applied; the transaction has raised).
import os

from nodefw.wire import Crc32

try:
    from micropython import const
except ImportError:  # CPython

    def const(x):
        return x


_MAGIC = b"HCs1"  # format version 1
_JOURNAL = "journal"
_MAX_ITEM = const(4096)  # also the journal's limit
_NAME_MAX = const(32)
_MAX_OPS = const(32)  # items in one transaction: bounds its RAM and journal
_ENOSPC = const(28)


class StoreError(Exception):
    """A corrupt item, a bad name or size, a failed write."""


def _exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


def _remove(path):
    # Cleanup of files nothing depends on: an error is harmless.
    try:
        os.remove(path)
    except OSError:
        pass


def _unlink(path):
    # Remove path if it is there; OSError only if it is still there.
    try:
        os.remove(path)
    except OSError:
        if _exists(path):
            raise


def _sync():
    sync = getattr(os, "sync", None)
    if sync:
        sync()


def _failed(what, e):
    why = "flash full" if e.args and e.args[0] == _ENOSPC else str(e)
    return StoreError(what + " failed: " + why)


def _crc(head, data):
    # The wire codec's CRC-32 over an item's header and data, kept in two
    # 16-bit halves: no big integer on the chip.
    c = Crc32()
    c.update(head, 0, len(head))
    c.update(data, 0, len(data))
    return c


def _write(path, data):
    # Three writes, not one concatenation: no second copy of a 4 KiB item.
    head = _MAGIC + len(data).to_bytes(4, "big")
    with open(path, "wb") as f:
        f.write(head)
        f.write(data)
        tail = bytearray(4)
        _crc(head, data).put(tail, 0)
        f.write(tail)
        f.flush()
    _sync()


def _read(path, what):
    size = os.stat(path)[6]
    if not 12 <= size <= _MAX_ITEM + 12:
        raise StoreError(what + " is corrupt (size)")
    with open(path, "rb") as f:
        head = f.read(8)
        data = f.read(size - 12)  # exactly: a small heap has no room for slack
        tail = f.read(4)
    if head[:4] != _MAGIC:
        raise StoreError(what + " is corrupt (header)")
    if int.from_bytes(head[4:], "big") != len(data) or len(tail) != 4:
        raise StoreError(what + " is corrupt (length)")
    if not _crc(head, data).matches(tail, 0):
        raise StoreError(what + " is corrupt (checksum)")
    return data


def _zero(path):
    # Best effort, as on littlefs the old blocks stay until reused anyway (and
    # a full flash may refuse the copy-on-write): the removal is what counts.
    try:
        n = os.stat(path)[6]
        z = bytes(64)
        with open(path, "r+b") as f:
            while n > 64:
                f.write(z)
                n -= 64
            f.write(z[:n])
            f.flush()
        _sync()
    except OSError:
        pass


class Store:
    def __init__(self, root="store"):
        self.root = root
        if not _exists(root):
            os.mkdir(root)
        self._recover()

    def _path(self, name):
        if not isinstance(name, str) or not 0 < len(name) <= _NAME_MAX:
            raise StoreError("bad item name")
        for c in name.encode():  # bytes: a str's characters would each be interned
            if not (97 <= c <= 122 or 48 <= c <= 57 or c == 95 or c == 45):  # a-z 0-9 _ -
                raise StoreError("bad item name " + name)
        if name == _JOURNAL:  # the other internal names have a dot
            raise StoreError("reserved item name " + name)
        return self.root + "/" + name

    def get(self, name, default=None):
        """The item's bytes; default when it does not exist; StoreError if corrupt."""
        path = self._path(name)
        if not _exists(path):
            return default
        return _read(path, "item " + name)

    def put(self, name, data):
        path = self._path(name)
        self._check(data)
        self._finish()
        tmp = path + ".tmp"
        try:
            _write(tmp, data)
            os.rename(tmp, path)
        except OSError as e:
            _remove(tmp)
            raise _failed("put " + name, e) from None
        _sync()

    def delete(self, name):
        path = self._path(name)
        self._finish()
        try:
            _unlink(path)
        except OSError as e:
            raise _failed("delete " + name, e) from None
        _sync()

    def wipe(self, name):
        """Delete an item, overwriting its data with zeros first (best effort
        on littlefs, which erases the old blocks only when it reuses them)."""
        path = self._path(name)
        self._finish()
        wiped = path + ".wipe"
        try:
            os.rename(path, wiped)  # out of names() in one step
        except OSError as e:
            if not _exists(path):
                return  # nothing to wipe
            raise _failed("wipe " + name, e) from None
        _sync()
        _zero(wiped)
        try:
            _unlink(wiped)
        except OSError as e:
            # The item is gone all the same; the next open removes the file.
            raise _failed("wipe " + name, e) from None
        _sync()

    def names(self):
        return sorted(n for n in os.listdir(self.root) if "." not in n and n != _JOURNAL)

    def transaction(self, items):
        """Replace (bytes) or delete (None) several items as one: after a power
        cut the store holds all of the old values or all of the new ones."""
        if len(items) > _MAX_OPS:
            raise StoreError("transaction of more than " + str(_MAX_OPS) + " items")
        ops = []
        for name in items:  # everything checked before anything is written
            self._path(name)
            if items[name] is None:
                ops.append("-" + name)
            else:
                self._check(items[name])
                ops.append("+" + name)
        journal = "\n".join(ops).encode()
        if len(journal) > _MAX_ITEM:  # it could not be read back to recover
            raise StoreError("transaction journal too large")
        if not ops:
            return
        self._finish()
        jpath = self.root + "/" + _JOURNAL
        staged = []
        try:
            for op in ops:
                if op[0] == "+":
                    staged.append(self.root + "/" + op[1:] + ".new")
                    _write(staged[-1], items[op[1:]])
            staged.append(jpath + ".tmp")
            _write(staged[-1], journal)
            os.rename(staged[-1], jpath)
        except OSError as e:
            for path in staged:
                _remove(path)
            raise _failed("transaction", e) from None
        _sync()  # committed
        self._apply(ops)

    def _check(self, data):
        if not isinstance(data, (bytes, bytearray)):
            raise StoreError("item data must be bytes")
        if len(data) > _MAX_ITEM:
            raise StoreError("item larger than " + str(_MAX_ITEM) + " bytes")

    def _apply(self, ops):
        try:
            for op in ops:
                path = self.root + "/" + op[1:]
                if op[0] == "+":
                    if _exists(path + ".new"):
                        os.rename(path + ".new", path)
                else:
                    _unlink(path)
            _sync()
            _unlink(self.root + "/" + _JOURNAL)
        except OSError as e:
            # Committed: the next write or open finishes it, and writes are
            # refused until then (see the top of this file).
            raise _failed("transaction committed, its apply", e) from None
        _sync()

    def _finish(self):
        # Apply and remove a committed journal, if one is left.
        journal = self.root + "/" + _JOURNAL
        if not _exists(journal):
            return
        try:
            ops = _read(journal, "journal").decode().split("\n")
        except StoreError:
            # Renamed into place only when complete: a bad journal is damaged
            # flash. Keep the old items rather than guess.
            print("store: journal corrupt, transaction dropped")
            ops = []
        self._apply([op for op in ops if op])

    def _recover(self):
        # Finish a committed transaction and a begun wipe, drop the rest.
        done = True
        try:
            self._finish()
        except StoreError as e:
            print("store:", e)  # writes are refused until it is finished
            done = False  # its NAME.new files are still needed
        for n in os.listdir(self.root):
            path = self.root + "/" + n
            if n.endswith(".wipe"):
                _zero(path)
                _remove(path)
            elif n.endswith(".tmp") or (done and n.endswith(".new")):
                _remove(path)
