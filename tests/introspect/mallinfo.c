/*
 * glibc's introspection calls answered by the preloaded shim: run with
 * libwee_malloc.so in LD_PRELOAD. mallinfo2().uordblks and mallinfo()
 * follow a 10 MB allocation and its free; malloc_stats() writes glibc's
 * layout to standard error; malloc_info() writes its XML and rejects
 * options. Exits 0 when every check holds, 1 otherwise (each failed check
 * printed).
 */
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* mallinfo() is deprecated in glibc's header; programs still call it. */
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

static int failed;

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "mallinfo.c:%d: check failed: %s\n", __LINE__, #c);                    \
            failed = 1;                                                                            \
        }                                                                                          \
    } while (0)

enum { BIG = 10 * 1000 * 1000 };

/* What `call` writes to standard error, in buf (NUL-terminated). */
static void capture_stderr(void (*call)(void), char *buf, size_t cap) {
    FILE *tmp = tmpfile();
    CHECK(tmp != NULL);
    if (!tmp)
        return;
    int saved = dup(2);
    dup2(fileno(tmp), 2);
    call();
    dup2(saved, 2);
    close(saved);
    rewind(tmp);
    size_t n = fread(buf, 1, cap - 1, tmp);
    buf[n] = '\0';
    fclose(tmp);
}

int main(void) {
    /* the preloaded library answers, not the C library */
    CHECK(dlsym(RTLD_DEFAULT, "wee_heap_walk") != NULL);

    struct mallinfo2 before = mallinfo2();
    struct mallinfo before1 = mallinfo();
    char *p = malloc(BIG);
    CHECK(p != NULL);
    memset(p, 1, BIG);
    struct mallinfo2 during = mallinfo2();
    struct mallinfo during1 = mallinfo();
    CHECK(during.uordblks >= before.uordblks + BIG);
    CHECK(during.uordblks < before.uordblks + BIG + 4096);
    CHECK(during.arena + during.hblkhd >= during.uordblks + during.fordblks);
    /* a mapping of its own where the backend gives memory back (unix), else
     * a block of the heap */
    int mapped = during.hblks > before.hblks;
    CHECK(mapped ? during.hblks == before.hblks + 1 && during.hblkhd >= before.hblkhd + BIG
                 : during.hblkhd == 0 && during.arena >= BIG);
    CHECK(during.arena >= before.arena);
    CHECK(during.usmblks >= during.uordblks);
    CHECK((size_t)during1.uordblks >= (size_t)before1.uordblks + BIG);
    CHECK((size_t)during1.arena == during.arena);
    free(p);
    struct mallinfo2 after = mallinfo2();
    CHECK(after.uordblks == before.uordblks);
    CHECK(after.hblks == before.hblks && after.hblkhd == before.hblkhd);
    if (!mapped) { /* free in the heap now */
        CHECK(after.fordblks >= BIG);
        CHECK(after.ordblks >= 1);
    }
    /* a freed mapping whose size the threshold rose above may give its
     * pages to the heap (docs/USAGE.md): the arena grows by them, free */
    CHECK(after.arena == during.arena ||
          (mapped && after.arena >= during.arena + BIG && after.fordblks >= BIG));

    char text[4096];
    capture_stderr(malloc_stats, text, sizeof text);
    CHECK(strstr(text, "Arena 0:\nsystem bytes     = ") == text);
    CHECK(strstr(text, "in use bytes     = ") != NULL);
    CHECK(strstr(text, "Total (incl. mmap):\n") != NULL);

    char *xml = NULL;
    size_t xml_len = 0;
    FILE *f = open_memstream(&xml, &xml_len);
    CHECK(f != NULL);
    struct mallinfo2 now = mallinfo2(); /* the stream's own allocation may grow the heap */
    CHECK(malloc_info(0, f) == 0);
    fclose(f);
    CHECK(xml && strncmp(xml, "<malloc version=\"1\">\n<heap nr=\"0\">\n", 35) == 0);
    CHECK(xml && strstr(xml, "</heap>\n") && strstr(xml, "</malloc>\n"));
    char want[64];
    snprintf(want, sizeof want, "<system type=\"current\" size=\"%zu\"/>", now.arena);
    CHECK(xml && strstr(xml, want));
    free(xml);
    errno = 0;
    CHECK(malloc_info(1, stdout) == -1 && errno == EINVAL);

    if (!failed)
        printf("mallinfo2: uordblks %zu -> %zu -> %zu around malloc(%d)\n", before.uordblks,
               during.uordblks, after.uordblks, BIG);
    return failed;
}
