#!/usr/bin/env python3
"""Generates gotv's icon: assets/gotv.svg and assets/gotv-256.png.

The icon is a dark rounded square holding four timeline lanes of coloured
spans -- what gotv shows. Both files come from the same list of shapes so they
never drift apart. The PNG is rasterised here (4x4 supersampling, no
dependencies beyond the Python 3 standard library), so regenerating it needs
no image tools:

    python3 assets/make_icon.py
"""

import os
import struct
import zlib

SIZE = 256
SUPERSAMPLE = 4

# (x, y, width, height, corner radius, "#rrggbb"), painted in order.
BACKGROUND = (8, 8, 240, 240, 48, "#1d2733")
SHAPES = [
    BACKGROUND,
    # The time axis: a thin rule with ticks.
    (36, 50, 184, 4, 2, "#6b7c8f"),
    (36, 42, 4, 12, 2, "#6b7c8f"),
    (96, 42, 4, 12, 2, "#6b7c8f"),
    (156, 42, 4, 12, 2, "#6b7c8f"),
    (216, 42, 4, 12, 2, "#6b7c8f"),
    # Lanes of spans, in the Go gopher palette.
    (36, 72, 92, 30, 8, "#00add8"),
    (138, 72, 82, 30, 8, "#5dc9e2"),
    (60, 114, 120, 30, 8, "#fddd00"),
    (36, 156, 44, 30, 8, "#ce3262"),
    (90, 156, 130, 30, 8, "#00add8"),
    (36, 198, 150, 30, 8, "#5dc9e2"),
]


def rgb(hex_colour):
    return tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))


def inside(px, py, shape):
    x, y, w, h, r, _ = shape
    if not (x <= px < x + w and y <= py < y + h):
        return False
    # Distance to the nearest corner centre, only in the corner squares.
    cx = min(max(px, x + r), x + w - r)
    cy = min(max(py, y + r), y + h - r)
    return (px - cx) ** 2 + (py - cy) ** 2 <= r * r


def rasterise():
    rows = []
    step = 1.0 / SUPERSAMPLE
    offsets = [(i + 0.5) * step for i in range(SUPERSAMPLE)]
    for py in range(SIZE):
        row = bytearray()
        for px in range(SIZE):
            # Premultiplied accumulation of "over" compositing per sample.
            acc = [0.0, 0.0, 0.0, 0.0]
            for oy in offsets:
                for ox in offsets:
                    colour, alpha = (0, 0, 0), 0.0
                    for shape in SHAPES:
                        if inside(px + ox, py + oy, shape):
                            colour, alpha = rgb(shape[5]), 1.0
                    for c in range(3):
                        acc[c] += colour[c] * alpha
                    acc[3] += alpha
            n = SUPERSAMPLE * SUPERSAMPLE
            a = acc[3] / n
            if a > 0:
                pixel = [round(acc[c] / acc[3]) for c in range(3)] + [round(a * 255)]
            else:
                pixel = [0, 0, 0, 0]
            row.extend(pixel)
        rows.append(bytes(row))
    return rows


def write_png(path, rows):
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + row for row in rows)
    header = struct.pack(">IIBBBBB", SIZE, SIZE, 8, 6, 0, 0, 0)  # 8-bit RGBA
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", header))
        f.write(chunk(b"IDAT", zlib.compress(raw, 9)))
        f.write(chunk(b"IEND", b""))


def write_svg(path):
    lines = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{SIZE}" height="{SIZE}" '
        f'viewBox="0 0 {SIZE} {SIZE}">',
        "  <title>gotv</title>",
    ]
    for x, y, w, h, r, colour in SHAPES:
        lines.append(
            f'  <rect x="{x}" y="{y}" width="{w}" height="{h}" rx="{r}" fill="{colour}"/>'
        )
    lines.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    write_svg(os.path.join(here, "gotv.svg"))
    write_png(os.path.join(here, "gotv-256.png"), rasterise())
