#!/usr/bin/env bash
# landscape.sh — `hjdl landscape`: its files, folds checked by awk finite differences of H, and every bad-input path.
source "$3/cli/common.inc"

# 1. 1-D, three atoms (the smallest 1-D problem with a fold): one fold, and at
#    it H' = H'' = 0 by central differences of H computed here in awk.
printf 'y,g\n-1,0\n0,0.1\n1.4,0\n' > "$TMP/a1.csv"
"$HJDL" landscape --atoms "$TMP/a1.csv" --t 1 --eps-min 0.01 --eps-max 3 --out "$TMP/o1" > "$TMP/o1.txt" \
  && pass || fail "landscape 1-D"
head -1 "$TMP/o1/critical_points.csv" | grep -qx 'eps,x_1,H,type,branch' && pass || fail "1-D critical_points header"
head -1 "$TMP/o1/folds.csv" | grep -qx 'eps,x_1,type,H,direction,lambda_rel,check' && pass || fail "1-D folds header"
[ "$(tail -n +2 "$TMP/o1/folds.csv" | wc -l)" -eq 1 ] && pass || fail "1-D: one fold"
tail -n +2 "$TMP/o1/folds.csv" | awk -F, '
  function H(x, e,   j, a, m, z, h, p) {
    split("-1 0 1.4", Y, " "); split("0 0.1 0", G, " "); m = -1e300
    for (j = 1; j <= 3; j++) { a[j] = -(G[j] + (x - Y[j])^2 / 4) / e; if (a[j] > m) m = a[j] }
    z = 0; for (j = 1; j <= 3; j++) z += exp(a[j] - m)
    h = 0; for (j = 1; j <= 3; j++) { p = exp(a[j] - m) / z; if (p > 0) h -= p * log(p) }
    return h }
  { e = $1; x = $2; h1 = 1e-5; h2 = 1e-4
    d1 = (H(x + h1, e) - H(x - h1, e)) / (2 * h1)
    d2 = (H(x + h2, e) - 2 * H(x, e) + H(x - h2, e)) / (h2 * h2)
    if (d1 < 0) d1 = -d1; if (d2 < 0) d2 = -d2
    bad += (d1 > 1e-5 / e) + (d2 > 1e-4 / (e * e)) + ($3 != 0) + ($7 != 1) }
  END { exit bad != 0 }' && pass || fail "1-D fold is not a degenerate critical point"
grep -q "1 folds (1 pass the eigenvalue check)" "$TMP/o1.txt" && pass || fail "1-D summary line"
grep -q "minimum-maximum" "$TMP/o1.txt" && pass || fail "1-D fold type in the summary"
[ -s "$TMP/o1/basins.csv" ] && head -1 "$TMP/o1/basins.csv" | grep -qx 'eps,minima,basins' && pass || fail "1-D basins.csv"
# types are Morse indices: in 1-D only 0 (minimum) and 1 (maximum)
tail -n +2 "$TMP/o1/critical_points.csv" | awk -F, '$4 != 0 && $4 != 1 { bad = 1 } END { exit bad }' \
  && pass || fail "1-D types"

# 2. 2-D, two small clusters: every fold passes its check, the files and maps exist.
cat > "$TMP/a2.csv" <<'EOF'
y1,y2,g
-1.2,-0.9,0
-0.7,-1.3,0
-1.1,-1.4,0
-0.8,-0.6,0
0.9,1.2,1
1.3,0.8,1
1.1,1.4,1
0.6,0.9,1
EOF
"$HJDL" landscape --atoms "$TMP/a2.csv" --t 1 --out "$TMP/o2" > "$TMP/o2.txt" && pass || fail "landscape 2-D"
head -1 "$TMP/o2/critical_points.csv" | grep -qx 'eps,x_1,x_2,H,type,branch' && pass || fail "2-D header"
tail -n +2 "$TMP/o2/folds.csv" | awk -F, '$8 != 1 { bad = 1 } END { exit bad || NR == 0 }' \
  && pass || fail "2-D folds: some fail their check, or none"
# default range eps*/25 .. 25 eps* with eps* = 8^(-1/2)
grep -q "eps in \[0.0141421, 8.83883\], eps\* = 0.353553" "$TMP/o2.txt" && pass || fail "2-D default eps range"
for f in map_cold map_critical map_hot; do
  [ -s "$TMP/o2/$f.csv" ] && [ -s "$TMP/o2/$f.gp" ] && pass || fail "2-D $f.csv/.gp"
done
if command -v gnuplot > /dev/null; then
  for f in bifurcation map_cold map_critical map_hot; do
    [ -s "$TMP/o2/$f.png" ] && [ -s "$TMP/o2/$f.svg" ] && pass || fail "2-D $f figure"
  done
fi
# every map grid value lies in [0, log 8]
tail -n +2 "$TMP/o2/map_critical.csv" | awk -F, '$3 < 0 || $3 > log(8) + 1e-12 { bad = 1 } END { exit bad }' \
  && pass || fail "2-D map values outside [0, log N]"

# 3. 3-D works without maps.
printf 'y1,y2,y3,g\n0,0,0,0\n1,0,0,0.1\n0,1,0,0.2\n0,0,1,0\n0.6,0.6,0.6,0.3\n' > "$TMP/a3.csv"
"$HJDL" landscape --atoms "$TMP/a3.csv" --t 1 --eps-min 0.05 --eps-max 2 --out "$TMP/o3" > /dev/null \
  && pass || fail "landscape 3-D"
head -1 "$TMP/o3/critical_points.csv" | grep -qx 'eps,x_1,x_2,x_3,H,type,branch' && pass || fail "3-D header"
[ ! -e "$TMP/o3/map_cold.csv" ] && pass || fail "3-D wrote a map"

# 4. Help.
"$HJDL" landscape --help | grep -q "pseudo-arclength" && pass || fail "landscape --help"

# 5. Bad input: one line naming the problem, exit 2, no output directory.
printf 'y,g\n0,0\n1,2,3\n' > "$TMP/ragged.csv"
printf 'y,g\n0,nan\n' > "$TMP/nan.csv"
printf 'y\n0\n1\n' > "$TMP/onecol.csv"
O="$TMP/never"
expect_fail 2 "missing.csv" -- "$HJDL" landscape --atoms "$TMP/missing.csv" --t 1 --out "$O"
expect_fail 2 "ragged.csv:3" -- "$HJDL" landscape --atoms "$TMP/ragged.csv" --t 1 --out "$O"
expect_fail 2 "nan.csv:2" -- "$HJDL" landscape --atoms "$TMP/nan.csv" --t 1 --out "$O"
expect_fail 2 "at least 2 columns" -- "$HJDL" landscape --atoms "$TMP/onecol.csv" --t 1 --out "$O"
expect_fail 2 "t must be > 0" -- "$HJDL" landscape --atoms "$TMP/a1.csv" --t 0 --out "$O"
expect_fail 2 "eps-min must be > 0" -- "$HJDL" landscape --atoms "$TMP/a1.csv" --t 1 --eps-min -1 --out "$O"
expect_fail 2 "must be smaller than --eps-max" -- "$HJDL" landscape --atoms "$TMP/a1.csv" --t 1 --eps-min 2 --eps-max 1 --out "$O"
expect_fail 2 "step must be in" -- "$HJDL" landscape --atoms "$TMP/a1.csv" --t 1 --step 0 --out "$O"
expect_fail 2 "levels must be in" -- "$HJDL" landscape --atoms "$TMP/a1.csv" --t 1 --levels 1 --out "$O"
expect_fail 2 "not a finite number" -- "$HJDL" landscape --atoms "$TMP/a1.csv" --t nan --out "$O"
expect_fail 2 "missing required option --out" -- "$HJDL" landscape --atoms "$TMP/a1.csv" --t 1
expect_fail 2 "unknown option" -- "$HJDL" landscape --atoms "$TMP/a1.csv" --t 1 --out "$O" --bogus 1
[ ! -e "$O" ] && pass || fail "a refused run created $O"
# an output path under a regular file cannot be created
: > "$TMP/afile"
expect_fail 2 "afile" -- "$HJDL" landscape --atoms "$TMP/a1.csv" --t 1 --out "$TMP/afile/sub"

finish
