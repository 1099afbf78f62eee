#!/usr/bin/env python3
"""Convert valgrind's --trace-malloc=yes output into a wee_alloc-style trace.

Input: the log of `valgrind --trace-malloc=yes PROGRAM ...` (a file, or stdin
when FILE is `-` or missing). Output, on stdout: one operation a line,

    Alloc(SIZE),    -- the Nth Alloc line (N counted from 0 in file order)
    Free(INDEX),    -- frees the block made by Alloc number INDEX

Record a trace (send valgrind's log to its own file, so that the program's own
stderr cannot get mixed into it; stdout and stdin stay the program's):

    valgrind --trace-malloc=yes --log-file=prog.vglog PROGRAM ARGS... >/dev/null
    python3 tools/valgrind2trace.py prog.vglog | gzip -9n > tests/traces/prog.trace.gz

`2>prog.vglog` instead of --log-file works too, as long as the program itself
writes nothing to stderr.

How calls are mapped (valgrind 3.19 formats; all sizes are in bytes):
  * malloc(N), calloc(N,M) (size N*M), memalign(al A, size N) (which is also how
    posix_memalign, aligned_alloc and valloc are shown), C++ operator new in
    all its forms (_Znwm, _Znam, ...St11align_val_t(size N, al A), ...nothrow)
    and __builtin_new/__builtin_vec_new give an Alloc when they return non-NULL.
    Alignments are dropped: the trace format has no place for them.
  * free, cfree, C++ operator delete in all its forms (_ZdlPv, _ZdaPvm, ...)
    give a Free of the block at that address; free(NULL) and frees of addresses
    that no traced allocation returned are skipped.
  * realloc(p, n) returning r != NULL gives Free(p) (when p is known) + Alloc(n).
    realloc(NULL, n) is an Alloc. realloc(p, 0) is a Free, plus an Alloc(0) if
    it returned non-NULL (memcheck 3.19 frees p and returns NULL). A realloc that returned NULL for n > 0 failed and
    leaves p alive: nothing is written.
  * malloc_usable_size, mallinfo and every other line are ignored.

Quirks of the format that the parser handles:
  * Calls nest on one line: `realloc(0x0,40)malloc(40) = 0x4A42100` (realloc of
    NULL is shown as the realloc header directly followed by the malloc it
    turned into) and `realloc(0x4A42170,0)free(0x4A42170)` whose result comes
    on the NEXT line as `--PID--  = 0`.
  * An allocation that fails before reaching the allocator prints no result at
    all, and the next call is glued to it: `calloc(4611686018427387903,8)realloc(...`.
  * Results are printed as `0x...` (%p), but `0` after realloc(p, 0) and a
    decimal number after malloc_usable_size.

Processes: only the lines of the first process id seen in the log (valgrind's
banner names the traced program's own pid first) are used. Children that the
program forks print their own pid and are ignored: their address space is a
copy, so mixing their calls into the parent's would corrupt the address map.
`--pid N` picks another pid. Calls are assumed to be printed one at a time, as
valgrind runs one thread at a time; for the cleanest traces record
single-threaded programs.

Unless --quiet, a summary (counts, skipped calls) is printed on stderr, and a
cross-check with memcheck's own "total heap usage: N allocs, N frees, N bytes"
line of the same process: for a clean recording the trace's Alloc and Free
counts and its summed Alloc sizes equal those three numbers exactly.
"""

import argparse
import re
import sys

PREFIX = re.compile(r"^(--|==|\*\*)(\d+)(--|==|\*\*) ?")
SUMMARY = re.compile(r"total heap usage: ([\d,]+) allocs, ([\d,]+) frees, ([\d,]+) bytes")
RESULT = re.compile(r"\s*= (0x[0-9A-Fa-f]+|\d+)")
CALL = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\(([^()]*)\)")

# Allocation functions whose only argument is the size.
SIZE_ALLOCS = {
    "malloc",
    "_Znwm",
    "_Znam",
    "_ZnwmRKSt9nothrow_t",
    "_ZnamRKSt9nothrow_t",
    "_Znwj",
    "_Znaj",
    "_ZnwjRKSt9nothrow_t",
    "_ZnajRKSt9nothrow_t",
    "__builtin_new",
    "__builtin_vec_new",
}
# Allocation functions printed as NAME(size N, al A) or memalign(al A, size N).
ALIGNED_ALLOCS = {
    "memalign",
    "_ZnwmSt11align_val_t",
    "_ZnamSt11align_val_t",
    "_ZnwmSt11align_val_tRKSt9nothrow_t",
    "_ZnamSt11align_val_tRKSt9nothrow_t",
    "_ZnwjSt11align_val_t",
    "_ZnajSt11align_val_t",
    "_ZnwjSt11align_val_tRKSt9nothrow_t",
    "_ZnajSt11align_val_tRKSt9nothrow_t",
}
# Functions that only query; their result (if any) is consumed and dropped.
QUERIES = {"malloc_usable_size", "mallinfo", "malloc_size", "malloc_trim"}


def is_free_name(name):
    return name in ("free", "cfree", "__builtin_delete", "__builtin_vec_delete") or (
        name.startswith("_ZdlPv") or name.startswith("_ZdaPv")
    )


def is_known(name):
    return (
        name in SIZE_ALLOCS
        or name in ALIGNED_ALLOCS
        or name in QUERIES
        or name in ("calloc", "realloc")
        or is_free_name(name)
    )


def parse_int(text):
    return int(text, 16) if text.startswith(("0x", "0X")) else int(text)


class Converter:
    """State machine turning the stream of calls into trace operations."""

    def __init__(self, out):
        self.out = out
        self.live = {}  # address -> alloc index
        self.next_index = 0
        self.alloc_bytes = 0
        self.pending = None  # ("alloc", size) or ("query",): awaits " = R"
        self.realloc = None  # [old_ptr, new_size, freed] of a realloc in progress
        self.stats = dict(
            allocs=0, frees=0, free_null=0, free_unknown=0, failed=0,
            realloc_failed=0, unpaired=0, other_pid_lines=0, bad_calls=0,
        )

    # -- trace output -------------------------------------------------------
    def emit_alloc(self, size, addr):
        if addr in self.live:
            # The allocator handed out an address we still think is live:
            # only possible if a free was missed. Retire the old block.
            self.emit_free(addr)
        self.out.write("Alloc(%d),\n" % size)
        self.live[addr] = self.next_index
        self.next_index += 1
        self.stats["allocs"] += 1
        self.alloc_bytes += size

    def emit_free(self, addr):
        if addr == 0:
            self.stats["free_null"] += 1
            return
        index = self.live.pop(addr, None)
        if index is None:
            self.stats["free_unknown"] += 1
            return
        self.out.write("Free(%d),\n" % index)
        self.stats["frees"] += 1

    # -- events -------------------------------------------------------------
    def drop_unfinished(self):
        """A new call started while the previous one awaited its result:
        the previous one failed without printing one (returned NULL)."""
        if self.pending is not None:
            if self.pending[0] == "alloc":
                self.stats["failed"] += 1
            self.pending = None

    def call(self, name, args):
        self.drop_unfinished()
        if self.realloc is not None:
            old, size, _ = self.realloc
            nested = (old == 0 and name == "malloc") or (
                size == 0 and is_free_name(name) and parse_int(args.strip()) == old
            )
            if not nested:
                # The realloc in progress ended without printing its result.
                self.stats["unpaired"] += 1
                self.realloc = None
        if name in SIZE_ALLOCS:
            self.pending = ("alloc", parse_int(args.strip()))
        elif name in ALIGNED_ALLOCS:
            m = re.search(r"size (\d+)", args)
            self.pending = ("alloc", int(m.group(1)) if m else 0)
        elif name == "calloc":
            n, m = (parse_int(x.strip()) for x in args.split(","))
            self.pending = ("alloc", n * m)
        elif name == "realloc":
            p, n = (x.strip() for x in args.split(","))
            self.realloc = [parse_int(p), parse_int(n), False]
        elif is_free_name(name):
            addr = parse_int(args.strip())
            if self.realloc is not None:
                self.realloc[2] = True  # realloc(p, 0) shown as free(p)
            self.emit_free(addr)
        else:
            self.pending = ("query",)

    def result(self, value):
        if self.pending is not None:
            kind = self.pending
            self.pending = None
            if kind[0] == "alloc":
                if value == 0:
                    self.stats["failed"] += 1
                else:
                    self.emit_alloc(kind[1], value)
                if self.realloc is not None and self.realloc[0] == 0:
                    # realloc(NULL, n) shown as the malloc it became.
                    self.realloc = None
            return
        if self.realloc is not None:
            old, size, freed = self.realloc
            self.realloc = None
            if value == 0 and size != 0:
                self.stats["realloc_failed"] += 1  # old block stays
                return
            if old != 0 and not freed:
                self.emit_free(old)
            if value != 0:
                self.emit_alloc(size, value)
            return
        self.stats["unpaired"] += 1  # a result that no call awaited

    def line(self, rest):
        """Parse what follows the `--PID-- ` prefix of one line."""
        pos = 0
        while pos < len(rest):
            m = RESULT.match(rest, pos)
            if m:
                self.result(parse_int(m.group(1)))
                pos = m.end()
                continue
            m = CALL.match(rest, pos)
            if m and is_known(m.group(1)):
                try:
                    self.call(m.group(1), m.group(2))
                except ValueError:  # arguments not in the expected form
                    self.stats["bad_calls"] += 1
                    break
                pos = m.end()
                continue
            break  # not a malloc-trace line (or trailing text): ignore rest

    def finish(self):
        self.drop_unfinished()
        if self.realloc is not None:
            self.stats["unpaired"] += 1
            self.realloc = None


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Convert `valgrind --trace-malloc=yes` output to an "
        "Alloc(SIZE),/Free(INDEX), trace on stdout."
    )
    ap.add_argument("file", nargs="?", default="-",
                    help="valgrind log file, or - for stdin (default)")
    ap.add_argument("--pid", type=int, default=None,
                    help="process id to take (default: the first one seen)")
    ap.add_argument("--quiet", action="store_true",
                    help="do not print the summary on stderr")
    opts = ap.parse_args(argv)

    if opts.file == "-":
        src = sys.stdin
    else:
        src = open(opts.file, "r", encoding="utf-8", errors="replace")
    conv = Converter(sys.stdout)
    pid = opts.pid
    summary = None
    with src:
        for raw in src:
            m = PREFIX.match(raw)
            if not m or m.group(1) != m.group(3):
                continue
            this_pid = int(m.group(2))
            if pid is None:
                pid = this_pid
            if this_pid != pid:
                conv.stats["other_pid_lines"] += 1
                continue
            if m.group(1) == "--":
                conv.line(raw[m.end():].rstrip("\r\n"))
            else:
                sm = SUMMARY.search(raw)
                if sm:
                    summary = tuple(int(x.replace(",", "")) for x in sm.groups())
    conv.finish()
    sys.stdout.flush()

    if not opts.quiet:
        s = conv.stats
        print(
            "valgrind2trace: pid %s: %d ops (%d Alloc, %d Free), %d live at end; "
            "skipped: %d free(NULL), %d free of unknown address, "
            "%d failed alloc, %d failed realloc, %d unpaired calls/results, "
            "%d unparsable calls, %d lines of other pids"
            % (pid, s["allocs"] + s["frees"], s["allocs"], s["frees"],
               len(conv.live), s["free_null"], s["free_unknown"], s["failed"],
               s["realloc_failed"], s["unpaired"], s["bad_calls"],
               s["other_pid_lines"]),
            file=sys.stderr,
        )
        # Cross-check with memcheck's own HEAP SUMMARY of the same process.
        ours = (s["allocs"], s["frees"], conv.alloc_bytes)
        if summary is None:
            print("valgrind2trace: no HEAP SUMMARY found to cross-check with",
                  file=sys.stderr)
        elif summary == ours:
            print("valgrind2trace: agrees with valgrind's HEAP SUMMARY "
                  "(%d allocs, %d frees, %d bytes)" % ours, file=sys.stderr)
        else:
            print("valgrind2trace: WARNING: valgrind's HEAP SUMMARY says "
                  "%d allocs, %d frees, %d bytes; the trace has %d, %d, %d (failed "
                  "allocations can explain this)"
                  % (summary + ours), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
