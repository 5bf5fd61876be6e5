#!/usr/bin/env bash
# run.sh — build the libFuzzer targets with clang into build-fuzz and run each
# for SECONDS (default 60) on a scratch copy of its seed corpus.
# Usage: fuzzing/run.sh [SECONDS]      (FUZZ_RUNS=N also stops a target after
# N executions; FUZZ_TARGETS="csv npy" runs only those.)  Exit status: non-zero if any target
# found a crash, leak, sanitizer error or property violation (or the build
# failed). Crash inputs land in build-fuzz/artifacts-TARGET/.
set -euo pipefail

secs=${1:-60}
case $secs in '' | *[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 2 ;; esac
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
build=$root/build-fuzz

CC=clang cmake -S "$root" -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_FLAGS=-g -DHJDL_FUZZ=ON -DHJDL_TESTS=OFF -DHJDL_OPENMP=OFF >/dev/null
targets=${FUZZ_TARGETS:-csv npy npz libsvm idx model rows args}
cmake --build "$build" -j2 --target $(for t in $targets; do printf "fuzz_%s " "$t"; done)

status=0
for t in $targets; do
    corpus=$here/corpus-$t          # scratch: ignored by git, refilled each run
    artifacts=$build/artifacts-$t
    rm -rf "$corpus"
    mkdir -p "$corpus" "$artifacts"
    cp "$here"/seeds/$t/* "$corpus"/
    echo "== fuzz_$t for ${secs}s (log: $build/fuzz_$t.log)"
    if "$build/fuzzing/fuzz_$t" "$corpus" -max_total_time="$secs" ${FUZZ_RUNS:+-runs="$FUZZ_RUNS"} -max_len=4096 -timeout=10 \
        -dict="$here/$t.dict" -artifact_prefix="$artifacts/" -print_final_stats=1 \
        >"$build/fuzz_$t.log" 2>&1; then
        grep -E '^stat::number_of_executed_units|^Done' "$build/fuzz_$t.log" || true
    else
        echo "fuzz_$t FAILED; see $build/fuzz_$t.log and $artifacts/" >&2
        tail -n 40 "$build/fuzz_$t.log" >&2
        status=1
    fi
done
exit $status
