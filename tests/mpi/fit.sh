#!/usr/bin/env bash
# fit.sh — data-parallel `hjdl fit` on 2 ranks: the per-step loss trace equals
# the single-process one (<= 1e-10 relative) for full batch and mini-batch
# Adam, SGD, L-BFGS and Adam+L-BFGS; one model file, written by rank 0; the
# gradient all-reduce carries n_params + 2 doubles per step.
source "$3/mpi/common.inc"

# y = |x| on [-2,2]^2, 301 points (odd: the shards differ in size)
awk 'BEGIN { s = 12345; print "x1,x2,y";
  for (i = 0; i < 301; i++) { s = (s * 1103515245 + 12345) % 2147483648; a = 4*s/2147483648 - 2;
                              s = (s * 1103515245 + 12345) % 2147483648; b = 4*s/2147483648 - 2;
                              printf "%.17g,%.17g,%.17g\n", a, b, sqrt(a*a+b*b) } }' > "$TMP/train.csv"

# relative trace difference, step by step; also the step counts must agree
tracecmp() {
  paste -d, "$1" "$2" | awk -F, 'NR > 1 { if ($1 != $3) { bad = 1 } e = $2 - $4; if (e < 0) e = -e;
      a = $2 < 0 ? -$2 : $2; r = e / a; if (r > m) m = r; n++ }
    END { if (bad || n == 0) print "inf"; else printf "%.3g\n", m }'
}

run_case() { # LABEL ARGS...
  local label="$1"; shift
  rm -f "$TMP/m1.hjm" "$TMP/m2.hjm"
  "$HJDL" fit --data "$TMP/train.csv" --arch dense:4,lse:8 --eps 0.2 --lr 0.01 --no-target-scaling "$@" --out "$TMP/m1.hjm" \
    --trace "$TMP/t1.csv" --quiet > "$TMP/o1.txt" || { fail "$label: single-process fit"; return; }
  HJDL_DIST_STATS=1 "${MPI[@]}" -np 2 "$HJDL" fit --data "$TMP/train.csv" --arch dense:4,lse:8 --eps 0.2 --lr 0.01 --no-target-scaling "$@" \
    --out "$TMP/m2.hjm" --trace "$TMP/t2.csv" --quiet > "$TMP/o2.txt" 2> "$TMP/e2.txt" || { fail "$label: mpirun fit"; cat "$TMP/e2.txt" >&2; return; }
  [ "$(wc -l < "$TMP/t1.csv")" -eq "$(wc -l < "$TMP/t2.csv")" ] && pass || fail "$label: step counts differ"
  local r; r=$(tracecmp "$TMP/t1.csv" "$TMP/t2.csv")
  echo "$label: $(($(wc -l < "$TMP/t1.csv") - 1)) steps, max relative loss difference $r"
  awk -v r="$r" 'BEGIN { exit !(r != "inf" && r + 0 <= 1e-10) }' && pass || fail "$label: trace differs by $r"
  # rank 0 alone prints: the same lines as one process (timing apart)
  diff <(grep -v '^seconds' "$TMP/o1.txt" | cut -c1-18) <(grep -v '^seconds' "$TMP/o2.txt" | cut -c1-18) > /dev/null \
    && pass || fail "$label: printed output differs: $(cat "$TMP/o2.txt")"
  [ -s "$TMP/m2.hjm" ] && "$HJDL" info "$TMP/m2.hjm" > /dev/null && pass || fail "$label: no valid model file"
  ls "$TMP"/*.tmp.* > /dev/null 2>&1 && fail "$label: temp files left" || pass
  # traffic: every all-reduce is n_params + 2 doubles (here n_params of dense:4,lse:8 on d = 2)
  local np; np=$("$HJDL" info "$TMP/m1.hjm" | awk '/param/ { for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+$/) { print $i; exit } }')
  if [ -n "$np" ]; then
    grep -q "last $(((np + 2) * 8));" "$TMP/e2.txt" && pass || fail "$label: all-reduce size != (n_params + 2) * 8 = $(((np + 2) * 8)): $(cat "$TMP/e2.txt")"
  fi
}

run_case "adam full batch"        --optimizer adam --iters 150
run_case "adam mini-batch"        --optimizer adam --iters 150 --batch 32
run_case "sgd epochs"             --optimizer sgd --epochs 3 --batch 40
run_case "lbfgs"                  --optimizer lbfgs --iters 25
run_case "adam+lbfgs mini-batch"  --optimizer adam+lbfgs --iters 40 --batch 50 --lbfgs-iters 15

# a classifier with --standardize and a hold-out split (same preprocessing on every rank)
awk -F, 'NR == 1 { print "x1,x2,c"; next } { print $1 "," $2 "," ($3 > 1.2 ? 1 : 0) }' "$TMP/train.csv" > "$TMP/cls.csv"
"$HJDL" fit --data "$TMP/cls.csv" --task classification --standardize --holdout 0.2 --arch lse-class:6 --eps 0.3 \
  --lr 0.02 --iters 60 --batch 64 --out "$TMP/c1.hjm" --trace "$TMP/c1.csv" --quiet > "$TMP/co1.txt" || fail "classifier fit"
"${MPI[@]}" -np 2 "$HJDL" fit --data "$TMP/cls.csv" --task classification --standardize --holdout 0.2 --arch lse-class:6 \
  --eps 0.3 --lr 0.02 --iters 60 --batch 64 --out "$TMP/c2.hjm" --trace "$TMP/c2.csv" --quiet > "$TMP/co2.txt" || fail "mpirun classifier fit"
r=$(tracecmp "$TMP/c1.csv" "$TMP/c2.csv"); echo "classifier: max relative loss difference $r"
awk -v r="$r" 'BEGIN { exit !(r != "inf" && r + 0 <= 1e-10) }' && pass || fail "classifier trace differs by $r"

finish
