/*
 * The sized core alone (libwee_alloc.a) beside wasi-libc's own malloc: the
 * two allocators share the linear memory and must never hand out the same
 * bytes. Blocks of both are interleaved, filled with patterns and checked.
 */
#include <stdint.h>
#include <stdlib.h>

#include "../support/pattern.h"
#include "check.h"
#include "wee_alloc.h"

#define N 300

static unsigned char *libc_block[N], *wee_block[N];
static size_t libc_size[N], wee_size[N];

static void fill(unsigned char *p, size_t n, size_t which) {
    pattern_fill(p, 0, n, pattern_seed(which));
}

static int filled(const unsigned char *p, size_t n, size_t which) {
    return pattern_ok(p, n, pattern_seed(which));
}

static int disjoint(const unsigned char *a, size_t an, const unsigned char *b, size_t bn) {
    return a + an <= b || b + bn <= a;
}

static void allocators_stay_apart(void) {
    for (size_t i = 0; i < N; i++) {
        libc_size[i] = 1 + (i * 7919) % (i % 10 == 0 ? 200000 : 3000);
        wee_size[i] = 1 + (i * 104729) % (i % 10 == 5 ? 200000 : 3000);
        libc_block[i] = malloc(libc_size[i]);
        wee_block[i] = wee_alloc(wee_size[i], 16);
        REQUIRE(libc_block[i] != NULL && wee_block[i] != NULL);
        fill(libc_block[i], libc_size[i], 2 * i);
        fill(wee_block[i], wee_size[i], 2 * i + 1);
        /* free some of each as we go, so both reuse and grow */
        if (i % 3 == 2) {
            free(libc_block[i - 1]);
            wee_dealloc(wee_block[i - 2], wee_size[i - 2], 16);
            libc_block[i - 1] = wee_block[i - 2] = NULL;
        }
    }
    for (size_t i = 0; i < N; i++) {
        if (libc_block[i])
            CHECK(filled(libc_block[i], libc_size[i], 2 * i));
        if (wee_block[i])
            CHECK(filled(wee_block[i], wee_size[i], 2 * i + 1));
    }
    size_t overlaps = 0;
    for (size_t i = 0; i < N; i++)
        for (size_t j = 0; j < N; j++)
            if (libc_block[i] && wee_block[j] &&
                !disjoint(libc_block[i], libc_size[i], wee_block[j], wee_size[j]))
                overlaps++;
    CHECK_EQ(overlaps, 0);
    CHECK_EQ(wee_heap_check(wee_default_heap()), 0);
    for (size_t i = 0; i < N; i++) {
        free(libc_block[i]);
        if (wee_block[i])
            wee_dealloc(wee_block[i], wee_size[i], 16);
    }
    wee_stats s;
    wee_heap_stats(wee_default_heap(), &s);
    CHECK_EQ(s.live_bytes, 0);
    CHECK_EQ(wee_heap_check(wee_default_heap()), 0);
}

int main(void) {
    RUN(allocators_stay_apart);
    return check_summary("core_alone");
}
