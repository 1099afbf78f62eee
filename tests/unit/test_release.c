/*
 * Giving memory back (src/release.c): large blocks in mappings of their own,
 * unmapped on free and remapped on realloc; free pages inside the heap
 * released after the decay or by wee_heap_trim; zeroed allocations. The
 * resident set is read from /proc/self/statm. Builds whose backend cannot
 * give memory back (static, wasm32) skip these tests.
 *
 * Extra-assertion builds poison released pages again, so that their poison
 * checks hold: there the tests check the contents and the heap, but not
 * that the resident set of a heap's released pages dropped.
 */
#define _POSIX_C_SOURCE 200809L /* nanosleep */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "test_util.h"

#include "../support/resident.h"

#define MIB ((size_t)1 << 20)

/* AddressSanitizer reads the shadow of what memset writes: on a system
 * whose reads of untouched memory take pages, an eighth of a block stays
 * resident after the block is gone. */
#if defined(__SANITIZE_ADDRESS__)
#define SHADOW(bytes) ((bytes) / 8)
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SHADOW(bytes) ((bytes) / 8)
#endif
#endif
#ifndef SHADOW
#define SHADOW(bytes) ((size_t)0)
#endif

/* Under a sanitizer, the first write to memory that moved faults its
 * shadow in: page faults say nothing of the heap's own pages there. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

static int all_zero(const unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

#if WEE_RELEASES
/* A block above the threshold is a mapping of its own: its memory leaves
 * the resident set when it is freed, and the threshold then rises to its
 * size (up to 32 MiB on 64-bit systems), so the next one of that size comes
 * from the heap. With a decay of 0 the heap keeps no freed mapping's pages
 * (large_block_pages_kept shows what it does otherwise). */
static void large_block_is_unmapped_on_free(void **state) {
    (void)state;
    FRESH_HEAP(h);
    assert_int_equal(wee_heap_set_option(&h, WEE_OPTION_DECAY_MS, 0), 1);
    size_t max = sizeof(void *) * 4 * MIB;
    for (size_t size = 64 * MIB; size >= 16 * MIB; size /= 4) {
        size_t before = resident();
        char *p = wee_heap_alloc(&h, size, 16);
        assert_non_null(p);
        assert_true(cell_is_mapped(cell_of(p - WEE_WORD)));
        assert_true(wee_heap_usable_size(&h, p, size, 16) >= size);
        assert_true(test_stats(&h).backend_bytes >= size);
        memset(p, 1, size);
        assert_true(resident() >= before + size - 4 * MIB);
        assert_heap_ok(&h);
        wee_heap_dealloc(&h, p, size, 16);
        assert_true(resident() < before + 4 * MIB + SHADOW(size));
        assert_int_equal(test_stats(&h).backend_bytes, 0);
        assert_true(wee_large_threshold(heap_of(&h)) <= max);
    }
    /* risen to 16 MiB and a page: 1 MiB is a cell now */
    assert_true(wee_large_threshold(heap_of(&h)) > 16 * MIB);
    char *p = wee_heap_alloc(&h, MIB, 16);
    assert_non_null(p);
    assert_false(cell_is_mapped(cell_of(p - WEE_WORD)));
    wee_heap_dealloc(&h, p, MIB, 16);
    assert_all_returned(&h);
}

/* The free cell at `p` taken again for `bytes`: the same block, which holds
 * what the caller writes. */
static void reused_holds_writes(wee_heap *h, char *p, size_t bytes, unsigned seed) {
    char *q = wee_heap_alloc(h, bytes, 16);
    assert_ptr_equal(q, p);
    fill(q, bytes, seed);
    assert_true(filled(q, bytes, seed));
    wee_heap_dealloc(h, q, bytes, 16);
}

/* Minor page faults of the process so far. */
static long minor_faults(void) {
    struct rusage r;
    getrusage(RUSAGE_SELF, &r);
    return r.ru_minflt;
}

/* A freed large block whose size the threshold rose above (the next one
 * of its size comes from the heap) gives its pages to the heap instead of
 * to the system: the next block of its size takes them without new memory
 * from the backend and without page faults, and calloc there reads zero.
 * The heap keeps such pages only while its free bytes stay under 32 MiB
 * (or a part of the live ones): beyond that, freed mappings are unmapped. */
static void large_block_pages_kept(void **state) {
    (void)state;
    FRESH_HEAP(h);
    char *p = wee_heap_alloc(&h, MIB, 16);
    assert_non_null(p);
    assert_true(cell_is_mapped(cell_of(p - WEE_WORD)));
    memset(p, 0xab, MIB);
    size_t held = test_stats(&h).backend_bytes;
    wee_heap_dealloc(&h, p, MIB, 16);
    assert_true(wee_large_threshold(heap_of(&h)) > MIB);
    assert_int_equal(test_stats(&h).backend_bytes, held); /* kept, not unmapped */
    assert_heap_ok(&h);
    long faults = minor_faults();
    p = wee_heap_alloc(&h, MIB, 16);
    assert_non_null(p);
    assert_false(cell_is_mapped(cell_of(p - WEE_WORD)));
    memset(p, 1, MIB);
    assert_int_equal(test_stats(&h).backend_bytes, held);   /* no growth */
    assert_true(SANITIZED || minor_faults() - faults < 16); /* resident pages */
    wee_heap_dealloc(&h, p, MIB, 16);
    unsigned char *z = wee_heap_alloc_zeroed(&h, MIB, 16);
    assert_non_null(z);
    assert_false(cell_is_mapped(cell_of((char *)z - WEE_WORD)));
    assert_true(all_zero(z, MIB));
    assert_int_equal(test_stats(&h).backend_bytes, held);
    wee_heap_dealloc(&h, z, MIB, 16);
    assert_heap_ok(&h);
    assert_all_returned(&h);

    /* 48 blocks of 1 MiB, all mappings, freed: 32 MiB kept at most */
    FRESH_HEAP(g);
    char *b[48];
    for (size_t i = 0; i < 48; i++) {
        b[i] = wee_heap_alloc(&g, MIB, 16);
        assert_non_null(b[i]);
        assert_true(cell_is_mapped(cell_of(b[i] - WEE_WORD)));
        memset(b[i], (int)i, MIB);
    }
    for (size_t i = 0; i < 48; i++)
        wee_heap_dealloc(&g, b[i], MIB, 16);
    wee_stats st = test_stats(&g);
    assert_int_equal(st.live_bytes, 0);
    assert_true(st.backend_bytes > 16 * MIB && st.backend_bytes <= 32 * MIB);
    assert_heap_ok(&g);
    for (size_t i = 0; i < 48; i++) {
        b[i] = wee_heap_alloc(&g, MIB, 16);
        assert_non_null(b[i]);
        fill(b[i], MIB, (unsigned)i);
    }
    for (size_t i = 0; i < 48; i++) {
        assert_true(filled(b[i], MIB, (unsigned)i));
        wee_heap_dealloc(&g, b[i], MIB, 16);
    }
    assert_all_returned(&g);
}

/* A threshold set by the option stays where it is. */
static void fixed_threshold_stays(void **state) {
    (void)state;
    FRESH_HEAP(h);
    assert_int_equal(wee_heap_set_option(&h, WEE_OPTION_MMAP_THRESHOLD, 8192), 1);
    assert_int_equal(wee_heap_set_option(&h, 12345, 1), 0);
    for (int i = 0; i < 3; i++) {
        char *p = wee_heap_alloc(&h, 3 * MIB, 64);
        assert_non_null(p);
        assert_true(((uintptr_t)p & 63) == 0);
        assert_true(cell_is_mapped(cell_of(p - WEE_WORD)));
        wee_heap_dealloc(&h, p, 3 * MIB, 64);
    }
    char *p = wee_heap_alloc(&h, 8192, 8); /* at the threshold, no pad */
    assert_true(cell_is_mapped(cell_of(p)));
    wee_heap_dealloc(&h, p, 8192, 8);
    p = wee_heap_alloc(&h, 8000, 8);
    assert_false(cell_is_mapped(cell_of(p)));
    wee_heap_dealloc(&h, p, 8000, 8);
    assert_all_returned(&h);
}

/* realloc of a large block remaps it: the contents stay through growth
 * and shrinking, and a block shrunk below the threshold moves into the
 * heap with them. */
static void remap_keeps_contents(void **state) {
    (void)state;
    FRESH_HEAP(h);
    size_t size = 256 * 1024;
    char *p = wee_heap_alloc(&h, size, 16);
    assert_non_null(p);
    fill(p, size, 7);
    for (; size < 128 * MIB; size *= 2) {
        p = wee_heap_realloc(&h, p, size, 16, 2 * size);
        assert_non_null(p);
        assert_true(cell_is_mapped(cell_of(p - WEE_WORD)));
        assert_true(filled(p, 256 * 1024, 7));
        assert_true(all_zero((unsigned char *)p + size, size)); /* fresh pages */
    }
    assert_true(test_stats(&h).live_bytes >= 128 * MIB);
    p = wee_heap_realloc(&h, p, size, 16, 300 * 1024);
    assert_non_null(p);
    assert_true(filled(p, 256 * 1024, 7));
    assert_true(test_stats(&h).live_bytes < MIB);
    p = wee_heap_realloc(&h, p, 300 * 1024, 16, 1000);
    assert_non_null(p);
    assert_false(cell_is_mapped(cell_of(p - WEE_WORD)));
    assert_true(filled(p, 1000, 7));
    assert_heap_ok(&h);
    wee_heap_dealloc(&h, p, 1000, 16);
    assert_all_returned(&h);
}

/* A block the heap cannot give: the old one stays. */
static void failed_remap_keeps_block(void **state) {
    (void)state;
    FRESH_HEAP(h);
    char *p = wee_heap_alloc(&h, MIB, 16);
    assert_non_null(p);
    fill(p, MIB, 3);
    assert_null(wee_heap_realloc(&h, p, MIB, 16, WEE_BYTES_MAX - 4096));
    assert_true(filled(p, MIB, 3));
    wee_heap_dealloc(&h, p, MIB, 16);
    assert_all_returned(&h);
}

/* With a decay of 0, a freed heap cell's whole pages are released at once
 * (its memory leaves the resident set); used again, they hold what malloc's
 * caller writes, and read as zero through wee_heap_alloc_zeroed. */
static void decay_zero_releases_at_once(void **state) {
    (void)state;
    FRESH_HEAP(h);
    wee_heap_set_option(&h, WEE_OPTION_MMAP_THRESHOLD, 1024 * MIB);
    wee_heap_set_option(&h, WEE_OPTION_DECAY_MS, 0);
    char *guard = wee_heap_alloc(&h, 100, 16); /* keeps the cell off the heap's start */
    char *p = wee_heap_alloc(&h, 32 * MIB, 16);
    char *after = wee_heap_alloc(&h, 100, 16); /* and off its top */
    assert_non_null(p);
    assert_false(cell_is_mapped(cell_of(p - WEE_WORD)));
    memset(p, 0xab, 32 * MIB);
    size_t full = resident();
    wee_heap_dealloc(&h, p, 32 * MIB, 16);
    if (!WEE_EXTRA_ASSERTIONS)
        assert_true(resident() + 28 * MIB < full);
    assert_heap_ok(&h);
    /* reused: contents as written */
    reused_holds_writes(&h, p, 32 * MIB, 11);
    /* reused zeroed: all zero, though the pages held a pattern; the
     * released pages are known to be zero and stay out of the resident set */
    size_t released = resident();
    unsigned char *z = wee_heap_alloc_zeroed(&h, 32 * MIB, 16);
    assert_ptr_equal(z, p);
    if (!WEE_EXTRA_ASSERTIONS)
        assert_true(resident() < released + 2 * MIB);
    assert_true(all_zero(z, 32 * MIB));
    memset(z, 0xcd, 32 * MIB);
    wee_heap_dealloc(&h, z, 32 * MIB, 16);
    /* two zeroed blocks carved one after the other from released pages:
     * the second is known zero too */
    released = resident();
    unsigned char *z1 = wee_heap_alloc_zeroed(&h, 8 * MIB, 16);
    unsigned char *z2 = wee_heap_alloc_zeroed(&h, 8 * MIB, 16);
    if (!WEE_EXTRA_ASSERTIONS)
        assert_true(resident() < released + 2 * MIB);
    assert_true(all_zero(z1, 8 * MIB) && all_zero(z2, 8 * MIB));
    wee_heap_dealloc(&h, z1, 8 * MIB, 16);
    wee_heap_dealloc(&h, z2, 8 * MIB, 16);
    z = wee_heap_alloc_zeroed(&h, 5 * MIB + 123, 16);
    assert_true(all_zero(z, 5 * MIB + 123));
    wee_heap_dealloc(&h, z, 5 * MIB + 123, 16);
    wee_heap_dealloc(&h, guard, 100, 16);
    wee_heap_dealloc(&h, after, 100, 16);
    assert_all_returned(&h);
}

/* The decay used by decay_ages_cells, and a wait past it that ends with
 * 64 frees of cell *b, each taken again (the decay looks at the clock once
 * in 64 frees): *b sits between live blocks, so that its hole is what the
 * next request of its size gets. */
#define AGE_MS 40
static void decay_passes(wee_heap *h, char **b) {
    struct timespec t = {0, (AGE_MS + 30) * 1000000L};
    while (nanosleep(&t, &t) != 0)
        ;
    for (int i = 0; i < 64; i++) {
        char *was = *b;
        wee_heap_dealloc(h, *b, 1000, 16);
        *b = wee_heap_alloc(h, 1000, 16);
        assert_ptr_equal(*b, was);
    }
}

/* The decay gives a free cell back only when it stayed free, as it is, for
 * a whole decay period: the decay that first sees it marks it, the next one
 * releases it; a cell taken and freed again in between starts over. (Extra-
 * assertion builds keep no mark in free cells: there every decay releases
 * what is free.) */
static void decay_ages_cells(void **state) {
    (void)state;
    FRESH_HEAP(h);
    wee_heap_set_option(&h, WEE_OPTION_MMAP_THRESHOLD, 1024 * MIB);
    wee_heap_set_option(&h, WEE_OPTION_DECAY_MS, AGE_MS);
    char *guard = wee_heap_alloc(&h, 1000, 16);
    char *p = wee_heap_alloc(&h, 8 * MIB, 16);
    char *after = wee_heap_alloc(&h, 1000, 16);
    char *b = wee_heap_alloc(&h, 1000, 16); /* freed and taken by decay_passes */
    char *top = wee_heap_alloc(&h, 1000, 16);
    assert_non_null(p);
    fill(guard, 1000, 1);
    fill(after, 1000, 2);
    memset(p, 0x5a, 8 * MIB);
    size_t full = resident(), released = test_stats(&h).released_bytes;
    wee_heap_dealloc(&h, p, 8 * MIB, 16);
    decay_passes(&h, &b); /* seen free, not released yet */
    if (!WEE_EXTRA_ASSERTIONS) {
        assert_int_equal(test_stats(&h).released_bytes, released);
        assert_true(resident() + 2 * MIB > full);
        /* taken and freed again within the period: kept again */
        char *q = wee_heap_alloc(&h, 8 * MIB, 16);
        assert_ptr_equal(q, p);
        memset(q, 0x6b, 8 * MIB);
        wee_heap_dealloc(&h, q, 8 * MIB, 16);
        decay_passes(&h, &b);
        assert_int_equal(test_stats(&h).released_bytes, released);
        assert_true(resident() + 2 * MIB > full);
    }
    decay_passes(&h, &b); /* free and untouched for a whole period: released */
    assert_true(test_stats(&h).released_bytes >= released + 7 * MIB);
    if (!WEE_EXTRA_ASSERTIONS)
        assert_true(resident() + 6 * MIB < full);
    assert_true(filled(guard, 1000, 1) && filled(after, 1000, 2));
    assert_heap_ok(&h);
    /* the released cell again: what the caller writes, or zero */
    reused_holds_writes(&h, p, 8 * MIB, 9);
    unsigned char *z = wee_heap_alloc_zeroed(&h, 8 * MIB, 16);
    assert_true(all_zero(z, 8 * MIB));
    wee_heap_dealloc(&h, z, 8 * MIB, 16);
    wee_heap_dealloc(&h, guard, 1000, 16);
    wee_heap_dealloc(&h, after, 1000, 16);
    wee_heap_dealloc(&h, b, 1000, 16);
    wee_heap_dealloc(&h, top, 1000, 16);
    assert_all_returned(&h);
}

/* A heap with a free cell of 4 MiB, written and released, between two
 * cells (*guard, of 1000 bytes, and *after, of 100), a long decay and no
 * large blocks: returns the released block's address. */
static char *released_cell(wee_heap *h, char **guard, char **after) {
    wee_heap_set_option(h, WEE_OPTION_MMAP_THRESHOLD, 1024 * MIB);
    wee_heap_set_option(h, WEE_OPTION_DECAY_MS, 3600 * 1000);
    *guard = wee_heap_alloc(h, 1000, 16);
    char *p = wee_heap_alloc(h, 4 * MIB, 16);
    *after = wee_heap_alloc(h, 100, 16);
    memset(p, 0x33, 4 * MIB);
    wee_heap_dealloc(h, p, 4 * MIB, 16);
    assert_int_equal(wee_heap_trim(h, 0), 1);
    return p;
}

/* A zeroed allocation over released_cell()'s cell reads zero; frees the
 * cells around it. */
static void released_cell_reads_zero(wee_heap *h, char *guard, char *after) {
    unsigned char *z = wee_heap_alloc_zeroed(h, 4 * MIB - 4096, 16);
    assert_non_null(z);
    assert_true(all_zero(z, 4 * MIB - 4096));
    wee_heap_dealloc(h, z, 4 * MIB - 4096, 16);
    wee_heap_dealloc(h, guard, 1000, 16);
    wee_heap_dealloc(h, after, 100, 16);
    assert_heap_ok(h);
}

/* Released pages that are handed out again (a cell carved from them, runs,
 * a block grown into them in place, aligned cells cut from larger ones) and
 * written lose their zero standing: a zeroed allocation over them after
 * they are freed again reads zero. */
static void zeroed_after_reuse_of_released_pages(void **state) {
    (void)state;
    for (int way = 0; way < 4; way++) {
        if (WEE_TINY && way == 2) /* WEE_TINY grows nothing in place */
            continue;
        FRESH_HEAP(h);
        char *guard, *after, *p = released_cell(&h, &guard, &after);
        enum { SMALL = 2000 };
        static char *small[SMALL];
        if (way == 0) { /* a cell from the released pages */
            char *a = wee_heap_alloc(&h, 3 * MIB, 16);
            assert_ptr_equal(a, p);
            memset(a, 0x77, 3 * MIB);
            wee_heap_dealloc(&h, a, 3 * MIB, 16);
        } else if (way == 1) { /* runs of slots */
            for (int i = 0; i < SMALL; i++) {
                small[i] = wee_heap_alloc(&h, (size_t)(i % 30) * 16 + 8, 16);
                memset(small[i], 0x77, (size_t)(i % 30) * 16 + 8);
            }
            for (int i = 0; i < SMALL; i++)
                wee_heap_dealloc(&h, small[i], (size_t)(i % 30) * 16 + 8, 16);
        } else if (way == 2) { /* the block before grows into them */
            char *g = wee_heap_realloc(&h, guard, 1000, 16, 2 * MIB);
            assert_ptr_equal(g, guard);
            memset(g, 0x77, 2 * MIB);
            guard = wee_heap_realloc(&h, g, 2 * MIB, 16, 1000);
            assert_ptr_equal(guard, g);
        } else { /* aligned blocks: their cells are cut from larger ones */
            enum { ALIGNED = 64 };
            static char *al[ALIGNED];
            for (int i = 0; i < ALIGNED; i++) {
                size_t align = (size_t)4096 >> (i % 4), size = (size_t)i * 7919 % 20000 + 1;
                al[i] = wee_heap_alloc(&h, size, align);
                assert_non_null(al[i]);
                memset(al[i], 0x77, size);
                if (i % 2) { /* the next one at another phase */
                    wee_heap_dealloc(&h, al[i - 1], (size_t)(i - 1) * 7919 % 20000 + 1,
                                     (size_t)4096 >> ((i - 1) % 4));
                    al[i - 1] = NULL;
                }
            }
            for (int i = 0; i < ALIGNED; i++)
                if (al[i])
                    wee_heap_dealloc(&h, al[i], (size_t)i * 7919 % 20000 + 1,
                                     (size_t)4096 >> (i % 4));
        }
        released_cell_reads_zero(&h, guard, after);
    }
}

/* An aligned block carved from released pages, at every phase of the free
 * cell it comes from: whatever the carving wrote around it loses its zero
 * standing (the smallest build cuts such a cell from a larger one). */
static void aligned_cells_from_released_pages(void **state) {
    (void)state;
    for (size_t phase = 0; phase < 4096; phase += 128) {
        FRESH_HEAP(h);
        char *guard, *after;
        released_cell(&h, &guard, &after);
        char *filler = wee_heap_alloc(&h, phase + 1, 16);
        char *a = wee_heap_alloc(&h, 10000, 4096);
        assert_non_null(filler);
        assert_non_null(a);
        memset(a, 0x77, 10000);
        wee_heap_dealloc(&h, a, 10000, 4096);
        wee_heap_dealloc(&h, filler, phase + 1, 16);
        released_cell_reads_zero(&h, guard, after);
    }
}

/* With a long decay nothing is released by a few frees; wee_heap_trim
 * releases it all, reports it, and reports nothing the second time. */
static void trim_releases_now(void **state) {
    (void)state;
    FRESH_HEAP(h);
    wee_heap_set_option(&h, WEE_OPTION_MMAP_THRESHOLD, 1024 * MIB);
    wee_heap_set_option(&h, WEE_OPTION_DECAY_MS, 3600 * 1000);
    char *guard = wee_heap_alloc(&h, 100, 16);
    char *p = wee_heap_alloc(&h, 8 * MIB, 16);
    char *after = wee_heap_alloc(&h, 100, 16);
    memset(p, 0x5a, 8 * MIB);
    size_t full = resident();
    wee_heap_dealloc(&h, p, 8 * MIB, 16);
    assert_true(resident() + 2 * MIB > full); /* kept: the decay has not passed */
    assert_int_equal(wee_heap_trim(&h, 0), 1);
    if (!WEE_EXTRA_ASSERTIONS) {
        assert_true(resident() + 6 * MIB < full);
        assert_int_equal(wee_heap_trim(&h, 0), 0); /* released already */
    }
    assert_heap_ok(&h);
    wee_heap_dealloc(&h, guard, 100, 16);
    wee_heap_dealloc(&h, after, 100, 16);
    assert_all_returned(&h);
}

/* Freeing more than the heap keeps dirty releases the pages whatever the
 * decay, and never a page that holds a live block: blocks of every size,
 * every other freed, keep their contents through the releases. */
static void releases_spare_live_blocks(void **state) {
    (void)state;
    FRESH_HEAP(h);
    wee_heap_set_option(&h, WEE_OPTION_MMAP_THRESHOLD, 1024 * MIB);
    wee_heap_set_option(&h, WEE_OPTION_DECAY_MS, 3600 * 1000);
    enum { N = 3000 };
    static char *p[N];
    static size_t s[N];
    for (int i = 0; i < N; i++) {
        s[i] = (size_t)(i * 7919 % 40000) + 1;
        if (i % 100 == 0)
            s[i] = (size_t)i * 4096 + 5000;
        p[i] = wee_heap_alloc(&h, s[i], 16);
        assert_non_null(p[i]);
        fill(p[i], s[i], (unsigned)i);
    }
    size_t full = resident();
    for (int i = 0; i < N; i += 2)
        wee_heap_dealloc(&h, p[i], s[i], 16);
    assert_heap_ok(&h);
    if (!WEE_EXTRA_ASSERTIONS)
        assert_true(resident() + 40 * MIB < full); /* ~110 MiB freed */
    wee_heap_trim(&h, 0);
    for (int i = 1; i < N; i += 2) {
        assert_true(filled(p[i], s[i], (unsigned)i));
        p[i] = wee_heap_realloc(&h, p[i], s[i], 16, s[i] + 3000);
        assert_non_null(p[i]);
        assert_true(filled(p[i], s[i], (unsigned)i));
    }
    for (int i = 0; i < N; i += 2) { /* the released memory again, zeroed */
        unsigned char *z = wee_heap_alloc_zeroed(&h, s[i], 16);
        assert_true(all_zero(z, s[i]));
        p[i] = (char *)z;
    }
    assert_heap_ok(&h);
    for (int i = 0; i < N; i++)
        wee_heap_dealloc(&h, p[i], i % 2 ? s[i] + 3000 : s[i], 16);
    assert_all_returned(&h);
}

/* A zeroed large block is a fresh mapping, read as zero without clearing:
 * 4 GiB of it, touched once per MiB, costs a few MiB of memory. */
static void zeroed_large_block_is_not_touched(void **state) {
    (void)state;
    FRESH_HEAP(h);
    size_t before = resident(), bytes = (size_t)4 << 30;
    unsigned char *p = wee_heap_alloc_zeroed(&h, bytes, 16);
    if (!p) { /* no room for 4 GiB of address space (a 32-bit system) */
        bytes = 256 * MIB;
        p = wee_heap_alloc_zeroed(&h, bytes, 16);
    }
    assert_non_null(p);
    for (size_t at = 0; at < bytes; at += MIB)
        assert_int_equal(p[at], 0);
    assert_true(resident() < before + bytes / 64);
    wee_heap_dealloc(&h, p, bytes, 16);
    assert_all_returned(&h);
}

RUN(cmocka_unit_test(large_block_is_unmapped_on_free), cmocka_unit_test(large_block_pages_kept),
    cmocka_unit_test(fixed_threshold_stays), cmocka_unit_test(remap_keeps_contents),
    cmocka_unit_test(failed_remap_keeps_block), cmocka_unit_test(decay_zero_releases_at_once),
    cmocka_unit_test(decay_ages_cells), cmocka_unit_test(zeroed_after_reuse_of_released_pages),
    cmocka_unit_test(aligned_cells_from_released_pages), cmocka_unit_test(trim_releases_now),
    cmocka_unit_test(releases_spare_live_blocks),
    cmocka_unit_test(zeroed_large_block_is_not_touched))
#else
int main(void) {
    (void)resident;
    (void)all_zero;
    printf("skipped: the backend gives no memory back\n");
    return 77;
}
#endif
