/*
 * Entry points: the public sized API over blocks, the block API the malloc
 * shim uses, locking and statistics. Each heap has one lock; every entry
 * point takes it once, so there is no lock order to get wrong inside the
 * core (the shim's fork handlers take it around fork()).
 */
#include <string.h>

#include "heap.h"
#include "only_thread.h"

wee_heap wee_heap_default = WEE_HEAP_INIT;

wee_heap *wee_default_heap(void) { return &wee_heap_default; }

static void heap_lock(heap *h) { wee_lock_acquire(&h->lock); }

/* With extra assertions, every operation ends with a quick check of the free
 * lists and every 4096th with a walk of the whole heap. */
static void heap_unlock(heap *h) {
    if (WEE_EXTRA_ASSERTIONS &&
        wee_check_locked(h, (h->stats.allocs + h->stats.deallocs) % 4096 == 0) != 0)
        wee_fail("wee_alloc: heap invariant broken\n");
    wee_lock_release(&h->lock);
}

/* live_bytes may lag behind by what thread caches have not handed in yet,
 * even below zero (modulo SIZE_MAX + 1): the peak compares differences. */
static void stats_grew(heap *h, size_t bytes) {
    h->stats.live_bytes += bytes;
    if ((ptrdiff_t)(h->stats.live_bytes - h->stats.peak_bytes) > 0)
        h->stats.peak_bytes = h->stats.live_bytes;
}

void *wee_block_alloc(wee_heap *wh, size_t bytes, size_t align) {
    heap *h = heap_of(wh);
    size_t size = cell_size_for(bytes);
    heap_lock(h);
    cell *c = wee_cell_alloc_locked(h, size, align);
    if (c) {
        h->stats.allocs++;
        stats_grew(h, cell_size(c));
    } else {
        h->stats.failures++;
    }
    heap_unlock(h);
    return c ? cell_data(c) : NULL;
}

void wee_block_free(wee_heap *wh, void *block, size_t bytes) {
    heap *h = heap_of(wh);
    cell *c = cell_of(block);
    heap_lock(h);
    WEE_ASSERT(cell_is_allocated(c) && bytes <= cell_size(c) - CELL_HEADER);
    h->stats.deallocs++;
    h->stats.live_bytes -= cell_size(c);
    wee_cell_free_locked(h, c);
    heap_unlock(h);
}

void *wee_block_realloc(wee_heap *wh, void *block, size_t bytes, size_t align) {
    heap *h = heap_of(wh);
    cell *c = cell_of(block);
    size_t size = cell_size_for(bytes);
    heap_lock(h);
    WEE_ASSERT(cell_is_allocated(c));
    size_t old = cell_size(c);
    if (wee_cell_grow_locked(c, size)) {
        wee_cell_shrink_locked(h, c, size);
        h->stats.live_bytes -= old;
        stats_grew(h, cell_size(c));
        heap_unlock(h);
        return block;
    }
    heap_unlock(h);
    void *moved = wee_block_alloc(wh, bytes, align);
    if (moved) {
        memcpy(moved, block, old - CELL_HEADER < bytes ? old - CELL_HEADER : bytes);
        wee_block_free(wh, block, 0);
    }
    return moved;
}

/* Takes a cache's counts; the heap lock is held. */
static void cache_counts_take(heap *h, wee_cache_counts *counts) {
    h->stats.allocs += counts->allocs;
    h->stats.deallocs += counts->deallocs;
    h->stats.cached_bytes -= counts->live;
    stats_grew(h, counts->live);
    counts->allocs = counts->deallocs = counts->live = 0;
}

size_t wee_block_fill(wee_heap *wh, size_t bytes, size_t n, void **list, wee_cache_counts *counts) {
    heap *h = heap_of(wh);
    size_t size = cell_size_for(bytes), got = 0;
    void *head = NULL;
    heap_lock(h);
    cache_counts_take(h, counts);
    /* With other threads about, a batch is one run of adjacent cells when a
     * free cell holds it, not cells from wherever the lists have them:
     * blocks of two threads that share a cache line bounce it between their
     * cores at every write */
    cell *run = ONLY_THREAD() ? NULL : wee_cell_alloc_run_locked(h, size, n);
    for (; got < n; got++) {
        cell *c = run ? run : wee_cell_alloc_locked(h, size, WEE_GRANULE);
        if (!c)
            break;
        run = run && got + 1 < n ? cell_next(run) : NULL;
        h->stats.cached_bytes += cell_size(c);
        *(void **)cell_data(c) = head;
        head = cell_data(c);
    }
    heap_unlock(h);
    *list = head;
    return got;
}

void wee_block_drain(wee_heap *wh, void *list, wee_cache_counts *counts) {
    heap *h = heap_of(wh);
    heap_lock(h);
    cache_counts_take(h, counts);
    while (list) {
        cell *c = cell_of(list);
        list = *(void **)list;
        WEE_ASSERT(cell_is_allocated(c));
        h->stats.cached_bytes -= cell_size(c);
        wee_cell_free_locked(h, c);
    }
    heap_unlock(h);
}

size_t wee_block_capacity(wee_heap *wh, void *block) {
    heap *h = heap_of(wh);
    heap_lock(h);
    size_t bytes = cell_size(cell_of(block)) - CELL_HEADER;
    heap_unlock(h);
    return bytes;
}

/* The public API hands out blocks directly for word alignment; a larger
 * alignment gets the word after a block aligned for it. */
static size_t align_pad(size_t align) { return align > WEE_WORD ? WEE_WORD : 0; }

static int align_valid(size_t align) {
    return align != 0 && (align & (align - 1)) == 0 && align <= WEE_ALIGN_MAX;
}

void *wee_heap_alloc(wee_heap *h, size_t size, size_t align) {
    if (size > WEE_BYTES_MAX || !align_valid(align))
        return NULL;
    char *block = wee_block_alloc(h, size + align_pad(align), align);
    return block ? block + align_pad(align) : NULL;
}

void wee_heap_dealloc(wee_heap *h, void *ptr, size_t size, size_t align) {
    if (ptr)
        wee_block_free(h, (char *)ptr - align_pad(align), size + align_pad(align));
}

void *wee_heap_realloc(wee_heap *h, void *ptr, size_t old_size, size_t align, size_t new_size) {
    if (!ptr)
        return wee_heap_alloc(h, new_size, align);
    if (new_size > WEE_BYTES_MAX || !align_valid(align))
        return NULL;
    size_t pad = align_pad(align);
    (void)old_size; /* the cell knows its size */
    char *block = wee_block_realloc(h, (char *)ptr - pad, new_size + pad, align);
    return block ? block + pad : NULL;
}

void wee_heap_stats(wee_heap *wh, wee_stats *out) {
    heap *h = heap_of(wh);
    if (wee_cache_sync && wh == &wee_heap_default)
        wee_cache_sync();
    heap_lock(h);
    *out = h->stats;
    heap_unlock(h);
}

size_t wee_heap_check(wee_heap *wh) {
    heap *h = heap_of(wh);
    wee_lock_acquire(&h->lock);
    size_t bad = wee_check_locked(h, 1);
    wee_lock_release(&h->lock);
    return bad;
}

void wee_heap_lock(wee_heap *h) { wee_lock_acquire(&heap_of(h)->lock); }

void wee_heap_unlock(wee_heap *h) { wee_lock_release(&heap_of(h)->lock); }

void *wee_alloc(size_t size, size_t align) {
    return wee_heap_alloc(&wee_heap_default, size, align);
}

void wee_dealloc(void *ptr, size_t size, size_t align) {
    wee_heap_dealloc(&wee_heap_default, ptr, size, align);
}

void *wee_realloc(void *ptr, size_t old_size, size_t align, size_t new_size) {
    return wee_heap_realloc(&wee_heap_default, ptr, old_size, align, new_size);
}
