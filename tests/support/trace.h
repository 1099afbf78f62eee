/*
 * The allocation trace format, read by tests/trace_replay.c and
 * bench/replay.c (tests/traces/, written by tools/valgrind2trace.py): one
 * operation a line,
 *
 *     Alloc(SIZE),    allocate SIZE bytes; the Nth Alloc line (from 0) is
 *                     block N
 *     Free(INDEX),    free block INDEX
 *
 * with blank lines, blanks around an operation and a missing final comma
 * accepted. Header-only C11. The readers check the rest (a Free of a block
 * not allocated yet or already freed, sizes they cannot replay).
 */
#ifndef WEE_TESTS_TRACE_H
#define WEE_TESTS_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum trace_kind { TRACE_NONE, TRACE_ALLOC, TRACE_FREE };

/* Takes the next line of [*p, end) and advances *p past it. [*s, *e) is the
 * line without surrounding blanks; false when nothing is left. */
static inline bool trace_next_line(const char **p, const char *end, const char **s,
                                   const char **e) {
    if (*p >= end)
        return false;
    const char *eol = memchr(*p, '\n', (size_t)(end - *p));
    if (eol == NULL)
        eol = end;
    const char *a = *p, *b = eol;
    *p = eol < end ? eol + 1 : end;
    while (a < b && (*a == ' ' || *a == '\t' || *a == '\r'))
        a++;
    while (b > a && (b[-1] == ' ' || b[-1] == '\t' || b[-1] == '\r'))
        b--;
    *s = a;
    *e = b;
    return true;
}

/*
 * Parses the operation in [s, e), a line without surrounding blanks. Sets
 * *kind (TRACE_NONE when the line is neither an Alloc nor a Free) and, for
 * a well-formed line, *arg. Returns NULL for a well-formed line, otherwise
 * what is wrong with it, as a printf format with one %s for the line.
 */
static inline const char *trace_parse_line(const char *s, const char *e, enum trace_kind *kind,
                                           size_t *arg) {
    *kind = TRACE_NONE;
    if (e - s >= 6 && memcmp(s, "Alloc(", 6) == 0) {
        *kind = TRACE_ALLOC;
        s += 6;
    } else if (e - s >= 5 && memcmp(s, "Free(", 5) == 0) {
        *kind = TRACE_FREE;
        s += 5;
    } else {
        return "expected Alloc(SIZE), or Free(INDEX), not \"%s\"";
    }
    size_t v = 0;
    if (s == e || *s < '0' || *s > '9')
        return "bad or too large number in \"%s\"";
    while (s < e && *s >= '0' && *s <= '9') {
        unsigned d = (unsigned)(*s++ - '0');
        if (v > (SIZE_MAX - d) / 10)
            return "bad or too large number in \"%s\"";
        v = v * 10 + d;
    }
    if (s == e || *s++ != ')')
        return "expected ')' after the number in \"%s\"";
    if (s < e && *s == ',')
        s++;
    if (s != e)
        return "unexpected text after the operation in \"%s\"";
    *arg = v;
    return NULL;
}

#endif /* WEE_TESTS_TRACE_H */
