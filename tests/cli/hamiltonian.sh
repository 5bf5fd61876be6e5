#!/usr/bin/env bash
# hamiltonian.sh — issue 21, `hjdl hamiltonian`: the HJ reading of a trained sequence model's
# recurrent layer (files, shapes, the co-state = reverse-mode agreement it prints, the layer table),
# and bad input refused with exit 2, one message and no output directory.
source "$3/cli/common.inc"
PY=/usr/bin/python3

"$PY" - "$TMP" <<'EOF'
import sys
import numpy as np
d = sys.argv[1]
r = np.random.default_rng(5)
X = r.normal(size=(30, 6, 3)); y = (X[:, :, 0].sum(axis=1) > 0).astype(int)
np.savez(d + "/xy.npz", X=X, y=y); np.save(d + "/x.npy", X); np.save(d + "/flat.npy", X.reshape(30, 18))
np.savetxt(d + "/vec.csv", np.column_stack([X.reshape(30, 18)[:, :3], y]), delimiter=",", header="a,b,c,y",
           comments="")
EOF
[ -f "$TMP/xy.npz" ] || { echo "numpy could not write the test data"; exit 1; }
FIT=(--eps 0.5 --iters 40 --lr 1e-2 --quiet)

for arch in lstm:4,last,lse-class:2 rnn:3:softplus,mean,lse-class:2 ssm:5,last,lse-class:2 \
            attn:4,lstm:3,last,lse-class:2; do
  rm -rf "$TMP/out"
  "$HJDL" fit --data "$TMP/xy.npz" --arch "$arch" "${FIT[@]}" --out "$TMP/m.hjm" >/dev/null \
    || { fail "fit $arch"; continue; }
  "$HJDL" hamiltonian "$TMP/m.hjm" --x "$TMP/xy.npz" --out "$TMP/out" > "$TMP/out.txt" \
    || { fail "hamiltonian on $arch: exit $?"; continue; }
  # the agreement it prints, parsed and bounded here as well
  line=$(grep '^co-state vs reverse mode' "$TMP/out.txt")
  a=$(printf '%s' "$line" | sed 's/.*dL\/dtheta \([^,]*\),.*/\1/')
  b=$(printf '%s' "$line" | sed 's/.*dL\/du_k \([^ ]*\) .*/\1/')
  awk -v a="$a" -v b="$b" 'BEGIN { exit !(a <= 1e-10 && b <= 1e-10) }' && pass || fail "$arch: $line"
  grep -q 'against the labels given with the data' "$TMP/out.txt" && pass || fail "$arch: labels from the .npz y"
  for f in steps.csv hamiltonian.csv gradients.csv layers.md figure_costate.csv figure_hamiltonian.csv; do
    [ -s "$TMP/out/$f" ] && pass || fail "$arch: $f missing"
  done
  # 30 inputs x 7 steps (0..6) of states; 30 x 6 Hamiltonians
  [ "$(($(wc -l < "$TMP/out/steps.csv") - 1))" -eq 210 ] && pass || fail "$arch: steps.csv rows"
  [ "$(($(wc -l < "$TMP/out/hamiltonian.csv") - 1))" -eq 180 ] && pass || fail "$arch: hamiltonian.csv rows"
  # the co-state gradient column against the reverse-mode column, recomputed from the file
  awk -F, 'NR > 1 { d = $2 - $3; if (d < 0) d = -d; if (d > m) m = d; s = $3 < 0 ? -$3 : $3; if (s > x) x = s }
           END { exit !(m <= 1e-10 * (x > 0 ? x : 1)) }' "$TMP/out/gradients.csv" && pass || fail "$arch: gradients.csv"
  nl=$(tr ',' '\n' <<< "$arch" | wc -l)
  [ "$(grep -c '^| [0-9]' "$TMP/out/layers.md")" -eq "$nl" ] && pass || fail "$arch: one table row per layer"
done
# the stacked model: the lstm (layer 2) by default; --layer 1 is attention, read in depth
expect_fail 2 "depth" -- "$HJDL" hamiltonian "$TMP/m.hjm" --x "$TMP/xy.npz" --layer 1 --out "$TMP/o1"
[ ! -e "$TMP/o1" ] && pass || fail "no directory after a refused --layer"

# ---- bad input: exit 2, one message, nothing written
"$HJDL" fit --data "$TMP/xy.npz" --arch lstm:3,last,lse-class:2 "${FIT[@]}" --out "$TMP/m.hjm" >/dev/null
expect_fail 2 "shape (n, T, d)" -- "$HJDL" hamiltonian "$TMP/m.hjm" --x "$TMP/flat.npy" --out "$TMP/o2"
expect_fail 2 "layers" -- "$HJDL" hamiltonian "$TMP/m.hjm" --x "$TMP/xy.npz" --layer 9 --out "$TMP/o3"
expect_fail 2 "pool\|not a recurrent" -- "$HJDL" hamiltonian "$TMP/m.hjm" --x "$TMP/xy.npz" --layer 2 --out "$TMP/o4"
expect_fail 2 "limit" -- "$HJDL" hamiltonian "$TMP/m.hjm" --x "$TMP/xy.npz" --limit 0 --out "$TMP/o5"
expect_fail 2 "model file" -- "$HJDL" hamiltonian --x "$TMP/xy.npz" --out "$TMP/o6"
"$HJDL" fit --data "$TMP/vec.csv" --arch lse-class:3 "${FIT[@]}" --out "$TMP/v.hjm" >/dev/null
expect_fail 2 "not a sequence model" -- "$HJDL" hamiltonian "$TMP/v.hjm" --x "$TMP/vec.csv" --out "$TMP/o7"
for o in o2 o3 o4 o5 o6 o7; do [ ! -e "$TMP/$o" ] && pass || fail "$o was created"; done
# without labels: the model's own predictions
"$HJDL" hamiltonian "$TMP/m.hjm" --x "$TMP/x.npy" --limit 5 --out "$TMP/o8" | grep -q "own predictions" \
  && pass || fail "labels from the model's predictions"
[ "$(($(wc -l < "$TMP/o8/steps.csv") - 1))" -eq 35 ] && pass || fail "--limit 5"
"$HJDL" hamiltonian --help | grep -q "adjoint recursion" && pass || fail "--help"
finish
