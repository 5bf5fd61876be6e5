#!/usr/bin/env python3
"""Binding overhead: hjdl.lse (LSE forward, f only and f + pi) from Python vs the same
hj_lse_forward call timed in C (python/bench/lse_c.c, compiled here against the same libhjdl).

    python3 python/bench/overhead.py [--n 4000 --N 1000 --d 16 --eps 0.1 --reps 41 --rounds 5]

Both time the same computation on the same data (closed-form values built identically) with
the same library and thread settings; each round runs the C program, then the Python calls,
and reports per-call medians; the spread over rounds shows the machine's noise. Python is timed
three ways: outputs into preallocated buffers (the same work as the C program), and the usual
call that allocates its outputs (f only: n doubles; f + pi: an (n, N) array, whose first-touch
page faults are part of what a Python user pays).
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import hjdl  # noqa: E402


def median_time(fn, reps):
    fn()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=4000)
    ap.add_argument("--N", type=int, default=1000)
    ap.add_argument("--d", type=int, default=16)
    ap.add_argument("--eps", type=float, default=0.1)
    ap.add_argument("--reps", type=int, default=41)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=0, help="threads for both (0: default)")
    a = ap.parse_args()
    env = dict(os.environ)
    if a.threads:
        hjdl.set_threads(a.threads)
        env["OMP_NUM_THREADS"] = env["OPENBLAS_NUM_THREADS"] = str(a.threads)
    lib = os.path.realpath(hjdl.library_path())
    root = os.path.dirname(os.path.dirname(HERE))
    exe = os.path.join(tempfile.mkdtemp(prefix="hjdl-bench-"), "lse_c")
    subprocess.run(["cc", "-O2", "-std=c11", "-D_POSIX_C_SOURCE=200809L",
                    "-I", os.path.join(root, "include"), os.path.join(HERE, "lse_c.c"), lib,
                    "-Wl,-rpath," + os.path.dirname(lib), "-lm", "-o", exe], check=True)
    n, N, d = a.n, a.N, a.d
    x = np.sin(0.37 * np.arange(n * d)).reshape(n, d)
    w = (0.25 * np.cos(0.11 * np.arange(N * d))).reshape(N, d)
    b = 0.01 * (np.arange(N) % 7)
    fb, pb = np.empty(n), np.empty((n, N))
    print(f"hjdl {hjdl.__version__} ({lib}), threads {hjdl.get_threads()}; "
          f"LSE forward n={n}, N={N}, d={d}, eps={a.eps}; median of {a.reps} calls per round")
    rows = {k: [] for k in ("c_f", "py_f_buf", "py_f", "c_pi", "py_pi_buf", "py_pi")}
    for r in range(a.rounds):
        out = subprocess.run([exe, str(n), str(N), str(d), repr(a.eps), str(a.reps)], check=True,
                             capture_output=True, text=True, env=env).stdout.split("\n")
        c = {line.split()[0]: float(line.split()[1]) for line in out if line.strip()}
        rows["c_f"].append(c["f"])
        rows["c_pi"].append(c["f+pi"])
        rows["py_f_buf"].append(median_time(lambda: hjdl.lse(x, w, b, a.eps, f_out=fb), a.reps))
        rows["py_f"].append(median_time(lambda: hjdl.lse(x, w, b, a.eps), a.reps))
        rows["py_pi_buf"].append(median_time(
            lambda: hjdl.lse(x, w, b, a.eps, f_out=fb, pi_out=pb), a.reps))
        rows["py_pi"].append(median_time(lambda: hjdl.lse(x, w, b, a.eps, pi=True), a.reps))
        print(f"round {r + 1}: " + "  ".join(f"{k} {v[-1] * 1e3:.3f} ms" for k, v in rows.items()))
        cs = float(c["checksum"])
        f = hjdl.lse(x, w, b, a.eps)
        assert abs((f[0] + f[-1]) - cs) <= 1e-12 * abs(cs), "C and Python computed different things"

    # the fixed cost of a call, where the computation is negligible (n = N = d = 1): its
    # Python - C difference is the binding's overhead, independent of the machine's noise on
    # the 20 ms computation
    out = subprocess.run([exe, "1", "1", "1", repr(a.eps), "20001"], check=True,
                         capture_output=True, text=True, env=env).stdout.split("\n")
    c1 = {line.split()[0]: float(line.split()[1]) for line in out if line.strip()}
    x1, w1, b1, f1, p1 = np.zeros((1, 1)), np.ones((1, 1)), np.zeros(1), np.empty(1), np.empty((1, 1))
    tiny = {"f": median_time(lambda: hjdl.lse(x1, w1, b1, a.eps), 20001),
            "f, f_out given": median_time(lambda: hjdl.lse(x1, w1, b1, a.eps, f_out=f1), 20001),
            "f+pi, buffers given": median_time(
                lambda: hjdl.lse(x1, w1, b1, a.eps, f_out=f1, pi_out=p1), 20001)}

    def summary(key):
        v = rows[key]
        return statistics.median(v), min(v), max(v)
    print("\nper-call medians over rounds (min..max):")
    for key, label in (("c_f", "C       f"), ("py_f_buf", "Python  f, f_out given"),
                       ("py_f", "Python  f"), ("c_pi", "C       f+pi"),
                       ("py_pi_buf", "Python  f+pi, buffers given"), ("py_pi", "Python  f+pi")):
        m, lo, hi = summary(key)
        print(f"  {label:30s} {m * 1e3:8.3f} ms  ({lo * 1e3:.3f} .. {hi * 1e3:.3f})")
    print("\nPython / C (ratio of the medians; per-round ratios min..max):")
    for py, cc, label in (("py_f_buf", "c_f", "f, same buffers"), ("py_f", "c_f", "f, allocating"),
                          ("py_pi_buf", "c_pi", "f+pi, same buffers"),
                          ("py_pi", "c_pi", "f+pi, allocating")):
        per = [p / q for p, q in zip(rows[py], rows[cc])]
        print(f"  {label:22s} {summary(py)[0] / summary(cc)[0]:.4f}  "
              f"({min(per):.4f} .. {max(per):.4f})")
    print(f"\nfixed cost per call at n = N = d = 1 (median of 20001): C f {c1['f'] * 1e6:.2f} us, "
          f"C f+pi {c1['f+pi'] * 1e6:.2f} us")
    base = summary("c_f")[0]
    for label, v in tiny.items():
        ref = c1["f+pi"] if "pi" in label else c1["f"]
        big = summary("c_pi")[0] if "pi" in label else base
        print(f"  Python {label:22s} {v * 1e6:7.2f} us: binding overhead {(v - ref) * 1e6:6.2f} us"
              f" = {100 * (v - ref) / big:.4f}% of the C call at full size")


if __name__ == "__main__":
    main()
