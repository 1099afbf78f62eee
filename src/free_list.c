/*
 * Free lists: every free cell is on exactly one doubly linked list chosen by
 * its size (heap.h): a size class of one cell size, or a bin of a size range.
 * A bitmap says which lists may hold cells; a bit is set when a cell is
 * pushed and cleared when a search finds the list empty.
 *
 * Allocation takes the first cell that fits on the request's own list (any
 * cell of a class list fits), else the first cell of the smallest non-empty
 * list after it (any of those fits), else grows the heap and searches again:
 * small requests never cut into large free cells while smaller ones exist.
 * One cell is the last resort: the top, the free last cell of the newest
 * region. It is taken only when no other cell fits, so a large block freed
 * at the top is still whole when the next large request comes (small ones
 * would otherwise nibble at it and every large request would grow the heap).
 * It carves the request from the start of that cell, and the rest stays free
 * (re-filed by its new size) when it is big enough to be a cell. Freeing
 * merges a cell with both free neighbours at once, so no two free cells are
 * ever adjacent.
 *
 * Invariants: every region is tiled by cells linked both ways and ends in
 * its sentinel; a cell without CELL_ALLOCATED is on the list for its size.
 */
#include "heap.h"

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

static void list_unlink(cell *c) {
    cell_links_t *l = cell_links(c);
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

/* Carves an allocated cell of `size` bytes from the first fitting free cell
 * of the request's list or the next non-empty ones; the newest region's last
 * cell (the top) only when no other fits, so that it stays whole for large
 * requests. NULL when no free cell fits. One carve call site, which -Oz then
 * inlines; itself inlined into both callers (wasm32 links only the first). */
__attribute__((always_inline)) static inline cell *cell_take(heap *h, size_t size) {
    cell *c = NULL, *top = NULL;
    for (size_t k = list_index(size); !c && (k = list_find(h, k)) < LIST_COUNT; k++)
        for (c = h->lists[k]; c; c = cell_links(c)->next)
            if (cell_size(c) >= size) {
                if (cell_next(c) != h->sentinel)
                    break;
                top = c;
            }
    return c || (c = top) ? cell_carve(h, c, size) : NULL;
}

/* Takes more memory from the backend, enough for a cell of `need` bytes
 * (and a region's base word and sentinel), and frees it into the heap as one
 * cell. When the backend's memory follows the newest region, the region's
 * sentinel becomes that cell (merging with a free last cell) and a new
 * sentinel closes the region; otherwise a new region starts, its base word
 * linking the one before. Returns 0 when the backend fails. */
static int heap_grow_locked(heap *h, size_t need) {
    cell *s = h->sentinel;
    need += 3 * WEE_GRANULE;
    size_t bytes = need < WEE_GROW_MIN_BYTES ? WEE_GROW_MIN_BYTES : need;
    bytes = (bytes + WEE_PAGE_BYTES - 1) & ~(size_t)(WEE_PAGE_BYTES - 1);
    char *base = wee_backend_grow(bytes);
    if (!base)
        return 0;
    h->stats.backend_bytes += bytes;
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
    return 1;
}

cell *wee_cell_alloc_locked(heap *h, size_t size, size_t align) {
    if (align > WEE_GRANULE) {
        /* room for a free gap of at least CELL_MIN in front of an aligned
         * cell; the gap and the rest go back */
        cell *c = wee_cell_alloc_locked(h, size + align + CELL_MIN, WEE_GRANULE);
        if (c) {
            uintptr_t lead = CELL_HEADER + WEE_WORD;
            uintptr_t at = ((uintptr_t)c + CELL_MIN + lead + align - 1) & ~(uintptr_t)(align - 1);
            cell *n = cell_split(c, at - lead);
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

cell *wee_cell_alloc_run_locked(heap *h, size_t size, size_t n) {
    cell *c = cell_take(h, size * n); /* a run is not worth growing the heap */
    if (c)
        for (cell *p = c; --n; p = cell_split(p, (uintptr_t)p + size))
            ;
    return c;
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
