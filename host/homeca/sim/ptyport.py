"""A pseudo-terminal that stands in for a serial port of a simulated device.

Whoever opens `path` (mpremote, pyserial, a terminal) sees the device like a
USB-serial adapter or an rfcomm port. Output written while nobody has the port
open is dropped, as a USB-UART bridge drops it.
"""

from __future__ import annotations

import errno
import os
import pty
import select
import tty


class PtyPort:
    def __init__(self) -> None:
        self.master, slave = pty.openpty()
        self.path = os.ttyname(slave)
        tty.setraw(slave)
        os.close(slave)
        os.set_blocking(self.master, False)

    def attached(self) -> bool:
        """True while some process has the port open."""
        p = select.poll()
        p.register(self.master, select.POLLIN)
        return not any(ev & select.POLLHUP for _, ev in p.poll(0))

    def read(self) -> bytes:
        """What the user typed; b"" when nothing is waiting or nobody is attached."""
        try:
            return os.read(self.master, 4096)
        except BlockingIOError:
            return b""
        except OSError as e:
            if e.errno == errno.EIO:  # no process has the port open
                return b""
            raise

    def write(self, data: bytes) -> None:
        if not self.attached():
            return
        view = memoryview(data)
        while view:
            try:
                view = view[os.write(self.master, view) :]
            except OSError:
                return  # the reader is not keeping up: drop, as a UART would overrun

    def close(self) -> None:
        os.close(self.master)
