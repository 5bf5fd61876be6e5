#!/usr/bin/env bash
# hostile.sh — the cases of issue 22, as a hostile user tries them: outputs that
# are devices, FIFOs, directories, links or inputs; partial outputs and temporary
# files after failures and signals; exit codes and messages for absurd values;
# sizes bounded before allocating; one number syntax. Each check is one case.
source "$3/cli/common.inc"
T="$TMP"
printf 'y1,g\n0,0\n1,0.5\n' > "$T/a.csv"
printf 'x1\n0.3\n-0.2\n' > "$T/x.csv"
SOLVE=(solve --atoms "$T/a.csv" --x "$T/x.csv" --t 1 --eps 0.1)
awk 'BEGIN { print "x1,x2,y"; for (i = 0; i < 40; i++) { a = (i % 7) / 7; b = (i % 5) / 5; printf "%g,%g,%g\n", a, b, a + b } }' > "$T/d.csv"
FITD=(fit --data "$T/d.csv" --quiet)
FIT=("${FITD[@]}" --arch lse:4 --eps 0.2)
no_tmp() { # no temporary file of ours left in directory $1
  if ls "$1" | grep -q '\.tmp\.'; then fail "temporary files left in $1: $(ls "$1" | grep '\.tmp\.')"; else pass; fi
}

# ---- 1. output paths ---------------------------------------------------------
mkfifo "$T/fifo"
expect_fail 2 "--out $T/fifo: is a FIFO; refusing" -- "$HJDL" "${SOLVE[@]}" --out "$T/fifo"
[ -p "$T/fifo" ] && pass || fail "the FIFO was replaced"
ln -s /dev/null "$T/devlink"
expect_fail 2 "is a character device (through a symbolic link)" -- "$HJDL" "${SOLVE[@]}" --out "$T/devlink"
[ -c /dev/null ] && [ -L "$T/devlink" ] && pass || fail "/dev/null or the link was replaced"
if mknod "$T/mynull" c 1 3 2> /dev/null; then
  expect_fail 2 "is a character device; refusing" -- "$HJDL" "${SOLVE[@]}" --out "$T/mynull"
  [ -c "$T/mynull" ] && pass || fail "the device node was replaced"
fi
mkdir "$T/adir"
expect_fail 2 "is a directory; refusing" -- "$HJDL" "${SOLVE[@]}" --out "$T/adir"
expect_fail 2 "directory $T/nodir does not exist" -- "$HJDL" "${SOLVE[@]}" --out "$T/nodir/u.csv"
cp "$T/x.csv" "$T/x0.csv"
expect_fail 2 "--out $T/x.csv is the input --x; refusing to overwrite an input" -- "$HJDL" "${SOLVE[@]}" --out "$T/x.csv"
ln -s x.csv "$T/xlink"
expect_fail 2 "is the input --x" -- "$HJDL" "${SOLVE[@]}" --out "$T/xlink"
cmp -s "$T/x.csv" "$T/x0.csv" && pass || fail "the input was changed"
cp "$T/d.csv" "$T/d0.csv"
start=$(date +%s)
expect_fail 2 "--out $T/d.csv is the input --data" -- "$HJDL" "${FIT[@]}" --iters 100000000 --out "$T/d.csv"
[ $(( $(date +%s) - start )) -lt 20 ] && pass || fail "fit trained before refusing --out"
cmp -s "$T/d.csv" "$T/d0.csv" && pass || fail "fit overwrote its training data"
expect_fail 2 "--out and --trace name the same file" -- "$HJDL" "${FIT[@]}" --iters 5 --out "$T/m.hjm" --trace "$T/m.hjm"
expect_fail 2 "--trace $T/adir: is a directory" -- "$HJDL" "${FIT[@]}" --iters 5 --out "$T/m.hjm" --trace "$T/adir"
[ ! -e "$T/m.hjm" ] && pass || fail "a refused fit wrote its model"
# "-": the model on standard output, the summary on stderr (issue 23)
"$HJDL" "${FIT[@]}" --iters 5 --out - 2>/dev/null | head -1 | grep -q '^HJDL-MODEL' && pass || fail "fit --out - writes the model to stdout"
"$HJDL" "${FIT[@]}" --iters 5 --out "$T/m.hjm" > /dev/null && pass || fail "fit"
expect_fail 2 "--out $T/m.hjm is the input $T/m.hjm" -- "$HJDL" predict "$T/m.hjm" --x "$T/x.csv" --out "$T/m.hjm"
# "-" is standard output
"$HJDL" "${SOLVE[@]}" --out - | head -1 | grep -q '^u,' && pass || fail "--out - is not stdout"
"$HJDL" "${FIT[@]}" --iters 3 --out "$T/mt.hjm" --trace - | grep -q '^3,' && pass || fail "fit --trace - is not stdout"
[ ! -e ./- ] && [ ! -e "$T/-" ] && pass || fail "an output - made a file named -"
# a link to a regular file is followed: the target is replaced, the link stays
echo old > "$T/target.csv"; ln -s target.csv "$T/tlink"
"$HJDL" "${SOLVE[@]}" --out "$T/tlink" && pass || fail "solve --out LINK"
[ -L "$T/tlink" ] && head -1 "$T/target.csv" | grep -q '^u,' && pass || fail "the link's target was not written"
ln -s missing.csv "$T/dangling"
expect_fail 2 "a symbolic link whose target cannot be reached" -- "$HJDL" "${SOLVE[@]}" --out "$T/dangling"
# experiment/landscape output directories
touch "$T/afile"
expect_fail 2 "--out $T/afile: exists and is not a directory" -- "$HJDL" experiment identity --quick --out "$T/afile"
no_tmp "$T"

# ---- 2. temporary files: signals, stale files, all-or-nothing outputs -------
# SIGTERM during training: no model, no trace, no predictions, no temporary file
mkdir "$T/sig"
"$HJDL" "${FIT[@]}" --iters 100000000 --out "$T/sig/m.hjm" --trace "$T/sig/tr.csv" --train-predictions "$T/sig/p.csv" &
pid=$!
sleep 0.5
touch "$T/sig/m.hjm.tmp.$pid.AbCdEf" # what a write in progress leaves
kill -TERM $pid; wait $pid; rc=$?
[ "$rc" -eq 143 ] && pass || fail "fit after SIGTERM: exit $rc (want 143)"
[ -z "$(ls "$T/sig")" ] && pass || fail "SIGTERM left files: $(ls "$T/sig")"
# SIGINT alike
mkdir "$T/int"
"$HJDL" "${FIT[@]}" --iters 100000000 --out "$T/int/m.hjm" &
pid=$!
sleep 0.5
touch "$T/int/m.hjm.tmp.$pid.XyZ123"
kill -INT $pid; wait $pid
[ -z "$(ls "$T/int")" ] && pass || fail "SIGINT left files: $(ls "$T/int")"
# a stale temporary file of a dead process is swept by the next write there,
# a fresh one and one of a live process are not
mkdir "$T/st"
touch -d '2 hours ago' "$T/st/old.hjm.tmp.999999999.Ab12Cd" "$T/st/live.hjm.tmp.$$.Ab12Cd"
touch "$T/st/keep.csv.tmp.123.txt" # not a temporary-file name of ours
"$HJDL" "${SOLVE[@]}" --out "$T/st/u.csv" && pass || fail "solve into st"
[ ! -e "$T/st/old.hjm.tmp.999999999.Ab12Cd" ] && pass || fail "stale temporary file not swept"
[ -e "$T/st/live.hjm.tmp.$$.Ab12Cd" ] && pass || fail "a live process's temporary file was removed"
[ -e "$T/st/keep.csv.tmp.123.txt" ] && pass || fail "a file not ours was removed"
# fit writes all its outputs at the end, together
mkdir "$T/all"
"$HJDL" "${FIT[@]}" --iters 5 --out "$T/all/m.hjm" --trace "$T/all/tr.csv" --train-predictions "$T/all/p.csv" > /dev/null \
  && [ -s "$T/all/m.hjm" ] && [ -s "$T/all/tr.csv" ] && [ -s "$T/all/p.csv" ] && pass || fail "fit outputs"
no_tmp "$T/all"
# a link to a model in another directory: the target there is replaced
mkdir "$T/elsewhere" "$T/links"
cp "$T/all/m.hjm" "$T/elsewhere/m.hjm"
ln -s ../elsewhere/m.hjm "$T/links/m.hjm"
"$HJDL" "${FIT[@]}" --iters 7 --out "$T/links/m.hjm" --trace "$T/links/tr.csv" > /dev/null && pass || fail "fit --out LINK"
[ -L "$T/links/m.hjm" ] && ! cmp -s "$T/elsewhere/m.hjm" "$T/all/m.hjm" && pass || fail "fit through a link"
[ "$(wc -l < "$T/links/tr.csv")" -eq 8 ] && pass || fail "fit --trace beside a link"
no_tmp "$T/elsewhere"

# bench --csv: staged, refused for a FIFO before timing anything
expect_fail 2 "--csv $T/fifo: is a FIFO" -- "$HJDL" bench --kernel lse --n 20 --N 10 --d 1 --reps 1 --no-roofline --quiet --csv "$T/fifo"
mkdir "$T/bn"
"$HJDL" bench --kernel lse --n 20 --N 10 --d 1 --reps 1 --no-roofline --quiet --csv "$T/bn/b.csv" > /dev/null \
  && [ -s "$T/bn/b.csv" ] && pass || fail "bench --csv"
no_tmp "$T/bn"
# landscape: a failed run leaves no --out directory it created
printf 'y1,g\n0,0\n1e-300,0\n' > "$T/flat.csv"
expect_fail 2 "no critical points were found in the domain" -- "$HJDL" landscape --atoms "$T/flat.csv" --t 1 --out "$T/lsout"
[ ! -e "$T/lsout" ] && pass || fail "failed landscape left its --out directory"
expect_fail 2 "--t must be > 0" -- "$HJDL" landscape --atoms "$T/a.csv" --t 0 --out "$T/ls0"
# experiment: a run that fails partway leaves no NAME/ folder it created
expect_fail 2 "fewer than 3 grid sizes" -- "$HJDL" experiment quadrature --quick --quiet --N 1 --out "$T/expfail"
[ ! -e "$T/expfail/quadrature" ] && pass || fail "failed experiment left its output folder"
[ ! -e "$T/ls0" ] && pass || fail "refused landscape made its --out directory"

# ---- 3. exit codes and messages in the user's terms -------------------------
printf 'y1,g\n1e300,0\n-1e300,1\n' > "$T/big.csv"
expect_fail 2 "atoms row 1, column 1: 1e+300 is beyond +-1e+150, where |x - y|^2 overflows" -- "$HJDL" solve --atoms "$T/big.csv" --x "$T/x.csv" --t 1 --eps 0.1
expect_fail 2 "atoms row 1, column 1: 1e+300 is beyond" -- "$HJDL" solve --atoms "$T/big.csv" --x "$T/x.csv" --t 1 --eps 0
printf 'x1\n1e200\n' > "$T/xbig.csv"
expect_fail 2 "xbig.csv row 1, column 1: 1e+200 is beyond" -- "$HJDL" solve --atoms "$T/a.csv" --x "$T/xbig.csv" --t 1 --eps 0.1
printf 'y1,g\n0,1e300\n1,-1e300\n' > "$T/bigg.csv" # huge initial values are legal and exact
"$HJDL" solve --atoms "$T/bigg.csv" --x "$T/x.csv" --t 1 --eps 0.1 | awk -F, 'NR == 2 { exit !($1 == -1e300) }' && pass || fail "g = 1e300: u != -1e300"
mkfifo "$T/afifo"
( cat "$T/a.csv" > "$T/afifo" & )
expect_fail 2 "afifo: not a regular file (a pipe, FIFO or device): it is read in several passes" -- "$HJDL" solve --atoms "$T/afifo" --x "$T/x.csv" --t 1 --eps 0.1
expect_fail 2 "not a regular file (a pipe, FIFO or device)" -- "$HJDL" solve --atoms <(cat "$T/a.csv") --x "$T/x.csv" --t 1 --eps 0.1
printf 'y\n1\n2\n' > "$T/one.csv"
expect_fail 2 "one.csv: need at least 2 columns (features and a target), found 1" -- "$HJDL" fit --data "$T/one.csv" --arch lse:2 --eps 0.1 --out "$T/never.hjm"
# a model's eps / t beyond 1e100 (loader: tests/test_modelfile.c); fit refuses to make one
expect_fail 2 "--eps must be in \[0, 1e+100\] (got 1e+308)" -- "$HJDL" "${FITD[@]}" --arch lse:4 --eps 1e308 --out "$T/never.hjm"
expect_fail 2 "--t must be in (0, 1e+100\] (got 1e+308)" -- "$HJDL" "${FIT[@]}" --t 1e308 --out "$T/never.hjm"
expect_fail 2 "--t must be in (0, 1e+100\] (got 0)" -- "$HJDL" initial-data "$T/m.hjm" --t 0
awk 'BEGIN { print "x1,x2,y"; for (i = 0; i < 40; i++) printf "%g,%g,%d\n", (i % 7) / 7, (i % 5) / 5, i % 2 }' > "$T/c.csv"
"$HJDL" fit --data "$T/c.csv" --task classification --arch lse-class:3 --eps 0.2 --iters 5 --quiet --out "$T/c.hjm" > /dev/null
expect_fail 2 "--radius 1e+308 is beyond 1e+100: the attacked points would overflow" -- "$HJDL" attack "$T/c.hjm" --x "$T/c.csv" --radius 1e308
# allocation failures from absurd sizes are refusals (2), never failed checks (1)
expect_fail 2 "--arch: layer 1 has 16777216 neurons, more than the limit of 1048576" -- "$HJDL" "${FITD[@]}" --eps 0.2 --arch lse:16777216 --out "$T/never.hjm"
expect_fail 2 "--arch: training needs" -- "$HJDL" "${FITD[@]}" --eps 0.2 --arch dense:1048576,dense:1048576,lse:4 --out "$T/never.hjm"
[ ! -e "$T/never.hjm" ] && pass || fail "a refused fit wrote a model"

# ---- 4. bounds before allocating ---------------------------------------------
expect_fail 2 "--threads 100000 is more than the limit of 1024" -- "$HJDL" experiment identity --quick --threads 100000 --out "$T/e"
expect_fail 2 "--threads 3000000000 is more than the limit of 1024" -- "$HJDL" experiment identity --quick --threads 3000000000 --out "$T/e"
expect_fail 2 "--threads 10000 is more than the limit of 1024" -- "$HJDL" bench --kernel lse --threads 10000
expect_fail 2 "--iters 1000000000000 is more than the limit of 100000000 steps" -- "$HJDL" "${FIT[@]}" --iters 1000000000000 --out "$T/never.hjm"
expect_fail 2 "--N 1000000000000 is more than the limit of 10000000" -- "$HJDL" experiment quadrature --N 1000000000000 --out "$T/e"
expect_fail 2 "--seeds 1000000000000 is more than the limit of 10000" -- "$HJDL" reproduce --seeds 1000000000000 --out "$T/e"
expect_fail 2 "--iters 1000000000000 is more than the limit" -- "$HJDL" experiment identity --iters 1000000000000 --out "$T/e"
expect_fail 2 "--d 1000000000 is more than the limit of 100000" -- "$HJDL" experiment identity --d 1000000000 --out "$T/e"
expect_fail 2 "N = 10000000 points in d = 100000 needs 8e+03 GB, more than this machine's" -- "$HJDL" experiment identity --N 10000000 --d 100000 --out "$T/e"
[ ! -e "$T/e" ] && pass || fail "a refused experiment made its output directory"
# a .npy claiming far more data than this machine holds: refused from its header
# (a sparse file: its bytes are never read)
printf '\x93NUMPY\x01\x00\x76\x00%-117s\n' '{"descr": "<f8", "fortran_order": False, "shape": (1000000000000, 2), }' > "$T/huge.npy"
truncate -s $((128 + 16000000000000)) "$T/huge.npy"
expect_fail 2 "huge.npy: a 1000000000000 x 2 matrix needs 1.6e+04 GB, more than this machine's" -- "$HJDL" certify "$T/c.hjm" --x "$T/huge.npy"
rm -f "$T/huge.npy"

# ---- 5. option values: 0, subnormals, one number syntax, duplicate names -----
expect_fail 2 "--limit 0 would keep no training point" -- "$HJDL" "${FIT[@]}" --limit 0 --out "$T/never.hjm"
expect_fail 2 "--test-limit 0 would keep no test point" -- "$HJDL" "${FIT[@]}" --test-limit 0 --out "$T/never.hjm"
expect_fail 2 "--pca 0 would keep no principal axis" -- "$HJDL" "${FIT[@]}" --pca 0 --out "$T/never.hjm"
expect_fail 2 "--N 0: give a positive number" -- "$HJDL" experiment quadrature --N 0 --out "$T/e"
expect_fail 2 "--d 0: give a positive number" -- "$HJDL" experiment identity --d 0 --out "$T/e"
expect_fail 2 "--seeds 0: give a positive number" -- "$HJDL" reproduce --seeds 0 --out "$T/e"
expect_fail 2 "--iters 0: give a positive number" -- "$HJDL" experiment identity --iters 0 --out "$T/e"
expect_fail 2 "--t must be > 0 (got 0)" -- "$HJDL" solve --atoms "$T/a.csv" --x "$T/x.csv" --t 0 --eps 0.1
# a subnormal eps is a positive eps: same u as a tiny normal one up to rounding
"$HJDL" solve --atoms "$T/a.csv" --x "$T/x.csv" --t 1 --eps 1e-320 > "$T/sub.csv" && pass || fail "--eps 1e-320 refused"
"$HJDL" solve --atoms "$T/a.csv" --x "$T/x.csv" --t 1 --eps 0 > "$T/zero.csv"
paste -d, "$T/sub.csv" "$T/zero.csv" | awk -F, 'NR > 1 { e = $1 - $5; if (e < 0) e = -e; if (e > 1e-12) bad = 1 } END { exit bad }' \
  && pass || fail "eps = 1e-320 differs from the eps -> 0 limit"
printf 'y1,g\n0,4.9e-324\n1,0.5\n' > "$T/subg.csv"
"$HJDL" solve --atoms "$T/subg.csv" --x "$T/x.csv" --t 1 --eps 0.1 > /dev/null && pass || fail "a subnormal in a file refused"
# hex floats: refused in options as in files
expect_fail 2 "--t: '0x1p0' is not a finite number" -- "$HJDL" solve --atoms "$T/a.csv" --x "$T/x.csv" --t 0x1p0 --eps 0.1
printf 'y1,g\n0x1p0,0\n' > "$T/hex.csv"
expect_fail 2 "hex.csv:2:1: '0x1p0' is not a number" -- "$HJDL" solve --atoms "$T/hex.csv" --x "$T/x.csv" --t 1 --eps 0.1
expect_fail 2 "--eps: 'inf' is not a finite number" -- "$HJDL" solve --atoms "$T/a.csv" --x "$T/x.csv" --t 1 --eps inf
expect_fail 2 "--eps: ' 0.1' is not a finite number" -- "$HJDL" solve --atoms "$T/a.csv" --x "$T/x.csv" --t 1 --eps " 0.1"
expect_fail 2 "--eps: '1e999' is out of the range of a double" -- "$HJDL" solve --atoms "$T/a.csv" --x "$T/x.csv" --t 1 --eps 1e999
for bad in " 5" "+5" "0x5" "5e3" "-1"; do
  expect_fail 2 "--seeds: '$bad' is not a non-negative integer" -- "$HJDL" experiment identity --seeds "$bad" --out "$T/e"
done
printf 'x,y,y\n1,2,3\n4,5,6\n' > "$T/dup.csv"
expect_fail 2 "dup.csv:1: columns 2 and 3 are both named 'y'" -- "$HJDL" fit --data "$T/dup.csv" --target y --arch lse:2 --eps 0.1 --out "$T/never.hjm"
expect_fail 2 "columns 2 and 3 are both named 'y'" -- "$HJDL" solve --atoms "$T/dup.csv" --x "$T/x.csv" --t 1 --eps 0.1
no_tmp "$T"

finish
