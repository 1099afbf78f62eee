/*
 * trace_summary: replays a trace from standard input through malloc and
 * free, leaves the blocks the trace never frees allocated, and exits, so
 * that the exit summary (WEE_ALLOC_STATS=json) can be compared with the
 * trace's own figures (check_summary.py). Uses no memory of its own from
 * malloc: the trace is read in pieces into static storage, so every byte
 * the heap hands out after start-up is the trace's. Prints to standard
 * output, before exiting, the heap's counters as they were before the
 * replay ("baseline_requested=N baseline_allocs=N baseline_frees=N").
 *
 * Linked with the malloc shim and its exit summary; built without thread
 * caches, so that the heap sees each request with the size it was made
 * with.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../support/trace.h"
#include "wee_alloc.h"

enum { MAX_ALLOCS = 1 << 20, CHUNK = 1 << 16 };

static void *block[MAX_ALLOCS];
static char text[2 * CHUNK];

static void die(const char *msg) {
    size_t n = strlen(msg);
    if (write(2, msg, n) < 0)
        _exit(2);
    _exit(2);
}

static void put(char *buf, size_t *len, const char *name, size_t v) {
    char digits[24];
    int n = 0;
    while (*name)
        buf[(*len)++] = *name++;
    do
        digits[n++] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    while (n > 0)
        buf[(*len)++] = digits[--n];
}

int main(void) {
    wee_stats before;
    wee_heap_stats(wee_default_heap(), &before);
    size_t have = 0, allocs = 0;
    int eof = 0;
    while (!eof || have > 0) {
        if (!eof && have < CHUNK) {
            ssize_t got = read(0, text + have, sizeof text - have);
            if (got < 0)
                die("trace_summary: cannot read the trace\n");
            eof = got == 0;
            have += (size_t)got;
        }
        const char *p = text, *end = text + have, *s, *e;
        const char *eol = memchr(p, '\n', have);
        if (!eol && !eof) {
            if (have == sizeof text)
                die("trace_summary: line too long\n");
            continue;
        }
        if (!eol)
            eol = end;
        if (!trace_next_line(&p, eol < end ? eol + 1 : end, &s, &e))
            break;
        if (s != e) {
            enum trace_kind kind;
            size_t arg = 0;
            if (trace_parse_line(s, e, &kind, &arg))
                die("trace_summary: malformed line\n");
            if (kind == TRACE_ALLOC) {
                if (allocs == MAX_ALLOCS)
                    die("trace_summary: too many allocations\n");
                if (!(block[allocs++] = malloc(arg)))
                    die("trace_summary: malloc failed\n");
            } else {
                if (arg >= allocs || !block[arg])
                    die("trace_summary: bad free\n");
                free(block[arg]);
                block[arg] = NULL;
            }
        }
        size_t used = (size_t)(p - text);
        memmove(text, p, have - used);
        have -= used;
    }
    char buf[128];
    size_t len = 0;
    put(buf, &len, "baseline_requested=", before.requested_bytes);
    put(buf, &len, " baseline_allocs=", before.allocs);
    put(buf, &len, " baseline_frees=", before.deallocs);
    buf[len++] = '\n';
    if (write(1, buf, len) != (ssize_t)len)
        return 2;
    return 0;
}
