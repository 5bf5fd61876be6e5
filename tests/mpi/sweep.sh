#!/usr/bin/env bash
# sweep.sh — `mpirun -np 2 hjdl experiment A B C`: experiments spread over the
# ranks, gathered by rank 0: the same printed results and summary.json files
# as one process (timings apart).
source "$3/mpi/common.inc"

names="identity attention quadrature"
"$HJDL" experiment $names --quick --quiet --out "$TMP/one" > "$TMP/one.txt"; rc1=$?
"${MPI[@]}" -np 2 "$HJDL" experiment $names --quick --quiet --out "$TMP/two" > "$TMP/two.txt" 2> "$TMP/two.err"; rc2=$?
[ "$rc1" -eq "$rc2" ] && pass || fail "exit codes differ: $rc1 vs $rc2"
# strip timings ("(1.2 s)", "; 3.4 s") and the output directory
norm() { sed -E 's/[0-9]+\.[0-9]+ s/T s/g; s#'"$TMP"'/(one|two)#OUT#g' "$1"; }
diff <(norm "$TMP/one.txt") <(norm "$TMP/two.txt") > "$TMP/diff.txt" && pass || fail "printed results differ: $(head -20 "$TMP/diff.txt")"
[ "$(grep -c '^== ' "$TMP/two.txt")" -eq 3 ] && pass || fail "rank 0 did not print all 3 results"
for e in $names; do
  # everything but wall times and timing metrics/notes
  strip() { grep -v -E '"seconds"|timing|Timing' "$1"; }
  if [ -f "$TMP/one/$e/summary.json" ] && [ -f "$TMP/two/$e/summary.json" ]; then
    diff <(strip "$TMP/one/$e/summary.json") <(strip "$TMP/two/$e/summary.json") > /dev/null && pass || fail "$e: summary.json differs"
  else
    fail "$e: summary.json missing"
  fi
done
finish
