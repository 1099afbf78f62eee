/*
 * Cells: the unit of memory the core hands out and takes back.
 *
 * Every region from the backend is tiled by cells. A cell starts with a
 * two-word header:
 *
 *   next  address of the adjacent cell that follows, tagged in its low bits:
 *         CELL_ALLOCATED (not on a free list) and CELL_LAST (no valid cell
 *         follows: `next` is the region's end);
 *   prev  the adjacent cell before this one, NULL for a region's first cell.
 *
 * A cell's size is never stored: it is next - cell. Cells are whole granules
 * (16 bytes) and every cell starts at the same phase, CELL_PHASE, modulo 16:
 * the phase puts a cell's data one word below a 16-byte boundary, so a shim
 * that keeps one word of its own in front of the data hands out 16-aligned
 * pointers from every cell, size-class cells included.
 *
 * Each region ends in a sentinel: a header-only cell tagged CELL_ALLOCATED
 * and CELL_LAST. Every other cell therefore has a valid follower, and when
 * the backend's next pages follow the region, the sentinel becomes an
 * ordinary cell over them and a new sentinel closes the region's new end.
 *
 * A free cell keeps the links of its free list in its first two data words.
 */
#ifndef WEE_CELL_H
#define WEE_CELL_H

#include <stddef.h>
#include <stdint.h>

#include "backend.h"

#define WEE_WORD    sizeof(void *)
#define WEE_GRANULE ((size_t)16)

typedef struct cell {
    uintptr_t next;    /* tagged address of the following cell */
    struct cell *prev; /* preceding cell, or NULL */
} cell;

enum { CELL_ALLOCATED = 1, CELL_LAST = 2, CELL_TAGS = 3 };

/* Bytes of header in front of every cell's data. */
#define CELL_HEADER sizeof(cell)
/* Address of every cell modulo WEE_GRANULE: data + one word is 16-aligned. */
#define CELL_PHASE ((WEE_GRANULE - (CELL_HEADER + WEE_WORD) % WEE_GRANULE) % WEE_GRANULE)
/* Smallest cell: a header plus room for the two free-list links. */
#define CELL_MIN ((CELL_HEADER + 2 * WEE_WORD + WEE_GRANULE - 1) / WEE_GRANULE * WEE_GRANULE)

_Static_assert(CELL_HEADER == 2 * WEE_WORD, "cell header is two words");
_Static_assert(WEE_GRANULE % WEE_WORD == 0, "granule is whole words");
_Static_assert(CELL_PHASE >= WEE_WORD || CELL_PHASE == 0,
               "the pad in front of a region's first cell holds a word");
_Static_assert((CELL_PHASE + CELL_HEADER + WEE_WORD) % WEE_GRANULE == 0,
               "data plus one word is granule aligned");
_Static_assert(CELL_MIN % WEE_GRANULE == 0, "cells are whole granules");

/* Largest request the core accepts, in bytes; keeps all size arithmetic
 * below SIZE_MAX. */
#define WEE_BYTES_MAX (SIZE_MAX / 2 - 64 * 1024)
#define WEE_ALIGN_MAX (SIZE_MAX / 4 + 1)

static inline cell *cell_next(const cell *c) { return (cell *)(c->next & ~(uintptr_t)CELL_TAGS); }
static inline int cell_is_allocated(const cell *c) { return (c->next & CELL_ALLOCATED) != 0; }
static inline int cell_is_last(const cell *c) { return (c->next & CELL_LAST) != 0; }
static inline size_t cell_size(const cell *c) { return (size_t)((char *)cell_next(c) - (char *)c); }
static inline void *cell_data(cell *c) { return (char *)c + CELL_HEADER; }
static inline cell *cell_of(void *data) { return (cell *)((char *)data - CELL_HEADER); }

/* Free-list links, kept in a free cell's first two data words: the next
 * cell on the list, and the slot that points at this cell (the list head or
 * the previous cell's `next`), so unlinking needs no head and no branch. */
typedef struct cell_links_t {
    cell *next;
    cell **pprev;
} cell_links_t;

static inline cell_links_t *cell_links(cell *c) { return (cell_links_t *)cell_data(c); }

/* The sentinel of a region that ends at `top`: the highest cell position
 * with room for a header below top. */
static inline cell *cell_sentinel(char *top) {
    uintptr_t at = ((uintptr_t)top - CELL_HEADER - CELL_PHASE) & ~(uintptr_t)(WEE_GRANULE - 1);
    return (cell *)(at + CELL_PHASE);
}

/* Total cell size for `bytes` of data; bytes <= WEE_BYTES_MAX. */
static inline size_t cell_size_for(size_t bytes) {
    size_t total = (bytes + CELL_HEADER + WEE_GRANULE - 1) & ~(WEE_GRANULE - 1);
    return total < CELL_MIN ? CELL_MIN : total;
}

/* Fill byte for freed memory in extra-assertion builds. */
enum { POISON_MAIN = 0x57 };

#endif /* WEE_CELL_H */
