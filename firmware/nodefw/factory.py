# The burn-in station's side of the device (docs/factory.md): make the factory
# key in one of three modes, keep it, prove it. The station calls it over the
# console's raw REPL, which has stopped the main loop, so the bench owns the
# device meanwhile:
#
#   from nodefw import factory; factory.provision("<hex FACTORY_REQ body>")
#   from nodefw import factory; factory.identity("<hex IDENTITY_REQ body>")
#
# Each prints one line, "FACTORY <hex>", of an IDENTITY or an ERROR body
# (nodefw.identity, nodefw.messages). The private key is never printed,
# logged or returned; only its public key and a signature leave the device.
from binascii import hexlify, unhexlify

import board
from nodefw import VERSION, ecc, kdf, wire
from nodefw import identity as ident
from nodefw import messages as m
from nodefw.store import Store, StoreError

_KEY_INFO = b"HomeCA factory key"
_TRIES = 8  # a 32-byte string is no P-256 key with probability 2^-32


class Refused(Exception):
    def __init__(self, code, detail):
        super().__init__(detail)
        self.code = code
        self.detail = detail


def provision(request_hex):
    _answer(request_hex, ident.FACTORY_REQ, _provision)


def identity(request_hex):
    _answer(request_hex, ident.IDENTITY_REQ, _identity)


def _answer(request_hex, mtype, act):
    out = bytearray(256)
    rid = 0
    try:
        body = unhexlify(request_hex)
        wire.check_header(body, 0, len(body))
        rid = (body[2] << 8) | body[3]
        if body[1] != mtype:
            raise Refused(m.E_BAD_REQUEST, "wrong message type")
        n = act(wire.decode(body, ident.SCHEMAS[mtype]), rid, out)
    except Refused as e:
        n = _error(out, rid, e.code, e.detail)
    except (ValueError, wire.WireError) as e:  # also a bad hex string
        n = _error(out, rid, m.E_BAD_REQUEST, str(e))
    except StoreError as e:
        n = _error(out, rid, m.E_INTERNAL, "store: " + str(e))
    print("FACTORY", hexlify(memoryview(out)[:n]).decode())


def _error(out, rid, code, detail):
    return wire.encode_into(out, 0, m.ERROR, rid, m.SCHEMAS[m.ERROR], (code, detail[:64]))


def _provision(f, rid, out):
    store = Store()
    old = store.get(ident.ITEM_ID)
    resets = 0
    flags = 0
    if old is not None:
        mode, _, resets, _ = ident.unpack(old)
        if not f["reset"]:
            why = "already provisioned (%s key): a factory reset replaces it"
            raise Refused(m.E_WRONG_STATE, why % ident.KEY_MODES[mode])
        resets += 1
        flags = ident.WAS_RESET
    mode = f["mode"]
    secret = f["secret"]
    if mode == ident.KEY_LOCAL:
        if secret:
            raise Refused(m.E_BAD_REQUEST, "local mode takes no secret")
        key, pub = _local_key()
    elif mode == ident.KEY_FEED:
        if len(secret) != 32:
            raise Refused(m.E_BAD_REQUEST, "feed mode takes a 32-byte private key")
        key = bytes(secret)
        pub = _public(key)
        if pub is None:
            raise Refused(m.E_BAD_REQUEST, "private key out of range")
        flags |= ident.MAKER_KNOWS
    elif mode == ident.KEY_SEED:
        if not ident.SEED_MIN <= len(secret) <= ident.SEED_MAX:
            raise Refused(m.E_BAD_REQUEST, "seed mode takes 32-64 bytes of seed")
        own = _own_random()
        if own:
            flags |= ident.RNG_MIXED
        key, pub = _seed_key(secret, own)
    else:
        raise Refused(m.E_BAD_REQUEST, "unknown key mode")
    # One transaction: after a power cut the device has the old identity or
    # the new one, never a key without its record.
    store.transaction(
        {
            ident.ITEM_KEY: key,
            ident.ITEM_ID: ident.pack(mode, flags, resets, pub),
            ident.ITEM_LIFECYCLE: bytes((m.ST_RELEASED,)),  # released by its maker
        }
    )
    if old is None:
        print("factory: identity made,", ident.KEY_MODES[mode], "key")
    else:
        print("factory: reset, new", ident.KEY_MODES[mode], "key; resets", resets)
    return _reply(out, rid, f["challenge"], mode, flags, resets, pub, key)


def _identity(f, rid, out):
    store = Store()
    rec = store.get(ident.ITEM_ID)
    if rec is None:
        return _reply(out, rid, None, ident.KEY_NONE, 0, 0, b"", None)
    mode, flags, resets, pub = ident.unpack(rec)
    key = store.get(ident.ITEM_KEY)
    if key is None or ecc.p256_public(key) != pub:
        raise Refused(m.E_INTERNAL, "identity key does not match its record")
    return _reply(out, rid, f["challenge"], mode, flags, resets, pub, key)


def _reply(out, rid, challenge, mode, flags, resets, pub, key):
    mac = board.mac()
    sig = b"" if key is None else ecc.p256_sign(key, ident.pop_digest(mac, pub, challenge))
    values = (
        mac, board.MODEL.encode(), VERSION.encode(), _bundle(),
        mode, flags, resets, pub, sig,
    )  # fmt: skip
    return wire.encode_into(out, 0, ident.IDENTITY, rid, ident.SCHEMAS[ident.IDENTITY], values)


def _bundle():
    # Written into the bundle by its builder (homeca.bundle); absent when the
    # firmware runs from a source tree.
    try:
        from nodefw import bundle_id
    except ImportError:
        return b""
    return bundle_id.ID.encode()


def _rng():
    from nodefw import rng

    return rng


def _local_key():
    rng = _rng()
    try:
        source = rng.shared(board.entropy)
        for _ in range(_TRIES):
            key = source.read(32)
            pub = _public(key)
            if pub is not None:
                return key, pub
    except rng.RngFailure as e:
        raise Refused(m.E_UNAVAILABLE, "rng: " + str(e)) from None
    raise Refused(m.E_UNAVAILABLE, "rng: no valid key in " + str(_TRIES) + " draws")


def _own_random():
    # Mixed into a seeded key when the device's source is healthy; a failed
    # source is left out (and the record says so), never half used.
    rng = _rng()
    try:
        return rng.shared(board.entropy).read(32)
    except rng.RngFailure as e:
        print("factory: rng left out of the seeded key:", e)
        return b""


def _seed_key(seed, own):
    info = _KEY_INFO + board.mac()
    for i in range(_TRIES):
        key = kdf.hkdf(bytes(seed), own, info + bytes((i,)), 32)
        pub = _public(key)
        if pub is not None:
            return key, pub
    raise Refused(m.E_INTERNAL, "seed gave no valid key")


def _public(key):
    # The public key of a valid private key (0 < key < n), else None.
    try:
        return ecc.p256_public(key)
    except ValueError:
        return None
