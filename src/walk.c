/*
 * The heap walk behind wee_heap_walk(): every region from its first cell to
 * its sentinel, under the heap's lock, allocating nothing.
 *
 * A cell that is a run is visited as its slots, each in use or free: a run
 * keeps no per-slot state except its free list, so the walk first marks the
 * free slots in a bitmap on the stack (one bit per slot; a run has fewer
 * than RUN_BYTES / WEE_GRANULE of them) and then visits the slots in
 * address order. Any other cell is visited as its data, after its header.
 *
 * Large blocks, each a mapping of its own (release.c), come last, from the
 * heap's list of them, each in use.
 *
 * A run is told from other cells by its place and size (data one word below
 * a multiple of RUN_BYTES, RUN_BYTES long, or a granule more) and by the
 * heap's run mark in the word in front of its header (heap.h), which only
 * a caller that wrote that very value in front of a block of that size and
 * alignment could imitate.
 */
#include "heap.h"
#include "vg_client.h"

/* Whether cell `c` of heap `h` is a run. */
static int cell_is_run(heap *h, cell *c) {
    if (!WEE_RUNS || !cell_is_allocated(c))
        return 0;
    uintptr_t data = (uintptr_t)cell_data(c);
    size_t size = cell_size(c);
    return (data + WEE_WORD) % RUN_BYTES == 0 && size >= RUN_BYTES && size < RUN_BYTES + CELL_MIN &&
           *(const uintptr_t *)data == RUN_MARK(h);
}

/* Visits the slots of run `r`; returns 1 when `fn` stopped the walk. */
static int walk_run(run *r, wee_walk_fn fn, void *ctx, size_t *visited) {
    unsigned char free_slot[RUN_BYTES / WEE_GRANULE / 8] = {0};
    char *first = (char *)r + RUN_FIRST;
    size_t slot = r->slot, slots = slot ? (RUN_END - RUN_FIRST) / slot : 0, listed = 0;
    for (void *s = r->free; s && listed < slots; s = slot_next(s), listed++) {
        size_t i = (size_t)((char *)s - first) / slot;
        if (i < slots)
            free_slot[i / 8] |= (unsigned char)(1u << (i % 8));
    }
    for (size_t i = 0; i < slots; i++) {
        wee_block_info b = {first + i * slot, slot, !(free_slot[i / 8] >> (i % 8) & 1)};
        ++*visited;
        if (fn(&b, ctx))
            return 1;
    }
    return 0;
}

size_t wee_heap_walk(wee_heap *wh, wee_walk_fn fn, void *ctx) {
    heap *h = heap_of(wh);
    size_t visited = 0;
    wee_lock_acquire(&h->lock);
    WEE_VG_QUIET_BEGIN(); /* headers and free blocks are no-access to the program */
    for (void **region = h->regions; region; region = *region) {
        for (cell *c = (cell *)((char *)region + CELL_PHASE); !cell_is_last(c); c = cell_next(c)) {
            if (cell_is_run(h, c)) {
                if (walk_run((run *)((char *)cell_data(c) + WEE_WORD), fn, ctx, &visited))
                    goto done;
                continue;
            }
            wee_block_info b = {cell_data(c), cell_size(c) - CELL_HEADER, cell_is_allocated(c)};
            visited++;
            if (fn(&b, ctx))
                goto done;
        }
    }
#if WEE_RELEASES
    for (large_links *l = h->large; l; l = l->next) {
        wee_block_info b = {cell_data(l->block), cell_size(l->block) - CELL_HEADER, 1};
        visited++;
        if (fn(&b, ctx))
            goto done;
    }
#endif
done:
    WEE_VG_QUIET_END();
    wee_lock_release(&h->lock);
    return visited;
}
