#!/usr/bin/env python3
"""Writes seed inputs for the fuzzer (tests/fuzz/fuzz_heap.c) from allocation
traces (Alloc(SIZE), / Free(INDEX), lines, plain or gzipped), one input per
trace, plus a few inputs that mix every operation the fuzzer knows.

Each input replays the start of its trace, up to MAX_BYTES bytes of
operations: an Alloc becomes a small alloc (op 0) or an alloc (op 1) with
alignment 16, clamped to the fuzzer's size cap; a Free becomes a free (op 4)
of the block's place in the fuzzer's list of live blocks, which this script
keeps the same way (append; a freed block's place takes the last block).
Allocations beyond the fuzzer's 256 live blocks are left out, and so are
their frees.

Usage: tools/trace_to_fuzz.py OUTDIR TRACE...
  e.g. tools/trace_to_fuzz.py tests/fuzz/corpus /work/shared/traces/*.trace tests/traces/*.trace.gz
"""
import gzip
import os
import random
import re
import sys

MAX_LIVE = 256
SIZE_CAP = 128 * 1024
SMALL_CAP = 640
MAX_BYTES = 16384
ALIGN16 = 4  # align byte: 2^(b % 5)

LINE = re.compile(r"\s*(Alloc|Free)\((\d+)\),?\s*$")


def read_trace(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt") as f:
        for line in f:
            m = LINE.match(line)
            if m:
                yield m.group(1), int(m.group(2))


def trace_input(path):
    out = bytearray()
    live = []  # trace block index at each place of the fuzzer's list
    place = {}  # trace block index -> place in `live`
    n = 0
    for kind, arg in read_trace(path):
        if kind == "Alloc":
            index, n = n, n + 1
            if len(live) >= MAX_LIVE:
                continue
            size = min(arg, SIZE_CAP - 1)
            if size < SMALL_CAP:
                op = bytes([0, size >> 8, size & 255, ALIGN16])
            else:
                op = bytes([1, size >> 16, (size >> 8) & 255, size & 255, ALIGN16])
            place[index] = len(live)
            live.append(index)
        else:
            if arg not in place:
                continue
            i = place.pop(arg)
            last = live.pop()
            if last != arg:
                live[i] = last
                place[last] = i
            op = bytes([4, i])
        if len(out) + len(op) > MAX_BYTES:
            break
        out += op
    return bytes(out)


def mixed_input(seed, length):
    """Random operations of every kind, in the fuzzer's format."""
    rng = random.Random(seed)
    out = bytearray()
    while len(out) < length:
        op = rng.choice([0, 0, 0, 1, 2, 3, 4, 4, 4, 4, 5, 5, 6, 7])
        if op == 6:  # fault injection now and then, lifted soon after
            op_bytes = [6, rng.randrange(0, 256)]
        else:
            op_bytes = [op + 8 * rng.randrange(0, 32)] + [rng.randrange(0, 256) for _ in range(4)]
        out += bytes(op_bytes)
    return bytes(out)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    for path in sys.argv[2:]:
        name = os.path.basename(path).split(".")[0]
        data = trace_input(path)
        with open(os.path.join(outdir, "trace-" + name), "wb") as f:
            f.write(data)
    for seed, length in enumerate([64, 512, 4096, 16384]):
        with open(os.path.join(outdir, "mixed-%d" % seed), "wb") as f:
            f.write(mixed_input(seed, length))


if __name__ == "__main__":
    main()
