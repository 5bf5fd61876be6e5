#!/usr/bin/env bash
# fit.sh — `hjdl fit/predict/initial-data/info`: round trips, the HJ reading of a trained
# lse model checked through `hjdl solve`, determinism, and every bad-input path.
source "$3/cli/common.inc"

# data: y = |x| on [-2,2]^2 (train 300, test 100), written by awk with a fixed LCG
awk 'BEGIN { s = 12345; print "x1,x2,y";
  for (i = 0; i < 400; i++) { s = (s * 1103515245 + 12345) % 2147483648; a = 4*s/2147483648 - 2;
                              s = (s * 1103515245 + 12345) % 2147483648; b = 4*s/2147483648 - 2;
                              printf "%.17g,%.17g,%.17g\n", a, b, sqrt(a*a+b*b) } }' > "$TMP/all.csv"
head -301 "$TMP/all.csv" > "$TMP/train.csv"
{ head -1 "$TMP/all.csv"; tail -100 "$TMP/all.csv"; } > "$TMP/test.csv"
cut -d, -f1,2 "$TMP/train.csv" > "$TMP/xtrain.csv"

# 1. fit prints metrics; predict reproduces the in-memory predictions bit for bit
"$HJDL" fit --data "$TMP/train.csv" --test "$TMP/test.csv" --arch lse:20 --eps 0.2 --lr 0.01 --iters 300 \
  --no-target-scaling --out "$TMP/m.hjm" --train-predictions "$TMP/mem.csv" --quiet > "$TMP/fit.txt" && pass || fail "fit"
grep -q '^test rmse ' "$TMP/fit.txt" && pass || fail "no test rmse line"
awk '/^test rmse/ { exit !($3 < 0.5) }' "$TMP/fit.txt" && pass || fail "test rmse not below 0.5 (trained nothing?)"
"$HJDL" predict "$TMP/m.hjm" --x "$TMP/xtrain.csv" --out "$TMP/pred.csv" && pass || fail "predict"
cmp -s "$TMP/mem.csv" "$TMP/pred.csv" && pass || fail "predict differs from the in-memory predictions"

# 2. initial-data atoms through `hjdl solve` give the same f as predict (f = |x|^2/(4t) - u)
"$HJDL" initial-data "$TMP/m.hjm" > "$TMP/atoms.csv" && pass || fail "initial-data"
[ "$(head -1 "$TMP/atoms.csv")" = "y_1,y_2,g" ] && pass || fail "atoms header"
[ "$(wc -l < "$TMP/atoms.csv")" -eq 21 ] && pass || fail "20 atoms expected"
"$HJDL" solve --atoms "$TMP/atoms.csv" --x "$TMP/xtrain.csv" --t 1 --eps 0.2 > "$TMP/solve.csv" && pass || fail "solve on atoms"
paste -d, "$TMP/pred.csv" "$TMP/solve.csv" | awk -F, 'NR > 1 { e = $1 - $3; if (e < 0) e = -e; s = ($1 < 0 ? -$1 : $1); if (s < 1) s = 1;
  if (e / s > m) m = e / s } END { print "initial-data -> solve max rel diff", m; exit !(m < 1e-9) }' && pass || fail "solve(atoms) != predict"
# at another t the atoms differ but f is the same function of x
"$HJDL" initial-data "$TMP/m.hjm" --t 2.5 > "$TMP/atoms25.csv" && pass || fail "initial-data --t"
"$HJDL" solve --atoms "$TMP/atoms25.csv" --x "$TMP/xtrain.csv" --t 2.5 --eps 0.2 > "$TMP/solve25.csv"
paste -d, "$TMP/pred.csv" "$TMP/solve25.csv" | awk -F, 'NR > 1 { e = $1 - $3; if (e < 0) e = -e; if (e > m) m = e } END { exit !(m < 1e-9) }' \
  && pass || fail "solve(atoms at t=2.5) != predict"

# 3. same seed -> identical model file; another seed -> different
"$HJDL" fit --data "$TMP/train.csv" --arch lse:20 --eps 0.2 --lr 0.01 --iters 300 --no-target-scaling --out "$TMP/m2.hjm" --quiet > /dev/null
cmp -s "$TMP/m.hjm" "$TMP/m2.hjm" && pass || fail "same seed gave a different model"
"$HJDL" fit --data "$TMP/train.csv" --arch lse:20 --eps 0.2 --lr 0.01 --iters 300 --seed 2 --out "$TMP/m3.hjm" --quiet > /dev/null
cmp -s "$TMP/m.hjm" "$TMP/m3.hjm" && fail "another seed gave the same model" || pass

# 4. every optimiser, deep stacks, mini-batches, attribution, info
for o in sgd lbfgs adam+lbfgs; do
  "$HJDL" fit --data "$TMP/train.csv" --arch lse:10 --eps 0.3 --optimizer "$o" --lr 0.01 --iters 50 --lbfgs-iters 20 \
    --out "$TMP/o.hjm" --quiet > /dev/null && pass || fail "optimizer $o"
done
"$HJDL" fit --data "$TMP/train.csv" --holdout 0.25 --arch dense:6,resnet:6,gibbs:4,lse:8 --eps 0.5 --batch 32 --epochs 3 \
  --lr 0.01 --standardize --out "$TMP/deep.hjm" --quiet > "$TMP/deep.txt" && pass || fail "deep stack"
grep -q '^test rmse' "$TMP/deep.txt" && pass || fail "holdout test metrics"
"$HJDL" predict "$TMP/m.hjm" --x "$TMP/xtrain.csv" --attribution 3 | head -1 | grep -qx 'prediction,neuron_1,pi_1,neuron_2,pi_2,neuron_3,pi_3' \
  && pass || fail "attribution header"
"$HJDL" predict "$TMP/m.hjm" --x "$TMP/xtrain.csv" --attribution 3 | awk -F, 'NR > 1 { if ($3 < $5 || $5 < $7 || $3 > 1 || $7 < 0) bad = 1 } END { exit bad }' \
  && pass || fail "attribution not sorted probabilities"
"$HJDL" info "$TMP/deep.hjm" | grep -q 'arch *dense:6,resnet:6,gibbs:4,lse:8' && pass || fail "info"
"$HJDL" initial-data "$TMP/deep.hjm" 2>&1 >/dev/null | grep -q "readout's input space" && pass || fail "initial-data note"

# 5. classification from CSV: labels in the last column
awk -F, 'NR == 1 { print "x1,x2,label"; next } { print $1 "," $2 "," ($1 * $2 > 0 ? 1 : 0) }' "$TMP/train.csv" > "$TMP/cls.csv"
"$HJDL" fit --data "$TMP/cls.csv" --task classification --arch lse-class:8 --eps 0.3 --lr 0.02 --iters 300 --out "$TMP/c.hjm" --quiet \
  > "$TMP/cls.txt" && pass || fail "classification fit"
awk '/^train accuracy/ { exit !($3 > 0.7) }' "$TMP/cls.txt" && pass || fail "classification accuracy"
"$HJDL" predict "$TMP/c.hjm" --x "$TMP/xtrain.csv" --proba | head -1 | grep -qx 'class,p_0,p_1' && pass || fail "classifier output header"

# 6. bad input: one message, exit 2, no model file written
O="$TMP/never.hjm"
printf 'x,y\n1,2\n3\n' > "$TMP/ragged.csv"
printf 'x,y\n0.5,0\n1,nan\n' > "$TMP/badlab.csv"
expect_fail 2 "ragged.csv:3" -- "$HJDL" fit --data "$TMP/ragged.csv" --arch lse:3 --eps 1 --out "$O"
expect_fail 2 "keeps its width" -- "$HJDL" fit --data "$TMP/train.csv" --arch resnet:12,lse:4 --eps 1 --out "$O"
expect_fail 2 "eps must be >= 0" -- "$HJDL" fit --data "$TMP/train.csv" --arch lse:3 --eps -1 --out "$O"
expect_fail 2 "lr must be > 0" -- "$HJDL" fit --data "$TMP/train.csv" --arch lse:3 --eps 1 --lr 0 --out "$O"
expect_fail 2 "width must be" -- "$HJDL" fit --data "$TMP/train.csv" --arch lse:0 --eps 1 --out "$O"
expect_fail 2 "'nan' is not a class" -- "$HJDL" fit --data "$TMP/badlab.csv" --task classification --arch lse-class:3 --eps 1 --out "$O"
expect_fail 2 "unknown" -- "$HJDL" fit --data "$TMP/train.csv" --arch lse:3 --eps 1 --optimizer newton --out "$O"
expect_fail 2 "exactly one of" -- "$HJDL" fit --arch lse:3 --eps 1 --out "$O"
expect_fail 2 "--epochs needs --batch" -- "$HJDL" fit --data "$TMP/train.csv" --arch lse:3 --eps 1 --epochs 2 --out "$O"
expect_fail 2 "no such column" -- "$HJDL" fit --data "$TMP/train.csv" --target nope --arch lse:3 --eps 1 --out "$O"
expect_fail 2 "exceeds" -- "$HJDL" fit --data "$TMP/train.csv" --arch lse:3 --eps 1 --batch 1000 --out "$O"
[ ! -e "$O" ] && pass || fail "a model file was written on bad input"
# corrupt / truncated / foreign model files
sed 's/^eps .*/eps 0.3/' "$TMP/m.hjm" > "$TMP/corrupt.hjm"
head -c 300 "$TMP/m.hjm" > "$TMP/trunc.hjm"
expect_fail 2 "checksum mismatch" -- "$HJDL" predict "$TMP/corrupt.hjm" --x "$TMP/xtrain.csv"
expect_fail 2 "truncated" -- "$HJDL" predict "$TMP/trunc.hjm" --x "$TMP/xtrain.csv"
expect_fail 2 "not an hjdl model" -- "$HJDL" predict "$TMP/train.csv" --x "$TMP/xtrain.csv"
cut -d, -f1 "$TMP/train.csv" > "$TMP/x1only.csv"
expect_fail 2 "no column 'x2'" -- "$HJDL" predict "$TMP/m.hjm" --x "$TMP/x1only.csv"
expect_fail 2 "exceeds the 20 neurons" -- "$HJDL" predict "$TMP/m.hjm" --x "$TMP/xtrain.csv" --attribution 21
expect_fail 2 "No such file" -- "$HJDL" info "$TMP/none.hjm"
finish
