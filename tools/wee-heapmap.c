/*
 * wee-heapmap: replays an allocation trace on a fresh heap and draws it.
 *
 * Usage: wee-heapmap [--width PX] [--title TEXT] TRACE PREFIX
 *
 * TRACE (`-` for standard input) is in wee_alloc's trace format
 * (tests/support/trace.h): `Alloc(SIZE),` and `Free(INDEX),` lines. Every
 * Alloc is replayed as wee_heap_alloc(SIZE, 16), as the malloc shim asks,
 * every Free as the matching wee_heap_dealloc(), on a heap of its own. The
 * tool writes two SVG files:
 *
 *   PREFIX-map.svg     the heap at the peak of live bytes and at the end of
 *                      the trace: the address range as rows of spans, each
 *                      block coloured by its state and size class, the
 *                      bytes between blocks (headers, ends of runs) dark;
 *                      regions follow each other, parted by a white line
 *   PREFIX-series.svg  over the trace: memory from the system, live bytes
 *                      with overhead, live bytes requested and memory given
 *                      back to the system, with the two moments of the map
 *
 * The blocks come from wee_heap_walk(), the figures from wee_heap_stats().
 * Prints one line of figures per moment to standard output. Exit status: 0,
 * 1 when a file cannot be written or the heap fails, 2 on a usage error or
 * a malformed trace.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tests/support/trace.h"
#include "wee_alloc.h"

/* --- The trace --------------------------------------------------------- */

typedef struct op {
    size_t index; /* the block, counted by Alloc lines */
    int alloc;
} op;

typedef struct trace {
    op *ops;
    size_t *size; /* per block */
    size_t count, blocks;
} trace;

static void die(int status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("wee-heapmap: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(status);
}

static void *need(void *p) {
    if (!p)
        die(1, "out of memory");
    return p;
}

static char *read_all(const char *path, size_t *len) {
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f)
        die(2, "%s: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0, got;
    char *text = need(malloc(cap));
    while ((got = fread(text + n, 1, cap - n, f)) > 0)
        if ((n += got) == cap)
            text = need(realloc(text, cap *= 2));
    if (ferror(f))
        die(2, "%s: read error", path);
    if (f != stdin)
        fclose(f);
    *len = n;
    return text;
}

static trace trace_read(const char *path) {
    size_t len;
    char *text = read_all(path, &len);
    trace t = {need(malloc((len / 8 + 1) * sizeof(op))),
               need(malloc((len / 8 + 1) * sizeof(size_t))), 0, 0};
    const char *p = text, *end = text + len, *s, *e;
    size_t line = 0;
    char *freed = need(calloc(len / 8 + 1, 1));
    while (trace_next_line(&p, end, &s, &e)) {
        line++;
        if (s == e)
            continue;
        enum trace_kind kind;
        size_t arg = 0;
        const char *bad = trace_parse_line(s, e, &kind, &arg);
        if (bad)
            die(2, "%s:%zu: malformed line", path, line);
        if (kind == TRACE_ALLOC) {
            t.size[t.blocks] = arg;
            t.ops[t.count++] = (op){t.blocks++, 1};
        } else {
            if (arg >= t.blocks || freed[arg])
                die(2, "%s:%zu: Free(%zu) of a block not allocated", path, line, arg);
            freed[arg] = 1;
            t.ops[t.count++] = (op){arg, 0};
        }
    }
    free(freed);
    free(text);
    if (t.count == 0)
        die(2, "%s: no operations", path);
    return t;
}

/* --- A heap's blocks at one moment ------------------------------------- */

typedef struct snapshot {
    wee_block_info *b;
    size_t n, cap;
    wee_stats s;
    size_t step; /* operations replayed */
} snapshot;

static int collect(const wee_block_info *b, void *ctx) {
    snapshot *snap = ctx;
    if (snap->n < snap->cap) /* the walk allocates nothing, nor may we */
        snap->b[snap->n] = *b;
    snap->n++;
    return 0;
}

static int by_addr(const void *x, const void *y) {
    uintptr_t a = (uintptr_t)((const wee_block_info *)x)->addr;
    uintptr_t b = (uintptr_t)((const wee_block_info *)y)->addr;
    return a < b ? -1 : a > b;
}

static void take(wee_heap *h, snapshot *snap, size_t step) {
    for (;;) { /* room for every block, counted first */
        snap->n = 0;
        wee_heap_walk(h, collect, snap);
        if (snap->n <= snap->cap)
            break;
        snap->cap = snap->n * 2;
        snap->b = need(realloc(snap->b, snap->cap * sizeof *snap->b));
    }
    wee_heap_stats(h, &snap->s);
    snap->step = step;
    qsort(snap->b, snap->n, sizeof *snap->b, by_addr);
}

/* --- Colours ----------------------------------------------------------- */

/* Colour classes: in use by size (16 B to 512 B: the small classes, then
 * powers of two up), free small and free large, and the bytes between
 * blocks. */
enum { USED_CLASSES = 10, FREE_SMALL = USED_CLASSES, FREE_LARGE, BETWEEN, OUTSIDE, COLOURS };

static const char *const colour[COLOURS] = {
    "#1f4e9c", /* in use, up to 32 B */
    "#2f73c9", /* up to 64 B */
    "#3fa0d8", /* up to 128 B */
    "#3fbfb0", /* up to 256 B */
    "#4cb050", /* up to 512 B */
    "#a4c639", /* up to 4 KiB */
    "#f0c419", /* up to 32 KiB */
    "#f08a24", /* up to 256 KiB */
    "#d9412b", /* up to 2 MiB */
    "#8e2a5e", /* larger */
    "#c9dcef", /* free, up to 512 B */
    "#e4e4e4", /* free, larger */
    "#4a4a4a", /* between blocks: headers, run headers and ends */
    "#ffffff", /* past the end */
};

static const char *const legend[COLOURS - 1] = {
    "in use ≤32 B",      "≤64 B",    "≤128 B", "≤256 B", "≤512 B",      "≤4 KiB",
    "≤32 KiB",           "≤256 KiB", "≤2 MiB", "larger", "free ≤512 B", "free, larger",
    "headers, run ends",
};

static int block_colour(const wee_block_info *b) {
    if (!b->in_use)
        return b->size <= 512 ? FREE_SMALL : FREE_LARGE;
    static const size_t upto[USED_CLASSES - 1] = {
        32, 64, 128, 256, 512, 4096, 32 * 1024, 256 * 1024, 2 * 1024 * 1024};
    for (int k = 0; k < USED_CLASSES - 1; k++)
        if (b->size <= upto[k])
            return k;
    return USED_CLASSES - 1;
}

/* --- SVG output -------------------------------------------------------- */

static FILE *svg_open(const char *path, int width, int height) {
    FILE *f = fopen(path, "w");
    if (!f)
        die(1, "%s: %s", path, strerror(errno));
    fprintf(f,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
            "viewBox=\"0 0 %d %d\" font-family=\"DejaVu Sans, sans-serif\" font-size=\"12\">\n"
            "<rect width=\"100%%\" height=\"100%%\" fill=\"#ffffff\"/>\n",
            width, height, width, height);
    return f;
}

static void svg_close(FILE *f, const char *path) {
    fputs("</svg>\n", f);
    if (ferror(f) || fclose(f) != 0)
        die(1, "%s: write error", path);
}

/* Bytes in binary units, one decimal. */
static const char *human(size_t v, char *buf, size_t cap) {
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double x = (double)v;
    int u = 0;
    while (x >= 1024 && u < 4) {
        x /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(buf, cap, "%zu B", v);
    else
        snprintf(buf, cap, "%.1f %s", x, units[u]);
    return buf;
}

/* Regions of a snapshot: runs of blocks whose gaps stay below this. */
#define REGION_GAP ((uintptr_t)64 * 1024)

typedef struct layout {
    int width;        /* pixels a row */
    int row_px;       /* pixel rows a heap row */
    size_t row_bytes; /* bytes a row */
    size_t rows;      /* rows for the larger snapshot */
    size_t px_bytes;  /* bytes a pixel */
} layout;

/* Rows a snapshot needs with `row_bytes` a row: each region starts a row. */
static size_t rows_needed(const snapshot *snap, size_t row_bytes) {
    size_t rows = 0;
    for (size_t i = 0; i < snap->n;) {
        uintptr_t start = (uintptr_t)snap->b[i].addr, end = start;
        for (; i < snap->n && (uintptr_t)snap->b[i].addr <= end + REGION_GAP; i++)
            end = (uintptr_t)snap->b[i].addr + snap->b[i].size;
        rows += (end - start + row_bytes - 1) / row_bytes;
    }
    return rows;
}

/* Draws one snapshot at vertical offset y0: returns its height. */
static int draw_map(FILE *f, const snapshot *snap, const layout *l, int x0, int y0,
                    unsigned char *px) {
    size_t row = 0;
    for (size_t i = 0; i < snap->n;) {
        /* one region: blocks from i while the gaps stay small */
        uintptr_t start = (uintptr_t)snap->b[i].addr, end = start;
        size_t first = i;
        for (; i < snap->n && (uintptr_t)snap->b[i].addr <= end + REGION_GAP; i++)
            end = (uintptr_t)snap->b[i].addr + snap->b[i].size;
        size_t rows = (end - start + l->row_bytes - 1) / l->row_bytes;
        size_t pixels = rows * (size_t)l->width;
        /* each pixel shows the block at its middle byte */
        size_t k = first;
        for (size_t p = 0; p < pixels; p++) {
            uintptr_t at = start + p * l->px_bytes + l->px_bytes / 2;
            while (k < i && (uintptr_t)snap->b[k].addr + snap->b[k].size <= at)
                k++;
            if (at >= end)
                px[p] = OUTSIDE;
            else if (k < i && (uintptr_t)snap->b[k].addr <= at)
                px[p] = (unsigned char)block_colour(&snap->b[k]);
            else
                px[p] = BETWEEN;
        }
        for (size_t r = 0; r < rows; r++) {
            const unsigned char *line = px + r * (size_t)l->width;
            int y = y0 + (int)(row + r) * l->row_px;
            for (int a = 0; a < l->width;) {
                int b = a + 1;
                while (b < l->width && line[b] == line[a])
                    b++;
                if (line[a] != OUTSIDE)
                    fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\"/>\n",
                            x0 + a, y, b - a, l->row_px, colour[line[a]]);
                a = b;
            }
        }
        row += rows;
        if (i < snap->n) /* the next region starts below a white line */
            fprintf(f,
                    "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"#ffffff\" "
                    "stroke-width=\"2\"/>\n",
                    x0, x0 + l->width, y0 + (int)row * l->row_px, y0 + (int)row * l->row_px);
    }
    return (int)row * l->row_px;
}

static void write_map(const char *path, const char *title, const snapshot *snap, int count,
                      const char *const *names, int width) {
    layout l = {width, 3, 4096, 0, 0};
    size_t largest = 0;
    for (int s = 0; s < count; s++) {
        size_t held = snap[s].s.backend_bytes;
        largest = held > largest ? held : largest;
    }
    /* a power of two of bytes a row, so that the map of the larger heap
     * takes about 160 rows */
    while (largest / l.row_bytes > 160)
        l.row_bytes *= 2;
    l.px_bytes = l.row_bytes / (size_t)width ? l.row_bytes / (size_t)width : 1;
    l.row_bytes = l.px_bytes * (size_t)width;
    size_t rows[2] = {0, 0};
    for (int s = 0; s < count; s++)
        rows[s] = rows_needed(&snap[s], l.row_bytes);
    int top = 46, caption = 40, gap = 24, legend_h = 70;
    int height = top + legend_h;
    for (int s = 0; s < count; s++)
        height += caption + (int)rows[s] * l.row_px + gap;
    FILE *f = svg_open(path, width + 40, height);
    char a[32], b[32], c[32];
    fprintf(f, "<text x=\"20\" y=\"24\" font-size=\"16\" font-weight=\"bold\">%s</text>\n", title);
    fprintf(f,
            "<text x=\"20\" y=\"40\" fill=\"#555555\">each row: %s of the heap's address "
            "range; each pixel: %zu B</text>\n",
            human(l.row_bytes, a, sizeof a), l.px_bytes);
    int y = top;
    size_t most = rows[0] > rows[1] ? rows[0] : rows[1];
    unsigned char *px = need(malloc((most + 1) * (size_t)width));
    for (int s = 0; s < count; s++) {
        const wee_stats *st = &snap[s].s;
        fprintf(f,
                "<text x=\"20\" y=\"%d\" font-weight=\"bold\">%s (after %zu operations)</text>\n",
                y + 18, names[s], snap[s].step);
        fprintf(f,
                "<text x=\"20\" y=\"%d\" fill=\"#333333\">from the system %s · live %s "
                "(requested %s) · %zu blocks walked</text>\n",
                y + 34, human(st->backend_bytes, a, sizeof a), human(st->live_bytes, b, sizeof b),
                human(st->requested_bytes, c, sizeof c), snap[s].n);
        y += caption;
        y += draw_map(f, &snap[s], &l, 20, y, px) + gap;
    }
    free(px);
    /* the legend */
    int x = 20;
    for (int k = 0; k < COLOURS - 1; k++) {
        int w = 8 + 7 * (int)strlen(legend[k]) + 16;
        if (x + w > width + 20) {
            x = 20;
            y += 22;
        }
        fprintf(f,
                "<rect x=\"%d\" y=\"%d\" width=\"14\" height=\"14\" fill=\"%s\" "
                "stroke=\"#999999\" stroke-width=\"0.5\"/>\n<text x=\"%d\" y=\"%d\">%s</text>\n",
                x, y, colour[k], x + 18, y + 12, legend[k]);
        x += w;
    }
    svg_close(f, path);
}

/* --- The series -------------------------------------------------------- */

enum { SERIES = 4, SERIES_POINTS = 1500 };

typedef struct sample {
    size_t step;
    size_t v[SERIES];
} sample;

static const char *const series_name[SERIES] = {"memory from the system", "live, with overhead",
                                                "live, requested", "given back to the system"};
static const char *const series_colour[SERIES] = {"#222222", "#d9412b", "#2f73c9", "#4cb050"};

static void write_series(const char *path, const char *title, const sample *pt, size_t n,
                         const snapshot *snap, int count, const char *const *names, size_t steps) {
    int width = 900, height = 420, left = 90, right = 20, top = 50, bottom = 80;
    int pw = width - left - right, ph = height - top - bottom;
    size_t ymax = 1;
    for (size_t i = 0; i < n; i++)
        for (int s = 0; s < SERIES; s++)
            ymax = pt[i].v[s] > ymax ? pt[i].v[s] : ymax;
    /* lines at a power of two of bytes, at most eight of them */
    size_t tick = 1024;
    while (ymax / tick >= 8)
        tick *= 2;
    size_t top_v = (ymax + tick - 1) / tick * tick;
    FILE *f = svg_open(path, width, height);
    char a[32];
    fprintf(f, "<text x=\"%d\" y=\"24\" font-size=\"16\" font-weight=\"bold\">%s</text>\n", left,
            title);
    for (size_t v = 0; v <= top_v; v += tick) {
        double y = top + ph - (double)v / (double)top_v * ph;
        fprintf(f,
                "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#dddddd\"/>\n"
                "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
                left, left + pw, y, y, left - 6, y + 4, human(v, a, sizeof a));
    }
    for (int k = 0; k <= 4; k++) {
        size_t step = steps * (size_t)k / 4;
        double x = left + (double)step / (double)(steps ? steps : 1) * pw;
        fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%zu</text>\n", x,
                top + ph + 18, step);
    }
    fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">operations replayed</text>\n",
            left + pw / 2, top + ph + 36);
    for (int s = 0; s < count; s++) {
        double x = left + (double)snap[s].step / (double)(steps ? steps : 1) * pw;
        fprintf(f,
                "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"#888888\" "
                "stroke-dasharray=\"4 3\"/>\n<text x=\"%.1f\" y=\"%d\" text-anchor=\"%s\" "
                "fill=\"#555555\">map: %s</text>\n",
                x, x, top, top + ph, x - 4.0, top + 14 + 16 * s, "end", names[s]);
    }
    for (int s = 0; s < SERIES; s++) {
        fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"%s\" points=\"",
                series_colour[s], s == 0 ? "2" : "1.5");
        for (size_t i = 0; i < n; i++)
            fprintf(f, "%.1f,%.1f ", left + (double)pt[i].step / (double)(steps ? steps : 1) * pw,
                    top + ph - (double)pt[i].v[s] / (double)top_v * ph);
        fputs("\"/>\n", f);
    }
    fprintf(f,
            "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" "
            "stroke=\"#888888\"/>\n",
            left, top, pw, ph);
    int x = left;
    for (int s = 0; s < SERIES; s++) {
        fprintf(f,
                "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"3\"/>"
                "<text x=\"%d\" y=\"%d\">%s</text>\n",
                x, x + 20, height - 18, height - 18, series_colour[s], x + 26, height - 14,
                series_name[s]);
        x += 36 + 7 * (int)strlen(series_name[s]);
    }
    svg_close(f, path);
}

/* --- Main -------------------------------------------------------------- */

static void usage(void) {
    fputs("Usage: wee-heapmap [--width PX] [--title TEXT] TRACE PREFIX\n"
          "Replays TRACE (`-`: standard input; Alloc(SIZE), / Free(INDEX), lines) on a fresh\n"
          "heap and writes PREFIX-map.svg (the heap at the peak of live bytes and at the\n"
          "end) and PREFIX-series.svg (memory and live bytes over the trace).\n",
          stderr);
}

int main(int argc, char **argv) {
    int width = 1024;
    const char *title = NULL;
    int i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
        if (strcmp(argv[i], "--width") == 0 && i + 1 < argc) {
            width = atoi(argv[++i]);
            if (width < 64 || width > 8192)
                die(2, "--width: 64 to 8192 pixels");
        } else if (strcmp(argv[i], "--title") == 0 && i + 1 < argc) {
            title = argv[++i];
        } else if (strcmp(argv[i], "--help") == 0) {
            usage();
            return 0;
        } else {
            usage();
            return 2;
        }
    }
    if (argc - i != 2) {
        usage();
        return 2;
    }
    const char *path = argv[i], *prefix = argv[i + 1];
    if (!title)
        title = path;
    trace t = trace_read(path);

    /* the moment of the peak: the first step with the most bytes live */
    size_t live = 0, peak = 0, peak_step = 0;
    for (size_t k = 0; k < t.count; k++) {
        const op *o = &t.ops[k];
        live += o->alloc ? t.size[o->index] : -t.size[o->index];
        if (live > peak) {
            peak = live;
            peak_step = k + 1;
        }
    }

    static wee_heap heap = WEE_HEAP_INIT;
    void **block = need(calloc(t.blocks ? t.blocks : 1, sizeof *block));
    size_t every = t.count / SERIES_POINTS + 1, n = 0;
    sample *pt = need(malloc((t.count / every + 2) * sizeof *pt));
    snapshot snap[2] = {{0}, {0}};
    for (size_t k = 0; k <= t.count; k++) {
        if (k == peak_step)
            take(&heap, &snap[0], k);
        if (k % every == 0 || k == t.count) {
            wee_stats s;
            wee_heap_stats(&heap, &s);
            pt[n++] =
                (sample){k, {s.backend_bytes, s.live_bytes, s.requested_bytes, s.released_bytes}};
        }
        if (k == t.count)
            break;
        const op *o = &t.ops[k];
        if (o->alloc) {
            block[o->index] = wee_heap_alloc(&heap, t.size[o->index], 16);
            if (!block[o->index])
                die(1, "allocation %zu of %zu bytes failed", o->index, t.size[o->index]);
        } else {
            wee_heap_dealloc(&heap, block[o->index], t.size[o->index], 16);
            block[o->index] = NULL;
        }
    }
    take(&heap, &snap[1], t.count);
    if (wee_heap_check(&heap) != 0)
        die(1, "the heap is broken after the replay");

    static const char *const names[2] = {"at the peak of live bytes", "at the end"};
    size_t len = strlen(prefix) + 16;
    char *map_path = need(malloc(len)), *series_path = need(malloc(len));
    snprintf(map_path, len, "%s-map.svg", prefix);
    snprintf(series_path, len, "%s-series.svg", prefix);
    write_map(map_path, title, snap, 2, names, width);
    write_series(series_path, title, pt, n, snap, 2, names, t.count);
    for (int s = 0; s < 2; s++)
        printf("%s: step=%zu system_bytes=%zu live_bytes=%zu requested_bytes=%zu blocks=%zu\n",
               s ? "end" : "peak", snap[s].step, snap[s].s.backend_bytes, snap[s].s.live_bytes,
               snap[s].s.requested_bytes, snap[s].n);
    printf("wrote %s and %s\n", map_path, series_path);
    free(map_path);
    free(series_path);
    free(pt);
    free(block);
    free(snap[0].b);
    free(snap[1].b);
    free(t.ops);
    free(t.size);
    return 0;
}
