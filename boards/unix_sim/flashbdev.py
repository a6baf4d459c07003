# Stand-in for the ESP8266 port's frozen flashbdev.py: the filesystem's 4 KiB
# blocks in the simulated flash, which is here a region of the flash image
# file that `homeca flash` writes (SimDevice(flash_image=...)). Writes go
# straight to the file, so a power cut keeps what was written, as on flash.
# reset.py imports it only for a flash image; the names stay out of its source.
import os
import vfs


def mount(file):
    """Mount the image's LittleFS region (HOMECA_SIM_FS: offset:blocks) at "/"."""
    start, blocks = os.getenv("HOMECA_SIM_FS").split(":")
    vfs.mount(vfs.VfsLfs2(FlashBdev(file, int(start), int(blocks))), "/")


class FlashBdev:
    def __init__(self, file, start, blocks):
        self.file = file
        self.start = start
        self.blocks = blocks

    def readblocks(self, n, buf, off=0):
        self.file.seek(self.start + n * 4096 + off)
        self.file.readinto(buf)

    def writeblocks(self, n, buf, off=None):
        if off is None:
            self.ioctl(6, n)
            off = 0
        self.file.seek(self.start + n * 4096 + off)
        self.file.write(buf)

    def ioctl(self, op, arg):
        if op == 4:  # block count
            return self.blocks
        if op == 5:  # block size
            return 4096
        if op == 6:  # erase a block
            self.file.seek(self.start + arg * 4096)
            self.file.write(b"\xff" * 4096)
            return 0
