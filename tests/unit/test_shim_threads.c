/* The malloc shim's thread caches, with the shim linked into this program in
 * place of the C library's malloc: blocks freed by another thread go back
 * to the thread that allocated them, and an exiting thread's cache goes
 * back to the heap. Exits 77 in builds without thread caches. */
#define _GNU_SOURCE
#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>

#include "test_util.h"

static wee_heap *dh(void) { return wee_default_heap(); }

enum { SIZE = 100, BLOCKS = 8 };

/* A thread that frees the blocks it is given, says so, and waits to be let
 * go before it exits, so that its cache stays open meanwhile. */
typedef struct freer {
    char **blocks;
    size_t count;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int freed, may_exit;
} freer;

static void *freer_main(void *arg) {
    freer *f = arg;
    for (size_t i = 0; i < f->count; i++)
        free(f->blocks[i]);
    pthread_mutex_lock(&f->lock);
    f->freed = 1;
    pthread_cond_broadcast(&f->changed);
    while (!f->may_exit)
        pthread_cond_wait(&f->changed, &f->lock);
    pthread_mutex_unlock(&f->lock);
    return NULL;
}

static void freer_start(freer *f, pthread_t *t, char **blocks, size_t count) {
    *f = (freer){.blocks = blocks, .count = count};
    pthread_mutex_init(&f->lock, NULL);
    pthread_cond_init(&f->changed, NULL);
    assert_int_equal(pthread_create(t, NULL, freer_main, f), 0);
    pthread_mutex_lock(&f->lock);
    while (!f->freed)
        pthread_cond_wait(&f->changed, &f->lock);
    pthread_mutex_unlock(&f->lock);
}

static void freer_end(freer *f, pthread_t t) {
    pthread_mutex_lock(&f->lock);
    f->may_exit = 1;
    pthread_cond_broadcast(&f->changed);
    pthread_mutex_unlock(&f->lock);
    assert_int_equal(pthread_join(t, NULL), 0);
    pthread_cond_destroy(&f->changed);
    pthread_mutex_destroy(&f->lock);
}

/* Blocks this thread allocated and another thread freed come back to this
 * thread: its next requests of their size get them, without the heap,
 * while the other thread is still alive (its cache would otherwise keep
 * them). */
static void frees_by_another_thread_come_back(void **state) {
    (void)state;
    char *mine[BLOCKS], *later[256];
    for (int i = 0; i < BLOCKS; i++) {
        mine[i] = malloc(SIZE);
        assert_non_null(mine[i]);
        fill(mine[i], SIZE, (unsigned)i);
    }
    freer f;
    pthread_t t;
    freer_start(&f, &t, mine, BLOCKS);
    size_t back = 0, n = 0;
    while (back < BLOCKS && n < 256) {
        later[n] = malloc(SIZE);
        assert_non_null(later[n]);
        for (int i = 0; i < BLOCKS; i++)
            back += later[n] == mine[i];
        n++;
    }
    assert_int_equal(back, BLOCKS);
    freer_end(&f, t);
    for (size_t i = 0; i < n; i++)
        free(later[i]);
    assert_heap_ok(dh());
}

/* A thread that fills its cache and exits leaves nothing behind: the heap's
 * live bytes are what they were before it ran. */
static void *churn_main(void *arg) {
    (void)arg;
    char *p[64];
    for (int round = 0; round < 4; round++) {
        for (int i = 0; i < 64; i++) {
            p[i] = malloc((size_t)(i % 16) * 24 + 8);
            if (!p[i])
                return arg;
        }
        for (int i = 0; i < 64; i++)
            free(p[i]);
    }
    return NULL;
}

static void an_exiting_thread_leaves_nothing(void **state) {
    (void)state;
    size_t before = test_stats(dh()).live_bytes;
    for (int i = 0; i < 3; i++) {
        pthread_t t;
        void *result = &t;
        assert_int_equal(pthread_create(&t, NULL, churn_main, NULL), 0);
        assert_int_equal(pthread_join(t, &result), 0);
        assert_null(result);
        assert_int_equal(test_stats(dh()).live_bytes, before);
    }
    assert_heap_ok(dh());
}

/* Blocks of a thread that has exited, freed by another, and blocks whose
 * owner's return list is full, all land somewhere the heap still counts:
 * once the threads involved are gone, the heap's live bytes are back where
 * they started. */
enum { MANY = 600 };

static size_t many_size(int i) { return (size_t)(i % 8) * 16 + 24; }

static void *give_main(void *arg) {
    char **out = arg;
    for (int i = 0; i < MANY; i++) {
        out[i] = malloc(many_size(i));
        if (!out[i])
            return arg;
        fill(out[i], many_size(i), (unsigned)i);
    }
    return NULL;
}

static void *orphans_main(void *arg) {
    (void)arg;
    static char *given[MANY], *mine[MANY];
    pthread_t t;
    void *result = &t;
    if (pthread_create(&t, NULL, give_main, given) != 0 || pthread_join(t, &result) != 0 || result)
        return arg;
    for (int i = 0; i < MANY; i++) { /* their owner is gone */
        if (!filled(given[i], many_size(i), (unsigned)i))
            return arg;
        free(given[i]);
    }
    for (int i = 0; i < MANY; i++)
        if (!(mine[i] = malloc(many_size(i))))
            return arg;
    freer f;
    freer_start(&f, &t, mine, MANY); /* more than a return list takes */
    freer_end(&f, t);
    return NULL;
}

static void *nothing_main(void *arg) { return arg; }

/* Creates a thread that does nothing, from a thread of its own. */
static void *spawn_main(void *arg) {
    pthread_t t;
    void *result = arg;
    if (pthread_create(&t, NULL, nothing_main, NULL) != 0 || pthread_join(t, &result) != 0)
        return arg;
    return result;
}

/* Runs `fn` in a thread of its own, which must return NULL; returns the
 * heap's live bytes after. */
static size_t live_after(void *(*fn)(void *)) {
    pthread_t t;
    void *result = &t;
    assert_int_equal(pthread_create(&t, NULL, fn, &result), 0);
    assert_int_equal(pthread_join(t, &result), 0);
    assert_null(result);
    return test_stats(dh()).live_bytes;
}

static void orphans_and_overflow_are_freed(void **state) {
    (void)state;
    /* the C library keeps a little memory from the first time a thread
     * creates a thread */
    size_t level = live_after(spawn_main);
    for (int round = 0; round < 3; round++)
        assert_int_equal(live_after(orphans_main), level);
    assert_heap_ok(dh());
}

/* Whether this build has thread caches: a block freed and asked for again
 * at once comes from the cache, without the heap. */
static int has_thread_caches(void) {
    void *warm = malloc(SIZE); /* opens this thread's cache */
    free(warm);
    size_t before = test_stats(dh()).allocs;
    for (int i = 0; i < 4; i++) {
        void *p = malloc(SIZE);
        free(p);
    }
    return test_stats(dh()).allocs == before;
}

RUN_IF(has_thread_caches(), "no thread caches in this build",
       cmocka_unit_test(frees_by_another_thread_come_back),
       cmocka_unit_test(an_exiting_thread_leaves_nothing),
       cmocka_unit_test(orphans_and_overflow_are_freed))
