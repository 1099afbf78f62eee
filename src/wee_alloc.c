/*
 * Entry points: the public sized API over blocks, the block API the malloc
 * shim uses, locking and statistics. Each heap has one lock; every entry
 * point takes it once, so there is no lock order to get wrong inside the
 * core (the shim's fork handlers take it around fork()).
 */
#include <string.h>

#include "heap.h"

static wee_heap default_heap = WEE_HEAP_INIT;

wee_heap *wee_default_heap(void) { return &default_heap; }

static void heap_lock(heap *h) { wee_lock_acquire(&h->lock); }

/* With extra assertions, every operation ends with a quick check of the free
 * lists and every 4096th with a walk of the whole heap. */
static void heap_unlock(heap *h) {
    if (WEE_EXTRA_ASSERTIONS &&
        wee_check_locked(h, (h->stats.allocs + h->stats.deallocs) % 4096 == 0) != 0)
        wee_fail("wee_alloc: heap invariant broken\n");
    wee_lock_release(&h->lock);
}

static void stats_grew(heap *h, size_t bytes) {
    h->stats.live_bytes += bytes;
    if (h->stats.live_bytes > h->stats.peak_bytes)
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

void *wee_block_realloc(wee_heap *wh, void *block, size_t keep, size_t bytes, size_t align) {
    heap *h = heap_of(wh);
    cell *c = cell_of(block);
    size_t size = cell_size_for(bytes);
    heap_lock(h);
    WEE_ASSERT(cell_is_allocated(c));
    size_t old = cell_size(c);
    int in_place = wee_cell_grow_locked(c, size);
    if (in_place) {
        wee_cell_shrink_locked(h, c, size);
        h->stats.live_bytes -= old;
        stats_grew(h, cell_size(c));
    }
    size_t capacity = cell_size(c) - CELL_HEADER;
    heap_unlock(h);
    if (in_place)
        return block;
    void *moved = wee_block_alloc(wh, bytes, align);
    if (moved) {
        keep = keep < capacity ? keep : capacity;
        memcpy(moved, block, keep < bytes ? keep : bytes);
        wee_block_free(wh, block, keep);
    }
    return moved;
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
    char *block = wee_block_realloc(h, (char *)ptr - pad, old_size + pad, new_size + pad, align);
    return block ? block + pad : NULL;
}

void wee_heap_stats(wee_heap *wh, wee_stats *out) {
    heap *h = heap_of(wh);
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

void *wee_alloc(size_t size, size_t align) { return wee_heap_alloc(&default_heap, size, align); }

void wee_dealloc(void *ptr, size_t size, size_t align) {
    wee_heap_dealloc(&default_heap, ptr, size, align);
}

void *wee_realloc(void *ptr, size_t old_size, size_t align, size_t new_size) {
    return wee_heap_realloc(&default_heap, ptr, old_size, align, new_size);
}
