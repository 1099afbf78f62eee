/*
 * Out of memory on wasm32: linked with -Wl,--max-memory=OOM_MAX_MEMORY, so
 * memory.grow fails once the memory has that size. The program allocates
 * through every allocating function of the shim until it fails and checks
 * that every failure is NULL with errno ENOMEM (posix_memalign: the result
 * ENOMEM, *out and errno untouched), that a failed realloc leaves its block
 * intact, that nothing is lost (every block keeps its contents, the heap
 * check passes), and that after freeing everything the memory can be
 * allocated again.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../support/pattern.h"
#include "check.h"
#include "wee_alloc.h"

#ifndef OOM_MAX_MEMORY
#error "OOM_MAX_MEMORY must be the module's --max-memory"
#endif

#define KIB        ((size_t)1024)
#define WASM_PAGE  ((size_t)65536)
#define MAX_BLOCKS 4096

enum kind { K_MALLOC, K_CALLOC, K_REALLOC, K_POSIX_MEMALIGN, K_ALIGNED_ALLOC, K_COUNT };

static const char *const kind_name[K_COUNT] = {"malloc", "calloc", "realloc", "posix_memalign",
                                               "aligned_alloc"};

static unsigned char *blocks[MAX_BLOCKS];
static size_t block_size[MAX_BLOCKS];
static size_t nblocks;
static unsigned long failures[K_COUNT];

static void fill(size_t b, size_t from) {
    pattern_fill(blocks[b], from, block_size[b], pattern_seed(b));
}

static int intact(size_t b) { return pattern_ok(blocks[b], block_size[b], pattern_seed(b)); }

static int all_zero(const unsigned char *p, size_t n) {
    return pattern_first_nonzero(p, n) == SIZE_MAX;
}

/*
 * One allocation of `size` bytes with function `kind`; realloc grows the
 * newest block by `size`. Returns 1 when it succeeded (the block is
 * recorded and filled), 0 when it failed; a failure is checked here.
 */
static int try_alloc(enum kind kind, size_t size) {
    if (nblocks == MAX_BLOCKS) {
        CHECK(nblocks < MAX_BLOCKS);
        return 0;
    }
    static char untouched;
    void *out = &untouched;
    unsigned char *p = NULL;
    int r = 0;
    errno = 0;
    switch (kind) {
    case K_MALLOC:
        p = malloc(size);
        break;
    case K_CALLOC:
        p = calloc(size / 8, 8);
        break;
    case K_REALLOC:
        if (nblocks == 0)
            return try_alloc(K_MALLOC, size);
        p = realloc(blocks[nblocks - 1], block_size[nblocks - 1] + size);
        break;
    case K_POSIX_MEMALIGN:
        errno = 4321;
        r = posix_memalign(&out, 64, size);
        p = r == 0 ? out : NULL;
        break;
    case K_ALIGNED_ALLOC:
        p = aligned_alloc(256, size);
        break;
    default:
        return 0;
    }
    int e = errno;

    if (p == NULL) {
        failures[kind]++;
        if (kind == K_POSIX_MEMALIGN) {
            CHECK_EQ(r, ENOMEM);
            CHECK(out == &untouched);
            CHECK_EQ(e, 4321);
        } else {
            if (!CHECK_EQ(e, ENOMEM))
                fprintf(stderr, "    %s(%zu) failed with errno %d\n", kind_name[kind], size, e);
        }
        if (kind == K_REALLOC)
            CHECK(intact(nblocks - 1)); /* the old block is still there */
        return 0;
    }

    if (kind == K_REALLOC) {
        size_t b = nblocks - 1, old = block_size[b];
        blocks[b] = p;
        CHECK(intact(b)); /* the old size still: the part realloc kept */
        block_size[b] = old + size;
        fill(b, old);
        return 1;
    }
    if (kind == K_CALLOC)
        CHECK(all_zero(p, size / 8 * 8));
    blocks[nblocks] = p;
    block_size[nblocks] = kind == K_CALLOC ? size / 8 * 8 : size;
    fill(nblocks, 0);
    nblocks++;
    return 1;
}

/* Allocates blocks of `size` bytes, going round the functions, until one
 * fails; then with malloc until it fails too (a realloc that moves, or an
 * aligned block, fails while smaller holes are left); then tries every
 * function once more at that size. Returns the number of blocks (or
 * realloc growths) that succeeded. */
static size_t fill_memory(size_t size) {
    size_t got = 0;
    for (unsigned k = 0;; k++) {
        if (!try_alloc((enum kind)(k % K_COUNT), size))
            break;
        got++;
    }
    while (try_alloc(K_MALLOC, size))
        got++;
    for (unsigned k = 0; k < K_COUNT; k++)
        got += (size_t)try_alloc((enum kind)k, size);
    return got;
}

static void free_all(void) {
    for (size_t b = 0; b < nblocks; b++) {
        CHECK(intact(b));
        free(blocks[b]);
    }
    nblocks = 0;
}

static void exhaustion_fails_cleanly(void) {
    const size_t sizes[] = {256 * KIB, 16 * KIB, 1 * KIB, 100, 16};
    size_t first = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t got = fill_memory(sizes[i]);
        if (i == 0)
            first = got;
    }
    /* The memory really is at its maximum, and most of it was handed out. */
    CHECK_EQ(__builtin_wasm_memory_size(0) * WASM_PAGE, OOM_MAX_MEMORY);
    CHECK(first >= OOM_MAX_MEMORY / (256 * KIB) / 2);
    /* Every function failed, at least at the two large sizes (at the small
     * ones a plain malloc may still fit where an aligned block did not). */
    for (unsigned k = 0; k < K_COUNT; k++)
        CHECK(failures[k] >= 2);

    wee_stats s;
    wee_heap_stats(wee_default_heap(), &s);
    CHECK(s.failures > 0);
    CHECK_EQ(s.regions, 1);
    CHECK(s.live_bytes >= OOM_MAX_MEMORY / 2);
    CHECK_EQ(wee_heap_check(wee_default_heap()), 0);

    /* A failed realloc of any block leaves it as it was. */
    for (size_t b = 0; b < nblocks; b += 7) {
        errno = 0;
        CHECK(realloc(blocks[b], OOM_MAX_MEMORY / 2) == NULL);
        CHECK_EQ(errno, ENOMEM);
        CHECK(intact(b));
    }
    CHECK_EQ(wee_heap_check(wee_default_heap()), 0);

    free_all();
    CHECK_EQ(wee_heap_check(wee_default_heap()), 0);

    /* Everything freed: the same memory serves again, without growing. */
    memset(failures, 0, sizeof failures);
    size_t again = fill_memory(256 * KIB);
    CHECK(again >= first);
    CHECK_EQ(__builtin_wasm_memory_size(0) * WASM_PAGE, OOM_MAX_MEMORY);
    free_all();
    CHECK_EQ(wee_heap_check(wee_default_heap()), 0);

    /* And small blocks still come. */
    void *p = malloc(100);
    CHECK(p != NULL);
    free(p);
}

int main(void) {
    RUN(exhaustion_fails_cleanly);
    return check_summary("oom");
}
