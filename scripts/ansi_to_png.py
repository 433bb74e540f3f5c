#!/usr/bin/env python3
"""Renders a tmux `capture-pane -e` capture (text with SGR colour escapes) to a PNG, so a screen with colours
and half-block images can be looked at as a picture. A developer's tool: needs Pillow and DejaVu Sans Mono;
neither the app nor its tests use it.

    scripts/ansi_to_png.py docs/screens/results-truecolor-120x40.ansi docs/screens/results-truecolor-120x40.png
"""
import re
import sys

from PIL import Image, ImageDraw, ImageFont

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"
BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf"
CELL_W, CELL_H, SIZE = 9, 18, 14
DEFAULT_FG, DEFAULT_BG = (220, 220, 220), (24, 24, 24)
BASE16 = [(0, 0, 0), (205, 49, 49), (13, 188, 121), (229, 229, 16), (36, 114, 200), (188, 63, 188),
          (17, 168, 205), (229, 229, 229), (102, 102, 102), (241, 76, 76), (35, 209, 139), (245, 245, 67),
          (59, 142, 234), (214, 112, 214), (41, 184, 219), (255, 255, 255)]


def xterm256(n):
    if n < 16:
        return BASE16[n]
    if n < 232:
        n -= 16
        steps = [0, 95, 135, 175, 215, 255]
        return steps[n // 36], steps[(n // 6) % 6], steps[n % 6]
    v = 8 + 10 * (n - 232)
    return v, v, v


def parse(text):
    """Yields rows of (char, fg, bg, bold) cells."""
    rows = []
    fg, bg, bold, reverse = None, None, False, False
    for line in text.split("\n"):
        row = []
        for token in re.split(r"(\x1b\[[0-9;:]*m)", line):
            if token.startswith("\x1b["):
                params = [int(p) if p else 0 for p in re.split(r"[;:]", token[2:-1])] or [0]
                i = 0
                while i < len(params):
                    p = params[i]
                    if p == 0:
                        fg, bg, bold, reverse = None, None, False, False
                    elif p == 1:
                        bold = True
                    elif p == 22:
                        bold = False
                    elif p == 7:
                        reverse = True
                    elif p == 27:
                        reverse = False
                    elif 30 <= p <= 37:
                        fg = BASE16[p - 30]
                    elif 90 <= p <= 97:
                        fg = BASE16[p - 90 + 8]
                    elif 40 <= p <= 47:
                        bg = BASE16[p - 40]
                    elif 100 <= p <= 107:
                        bg = BASE16[p - 100 + 8]
                    elif p == 39:
                        fg = None
                    elif p == 49:
                        bg = None
                    elif p in (38, 48) and i + 1 < len(params):
                        if params[i + 1] == 5 and i + 2 < len(params):
                            colour = xterm256(params[i + 2])
                            i += 2
                        elif params[i + 1] == 2 and i + 4 < len(params):
                            colour = tuple(params[i + 2:i + 5])
                            i += 4
                        else:
                            colour = None
                        if p == 38:
                            fg = colour
                        else:
                            bg = colour
                    i += 1
            else:
                for ch in token:
                    f, b = fg or DEFAULT_FG, bg or DEFAULT_BG
                    if reverse:
                        f, b = b, f
                    row.append((ch, f, b, bold))
        rows.append(row)
    while rows and not rows[-1]:
        rows.pop()
    return rows


def draw_braille(draw, x, y, bits, colour):
    # Dots 1-3 and 7 in the left column, 4-6 and 8 in the right, top to bottom.
    order = [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2), (0, 3), (1, 3)]
    for bit, (cx, cy) in enumerate(order):
        if bits >> bit & 1:
            px, py = x + 2 + cx * 4, y + 2 + cy * 4
            draw.rectangle([px, py, px + 2, py + 2], fill=colour)


def render(rows, out):
    width = max(len(r) for r in rows)
    img = Image.new("RGB", (width * CELL_W, len(rows) * CELL_H), DEFAULT_BG)
    draw = ImageDraw.Draw(img)
    font, bold_font = ImageFont.truetype(FONT, SIZE), ImageFont.truetype(BOLD, SIZE)
    for r, row in enumerate(rows):
        for c, (ch, fg, bg, bold) in enumerate(row):
            x, y = c * CELL_W, r * CELL_H
            draw.rectangle([x, y, x + CELL_W - 1, y + CELL_H - 1], fill=bg)
            code = ord(ch)
            if ch == "\u2580":  # upper half block: the image's top pixel in fg, bottom in bg
                draw.rectangle([x, y, x + CELL_W - 1, y + CELL_H // 2 - 1], fill=fg)
            elif ch == "\u2584":
                draw.rectangle([x, y + CELL_H // 2, x + CELL_W - 1, y + CELL_H - 1], fill=fg)
            elif ch == "\u2588":
                draw.rectangle([x, y, x + CELL_W - 1, y + CELL_H - 1], fill=fg)
            elif 0x2800 <= code <= 0x28FF:
                draw_braille(draw, x, y, code - 0x2800, fg)
            elif ch != " ":
                draw.text((x, y + 1), ch, font=bold_font if bold else font, fill=fg)
    img.save(out)


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as f:
        render(parse(f.read()), sys.argv[2])
    print("wrote", sys.argv[2])
