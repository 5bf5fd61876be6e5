#!/usr/bin/python3
"""tabular.py — hjdl from the shell next to scikit-learn's standard estimators on the small
tabular data sets scikit-learn ships (issue 16).

For each data set, 5 identical 70/30 splits (seeds 0..4). hjdl runs through its CLI exactly as a
user would: the split is written as CSV files with a header, then
    hjdl fit --data train.csv --arch A --eps auto --standardize --out m.hjm
    hjdl predict m.hjm --x test.csv
with every other setting at its default (A = lse:16 for regression, lse-class:8 for
classification). The peers are scikit-learn estimators with their defaults, inputs
standardised (StandardScaler): LogisticRegression / Ridge, MLPClassifier / MLPRegressor,
RBF SVC / SVR. Prints mean +- sd of the test accuracy (classification) or RMSE (regression),
and hjdl's chosen eps per split.
Usage: bench/tabular.py [HJDL_BINARY]   (default build/hjdl)
"""
import csv
import os
import statistics
import subprocess
import sys
import tempfile
import warnings

import numpy as np
from sklearn import datasets
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC, SVR

SPLITS = 5
SETS = [("diabetes", datasets.load_diabetes, False), ("breast_cancer", datasets.load_breast_cancer, True),
        ("wine", datasets.load_wine, True), ("iris", datasets.load_iris, True)]


def write_csv(path, x, y):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow([f"f{j}" for j in range(x.shape[1])] + ["y"])
        for row, t in zip(x, y):
            w.writerow([repr(float(v)) for v in row] + [int(t) if isinstance(t, (np.integer, int)) else repr(float(t))])


def hjdl_run(hjdl, tmp, xtr, ytr, xte, classify):
    tr, te, m = (os.path.join(tmp, n) for n in ("train.csv", "test.csv", "m.hjm"))
    write_csv(tr, xtr, ytr)
    write_csv(te, xte, np.zeros(len(xte), dtype=int) if classify else np.zeros(len(xte)))
    arch = "lse-class:8" if classify else "lse:16"
    out = subprocess.run([hjdl, "fit", "--data", tr, "--arch", arch, "--eps", "auto", "--standardize",
                          "--out", m, "--quiet"], check=True, capture_output=True, text=True).stdout
    eps = float([l for l in out.splitlines() if l.startswith("eps chosen")][0].split()[2])
    pred = subprocess.run([hjdl, "predict", m, "--x", te], check=True, capture_output=True, text=True).stdout
    p = np.array([float(l) for l in pred.splitlines()[1:]])
    return p, eps


def metric(classify, y, p):
    return float(np.mean(y == p)) if classify else float(np.sqrt(np.mean((y - p) ** 2)))


def main():
    hjdl = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build/hjdl")
    warnings.simplefilter("ignore", ConvergenceWarning)
    print(f"{'data set':14} {'n':>5} {'d':>3} {'metric':8} {'hjdl (eps auto)':>22} {'linear':>16} {'MLP':>16} {'RBF SVM':>16}  hjdl eps per split")
    for name, load, classify in SETS:
        ds = load()
        x, y = ds.data.astype(float), ds.target
        peers = ({"linear": lambda: LogisticRegression(max_iter=1000), "MLP": lambda: MLPClassifier(max_iter=1000, random_state=0),
                  "RBF SVM": lambda: SVC()} if classify else
                 {"linear": lambda: Ridge(), "MLP": lambda: MLPRegressor(max_iter=2000, random_state=0), "RBF SVM": lambda: SVR()})
        scores = {k: [] for k in ["hjdl"] + list(peers)}
        eps = []
        with tempfile.TemporaryDirectory() as tmp:
            for s in range(SPLITS):
                xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.3, random_state=s,
                                                      stratify=y if classify else None)
                p, e = hjdl_run(hjdl, tmp, xtr, ytr, xte, classify)
                scores["hjdl"].append(metric(classify, yte, p))
                eps.append(e)
                for k, make in peers.items():
                    est = make_pipeline(StandardScaler(), make())
                    if not classify and k == "SVR":
                        pass
                    est.fit(xtr, ytr)
                    scores[k].append(metric(classify, yte, est.predict(xte)))
        cell = lambda v: f"{statistics.mean(v):.4f} ± {statistics.stdev(v):.4f}" if classify else \
            f"{statistics.mean(v):.2f} ± {statistics.stdev(v):.2f}"
        best = max if classify else min
        bk = best(peers, key=lambda k: statistics.mean(scores[k]))
        gap = statistics.mean(scores["hjdl"]) - statistics.mean(scores[bk])
        gap_s = f"{100 * gap:+.1f} points" if classify else f"{100 * gap / statistics.mean(scores[bk]):+.1f} %"
        print(f"{name:14} {len(y):5d} {x.shape[1]:3d} {'accuracy' if classify else 'RMSE':8} {cell(scores['hjdl']):>22} "
              + " ".join(f"{cell(scores[k]):>16}" for k in peers)
              + f"  {','.join(f'{e:g}' for e in eps)}  (vs best peer {bk}: {gap_s})")


if __name__ == "__main__":
    main()
