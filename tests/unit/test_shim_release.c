/* The malloc shim gives memory back (unix): free of a large block, calloc of
 * untouched memory, realloc by remapping, malloc_trim, and the environment
 * knobs, with the shim linked into this program in place of the C library's
 * malloc. ctest runs it twice: with the defaults, and with
 * WEE_ALLOC_DECAY_MS=0 and WEE_ALLOC_MMAP_THRESHOLD=64k, which the
 * constructor must have read. The resident set is read from
 * /proc/self/statm. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <malloc.h>
#include <stdlib.h>
#include <unistd.h>

#include "test_util.h"

#include "../support/resident.h"

#define MIB ((size_t)1 << 20)

static int decay_zero(void) {
    const char *v = getenv("WEE_ALLOC_DECAY_MS");
    return v && strcmp(v, "0") == 0;
}

#if WEE_RELEASES
static heap *dh(void) { return heap_of(wee_default_heap()); }

/* The constructor read the knobs, when they are set. */
static void knobs_are_read(void **state) {
    (void)state;
    const char *t = getenv("WEE_ALLOC_MMAP_THRESHOLD");
    if (t && strcmp(t, "64k") == 0) {
        assert_int_equal(wee_large_threshold(dh()), 64 * 1024);
        assert_int_equal(dh()->mmap_fixed, 1);
    } else {
        assert_int_equal(dh()->mmap_fixed, 0);
    }
    assert_int_equal(dh()->decay_ms, decay_zero() ? 1 : 0);
}

/* free() of a large block gives its memory back at once. */
static void free_gives_large_blocks_back(void **state) {
    (void)state;
    size_t before = resident();
    char *p = malloc(64 * MIB);
    assert_non_null(p);
    memset(p, 1, 64 * MIB);
    assert_true(resident() > before + 60 * MIB);
    free(p);
    assert_true(resident() < before + 4 * MIB);
}

/* calloc of 1 GiB touched once per MiB costs a few MiB, and reads zero. */
static void calloc_does_not_touch_fresh_memory(void **state) {
    (void)state;
    size_t before = resident();
    unsigned char *p = calloc(1024, MIB);
    assert_non_null(p);
    for (size_t at = 0; at < 1024 * MIB; at += MIB) {
        assert_int_equal(p[at], 0);
        p[at] = 1;
    }
    assert_true(resident() < before + 16 * MIB);
    free(p);
    /* and calloc over memory that held data reads zero too */
    for (size_t size = 100; size < 4 * MIB; size = size * 3 + 7) {
        unsigned char *q = malloc(size);
        memset(q, 0xee, size);
        free(q);
        q = calloc(1, size);
        for (size_t i = 0; i < size; i++)
            if (q[i])
                fail_msg("calloc(%zu) byte %zu is %d", size, i, q[i]);
        free(q);
    }
}

/* realloc up to 512 MiB keeps the contents, and peaks at the block's
 * size, not twice it. */
static void realloc_growth_keeps_contents(void **state) {
    (void)state;
    size_t before = resident();
    size_t size = 1000;
    char *p = malloc(size);
    fill(p, size, 42);
    for (; size < 512 * MIB; size *= 2) {
        p = realloc(p, 2 * size);
        assert_non_null(p);
        assert_true(filled(p, 1000, 42));
        memset(p + size, 3, size);
    }
    assert_true(resident() < before + size + 32 * MIB);
    assert_true(malloc_usable_size(p) >= size);
    free(p);
}

/* malloc_trim(0) gives back a freed heap block that the decay still keeps
 * (a decay of 0, or a decay that happened to end at this free, gave it back
 * at once: then malloc_trim has nothing left to give). */
static void malloc_trim_gives_back_free_pages(void **state) {
    (void)state;
    char *big = malloc(24 * MIB); /* a mapping: its free raises the threshold */
    free(big);
    char *guard = malloc(100);
    char *p = malloc(12 * MIB);
    char *after = malloc(100);
    assert_non_null(p);
    char *volatile block = p - WEE_WORD; /* the compiler must not see malloc's bounds */
    int mapped = cell_is_mapped(cell_of(block));
    memset(p, 9, 12 * MIB);
    size_t full = resident();
    free(p);
    if (mapped) { /* a fixed threshold: unmapped */
        assert_true(resident() + 8 * MIB < full);
    } else if (decay_zero() || resident() + 8 * MIB < full) {
        assert_true(resident() + 8 * MIB < full);
        assert_int_equal(malloc_trim(0), 0);
    } else {
        assert_int_equal(malloc_trim(0), 1);
        if (!WEE_EXTRA_ASSERTIONS) /* which poison the released pages again */
            assert_true(resident() + 8 * MIB < full);
    }
    free(guard);
    free(after);
    assert_int_equal(wee_heap_check(wee_default_heap()), 0);
}

RUN(cmocka_unit_test(knobs_are_read), cmocka_unit_test(free_gives_large_blocks_back),
    cmocka_unit_test(calloc_does_not_touch_fresh_memory),
    cmocka_unit_test(realloc_growth_keeps_contents),
    cmocka_unit_test(malloc_trim_gives_back_free_pages))
#else
int main(void) {
    (void)decay_zero;
    (void)resident;
    printf("skipped: the backend gives no memory back\n");
    return 77;
}
#endif
