#!/usr/bin/env bash
# sequence.sh — issue 21, sequence data: fit and predict on (n, T, d) .npy/.npz inputs, long CSV by
# --sequence-id, --dataset fashion-mnist --sequence rows|columns, model files of format 3, and every
# bad sequence input refused with exit 2, one message and no output file.
source "$3/cli/common.inc"
PY=/usr/bin/python3

# a small synthetic set: 40 sequences of T = 5 steps of d = 2 features, 3 classes; bad variants
"$PY" - "$TMP" <<'EOF'
import sys
import numpy as np
d = sys.argv[1]
r = np.random.default_rng(21)
X = r.normal(size=(40, 5, 2)); y = r.integers(0, 3, 40)
np.save(d + "/x.npy", X); np.save(d + "/y.npy", y); np.save(d + "/y2.npy", y.reshape(40, 1).astype(float))
np.save(d + "/yreg.npy", X.sum(axis=(1, 2)))
np.savez(d + "/xy.npz", X=X, y=y); np.savez(d + "/xonly.npz", X=X)
np.savez(d + "/x2d.npz", X=X.reshape(40, 10), y=y)
np.save(d + "/xf.npy", np.asfortranarray(X))
np.save(d + "/flat.npy", X.reshape(40, 10))
np.save(d + "/t4.npy", X[:, :4, :]); np.save(d + "/d3.npy", np.concatenate([X, X[:, :, :1]], axis=2))
np.save(d + "/x4d.npy", X.reshape(40, 5, 2, 1))
np.save(d + "/short_y.npy", y[:39])
np.savez(d + "/bady.npz", X=X, y=y[:30])
Xn = X.copy(); Xn[3, 2, 1] = np.nan; np.save(d + "/xnan.npy", Xn)
Xi = X.copy(); Xi[0, 4, 0] = np.inf; np.save(d + "/xinf.npy", Xi)
with open(d + "/ylab.csv", "w") as f:
    f.write("label\n"); f.writelines("%s\n" % ("cat" if v == 1 else "dog" if v == 2 else "emu") for v in y)
# the same sequences as a long table, one row per step, with the id first
with open(d + "/long.csv", "w") as f:
    f.write("id,u,v\n")
    for i in range(40):
        for k in range(5):
            f.write("%d,%.17g,%.17g\n" % (100 + i, X[i, k, 0], X[i, k, 1]))
# sequence 3 (id 102, from line 12) has 4 steps
with open(d + "/ragged.csv", "w") as f:
    f.write("id,u,v\n")
    for i in range(6):
        for k in range(4 if i == 2 else 5):
            f.write("%d,%.17g,%.17g\n" % (100 + i, X[i, k, 0], X[i, k, 1]))
np.savetxt(d + "/vec.csv", np.column_stack([X.reshape(40, 10)[:, :3], y]), delimiter=",",
           header="a,b,c,y", comments="")
EOF
[ -f "$TMP/x.npy" ] || { echo "numpy could not write the test data"; exit 1; }
ARCH=rnn:4,last,lse-class:3
FIT=(--eps 0.1 --iters 5 --quiet)

# ---- fit + predict round trip on (n, T, d) .npy with labels in a second file
"$HJDL" fit --data "$TMP/x.npy" --y "$TMP/y.npy" --arch $ARCH "${FIT[@]}" --out "$TMP/m.hjm" >/dev/null \
  && pass || fail "fit on x.npy (40, 5, 2) with --y y.npy"
head -4 "$TMP/m.hjm" | tr '\n' ' ' | grep -qx "HJDL-MODEL 3 arch $ARCH d_in 10 steps 5 " \
  && pass || fail "the model file is format 3 with a steps line"
"$HJDL" info "$TMP/m.hjm" | grep -q '^sequences    5 steps of 2 features' && pass || fail "info shows the steps"
"$HJDL" predict "$TMP/m.hjm" --x "$TMP/x.npy" --out "$TMP/p.csv" && pass || fail "predict on x.npy"
[ "$(wc -l < "$TMP/p.csv")" -eq 41 ] && head -1 "$TMP/p.csv" | grep -qx class && pass || fail "predict: 40 classes"
tail -n +2 "$TMP/p.csv" | grep -qvx '[012]' && fail "predicted classes outside 0..2" || pass
"$HJDL" predict "$TMP/m.hjm" --x "$TMP/x.npy" --proba | head -1 | grep -qx 'class,p_0,p_1,p_2' \
  && pass || fail "--proba header on a sequence model"
"$HJDL" predict "$TMP/m.hjm" --x "$TMP/xy.npz" --out "$TMP/pz.csv" && cmp -s "$TMP/p.csv" "$TMP/pz.csv" \
  && pass || fail "predict on the .npz X gives the .npy predictions"
"$HJDL" predict "$TMP/m.hjm" --x "$TMP/xf.npy" --out "$TMP/pf.csv" && cmp -s "$TMP/p.csv" "$TMP/pf.csv" \
  && pass || fail "a Fortran-order (n, T, d) .npy gives the C-order predictions"
"$HJDL" predict "$TMP/m.hjm" --x "$TMP/long.csv" --sequence-id id --out "$TMP/pl.csv" && cmp -s "$TMP/p.csv" "$TMP/pl.csv" \
  && pass || fail "the long CSV of the same sequences gives the same predictions"
"$HJDL" explain "$TMP/m.hjm" --x "$TMP/x.npy" --top 2 --out "$TMP/e.csv" && [ "$(wc -l < "$TMP/e.csv")" -eq 41 ] \
  && pass || fail "explain on a sequence model"

"$HJDL" attack "$TMP/m.hjm" --x "$TMP/xy.npz" --radius 0.1 --steps 3 | grep -qx 'points 40' \
  && pass || fail "attack on a sequence model, labels from the .npz y"
"$HJDL" predict "$TMP/m.hjm" --x "$TMP/x.npy" --attribution 1 | head -1 | grep -qx 'class,neuron_1,pi_1' \
  && pass || fail "predict --attribution on a sequence model"

# the same training through the other inputs: (n, 1) labels, an .npz with X and y, text labels, long CSV
"$HJDL" fit --data "$TMP/x.npy" --y "$TMP/y2.npy" --arch $ARCH "${FIT[@]}" --out "$TMP/m2.hjm" >/dev/null \
  && pass || fail "fit with (n, 1) labels"
"$HJDL" fit --data "$TMP/xy.npz" --arch lstm:3,mean,lse-class:3 "${FIT[@]}" --standardize --holdout 0.25 \
  --out "$TMP/mz.hjm" > "$TMP/fz.txt" && grep -q '^test accuracy' "$TMP/fz.txt" && pass || fail "fit on xy.npz with --holdout"
grep -qx 'preprocess standardize' "$TMP/mz.hjm" && pass || fail "the standardisation is stored"
# per-feature standardisation: the stored mean repeats the 2 feature means of all steps and points
"$PY" - "$TMP" <<'EOF' && pass || fail "--standardize on sequences is not per feature over all steps"
import sys
import numpy as np
d = sys.argv[1]
lines = open(d + "/mz.hjm").read().split("\n")
mean = np.array([float(v) for v in next(l for l in lines if l.startswith("mean ")).split()[1:]])
scale = np.array([float(v) for v in next(l for l in lines if l.startswith("scale ")).split()[1:]])
X = np.load(d + "/x.npy")
# the training part of --holdout 0.25 is a shuffled 30 of the 40: recover it from the means alone
# is not possible, so check the structure: T copies of one d-vector, and plausible values
assert mean.shape == (10,) and scale.shape == (10,)
assert np.all(mean.reshape(5, 2) == mean[:2]) and np.all(scale.reshape(5, 2) == scale[:2])
assert np.all(np.abs(mean[:2] - X.reshape(-1, 2).mean(axis=0)) < 0.5)
EOF
"$HJDL" fit --data "$TMP/x.npy" --y "$TMP/y.npy" --arch $ARCH "${FIT[@]}" --standardize --out "$TMP/ms.hjm" >/dev/null \
  && pass || fail "fit --standardize on all 40 sequences"
"$PY" - "$TMP" <<'EOF' && pass || fail "standardisation means and scales differ from numpy's per-feature ones"
import sys
import numpy as np
d = sys.argv[1]
lines = open(d + "/ms.hjm").read().split("\n")
mean = np.array([float(v) for v in next(l for l in lines if l.startswith("mean ")).split()[1:]])
scale = np.array([float(v) for v in next(l for l in lines if l.startswith("scale ")).split()[1:]])
F = np.load(d + "/x.npy").reshape(-1, 2)   # every step of every sequence: one row of d features
assert np.allclose(mean, np.tile(F.mean(axis=0), 5), rtol=0, atol=1e-12)
assert np.allclose(scale, np.tile(F.std(axis=0), 5), rtol=1e-12, atol=0)
EOF
"$HJDL" fit --data "$TMP/x.npy" --y "$TMP/ylab.csv" --arch $ARCH "${FIT[@]}" --out "$TMP/mt.hjm" >/dev/null \
  && pass || fail "fit with text labels from a CSV column"
"$HJDL" predict "$TMP/mt.hjm" --x "$TMP/x.npy" | tail -n +2 | grep -qvxE 'cat|dog|emu' && fail "text labels not kept" || pass
"$HJDL" fit --data "$TMP/long.csv" --sequence-id id --y "$TMP/y.npy" --arch $ARCH "${FIT[@]}" --out "$TMP/ml.hjm" \
  >/dev/null && pass || fail "fit on a long CSV with --sequence-id"
cmp -s <(grep -v '^crc32' "$TMP/m.hjm") <(grep -v '^crc32' "$TMP/ml.hjm") \
  && pass || fail "the long CSV trains the same model as the .npy"
"$HJDL" fit --data "$TMP/x.npy" --y "$TMP/yreg.npy" --arch ssm:3,last,dense:2,lse:3 --eps 0.1 --iters 5 --quiet \
  --test "$TMP/xf.npy" --test-y "$TMP/yreg.npy" --out "$TMP/mr.hjm" | grep -q '^test rmse' \
  && pass || fail "regression on sequences with --test and --test-y"
"$HJDL" predict "$TMP/mr.hjm" --x "$TMP/x.npy" | head -1 | grep -qx prediction && pass || fail "predict, regression"

# ---- bad input: exit 2, one message, no output file
bad_fit() { # bad_fit PATTERN ARGS...: fit must refuse with PATTERN and leave no model
  local pat="$1"; shift
  rm -f "$TMP/bad.hjm"
  expect_fail 2 "$pat" -- "$HJDL" fit "$@" --eps 0.1 --iters 2 --quiet --out "$TMP/bad.hjm"
  [ ! -e "$TMP/bad.hjm" ] && pass || fail "a refused fit left $TMP/bad.hjm"
}
bad_predict() { # bad_predict PATTERN ARGS...: predict must refuse with PATTERN and write nothing
  local pat="$1"; shift
  rm -f "$TMP/bad.csv"
  expect_fail 2 "$pat" -- "$HJDL" predict "$@" --out "$TMP/bad.csv"
  [ ! -e "$TMP/bad.csv" ] && pass || fail "a refused predict left $TMP/bad.csv"
}
bad_fit "x.npy: 40 sequences without targets: give --y FILE" --data "$TMP/x.npy" --arch $ARCH
bad_fit "short_y.npy: 39 values, but .*x.npy holds 40 sequences" --data "$TMP/x.npy" --y "$TMP/short_y.npy" --arch $ARCH
bad_fit "bady.npz: y must hold one value per sequence of X" --data "$TMP/bady.npz" --arch $ARCH
bad_fit "xy.npz holds its targets (the array y) and --y gives them again" --data "$TMP/xy.npz" --y "$TMP/y.npy" --arch $ARCH
bad_fit "xnan.npy: element \[3, 2, 1\] (0-based) is NaN: sequence 4, step 3, feature 2" \
  --data "$TMP/xnan.npy" --y "$TMP/y.npy" --arch $ARCH
bad_fit "xinf.npy: element \[0, 4, 0\] (0-based) is infinite: sequence 1, step 5, feature 1" \
  --data "$TMP/xinf.npy" --y "$TMP/y.npy" --arch $ARCH
bad_fit "x4d.npy: 4-dimensional array (only 1-D, 2-D and 3-D are supported)" --data "$TMP/x4d.npy" --y "$TMP/y.npy" --arch $ARCH
bad_fit "ragged.csv:12: sequence 3 (id 102) has 4 rows, but sequence 1 has 5" \
  --data "$TMP/ragged.csv" --sequence-id id --y "$TMP/y.npy" --arch $ARCH
bad_fit "sequence-id nope: .*long.csv has no such column; its columns are: id, u, v" \
  --data "$TMP/long.csv" --sequence-id nope --y "$TMP/y.npy" --arch $ARCH
bad_fit "\-\-pca 3: the inputs are sequences (5 steps of 2 features)" --data "$TMP/x.npy" --y "$TMP/y.npy" --arch $ARCH --pca 3
# a vector architecture on sequences, a sequence architecture on vectors: the option and the data shape
bad_fit "\-\-arch dense:4,lse-class:3: .*takes vectors, but its input is a sequence of 5 steps.*--data .*x.npy: 40 sequences of shape (T, d) = (5, 2)" \
  --data "$TMP/x.npy" --y "$TMP/y.npy" --arch dense:4,lse-class:3
bad_fit "\-\-arch rnn:4,last,lse-class:3: .*reads sequences, but its input is a vector.*--data .*vec.csv: 40 vectors of 3 features" \
  --data "$TMP/vec.csv" --arch $ARCH
bad_fit "\-\-arch rnn:4,last,lse-class:3: .*reads sequences, but its input is a vector.*--data .*x2d.npz: 40 vectors of 10 features" \
  --data "$TMP/x2d.npz" --arch $ARCH
bad_fit "vec.csv: sequences are read from an (n, T, d) .npy" --data "$TMP/vec.csv" --y "$TMP/y.npy" --arch lse-class:3
bad_fit "flat.npy: a 2-D array of shape 40 x 10, but sequences need a 3-D array (n, T, d)" \
  --data "$TMP/flat.npy" --y "$TMP/y.npy" --arch $ARCH
bad_fit "\-\-sequence rows applies to --dataset" --data "$TMP/x.npy" --y "$TMP/y.npy" --sequence rows --arch $ARCH
bad_fit "\-\-test-y FILE goes with --test FILE" --data "$TMP/x.npy" --y "$TMP/y.npy" --test-y "$TMP/y.npy" --arch $ARCH
bad_fit "t4.npy: sequences of 4 steps of 2 features, but the training data .*x.npy have 5 steps of 2" \
  --data "$TMP/x.npy" --y "$TMP/y.npy" --test "$TMP/t4.npy" --test-y "$TMP/y.npy" --arch $ARCH
bad_fit "\-\-target names a column of a table" --data "$TMP/x.npy" --y "$TMP/y.npy" --target 1 --arch $ARCH

bad_predict "flat.npy: a 2-D array of shape 40 x 10, but the model .*m.hjm takes sequences of shape (n, T, d) = (n, 5, 2)" \
  "$TMP/m.hjm" --x "$TMP/flat.npy"
bad_predict "x2d.npz: a 2-D array of shape 40 x 10, but the model .*m.hjm takes sequences" "$TMP/m.hjm" --x "$TMP/x2d.npz"
bad_predict "vec.csv: a table, but the model .*m.hjm takes sequences of shape (n, T, d) = (n, 5, 2)" \
  "$TMP/m.hjm" --x "$TMP/vec.csv"
bad_predict "t4.npy: sequences of shape (n, T, d) = (40, 4, 2), but the model .*m.hjm takes (n, 5, 2)" \
  "$TMP/m.hjm" --x "$TMP/t4.npy"
bad_predict "d3.npy: sequences of shape (n, T, d) = (40, 5, 3), but the model .*m.hjm takes (n, 5, 2)" \
  "$TMP/m.hjm" --x "$TMP/d3.npy"
bad_predict "xnan.npy: element \[3, 2, 1\] (0-based) is NaN: sequence 4, step 3, feature 2" "$TMP/m.hjm" --x "$TMP/xnan.npy"
bad_predict "ragged.csv:12: sequence 3 (id 102) has 4 rows" "$TMP/m.hjm" --x "$TMP/ragged.csv" --sequence-id id
"$HJDL" fit --data "$TMP/vec.csv" --arch lse-class:3 "${FIT[@]}" --out "$TMP/v.hjm" >/dev/null && pass || fail "vector model"
bad_predict "x.npy: sequences of shape (n, T, d) = (40, 5, 2), but the model .*v.hjm takes vectors of 3 features" \
  "$TMP/v.hjm" --x "$TMP/x.npy"
bad_predict "sequence-id reads sequences, but the model .*v.hjm takes vectors" "$TMP/v.hjm" --x "$TMP/long.csv" --sequence-id id
expect_fail 2 "flat.npy: a 2-D array of shape 40 x 10, but the model" -- "$HJDL" explain "$TMP/m.hjm" --x "$TMP/flat.npy"

# ---- --help names the sequence options and layers
"$HJDL" fit --help > "$TMP/help.txt"
for w in -- --sequence --y --test-y --sequence-id rnn:H lstm:H ssm:H attn:H last mean; do
  [ "$w" = "--" ] && continue
  grep -q -- "$w" "$TMP/help.txt" && pass || fail "fit --help does not mention $w"
done

# ---- the built-in data set as sequences (rows and columns)
if [ -d /usr/share/datasets/fashion-mnist ]; then
  "$HJDL" fit --dataset fashion-mnist --sequence rows --limit 200 --test-limit 100 --arch rnn:8,last,lse-class:2 \
    --eps 0.1 --iters 3 --quiet --standardize --out "$TMP/fm.hjm" > "$TMP/fm.txt" && pass || fail "fashion-mnist --sequence rows"
  grep -q '^test accuracy' "$TMP/fm.txt" && pass || fail "fashion-mnist rows: test accuracy printed"
  head -4 "$TMP/fm.hjm" | tail -2 | tr '\n' ' ' | grep -qx 'd_in 784 steps 28 ' && pass || fail "fashion rows: 28 steps"
  "$HJDL" fit --dataset fashion-mnist --sequence columns --limit 200 --test-limit 100 --arch ssm:4,mean,lse-class:2 \
    --eps 0.1 --iters 2 --quiet --out "$TMP/fc.hjm" >/dev/null && pass || fail "fashion-mnist --sequence columns"
  bad_fit "\-\-sequence must be rows or columns (got 'diagonal')" --dataset fashion-mnist --sequence diagonal --arch $ARCH
  bad_fit "\-\-arch rnn:4,last,lse-class:3: .*reads sequences, but its input is a vector.*--dataset fashion-mnist: 200 vectors of 784 features" \
    --dataset fashion-mnist --limit 200 --arch $ARCH
fi

finish
