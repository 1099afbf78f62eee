/*
 * sqlite_bench: a deterministic SQL workload on an in-memory SQLite
 * database, as a benchmark of the allocator SQLite runs on.
 *
 * Usage: sqlite_bench [--rounds N] [--scale N] [--lookaside on|off] [--expect HEX]
 *
 * Built with SQLite's amalgamation (sqlite3.c, which bench/sqlite/run
 * downloads: it is not part of this project) and, when SQLite is compiled
 * with SQLITE_OS_OTHER=1 as it is for wasm32-wasi, with the small VFS below:
 * no files, deterministic randomness, the real-time clock, and a sleep that
 * does not sleep. SQLite must be compiled with SQLITE_TEMP_STORE=3, so that
 * temporary tables, sorts, statement journals and VACUUM never need a file.
 *
 * Each round r (0 .. N-1) works on tables of its own, users_r, posts_r and
 * tags_r, in one database opened as ":memory:":
 *
 *   1. creates the three tables and inserts 1200 * scale users and
 *      4000 * scale posts with prepared statements in two transactions:
 *      text and blobs of sizes from a few bytes to 30 KB (a tenth of them
 *      larger than a page, so they go to overflow pages); the posts' tags
 *      go in through multi-row INSERTs built with sqlite3_str and run with
 *      sqlite3_exec;
 *   2. creates four indexes;
 *   3. runs nine queries: joins, GROUP BY, ORDER BY over whole tables,
 *      group_concat, JSON aggregation, a window function, a recursive CTE,
 *      a UNION, a correlated subquery; and 1000 * scale times three point
 *      lookups with prepared statements;
 *   4. updates rows: grows a third of the bodies (SQL printf), shrinks a
 *      fifth and drops their blobs, rewrites 600 * scale bios of new sizes
 *      (prepared), edits indexed titles;
 *   5. deletes a quarter of the posts, the tags of deleted posts and the
 *      users left without posts, then runs the queries of step 3 again;
 *   6. checks the row counts and the total lengths of bodies, blobs and
 *      bios against what the driver computed on its own, and runs
 *      PRAGMA quick_check;
 *   7. opens a second in-memory connection, fills a small table with SQL
 *      built by sqlite3_mprintf (%Q), reads it back with sqlite3_exec and
 *      closes it;
 *   8. drops round r-1's tables (so two rounds' tables live side by side
 *      for a while) and runs VACUUM.
 *
 * The last round's tables are dropped at the end, the connection closed and
 * SQLite shut down; SQLite must then hold no memory (sqlite3_memory_used).
 * Every value every query returns goes into a 64-bit FNV-1a checksum,
 * which depends on the workload only, never on the allocator.
 *
 * --lookaside off turns SQLite's lookaside allocator off: sqlite3_config
 * (SQLITE_CONFIG_LOOKASIDE, 0, 0) before sqlite3_initialize, and
 * sqlite3_db_config(SQLITE_DBCONFIG_LOOKASIDE, NULL, 0, 0) on every
 * connection; every small allocation of SQLite's then reaches malloc. With
 * on (the default) SQLite keeps its default lookaside (1200-byte and
 * 128-byte slots in one 120 KB block per connection).
 *
 * SQLite's default memory methods (malloc, free and realloc, with an 8-byte
 * size header unless SQLite was built to use malloc_usable_size) are
 * wrapped to count calls; nothing else changes.
 *
 * Output (stdout, one line):
 *
 *   bench=sqlite lookaside=on|off rounds=... scale=... statements=...
 *   rows=... mallocs=... reallocs=... frees=... seconds=... cpu_seconds=...
 *   ms_per_round_median=... cpu_ms_per_round_median=... checksum=...
 *   mem=wasm|rss mem_base_kb=... mem_round1_kb=... mem_peak_kb=...
 *   mem_end_kb=... heap_peak_kb=... sqlite_highwater_kb=...
 *   sqlite_max_allocs=... errors=...
 *
 * statements counts the SQL statements run (each execution of a prepared
 * statement once), rows the result rows read. mallocs, reallocs and frees
 * are the calls SQLite made to its memory methods. seconds is the time from
 * sqlite3_initialize to sqlite3_shutdown, cpu_seconds the CPU time of the
 * process over the same span (CLOCK_PROCESS_CPUTIME_ID: under Node, all of
 * the process's threads), which waiting for a busy machine's cores does not
 * count; the *_per_round_median fields are the medians over the rounds of
 * the same two clocks. On wasm32-wasi, mem_* are the KiB of linear memory
 * above __heap_base: at the start, after the first round, at the end (the
 * memory never shrinks, so mem_peak_kb == mem_end_kb); heap_peak_kb =
 * mem_peak_kb - mem_base_kb. Natively they are VmRSS, and VmHWM for the
 * peak. sqlite_highwater_kb is sqlite3_memory_highwater (the most
 * bytes SQLite had allocated at once), sqlite_max_allocs the most
 * allocations it had outstanding at once. Problems go to stderr; errors
 * counts them, and the exit status is 1 if there were any (a failed SQL
 * statement, a wrong count or total, a failed quick_check, lookaside used
 * when off or unused when on, memory left after shutdown, or a checksum
 * other than --expect's), 2 on a usage error.
 *
 * Build (bench/sqlite/run does this for wasm32-wasi, with the flags of
 * SQLite it lists in SQLITE_FLAGS):
 *
 *   clang --target=wasm32-wasi -O2 -DSQLITE_OS_OTHER=1 -DSQLITE_THREADSAFE=0 \
 *     -DSQLITE_TEMP_STORE=3 -DSQLITE_OMIT_LOAD_EXTENSION -ISQLITE_DIR \
 *     bench/sqlite/sqlite_bench.c SQLITE_DIR/sqlite3.c [libwee_malloc.a] -o sqlite_bench.wasm
 *   cc -O2 (the same -D flags) -ISQLITE_DIR bench/sqlite/sqlite_bench.c \
 *     SQLITE_DIR/sqlite3.c -lm -o sqlite_bench     (natively, for checks)
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../clock_memory.h"
#include "sqlite3.h"

#define USERS_PER_SCALE   1200
#define POSTS_PER_SCALE   4000
#define LOOKUPS_PER_SCALE 1000
#define BIOS_PER_SCALE    600
#define MAX_ROUNDS        1000
#define NTAGS             40
#define TAG_BATCH         64
#define MAX_TEXT          40000
#define MAX_REPORTS       10

/* ------------------------------------------------------------------------ */
/* Errors and the checksum.                                                 */

static unsigned long errors;
static uint64_t checksum = UINT64_C(0xcbf29ce484222325);
static unsigned long statements, rows;

static void problem(const char *fmt, ...) {
    errors++;
    if (errors > MAX_REPORTS)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("sqlite_bench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void hash_bytes(const void *p, size_t n) {
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) {
        checksum ^= s[i];
        checksum *= UINT64_C(0x100000001b3);
    }
}

static void hash_u64(uint64_t v) {
    unsigned char b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    hash_bytes(b, sizeof b);
}

/* Hashes one column of the current row: its type, then its value. */
static void hash_column(sqlite3_stmt *st, int i) {
    int type = sqlite3_column_type(st, i);
    unsigned char t = (unsigned char)type;
    hash_bytes(&t, 1);
    switch (type) {
    case SQLITE_INTEGER:
        hash_u64((uint64_t)sqlite3_column_int64(st, i));
        break;
    case SQLITE_FLOAT: {
        double d = sqlite3_column_double(st, i);
        uint64_t bits;
        memcpy(&bits, &d, sizeof bits);
        hash_u64(bits);
        break;
    }
    case SQLITE_TEXT: {
        const unsigned char *s = sqlite3_column_text(st, i);
        hash_bytes(s, (size_t)sqlite3_column_bytes(st, i));
        break;
    }
    case SQLITE_BLOB: {
        const void *b = sqlite3_column_blob(st, i);
        hash_bytes(b, (size_t)sqlite3_column_bytes(st, i));
        break;
    }
    default:
        break;
    }
}

/* ------------------------------------------------------------------------ */
/* Deterministic pseudo-random numbers (splitmix64).                        */

static uint64_t rng_state = UINT64_C(0x5EED5EED12345678);

static uint64_t rng(void) {
    uint64_t z = (rng_state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* A number in [lo, hi]. */
static uint32_t between(uint32_t lo, uint32_t hi) {
    return lo + (uint32_t)(rng() % ((uint64_t)hi - lo + 1));
}

/* ------------------------------------------------------------------------ */
/* The VFS for SQLITE_OS_OTHER builds: in-memory databases only.            */

#if defined(SQLITE_OS_OTHER) && SQLITE_OS_OTHER
static uint64_t vfs_random_state = UINT64_C(0x0123456789ABCDEF);

static int vfs_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags,
                    int *out_flags) {
    (void)vfs, (void)name, (void)flags, (void)out_flags;
    file->pMethods = NULL; /* nothing to close */
    return SQLITE_CANTOPEN;
}

static int vfs_delete(sqlite3_vfs *vfs, const char *name, int sync_dir) {
    (void)vfs, (void)name, (void)sync_dir;
    return SQLITE_IOERR_DELETE;
}

static int vfs_access(sqlite3_vfs *vfs, const char *name, int flags, int *result) {
    (void)vfs, (void)name, (void)flags;
    *result = 0;
    return SQLITE_OK;
}

static int vfs_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out) {
    (void)vfs;
    sqlite3_snprintf(n, out, "%s", name);
    return SQLITE_OK;
}

static int vfs_randomness(sqlite3_vfs *vfs, int n, char *out) {
    (void)vfs;
    for (int i = 0; i < n; i++) {
        vfs_random_state = vfs_random_state * UINT64_C(6364136223846793005) + 1;
        out[i] = (char)(vfs_random_state >> 56);
    }
    return n;
}

static int vfs_sleep(sqlite3_vfs *vfs, int microseconds) {
    (void)vfs;
    return microseconds; /* one connection, no locks: nothing to wait for */
}

static int vfs_current_time_int64(sqlite3_vfs *vfs, sqlite3_int64 *ms) {
    (void)vfs;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    /* Milliseconds since the Julian epoch; 1970-01-01 is day 2440587.5. */
    *ms = (sqlite3_int64)210866760000000 + (sqlite3_int64)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    return SQLITE_OK;
}

static int vfs_current_time(sqlite3_vfs *vfs, double *day) {
    sqlite3_int64 ms;
    vfs_current_time_int64(vfs, &ms);
    *day = (double)ms / 86400000.0;
    return SQLITE_OK;
}

static int vfs_get_last_error(sqlite3_vfs *vfs, int n, char *out) {
    (void)vfs;
    if (n > 0)
        out[0] = '\0';
    return 0;
}

static sqlite3_vfs memory_vfs = {
    .iVersion = 2,
    .szOsFile = sizeof(sqlite3_file),
    .mxPathname = 512,
    .zName = "bench-memory",
    .xOpen = vfs_open,
    .xDelete = vfs_delete,
    .xAccess = vfs_access,
    .xFullPathname = vfs_full_pathname,
    .xRandomness = vfs_randomness,
    .xSleep = vfs_sleep,
    .xCurrentTime = vfs_current_time,
    .xGetLastError = vfs_get_last_error,
    .xCurrentTimeInt64 = vfs_current_time_int64,
};

int sqlite3_os_init(void) { return sqlite3_vfs_register(&memory_vfs, 1); }

int sqlite3_os_end(void) { return SQLITE_OK; }
#endif

/* ------------------------------------------------------------------------ */
/* SQLite's memory methods, counted.                                        */

static sqlite3_mem_methods default_methods;
static unsigned long n_malloc, n_realloc, n_free;

static void *counted_malloc(int n) {
    n_malloc++;
    return default_methods.xMalloc(n);
}

static void counted_free(void *p) {
    n_free++;
    default_methods.xFree(p);
}

static void *counted_realloc(void *p, int n) {
    n_realloc++;
    return default_methods.xRealloc(p, n);
}

static void count_memory_calls(void) {
    static sqlite3_mem_methods counted;
    if (sqlite3_config(SQLITE_CONFIG_GETMALLOC, &default_methods) != SQLITE_OK) {
        problem("SQLITE_CONFIG_GETMALLOC failed");
        return;
    }
    counted = default_methods;
    counted.xMalloc = counted_malloc;
    counted.xFree = counted_free;
    counted.xRealloc = counted_realloc;
    if (sqlite3_config(SQLITE_CONFIG_MALLOC, &counted) != SQLITE_OK)
        problem("SQLITE_CONFIG_MALLOC failed");
}

/* ------------------------------------------------------------------------ */
/* Running SQL.                                                             */

/* Runs sql (which may hold several statements); every row is hashed. */
static int exec_row(void *unused, int n, char **values, char **names) {
    (void)unused, (void)names;
    for (int i = 0; i < n; i++) {
        unsigned char null = values[i] == NULL;
        hash_bytes(&null, 1);
        if (values[i] != NULL)
            hash_bytes(values[i], strlen(values[i]) + 1);
    }
    rows++;
    return 0;
}

static void exec(sqlite3 *db, const char *sql) {
    char *msg = NULL;
    statements++;
    if (sqlite3_exec(db, sql, exec_row, NULL, &msg) != SQLITE_OK) {
        problem("%s: %s", sql, msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
    }
}

/* exec with SQL from sqlite3_vmprintf. */
static void execf(sqlite3 *db, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *sql = sqlite3_vmprintf(fmt, ap);
    va_end(ap);
    if (sql == NULL) {
        problem("out of memory formatting %s", fmt);
        return;
    }
    exec(db, sql);
    sqlite3_free(sql);
}

static sqlite3_stmt *prepare(sqlite3 *db, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *sql = sqlite3_vmprintf(fmt, ap);
    va_end(ap);
    sqlite3_stmt *st = NULL;
    if (sql == NULL || sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        problem("cannot prepare %s: %s", sql ? sql : fmt, sqlite3_errmsg(db));
        st = NULL;
    }
    sqlite3_free(sql);
    return st;
}

/* Steps st to its end, hashing every row; resets it. Returns the rows. */
static unsigned long run(sqlite3 *db, sqlite3_stmt *st) {
    unsigned long n = 0;
    int rc;
    if (st == NULL)
        return 0;
    statements++;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int cols = sqlite3_column_count(st);
        for (int i = 0; i < cols; i++)
            hash_column(st, i);
        n++;
    }
    if (rc != SQLITE_DONE)
        problem("%s: %s", sqlite3_sql(st), sqlite3_errmsg(db));
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    rows += n;
    return n;
}

/* Runs a query of one row and returns its integer columns in out[]. */
static void query_ints(sqlite3 *db, sqlite3_int64 *out, int n, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *sql = sqlite3_vmprintf(fmt, ap);
    va_end(ap);
    sqlite3_stmt *st = NULL;
    for (int i = 0; i < n; i++)
        out[i] = -1;
    statements++;
    if (sql == NULL || sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        problem("cannot prepare %s: %s", sql ? sql : fmt, sqlite3_errmsg(db));
    } else if (sqlite3_step(st) != SQLITE_ROW) {
        problem("%s: no row: %s", sql, sqlite3_errmsg(db));
    } else {
        for (int i = 0; i < n; i++) {
            out[i] = sqlite3_column_int64(st, i);
            hash_column(st, i);
        }
        rows++;
    }
    sqlite3_finalize(st);
    sqlite3_free(sql);
}

/* ------------------------------------------------------------------------ */
/* Generated content.                                                       */

static const char *const words[] = {
    "alpha",  "bravo",  "charlie", "delta", "echo",    "foxtrot",  "golf",    "hotel",
    "india",  "juliet", "kilo",    "lima",  "mike",    "november", "oscar",   "papa",
    "quebec", "romeo",  "sierra",  "tango", "uniform", "victor",   "whiskey", "xray",
    "yankee", "zulu",   "it's",    "data",  "page",    "b-tree",   "index",   "cursor",
};
#define NWORDS (sizeof words / sizeof words[0])

static const char *const domains[] = {"example.org",  "example.com", "mail.test",
                                      "post.invalid", "db.example",  "wasm.test"};

static char text_buf[MAX_TEXT + 1];
static unsigned char blob_buf[MAX_TEXT];

/* Fills text_buf with exactly len bytes of words and returns it. */
static const char *make_text(uint32_t len) {
    uint32_t n = 0;
    while (n < len) {
        const char *w = words[rng() % NWORDS];
        while (*w && n < len)
            text_buf[n++] = *w++;
        if (n < len)
            text_buf[n++] = ' ';
    }
    text_buf[n] = '\0';
    return text_buf;
}

static const unsigned char *make_blob(uint32_t len) {
    for (uint32_t i = 0; i < len; i++)
        blob_buf[i] = (unsigned char)rng();
    return blob_buf;
}

static uint32_t bio_length(void) {
    uint32_t r = between(0, 99);
    return r < 60 ? between(0, 120) : r < 92 ? between(121, 1200) : between(1201, 9000);
}

static uint32_t body_length(void) {
    uint32_t r = between(0, 99);
    return r < 50 ? between(0, 300) : r < 90 ? between(301, 2500) : between(2501, 12000);
}

/* 0 for NULL. */
static uint32_t data_length(void) {
    uint32_t r = between(0, 99);
    return r < 45 ? 0 : r < 90 ? between(1, 600) : between(601, 30000);
}

static const char *tag_name(unsigned t) {
    static char buf[32];
    snprintf(buf, sizeof buf, "%s-%u", words[t % NWORDS], t);
    return buf;
}

/* ------------------------------------------------------------------------ */
/* What the driver expects the tables to hold.                              */

struct post {
    uint32_t user, views, body, data; /* data: 0 for NULL */
    uint64_t tags;                    /* bit t: tag t */
    bool alive;
};

struct user {
    uint32_t bio, posts;
    bool alive;
};

static struct post *posts; /* [1 .. nposts] */
static struct user *users; /* [1 .. nusers] */
static uint32_t nposts, nusers, nlookups, nbios;

/* ------------------------------------------------------------------------ */
/* The workload.                                                            */

static void insert_rows(sqlite3 *db, int r) {
    exec(db, "BEGIN");
    sqlite3_stmt *st = prepare(db, "INSERT INTO users_%d VALUES(?1, ?2, ?3, ?4, ?5, ?6)", r);
    for (uint32_t id = 1; id <= nusers && st; id++) {
        char name[64], email[96];
        snprintf(name, sizeof name, "%s %s %u", words[rng() % NWORDS], words[rng() % NWORDS],
                 id % 97);
        snprintf(email, sizeof email, "%c%s.%u@%s", (char)('a' + rng() % 26), words[rng() % NWORDS],
                 id, domains[rng() % 6]);
        struct user *u = &users[id];
        u->bio = bio_length();
        u->posts = 0;
        u->alive = true;
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, email, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 4, make_text(u->bio), (int)u->bio, SQLITE_TRANSIENT);
        sqlite3_bind_double(st, 5, (double)(rng() % 100000) / 128.0);
        sqlite3_bind_int(st, 6, (int)(rng() % 50));
        run(db, st);
    }
    sqlite3_finalize(st);
    exec(db, "COMMIT");

    exec(db, "BEGIN");
    st = prepare(db, "INSERT INTO posts_%d VALUES(?1, ?2, ?3, ?4, ?5, ?6)", r);
    sqlite3_str *tags = NULL;
    unsigned tag_rows = 0;
    for (uint32_t id = 1; id <= nposts && st; id++) {
        struct post *p = &posts[id];
        /* Half the posts belong to the first tenth of the users. */
        p->user = rng() % 2 ? between(1, nusers / 10) : between(1, nusers);
        p->views = between(0, 9999);
        p->body = body_length();
        p->data = data_length();
        p->alive = true;
        p->tags = 0;
        users[p->user].posts++;
        uint32_t title = between(8, 90);
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, p->user);
        sqlite3_bind_text(st, 3, make_text(title), (int)title, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 4, make_text(p->body), (int)p->body, SQLITE_TRANSIENT);
        if (p->data)
            sqlite3_bind_blob(st, 5, make_blob(p->data), (int)p->data, SQLITE_TRANSIENT);
        else
            sqlite3_bind_null(st, 5);
        sqlite3_bind_int64(st, 6, p->views);
        run(db, st);

        for (uint32_t k = between(0, 4); k > 0; k--) {
            unsigned t = (unsigned)(rng() % NTAGS);
            p->tags |= UINT64_C(1) << t;
            if (tags == NULL)
                tags = sqlite3_str_new(db);
            sqlite3_str_appendf(tags, "%s(%u, %Q)", tag_rows ? ", " : "", id, tag_name(t));
            tag_rows++;
        }
        if (tags != NULL && (tag_rows >= TAG_BATCH || id == nposts)) {
            char *values = sqlite3_str_finish(tags);
            execf(db, "INSERT OR IGNORE INTO tags_%d VALUES %s", r, values);
            sqlite3_free(values);
            tags = NULL;
            tag_rows = 0;
        }
    }
    sqlite3_finalize(st);
    exec(db, "COMMIT");
}

static void queries(sqlite3 *db, int r) {
    static const char *const sql[] = {
        /* Join and GROUP BY over everything. */
        "SELECT u.grp, count(*), sum(length(p.body)), avg(p.views), max(length(p.data)) "
        "FROM users_%d u JOIN posts_%d p ON p.user_id = u.id GROUP BY u.grp ORDER BY 3 DESC, 1",
        /* Long strings grown one value at a time. */
        "SELECT t.tag, count(*) AS n, group_concat(p.id, ',') FROM tags_%d t "
        "JOIN posts_%d p ON p.id = t.post_id GROUP BY t.tag ORDER BY n DESC, t.tag",
        /* A correlated subquery, LIKE, ORDER BY on a computed column. */
        "SELECT u.name, u.email, (SELECT count(*) FROM posts_%d p WHERE p.user_id = u.id) AS c "
        "FROM users_%d u WHERE u.email LIKE 'a%%' OR u.email LIKE 'q%%' ORDER BY c DESC, u.id "
        "LIMIT 200",
        /* A sort of the whole table, with expressions. */
        "SELECT id, upper(substr(body, 1, 40)), length(body), hex(substr(data, 1, 8)) "
        "FROM posts_%d ORDER BY substr(body, 3, 20), id",
        /* JSON. */
        "SELECT json_group_array(json_object('id', id, 'title', title, 'views', views, "
        "'tags', (SELECT json_group_array(tag) FROM tags_%d WHERE post_id = id))) "
        "FROM posts_%d WHERE id %% 13 = 0",
        /* A window function. */
        "SELECT user_id, id, views, rank() OVER (PARTITION BY user_id ORDER BY views DESC, id), "
        "sum(length(body)) OVER (PARTITION BY user_id) FROM posts_%d WHERE user_id %% 7 = 0 "
        "ORDER BY user_id, id",
        /* A recursive CTE joined to a table. */
        "WITH RECURSIVE c(x, s) AS (SELECT 1, '' UNION ALL SELECT x + 1, substr(s || x, -30) "
        "FROM c WHERE x < 3000) SELECT count(*), sum(length(c.s)), total(u.score) "
        "FROM c JOIN users_%d u ON u.id = c.x",
        /* UNION and DISTINCT. */
        "SELECT grp FROM users_%d UNION SELECT views %% 64 FROM posts_%d ORDER BY 1",
        /* Title index range scan with a temporary B-tree for DISTINCT. */
        "SELECT DISTINCT substr(title, 1, 12), count(*) OVER () FROM posts_%d "
        "WHERE title >= 'd' AND title < 'p' ORDER BY 1",
    };
    for (size_t i = 0; i < sizeof sql / sizeof sql[0]; i++) {
        /* Every %d in a query is the round. */
        sqlite3_stmt *st = prepare(db, sql[i], r, r, r, r);
        run(db, st);
        sqlite3_finalize(st);
    }

    sqlite3_stmt *user = prepare(db, "SELECT name, bio, score FROM users_%d WHERE id = ?1", r);
    sqlite3_stmt *count =
        prepare(db, "SELECT count(*), sum(views), max(title) FROM posts_%d WHERE user_id = ?1", r);
    sqlite3_stmt *email = prepare(db, "SELECT id FROM users_%d WHERE email = ?1", r);
    for (uint32_t i = 0; i < nlookups && user && count && email; i++) {
        sqlite3_int64 id = between(1, nusers);
        sqlite3_bind_int64(user, 1, id);
        run(db, user);
        sqlite3_bind_int64(count, 1, id);
        run(db, count);
        char *e = sqlite3_mprintf("%c%s.%u@%s", 'a' + (int)(rng() % 26), words[rng() % NWORDS],
                                  (unsigned)id, domains[rng() % 6]);
        sqlite3_bind_text(email, 1, e, -1, sqlite3_free);
        run(db, email);
    }
    sqlite3_finalize(user);
    sqlite3_finalize(count);
    sqlite3_finalize(email);
}

static void update_rows(sqlite3 *db, int r) {
    /* Grow a third of the bodies by 1 to 700 bytes. */
    execf(db,
          "UPDATE posts_%d SET body = body || printf('%%.*c', 1 + id %% 700, 'x') "
          "WHERE id %% 3 = 0",
          r);
    for (uint32_t id = 3; id <= nposts; id += 3)
        posts[id].body += 1 + id % 700;
    /* Shrink a fifth to a quarter, without their blobs. */
    execf(db,
          "UPDATE posts_%d SET body = substr(body, 1, length(body) / 4), data = NULL "
          "WHERE id %% 5 = 1",
          r);
    for (uint32_t id = 1; id <= nposts; id += 5) {
        posts[id].body /= 4;
        posts[id].data = 0;
    }
    /* New bios of new sizes, one row at a time. */
    exec(db, "BEGIN");
    sqlite3_stmt *st =
        prepare(db, "UPDATE users_%d SET bio = ?1, score = score + 1.5 WHERE id = ?2", r);
    for (uint32_t i = 0; i < nbios && st; i++) {
        uint32_t id = between(1, nusers);
        users[id].bio = bio_length();
        sqlite3_bind_text(st, 1, make_text(users[id].bio), (int)users[id].bio, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, id);
        run(db, st);
    }
    sqlite3_finalize(st);
    exec(db, "COMMIT");
    /* Indexed titles. */
    execf(db, "UPDATE posts_%d SET title = title || ' (edited)' WHERE views %% 10 = 3", r);
}

static void delete_rows(sqlite3 *db, int r) {
    execf(db, "DELETE FROM posts_%d WHERE views %% 4 = 0", r);
    execf(db, "DELETE FROM tags_%d WHERE post_id NOT IN (SELECT id FROM posts_%d)", r, r);
    execf(db, "DELETE FROM users_%d WHERE id NOT IN (SELECT user_id FROM posts_%d)", r, r);
    for (uint32_t id = 1; id <= nposts; id++) {
        if (posts[id].views % 4 == 0) {
            posts[id].alive = false;
            users[posts[id].user].posts--;
        }
    }
    for (uint32_t id = 1; id <= nusers; id++)
        users[id].alive = users[id].posts > 0;
}

static void check_tables(sqlite3 *db, int r) {
    sqlite3_int64 want[3] = {0, 0, 0}, tags = 0, got[3];
    for (uint32_t id = 1; id <= nposts; id++) {
        if (posts[id].alive) {
            want[0]++;
            want[1] += posts[id].body;
            want[2] += posts[id].data;
            tags += __builtin_popcountll(posts[id].tags);
        }
    }
    query_ints(db, got, 3,
               "SELECT count(*), coalesce(sum(length(body)), 0), "
               "coalesce(sum(length(data)), 0) FROM posts_%d",
               r);
    if (memcmp(got, want, sizeof got) != 0)
        problem("round %d: posts hold %lld rows, %lld body bytes, %lld blob bytes; "
                "expected %lld, %lld, %lld",
                r, got[0], got[1], got[2], want[0], want[1], want[2]);
    query_ints(db, got, 1, "SELECT count(*) FROM tags_%d", r);
    if (got[0] != tags)
        problem("round %d: %lld tags, expected %lld", r, got[0], tags);
    want[0] = want[1] = 0;
    for (uint32_t id = 1; id <= nusers; id++) {
        if (users[id].alive) {
            want[0]++;
            want[1] += users[id].bio;
        }
    }
    query_ints(db, got, 2, "SELECT count(*), coalesce(sum(length(bio)), 0) FROM users_%d", r);
    if (got[0] != want[0] || got[1] != want[1])
        problem("round %d: users hold %lld rows, %lld bio bytes; expected %lld, %lld", r, got[0],
                got[1], want[0], want[1]);

    sqlite3_stmt *st = prepare(db, "PRAGMA quick_check");
    statements++;
    if (st && sqlite3_step(st) == SQLITE_ROW) {
        const char *s = (const char *)sqlite3_column_text(st, 0);
        if (s == NULL || strcmp(s, "ok") != 0)
            problem("round %d: quick_check: %s", r, s ? s : "(null)");
    } else {
        problem("round %d: quick_check did not run: %s", r, sqlite3_errmsg(db));
    }
    sqlite3_finalize(st);
}

static void configure_connection(sqlite3 *db, bool lookaside) {
    if (!lookaside && sqlite3_db_config(db, SQLITE_DBCONFIG_LOOKASIDE, NULL, 0, 0) != SQLITE_OK)
        problem("SQLITE_DBCONFIG_LOOKASIDE: %s", sqlite3_errmsg(db));
}

/* A short-lived second connection, with SQL text from sqlite3_mprintf. */
static void side_connection(int r, bool lookaside) {
    sqlite3 *db = NULL;
    if (sqlite3_open(":memory:", &db) != SQLITE_OK) {
        problem("cannot open a second connection: %s", db ? sqlite3_errmsg(db) : "no memory");
        sqlite3_close(db);
        return;
    }
    configure_connection(db, lookaside);
    exec(db, "CREATE TABLE kv(k TEXT PRIMARY KEY, v TEXT, n INT)");
    exec(db, "BEGIN");
    for (int i = 0; i < 300; i++) {
        char key[48];
        snprintf(key, sizeof key, "%s's key %d/%d", words[rng() % NWORDS], r, i);
        char *sql = sqlite3_mprintf("INSERT INTO kv VALUES(%Q, %Q, %d)", key,
                                    make_text(between(0, 400)), i * r);
        exec(db, sql);
        sqlite3_free(sql);
    }
    exec(db, "COMMIT");
    exec(db, "SELECT k, length(v), n FROM kv ORDER BY v, k");
    exec(db, "SELECT count(*), sum(length(k)), group_concat(substr(k, 1, 3), '') FROM kv");
    if (sqlite3_close(db) != SQLITE_OK)
        problem("cannot close the second connection");
}

static int usage(void) {
    fprintf(stderr, "usage: sqlite_bench [--rounds N] [--scale N] [--lookaside on|off] "
                    "[--expect HEX]\n");
    return 2;
}

static int compare_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sorts v[0 .. n-1] and returns its median. */
static double median(double *v, size_t n) {
    qsort(v, n, sizeof *v, compare_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv) {
    long rounds = 8, scale = 1;
    bool lookaside = true;
    const char *expect = NULL;
    for (int i = 1; i < argc; i++) {
        if (i + 1 < argc && strcmp(argv[i], "--rounds") == 0)
            rounds = strtol(argv[++i], NULL, 10);
        else if (i + 1 < argc && strcmp(argv[i], "--scale") == 0)
            scale = strtol(argv[++i], NULL, 10);
        else if (i + 1 < argc && strcmp(argv[i], "--lookaside") == 0) {
            const char *v = argv[++i];
            if (strcmp(v, "on") != 0 && strcmp(v, "off") != 0)
                return usage();
            lookaside = strcmp(v, "on") == 0;
        } else if (i + 1 < argc && strcmp(argv[i], "--expect") == 0)
            expect = argv[++i];
        else
            return usage();
    }
    if (rounds < 1 || rounds > MAX_ROUNDS || scale < 1 || scale > 100)
        return usage();
    nusers = (uint32_t)scale * USERS_PER_SCALE;
    nposts = (uint32_t)scale * POSTS_PER_SCALE;
    nlookups = (uint32_t)scale * LOOKUPS_PER_SCALE;
    nbios = (uint32_t)scale * BIOS_PER_SCALE;
    /* The driver's own memory, taken before the base is measured. */
    posts = calloc(nposts + 1, sizeof *posts);
    users = calloc(nusers + 1, sizeof *users);
    double *round_ms = calloc((size_t)rounds * 2, sizeof *round_ms);
    double *round_cpu_ms = round_ms + rounds;
    if (posts == NULL || users == NULL || round_ms == NULL) {
        fprintf(stderr, "sqlite_bench: out of memory\n");
        return 2;
    }

    long mem_base = memory_kb(false), mem_round1 = -1;
    double start = now_seconds(), cpu_start = clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
    count_memory_calls();
    if (!lookaside && sqlite3_config(SQLITE_CONFIG_LOOKASIDE, 0, 0) != SQLITE_OK)
        problem("SQLITE_CONFIG_LOOKASIDE failed");
    if (sqlite3_initialize() != SQLITE_OK) {
        fprintf(stderr, "sqlite_bench: sqlite3_initialize failed\n");
        return 1;
    }
    sqlite3 *db = NULL;
    if (sqlite3_open(":memory:", &db) != SQLITE_OK) {
        fprintf(stderr, "sqlite_bench: cannot open :memory:\n");
        return 1;
    }
    configure_connection(db, lookaside);

    for (int r = 0; r < rounds; r++) {
        double t0 = now_seconds(), c0 = clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
        execf(db,
              "CREATE TABLE users_%d(id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT, "
              "bio TEXT, score REAL, grp INT);"
              "CREATE TABLE posts_%d(id INTEGER PRIMARY KEY, user_id INT NOT NULL, title TEXT, "
              "body TEXT, data BLOB, views INT);"
              "CREATE TABLE tags_%d(post_id INT, tag TEXT, PRIMARY KEY(post_id, tag)) "
              "WITHOUT ROWID",
              r, r, r);
        insert_rows(db, r);
        execf(db,
              "CREATE INDEX posts_user_%d ON posts_%d(user_id);"
              "CREATE INDEX users_email_%d ON users_%d(email);"
              "CREATE INDEX posts_title_%d ON posts_%d(title, views);"
              "CREATE INDEX tags_tag_%d ON tags_%d(tag)",
              r, r, r, r, r, r, r, r);
        queries(db, r);
        update_rows(db, r);
        delete_rows(db, r);
        queries(db, r);
        check_tables(db, r);
        side_connection(r, lookaside);
        if (r > 0)
            execf(db, "DROP TABLE posts_%d; DROP TABLE tags_%d; DROP TABLE users_%d", r - 1, r - 1,
                  r - 1);
        exec(db, "VACUUM");
        round_ms[r] = (now_seconds() - t0) * 1e3;
        round_cpu_ms[r] = (clock_seconds(CLOCK_PROCESS_CPUTIME_ID) - c0) * 1e3;
        if (r == 0)
            mem_round1 = memory_kb(false);
    }
    execf(db, "DROP TABLE posts_%d; DROP TABLE tags_%d; DROP TABLE users_%d", (int)rounds - 1,
          (int)rounds - 1, (int)rounds - 1);
    int lookaside_used = 0, hw = 0;
    sqlite3_db_status(db, SQLITE_DBSTATUS_LOOKASIDE_USED, &lookaside_used, &hw, 0);
    if (!lookaside && hw != 0)
        problem("lookaside is off, yet %d lookaside slots were used", hw);
    if (lookaside && hw == 0)
        problem("lookaside is on, yet no lookaside slot was used");
    if (sqlite3_close(db) != SQLITE_OK)
        problem("cannot close the database: %s", sqlite3_errmsg(db));
    sqlite3_int64 highwater = sqlite3_memory_highwater(0);
    int max_allocs = 0, cur = 0;
    sqlite3_status(SQLITE_STATUS_MALLOC_COUNT, &cur, &max_allocs, 0);
    sqlite3_shutdown();
    double seconds = now_seconds() - start;
    double cpu_seconds = clock_seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu_start;
    if (sqlite3_memory_used() != 0)
        problem("%lld bytes still allocated after sqlite3_shutdown", sqlite3_memory_used());
    long mem_end = memory_kb(false), mem_peak = memory_kb(true);

    char sum[17];
    snprintf(sum, sizeof sum, "%016llx", (unsigned long long)checksum);
    if (expect != NULL && strcmp(expect, sum) != 0)
        problem("checksum %s, expected %s", sum, expect);
    double median_ms = median(round_ms, (size_t)rounds);
    double median_cpu_ms = median(round_cpu_ms, (size_t)rounds);

    printf("bench=sqlite lookaside=%s rounds=%ld scale=%ld statements=%lu rows=%lu mallocs=%lu "
           "reallocs=%lu frees=%lu seconds=%.6f cpu_seconds=%.6f ms_per_round_median=%.3f "
           "cpu_ms_per_round_median=%.3f checksum=%s mem=%s mem_base_kb=%ld mem_round1_kb=%ld "
           "mem_peak_kb=%ld mem_end_kb=%ld heap_peak_kb=%ld sqlite_highwater_kb=%lld "
           "sqlite_max_allocs=%d errors=%lu\n",
           lookaside ? "on" : "off", rounds, scale, statements, rows, n_malloc, n_realloc, n_free,
           seconds, cpu_seconds, median_ms, median_cpu_ms, sum, MEMORY_KIND, mem_base, mem_round1,
           mem_peak, mem_end, mem_peak >= 0 && mem_base >= 0 ? mem_peak - mem_base : -1,
           (long long)(highwater / 1024), max_allocs, errors);
    fflush(stdout);
    free(round_ms);
    free(users);
    free(posts);
    return errors ? 1 : 0;
}
