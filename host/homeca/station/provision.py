"""Provisioning one board at the bench (docs/factory.md): over its console's
raw REPL, ask who it is, make its factory key in the chosen mode (unless it
has one the station already recorded), check the proof of possession, append
the record, write the label, and soft-reset the board so it boots released.

Idempotent and resumable per serial: a board whose key is recorded is left
alone; a board that has a key the station never recorded (the station died
after the board made it) is recorded then; a known serial with another key
is refused unless a factory reset is asked for. The private key of a local or
seed key never leaves the board; a fed key exists on the station only in
memory, for the one request that writes it."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, utils
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from homeca.console import Console, ConsoleError
from homeca.errors import HomecaError
from homeca.station.labels import write_label
from homeca.station.models import Record, fingerprint
from homeca.station.ports import Log, each_port, now
from homeca.station.storage import StationDb
from nodefw import identity as ident
from nodefw import messages as m
from nodefw import wire, wirebytes

MODES = {"local": ident.KEY_LOCAL, "feed": ident.KEY_FEED, "seed": ident.KEY_SEED}
SEED_BYTES = 48
EXEC_TIMEOUT = 30.0  # a P-256 key and signature: well under a second on the chip


class ProvisionError(HomecaError):
    pass


@dataclass(frozen=True)
class Outcome:
    port: str
    serial: str
    action: str  # "provisioned", "recorded", "already provisioned"
    record: Record


@dataclass(frozen=True)
class Job:
    mode: str
    model: str
    operator: str
    station: str
    labels: Path
    factory_reset: bool = False


def call(con: Console, function: str, mtype: int, values: dict) -> dict:
    """Run nodefw.factory.<function> on the board with one request; the
    IDENTITY fields it answers with, or ProvisionError with the board's error."""
    body = wirebytes.encode(mtype, 1, ident.SCHEMAS[mtype], values)
    code = f"from nodefw import factory\nfactory.{function}({body.hex()!r})"
    out = con.exec(code, timeout=EXEC_TIMEOUT)
    lines = [ln for ln in out.splitlines() if ln.startswith("FACTORY ")]
    if not lines:
        raise ProvisionError(f"no answer from the firmware's factory module: {out[-300:]!r}")
    try:
        reply = bytes.fromhex(lines[-1].split(" ", 1)[1])
        mtype, _ = wirebytes.header(reply)
        if mtype == m.ERROR:
            err = wire.decode(reply, m.SCHEMAS[m.ERROR])
            raise ProvisionError(f"board refused ({err['code']}): {err['detail']}")
        if mtype != ident.IDENTITY:
            raise ProvisionError(f"unexpected answer type {mtype:#04x}")
        return wire.decode(reply, ident.SCHEMAS[ident.IDENTITY])
    except (ValueError, wire.WireError) as e:
        raise ProvisionError(f"malformed answer from the board: {e}") from None


def check_possession(info: dict, challenge: bytes) -> None:
    """The board signed our fresh challenge with the key of info["pub"]."""
    pub = info["pub"]
    try:
        key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), pub)
        sig = info["sig"]
        if len(sig) != 64:
            raise InvalidSignature
        der = utils.encode_dss_signature(int.from_bytes(sig[:32]), int.from_bytes(sig[32:]))
        digest = ident.pop_digest(info["mac"], pub, challenge)
        key.verify(der, digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
    except (ValueError, InvalidSignature):
        raise ProvisionError("the board's proof of possession does not verify") from None


def _request(mode: str, challenge: bytes, reset: bool) -> tuple[dict, bytes | None]:
    """The FACTORY_REQ fields, and for feed mode the public key to expect."""
    secret = b""
    expect_pub = None
    if mode == "feed":
        key = ec.generate_private_key(ec.SECP256R1())
        secret = key.private_numbers().private_value.to_bytes(32)
        expect_pub = key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    elif mode == "seed":
        secret = os.urandom(SEED_BYTES)
    values = {"mode": MODES[mode], "challenge": challenge, "secret": secret, "reset": reset}
    return values, expect_pub


def provision_board(con: Console, port: str, job: Job, db: StationDb,
                    log: Log) -> Outcome:  # fmt: skip
    if job.mode not in MODES:
        raise ProvisionError(f"unknown key mode {job.mode!r} (local, feed, seed)")
    challenge = os.urandom(ident.CHALLENGE)
    info = call(con, "identity", ident.IDENTITY_REQ, {"challenge": challenge})
    serial = info["mac"].hex().upper()
    log(f"board {serial}, model {info['model']}, firmware {info['fw']}")
    if info["model"] != job.model:
        raise ProvisionError(f"board {serial} is a {info['model']}, not a {job.model}")
    known = db.latest(serial)
    if info["mode"] != ident.KEY_NONE:
        check_possession(info, challenge)
        has = info["pub"].hex()
        if known is not None and known.public_key == has and not job.factory_reset:
            log(f"already provisioned: key {known.fingerprint[:16]} is recorded")
            _restart(con, log)
            return Outcome(port, serial, "already provisioned", known)
        if known is not None and known.public_key != has and not job.factory_reset:
            raise ProvisionError(
                f"serial {serial} is recorded with key {known.fingerprint[:16]}, but the board "
                f"has key {fingerprint(info['pub'])[:16]}: refused (a factory reset replaces it)"
            )
        if known is None and not job.factory_reset:
            # The board made its key but the station stopped before recording it.
            rec = _record(info, job, note="recorded on resume: the board had the key already")
            rec = db.append(rec)
            log(f"recorded on resume: key {rec.fingerprint[:16]}")
            _finish(con, rec, job, log)
            return Outcome(port, serial, "recorded", rec)
    elif known is not None and not job.factory_reset:
        raise ProvisionError(
            f"serial {serial} is recorded with key {known.fingerprint[:16]}, but the board has "
            "no key (erased?): refused (a factory reset makes a new one)"
        )
    challenge = os.urandom(ident.CHALLENGE)
    values, expect_pub = _request(job.mode, challenge, job.factory_reset)
    log(f"making a {job.mode} key" + (" (factory reset)" if job.factory_reset else ""))
    info = call(con, "provision", ident.FACTORY_REQ, values)
    values.clear()  # the fed key: the station keeps no reference to it
    check_possession(info, challenge)
    if info["mode"] != MODES[job.mode]:
        raise ProvisionError(f"the board made a {ident.KEY_MODES[info['mode']]} key")
    if expect_pub is not None and info["pub"] != expect_pub:
        raise ProvisionError("the board's key is not the one fed to it")
    rec = db.append(_record(info, job))
    log(f"provisioned: {job.mode} key {rec.fingerprint[:16]}")
    _finish(con, rec, job, log)
    return Outcome(port, serial, "provisioned", rec)


def _record(info: dict, job: Job, note: str = "") -> Record:
    return Record(
        serial=info["mac"].hex().upper(),
        model=info["model"],
        public_key=info["pub"].hex(),
        key_mode=ident.KEY_MODES[info["mode"]],
        maker_knows=bool(info["flags"] & ident.MAKER_KNOWS),
        rng_mixed=bool(info["flags"] & ident.RNG_MIXED),
        resets=info["resets"],
        fw_version=info["fw"],
        bundle_hash=info["bundle"],
        operator=job.operator,
        station=job.station,
        time=now(),
        note=note,
    )


def _finish(con: Console, rec: Record, job: Job, log: Log) -> None:
    _, png = write_label(rec, job.labels)
    log(f"label {png}")
    _restart(con, log)


BOOT_TIMEOUT = 15.0  # the NodeMCU's 2 s REPL window, then the firmware's start
_STATE_LINE = re.compile(rb"state (\w+)\r?\n")  # app.load_state's line at boot


def _restart(con: Console, log: Log) -> None:
    """The raw REPL stopped the firmware: a soft reset starts it again, and
    the station waits until it says it runs released."""
    con.soft_reset()
    try:
        m = con.expect(_STATE_LINE, timeout=BOOT_TIMEOUT)
    except ConsoleError as e:
        raise ProvisionError(f"the firmware did not start again: {e}") from None
    state = m.group(1).decode()
    if state != "released":
        raise ProvisionError(f"the board boots {state}, not released")
    log("soft reset: the firmware runs, released")


def provision_ports(jobs: dict[str, Job], db: StationDb, log_dir: Path,
                    on_line: Callable[[str, str], None] | None = None,
                    ) -> dict[str, Outcome | HomecaError]:  # fmt: skip
    """The job of each port, all ports at once (ports.each_port): the result
    per port is its Outcome or the error that stopped it."""

    def work(port: str, log: Log) -> Outcome:
        try:
            con = Console(port)
        except ConsoleError as e:
            raise ProvisionError(f"{port}: not a device console ({e})") from None
        with con:
            try:
                return provision_board(con, port, jobs[port], db, log)
            except ProvisionError:
                # Refused: the board is left running as it was found.
                with contextlib.suppress(HomecaError, OSError):
                    con.soft_reset()
                raise

    return each_port(jobs, work, log_dir, on_line=on_line)
