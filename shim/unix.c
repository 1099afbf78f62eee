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

__attribute__((constructor)) static void shim_init(void) {
    pthread_atfork(fork_prepare, fork_release, fork_release);
    if (stats_wanted())
        stats_fd = fcntl(2, F_DUPFD_CLOEXEC, 100);
}

__attribute__((destructor)) static void shim_report(void) {
    if (stats_fd >= 0)
        wee_shim_summary(stats_fd, stats_json);
}
