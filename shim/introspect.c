/*
 * What the heap looks like from outside (unix shim): the summary written at
 * exit for WEE_ALLOC_STATS, and glibc's introspection calls, mallinfo2,
 * mallinfo, malloc_stats and malloc_info, over the default heap.
 *
 * Every figure comes from the public API: wee_heap_stats() for the
 * counters, wee_heap_walk() for the free blocks (their bytes, how many, the
 * largest), and the thread caches' own counters. The summary and
 * malloc_stats write with write(2) from a buffer on the stack, so they
 * allocate nothing and work from a destructor; malloc_info writes to the
 * caller's FILE, as glibc's does, after the walk.
 *
 * Figures (docs/USAGE.md, "The summary at exit"):
 *   memory from the system  backend_bytes (regions and large blocks' mappings,
 *                           released pages included), now and at peak
 *   live / peak, requested  the sizes callers asked the heap for
 *   live / peak, with overhead  the blocks handed out: slot or cell size
 *   free in small runs      free slots (slot_free_bytes)
 *   free in large blocks    free cells' data: the walk's free bytes less
 *                           the free slots
 *   fragmentation           1 - largest free block / free in large blocks:
 *                           the share of the free cells' bytes that a
 *                           request as large as all of them could not use
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

#include "cache.h"
#include "shim.h"
#include "wee_alloc.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

/* --- Looking at the heap ------------------------------------------------ */

#define SIZE_BUCKETS (8 * sizeof(size_t))

typedef struct heap_view {
    wee_stats s;
    size_t held, held_peak;  /* from the system now, at peak */
    size_t free_bytes;       /* every free block */
    size_t free_blocks;      /* how many */
    size_t free_large_bytes; /* free cells */
    size_t largest_free;
    size_t frag_tenths; /* fragmentation in tenths of a percent */
    size_t cache_hits, cache_blocks, cache_bytes;
    /* free blocks by floor(log2(size)): bytes and how many (malloc_info) */
    size_t bucket_bytes[SIZE_BUCKETS], bucket_count[SIZE_BUCKETS];
} heap_view;

static size_t floor_log2(size_t x) {
    return x ? 8 * sizeof(size_t) - 1 - (size_t)__builtin_clzl(x) : 0;
}

/* Walk callback: runs under the heap's lock, so it only adds. */
static int view_block(const wee_block_info *b, void *ctx) {
    heap_view *v = ctx;
    if (b->in_use)
        return 0;
    v->free_bytes += b->size;
    v->free_blocks++;
    if (b->size > v->largest_free)
        v->largest_free = b->size;
    size_t k = floor_log2(b->size);
    v->bucket_bytes[k] += b->size;
    v->bucket_count[k]++;
    return 0;
}

static void view_take(heap_view *v) {
    *v = (heap_view){0};
    wee_heap_walk(wee_default_heap(), view_block, v);
    wee_heap_stats(wee_default_heap(), &v->s);
    wee_cache_counts(&v->cache_hits, &v->cache_blocks, &v->cache_bytes);
    v->held = v->s.backend_bytes;
    v->held_peak = v->s.held_peak_bytes > v->held ? v->s.held_peak_bytes : v->held;
    v->free_large_bytes =
        v->free_bytes > v->s.slot_free_bytes ? v->free_bytes - v->s.slot_free_bytes : 0;
    if (v->free_large_bytes > v->largest_free) {
        size_t apart = v->free_large_bytes - v->largest_free;
        v->frag_tenths = (size_t)((double)apart * 1000.0 / (double)v->free_large_bytes + 0.5);
    }
}

/* --- Text without stdio -------------------------------------------------- */

typedef struct out {
    char buf[3072];
    size_t len;
} out;

static void put_char(out *o, char c) {
    if (o->len < sizeof o->buf)
        o->buf[o->len++] = c;
}

static void put_str(out *o, const char *s) {
    while (*s)
        put_char(o, *s++);
}

static void put_uint(out *o, size_t v) {
    char digits[24];
    int n = 0;
    do
        digits[n++] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    while (n > 0)
        put_char(o, digits[--n]);
}

/* v / 10 with one decimal: "7.3". */
static void put_tenths(out *o, size_t v) {
    put_uint(o, v / 10);
    put_char(o, '.');
    put_char(o, (char)('0' + v % 10));
}

/* Bytes in binary units with one decimal ("13.3 MiB"); "512 B" below 1 KiB. */
static void put_bytes(out *o, size_t v) {
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    if (v < 1024) {
        put_uint(o, v);
        put_str(o, " B");
        return;
    }
    size_t u = 0, unit = 1024;
    while (u + 1 < sizeof units / sizeof units[0] && v / unit >= 1024) {
        unit *= 1024;
        u++;
    }
    size_t whole = v / unit, tenth = ((v % unit) * 10 + unit / 2) / unit;
    if (tenth == 10) {
        whole++;
        tenth = 0;
    }
    put_tenths(o, whole * 10 + tenth);
    put_char(o, ' ');
    put_str(o, units[u]);
}

static void write_all(int fd, const char *buf, size_t len) {
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        buf += n;
        len -= (size_t)n;
    }
}

/* --- The summary --------------------------------------------------------- */

enum { LABEL_WIDTH = 46 };

/* "wee_alloc:   label ....... " up to the value's column: every line
 * says whose it is, among the program's own messages. */
static void put_label(out *o, const char *label) {
    size_t start = o->len;
    put_str(o, "wee_alloc:   ");
    put_str(o, label);
    while (o->len - start < LABEL_WIDTH)
        put_char(o, ' ');
}

static void line_bytes(out *o, const char *label, size_t v) {
    put_label(o, label);
    put_bytes(o, v);
    put_char(o, '\n');
}

static void line_count(out *o, const char *label, size_t v) {
    put_label(o, label);
    put_uint(o, v);
    put_char(o, '\n');
}

static void json_field(out *o, const char *name, size_t v) {
    put_str(o, ",\"");
    put_str(o, name);
    put_str(o, "\":");
    put_uint(o, v);
}

static void summary_text(out *o, const heap_view *v) {
    put_str(o, "wee_alloc: heap summary of process ");
    put_uint(o, (size_t)getpid());
    put_char(o, '\n');
    line_bytes(o, "memory from the system", v->held);
    line_bytes(o, "memory from the system at peak", v->held_peak);
    line_bytes(o, "given back to the system", v->s.released_bytes);
    line_bytes(o, "live, requested", v->s.requested_bytes);
    line_bytes(o, "live, with overhead", v->s.live_bytes);
    line_bytes(o, "peak live, requested", v->s.requested_peak);
    line_bytes(o, "peak live, with overhead", v->s.peak_bytes);
    line_bytes(o, "free in small runs", v->s.slot_free_bytes);
    line_bytes(o, "free in large blocks", v->free_large_bytes);
    line_bytes(o, "largest free block", v->largest_free);
    put_label(o, "fragmentation");
    put_tenths(o, v->frag_tenths);
    put_str(o, " %\n");
    line_bytes(o, "in this thread's cache", v->cache_bytes);
    line_count(o, "allocations", v->s.allocs);
    line_count(o, "frees", v->s.deallocs);
    line_count(o, "reallocs in place", v->s.reallocs_in_place);
    line_count(o, "reallocs moved", v->s.reallocs_moved);
    line_count(o, "thread-cache hits", v->cache_hits);
    line_count(o, "failures", v->s.failures);
    line_count(o, "regions", v->s.regions);
}

static void summary_json(out *o, const heap_view *v) {
    put_str(o, "{\"wee_alloc\":\"" WEE_ALLOC_VERSION_STRING "\"");
    json_field(o, "pid", (size_t)getpid());
    json_field(o, "system_bytes", v->held);
    json_field(o, "system_peak_bytes", v->held_peak);
    json_field(o, "released_bytes", v->s.released_bytes);
    json_field(o, "live_requested_bytes", v->s.requested_bytes);
    json_field(o, "live_bytes", v->s.live_bytes);
    json_field(o, "peak_requested_bytes", v->s.requested_peak);
    json_field(o, "peak_bytes", v->s.peak_bytes);
    json_field(o, "free_small_bytes", v->s.slot_free_bytes);
    json_field(o, "free_large_bytes", v->free_large_bytes);
    json_field(o, "free_blocks", v->free_blocks);
    json_field(o, "largest_free_bytes", v->largest_free);
    put_str(o, ",\"fragmentation_percent\":");
    put_tenths(o, v->frag_tenths);
    json_field(o, "thread_cache_bytes", v->cache_bytes);
    json_field(o, "thread_cache_blocks", v->cache_blocks);
    json_field(o, "allocs", v->s.allocs);
    json_field(o, "frees", v->s.deallocs);
    json_field(o, "reallocs_in_place", v->s.reallocs_in_place);
    json_field(o, "reallocs_moved", v->s.reallocs_moved);
    json_field(o, "thread_cache_hits", v->cache_hits);
    json_field(o, "failures", v->s.failures);
    json_field(o, "regions", v->s.regions);
    json_field(o, "backend_bytes", v->s.backend_bytes);
    json_field(o, "mapped_blocks", v->s.mapped_blocks);
    json_field(o, "mapped_bytes", v->s.mapped_bytes);
    put_str(o, "}\n");
}

void wee_shim_summary(int fd, int json) {
    heap_view v;
    out o;
    o.len = 0;
    view_take(&v);
    if (json)
        summary_json(&o, &v);
    else
        summary_text(&o, &v);
    write_all(fd, o.buf, o.len);
}

/* --- glibc's calls --------------------------------------------------------- */

#if defined(__GLIBC__)

/* mallinfo2's fields with their glibc meanings, where this heap has them:
 * arena is the memory of the heap's regions, hblks and hblkhd the large
 * blocks that are mappings of their own and their bytes, ordblks the free
 * blocks and fordblks their bytes, fsmblks the free small slots' bytes,
 * uordblks the bytes handed out (blocks with their overhead, large ones
 * included, unlike glibc's), usmblks the peak of those. keepcost: 0. */
static struct mallinfo2 view_mallinfo2(const heap_view *v) {
    struct mallinfo2 m = {0};
    m.arena = v->held - v->s.mapped_bytes;
    m.ordblks = v->free_blocks;
    m.smblks = 0;
    m.hblks = v->s.mapped_blocks;
    m.hblkhd = v->s.mapped_bytes;
    m.usmblks = v->s.peak_bytes;
    m.fsmblks = v->s.slot_free_bytes;
    m.uordblks = v->s.live_bytes;
    m.fordblks = v->free_bytes;
    m.keepcost = 0;
    return m;
}

WEE_API struct mallinfo2 mallinfo2(void) {
    heap_view v;
    view_take(&v);
    return view_mallinfo2(&v);
}

static int clamp_int(size_t v) { return v > INT_MAX ? INT_MAX : (int)v; }

/* The same in int fields, clamped (glibc's wrap around). */
WEE_API struct mallinfo mallinfo(void) {
    heap_view v;
    view_take(&v);
    struct mallinfo2 m2 = view_mallinfo2(&v);
    struct mallinfo m;
    m.arena = clamp_int(m2.arena);
    m.ordblks = clamp_int(m2.ordblks);
    m.smblks = clamp_int(m2.smblks);
    m.hblks = clamp_int(m2.hblks);
    m.hblkhd = clamp_int(m2.hblkhd);
    m.usmblks = clamp_int(m2.usmblks);
    m.fsmblks = clamp_int(m2.fsmblks);
    m.uordblks = clamp_int(m2.uordblks);
    m.fordblks = clamp_int(m2.fordblks);
    m.keepcost = clamp_int(m2.keepcost);
    return m;
}

/* "name = value" right-aligned in ten columns, as glibc prints them. */
static void stats_line(out *o, const char *name, size_t v) {
    put_str(o, name);
    char digits[24];
    int n = 0;
    do
        digits[n++] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    for (int pad = n; pad < 10; pad++)
        put_char(o, ' ');
    while (n > 0)
        put_char(o, digits[--n]);
    put_char(o, '\n');
}

/* glibc's layout on standard error: one arena, no mapped blocks. */
WEE_API void malloc_stats(void) {
    heap_view v;
    out o;
    o.len = 0;
    view_take(&v);
    put_str(&o, "Arena 0:\n");
    stats_line(&o, "system bytes     = ", v.held);
    stats_line(&o, "in use bytes     = ", v.s.live_bytes);
    put_str(&o, "Total (incl. mmap):\n");
    stats_line(&o, "system bytes     = ", v.held);
    stats_line(&o, "in use bytes     = ", v.s.live_bytes);
    stats_line(&o, "mmap regions     = ", v.s.mapped_blocks);
    stats_line(&o, "mmap bytes       = ", v.s.mapped_bytes);
    write_all(2, o.buf, o.len);
}

/* glibc's XML: the free blocks by size (powers of two here), their totals,
 * and the memory from the system, for the one heap and for the process. */
WEE_API int malloc_info(int options, FILE *fp) {
    if (options != 0) {
        errno = EINVAL;
        return -1;
    }
    heap_view v;
    view_take(&v);
    fputs("<malloc version=\"1\">\n<heap nr=\"0\">\n<sizes>\n", fp);
    for (size_t k = 0; k < SIZE_BUCKETS; k++)
        if (v.bucket_count[k])
            fprintf(fp, "  <size from=\"%zu\" to=\"%zu\" total=\"%zu\" count=\"%zu\"/>\n",
                    (size_t)1 << k, ((size_t)2 << k) - 1, v.bucket_bytes[k], v.bucket_count[k]);
    fputs("</sizes>\n", fp);
    for (int whole = 0; whole < 2; whole++) {
        fprintf(fp, "<total type=\"fast\" count=\"0\" size=\"0\"/>\n");
        fprintf(fp, "<total type=\"rest\" count=\"%zu\" size=\"%zu\"/>\n", v.free_blocks,
                v.free_bytes);
        if (whole)
            fprintf(fp, "<total type=\"mmap\" count=\"%zu\" size=\"%zu\"/>\n", v.s.mapped_blocks,
                    v.s.mapped_bytes);
        fprintf(fp, "<system type=\"current\" size=\"%zu\"/>\n", v.held - v.s.mapped_bytes);
        fprintf(fp, "<system type=\"max\" size=\"%zu\"/>\n", v.held_peak);
        fprintf(fp, "<aspace type=\"total\" size=\"%zu\"/>\n", v.held);
        fprintf(fp, "<aspace type=\"mprotect\" size=\"%zu\"/>\n", v.held);
        if (!whole)
            fputs("</heap>\n", fp);
    }
    fputs("</malloc>\n", fp);
    return ferror(fp) ? -1 : 0;
}

#endif /* __GLIBC__ */
