#!/usr/bin/env python3
"""hjdl from Python in one page: train an LSE network, explain a prediction through the initial
data that training selected, and map the attribution-entropy landscape (a PNG with matplotlib
when it is installed, a CSV always).

    source .venv/bin/activate          # after `make python` (or `make demo`)
    python3 examples/quickstart.py [--out DIR] [--no-plot]
"""

import argparse
import os
import time

import numpy as np

import hjdl


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="hjdl-out/quickstart", help="output directory")
    ap.add_argument("--no-plot", action="store_true", help="skip the matplotlib figure")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    print(f"hjdl {hjdl.__version__} ({hjdl.library_path()})")

    # 1. Train: y = |x| in 2-D (a Lipschitz target) with one LSE layer of 32 neurons.
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, size=(400, 2))
    y = np.linalg.norm(x, axis=1)
    eps, t = 0.05, 1.0
    t0 = time.perf_counter()
    model = hjdl.Model("lse:32", eps=eps, t=t, seed=1).fit(x, y, iters=1500, lr=0.02)
    rmse = np.sqrt(np.mean((model.predict(x) - y) ** 2))
    print(f"\n1. fit lse:32 (eps={eps}) on |x|: {model.steps_} Adam steps in "
          f"{time.perf_counter() - t0:.2f} s, train RMSE {rmse:.4f}")

    # 2. Explain one prediction by the readout's Gibbs weights.
    q = np.array([[0.6, -0.3]])
    f = model.predict(q)[0]
    e = model.explain(q, top=3)
    print(f"\n2. predict |{q[0].tolist()}| = {np.linalg.norm(q):.4f}: model says {f:.4f}")
    print(f"   entropy {e['entropy'][0]:.3f} (n_eff {e['n_eff'][0]:.2f} of {model.n_atoms} atoms),"
          f" regime {hjdl.REGIMES[e['regime'][0]]}")
    for j, p in zip(e["atoms"][0], e["pi"][0]):
        print(f"   atom {j:2d}  weight {p:.3f}")

    # 3. The HJ reading: the model is the Hopf-Cole solution of the atoms it learned,
    #    f_eps(x) + u_eps(x, t) = |x|^2 / (4t).
    ya, ga = model.initial_data()
    u = hjdl.hopf_cole(q, ya, ga, t, eps)["u"][0]
    print(f"\n3. initial data: {len(ga)} atoms (y_j, g_j); f + u - |x|^2/(4t) = "
          f"{f + u - (q ** 2).sum() / (4 * t):.2e}")
    for j in e["atoms"][0]:
        print(f"   atom {j:2d} at y = ({ya[j, 0]:+.3f}, {ya[j, 1]:+.3f}), g = {ga[j]:+.3f}")

    # 4. The entropy landscape H(x; eps) of those atoms, its critical points, and a map.
    L = hjdl.Landscape(ya, ga, t)
    lo, hi = np.array([-1.2, -1.2]), np.array([1.2, 1.2])
    crit = L.critical_points(eps, lo=lo, hi=hi)
    kinds = {0: "minima", 1: "saddles", 2: "maxima"}
    counts = ", ".join(f"{np.sum(crit['index'] == k)} {name}" for k, name in kinds.items())
    print(f"\n4. entropy landscape at eps={eps} (eps* = {L.critical_eps:.3f}): {counts}")
    g1 = np.linspace(lo[0], hi[0], 161)
    X1, X2 = np.meshgrid(g1, g1, indexing="ij")
    grid = np.column_stack([X1.ravel(), X2.ravel()])
    H = L.entropy(grid, eps).reshape(X1.shape)
    csv = os.path.join(args.out, "landscape.csv")
    np.savetxt(csv, np.column_stack([grid, H.ravel()]), delimiter=",", header="x1,x2,H",
               comments="")
    print(f"   H on a 161 x 161 grid: {csv}")
    if args.no_plot:
        return
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("   (matplotlib is not installed: no figure; the CSV has the numbers)")
        return
    fig, ax = plt.subplots(figsize=(6, 5))
    im = ax.pcolormesh(X1, X2, H, shading="auto", cmap="viridis")
    fig.colorbar(im, ax=ax, label="H(x; eps)")
    ax.scatter(ya[:, 0], ya[:, 1], s=12, c="white", marker="x", label="atoms y_j")
    for k, (name, m) in enumerate(zip(kinds.values(), ("v", "s", "^"))):
        sel = crit["index"] == k
        ax.scatter(crit["x"][sel, 0], crit["x"][sel, 1], s=25, marker=m, label=name)
    ax.scatter(q[:, 0], q[:, 1], s=60, c="red", marker="*", label="explained point")
    ax.set(xlim=(lo[0], hi[0]), ylim=(lo[1], hi[1]), xlabel="x1", ylabel="x2",
           title=f"attribution entropy of the learned atoms, eps={eps}")
    ax.legend(loc="lower left", fontsize=7)
    png = os.path.join(args.out, "landscape.png")
    fig.savefig(png, dpi=120, bbox_inches="tight")
    print(f"   figure: {png}")


if __name__ == "__main__":
    main()
