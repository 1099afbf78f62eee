/*
 * Invariant checks: the whole-heap walker behind wee_heap_check() and the
 * extra-assertion build's per-operation checks, and the poison fill that
 * catches writes to freed memory. Failing never allocates or uses stdio.
 */
#include <string.h>

#include "heap.h"

_Noreturn void wee_fail(const char *msg) {
    size_t len = 0;
    while (msg[len])
        len++;
    wee_backend_fatal(msg, len);
}

_Noreturn void wee_fail_at(const char *what, const void *addr) {
    char msg[160];
    size_t len = 0;
    for (const char *s = "wee_alloc: "; *s; s++)
        msg[len++] = *s;
    while (*what && len < sizeof msg - 2 * sizeof(uintptr_t) - 6)
        msg[len++] = *what++;
    msg[len++] = ':';
    msg[len++] = ' ';
    msg[len++] = '0';
    msg[len++] = 'x';
    uintptr_t a = (uintptr_t)addr;
    for (int shift = 8 * (int)sizeof a - 4; shift >= 0; shift -= 4)
        msg[len++] = "0123456789abcdef"[a >> shift & 15];
    msg[len++] = '\n';
    wee_backend_fatal(msg, len);
}

void wee_poison(void *from, void *to, int fill) {
    if ((char *)to > (char *)from)
        memset(from, fill, (size_t)((char *)to - (char *)from));
}

void wee_poison_check(const void *from, const void *to, int fill) {
    for (const unsigned char *p = from; p < (const unsigned char *)to; p++)
        if (*p != (unsigned char)fill)
            wee_fail("wee_alloc: freed memory was written to\n");
}

/* Cells (and runs) a quick check looks at on each list: they are pushed and
 * taken at the heads, so the heads are where a recent operation left its
 * marks. */
#define CHECK_QUICK_CELLS 32

/* Local invariants of one cell, as seen from its neighbours. */
static size_t cell_check(const cell *c) {
    size_t bad = 0, size = cell_size(c);
    bad += c->prev && cell_next(c->prev) != c;
    if (cell_is_last(c)) /* a sentinel: allocated, header only */
        return bad + !cell_is_allocated(c) + (size < CELL_HEADER || size > 2 * WEE_GRANULE);
    bad += size < CELL_MIN || size % WEE_GRANULE != 0;
    bad += cell_next(c)->prev != c;
    return bad;
}

/* Runs a quick check looks at on each class list, and free slots of each. */
#define CHECK_QUICK_RUNS  2
#define CHECK_QUICK_SLOTS 4

/* Invariants of one run of class k with free slots, reached through
 * `slot`: its free slots lie on its slot grid and (full) number
 * `slots - used`. */
static size_t run_check(const run *r, run *const *slot, size_t k, int full) {
    size_t bad = 0, free = 0, slots = (RUN_END - RUN_FIRST) / (k * WEE_GRANULE);
    bad += r->pprev != slot || r->slot != k * WEE_GRANULE || !r->free || r->used >= slots;
    for (const void *s = r->free; s && free <= slots; s = slot_next(s)) {
        if (!full && free == CHECK_QUICK_SLOTS)
            return bad;
        size_t at = (size_t)((const char *)s - (const char *)r);
        bad += at < RUN_FIRST || at >= RUN_END || (at - RUN_FIRST) % (k * WEE_GRANULE) != 0;
        if (bad)
            return bad; /* cannot walk further */
        free++;
    }
    return bad + (free + r->used != slots);
}

size_t wee_check_locked(heap *h, int full) {
    size_t bad = 0, limit = h->stats.backend_bytes / CELL_MIN + 1, listed = 0;

    for (size_t k = 1; k <= CLASS_COUNT; k++) {
        run *const *slot = &h->runs[k];
        size_t n = 0;
        for (const run *r = *slot; r; slot = &r->next, r = *slot) {
            if ((!full && ++n > CHECK_QUICK_RUNS) || ++listed > limit)
                break;
            bad += run_check(r, slot, k, full);
        }
    }
    bad += h->run_bytes % WEE_GRANULE != 0 || h->slot_bytes > h->stats.live_bytes;
    bad += h->slot_room < h->slot_bytes;
    listed = 0;

    for (size_t k = 0; k < LIST_COUNT; k++) {
        cell **slot = &h->lists[k];
        bad += *slot && !(h->list_bits[k / BITS_PER_WORD] >> (k % BITS_PER_WORD) & 1);
        size_t n = 0;
        for (cell *c = *slot; c; slot = &cell_links(c)->next, c = *slot) {
            if (!full && ++n > CHECK_QUICK_CELLS)
                break;
            if (++listed > limit)
                return bad + 1; /* a cycle */
            bad += cell_is_allocated(c) || cell_is_last(c);
            bad += cell_links(c)->pprev != slot;
            bad += cell_check(c);
            bad += list_index(cell_size(c)) != k;
            /* merged with both neighbours */
            bad += c->prev && !cell_is_allocated(c->prev);
            bad += !cell_is_allocated(cell_next(c));
        }
    }
    if (!full)
        return bad;

    size_t cells = 0, free_cells = 0, walked = 0, used = 0;
    for (void **region = h->regions; region; region = *region) {
        cell *c = (cell *)((char *)region + CELL_PHASE), *p = NULL;
        for (;;) {
            if (++cells > limit)
                return bad + 1;
            bad += c->prev != p;
            if (cell_check(c))
                return bad + 1; /* cannot walk further */
            walked += cell_size(c);
            if (cell_is_last(c))
                break;
            if (cell_is_allocated(c))
                used += cell_size(c);
            else
                free_cells++;
            p = c;
            c = cell_next(c);
        }
        bad += region == h->regions && c != h->sentinel;
    }
    bad += free_cells != listed;
    bad += walked > h->stats.backend_bytes;
    bad += used != h->stats.live_bytes - h->slot_bytes + h->run_bytes - HEAP_MAPPED_BYTES(h);
    bad += h->stats.live_bytes > h->stats.peak_bytes;
    return bad;
}
