#!/usr/bin/env python3
"""Draws records/s (median over rounds) of each run of a kesm-bench JSON
file as an SVG bar chart. Usage: chart.py bench.json out.svg"""
import json
import sys


def main(src, dst):
    data = json.load(open(src))
    meds = data["medians"]
    sizes = sorted({m["value_bytes"] for m in meds})
    names = []
    for m in meds:
        if m["name"] not in names:
            names.append(m["name"])
    colors = {"raw": "#888888", "kesm/in-process": "#2a7ab0",
              "kesm/http": "#e07b24", "kesm/http-read": "#f0b27a"}
    top = max(m["records_per_s"] for m in meds) or 1
    w, h, left, bottom, bar = 640, 360, 80, 50, 50
    group_w = bar * len(names) + 40
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}"'
           f' font-family="sans-serif" font-size="12">',
           f'<text x="{w/2}" y="20" text-anchor="middle" font-size="14">'
           f'kesm-bench: records/s (median), {data.get("machine", "")[:60]}'
           f'</text>']
    plot_h = h - bottom - 40
    for i in range(5):
        y = h - bottom - plot_h * i / 4
        out.append(f'<line x1="{left}" y1="{y}" x2="{w-10}" y2="{y}"'
                   f' stroke="#ddd"/>')
        out.append(f'<text x="{left-5}" y="{y+4}" text-anchor="end">'
                   f'{top*i/4/1000:.0f}k</text>')
    for gi, size in enumerate(sizes):
        x0 = left + 20 + gi * group_w
        for ni, name in enumerate(names):
            m = next((m for m in meds if m["name"] == name
                      and m["value_bytes"] == size), None)
            if m is None:
                continue
            bh = plot_h * m["records_per_s"] / top
            x = x0 + ni * bar
            out.append(f'<rect x="{x}" y="{h-bottom-bh}" width="{bar-6}"'
                       f' height="{bh}" fill="{colors.get(name, "#5a5")}"/>')
            out.append(f'<text x="{x+(bar-6)/2}" y="{h-bottom-bh-4}"'
                       f' text-anchor="middle" font-size="10">'
                       f'{m["records_per_s"]/1000:.0f}k</text>')
        out.append(f'<text x="{x0+bar*len(names)/2}" y="{h-bottom+18}"'
                   f' text-anchor="middle">{size}-byte values</text>')
    for ni, name in enumerate(names):
        y = h - 12
        x = left + ni * 150
        out.append(f'<rect x="{x}" y="{y-10}" width="12" height="12"'
                   f' fill="{colors.get(name, "#5a5")}"/>')
        out.append(f'<text x="{x+16}" y="{y}">{name}</text>')
    out.append("</svg>")
    open(dst, "w").write("\n".join(out) + "\n")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: chart.py bench.json out.svg")
    main(sys.argv[1], sys.argv[2])
