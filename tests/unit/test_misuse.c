/* Misuse of the sized API ends the process with one message that names the
 * misuse and the caller's pointer (src/misuse.c): double frees, pointers the
 * heap never handed out, frees with the wrong size and headers overwritten
 * by a buffer overflow. Each case runs in a child process, which must die of
 * a signal after writing exactly the expected line to standard error.
 *
 * Hardened builds (WEE_HARDEN, every native build by default) catch the
 * cases marked CHEAP, which their few-instruction checks see; builds with
 * extra assertions catch every case. A case the build cannot catch is left
 * out (the whole program exits 77 when that is every case). */
#define _GNU_SOURCE
#include "test_util.h"

#include "../support/death.h"

#define BIG 8192 /* a cell: above the largest slot */

enum { CHEAP = 1, EXTRA = 2, RUNS = 4, LINKS = 8 };

#define report death_report

static int can_catch(int needs) {
    if ((needs & RUNS) && !WEE_RUNS)
        return 0;
    if (needs & LINKS) /* safe-linking: hardened builds */
        return WEE_HARDEN;
    return WEE_EXTRA_ASSERTIONS || (WEE_HARDEN && (needs & CHEAP));
}

typedef struct misuse_fn {
    void (*bad)(wee_heap *);
} misuse_fn;

/* Runs a misuse on a fresh heap (in the child). */
static void on_fresh_heap(void *ctx) {
    static wee_heap h; /* in the child: fresh */
    ((misuse_fn *)ctx)->bad(&h);
}

/* Runs `bad` in a child on a fresh heap; asserts that it died of a signal
 * after writing "wee_alloc: <kind>: 0x<the reported pointer>\n". */
static void assert_caught(void (*bad)(wee_heap *), const char *kind) {
    misuse_fn fn = {bad};
    death d = death_run(on_fresh_heap, &fn);
    death_assert_named(&d, kind);
}

/* --- The misuses -------------------------------------------------------- */

static void double_free_of_a_slot(wee_heap *h) {
    char *p = wee_heap_alloc(h, 40, 8);
    wee_heap_dealloc(h, p, 40, 8);
    report(p);
    wee_heap_dealloc(h, p, 40, 8); /* p heads its run's free list */
}

static void double_free_of_a_slot_deeper(wee_heap *h) {
    char *a = wee_heap_alloc(h, 40, 8), *b = wee_heap_alloc(h, 40, 8);
    wee_heap_dealloc(h, a, 40, 8);
    wee_heap_dealloc(h, b, 40, 8);
    report(a);
    wee_heap_dealloc(h, a, 40, 8); /* b heads the list, a follows */
}

static void double_free_of_a_cell(wee_heap *h) {
    char *keep = wee_heap_alloc(h, BIG, 8), *p = wee_heap_alloc(h, BIG, 8);
    char *guard = wee_heap_alloc(h, BIG, 8);
    wee_heap_dealloc(h, p, BIG, 8);
    report(p);
    wee_heap_dealloc(h, p, BIG, 8);
    (void)keep;
    (void)guard;
}

static void double_free_of_a_merged_cell(wee_heap *h) {
    char *a = wee_heap_alloc(h, BIG, 8), *b = wee_heap_alloc(h, BIG, 8);
    char *guard = wee_heap_alloc(h, BIG, 8);
    wee_heap_dealloc(h, a, BIG, 8);
    wee_heap_dealloc(h, b, BIG, 8); /* b merges into a */
    report(b);
    wee_heap_dealloc(h, b, BIG, 8);
    (void)guard;
}

static void realloc_after_free(wee_heap *h) {
    char *keep = wee_heap_alloc(h, BIG, 8), *p = wee_heap_alloc(h, BIG, 8);
    char *guard = wee_heap_alloc(h, BIG, 8);
    wee_heap_dealloc(h, p, BIG, 8);
    report(p);
    (void)wee_heap_realloc(h, p, BIG, 8, 2 * BIG);
    (void)keep;
    (void)guard;
}

static void free_of_a_stack_pointer(wee_heap *h) {
    char here[64];
    (void)wee_heap_alloc(h, 40, 8);
    report(here + 16);
    wee_heap_dealloc(h, here + 16, 40, 8);
}

static void free_of_a_pointer_inside_a_block(wee_heap *h) {
    char *p = wee_heap_alloc(h, BIG, 8);
    fill(p, BIG, 1);
    report(p + 64);
    wee_heap_dealloc(h, p + 64, 1000, 8);
}

static void free_of_a_pointer_inside_a_slot(wee_heap *h) {
    char *p = wee_heap_alloc(h, 64, 8);
    report(p + 16);
    wee_heap_dealloc(h, p + 16, 64, 8);
}

static void free_with_another_slot_size(wee_heap *h) {
    char *p = wee_heap_alloc(h, 40, 8);
    report(p);
    wee_heap_dealloc(h, p, 200, 8);
}

static void free_of_a_cell_as_a_slot(wee_heap *h) {
    char *p = wee_heap_alloc(h, BIG, 8);
    fill(p, BIG, 2);
    report(p);
    wee_heap_dealloc(h, p, 100, 8);
}

static void free_of_a_cell_with_a_larger_size(wee_heap *h) {
    char *p = wee_heap_alloc(h, BIG, 8);
    report(p);
    wee_heap_dealloc(h, p, 4 * BIG, 8);
}

static void free_of_a_cell_with_a_smaller_size(wee_heap *h) {
    char *p = wee_heap_alloc(h, BIG, 8);
    report(p);
    wee_heap_dealloc(h, p, 1000, 8);
}

static void free_of_a_slot_as_a_cell(wee_heap *h) {
    char *p = wee_heap_alloc(h, 200, 8);
    report(p);
    wee_heap_dealloc(h, p, 1000, 8);
}

/* The overflowing block is freed: its follower no longer points back. */
static void overflow_into_the_next_header(wee_heap *h) {
    char *a = wee_heap_alloc(h, BIG, 8), *b = wee_heap_alloc(h, BIG, 8);
    char *guard = wee_heap_alloc(h, BIG, 8);
    size_t usable = wee_heap_usable_size(h, a, BIG, 8);
    memset(a + usable, 'A', 16); /* b's header */
    report(a);
    wee_heap_dealloc(h, a, BIG, 8);
    (void)b;
    (void)guard;
}

/* The block whose header was overwritten is freed. */
static void overflow_then_free_of_the_victim(wee_heap *h) {
    char *a = wee_heap_alloc(h, BIG, 8), *b = wee_heap_alloc(h, BIG, 8);
    char *guard = wee_heap_alloc(h, BIG, 8);
    size_t usable = wee_heap_usable_size(h, a, BIG, 8);
    memset(a + usable, 'A', 16);
    report(b);
    wee_heap_dealloc(h, b, BIG, 8);
    (void)guard;
}

/* A use after free writes a pointer over a free slot's link. */
static void slot_link_overwritten(wee_heap *h) {
    char *p = wee_heap_alloc(h, 40, 8), *q = wee_heap_alloc(h, 40, 8), here[32];
    wee_heap_dealloc(h, p, 40, 8);
    wee_heap_dealloc(h, q, 40, 8);
    *(void **)q = here;
    report(q);
    (void)wee_heap_alloc(h, 40, 8); /* q, whose link comes out outside its run */
}

/* ... and over a free cell's list links. */
static void cell_links_overwritten(wee_heap *h) {
    char *a = wee_heap_alloc(h, BIG, 8), *b = wee_heap_alloc(h, BIG, 8);
    char *guard = wee_heap_alloc(h, BIG, 8);
    static cell *fake;
    wee_heap_dealloc(h, b, BIG, 8);
    ((void **)b)[0] = NULL;
    ((void **)b)[1] = &fake;
    report(b);
    (void)wee_heap_alloc(h, BIG, 8); /* takes b off its list */
    (void)a;
    (void)guard;
}

/* --- The tests ---------------------------------------------------------- */

typedef struct misuse_case {
    const char *name;
    void (*bad)(wee_heap *);
    const char *kind;
    int needs;
} misuse_case;

#define DOUBLE_FREE "double free"
#define INVALID     "invalid pointer (not a block of this heap)"
#define WRONG_SIZE  "free with the wrong size"
#define OVERFLOW    "block header overwritten (buffer overflow?)"
#define CORRUPTED   "free list corrupted (write after free?)"

static const misuse_case cases[] = {
    {"double free of a slot", double_free_of_a_slot, DOUBLE_FREE, CHEAP | RUNS},
    {"double free of a slot deeper in its list", double_free_of_a_slot_deeper, DOUBLE_FREE,
     EXTRA | RUNS},
    {"double free of a cell", double_free_of_a_cell, DOUBLE_FREE, CHEAP},
    {"double free of a merged cell", double_free_of_a_merged_cell, DOUBLE_FREE, CHEAP},
    {"realloc after free", realloc_after_free, DOUBLE_FREE, CHEAP},
    {"free of a stack pointer", free_of_a_stack_pointer, INVALID, CHEAP},
    {"free of a pointer inside a block", free_of_a_pointer_inside_a_block, INVALID, EXTRA},
    {"free of a pointer inside a slot", free_of_a_pointer_inside_a_slot, INVALID, EXTRA | RUNS},
    {"free with another slot size", free_with_another_slot_size, WRONG_SIZE, CHEAP | RUNS},
    {"free of a cell as a slot", free_of_a_cell_as_a_slot, WRONG_SIZE, EXTRA | RUNS},
    {"free of a cell with a larger size", free_of_a_cell_with_a_larger_size, WRONG_SIZE, EXTRA},
    {"free of a cell with a smaller size", free_of_a_cell_with_a_smaller_size, WRONG_SIZE,
     EXTRA | RUNS},
    {"free of a slot as a cell", free_of_a_slot_as_a_cell, WRONG_SIZE, EXTRA | RUNS},
    {"overflow into the next header", overflow_into_the_next_header, OVERFLOW, CHEAP},
    {"overflow, then free of the victim", overflow_then_free_of_the_victim, OVERFLOW, EXTRA},
    {"a free slot's link overwritten", slot_link_overwritten, CORRUPTED, LINKS | RUNS},
    {"a free cell's links overwritten", cell_links_overwritten, CORRUPTED, LINKS},
};
#define CASES (sizeof cases / sizeof *cases)

static void misuse_is_caught(void **state) {
    const misuse_case *c = *state;
    assert_caught(c->bad, c->kind);
}

/* Without the misuse, the same calls succeed: a child that dies has died
 * of the check. */
static void well_formed_calls_succeed(void **state) {
    (void)state;
    FRESH_HEAP(h);
    char *a = wee_heap_alloc(&h, BIG, 8), *b = wee_heap_alloc(&h, BIG, 8);
    char *s = wee_heap_alloc(&h, 40, 8), *t = wee_heap_alloc(&h, 200, 8);
    size_t usable = wee_heap_usable_size(&h, a, BIG, 8);
    memset(a, 'A', usable); /* up to the header, not into it */
    wee_heap_dealloc(&h, s, 40, 8);
    wee_heap_dealloc(&h, t, 200, 8);
    wee_heap_dealloc(&h, a, BIG, 8);
    b = wee_heap_realloc(&h, b, BIG, 8, 2 * BIG);
    wee_heap_dealloc(&h, b, 2 * BIG, 8);
    assert_int_equal(test_stats(&h).live_bytes, 0);
    assert_heap_ok(&h);
}

int main(void) {
    struct CMUnitTest tests[CASES + 1];
    size_t n = 0;
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(well_formed_calls_succeed);
    for (size_t i = 0; i < CASES; i++)
        if (can_catch(cases[i].needs))
            tests[n++] =
                (struct CMUnitTest){cases[i].name, misuse_is_caught, NULL, NULL, (void *)&cases[i]};
    if (n == 1) {
        printf("skipped: this build checks no freed block (WEE_HARDEN and extra assertions off)\n");
        return 77;
    }
    return _cmocka_run_group_tests("misuse", tests, n, NULL, NULL);
}
