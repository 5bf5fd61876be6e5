"""peer_common.py — what the two Python peers of `make bench` share: command line, cases, timing, CSV, checks.

A peer module provides
    NAME                                   "numpy" or "torch"
    setup(threads)                         thread settings (called first)
    versions()                             one line for bench-out/machine.txt
    make_lse(n, N, d, eps, rng)            -> run(): LSE forward + pi
    make_adam(n, N, d, eps, lr, rng)       -> run(steps): `steps` Adam steps, returns last loss
    make_hopf_cole(n, N, d, eps, t, rng)   -> run(): Hopf-Cole u and grad u, returns sum u
    check(dir)                             -> list of (what, error, tolerance) on hjdl's exported problems
and calls main(module). Inputs are drawn like hjdl's (hj_perf_inputs_make:
the same distributions, not the same numbers; the check uses hjdl's numbers).
"""
import argparse
import csv
import math
import os
import statistics
import sys
import time

import numpy as np

ADAM_LR = 0.006
HC_T = 0.5
COLUMNS = ["kernel", "n", "N", "d", "eps", "threads", "reps", "median_s", "min_s", "max_s",
           "bound_s", "fraction", "throughput", "check"]


def load_check(dirname):
    """The arrays and meta numbers hjdl_bench --export wrote."""
    arrays = {}
    for f in os.listdir(dirname):
        if f.endswith(".npy"):
            arrays[f[:-4]] = np.load(os.path.join(dirname, f))
    meta = {}
    with open(os.path.join(dirname, "meta.txt")) as fh:
        for line in fh:
            k, v = line.split()
            meta[k] = float(v)
    return arrays, meta


def rel_err(a, b):
    """max |a - b| / max(1, max |b|)."""
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    if a.shape != b.shape:
        return math.inf
    return float(np.max(np.abs(a - b)) / max(1.0, float(np.max(np.abs(b)))))


def time_case(peer, kernel, n, N, d, eps, reps, steps, seed):
    """Warm-up once, then `reps` timed runs; seconds per run (per step for adam)."""
    rng = np.random.default_rng(seed)
    if kernel == "lse":
        run = peer.make_lse(n, N, d, eps, rng)
        per = 1
    elif kernel == "adam":
        adam = peer.make_adam(n, N, d, eps, ADAM_LR, rng)
        run = lambda: adam(steps)  # noqa: E731
        per = steps
    elif kernel == "hopf-cole":
        run = peer.make_hopf_cole(n, N, d, eps, HC_T, rng)
        per = 1
    else:
        raise SystemExit(f"{peer.NAME}_peer: unknown kernel {kernel}")
    run()
    samples, check = [], float("nan")
    for _ in range(reps):
        t0 = time.perf_counter()
        check = run()
        samples.append((time.perf_counter() - t0) / per)
    return samples, float(check)


def main(peer):
    ap = argparse.ArgumentParser(prog=f"{peer.NAME}_peer.py")
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check", help="compare with hjdl on the problems of hjdl_bench --export DIR")
    c.add_argument("dir")
    c.add_argument("--threads", type=int, default=2)
    t = sub.add_parser("time", help="time the kernels of the rows of a cases CSV (hjdl.csv)")
    t.add_argument("--cases", required=True, help="CSV with kernel,n,N,d,eps[,bound_s] columns")
    t.add_argument("--out", required=True)
    t.add_argument("--reps", type=int, default=5)
    t.add_argument("--hopf-reps", type=int, default=0, help="reps for hopf-cole (default --reps)")
    t.add_argument("--steps", type=int, default=20, help="Adam steps per timed run")
    t.add_argument("--threads", type=int, default=2)
    t.add_argument("--seed", type=int, default=1)
    v = sub.add_parser("versions")
    v.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()

    peer.setup(getattr(a, "threads", 2))
    if a.cmd == "versions":
        print(peer.versions())
        return 0
    if a.cmd == "check":
        results = peer.check(a.dir)
        bad = 0
        for what, e, tol in results:
            ok = e <= tol
            bad += not ok
            print(f"  {peer.NAME:6s} {what:40s} max rel. diff {e:.2e}  (<= {tol:g}) {'ok' if ok else 'DISAGREES'}")
        if bad:
            print(f"{peer.NAME}_peer: {bad} quantities disagree with hjdl: its timings would "
                  "measure a different computation", file=sys.stderr)
            return 1
        return 0
    with open(a.cases) as fh:
        cases = list(csv.DictReader(fh))
    rows = []
    for row in cases:
        kernel = row["kernel"]
        n, N, d = int(row["n"]), int(row["N"]), int(row["d"])
        eps = float(row["eps"])
        reps = a.hopf_reps if (kernel == "hopf-cole" and a.hopf_reps > 0) else a.reps
        samples, check = time_case(peer, kernel, n, N, d, eps, reps, a.steps, a.seed)
        med = statistics.median(samples)
        bound = float(row.get("bound_s") or "nan")
        rows.append({"kernel": kernel, "n": n, "N": N, "d": d, "eps": repr(eps),
                     "threads": a.threads, "reps": reps, "median_s": f"{med:.6e}",
                     "min_s": f"{min(samples):.6e}", "max_s": f"{max(samples):.6e}",
                     "bound_s": f"{bound:.6e}", "fraction": f"{bound / med:.4f}",
                     "throughput": f"{n * N / med:.6e}", "check": repr(check)})
        print(f"  {peer.NAME:6s} {kernel:10s} n={n:<6d} N={N:<8d} d={d:<3d} median {med:.4e} s",
              flush=True)
    with open(a.out, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS)
        w.writeheader()
        w.writerows(rows)
    return 0
