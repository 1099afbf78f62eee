/*
 * Runs: small blocks without headers.
 *
 * A run is one cell of RUN_BYTES taken from the free lists, placed so that
 * its data starts one word below a multiple of RUN_BYTES; the run's header
 * sits at that multiple, and every slot of the run lies below the next one,
 * so a slot finds its run by rounding its address down. Runs of one class
 * follow each other without gaps when the heap's top is where they come
 * from: each run cell ends one cell header and one word below the next
 * multiple.
 *
 *   cell header | word | run header | pad | slot | slot | ... | slot | end
 *                      ^ multiple of RUN_BYTES
 *
 * Each class keeps a list of its runs that have free slots. Allocation pops
 * a slot from the first of them, and the run leaves the list when its last
 * free slot goes; a new run threads all its slots onto its free list at
 * once. Freeing pushes the slot onto its run, puts a run that was full back
 * on the list, and gives a run whose slots are all free back to the free
 * lists as an ordinary cell, unless it is the class's only run with free
 * slots (so that one block allocated and freed in a loop does not make and
 * unmake a run each time). No class can hold on to memory it no longer uses
 * beyond that one run.
 */
#include "heap.h"

static void run_push(heap *h, run *r, size_t k) {
    r->next = h->runs[k];
    r->pprev = &h->runs[k];
    if (r->next)
        r->next->pprev = &r->next;
    h->runs[k] = r;
}

static void run_unlink(run *r) {
    *r->pprev = r->next;
    if (r->next)
        r->next->pprev = r->pprev;
}

/* A new run of class k on the class's list, or NULL when memory is out. */
WEE_COLD static run *run_new(heap *h, size_t k) {
    cell *c = wee_cell_alloc_locked(h, RUN_BYTES, RUN_BYTES);
    if (!c)
        return NULL;
    h->run_bytes += cell_size(c); /* a granule more when the rest made no cell */
    run *r = (run *)((char *)cell_data(c) + WEE_WORD);
    *(uintptr_t *)cell_data(c) = RUN_MARK(h);
    size_t slot = k * WEE_GRANULE;
    char *s = (char *)r + RUN_FIRST;
    r->free = s;
    for (; s + 2 * slot <= (char *)r + RUN_END; s += slot)
        slot_set_next(s, s + slot);
    slot_set_next(s, NULL);
    r->used = 0;
    r->slot = (uint32_t)slot;
    h->slot_room += (RUN_END - RUN_FIRST) / slot * slot;
    run_push(h, r, k);
    return r;
}

void *wee_slot_alloc_locked(heap *h, size_t k) {
    run *r = h->runs[k];
    if (!r && !(r = run_new(h, k)))
        return NULL;
    void **s = r->free;
    if (WEE_EXTRA_ASSERTIONS)
        wee_poison_check(s + 1, (char *)s + r->slot, POISON_MAIN);
    void *next = slot_next(s);
    if (WEE_HARDEN && ((uintptr_t)next ^ (uintptr_t)s) >= RUN_BYTES && next)
        wee_fail_at("free list corrupted (write after free?)", s);
    r->free = next;
    r->used++;
    if (!r->free)
        run_unlink(r);
    return s;
}

void wee_slot_free_locked(heap *h, void *slot, size_t k) {
    run *r = run_of(slot);
    WEE_ASSERT(r->slot == k * WEE_GRANULE && r->used > 0);
    WEE_ASSERT(((char *)slot - ((char *)r + RUN_FIRST)) % r->slot == 0);
    if (WEE_EXTRA_ASSERTIONS) { /* a double free finds the slot free already */
        for (void *s = r->free; s; s = slot_next(s))
            WEE_ASSERT(s != slot);
        wee_poison((void **)slot + 1, (char *)slot + r->slot, POISON_MAIN);
    }
    if (!r->free)
        run_push(h, r, k);
    slot_set_next(slot, r->free);
    r->free = slot;
    if (--r->used == 0 && (h->runs[k] != r || r->next)) {
        cell *c = cell_of((char *)r - WEE_WORD);
        run_unlink(r);
        h->run_bytes -= cell_size(c);
        h->slot_room -= (RUN_END - RUN_FIRST) / r->slot * r->slot;
        *(uintptr_t *)cell_data(c) = 0; /* the run mark */
        wee_cell_free_locked(h, c);
    }
}
