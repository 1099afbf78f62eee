#!/bin/sh
# memcheck sees inside the heap: planted bugs (planted.c) are reported, a
# clean run and the stress test are not, and each run proves that our heap
# served the requests.
# Usage: run_memcheck.sh VALGRIND PLANTED STRESS WORKDIR
set -u
valgrind=$1 planted=$2 stress=$3 work=$4
mkdir -p "$work"
ours=--soname-synonyms=somalloc=nouserintercepts
leaks=definite # the leak kinds that count as errors
failed=0

# shellcheck disable=SC2317 # called through run
vg() {
  "$valgrind" --error-exitcode=99 --leak-check=full --errors-for-leak-kinds="$leaks" "$@"
}

fail() {
  echo "FAIL: $*"
  failed=1
}

# run NAME EXPECTED_STATUS COMMAND...: runs it, output to $work/NAME.log.
run() {
  name=$1 want=$2
  shift 2
  "$@" >"$work/$name.log" 2>&1
  status=$?
  if [ "$status" != "$want" ]; then
    fail "$name: exit status $status, expected $want"
    cat "$work/$name.log"
  fi
}

has() { # has NAME PATTERN: the log of NAME matches the extended regex
  grep -Eq "$2" "$work/$1.log" || { fail "$1: no \"$2\" in the report"; cat "$work/$1.log"; }
}

served() { # our heap served the planted calls
  has "$1" '^served: [1-9]'
}

for api in malloc core; do
  run "$api-uaf" 99 vg "$ours" "$planted" "$api-uaf"
  served "$api-uaf"
  has "$api-uaf" 'Invalid read of size 1'
  has "$api-uaf" 'planted_'$api'_uaf'
  has "$api-uaf" "bytes inside a block of size [0-9,]+ free'd"

  run "$api-leak" 99 vg "$ours" "$planted" "$api-leak"
  served "$api-leak"
  has "$api-leak" 'bytes in 1 blocks are definitely lost'
  has "$api-leak" 'planted_'$api'_leak'
done

# Outside a block: past its usable size, and in a cell's header.
run malloc-overread 99 vg "$ours" "$planted" malloc-overread
served malloc-overread
has malloc-overread 'Invalid read of size 1'
has malloc-overread 'planted_malloc_overread'
run core-underwrite 99 vg "$ours" "$planted" core-underwrite
served core-underwrite
has core-underwrite 'Invalid write of size 1'
has core-underwrite 'planted_core_underwrite'
has core-underwrite '1 bytes before a block of size'

run clean 0 vg "$ours" "$planted" clean
served clean
has clean 'ERROR SUMMARY: 0 errors'

# Without the option valgrind's own malloc serves the program: the counter
# check notices (so it can fail).
run intercepted 3 "$valgrind" "$planted" malloc-leak
has intercepted '^served: 0'

# The stress test, statically linked, threads and fork: nothing reported,
# and the heap's counters at exit show that it served the requests. A
# forked child leaves the other threads behind, and with them the only
# pointers to their blocks: its leaks are not counted (any other error is,
# through the child's exit status), and the parent's leak summary must be
# clean.
leaks=none
export WEE_ALLOC_STATS=1
run stress 0 vg --child-silent-after-fork=yes "$ours" "$stress" --threads 2 --ops 4000
has stress 'ERROR SUMMARY: 0 errors'
has stress 'wee_alloc: +allocations +[1-9]'
has stress '(All heap blocks were freed|definitely lost: 0 bytes)'

[ "$failed" = 0 ] && echo "memcheck: all reports as expected"
exit "$failed"
