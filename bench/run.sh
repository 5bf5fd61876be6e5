#!/usr/bin/env bash
# run.sh — `make bench`: hjdl against NumPy and PyTorch on this machine, same threads, float64; CSV, table, figure.
#
# Steps (all output in $BENCH_OUT, default bench-out/):
#   1. build hjdl and hjdl_bench;                      machine.txt: CPU, threads, versions, load
#   2. check: the peers compute hjdl's numbers on small problems (hjdl_bench
#      --export; numpy_peer.py / torch_peer.py check); stops here if not
#   3. hjdl: roofline + kernels (roofline.csv, hjdl.csv, influence.csv) with
#      the default (widest) kernel set, then again with every other kernel
#      set this CPU runs (HJDL_KERNELS=avx2, portable; each with its own
#      roofline, i.e. R_exp of its own exp): kernels-SET/{roofline,hjdl}.csv
#   4. the peers on the same kernel x size rows   (numpy.csv, torch.csv)
#   5. the full `scaling` experiment: hjdl measured; the peers (and hjdl,
#      sequentially) projected from per-step times on the experiment's
#      (d, N) grid x seeds x steps                    (scaling_times.csv)
#   6. bench/report.py: bench.csv, the side-by-side table, bench.png
#   7. bench/tabular.py: hjdl fit next to scikit-learn
#   8. lstm:128,last,lse-class:16 against PyTorch nn.LSTM on row-sequential
#      Fashion-MNIST: seconds per epoch (lstm_hjdl.csv, lstm_torch.csv, lstm.txt)
#
# Environment: BUILD (default build), BENCH_OUT, BENCH_THREADS (default 2),
# BENCH_QUICK=1 (skip step 5, fewer repetitions), BENCH_REPS (override).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD=${BUILD:-build}
OUT=${BENCH_OUT:-bench-out}
THREADS=${BENCH_THREADS:-2}
QUICK=${BENCH_QUICK:-0}
PY=/usr/bin/python3
export OMP_NUM_THREADS="$THREADS" OPENBLAS_NUM_THREADS="$THREADS" MKL_NUM_THREADS="$THREADS"
# glibc malloc keeps freed memory instead of unmapping it (every process of
# the run, hjdl's too). PyTorch and NumPy allocate and free tensors of n x N
# doubles (6.4 MB at n = 4000, N = 200) several times per Adam step; by
# default glibc hands the top of the heap back after each free (and maps
# blocks over its threshold afresh), and the page faults dominated: measured
# here 1400-1800 faults per PyTorch step at (d, N) = (2, 200) and 5-38 ms per
# step from one run to the next (page faults on this VM cost more on some
# days than others), against about 10 faults and 5-13 ms with these settings
# (the mmap threshold at glibc's largest, 32 MiB; no trimming below 1 GiB).
# The peers are timed at their best.
export MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=1073741824 MALLOC_TOP_PAD_=134217728
if [ "$QUICK" = 1 ]; then
  REPS=${BENCH_REPS:-3}; HOPF_REPS=2; QFLAG=--quick
else
  REPS=${BENCH_REPS:-7}; HOPF_REPS=3; QFLAG=
fi
PEER_STEPS=20     # Adam steps per timed peer run (hjdl_bench uses 20 too)
GRID_STEPS=50     # Adam steps per (d, N) for the scaling projection
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

echo "== 1. build ($BUILD)"
[ -f "$BUILD/CMakeCache.txt" ] || cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" -j2 --target hjdl_cli hjdl_bench >/dev/null
HJDL="$ROOT/$BUILD/hjdl"; HJDL_BENCH="$ROOT/$BUILD/hjdl_bench"
[ -x "$HJDL" ] && [ -x "$HJDL_BENCH" ] || { echo "run.sh: $BUILD/hjdl or hjdl_bench missing" >&2; exit 1; }
unset HJDL_KERNELS
DEFAULT_SET=$("$HJDL" --version | sed -n 's/^kernels: //p')
SETS=$DEFAULT_SET   # the default first, then every other set this CPU runs
for set in avx512 avx2 portable; do
  [ "$set" != "$DEFAULT_SET" ] && HJDL_KERNELS=$set "$HJDL" --version >/dev/null 2>&1 && SETS="$SETS $set"
done

{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "cores online: $(nproc)"
  echo "threads used: $THREADS (OMP_NUM_THREADS, OPENBLAS_NUM_THREADS, torch.set_num_threads)"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "memory: $(grep -m1 MemTotal /proc/meminfo | awk '{printf "%.1f GB", $2/1e6}')"
  echo "kernel: $(uname -sr)"
  echo "compiler: $(cc --version | head -1)"
  echo "build type: $(grep -m1 '^CMAKE_BUILD_TYPE' "$BUILD/CMakeCache.txt" | cut -d= -f2)"
  echo "openblas: $(dpkg-query -W -f='${Package} ${Version}, ' 'libopenblas0*' 2>/dev/null || echo unknown)"
  echo "glibc: $(ldd --version | head -1)"
  echo "hjdl: $("$HJDL" --version | head -1) commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')$( [ -n "$(git status --porcelain 2>/dev/null | head -1)" ] && echo ' + uncommitted changes')"
  echo "$("$HJDL" --version | grep '^kernels:') (default); kernel sets benchmarked: $SETS"
  echo "python: $($PY --version 2>&1)"
  echo "peers: $(cd bench && $PY numpy_peer.py versions), $(cd bench && $PY torch_peer.py versions --threads "$THREADS")"
  echo "malloc: MALLOC_MMAP_THRESHOLD_=$MALLOC_MMAP_THRESHOLD_ MALLOC_TRIM_THRESHOLD_=$MALLOC_TRIM_THRESHOLD_ MALLOC_TOP_PAD_=$MALLOC_TOP_PAD_ (freed memory kept: no page faults per tensor)"
  echo "mode: $([ "$QUICK" = 1 ] && echo "quick (BENCH_QUICK=1: no full scaling run, $REPS reps)" || echo "full ($REPS reps)")"
} > "$OUT/machine.txt"
cat "$OUT/machine.txt"
# timings mean little on a busy machine: say so where the numbers are kept
load=$(cut -d' ' -f1 /proc/loadavg)
if awk -v l="$load" -v c="$(nproc)" 'BEGIN { exit !(l > 0.5 * c) }'; then
  echo "WARNING: load average $load on $(nproc) cores: other work is running, timings will be noisy" \
    | tee -a "$OUT/machine.txt" >&2
fi

echo
echo "== 2. check: do the peers compute what hjdl computes? (small problems, hjdl's inputs)"
"$HJDL_BENCH" --export "$OUT/check" >/dev/null
( cd bench && $PY numpy_peer.py check "$OUT/check" && $PY torch_peer.py check "$OUT/check" --threads "$THREADS" ) || {
  echo "run.sh: a peer disagrees with hjdl (above): not benchmarking different computations" >&2
  exit 1
}

echo
echo "== 3. hjdl: roofline and kernels ($THREADS threads), kernel sets: $SETS"
"$HJDL_BENCH" --out "$OUT" --threads "$THREADS" $QFLAG
for set in $SETS; do
  [ "$set" = "$DEFAULT_SET" ] && continue
  rm -rf "$OUT/kernels-$set"
  echo "-- HJDL_KERNELS=$set"
  HJDL_KERNELS=$set "$HJDL_BENCH" --out "$OUT/kernels-$set" --threads "$THREADS" $QFLAG
done

echo "== 4. peers on the same kernels and sizes"
for peer in numpy torch; do
  ( cd bench && $PY ${peer}_peer.py time --cases "$OUT/hjdl.csv" --out "$OUT/$peer.csv" \
      --reps "$REPS" --hopf-reps "$HOPF_REPS" --steps "$PEER_STEPS" --threads "$THREADS" )
done

rm -f "$OUT/scaling_times.csv"
if [ "$QUICK" != 1 ]; then
  echo
  echo "== 5. the full scaling experiment (hjdl experiment scaling; minutes)"
  rm -rf "$OUT/scaling"
  t0=$(date +%s.%N)
  "$HJDL" experiment scaling --out "$OUT/scaling" --threads "$THREADS" --quiet >/dev/null
  t1=$(date +%s.%N)
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
  echo "hjdl experiment scaling: $secs s"
  # the grid the experiment actually ran: (d, N) -> number of runs; steps per run
  sc=$(find "$OUT/scaling" -name scaling.csv | head -1)
  [ -n "$sc" ] || { echo "run.sh: scaling.csv not found under $OUT/scaling" >&2; exit 1; }
  steps=$(grep -rhoE '"steps"[^0-9]*[0-9]+' "$OUT/scaling" 2>/dev/null | head -1 | grep -oE '[0-9]+$' || true)
  steps=${steps:-3000}   # exp_scaling.c: 3000 steps in full mode
  awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
           { k = $c["d"] ":" $c["N"]; runs[k]++ }
           END { for (k in runs) print k, runs[k] }' "$sc" | sort -t: -k1,1n -k2,2n > "$OUT/scaling_grid.txt"
  { echo "kernel,n,N,d,eps,runs"
    while read -r dn runs; do
      d=${dn%%:*}; N=${dn##*:}
      awk -v N="$N" -v d="$d" -v r="$runs" 'BEGIN { printf "adam,4000,%d,%d,%.17g,%d\n", N, d, N^(-1/d), r }'
    done < "$OUT/scaling_grid.txt"; } > "$OUT/scaling_grid.csv"
  grid=$(awk '{ printf "%s%s", (NR > 1 ? "," : ""), $1 }' "$OUT/scaling_grid.txt")
  echo "grid (d:N runs): $(tr '\n' ' ' < "$OUT/scaling_grid.txt"); $steps steps per run"
  echo "per-step times at each (d, N), $GRID_STEPS steps:"
  "$HJDL_BENCH" --adam-steps-csv "$OUT/scaling_steps_hjdl.csv" --grid "$grid" --steps "$GRID_STEPS" --threads "$THREADS"
  for peer in numpy torch; do
    ( cd bench && $PY ${peer}_peer.py time --cases "$OUT/scaling_grid.csv" --out "$OUT/scaling_steps_$peer.csv" \
        --reps 1 --steps "$GRID_STEPS" --threads "$THREADS" )
  done
  echo "implementation,seconds,projected,runs,steps_per_run,note" > "$OUT/scaling_times.csv"
  nruns=$(awk -F, 'NR > 1 { s += $6 } END { print s }' "$OUT/scaling_grid.csv")
  echo "hjdl,$secs,0,$nruns,$steps,measured: hjdl experiment scaling (concurrent runs one thread each; includes evaluation and figures)" >> "$OUT/scaling_times.csv"
  for impl in hjdl numpy torch; do
    proj=$(awk -F, -v steps="$steps" '
      FNR == 1 { for (i = 1; i <= NF; i++) c[FILENAME, $i] = i; next }
      FILENAME ~ /scaling_grid.csv$/ { runs[$c[FILENAME, "d"] ":" $c[FILENAME, "N"]] = $c[FILENAME, "runs"]; next }
      { per[$c[FILENAME, "d"] ":" $c[FILENAME, "N"]] = $c[FILENAME, "median_s"] }
      END { for (k in runs) s += per[k] * runs[k] * steps; printf "%.2f", s }' \
      "$OUT/scaling_grid.csv" "$OUT/scaling_steps_$impl.csv")
    name=$impl; [ "$impl" = hjdl ] && name=hjdl-sequential
    echo "$name,$proj,1,$nruns,$steps,projected: per-step time at each (d; N) ($GRID_STEPS steps; $THREADS threads) x runs x steps; training only; runs one after another" >> "$OUT/scaling_times.csv"
  done
fi

echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/machine.txt"
echo
echo "== 6. report"
$PY bench/report.py "$OUT"
echo
echo "== 7. tabular: hjdl fit --eps auto next to scikit-learn (bench/tabular.py)"
/usr/bin/python3 bench/tabular.py "$HJDL" | tee "$OUT/tabular.txt"

echo
echo "== 8. sequences: lstm:128,last,lse-class:16 (hjdl_bench --seq-time) next to PyTorch nn.LSTM (bench/torch_lstm.py)"
# row-sequential Fashion-MNIST, Adam, batch 128, float64, $THREADS threads; the median
# seconds per training step over a fixed number of batches (after 3 warm-up batches),
# times the 469 batches of an epoch; two alternating rounds, each side's faster round kept
if [ "$QUICK" = 1 ]; then SEQ_BATCHES=15; else SEQ_BATCHES=60; fi
for round in 1 2; do
  OMP_WAIT_POLICY=PASSIVE "$HJDL_BENCH" --seq-time lstm:128,last,lse-class:16 --batches "$SEQ_BATCHES" \
    --threads "$THREADS" --csv "$OUT/lstm_hjdl_$round.csv"
  ( cd bench && $PY torch_lstm.py time --batches "$SEQ_BATCHES" --threads "$THREADS" --csv "$OUT/lstm_torch_$round.csv" )
done
$PY - "$OUT" <<'PY' | tee "$OUT/lstm.txt"
import csv, sys
out = sys.argv[1]
best = {}
for impl in ("hjdl", "torch"):
    rows = [next(csv.DictReader(open(f"{out}/lstm_{impl}_{r}.csv"))) for r in (1, 2)]
    best[impl] = min(float(r["epoch_s"]) for r in rows)
    with open(f"{out}/lstm_{impl}.csv", "w") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
print(f"seconds per epoch (469 batches of 128, median batch time x 469, best of 2 rounds): "
      f"hjdl {best['hjdl']:.1f}, PyTorch {best['torch']:.1f}; hjdl / PyTorch = {best['hjdl'] / best['torch']:.3f}")
PY
