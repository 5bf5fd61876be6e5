#!/usr/bin/python3
"""report.py — merge `make bench`'s measurements: bench.csv, the side-by-side table, the issue-8 targets, bench.png.

usage: report.py OUT_DIR
Reads OUT_DIR/{roofline,hjdl,numpy,torch}.csv (hjdl with the default kernel
set), OUT_DIR/kernels-SET/{roofline,hjdl}.csv (every other kernel set the CPU
runs) and, if present, scaling_times.csv; writes OUT_DIR/bench.csv (one row per kernel x size x
implementation), OUT_DIR/bench_plot.dat and OUT_DIR/bench.png (gnuplot,
bench/bench.gp). Standard library only.
"""
import csv
import math
import os
import shutil
import subprocess
import sys

IMPLS = ["hjdl", "numpy", "torch"]
FIELDS = ["kernel", "n", "N", "d", "eps", "implementation", "median_s", "min_s", "reps", "threads",
          "bound_s", "roofline_fraction", "ratio_to_hjdl", "projected", "note"]


def read(path):
    if not os.path.exists(path):
        return []
    with open(path) as fh:
        return list(csv.DictReader(fh))


def fnum(x):
    try:
        return float(x)
    except (TypeError, ValueError):
        return math.nan


def fmt_t(x):
    return "-" if math.isnan(x) else f"{x:.3e}"


def print_targets(name, cases, hj, torch):
    """The Adam (>= 20x PyTorch) and LSE forward (>= 50 % of the roofline) targets of hj rows."""
    for k in cases:
        h, t = hj.get(k), torch.get(k)
        if h is None:
            continue
        if k[0] == "adam" and t:
            ratio = fnum(t["median_s"]) / fnum(h["median_s"])
            print(f"  adam  d={k[3]} N={k[2]:<5d} torch/{name} = {ratio:6.1f}x  (target >= 20x): "
                  f"{'met' if ratio >= 20 else 'NOT met'}")
        if k[0] == "lse" and k[1] == 4000 and k[2] == 1000 and k[3] in (2, 64):
            frac = fnum(h["bound_s"]) / fnum(h["median_s"])
            print(f"  lse   d={k[3]:<3d} N=1000 n=4000  roofline {100 * frac:5.1f}%  (target >= 50%): "
                  f"{'met' if frac >= 0.5 else 'NOT met'}")


def kernel_sets(out):
    """[(set name, directory)]: the default set (out/, named in machine.txt) first."""
    default = "default"
    try:
        with open(os.path.join(out, "machine.txt")) as fh:
            for line in fh:
                if line.startswith("kernels: "):
                    default = line.split()[1]
    except OSError:
        pass
    sets = [(default, out)]
    for name in ("avx512", "avx2", "portable"):
        d = os.path.join(out, "kernels-" + name)
        if name != default and os.path.exists(os.path.join(d, "hjdl.csv")):
            sets.append((name, d))
    return sets


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "bench-out"
    roof = read(os.path.join(out, "roofline.csv"))
    rows = {impl: read(os.path.join(out, impl + ".csv")) for impl in IMPLS}
    if not rows["hjdl"]:
        sys.exit(f"report.py: {out}/hjdl.csv is missing")
    key = lambda r: (r["kernel"], int(r["n"]), int(r["N"]), int(r["d"]))  # noqa: E731
    by = {impl: {key(r): r for r in rows[impl]} for impl in IMPLS}
    cases = [key(r) for r in rows["hjdl"]]

    merged = []
    for k in cases:
        h = by["hjdl"][k]
        hmed = fnum(h["median_s"])
        for impl in IMPLS:
            r = by[impl].get(k)
            if r is None:
                continue
            med, bound = fnum(r["median_s"]), fnum(h["bound_s"])
            merged.append({"kernel": k[0], "n": k[1], "N": k[2], "d": k[3], "eps": h["eps"],
                           "implementation": impl, "median_s": r["median_s"], "min_s": r["min_s"],
                           "reps": r["reps"], "threads": r["threads"], "bound_s": h["bound_s"],
                           "roofline_fraction": f"{bound / med:.4f}",
                           "ratio_to_hjdl": f"{med / hmed:.3f}", "projected": 0,
                           "note": "seconds per step" if k[0] == "adam" else "seconds per call"})
    scaling = read(os.path.join(out, "scaling_times.csv"))
    hj_scal = next((fnum(s["seconds"]) for s in scaling if s["implementation"] == "hjdl"), math.nan)
    for s in scaling:
        sec = fnum(s["seconds"])
        merged.append({"kernel": "scaling", "n": 4000, "N": "", "d": "", "eps": "",
                       "implementation": s["implementation"], "median_s": s["seconds"], "min_s": "",
                       "reps": 1, "threads": roof[0]["threads"] if roof else "",
                       "bound_s": "", "roofline_fraction": "",
                       "ratio_to_hjdl": f"{sec / hj_scal:.3f}", "projected": s["projected"],
                       "note": s["note"]})
    with open(os.path.join(out, "bench.csv"), "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=FIELDS)
        w.writeheader()
        w.writerows(merged)

    # ---- the printed table ----
    if roof:
        r = roof[0]
        print(f"roofline ({r['threads']} threads): R_exp {fnum(r['r_exp']):.3g} exp/s, "
              f"R_fma {fnum(r['r_fma']):.3g} FMA/s (the larger of dgemm {r['gemm_n']}^3 "
              f"{fnum(r.get('r_fma_gemm', 'nan')):.3g} and the kernels' FMA loop "
              f"{fnum(r.get('r_fma_loop', 'nan')):.3g}), "
              f"B_write {fnum(r['b_write']) / 1e9:.3g} GB/s")
    print("times: medians; 'x hjdl' = peer time / hjdl time (higher: hjdl faster); "
          "'roof' = roofline bound / time")
    hdr = f"{'kernel':10s} {'n':>6s} {'N':>8s} {'d':>3s} | {'hjdl s':>10s} {'roof':>6s} |"
    for impl in IMPLS[1:]:
        hdr += f" {impl + ' s':>10s} {'x hjdl':>7s} {'roof':>6s} |"
    print(hdr)
    print("-" * len(hdr))
    for k in cases:
        h = by["hjdl"][k]
        hmed, bound = fnum(h["median_s"]), fnum(h["bound_s"])
        line = f"{k[0]:10s} {k[1]:6d} {k[2]:8d} {k[3]:3d} | {fmt_t(hmed):>10s} {100 * bound / hmed:5.1f}% |"
        for impl in IMPLS[1:]:
            r = by[impl].get(k)
            med = fnum(r["median_s"]) if r else math.nan
            line += f" {fmt_t(med):>10s} {med / hmed:6.1f}x {100 * bound / med:5.1f}% |"
        print(line)
    over = [k for k in cases if fnum(by["hjdl"][k]["bound_s"]) > fnum(by["hjdl"][k]["median_s"])]
    if over:
        print("WARNING: hjdl beats the roofline bound at " + ", ".join(f"{k[0]} d={k[3]}" for k in over)
              + ": the roofline runs were slowed down (busy machine?); fractions are not meaningful")
    if scaling:
        print()
        print("full `scaling` experiment (seconds; 'projected' = per-step time x steps x runs):")
        for s in scaling:
            sec = fnum(s["seconds"])
            tag = "projected" if s["projected"] == "1" else "measured "
            print(f"  {s['implementation']:16s} {sec:10.1f} s  {tag}  {sec / hj_scal:7.1f}x hjdl")

    # ---- the issue-8 targets ----
    print()
    print("issue 8 targets (on this run):")
    print_targets("hjdl", cases, by["hjdl"], by["torch"])
    if not math.isnan(hj_scal):
        print(f"  scaling experiment {hj_scal:.1f} s  (target < 180 s): "
              f"{'met' if hj_scal < 180 else 'NOT met'}")
    else:
        print("  scaling experiment: not run (BENCH_QUICK=1)")

    # ---- every kernel set, each against its own roofline ----
    sets = kernel_sets(out)
    if len(sets) > 1:
        print()
        print("kernel sets (HJDL_KERNELS; each 'roof' against its own roofline: R_exp of its own exp;"
              " torch from this run)")
        for name, d in sets:
            r = read(os.path.join(d, "roofline.csv"))
            if r:
                print(f"  {name:8s} R_exp {fnum(r[0]['r_exp']):.3g} exp/s, R_fma {fnum(r[0]['r_fma']):.3g}"
                      f" FMA/s, B_write {fnum(r[0]['b_write']) / 1e9:.3g} GB/s")
        hdr = f"  {'kernel':6s} {'n':>5s} {'N':>5s} {'d':>3s} |"
        for name, _ in sets:
            hdr += f" {name + ' s':>12s} {'roof':>6s} {'torch/':>7s} |"
        print(hdr + f" {'torch s':>10s}")
        print("  " + "-" * (len(hdr) + 9))
        per = {name: {key(r): r for r in read(os.path.join(d, "hjdl.csv"))} for name, d in sets}
        for k in cases:
            if k[0] not in ("lse", "adam"):
                continue
            t = by["torch"].get(k)
            tmed = fnum(t["median_s"]) if t else math.nan
            line = f"  {k[0]:6s} {k[1]:5d} {k[2]:5d} {k[3]:3d} |"
            for name, _ in sets:
                h = per[name].get(k)
                med, bound = (fnum(h["median_s"]), fnum(h["bound_s"])) if h else (math.nan, math.nan)
                line += f" {fmt_t(med):>12s} {100 * bound / med:5.1f}% {tmed / med:6.1f}x |"
            print(line + f" {fmt_t(tmed):>10s}")
        print()
        print("issue 20 targets for the avx2 set (on this run):")
        print_targets("avx2", cases, per.get("avx2", {}), by["torch"])

    # ---- the figure ----
    dat = os.path.join(out, "bench_plot.dat")
    with open(dat, "w") as fh:
        fh.write("# label hjdl numpy torch (seconds; ? = missing)\n")
        for k in cases:
            label = f"{k[0]}\\nn={k[1]} N={k[2]}\\nd={k[3]}"
            vals = []
            for impl in IMPLS:
                r = by[impl].get(k)
                v = fnum(r["median_s"]) if r else math.nan
                vals.append("?" if math.isnan(v) else f"{v:.6e}")
            fh.write(f"\"{label}\" {' '.join(vals)}\n")
        if scaling:
            vals = {s["implementation"]: fnum(s["seconds"]) for s in scaling}
            fh.write("\"scaling (full)\\nnumpy, torch\\nprojected\" "
                     + " ".join(f"{vals.get(i, math.nan):.6e}" for i in IMPLS) + "\n")
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench.gp")
    png = os.path.join(out, "bench.png")
    if shutil.which("gnuplot") is None:
        print(f"\n(no gnuplot: {png} not drawn; data in {dat})")
    else:
        subprocess.run(["gnuplot", "-e", f"datafile='{dat}'; outfile='{png}'", script], check=True)
    print(f"\nwritten: {out}/bench.csv, {out}/machine.txt, {png}")


if __name__ == "__main__":
    main()
