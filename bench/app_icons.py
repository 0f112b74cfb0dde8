"""Draw cxlog's home-screen icons (issue #29) into cxlog/web/app_files/.

Not a benchmark and not run by make: the PNG files are committed, and this
script is how they were made (run it again after changing the mark):

    .venv/bin/python -m bench.app_icons

The mark is a rounded square in the theme's teal (.streamlit/config.toml,
primaryColor) with a white "cx": the c a ring open to the right, the x two
strokes, all with round ends. Every pixel's cover is worked out from its
distance to the shapes (anti-aliased without supersampling), and the PNG is
written with zlib alone: Pillow is not a dependency of cxlog.
"""

from __future__ import annotations

import math
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

FOLDER = Path(__file__).resolve().parents[1] / "cxlog" / "web" / "app_files"
TEAL = (15, 118, 110)
WHITE = (255, 255, 255)
# The glyph in a unit box: the c's ring (centre, radius), the x's two strokes,
# and the half-width of every stroke; its middle sits at (0.5, 0.52).
RING = (0.37, 0.52, 0.14)
OPEN = math.radians(50)  # the c's mouth, each side of the horizontal
CROSS = (((0.565, 0.38), (0.795, 0.66)), ((0.565, 0.66), (0.795, 0.38)))
STROKE = 0.047


def _segment(px: float, py: float, a: tuple, b: tuple) -> float:
    ax, ay = a
    bx, by = b
    dx, dy = bx - ax, by - ay
    t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
    return math.hypot(px - ax - t * dx, py - ay - t * dy)


def glyph_distance(x: float, y: float) -> float:
    """Distance (unit box) from (x, y) to the white "cx"; negative inside."""
    cx, cy, r = RING
    angle = math.atan2(y - cy, x - cx)
    if abs(angle) > OPEN:
        ring = abs(math.hypot(x - cx, y - cy) - r)
    else:  # in the mouth: the distance to the nearer round end
        ends = [(cx + r * math.cos(s * OPEN), cy + r * math.sin(s * OPEN)) for s in (-1, 1)]
        ring = min(math.hypot(x - ex, y - ey) for ex, ey in ends)
    cross = min(_segment(x, y, a, b) for a, b in CROSS)
    return min(ring, cross) - STROKE


def rounded_square_distance(x: float, y: float, radius: float) -> float:
    """Distance (unit box) to the square [0, 1]² with rounded corners."""
    qx, qy = abs(x - 0.5) - (0.5 - radius), abs(y - 0.5) - (0.5 - radius)
    outside = math.hypot(max(qx, 0.0), max(qy, 0.0))
    return outside + min(max(qx, qy), 0.0) - radius


def draw(size: int, *, corner: float | None, scale: float) -> bytes:
    """RGBA rows of a ``size`` px icon: the teal square (corners rounded by
    ``corner`` of the size, or full-bleed when None) with the glyph at
    ``scale`` about the centre."""
    pixel = 1.0 / size

    def cover(distance: float) -> float:
        return max(0.0, min(1.0, 0.5 - distance / pixel))

    rows = bytearray()
    for j in range(size):
        rows.append(0)  # filter: none
        y = (j + 0.5) * pixel
        for i in range(size):
            x = (i + 0.5) * pixel
            back = 1.0 if corner is None else cover(rounded_square_distance(x, y, corner))
            gx, gy = 0.5 + (x - 0.5) / scale, 0.52 + (y - 0.5) / scale
            ink = cover(glyph_distance(gx, gy) * scale)
            rgb = [round(t + (w - t) * ink) for t, w in zip(TEAL, WHITE, strict=True)]
            rows += bytes(rgb) + bytes([round(255 * back)])
    return bytes(rows)


def png(size: int, rows: bytes) -> bytes:
    """A PNG file: 8-bit RGBA, ``rows`` already prefixed by their filter byte."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


# name -> (size, corner, glyph scale). Android masks a "maskable" icon to any
# shape inside its middle 80 %: full-bleed, the glyph smaller. iOS rounds the
# apple-touch-icon itself and fills transparency with black: full-bleed too.
ICONS: dict[str, tuple[int, float | None, float]] = {
    "icon-192.png": (192, 0.22, 1.0),
    "icon-512.png": (512, 0.22, 1.0),
    "icon-maskable-512.png": (512, None, 0.78),
    "apple-touch-icon.png": (180, None, 0.9),
    "favicon-32.png": (32, 0.18, 1.12),
}


def main(write: Callable[[Path, bytes], object] = Path.write_bytes) -> None:
    FOLDER.mkdir(parents=True, exist_ok=True)
    for name, (size, corner, scale) in ICONS.items():
        write(FOLDER / name, png(size, draw(size, corner=corner, scale=scale)))
        print(f"wrote {FOLDER / name}")


if __name__ == "__main__":
    main()
