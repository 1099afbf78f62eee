/* Units and rounding: cell sizes, the cell phase, list choice, and the
 * limits that turn absurd requests into NULL instead of overflow. */
#include "test_util.h"

#ifndef WEE_RUNS
#define WEE_RUNS 1
#endif

static void cell_sizes_round_to_granules(void **state) {
    (void)state;
    assert_int_equal(cell_size_for(0), CELL_MIN);
    assert_int_equal(cell_size_for(1), CELL_MIN);
    assert_int_equal(cell_size_for(CELL_MIN - CELL_HEADER), CELL_MIN);
    assert_int_equal(cell_size_for(CELL_MIN - CELL_HEADER + 1), CELL_MIN + WEE_GRANULE);
    for (size_t bytes = 0; bytes < 5000; bytes++) {
        size_t size = cell_size_for(bytes);
        assert_int_equal(size % WEE_GRANULE, 0);
        assert_true(size >= bytes + CELL_HEADER);
        assert_true(size < bytes + CELL_HEADER + WEE_GRANULE || size == CELL_MIN);
    }
}

static void layout_constants(void **state) {
    (void)state;
    assert_int_equal(CELL_HEADER, 2 * sizeof(void *));
    assert_int_equal((CELL_PHASE + CELL_HEADER + WEE_WORD) % 16, 0);
    assert_true(CELL_MIN >= CELL_HEADER + 2 * WEE_WORD);
    assert_true(sizeof(heap) <= sizeof(wee_heap));
    /* a run's slots: each one word below a multiple of 16, all inside the
     * run cell, at least four of the largest */
    assert_int_equal((RUN_FIRST + WEE_WORD) % 16, 0);
    assert_true(RUN_FIRST >= sizeof(run));
    assert_int_equal(RUN_END + CELL_HEADER + WEE_WORD, RUN_BYTES);
    assert_true((RUN_END - RUN_FIRST) / SMALL_MAX >= 4);
}

static void classes_by_size(void **state) {
    (void)state;
    assert_int_equal(class_of(1), 1);
    assert_int_equal(class_of(16), 1);
    assert_int_equal(class_of(17), 2);
    assert_int_equal(class_of(SMALL_MAX), CLASS_COUNT);
    for (size_t bytes = 1; bytes <= SMALL_MAX; bytes++) {
        size_t slot = class_of(bytes) * WEE_GRANULE;
        assert_true(slot >= bytes && slot < bytes + WEE_GRANULE);
    }
}

static void lists_by_size(void **state) {
    (void)state;
    assert_int_equal(list_index(CELL_MIN), 0);
    /* ordered by size, LIST_SUB per power of two, the last one open-ended */
    size_t prev = list_index(CELL_MIN);
    for (size_t size = CELL_MIN; size < SIZE_MAX / 4;
         size += size / 8 / WEE_GRANULE * WEE_GRANULE + WEE_GRANULE) {
        size_t k = list_index(size);
        assert_true(k >= prev && k < LIST_COUNT);
        prev = k;
    }
    assert_int_equal(list_index(SIZE_MAX / 2), LIST_COUNT - 1);
    size_t first = (size_t)1 << 10;
    assert_int_equal(list_index(first) + 1, list_index(first + first / LIST_SUB));
    assert_int_equal(list_index(first) + LIST_SUB, list_index(2 * first));
    /* every size of a later list is larger than any size of an earlier one */
    for (size_t size = CELL_MIN + WEE_GRANULE; size < (1 << 20); size += WEE_GRANULE)
        assert_true(list_index(size) >= list_index(size - WEE_GRANULE));
}

static void absurd_requests_fail_cleanly(void **state) {
    (void)state;
    FRESH_HEAP(h);
    assert_null(wee_heap_alloc(&h, SIZE_MAX, 1));
    assert_null(wee_heap_alloc(&h, SIZE_MAX - 15, 8));
    assert_null(wee_heap_alloc(&h, SIZE_MAX / 2 + 1, 1));
    assert_null(wee_heap_alloc(&h, WEE_BYTES_MAX + 1, 16));
    assert_null(wee_heap_alloc(&h, 16, 0));
    assert_null(wee_heap_alloc(&h, 16, 3));
    assert_null(wee_heap_alloc(&h, 16, 48));
    assert_null(wee_heap_alloc(&h, 16, SIZE_MAX / 2 + 1));
    void *p = wee_heap_alloc(&h, 10, 8);
    assert_non_null(p);
    assert_null(wee_heap_realloc(&h, p, 10, 8, SIZE_MAX));
    wee_heap_dealloc(&h, p, 10, 8);
    assert_heap_ok(&h);
}

static void zero_size_gives_unique_pointers(void **state) {
    (void)state;
    FRESH_HEAP(h);
    void *a = wee_heap_alloc(&h, 0, 1), *b = wee_heap_alloc(&h, 0, 1);
    assert_non_null(a);
    assert_non_null(b);
    assert_ptr_not_equal(a, b);
    wee_heap_dealloc(&h, a, 0, 1);
    wee_heap_dealloc(&h, b, 0, 1);
    assert_int_equal(test_stats(&h).live_bytes, 0);
    assert_heap_ok(&h);
}

/* Blocks from wee_heap_alloc_many() are blocks like any other: distinct,
 * aligned, writable, freed one by one or many at once. */
static void many_at_once(void **state) {
    (void)state;
    FRESH_HEAP(h);
    static const size_t sizes[] = {0, 8, 24, 100, SMALL_MAX, SMALL_MAX + 1, 5000};
    static const size_t aligns[] = {1, 8, 16, 64};
    enum { N = 40 };
    void *p[N];
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        for (size_t a = 0; a < sizeof aligns / sizeof *aligns; a++) {
            size_t size = sizes[s], align = aligns[a];
            memset(p, 0, sizeof p);
            assert_int_equal(wee_heap_alloc_many(&h, size, align, p, N - 1), N - 1);
            assert_null(p[N - 1]); /* nothing stored past count */
            for (size_t i = 0; i < N - 1; i++) {
                assert_non_null(p[i]);
                assert_int_equal((uintptr_t)p[i] % align, 0);
                fill(p[i], size, (unsigned)i);
            }
            for (size_t i = 0; i < N - 1; i++) {
                assert_true(filled(p[i], size, (unsigned)i));
                for (size_t j = 0; j < i; j++)
                    assert_ptr_not_equal(p[i], p[j]);
            }
            assert_heap_ok(&h);
            /* one alone, the rest at once with NULLs among them */
            wee_heap_dealloc(&h, p[0], size, align);
            p[0] = NULL;
            p[N - 1] = NULL;
            wee_heap_dealloc_many(&h, p, N, size, align);
            assert_int_equal(test_stats(&h).live_bytes, 0);
            assert_int_equal(test_stats(&h).deallocs, test_stats(&h).allocs);
            assert_heap_ok(&h);
        }
    }
    /* what wee_heap_alloc() rejects gives nothing */
    assert_int_equal(wee_heap_alloc_many(&h, 16, 3, p, N), 0);
    assert_int_equal(wee_heap_alloc_many(&h, SIZE_MAX, 16, p, N), 0);
    assert_int_equal(wee_heap_alloc_many(&h, 16, 16, p, 0), 0);
    wee_heap_dealloc_many(&h, p, 0, 16, 16);
    assert_heap_ok(&h);
}

static void usable_size_covers_the_block(void **state) {
    (void)state;
    FRESH_HEAP(h);
    for (size_t align = 1; align <= 256; align *= 2) {
        for (size_t size = 0; size < 2 * SMALL_MAX + 100; size += 5) {
            char *p = wee_heap_alloc(&h, size, align);
            assert_non_null(p);
            size_t u = wee_heap_usable_size(&h, p, size, align);
            assert_true(u >= size);
            memset(p, 0x6b, u); /* all of it is writable */
            /* sizes of the same multiple of 16 (with the pad) agree */
            size_t pad = align > WEE_WORD ? WEE_WORD : 0;
            size_t top = (size + pad + 15) / 16 * 16;
            size_t low = top > 16 ? top - 15 : 0;
            size_t same = low > pad ? low - pad : 0;
            assert_int_equal(wee_heap_usable_size(&h, p, same, align), u);
            /* on 64-bit targets each block holds the largest request of
             * its multiple of 16 (wee_alloc.h), which the malloc shim's
             * malloc_usable_size and thread caches count on */
            if (sizeof(void *) == 8 && align <= 16)
                assert_true(u + pad >= top);
            size_t bytes = size + pad;
            if (bytes > SMALL_MAX || align > 16) /* a cell: its data */
                assert_int_equal(u + pad, cell_size(test_cell_of(p - pad)) - CELL_HEADER);
            else if (WEE_RUNS) /* a slot: its class */
                assert_int_equal(u + pad, class_of(bytes + !bytes) * 16);
            assert_heap_ok(&h);
            wee_heap_dealloc(&h, p, same, align);
        }
    }
    assert_int_equal(test_stats(&h).live_bytes, 0);
    assert_heap_ok(&h);
}

RUN(cmocka_unit_test(cell_sizes_round_to_granules), cmocka_unit_test(usable_size_covers_the_block),
    cmocka_unit_test(layout_constants), cmocka_unit_test(classes_by_size),
    cmocka_unit_test(lists_by_size), cmocka_unit_test(absurd_requests_fail_cleanly),
    cmocka_unit_test(zero_size_gives_unique_pointers), cmocka_unit_test(many_at_once))
