/* The heap walk (wee_heap_walk) and the counters beside it: every block
 * once, in address order within each region, never overlapping, adding up
 * to no more than the heap holds, each live allocation inside exactly one
 * block in use; after every step of a recorded trace, and while two
 * threads allocate. The requested-bytes counters follow the trace's own
 * live bytes exactly. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "../support/trace.h"
#include "test_util.h"

#ifndef WEE_TRACE_DIR
#error "WEE_TRACE_DIR: the directory of tests/traces"
#endif

enum { MAX_BLOCKS = 1 << 16 };

typedef struct seen {
    wee_block_info *b;
    size_t n;
    size_t stop_at; /* return nonzero at this visit (1-based); 0: never */
} seen;

static int record(const wee_block_info *b, void *ctx) {
    seen *s = ctx;
    if (s->n < MAX_BLOCKS)
        s->b[s->n] = *b;
    s->n++;
    return s->stop_at != 0 && s->n == s->stop_at;
}

static int by_addr(const void *x, const void *y) {
    uintptr_t a = (uintptr_t)((const wee_block_info *)x)->addr;
    uintptr_t b = (uintptr_t)((const wee_block_info *)y)->addr;
    return a < b ? -1 : a > b;
}

/* Walks heap h into s (sorted by address on return) and checks what holds
 * for any heap: the count, order within regions, no overlap, the sum. */
static void walk_and_check(wee_heap *h, seen *s, wee_block_info *sorted) {
    s->n = 0;
    s->stop_at = 0;
    size_t visited = wee_heap_walk(h, record, s);
    wee_stats st = test_stats(h);
    assert_int_equal(visited, s->n);
    assert_true(s->n <= MAX_BLOCKS);
    size_t drops = 0, sum = 0;
    for (size_t i = 0; i < s->n; i++) {
        assert_true(s->b[i].size > 0);
        sum += s->b[i].size;
        if (i > 0 && (char *)s->b[i].addr < (char *)s->b[i - 1].addr + s->b[i - 1].size)
            drops++; /* only where the next region starts */
    }
    assert_true(drops + 1 <= st.regions || s->n == 0);
    /* extra-assertion builds release the same free cells again at every
     * decay (they mark none), so released_bytes counts some pages twice */
    assert_true(sum <= st.backend_bytes - (WEE_EXTRA_ASSERTIONS ? 0 : st.released_bytes));
    memcpy(sorted, s->b, s->n * sizeof *sorted);
    qsort(sorted, s->n, sizeof *sorted, by_addr);
    for (size_t i = 1; i < s->n; i++)
        assert_true((char *)sorted[i - 1].addr + sorted[i - 1].size <= (char *)sorted[i].addr);
}

/* The index of the block of sorted[0..n) that holds [p, p + size), or n. */
static size_t holder(const wee_block_info *sorted, size_t n, const void *p, size_t size) {
    size_t lo = 0, hi = n;
    while (lo < hi) { /* the first block starting above p */
        size_t mid = (lo + hi) / 2;
        if ((const char *)sorted[mid].addr <= (const char *)p)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return n;
    const wee_block_info *b = &sorted[lo - 1];
    if ((const char *)p + (size ? size : 1) > (const char *)b->addr + b->size)
        return n;
    return lo - 1;
}

/* Live allocations of a test: pointer and size (alignment `align`). */
typedef struct live_set {
    void **ptr;
    size_t *size;
    size_t n;
} live_set;

/* Everything the walk promises for a heap used by this thread alone: each
 * live allocation inside exactly one block in use, one allocation a
 * block, every block in use an allocation, the slots' figures. */
static void check_heap(wee_heap *h, const live_set *live, seen *s, wee_block_info *sorted,
                       unsigned char *taken) {
    walk_and_check(h, s, sorted);
    memset(taken, 0, s->n);
    size_t in_use = 0, free_bytes = 0;
    for (size_t i = 0; i < s->n; i++) {
        in_use += sorted[i].in_use != 0;
        free_bytes += sorted[i].in_use ? 0 : sorted[i].size;
    }
    size_t held = 0;
    for (size_t i = 0; i < live->n; i++) {
        if (!live->ptr[i])
            continue;
        size_t k = holder(sorted, s->n, live->ptr[i], live->size[i]);
        assert_true(k < s->n);
        assert_true(sorted[k].in_use);
        assert_false(taken[k]);
        taken[k] = 1;
        held++;
    }
    assert_int_equal(in_use, held);
    wee_stats st = test_stats(h);
    assert_true(free_bytes >= st.slot_free_bytes);
    assert_int_equal(st.slot_bytes, heap_of(h)->slot_bytes);
}

static void empty_heap_has_no_blocks(void **state) {
    (void)state;
    FRESH_HEAP(h);
    seen s = {malloc(sizeof(wee_block_info)), 0, 0};
    assert_int_equal(wee_heap_walk(&h, record, &s), 0);
    assert_int_equal(s.n, 0);
    free(s.b);
}

/* One block, one slot, a cell: the walk sees them, and the free rest. */
static void small_and_large_blocks(void **state) {
    (void)state;
    FRESH_HEAP(h);
    seen s = {malloc(MAX_BLOCKS * sizeof(wee_block_info)), 0, 0};
    wee_block_info *sorted = malloc(MAX_BLOCKS * sizeof *sorted);
    void *small = wee_heap_alloc(&h, 40, 16), *large = wee_heap_alloc(&h, 10000, 16);
    assert_non_null(small);
    assert_non_null(large);
    walk_and_check(&h, &s, sorted);
    size_t small_k = holder(sorted, s.n, small, 40), large_k = holder(sorted, s.n, large, 10000);
    assert_true(small_k < s.n && large_k < s.n);
    if (WEE_RUNS) { /* a 48-byte slot among free slots of its run */
        assert_int_equal(sorted[small_k].size, 48);
        assert_false(sorted[small_k + 1].in_use);
        assert_int_equal(sorted[small_k + 1].size, 48);
    }
    assert_true(sorted[large_k].size >= 10000 + WEE_WORD);
    assert_true(sorted[large_k].size < 10000 + WEE_WORD + CELL_MIN);
    /* a nonzero result stops the walk at that block */
    s.n = 0;
    s.stop_at = 2;
    assert_int_equal(wee_heap_walk(&h, record, &s), 2);
    wee_heap_dealloc(&h, small, 40, 16);
    wee_heap_dealloc(&h, large, 10000, 16);
    walk_and_check(&h, &s, sorted);
    for (size_t i = 0; i < s.n; i++)
        assert_false(sorted[i].in_use);
    free(sorted);
    free(s.b);
}

/* A block of a run's size and alignment is one block, not a run's slots;
 * so is a freed run's cell. */
static void run_sized_blocks_are_not_runs(void **state) {
    (void)state;
    FRESH_HEAP(h);
    seen s = {malloc(MAX_BLOCKS * sizeof(wee_block_info)), 0, 0};
    wee_block_info *sorted = malloc(MAX_BLOCKS * sizeof *sorted);
    void *slot = wee_heap_alloc(&h, 16, 16);
    void *other = wee_heap_alloc(&h, 64, 16); /* another class: a run of its own */
    void *page = wee_heap_alloc(&h, RUN_BYTES - CELL_HEADER - 2 * WEE_WORD, RUN_BYTES);
    assert_non_null(page);
    walk_and_check(&h, &s, sorted);
    size_t k = holder(sorted, s.n, page, 1);
    assert_true(k < s.n && sorted[k].in_use);
    assert_true(sorted[k].size >= RUN_BYTES - CELL_HEADER - WEE_WORD);
    live_set live = {(void *[]){slot, other, page},
                     (size_t[]){16, 64, RUN_BYTES - CELL_HEADER - 2 * WEE_WORD}, 3};
    unsigned char *taken = malloc(MAX_BLOCKS);
    check_heap(&h, &live, &s, sorted, taken);
    /* two runs of class 4 (64 bytes): the second, emptied, goes back */
    size_t per = (RUN_END - RUN_FIRST) / 64 + 1;
    void **many = malloc(per * sizeof *many);
    for (size_t i = 0; i < per; i++)
        assert_non_null(many[i] = wee_heap_alloc(&h, 64, 16));
    for (size_t i = per; i-- > 0;)
        wee_heap_dealloc(&h, many[i], 64, 16);
    check_heap(&h, &live, &s, sorted, taken);
    wee_heap_dealloc(&h, page, RUN_BYTES - CELL_HEADER - 2 * WEE_WORD, RUN_BYTES);
    wee_heap_dealloc(&h, other, 64, 16);
    wee_heap_dealloc(&h, slot, 16, 16);
    live.n = 0;
    check_heap(&h, &live, &s, sorted, taken);
    free(many);
    free(taken);
    free(sorted);
    free(s.b);
}

/* Reads a gzip'd trace: sizes of Alloc lines and, per operation, the
 * block (Alloc: its index; Free: the index freed, marked by ~). */
typedef struct trace {
    size_t *op; /* Alloc: index; Free: ~index */
    size_t *size;
    size_t ops, allocs;
} trace;

static trace trace_load(const char *name) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "gzip -dc '%s/%s'", WEE_TRACE_DIR, name);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    size_t cap = 1 << 20, len = 0;
    char *text = malloc(cap);
    size_t got;
    while ((got = fread(text + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap)
            text = realloc(text, cap *= 2);
    }
    assert_int_equal(pclose(f), 0);
    trace t = {malloc(len * sizeof(size_t)), malloc(len * sizeof(size_t)), 0, 0};
    const char *p = text, *end = text + len, *s, *e;
    while (trace_next_line(&p, end, &s, &e)) {
        if (s == e)
            continue;
        enum trace_kind kind;
        size_t arg = 0;
        assert_null(trace_parse_line(s, e, &kind, &arg));
        if (kind == TRACE_ALLOC) {
            t.size[t.allocs] = arg;
            t.op[t.ops++] = t.allocs++;
        } else {
            assert_true(arg < t.allocs);
            t.op[t.ops++] = ~arg;
        }
    }
    free(text);
    assert_true(t.ops > 1000);
    return t;
}

/* ls's trace on a fresh heap: the walk's properties after every step, and
 * requested_bytes equal to the trace's live bytes after every step. */
static void walk_after_every_step_of_a_trace(void **state) {
    (void)state;
    FRESH_HEAP(h);
    trace t = trace_load("ls.trace.gz");
    live_set live = {calloc(t.allocs, sizeof(void *)), t.size, t.allocs};
    seen s = {malloc(MAX_BLOCKS * sizeof(wee_block_info)), 0, 0};
    wee_block_info *sorted = malloc(MAX_BLOCKS * sizeof *sorted);
    unsigned char *taken = malloc(MAX_BLOCKS);
    size_t known = 0, known_peak = 0, held_peak = 0;
    for (size_t i = 0; i < t.ops; i++) {
        size_t k = t.op[i];
        if (k < t.allocs) {
            live.ptr[k] = wee_heap_alloc(&h, t.size[k], 16);
            assert_non_null(live.ptr[k]);
            known += t.size[k];
        } else {
            k = ~k;
            assert_non_null(live.ptr[k]);
            wee_heap_dealloc(&h, live.ptr[k], t.size[k], 16);
            live.ptr[k] = NULL;
            known -= t.size[k];
        }
        if (known > known_peak)
            known_peak = known;
        check_heap(&h, &live, &s, sorted, taken);
        if (WEE_INTROSPECT) {
            wee_stats st = test_stats(&h);
            assert_int_equal(st.requested_bytes, known);
            assert_int_equal(st.requested_peak, known_peak);
            /* large blocks' mappings go back: backend_bytes falls too */
            held_peak = st.backend_bytes > held_peak ? st.backend_bytes : held_peak;
            assert_int_equal(st.held_peak_bytes, held_peak);
        }
    }
    /* tests/traces/README.md: ls's peak of live bytes */
    assert_int_equal(known_peak, 406603);
    for (size_t k = 0; k < t.allocs; k++)
        wee_heap_dealloc(&h, live.ptr[k], t.size[k], 16);
    if (WEE_INTROSPECT)
        assert_int_equal(test_stats(&h).requested_bytes, 0);
    assert_all_returned(&h);
    free(taken);
    free(sorted);
    free(s.b);
    free(live.ptr);
    free(t.op);
    free(t.size);
}

/* Reallocs are counted in place or moved, and requested bytes follow. */
static void reallocs_are_counted(void **state) {
    (void)state;
    if (!WEE_INTROSPECT)
        skip();
    FRESH_HEAP(h);
    char *p = wee_heap_alloc(&h, 20, 16);
    p = wee_heap_realloc(&h, p, 20, 16, 24); /* the same slot (or cell) */
    wee_stats st = test_stats(&h);
    assert_int_equal(st.reallocs_in_place, 1);
    assert_int_equal(st.reallocs_moved, 0);
    assert_int_equal(st.requested_bytes, 24);
    p = wee_heap_realloc(&h, p, 24, 16, 5000); /* to a cell: moves */
    st = test_stats(&h);
    assert_int_equal(st.reallocs_moved, 1);
    assert_int_equal(st.allocs, 2);
    assert_int_equal(st.deallocs, 1);
    assert_int_equal(st.requested_bytes, 5000);
    /* both blocks for a moment; the smallest build moves to an eighth more */
    assert_int_equal(st.requested_peak, 24 + (WEE_TINY ? 5000 + 5000 / 8 : 5000));
    assert_null(wee_heap_alloc(&h, SIZE_MAX, 16)); /* rejected: a failure too */
    assert_null(wee_heap_realloc(&h, p, 5000, 16, SIZE_MAX));
    assert_int_equal(test_stats(&h).failures, 2);
    wee_heap_dealloc(&h, p, 5000, 16);
    st = test_stats(&h);
    assert_int_equal(st.requested_bytes, 0);
    assert_int_equal(st.live_bytes, 0);
    /* blocks taken and given back in batches count like single ones */
    void *batch[8];
    assert_int_equal(wee_heap_alloc_many(&h, 100, 16, batch, 8), 8);
    assert_int_equal(test_stats(&h).requested_bytes, 800);
    void *kept = batch[3];
    batch[3] = NULL; /* skipped */
    wee_heap_dealloc_many(&h, batch, 8, 100, 16);
    assert_int_equal(test_stats(&h).requested_bytes, 100);
    wee_heap_dealloc(&h, kept, 100, 16);
    assert_int_equal(test_stats(&h).requested_bytes, 0);
}

/* --- Walking while two threads allocate -------------------------------- */

enum { WORKER_BLOCKS = 64, WORKER_ROUNDS = 60000 };

typedef struct worker {
    wee_heap *h;
    unsigned seed;
} worker;

static void *work(void *arg) {
    worker *w = arg;
    void *p[WORKER_BLOCKS] = {0};
    size_t size[WORKER_BLOCKS] = {0}, align[WORKER_BLOCKS] = {0};
    unsigned x = w->seed;
    for (int i = 0; i < WORKER_ROUNDS; i++) {
        x = x * 1103515245u + 12345u;
        size_t k = (x >> 8) % WORKER_BLOCKS;
        if (p[k]) {
            wee_heap_dealloc(w->h, p[k], size[k], align[k]);
            p[k] = NULL;
            continue;
        }
        unsigned pick = (x >> 16) % 16;
        size[k] = pick < 10 ? (x >> 20) % 600 : pick < 15 ? (x >> 20) % 20000 : 3000;
        align[k] = pick == 15 ? 256 : 16;
        p[k] = wee_heap_alloc(w->h, size[k], align[k]);
        assert_non_null(p[k]);
    }
    for (size_t k = 0; k < WORKER_BLOCKS; k++)
        wee_heap_dealloc(w->h, p[k], size[k], align[k]);
    return NULL;
}

static void walk_while_two_threads_allocate(void **state) {
    (void)state;
    static wee_heap h = WEE_HEAP_INIT;
    enum { PINNED = 50 };
    void *pinned[PINNED];
    size_t pinned_size[PINNED];
    for (size_t i = 0; i < PINNED; i++) {
        pinned_size[i] = i * 97 % 3000;
        pinned[i] = wee_heap_alloc(&h, pinned_size[i], 16);
        assert_non_null(pinned[i]);
        fill(pinned[i], pinned_size[i], (unsigned)i);
    }
    seen s = {malloc(MAX_BLOCKS * sizeof(wee_block_info)), 0, 0};
    wee_block_info *sorted = malloc(MAX_BLOCKS * sizeof *sorted);
    worker w[2] = {{&h, 1}, {&h, 2}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
    size_t walks = 0;
    for (; walks < 200; walks++) {
        walk_and_check(&h, &s, sorted);
        for (size_t i = 0; i < PINNED; i++) {
            size_t k = holder(sorted, s.n, pinned[i], pinned_size[i]);
            assert_true(k < s.n && sorted[k].in_use);
        }
    }
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    for (size_t i = 0; i < PINNED; i++) {
        assert_true(filled(pinned[i], pinned_size[i], (unsigned)i));
        wee_heap_dealloc(&h, pinned[i], pinned_size[i], 16);
    }
    walk_and_check(&h, &s, sorted);
    for (size_t i = 0; i < s.n; i++)
        assert_false(sorted[i].in_use);
    assert_heap_ok(&h);
    free(sorted);
    free(s.b);
}

RUN(cmocka_unit_test(empty_heap_has_no_blocks), cmocka_unit_test(small_and_large_blocks),
    cmocka_unit_test(run_sized_blocks_are_not_runs),
    cmocka_unit_test(walk_after_every_step_of_a_trace), cmocka_unit_test(reallocs_are_counted),
    cmocka_unit_test(walk_while_two_threads_allocate))
