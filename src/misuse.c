/*
 * Misuse reports: a block handed back that the heap cannot take.
 *
 * The entry points check each block they are given (wee_alloc.c): in every
 * hardened build (WEE_HARDEN) for a few instructions, that the block lies
 * within the heap's address range, is not the head of its run's free list,
 * belongs to a run of its size, or is an allocated cell whose follower
 * points back at it; with extra assertions thoroughly (wee_block_sound_locked
 * below). When a check fails, wee_misuse_locked() finds out what happened by
 * walking the heap (the process is about to end, so the walk's cost does not
 * matter) and ends it with one message naming the misuse and the address
 * the caller passed:
 *
 *   wee_alloc: double free: 0x...
 *   wee_alloc: invalid pointer (not a block of this heap): 0x...
 *   wee_alloc: free with the wrong size: 0x...
 *   wee_alloc: block header overwritten (buffer overflow?): 0x...
 *   wee_alloc: heap corrupted: 0x...
 *
 * Builds that check nothing (wasm32's) never call these functions, and the
 * linker leaves them out.
 */
#include "heap.h"

static int in_heap(const heap *h, const void *p) {
    return (uintptr_t)p >= h->lo && (uintptr_t)p < h->hi;
}

/* A run cell: allocated, RUN_BYTES (a granule more when the rest made no
 * cell), its run header one word into its data with a slot size of a class. */
static const run *run_of_cell(cell *c) {
    size_t size = cell_size(c);
    if (!cell_is_allocated(c) || (size != RUN_BYTES && size != RUN_BYTES + WEE_GRANULE))
        return NULL;
    const run *r = (const run *)((char *)cell_data(c) + WEE_WORD);
    if ((uintptr_t)r % RUN_BYTES != 0 || r->slot == 0 || r->slot > SMALL_MAX ||
        r->slot % WEE_GRANULE != 0)
        return NULL;
    return r;
}

/* Whether `slot` is on run r's free list (walked at most as far as the run
 * has slots). */
static int slot_is_free(const run *r, const void *slot) {
    size_t n = (RUN_END - RUN_FIRST) / r->slot;
    for (void *s = r->free; s && n; s = slot_next(s), n--)
        if (s == slot)
            return 1;
    return 0;
}

/* A header that is sound as seen from its neighbours: it points forward
 * inside the heap and its follower points back. */
static int cell_links_sound(const heap *h, cell *c) {
    cell *n = cell_next(c);
    return in_heap(h, c) && (char *)n > (char *)c && (uintptr_t)n <= h->hi &&
           (uintptr_t)n % WEE_GRANULE == CELL_PHASE && n->prev == c;
}

int wee_block_sound_locked(heap *h, void *block, size_t bytes, size_t align, size_t k) {
    if (!in_heap(h, block))
        return 0;
    if (k) {
        run *r = run_of(block);
        cell *rc = cell_of((char *)r - WEE_WORD);
        if (!in_heap(h, rc) || run_of_cell(rc) != r || r->slot != k * WEE_GRANULE || !r->used)
            return 0;
        size_t at = (size_t)((char *)block - (char *)r);
        return at >= RUN_FIRST && at < RUN_END && (at - RUN_FIRST) % r->slot == 0 &&
               !slot_is_free(r, block);
    }
    cell *c = cell_of(block);
    if (!cell_is_allocated(c) || cell_is_last(c) || !cell_links_sound(h, c))
        return 0;
    if (c->prev && (!in_heap(h, c->prev) || cell_next(c->prev) != c))
        return 0;
    size_t size = cell_size(c);
    if (bytes > size - CELL_HEADER)
        return 0;
    /* blocks aligned to 16 or less are cut to their size, but for less than
     * a cell (the smallest build keeps a shrunk cell whole) */
    return WEE_TINY || align > WEE_GRANULE || size < cell_size_for(bytes) + CELL_MIN;
}

/* The cell of heap h whose header or data holds address `a`, found by
 * walking the regions; NULL when no region holds it. *broken is set, and
 * NULL returned, when the walk meets a header that does not hold up. */
static cell *cell_holding(heap *h, uintptr_t a, int *broken) {
    size_t limit = h->stats.backend_bytes / CELL_MIN + 1;
    *broken = 0;
    for (void **region = h->regions; region && limit; region = *region) {
        cell *c = (cell *)((char *)region + CELL_PHASE);
        while (a >= (uintptr_t)c && limit--) {
            if (cell_is_last(c))
                break; /* not in this region */
            if (!cell_links_sound(h, c)) {
                *broken = 1;
                return NULL;
            }
            if (a < (uintptr_t)cell_next(c))
                return c;
            c = cell_next(c);
        }
        if (*region && !in_heap(h, *region))
            break;
    }
    return NULL;
}

/* What is wrong with block `block`, which the checks refused. */
static const char *misuse_kind(heap *h, char *block, size_t bytes, size_t align, size_t k) {
    if (!in_heap(h, block))
        return "invalid pointer (not a block of this heap)";
    int broken;
    cell *c = cell_holding(h, (uintptr_t)cell_of(block), &broken);
    if (broken)
        return "block header overwritten (buffer overflow?)";
    if (!c)
        return "invalid pointer (not a block of this heap)";
    if (c == cell_of(block)) { /* the block is a cell */
        if (!cell_is_allocated(c))
            return "double free";
        if (k || !wee_block_sound_locked(h, block, bytes, align, 0))
            return "free with the wrong size";
        return "heap corrupted";
    }
    if (!cell_is_allocated(c)) /* inside free memory: freed, and merged */
        return "double free";
    const run *r = run_of_cell(c);
    if (r && block >= (char *)r + RUN_FIRST && block < (char *)r + RUN_END) {
        size_t at = (size_t)(block - (char *)r) - RUN_FIRST;
        if (at % r->slot != 0)
            return "invalid pointer (not a block of this heap)";
        if (slot_is_free(r, block)) /* its size may be gone with it (the shim's word) */
            return "double free";
        if (k != r->slot / WEE_GRANULE)
            return "free with the wrong size";
        return "heap corrupted";
    }
    return "invalid pointer (not a block of this heap)";
}

_Noreturn void wee_misuse_locked(heap *h, void *ptr, size_t bytes, size_t align, size_t k) {
    char *block = (char *)ptr - (align > WEE_WORD ? WEE_WORD : 0);
    wee_fail_at(misuse_kind(h, block, bytes, align, k), ptr);
}
