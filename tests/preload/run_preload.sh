#!/usr/bin/env bash
# run_preload.sh - run real programs from Debian's packages under a preloaded
# malloc replacement and check that they behave exactly as with glibc malloc.
#
# Usage: tests/preload/run_preload.sh LIB.so [WORKDIR]
#
# Each case (python3, perl, sqlite3, git, gcc, sort, awk, tar-gzip, bc,
# find-xargs) does deterministic work with one or more programs and is run:
#   1. plainly,
#   2. with LD_PRELOAD=LIB.so and LD_DEBUG=bindings, whose output goes to
#      files in WORKDIR (LD_DEBUG_OUTPUT), not to the programs' stderr.
# Both runs must agree on stdout, stderr and the exit code of every program
# started. In run 2, every process that binds `malloc' must bind it to LIB.so
# at least once (LD_DEBUG prints "binding file X [0] to LIB.so [0]: normal
# symbol `malloc' [GLIBC_2.2.5]") and never to glibc's libc.so.6: that
# proves the outputs compared came from LIB.so's malloc.
#
# With WEE_EXPECT_STATS=1 in the environment, run 2 also sets
# WEE_ALLOC_STATS=1 and its stderr must contain a line starting with
# "wee_alloc:" (such lines are removed before stderr is compared).
#
# A case whose program is missing fails. Prints "ok NAME" or "FAIL NAME" (with
# the reason and a diff) per case, then "<P> passed, <F> failed"; exits 1 when
# any case failed, 2 on a usage error.
#
# WORKDIR (default: a temporary directory, removed at exit) keeps, per case,
# the captured outputs ({plain,preload}.txt) and the LD_DEBUG files (ld/).
# Each program invocation is limited to PRELOAD_RUN_TIMEOUT seconds (120:
# every case takes a few seconds at most, even in the extra-assertions
# build on a busy machine). PRELOAD_CASES (a list of case names) runs only
# those cases.
#
# Debian packages needed by the programs:
#   python3 perl sqlite3 git gcc libc6-dev bc mawk coreutils diffutils
#   findutils tar gzip
set -euo pipefail

usage() {
    echo "usage: $0 LIB.so [WORKDIR]" >&2
    exit 2
}

[[ $# -ge 1 && $# -le 2 && -n $1 ]] || usage
LIB=$1
case $LIB in
    /*) ;;
    *) LIB=$PWD/$LIB ;;
esac
if [[ $LIB =~ [[:space:]:] ]]; then
    echo "$0: library path must not contain whitespace or ':' (LD_PRELOAD separators): $LIB" >&2
    exit 2
fi

EXPECT_STATS=${WEE_EXPECT_STATS:-0}
RUN_TIMEOUT=${PRELOAD_RUN_TIMEOUT:-120}   # seconds, per program invocation

if [[ $# -ge 2 ]]; then
    WORK=$2
    mkdir -p "$WORK"
    WORK=$(cd "$WORK" && pwd)
else
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/run_preload.XXXXXX")
    trap 'rm -rf "$WORK"' EXIT
fi

# A clean, fixed environment shared by every run of every case.
unset LD_PRELOAD LD_DEBUG LD_DEBUG_OUTPUT WEE_ALLOC_STATS
while read -r v; do unset "$v"; done < <(compgen -e | grep -E '^(GIT_|PYTHON|PERL|SQLITE)' || true)
export LC_ALL=C LANG=C TZ=UTC
export PYTHONHASHSEED=0 PYTHONDONTWRITEBYTECODE=1 PERL_HASH_SEED=0
export GIT_CONFIG_NOSYSTEM=1
umask 022

[[ -e $LIB ]] || echo "# warning: $LIB does not exist" >&2

# ---------------------------------------------------------------------------
# Harness

RUN_ENV=()          # extra environment for programs under test (per mode)
STATUS_FILE=/dev/null

# run PROG ARGS...: start a program under test in the current mode's
# environment and record its exit code.
run() {
    local rc=0
    timeout -k 5 "$RUN_TIMEOUT" env "${RUN_ENV[@]}" "$@" || rc=$?
    printf '%s: exit %d\n' "${1##*/}" "$rc" >>"$STATUS_FILE"
    return "$rc"
}

# run_mode CASE MODE: run case function in a fresh directory (same path for all
# modes) and collect its outputs into $CASEDIR/MODE.{out,err,status,rc}.
run_mode() {
    local name=$1 mode=$2 fn=case_${1//-/_} rc=0
    local rundir=$CASEDIR/run
    rm -rf "$rundir"
    mkdir -p "$rundir/tmp"
    case $mode in
        plain) RUN_ENV=() ;;
        preload)
            mkdir -p "$CASEDIR/ld"
            RUN_ENV=("LD_PRELOAD=$LIB" LD_DEBUG=bindings "LD_DEBUG_OUTPUT=$CASEDIR/ld/bind")
            [[ $EXPECT_STATS != 1 ]] || RUN_ENV+=(WEE_ALLOC_STATS=1)
            ;;
    esac
    STATUS_FILE=$CASEDIR/$mode.status
    : >"$STATUS_FILE"
    local start=$EPOCHREALTIME
    (
        cd "$rundir"
        export HOME=$rundir TMPDIR=$rundir/tmp XDG_CONFIG_HOME=$rundir/.config
        "$fn"
    ) >"$CASEDIR/$mode.out" 2>"$CASEDIR/$mode.err" </dev/null || rc=$?
    echo "$rc" >"$CASEDIR/$mode.rc"
    TIMES+=("$mode $(elapsed "$start")s")
}

# elapsed START: seconds since $EPOCHREALTIME was START, to 0.1 s.
elapsed() {
    local now=${EPOCHREALTIME/./} then=${1/./}
    local tenths=$(((now - then + 50000) / 100000))
    echo "$((tenths / 10)).$((tenths % 10))"
}

# collect CASE MODE: one file with everything that is compared.
collect() {
    local m=$CASEDIR/$2
    {
        echo "== case exit: $(cat "$m.rc")"
        echo "== program exit codes (sorted: pipeline members finish in any order)"
        sort "$m.status"
        echo "== stdout"
        cat "$m.out"
        echo "== stderr"
        grep -v '^wee_alloc:' "$m.err" || true
    } >"$m.txt"
}

PASSED=0
FAILED=0
declare -A NEEDS

# check_bindings: in the LD_DEBUG=bindings output of the preloaded run, every
# process that bound `malloc' at all must have bound it to $LIB at least once
# and never to glibc's libc.so.6. Appends reasons to the caller's `why'.
check_bindings() {
    local kind line nproc=0 notlib=() toglibc=() files=("$CASEDIR"/ld/bind.*)
    [[ -e ${files[0]} ]] || files=()
    # One pass over every process's file: per process that bound malloc,
    # its first such binding, whether one went to $LIB, and the first that
    # went to glibc.
    while read -r kind line; do
        case $kind in
            process) nproc=$((nproc + 1)) ;;
            notlib) notlib+=("$line") ;;
            glibc) toglibc+=("$line") ;;
        esac
    done < <([[ ${#files[@]} -eq 0 ]] || LIB=$LIB mawk '
        index($0, "normal symbol `malloc'\''") {
            sub(/^[ \t]*[0-9]*:[ \t]*/, "")
            f = FILENAME
            if (!(f in first)) { first[f] = $0; print "process" }
            if (index($0, " to " ENVIRON["LIB"] " [")) tolib[f] = 1
            if (!(f in glibc) && $0 ~ / to [^ ]*\/libc\.so\.6 \[/) glibc[f] = $0
        }
        END {
            for (f in first) {
                if (!(f in tolib)) print "notlib", first[f]
                if (f in glibc) print "glibc", glibc[f]
            }
        }' "${files[@]}")
    if [[ $nproc -eq 0 ]]; then
        why+=("LD_DEBUG=bindings showed no binding of malloc at all")
    fi
    if [[ ${#notlib[@]} -gt 0 ]]; then
        why+=("${#notlib[@]} of $nproc processes never bound malloc to $LIB, e.g.:" "${notlib[@]:0:3}")
    fi
    if [[ ${#toglibc[@]} -gt 0 ]]; then
        why+=("${#toglibc[@]} of $nproc processes bound malloc to glibc, e.g.:" "${toglibc[@]:0:3}")
    fi
}

run_case() {
    local name=$1 p why=()
    TIMES=()
    CASEDIR=$WORK/$name
    rm -rf "$CASEDIR"
    mkdir -p "$CASEDIR"

    for p in ${NEEDS[$name]}; do
        command -v "$p" >/dev/null 2>&1 || why+=("missing program: $p")
    done
    if [[ ${#why[@]} -eq 0 ]]; then
        run_mode "$name" plain
        run_mode "$name" preload
        collect "$name" plain
        collect "$name" preload

        if [[ $EXPECT_STATS == 1 ]] && ! grep -q '^wee_alloc:' "$CASEDIR/preload.err"; then
            why+=("no 'wee_alloc:' line on stderr with WEE_ALLOC_STATS=1")
        fi
        if ! cmp -s "$CASEDIR/plain.txt" "$CASEDIR/preload.txt"; then
            why+=("outputs differ (--- plain, +++ preload):")
            why+=("$({ diff -u "$CASEDIR/plain.txt" "$CASEDIR/preload.txt" || true; } | sed -n '3,62p')")
        fi
        check_bindings
    fi

    if [[ ${#why[@]} -eq 0 ]]; then
        echo "ok $name (${TIMES[*]})"
        PASSED=$((PASSED + 1))
    else
        echo "FAIL $name (${TIMES[*]})"
        printf '%s\n' "${why[@]}" | sed 's/^/#   /'
        FAILED=$((FAILED + 1))
    fi
}

# ---------------------------------------------------------------------------
# Cases. Each runs in an empty directory that is also $HOME; programs under
# test are started through `run'; helpers used to prepare data are not.

NEEDS[python3]="/usr/bin/python3"
case_python3() {
    cat >work.py <<'EOF'
import hashlib, json, random, re, threading, zlib
random.seed(20240601)
out = []
def emit(*a):
    s = " ".join(str(x) for x in a)
    out.append(s)
    print(s)

letters = "abcdefghijklmnopqrstuvwxyz"
words = ["".join(random.choices(letters[:16], k=random.randint(3, 12)))
         for _ in range(30000)]
index = {}
for i, w in enumerate(words):
    index.setdefault(w, []).append(i)
top = sorted(index.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:5]
emit("distinct", len(index))
for w, pos in top:
    emit("top", w, len(pos), pos[:3])

nums = [random.random() * 1e6 for _ in range(100000)]
nums.sort()
emit("floats", len(nums), repr(nums[0]), repr(nums[-1]), repr(sum(nums)))
ints = sorted((random.getrandbits(64) for _ in range(50000)), reverse=True)
emit("ints", ints[0], ints[-1], sum(ints) % 1000000007)

doc = {w: {"n": len(p), "first": p[0], "tags": sorted(set(w))} for w, p in index.items()}
s = json.dumps(doc, sort_keys=True)
back = json.loads(s)
emit("json", len(s), back == doc, hashlib.sha256(s.encode()).hexdigest())

text = " ".join(words)
pat = re.compile(r"\b([a-d]+)([e-h]{2,})(\w*)\b")
m = pat.findall(text)
emit("regex", len(m), m[:3])
sub = re.sub(r"(a+)(b+)", lambda mo: mo.group(2).upper() + str(len(mo.group(1))), text)
emit("sub", len(sub), hashlib.md5(sub.encode()).hexdigest())

comp = zlib.compress(s.encode(), 6)
emit("zlib", len(comp), zlib.crc32(comp), zlib.decompress(comp) == s.encode())

results = [None] * 4
def worker(k):
    h = hashlib.sha1()
    chunks = [("%d:%s" % (i, words[(i * 7 + k) % len(words)])).encode() for i in range(20000)]
    for c in chunks:
        h.update(c)
    results[k] = (len(b"".join(chunks)), h.hexdigest())
threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
for k, r in enumerate(results):
    emit("thread", k, *r)

big = bytearray()
for i in range(10000):
    big += ("%08x" % (i * 2654435761 % 2**32)).encode()
emit("bytes", len(big), hashlib.sha256(bytes(big)).hexdigest())
emit("digest", hashlib.sha256("\n".join(out).encode()).hexdigest())
EOF
    run /usr/bin/python3 -s work.py
}

NEEDS[perl]="perl"
case_perl() {
    cat >work.pl <<'EOF'
use strict;
use warnings;
use Digest::MD5 qw(md5_hex);

my (%h, @nums);
my $x = 12345;
for my $i (1 .. 50000) {
    $x = ($x * 1103515245 + 12345) % 2147483648;
    my $k = sprintf("k%05x", $x % 120000);
    $h{$k} .= chr(97 + ($x >> 8) % 26);
    push @nums, $x % 1000003;
}
my @keys = sort { length($h{$b}) <=> length($h{$a}) || $a cmp $b } keys %h;
print "keys ", scalar(@keys), "\n";
print "top $_ $h{$_}\n" for @keys[0 .. 4];

my @sorted = sort { $a <=> $b } @nums;
my %seen;
my @uniq = grep { !$seen{$_}++ } @sorted;
print "nums $sorted[0] $sorted[-1] ", scalar(@uniq), "\n";

my $all = join ",", map { "$_=$h{$_}" } sort keys %h;
my @m = ($all =~ /=([a-e]{3,})/g);
print "matches ", scalar(@m), " @m[0 .. 2]\n";
(my $t = $all) =~ s/([aeiou])\1+/uc($1) . length($&)/ge;
print "subst ", length($t), " ", md5_hex($t), "\n";

my %inv;
push @{ $inv{ length $h{$_} } }, $_ for keys %h;
for my $len (sort { $a <=> $b } keys %inv) {
    printf "len %d: %d\n", $len, scalar @{ $inv{$len} };
}
my @parts = split /,/, $all;
my $rev = join "|", reverse map { scalar reverse $_ } @parts[0 .. 999];
print "rev ", md5_hex($rev), "\n";
print "digest ", md5_hex($all), "\n";
EOF
    run perl work.pl
}

NEEDS[sqlite3]="sqlite3"
case_sqlite3() {
    cat >work.sql <<'EOF'
PRAGMA journal_mode=DELETE;
CREATE TABLE t(id INTEGER PRIMARY KEY, grp INTEGER, name TEXT, val REAL);
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 20000)
INSERT INTO t SELECT i, (i * 7919) % 97, printf('n%07d', (i * 104729) % 1000003),
                     ((i * 31337) % 10007) / 7.0 FROM c;
CREATE INDEX t_grp ON t(grp, val);
CREATE INDEX t_name ON t(name);
SELECT count(*), sum(grp), round(avg(val), 6), min(name), max(name) FROM t;
SELECT grp, count(*), round(sum(val), 3) FROM t GROUP BY grp ORDER BY 3 DESC, 1 LIMIT 5;
SELECT count(DISTINCT name), count(DISTINCT grp) FROM t;
SELECT a.grp, count(*) FROM t a JOIN t b ON b.grp = a.grp AND b.id = a.id + 97
 GROUP BY a.grp ORDER BY a.grp LIMIT 3;
SELECT id, name, rank() OVER (PARTITION BY grp ORDER BY val DESC, id) AS r
  FROM t WHERE grp = 5 ORDER BY r LIMIT 5;
SELECT length(group_concat(name, ',')), substr(group_concat(name, ''), 1, 40)
  FROM (SELECT name FROM t ORDER BY name);
UPDATE t SET name = name || '-x' WHERE grp < 10;
DELETE FROM t WHERE id % 3 = 0;
VACUUM;
SELECT count(*), sum(length(name)), round(total(val), 3) FROM t;
SELECT name FROM t WHERE name LIKE 'n00%-x' ORDER BY name LIMIT 3;
PRAGMA integrity_check;
EOF
    run sqlite3 -batch -bail work.db <work.sql
}

NEEDS[git]="git"
case_git() {
    export GIT_AUTHOR_NAME="Test Author" GIT_AUTHOR_EMAIL=author@example.com
    export GIT_COMMITTER_NAME="Test Committer" GIT_COMMITTER_EMAIL=committer@example.com
    local d=2021-03-04T05:06:07+0000
    export GIT_AUTHOR_DATE=$d GIT_COMMITTER_DATE=$d
    run git init -q -b main repo
    cd repo
    run git config user.name "Test User"
    run git config user.email user@example.com
    run git config gc.auto 0
    run git config pack.threads 1
    mkdir -p src doc
    mawk 'BEGIN { for (i = 1; i <= 40; i++) { f = "src/file" i ".txt"
                  for (k = i; k <= i * 40; k += 3) print k > f; close(f) }
                  for (k = 1; k <= 500; k++) print "line " k > "doc/readme.txt" }'
    local i
    run git add -A
    run git commit -q -m "initial import"
    for i in {1..10}; do
        echo "change $i" >>"src/file$i.txt"
    done
    run git mv src/file40.txt doc/moved.txt
    rm src/file39.txt
    export GIT_AUTHOR_DATE=2021-03-05T05:06:07+0000 GIT_COMMITTER_DATE=2021-03-05T05:06:07+0000
    run git commit -q -a -m "second: edit, move, delete"
    run git checkout -q -b topic
    sed -i 's/^line 1\(.\)/LINE 1\1/' doc/readme.txt
    run git commit -q -a -m "topic change"
    run git checkout -q main
    echo extra >src/extra.txt
    run git add src/extra.txt
    export GIT_AUTHOR_DATE=2021-03-06T05:06:07+0000 GIT_COMMITTER_DATE=2021-03-06T05:06:07+0000
    run git commit -q -m "third"
    run git merge -q --no-edit topic
    run git log --stat --format='%H %an %ad %s' --date=iso
    run git diff --stat HEAD~2 HEAD
    run git grep -c 'change'
    run git gc -q
    run git count-objects -v
    run git fsck --no-progress --full
    run git archive --format=tar HEAD | sha256sum
    run git rev-list --count HEAD
    run git rev-parse HEAD 'HEAD^{tree}'
}

NEEDS[gcc]="gcc"
case_gcc() {
    cat >prog.c <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct node { struct node *next; unsigned key; char name[24]; };

static int cmp(const void *a, const void *b)
{
    unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
    return (x > y) - (x < y);
}

int main(void)
{
    int unused_here;                      /* deliberate -Wall warning */
    enum { N = 2000000, M = 200000 };
    char *sieve = calloc(N + 1, 1);
    unsigned long count = 0, sum = 0;
    for (unsigned i = 2; i <= N; i++) {
        if (sieve[i]) continue;
        count++; sum += i;
        for (unsigned long j = (unsigned long)i * i; j <= N; j += i) sieve[j] = 1;
    }
    free(sieve);
    printf("hello, world\nprimes below %d: %lu, sum %lu\n", N, count, sum);

    unsigned *v = malloc(M * sizeof *v), x = 1;
    for (int i = 0; i < M; i++) { x = x * 1664525u + 1013904223u; v[i] = x; }
    qsort(v, M, sizeof *v, cmp);
    printf("sorted: min %u median %u max %u\n", v[0], v[M / 2], v[M - 1]);

    struct node *head = NULL;
    for (int i = 0; i < M; i++) {
        struct node *n = malloc(sizeof *n);
        n->key = v[i] % 1000;
        snprintf(n->name, sizeof n->name, "node-%d", i);
        n->next = head; head = n;
    }
    unsigned long h = 5381;
    size_t cap = 16, len = 0;
    char *buf = malloc(cap);
    for (struct node *n = head, *next; n; n = next) {
        next = n->next;
        h = h * 33 + n->key;
        size_t l = strlen(n->name);
        if (len + l + 1 > cap) { cap *= 2; buf = realloc(buf, cap); }
        memcpy(buf + len, n->name, l); len += l; buf[len] = 0;
        free(n);
    }
    free(v);
    printf("list hash %lu, joined length %zu, tail %s\n", h, len, buf + len - 12);
    free(buf);
    return 0;
}
EOF
    run gcc -O2 -Wall -fdiagnostics-color=never -o prog prog.c && run ./prog
}

NEEDS[sort]="sort mawk sha256sum"
case_sort() {
    mawk 'BEGIN { x = 7; for (i = 0; i < 150000; i++) {
        x = (x * 16807) % 2147483647; printf "w%05d %d %s\n", x % 50000, x % 1000, (x % 3 ? "a" : "b") } }' >in.txt
    run sort --parallel=2 -S 1M -k2,2n -k1,1 in.txt | sha256sum
    run sort -u in.txt | sha256sum
    run sort -c -k2,2n -k1,1 in.txt || true
    run sort -t' ' -k1,1 -u -o out1.txt in.txt
    run sort -rn -k2,2 -s -o out2.txt in.txt
    head -n 3 out1.txt out2.txt
}

NEEDS[awk]="mawk"
case_awk() {
    cat >work.awk <<'EOF'
BEGIN {
    x = 42
    for (i = 0; i < 150000; i++) {
        x = (x * 16807) % 2147483647
        w = sprintf("%c%c%c", 97 + x % 7, 97 + int(x / 7) % 5, 97 + int(x / 35) % 4)
        count[w]++
        line = line w " "
        if (length(line) > 400) { n = split(line, parts, " "); total += n; gsub(/a/, "A", line); joined = joined substr(line, 1, 3); line = "" }
    }
    for (w in count) nk++
    print "keys", nk, "split total", total, "joined", length(joined), substr(joined, 1, 30)
    for (w in count) print w, count[w] | "sort -k2,2nr -k1,1 | head -n 5"
}
EOF
    run mawk -f work.awk
}

NEEDS[tar-gzip]="tar gzip sha256sum"
case_tar_gzip() {
    mkdir -p tree/a/b tree/c
    mawk 'BEGIN { for (i = 1; i <= 60; i++) { f = "tree/a/f" i; g = "tree/c/small" i
                  for (k = 1; k <= i * 97; k++) print k > f
                  print "file " i > g; close(f); close(g) }
                  for (k = 1; k <= 50000; k++) print k > "tree/a/b/big" }' 
    touch -d @1600000000 tree tree/* tree/*/* tree/*/*/*
    run tar --sort=name --owner=0 --group=0 --numeric-owner -cf a.tar tree
    sha256sum a.tar
    run gzip -9n -c a.tar >a.tar.gz
    sha256sum a.tar.gz
    run gzip -t a.tar.gz
    run gzip -dc a.tar.gz | run tar --numeric-owner -tvf - | sha256sum
    mkdir out
    run gzip -dc a.tar.gz | run tar -xf - -C out
    diff -r tree out/tree && echo "roundtrip identical"
}

NEEDS[bc]="bc"
case_bc() {
    run bc -lq <<'EOF'
scale = 500
4 * a(1)
sqrt(2)
e(1)
scale = 0
define f(n) { auto r; r = 1; while (n > 1) r *= n--; return r; }
f(400)
define fib(n) { auto a, b, t; a = 0; b = 1; while (n-- > 0) { t = a + b; a = b; b = t; }; return a; }
fib(2000)
2 ^ 3000 % 1000000007
EOF
}

NEEDS[find-xargs]="find xargs md5sum sort"
case_find_xargs() {
    local i
    for i in {1..12}; do
        mkdir -p "tree/d$i/sub"
    done
    mawk 'BEGIN { for (i = 1; i <= 12; i++) for (j = 1; j <= 25; j++) {
                  f = "tree/d" i "/f" j ".txt"; g = "tree/d" i "/sub/g" j ".dat"
                  for (k = j; k <= i * j * 7; k++) print k > f
                  print i " " j > g; close(f); close(g) } }' 
    run find tree -type f -name '*.txt' -print0 | sort -z | run xargs -0 -n 7 md5sum | md5sum
    run find tree -type f -size +2k -printf '%s %p\n' | sort
    run find tree -name '*.dat' -print0 | sort -z | run xargs -0 cat | sort | md5sum
    run find tree -type d -printf '%d %p\n' | sort | tail -n 3
    find tree -exec touch -d @1600000000 {} +
    touch -d @1700000000 tree/d3/sub/g*.dat tree/d7/f1*.txt
    run find tree -type f -newer tree/d1/f1.txt -print | sort
}

# ---------------------------------------------------------------------------

CASES=(python3 perl sqlite3 git gcc sort awk tar-gzip bc find-xargs)
if [[ -n ${PRELOAD_CASES:-} ]]; then
    read -r -a CASES <<<"$PRELOAD_CASES"
    for c in "${CASES[@]}"; do
        declare -F "case_${c//-/_}" >/dev/null || {
            echo "$0: no case $c" >&2
            exit 2
        }
    done
fi
START=$SECONDS
echo "# preloading $LIB; work dir $WORK"
for c in "${CASES[@]}"; do
    run_case "$c"
done
echo "# $((SECONDS - START))s"
echo "$PASSED passed, $FAILED failed"
[[ $FAILED -eq 0 ]]
