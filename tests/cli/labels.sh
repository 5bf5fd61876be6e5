#!/usr/bin/env bash
# labels.sh — issue 16: class labels and feature names kept by `hjdl fit`, columns chosen by
# name in predict/certify/attack, target scaling, --eps auto, --cv, early refusal, bad labels.
source "$3/cli/common.inc"

# two blobs in the plane by a fixed LCG; labels 1 / 5 and cat / dog; a regression target
awk 'BEGIN { s = 4242; print "a,b,y";
  for (i = 0; i < 160; i++) { s = (s * 1103515245 + 12345) % 2147483648; a = 4*s/2147483648 - 2;
                              s = (s * 1103515245 + 12345) % 2147483648; b = 4*s/2147483648 - 2;
                              printf "%.6f,%.6f,%d\n", a, b, (a + 0.5*b > 0) ? 5 : 1 } }' > "$TMP/num.csv"
sed -e '2,$s/,5$/,cat/' -e '2,$s/,1$/,dog/' "$TMP/num.csv" > "$TMP/str.csv"
awk -F, 'NR == 1 { print "a,b,z"; next } { printf "%s,%s,%.6f\n", $1, $2, 1000 + 300*$1 - 200*$2 }' "$TMP/num.csv" > "$TMP/reg.csv"

# labels {1, 5}: the model keeps them; predict answers only 1 or 5; info lists them
"$HJDL" fit --data "$TMP/num.csv" --arch lse-class:4 --eps 0.1 --lr 0.05 --iters 200 --out "$TMP/num.hjm" --quiet \
  > "$TMP/fit1.txt" && pass || fail "fit on labels 1,5 (lse-class implies classification)"
"$HJDL" info "$TMP/num.hjm" | grep -qx 'classes      2: 1, 5' && pass || fail "info lists the classes 1, 5"
"$HJDL" predict "$TMP/num.hjm" --x "$TMP/num.csv" --out "$TMP/p1.csv" && pass || fail "predict on the training file"
[ "$(tail -n +2 "$TMP/p1.csv" | sort -u | tr '\n' ' ')" = "1 5 " ] && pass || fail "predictions are not the labels {1, 5}"
paste -d, "$TMP/num.csv" "$TMP/p1.csv" | awk -F, 'NR > 1 { n++; ok += ($3 == $4) } END { exit !(ok / n > 0.9) }' \
  && pass || fail "predicted labels do not match the given ones (accuracy <= 0.9)"
"$HJDL" predict "$TMP/num.hjm" --x "$TMP/num.csv" --proba | head -1 | grep -qx 'class,p_1,p_5' && pass || fail "--proba header"

# string labels round-trip
"$HJDL" fit --data "$TMP/str.csv" --arch lse-class:4 --eps 0.1 --lr 0.05 --iters 200 --out "$TMP/str.hjm" --quiet \
  >/dev/null && pass || fail "fit on string labels"
"$HJDL" predict "$TMP/str.hjm" --x "$TMP/str.csv" --proba --out "$TMP/p2.csv" && pass || fail "predict, string labels"
head -1 "$TMP/p2.csv" | grep -qx 'class,p_cat,p_dog' && pass || fail "string --proba header"
# same model on the same data: cat exactly where the numeric model says 5
paste -d, "$TMP/p1.csv" "$TMP/p2.csv" | awk -F, 'NR > 1 { bad += (($1 == 5) != ($2 == "cat")) } END { exit bad }' \
  && pass || fail "string-label predictions differ from the numeric-label ones"
expect_fail 2 "cannot hold" -- "$HJDL" predict "$TMP/str.hjm" --x "$TMP/str.csv" --out "$TMP/p2.npy"

# swapped columns give the same predictions; a missing column is named
awk -F, -v OFS=, '{ print $3, $2, $1 }' "$TMP/num.csv" > "$TMP/swap.csv"
"$HJDL" predict "$TMP/num.hjm" --x "$TMP/swap.csv" --out "$TMP/p3.csv" && cmp -s "$TMP/p1.csv" "$TMP/p3.csv" \
  && pass || fail "swapped columns change the predictions"
cut -d, -f1,3 "$TMP/num.csv" > "$TMP/noa.csv"
expect_fail 2 "no column 'b'" -- "$HJDL" predict "$TMP/num.hjm" --x "$TMP/noa.csv"

# the training file is accepted by certify and attack (string labels too)
"$HJDL" certify "$TMP/num.hjm" --x "$TMP/num.csv" > "$TMP/cert.txt" && pass || fail "certify on the training file"
"$HJDL" attack "$TMP/num.hjm" --x "$TMP/num.csv" --radius 0.05 > "$TMP/att.txt" && pass || fail "attack on the training file"
sed -e '2,$s/,5$/,cat/' -e '2,$s/,1$/,dog/' "$TMP/num.csv" | awk -F, -v OFS=, '{ print $3, $2, $1 }' > "$TMP/strswap.csv"
"$HJDL" attack "$TMP/str.hjm" --x "$TMP/strswap.csv" --radius 0.05 > "$TMP/att2.txt" && pass || fail "attack, string labels, swapped"
# clean accuracy of attack = the fraction predict gets right
acc=$(paste -d, "$TMP/num.csv" "$TMP/p1.csv" | awk -F, 'NR > 1 { n++; ok += ($3 == $4) } END { printf "%.4f", ok / n }')
grep -qx "clean accuracy $acc" "$TMP/att.txt" && pass || fail "attack's clean accuracy != predict's ($acc)"

# unknown --target lists the columns; lse-class with --task regression names --task
expect_fail 2 "its columns are: a, b, y" -- "$HJDL" fit --data "$TMP/num.csv" --target y2 --arch lse-class:4 --eps 0.1 --out "$TMP/x.hjm"
expect_fail 2 "task classification" -- "$HJDL" fit --data "$TMP/num.csv" --task regression --arch lse-class:4 --eps 0.1 --out "$TMP/x.hjm"

# --out DIR fails before any work (under a second, on a big iteration count)
expect_fail 2 "is a directory" -- "$HJDL" fit --data "$TMP/num.csv" --arch lse-class:64 --eps 0.1 --iters 10000000 --out "$TMP"
t0=$(date +%s%N)
"$HJDL" fit --data "$TMP/num.csv" --arch lse-class:64 --eps 0.1 --iters 10000000 --out "$TMP" 2>/dev/null
t1=$(date +%s%N)
# 10^7 iterations would train for minutes; the refusal is immediate (under 1 s in Release; the
# bound leaves room for a sanitizer build on a loaded machine)
[ $(( (t1 - t0) / 1000000 )) -lt 3000 ] && pass || fail "--out DIR took $(( (t1 - t0) / 1000000 )) ms"
expect_fail 2 "does not exist" -- "$HJDL" fit --data "$TMP/num.csv" --arch lse-class:4 --eps 0.1 --out "$TMP/no/such/m.hjm"
expect_fail 2 "add --validation" -- "$HJDL" fit --data "$TMP/num.csv" --arch lse-class:4 --eps 0.1 --patience 3 --out "$TMP/x.hjm"

# bad input: one message, exit 2, no model
{ head -5 "$TMP/num.csv"; echo "0.1,0.2,nan"; tail -n +6 "$TMP/num.csv"; } > "$TMP/nan.csv"
expect_fail 2 "nan" -- "$HJDL" fit --data "$TMP/nan.csv" --arch lse-class:4 --eps 0.1 --out "$TMP/bad1.hjm"
{ head -5 "$TMP/str.csv"; echo "0.1,0.2,"; tail -n +6 "$TMP/str.csv"; } > "$TMP/empty.csv"
expect_fail 2 "empty class label" -- "$HJDL" fit --data "$TMP/empty.csv" --arch lse-class:4 --eps 0.1 --out "$TMP/bad2.hjm"
{ head -1 "$TMP/str.csv"; echo "0.1,0.2,bird"; } > "$TMP/bird.csv"
expect_fail 2 "class 'bird' is not one of the training classes" -- "$HJDL" fit --data "$TMP/str.csv" --test "$TMP/bird.csv" \
  --arch lse-class:4 --eps 0.1 --out "$TMP/bad3.hjm"
sed '1s/.*/a,a,y/' "$TMP/num.csv" > "$TMP/clash.csv"
expect_fail 2 "both named 'a'" -- "$HJDL" fit --data "$TMP/clash.csv" --arch lse-class:4 --eps 0.1 --out "$TMP/bad4.hjm"
ls "$TMP"/bad*.hjm >/dev/null 2>&1 && fail "a refused fit left a model" || pass

# regression: target scaling stored; --eps auto picks from the grid and stores the curve
"$HJDL" fit --data "$TMP/reg.csv" --arch lse:8 --eps auto --standardize --lr 0.02 --iters 300 --out "$TMP/reg.hjm" \
  --quiet > "$TMP/fit3.txt" && pass || fail "fit --eps auto"
[ "$(grep -c '^eps_curve ' "$TMP/fit3.txt")" -eq 8 ] && pass || fail "eps curve not printed"
chosen=$(awk '/^eps chosen/ { print $3 }' "$TMP/fit3.txt")
best=$(awk '/^eps_curve/ { if (!seen || $5 <= b) { b = $5; e = $2; seen = 1 } } END { print e }' "$TMP/fit3.txt")
[ -n "$chosen" ] && [ "$chosen" = "$best" ] && pass || fail "chosen eps $chosen is not the lowest validation loss ($best)"
"$HJDL" info "$TMP/reg.hjm" | grep -q "(chosen)" && pass || fail "info shows no eps curve"
"$HJDL" info "$TMP/reg.hjm" | grep -q "^target scale" && pass || fail "target scaling not stored"
# --proba is for classifiers: refused on a regression model, nothing written
expect_fail 2 "is a regression model" -- "$HJDL" predict "$TMP/reg.hjm" --x "$TMP/reg.csv" --proba --out "$TMP/pr.csv"
[ ! -e "$TMP/pr.csv" ] && pass || fail "predict --proba on a regression model left an output"
# the target is in the thousands: a model without scaling would be far off; with it, RMSE < 5 % of sd (~360)
"$HJDL" predict "$TMP/reg.hjm" --x "$TMP/reg.csv" --out "$TMP/p4.csv" && pass || fail "predict regression"
paste -d, "$TMP/reg.csv" "$TMP/p4.csv" | awk -F, 'NR > 1 { n++; s += ($3 - $4)^2 } END { exit !(sqrt(s / n) < 60) }' \
  && pass || fail "regression with target scaling: RMSE >= 60"

# --cv K prints K folds and a mean, writes no model; --cv with --out is refused naming the fix
"$HJDL" fit --data "$TMP/num.csv" --arch lse-class:4 --eps 0.1 --lr 0.05 --iters 100 --cv 4 > "$TMP/cv.txt" \
  && pass || fail "fit --cv"
[ "$(grep -c '^cv fold ' "$TMP/cv.txt")" -eq 4 ] && grep -q '^cv accuracy ' "$TMP/cv.txt" && pass || fail "cv output"
expect_fail 2 "drop --out" -- "$HJDL" fit --data "$TMP/num.csv" --arch lse-class:4 --eps 0.1 --cv 4 --out "$TMP/cv.hjm"
# weight decay shrinks the weights (info's max |w_j|)
"$HJDL" fit --data "$TMP/num.csv" --arch lse-class:4 --eps 0.1 --lr 0.05 --iters 200 --weight-decay 1 --out "$TMP/wd.hjm" \
  --quiet > /dev/null && pass || fail "fit --weight-decay"
w0=$("$HJDL" info "$TMP/num.hjm" | awk '/^max \|w_j\|/ { print $3 }')
w1=$("$HJDL" info "$TMP/wd.hjm" | awk '/^max \|w_j\|/ { print $3 }')
awk -v a="$w0" -v b="$w1" 'BEGIN { exit !(b < a) }' && pass || fail "weight decay did not shrink max|w| ($w0 -> $w1)"
finish
