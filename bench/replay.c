/*
 * replay: a benchmark that replays a malloc/free trace many times on one
 * heap and reports time per operation and memory taken, as one line of
 * key=value fields.
 *
 * Usage: replay [--repeat N | --ops N [--bytes N]] [--mixed] [--name NAME] FILE
 *
 * FILE (`-` for standard input) holds one operation a line, `Alloc(SIZE),`
 * or `Free(INDEX),` where INDEX counts the Alloc lines from 0 (wee_alloc's
 * trace format). Blank lines, surrounding blanks and a missing final comma
 * are accepted.
 *
 *   --repeat N  replay the trace N times (default 1);
 *   --ops N     replay it ceil(N / ops in the trace) times instead;
 *   --bytes N   with --ops: at most ceil(N / bytes allocated in one replay)
 *               times (traces of large blocks spend their time writing and
 *               checking them);
 *   --mixed     also exercise calloc, realloc (grow and shrink) and
 *               posix_memalign with alignments 16 and 64, derived from
 *               the trace deterministically (see derive_mixed);
 *   --name NAME the trace's name in the output (default: the file name
 *               without directory and extensions).
 *
 * The whole trace is read, validated and turned into a flat list of
 * operations before the clock starts; only the replays are timed. Each
 * replay runs the list from the start on the same heap: every block gets a
 * pattern written over all its bytes (derived from its index, the replay
 * number and the offset) that is checked before the block is freed or
 * resized, and blocks the trace leaves live are checked and freed at the
 * end of each replay. calloc blocks must read as zeros, and every block
 * must be aligned to 16, or for a block of fewer than 16 bytes to the
 * largest power of two not above its size (what C11 requires of any object
 * that fits in it); posix_memalign blocks to their alignment.
 *
 * The allocator is whatever provides malloc, free, calloc, realloc and
 * posix_memalign: the C library's, or one given with LD_PRELOAD. The
 * harness's own memory (the file, the operation list, the block table)
 * comes from mmap, so it does not mix with the heap under test. On
 * wasm32-wasi it comes from malloc and is kept until exit.
 *
 * Output (stdout, one line):
 *
 *   bench=replay trace=NAME mode=plain|mixed ops=... allocs=... repeat=...
 *   bytes=... seconds=... ns_per_op=... ns_per_op_median=...
 *   peak_live_bytes=... mem=rss|wasm mem_base_kb=... mem_peak_kb=...
 *   heap_peak_kb=... errors=...
 *
 * ops counts operations per replay (in mixed mode reallocs included), bytes
 * the bytes they allocate (the new sizes of reallocs included),
 * ns_per_op is the replay time divided by ops * repeat. The replays are
 * also timed in up to CHUNKS consecutive groups of equal size (the last one
 * may be shorter): ns_per_op_median is the median of the groups' ns per
 * operation, which a short disturbance of the machine does not move.
 * peak_live_bytes is the largest sum of requested sizes live at once.
 * Natively, mem_base_kb
 * is the resident set (VmRSS) just before the first replay, after the peak
 * was reset through /proc/self/clear_refs, and mem_peak_kb the peak
 * resident set (VmHWM) after the last; heap_peak_kb is their difference.
 * On wasm32-wasi they are the linear memory above __heap_base, before and
 * after. Problems go to stderr (at most 10); the exit status is 0 if there
 * were none, 1 if a replay found one, 2 on a usage or trace error.
 *
 * Build: cc -std=c11 -O2 -Wall -Wextra -Werror -fno-builtin-malloc \
 *          -fno-builtin-free -fno-builtin-calloc -fno-builtin-realloc \
 *          -o replay bench/replay.c
 *        clang --target=wasm32-wasi -O2 -o replay.wasm bench/replay.c
 */
#define _DEFAULT_SOURCE
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifndef __wasi__
#include <sys/mman.h>
#endif

#include "../tests/support/pattern.h"
#include "../tests/support/trace.h"
#include "clock_memory.h"

#define MAX_REPORTS 10
#define CHUNKS      10 /* timed groups of replays */
#define NO_BLOCK    UINT32_MAX
#define GOLDEN      PATTERN_GOLDEN

enum op_kind {
    OP_FREE,
    OP_MALLOC,
    OP_CALLOC,
    OP_ALIGN16, /* posix_memalign(16) */
    OP_ALIGN64, /* posix_memalign(64) */
    OP_REALLOC, /* resize a live block to size */
};

struct op {
    uint32_t kind;
    uint32_t block; /* index of the block allocated, freed or resized */
    size_t size;    /* new size for allocations and reallocs */
};

struct oplist {
    struct op *ops;
    size_t n, cap;
};

/* ------------------------------------------------------------------------ */
/* The harness's own memory: never from the allocator under test natively.  */

static void fatal(const char *msg) {
    fprintf(stderr, "replay: %s\n", msg);
    exit(2);
}

static void *harness_alloc(size_t bytes) {
    if (bytes == 0)
        bytes = 1;
#ifdef __wasi__
    void *p = calloc(1, bytes);
#else
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        p = NULL;
#endif
    if (p == NULL)
        fatal("out of memory for the harness");
    memset(p, 0, bytes); /* make it resident now, not during the replays */
    return p;
}

static void harness_free(void *p, size_t bytes) {
#ifdef __wasi__
    (void)bytes;
    (void)p; /* kept: freed memory would be reused by the heap under test */
#else
    if (p != NULL)
        munmap(p, bytes ? bytes : 1);
#endif
}

/* Grows an array of count elements of elem bytes to hold at least need. */
static void *harness_grow(void *p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap)
        return p;
    size_t ncap = *cap ? *cap : 1024;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2 / elem)
            fatal("trace too large");
        ncap *= 2;
    }
    void *q = harness_alloc(ncap * elem);
    if (p != NULL) {
        memcpy(q, p, *cap * elem);
        harness_free(p, *cap * elem);
    }
    *cap = ncap;
    return q;
}

static void push_op(struct oplist *l, uint32_t kind, uint32_t block, size_t size) {
    l->ops = harness_grow(l->ops, &l->cap, l->n + 1, sizeof *l->ops);
    l->ops[l->n].kind = kind;
    l->ops[l->n].block = block;
    l->ops[l->n].size = size;
    l->n++;
}

/* ------------------------------------------------------------------------ */
/* Loading.                                                                   */

static char *read_file(const char *path, size_t *len, size_t *cap) {
    int fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY);
    if (fd < 0) {
        fprintf(stderr, "replay: cannot open %s: %s\n", path, strerror(errno));
        exit(2);
    }
    char *buf = NULL;
    size_t n = 0;
    *cap = 0;
    for (;;) {
        buf = harness_grow(buf, cap, n + 65536, 1);
        ssize_t got = read(fd, buf + n, *cap - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            fprintf(stderr, "replay: cannot read %s: %s\n", path, strerror(errno));
            exit(2);
        }
        if (got == 0)
            break;
        n += (size_t)got;
    }
    if (fd != 0)
        close(fd);
    *len = n;
    return buf;
}

/* Reads the trace into plain operations; counts blocks in *nblocks. */
static void load_trace(const char *name, const char *buf, size_t len, struct oplist *out,
                       uint32_t *nblocks) {
    unsigned char *freed = NULL;
    size_t freed_cap = 0, line = 0;
    uint32_t blocks = 0;
    const char *p = buf, *end = buf + len, *s, *e;
    while (trace_next_line(&p, end, &s, &e)) {
        line++;
        if (s == e)
            continue;
        enum trace_kind parsed;
        size_t arg;
        if (trace_parse_line(s, e, &parsed, &arg) != NULL) {
            fprintf(stderr, "%s:%zu: expected Alloc(SIZE), or Free(INDEX),\n", name, line);
            exit(2);
        }
        uint32_t kind = parsed == TRACE_ALLOC ? OP_MALLOC : OP_FREE;
        if (kind == OP_MALLOC) {
            if (blocks == NO_BLOCK - 1)
                fatal("too many allocations in the trace");
            if (arg > (size_t)PTRDIFF_MAX / 4) {
                fprintf(stderr, "%s:%zu: size too large\n", name, line);
                exit(2);
            }
            freed = harness_grow(freed, &freed_cap, (size_t)blocks + 1, 1);
            freed[blocks] = 0;
            push_op(out, OP_MALLOC, blocks++, arg);
        } else {
            if (arg >= blocks || freed[arg]) {
                fprintf(stderr, "%s:%zu: Free(%zu) of a block %s\n", name, line, arg,
                        arg >= blocks ? "not allocated yet" : "already freed");
                exit(2);
            }
            freed[arg] = 1;
            push_op(out, OP_FREE, (uint32_t)arg, 0);
        }
    }
    harness_free(freed, freed_cap);
    *nblocks = blocks;
}

static uint64_t mix64(uint64_t z) { return pattern_mix64(z); }

/*
 * The mixed workload, from the plain one. For block b, r = mix64(b + salt):
 *   - r % 16 is 0 or 1: the block comes from calloc, 2: posix_memalign(16),
 *     3: posix_memalign(64), otherwise malloc;
 *   - if (r >> 8) % 4 == 0, the most recent block, if still live, is first
 *     resized with realloc: grown to twice its size plus (r >> 32) % 64
 *     when bit 16 of r is set and the block is at most 1 MiB, else shrunk
 *     to half its size (at least 1 byte).
 * Frees stay where the trace has them.
 */
static void derive_mixed(const struct oplist *plain, uint32_t nblocks, struct oplist *out) {
    size_t cap_live = 0, cap_size = 0;
    unsigned char *live = harness_grow(NULL, &cap_live, nblocks + (size_t)1, 1);
    size_t *size = harness_grow(NULL, &cap_size, nblocks + (size_t)1, sizeof *size);
    uint32_t last = NO_BLOCK;
    for (size_t i = 0; i < plain->n; i++) {
        const struct op *o = &plain->ops[i];
        if (o->kind == OP_FREE) {
            live[o->block] = 0;
            push_op(out, OP_FREE, o->block, 0);
            continue;
        }
        uint64_t r = mix64(o->block + UINT64_C(0x5EED));
        if ((r >> 8) % 4 == 0 && last != NO_BLOCK && live[last]) {
            size_t old = size[last], now;
            if ((r >> 16) & 1 && old <= ((size_t)1 << 20))
                now = old * 2 + (size_t)((r >> 32) % 64);
            else
                now = old / 2 ? old / 2 : 1;
            size[last] = now;
            push_op(out, OP_REALLOC, last, now);
        }
        uint32_t kind = OP_MALLOC;
        switch (r % 16) {
        case 0:
        case 1:
            kind = OP_CALLOC;
            break;
        case 2:
            kind = OP_ALIGN16;
            break;
        case 3:
            kind = OP_ALIGN64;
            break;
        }
        live[o->block] = 1;
        size[o->block] = o->size;
        last = o->block;
        push_op(out, kind, o->block, o->size);
    }
    harness_free(live, cap_live);
    harness_free(size, cap_size * sizeof *size);
}

/* Largest sum of live sizes over one replay of a list. */
static size_t peak_live(const struct oplist *l, uint32_t nblocks) {
    size_t cap = 0, live = 0, peak = 0;
    size_t *size = harness_grow(NULL, &cap, nblocks + (size_t)1, sizeof *size);
    for (size_t i = 0; i < l->n; i++) {
        const struct op *o = &l->ops[i];
        if (o->kind == OP_FREE) {
            live -= size[o->block];
        } else {
            if (o->kind == OP_REALLOC)
                live -= size[o->block];
            size[o->block] = o->size;
            live += o->size;
        }
        if (live > peak)
            peak = live;
    }
    harness_free(size, cap * sizeof *size);
    return peak;
}

/* ------------------------------------------------------------------------ */
/* Block contents: tests/support/pattern.h.                                  */

static inline void fill(unsigned char *p, size_t from, size_t to, uint64_t seed) {
    pattern_fill(p, from, to, seed);
}

/* Offset of the first byte in [0, to) that differs from the pattern, or
 * SIZE_MAX. */
static inline size_t check(const unsigned char *p, size_t to, uint64_t seed) {
    return pattern_mismatch(p, 0, to, seed);
}

/* ------------------------------------------------------------------------ */
/* Replay.                                                                    */

struct heap_state {
    unsigned char **ptr; /* per block: the live block or NULL */
    size_t *size;        /* per block: its current size */
    uint32_t nblocks;
    unsigned rep;
    unsigned long errors;
};

static void problem(struct heap_state *h, size_t op, const char *what, uint32_t block,
                    size_t size) {
    if (h->errors < MAX_REPORTS)
        fprintf(stderr, "replay %u, op %zu: %s (block %u, size %zu)\n", h->rep, op, what,
                (unsigned)block, size);
    else if (h->errors == MAX_REPORTS)
        fprintf(stderr, "replay: further problems not shown\n");
    h->errors++;
}

static inline uint64_t seed_of(const struct heap_state *h, uint32_t block) {
    return mix64((uint64_t)block * GOLDEN + h->rep);
}

static void check_and_free(struct heap_state *h, size_t op, uint32_t b) {
    unsigned char *p = h->ptr[b];
    if (p == NULL)
        return;
    if (check(p, h->size[b], seed_of(h, b)) != SIZE_MAX)
        problem(h, op, "block contents changed", b, h->size[b]);
    free(p);
    h->ptr[b] = NULL;
}

static bool aligned_to(const void *p, uintptr_t align) { return (uintptr_t)p % align == 0; }

/* The alignment a block of size bytes must have: 16 from 16 bytes, else
 * the largest power of two not above size. */
static uintptr_t required_align(size_t size) {
    uintptr_t a = 16;
    while (a > 1 && a > size)
        a /= 2;
    return a;
}

static void replay_once(struct heap_state *h, const struct oplist *l) {
    for (size_t i = 0; i < l->n; i++) {
        const struct op *o = &l->ops[i];
        uint32_t b = o->block;
        size_t size = o->size;
        unsigned char *p = NULL;
        switch ((enum op_kind)o->kind) {
        case OP_FREE:
            check_and_free(h, i, b);
            continue;
        case OP_MALLOC:
            p = malloc(size);
            break;
        case OP_CALLOC:
            /* Whole words as count x 8 when possible, else bytes. */
            p = size % 8 == 0 ? calloc(size / 8, 8) : calloc(size, 1);
            if (p != NULL) {
                for (size_t k = 0; k < size; k++)
                    if (p[k] != 0) {
                        problem(h, i, "calloc block not zeroed", b, size);
                        break;
                    }
            }
            break;
        case OP_ALIGN16:
        case OP_ALIGN64: {
            size_t align = o->kind == OP_ALIGN16 ? 16 : 64;
            void *q = NULL;
            int rc = posix_memalign(&q, align, size);
            if (rc != 0)
                q = NULL;
            p = q;
            if (p != NULL && !aligned_to(p, align))
                problem(h, i, "posix_memalign block misaligned", b, size);
            break;
        }
        case OP_REALLOC: {
            unsigned char *old = h->ptr[b];
            if (old == NULL)
                continue; /* its allocation failed; already reported */
            size_t old_size = h->size[b];
            size_t keep = old_size < size ? old_size : size;
            p = realloc(old, size);
            if (p == NULL) {
                problem(h, i, "realloc returned NULL", b, size);
                continue; /* the old block stays, with its old size */
            }
            if (check(p, keep, seed_of(h, b)) != SIZE_MAX)
                problem(h, i, "realloc lost the contents", b, size);
            if (!aligned_to(p, required_align(size)))
                problem(h, i, "realloc block misaligned", b, size);
            if (size > keep)
                fill(p, keep, size, seed_of(h, b));
            h->ptr[b] = p;
            h->size[b] = size;
            continue;
        }
        }
        if (p == NULL) {
            if (size != 0)
                problem(h, i, "allocation returned NULL", b, size);
        } else {
            if (!aligned_to(p, required_align(size)))
                problem(h, i, "block misaligned", b, size);
            fill(p, 0, size, seed_of(h, b));
        }
        h->ptr[b] = p;
        h->size[b] = size;
    }
    for (uint32_t b = 0; b < h->nblocks; b++)
        check_and_free(h, l->n, b);
}

/* ------------------------------------------------------------------------ */

static void usage(void) {
    fprintf(stderr, "usage: replay [--repeat N | --ops N] [--mixed] [--name NAME] FILE\n");
    exit(2);
}

static unsigned long parse_count(const char *s) {
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno != 0 || *s < '0' || *s > '9' || *end != '\0' || v == 0 || v > UINT_MAX)
        usage();
    return v;
}

/* The file name without directory and extensions. */
static void default_name(const char *path, char *out, size_t cap) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strcspn(base, ".");
    if (n == 0 || strcmp(path, "-") == 0) {
        snprintf(out, cap, "stdin");
        return;
    }
    snprintf(out, cap, "%.*s", (int)(n < cap - 1 ? n : cap - 1), base);
}

int main(int argc, char **argv) {
    unsigned long repeat = 1, target_ops = 0, target_bytes = 0;
    bool mixed = false;
    const char *file = NULL, *name = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--mixed") == 0)
            mixed = true;
        else if (strcmp(a, "--repeat") == 0 && i + 1 < argc)
            repeat = parse_count(argv[++i]);
        else if (strcmp(a, "--ops") == 0 && i + 1 < argc)
            target_ops = parse_count(argv[++i]);
        else if (strcmp(a, "--bytes") == 0 && i + 1 < argc)
            target_bytes = parse_count(argv[++i]);
        else if (strcmp(a, "--name") == 0 && i + 1 < argc)
            name = argv[++i];
        else if (a[0] == '-' && a[1] != '\0')
            usage();
        else if (file == NULL)
            file = a;
        else
            usage();
    }
    if (file == NULL)
        usage();
    char name_buf[64];
    if (name == NULL) {
        default_name(file, name_buf, sizeof name_buf);
        name = name_buf;
    }

    /* Load and prepare everything before the clock starts. */
    size_t len, buf_cap;
    char *buf = read_file(file, &len, &buf_cap);
    struct oplist plain = {0}, mixed_ops = {0};
    uint32_t nblocks;
    load_trace(file, buf, len, &plain, &nblocks);
    harness_free(buf, buf_cap);
    const struct oplist *run = &plain;
    if (mixed) {
        derive_mixed(&plain, nblocks, &mixed_ops);
        run = &mixed_ops;
    }
    unsigned long nallocs = 0;
    double bytes = 0; /* allocated (or reallocated to) in one replay */
    for (size_t i = 0; i < run->n; i++) {
        nallocs += run->ops[i].kind != OP_FREE && run->ops[i].kind != OP_REALLOC;
        bytes += (double)run->ops[i].size;
    }
    size_t peak = peak_live(run, nblocks);
    if (target_ops != 0) {
        repeat = run->n ? (target_ops + run->n - 1) / run->n : 1;
        if (target_bytes != 0 && bytes > 0 && repeat > (double)target_bytes / bytes + 1)
            repeat = (unsigned long)((double)target_bytes / bytes + 1);
    }
    if (repeat > 1000000000UL)
        repeat = 1000000000UL;

    struct heap_state h = {0};
    size_t cap_ptr = 0, cap_size = 0;
    h.ptr = harness_grow(NULL, &cap_ptr, nblocks + (size_t)1, sizeof *h.ptr);
    h.size = harness_grow(NULL, &cap_size, nblocks + (size_t)1, sizeof *h.size);
    h.nblocks = nblocks;

    /* Flush anything stdio holds, then measure from here. */
    fflush(stdout);
    memory_reset_peak();
    long mem_base = memory_kb(false);

    double chunk_ns[CHUNKS];
    unsigned long per_chunk = (repeat + CHUNKS - 1) / CHUNKS;
    int nchunks = 0;
    double t0 = now_seconds(), tc = t0;
    for (unsigned long rep = 1; rep <= repeat; rep++) {
        h.rep = (unsigned)rep;
        replay_once(&h, run);
        if (rep % per_chunk == 0 || rep == repeat) {
            double now = now_seconds();
            unsigned long reps = rep % per_chunk ? rep % per_chunk : per_chunk;
            double ops = (double)run->n * (double)reps;
            chunk_ns[nchunks++] = ops > 0 ? (now - tc) * 1e9 / ops : 0.0;
            tc = now;
        }
    }
    double t1 = tc;
    long mem_peak = memory_kb(true);

    double seconds = t1 - t0;
    double total_ops = (double)run->n * (double)repeat;
    printf("bench=replay trace=%s mode=%s ops=%zu allocs=%lu repeat=%lu bytes=%.0f "
           "seconds=%.6f ns_per_op=%.3f ns_per_op_median=%.3f peak_live_bytes=%zu mem=%s "
           "mem_base_kb=%ld mem_peak_kb=%ld heap_peak_kb=%ld errors=%lu\n",
           name, mixed ? "mixed" : "plain", run->n, nallocs, repeat, bytes, seconds,
           total_ops > 0 ? seconds * 1e9 / total_ops : 0.0, median(chunk_ns, nchunks), peak,
           MEMORY_KIND, mem_base, mem_peak,
           mem_base >= 0 && mem_peak >= 0 ? mem_peak - mem_base : -1, h.errors);
    fflush(stdout);
    return h.errors ? 1 : 0;
}
