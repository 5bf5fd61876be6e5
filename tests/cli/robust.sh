#!/usr/bin/env bash
# robust.sh — `hjdl certify` and `hjdl attack`: output formats, certificates never beaten by the
# attack, perturbations inside the ball, labels from a file or the last column, and every bad-input path.
source "$3/cli/common.inc"

# data: 3 classes by angle in the plane (x1, x2), 300 points from a fixed LCG
awk 'BEGIN { s = 4242; print "x1,x2,label";
  for (i = 0; i < 300; i++) { s = (s * 1103515245 + 12345) % 2147483648; a = 4*s/2147483648 - 2;
                              s = (s * 1103515245 + 12345) % 2147483648; b = 4*s/2147483648 - 2;
                              t = atan2(b, a); c = (t < -1.0) ? 0 : ((t < 1.2) ? 1 : 2);
                              printf "%.17g,%.17g,%d\n", a, b, c } }' > "$TMP/cls.csv"
cut -d, -f1,2 "$TMP/cls.csv" > "$TMP/x.csv"
{ echo label; tail -n +2 "$TMP/cls.csv" | cut -d, -f3; } > "$TMP/y.csv"
"$HJDL" fit --data "$TMP/cls.csv" --task classification --arch lse-class:4 --eps 0.3 --lr 0.02 --iters 400 \
  --out "$TMP/c.hjm" --quiet > "$TMP/fit.txt" && pass || fail "fit classifier"

# 1. certify: header, one row per point, class = predict's arg-max, radius >= 0
"$HJDL" certify "$TMP/c.hjm" --x "$TMP/x.csv" > "$TMP/cert.csv" && pass || fail "certify"
[ "$(head -1 "$TMP/cert.csv")" = "class,runner_up,margin,radius" ] && pass || fail "certify header"
[ "$(wc -l < "$TMP/cert.csv")" -eq 301 ] && pass || fail "certify rows"
"$HJDL" predict "$TMP/c.hjm" --x "$TMP/x.csv" > "$TMP/pred.csv"
paste -d, "$TMP/cert.csv" "$TMP/pred.csv" | awk -F, 'NR > 1 { if ($1 != $5 || $4 < 0 || $3 < 0 || $1 == $2) bad = 1 } END { exit bad }' \
  && pass || fail "certify class differs from predict, or negative radius/margin"
"$HJDL" certify "$TMP/c.hjm" --x "$TMP/x.csv" --out "$TMP/cert2.csv" && cmp -s "$TMP/cert.csv" "$TMP/cert2.csv" \
  && pass || fail "certify --out differs from stdout"

# 2. attack: clean accuracy = fit's train accuracy; robust <= clean; robust >= certified accuracy at R
for R in 0.05 0.2 0.5; do
  "$HJDL" attack "$TMP/c.hjm" --x "$TMP/cls.csv" --radius "$R" --restarts 3 --out "$TMP/adv.csv" > "$TMP/att.txt" \
    && pass || fail "attack l2 R=$R"
  clean=$(awk '/^clean accuracy/ { print $3 }' "$TMP/att.txt"); robust=$(awk '/^robust accuracy/ { print $3 }' "$TMP/att.txt")
  train=$(awk '/^train accuracy/ { print $3 }' "$TMP/fit.txt")
  [ "$clean" = "$train" ] && pass || fail "clean accuracy $clean != train accuracy $train"
  certacc=$(paste -d, "$TMP/cert.csv" "$TMP/cls.csv" | awk -F, -v R="$R" 'NR > 1 { n++; if ($1 == $7 && $4 >= R) k++ } END { printf "%.4f", k / n }')
  awk -v c="$clean" -v r="$robust" -v z="$certacc" 'BEGIN { exit !(r <= c && z <= r) }' \
    && pass || fail "R=$R: need certified $certacc <= robust $robust <= clean $clean"
  # every adversarial point lies in the l2 ball; header ends with label,adv_class
  [ "$(head -1 "$TMP/adv.csv")" = "x1,x2,label,adv_class" ] && pass || fail "adversarial header"
  paste -d, "$TMP/adv.csv" "$TMP/x.csv" | awk -F, -v R="$R" 'NR > 1 { d = sqrt(($1-$5)^2 + ($2-$6)^2); if (d > R * (1 + 1e-12)) bad = 1 } END { exit bad }' \
    && pass || fail "R=$R: adversarial point outside the l2 ball"
done
# linf ball, FGSM, cross-entropy, labels from a file give the same numbers as the last column
"$HJDL" attack "$TMP/c.hjm" --x "$TMP/cls.csv" --radius 0.1 --norm inf --out "$TMP/advi.csv" > /dev/null && pass || fail "attack linf"
paste -d, "$TMP/advi.csv" "$TMP/x.csv" | awk -F, 'NR > 1 { a = $1-$5; b = $2-$6; if (a < 0) a = -a; if (b < 0) b = -b; if (a > 0.1 + 1e-15 || b > 0.1 + 1e-15) bad = 1 } END { exit bad }' \
  && pass || fail "adversarial point outside the linf ball"
"$HJDL" attack "$TMP/c.hjm" --x "$TMP/cls.csv" --radius 0.2 --method fgsm --loss xent | grep -q '^robust accuracy' && pass || fail "fgsm xent"
"$HJDL" attack "$TMP/c.hjm" --x "$TMP/cls.csv" --radius 0.2 > "$TMP/a1.txt"
"$HJDL" attack "$TMP/c.hjm" --x "$TMP/x.csv" --labels "$TMP/y.csv" --radius 0.2 > "$TMP/a2.txt"
cmp -s "$TMP/a1.txt" "$TMP/a2.txt" && pass || fail "--labels differs from the last column"

# 3. bad input: one line on stderr, exit 2, no output file
"$HJDL" fit --data "$TMP/cls.csv" --task classification --arch dense:3,lse-class:2 --eps 0.3 --iters 5 --out "$TMP/deep.hjm" --quiet > /dev/null
cut -d, -f1 "$TMP/cls.csv" | awk -F, 'NR == 1 { print "x1,y"; next } { print $1 "," ($1 * $1) }' > "$TMP/reg.csv"
"$HJDL" fit --data "$TMP/reg.csv" --arch lse:4 --eps 0.3 --iters 5 --out "$TMP/reg.hjm" --quiet > /dev/null
expect_fail 2 "hidden layers" -- "$HJDL" certify "$TMP/deep.hjm" --x "$TMP/x.csv" --out "$TMP/no1.csv"
[ ! -e "$TMP/no1.csv" ] && pass || fail "certify left an output file after failing"
expect_fail 2 "regression" -- "$HJDL" certify "$TMP/reg.hjm" --x "$TMP/x.csv"
expect_fail 2 "regression" -- "$HJDL" attack "$TMP/reg.hjm" --x "$TMP/cls.csv" --radius 1
"$HJDL" certify "$TMP/c.hjm" --x "$TMP/cls.csv" > /dev/null && pass || fail "certify refuses the training file"
expect_fail 2 "label column" -- "$HJDL" attack "$TMP/c.hjm" --x "$TMP/x.csv" --radius 1
expect_fail 2 "radius" -- "$HJDL" attack "$TMP/c.hjm" --x "$TMP/cls.csv"
expect_fail 2 "radius" -- "$HJDL" attack "$TMP/c.hjm" --x "$TMP/cls.csv" --radius 0
expect_fail 2 "radius" -- "$HJDL" attack "$TMP/c.hjm" --x "$TMP/cls.csv" --radius -1
expect_fail 2 "norm" -- "$HJDL" attack "$TMP/c.hjm" --x "$TMP/cls.csv" --radius 1 --norm 3
expect_fail 2 "method" -- "$HJDL" attack "$TMP/c.hjm" --x "$TMP/cls.csv" --radius 1 --method cw
expect_fail 2 "restarts" -- "$HJDL" attack "$TMP/c.hjm" --x "$TMP/cls.csv" --radius 1 --restarts 0
expect_fail 2 "steps" -- "$HJDL" attack "$TMP/c.hjm" --x "$TMP/cls.csv" --radius 1 --steps 0
awk -F, 'NR == 1 { print; next } { print $1 "," $2 "," (NR == 5 ? 7 : $3) }' "$TMP/cls.csv" > "$TMP/badlab.csv"
expect_fail 2 "label '7'" -- "$HJDL" attack "$TMP/c.hjm" --x "$TMP/badlab.csv" --radius 1 --out "$TMP/no2.csv"
[ ! -e "$TMP/no2.csv" ] && pass || fail "attack left an output file after failing"
head -50 "$TMP/y.csv" > "$TMP/yshort.csv"
expect_fail 2 "label column with 300 rows" -- "$HJDL" attack "$TMP/c.hjm" --x "$TMP/x.csv" --labels "$TMP/yshort.csv" --radius 1
expect_fail 2 "model file" -- "$HJDL" certify --x "$TMP/x.csv"
expect_fail 2 "" -- "$HJDL" certify "$TMP/missing.hjm" --x "$TMP/x.csv"
"$HJDL" certify --help | grep -q "certified radius" && pass || fail "certify --help"
"$HJDL" attack --help | grep -q -- "--restarts" && pass || fail "attack --help"
finish
