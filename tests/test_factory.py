"""The device's side of the burn-in station (nodefw.factory) over the console,
on both interpreters: the three key modes, the proof of possession, a factory
reset, refusals that change nothing, and the boot state from the store."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from homeca.console import Console
from homeca.interpreters import INTERPRETERS
from homeca.link import Link
from homeca.sim.device import SimDevice
from homeca.station.provision import ProvisionError, call, check_possession
from homeca.testing.tools import need
from nodefw import identity as ident
from nodefw import messages as m

P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def store_files(dev: SimDevice) -> dict[str, bytes]:
    d = dev.flash_dir / "store"
    return {p.name: p.read_bytes() for p in sorted(d.iterdir())} if d.is_dir() else {}


def provision(con: Console, mode: int, secret: bytes = b"", reset: bool = False) -> dict:
    challenge = os.urandom(32)
    values = {"mode": mode, "challenge": challenge, "secret": secret, "reset": reset}
    info = call(con, "provision", ident.FACTORY_REQ, values)
    check_possession(info, challenge)
    return info


@pytest.mark.parametrize("interp", ["unix", "unix32"])
def test_key_modes_reset_and_refusals(tmp_path: Path, interp: str) -> None:
    need(INTERPRETERS[interp].available(), f"{interp} interpreter")
    with SimDevice(tmp_path / "d", interpreter=interp).start() as dev:
        dev.wait_ready()
        with Link(dev.hc05.path) as link:
            assert link.status()["state"] == m.ST_BLANK
        with Console(dev.console.path) as con:
            challenge = os.urandom(32)
            blank = call(con, "identity", ident.IDENTITY_REQ, {"challenge": challenge})
            assert blank["mode"] == ident.KEY_NONE and blank["pub"] == b"" == blank["sig"]

            local = provision(con, ident.KEY_LOCAL)
            assert local["mode"] == ident.KEY_LOCAL and local["flags"] == 0
            assert local["mac"] == dev.mac and local["model"] == "nodemcu-v3-sim"
            kept = store_files(dev)
            # Refusals change nothing on the device.
            refusals = [
                ({"mode": ident.KEY_LOCAL}, "already provisioned"),
                ({"mode": ident.KEY_FEED, "secret": bytes(32), "reset": True}, "out of range"),
                ({"mode": ident.KEY_FEED, "secret": P256_N.to_bytes(32), "reset": True},
                 "out of range"),
                ({"mode": ident.KEY_FEED, "secret": b"k" * 31, "reset": True}, "32-byte"),
                ({"mode": ident.KEY_SEED, "secret": b"s" * 31, "reset": True}, "32-64"),
                ({"mode": ident.KEY_LOCAL, "secret": b"x", "reset": True}, "no secret"),
                ({"mode": 9, "reset": True}, "unknown key mode"),
            ]  # fmt: skip
            for values, why in refusals:
                req = {"mode": 0, "challenge": bytes(32), "secret": b"", "reset": False, **values}
                with pytest.raises(ProvisionError, match=why):
                    call(con, "provision", ident.FACTORY_REQ, req)
            out = con.exec("from nodefw import factory\nfactory.provision('0z')")
            assert "FACTORY 01" in out  # an ERROR body: bad hex
            out = con.exec("from nodefw import factory\nfactory.provision('01110000')")
            assert "FACTORY 01" in out  # a request of the wrong type
            assert store_files(dev) == kept

            # The same identity again, proven afresh; then a factory reset.
            again = call(con, "identity", ident.IDENTITY_REQ, {"challenge": challenge})
            check_possession(again, challenge)
            assert again["pub"] == local["pub"]
            fed_key = (12345678901234567890).to_bytes(32)
            fed = provision(con, ident.KEY_FEED, fed_key, reset=True)
            assert fed["flags"] == ident.MAKER_KNOWS | ident.WAS_RESET and fed["resets"] == 1
            seeded = provision(con, ident.KEY_SEED, os.urandom(40), reset=True)
            assert seeded["flags"] == ident.RNG_MIXED | ident.WAS_RESET and seeded["resets"] == 2
            assert len({local["pub"], fed["pub"], seeded["pub"]}) == 3
            con.soft_reset()
            con.expect("state released")
        with Link(dev.hc05.path) as link:
            assert link.status()["state"] == m.ST_RELEASED


def test_seed_mode_without_a_healthy_rng_says_so(tmp_path: Path) -> None:
    with SimDevice(tmp_path / "d", rng_fault="stuck").start() as dev:
        dev.wait_ready()
        with Console(dev.console.path) as con:
            with pytest.raises(ProvisionError, match=r"503.*rng"):
                provision(con, ident.KEY_LOCAL)
            seeded = provision(con, ident.KEY_SEED, os.urandom(32))
            assert seeded["flags"] == 0  # its own RNG was left out, and the record says so


def test_a_corrupt_lifecycle_item_is_a_fault_not_a_crash(tmp_path: Path) -> None:
    with SimDevice(tmp_path / "d").start() as dev:
        dev.wait_ready()
        dev.stop()
        store = dev.flash_dir / "store"
        store.mkdir(exist_ok=True)
        (store / ident.ITEM_LIFECYCLE).write_bytes(b"HCs1\x00\x00\x00\x01\x05garbage")
        dev.start()
        dev.wait_ready()
        with Link(dev.hc05.path) as link:
            assert link.status()["state"] == m.ST_FAULT
