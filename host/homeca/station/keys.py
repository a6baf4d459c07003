"""The manufacturer's signing key (P-256): made once by `homeca station init`,
kept encrypted at rest (PKCS #8 under the station passphrase), and used only
to sign manifests. It never leaves the station's key file unencrypted."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from homeca.errors import HomecaError
from homeca.station.settings import PASSPHRASE_ENV

PASSPHRASE_MIN = 12


class StationKeyError(HomecaError):
    """The key file is missing, or the passphrase does not open it."""


def passphrase_from(file: Path | None) -> bytes | None:
    """The passphrase from a file (which only its owner may read: mode 0600 or
    0400), else from $HOMECA_STATION_PASSPHRASE; None when neither is given."""
    if file is not None:
        try:
            mode = stat.S_IMODE(file.stat().st_mode)
        except OSError as e:
            raise HomecaError(f"passphrase file {file}: {e.strerror}") from e
        if mode & 0o077:
            raise HomecaError(
                f"passphrase file {file} is readable by others (mode {mode:o}); chmod 600 it"
            )
        text = file.read_text().rstrip("\r\n")
        return text.encode()
    env = os.environ.get(PASSPHRASE_ENV)
    return env.encode() if env else None


def create_key(path: Path, public_path: Path, passphrase: bytes) -> ec.EllipticCurvePublicKey:
    if len(passphrase) < PASSPHRASE_MIN:
        raise HomecaError(f"the passphrase needs at least {PASSPHRASE_MIN} characters")
    if path.exists():
        raise HomecaError(f"{path} exists: this station already has its key")
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    # Created 0600 and written in one go: no moment when others could read it.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    public_path.write_bytes(public_pem(key.public_key()))
    return key.public_key()


def load_key(path: Path, passphrase: bytes | None) -> ec.EllipticCurvePrivateKey:
    try:
        pem = path.read_bytes()
    except FileNotFoundError:
        raise StationKeyError(f"no station key at {path}: run `homeca station init`") from None
    if passphrase is None:
        raise StationKeyError(
            f"the station key is encrypted: give its passphrase (${PASSPHRASE_ENV} or a file)"
        )
    try:
        key = serialization.load_pem_private_key(pem, password=passphrase)
    except (ValueError, TypeError):
        raise StationKeyError(f"wrong passphrase for {path} (or the file is damaged)") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise StationKeyError(f"{path} holds no P-256 key")
    return key


def public_pem(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def sign(key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    """ECDSA P-256 with SHA-256, DER-encoded."""
    return key.sign(data, ec.ECDSA(hashes.SHA256()))
