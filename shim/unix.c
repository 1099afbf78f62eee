/*
 * The shim's unix glue: fork safety and statistics at exit.
 *
 * fork(): the handlers take the default heap's lock before the fork and
 * release it on both sides, so a child never starts with a heap another
 * thread was halfway through changing. They are registered from a
 * constructor; allocations made before it (by the dynamic loader, or other
 * constructors) need nothing, since the heap is statically initialised.
 *
 * WEE_ALLOC_STATS=1 in the environment prints one line of counters to
 * standard error at exit, with write(2): no stdio inside the allocator. The
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

static int stats_wanted(void) {
    const char *want = getenv("WEE_ALLOC_STATS");
    return want && *want && !(want[0] == '0' && !want[1]);
}

__attribute__((constructor)) static void shim_init(void) {
    pthread_atfork(fork_prepare, fork_release, fork_release);
    if (stats_wanted())
        stats_fd = fcntl(2, F_DUPFD_CLOEXEC, 100);
}

/* Appends " name=value" to buf at *len. */
static void put_field(char *buf, size_t *len, const char *name, size_t value) {
    char digits[24];
    int n = 0;
    buf[(*len)++] = ' ';
    while (*name)
        buf[(*len)++] = *name++;
    buf[(*len)++] = '=';
    do
        digits[n++] = (char)('0' + value % 10);
    while ((value /= 10) != 0);
    while (n > 0)
        buf[(*len)++] = digits[--n];
}

__attribute__((destructor)) static void shim_report(void) {
    if (stats_fd < 0)
        return;
    wee_stats s;
    wee_heap_stats(wee_default_heap(), &s);
    char buf[512] = "wee_alloc:";
    size_t len = 10;
    put_field(buf, &len, "allocs", s.allocs);
    put_field(buf, &len, "deallocs", s.deallocs);
    put_field(buf, &len, "failures", s.failures);
    put_field(buf, &len, "live_bytes", s.live_bytes);
    put_field(buf, &len, "peak_bytes", s.peak_bytes);
    put_field(buf, &len, "backend_bytes", s.backend_bytes);
    put_field(buf, &len, "regions", s.regions);
    buf[len++] = '\n';
    ssize_t n = write(stats_fd, buf, len);
    (void)n;
}
