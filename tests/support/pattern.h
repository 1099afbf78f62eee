/*
 * Block contents for the tests and the benchmarks: a pattern that every
 * byte of a block gets from the block's seed and the byte's offset, written
 * and checked word by word. Shared by tests/unit, tests/wasm, tests/stress,
 * tests/trace_replay.c and bench/replay.c; header-only C11, for native and
 * wasm32 builds, with or without -fno-builtin.
 *
 * Byte k of the pattern with seed s is byte k % 8, in memory order, of the
 * word pattern_word(s, k / 8) = s ^ (k / 8) * PATTERN_GOLDEN: every word of
 * a block differs from the others, and blocks whose seeds differ differ in
 * every byte but by chance. Seeds should look random: pattern_seed() makes
 * one from a small number (a block's index).
 */
#ifndef WEE_TESTS_PATTERN_H
#define WEE_TESTS_PATTERN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PATTERN_GOLDEN UINT64_C(0x9E3779B97F4A7C15)

/* Word copies that stay inline under -fno-builtin (gcc and clang). */
#define PATTERN_COPY8(dst, src) __builtin_memcpy((dst), (src), 8)

/* splitmix64's finaliser: a bijection that scatters every input bit. */
static inline uint64_t pattern_mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* A seed from a small number, such as a block's index. */
static inline uint64_t pattern_seed(uint64_t n) { return pattern_mix64(n + PATTERN_GOLDEN); }

static inline uint64_t pattern_word(uint64_t seed, size_t j) {
    return seed ^ ((uint64_t)j * PATTERN_GOLDEN);
}

static inline unsigned char pattern_byte(uint64_t seed, size_t k) {
    uint64_t w = pattern_word(seed, k / 8);
    unsigned char b[8];
    PATTERN_COPY8(b, &w);
    return b[k % 8];
}

/* Writes the pattern over bytes [from, to) of the block at p. */
static inline void pattern_fill(void *block, size_t from, size_t to, uint64_t seed) {
    unsigned char *p = block;
    size_t k = from;
    for (; k < to && k % 8 != 0; k++)
        p[k] = pattern_byte(seed, k);
    for (; k + 8 <= to; k += 8) {
        uint64_t w = pattern_word(seed, k / 8);
        PATTERN_COPY8(p + k, &w);
    }
    for (; k < to; k++)
        p[k] = pattern_byte(seed, k);
}

/* The offset of the first byte in [from, to) that breaks the pattern, or
 * SIZE_MAX when they all hold it. */
static inline size_t pattern_mismatch(const void *block, size_t from, size_t to, uint64_t seed) {
    const unsigned char *p = block;
    size_t k = from;
    for (; k < to && k % 8 != 0; k++)
        if (p[k] != pattern_byte(seed, k))
            return k;
    for (; k + 8 <= to; k += 8) {
        uint64_t w;
        PATTERN_COPY8(&w, p + k);
        if (w != pattern_word(seed, k / 8))
            break; /* the bytes below find which one */
    }
    for (; k < to; k++)
        if (p[k] != pattern_byte(seed, k))
            return k;
    return SIZE_MAX;
}

/* Whether all n bytes of the block hold the pattern. */
static inline bool pattern_ok(const void *block, size_t n, uint64_t seed) {
    return pattern_mismatch(block, 0, n, seed) == SIZE_MAX;
}

/* The offset of the first byte of n that is not zero, or SIZE_MAX. */
static inline size_t pattern_first_nonzero(const void *block, size_t n) {
    const unsigned char *p = block;
    size_t k = 0;
    for (; k + 8 <= n; k += 8) {
        uint64_t w;
        PATTERN_COPY8(&w, p + k);
        if (w != 0)
            break;
    }
    for (; k < n; k++)
        if (p[k] != 0)
            return k;
    return SIZE_MAX;
}

#endif /* WEE_TESTS_PATTERN_H */
