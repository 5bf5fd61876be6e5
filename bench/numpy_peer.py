#!/usr/bin/python3
"""numpy_peer.py — the paper's NumPy formulation of hjdl's kernels, the first peer of `make bench`.

float64 throughout, BLAS threads from the environment (run.sh sets
OPENBLAS_NUM_THREADS=2 before NumPy loads). The formulation:
    logits      z = X W^T + b                              (n, N), one GEMM
    LSE         m = max_j z,  e = exp((z - m)/eps),  s = sum_j e,
                f = m + eps log s,  pi = e / s             (max-shifted)
    MSE loss    L = mean_i (f_i - y_i)^2
    gradient    G = (2/n) (f - y)[:, None] * pi            dL/dz (n, N)
                dL/dW = G^T X,  dL/db = sum_i G_i          (hand-derived: df/dz_j = pi_j)
    Adam        m = b1 m + (1-b1) g,  v = b2 v + (1-b2) g^2,
                p -= lr (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + 1e-8)
    Hopf-Cole   q_ij = g_j + |x_i - y_j|^2/(4t) = g_j + (|x_i|^2 - 2 x_i.y_j + |y_j|^2)/(4t),
                u = -eps LSE(-q/eps),  grad u = (x - E_pi[y])/(2t), in chunks of points.
Elementwise work is done in place on the (n, N) array, as one would write it
for speed.

usage: numpy_peer.py check DIR | time --cases CSV --out CSV [--reps R] [--steps S] | versions
"""
import sys

import numpy as np

import peer_common

NAME = "numpy"


def setup(threads):
    pass  # NumPy's BLAS reads OPENBLAS_NUM_THREADS / OMP_NUM_THREADS at import


def versions():
    return f"numpy {np.__version__}"


def lse_pi(X, W, b, eps):
    """f (n) and pi (n, N) of the LSE layer."""
    z = X @ W.T
    z += b
    m = z.max(axis=1)
    z -= m[:, None]
    z /= eps
    np.exp(z, out=z)
    s = z.sum(axis=1)
    z /= s[:, None]
    return m + eps * np.log(s), z


def loss_grad(X, y, W, b, eps):
    """MSE loss of the lse:N model and its gradient (dW (N, d), db (N))."""
    f, G = lse_pi(X, W, b, eps)
    r = f - y
    loss = float(np.mean(r * r))
    G *= ((2.0 / X.shape[0]) * r)[:, None]
    return loss, G.T @ X, G.sum(axis=0)


class Adam:
    """Adam over a list of arrays, updated in place."""

    def __init__(self, params, lr, b1=0.9, b2=0.999, eps=1e-8):
        self.p, self.lr, self.b1, self.b2, self.eps, self.t = params, lr, b1, b2, eps, 0
        self.m = [np.zeros_like(q) for q in params]
        self.v = [np.zeros_like(q) for q in params]

    def step(self, grads):
        self.t += 1
        c1 = 1.0 - self.b1 ** self.t
        c2 = 1.0 - self.b2 ** self.t
        for p, g, m, v in zip(self.p, grads, self.m, self.v):
            m *= self.b1
            m += (1.0 - self.b1) * g
            v *= self.b2
            v += (1.0 - self.b2) * (g * g)
            p -= self.lr * (m / c1) / (np.sqrt(v / c2) + self.eps)


def hopf_cole(X, Y, g, t, eps):
    """u (n) and grad u (n, d) of the Hopf-Cole solution of atoms (Y, g), in chunks of points."""
    n, N = X.shape[0], Y.shape[0]
    chunk = max(1, (1 << 23) // N)  # at most 64 MB of (chunk, N) doubles
    yy = (Y * Y).sum(axis=1)
    u = np.empty(n)
    grad = np.empty_like(X)
    for i0 in range(0, n, chunk):
        Xc = X[i0:i0 + chunk]
        q = Xc @ Y.T
        q *= -2.0
        q += yy
        q += (Xc * Xc).sum(axis=1)[:, None]
        q /= 4.0 * t
        q += g
        q /= -eps  # logits a = -q/eps
        m = q.max(axis=1)
        q -= m[:, None]
        np.exp(q, out=q)
        s = q.sum(axis=1)
        u[i0:i0 + chunk] = -eps * (m + np.log(s))
        ybar = (q @ Y) / s[:, None]
        grad[i0:i0 + chunk] = (Xc - ybar) / (2.0 * t)
    return u, grad


def make_lse(n, N, d, eps, rng):
    X = rng.uniform(-2, 2, (n, d))
    W = rng.standard_normal((N, d)) / np.sqrt(d)
    b = 0.1 * rng.standard_normal(N)
    return lambda: float(lse_pi(X, W, b, eps)[0].sum())


def make_adam(n, N, d, eps, lr, rng):
    X = rng.uniform(-2, 2, (n, d))
    y = np.sqrt((X * X).sum(axis=1))
    W0 = rng.standard_normal((N, d)) / np.sqrt(d)

    def run(steps):
        W, b = W0.copy(), np.zeros(N)
        opt = Adam([W, b], lr)
        loss = float("nan")
        for _ in range(steps):
            loss, gW, gb = loss_grad(X, y, W, b, eps)
            opt.step([gW, gb])
        return loss
    return run


def make_hopf_cole(n, N, d, eps, t, rng):
    X = rng.uniform(-2, 2, (n, d))
    Y = rng.uniform(-2, 2, (N, d))
    g = rng.uniform(0, 1, N)
    return lambda: float(hopf_cole(X, Y, g, t, eps)[0].sum())


def check(dirname):
    a, meta = peer_common.load_check(dirname)
    out = []
    f, pi = lse_pi(a["lse_x"], a["lse_w"], a["lse_b"].ravel(), meta["lse_eps"])
    out.append(("lse: f", peer_common.rel_err(f, a["lse_f"]), 1e-10))
    out.append(("lse: pi", peer_common.rel_err(pi, a["lse_pi"]), 1e-10))
    N, d = int(meta["adam_N"]), int(meta["adam_d"])
    p0 = a["adam_p0"].ravel()
    W, b = p0[:N * d].reshape(N, d).copy(), p0[N * d:].copy()
    X, y = a["adam_x"], a["adam_y"].ravel()
    opt = Adam([W, b], meta["adam_lr"], meta["adam_beta1"], meta["adam_beta2"], meta["adam_adam_eps"])
    losses = []
    for _ in range(int(meta["adam_steps"])):
        loss, gW, gb = loss_grad(X, y, W, b, meta["adam_eps"])
        losses.append(loss)
        opt.step([gW, gb])
    final = loss_grad(X, y, W, b, meta["adam_eps"])[0]
    out.append(("adam: loss before each step", peer_common.rel_err(losses, a["adam_loss"]), 1e-10))
    out.append(("adam: final loss", peer_common.rel_err(final, meta["adam_final_loss"]), 1e-10))
    out.append(("adam: parameters after the steps",
                peer_common.rel_err(np.concatenate([W.ravel(), b]), a["adam_p"]), 1e-9))
    u, grad = hopf_cole(a["hc_x"], a["hc_y"], a["hc_g"].ravel(), meta["hc_t"], meta["hc_eps"])
    out.append(("hopf-cole: u", peer_common.rel_err(u, a["hc_u"]), 1e-10))
    out.append(("hopf-cole: grad u", peer_common.rel_err(grad, a["hc_grad"]), 1e-10))
    return out


if __name__ == "__main__":
    sys.exit(peer_common.main(sys.modules[__name__]))
