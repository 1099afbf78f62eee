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
#include "vg_client.h"

wee_heap wee_heap_default = WEE_HEAP_INIT;

wee_heap *wee_default_heap(void) { return &wee_heap_default; }

/* Under valgrind, memcheck reports nothing while the core works on the
 * memory it keeps no-access to the program (vg_client.h). */
static void heap_lock(heap *h) {
    wee_lock_acquire(&h->lock);
    WEE_VG_QUIET_BEGIN();
}

/* With extra assertions, every operation ends with a quick check of the free
 * lists and every 4096th with a walk of the whole heap. */
static void heap_unlock(heap *h) {
    if (WEE_EXTRA_ASSERTIONS &&
        wee_check_locked(h, (h->stats.allocs + h->stats.deallocs) % 4096 == 0) != 0)
        wee_fail("wee_alloc: heap invariant broken\n");
    WEE_VG_QUIET_END();
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

/* requested_bytes grows by `bytes` (modulo SIZE_MAX + 1, as above). */
static void stats_asked(heap *h, size_t bytes) {
    if (!WEE_INTROSPECT)
        return;
    h->stats.requested_bytes += bytes;
    if (h->stats.requested_bytes > h->stats.requested_peak)
        h->stats.requested_peak = h->stats.requested_bytes;
}

/* A reallocation that kept its block, from `old_size` to `new_size` bytes. */
static void stats_kept(heap *h, size_t old_size, size_t new_size) {
    if (!WEE_INTROSPECT)
        return;
    heap_lock(h);
    h->stats.reallocs_in_place++;
    stats_asked(h, new_size - old_size);
    heap_unlock(h);
}

/* A reallocation that moved its block; requested_bytes changes by `delta`
 * (modulo SIZE_MAX + 1), when the new block was asked for with more bytes
 * than the caller knows it by. */
static void stats_moved(heap *h, size_t delta) {
    if (!WEE_INTROSPECT)
        return;
    heap_lock(h);
    h->stats.reallocs_moved++;
    stats_asked(h, delta);
    heap_unlock(h);
}

/* Allocates a block under the lock. This and block_free_locked() are inlined
 * into each entry point, so that a program that calls only the single-block
 * ones (the smallest build's shim) links one copy, not a shared one. */
__attribute__((always_inline)) static inline char *block_alloc_locked(heap *h, size_t bytes,
                                                                      size_t align) {
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
        /* the smallest build cuts an aligned cell from a larger one: the
         * headers of that cut lie up to `align` on either side of it */
        size_t around = WEE_TINY && align > WEE_GRANULE ? align + CELL_MIN : 0;
        if (c && h->zero_to > h->zero_from)
            wee_zero_taken_locked(h, (char *)c - around, (char *)cell_next(c) + around);
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

__attribute__((always_inline)) static inline void block_free_locked(heap *h, char *block,
                                                                    size_t bytes, size_t align) {
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

/* Checks block `ptr` (the caller's pointer) handed back with `bytes` (pad
 * included) and `align`: hardened builds in a few instructions, which see a
 * pointer outside the heap, a slot that heads its run's free list or sits
 * in a run of another size, and a cell that is free or whose follower does
 * not point back; extra assertions thoroughly. A block that fails ends the
 * process with a message (misuse.c). */
static void block_guard_locked(heap *h, char *ptr, size_t bytes, size_t align) {
    if (!WEE_HARDEN && !WEE_EXTRA_ASSERTIONS)
        return;
    char *block = ptr - align_pad(align);
    size_t k = block_class(bytes, align);
    int sound;
    if (WEE_EXTRA_ASSERTIONS) {
        sound = wee_block_sound_locked(h, block, bytes, align, k);
    } else if ((uintptr_t)block - h->lo >= h->hi - h->lo) {
        sound = 0;
    } else if (k) {
        run *r = run_of(block);
        sound = r->free != block && r->slot == k * WEE_GRANULE;
    } else {
        cell *c = cell_of(block);
        sound = cell_is_allocated(c) && cell_next(c)->prev == c;
    }
    if (__builtin_expect(!sound, 0))
        wee_misuse_locked(h, ptr, bytes, align, k);
}

/* Usable bytes of a block; needs no lock: a cell's size changes only
 * through its owner. */
static size_t block_capacity(const char *block, size_t bytes, size_t align) {
    size_t k = block_class(bytes, align);
    return k ? k * WEE_GRANULE : cell_size(cell_of((void *)block)) - CELL_HEADER;
}

/* Tells memcheck about block `ptr` (the caller's pointer; `bytes` with the
 * pad) handed out: its usable bytes and the word in front of it, when the
 * caller has one, may be used; a cell's header may not. */
static void vg_handed_out(char *ptr, size_t bytes, size_t align) {
    if (!WEE_VALGRIND || !WEE_VG_RUNNING())
        return;
    size_t pad = align_pad(align);
    char *block = ptr - pad;
    WEE_VG_UNDEFINED(block, pad);
    WEE_VG_ALLOC(ptr, block_capacity(block, bytes, align) - pad);
    if (!block_class(bytes, align))
        WEE_VG_NOACCESS(cell_of(block), CELL_HEADER);
}

/* Tells memcheck that block `ptr` is taken back: no-access, with the word
 * in front. */
static void vg_taken_back(char *ptr, size_t align) {
    if (!WEE_VALGRIND)
        return;
    WEE_VG_FREE(ptr);
    WEE_VG_NOACCESS(ptr - align_pad(align), align_pad(align));
}

#if WEE_RELEASES
/* A large block `ptr` (the caller's pointer, `size` bytes asked) was handed
 * out: memcheck and the requested-bytes counter learn of it. */
static void large_handed_out(heap *h, char *ptr, size_t size, size_t align) {
    if (!WEE_INTROSPECT && !(WEE_VALGRIND && WEE_VG_RUNNING()))
        return;
    heap_lock(h);
    vg_handed_out(ptr, size + align_pad(align), align);
    stats_asked(h, size);
    heap_unlock(h);
}

/* Whether a large block of `bytes` (pad included) with `align` fits in a
 * free cell of the heap, which then hands it out: as glibc takes a block
 * above its mmap threshold from free chunks or the top when they hold it,
 * memory the heap holds (pages of freed large blocks among it, release.c)
 * is used before the system is asked for fresh pages. */
static int large_fits_locked(heap *h, size_t bytes, size_t align) {
    return wee_cell_fits_locked(h, cell_size_for(bytes) +
                                       (align > WEE_GRANULE ? 2 * align + CELL_MIN : 0));
}

/* Whether block `ptr` of `size` bytes is a large block: 1, or 0, or -1 for
 * a pointer that only looks like one (a block freed twice, a pointer into a
 * block): builds that check misuse make sure that the mapping the header
 * names holds the block. */
static int is_large(char *ptr, size_t size, size_t align) {
    size_t pad = align_pad(align);
    char *block = ptr - pad;
    if (block_class(size + pad, align))
        return 0;
    WEE_VG_QUIET_BEGIN(); /* the header is no-access to the program */
    cell *c = cell_of(block);
    int mapped = cell_is_mapped(c);
    if (mapped && (WEE_HARDEN || WEE_EXTRA_ASSERTIONS) &&
        ((uintptr_t)c->prev % WEE_PAGE_BYTES != 0 || ((large_links *)(void *)c->prev)->block != c))
        mapped = -1;
    WEE_VG_QUIET_END();
    return mapped;
}
#else
static int is_large(char *ptr, size_t size, size_t align) {
    (void)ptr, (void)size, (void)align;
    return 0;
}
#endif

void *wee_heap_alloc(wee_heap *wh, size_t size, size_t align) {
    heap *h = heap_of(wh);
    if (size > WEE_BYTES_MAX || !align_valid(align)) {
        if (WEE_INTROSPECT) {
            heap_lock(h);
            h->stats.failures++;
            heap_unlock(h);
        }
        return NULL;
    }
    size_t pad = align_pad(align);
    heap_lock(h);
#if WEE_RELEASES
    if (large_wanted(h, size + pad, align) && !large_fits_locked(h, size + pad, align)) {
        heap_unlock(h);
        char *large = wee_large_alloc(h, size + pad, align);
        if (large) {
            large_handed_out(h, large + pad, size, align);
            return large + pad;
        }
        heap_lock(h);
    }
#endif
    char *block = block_alloc_locked(h, size + pad, align);
    if (block) {
        vg_handed_out(block + pad, size + pad, align);
        stats_asked(h, size);
    }
    heap_unlock(h);
    return block ? block + pad : NULL;
}

/* Unmaps block `ptr` (the caller's pointer, of `size` bytes) when it is a
 * large block, without the heap's lock; returns whether it was. */
static int large_dealloc(heap *h, char *ptr, size_t size, size_t align) {
#if WEE_RELEASES
    int large = is_large(ptr, size, align);
    if (large < 0) {
        heap_lock(h);
        wee_misuse_locked(h, ptr, size + align_pad(align), align, 0);
    }
    if (!large)
        return 0;
    cell *c = cell_of(ptr - align_pad(align));
    if (WEE_INTROSPECT || WEE_VALGRIND) {
        heap_lock(h);
        vg_taken_back(ptr, align);
        stats_asked(h, -size);
        heap_unlock(h);
    }
    wee_large_free(h, c);
    return 1;
#else
    (void)h, (void)ptr, (void)size, (void)align;
    return 0;
#endif
}

/* Frees a block that is not large, and lets the decay see what the cells
 * got back. A cell's release mark (release.c) goes: its pages hold data. */
__attribute__((always_inline)) static inline void dealloc_locked(heap *h, char *block, size_t bytes,
                                                                 size_t align) {
#if WEE_RELEASES
    if (!block_class(bytes, align) && cell_size(cell_of(block)) >= CELL_HEADER + 3 * WEE_WORD)
        *cell_release_mark(cell_of(block)) = 0;
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
    if (large_dealloc(h, ptr, size, align))
        return;
    heap_lock(h);
    block_guard_locked(h, ptr, size + pad, align);
    vg_taken_back(ptr, align);
    dealloc_locked(h, (char *)ptr - pad, size + pad, align);
    stats_asked(h, -size);
    heap_unlock(h);
}

size_t wee_heap_alloc_many(wee_heap *wh, size_t size, size_t align, void **out, size_t count) {
    if (size > WEE_BYTES_MAX || !align_valid(align))
        return 0;
    heap *h = heap_of(wh);
    size_t pad = align_pad(align), n = 0;
    char *block;
#if WEE_RELEASES
    if (large_wanted(h, size + pad, align)) { /* each its own mapping */
        while (n < count && (out[n] = wee_heap_alloc(wh, size, align)) != NULL)
            n++;
        return n;
    }
#endif
    heap_lock(h);
    for (; n < count && (block = block_alloc_locked(h, size + pad, align)) != NULL; n++) {
        out[n] = block + pad;
        vg_handed_out(block + pad, size + pad, align);
        stats_asked(h, size);
    }
    heap_unlock(h);
    return n;
}

void wee_heap_dealloc_many(wee_heap *wh, void *const *blocks, size_t count, size_t size,
                           size_t align) {
    heap *h = heap_of(wh);
    size_t pad = align_pad(align), i = 0;
    while (i < count) {
        /* large blocks are unmapped without the lock, the rest under one */
        for (; i < count && (!blocks[i] || large_dealloc(h, blocks[i], size, align)); i++)
            ;
        heap_lock(h);
        for (; i < count; i++) {
            char *ptr = blocks[i];
            if (!ptr)
                continue;
            int large = is_large(ptr, size, align);
            if (large < 0)
                wee_misuse_locked(h, ptr, size + pad, align, 0);
            if (large)
                break;
            block_guard_locked(h, ptr, size + pad, align);
            vg_taken_back(ptr, align);
            dealloc_locked(h, ptr - pad, size + pad, align);
            stats_asked(h, -size);
        }
        heap_unlock(h);
    }
}

#if WEE_RELEASES
/* Realloc of a large block: remapped while it stays large enough, else
 * moved into the heap. */
static void *large_realloc(wee_heap *wh, cell *c, void *ptr, size_t old_size, size_t align,
                           size_t new_size) {
    heap *h = heap_of(wh);
    size_t pad = align_pad(align), bytes = new_size + pad, keep = wee_large_threshold(h);
    if (bytes > SMALL_MAX && bytes >= (keep < 64 * 1024 ? keep : 64 * 1024)) {
        char *data = wee_large_resize(h, c, bytes);
        if (data && (WEE_INTROSPECT || WEE_VALGRIND)) {
            heap_lock(h);
            if (data + pad != (char *)ptr) { /* moved: the contents went along */
                vg_taken_back(ptr, align);
                vg_handed_out(data + pad, bytes, align);
                WEE_VG_DEFINED(data + pad, old_size < new_size ? old_size : new_size);
            } else {
                WEE_VG_RESIZE(ptr, old_size, new_size);
            }
            if (WEE_INTROSPECT) {
                h->stats.reallocs_in_place += data + pad == (char *)ptr;
                h->stats.reallocs_moved += data + pad != (char *)ptr;
            }
            stats_asked(h, new_size - old_size);
            heap_unlock(h);
        }
        return data ? data + pad : NULL;
    }
    WEE_VG_QUIET_BEGIN();
    size_t usable = cell_size(c) - CELL_HEADER - pad;
    WEE_VG_QUIET_END();
    char *moved = wee_heap_alloc(wh, new_size, align);
    if (moved) {
        memcpy(moved, ptr, usable < new_size ? usable : new_size);
        wee_heap_dealloc(wh, ptr, old_size, align);
        stats_moved(h, 0);
    }
    return moved;
}
#endif

void *wee_heap_realloc(wee_heap *wh, void *ptr, size_t old_size, size_t align, size_t new_size) {
    if (!ptr)
        return wee_heap_alloc(wh, new_size, align);
    heap *h = heap_of(wh);
    if (new_size > WEE_BYTES_MAX)
        return WEE_INTROSPECT ? wee_heap_alloc(wh, new_size, align) : NULL; /* a failure */
    size_t pad = align_pad(align), bytes = new_size + pad, k = block_class(old_size + pad, align);
    char *block = (char *)ptr - pad;
#if WEE_RELEASES
    int large = is_large(ptr, old_size, align);
    if (large < 0) {
        heap_lock(h);
        wee_misuse_locked(h, ptr, old_size + pad, align, 0);
    }
    if (large)
        return large_realloc(wh, cell_of(block), ptr, old_size, align, new_size);
#endif
    if (k) {
        if (k == block_class(bytes, align)) {
            stats_kept(h, old_size, new_size);
            return ptr; /* the same slot size */
        }
    } else if (!block_class(bytes, align)) {
        cell *c = cell_of(block);
        WEE_VG_QUIET_BEGIN(); /* the header is no-access to the program */
        size_t was = cell_size(c), size = cell_size_for(bytes);
        WEE_VG_QUIET_END();
        if (WEE_TINY && size <= was) {
            stats_kept(h, old_size, new_size);
            return ptr;
        }
        if (!WEE_TINY) {
            heap_lock(h);
            block_guard_locked(h, ptr, old_size + pad, align);
            int kept = wee_cell_grow_locked(c, size);
            if (kept) {
                wee_cell_shrink_locked(h, c, size);
                stats_grew(h, cell_size(c) - was);
                WEE_VG_RESIZE(ptr, was - CELL_HEADER - pad, cell_size(c) - CELL_HEADER - pad);
                if (WEE_INTROSPECT) {
                    h->stats.reallocs_in_place++;
                    stats_asked(h, new_size - old_size);
                }
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
    WEE_VG_QUIET_BEGIN();
    size_t keep = block_capacity(block, old_size + pad, align) - pad;
    WEE_VG_QUIET_END();
    /* the smallest build grows only by moving: an eighth more, so that a
     * block grown a little at a time moves a logarithmic number of times */
    size_t asked = WEE_TINY && new_size > keep ? new_size + new_size / 8 : new_size;
    char *moved = wee_heap_alloc(wh, asked, align);
    if (moved) {
        memcpy(moved, ptr, keep < new_size ? keep : new_size);
        wee_heap_dealloc(wh, ptr, old_size, align);
        stats_moved(h, new_size - asked); /* the caller knows the block by new_size */
    }
    return moved;
}

size_t wee_heap_usable_size(wee_heap *h, const void *ptr, size_t size, size_t align) {
    (void)h;
    size_t pad = align_pad(align);
    WEE_VG_QUIET_BEGIN(); /* a cell's header is no-access to the program */
    size_t usable = block_capacity((const char *)ptr - pad, size + pad, align) - pad;
    WEE_VG_QUIET_END();
    return usable;
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
    if (block) {
        vg_handed_out(block + pad, size + pad, align);
        WEE_VG_DEFINED(block + pad, size); /* zero: cleared below, or known zero */
        stats_asked(h, size);
    }
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
            if (large) {
                large_handed_out(heap_of(wh), large + pad, size, align);
                WEE_VG_DEFINED(large + pad, size); /* a fresh mapping reads as zero */
                return large + pad;
            }
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
    out->run_bytes = h->run_bytes;
    out->slot_bytes = h->slot_bytes;
    out->slot_free_bytes = h->slot_room - h->slot_bytes;
    heap_unlock(h);
}

size_t wee_heap_check(wee_heap *wh) {
    heap *h = heap_of(wh);
    wee_lock_acquire(&h->lock);
    WEE_VG_QUIET_BEGIN();
    size_t bad = wee_check_locked(h, 1);
    WEE_VG_QUIET_END();
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
