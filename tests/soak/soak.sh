#!/bin/sh
# The soak test: the stress test (threads, fork rounds, every malloc
# function, mixed sizes up to --max-size) run again and again for SECONDS,
# with a new seed, thread count and size range each time, alternately linked
# statically and preloaded, with the heap's counters checked at each exit.
# Any failing run fails the soak; its command line is printed to repeat it.
# Usage: soak.sh SECONDS STRESS_STATIC STRESS_PLAIN LIBWEE_MALLOC_SO
set -u
seconds=$1 static=$2 plain=$3 lib=$4
end=$(($(date +%s) + seconds))
runs=0 seed=$(date +%s)
while [ "$(date +%s)" -lt "$end" ]; do
  seed=$((seed + 1))
  threads=$((2 + seed % 7))
  case $((seed % 3)) in
    0) max=256 ;;
    1) max=65536 ;;
    *) max=4194304 ;;
  esac
  args="--threads $threads --ops 200000 --seed $seed --max-size $max"
  # $args is split into its words on purpose
  if [ $((runs % 2)) = 0 ]; then
    cmd="$static $args"
    # shellcheck disable=SC2086
    out=$(WEE_ALLOC_STATS=1 "$static" $args 2>&1)
  else
    cmd="LD_PRELOAD=$lib $plain $args"
    # shellcheck disable=SC2086
    out=$(WEE_ALLOC_STATS=1 LD_PRELOAD="$lib" "$plain" $args 2>&1)
  fi
  status=$?
  if [ "$status" != 0 ]; then
    printf '%s\n' "$out" | tail -n 20
    echo "FAIL: run $runs exited with $status: WEE_ALLOC_STATS=1 $cmd"
    exit 1
  fi
  # the heap served the run: its counters at exit are not zero
  if ! printf '%s\n' "$out" | grep -Eq 'wee_alloc: +allocations +[1-9]'; then
    printf '%s\n' "$out" | tail -n 20
    echo "FAIL: run $runs: no allocations counted by wee_alloc: WEE_ALLOC_STATS=1 $cmd"
    exit 1
  fi
  runs=$((runs + 1))
done
echo "soak: $runs runs in $seconds s, all passed"
[ "$runs" -gt 0 ]
