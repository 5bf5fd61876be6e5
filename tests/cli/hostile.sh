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
FIT=(fit --data "$T/d.csv" --arch lse:4 --eps 0.2 --quiet)
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
expect_fail 2 "a model is written to a file" -- "$HJDL" "${FIT[@]}" --iters 5 --out -
"$HJDL" "${FIT[@]}" --iters 5 --out "$T/m.hjm" > /dev/null && pass || fail "fit"
expect_fail 2 "--out $T/m.hjm is the input $T/m.hjm" -- "$HJDL" predict "$T/m.hjm" --x "$T/x.csv" --out "$T/m.hjm"
# "-" is standard output
"$HJDL" "${SOLVE[@]}" --out - | head -1 | grep -q '^u,' && pass || fail "--out - is not stdout"
[ ! -e ./- ] && pass || fail "--out - made a file named -"
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

finish
