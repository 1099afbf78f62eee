/*
 * stress.c - randomized, multi-threaded stress test of the whole libc malloc
 * API: malloc, free, calloc, realloc, reallocarray, posix_memalign,
 * aligned_alloc, memalign, valloc, pvalloc and malloc_usable_size.
 *
 * What is checked:
 *   - every block is filled with a pattern derived from (block seed, byte
 *     index) and verified in full before it is freed, and the preserved prefix
 *     is verified across every realloc/reallocarray;
 *   - calloc memory is zeroed, alignment of every result (alignof(max_align_t)
 *     for malloc/calloc/realloc, the requested alignment for the aligned
 *     family, the page size for valloc/pvalloc), malloc_usable_size() >= the
 *     requested size (and the bytes up to it are writable), malloc(0) returns a
 *     distinct, freeable pointer, free() leaves errno alone;
 *   - overflow and invalid-argument handling (huge sizes, calloc/reallocarray
 *     overflow, bad posix_memalign/aligned_alloc alignments), once per run;
 *   - blocks are handed between threads through mutex-protected mailboxes and
 *     checked and freed by the receiver;
 *   - unless --no-fork, the main thread forks repeatedly while the workers are
 *     allocating; each child allocates, reallocates and frees with content
 *     checks under alarm(30), so an allocator that is not fork-safe shows up as
 *     a failure instead of a hang.
 *
 * Usage:
 *   stress [--threads N] [--ops N] [--seed S] [--no-fork] [--max-size BYTES]
 *
 * Failures are reported on stderr. The last line on stdout is always
 * "<N> passed, <M> failed"; the exit status is 0 iff M == 0.
 *
 * Build (calls the libc names; link or LD_PRELOAD the allocator under test):
 *   cc -std=c11 -D_GNU_SOURCE -O2 -fno-builtin -pthread stress.c -o stress
 * Add -DSTRESS_PREFIX to call wee_shim_malloc, wee_shim_free, ... instead, so
 * the allocator can be tested under ASan/UBSan without replacing the
 * sanitizer's own malloc.
 *
 * STRESS_THREADS and STRESS_FORK (0 or 1; default 1, and 0 on WASI, which has
 * neither threads nor processes) select the worker threads and the fork
 * rounds. Without threads the main thread runs each worker's loop in turn,
 * so the whole operation mix, the mailboxes and the edge tests still run;
 * without fork --no-fork is implied:
 *   clang --target=wasm32-wasi -std=c11 -D_GNU_SOURCE -O2 -fno-builtin \
 *         stress.c libwee_malloc.a -o stress.wasm
 *
 * When the libc names end up in glibc's malloc (nothing interposed), known
 * glibc/valgrind deviations are tolerated and announced by a "note:" line.
 * ASan's own allocator (libc names, ASan build) is not fork-safe before
 * LLVM 18, so such a build needs --no-fork.
 */

#ifndef STRESS_THREADS
#ifdef __wasi__
#define STRESS_THREADS 0
#else
#define STRESS_THREADS 1
#endif
#endif
#ifndef STRESS_FORK
#ifdef __wasi__
#define STRESS_FORK 0
#else
#define STRESS_FORK 1
#endif
#endif

#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>
#if STRESS_THREADS
#include <pthread.h>
#endif
#if STRESS_FORK
#include <signal.h>
#include <sys/wait.h>
#endif

#if defined(__GLIBC__) && !defined(STRESS_PREFIX)
#include <gnu/libc-version.h>
#endif

#include "../support/pattern.h"

/* ------------------------------------------------------------------------ */
/* Name indirection                                                          */

#ifdef STRESS_PREFIX
void *wee_shim_malloc(size_t size);
void wee_shim_free(void *ptr);
void *wee_shim_calloc(size_t nmemb, size_t size);
void *wee_shim_realloc(void *ptr, size_t size);
void *wee_shim_reallocarray(void *ptr, size_t nmemb, size_t size);
int wee_shim_posix_memalign(void **memptr, size_t alignment, size_t size);
void *wee_shim_aligned_alloc(size_t alignment, size_t size);
void *wee_shim_memalign(size_t alignment, size_t size);
void *wee_shim_valloc(size_t size);
void *wee_shim_pvalloc(size_t size);
size_t wee_shim_malloc_usable_size(void *ptr);
#define T_MALLOC         wee_shim_malloc
#define T_FREE           wee_shim_free
#define T_CALLOC         wee_shim_calloc
#define T_REALLOC        wee_shim_realloc
#define T_REALLOCARRAY   wee_shim_reallocarray
#define T_POSIX_MEMALIGN wee_shim_posix_memalign
#define T_ALIGNED_ALLOC  wee_shim_aligned_alloc
#define T_MEMALIGN       wee_shim_memalign
#define T_VALLOC         wee_shim_valloc
#define T_PVALLOC        wee_shim_pvalloc
#define T_USABLE         wee_shim_malloc_usable_size
#else
#define T_MALLOC         malloc
#define T_FREE           free
#define T_CALLOC         calloc
#define T_REALLOC        realloc
#define T_REALLOCARRAY   reallocarray
#define T_POSIX_MEMALIGN posix_memalign
#define T_ALIGNED_ALLOC  aligned_alloc
#define T_MEMALIGN       memalign
#define T_VALLOC         valloc
#define T_PVALLOC        pvalloc
#define T_USABLE         malloc_usable_size
#ifdef __wasi__
/* wasi-libc declares none of these; the allocator under test defines them. */
void *reallocarray(void *ptr, size_t nmemb, size_t size);
void *memalign(size_t alignment, size_t size);
void *valloc(size_t size);
void *pvalloc(size_t size);
#endif
#endif

/*
 * When the test itself is built with AddressSanitizer and calls the libc
 * names, ASan's malloc is the one being exercised; let it return NULL for the
 * deliberately invalid requests instead of aborting.
 */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define STRESS_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define STRESS_ASAN 1
#endif
#ifdef STRESS_ASAN
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "allocator_may_return_null=1"; }
#endif

/* ------------------------------------------------------------------------ */
/* Configuration and shared state                                            */

#define NSLOTS      1024 /* live blocks per worker thread */
#define MAIN_SLOTS  16   /* blocks owned by the main thread */
#define CHILD_SLOTS 64   /* slots in a forked child */
#define CHILD_OPS   400  /* random operations per forked child */
#define NFORKS      20
#define MAX_THREADS 256
#define MAILBOX_CAP 64
#define MAX_REPORTS 20    /* failure messages printed per context */
#define SLACK_MAX   65536 /* largest usable-size slack that gets written */
#define KIB         ((size_t)1024)
#define MIB         (KIB * 1024)
#define MAX_ALIGN   alignof(max_align_t)

struct config {
    unsigned threads;
    unsigned long long ops;
    uint64_t seed;
    bool fork;
    size_t max_size;
    size_t page;
    /* Allowances for the libc/valgrind allocator when that is what runs. */
    bool skip_pvalloc;
    bool skip_huge;
    bool lenient_calloc_errno;
    bool lenient_aligned_alloc;
    bool lenient_realloc_zero;
};

/* Written by main() before any thread exists, read-only afterwards. */
static struct config cfg = {
    .threads = 4,
    .ops = 200000,
    .seed = 0x5eed0f57e55c0deULL,
    .fork = STRESS_FORK,
    .max_size = 4 * MIB,
    .page = 4096,
};

/* Defeats constant propagation so no compile-time size warnings fire. */
static volatile size_t v_size_max = SIZE_MAX;
static volatile size_t v_bad_align[] = {0, 3, 24, sizeof(void *) / 2, 12};

enum kind {
    K_MALLOC,
    K_CALLOC,
    K_REALLOC,
    K_REALLOCARRAY,
    K_POSIX_MEMALIGN,
    K_ALIGNED_ALLOC,
    K_MEMALIGN,
    K_VALLOC,
    K_PVALLOC,
};

static const char *const kind_name[] = {
    "malloc",        "calloc",   "realloc", "reallocarray", "posix_memalign",
    "aligned_alloc", "memalign", "valloc",  "pvalloc",
};

struct block {
    unsigned char *ptr; /* NULL: slot empty */
    size_t size;        /* bytes that hold the pattern */
    size_t align;       /* alignment the pointer must have */
    uint64_t seed;      /* pattern seed */
    int kind;           /* function that produced ptr */
    int origin;         /* thread that produced it (-1 main) */
};

struct ctx {
    const char *name;
    int id;
    bool child; /* forked child: no mailboxes, no stdio */
    uint64_t rng;
    unsigned long long passed;
    unsigned long long failed;
    unsigned long long reported;
    struct block *slots;
    size_t nslots;
};

struct mailbox {
#if STRESS_THREADS
    pthread_mutex_t mu;
#endif
    size_t n;
    struct block items[MAILBOX_CAP];
};

#if STRESS_THREADS
#define MAILBOX_LOCK(mb)   pthread_mutex_lock(&(mb)->mu)
#define MAILBOX_UNLOCK(mb) pthread_mutex_unlock(&(mb)->mu)
#else
#define MAILBOX_LOCK(mb)   ((void)(mb))
#define MAILBOX_UNLOCK(mb) ((void)(mb))
#endif

static struct mailbox mailboxes[MAX_THREADS];
static struct ctx worker_ctx[MAX_THREADS];

/* ------------------------------------------------------------------------ */
/* Reporting                                                                 */

static void write_all(int fd, const char *buf, size_t len) {
    while (len > 0) {
        ssize_t w = write(fd, buf, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        buf += w;
        len -= (size_t)w;
    }
}

/*
 * Failure messages go straight to fd 2 through a stack buffer: no stdio locks,
 * so this is usable from worker threads and from forked children alike.
 */
__attribute__((format(printf, 2, 3))) static void fail(struct ctx *c, const char *fmt, ...) {
    int saved = errno;
    c->failed++;
    if (c->reported++ < MAX_REPORTS) {
        char buf[768];
        int n = snprintf(buf, sizeof buf, "FAIL [%s %d] ", c->name, c->id);
        if (n < 0)
            n = 0;
        va_list ap;
        va_start(ap, fmt);
        int m = vsnprintf(buf + n, sizeof buf - (size_t)n - 1, fmt, ap);
        va_end(ap);
        size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
        if (len > sizeof buf - 2)
            len = sizeof buf - 2;
        buf[len++] = '\n';
        write_all(2, buf, len);
        if (c->reported == MAX_REPORTS) {
            static const char more[] =
                "  (further failures in this context are counted but not shown)\n";
            write_all(2, more, sizeof more - 1);
        }
    }
    errno = saved;
}

#define CHECK(c, cond, ...)                                                                        \
    do {                                                                                           \
        if (cond)                                                                                  \
            (c)->passed++;                                                                         \
        else                                                                                       \
            fail((c), __VA_ARGS__);                                                                \
    } while (0)

/* ------------------------------------------------------------------------ */
/* PRNG and content pattern                                                  */

/* The content pattern is tests/support/pattern.h's. */
static inline uint64_t mix64(uint64_t z) { return pattern_mix64(z); }

static inline uint64_t rnd(struct ctx *c) {
    c->rng += 0x9e3779b97f4a7c15ULL;
    return mix64(c->rng);
}

static size_t first_nonzero(const unsigned char *p, size_t n) {
    return pattern_first_nonzero(p, n);
}

/* ------------------------------------------------------------------------ */
/* Block helpers                                                             */

static bool verify_range(struct ctx *c, const struct block *b, size_t from, size_t to,
                         const char *when) {
    size_t bad = pattern_mismatch(b->ptr, from, to, b->seed);
    if (bad == SIZE_MAX) {
        c->passed++;
        return true;
    }
    fail(c,
         "content mismatch %s: block %p from %s (thread %d) size %zu align %zu seed %#llx: "
         "byte %zu is 0x%02x, expected 0x%02x",
         when, (void *)b->ptr, kind_name[b->kind], b->origin, b->size, b->align,
         (unsigned long long)b->seed, bad, b->ptr[bad], pattern_byte(b->seed, bad));
    pattern_fill(b->ptr, from, to, b->seed); /* repair: report each corruption once */
    return false;
}

static bool is_pow2(size_t x) { return x != 0 && (x & (x - 1)) == 0; }

static size_t round_up(size_t x, size_t a) { return (x + a - 1) & ~(a - 1); }

/* Free slot idx (if occupied) after a full content check; free must keep errno. */
static void release(struct ctx *c, size_t idx, const char *when) {
    struct block *b = &c->slots[idx];
    if (b->ptr == NULL)
        return;
    verify_range(c, b, 0, b->size, when);
    errno = 4242;
    T_FREE(b->ptr);
    int e = errno;
    CHECK(c, e == 4242, "free(%p) from %s (size %zu) changed errno from 4242 to %d", (void *)b->ptr,
          kind_name[b->kind], b->size, e);
    b->ptr = NULL;
}

static void check_distinct(struct ctx *c, size_t idx) {
    const unsigned char *p = c->slots[idx].ptr;
    for (size_t j = 0; j < c->nslots; j++) {
        if (j != idx && c->slots[j].ptr == p) {
            fail(c,
                 "%s returned %p for a zero-size request, which is also live in slot %zu (%s, size "
                 "%zu)",
                 kind_name[c->slots[idx].kind], (const void *)p, j, kind_name[c->slots[j].kind],
                 c->slots[j].size);
            return;
        }
    }
    c->passed++;
}

/*
 * Take ownership of a freshly returned block in slot idx: check alignment,
 * usable size and (for calloc) zeroing, then fill bytes [keep, size) with the
 * pattern. Bytes [0, keep) already hold it (realloc prefix).
 */
static void adopt(struct ctx *c, size_t idx, int kind, unsigned char *p, size_t size, size_t align,
                  uint64_t seed, size_t keep, bool zeroed) {
    struct block *b = &c->slots[idx];
    b->ptr = p;
    b->size = size;
    b->align = align;
    b->seed = seed;
    b->kind = kind;
    b->origin = c->id;

    CHECK(c, ((uintptr_t)p & (align - 1)) == 0, "%s returned %p (size %zu), not aligned to %zu",
          kind_name[kind], (void *)p, size, align);
    size_t usable = T_USABLE(p);
    CHECK(c, usable >= size, "malloc_usable_size(%p) = %zu < requested %zu (%s)", (void *)p, usable,
          size, kind_name[kind]);
    if (size == 0)
        check_distinct(c, idx);
    if (zeroed) {
        size_t nz = first_nonzero(p, size);
        CHECK(c, nz == SIZE_MAX, "calloc block %p size %zu not zeroed: byte %zu is 0x%02x",
              (void *)p, size, nz, nz == SIZE_MAX ? 0 : p[nz]);
    }
    pattern_fill(p, keep, size, seed);

    /* The slack up to malloc_usable_size() must be usable without harm. */
    if (usable > size && usable - size <= SLACK_MAX && (rnd(c) & 7) == 0) {
        uint64_t sseed = ~seed;
        pattern_fill(p, size, usable, sseed);
        size_t bad = pattern_mismatch(p, size, usable, sseed);
        CHECK(c, bad == SIZE_MAX,
              "slack byte %zu of %p (size %zu, usable %zu) did not keep its value", bad, (void *)p,
              size, usable);
    }
}

static size_t rand_size(struct ctx *c) {
    uint64_t r = rnd(c);
    unsigned sel = (unsigned)(r % 1000);
    size_t s;
    if (sel < 945)
        s = (size_t)((r >> 10) % 257);
    else if (sel < 999)
        s = 257 + (size_t)((r >> 10) % (64 * KIB - 256));
    else
        s = 64 * KIB + 1 + (size_t)((r >> 10) % (4 * MIB - 64 * KIB));
    if (s > cfg.max_size)
        s = (size_t)(rnd(c) % ((uint64_t)cfg.max_size + 1));
    return s;
}

static size_t rand_align(struct ctx *c) {
    uint64_t r = rnd(c);
    unsigned sel = (unsigned)(r % 100);
    unsigned shift;
    if (sel < 80)
        shift = 3 + (unsigned)((r >> 8) % 6); /* 8 .. 256 */
    else if (sel < 95)
        shift = 9 + (unsigned)((r >> 8) % 4); /* 512 .. 4096 */
    else
        shift = 13 + (unsigned)((r >> 8) % 4); /* 8 KiB .. 64 KiB */
    return (size_t)1 << shift;
}

static size_t grow_size(struct ctx *c, size_t old) {
    size_t add = rand_size(c);
    size_t n = old + add;
    if (n < old || n > cfg.max_size)
        n = old < cfg.max_size ? old + (size_t)(rnd(c) % (cfg.max_size - old + 1)) : old;
    return n;
}

/* Allocate a new block into the (empty) slot idx with the given function. */
static void do_alloc(struct ctx *c, size_t idx, int kind, size_t size, size_t align) {
    unsigned char *p = NULL;
    uint64_t seed = rnd(c);
    bool zeroed = false;
    bool null_ok = false; /* implementation-defined result for zero size */

    switch (kind) {
    case K_MALLOC:
        p = T_MALLOC(size);
        align = MAX_ALIGN;
        break;
    case K_CALLOC: {
        static const size_t div[] = {1, 2, 3, 4, 8, 16, 24, 100};
        size_t m = div[rnd(c) % (sizeof div / sizeof div[0])];
        size_t n = size / m;
        size = n * m;
        p = (rnd(c) & 1) ? T_CALLOC(n, m) : T_CALLOC(m, n);
        align = MAX_ALIGN;
        zeroed = true;
        null_ok = size == 0;
        break;
    }
    case K_POSIX_MEMALIGN: {
        static char untouched;
        void *out = &untouched;
        int r = T_POSIX_MEMALIGN(&out, align, size);
        if (r != 0) {
            fail(c, "posix_memalign(align %zu, size %zu) returned %d", align, size, r);
            return;
        }
        c->passed++;
        if (out == (void *)&untouched) {
            fail(c, "posix_memalign(align %zu, size %zu) returned 0 but did not store a pointer",
                 align, size);
            return;
        }
        p = out;
        null_ok = size == 0;
        break;
    }
    case K_ALIGNED_ALLOC:
        /* Keep size a multiple of the alignment (strict C11 requirement). */
        size = round_up(size ? size : 1, align);
        p = T_ALIGNED_ALLOC(align, size);
        break;
    case K_MEMALIGN:
        p = T_MEMALIGN(align, size);
        null_ok = size == 0;
        break;
    case K_VALLOC:
        p = T_VALLOC(size);
        align = cfg.page;
        null_ok = size == 0;
        break;
    case K_PVALLOC:
        p = T_PVALLOC(size);
        align = cfg.page;
        /* pvalloc provides whole pages: the rounded size must be usable. */
        if (size != 0)
            size = round_up(size, cfg.page);
        null_ok = size == 0;
        break;
    default:
        return;
    }

    if (p == NULL) {
        if (null_ok) {
            c->passed++;
            return;
        }
        fail(c, "%s(size %zu, align %zu) returned NULL (errno %d)", kind_name[kind], size, align,
             errno);
        return;
    }
    c->passed++;
    adopt(c, idx, kind, p, size, align, seed, 0, zeroed);
}

/*
 * realloc / reallocarray of slot idx (which may be empty: realloc(NULL, n))
 * to newsize. The preserved prefix is verified after the call; the part that
 * gets cut off by a shrink is verified before it.
 */
static void do_realloc(struct ctx *c, size_t idx, size_t newsize, bool array) {
    struct block *b = &c->slots[idx];
    struct block old = *b;
    int kind = array ? K_REALLOCARRAY : K_REALLOC;
    size_t n = newsize, m = 1;

    if (old.ptr == NULL) {
        old.size = 0;
        old.seed = rnd(c);
    }
    if (array) {
        static const size_t div[] = {1, 2, 4, 8, 12, 16, 40};
        m = div[rnd(c) % (sizeof div / sizeof div[0])];
        n = newsize / m;
        newsize = n * m;
        if (rnd(c) & 1) {
            size_t t = n;
            n = m;
            m = t;
        }
    }
    if (old.ptr != NULL && newsize < old.size)
        verify_range(c, b, newsize, old.size, "before shrinking realloc");

    unsigned char *q = array ? T_REALLOCARRAY(old.ptr, n, m) : T_REALLOC(old.ptr, newsize);
    if (q == NULL) {
        if (newsize == 0 && old.ptr != NULL && cfg.lenient_realloc_zero) {
            /* glibc's realloc(p, 0) frees p and returns NULL; wee_alloc's
             * keeps a minimal block, so NULL fails below. */
            b->ptr = NULL;
            c->passed++;
            return;
        }
        fail(c, "%s(%p, %zu) returned NULL (errno %d)", kind_name[kind], (void *)old.ptr, newsize,
             errno);
        return; /* the old block is still valid and stays in the slot */
    }
    c->passed++;

    size_t keep = old.size < newsize ? old.size : newsize;
    if (old.ptr != NULL) {
        size_t bad = pattern_mismatch(q, 0, keep, old.seed);
        if (bad == SIZE_MAX) {
            c->passed++;
        } else {
            fail(c,
                 "%s(%p, %zu) -> %p did not preserve the content of a %zu-byte block from %s "
                 "(seed %#llx): byte %zu is 0x%02x, expected 0x%02x",
                 kind_name[kind], (void *)old.ptr, newsize, (void *)q, old.size,
                 kind_name[old.kind], (unsigned long long)old.seed, bad, q[bad],
                 pattern_byte(old.seed, bad));
            pattern_fill(q, 0, keep, old.seed);
        }
    }
    adopt(c, idx, kind, q, newsize, MAX_ALIGN, old.seed, keep, false);
}

/* reallocarray with n * m overflowing: NULL, ENOMEM, old block untouched. */
static void do_reallocarray_overflow(struct ctx *c, size_t idx) {
    struct block *b = &c->slots[idx];
    size_t m = 2 + (size_t)(rnd(c) % 4095);
    size_t n = v_size_max / m + 1 + (size_t)(rnd(c) % 8);
    if (rnd(c) & 1) {
        size_t t = n;
        n = m;
        m = t;
    }
    errno = 0;
    void *q = T_REALLOCARRAY(b->ptr, n, m);
    int e = errno;
    if (q != NULL) {
        fail(c, "reallocarray(%p, %zu, %zu) overflows but returned %p", (void *)b->ptr, n, m, q);
        b->ptr = NULL; /* ownership unclear now: drop (leak) rather than misuse */
        return;
    }
    c->passed++;
    CHECK(c, e == ENOMEM, "reallocarray(%p, %zu, %zu) overflow: errno %d, expected ENOMEM",
          (void *)b->ptr, n, m, e);
    if (b->ptr != NULL)
        verify_range(c, b, 0, b->size, "after failed reallocarray");
}

/* Re-check a live block: content, usable size, and that the slack is writable. */
static void do_usable(struct ctx *c, size_t idx) {
    struct block *b = &c->slots[idx];
    if (b->ptr == NULL) {
        CHECK(c, T_USABLE(NULL) == 0, "malloc_usable_size(NULL) is not 0");
        return;
    }
    verify_range(c, b, 0, b->size, "during usable-size check");
    size_t usable = T_USABLE(b->ptr);
    CHECK(c, usable >= b->size, "malloc_usable_size(%p) = %zu < size %zu (%s)", (void *)b->ptr,
          usable, b->size, kind_name[b->kind]);
    if (usable > b->size && usable - b->size <= SLACK_MAX) {
        uint64_t sseed = b->seed ^ 0x51acULL;
        pattern_fill(b->ptr, b->size, usable, sseed);
        size_t bad = pattern_mismatch(b->ptr, b->size, usable, sseed);
        CHECK(c, bad == SIZE_MAX,
              "slack byte %zu of %p (size %zu, usable %zu) did not keep its value", bad,
              (void *)b->ptr, b->size, usable);
    }
}

/* Give slot idx to another thread; it will check and free it. */
static void do_handoff(struct ctx *c, size_t idx) {
    struct block *b = &c->slots[idx];
    if (b->ptr == NULL)
        return;
    if (c->child || c->id < 0) {
        release(c, idx, "before free");
        return;
    }
    unsigned t = (unsigned)c->id;
    if (cfg.threads > 1)
        t = (t + 1 + (unsigned)(rnd(c) % (cfg.threads - 1))) % cfg.threads;
    struct mailbox *mb = &mailboxes[t];
    bool sent = false;
    MAILBOX_LOCK(mb);
    if (mb->n < MAILBOX_CAP) {
        mb->items[mb->n++] = *b;
        sent = true;
    }
    MAILBOX_UNLOCK(mb);
    if (sent)
        b->ptr = NULL;
    else
        release(c, idx, "before free");
}

/* Check and free everything waiting in mailbox t. */
static void drain(struct ctx *c, unsigned t) {
    struct block got[MAILBOX_CAP];
    size_t n;
    struct mailbox *mb = &mailboxes[t];
    MAILBOX_LOCK(mb);
    n = mb->n;
    memcpy(got, mb->items, n * sizeof got[0]);
    mb->n = 0;
    MAILBOX_UNLOCK(mb);
    for (size_t i = 0; i < n; i++) {
        struct block *b = &got[i];
        verify_range(c, b, 0, b->size, "in block received from another thread");
        errno = 4242;
        T_FREE(b->ptr);
        int e = errno;
        CHECK(c, e == 4242, "cross-thread free(%p) changed errno to %d", (void *)b->ptr, e);
    }
}

static void release_all(struct ctx *c) {
    for (size_t i = 0; i < c->nslots; i++)
        release(c, i, "at final free");
}

/* ------------------------------------------------------------------------ */
/* Random operation mix                                                      */

enum op {
    OP_MALLOC,
    OP_CALLOC,
    OP_REALLOC_GROW,
    OP_REALLOC_SHRINK,
    OP_REALLOC_ZERO,
    OP_REALLOC_NULL,
    OP_REALLOCARRAY,
    OP_REALLOCARRAY_OVF,
    OP_POSIX_MEMALIGN,
    OP_ALIGNED_ALLOC,
    OP_MEMALIGN,
    OP_VALLOC,
    OP_PVALLOC,
    OP_FREE,
    OP_FREE_NULL,
    OP_USABLE,
    OP_HANDOFF,
    OP_COUNT
};

static const unsigned op_weight[OP_COUNT] = {
    [OP_MALLOC] = 220,        [OP_CALLOC] = 70,          [OP_REALLOC_GROW] = 70,
    [OP_REALLOC_SHRINK] = 50, [OP_REALLOC_ZERO] = 8,     [OP_REALLOC_NULL] = 25,
    [OP_REALLOCARRAY] = 30,   [OP_REALLOCARRAY_OVF] = 6, [OP_POSIX_MEMALIGN] = 50,
    [OP_ALIGNED_ALLOC] = 35,  [OP_MEMALIGN] = 35,        [OP_VALLOC] = 8,
    [OP_PVALLOC] = 8,         [OP_FREE] = 280,           [OP_FREE_NULL] = 15,
    [OP_USABLE] = 30,         [OP_HANDOFF] = 30,
};

static enum op pick_op(struct ctx *c) {
    unsigned total = 0;
    for (int i = 0; i < OP_COUNT; i++)
        total += op_weight[i];
    unsigned r = (unsigned)(rnd(c) % total);
    for (int i = 0; i < OP_COUNT; i++) {
        if (r < op_weight[i])
            return (enum op)i;
        r -= op_weight[i];
    }
    return OP_FREE;
}

static void do_op(struct ctx *c) {
    size_t idx = (size_t)(rnd(c) % c->nslots);
    struct block *b = &c->slots[idx];

    switch (pick_op(c)) {
    case OP_MALLOC:
        release(c, idx, "before free");
        do_alloc(c, idx, K_MALLOC, (rnd(c) % 64) == 0 ? 0 : rand_size(c), MAX_ALIGN);
        break;
    case OP_CALLOC:
        release(c, idx, "before free");
        do_alloc(c, idx, K_CALLOC, rand_size(c), MAX_ALIGN);
        break;
    case OP_REALLOC_GROW:
        do_realloc(c, idx, b->ptr ? grow_size(c, b->size) : rand_size(c), false);
        break;
    case OP_REALLOC_SHRINK:
        if (b->ptr != NULL && b->size > 0)
            do_realloc(c, idx, 1 + (size_t)(rnd(c) % b->size), false);
        else
            do_realloc(c, idx, rand_size(c), false);
        break;
    case OP_REALLOC_ZERO:
        do_realloc(c, idx, 0, false);
        break;
    case OP_REALLOC_NULL:
        release(c, idx, "before free");
        do_realloc(c, idx, rand_size(c), false);
        break;
    case OP_REALLOCARRAY:
        if (b->ptr != NULL && b->size > 0 && (rnd(c) & 1))
            do_realloc(c, idx, 1 + (size_t)(rnd(c) % b->size), true);
        else
            do_realloc(c, idx, b->ptr ? grow_size(c, b->size) : rand_size(c), true);
        break;
    case OP_REALLOCARRAY_OVF:
        do_reallocarray_overflow(c, idx);
        break;
    case OP_POSIX_MEMALIGN:
        release(c, idx, "before free");
        do_alloc(c, idx, K_POSIX_MEMALIGN, rand_size(c), rand_align(c));
        break;
    case OP_ALIGNED_ALLOC:
        release(c, idx, "before free");
        do_alloc(c, idx, K_ALIGNED_ALLOC, rand_size(c), rand_align(c));
        break;
    case OP_MEMALIGN:
        release(c, idx, "before free");
        do_alloc(c, idx, K_MEMALIGN, rand_size(c), rand_align(c));
        break;
    case OP_VALLOC:
        release(c, idx, "before free");
        do_alloc(c, idx, K_VALLOC, rand_size(c), cfg.page);
        break;
    case OP_PVALLOC:
        release(c, idx, "before free");
        do_alloc(c, idx, cfg.skip_pvalloc ? K_VALLOC : K_PVALLOC, rand_size(c), cfg.page);
        break;
    case OP_FREE:
        release(c, idx, "before free");
        break;
    case OP_FREE_NULL:
        errno = 4242;
        T_FREE(NULL);
        CHECK(c, errno == 4242, "free(NULL) changed errno to %d", errno);
        break;
    case OP_USABLE:
        do_usable(c, idx);
        break;
    case OP_HANDOFF:
        do_handoff(c, idx);
        break;
    default:
        break;
    }
}

/* ------------------------------------------------------------------------ */
/* Worker threads                                                            */

static void *worker(void *arg) {
    struct ctx *c = arg;
    struct block slots[NSLOTS];
    memset(slots, 0, sizeof slots);
    c->slots = slots;
    c->nslots = NSLOTS;
    for (unsigned long long k = 0; k < cfg.ops; k++) {
        do_op(c);
        if ((k & 15) == 15)
            drain(c, (unsigned)c->id);
    }
    drain(c, (unsigned)c->id);
    release_all(c);
    c->slots = NULL;
    c->nslots = 0;
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* Edge cases (main thread, before the workers start)                        */

static void edge_tests(struct ctx *c) {
    const size_t huge = v_size_max;
    const size_t half = huge / 2 + 1;
    static char untouched;
    void *p;
    int e, r;

    if (!cfg.skip_huge) {
        errno = 0;
        p = T_MALLOC(huge);
        e = errno;
        CHECK(c, p == NULL && e == ENOMEM, "malloc(SIZE_MAX) = %p, errno %d (want NULL, ENOMEM)", p,
              e);

        errno = 0;
        p = T_MALLOC(half);
        e = errno;
        CHECK(c, p == NULL && e == ENOMEM,
              "malloc(SIZE_MAX/2+1) = %p, errno %d (want NULL, ENOMEM)", p, e);

        const size_t aligns[] = {16, 4096, 65536};
        for (size_t i = 0; i < sizeof aligns / sizeof aligns[0]; i++) {
            void *out = &untouched;
            r = T_POSIX_MEMALIGN(&out, aligns[i], huge - aligns[i] / 2);
            CHECK(c, r == ENOMEM && (out == &untouched || out == NULL),
                  "posix_memalign(align %zu, SIZE_MAX-%zu) returned %d, *out %p (want ENOMEM)",
                  aligns[i], aligns[i] / 2, r, out);
            out = &untouched;
            r = T_POSIX_MEMALIGN(&out, aligns[i], half);
            CHECK(c, r == ENOMEM && (out == &untouched || out == NULL),
                  "posix_memalign(align %zu, SIZE_MAX/2+1) returned %d, *out %p (want ENOMEM)",
                  aligns[i], r, out);

            errno = 0;
            p = T_MEMALIGN(aligns[i], huge - 1);
            e = errno;
            CHECK(c, p == NULL && e == ENOMEM, "memalign(%zu, SIZE_MAX-1) = %p, errno %d",
                  aligns[i], p, e);
            errno = 0;
            p = T_ALIGNED_ALLOC(aligns[i], half);
            CHECK(c, p == NULL, "aligned_alloc(%zu, SIZE_MAX/2+1) = %p", aligns[i], p);
        }
        errno = 0;
        p = T_VALLOC(huge - 1);
        e = errno;
        CHECK(c, p == NULL && e == ENOMEM, "valloc(SIZE_MAX-1) = %p, errno %d", p, e);
        if (!cfg.skip_pvalloc) {
            errno = 0;
            p = T_PVALLOC(huge - 1); /* rounding up to a page overflows */
            e = errno;
            CHECK(c, p == NULL && e == ENOMEM, "pvalloc(SIZE_MAX-1) = %p, errno %d", p, e);
        }
    }

    /* calloc overflow, both argument orders, and a square overflow. */
    {
        const size_t pairs[][2] = {
            {huge / 2, 3},
            {3, huge / 2},
            {half, 2},
            {((size_t)1 << (sizeof(size_t) * 4)) + 1, ((size_t)1 << (sizeof(size_t) * 4)) + 1}};
        for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
            errno = 0;
            p = T_CALLOC(pairs[i][0], pairs[i][1]);
            e = errno;
            CHECK(c, p == NULL && (e == ENOMEM || cfg.lenient_calloc_errno),
                  "calloc(%zu, %zu) overflows but returned %p, errno %d", pairs[i][0], pairs[i][1],
                  p, e);
        }
    }

    /* realloc/reallocarray failure keeps the old block intact and freeable. */
    c->slots[0].ptr = NULL;
    do_alloc(c, 0, K_MALLOC, 1000, MAX_ALIGN);
    if (c->slots[0].ptr != NULL) {
        struct block *b = &c->slots[0];
        if (!cfg.skip_huge) {
            const size_t sizes[] = {huge, half, huge - 4096};
            for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
                errno = 0;
                p = T_REALLOC(b->ptr, sizes[i]);
                e = errno;
                CHECK(c, p == NULL && e == ENOMEM,
                      "realloc(%p, %zu) = %p, errno %d (want NULL, ENOMEM)", (void *)b->ptr,
                      sizes[i], p, e);
                if (p != NULL) {
                    b->ptr = NULL; /* cannot trust anything about it any more */
                    break;
                }
                verify_range(c, b, 0, b->size, "after failed realloc");
            }
        }
        if (b->ptr != NULL) {
            errno = 0;
            p = T_REALLOCARRAY(b->ptr, half, 2);
            e = errno;
            CHECK(c, p == NULL && e == ENOMEM, "reallocarray(%p, SIZE_MAX/2+1, 2) = %p, errno %d",
                  (void *)b->ptr, p, e);
            if (p == NULL)
                verify_range(c, b, 0, b->size, "after failed reallocarray");
            else
                b->ptr = NULL;
        }
        release(c, 0, "after failed realloc");
    }
    errno = 0;
    p = T_REALLOCARRAY(NULL, 3, huge / 2);
    e = errno;
    CHECK(c, p == NULL && e == ENOMEM, "reallocarray(NULL, 3, SIZE_MAX/2) = %p, errno %d", p, e);

    /* posix_memalign: bad alignment -> EINVAL, *out untouched. */
    for (size_t i = 0; i < sizeof v_bad_align / sizeof v_bad_align[0]; i++) {
        size_t a = v_bad_align[i];
        void *out = &untouched;
        r = T_POSIX_MEMALIGN(&out, a, 64);
        CHECK(c, r == EINVAL, "posix_memalign(alignment %zu) returned %d, want EINVAL", a, r);
        CHECK(c, out == &untouched, "posix_memalign(alignment %zu) modified *out to %p on failure",
              a, out);
        if (r == 0 && out != &untouched && out != NULL)
            T_FREE(out);
    }

    /* aligned_alloc: alignment that is not a power of two -> NULL. */
    for (size_t i = 0; i < sizeof v_bad_align / sizeof v_bad_align[0]; i++) {
        size_t a = v_bad_align[i];
        if (is_pow2(a))
            continue;
        size_t sz = a ? a * 4 : 64;
        p = T_ALIGNED_ALLOC(a, sz);
        if (p != NULL && cfg.lenient_aligned_alloc) {
            c->passed++; /* known libc deviation, see the note printed at startup */
            T_FREE(p);
            continue;
        }
        CHECK(c, p == NULL,
              "aligned_alloc(%zu, %zu) = %p, want NULL for a non-power-of-two alignment", a, sz, p);
        if (p != NULL)
            T_FREE(p);
    }

    /* free() preserves errno: small, medium and large blocks, and NULL. */
    {
        const size_t sizes[] = {0, 24, 4000, 200 * KIB, 2 * MIB};
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            size_t sz = sizes[i] <= cfg.max_size ? sizes[i] : cfg.max_size;
            c->slots[0].ptr = NULL;
            do_alloc(c, 0, K_MALLOC, sz, MAX_ALIGN);
            release(c, 0, "before free"); /* checks errno == sentinel after free */
        }
        errno = 9999;
        T_FREE(NULL);
        CHECK(c, errno == 9999, "free(NULL) changed errno from 9999 to %d", errno);
    }

    /* malloc(0): non-NULL, distinct, freeable. */
    {
        unsigned char *z[8];
        for (size_t i = 0; i < 8; i++) {
            z[i] = T_MALLOC(0);
            CHECK(c, z[i] != NULL, "malloc(0) returned NULL");
            for (size_t j = 0; j < i; j++)
                CHECK(c, z[i] == NULL || z[i] != z[j], "malloc(0) returned %p twice while live",
                      (void *)z[i]);
        }
        for (size_t i = 0; i < 8; i++)
            T_FREE(z[i]);
    }

    /* realloc(p, 0): a minimal block, usable and freeable (glibc: NULL,
     * p freed). */
    {
        unsigned char *p0 = T_MALLOC(100);
        CHECK(c, p0 != NULL, "malloc(100) returned NULL");
        if (p0 != NULL) {
            unsigned char *r0 = T_REALLOC(p0, 0);
            CHECK(c, r0 != NULL || cfg.lenient_realloc_zero, "realloc(%p, 0) returned NULL",
                  (void *)p0);
            if (r0 != NULL) {
                /* through a pointer the compiler cannot follow: to it the
                 * block has 0 bytes, to the allocator usable-size bytes */
                unsigned char *volatile opaque = r0;
                size_t u = T_USABLE(r0);
                for (size_t i = 0; i < u; i++)
                    opaque[i] = (unsigned char)i;
                T_FREE(r0);
            }
        }
    }

    CHECK(c, T_USABLE(NULL) == 0, "malloc_usable_size(NULL) is not 0");
}

#if STRESS_FORK
/* ------------------------------------------------------------------------ */
/* fork()                                                                    */

_Noreturn static void child_run(const struct block *inherited, size_t ninherited, uint64_t seed,
                                int round) {
    alarm(30);
    struct block slots[CHILD_SLOTS];
    memset(slots, 0, sizeof slots);
    struct ctx c = {.name = "fork-child",
                    .id = round,
                    .child = true,
                    .rng = seed,
                    .slots = slots,
                    .nslots = CHILD_SLOTS};
    /* The main thread's blocks were copied into the child: use them too. */
    for (size_t i = 0; i < ninherited && i < CHILD_SLOTS; i++) {
        slots[i] = inherited[i];
        if (slots[i].ptr != NULL)
            verify_range(&c, &slots[i], 0, slots[i].size, "in block inherited across fork");
    }
    for (int k = 0; k < CHILD_OPS; k++)
        do_op(&c);
    release_all(&c);
    _exit(c.failed != 0 ? 1 : 0);
}

static void fork_once(struct ctx *m, int round) {
    uint64_t seed = rnd(m);
    pid_t pid = fork();
    if (pid < 0) {
        fail(m, "fork() failed, errno %d", errno);
        return;
    }
    if (pid == 0)
        child_run(m->slots, m->nslots, seed, round);

    int st = 0;
    pid_t w;
    do
        w = waitpid(pid, &st, 0);
    while (w < 0 && errno == EINTR);
    if (w != pid)
        fail(m, "waitpid(%d) failed, errno %d", (int)pid, errno);
    else if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
        m->passed++;
    else if (WIFSIGNALED(st))
        fail(m, "forked child %d killed by signal %d%s", round, WTERMSIG(st),
             WTERMSIG(st) == SIGALRM ? " (alarm: deadlock after fork?)" : "");
    else
        fail(m, "forked child %d exited with status %d", round,
             WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}
#endif /* STRESS_FORK */

/* ------------------------------------------------------------------------ */
/* Environment detection                                                     */

static bool under_valgrind(void) {
    const char *pre = getenv("LD_PRELOAD");
    return pre != NULL && strstr(pre, "vgpreload") != NULL;
}

#if defined(__GLIBC__) && !defined(STRESS_PREFIX)
extern void *__libc_malloc(size_t size) __attribute__((weak));

/* True when plain malloc resolves to glibc's own implementation. */
static bool libc_malloc_active(void) {
    if (__libc_malloc == NULL)
        return false;
    void (*a)(void) = (void (*)(void))malloc;
    void (*b)(void) = (void (*)(void))__libc_malloc;
    return a == b;
}

static int libc_minor(void) {
    const char *v = gnu_get_libc_version();
    const char *dot = strchr(v, '.');
    return dot ? atoi(dot + 1) : 0;
}
#else
static bool libc_malloc_active(void) { return false; }
static int libc_minor(void) { return 0; }
#endif

/* ------------------------------------------------------------------------ */
/* main                                                                      */

static void usage(const char *argv0) {
    fprintf(stderr,
            "usage: %s [--threads N] [--ops N] [--seed S] [--no-fork] [--max-size BYTES]\n"
            "  defaults: --threads 4 --ops 200000 --seed %#llx --max-size %zu\n",
            argv0, (unsigned long long)cfg.seed, cfg.max_size);
}

static bool parse_num(const char *s, unsigned long long min, unsigned long long max,
                      unsigned long long *out) {
    char *end;
    if (s == NULL || *s == '\0' || *s == '-')
        return false;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return false;
    *out = v;
    return true;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        unsigned long long n;
        if (strcmp(a, "--threads") == 0 && parse_num(v, 1, MAX_THREADS, &n)) {
            cfg.threads = (unsigned)n;
            i++;
        } else if (strcmp(a, "--ops") == 0 && parse_num(v, 0, ULLONG_MAX, &n)) {
            cfg.ops = n;
            i++;
        } else if (strcmp(a, "--seed") == 0 && parse_num(v, 0, ULLONG_MAX, &n)) {
            cfg.seed = n;
            i++;
        } else if (strcmp(a, "--max-size") == 0 && parse_num(v, 1, SIZE_MAX / 4, &n)) {
            cfg.max_size = (size_t)n;
            i++;
        } else if (strcmp(a, "--no-fork") == 0) {
            cfg.fork = false;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(argv[0]);
            return 0;
        } else {
            fprintf(stderr, "stress: bad argument '%s'%s\n", a,
                    v && a[0] == '-' ? " (or its value)" : "");
            usage(argv[0]);
            return 2;
        }
    }

    long pg = sysconf(_SC_PAGESIZE);
    if (pg > 0 && is_pow2((size_t)pg))
        cfg.page = (size_t)pg;

    /*
     * Known deviations of the allocators the test may be run against when the
     * libc names are used and nothing replaces glibc's malloc: valgrind's
     * replacement aborts on pvalloc, reports huge sizes as errors and does not
     * set errno for calloc overflow; glibc before 2.38 (and valgrind) round
     * an invalid aligned_alloc alignment up instead of failing.
     */
    bool libc = libc_malloc_active();
    bool vg = under_valgrind();
    if (libc && vg) {
        cfg.skip_pvalloc = true;
        cfg.skip_huge = true;
        cfg.lenient_calloc_errno = true;
        printf(
            "stress: note: valgrind's malloc is active: pvalloc and huge-size requests skipped\n");
    }
    if (libc) {
        cfg.lenient_realloc_zero = true;
        printf("stress: note: libc malloc is active: realloc(p, 0) may free p and return "
               "NULL\n");
    }
    if (libc && (vg || libc_minor() < 38)) {
        cfg.lenient_aligned_alloc = true;
        printf("stress: note: libc malloc is active: aligned_alloc with a non-power-of-two "
               "alignment may succeed\n");
    }
    printf("stress: threads %u, ops %llu per thread, seed %#llx, fork %s, max size %zu\n",
           cfg.threads, cfg.ops, (unsigned long long)cfg.seed, cfg.fork ? "on" : "off",
           cfg.max_size);
    fflush(stdout);

    double t0 = now_s();
    struct block main_slots[MAIN_SLOTS];
    memset(main_slots, 0, sizeof main_slots);
    struct ctx m = {.name = "main",
                    .id = -1,
                    .rng = mix64(cfg.seed),
                    .slots = main_slots,
                    .nslots = MAIN_SLOTS};

    edge_tests(&m);

    /* Blocks owned by the main thread; forked children inherit and use them. */
    {
        const int kinds[] = {K_MALLOC, K_CALLOC, K_POSIX_MEMALIGN, K_MEMALIGN, K_VALLOC, K_MALLOC};
        const size_t sizes[] = {40, 3000, 500, 100, 5000, MIB};
        const size_t aligns[] = {MAX_ALIGN, MAX_ALIGN, 256, 4096, cfg.page, MAX_ALIGN};
        for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
            size_t sz = sizes[i] <= cfg.max_size ? sizes[i] : cfg.max_size;
            do_alloc(&m, i, kinds[i], sz, aligns[i]);
        }
    }

    for (unsigned t = 0; t < cfg.threads; t++) {
#if STRESS_THREADS
        pthread_mutex_init(&mailboxes[t].mu, NULL);
#endif
        mailboxes[t].n = 0;
    }

#if STRESS_THREADS
    pthread_t tid[MAX_THREADS];
#endif
    unsigned started = 0;
    for (unsigned t = 0; t < cfg.threads; t++) {
        struct ctx *c = &worker_ctx[t];
        memset(c, 0, sizeof *c);
        c->name = "thread";
        c->id = (int)t;
        c->rng = mix64(cfg.seed + 0x1000 + t);
#if STRESS_THREADS
        int r = pthread_create(&tid[t], NULL, worker, c);
        if (r != 0) {
            fail(&m, "pthread_create failed: %d", r);
            break;
        }
#else
        worker(c); /* no threads: the main thread runs each worker's loop in turn */
#endif
        started++;
    }

#if STRESS_FORK
    if (cfg.fork && started > 0) {
        for (int r = 0; r < NFORKS; r++) {
            sleep_ms(5);
            fork_once(&m, r);
        }
    }
#endif

#if STRESS_THREADS
    for (unsigned t = 0; t < started; t++)
        pthread_join(tid[t], NULL);
#endif

    /* Blocks sent to threads after they stopped draining. */
    for (unsigned t = 0; t < cfg.threads; t++)
        drain(&m, t);
    release_all(&m);

    unsigned long long passed = m.passed, failed = m.failed;
    for (unsigned t = 0; t < started; t++) {
        passed += worker_ctx[t].passed;
        failed += worker_ctx[t].failed;
    }
#if STRESS_THREADS
    for (unsigned t = 0; t < cfg.threads; t++)
        pthread_mutex_destroy(&mailboxes[t].mu);
#endif

    printf("stress: %.2f s\n", now_s() - t0);
    printf("%llu passed, %llu failed\n", passed, failed);
    fflush(stdout);
    return failed == 0 ? 0 : 1;
}
