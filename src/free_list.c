/*
 * Free lists: every free cell is on exactly one doubly linked list chosen by
 * its size, a size class (one list per cell size up to CLASS_MAX) or the main
 * list for larger cells. A bitmap says which classes hold cells.
 *
 * Allocation takes the smallest non-empty class that fits, else the first
 * main-list cell that fits, else grows the heap; it carves the request from
 * the start of that cell, and the rest stays free (re-filed by its new size)
 * when it is big enough to be a cell. Freeing merges a cell with both free
 * neighbours at once, so no two free cells are ever adjacent.
 *
 * Invariants: every region is tiled by cells linked both ways; a cell
 * without CELL_ALLOCATED is on the list for its size; the newest region's
 * last cell is heap.last.
 */
#include "heap.h"

static void list_push(heap *h, cell *c) {
    size_t k = list_index(cell_size(c));
    cell **links = cell_links(c);
    links[0] = h->lists[k];
    links[1] = NULL;
    if (links[0])
        cell_links(links[0])[1] = c;
    h->lists[k] = c;
    if (k != MAIN_LIST)
        h->class_bits[k / BITS_PER_WORD] |= (uintptr_t)1 << (k % BITS_PER_WORD);
}

/* Call before the cell's size changes: its size finds its list. */
static void list_unlink(heap *h, cell *c) {
    cell **links = cell_links(c);
    if (links[0])
        cell_links(links[0])[1] = links[1];
    if (links[1]) {
        cell_links(links[1])[0] = links[0];
        return;
    }
    size_t k = list_index(cell_size(c));
    h->lists[k] = links[0];
    if (!links[0] && k != MAIN_LIST)
        h->class_bits[k / BITS_PER_WORD] &= ~((uintptr_t)1 << (k % BITS_PER_WORD));
}

/* The smallest non-empty class of index k or more; 0 when there is none
 * (class 0 never holds cells: CELL_MIN > 0). */
static size_t class_find(const heap *h, size_t k) {
    size_t w = k / BITS_PER_WORD;
    uintptr_t bits = h->class_bits[w] & (~(uintptr_t)0 << (k % BITS_PER_WORD));
    for (;;) {
        if (bits)
            return w * BITS_PER_WORD + (size_t)__builtin_ctzl(bits);
        if (++w == CLASS_WORDS)
            return 0;
        bits = h->class_bits[w];
    }
}

/* After `c` took over the end of `was` (which may be c itself): the cell that
 * follows points back at c, or c becomes the newest region's last cell. */
static void follower_fix(heap *h, cell *c, cell *was) {
    if (!cell_is_last(c))
        cell_next(c)->prev = c;
    else if (h->last == was)
        h->last = c;
}

/* The lowest cell address at or above `at` whose data plus one word is
 * aligned to `align` (0 on overflow). */
static uintptr_t align_cell_up(uintptr_t at, size_t align) {
    if (align <= WEE_GRANULE)
        return at; /* the cell phase already gives it */
    uintptr_t lead = CELL_HEADER + WEE_WORD;
    return ((at + lead + align - 1) & ~(uintptr_t)(align - 1)) - lead;
}

/* Carves an allocated cell of at least `size` bytes from the start of free
 * cell `c` (after a free front cell when the alignment needs a gap), leaving
 * the rest free when it makes a cell. NULL if `c` cannot hold the request.
 * Carving low keeps the free space at the top of a region, where the next
 * grow can extend it. */
static cell *cell_carve_locked(heap *h, cell *c, size_t size, size_t align) {
    uintptr_t start = (uintptr_t)c, end = (uintptr_t)cell_next(c);
    uintptr_t at = align_cell_up(start, align);
    if (at != start && at - start < CELL_MIN)
        at = align_cell_up(start + CELL_MIN, align);
    if (at < start || at > end || end - at < size)
        return NULL;
    int split = end - at - size >= CELL_MIN;
    if (WEE_EXTRA_ASSERTIONS)
        wee_poison_check(at == start ? (void *)(cell_links(c) + 2) : (void *)at,
                         (void *)(split ? at + size : end), POISON_MAIN);
    list_unlink(h, c);
    if (at != start) { /* the gap stays free as a cell of its own */
        cell *n = (cell *)at;
        n->next = c->next;
        n->prev = c;
        follower_fix(h, n, c);
        c->next = at;
        list_push(h, c);
        c = n;
    }
    if (split) {
        cell *rest = (cell *)(at + size);
        rest->next = c->next;
        rest->prev = c;
        follower_fix(h, rest, c);
        c->next = at + size;
        list_push(h, rest);
    }
    c->next |= CELL_ALLOCATED;
    return c;
}

/* Takes at least `need` bytes from the backend and returns the free cell
 * that now holds them: the newest region's free last cell, extended, when
 * the backend's memory follows the newest region; otherwise a new cell. */
static cell *heap_grow_locked(heap *h, size_t need) {
    size_t bytes = need < WEE_GROW_MIN_BYTES ? WEE_GROW_MIN_BYTES : need;
    bytes = (bytes + WEE_PAGE_BYTES - 1) & ~(size_t)(WEE_PAGE_BYTES - 1);
    char *base = wee_backend_grow(&bytes);
    if (!base)
        return NULL;
    h->stats.backend_bytes += bytes;
    uintptr_t end = (uintptr_t)base + bytes - WEE_GRANULE + CELL_PHASE;
    cell *c = h->last;
    void *fresh; /* start of the memory the free cell gains */
    if (c && base == h->top && !cell_is_allocated(c)) {
        list_unlink(h, c); /* grows in place */
        fresh = cell_next(c);
    } else {
        if (c && base == h->top) { /* a new cell after the allocated last one */
            cell *l = c;
            c = cell_next(l);
            l->next = (uintptr_t)c | CELL_ALLOCATED;
            c->prev = l;
        } else {
            *(void **)base = h->regions;
            h->regions = (void **)base;
            h->stats.regions++;
            c = (cell *)(base + CELL_PHASE);
            c->prev = NULL;
        }
        fresh = cell_links(c) + 2;
    }
    if (WEE_EXTRA_ASSERTIONS)
        wee_poison(fresh, (void *)end, POISON_MAIN);
    c->next = end | CELL_LAST;
    h->last = c;
    h->top = base + bytes;
    list_push(h, c);
    return c;
}

cell *wee_cell_alloc_locked(heap *h, size_t size, size_t align) {
    cell *c, *n = NULL;
    if (WEE_SIZE_CLASSES && size <= CLASS_MAX && align <= WEE_GRANULE) {
        size_t k = class_find(h, size / WEE_GRANULE);
        if (k)
            return cell_carve_locked(h, h->lists[k], size, align);
    }
    for (c = h->lists[MAIN_LIST]; c; c = cell_links(c)[0])
        if ((n = cell_carve_locked(h, c, size, align)) != NULL)
            break;
    if (!n) {
        size_t slack = align > WEE_GRANULE ? align : 0;
        c = heap_grow_locked(h, size + slack + CELL_MIN + WEE_GRANULE);
        if (!c)
            return NULL;
        n = cell_carve_locked(h, c, size, align);
        WEE_ASSERT(n != NULL);
    }
    return n;
}

void wee_cell_free_locked(heap *h, cell *c) {
    WEE_ASSERT(cell_is_allocated(c));
    WEE_ASSERT(!c->prev || cell_next(c->prev) == c);
    WEE_ASSERT(cell_is_last(c) || cell_next(c)->prev == c);
    c->next &= ~(uintptr_t)CELL_ALLOCATED;
    if (WEE_EXTRA_ASSERTIONS)
        wee_poison(cell_links(c) + 2, cell_next(c), POISON_MAIN);
    if (!cell_is_last(c)) {
        cell *n = cell_next(c);
        if (!cell_is_allocated(n)) {
            list_unlink(h, n);
            c->next = n->next;
            follower_fix(h, c, n);
            if (WEE_EXTRA_ASSERTIONS)
                wee_poison(n, cell_links(n) + 2, POISON_MAIN);
        }
    }
    cell *p = c->prev;
    if (p && !cell_is_allocated(p)) {
        list_unlink(h, p);
        p->next = c->next;
        follower_fix(h, p, c);
        if (WEE_EXTRA_ASSERTIONS)
            wee_poison(c, cell_links(c) + 2, POISON_MAIN);
        c = p;
    }
    list_push(h, c);
}

void wee_cell_shrink_locked(heap *h, cell *c, size_t size) {
    WEE_ASSERT(cell_is_allocated(c) && size % WEE_GRANULE == 0 && size >= CELL_MIN);
    if (cell_size(c) < size + CELL_MIN)
        return;
    cell *rest = (cell *)((char *)c + size);
    rest->next = c->next;
    rest->prev = c;
    follower_fix(h, rest, c);
    c->next = (uintptr_t)rest | CELL_ALLOCATED;
    wee_cell_free_locked(h, rest);
}

int wee_cell_grow_locked(heap *h, cell *c, size_t size) {
    WEE_ASSERT(cell_is_allocated(c));
    if (cell_size(c) >= size)
        return 1;
    if (cell_is_last(c))
        return 0;
    cell *n = cell_next(c);
    if (cell_is_allocated(n) || cell_size(c) + cell_size(n) < size)
        return 0;
    if (WEE_EXTRA_ASSERTIONS)
        wee_poison_check(cell_links(n) + 2, cell_next(n), POISON_MAIN);
    list_unlink(h, n);
    c->next = n->next | CELL_ALLOCATED;
    follower_fix(h, c, n);
    return 1;
}
