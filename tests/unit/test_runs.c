/* Runs: small blocks (up to SMALL_MAX bytes, alignment 16 at most) are
 * slots without headers in runs of one class; a slot finds its run by
 * rounding down; each class lists its runs with free slots; an empty run
 * goes back to the cells unless it is the class's only run with free slots.
 * Skipped in builds without runs (WEE_RUNS off: every block is a cell). */
#include "test_util.h"

#ifndef WEE_RUNS
#define WEE_RUNS 1
#endif

#define CELL_BYTES (SMALL_MAX + 512) /* a block that is a cell */

/* Slots of `slot` bytes in one run. */
static size_t per_run(size_t slot) { return (RUN_END - RUN_FIRST) / slot; }

static void slots_of_a_class_share_a_run(void **state) {
    (void)state;
    FRESH_HEAP(h);
    /* 24 bytes: 32-byte slots, about RUN_BYTES / 32 of them in one run, as
     * a slot has no header */
    size_t n = per_run(32);
    assert_true(n >= RUN_BYTES / 32 - 2);
    enum { MAX = RUN_BYTES / 32 };
    char *p[MAX + 1];
    for (size_t i = 0; i < n; i++) {
        p[i] = wee_heap_alloc(&h, 24, 8);
        assert_non_null(p[i]);
        assert_int_equal(((uintptr_t)p[i] + WEE_WORD) % 16, 0);
        assert_ptr_equal(run_of(p[i]), run_of(p[0]));
        if (i > 0) /* adjacent: exactly one slot apart */
            assert_int_equal(p[i] - p[i - 1], 32);
        fill(p[i], 24, (unsigned)i);
    }
    run *r = run_of(p[0]);
    assert_ptr_equal(p[0], (char *)r + RUN_FIRST);
    assert_true(p[n - 1] + 32 <= (char *)r + RUN_END);
    assert_int_equal(r->slot, 32);
    assert_int_equal(r->used, n);
    assert_int_equal(heap_of(&h)->run_bytes, RUN_BYTES);
    assert_int_equal(test_stats(&h).live_bytes, n * 32);
    assert_int_equal(heap_of(&h)->slot_bytes, n * 32);
    /* the run is the cell it was carved as */
    assert_true(cell_is_allocated(test_run_cell(r)));
    assert_int_equal(cell_size(test_run_cell(r)), RUN_BYTES);
    /* the next one starts another run */
    p[n] = wee_heap_alloc(&h, 24, 8);
    assert_ptr_not_equal(run_of(p[n]), r);
    assert_int_equal(heap_of(&h)->run_bytes, 2 * RUN_BYTES);
    assert_heap_ok(&h);
    for (size_t i = 0; i <= n; i++) {
        if (i < n)
            assert_true(filled(p[i], 24, (unsigned)i));
        wee_heap_dealloc(&h, p[i], 24, 8);
    }
    assert_all_returned(&h);
}

static void every_class_rounds_down_to_its_run(void **state) {
    (void)state;
    FRESH_HEAP(h);
    for (size_t k = 1; k <= CLASS_COUNT; k++) {
        for (size_t align = 1; align <= 16; align *= 2) {
            size_t pad = align == 16 ? WEE_WORD : 0;
            size_t size = k * 16 - pad; /* the largest of the class */
            char *p = wee_heap_alloc(&h, size, align);
            assert_non_null(p);
            assert_int_equal((uintptr_t)p % align, 0);
            assert_int_equal(((uintptr_t)p - pad + WEE_WORD) % 16, 0);
            run *r = run_of(p);
            assert_int_equal(r->slot, k * 16);
            size_t at = (size_t)(p - pad - (char *)r);
            assert_true(at >= RUN_FIRST && at + k * 16 <= RUN_END);
            assert_int_equal((at - RUN_FIRST) % (k * 16), 0);
            memset(p, 0x5c, size);
            assert_int_equal(test_stats(&h).live_bytes, k * 16);
            /* sizes of the same multiple of 16 are interchangeable */
            size_t other = k > 1 ? (k - 1) * 16 + 1 - pad : 0;
            wee_heap_dealloc(&h, p, other, align);
            assert_int_equal(test_stats(&h).live_bytes, 0);
        }
    }
    assert_all_returned(&h);
}

static void full_run_leaves_the_list_and_comes_back(void **state) {
    (void)state;
    FRESH_HEAP(h);
    size_t n = per_run(64), k = 4;
    enum { MAX = RUN_BYTES / 64 };
    void *p[MAX];
    for (size_t i = 0; i < n; i++)
        p[i] = wee_heap_alloc(&h, 60, 8);
    run *r = run_of(p[0]);
    assert_false(test_run_listed(&h, k, r)); /* full */
    assert_null(r->free);
    assert_int_equal(test_runs_listed(&h, k), 0);
    assert_heap_ok(&h);
    wee_heap_dealloc(&h, p[n / 2], 60, 8);
    assert_true(test_run_listed(&h, k, r)); /* back with one free slot */
    assert_ptr_equal(r->free, p[n / 2]);
    assert_int_equal(r->used, n - 1);
    /* and that slot is the next one handed out */
    assert_ptr_equal(wee_heap_alloc(&h, 60, 8), p[n / 2]);
    assert_false(test_run_listed(&h, k, r));
    for (size_t i = 0; i < n; i++)
        wee_heap_dealloc(&h, p[i], 60, 8);
    assert_all_returned(&h);
}

static void empty_run_goes_back_unless_it_is_the_last(void **state) {
    (void)state;
    FRESH_HEAP(h);
    size_t n = per_run(128), k = 8;
    enum { MAX = RUN_BYTES / 128 };
    void *a[MAX], *b;
    for (size_t i = 0; i < n; i++)
        a[i] = wee_heap_alloc(&h, 128, 8);
    b = wee_heap_alloc(&h, 128, 8);
    run *ra = run_of(a[0]), *rb = run_of(b);
    assert_ptr_not_equal(ra, rb);
    assert_int_equal(heap_of(&h)->run_bytes, 2 * RUN_BYTES);
    /* rb empties while ra is full: rb is the class's only run with free
     * slots, so it is kept */
    wee_heap_dealloc(&h, b, 128, 8);
    assert_int_equal(heap_of(&h)->run_bytes, 2 * RUN_BYTES);
    assert_true(test_run_listed(&h, k, rb));
    assert_int_equal(rb->used, 0);
    assert_heap_ok(&h);
    /* ra empties beside rb: given back as an ordinary free cell */
    for (size_t i = 0; i < n; i++)
        wee_heap_dealloc(&h, a[i], 128, 8);
    assert_int_equal(heap_of(&h)->run_bytes, RUN_BYTES);
    assert_false(test_run_listed(&h, k, ra));
    assert_true(test_run_listed(&h, k, rb));
    assert_int_equal(test_runs_listed(&h, k), 1);
    assert_all_returned(&h);
    /* the kept run serves the class again without a new run */
    void *again = wee_heap_alloc(&h, 128, 8);
    assert_ptr_equal(run_of(again), rb);
    assert_int_equal(heap_of(&h)->run_bytes, RUN_BYTES);
    wee_heap_dealloc(&h, again, 128, 8);
    assert_all_returned(&h);
}

/* One block allocated and freed in a loop neither makes nor unmakes a run
 * each time, and a class's runs are reused after emptying. */
static void runs_are_reused(void **state) {
    (void)state;
    FRESH_HEAP(h);
    void *first = wee_heap_alloc(&h, 40, 8);
    wee_heap_dealloc(&h, first, 40, 8);
    for (int i = 0; i < 1000; i++) {
        void *p = wee_heap_alloc(&h, 40, 8);
        assert_ptr_equal(p, first);
        wee_heap_dealloc(&h, p, 40, 8);
    }
    assert_int_equal(heap_of(&h)->run_bytes, RUN_BYTES);
    assert_int_equal(test_stats(&h).allocs, 1001);
    /* many runs' worth, filled and emptied: the heap does not grow after
     * the first round */
    enum { N = 2000 };
    static void *p[N];
    size_t backend = 0;
    for (int round = 0; round < 20; round++) {
        for (int i = 0; i < N; i++)
            assert_non_null(p[i] = wee_heap_alloc(&h, 40, 8));
        assert_int_equal(heap_of(&h)->slot_bytes, N * 48);
        for (int i = 0; i < N; i++)
            wee_heap_dealloc(&h, p[i], 40, 8);
        if (round == 0)
            backend = test_stats(&h).backend_bytes;
        assert_int_equal(test_stats(&h).backend_bytes, backend);
        assert_all_returned(&h);
    }
}

/* Bytes a block of `bytes` takes: its slot or its cell. */
static size_t taken(size_t bytes) {
    return bytes <= SMALL_MAX ? class_of(bytes) * 16 : cell_size_for(bytes);
}

/* wee_alloc 0.4.5's size classes never gave memory back: after a burst of
 * one size, another size of the same total grew the heap again. */
static void a_class_cannot_hoard(void **state) {
    (void)state;
    static const size_t pairs[][2] = {{24, 100}, {500, 8}, {64, 300}, {200, 2000}, {2000, 40}};
    for (size_t t = 0; t < sizeof pairs / sizeof *pairs; t++) {
        FRESH_HEAP(h);
        size_t a = pairs[t][0], b = pairs[t][1], total = 4 << 20;
        size_t na = total / taken(a), nb = total / taken(b);
        void **p = wee_heap_alloc(&h, sizeof(void *) * (na > nb ? na : nb), 8);
        assert_non_null(p);
        for (size_t i = 0; i < na; i++)
            assert_non_null(p[i] = wee_heap_alloc(&h, a, 8));
        for (size_t i = 0; i < na; i++)
            wee_heap_dealloc(&h, p[i], a, 8);
        size_t backend = test_stats(&h).backend_bytes;
        /* at most the class's one kept run is left of the burst */
        assert_true(heap_of(&h)->run_bytes <= RUN_BYTES);
        for (size_t i = 0; i < nb; i++)
            assert_non_null(p[i] = wee_heap_alloc(&h, b, 8));
        /* b's blocks, in runs or cells, fit where a's were: a hoarding
         * class would grow the heap by the whole total; what a run wastes
         * at its ends differs by class (up to a slot), hence some slack */
        assert_true(test_stats(&h).backend_bytes <= backend + total / 8);
        for (size_t i = 0; i < nb; i++)
            wee_heap_dealloc(&h, p[i], b, 8);
        wee_heap_dealloc(&h, p, sizeof(void *) * (na > nb ? na : nb), 8);
        assert_all_returned(&h);
    }
}

/* wee_heap_check looks inside the runs with free slots. */
static void check_catches_a_corrupt_run(void **state) {
    (void)state;
    FRESH_HEAP(h);
    void *p[3];
    for (int i = 0; i < 3; i++)
        p[i] = wee_heap_alloc(&h, 72, 8);
    run *r = run_of(p[0]);
    assert_true(test_run_listed(&h, 5, r));
    assert_heap_ok(&h);
    r->used++; /* a count that disagrees with the free list */
    assert_true(wee_heap_check(&h) > 0);
    r->used--;
    assert_heap_ok(&h);
    void *saved = r->free;
    r->free = (char *)saved + 8; /* a free slot off the slot grid */
    assert_true(wee_heap_check(&h) > 0);
    r->free = (char *)r + RUN_END; /* past the run's end */
    assert_true(wee_heap_check(&h) > 0);
    r->free = saved;
    assert_heap_ok(&h);
    void *next = *(void **)saved;
    *(void **)saved = saved; /* a cycle in the free list */
    assert_true(wee_heap_check(&h) > 0);
    *(void **)saved = next;
    assert_heap_ok(&h);
    r->slot = 96; /* the wrong class */
    assert_true(wee_heap_check(&h) > 0);
    r->slot = 80;
    assert_heap_ok(&h);
    run **pprev = r->pprev;
    r->pprev = &r->next; /* a broken back link */
    assert_true(wee_heap_check(&h) > 0);
    r->pprev = pprev;
    heap_of(&h)->run_bytes += 16; /* the counters disagree with the cells */
    assert_true(wee_heap_check(&h) > 0);
    heap_of(&h)->run_bytes -= 16;
    assert_heap_ok(&h);
    for (int i = 0; i < 3; i++)
        wee_heap_dealloc(&h, p[i], 72, 8);
    assert_all_returned(&h);
}

/* A run is a cell of exactly RUN_BYTES, so that runs carved one after the
 * other leave no gaps, whatever the free cell it is carved from: here one a
 * granule larger than a run request needs, between allocated cells. */
static void a_run_is_exactly_one_run_cell(void **state) {
    (void)state;
    FRESH_HEAP(h);
    /* cells, carved one after the other: a filler that puts the next cell
     * c at (c + CELL_HEADER + WEE_WORD + 16) % RUN_BYTES == 0, then a free
     * cell L of two runs and a granule there, between allocated cells */
    void *probe = wee_heap_alloc(&h, SMALL_MAX + 1, 8);
    uintptr_t next = (uintptr_t)cell_next(test_cell_of(probe));
    size_t fs = (RUN_BYTES - (next + CELL_HEADER + WEE_WORD + 16) % RUN_BYTES) % RUN_BYTES;
    if (fs < cell_size_for(SMALL_MAX + 1))
        fs += RUN_BYTES;
    void *filler = wee_heap_alloc(&h, fs - CELL_HEADER, 8);
    size_t ls = 3 * RUN_BYTES + CELL_MIN + WEE_GRANULE;
    void *l = wee_heap_alloc(&h, ls - CELL_HEADER, 8);
    void *guard = wee_heap_alloc(&h, SMALL_MAX + 1, 8);
    assert_ptr_equal(test_cell_of(filler), (cell *)next);
    assert_int_equal(cell_size(test_cell_of(l)), ls);
    assert_ptr_equal(cell_next(test_cell_of(l)), test_cell_of(guard));
    wee_heap_dealloc(&h, l, ls - CELL_HEADER, 8);
    assert_heap_ok(&h);
    void *s = wee_heap_alloc(&h, 8, 8); /* the heap's first run */
    assert_non_null(s);
    run *r = run_of(s);
    assert_true((char *)r > (char *)test_cell_of(l));
    assert_true((char *)r < (char *)test_cell_of(guard));
    assert_int_equal(heap_of(&h)->run_bytes, RUN_BYTES);
    assert_int_equal(cell_size(test_run_cell(r)), RUN_BYTES);
    assert_heap_ok(&h);
    wee_heap_dealloc(&h, s, 8, 8);
    wee_heap_dealloc(&h, probe, SMALL_MAX + 1, 8);
    wee_heap_dealloc(&h, filler, fs - CELL_HEADER, 8);
    wee_heap_dealloc(&h, guard, SMALL_MAX + 1, 8);
    assert_all_returned(&h);
}

/* Cells and runs share the free cells: a run taken from a free cell splits
 * it, and an empty run given back merges with its free neighbours. */
static void runs_split_and_merge_like_cells(void **state) {
    (void)state;
    FRESH_HEAP(h);
    char *a = wee_heap_alloc(&h, CELL_BYTES, 8);
    assert_non_null(a);
    size_t per_run = (RUN_END - RUN_FIRST) / 32;
    enum { MAX = RUN_BYTES / 32 };
    void *s[2 * MAX];
    /* two full runs of 32-byte slots and a slot from a third */
    for (size_t i = 0; i < 2 * per_run + 1; i++)
        assert_non_null(s[i] = wee_heap_alloc(&h, 24, 8));
    assert_int_equal(heap_of(&h)->run_bytes, 3 * RUN_BYTES);
    assert_heap_ok(&h);
    wee_heap_dealloc(&h, a, CELL_BYTES, 8);
    for (size_t i = 0; i < 2 * per_run + 1; i++)
        wee_heap_dealloc(&h, s[i], 24, 8);
    /* one run kept for the class, the others merged back */
    assert_int_equal(heap_of(&h)->run_bytes, RUN_BYTES);
    assert_all_returned(&h);
}

static void slots_stay_within_their_class(void **state) {
    (void)state;
    FRESH_HEAP(h);
    /* 17 to 32 bytes: one 32-byte slot, kept in place */
    char *p = wee_heap_alloc(&h, 17, 8);
    fill(p, 17, 2);
    assert_ptr_equal(wee_heap_realloc(&h, p, 17, 8, 32), p);
    assert_ptr_equal(wee_heap_realloc(&h, p, 32, 8, 20), p);
    assert_true(filled(p, 17, 2));
    /* with alignment 16 the block has a word in front: 24 bytes fit */
    char *q = wee_heap_alloc(&h, 10, 16);
    assert_ptr_equal(wee_heap_realloc(&h, q, 10, 16, 24), q);
    assert_int_equal(test_stats(&h).live_bytes, 2 * 32);
    assert_int_equal(test_stats(&h).allocs, 2);
    /* another class: moved, contents kept */
    char *m = wee_heap_realloc(&h, p, 20, 8, 33);
    assert_ptr_not_equal(m, p);
    assert_int_equal(run_of(m)->slot, 48);
    assert_true(filled(m, 17, 2));
    /* from a slot to a cell and back: moved both ways */
    fill(m, 33, 6);
    char *c = wee_heap_realloc(&h, m, 33, 8, CELL_BYTES);
    assert_ptr_not_equal(c, m);
    assert_true(cell_is_allocated(test_cell_of(c)));
    assert_true(filled(c, 33, 6));
    char *back = wee_heap_realloc(&h, c, CELL_BYTES, 8, 100);
    assert_ptr_not_equal(back, c);
    assert_int_equal(run_of(back)->slot, 112);
    assert_true(filled(back, 33, 6));
    assert_int_equal(test_stats(&h).live_bytes, 32 + 112);
    wee_heap_dealloc(&h, back, 100, 8);
    wee_heap_dealloc(&h, q, 24, 16);
    assert_all_returned(&h);
}

RUN_IF(WEE_RUNS, "built with WEE_TINY, which has no runs",
       cmocka_unit_test(slots_of_a_class_share_a_run),
       cmocka_unit_test(runs_split_and_merge_like_cells),
       cmocka_unit_test(slots_stay_within_their_class),
       cmocka_unit_test(every_class_rounds_down_to_its_run),
       cmocka_unit_test(full_run_leaves_the_list_and_comes_back),
       cmocka_unit_test(empty_run_goes_back_unless_it_is_the_last),
       cmocka_unit_test(runs_are_reused), cmocka_unit_test(a_class_cannot_hoard),
       cmocka_unit_test(check_catches_a_corrupt_run),
       cmocka_unit_test(a_run_is_exactly_one_run_cell))
