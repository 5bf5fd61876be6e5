#!/usr/bin/env bash
# bench.sh — `hjdl bench`: the table and CSV at tiny sizes, their arithmetic, and every bad-option path.
source "$3/cli/common.inc"
TINY=(--n 40 --N 30 --reps 2 --steps 3 --gemm-n 48 --write-mb 2 --threads 2 --quiet)

# 1. Help explains the roofline.
"$HJDL" bench --help > "$TMP/help.txt" && pass || fail "bench --help"
grep -q "t_bound = max" "$TMP/help.txt" && grep -q "R_exp" "$TMP/help.txt" && pass || fail "help lacks the roofline"
"$HJDL" --help | grep -q "^  bench" && pass || fail "bench not in the command list"

# 2. Every kernel at tiny sizes: the table and the CSV.
"$HJDL" bench --kernel all "${TINY[@]}" --csv "$TMP/all.csv" > "$TMP/all.txt" && pass || fail "bench all"
grep -Eq "^roofline \(2 threads, (avx512|portable) kernels\): R_exp .* B_write" "$TMP/all.txt" && pass || fail "roofline line"
head -3 "$TMP/all.txt" | tail -1 | awk '{ exit !($1 == "kernel" && $2 == "n" && $3 == "N" && $4 == "d" && $5 == "eps" &&
  $6 == "threads" && $7 == "reps" && $8 == "median_s" && $9 == "min_s" && $10 == "Mpairs/s" &&
  $11 == "bound_s" && $12 == "roofline") }' && pass || fail "table header: $(head -3 "$TMP/all.txt" | tail -1)"
[ "$(grep -cE '^(lse|adam|hopf-cole) +40 +30 +2 ' "$TMP/all.txt")" = 3 ] && pass || fail "three kernel rows"
head -1 "$TMP/all.csv" | grep -qx 'kernel,n,N,d,eps,threads,reps,median_s,min_s,max_s,throughput_pairs_per_s,bound_s,roofline_fraction,r_exp,r_fma,b_write' \
  && pass || fail "csv header"
[ "$(wc -l < "$TMP/all.csv")" = 5 ] && pass || fail "csv rows: roofline + 3 kernels"
# arithmetic: min <= median <= max, throughput = n N / median, fraction = bound / median, threads and reps echo the options
awk -F, 'NR > 2 { if (!($9 <= $8 && $8 <= $10 && $8 > 0)) bad++;
                  if (($11 - $2 * $3 / $8) ^ 2 > (1e-5 * $11) ^ 2) bad++;
                  if (($13 - $12 / $8) ^ 2 > (1e-5 * $13) ^ 2) bad++;
                  if ($6 != 2 || $7 != 2) bad++ }
         NR == 2 { if ($1 != "roofline" || !($14 > 0 && $15 > 0 && $16 > 0)) bad++ }
         END { exit bad > 0 }' "$TMP/all.csv" && pass || fail "csv arithmetic"
# adam's default eps is N^(-1/d)
awk -F, '$1 == "adam" { e = $5 - 30^(-1/2); exit !(e * e < 1e-24) }' "$TMP/all.csv" && pass || fail "adam eps = N^(-1/d)"

# 3. Lists: every combination; --no-roofline leaves the bound empty.
"$HJDL" bench --kernel lse --n 20 --N 10,20 --d 1,3 --reps 1 --no-roofline --quiet --csv "$TMP/list.csv" > "$TMP/list.txt" \
  && pass || fail "bench lists"
[ "$(grep -c '^lse ' "$TMP/list.txt")" = 4 ] && pass || fail "2 x 2 combinations"
grep -q "R_exp" "$TMP/list.txt" && fail "--no-roofline measured the roofline" || pass
awk -F, 'NR > 1 && $12 != "" { bad++ } END { exit bad > 0 || NR != 5 }' "$TMP/list.csv" && pass || fail "no-roofline csv"
"$HJDL" bench --kernel roofline --gemm-n 32 --write-mb 1 --reps 1 --quiet | grep -q "^roofline" && pass || fail "roofline only"

# 4. Bad options: one clear line, exit 2, nothing timed.
expect_fail 2 "unknown kernel 'gemm'" -- "$HJDL" bench --kernel gemm
expect_fail 2 "--reps must be between 1 and 64" -- "$HJDL" bench --kernel lse --reps 0
expect_fail 2 "--reps must be between 1 and 64" -- "$HJDL" bench --kernel lse --reps 65
expect_fail 2 "--steps must be" -- "$HJDL" bench --kernel adam --steps 0
expect_fail 2 "--n: '0' is not" -- "$HJDL" bench --kernel lse --n 0
expect_fail 2 "--d: 'x' is not" -- "$HJDL" bench --kernel lse --d x
expect_fail 2 "--N: '1.5' is not" -- "$HJDL" bench --kernel lse --N 1.5
expect_fail 2 "needs about .* of memory" -- "$HJDL" bench --kernel lse --n 1e7 --N 1e7
expect_fail 2 "needs about .* of memory (limit 1.0 MB)" -- "$HJDL" bench --kernel hopf-cole --n 10 --N 1e5 --max-memory 0.001
expect_fail 2 "--eps must be >= 0" -- "$HJDL" bench --kernel lse --eps -1
expect_fail 2 "eps must be finite and > 0" -- "$HJDL" bench --kernel adam --eps 0 --no-roofline
expect_fail 2 "contradict" -- "$HJDL" bench --kernel roofline --no-roofline
expect_fail 2 "does not exist" -- "$HJDL" bench --kernel lse --n 5 --N 5 --no-roofline --csv "$TMP/no/such/dir/x.csv"
expect_fail 2 "unknown option '--size'" -- "$HJDL" bench --size 3
[ ! -e "$TMP/no" ] && pass || fail "created a directory"

finish
