/*
 * Giving memory back to the system (builds whose backend can: unix).
 *
 * Large blocks. A block of at least the mmap threshold is a mapping of its
 * own: one cell header at the start, tagged CELL_ALLOCATED | CELL_LAST (a
 * sentinel's tags, which no block from a region carries), whose `next` is the
 * mapping's end and `prev` its base, then the block. Freeing unmaps it;
 * resizing remaps it, which moves pages instead of copying bytes. The
 * threshold starts at LARGE_DEFAULT and, unless an option fixed it, rises to
 * the size of every large block freed (up to LARGE_MAX), as glibc's dynamic
 * mmap threshold does: a program that keeps allocating and freeing blocks of
 * one size gets them from the heap after the first one, not from a system
 * call each time.
 *
 * A freed large block whose replacement would come from the heap (the
 * threshold rose above its size) gives its pages to the heap instead of
 * the system, while the heap's free bytes stay within 32 MiB or the live
 * bytes (large_kept): the backend moves them (mremap: their page table
 * entries, not their bytes) to where the heap grows, so that they extend
 * its newest region, and the next blocks take them without faulting fresh
 * pages in (bench/cliff.c's pattern case, 64 KiB-1 MiB with 1,024 live
 * blocks: the first fill's blocks were mappings, unmapped during the timed
 * passes while their replacements grew the heap by fresh pages). Kept in
 * place, each would be a region of its own, too small for the next block a
 * little larger than it, and the heap would grow beside them. The decay
 * releases them like any free pages.
 *
 * Free pages. The whole pages inside free cells (past the cell's header, its
 * list links and one more word, and before the next cell's header) are
 * released with the backend, and stay in the heap: the cells keep their
 * addresses and are reused like any other (good fit, low addresses of a
 * cell first). A release runs when the bytes freed to the cells since the
 * last one, less those allocated again, exceed DIRTY_MAX while three
 * quarters of the regions are free: that one gives back every free cell at
 * once. Otherwise the decay ages them: a dealloc (one in DECAY_EVERY) that
 * finds the decay time passed since the last release or aging with some
 * such bytes gives back the cells that were already free, and untouched,
 * at the one before, and marks the others as seen. So a cell is released
 * only after it stayed free for a whole decay period, and a program that
 * frees and takes its memory again within that time (a steady churn)
 * does not fault its pages in again after every decay (bench/cliff.c's
 * random 64 KiB-1 MiB case with 1,024 live blocks: a decay released some
 * 20 MB of cells taken again within milliseconds, each page then costing
 * a fault, about 14 us in the virtual machine the benchmarks ran on).
 * Either gives back the cells that have at
 * least RELEASE_LEAST (256 KiB) of whole pages: each release is a system
 * call, and a costly one on some systems (about 300 us in the virtual
 * machine the benchmarks ran on, whatever its size), so the many small
 * free cells between live blocks wait for malloc_trim (bench/release.c's
 * mixed scenario: the frees took 4.4 s releasing every cell of 64 KiB or
 * more, 0.7-1.5 s with 256 KiB, about 0.7 s without releases; 97 MB stayed
 * resident with 256 KiB, 372 MB with 1 MiB). A decay of 0 releases after
 * every free that leaves a whole page free, and
 * wee_heap_trim every whole page. A cell whose pages were released carries
 * a mark in its third data word (its end and its address, mixed): the next
 * release skips it while it stays as it is; a cell the decay saw free
 * carries another such mark there, which any change to the cell (taken,
 * split, merged, freed again) breaks. Extra-assertion builds set no mark
 * (the word is part of the poison there): they release every free cell at
 * each decay and poison the released pages again, so the poison checks
 * still hold.
 *
 * Known zero. The largest cell's pages a release gives back are remembered
 * as a range (heap.zero_from, zero_to) that reads as zero. Every cell, run
 * or in-place growth handed out over it cuts it (with the page after, where
 * the header and links of a cell split off may be written, and, for an
 * aligned cell of the smallest build, cut from a larger one, the alignment
 * on either side), so what stays in it has not been written since;
 * wee_heap_alloc_zeroed clears none of it.
 */
#include "heap.h"
#include "vg_client.h"

#if WEE_RELEASES

#define LARGE_DEFAULT ((size_t)128 * 1024)
#define LARGE_MAX     ((size_t)4 * 1024 * 1024 * sizeof(void *))
#define DECAY_DEFAULT ((size_t)1000)
#define DECAY_EVERY   ((size_t)64)
#define DIRTY_MAX     ((size_t)32 * 1024 * 1024)
#define RELEASE_LEAST ((size_t)256 * 1024)
#define KEEP_MAX      ((size_t)32 * 1024 * 1024)
#define RELEASED_MARK ((uintptr_t)0x5eedf00d5eedf00dULL)
#define SEEN_MARK     ((uintptr_t)0x5ee05ee0a9eda9edULL)

#define PAGE_DOWN(x) ((uintptr_t)(x) & ~(uintptr_t)(WEE_PAGE_BYTES - 1))
#define PAGE_UP(x)   PAGE_DOWN((uintptr_t)(x) + WEE_PAGE_BYTES - 1)

static void stats_add(heap *h, size_t bytes) {
    h->stats.live_bytes += bytes;
    if (h->stats.live_bytes > h->stats.peak_bytes)
        h->stats.peak_bytes = h->stats.live_bytes;
    h->stats.backend_bytes += bytes;
    h->mapped_bytes += bytes;
    h->stats.mapped_bytes = h->mapped_bytes;
    if (WEE_INTROSPECT && h->stats.backend_bytes > h->stats.held_peak_bytes)
        h->stats.held_peak_bytes = h->stats.backend_bytes;
}

static void stats_sub(heap *h, size_t bytes) {
    h->stats.live_bytes -= bytes;
    h->stats.backend_bytes -= bytes;
    h->mapped_bytes -= bytes;
    h->stats.mapped_bytes = h->mapped_bytes;
}

size_t wee_large_threshold(heap *h) {
    size_t t = atomic_load_explicit(&h->mmap_threshold, memory_order_relaxed);
    return t ? t : LARGE_DEFAULT;
}

/* Puts large block `c`, whose mapping starts at `base`, on the heap's list
 * (the lock held). */
static void large_link(heap *h, char *base, cell *c) {
    large_links *l = (large_links *)(void *)base;
    l->next = h->large;
    l->pprev = &h->large;
    l->block = c;
    if (l->next)
        l->next->pprev = &l->next;
    h->large = l;
}

/* Takes the mapping at `base` off the heap's list (the lock held). */
static void large_unlink(char *base) {
    large_links *l = (large_links *)(void *)base;
    *l->pprev = l->next;
    if (l->next)
        l->next->pprev = l->pprev;
}

/* The offset of a large block's cell from its mapping's base: room for the
 * list links, then the header, the block's data plus one word aligned. */
static size_t large_lead(size_t align) {
    size_t lead = CELL_HEADER + WEE_WORD;
    align = align < WEE_GRANULE ? WEE_GRANULE : align;
    return ((sizeof(large_links) + lead + align - 1) & ~(align - 1)) - lead;
}

/* Writes large block's header for a mapping at `base` of `map` bytes. */
static cell *large_header(char *base, size_t map, size_t lead) {
    cell *c = (cell *)(base + lead);
    c->next = (uintptr_t)(base + map) | CELL_TAGS;
    c->prev = (cell *)(void *)base;
    return c;
}

static size_t large_map_bytes(size_t lead, size_t bytes) {
    return PAGE_UP(lead + CELL_HEADER + bytes);
}

char *wee_large_alloc(heap *h, size_t bytes, size_t align) {
    size_t lead = large_lead(align), map = large_map_bytes(lead, bytes);
    char *base = wee_backend_map(map);
    if (!base)
        return NULL;
    cell *c = large_header(base, map, lead);
    wee_lock_acquire(&h->lock);
    h->stats.allocs++;
    h->stats.mapped_blocks++;
    stats_add(h, map);
    large_link(h, base, c);
    wee_lock_release(&h->lock);
    return cell_data(c);
}

/* Whether the heap keeps the pages of a freed large block's mapping of
 * `map` bytes, its cell `lead` bytes from its base (the lock held, the
 * block's bytes already out of the counters): when a block as large would
 * now come from the heap (the threshold rose above it), the decay is not 0
 * (which asks for memory back at once), and the heap's free bytes, these
 * included, stay within KEEP_MAX or the live bytes, whichever is more. */
static int large_kept(heap *h, size_t map, size_t lead) {
    size_t free = h->stats.backend_bytes - h->stats.live_bytes, live = h->stats.live_bytes;
    return map - lead - CELL_HEADER < wee_large_threshold(h) && h->decay_ms != 1 &&
           free + map <= (live > KEEP_MAX ? live : KEEP_MAX);
}

/* Gives the pages of the mapping at `base` of `map` bytes to the heap (the
 * lock held): moved to where the heap grows, they extend the newest region
 * as one free cell, or merge with its free top. The decay counts them as
 * freed. */
static void large_keep(heap *h, char *base, size_t map) {
    wee_heap_add_locked(h, h->sentinel, wee_backend_adopt(base, map), map);
    cell *c = h->sentinel->prev;
    if (!WEE_EXTRA_ASSERTIONS) /* its pages hold data: not released */
        *cell_release_mark(c) = 0;
    wee_release_freed_locked(h, map);
}

void wee_large_free(heap *h, cell *c) {
    WEE_VG_QUIET_BEGIN(); /* the header is no-access to the program */
    char *base = (char *)c->prev;
    size_t map = (size_t)((char *)cell_next(c) - base), lead = (size_t)((char *)c - base);
    wee_lock_acquire(&h->lock);
    h->stats.deallocs++;
    h->stats.mapped_blocks--;
    stats_sub(h, map);
    large_unlink(base);
    if (!h->mmap_fixed && map > wee_large_threshold(h) && map <= LARGE_MAX)
        atomic_store_explicit(&h->mmap_threshold, map, memory_order_relaxed);
    int kept = large_kept(h, map, lead);
    if (kept)
        large_keep(h, base, map);
    else /* fewer live bytes: the heap's free pages may be due for a release */
        wee_release_freed_locked(h, 0);
    wee_lock_release(&h->lock);
    WEE_VG_QUIET_END();
    if (!kept)
        wee_backend_unmap(base, map);
}

char *wee_large_resize(heap *h, cell *c, size_t bytes) {
    WEE_VG_QUIET_BEGIN(); /* the header is no-access to the program */
    char *base = (char *)c->prev;
    size_t lead = (size_t)((char *)c - base), was = (size_t)((char *)cell_next(c) - base);
    size_t map = large_map_bytes(lead, bytes);
    if (map != was) {
        /* off the list while the mapping may move: a walk must not see it */
        wee_lock_acquire(&h->lock);
        large_unlink(base);
        wee_lock_release(&h->lock);
        char *moved = wee_backend_remap(base, was, map);
        wee_lock_acquire(&h->lock);
        if (moved) {
            base = moved;
            c = large_header(base, map, lead);
            stats_sub(h, was);
            stats_add(h, map);
        }
        large_link(h, base, c);
        wee_lock_release(&h->lock);
        if (!moved) {
            WEE_VG_QUIET_END();
            return NULL;
        }
    }
    WEE_VG_QUIET_END();
    return cell_data(c);
}

/* The mark of a released free cell, or (`kind` SEEN_MARK) of one the decay
 * saw free: its address and its end, mixed. */
static uintptr_t mark_of(cell *c, uintptr_t kind) {
    return (uintptr_t)cell_next(c) ^ (uintptr_t)c ^ kind;
}

/* Releases the whole pages of free cell `c`, but `keep` bytes at its end;
 * returns the bytes released. With `aged`, only when the decay saw the
 * cell as it is before; otherwise it marks it seen and adds its pages to
 * *seen. */
static size_t release_cell(cell *c, size_t keep, size_t least, int aged, size_t *seen) {
    uintptr_t from = PAGE_UP(cell_release_mark(c) + 1);
    uintptr_t end = (uintptr_t)cell_next(c);
    uintptr_t to = PAGE_DOWN(end - (keep < end - from ? keep : end - from));
    uintptr_t *mark = cell_release_mark(c);
    if (to < from + least || (!WEE_EXTRA_ASSERTIONS && *mark == mark_of(c, RELEASED_MARK)))
        return 0;
    if (!WEE_EXTRA_ASSERTIONS && aged && *mark != mark_of(c, SEEN_MARK)) {
        *mark = mark_of(c, SEEN_MARK);
        *seen += to - from;
        return 0;
    }
    wee_backend_release((void *)from, to - from);
    if (WEE_EXTRA_ASSERTIONS)
        wee_poison((void *)from, (void *)to, POISON_MAIN);
    else
        *mark = mark_of(c, RELEASED_MARK);
    return to - from;
}

void wee_zero_taken_locked(heap *h, char *from, char *to) {
    uintptr_t lo = PAGE_DOWN(from), hi = PAGE_UP(to + CELL_MIN + WEE_WORD);
    uintptr_t zf = h->zero_from, zt = h->zero_to;
    if (hi <= zf || lo >= zt)
        return;
    uintptr_t below = lo > zf ? lo - zf : 0, above = zt > hi ? zt - hi : 0;
    if (above >= below) /* keep the larger part: above, or none */
        h->zero_from = above ? hi : zt;
    else
        h->zero_to = lo;
}

/* Releases the free cells with `least` bytes of whole pages or more (with
 * `aged`, those the last aging saw as they are, marking the others seen),
 * but `pad` bytes at the top; returns the bytes released. The bytes left
 * to a later aging stay counted as freed, so that it comes. */
static size_t release_cells(heap *h, size_t pad, size_t least, int aged) {
    size_t bytes = 0, seen = 0;
    for (size_t k = list_index(least + CELL_MIN); k < LIST_COUNT; k++)
        for (cell *c = h->lists[k]; c; c = cell_links(c)->next) {
            size_t n = release_cell(c, cell_next(c) == h->sentinel ? pad : 0, least, aged, &seen);
            bytes += n;
            if (!WEE_EXTRA_ASSERTIONS && n > h->zero_to - h->zero_from) {
                h->zero_from = PAGE_UP(cell_release_mark(c) + 1);
                h->zero_to = h->zero_from + n;
            }
        }
    h->dirty_bytes = seen;
    h->released_ms = wee_backend_clock_ms();
    h->stats.released_bytes += bytes;
    return bytes;
}

size_t wee_release_locked(heap *h, size_t pad, size_t least) {
    return release_cells(h, pad, least, 0);
}

void wee_release_freed_locked(heap *h, size_t freed) {
    size_t dirty = h->dirty_bytes + freed;
    h->dirty_bytes = dirty;
    if (dirty < WEE_PAGE_BYTES)
        return;
    size_t decay = h->decay_ms ? h->decay_ms - 1 : DECAY_DEFAULT;
    /* the bytes freed trigger a release only when most of what the heap
     * holds is free: a program that frees and allocates again at about the
     * same size (a steady state) waits for the decay instead of taking its
     * pages back from the system after every release. The large blocks'
     * mappings count: a program that frees half of its blocks while its
     * other large blocks live, whose pages the heap took (large_keep),
     * takes them again for the next ones */
    if (decay == 0)
        release_cells(h, 0, WEE_PAGE_BYTES, 0);
    else if (dirty >= DIRTY_MAX && h->stats.live_bytes < h->stats.backend_bytes / 4)
        release_cells(h, 0, RELEASE_LEAST, 0);
    else if (h->stats.deallocs % DECAY_EVERY == 0 &&
             wee_backend_clock_ms() - h->released_ms >= (uint64_t)decay)
        release_cells(h, 0, RELEASE_LEAST, 1);
}

#else
typedef int wee_release_unused; /* nothing to release in this build */
#endif
