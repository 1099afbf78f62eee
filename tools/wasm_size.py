#!/usr/bin/env python3
"""Code size of a wasm32 allocator, measured the way wee_alloc's peers are.

Builds a probe program (default: tests/wasm/size_probe.c, which calls
malloc, free, calloc, realloc and posix_memalign once each) at -Oz, links it
with wasm-ld alone (no wasm-opt, name section kept) against LIB (or against
wasi-libc's own dlmalloc when no LIB is given), and sums the body sizes of
the functions that only the allocator entry points reach: reachable from an
entry point, and not from the module's other roots (exports, the table, the
start function) without passing through one. memcpy, memset and memmove
belong to libc and do not count.

  tools/wasm_size.py [--lib build-wasm/libwee_malloc.a] [--probe FILE]
                     [--entry malloc,free,...] [--budget BYTES] [--list]
                     [--wasm-opt]

--wasm-opt measures after `wasm-opt -Oz` (names kept), which the clang
driver runs on -Oz links when binaryen is installed; the gate and the peers'
figures are without it.

Prints "allocator_bytes=N" (and the functions with --list); exits 1 when N
exceeds --budget.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ENTRIES = "malloc,free,calloc,realloc,posix_memalign,aligned_alloc,malloc_usable_size"
LIBC = {"memcpy", "memset", "memmove"}


def run(cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def build(args, out):
    obj = out + ".o"
    run([args.cc, "--target=wasm32-wasi", "-Oz", "-c", args.probe, "-o", obj])
    # No -O on the link line: the clang driver would run wasm-opt, which
    # drops the name section.
    libs = [args.lib] if args.lib else []
    run([args.cc, "--target=wasm32-wasi", obj, *libs, "-o", out])
    if args.wasm_opt:
        run(["wasm-opt", "-Oz", "-g", out, "-o", out])


def parse(wasm):
    sizes, names, roots = {}, {}, set()
    for line in run(["wasm-objdump", "-x", wasm]).splitlines():
        m = re.match(r"\s*- func\[(\d+)\] size=(\d+)(?: <(.*)>)?", line)
        if m:
            sizes[int(m[1])] = int(m[2])
            names[int(m[1])] = m[3] or "func%s" % m[1]
            continue
        m = re.match(r"\s*- (?:elem\[\d+\] = )?func\[(\d+)\].* -> \"", line)  # export
        m = m or re.match(r"\s*- elem\[\d+\] = func\[(\d+)\]", line)  # table
        m = m or re.match(r"\s*- start function: (\d+)", line)
        if m:
            roots.add(int(m[1]))
    calls, current = {}, None
    for line in run(["wasm-objdump", "-d", wasm]).splitlines():
        m = re.match(r"[0-9a-f]+ func\[(\d+)\]", line)
        if m:
            current = int(m[1])
            calls[current] = set()
            continue
        m = re.search(r"\| +(?:return_)?call (\d+)", line)
        if m and current is not None:
            calls[current].add(int(m[1]))
    return sizes, names, roots, calls


def reach(starts, calls, stop):
    seen, todo = set(), list(starts)
    while todo:
        f = todo.pop()
        if f in seen or f in stop:
            continue
        seen.add(f)
        todo.extend(calls.get(f, ()))
    return seen


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lib", help="allocator archive (default: wasi-libc's dlmalloc)")
    ap.add_argument("--probe", default=os.path.join(HERE, "..", "tests", "wasm", "size_probe.c"))
    ap.add_argument("--entry", default=ENTRIES, help="allocator entry points")
    ap.add_argument("--cc", default=os.environ.get("CC_WASM", "clang"))
    ap.add_argument("--budget", type=int)
    ap.add_argument("--list", action="store_true", help="list the counted functions")
    ap.add_argument("--wasm-opt", action="store_true", help="measure after wasm-opt -Oz")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        wasm = os.path.join(tmp, "probe.wasm")
        build(args, wasm)
        sizes, names, roots, calls = parse(wasm)
    by_name = {n: f for f, n in names.items()}
    entries = {by_name[e] for e in args.entry.split(",") if e in by_name}
    if not entries:
        sys.exit("wasm_size: the probe reaches none of the entry points")
    others = reach(roots, calls, stop=entries)
    mine = reach(entries, calls, stop=set()) - others
    counted = sorted(f for f in mine if names[f] not in LIBC)
    total = sum(sizes[f] for f in counted)
    if args.list:
        for f in counted:
            print("%6d  %s" % (sizes[f], names[f]))
    print("allocator_bytes=%d" % total)
    if args.budget is not None and total > args.budget:
        print("wasm_size: %d bytes is over the budget of %d" % (total, args.budget), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
