"""A station record: one device provisioned, as the append-only database and
the manifest hold it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

GENESIS = "0" * 64  # the `prev` of the first record


@dataclass(frozen=True)
class Record:
    serial: str  # the chip MAC, 12 upper-case hex digits
    model: str
    public_key: str  # uncompressed P-256, hex
    key_mode: str  # local, feed or seed
    maker_knows: bool  # feed: the station generated the private key
    rng_mixed: bool  # seed: the device mixed in its own healthy RNG output
    resets: int  # factory resets the device had made before this identity
    fw_version: str
    bundle_hash: str  # hex SHA-256 of the firmware bundle; "" when unknown
    operator: str
    station: str
    time: str  # UTC, ISO 8601
    note: str = ""  # e.g. "recorded on resume": the device had the key already

    def canonical(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":")).encode()

    def chain_hash(self, prev: str) -> str:
        """This record's link in the chain: it covers the one before."""
        return hashlib.sha256(prev.encode() + b"\n" + self.canonical()).hexdigest()

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the public key, hex: what the label and a HomeCA show."""
        return fingerprint(bytes.fromhex(self.public_key))


def fingerprint(public_key: bytes) -> str:
    return hashlib.sha256(public_key).hexdigest()
