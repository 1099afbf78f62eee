#!/usr/bin/env bash
# The exit summary of real programs under LD_PRELOAD: WEE_ALLOC_STATS=1
# prints the text summary, WEE_ALLOC_STATS=json one JSON object that
# python3's json.tool reads, and without the variable (or with 0 or empty)
# nothing at all is printed.
# Usage: summary.sh LIBWEE_MALLOC_SO WORKDIR
set -u
lib=$1 work=$2
mkdir -p "$work" || exit 1
fail=0
bad() {
    echo "FAIL: $*"
    fail=1
}
input=$work/input.txt
seq 1 20000 | sort -R >"$input"

# sort: text summary
LD_PRELOAD=$lib WEE_ALLOC_STATS=1 sort -n "$input" >"$work/out" 2>"$work/err" || bad "sort exits $?"
cmp -s "$work/out" <(seq 1 20000) || bad "sort printed the wrong output"
grep -q '^wee_alloc: heap summary of process [0-9]*$' "$work/err" || bad "no summary heading"
for label in 'memory from the system' 'live, requested' 'peak live, with overhead' \
    'free in small runs' 'free in large blocks' 'largest free block' 'fragmentation' \
    'given back to the system' 'reallocs in place' 'reallocs moved' 'thread-cache hits' 'failures'; do
    grep -q "^wee_alloc:   $label  *[0-9]" "$work/err" || bad "no '$label' line"
done
grep -Eq '^wee_alloc:   memory from the system +[0-9]+\.[0-9] (KiB|MiB)$' "$work/err" ||
    bad "memory from the system not in binary units"
allocs=$(sed -n 's/^wee_alloc:   allocations  *\([0-9]*\)$/\1/p' "$work/err")
[ "${allocs:-0}" -gt 10 ] || bad "sort: allocations ${allocs:-missing}"
[ "$(grep -c . "$work/err")" -le 24 ] || bad "the summary is longer than a screen"
cat "$work/err"

# sort: JSON
LD_PRELOAD=$lib WEE_ALLOC_STATS=json sort -n "$input" >"$work/out" 2>"$work/err" || bad "sort exits $?"
[ "$(wc -l <"$work/err")" -eq 1 ] || bad "JSON: not one line: $(cat "$work/err")"
python3 -m json.tool "$work/err" >"$work/pretty" || bad "JSON does not parse: $(cat "$work/err")"
python3 - "$work/err" <<'PY' || bad "JSON fields"
import json, sys
s = json.load(open(sys.argv[1]))
need = ["pid", "system_bytes", "system_peak_bytes", "released_bytes", "live_requested_bytes",
        "live_bytes", "peak_requested_bytes", "peak_bytes", "free_small_bytes",
        "free_large_bytes", "largest_free_bytes", "fragmentation_percent", "allocs", "frees",
        "reallocs_in_place", "reallocs_moved", "thread_cache_hits", "failures"]
missing = [k for k in need if k not in s]
assert not missing, missing
assert s["allocs"] > 10 and s["system_bytes"] > 0 and s["peak_bytes"] >= s["live_bytes"]
assert 0 <= s["fragmentation_percent"] <= 100
PY

# nothing without the variable, with 0, or empty
for value in unset 0 ''; do
    if [ "$value" = unset ]; then
        env -u WEE_ALLOC_STATS LD_PRELOAD="$lib" sort -n "$input" >"$work/out" 2>"$work/err"
    else
        LD_PRELOAD=$lib WEE_ALLOC_STATS=$value sort -n "$input" >"$work/out" 2>"$work/err"
    fi
    [ ! -s "$work/err" ] || bad "WEE_ALLOC_STATS=$value: printed $(cat "$work/err")"
    cmp -s "$work/out" <(seq 1 20000) || bad "WEE_ALLOC_STATS=$value: wrong output"
done

[ $fail -eq 0 ] && echo "summary: ok"
exit $fail
