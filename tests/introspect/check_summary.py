#!/usr/bin/env python3
"""Runs trace_summary on a trace with WEE_ALLOC_STATS=json and checks the
exit summary against the trace's own figures: the bytes still live at the
end, the peak of live bytes, the numbers of allocations and frees, and
that the figures hang together (memory from the system covers the live
blocks and the free ones).

Usage: check_summary.py TRACE_SUMMARY_PROGRAM TRACE.gz
"""
import gzip
import json
import os
import re
import subprocess
import sys


def trace_figures(path):
    sizes, live, peak, allocs, frees = [], 0, 0, 0, 0
    freed = set()
    with gzip.open(path, "rt") as f:
        for line in f:
            line = line.strip().rstrip(",")
            if not line:
                continue
            m = re.fullmatch(r"(Alloc|Free)\((\d+)\)", line)
            if not m:
                sys.exit("bad trace line: %r" % line)
            n = int(m.group(2))
            if m.group(1) == "Alloc":
                sizes.append(n)
                live += n
                allocs += 1
                peak = max(peak, live)
            else:
                live -= sizes[n]
                freed.add(n)
                frees += 1
    return live, peak, allocs, frees, len(sizes) - len(freed)


def main():
    program, trace = sys.argv[1], sys.argv[2]
    live, peak, allocs, frees, blocks = trace_figures(trace)
    env = dict(os.environ, WEE_ALLOC_STATS="json")
    env.pop("LD_PRELOAD", None)
    with gzip.open(trace, "rb") as f:
        data = f.read()
    p = subprocess.run([program], input=data, env=env, capture_output=True)
    if p.returncode != 0:
        sys.exit("trace_summary exits %d: %s" % (p.returncode, p.stderr.decode()))
    base = dict(kv.split("=") for kv in p.stdout.decode().split())
    base = {k: int(v) for k, v in base.items()}
    lines = p.stderr.decode().splitlines()
    if len(lines) != 1:
        sys.exit("expected one line of JSON on stderr, got: %r" % p.stderr.decode())
    s = json.loads(lines[0])
    problems = []

    def want(name, ok, detail):
        if not ok:
            problems.append("%s: %s" % (name, detail))

    want("live_requested_bytes", s["live_requested_bytes"] == base["baseline_requested"] + live,
         "%d, the trace leaves %d live (+%d before)" % (s["live_requested_bytes"], live,
                                                       base["baseline_requested"]))
    want("peak_requested_bytes", s["peak_requested_bytes"] == base["baseline_requested"] + peak,
         "%d, the trace peaks at %d (+%d before)" % (s["peak_requested_bytes"], peak,
                                                     base["baseline_requested"]))
    want("allocs", s["allocs"] == base["baseline_allocs"] + allocs,
         "%d, the trace allocates %d times" % (s["allocs"], allocs))
    want("frees", s["frees"] == base["baseline_frees"] + frees,
         "%d, the trace frees %d times" % (s["frees"], frees))
    # Each block costs its size, rounded up to 16 with the size word, or a
    # cell header more; a live block takes at most 48 bytes more than asked,
    # and a large one (a mapping of its own) up to a page more.
    want("live_bytes", s["live_requested_bytes"] <= s["live_bytes"] <=
         s["live_requested_bytes"] + 48 * (blocks + base["baseline_allocs"]) +
         4096 * s["mapped_blocks"],
         "%d for %d requested in %d blocks" % (s["live_bytes"], s["live_requested_bytes"], blocks))
    want("peak_bytes", s["peak_bytes"] >= s["peak_requested_bytes"], str(s["peak_bytes"]))
    want("system_bytes",
         s["system_bytes"] >= s["live_bytes"] + s["free_small_bytes"] + s["free_large_bytes"],
         "%d does not cover live %d + free %d + %d" % (s["system_bytes"], s["live_bytes"],
                                                       s["free_small_bytes"],
                                                       s["free_large_bytes"]))
    want("system_peak_bytes", s["system_peak_bytes"] >= s["system_bytes"],
         str(s["system_peak_bytes"]))
    want("largest_free_bytes", s["largest_free_bytes"] <=
         s["free_large_bytes"] + s["free_small_bytes"], str(s["largest_free_bytes"]))
    want("failures", s["failures"] == 0, str(s["failures"]))
    want("released_bytes", s["released_bytes"] <= s["backend_bytes"], str(s["released_bytes"]))
    if problems:
        print("\n".join(problems))
        print("summary: %s" % lines[0])
        sys.exit(1)
    print("%s: live %d, peak %d, %d allocs, %d frees: the summary agrees" %
          (os.path.basename(trace), live, peak, allocs, frees))


main()
