#!/usr/bin/env bash
# agree.sh — ranks agree on what they read: a file that differs between ranks
# (each rank runs in its own directory, chosen by OMPI_COMM_WORLD_RANK, as a
# copy on another node's disk would) stops solve, explain and fit with ONE
# message naming the rank and the file, exit 2 and no output (explain shares
# solve's check); identical copies run as before.
source "$3/mpi/common.inc"

for r in 0 1; do mkdir -p "$TMP/r$r"; done
awk 'BEGIN { s = 11; print "y1,y2,g";
  for (i = 0; i < 200; i++) { s = (s * 1103515245 + 12345) % 2147483648; a = 4*s/2147483648 - 2;
    s = (s * 1103515245 + 12345) % 2147483648; b = 4*s/2147483648 - 2; printf "%.17g,%.17g,%.17g\n", a, b, (a*a+b*b)/4 } }' > "$TMP/r0/atoms.csv"
printf 'x1,x2\n0,0\n1,0.5\n-1,2\n' > "$TMP/r0/x.csv"
cp "$TMP/r0/x.csv" "$TMP/r1/x.csv"
# per rank: run CMD... in $TMP/r<rank> (relative paths name each rank's own copy)
PER_RANK=(bash -c 'cd "$0/r$OMPI_COMM_WORLD_RANK" && exec "$@"' "$TMP")

# a refusal is exit 2 (tests/mpi/common.inc: expect_rank_fail)
expect_disagree() { WANT_RC=2 expect_rank_fail "$@"; }

SOLVE=(solve --atoms atoms.csv --x x.csv --t 1 --eps 0.1)
# 1. one value changed on rank 1's copy: same size, same rows, another checksum
awk -F, 'NR == 150 { printf "%s,%s,%.17g\n", $1, $2, $3 + 0.5; next } { print }' "$TMP/r0/atoms.csv" > "$TMP/r1/atoms.csv"
expect_disagree "rank 1 failed: atoms.csv: this rank's copy differs from rank 0's (CRC-32 of the content: [0-9a-f]* here, [0-9a-f]* on rank 0)" "$TMP/r0/o1.csv" -- \
  "${MPI[@]}" -np 2 "${PER_RANK[@]}" "$HJDL" "${SOLVE[@]}" --out o1.csv
# 2. rank 1's copy has fewer rows
head -101 "$TMP/r0/atoms.csv" > "$TMP/r1/atoms.csv"
expect_disagree "rank 1 failed: atoms.csv: this rank's copy differs from rank 0's (rows: 100 here, 200 on rank 0)" "$TMP/r0/o3.csv" -- \
  "${MPI[@]}" -np 2 "${PER_RANK[@]}" "$HJDL" "${SOLVE[@]}" --out o3.csv
# 3. other column names, same numbers
{ echo "z1,z2,g"; tail -n +2 "$TMP/r0/atoms.csv"; } > "$TMP/r1/atoms.csv"
expect_disagree "rank 1 failed: atoms.csv: this rank's copy differs from rank 0's (column names)" "$TMP/r0/o4.csv" -- \
  "${MPI[@]}" -np 2 "${PER_RANK[@]}" "$HJDL" "${SOLVE[@]}" --out o4.csv
# 4. the points differ
cp "$TMP/r0/atoms.csv" "$TMP/r1/atoms.csv"
printf 'x1,x2\n0,0\n1,0.5\n-1,2.5\n' > "$TMP/r1/x.csv"
expect_disagree "rank 1 failed: x.csv: this rank's copy differs" "$TMP/r0/o5.csv" -- \
  "${MPI[@]}" -np 2 "${PER_RANK[@]}" "$HJDL" "${SOLVE[@]}" --out o5.csv
# 5. fit: training data that differ between ranks
awk 'BEGIN { print "x1,x2,y"; for (i = 0; i < 60; i++) { a = (i % 7) / 7; b = (i % 5) / 5; printf "%.17g,%.17g,%.17g\n", a, b, a + b } }' > "$TMP/r0/d.csv"
awk -F, 'NR == 40 { printf "%s,%s,%.17g\n", $1, $2, $3 + 1; next } { print }' "$TMP/r0/d.csv" > "$TMP/r1/d.csv"
expect_disagree "rank 1 failed: d.csv: this rank's copy differs from rank 0's (CRC-32" "$TMP/r0/m.hjm" -- \
  "${MPI[@]}" -np 2 "${PER_RANK[@]}" "$HJDL" fit --data d.csv --arch lse:4 --eps 0.2 --iters 5 --quiet --out m.hjm
# 6. identical copies: the run goes ahead and matches one process
cp "$TMP/r0/x.csv" "$TMP/r1/x.csv"
"$HJDL" solve --atoms "$TMP/r0/atoms.csv" --x "$TMP/r0/x.csv" --t 1 --eps 0.1 > "$TMP/ref.csv"
"${MPI[@]}" -np 2 "${PER_RANK[@]}" "$HJDL" "${SOLVE[@]}" --out o6.csv && pass || fail "solve on identical copies"
expect_close "$TMP/ref.csv" "$TMP/r0/o6.csv" 1e-13 "identical copies"
finish
