/*
 * The shim's unix glue: fork safety and statistics at exit.
 *
 * fork(): the handlers take the default heap's lock before the fork and
 * release it on both sides, so a child never starts with a heap another
 * thread was halfway through changing. They are registered from a
 * constructor; allocations made before it (by the dynamic loader, or other
 * constructors) need nothing, since the heap is statically initialised.
 *
 * WEE_ALLOC_STATS=1 in the environment prints a summary of the heap to
 * standard error at exit (WEE_ALLOC_STATS=json: one JSON object), with
 * write(2): no stdio inside the allocator (shim/introspect.c). The
 * constructor keeps its own copy of standard error for that, since many
 * programs close theirs in an atexit handler.
 */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "shim.h"
#include "wee_alloc.h"

size_t wee_shim_page_size(void) {
    long page = sysconf(_SC_PAGESIZE);
    return page > 0 ? (size_t)page : 4096;
}

static void fork_prepare(void) { wee_heap_lock(wee_default_heap()); }

static void fork_release(void) { wee_heap_unlock(wee_default_heap()); }

static int stats_fd = -1; /* copy of standard error when stats are wanted */
static int stats_json;    /* WEE_ALLOC_STATS=json */

/* WEE_ALLOC_STATS: unset, empty or 0 for nothing, json for JSON, anything
 * else for text. getenv() reads the environment in place. */
static int stats_wanted(void) {
    const char *want = getenv("WEE_ALLOC_STATS");
    if (!want || !*want || (want[0] == '0' && !want[1]))
        return 0;
    const char *json = "json";
    int i = 0;
    while (json[i] && want[i] == json[i])
        i++;
    stats_json = !json[i] && !want[i];
    return 1;
}

/* A size from the environment: decimal digits, optionally followed by k, m
 * or g (powers of 1024). Returns 0 when `name` is unset or malformed. */
static int env_size(const char *name, size_t *out) {
    const char *s = getenv(name);
    size_t value = 0, scale = 1;
    if (!s || *s < '0' || *s > '9')
        return 0;
    for (; *s >= '0' && *s <= '9'; s++)
        if (__builtin_mul_overflow(value, 10, &value) ||
            __builtin_add_overflow(value, (size_t)(*s - '0'), &value))
            return 0;
    if (*s == 'k' || *s == 'K')
        scale = (size_t)1 << 10;
    else if (*s == 'm' || *s == 'M')
        scale = (size_t)1 << 20;
    else if (*s == 'g' || *s == 'G')
        scale = (size_t)1 << 30;
    if (*s && (s[1] || scale == 1))
        return 0;
    return !__builtin_mul_overflow(value, scale, out);
}

/* WEE_ALLOC_DECAY_MS and WEE_ALLOC_MMAP_THRESHOLD (docs/USAGE.md), read
 * without allocating. */
static void options_from_env(void) {
    size_t value;
    if (env_size("WEE_ALLOC_DECAY_MS", &value))
        wee_heap_set_option(wee_default_heap(), WEE_OPTION_DECAY_MS, value);
    if (env_size("WEE_ALLOC_MMAP_THRESHOLD", &value))
        wee_heap_set_option(wee_default_heap(), WEE_OPTION_MMAP_THRESHOLD, value);
}

__attribute__((constructor)) static void shim_init(void) {
    options_from_env();
    pthread_atfork(fork_prepare, fork_release, fork_release);
    if (stats_wanted())
        stats_fd = fcntl(2, F_DUPFD_CLOEXEC, 100);
}

__attribute__((destructor)) static void shim_report(void) {
    if (stats_fd >= 0)
        wee_shim_summary(stats_fd, stats_json);
}
