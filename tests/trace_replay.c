/*
 * trace_replay: replays a malloc/free trace against an allocator and checks
 * that every block keeps its contents.
 *
 * Usage: trace_replay [--repeat N] [--quiet] FILE
 *
 * FILE (`-` for standard input) holds one operation a line, in the format of
 * wee_alloc's traces:
 *
 *     Alloc(SIZE),    allocate SIZE bytes; the Nth Alloc line (from 0) is
 *                     block N
 *     Free(INDEX),    free block INDEX, which must be allocated earlier in
 *                     the file and not yet freed
 *
 * Blank lines, surrounding blanks and a missing final comma are accepted
 * (tests/support/trace.h). The whole trace is read and validated before
 * anything is replayed; a trace without operations is an error, and a
 * malformed line is reported as FILE:LINE: message on stderr and the program
 * exits with status 2.
 *
 * The trace is then replayed N times (default 1) with T_MALLOC/T_FREE, which
 * are malloc/free unless defined otherwise at compile time (e.g.
 * -DT_MALLOC=my_malloc -DT_FREE=my_free, functions with the prototypes of
 * malloc and free; see T_NO_DECLARE below). For each replay:
 *   - every T_MALLOC must return non-NULL, also for size 0, and a pointer
 *     aligned to alignof(max_align_t);
 *   - every block is filled with a pattern derived from its alloc index (and
 *     the offset within the block) and checked byte for byte before it is
 *     freed, so overlapping blocks and allocator writes into live blocks are
 *     caught;
 *   - blocks still live at the end of the trace are checked and freed before
 *     the next replay.
 * Problems are reported on stderr (at most MAX_REPORTS per replay).
 *
 * Unless --quiet, a short report goes to stdout (ops, allocs, frees, peak
 * live bytes, one line per replay). The last line on stdout is always
 * `P passed, F failed` where P is the number of replays that found no
 * problem and F the number that found at least one (P + F = N; for a trace
 * that cannot be read or is malformed, `0 passed, 1 failed`; on a usage
 * error only the usage goes to stderr). Exit status: 0 when F is 0, 1 when a
 * replay failed, 2 on a usage error or an unreadable or malformed trace.
 * Also accepted: --repeat=N, -n N, -q.
 *
 * Build: gcc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O2 -fno-builtin \
 *            -o trace_replay tests/trace_replay.c
 * Run:   gzip -dc tests/traces/sqlite.trace.gz | ./trace_replay --repeat 3 -
 */
#include <errno.h>
#include <limits.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "support/pattern.h"
#include "support/trace.h"

#ifndef T_MALLOC
#define T_MALLOC malloc
#endif
#ifndef T_FREE
#define T_FREE free
#endif

/* Declarations for allocators named with -DT_MALLOC=... that no header
 * declares; harmless (compatible) when they are malloc and free. Define
 * T_NO_DECLARE when T_MALLOC/T_FREE are macros or declared otherwise. */
#ifndef T_NO_DECLARE
void *T_MALLOC(size_t size);
void T_FREE(void *ptr);
#endif

#define MAX_REPORTS     10 /* problem messages printed per replay */
#define MAX_LOAD_ERRORS 20 /* malformed lines reported before giving up */

enum op_kind { OP_ALLOC, OP_FREE };

struct op {
    size_t arg; /* size for OP_ALLOC, alloc index for OP_FREE */
    enum op_kind kind;
};

struct trace {
    struct op *ops;
    size_t nops, cap_ops;
    size_t *sizes; /* size of each alloc index */
    size_t nallocs, cap_allocs;
    size_t nfrees;
    size_t live_at_end;
    size_t peak_live_bytes, peak_live_blocks;
    unsigned long long total_bytes;
};

/* ------------------------------------------------------------------------ */
/* Helpers for the harness's own memory (plain malloc, never T_MALLOC).      */

static void *xrealloc(void *ptr, size_t count, size_t elem) {
    if (elem != 0 && count > SIZE_MAX / elem) {
        fprintf(stderr, "trace_replay: out of memory\n");
        exit(2);
    }
    void *p = realloc(ptr, count * elem);
    if (p == NULL && count != 0) {
        fprintf(stderr, "trace_replay: out of memory\n");
        exit(2);
    }
    return p;
}

static char *read_all(FILE *f, size_t *len) {
    size_t cap = 1 << 16, n = 0;
    char *buf = xrealloc(NULL, cap, 1);
    for (;;) {
        if (n == cap) {
            cap *= 2;
            buf = xrealloc(buf, cap, 1);
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

/* ------------------------------------------------------------------------ */
/* Loading and validation.                                                    */

static void load_error(const char *name, size_t line, int *errors, const char *fmt,
                       const char *detail) {
    if (*errors < MAX_LOAD_ERRORS) {
        fprintf(stderr, "%s:%zu: ", name, line);
        fprintf(stderr, fmt, detail);
        fputc('\n', stderr);
    } else if (*errors == MAX_LOAD_ERRORS) {
        fprintf(stderr, "%s: too many errors, giving up\n", name);
    }
    ++*errors;
}

/* Returns 0 on success, otherwise the number of errors reported. */
static int load_trace(const char *name, const char *buf, size_t len, struct trace *t) {
    int errors = 0;
    size_t line = 0;
    unsigned char *freed = NULL; /* per alloc index: already freed */
    size_t live_bytes = 0, live_blocks = 0;
    const char *p = buf, *end = buf + len;

    memset(t, 0, sizeof *t);
    const char *s, *e;
    while (trace_next_line(&p, end, &s, &e)) {
        line++;
        if (s == e)
            continue; /* blank line */

        /* Copy of the line (shortened) for messages. */
        char shown[64];
        size_t shown_len = (size_t)(e - s) < sizeof shown - 4 ? (size_t)(e - s) : sizeof shown - 4;
        memcpy(shown, s, shown_len);
        strcpy(shown + shown_len, (size_t)(e - s) > shown_len ? "..." : "");
        for (size_t i = 0; i < shown_len; i++)
            if ((unsigned char)shown[i] < 0x20 || (unsigned char)shown[i] == 0x7f)
                shown[i] = '?';

        enum trace_kind parsed;
        size_t arg = 0;
        const char *msg = trace_parse_line(s, e, &parsed, &arg);
        if (parsed == TRACE_NONE) {
            load_error(name, line, &errors, msg, shown);
            continue;
        }
        enum op_kind kind = parsed == TRACE_ALLOC ? OP_ALLOC : OP_FREE;
        if (msg == NULL && kind == OP_ALLOC && arg > (size_t)PTRDIFF_MAX)
            msg = "size larger than PTRDIFF_MAX in \"%s\"";
        if (msg != NULL) {
            load_error(name, line, &errors, msg, shown);
            if (kind == OP_FREE)
                continue;
            /* Still count the Alloc line, so that the indexes of later Free
             * lines are checked against the right blocks. */
            arg = 0;
        }

        if (kind == OP_ALLOC) {
            if (t->nallocs == t->cap_allocs) {
                t->cap_allocs = t->cap_allocs ? 2 * t->cap_allocs : 1024;
                t->sizes = xrealloc(t->sizes, t->cap_allocs, sizeof *t->sizes);
                freed = xrealloc(freed, t->cap_allocs, 1);
            }
            freed[t->nallocs] = 0;
            t->sizes[t->nallocs++] = arg;
            live_blocks++;
            live_bytes += arg;
            t->total_bytes += arg;
            if (live_bytes > t->peak_live_bytes)
                t->peak_live_bytes = live_bytes;
            if (live_blocks > t->peak_live_blocks)
                t->peak_live_blocks = live_blocks;
        } else {
            if (arg >= t->nallocs) {
                load_error(name, line, &errors,
                           "\"%s\" refers to an allocation that has not happened yet", shown);
                continue;
            }
            if (freed[arg]) {
                load_error(name, line, &errors, "\"%s\" frees a block already freed", shown);
                continue;
            }
            freed[arg] = 1;
            live_blocks--;
            live_bytes -= t->sizes[arg];
            t->nfrees++;
        }
        if (t->nops == t->cap_ops) {
            t->cap_ops = t->cap_ops ? 2 * t->cap_ops : 4096;
            t->ops = xrealloc(t->ops, t->cap_ops, sizeof *t->ops);
        }
        t->ops[t->nops].kind = kind;
        t->ops[t->nops].arg = arg;
        t->nops++;
    }
    t->live_at_end = live_blocks;
    free(freed);
    /* An empty trace (an empty pipe from a failed decompression) would pass
     * without testing anything. */
    if (errors == 0 && t->nops == 0) {
        fprintf(stderr, "%s: no operations\n", name);
        errors = 1;
    }
    return errors;
}

/* ------------------------------------------------------------------------ */
/* Block patterns.                                                            */

/* The pattern of a block: tests/support/pattern.h, seeded by its index. */
static void fill_block(unsigned char *p, size_t size, size_t index) {
    pattern_fill(p, 0, size, pattern_seed(index));
}

/* Returns the offset of the first wrong byte, or SIZE_MAX if all are right. */
static size_t check_block(const unsigned char *p, size_t size, size_t index) {
    return pattern_mismatch(p, 0, size, pattern_seed(index));
}

static unsigned char expected_byte(size_t k, size_t index) {
    return pattern_byte(pattern_seed(index), k);
}

/* ------------------------------------------------------------------------ */
/* Replay.                                                                    */

struct replay {
    unsigned rep;        /* 1-based repetition number */
    size_t problems;     /* problems found in this replay */
    unsigned char **ptr; /* per alloc index: the live block, or NULL */
};

/* Reports a problem; op is the 0-based op number, SIZE_MAX for the check
 * of the blocks left live at the end of the trace. */
static void problem(struct replay *r, size_t op, const char *what, size_t index, size_t size,
                    const void *ptr, const char *extra) {
    if (r->problems < MAX_REPORTS) {
        char where[48];
        if (op == SIZE_MAX)
            snprintf(where, sizeof where, "end of trace");
        else
            snprintf(where, sizeof where, "op %zu", op);
        fflush(stdout);
        fprintf(stderr, "replay %u, %s: %s (block %zu, size %zu, at %p)%s\n", r->rep, where, what,
                index, size, ptr, extra);
    } else if (r->problems == MAX_REPORTS) {
        fflush(stdout);
        fprintf(stderr, "replay %u: further problems not shown\n", r->rep);
    }
    r->problems++;
}

static void verify_and_free(struct replay *r, const struct trace *t, size_t op, size_t index) {
    unsigned char *p = r->ptr[index];
    if (p == NULL)
        return; /* its allocation failed; already reported */
    size_t size = t->sizes[index];
    size_t bad = check_block(p, size, index);
    if (bad != SIZE_MAX) {
        char extra[96];
        snprintf(extra, sizeof extra, ": byte %zu is 0x%02x, expected 0x%02x", bad, p[bad],
                 expected_byte(bad, index));
        problem(r, op, "block contents changed", index, size, p, extra);
    }
    T_FREE(p);
    r->ptr[index] = NULL;
}

static void replay_once(struct replay *r, const struct trace *t) {
    size_t index = 0; /* alloc index of the next Alloc op */
    for (size_t i = 0; i < t->nops; i++) {
        const struct op *o = &t->ops[i];
        if (o->kind == OP_FREE) {
            verify_and_free(r, t, i, o->arg);
            continue;
        }
        size_t size = o->arg;
        unsigned char *p = T_MALLOC(size);
        if (p == NULL) {
            problem(r, i, "malloc returned NULL", index, size, NULL, "");
        } else if ((uintptr_t)p % alignof(max_align_t) != 0) {
            /* Stricter than C11 asks for small sizes, as glibc and wee do. */
            char extra[64];
            snprintf(extra, sizeof extra, ": not aligned to %zu", alignof(max_align_t));
            problem(r, i, "misaligned block", index, size, p, extra);
            /* Still use it: the pattern check copes with any alignment. */
        }
        if (p != NULL)
            fill_block(p, size, index);
        r->ptr[index++] = p;
    }
}

static double now_seconds(void) {
    struct timespec ts;
    if (timespec_get(&ts, TIME_UTC) == 0)
        return 0.0;
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Prints the closing line (the last line on stdout) and returns rc. */
static int finish(unsigned passed, unsigned failed, int rc) {
    fflush(stderr);
    printf("%u passed, %u failed\n", passed, failed);
    if (fflush(stdout) != 0 && rc == 0)
        rc = 2;
    return rc;
}

static void usage(FILE *f) {
    fprintf(f, "usage: trace_replay [--repeat N] [--quiet] FILE\n"
               "  FILE: a trace of Alloc(SIZE), / Free(INDEX), lines, or - for stdin\n");
}

int main(int argc, char **argv) {
    unsigned long repeat = 1;
    bool quiet = false;
    const char *file = NULL;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = NULL;
        if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
            quiet = true;
            continue;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(a, "--repeat") == 0 || strcmp(a, "-n") == 0) {
            if (i + 1 >= argc) {
                usage(stderr);
                return 2;
            }
            val = argv[++i];
        } else if (strncmp(a, "--repeat=", 9) == 0) {
            val = a + 9;
        } else if (strcmp(a, "--") == 0 && i + 1 == argc - 1 && file == NULL) {
            file = argv[++i];
            continue;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "trace_replay: unknown option %s\n", a);
            usage(stderr);
            return 2;
        } else if (file == NULL) {
            file = a;
            continue;
        } else {
            usage(stderr);
            return 2;
        }
        char *endp;
        errno = 0;
        repeat = strtoul(val, &endp, 10);
        if (errno != 0 || *val < '0' || *val > '9' || *endp != '\0' || repeat == 0 ||
            repeat > UINT_MAX) {
            fprintf(stderr, "trace_replay: --repeat needs a whole number from 1\n");
            return 2;
        }
    }
    if (file == NULL) {
        usage(stderr);
        return 2;
    }

    /* Load. */
    const char *name = strcmp(file, "-") == 0 ? "<stdin>" : file;
    FILE *f = strcmp(file, "-") == 0 ? stdin : fopen(file, "rb");
    if (f == NULL) {
        fprintf(stderr, "trace_replay: cannot open %s: %s\n", file, strerror(errno));
        return finish(0, 1, 2);
    }
    size_t len = 0;
    char *buf = read_all(f, &len);
    if (buf == NULL) {
        fprintf(stderr, "trace_replay: cannot read %s\n", name);
        if (f != stdin)
            fclose(f);
        return finish(0, 1, 2);
    }
    if (f != stdin)
        fclose(f);
    struct trace t;
    int errors = load_trace(name, buf, len, &t);
    free(buf);
    if (errors != 0) {
        fprintf(stderr, "%s: %d malformed line%s; nothing replayed\n", name, errors,
                errors == 1 ? "" : "s");
        free(t.ops);
        free(t.sizes);
        return finish(0, 1, 2);
    }

    if (!quiet)
        printf("%s: %zu ops (%zu allocs, %zu frees), %zu blocks live at the end; "
               "peak live %zu bytes in %zu blocks; %llu bytes allocated in all\n",
               name, t.nops, t.nallocs, t.nfrees, t.live_at_end, t.peak_live_bytes,
               t.peak_live_blocks, t.total_bytes);

    /* Replay. */
    struct replay r;
    r.ptr = xrealloc(NULL, t.nallocs ? t.nallocs : 1, sizeof *r.ptr);
    unsigned passed = 0, failed = 0;
    for (unsigned rep = 1; rep <= (unsigned)repeat; rep++) {
        r.rep = rep;
        r.problems = 0;
        for (size_t i = 0; i < t.nallocs; i++)
            r.ptr[i] = NULL;
        double t0 = now_seconds();
        replay_once(&r, &t);
        /* Blocks the trace leaves live: check and free them. */
        for (size_t i = 0; i < t.nallocs; i++)
            verify_and_free(&r, &t, SIZE_MAX, i);
        double t1 = now_seconds();
        if (r.problems == 0)
            passed++;
        else
            failed++;
        if (!quiet)
            printf("replay %u: %s (%.3f s)\n", rep, r.problems == 0 ? "ok" : "FAILED", t1 - t0);
        if (r.problems != 0) {
            fflush(stdout);
            fprintf(stderr, "replay %u: %zu problem%s\n", rep, r.problems,
                    r.problems == 1 ? "" : "s");
        }
    }
    free(r.ptr);
    free(t.ops);
    free(t.sizes);

    return finish(passed, failed, failed == 0 ? 0 : 1);
}
