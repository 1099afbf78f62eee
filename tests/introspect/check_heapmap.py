#!/usr/bin/env python3
"""Checks wee-heapmap's output for a trace: PREFIX-map.svg and
PREFIX-series.svg are well-formed SVG with what they should draw, and the
figures it printed (PREFIX.txt) put the peak's requested bytes at the
trace's known peak.

Usage: check_heapmap.py PREFIX PEAK_BYTES
"""
import sys
import xml.dom.minidom

prefix, peak = sys.argv[1], int(sys.argv[2])
problems = []
figures = {}
for line in open(prefix + ".txt"):
    if line.startswith(("peak:", "end:")):
        name, rest = line.split(":", 1)
        figures[name] = {k: int(v) for k, v in (kv.split("=") for kv in rest.split())}
if figures.get("peak", {}).get("requested_bytes") != peak:
    problems.append("peak requested_bytes %s, not %d" % (figures.get("peak"), peak))
for name in ("peak", "end"):
    f = figures.get(name, {})
    if not (f.get("blocks", 0) > 0 and f.get("live_bytes", 0) >= f.get("requested_bytes", 1)
            and f.get("system_bytes", 0) >= f.get("live_bytes", 1)):
        problems.append("%s figures do not hang together: %s" % (name, f))

svg = xml.dom.minidom.parse(prefix + "-map.svg")
rects = svg.getElementsByTagName("rect")
fills = {r.getAttribute("fill") for r in rects}
if len(rects) < 100 or len(fills) < 5:
    problems.append("map: %d spans in %d colours" % (len(rects), len(fills)))
texts = " ".join(t.firstChild.data for t in svg.getElementsByTagName("text") if t.firstChild)
for want in ("at the peak of live bytes", "at the end", "free, larger"):
    if want not in texts:
        problems.append("map: no '%s'" % want)

svg = xml.dom.minidom.parse(prefix + "-series.svg")
lines = svg.getElementsByTagName("polyline")
if len(lines) != 4 or any(len(l.getAttribute("points").split()) < 100 for l in lines):
    problems.append("series: %d lines" % len(lines))

if problems:
    sys.exit("\n".join(problems))
print("heapmap: %s ok" % prefix)
