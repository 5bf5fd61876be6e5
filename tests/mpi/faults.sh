#!/usr/bin/env bash
# faults.sh — a rank that fails stops every rank with ONE message naming the
# rank and the cause, a non-zero exit and no output file: a bad row that only
# rank 1's shard holds (CSV and .npy), and a rank killed with SIGKILL mid-run.
source "$3/mpi/common.inc"

awk 'BEGIN { s = 7; print "y1,y2,g";
  for (i = 0; i < 2000; i++) { s = (s * 1103515245 + 12345) % 2147483648; a = 4*s/2147483648 - 2;
    s = (s * 1103515245 + 12345) % 2147483648; b = 4*s/2147483648 - 2; printf "%.17g,%.17g,%.17g\n", a, b, (a*a+b*b)/4 } }' > "$TMP/atoms.csv"
printf 'x1,x2\n0,0\n1,0.5\n-1,2\n' > "$TMP/x.csv"
# line 1801 (row 1799, in rank 1's half [1000, 2000)) loses a field
awk -F, 'NR == 1801 { print $1 "," $2; next } { print }' "$TMP/atoms.csv" > "$TMP/bad.csv"

# 1. bad shard on rank 1: solve and explain, whole slices and tiles
expect_rank_fail "rank 1 failed: .*bad.csv:1801: " "$TMP/o1.csv" -- \
  "${MPI[@]}" -np 2 "$HJDL" solve --atoms "$TMP/bad.csv" --x "$TMP/x.csv" --t 1 --eps 0.1 --out "$TMP/o1.csv"
expect_rank_fail "rank 1 failed: .*bad.csv:1801: " "$TMP/o2.csv" -- \
  "${MPI[@]}" -np 2 "$HJDL" solve --atoms "$TMP/bad.csv" --x "$TMP/x.csv" --t 1 --eps 0.1 --tile-rows 128 --out "$TMP/o2.csv"
expect_rank_fail "rank 1 failed: .*bad.csv:1801: " "$TMP/o3.csv" -- \
  "${MPI[@]}" -np 2 "$HJDL" explain --atoms "$TMP/bad.csv" --x "$TMP/x.csv" --t 1 --eps 0.1 --out "$TMP/o3.csv"
# the same file on one process: the plain message, as before
expect_rank_fail "^hjdl solve: .*bad.csv:1801: " "$TMP/o4.csv" -- \
  "$HJDL" solve --atoms "$TMP/bad.csv" --x "$TMP/x.csv" --t 1 --eps 0.1 --out "$TMP/o4.csv"
if /usr/bin/python3 -c 'import numpy' 2> /dev/null; then
  /usr/bin/python3 -c "
import numpy as np
a = np.loadtxt('$TMP/atoms.csv', delimiter=',', skiprows=1); a[1500, 1] = np.nan; np.save('$TMP/nan.npy', a)"
  expect_rank_fail "rank 1 failed: .*nan.npy.*1500" "$TMP/o5.csv" -- \
    "${MPI[@]}" -np 2 "$HJDL" solve --atoms "$TMP/nan.npy" --x "$TMP/x.csv" --t 1 --eps 0.1 --out "$TMP/o5.csv"
fi
# a missing file (every rank fails): still one message
expect_rank_fail "missing.csv" "$TMP/o6.csv" -- \
  "${MPI[@]}" -np 2 "$HJDL" solve --atoms "$TMP/missing.csv" --x "$TMP/x.csv" --t 1 --eps 0.1 --out "$TMP/o6.csv"
# a bad option: one message, not one per rank
expect_rank_fail "--t must be > 0" "$TMP/o7.csv" -- \
  "${MPI[@]}" -np 2 "$HJDL" solve --atoms "$TMP/atoms.csv" --x "$TMP/x.csv" --t -1 --eps 0.1 --out "$TMP/o7.csv"

# 2. kill -9 one rank of a long data-parallel fit: the job ends, mpirun names
# the rank, and neither the model nor the trace (nor a temp file) exists
awk 'BEGIN { s = 3; print "x1,x2,y";
  for (i = 0; i < 4000; i++) { s = (s * 1103515245 + 12345) % 2147483648; a = 4*s/2147483648 - 2;
    s = (s * 1103515245 + 12345) % 2147483648; b = 4*s/2147483648 - 2; printf "%.17g,%.17g,%.17g\n", a, b, sqrt(a*a+b*b) } }' > "$TMP/train.csv"
for victim in 1 0; do
  model="$TMP/killed$victim.hjm"
  "${MPI[@]}" -np 2 "$HJDL" fit --data "$TMP/train.csv" --arch lse:64 --eps 0.1 --iters 100000000 \
    --out "$model" --trace "$TMP/trace$victim.csv" --quiet > "$TMP/kill$victim.out" 2> "$TMP/kill$victim.err" &
  mpipid=$!
  pid=""
  for _ in $(seq 300); do   # up to 30 s for the ranks to start
    for p in $(pgrep -f -- "--out $model" || true); do
      [ "$p" = "$mpipid" ] && continue
      if tr '\0' '\n' < "/proc/$p/environ" 2> /dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$victim"; then pid=$p; fi
    done
    [ -n "$pid" ] && break
    sleep 0.1
  done
  if [ -z "$pid" ]; then
    fail "rank $victim of the fit not found"; kill "$mpipid" 2> /dev/null; wait "$mpipid"; continue
  fi
  sleep 1.5                 # well inside the training loop
  kill -9 "$pid"
  rc=0
  for _ in $(seq 300); do kill -0 "$mpipid" 2> /dev/null || break; sleep 0.1; done
  if kill -0 "$mpipid" 2> /dev/null; then fail "mpirun still running 30 s after rank $victim was killed"; kill "$mpipid"; fi
  wait "$mpipid"; rc=$?
  [ "$rc" -ne 0 ] && pass || fail "killed rank $victim: mpirun exited 0"
  grep -q "rank $victim" "$TMP/kill$victim.err" && pass || fail "killed rank $victim: message does not name it: $(cat "$TMP/kill$victim.err")"
  echo "killed rank $victim: mpirun exit $rc: $(grep -m1 -i 'rank' "$TMP/kill$victim.err")"
  [ ! -e "$model" ] && [ ! -e "$TMP/trace$victim.csv" ] && pass || fail "killed rank $victim: output file left"
  ls "$TMP"/*.tmp.* > /dev/null 2>&1 && fail "killed rank $victim: temp file left" || pass
  pgrep -f -- "--out $model" > /dev/null && { fail "killed rank $victim: a rank survived"; pkill -9 -f -- "--out $model"; } || pass
done

finish
