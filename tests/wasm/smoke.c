/*
 * Smoke tests of the core and the malloc shim on wasm32, run under Node.
 *
 * Linked with libwee_malloc.a, so malloc and friends (and wasi-libc's own
 * allocations) come from the default heap. The first tests look at the
 * memory layout before anything else in main allocates: the heap starts at
 * __heap_base, the memory between __heap_base and the end of the memory is
 * used before memory.grow is called, and grows extend the one region. Built
 * twice: with the linker's default initial memory (less than 64 KiB above
 * __heap_base, so the heap's first grow calls memory.grow), and with
 * -Wl,--initial-memory=SMOKE_INITIAL_MEMORY, which leaves room to spare.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <malloc.h>

#include "../support/pattern.h"
#include "check.h"
#include "wee_alloc.h"

/* The shim defines these; wasi-libc's headers do not declare them. */
void *reallocarray(void *ptr, size_t count, size_t size);
void *memalign(size_t align, size_t size);
void *valloc(size_t size);
void *pvalloc(size_t size);

extern unsigned char __heap_base;

#define KIB       ((size_t)1024)
#define WASM_PAGE ((size_t)65536)

/* Keeps the compiler from folding the overflow cases. */
static volatile size_t v_size_max = SIZE_MAX;

static uintptr_t heap_start(void) { return ((uintptr_t)&__heap_base + 15) & ~(uintptr_t)15; }

static uintptr_t memory_end(void) { return (uintptr_t)__builtin_wasm_memory_size(0) * WASM_PAGE; }

static wee_stats stats_of(wee_heap *h) {
    wee_stats s;
    wee_heap_stats(h, &s);
    return s;
}

static int aligned(const void *p, size_t align) { return ((uintptr_t)p & (align - 1)) == 0; }

static void fill(void *p, size_t n, unsigned seed) { pattern_fill(p, 0, n, pattern_seed(seed)); }

static int filled(const void *p, size_t n, unsigned seed) {
    return pattern_ok(p, n, pattern_seed(seed));
}

static int all_zero(const void *p, size_t n) { return pattern_first_nonzero(p, n) == SIZE_MAX; }

/* ------------------------------------------------------------------------ */
/* Memory layout (runs first)                                                */

static void layout_heap_starts_at_heap_base(void) {
    size_t pages = __builtin_wasm_memory_size(0);
    wee_stats s = stats_of(wee_default_heap());
    /* wasi-libc may or may not have allocated before main. */
    CHECK(s.regions <= 1);
    CHECK(s.backend_bytes <= memory_end() - heap_start());
#ifdef SMOKE_INITIAL_MEMORY
    /* Whatever came before fitted in the initial memory: nothing grew it. */
    CHECK_EQ(pages * WASM_PAGE, SMOKE_INITIAL_MEMORY);
#endif

    unsigned char *p = malloc(100);
    REQUIRE(p != NULL);
    /* Just above __heap_base: the heap starts there. */
    CHECK((uintptr_t)p > heap_start());
    CHECK((uintptr_t)p < heap_start() + 64 * KIB);
    if (s.allocs == 0) /* the very first block: at the start of the heap */
        CHECK((uintptr_t)p - heap_start() <= 64);
    CHECK_EQ(stats_of(wee_default_heap()).regions, 1);
#ifdef SMOKE_INITIAL_MEMORY
    /* The initial memory had room for the heap's first grow. */
    CHECK_EQ(__builtin_wasm_memory_size(0), pages);
#else
    /* The linker's default initial memory ends at the page boundary above
     * __heap_base, short of the heap's first grow (64 KiB): one page more. */
    CHECK(__builtin_wasm_memory_size(0) <= pages + 1);
#endif
    free(p);
}

static void layout_memory_is_used_before_growing(void) {
    enum { N = 256 };
    static unsigned char *blocks[N];
    const size_t size = 16 * KIB;
    size_t pages = __builtin_wasm_memory_size(0);
    uintptr_t room = memory_end() - heap_start();
    size_t live_before = stats_of(wee_default_heap()).live_bytes;
    size_t n = 0, before_grow = 0;
    while (n < N && __builtin_wasm_memory_size(0) == pages) {
        unsigned char *p = malloc(size);
        if (!CHECK(p != NULL))
            break;
        fill(p, size, (unsigned)n);
        blocks[n++] = p;
        if (__builtin_wasm_memory_size(0) == pages)
            before_grow += size;
    }
    CHECK(__builtin_wasm_memory_size(0) > pages);
    /* The memory that was there was handed out before memory.grow was
     * called, except for less than one grow's worth (64 KiB) left in the
     * backend, less than one block at the heap's top, and cell headers. */
    CHECK(live_before + before_grow + 64 * KIB + size + n * 64 >= room);
    wee_stats s = stats_of(wee_default_heap());
    CHECK_EQ(s.regions, 1);
    CHECK(s.backend_bytes <= memory_end() - heap_start());
    for (size_t i = 0; i < n; i++) {
        CHECK((uintptr_t)blocks[i] > heap_start());
        CHECK((uintptr_t)blocks[i] + size <= memory_end());
        CHECK(filled(blocks[i], size, (unsigned)i));
        free(blocks[i]);
    }
    CHECK_EQ(wee_heap_check(wee_default_heap()), 0);
}

static void layout_grows_extend_one_region(void) {
    enum { N = 48 };
    static unsigned char *blocks[N];
    const size_t size = 200 * KIB;
    size_t pages = __builtin_wasm_memory_size(0);
    for (size_t i = 0; i < N; i++) {
        blocks[i] = malloc(size);
        REQUIRE(blocks[i] != NULL);
        fill(blocks[i], size, (unsigned)i);
    }
    /* 9.4 MiB in 200 KiB blocks: many grows (some of it reuses what the
     * tests before freed), all adjacent. */
    CHECK(__builtin_wasm_memory_size(0) >= pages + 100);
    wee_stats s = stats_of(wee_default_heap());
    CHECK_EQ(s.regions, 1);
    CHECK(s.backend_bytes >= N * size);
    CHECK(s.backend_bytes <= memory_end() - heap_start());
    /* A block larger than any single grow spans the memory of several. */
    unsigned char *big = malloc(3 * WASM_PAGE + 5);
    REQUIRE(big != NULL);
    fill(big, 3 * WASM_PAGE + 5, 99);
    CHECK_EQ(stats_of(wee_default_heap()).regions, 1);
    CHECK_EQ(wee_heap_check(wee_default_heap()), 0);
    CHECK(filled(big, 3 * WASM_PAGE + 5, 99));
    free(big);
    for (size_t i = 0; i < N; i++) {
        CHECK(filled(blocks[i], size, (unsigned)i));
        free(blocks[i]);
    }
    CHECK_EQ(wee_heap_check(wee_default_heap()), 0);
}

/* ------------------------------------------------------------------------ */
/* The sized core                                                            */

static const size_t sizes[] = {0,    1,    2,    3,    4,    7,    8,     15,    16,    17,
                               31,   32,   33,   63,   64,   100,  255,   256,   1000,  1024,
                               1040, 1041, 2047, 2048, 4095, 4096, 10000, 65536, 100000};
#define NSIZES (sizeof sizes / sizeof sizes[0])

static void core_sizes_and_alignments(void) {
    static unsigned char *blocks[NSIZES];
    for (size_t align = 1; align <= 65536; align *= 2) {
        if (align > 4096 && align < 65536)
            continue;
        for (size_t i = 0; i < NSIZES; i++) {
            blocks[i] = wee_alloc(sizes[i], align);
            REQUIRE(blocks[i] != NULL);
            CHECK(aligned(blocks[i], align));
            fill(blocks[i], sizes[i], (unsigned)(i + align));
        }
        for (size_t i = 0; i < NSIZES; i++) {
            CHECK(filled(blocks[i], sizes[i], (unsigned)(i + align)));
            for (size_t j = 0; j < i; j++)
                CHECK(blocks[i] != blocks[j]);
        }
        CHECK_EQ(wee_heap_check(wee_default_heap()), 0);
        for (size_t i = 0; i < NSIZES; i++)
            wee_dealloc(blocks[i], sizes[i], align);
        CHECK_EQ(wee_heap_check(wee_default_heap()), 0);
    }
}

static void core_realloc_keeps_contents(void) {
    const size_t aligns[] = {1, 8, 16, 64, 4096};
    for (size_t a = 0; a < sizeof aligns / sizeof aligns[0]; a++) {
        size_t align = aligns[a], size = 10;
        unsigned char *p = wee_alloc(size, align);
        REQUIRE(p != NULL);
        fill(p, size, 7);
        const size_t steps[] = {100, 5000, 70000, 300, 3, 200000, 1};
        for (size_t k = 0; k < sizeof steps / sizeof steps[0]; k++) {
            size_t next = steps[k];
            unsigned char *q = wee_realloc(p, size, align, next);
            REQUIRE(q != NULL);
            CHECK(aligned(q, align));
            size_t kept = size < next ? size : next;
            CHECK(filled(q, kept, 7));
            fill(q, next, 7);
            p = q;
            size = next;
        }
        wee_dealloc(p, size, align);
    }
    CHECK_EQ(wee_heap_check(wee_default_heap()), 0);
}

static void core_fresh_heap(void) {
    static wee_heap h = WEE_HEAP_INIT;
    wee_stats s = stats_of(&h);
    CHECK_EQ(s.backend_bytes, 0);
    CHECK_EQ(s.regions, 0);
    CHECK_EQ(s.allocs, 0);
    CHECK_EQ(s.live_bytes, 0);
    CHECK_EQ(wee_heap_check(&h), 0);

    enum { N = 64 };
    unsigned char *p[N];
    size_t n[N], total = 0;
    size_t default_allocs = stats_of(wee_default_heap()).allocs;
    for (size_t i = 0; i < N; i++) {
        n[i] = (i * 977) % 3000;
        total += n[i];
        p[i] = wee_heap_alloc(&h, n[i], 16);
        REQUIRE(p[i] != NULL);
        CHECK(aligned(p[i], 16));
        fill(p[i], n[i], (unsigned)i);
    }
    s = stats_of(&h);
    CHECK_EQ(s.allocs, N);
    CHECK_EQ(s.regions, 1);
    CHECK(s.live_bytes >= total);
    CHECK(s.backend_bytes >= s.live_bytes);
    CHECK_EQ(wee_heap_check(&h), 0);
    /* The default heap is another heap: it saw none of this. */
    CHECK_EQ(stats_of(wee_default_heap()).allocs, default_allocs);
    for (size_t i = 0; i < N; i += 2)
        wee_heap_dealloc(&h, p[i], n[i], 16);
    CHECK_EQ(wee_heap_check(&h), 0);
    for (size_t i = 1; i < N; i += 2) {
        CHECK(filled(p[i], n[i], (unsigned)i));
        wee_heap_dealloc(&h, p[i], n[i], 16);
    }
    s = stats_of(&h);
    CHECK_EQ(s.deallocs, N);
    CHECK_EQ(s.live_bytes, 0);
    CHECK(s.peak_bytes >= total);
    CHECK_EQ(wee_heap_check(&h), 0);
}

static void core_fresh_heap_grows_extend_one_region(void) {
    wee_heap h = WEE_HEAP_INIT;
    enum { N = 40 };
    unsigned char *p[N];
    size_t pages = __builtin_wasm_memory_size(0);
    for (size_t i = 0; i < N; i++) {
        p[i] = wee_heap_alloc(&h, 100 * KIB + i, 8);
        REQUIRE(p[i] != NULL);
        fill(p[i], 100 * KIB + i, (unsigned)i);
    }
    wee_stats s = stats_of(&h);
    CHECK(__builtin_wasm_memory_size(0) > pages + 40);
    CHECK_EQ(s.regions, 1);
    CHECK(s.backend_bytes >= N * 100 * KIB);
    CHECK_EQ(wee_heap_check(&h), 0);
    for (size_t i = 0; i < N; i++) {
        CHECK(filled(p[i], 100 * KIB + i, (unsigned)i));
        wee_heap_dealloc(&h, p[i], 100 * KIB + i, 8);
    }
    CHECK_EQ(stats_of(&h).live_bytes, 0);
    CHECK_EQ(wee_heap_check(&h), 0);
    /* The freed memory is one free cell again: a block of nearly all of it
     * fits without growing. */
    size_t backend = stats_of(&h).backend_bytes;
    void *all = wee_heap_alloc(&h, backend - 4 * KIB, 8);
    CHECK(all != NULL);
    CHECK_EQ(stats_of(&h).backend_bytes, backend);
    wee_heap_dealloc(&h, all, backend - 4 * KIB, 8);
    CHECK_EQ(wee_heap_check(&h), 0);
}

static void core_two_heaps_stay_apart(void) {
    wee_heap a = WEE_HEAP_INIT, b = WEE_HEAP_INIT;
    enum { N = 24 };
    unsigned char *pa[N], *pb[N];
    for (size_t i = 0; i < N; i++) {
        pa[i] = wee_heap_alloc(&a, 30 * KIB, 16);
        pb[i] = wee_heap_alloc(&b, 30 * KIB, 16);
        REQUIRE(pa[i] != NULL && pb[i] != NULL);
        fill(pa[i], 30 * KIB, (unsigned)i);
        fill(pb[i], 30 * KIB, (unsigned)(i + 1000));
    }
    for (size_t i = 0; i < N; i++) {
        CHECK(filled(pa[i], 30 * KIB, (unsigned)i));
        CHECK(filled(pb[i], 30 * KIB, (unsigned)(i + 1000)));
        wee_heap_dealloc(&a, pa[i], 30 * KIB, 16);
    }
    CHECK_EQ(wee_heap_check(&a), 0);
    CHECK_EQ(wee_heap_check(&b), 0);
    CHECK_EQ(stats_of(&a).live_bytes, 0);
    CHECK(stats_of(&b).live_bytes >= N * 30 * KIB);
    for (size_t i = 0; i < N; i++)
        wee_heap_dealloc(&b, pb[i], 30 * KIB, 16);
    CHECK_EQ(wee_heap_check(&b), 0);
}

/* ------------------------------------------------------------------------ */
/* The malloc shim                                                           */

static void shim_malloc_is_16_aligned(void) {
    enum { N = 600 };
    static unsigned char *p[N];
    for (size_t i = 0; i < N; i++) {
        size_t n = i < 300 ? i : (i - 300) * 97;
        p[i] = malloc(n);
        REQUIRE(p[i] != NULL);
        CHECK(aligned(p[i], 16));
        CHECK(malloc_usable_size(p[i]) >= n);
        fill(p[i], n, (unsigned)i);
    }
    for (size_t i = 0; i < N; i++) {
        size_t n = i < 300 ? i : (i - 300) * 97;
        CHECK(filled(p[i], n, (unsigned)i));
        free(p[i]);
    }
    CHECK_EQ(wee_heap_check(wee_default_heap()), 0);
}

static void shim_calloc_zeroes(void) {
    const size_t sizes_[] = {1, 24, 100, 1000, 5000, 70000, 300000};
    for (size_t i = 0; i < sizeof sizes_ / sizeof sizes_[0]; i++) {
        size_t n = sizes_[i];
        /* Dirty memory first, so calloc has to clear what it reuses. */
        unsigned char *d = malloc(n);
        REQUIRE(d != NULL);
        memset(d, 0xa5, n);
        free(d);
        unsigned char *z = calloc(n, 1);
        REQUIRE(z != NULL);
        CHECK(aligned(z, 16));
        CHECK(all_zero(z, n));
        free(z);
        z = calloc(1, n);
        REQUIRE(z != NULL);
        CHECK(all_zero(z, n));
        free(z);
    }
    unsigned char *z = calloc(0, 8);
    CHECK(z != NULL);
    free(z);
    CHECK_EQ(wee_heap_check(wee_default_heap()), 0);
}

static void shim_realloc_keeps_contents(void) {
    size_t size = 1;
    unsigned char *p = realloc(NULL, size);
    REQUIRE(p != NULL);
    fill(p, size, 3);
    for (size_t next = 3; next < 2 * 1024 * KIB; next = next * 3 + 1) {
        unsigned char *q = realloc(p, next);
        REQUIRE(q != NULL);
        CHECK(aligned(q, 16));
        CHECK(filled(q, size, 3));
        fill(q, next, 3);
        p = q;
        size = next;
    }
    for (size_t next = size / 5; next > 0; next /= 5) {
        unsigned char *q = realloc(p, next);
        REQUIRE(q != NULL);
        CHECK(filled(q, next, 3));
        p = q;
        size = next;
    }
    /* realloc(p, 0) shrinks p to a minimal block and keeps it. */
    unsigned char *q = realloc(p, 0);
    CHECK(q == p);
    free(q);
    /* reallocarray */
    p = reallocarray(NULL, 10, 10);
    REQUIRE(p != NULL);
    fill(p, 100, 5);
    q = reallocarray(p, 100, 10);
    REQUIRE(q != NULL);
    CHECK(filled(q, 100, 5));
    free(q);
    CHECK_EQ(wee_heap_check(wee_default_heap()), 0);
}

static void shim_aligned_family(void) {
    for (size_t align = sizeof(void *); align <= 65536; align *= 2) {
        void *out = NULL;
        CHECK_EQ(posix_memalign(&out, align, 100), 0);
        REQUIRE(out != NULL);
        CHECK(aligned(out, align));
        CHECK(malloc_usable_size(out) >= 100);
        fill(out, 100, 1);

        unsigned char *a = aligned_alloc(align, 3 * align);
        REQUIRE(a != NULL);
        CHECK(aligned(a, align < 16 ? 16 : align));
        fill(a, 3 * align, 2);

        unsigned char *m = memalign(align, 50);
        REQUIRE(m != NULL);
        CHECK(aligned(m, align < 16 ? 16 : align));

        CHECK(filled(out, 100, 1));
        CHECK(filled(a, 3 * align, 2));
        free(out);
        free(a);
        free(m);
    }
    /* Small alignments are raised to 16. */
    for (size_t align = 1; align < 16; align *= 2) {
        void *a = aligned_alloc(align, 5);
        REQUIRE(a != NULL);
        CHECK(aligned(a, 16));
        free(a);
    }
    /* valloc and pvalloc: the 64 KiB wasm page. */
    void *v = valloc(10);
    REQUIRE(v != NULL);
    CHECK(aligned(v, WASM_PAGE));
    free(v);
    v = pvalloc(1);
    REQUIRE(v != NULL);
    CHECK(aligned(v, WASM_PAGE));
    CHECK(malloc_usable_size(v) >= WASM_PAGE);
    free(v);
    CHECK_EQ(wee_heap_check(wee_default_heap()), 0);
}

static void shim_usable_size(void) {
    CHECK_EQ(malloc_usable_size(NULL), 0);
    unsigned char *a = malloc(13), *b = malloc(13);
    REQUIRE(a != NULL && b != NULL);
    size_t ua = malloc_usable_size(a), ub = malloc_usable_size(b);
    CHECK(ua >= 13);
    CHECK(ub >= 13);
    fill(b, ub, 8);
    fill(a, ua, 9); /* all of a's usable bytes are a's alone */
    CHECK(filled(b, ub, 8));
    CHECK(filled(a, ua, 9));
    free(a);
    free(b);
    CHECK_EQ(wee_heap_check(wee_default_heap()), 0);
}

static void shim_errno(void) {
    const size_t huge = v_size_max, half = huge / 2 + 1;

    errno = 0;
    CHECK(malloc(huge) == NULL);
    CHECK_EQ(errno, ENOMEM);
    errno = 0;
    CHECK(malloc(half) == NULL);
    CHECK_EQ(errno, ENOMEM);
    errno = 0;
    CHECK(calloc(65536, 65537) == NULL); /* overflows 32 bits */
    CHECK_EQ(errno, ENOMEM);
    errno = 0;
    CHECK(calloc(half, 2) == NULL);
    CHECK_EQ(errno, ENOMEM);
    errno = 0;
    CHECK(reallocarray(NULL, 3, huge / 2) == NULL);
    CHECK_EQ(errno, ENOMEM);

    /* A failed realloc leaves the block as it was. */
    unsigned char *p = malloc(500);
    REQUIRE(p != NULL);
    fill(p, 500, 4);
    errno = 0;
    CHECK(realloc(p, huge) == NULL);
    CHECK_EQ(errno, ENOMEM);
    errno = 0;
    CHECK(realloc(p, huge - 4096) == NULL);
    CHECK_EQ(errno, ENOMEM);
    CHECK(filled(p, 500, 4));

    /* free keeps errno, for a block and for NULL. */
    errno = 1234;
    free(p);
    CHECK_EQ(errno, 1234);
    free(NULL);
    CHECK_EQ(errno, 1234);

    /* posix_memalign reports through its result, leaves errno and *out. */
    static char untouched;
    void *out = &untouched;
    errno = 77;
    CHECK_EQ(posix_memalign(&out, 16, huge), ENOMEM);
    CHECK(out == &untouched);
    const size_t bad[] = {0, 2, 3, 12, 24}; /* 2: not a multiple of sizeof(void *) */
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_EQ(posix_memalign(&out, bad[i], 16), EINVAL);
        CHECK(out == &untouched);
    }
    CHECK_EQ(errno, 77);

    /* aligned_alloc: an alignment that is not a power of two is EINVAL. */
    errno = 0;
    CHECK(aligned_alloc(3, 9) == NULL);
    CHECK_EQ(errno, EINVAL);
    errno = 0;
    CHECK(aligned_alloc(0, 8) == NULL);
    CHECK_EQ(errno, EINVAL);
    errno = 0;
    CHECK(aligned_alloc(64, half) == NULL);
    CHECK_EQ(errno, ENOMEM);
    CHECK_EQ(wee_heap_check(wee_default_heap()), 0);
}

/* Memory the program grows itself is not the heap's: grows after it
 * start above it. Runs last: the default heap's next grow cannot extend its
 * region any more. */
static void layout_foreign_grow_is_skipped(void) {
    size_t old = __builtin_wasm_memory_grow(0, 1);
    REQUIRE(old != SIZE_MAX);
    unsigned char *foreign = (unsigned char *)(old * WASM_PAGE);
    memset(foreign, 0x3c, WASM_PAGE);

    wee_heap h = WEE_HEAP_INIT;
    enum { N = 6 };
    unsigned char *p[N];
    for (size_t i = 0; i < N; i++) {
        p[i] = wee_heap_alloc(&h, 100 * KIB, 16);
        REQUIRE(p[i] != NULL);
        fill(p[i], 100 * KIB, (unsigned)i);
        CHECK(p[i] >= foreign + WASM_PAGE);
    }
    unsigned char *q = malloc(20 * 1024 * KIB); /* more than the default heap has free */
    REQUIRE(q != NULL);
    memset(q, 0, 20 * 1024 * KIB);
    CHECK(q + 20 * 1024 * KIB <= foreign || q >= foreign + WASM_PAGE);
    size_t i = 0;
    while (i < WASM_PAGE && foreign[i] == 0x3c)
        i++;
    CHECK_EQ(i, WASM_PAGE);
    free(q);
    for (size_t k = 0; k < N; k++) {
        CHECK(filled(p[k], 100 * KIB, (unsigned)k));
        wee_heap_dealloc(&h, p[k], 100 * KIB, 16);
    }
    CHECK_EQ(wee_heap_check(&h), 0);
    CHECK_EQ(wee_heap_check(wee_default_heap()), 0);
}

int main(void) {
    /* Before anything else in main allocates. */
    RUN(layout_heap_starts_at_heap_base);
    RUN(layout_memory_is_used_before_growing);
    RUN(layout_grows_extend_one_region);

    RUN(core_sizes_and_alignments);
    RUN(core_realloc_keeps_contents);
    RUN(core_fresh_heap);
    RUN(core_fresh_heap_grows_extend_one_region);
    RUN(core_two_heaps_stay_apart);

    RUN(shim_malloc_is_16_aligned);
    RUN(shim_calloc_zeroes);
    RUN(shim_realloc_keeps_contents);
    RUN(shim_aligned_family);
    RUN(shim_usable_size);
    RUN(shim_errno);

    RUN(layout_foreign_grow_is_skipped);

    CHECK_EQ(wee_heap_check(wee_default_heap()), 0);
    return check_summary("smoke");
}
