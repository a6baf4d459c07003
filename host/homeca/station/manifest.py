"""The public-key-delivery manifest (HomeCA paper, Manufacturing): the
station's current record of each device, signed with the manufacturer's key.
A HomeCA that imports it (and trusts that key) accepts those devices without
the owner's comparison of codes.

File: JSON {"manifest": {...}, "signature": base64 DER ECDSA-P256-SHA256}; the
signature covers the manifest object as canonical JSON (sorted keys, no
spaces), so verify() re-serialises it the same way."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from homeca.errors import HomecaError
from homeca.station.keys import public_pem, sign
from homeca.station.models import Record

FORMAT = "homeca-manifest/1"
_DEVICE_FIELDS = ("serial", "model", "public_key", "key_mode", "maker_knows", "fw_version",
                  "bundle_hash", "time")  # fmt: skip


class ManifestError(HomecaError):
    pass


def canonical(obj: object) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def build(records: list[Record], station: str, key: ec.EllipticCurvePrivateKey,
          chain_head: str) -> dict:  # fmt: skip
    manifest = {
        "format": FORMAT,
        "station": station,
        "manufacturer_key": public_pem(key.public_key()).decode(),
        "issued": datetime.now(UTC).isoformat(timespec="seconds"),
        "chain_head": chain_head,  # the station database's last hash when signed
        "devices": [{f: getattr(r, f) for f in _DEVICE_FIELDS} for r in records],
    }
    signature = base64.b64encode(sign(key, canonical(manifest))).decode()
    return {"manifest": manifest, "signature": signature}


def write(path: Path, signed: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(signed, indent=1, sort_keys=True) + "\n")
    tmp.replace(path)  # never a half-written manifest


def verify(signed: dict, trusted: ec.EllipticCurvePublicKey) -> dict:
    """The manifest, if `trusted` signed it; ManifestError otherwise."""
    try:
        manifest = signed["manifest"]
        sig = base64.b64decode(signed["signature"], validate=True)
    except (KeyError, TypeError, ValueError):
        raise ManifestError("not a signed manifest") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ManifestError(f"not a {FORMAT} manifest")
    try:
        trusted.verify(sig, canonical(manifest), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise ManifestError("manifest signature does not verify with the trusted key") from None
    return manifest
