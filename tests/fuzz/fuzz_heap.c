/*
 * libFuzzer target: the sized core API driven by the fuzzer's bytes.
 *
 * Each input runs on a fresh heap over the static backend, whose array is
 * reset first (wee_backend_static_reset), so an input always does the same
 * thing and a crash reproduces from its file alone. The core is built with
 * extra assertions: poison checks and invariant checks run inside every
 * operation, and a broken one traps, which the fuzzer reports as a crash.
 *
 * Every live block has a shadow copy of what it should hold. A block is
 * checked against its shadow when it is freed or reallocated, all blocks are
 * checked (with a full wee_heap_check) every CHECK_EVERY operations and at
 * the end, and blocks must be aligned, inside their usable size and apart
 * from each other. At the end everything is freed and the heap must have no
 * live bytes left.
 *
 * The input is a sequence of operations, one opcode byte each followed by
 * its arguments (missing bytes read as 0):
 *
 *   op % 8   operation          arguments
 *   0        small alloc        size: 2 bytes % 640; align: 1 byte, 2^(b % 5)
 *   1        alloc              size: 3 bytes % SIZE_CAP >> op / 8 % 8; align as above
 *   2        aligned alloc      size: 2 bytes; align: 1 byte, 2^(5 + b % 8)
 *   3        calloc             count: 1 byte; size: 2 bytes % 2048
 *   4        free               block: 1 byte (index into the live blocks)
 *   5        realloc            block: 1 byte; size: 3 bytes % SIZE_CAP >> op / 8 % 8,
 *                               kept below 640 when the bytes are even
 *   6        fault injection    1 byte: fail after b % 4 grows; b >= 128 lifts it
 *                               (NULL is a finding unless the limit is on)
 *   7        odd request        1 byte: an absurd size or alignment (must
 *                               fail), or usable size written in full
 *
 * tools/trace_to_fuzz.py writes this format from allocation traces; the
 * seed corpus (tests/fuzz/corpus) holds its output.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../support/pattern.h"
#include "backend_static.h"
#include "wee_alloc.h"

#define MAX_LIVE    256
#define SIZE_CAP    (128 * 1024)
#define SMALL_CAP   640
#define CHECK_EVERY 64

typedef struct block {
    unsigned char *ptr;
    unsigned char *shadow; /* what the block holds, `size` bytes */
    size_t size, align;
} block;

static block live[MAX_LIVE];
static size_t nlive;
static uint64_t counter; /* varies the bytes written */
static int failing;      /* the backend may fail: NULL is allowed */

typedef struct reader {
    const uint8_t *at, *end;
} reader;

static unsigned next_byte(reader *r) { return r->at < r->end ? *r->at++ : 0; }

static size_t next_bytes(reader *r, int n) {
    size_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | next_byte(r);
    return v;
}

/* A finding: crash so that the fuzzer keeps the input. */
#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            __builtin_trap();                                                                      \
    } while (0)

/* Fills [from, to) of block b, and its shadow, with fresh bytes. */
static void scribble(block *b, size_t from, size_t to) {
    pattern_fill(b->ptr, from, to, pattern_seed(++counter));
    memcpy(b->shadow + from, b->ptr + from, to - from);
}

static void check_block(const block *b) {
    CHECK(b->size == 0 || memcmp(b->ptr, b->shadow, b->size) == 0);
}

/* Block p does not overlap any live one but live[skip]. */
static void check_apart(const unsigned char *p, size_t size, size_t skip) {
    size_t n = size ? size : 1;
    for (size_t i = 0; i < nlive; i++) {
        if (i == skip)
            continue;
        size_t m = live[i].size ? live[i].size : 1;
        CHECK(p + n <= live[i].ptr || live[i].ptr + m <= p);
    }
}

static void check_all(wee_heap *h) {
    for (size_t i = 0; i < nlive; i++)
        check_block(&live[i]);
    CHECK(wee_heap_check(h) == 0);
}

/* Records a new block of `size` bytes at p, filled with fresh bytes unless
 * `zero`. */
static void add(wee_heap *h, unsigned char *p, size_t size, size_t align, int zero) {
    if (!p) {
        CHECK(failing);
        return;
    }
    CHECK((uintptr_t)p % align == 0);
    CHECK(wee_heap_usable_size(h, p, size, align) >= size);
    check_apart(p, size, MAX_LIVE);
    block *b = &live[nlive++];
    b->ptr = p;
    b->size = size;
    b->align = align;
    b->shadow = malloc(size ? size : 1);
    CHECK(b->shadow);
    if (zero) {
        memset(p, 0, size);
        memset(b->shadow, 0, size);
    } else {
        scribble(b, 0, size);
    }
}

static void drop(wee_heap *h, size_t i) {
    block *b = &live[i];
    check_block(b);
    wee_heap_dealloc(h, b->ptr, b->size, b->align);
    free(b->shadow);
    *b = live[--nlive];
}

static void do_alloc(wee_heap *h, size_t size, size_t align) {
    if (nlive < MAX_LIVE)
        add(h, wee_heap_alloc(h, size, align), size, align, 0);
}

static void do_realloc(wee_heap *h, size_t i, size_t size) {
    block *b = &live[i];
    check_block(b);
    unsigned char *p = wee_heap_realloc(h, b->ptr, b->size, b->align, size);
    if (!p) { /* the old block stays as it was */
        CHECK(failing);
        check_block(b);
        return;
    }
    CHECK((uintptr_t)p % b->align == 0);
    CHECK(wee_heap_usable_size(h, p, size, b->align) >= size);
    size_t keep = b->size < size ? b->size : size;
    CHECK(keep == 0 || memcmp(p, b->shadow, keep) == 0);
    unsigned char *shadow = realloc(b->shadow, size ? size : 1);
    CHECK(shadow);
    b->shadow = shadow;
    check_apart(p, size, i);
    b->ptr = p;
    b->size = size;
    scribble(b, keep, size);
}

/* Requests no heap can serve: they fail and change nothing. Or, for a live
 * block, the whole usable size written and kept. */
static void do_odd(wee_heap *h, unsigned which, reader *r) {
    switch (which % 4) {
    case 0:
        CHECK(!wee_heap_alloc(h, SIZE_MAX - next_byte(r), 16));
        break;
    case 1: {
        unsigned b = next_byte(r); /* 0, or 3, 6, 12, ... 1536 */
        CHECK(!wee_heap_alloc(h, next_byte(r), b % 2 ? 0 : (size_t)3 << (b % 10)));
        break;
    }
    case 2:
        CHECK(!wee_heap_alloc(h, (SIZE_MAX >> 1) + next_byte(r), 1));
        break;
    default:
        if (nlive) {
            block *b = &live[next_byte(r) % nlive];
            size_t usable = wee_heap_usable_size(h, b->ptr, b->size, b->align);
            check_block(b);
            /* write all of it, but keep knowing the block by its size */
            memset(b->ptr + b->size, 0xA5, usable - b->size);
            CHECK(wee_heap_usable_size(h, b->ptr, b->size, b->align) == usable);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len) {
    wee_backend_static_reset();
    wee_heap h = WEE_HEAP_INIT;
    reader r = {data, data + len};
    nlive = 0;
    failing = 0;
    for (size_t ops = 1; r.at < r.end; ops++) {
        unsigned op = next_byte(&r);
        switch (op % 8) {
        case 0: {
            size_t size = next_bytes(&r, 2) % SMALL_CAP;
            do_alloc(&h, size, (size_t)1 << (next_byte(&r) % 5));
            break;
        }
        case 1: {
            size_t size = next_bytes(&r, 3) % SIZE_CAP >> op / 8 % 8;
            do_alloc(&h, size, (size_t)1 << (next_byte(&r) % 5));
            break;
        }
        case 2: {
            size_t size = next_bytes(&r, 2);
            do_alloc(&h, size, (size_t)1 << (5 + next_byte(&r) % 8));
            break;
        }
        case 3: {
            size_t count = next_byte(&r), size = next_bytes(&r, 2) % 2048;
            if (nlive < MAX_LIVE)
                add(&h, wee_heap_alloc(&h, count * size, 16), count * size, 16, 1);
            break;
        }
        case 4:
            if (nlive)
                drop(&h, next_byte(&r) % nlive);
            break;
        case 5:
            if (nlive) {
                size_t i = next_byte(&r) % nlive, size = next_bytes(&r, 3) % SIZE_CAP >> op / 8 % 8;
                do_realloc(&h, i, size % 2 ? size : size % SMALL_CAP);
            }
            break;
        case 6: {
            unsigned b = next_byte(&r);
            failing = b < 128;
            wee_backend_static_fail_after(b < 128 ? (long)(b % 4) : -1);
            break;
        }
        default:
            do_odd(&h, op / 8, &r);
        }
        if (ops % CHECK_EVERY == 0)
            check_all(&h);
    }
    check_all(&h);
    wee_backend_static_fail_after(-1);
    while (nlive)
        drop(&h, nlive - 1);
    wee_stats s;
    wee_heap_stats(&h, &s);
    CHECK(s.live_bytes == 0 && s.allocs == s.deallocs);
    CHECK(wee_heap_check(&h) == 0);
    return 0;
}
