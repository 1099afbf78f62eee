#!/usr/bin/env python3
"""Compares builds of libwee_malloc.so side by side: the same benchmarks of
bench/ with each library preloaded, interleaved round by round (the order
rotating), and the median over rounds of each build's time and of its ratio
to the first build's within the round.

Usage: bench/ab.py [--rounds N] [--bench DIR] [--only REGEX] NAME=LIB.so [NAME=LIB.so ...]

DIR holds the bench programs built as scripts/bench builds them (cc -O2):
replay, threads and larson_like (default: build-bench/bench). Cases:
replays (plain, and mixed: with calloc, realloc and posix_memalign) of
tests/traces/sqlite and python, threads and larson_like
at 1 and 2 threads. Prints one markdown table: ns per operation (median),
and the median ratio to the first build.
"""
import argparse
import gzip
import os
import re
import shutil
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def cases(bench):
    out = []
    tdir = os.path.join(bench, "traces-ab")
    os.makedirs(tdir, exist_ok=True)
    for name in ("sqlite", "python"):
        path = os.path.join(tdir, name + ".trace")
        with gzip.open(os.path.join(ROOT, "tests", "traces", name + ".trace.gz"), "rb") as f, \
                open(path, "wb") as g:
            shutil.copyfileobj(f, g)
        for mode in ("plain", "mixed"):
            out.append((f"replay {mode} {name}",
                        [os.path.join(bench, "replay"), "--ops", "2000000", "--bytes",
                         "2000000000", "--name", name] + (["--mixed"] if mode == "mixed" else [])
                        + [path]))
    for prog in ("threads", "larson_like"):
        for t in ("1", "2"):
            out.append((f"{prog} {t}t", [os.path.join(bench, prog), "--threads", t,
                                         "--seconds", "1"]))
    return out


def ns_per_op(text):
    for line in reversed(text.splitlines()):
        if line.startswith("bench="):
            f = dict(kv.split("=", 1) for kv in line.split() if "=" in kv)
            if "ns_per_op_median" in f:
                return float(f["ns_per_op_median"])
            if "ops_per_sec" in f:
                return 1e9 / float(f["ops_per_sec"]) * int(f.get("threads", "1"))
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--bench", default=os.path.join(ROOT, "build-bench", "bench"))
    ap.add_argument("--only", help="only the cases whose name matches (re.search)")
    ap.add_argument("libs", nargs="+")
    a = ap.parse_args()
    libs = [tuple(x.split("=", 1)) for x in a.libs]
    cs = [c for c in cases(a.bench) if not a.only or re.search(a.only, c[0])]
    res = {(c, n): [] for c, _ in cs for n, _ in libs}
    for r in range(a.rounds):
        for c, argv in cs:
            order = libs[r % len(libs):] + libs[:r % len(libs)]
            got = {}
            for n, lib in order:
                env = dict(os.environ, LD_PRELOAD=os.path.abspath(lib))
                env.pop("WEE_ALLOC_STATS", None)
                p = subprocess.run(argv, env=env, capture_output=True, text=True)
                v = ns_per_op(p.stdout)
                if p.returncode != 0 or v is None:
                    sys.exit(f"{c} with {n}: exit {p.returncode}: {p.stderr[:300]}")
                got[n] = v
            for n, _ in libs:
                res[(c, n)].append(got[n])
        print(f"round {r + 1}/{a.rounds} done", file=sys.stderr)
    first = libs[0][0]
    head = "| case | " + " | ".join(f"{n} ns/op" for n, _ in libs) + " | " + \
        " | ".join(f"{n}/{first}" for n, _ in libs[1:]) + " |"
    print(head)
    print("|" + " --- |" * (1 + 2 * len(libs) - 1))
    for c, _ in cs:
        meds = [statistics.median(res[(c, n)]) for n, _ in libs]
        ratios = [statistics.median([x / y for x, y in zip(res[(c, n)], res[(c, first)])])
                  for n, _ in libs[1:]]
        print(f"| {c} | " + " | ".join(f"{m:.2f}" for m in meds) + " | " +
              " | ".join(f"{x:.3f}" for x in ratios) + " |")


main()
