"""The unix-port device's simulated hardware: DHT22, FLASH button, HC-05 STATE,
OLED, power, flash and identity. These need the simulator (marker `sim`)."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest
from PIL import Image

from homeca.console import ConsoleError
from homeca.link import DeviceError, Link, LinkError
from homeca.sim.device import SimDevice, SimError, dht22_answer
from homeca.sim.oled import SSD1306Model
from homeca.sim.report import parse_size, wait_sensor
from homeca.testing.dut import Dut

pytestmark = pytest.mark.sim

READ_DHT = "import board\ns = board.dht22()\ns.measure()\nprint(s.temperature(), s.humidity())"


def test_dht22_readings_reach_the_firmware_driver(dut: Dut) -> None:
    dut.sim.set_dht(23.4, 51.2)
    t, h = map(float, dut.exec(READ_DHT).split())
    assert (t, h) == pytest.approx((23.4, 51.2))
    dut.sim.set_dht(-7.5, 99.9)
    t, h = map(float, dut.exec(READ_DHT).split())
    assert (t, h) == pytest.approx((-7.5, 99.9))


@pytest.mark.parametrize(("fault", "message"), [("timeout", "110"), ("checksum", "checksum")])
def test_dht22_faults_raise_like_the_real_module(dut: Dut, fault: str, message: str) -> None:
    dut.sim.set_dht_fault(fault)
    with pytest.raises(ConsoleError, match=message):
        dut.exec(READ_DHT)


def test_dht22_answer_encoding() -> None:
    assert dht22_answer(-10.1, 65.2) == bytes([0x02, 0x8C, 0x80, 0x65, 0x73])
    with pytest.raises(SimError):
        dht22_answer(4000.0, 10)


def test_flash_button(dut: Dut) -> None:
    read = "import board\nprint(board.button().value())"
    assert dut.exec(read).strip() == "1"
    dut.sim.hold_button()
    assert dut.exec(read).strip() == "0"
    dut.sim.release_button()
    assert dut.exec(read).strip() == "1"
    dut.sim.press_button(3)  # released by the simulator, not by the test
    assert dut.exec(read).strip() == "0"
    deadline = time.monotonic() + 6
    while dut.exec(read).strip() != "1":
        assert time.monotonic() < deadline, "the button was never released"
        time.sleep(0.2)


def test_hc05_state_pin_follows_the_phone(dut: Dut) -> None:
    read = "import board\nprint(board.hc05_linked())"
    dut.disconnect()  # the fixture's phone end
    time.sleep(0.1)
    assert dut.exec(read).strip() == "False"
    with Link(dut.sim.hc05.path):
        time.sleep(0.1)
        assert dut.exec(read).strip() == "True"


def test_oled_shows_what_the_firmware_drew(dut: Dut, tmp_path: Path) -> None:
    sim = dut.sim
    frames = sim.oled.frames
    st = wait_sensor(dut.link)  # the screen shows the reading from then on
    reading = (st["dht"], st["temp"], st["hum"])
    # STATUS can answer before the display job has drawn the reading, and the
    # console below stops the firmware: let the redraw finish first.
    sim.oled_pixels(after=frames, quiet=0.3)
    # Draw the same screen on a whole-screen frame buffer on the device, in one
    # pass and no I2C involved: the driver's pages must add up to it.
    code = (
        "import framebuf, binascii\nfrom nodefw.screen import Screen\n"
        "class Plain(framebuf.FrameBuffer):\n"
        "  def __init__(self):\n    self.buffer = bytearray(1024)\n"
        "    super().__init__(self.buffer, 128, 64, framebuf.MONO_VLSB)\n"
        "  def draw(self, paint): paint(self, 0)\n"
        f"d = Plain(); Screen(d).status({st['name']!r}, {sim.serial!r}, {st['state']}, "
        f"reading={reading!r})\n"
        # In pieces: the whole frame as hex at once would not fit a 38k heap.
        "for i in range(0, 1024, 64):\n"
        "  print(binascii.hexlify(d.buffer[i : i + 64]).decode(), end='')\n"
        "print()"
    )
    expected = bytes.fromhex(dut.exec(code).strip())
    sim.oled_pixels()  # the bus is quiet: the last frame has fully arrived
    assert bytes(sim.oled.ram) == expected
    assert sim.oled.on and not sim.oled.inverted
    png = sim.save_oled_png(tmp_path / "oled.png")
    img = Image.open(png).convert("L")
    assert img.size == (512, 256)
    lit = sum(1 for v in img.tobytes() if v > 128)
    assert lit == 16 * sum(bin(b).count("1") for b in expected)


def test_power_cut_during_writes_then_it_boots(dut: Dut) -> None:
    rng = random.Random(1234)
    writer = (
        "import os\nn = 0\nwhile True:\n"
        "  with open('log.bin', 'ab') as f:\n    f.write(bytes(range(256)) * 4)\n"
        "  n += 1\n  if n % 8 == 0:\n    os.remove('log.bin')\n"
    )
    for _ in range(5):
        con = dut.console
        con._raw().exec_raw_no_follow(writer)
        time.sleep(rng.uniform(0.02, 0.3))
        dut.sim.power_cut()
        assert not dut.sim.running
        dut.disconnect()
        dut.sim.power_on()
        dut.sim.wait_ready(10)
        st = dut.status()
        assert st["name"] == dut.sim.name
        assert st["uptime"] <= 2


def test_flash_and_identity_survive_a_new_simulator(tmp_path: Path) -> None:
    with SimDevice(tmp_path / "d", name="keeper") as dev:
        dev.wait_ready()
        mac = dev.mac
        (dev.flash_dir / "note.txt").write_text("kept")
    with SimDevice(tmp_path / "d") as dev:
        dev.wait_ready()
        assert dev.mac == mac and dev.name == "keeper"
        with Link(dev.hc05.path) as link:
            assert link.status()["mac"] == mac
        assert (dev.flash_dir / "note.txt").read_text() == "kept"
    with pytest.raises(SimError, match="holds device"):
        SimDevice(tmp_path / "d", name="other")


def test_bad_device_names_settings_and_boards_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SimError, match="printable"):
        SimDevice(tmp_path / "a", name="caf\u00e9")
    with pytest.raises(SimError, match="printable"):
        SimDevice(tmp_path / "b", name="x" * 25)
    with pytest.raises(SimError, match="unix port"):
        SimDevice(tmp_path / "c", board="nodemcu_v3")
    with pytest.raises(SimError, match="unknown setting"):
        SimDevice(tmp_path / "e", settings={"period": 2})
    with pytest.raises(SimError, match="dht_period_s 1"):
        SimDevice(tmp_path / "e", settings={"dht_period_s": 1})
    with pytest.raises(SimError, match="name argument"):
        SimDevice(tmp_path / "e", settings={"name": "x"})
    assert not (tmp_path / "e").exists()
    assert not (tmp_path / "a").exists()


def test_heap_peak_is_under_the_limit(dut: Dut) -> None:
    wait_sensor(dut.link)  # every job has run: the sensor sampled, the OLED drawn
    time.sleep(1.1)  # one housekeeping round after that
    st = dut.status()
    assert 0 < st["heap_peak"] < parse_size(dut.sim.heapsize)
    assert st["heap_free"] > 4096


def test_firmware_uses_the_native_ecc_module_when_built(dut: Dut) -> None:
    built = dut.sim.interpreter.natmod("ecc").exists()
    out = dut.exec(
        "from nodefw import ecc\nprint(ecc.NATIVE, len(ecc.p256_public(bytes(31) + b'\\x07')))"
    )
    assert out.split() == [str(built), "65"]


@pytest.mark.parametrize("fault", ["stuck", "biased"])
def test_a_broken_random_source_puts_the_device_in_fault(tmp_path: Path, fault: str) -> None:
    from nodefw import messages

    with SimDevice(tmp_path / "d", rng_fault=fault) as dev:
        dev.wait_ready()
        with Link(dev.hc05.path) as link:
            st = link.status()  # it keeps answering
        assert messages.STATE_NAMES[st["state"]] == "fault"
        png = dev.save_oled_png(tmp_path / "oled.png")
        assert png.exists()
        assert "rng:" in dev.console_tail()


def padded_frame(body_len: int) -> bytes:
    """A frame of an unknown type (0x3E, request 4242) with a body_len-byte body."""
    from nodefw import wire, wirebytes

    schema = ("pad", wire.BYTES, body_len - 4)
    return wirebytes.frame(wirebytes.encode(0x3E, 4242, schema, {"pad": bytes(body_len - 4)}))


@pytest.mark.parametrize("body_len", [511, 512])
def test_the_largest_frames_written_in_one_go_arrive_whole(dut: Dut, body_len: int) -> None:
    # Bodies up to messages.LINK_MAX_BODY pass the HC-05 whole while the chip
    # reads 64 bytes at a time.
    from nodefw import messages

    assert body_len <= messages.LINK_MAX_BODY
    dut.link.send_raw(padded_frame(body_len))
    with pytest.raises(DeviceError) as err:
        dut.link.receive(4242, timeout=5)
    assert err.value.code == messages.E_UNKNOWN_TYPE
    assert dut.status()["link_bad"] == 0


def test_a_body_over_the_link_limit_is_dropped_and_the_link_goes_on(dut: Dut) -> None:
    from nodefw import messages

    dut.link.send_raw(padded_frame(messages.LINK_MAX_BODY + 1))
    with pytest.raises(LinkError, match="no answer"):
        dut.link.receive(4242, timeout=2)
    assert dut.status()["link_bad"] >= 1  # its header claims more than the link carries
    assert dut.status()["restarts"] == 0


def test_the_host_refuses_to_send_a_body_over_the_link_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from homeca.link import Link
    from nodefw import messages, wire

    n = messages.LINK_MAX_BODY + 1
    monkeypatch.setitem(messages.SCHEMAS, 0x3E, ("pad", wire.BYTES, n - 4))
    with Link("loop://") as link:
        with pytest.raises(LinkError, match="over the link's 512"):
            link.send(0x3E, {"pad": bytes(n - 4)})
        time.sleep(0.1)
        assert link._port.in_waiting == 0  # nothing was written


def test_holding_flash_at_boot_keeps_the_repl(tmp_path: Path) -> None:
    from homeca.console import Console

    with SimDevice(tmp_path / "d") as dev:
        dev.wait_ready()
        dev.hold_button()
        dev.restart()
        with pytest.raises(SimError, match="not ready"):
            dev.wait_ready(2)
        assert "FLASH held at boot" in dev.console_tail()
        with Console(dev.console.path) as con:
            assert con.exec("print(1 + 1)").strip() == "2"
        dev.release_button()
        dev.restart()
        dev.wait_ready()


AT_SETUP = (
    "import board\nfrom nodefw.drivers.hc05 import AtPort, Hc05Error\n"
    "port = AtPort(board.hc05_at(True))\n"
)


def test_hc05_at_mode_configures_the_module(dut: Dut) -> None:
    out = dut.exec(AT_SETUP + "print(port.configure(name='kitchen-node', pin='4321', baud=19200))")
    module = dut.sim.hc05_module
    assert (module.name, module.pin, module.uart) == ("kitchen-node", "4321", (19200, 0, 0))
    for text in ("'name': 'kitchen-node'", "'pin': '4321'", "'uart': '19200,0,0'",
                 "'version': '2.0-20100601'"):  # fmt: skip
        assert text in out
    # Refusals come back as Hc05Error with the module's code, and change nothing.
    out = dut.exec(
        AT_SETUP + "for c in ('AT+PSWD=12', 'AT+UART=12345,0,0', 'AT+BOGUS'):\n"
        "  try:\n    port.command(c)\n  except Hc05Error as e:\n    print(e)\n"
    )
    assert out.split("\n")[:3] == [
        "AT+PSWD=12: ERROR:(1D)", "AT+UART=12345,0,0: ERROR:(1D)", "AT+BOGUS: ERROR:(0)",
    ]  # fmt: skip
    assert (module.pin, module.uart) == ("4321", (19200, 0, 0))


def test_oled_model_ends_a_frame_transfer_when_its_window_is_full() -> None:
    oled = SSD1306Model()
    oled.write(bytes([0x00, 0x20, 0x00, 0x21, 0, 127, 0x22, 0, 7]), True)  # whole screen
    oled.write(b"\x40" + bytes([0xFF]) * 600, True)  # a frame arrives in two chunks
    assert (oled.frames, oled.frames_done) == (1, 0)
    oled.write(bytes([0x0F]) * 424, False)
    assert (oled.frames, oled.frames_done) == (1, 1)
    assert oled.ram == bytes([0xFF]) * 600 + bytes([0x0F]) * 424
    oled.write(b"\x40" + bytes(100), True)  # the chip dies mid-frame
    assert (oled.frames, oled.frames_done) == (2, 1)
    oled.bus_released()
    assert oled.frames_done == 2
