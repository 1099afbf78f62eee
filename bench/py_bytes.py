"""py_bytes: builds a list of bytes objects of 1 to 8 KiB, thins it and
grows it again with slightly larger ones, checking every object; a benchmark
of the allocator under a real interpreter (run as
`python3 bench/py_bytes.py [N]`, under LD_PRELOAD).

N objects (default 200,000) of random sizes from 1 to 8 KiB (Python takes
blocks above 512 bytes from malloc, not from its own small-object pools),
each a copy of a slice of a pattern so that every byte is written. Then,
three times: every other object is deleted, and as many are appended,
each slightly larger (an eighth plus 64 bytes) than one deleted. Prints one
line `py_bytes: ok ...` and exits 0 if every object reads back as stored,
1 (with a message) if not.
"""

import random
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 200000
rng = random.Random(13)
pattern = bytes(range(256)) * 64  # 16 KiB


def make(size):
    off = rng.randrange(256)
    return pattern[off:off + size]


def good(b, size):
    return len(b) == size and b[1] == (b[0] + 1) % 256 and b[-1] == (b[0] + size - 1) % 256


objs = [make(rng.randint(1024, 8192)) for _ in range(n)]
sizes = [len(b) for b in objs]
for step in range(3):
    start = step % 2
    gone = sizes[start::2]
    del objs[start::2]
    del sizes[start::2]
    for s in gone:
        s = s + s // 8 + 64
        objs.append(make(s))
        sizes.append(s)

bad = sum(1 for b, s in zip(objs, sizes) if not good(b, s))
if bad or len(objs) != n:
    sys.stderr.write(f"py_bytes: {bad} of {len(objs)} objects wrong (expected {n})\n")
    sys.exit(1)
print(f"py_bytes: ok objects={len(objs)} bytes={sum(sizes)}")
