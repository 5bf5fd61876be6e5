#!/usr/bin/python3
"""torch_lse_fit.py — the peer run for `hjdl fit` on the scaling setting: the same
LSE regression model (f = eps * logsumexp((X W^T + b)/eps)), the same
initialisation distribution (W ~ N(0, 1/d), b = 0), MSE loss, full-batch
Adam, float64, in PyTorch (Debian's python3-torch). Prints test RMSE.

usage: torch_lse_fit.py TRAIN.csv TEST.csv N EPS LR ITERS SEED
"""
import sys
import time

import numpy as np
import torch


def load(path):
    a = np.loadtxt(path, delimiter=",", skiprows=1)
    return torch.tensor(a[:, :-1]), torch.tensor(a[:, -1])


def main():
    train, test, N, eps, lr, iters, seed = sys.argv[1:8]
    N, eps, lr, iters, seed = int(N), float(eps), float(lr), int(iters), int(seed)
    torch.manual_seed(seed)
    torch.set_default_dtype(torch.float64)
    xtr, ytr = load(train)
    xte, yte = load(test)
    d = xtr.shape[1]
    W = (torch.randn(N, d) / d ** 0.5).requires_grad_()
    b = torch.zeros(N, requires_grad=True)
    opt = torch.optim.Adam([W, b], lr=lr)

    def f(x):
        return eps * torch.logsumexp((x @ W.T + b) / eps, dim=1)

    t0 = time.perf_counter()
    for _ in range(iters):
        opt.zero_grad()
        loss = ((f(xtr) - ytr) ** 2).mean()
        loss.backward()
        opt.step()
    secs = time.perf_counter() - t0
    with torch.no_grad():
        rmse = ((f(xte) - yte) ** 2).mean().sqrt().item()
    print(f"test rmse {rmse:.6g}\nseconds {secs:.3f}")


if __name__ == "__main__":
    main()
