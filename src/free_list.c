/*
 * Free lists: every free cell is on exactly one doubly linked list chosen by
 * its size range (heap.h). A bitmap says which lists may hold cells; a bit
 * is set when a cell is pushed and cleared when a search finds the list
 * empty.
 *
 * Allocation is a good fit found in constant time, never a walk: the head
 * of the request's own list when it is large enough, else the head of the
 * first non-empty list after it (every cell there is larger than any size
 * that maps to the request's list), else the heap grows and the search runs
 * again. Small requests therefore take the smallest free cells that fit and
 * leave the large ones, the newest region's top among them, whole. A cell is
 * carved from its start and the rest stays free, re-filed by its new size,
 * when it is big enough to be a cell. Freeing merges a cell with both free
 * neighbours at once, so no two free cells are ever adjacent.
 *
 * Invariants: every region is tiled by cells linked both ways and ends in
 * its sentinel; a cell without CELL_ALLOCATED is on the list for its size.
 */
#include "heap.h"
#include "vg_client.h"

static void list_push(heap *h, cell *c) {
    size_t k = list_index(cell_size(c));
    cell_links_t *l = cell_links(c);
    l->next = h->lists[k];
    l->pprev = &h->lists[k];
    if (l->next)
        cell_links(l->next)->pprev = &l->next;
    h->lists[k] = c;
    h->list_bits[k / BITS_PER_WORD] |= (uintptr_t)1 << (k % BITS_PER_WORD);
}

/* Hardened builds check that the neighbours on the list point back at c
 * (safe unlinking): links overwritten after free fail here rather than
 * steer a later write. */
static void list_unlink(cell *c) {
    cell_links_t *l = cell_links(c);
    if (WEE_HARDEN && (*l->pprev != c || (l->next && cell_links(l->next)->pprev != &l->next)))
        wee_fail_at("free list corrupted (write after free?)", cell_data(c));
    *l->pprev = l->next;
    if (l->next)
        cell_links(l->next)->pprev = l->pprev;
}

/* The first non-empty list of index k or more; LIST_COUNT when there is
 * none. Clears the bits of the empty lists it passes. */
static size_t list_find(heap *h, size_t k) {
    while (k < LIST_COUNT) {
        uintptr_t *word = &h->list_bits[k / BITS_PER_WORD];
        uintptr_t bits = *word >> (k % BITS_PER_WORD);
        if (!bits) {
            k = (k | (BITS_PER_WORD - 1)) + 1;
            continue;
        }
        k += (size_t)__builtin_ctzl(bits);
        if (h->lists[k])
            break;
        *word &= ~((uintptr_t)1 << (k % BITS_PER_WORD));
    }
    return k;
}

/* Splits cell `c` at address `at` (inside it, CELL_MIN from either end): the
 * new cell from `at` takes c's end and its tags, and is returned. */
static cell *cell_split(cell *c, uintptr_t at) {
    cell *n = (cell *)at;
    n->next = c->next;
    n->prev = c;
    cell_next(n)->prev = n;
    c->next = at | (c->next & CELL_ALLOCATED);
    return n;
}

/* Makes free cell `c`, which holds at least `size` bytes, an allocated cell
 * of `size` bytes: carved from its start, the rest stays free when it makes
 * a cell. Carving low keeps the free space at the top of a region, where the
 * next grow can extend it. */
static cell *cell_carve(heap *h, cell *c, size_t size) {
    if (WEE_EXTRA_ASSERTIONS)
        wee_poison_check(cell_links(c) + 1, (char *)c + size, POISON_MAIN);
    list_unlink(c);
    if (cell_size(c) - size >= CELL_MIN)
        list_push(h, cell_split(c, (uintptr_t)c + size));
    c->next |= CELL_ALLOCATED;
    return c;
}

/* A free cell of at least `size` bytes: the head of the request's list when
 * it is large enough, else the head of the first non-empty list after it.
 * The top, the newest region's free last cell, is the last resort: passed
 * over for the cell after it on its list, or for a later list, so that it
 * stays whole for large requests and the region's growth. NULL when no
 * free cell fits. */
WEE_OUT_OF_LINE static cell *cell_fit(heap *h, size_t size) {
    size_t k = list_index(size);
    cell *c = h->lists[k], *top = NULL;
    for (;;) {
        if (c && cell_next(c) == h->sentinel) {
            top = c;
            c = cell_links(c)->next;
        }
        if (c && cell_size(c) >= size)
            return c;
        k = list_find(h, k + 1);
        if (k >= LIST_COUNT)
            return top && cell_size(top) >= size ? top : NULL;
        c = h->lists[k];
    }
}

#if WEE_RELEASES
int wee_cell_fits_locked(heap *h, size_t size) { return cell_fit(h, size) != NULL; }
#endif

/* Carves an allocated cell of `size` bytes from a free cell that fits. */
static cell *cell_take(heap *h, size_t size) {
    cell *c = cell_fit(h, size);
    return c ? cell_carve(h, c, size) : NULL;
}

/* The lowest cell address from `at` on whose data plus one word is aligned
 * to `align`. */
static uintptr_t cell_aligned_from(uintptr_t at, size_t align) {
    uintptr_t lead = CELL_HEADER + WEE_WORD;
    return ((at + lead + align - 1) & ~(uintptr_t)(align - 1)) - lead;
}

/* Makes an allocated cell of `size` bytes, its data plus one word aligned
 * to `align`, from free cell `c`, which holds at least size + 2 * align +
 * CELL_MIN bytes; what is left on either side stays free when it makes a
 * cell. Carved from the high end of `c`, so that runs and other aligned
 * cells do not land between a large block and the free space it may grow or
 * merge into (other requests carve low), except from the top, the newest
 * region's last cell, where they go low so that the rest stays whole and
 * grows with the region. */
WEE_COLD static cell *cell_carve_aligned(heap *h, cell *c, size_t size, size_t align) {
    uintptr_t end = (uintptr_t)cell_next(c), at;
    if (cell_next(c) == h->sentinel) {
        at = cell_aligned_from((uintptr_t)c, align);
        if (at != (uintptr_t)c && at - (uintptr_t)c < CELL_MIN)
            at += align;
    } else { /* the highest place with room for `size` */
        at = cell_aligned_from(end - size - align + 1, align);
        if (end - at - size != 0 && end - at - size < CELL_MIN)
            at -= align;
    }
    if (WEE_EXTRA_ASSERTIONS)
        wee_poison_check((void *)(at == (uintptr_t)c ? (uintptr_t)(cell_links(c) + 1) : at),
                         (char *)at + size, POISON_MAIN);
    list_unlink(c);
    cell *n = c;
    if (at != (uintptr_t)c) {
        n = cell_split(c, at);
        list_push(h, c);
    }
    n->next |= CELL_ALLOCATED;
    wee_cell_shrink_locked(h, n, size);
    return n;
}

/* Adds `bytes` (whole pages) of memory at `base` to the heap as one free
 * cell; `s` is h->sentinel. When the memory follows the newest region, the
 * region's sentinel becomes that cell (merging with a free last cell) and a
 * new sentinel closes the region; otherwise a new region starts, its base
 * word linking the one before. */
HEAP_ADD void wee_heap_add_locked(heap *h, cell *s, char *base, size_t bytes) {
    h->stats.backend_bytes += bytes;
    if (WEE_INTROSPECT && h->stats.backend_bytes > h->stats.held_peak_bytes)
        h->stats.held_peak_bytes = h->stats.backend_bytes;
    if (WEE_HARDEN || WEE_EXTRA_ASSERTIONS) {
        if (!h->lo || (uintptr_t)base < h->lo)
            h->lo = (uintptr_t)base;
        if ((uintptr_t)base + bytes > h->hi)
            h->hi = (uintptr_t)base + bytes;
    }
    cell *c;
    if (s && base == (char *)cell_next(s)) {
        c = s;
    } else {
        *(void **)base = h->regions;
        h->regions = (void **)base;
        h->stats.regions++;
        c = (cell *)(base + CELL_PHASE);
        c->prev = NULL;
    }
    s = h->sentinel = cell_sentinel(base + bytes);
    s->next = (uintptr_t)(base + bytes) | CELL_ALLOCATED | CELL_LAST;
    s->prev = c;
    c->next = (uintptr_t)s | CELL_ALLOCATED;
    wee_cell_free_locked(h, c);
    WEE_VG_NOACCESS(base, bytes); /* the program's only through blocks handed out */
}

/* Takes more memory from the backend, enough for a cell of `need` bytes
 * (and a region's base word and sentinel), and adds it to the heap.
 * Returns 0 when the backend fails. */
WEE_COLD static int heap_grow_locked(heap *h, size_t need) {
    cell *s = h->sentinel;
    need += 3 * WEE_GRANULE;
    size_t bytes = need < WEE_GROW_MIN_BYTES ? WEE_GROW_MIN_BYTES : need;
    bytes = (bytes + WEE_PAGE_BYTES - 1) & ~(size_t)(WEE_PAGE_BYTES - 1);
    char *base = wee_backend_grow(bytes);
    if (!base)
        return 0;
    wee_heap_add_locked(h, s, base, bytes);
    return 1;
}

cell *wee_cell_alloc_locked(heap *h, size_t size, size_t align) {
    if (WEE_RUNS && align > WEE_GRANULE) {
        size_t need = size + 2 * align + CELL_MIN;
        cell *c;
        while (!(c = cell_fit(h, need)))
            if (!heap_grow_locked(h, need))
                return NULL;
        return cell_carve_aligned(h, c, size, align);
    }
    if (align > WEE_GRANULE) {
        /* the smallest build: room for the aligned cell at any phase with a
         * gap in front of it that makes a free cell of its own */
        cell *c = wee_cell_alloc_locked(h, size + align + CELL_MIN - WEE_GRANULE, WEE_GRANULE);
        if (c) {
            cell *n = cell_split(c, cell_aligned_from((uintptr_t)c + CELL_MIN, align));
            wee_cell_free_locked(h, c);
            c = n;
            wee_cell_shrink_locked(h, c, size);
        }
        return c;
    }
    do {
        cell *c = cell_take(h, size);
        if (c)
            return c;
    } while (heap_grow_locked(h, size));
    return NULL;
}

void wee_cell_free_locked(heap *h, cell *c) {
    WEE_ASSERT(cell_is_allocated(c) && !cell_is_last(c));
    WEE_ASSERT(!c->prev || cell_next(c->prev) == c);
    WEE_ASSERT(cell_next(c)->prev == c);
    cell *n = cell_next(c), *p = c->prev, *end = n;
    if (WEE_EXTRA_ASSERTIONS)
        wee_poison(cell_links(c) + 1, n, POISON_MAIN);
    /* the free neighbours leave their lists and lose their headers (and
     * links) to the merged cell */
    if (!cell_is_allocated(n)) {
        list_unlink(n);
        end = cell_next(n);
        if (WEE_EXTRA_ASSERTIONS)
            wee_poison(n, cell_links(n) + 1, POISON_MAIN);
    }
    if (p && !cell_is_allocated(p)) {
        list_unlink(p);
        if (WEE_EXTRA_ASSERTIONS)
            wee_poison(c, cell_links(c) + 1, POISON_MAIN);
        c = p;
    }
    c->next = (uintptr_t)end;
    end->prev = c;
    list_push(h, c);
}

void wee_cell_shrink_locked(heap *h, cell *c, size_t size) {
    WEE_ASSERT(cell_is_allocated(c) && size % WEE_GRANULE == 0 && size >= CELL_MIN);
    if (cell_size(c) >= size + CELL_MIN)
        wee_cell_free_locked(h, cell_split(c, (uintptr_t)c + size));
}

int wee_cell_grow_locked(cell *c, size_t size) {
    WEE_ASSERT(cell_is_allocated(c));
    cell *n = cell_next(c);
    if (cell_size(c) >= size)
        return 1;
    if (cell_is_allocated(n) || (size_t)((char *)cell_next(n) - (char *)c) < size)
        return 0;
    cell *after = cell_next(n);
    if (WEE_EXTRA_ASSERTIONS)
        wee_poison_check(cell_links(n) + 1, after, POISON_MAIN);
    list_unlink(n);
    if (WEE_EXTRA_ASSERTIONS)
        wee_poison(n, cell_links(n) + 1, POISON_MAIN);
    c->next = (uintptr_t)after | CELL_ALLOCATED;
    after->prev = c;
    return 1;
}
