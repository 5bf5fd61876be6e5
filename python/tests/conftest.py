"""Shared fixtures and the independent NumPy references the binding is compared with."""

import numpy as np
import pytest


@pytest.fixture
def rng():
    return np.random.default_rng(20261127)


def np_lse(x, w, b, eps):
    """Max-shifted LSE, its Gibbs weights and gradient, written directly in NumPy."""
    z = x @ w.T + b
    m = z.max(axis=1, keepdims=True)
    if eps == 0:
        ties = (z == m).astype(float)
        pi = ties / ties.sum(axis=1, keepdims=True)
        return m[:, 0], pi, pi @ w
    e = np.exp((z - m) / eps)
    s = e.sum(axis=1, keepdims=True)
    f = m[:, 0] + eps * np.log(s[:, 0])
    pi = e / s
    return f, pi, pi @ w


def np_entropy(pi):
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(pi > 0, pi * np.log(pi), 0.0)
    return -t.sum(axis=-1)


def np_layer_entropy(x, w, b, eps):
    return np_entropy(np_lse(x, w, b, eps)[1])
