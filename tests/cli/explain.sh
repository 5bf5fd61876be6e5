#!/usr/bin/env bash
# explain.sh — `hjdl explain`: entropy, n_eff, regime and top-K against an awk computation; model mode
# against the model's own atoms and `hjdl predict --attribution`; every bad-input path.
source "$3/cli/common.inc"

# 1. Atoms mode, 2-D, 4 atoms: awk computes the Gibbs weights, H, exp(H), the regime code
#    (h = H/log N: < 1/3 -> 0, > 2/3 -> 2, else 1) and the top 2 (descending).
printf 'y1,y2,g\n-1,0,0.3\n1,0.5,0\n0,-1,0.1\n0.2,0.2,1.5\n' > "$TMP/a.csv"
printf 'x1,x2\n0,0\n0.5,-0.25\n-1.2,0.7\n2,2\n-1,0\n' > "$TMP/x.csv"
for E in 0.05 0.3 3; do
  "$HJDL" explain --atoms "$TMP/a.csv" --x "$TMP/x.csv" --t 0.7 --eps $E --top 2 > "$TMP/o.csv" && pass || fail "explain eps=$E"
  [ "$(head -1 "$TMP/o.csv")" = "entropy,n_eff,regime,atom_1,pi_1,atom_2,pi_2" ] && pass || fail "header"
  [ "$(wc -l < "$TMP/o.csv")" -eq 6 ] && pass || fail "one row per point"
  paste -d, "$TMP/x.csv" "$TMP/o.csv" | awk -F, -v t=0.7 -v e=$E '
    NR > 1 { split("-1 1 0 0.2", Y1, " "); split("0 0.5 -1 0.2", Y2, " "); split("0.3 0 0.1 1.5", G, " ");
      cmin = 1e300
      for (j = 1; j <= 4; j++) { c[j] = G[j] + (($1-Y1[j])^2 + ($2-Y2[j])^2)/(4*t); if (c[j] < cmin) cmin = c[j] }
      s = 0; for (j = 1; j <= 4; j++) { w[j] = exp(-(c[j] - cmin)/e); s += w[j] }
      H = 0; for (j = 1; j <= 4; j++) { p[j] = w[j]/s; if (p[j] > 0) H -= p[j]*log(p[j]) }
      h = H/log(4); r = (h < 1/3) ? 0 : ((h > 2/3) ? 2 : 1)
      b1 = 0; for (j = 1; j <= 4; j++) if (b1 == 0 || p[j] > p[b1]) b1 = j
      b2 = 0; for (j = 1; j <= 4; j++) if (j != b1 && (b2 == 0 || p[j] > p[b2])) b2 = j
      d = $3 - H; if (d < 0) d = -d; if (d > m) m = d
      d = $4 - exp(H); if (d < 0) d = -d; if (d > m) m = d
      d = $7 - p[b1]; if (d < 0) d = -d; if (d > m) m = d
      d = $9 - p[b2]; if (d < 0) d = -d; if (d > m) m = d
      if ($5 != r || $6 != b1 - 1 || $8 != b2 - 1) bad++ }
    END { exit !(m < 1e-12 && bad == 0) }' && pass || fail "values at eps=$E differ from awk"
done
# the three eps cover all three regimes
for E in 0.01 100; do "$HJDL" explain --atoms "$TMP/a.csv" --x "$TMP/x.csv" --t 0.7 --eps $E --top 0; done > "$TMP/reg.csv"
grep -q ',0$' "$TMP/reg.csv" && grep -q ',2$' "$TMP/reg.csv" && pass || fail "particle and wave regimes not both seen"

# 2. eps = 0 with an exact tie: weights 1/2, 1/2 (index order), entropy log 2 (h = 1/2 of log 4:
#    mixed), then the zero weights in order of closeness (larger logit first)
printf 'y,g\n0,0\n0,0\n1,0\n3,0\n' > "$TMP/tie.csv"
printf 'x\n0\n' > "$TMP/x0.csv"
"$HJDL" explain --atoms "$TMP/tie.csv" --x "$TMP/x0.csv" --t 1 --eps 0 --top 4 > "$TMP/tie_out.csv" && pass || fail "eps 0"
tail -1 "$TMP/tie_out.csv" | awk -F, '{ d = $1 - log(2); if (d < 0) d = -d;
  exit !(d < 1e-15 && $2 == 2 && $3 == 1 && $4 == 0 && $5 == 0.5 && $6 == 1 && $7 == 0.5 && $8 == 2 && $9 == 0 && $10 == 3 && $11 == 0) }' \
  && pass || fail "eps = 0 tie row: $(tail -1 "$TMP/tie_out.csv")"
# default --top is 3 (N >= 3); --top 0 gives the three summary columns only
[ "$(head -1 "$TMP/tie_out.csv" | tr ',' '\n' | wc -l)" -eq 11 ] && pass || fail "--top 4 columns"
"$HJDL" explain --atoms "$TMP/tie.csv" --x "$TMP/x0.csv" --t 1 --eps 0 | head -1 | grep -qx 'entropy,n_eff,regime,atom_1,pi_1,atom_2,pi_2,atom_3,pi_3' \
  && pass || fail "default top 3"
"$HJDL" explain --atoms "$TMP/tie.csv" --x "$TMP/x0.csv" --t 1 --eps 0 --top 0 | head -1 | grep -qx 'entropy,n_eff,regime' \
  && pass || fail "--top 0"

# 3. .npy output and --out
"$HJDL" explain --atoms "$TMP/a.csv" --x "$TMP/x.csv" --t 0.7 --eps 0.3 --out "$TMP/o.npy" && pass || fail "npy out"
[ "$(head -c 6 "$TMP/o.npy" | tail -c 5)" = "NUMPY" ] && pass || fail "npy magic"
"$HJDL" explain --atoms "$TMP/a.csv" --x "$TMP/x.csv" --t 0.7 --eps 0.3 --out "$TMP/o2.csv" && pass || fail "csv out"
"$HJDL" explain --atoms "$TMP/a.csv" --x "$TMP/x.csv" --t 0.7 --eps 0.3 | cmp -s - "$TMP/o2.csv" && pass || fail "--out differs from stdout"

# 4. Model mode. A single lse:N regression readout without preprocessing: explaining the model
#    equals explaining its initial data at the model's t and eps; the top-K equal predict --attribution.
awk 'BEGIN { s = 777; print "x1,x2,y";
  for (i = 0; i < 120; i++) { s = (s * 1103515245 + 12345) % 2147483648; a = 4*s/2147483648 - 2;
                              s = (s * 1103515245 + 12345) % 2147483648; b = 4*s/2147483648 - 2;
                              printf "%.17g,%.17g,%.17g\n", a, b, sqrt(a*a+b*b) } }' > "$TMP/train.csv"
"$HJDL" fit --data "$TMP/train.csv" --arch lse:12 --eps 0.3 --t 0.5 --lr 0.02 --iters 150 --out "$TMP/m.hjm" --quiet > /dev/null \
  && pass || fail "fit lse"
"$HJDL" initial-data "$TMP/m.hjm" > "$TMP/m_atoms.csv" 2>/dev/null && pass || fail "initial-data"
"$HJDL" explain "$TMP/m.hjm" --x "$TMP/x.csv" --top 4 > "$TMP/m_out.csv" && pass || fail "explain model"
"$HJDL" explain --atoms "$TMP/m_atoms.csv" --x "$TMP/x.csv" --t 0.5 --eps 0.3 --top 4 > "$TMP/m_atoms_out.csv" && pass || fail "explain its atoms"
paste -d, "$TMP/m_out.csv" "$TMP/m_atoms_out.csv" | awk -F, 'NR > 1 { for (c = 1; c <= 11; c++) { d = $c - $(c + 11); if (d < 0) d = -d;
  if (c == 3 || c % 2 == 0 && c > 3) { if (d != 0) bad++ } else if (d > m) m = d } }
  END { exit !(m < 1e-9 && bad == 0) }' && pass || fail "model explain != explain of its initial data"
"$HJDL" predict "$TMP/m.hjm" --x "$TMP/x.csv" --attribution 4 > "$TMP/m_pred.csv" && pass || fail "predict --attribution"
paste -d, "$TMP/m_out.csv" "$TMP/m_pred.csv" | awk -F, 'NR > 1 { for (k = 0; k < 4; k++) { if ($(4 + 2*k) != $(13 + 2*k)) bad++;
  d = $(5 + 2*k) - $(14 + 2*k); if (d < 0) d = -d; if (d > m) m = d } } END { exit !(m < 1e-12 && bad == 0) }' \
  && pass || fail "model explain top-K != predict --attribution"
# a classifier with preprocessing and a hidden layer runs and gives rows of the right shape
awk -F, 'NR == 1 { print "x1,x2,c"; next } { print $1 "," $2 "," ($1 * $2 > 0 ? 1 : 0) }' "$TMP/train.csv" > "$TMP/cls.csv"
"$HJDL" fit --data "$TMP/cls.csv" --task classification --standardize --arch dense:6,lse-class:5 --eps 0.5 --lr 0.02 --iters 100 \
  --out "$TMP/c.hjm" --quiet > /dev/null && pass || fail "fit classifier"
"$HJDL" explain "$TMP/c.hjm" --x "$TMP/x.csv" --top 5 > "$TMP/c_out.csv" && pass || fail "explain classifier"
awk -F, 'NR > 1 { s = 0; for (k = 0; k < 5; k++) s += $(5 + 2*k); if (NF != 13 || $1 < 0 || $1 > log(5) + 1e-12 || s < 1 - 1e-9 || s > 1 + 1e-9) bad++ }
  END { exit !(NR == 6 && bad == 0) }' "$TMP/c_out.csv" && pass || fail "classifier rows"
"$HJDL" explain --help | grep -q "particle" && pass || fail "explain --help"

# 5. Bad input: one clear message, exit 2, no output file.
printf 'y,g\n0,0\n1,2,3\n' > "$TMP/ragged.csv"
printf 'x1,x2\n0,nan\n' > "$TMP/xnan.csv"
printf 'HJDL-MODEL 1\ngarbage\n' > "$TMP/bad.hjm"
O="$TMP/never.csv"
expect_fail 2 "missing.csv" -- "$HJDL" explain --atoms "$TMP/missing.csv" --x "$TMP/x.csv" --t 1 --eps 0.1 --out "$O"
expect_fail 2 "ragged.csv:3" -- "$HJDL" explain --atoms "$TMP/ragged.csv" --x "$TMP/x0.csv" --t 1 --eps 0.1 --out "$O"
expect_fail 2 "xnan.csv:2" -- "$HJDL" explain --atoms "$TMP/a.csv" --x "$TMP/xnan.csv" --t 1 --eps 0.1 --out "$O"
expect_fail 2 "x0.csv: points have 1 columns" -- "$HJDL" explain --atoms "$TMP/a.csv" --x "$TMP/x0.csv" --t 1 --eps 0.1 --out "$O"
expect_fail 2 "missing required option --t" -- "$HJDL" explain --atoms "$TMP/a.csv" --x "$TMP/x.csv" --eps 0.1 --out "$O"
expect_fail 2 "missing required option --eps" -- "$HJDL" explain --atoms "$TMP/a.csv" --x "$TMP/x.csv" --t 1 --out "$O"
expect_fail 2 "t must be > 0" -- "$HJDL" explain --atoms "$TMP/a.csv" --x "$TMP/x.csv" --t 0 --eps 0.1 --out "$O"
expect_fail 2 "eps must be >= 0" -- "$HJDL" explain --atoms "$TMP/a.csv" --x "$TMP/x.csv" --t 1 --eps -1 --out "$O"
expect_fail 2 "top 5 exceeds the 4 atoms" -- "$HJDL" explain --atoms "$TMP/a.csv" --x "$TMP/x.csv" --t 1 --eps 0.1 --top 5 --out "$O"
expect_fail 2 "not both" -- "$HJDL" explain "$TMP/m.hjm" --atoms "$TMP/a.csv" --x "$TMP/x.csv" --t 1 --eps 0.1 --out "$O"
expect_fail 2 "give a MODEL" -- "$HJDL" explain --x "$TMP/x.csv" --out "$O"
expect_fail 2 "go with --atoms" -- "$HJDL" explain "$TMP/m.hjm" --x "$TMP/x.csv" --eps 0.1 --out "$O"
expect_fail 2 "missing required option --x" -- "$HJDL" explain "$TMP/m.hjm" --out "$O"
expect_fail 2 "bad.hjm" -- "$HJDL" explain "$TMP/bad.hjm" --x "$TMP/x.csv" --out "$O"
expect_fail 2 "no_model.hjm" -- "$HJDL" explain "$TMP/no_model.hjm" --x "$TMP/x.csv" --out "$O"
expect_fail 2 "no column 'x1'" -- "$HJDL" explain "$TMP/m.hjm" --x "$TMP/x0.csv" --out "$O"
expect_fail 2 "exceeds the 12 neurons" -- "$HJDL" explain "$TMP/m.hjm" --x "$TMP/x.csv" --top 13 --out "$O"
expect_fail 2 "unknown option" -- "$HJDL" explain --atoms "$TMP/a.csv" --bogus 1
expect_fail 2 "" -- "$HJDL" explain --atoms "$TMP/a.csv" --x "$TMP/x.csv" --t 1 --eps 0.1 --out "$TMP/no/such/dir/out.csv"
[ ! -e "$O" ] && pass || fail "partial output file left behind"
ls "$TMP" | grep -q '\.tmp' && fail "temp file left behind" || pass

finish
