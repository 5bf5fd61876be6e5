#!/usr/bin/python3
"""torch_peer.py — PyTorch (Debian's python3-torch, CPU) versions of hjdl's kernels, the second peer of `make bench`.

float64, torch.set_num_threads(T) (2 in `make bench`), the way a PyTorch user
writes them:
    LSE + pi    z = addmm(b, X, W^T); max-shifted exp in place, pi = e / s,
                f = m + eps log s (one exp per (point, neuron)), under
                torch.inference_mode();
    Adam step   f = eps * logsumexp((X W^T + b)/eps), MSE loss, autograd
                backward, torch.optim.Adam (as bench/torch_lse_fit.py):
                opt.zero_grad(); loss.backward(); opt.step();
    Hopf-Cole   q = g + (|x|^2 - 2 X Y^T + |y|^2)/(4t) per chunk of points,
                u = -eps logsumexp(-q/eps) (max-shifted, in place),
                grad u = (x - pi Y)/(2t), under torch.inference_mode().

usage: torch_peer.py check DIR | time --cases CSV --out CSV [--threads T] ... | versions
"""
import sys

import numpy as np
import torch

import peer_common

NAME = "torch"


def setup(threads):
    torch.set_num_threads(threads)
    torch.set_default_dtype(torch.float64)


def versions():
    return f"torch {torch.__version__} ({torch.get_num_threads()} threads)"


def T(a):
    return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float64))


@torch.inference_mode()
def lse_pi(X, W, b, eps):
    z = torch.addmm(b, X, W.T)
    m = z.amax(dim=1, keepdim=True)
    z.sub_(m).div_(eps).exp_()
    s = z.sum(dim=1, keepdim=True)
    z.div_(s)
    return (m + eps * s.log()).squeeze(1), z


def model(X, W, b, eps):
    return eps * torch.logsumexp((X @ W.T + b) / eps, dim=1)


@torch.inference_mode()
def hopf_cole(X, Y, g, t, eps):
    n, N = X.shape[0], Y.shape[0]
    chunk = max(1, (1 << 23) // N)
    yy = (Y * Y).sum(dim=1)
    u = torch.empty(n)
    grad = torch.empty_like(X)
    for i0 in range(0, n, chunk):
        Xc = X[i0:i0 + chunk]
        q = torch.addmm(yy, Xc, Y.T, beta=1.0, alpha=-2.0)
        q.add_((Xc * Xc).sum(dim=1, keepdim=True)).div_(4.0 * t).add_(g).div_(-eps)
        m = q.amax(dim=1, keepdim=True)
        q.sub_(m).exp_()
        s = q.sum(dim=1, keepdim=True)
        u[i0:i0 + chunk] = (-eps * (m + s.log())).squeeze(1)
        grad[i0:i0 + chunk] = (Xc - (q @ Y) / s) / (2.0 * t)
    return u, grad


def make_lse(n, N, d, eps, rng):
    X = T(rng.uniform(-2, 2, (n, d)))
    W = T(rng.standard_normal((N, d)) / np.sqrt(d))
    b = T(0.1 * rng.standard_normal(N))
    return lambda: float(lse_pi(X, W, b, eps)[0].sum())


def make_adam(n, N, d, eps, lr, rng):
    X = T(rng.uniform(-2, 2, (n, d)))
    y = X.norm(dim=1)
    W0 = T(rng.standard_normal((N, d)) / np.sqrt(d))

    def run(steps):
        W = W0.clone().requires_grad_()
        b = torch.zeros(N, requires_grad=True)
        opt = torch.optim.Adam([W, b], lr=lr)
        loss = None
        for _ in range(steps):
            opt.zero_grad()
            loss = ((model(X, W, b, eps) - y) ** 2).mean()
            loss.backward()
            opt.step()
        return loss.item()
    return run


def make_hopf_cole(n, N, d, eps, t, rng):
    X = T(rng.uniform(-2, 2, (n, d)))
    Y = T(rng.uniform(-2, 2, (N, d)))
    g = T(rng.uniform(0, 1, N))
    return lambda: float(hopf_cole(X, Y, g, t, eps)[0].sum())


def check(dirname):
    a, meta = peer_common.load_check(dirname)
    out = []
    f, pi = lse_pi(T(a["lse_x"]), T(a["lse_w"]), T(a["lse_b"].ravel()), meta["lse_eps"])
    out.append(("lse: f", peer_common.rel_err(f.numpy(), a["lse_f"]), 1e-10))
    out.append(("lse: pi", peer_common.rel_err(pi.numpy(), a["lse_pi"]), 1e-10))
    N, d = int(meta["adam_N"]), int(meta["adam_d"])
    p0 = a["adam_p0"].ravel()
    W = T(p0[:N * d].reshape(N, d)).clone().requires_grad_()
    b = T(p0[N * d:]).clone().requires_grad_()
    X, y = T(a["adam_x"]), T(a["adam_y"].ravel())
    eps = meta["adam_eps"]
    opt = torch.optim.Adam([W, b], lr=meta["adam_lr"], betas=(meta["adam_beta1"], meta["adam_beta2"]),
                           eps=meta["adam_adam_eps"])
    losses = []
    for _ in range(int(meta["adam_steps"])):
        opt.zero_grad()
        loss = ((model(X, W, b, eps) - y) ** 2).mean()
        losses.append(loss.item())
        loss.backward()
        opt.step()
    with torch.no_grad():
        final = ((model(X, W, b, eps) - y) ** 2).mean().item()
        params = torch.cat([W.reshape(-1), b]).numpy()
    out.append(("adam: loss before each step", peer_common.rel_err(losses, a["adam_loss"]), 1e-10))
    out.append(("adam: final loss", peer_common.rel_err(final, meta["adam_final_loss"]), 1e-10))
    out.append(("adam: parameters after the steps", peer_common.rel_err(params, a["adam_p"]), 1e-9))
    u, grad = hopf_cole(T(a["hc_x"]), T(a["hc_y"]), T(a["hc_g"].ravel()), meta["hc_t"], meta["hc_eps"])
    out.append(("hopf-cole: u", peer_common.rel_err(u.numpy(), a["hc_u"]), 1e-10))
    out.append(("hopf-cole: grad u", peer_common.rel_err(grad.numpy(), a["hc_grad"]), 1e-10))
    return out


if __name__ == "__main__":
    sys.exit(peer_common.main(sys.modules[__name__]))
