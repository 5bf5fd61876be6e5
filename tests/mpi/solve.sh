#!/usr/bin/env bash
# solve.sh — sharded `hjdl solve/explain --atoms` on 2 ranks equals the
# single-process run (<= 1e-13 column-relative), CSV and .npy atoms, eps > 0
# and eps = 0, a metric, streamed tiles; the merged traffic matches the model.
source "$3/mpi/common.inc"

# atoms (N = 3001, d = 3; y ~ U[-2,2]^3, g = |y|^2/4 + noise) and points, awk LCG
awk 'BEGIN { s = 4242; print "y1,y2,y3,g";
  for (i = 0; i < 3001; i++) { for (k = 1; k <= 3; k++) { s = (s * 1103515245 + 12345) % 2147483648; y[k] = 4*s/2147483648 - 2 }
    s = (s * 1103515245 + 12345) % 2147483648;
    printf "%.17g,%.17g,%.17g,%.17g\n", y[1], y[2], y[3], (y[1]^2 + y[2]^2 + y[3]^2) / 4 + s / 2147483648 } }' > "$TMP/atoms.csv"
awk 'BEGIN { s = 99; print "x1,x2,x3";
  for (i = 0; i < 41; i++) { for (k = 1; k <= 3; k++) { s = (s * 1103515245 + 12345) % 2147483648; x[k] = 5*s/2147483648 - 2.5 }
    printf "%.17g,%.17g,%.17g\n", x[1], x[2], x[3] } }' > "$TMP/x.csv"
printf 'a1,a2,a3\n2,0.5,0\n0.5,1,0\n0,0,3\n' > "$TMP/A.csv"

# the single-process references (the plain in-memory path)
for eps in 0.1 0; do
  "$HJDL" solve --atoms "$TMP/atoms.csv" --x "$TMP/x.csv" --t 0.5 --eps $eps --normalised > "$TMP/ref_$eps.csv" || fail "solve eps=$eps"
  "$HJDL" explain --atoms "$TMP/atoms.csv" --x "$TMP/x.csv" --t 0.5 --eps $eps --top 5 > "$TMP/eref_$eps.csv" || fail "explain eps=$eps"
done
"$HJDL" solve --atoms "$TMP/atoms.csv" --x "$TMP/x.csv" --t 0.5 --eps 0.1 --metric "$TMP/A.csv" > "$TMP/ref_A.csv" || fail "solve metric"

# the same atoms as .npy (written with Debian's numpy; that case is skipped without it)
if /usr/bin/python3 -c 'import numpy' 2> /dev/null; then
  /usr/bin/python3 -c "import numpy as np, sys; a = np.loadtxt('$TMP/atoms.csv', delimiter=',', skiprows=1); np.save('$TMP/atoms.npy', a)"
fi

# 1. 2 ranks, whole slices, CSV and .npy; eps > 0 and eps = 0
for eps in 0.1 0; do
  "${MPI[@]}" -np 2 "$HJDL" solve --atoms "$TMP/atoms.csv" --x "$TMP/x.csv" --t 0.5 --eps $eps --normalised \
    > "$TMP/p2_$eps.csv" || fail "mpirun solve eps=$eps"
  expect_close "$TMP/ref_$eps.csv" "$TMP/p2_$eps.csv" 1e-13 "solve 2 ranks CSV eps=$eps"
  "${MPI[@]}" -np 2 "$HJDL" explain --atoms "$TMP/atoms.csv" --x "$TMP/x.csv" --t 0.5 --eps $eps --top 5 \
    > "$TMP/e2_$eps.csv" || fail "mpirun explain eps=$eps"
  expect_close "$TMP/eref_$eps.csv" "$TMP/e2_$eps.csv" 1e-13 "explain 2 ranks eps=$eps"
  # the top-K atom indices themselves agree exactly
  diff <(cut -d, -f4,6,8,10,12 "$TMP/eref_$eps.csv") <(cut -d, -f4,6,8,10,12 "$TMP/e2_$eps.csv") > /dev/null \
    && pass || fail "explain eps=$eps: top-K atom indices differ"
done
if [ -f "$TMP/atoms.npy" ]; then
  "${MPI[@]}" -np 2 "$HJDL" solve --atoms "$TMP/atoms.npy" --x "$TMP/x.csv" --t 0.5 --eps 0.1 --normalised \
    --out "$TMP/p2_npy.csv" || fail "mpirun solve npy"
  expect_close "$TMP/ref_0.1.csv" "$TMP/p2_npy.csv" 1e-13 "solve 2 ranks .npy"
fi

# 2. streamed tiles: 1 process and 2 ranks, a metric
"$HJDL" solve --atoms "$TMP/atoms.csv" --x "$TMP/x.csv" --t 0.5 --eps 0.1 --normalised --tile-rows 97 \
  > "$TMP/t1.csv" || fail "solve --tile-rows"
expect_close "$TMP/ref_0.1.csv" "$TMP/t1.csv" 1e-13 "solve 1 process --tile-rows 97"
"${MPI[@]}" -np 2 "$HJDL" solve --atoms "$TMP/atoms.csv" --x "$TMP/x.csv" --t 0.5 --eps 0.1 --normalised --tile-rows 250 \
  > "$TMP/t2.csv" || fail "mpirun solve --tile-rows"
expect_close "$TMP/ref_0.1.csv" "$TMP/t2.csv" 1e-13 "solve 2 ranks --tile-rows 250"
"${MPI[@]}" -np 2 "$HJDL" solve --atoms "$TMP/atoms.csv" --x "$TMP/x.csv" --t 0.5 --eps 0.1 --metric "$TMP/A.csv" \
  > "$TMP/pA.csv" || fail "mpirun solve --metric"
expect_close "$TMP/ref_A.csv" "$TMP/pA.csv" 1e-13 "solve 2 ranks --metric"
"$HJDL" explain --atoms "$TMP/atoms.csv" --x "$TMP/x.csv" --t 0.5 --eps 0.1 --top 5 --tile-rows 100 \
  > "$TMP/et1.csv" || fail "explain --tile-rows"
expect_close "$TMP/eref_0.1.csv" "$TMP/et1.csv" 1e-13 "explain 1 process --tile-rows 100"

# 3. fewer atoms than ranks: rank 1's slice is empty
head -2 "$TMP/atoms.csv" > "$TMP/one.csv"
"$HJDL" solve --atoms "$TMP/one.csv" --x "$TMP/x.csv" --t 0.5 --eps 0.1 > "$TMP/one1.csv"
"${MPI[@]}" -np 2 "$HJDL" solve --atoms "$TMP/one.csv" --x "$TMP/x.csv" --t 0.5 --eps 0.1 > "$TMP/one2.csv" \
  || fail "mpirun solve with 1 atom"
expect_close "$TMP/one1.csv" "$TMP/one2.csv" 1e-13 "solve 2 ranks, 1 atom"

# 4. output written once, by rank 0, atomically: stdout has one header
[ "$(grep -c '^u,' "$TMP/p2_0.1.csv")" -eq 1 ] && pass || fail "output header written more than once"
ls "$TMP"/p2_npy.csv.tmp.* > /dev/null 2>&1 && fail "temp file left" || pass

# 5. communication model: one partial-state reduction of n (3 + d) doubles
# (n = 41 points, d = 3), counted by the dist layer (HJDL_DIST_STATS)
HJDL_DIST_STATS=1 "${MPI[@]}" -np 2 "$HJDL" solve --atoms "$TMP/atoms.csv" --x "$TMP/x.csv" --t 0.5 --eps 0.1 \
  > /dev/null 2> "$TMP/stats.txt" || fail "mpirun solve with stats"
want=$((41 * (3 + 3) * 8))
n=$(grep -c "partial 1 calls $want bytes" "$TMP/stats.txt")
[ "$n" -eq 2 ] && pass || fail "partial-state bytes per rank != $want: $(cat "$TMP/stats.txt")"

finish
