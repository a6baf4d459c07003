"""Host toolkit for HomeCA / P3 on NodeMCU ESP8266 devices."""

from pathlib import Path

import nodefw

__version__ = "0.1.0"

FIRMWARE_DIR = Path(nodefw.__file__).resolve().parent.parent
REPO_DIR = FIRMWARE_DIR.parent
BOARDS_DIR = REPO_DIR / "boards"
