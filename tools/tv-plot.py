#!/usr/bin/env python3
"""Plots the TV experiment table (tools/tv-table.sh output) as an SVG, no dependencies:
per width (W8A8 ... W2A2), the change of top-1 agreement against `off` for `auto`, gamma 0.01 and
gamma 0.05, one dot per model and a bar for the median.

  tools/tv-table.sh > tv.md && python3 tools/tv-plot.py tv.md docs/plots/tv-agreement.svg
"""
import re
import statistics
import sys

MODES = ["auto", "0.01", "0.05"]
COLOURS = {"auto": "#1a7f37", "0.01": "#0969da", "0.05": "#cf222e"}


def read(path):
    rows = {}  # bits -> mode -> [delta]
    for line in open(path):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 7 or not re.fullmatch(r"W\dA\d", cells[1]):
            continue
        bits = cells[1]
        off = float(cells[3].split("/")[0])
        for mode, cell in zip(MODES, cells[4:]):
            rows.setdefault(bits, {}).setdefault(mode, []).append(float(cell.split("/")[0]) - off)
    return rows


def svg(rows):
    widths = [b for b in ["W8A8", "W4A4", "W3A3", "W2A2"] if b in rows]
    values = [v for b in widths for m in MODES for v in rows[b].get(m, [])]
    top, bottom = max(5.0, max(values)), min(-5.0, min(values))
    w, h, left, right, up, down = 760, 360, 60, 20, 20, 50
    plot_w, plot_h = w - left - right, h - up - down
    y = lambda v: up + plot_h * (top - v) / (top - bottom)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12">',
           f'<rect width="{w}" height="{h}" fill="#fff"/>']
    step = 10 if top - bottom > 40 else 5
    v = step * int(bottom / step)
    while v <= top:
        out.append(f'<line x1="{left}" x2="{w - right}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="{"#8c959f" if v == 0 else "#eef1f4"}"/>')
        out.append(f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end" fill="#59636e">{v:+d}</text>')
        v += step
    group = plot_w / len(widths)
    for i, bits in enumerate(widths):
        centre = left + group * (i + 0.5)
        out.append(f'<text x="{centre:.1f}" y="{h - down + 20}" text-anchor="middle">{bits}</text>')
        for j, mode in enumerate(MODES):
            x = centre + (j - 1) * group / 4
            deltas = rows[bits].get(mode, [])
            if not deltas:
                continue
            med = statistics.median(deltas)
            out.append(f'<rect x="{x - 12:.1f}" y="{min(y(med), y(0)):.1f}" width="24" height="{abs(y(med) - y(0)):.1f}" '
                       f'fill="{COLOURS[mode]}" opacity="0.35"/>')
            for d in deltas:
                out.append(f'<circle cx="{x:.1f}" cy="{y(d):.1f}" r="3" fill="{COLOURS[mode]}"/>')
    for j, mode in enumerate(MODES):
        out.append(f'<circle cx="{left + 10 + j * 150}" cy="{h - 12}" r="5" fill="{COLOURS[mode]}"/>'
                   f'<text x="{left + 20 + j * 150}" y="{h - 8}">{"auto" if mode == "auto" else "gamma " + mode}</text>')
    out.append(f'<text x="14" y="{up + plot_h / 2:.1f}" transform="rotate(-90 14 {up + plot_h / 2:.1f})" text-anchor="middle">'
               'top-1 agreement change vs off (pt)</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    open(sys.argv[2], "w").write(svg(read(sys.argv[1])))
