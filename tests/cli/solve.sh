#!/usr/bin/env bash
# solve.sh — `hjdl solve`: values against independent formulas, and every bad-input path.
source "$3/cli/common.inc"

# 1. ReLU is the Hopf–Lax solution of atoms y = (0, 2t), g = (0, -t): f = max(0, x).
printf 'y,g\n0,0\n1.0,-0.5\n' > "$TMP/relu.csv"      # t = 0.5
printf 'x\n' > "$TMP/x1.csv"
for i in $(seq -20 20); do awk -v i="$i" 'BEGIN{printf "%.6f\n", i/7.0}' >> "$TMP/x1.csv"; done
"$HJDL" solve --atoms "$TMP/relu.csv" --x "$TMP/x1.csv" --t 0.5 --eps 0 --out "$TMP/relu_out.csv" \
  && pass || fail "solve relu"
paste -d, "$TMP/x1.csv" "$TMP/relu_out.csv" | awk -F, 'NR>1 { r = ($1 > 0) ? $1 : 0; e = $3 - r; if (e < 0) e = -e; if (e > m) m = e }
  END { exit !(m < 1e-12) }' && pass || fail "relu: f != max(0,x)"

# 2. At eps > 0 the same atoms give softplus: f = eps log(1 + exp(x/eps)); awk computes it.
"$HJDL" solve --atoms "$TMP/relu.csv" --x "$TMP/x1.csv" --t 0.5 --eps 0.3 > "$TMP/sp_out.csv" && pass || fail "solve softplus"
paste -d, "$TMP/x1.csv" "$TMP/sp_out.csv" | awk -F, 'NR>1 { s = 0.3 * log(1 + exp($1/0.3)); e = $3 - s; if (e < 0) e = -e; if (e > m) m = e }
  END { exit !(m < 1e-12) }' && pass || fail "softplus: f != eps log(1+e^{x/eps})"

# 3. 2-D: u against the Hopf–Cole sum computed by awk, and f + u = |x|^2/(4t).
printf 'y1,y2,g\n-1,0,0.3\n1,0.5,0\n0,-1,0.1\n' > "$TMP/a2.csv"
printf 'x1,x2\n0,0\n0.5,-0.25\n-1.2,0.7\n2,2\n' > "$TMP/x2.csv"
"$HJDL" solve --atoms "$TMP/a2.csv" --x "$TMP/x2.csv" --t 0.7 --eps 0.2 --normalised > "$TMP/o2.csv" && pass || fail "solve 2d"
head -1 "$TMP/o2.csv" | grep -qx 'u,f,entropy,grad_u_1,grad_u_2,u_norm' && pass || fail "2-D header"
paste -d, "$TMP/x2.csv" "$TMP/o2.csv" | awk -F, -v t=0.7 -v e=0.2 '
  NR>1 { s = 0; split("-1 1 0", Y1, " "); split("0 0.5 -1", Y2, " "); split("0.3 0 0.1", G, " ");
         for (j = 1; j <= 3; j++) s += exp(-(G[j] + (($1-Y1[j])^2 + ($2-Y2[j])^2)/(4*t))/e);
         u = -e*log(s); q = ($1^2 + $2^2)/(4*t);
         d1 = $3 - u; if (d1 < 0) d1 = -d1; d2 = $3 + $4 - q; if (d2 < 0) d2 = -d2;
         un = u + e*log(4*3.141592653589793*e*t); d3 = $8 - un; if (d3 < 0) d3 = -d3;
         if (d1 > m) m = d1; if (d2 > m) m = d2; if (d3 > m) m = d3 }
  END { exit !(m < 1e-12) }' && pass || fail "2-D values"

# 4. .npy output round-trips through the tool's reader (solve reads it back as points).
"$HJDL" solve --atoms "$TMP/a2.csv" --x "$TMP/x2.csv" --t 0.7 --eps 0.2 --out "$TMP/o2.npy" && pass || fail "npy out"
[ "$(head -c 6 "$TMP/o2.npy" | tail -c 5)" = "NUMPY" ] && pass || fail "npy magic"

# 5. Help and version.
"$HJDL" solve --help | grep -q "Hopf-Cole" && pass || fail "solve --help"
"$HJDL" --help | grep -q "verify" && pass || fail "--help"
"$HJDL" --version | grep -q "^hjdl [0-9]" && pass || fail "--version"
# the kernel set follows the CPU (checked against /proc/cpuinfo, not the code)
if grep -qw avx512f /proc/cpuinfo 2>/dev/null; then want=avx512
elif grep -qw avx2 /proc/cpuinfo 2>/dev/null && grep -qw fma /proc/cpuinfo; then want=avx2
else want=portable; fi
[ -n "${HJDL_KERNELS:-}" ] && want=$HJDL_KERNELS
"$HJDL" --version | grep -qx "kernels: $want" && pass || fail "--version kernels (want $want)"

# 6. Bad input: one clear message naming the file/line, exit 2, no output file.
printf 'y,g\n0,0\n1,2,3\n' > "$TMP/ragged.csv"
printf 'y,g\n0,nan\n' > "$TMP/nan.csv"
printf 'y,g\n0,abc\n' > "$TMP/word.csv"
: > "$TMP/empty.csv"
O="$TMP/never.csv"
expect_fail 2 "missing.csv" -- "$HJDL" solve --atoms "$TMP/missing.csv" --x "$TMP/x1.csv" --t 1 --eps 0.1 --out "$O"
expect_fail 2 "ragged.csv:3" -- "$HJDL" solve --atoms "$TMP/ragged.csv" --x "$TMP/x1.csv" --t 1 --eps 0.1 --out "$O"
expect_fail 2 "nan.csv:2" -- "$HJDL" solve --atoms "$TMP/nan.csv" --x "$TMP/x1.csv" --t 1 --eps 0.1 --out "$O"
expect_fail 2 "word.csv:2" -- "$HJDL" solve --atoms "$TMP/word.csv" --x "$TMP/x1.csv" --t 1 --eps 0.1 --out "$O"
expect_fail 2 "empty.csv" -- "$HJDL" solve --atoms "$TMP/empty.csv" --x "$TMP/x1.csv" --t 1 --eps 0.1 --out "$O"
expect_fail 2 "x2.csv: points have 2 columns" -- "$HJDL" solve --atoms "$TMP/relu.csv" --x "$TMP/x2.csv" --t 1 --eps 0.1 --out "$O"
expect_fail 2 "t must be > 0" -- "$HJDL" solve --atoms "$TMP/relu.csv" --x "$TMP/x1.csv" --t -1 --eps 0.1 --out "$O"
expect_fail 2 "eps must be >= 0" -- "$HJDL" solve --atoms "$TMP/relu.csv" --x "$TMP/x1.csv" --t 1 --eps -0.1 --out "$O"
expect_fail 2 "not a finite number" -- "$HJDL" solve --atoms "$TMP/relu.csv" --x "$TMP/x1.csv" --t 1 --eps nan --out "$O"
expect_fail 2 "missing required option --eps" -- "$HJDL" solve --atoms "$TMP/relu.csv" --x "$TMP/x1.csv" --t 1
expect_fail 2 "unknown option" -- "$HJDL" solve --atoms "$TMP/relu.csv" --bogus 1
expect_fail 2 "unknown command" -- "$HJDL" sovle
expect_fail 2 "" -- "$HJDL" solve --atoms "$TMP/relu.csv" --x "$TMP/x1.csv" --t 1 --eps 0.1 --out "$TMP/no/such/dir/out.csv"
printf '1,0\n0,-1\n' > "$TMP/notspd.csv"; printf 'a,b\n1,0\n0,-1\n' > "$TMP/notspd.csv"
expect_fail 2 "positive definite" -- "$HJDL" solve --atoms "$TMP/a2.csv" --x "$TMP/x2.csv" --t 1 --eps 0.1 --metric "$TMP/notspd.csv" --out "$O"
[ ! -e "$O" ] && pass || fail "partial output file left behind"
[ -z "$(ls "$TMP"/no 2>/dev/null)" ] && pass || fail "output dir created"
ls "$TMP" | grep -q '\.tmp' && fail "temp file left behind" || pass

finish
