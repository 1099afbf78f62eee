/*
 * cfrac_like: big-number arithmetic with many short-lived small blocks of
 * varying sizes, in the manner of the continued-fraction factoring method.
 *
 * Usage: cfrac_like [--scale N]
 *
 * For each of a few odd numbers N of 24 to 80 decimal digits (derived from a
 * fixed seed), it expands sqrt(N) as a continued fraction,
 *
 *     P' = a*Q - P,  Q' = (N - P'^2) / Q,  a' = (floor(sqrt(N)) + P') / Q',
 *
 * keeps the convergent numerators A = a*A1 + A2 (mod N), checks the
 * identity A1^2 == (-1)^k Q (mod N) at every step (a check of the
 * arithmetic and, with it, of every block's contents), and trial-divides
 * each Q by a base of small primes, counting the Q that factor completely.
 * Every number is an immutable heap block (a length and 32-bit limbs,
 * allocated with malloc at its exact size) and every intermediate result is
 * freed as soon as it is used, so the allocator sees a stream of small
 * allocations of a dozen different sizes, most of them freed at once.
 * --scale multiplies the number of steps (default 1).
 *
 * Output (stdout, one line):
 *   bench=cfrac_like steps=... allocs=... seconds=... ns_per_alloc=...
 *   smooth=... checksum=... mem=rss mem_peak_kb=... errors=...
 * smooth and checksum do not depend on the allocator; errors counts failed
 * identities (the exit status is 1 if there were any).
 *
 * Builds natively and for wasm32-wasi (mem=wasm: linear memory above
 * __heap_base, in KiB).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock_memory.h"

typedef struct {
    uint32_t n;   /* limbs in use; 0 is the number zero */
    uint32_t d[]; /* little-endian limbs, d[n-1] != 0 */
} big;

static unsigned long allocs;

static big *big_new(uint32_t n) {
    big *b = malloc(sizeof(big) + (size_t)(n ? n : 1) * sizeof(uint32_t));
    if (b == NULL) {
        fprintf(stderr, "cfrac_like: out of memory\n");
        exit(2);
    }
    allocs++;
    b->n = n;
    return b;
}

static big *big_trim(big *b) {
    while (b->n > 0 && b->d[b->n - 1] == 0)
        b->n--;
    return b;
}

static big *big_from(uint64_t v) {
    big *b = big_new(2);
    b->d[0] = (uint32_t)v;
    b->d[1] = (uint32_t)(v >> 32);
    return big_trim(b);
}

static big *big_copy(const big *a) {
    big *b = big_new(a->n);
    memcpy(b->d, a->d, (size_t)a->n * sizeof(uint32_t));
    return b;
}

static int big_cmp(const big *a, const big *b) {
    if (a->n != b->n)
        return a->n < b->n ? -1 : 1;
    for (uint32_t i = a->n; i-- > 0;)
        if (a->d[i] != b->d[i])
            return a->d[i] < b->d[i] ? -1 : 1;
    return 0;
}

static big *big_add(const big *a, const big *b) {
    if (a->n < b->n) {
        const big *t = a;
        a = b;
        b = t;
    }
    big *r = big_new(a->n + 1);
    uint64_t carry = 0;
    for (uint32_t i = 0; i < a->n; i++) {
        carry += (uint64_t)a->d[i] + (i < b->n ? b->d[i] : 0);
        r->d[i] = (uint32_t)carry;
        carry >>= 32;
    }
    r->d[a->n] = (uint32_t)carry;
    return big_trim(r);
}

/* a - b, for a >= b. */
static big *big_sub(const big *a, const big *b) {
    big *r = big_new(a->n);
    int64_t borrow = 0;
    for (uint32_t i = 0; i < a->n; i++) {
        int64_t t = (int64_t)a->d[i] - (i < b->n ? b->d[i] : 0) - borrow;
        borrow = t < 0;
        r->d[i] = (uint32_t)t;
    }
    return big_trim(r);
}

static big *big_mul(const big *a, const big *b) {
    if (a->n == 0 || b->n == 0)
        return big_new(0);
    big *r = big_new(a->n + b->n);
    memset(r->d, 0, (size_t)r->n * sizeof(uint32_t));
    for (uint32_t i = 0; i < a->n; i++) {
        uint64_t carry = 0;
        for (uint32_t j = 0; j < b->n; j++) {
            carry += (uint64_t)a->d[i] * b->d[j] + r->d[i + j];
            r->d[i + j] = (uint32_t)carry;
            carry >>= 32;
        }
        r->d[i + b->n] = (uint32_t)carry;
    }
    return big_trim(r);
}

static big *big_shr1(const big *a) {
    big *r = big_new(a->n);
    for (uint32_t i = 0; i < a->n; i++)
        r->d[i] = (a->d[i] >> 1) | (i + 1 < a->n ? a->d[i + 1] << 31 : 0);
    return big_trim(r);
}

/* a / v with the remainder in *rem, for 0 < v < 2^32. */
static big *big_divsmall(const big *a, uint32_t v, uint32_t *rem) {
    big *q = big_new(a->n);
    uint64_t r = 0;
    for (uint32_t i = a->n; i-- > 0;) {
        uint64_t cur = (r << 32) | a->d[i];
        q->d[i] = (uint32_t)(cur / v);
        r = cur % v;
    }
    *rem = (uint32_t)r;
    return big_trim(q);
}

static int clz32(uint32_t x) {
    int n = 0;
    while (!(x & 0x80000000u)) {
        x <<= 1;
        n++;
    }
    return n;
}

/* Quotient of u by v (v != 0); the remainder in *rem if rem != NULL. Long
 * division on 32-bit digits with normalised divisor (Knuth's algorithm D);
 * the normalised copies are heap blocks too. */
static big *big_divmod(const big *u, const big *v, big **rem) {
    if (big_cmp(u, v) < 0) {
        if (rem)
            *rem = big_copy(u);
        return big_new(0);
    }
    if (v->n == 1) {
        uint32_t r;
        big *q = big_divsmall(u, v->d[0], &r);
        if (rem)
            *rem = big_from(r);
        return q;
    }
    uint32_t m = u->n, n = v->n;
    int s = clz32(v->d[n - 1]);
    big *vn = big_new(n), *un = big_new(m + 1);
    for (uint32_t i = n - 1; i > 0; i--)
        vn->d[i] = (v->d[i] << s) | (s ? (uint32_t)((uint64_t)v->d[i - 1] >> (32 - s)) : 0);
    vn->d[0] = v->d[0] << s;
    un->d[m] = s ? (uint32_t)((uint64_t)u->d[m - 1] >> (32 - s)) : 0;
    for (uint32_t i = m - 1; i > 0; i--)
        un->d[i] = (u->d[i] << s) | (s ? (uint32_t)((uint64_t)u->d[i - 1] >> (32 - s)) : 0);
    un->d[0] = u->d[0] << s;

    big *q = big_new(m - n + 1);
    const uint64_t base = UINT64_C(1) << 32;
    for (uint32_t j = m - n + 1; j-- > 0;) {
        uint64_t num = ((uint64_t)un->d[j + n] << 32) | un->d[j + n - 1];
        uint64_t qhat = num / vn->d[n - 1], rhat = num % vn->d[n - 1];
        while (qhat >= base || qhat * vn->d[n - 2] > ((rhat << 32) | un->d[j + n - 2])) {
            qhat--;
            rhat += vn->d[n - 1];
            if (rhat >= base)
                break;
        }
        int64_t k = 0, t;
        for (uint32_t i = 0; i < n; i++) {
            uint64_t p = qhat * vn->d[i];
            t = (int64_t)un->d[i + j] - k - (int64_t)(p & 0xFFFFFFFFu);
            un->d[i + j] = (uint32_t)t;
            k = (int64_t)(p >> 32) - (t >> 32);
        }
        t = (int64_t)un->d[j + n] - k;
        un->d[j + n] = (uint32_t)t;
        if (t < 0) {
            qhat--;
            uint64_t c = 0;
            for (uint32_t i = 0; i < n; i++) {
                c += (uint64_t)un->d[i + j] + vn->d[i];
                un->d[i + j] = (uint32_t)c;
                c >>= 32;
            }
            un->d[j + n] += (uint32_t)c;
        }
        q->d[j] = (uint32_t)qhat;
    }
    if (rem) {
        big *r = big_new(n);
        for (uint32_t i = 0; i < n; i++)
            r->d[i] = (un->d[i] >> s) | (s ? (uint32_t)((uint64_t)un->d[i + 1] << (32 - s)) : 0);
        *rem = big_trim(r);
    }
    free(vn);
    free(un);
    return big_trim(q);
}

static big *big_mod(const big *a, const big *m) {
    big *r;
    free(big_divmod(a, m, &r));
    return r;
}

static unsigned big_bits(const big *a) {
    return a->n ? 32 * a->n - (unsigned)clz32(a->d[a->n - 1]) : 0;
}

/* floor(sqrt(a)) by Newton's iteration from a power of two above it. */
static big *big_isqrt(const big *a) {
    unsigned e = (big_bits(a) + 2) / 2;
    big *x = big_new(e / 32 + 1);
    memset(x->d, 0, (size_t)x->n * sizeof(uint32_t));
    x->d[e / 32] = UINT32_C(1) << (e % 32);
    big_trim(x);
    for (;;) {
        big *q = big_divmod(a, x, NULL);
        big *s = big_add(x, q);
        big *y = big_shr1(s);
        free(q);
        free(s);
        if (big_cmp(y, x) >= 0) {
            free(y);
            return x;
        }
        free(x);
        x = y;
    }
}

/* ------------------------------------------------------------------------ */

static uint64_t rng_state = UINT64_C(0x243F6A8885A308D3);

static uint64_t rng(void) {
    uint64_t z = (rng_state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* A random odd number of about `digits` decimal digits that is not a
 * square: built from its decimal digits, so through many small products. */
static big *make_n(int digits) {
    big *n = big_from(1 + rng() % 9);
    big *ten = big_from(10);
    for (int i = 1; i < digits; i++) {
        big *t = big_mul(n, ten);
        big *d = big_from(rng() % 10);
        free(n);
        n = big_add(t, d);
        free(t);
        free(d);
    }
    free(ten);
    n->d[0] |= 1;
    for (;;) {
        big *r = big_isqrt(n);
        big *sq = big_mul(r, r);
        int square = big_cmp(sq, n) == 0;
        free(r);
        free(sq);
        if (!square)
            return n;
        big *two = big_from(2), *m = big_add(n, two);
        free(two);
        free(n);
        n = m;
    }
}

#define NPRIMES 96

static unsigned long errors, smooth;
static uint64_t checksum;

/* Counts Q if it factors completely over the primes. */
static void trial_divide(const big *q, const uint32_t *primes) {
    big *x = big_copy(q);
    for (int i = 0; i < NPRIMES && x->n > 0; i++) {
        for (;;) {
            uint32_t r;
            big *y = big_divsmall(x, primes[i], &r);
            if (r != 0) {
                free(y);
                break;
            }
            free(x);
            x = y;
        }
        if (x->n == 1 && x->d[0] == 1)
            break;
    }
    if (x->n == 1 && x->d[0] == 1)
        smooth++;
    free(x);
}

static void expand(const big *n, unsigned long steps, const uint32_t *primes) {
    big *a0 = big_isqrt(n);
    big *p = big_new(0), *q = big_from(1), *a = big_copy(a0);
    big *a2 = big_from(1), *a1 = big_mod(a0, n); /* A(k-2), A(k-1) */
    for (unsigned long k = 1; k <= steps; k++) {
        /* P' = a Q - P; Q' = (N - P'^2) / Q; a' = (a0 + P') / Q' */
        big *aq = big_mul(a, q);
        big *p_next = big_sub(aq, p);
        big *pp = big_mul(p_next, p_next);
        big *diff = big_sub(n, pp);
        big *q_next = big_divmod(diff, q, NULL);
        big *sum = big_add(a0, p_next);
        big *a_next = big_divmod(sum, q_next, NULL);
        free(aq);
        free(pp);
        free(diff);
        free(sum);
        free(p);
        free(q);
        free(a);
        p = p_next;
        q = q_next;
        a = a_next;

        /* A(k-1)^2 mod N must be Q(k) for even k, N - Q(k) for odd k. */
        big *sq = big_mul(a1, a1);
        big *lhs = big_mod(sq, n);
        big *rhs = k % 2 == 0 ? big_copy(q) : big_sub(n, q);
        if (big_cmp(lhs, rhs) != 0)
            errors++;
        free(sq);
        free(lhs);
        free(rhs);

        trial_divide(q, primes);

        /* A(k) = a(k) A(k-1) + A(k-2) mod N */
        big *t = big_mul(a, a1);
        big *u = big_add(t, a2);
        big *ak = big_mod(u, n);
        free(t);
        free(u);
        free(a2);
        a2 = a1;
        a1 = ak;
        checksum = checksum * 31 + (q->n ? q->d[0] : 0) + (a1->n ? a1->d[0] : 0);
    }
    free(a0);
    free(p);
    free(q);
    free(a);
    free(a1);
    free(a2);
}

int main(int argc, char **argv) {
    unsigned long scale = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--scale") == 0 && i + 1 < argc) {
            char *end;
            errno = 0;
            scale = strtoul(argv[++i], &end, 10);
            if (errno || *end || scale == 0) {
                fprintf(stderr, "cfrac_like: bad --scale\n");
                return 2;
            }
        } else {
            fprintf(stderr, "usage: cfrac_like [--scale N]\n");
            return 2;
        }
    }

    uint32_t primes[NPRIMES];
    int np = 0;
    for (uint32_t c = 2; np < NPRIMES; c++) {
        int prime = 1;
        for (int i = 0; i < np && primes[i] * primes[i] <= c; i++)
            if (c % primes[i] == 0)
                prime = 0;
        if (prime)
            primes[np++] = c;
    }

    static const int digits[] = {24, 36, 48, 64, 80};
    const unsigned long steps = 20000 * scale;
    double t0 = now_seconds();
    for (size_t i = 0; i < sizeof digits / sizeof digits[0]; i++) {
        big *n = make_n(digits[i]);
        expand(n, steps, primes);
        free(n);
    }
    double t1 = now_seconds();
    double seconds = t1 - t0;
    printf("bench=cfrac_like steps=%lu allocs=%lu seconds=%.6f ns_per_alloc=%.3f smooth=%lu "
           "checksum=%016llx mem=%s mem_peak_kb=%ld errors=%lu\n",
           steps * (sizeof digits / sizeof digits[0]), allocs, seconds,
           allocs ? seconds * 1e9 / (double)allocs : 0.0, smooth, (unsigned long long)checksum,
           MEMORY_KIND, peak_kb(), errors);
    return errors ? 1 : 0;
}
