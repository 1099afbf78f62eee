/*
 * Entry points: the public sized API, locking and statistics. Each heap has
 * one lock; every entry point takes it once, so there is no lock order to
 * get wrong inside the core (the shim's fork handlers take it around
 * fork()).
 *
 * A request of `size` bytes with alignment `align` becomes a block of
 * size + pad bytes: the pad is one word when align is 16 (blocks start one
 * word below a 16-byte boundary), none below. The block is a slot when it is
 * small and 16-aligned at most, a cell otherwise; deallocation and
 * reallocation, given the same size and alignment, find the same answer.
 */
#include <string.h>

#include "heap.h"

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

static size_t align_pad(size_t align) { return align > WEE_WORD ? WEE_WORD : 0; }

static int align_valid(size_t align) {
    return align != 0 && (align & (align - 1)) == 0 && align <= WEE_ALIGN_MAX;
}

/* The class of a block when it is a slot, else 0. */
static size_t block_class(size_t bytes, size_t align) {
    if (!WEE_RUNS || bytes > SMALL_MAX || align > WEE_GRANULE)
        return 0;
    size_t k = class_of(bytes);
    return k + !k;
}

/* live_bytes grows by `bytes` (modulo SIZE_MAX + 1: a shrink is negative). */
static void stats_grew(heap *h, size_t bytes) {
    h->stats.live_bytes += bytes;
    if (h->stats.live_bytes > h->stats.peak_bytes)
        h->stats.peak_bytes = h->stats.live_bytes;
}

static char *block_alloc_locked(heap *h, size_t bytes, size_t align) {
    size_t k = block_class(bytes, align), got;
    char *p;
    if (k) {
#if WEE_RELEASES
        int new_run = !h->runs[k];
#endif
        p = wee_slot_alloc_locked(h, k);
        got = k * WEE_GRANULE;
        h->slot_bytes += p ? got : 0;
#if WEE_RELEASES
        if (p && new_run && h->zero_to > h->zero_from) {
            cell *c = cell_of((char *)run_of(p) - WEE_WORD);
            wee_zero_taken_locked(h, (char *)c, (char *)cell_next(c));
        }
#endif
    } else {
        cell *c = wee_cell_alloc_locked(h, cell_size_for(bytes), align);
        p = c ? cell_data(c) : NULL;
        got = c ? cell_size(c) : 0;
#if WEE_RELEASES
        if (c && h->zero_to > h->zero_from)
            wee_zero_taken_locked(h, (char *)c, (char *)cell_next(c));
#endif
    }
    if (!p) {
        h->stats.failures++;
        return NULL;
    }
    h->stats.allocs++;
    stats_grew(h, got);
#if WEE_RELEASES
    if (!k) /* memory freed and taken again needs no release */
        h->dirty_bytes -= got < h->dirty_bytes ? got : h->dirty_bytes;
#endif
    return p;
}

static void block_free_locked(heap *h, char *block, size_t bytes, size_t align) {
    size_t k = block_class(bytes, align);
    h->stats.deallocs++;
    if (k) {
        h->stats.live_bytes -= k * WEE_GRANULE;
        h->slot_bytes -= k * WEE_GRANULE;
        wee_slot_free_locked(h, block, k);
    } else {
        cell *c = cell_of(block);
        WEE_ASSERT(cell_is_allocated(c) && bytes <= cell_size(c) - CELL_HEADER);
        h->stats.live_bytes -= cell_size(c);
        wee_cell_free_locked(h, c);
    }
}

/* Usable bytes of a block; needs no lock: a cell's size changes only
 * through its owner. */
static size_t block_capacity(const char *block, size_t bytes, size_t align) {
    size_t k = block_class(bytes, align);
    return k ? k * WEE_GRANULE : cell_size(cell_of((void *)block)) - CELL_HEADER;
}

void *wee_heap_alloc(wee_heap *wh, size_t size, size_t align) {
    if (size > WEE_BYTES_MAX || !align_valid(align))
        return NULL;
    heap *h = heap_of(wh);
    size_t pad = align_pad(align);
#if WEE_RELEASES
    if (large_wanted(h, size + pad, align)) {
        char *large = wee_large_alloc(h, size + pad, align);
        if (large)
            return large + pad;
    }
#endif
    heap_lock(h);
    char *block = block_alloc_locked(h, size + pad, align);
    heap_unlock(h);
    return block ? block + pad : NULL;
}

/* Before the lock: unmaps a large block (returns 1), or clears a cell's
 * release mark, since its pages hold data now. */
static int dealloc_unlocked(heap *h, char *block, size_t bytes, size_t align) {
#if WEE_RELEASES
    cell *c = cell_of(block);
    if (!block_class(bytes, align)) {
        if (cell_is_mapped(c)) {
            wee_large_free(h, c);
            return 1;
        }
        if (cell_size(c) >= CELL_HEADER + 3 * WEE_WORD)
            *cell_release_mark(c) = 0;
    }
#else
    (void)h, (void)block, (void)bytes, (void)align;
#endif
    return 0;
}

/* Frees a block that is not large, and lets the decay see what the cells
 * got back. */
static void dealloc_locked(heap *h, char *block, size_t bytes, size_t align) {
#if WEE_RELEASES
    size_t cells = h->stats.live_bytes - h->slot_bytes + h->run_bytes;
    block_free_locked(h, block, bytes, align);
    cells -= h->stats.live_bytes - h->slot_bytes + h->run_bytes;
    if (cells)
        wee_release_freed_locked(h, cells);
#else
    block_free_locked(h, block, bytes, align);
#endif
}

void wee_heap_dealloc(wee_heap *wh, void *ptr, size_t size, size_t align) {
    if (!ptr)
        return;
    heap *h = heap_of(wh);
    size_t pad = align_pad(align);
    if (dealloc_unlocked(h, (char *)ptr - pad, size + pad, align))
        return;
    heap_lock(h);
    dealloc_locked(h, (char *)ptr - pad, size + pad, align);
    heap_unlock(h);
}

#if WEE_TINY
/* The smallest build: a lock per block, so that allocation and freeing
 * stay inline in their one caller each. */
size_t wee_heap_alloc_many(wee_heap *wh, size_t size, size_t align, void **out, size_t n) {
    size_t got = 0;
    while (got < n && (out[got] = wee_heap_alloc(wh, size, align)) != NULL)
        got++;
    return got;
}

void wee_heap_dealloc_many(wee_heap *wh, void *first, size_t size, size_t align) {
    for (void *ptr = first, *next; ptr; ptr = next) {
        next = *(void **)ptr;
        wee_heap_dealloc(wh, ptr, size, align);
    }
}
#else
size_t wee_heap_alloc_many(wee_heap *wh, size_t size, size_t align, void **out, size_t n) {
    if (size > WEE_BYTES_MAX || !align_valid(align))
        return 0;
    heap *h = heap_of(wh);
    size_t pad = align_pad(align), got = 0;
#if WEE_RELEASES
    if (large_wanted(h, size + pad, align)) {
        while (got < n && (out[got] = wee_heap_alloc(wh, size, align)) != NULL)
            got++;
        return got;
    }
#endif
    heap_lock(h);
    for (; got < n; got++) {
        char *block = block_alloc_locked(h, size + pad, align);
        if (!block)
            break;
        out[got] = block + pad;
    }
    heap_unlock(h);
    return got;
}

void wee_heap_dealloc_many(wee_heap *wh, void *first, size_t size, size_t align) {
    heap *h = heap_of(wh);
    size_t pad = align_pad(align);
    heap_lock(h);
    for (void *ptr = first, *next; ptr; ptr = next) {
        next = *(void **)ptr;
        char *block = (char *)ptr - pad;
        if (WEE_RELEASES && !block_class(size + pad, align) && cell_is_allocated(cell_of(block)) &&
            cell_is_last(cell_of(block))) { /* large: unmapped without the lock */
            heap_unlock(h);
            dealloc_unlocked(h, block, size + pad, align);
            heap_lock(h);
            continue;
        }
        dealloc_unlocked(h, block, size + pad, align);
        dealloc_locked(h, block, size + pad, align);
    }
    heap_unlock(h);
}
#endif

#if WEE_RELEASES
/* Realloc of a large block: remapped while it stays large enough, else
 * moved into the heap. */
static void *large_realloc(wee_heap *wh, cell *c, void *ptr, size_t align, size_t new_size) {
    heap *h = heap_of(wh);
    size_t pad = align_pad(align), bytes = new_size + pad, keep = wee_large_threshold(h);
    if (bytes > SMALL_MAX && bytes >= (keep < 64 * 1024 ? keep : 64 * 1024)) {
        char *data = wee_large_resize(h, c, bytes);
        return data ? data + pad : NULL;
    }
    size_t usable = cell_size(c) - CELL_HEADER - pad;
    char *moved = wee_heap_alloc(wh, new_size, align);
    if (moved) {
        memcpy(moved, ptr, usable < new_size ? usable : new_size);
        wee_large_free(h, c);
    }
    return moved;
}
#endif

void *wee_heap_realloc(wee_heap *wh, void *ptr, size_t old_size, size_t align, size_t new_size) {
    if (!ptr)
        return wee_heap_alloc(wh, new_size, align);
    if (new_size > WEE_BYTES_MAX)
        return NULL;
    heap *h = heap_of(wh);
    size_t pad = align_pad(align), bytes = new_size + pad, k = block_class(old_size + pad, align);
    char *block = (char *)ptr - pad;
#if WEE_RELEASES
    if (!k && cell_is_mapped(cell_of(block)))
        return large_realloc(wh, cell_of(block), ptr, align, new_size);
#endif
    if (k) {
        if (k == block_class(bytes, align))
            return ptr; /* the same slot size */
    } else if (!block_class(bytes, align)) {
        cell *c = cell_of(block);
        size_t was = cell_size(c), size = cell_size_for(bytes);
        if (WEE_TINY && size <= was)
            return ptr;
        if (!WEE_TINY) {
            heap_lock(h);
            int kept = wee_cell_grow_locked(c, size);
            if (kept) {
                wee_cell_shrink_locked(h, c, size);
                stats_grew(h, cell_size(c) - was);
#if WEE_RELEASES
                if (h->zero_to > h->zero_from)
                    wee_zero_taken_locked(h, (char *)c, (char *)cell_next(c));
#endif
            }
            heap_unlock(h);
            if (kept)
                return ptr;
        }
    }
    size_t keep = block_capacity(block, old_size + pad, align) - pad;
    /* the smallest build grows only by moving: an eighth more, so that a
     * block grown a little at a time moves a logarithmic number of times */
    char *moved =
        wee_heap_alloc(wh, WEE_TINY && new_size > keep ? new_size + new_size / 8 : new_size, align);
    if (moved) {
        memcpy(moved, ptr, keep < new_size ? keep : new_size);
        wee_heap_dealloc(wh, ptr, old_size, align);
    }
    return moved;
}

size_t wee_heap_usable_size(wee_heap *h, const void *ptr, size_t size, size_t align) {
    (void)h;
    size_t pad = align_pad(align);
    return block_capacity((const char *)ptr - pad, size + pad, align) - pad;
}

#if WEE_RELEASES
/* A cell: clears what may hold old data. Pages the heap released read as
 * zero: of those, the ones inside the heap's known-zero range (release.c)
 * are left alone, so that they stay out of the resident set. */
static void *cell_alloc_zeroed(heap *h, size_t size, size_t align) {
    size_t pad = align_pad(align);
    heap_lock(h);
    char *from = (char *)h->zero_from, *to = (char *)h->zero_to;
    char *block = block_alloc_locked(h, size + pad, align);
    heap_unlock(h);
    if (!block)
        return NULL;
    char *p = block + pad, *end = p + size;
    from = from > p ? from : p;
    to = to < end ? to : end;
    if (to <= from) {
        memset(p, 0, size);
    } else {
        memset(p, 0, (size_t)(from - p));
        memset(to, 0, (size_t)(end - to));
    }
    return p;
}
#endif

void *wee_heap_alloc_zeroed(wee_heap *wh, size_t size, size_t align) {
#if WEE_RELEASES
    /* a large block is a fresh mapping: zero already */
    size_t pad = align_pad(align);
    if (size <= WEE_BYTES_MAX && align_valid(align)) {
        if (large_wanted(heap_of(wh), size + pad, align)) {
            char *large = wee_large_alloc(heap_of(wh), size + pad, align);
            if (large)
                return large + pad;
        }
        if (!block_class(size + pad, align) && size >= 2 * WEE_PAGE_BYTES)
            return cell_alloc_zeroed(heap_of(wh), size, align);
    }
#endif
    void *p = wee_heap_alloc(wh, size, align);
    if (p)
        memset(p, 0, size);
    return p;
}

int wee_heap_trim(wee_heap *wh, size_t pad) {
#if WEE_RELEASES
    heap *h = heap_of(wh);
    heap_lock(h);
    size_t released = wee_release_locked(h, pad, WEE_PAGE_BYTES);
    heap_unlock(h);
    return released != 0;
#else
    (void)wh;
    (void)pad;
    return 0;
#endif
}

int wee_heap_set_option(wee_heap *wh, int option, size_t value) {
#if WEE_RELEASES
    heap *h = heap_of(wh);
    int known = option == WEE_OPTION_DECAY_MS || option == WEE_OPTION_MMAP_THRESHOLD;
    heap_lock(h);
    if (option == WEE_OPTION_DECAY_MS) {
        h->decay_ms = value < SIZE_MAX - 1 ? value + 1 : SIZE_MAX;
    } else if (option == WEE_OPTION_MMAP_THRESHOLD) {
        value = value > WEE_BYTES_MAX ? WEE_BYTES_MAX : value ? value : 1;
        atomic_store_explicit(&h->mmap_threshold, value, memory_order_relaxed);
        h->mmap_fixed = 1;
    }
    heap_unlock(h);
    return known;
#else
    (void)wh;
    (void)option;
    (void)value;
    return 0;
#endif
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

void *wee_alloc(size_t size, size_t align) {
    return wee_heap_alloc(&wee_heap_default, size, align);
}

void wee_dealloc(void *ptr, size_t size, size_t align) {
    wee_heap_dealloc(&wee_heap_default, ptr, size, align);
}

void *wee_realloc(void *ptr, size_t old_size, size_t align, size_t new_size) {
    return wee_heap_realloc(&wee_heap_default, ptr, old_size, align, new_size);
}
