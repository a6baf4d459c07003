"""Device labels for a 62 mm label printer: a text file and a PNG (732 x 342
pixels, 62 x 29 mm at 300 dpi) with a QR code of the serial number and the
public key's fingerprint, which a HomeCA or a phone can scan to check the
device it is about to accept."""

from __future__ import annotations

import io
from pathlib import Path

import segno
from PIL import Image, ImageDraw, ImageFont

from homeca.station.models import Record

WIDTH, HEIGHT = 732, 342  # 62 x 29 mm at 300 dpi


def qr_payload(rec: Record) -> str:
    return f"HOMECA:{rec.serial}:{rec.fingerprint}"


def label_text(rec: Record) -> str:
    fp = rec.fingerprint
    return (
        f"{rec.model}\n"
        f"S/N {rec.serial}\n"
        f"key {fp[:8]} {fp[8:16]}\n"
        f"    {fp[16:24]} {fp[24:32]}\n"
        f"fw {rec.fw_version}, {rec.key_mode} key\n"
    )


def write_label(rec: Record, directory: Path) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    txt = directory / f"{rec.serial}.txt"
    png = directory / f"{rec.serial}.png"
    txt.write_text(label_text(rec))
    buf = io.BytesIO()
    segno.make(qr_payload(rec), error="m").save(buf, kind="png", scale=1, border=2)
    qr = Image.open(io.BytesIO(buf.getvalue())).convert("1")
    side = HEIGHT - 20
    qr = qr.resize((side, side), Image.NEAREST)
    img = Image.new("1", (WIDTH, HEIGHT), 1)
    img.paste(qr, (10, 10))
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=26)
    y = 24
    for line in label_text(rec).splitlines():
        draw.text((side + 30, y), line, font=font, fill=0)
        y += 60
    img.save(png, dpi=(300, 300))
    return txt, png
