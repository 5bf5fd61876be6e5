"""Every core binding against an independent NumPy computation."""

import numpy as np
import pytest

import hjdl
from conftest import np_entropy, np_layer_entropy, np_lse


def layer(rng, n=7, N=9, d=3):
    return rng.normal(size=(n, d)), rng.normal(size=(N, d)), rng.normal(size=N)


@pytest.mark.parametrize("eps", [1e-3, 0.1, 1.0, 30.0])
def test_lse_matches_numpy(rng, eps):
    x, w, b = layer(rng)
    f, pi, g = hjdl.lse(x, w, b, eps, pi=True, grad=True)
    rf, rpi, rg = np_lse(x, w, b, eps)
    assert f.shape == (7,) and pi.shape == (7, 9) and g.shape == (7, 3)
    np.testing.assert_allclose(f, rf, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(pi, rpi, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(g, rg, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(hjdl.gibbs_weights(x, w, b, eps), rpi, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(hjdl.lse(x, w, b, eps), rf, rtol=1e-13, atol=1e-13)


def test_lse_eps0_is_max_with_uniform_ties():
    x = np.array([[1.0, 1.0], [2.0, -1.0]])
    w = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]])
    b = np.zeros(3)
    f, pi = hjdl.lse(x, w, b, 0.0, pi=True)
    rf, rpi, _ = np_lse(x, w, b, 0.0)
    np.testing.assert_array_equal(f, rf)
    np.testing.assert_allclose(pi, rpi)
    assert pi[0, 0] == pi[0, 1] == 0.5          # tie at the first point


def test_lse_large_logits_do_not_overflow():
    x = np.array([[1e300]])
    f = hjdl.lse(x, np.array([[1.0], [0.5]]), np.zeros(2), 1.0)
    assert f[0] == 1e300


def test_lse_output_buffers_are_used(rng):
    x, w, b = layer(rng)
    fb, pb, gb = np.empty(7), np.empty((7, 9)), np.empty((7, 3))
    f, pi, g = hjdl.lse(x, w, b, 0.3, f_out=fb, pi_out=pb, grad_out=gb)
    assert f is fb and pi is pb and g is gb
    rf, rpi, rg = np_lse(x, w, b, 0.3)
    np.testing.assert_allclose(fb, rf, rtol=1e-13)
    np.testing.assert_allclose(pb, rpi, rtol=1e-12, atol=1e-15)


def hc_numpy(x, y, g, t, eps, Ainv=None):
    d = y.shape[1]
    Ainv = np.eye(d) if Ainv is None else Ainv
    diff = x[:, None, :] - y[None, :, :]                       # (n, N, d)
    q = np.einsum("nja,ab,njb->nj", diff, Ainv, diff)
    c = g[None, :] + q / (4 * t)
    m = c.min(axis=1, keepdims=True)
    e = np.exp(-(c - m) / eps)
    s = e.sum(axis=1, keepdims=True)
    u = m[:, 0] - eps * np.log(s[:, 0])
    pi = e / s
    ybar = pi @ y
    grad = (x - ybar) @ Ainv.T / (2 * t)
    dudt = -(pi * q).sum(axis=1) / (4 * t * t)
    yc = y[None, :, :] - ybar[:, None, :]
    cov = np.einsum("nj,nja,njb->nab", pi, yc, yc)
    hess = Ainv / (2 * t) - np.einsum("ab,nbc,cd->nad", Ainv, cov, Ainv) / (4 * t * t * eps)
    return u, pi, grad, dudt, hess


@pytest.mark.parametrize("eps", [0.05, 0.7])
def test_hopf_cole_matches_formula(rng, eps):
    n, N, d, t = 6, 8, 2, 0.8
    x, y, g = rng.normal(size=(n, d)), rng.normal(size=(N, d)), rng.normal(size=N)
    r = hjdl.hopf_cole(x, y, g, t, eps, grad=True, hess=True, pi=True)
    u, pi, grad, dudt, hess = hc_numpy(x, y, g, t, eps)
    np.testing.assert_allclose(r["u"], u, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(r["pi"], pi, rtol=1e-11, atol=1e-15)
    np.testing.assert_allclose(r["grad"], grad, rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(r["dudt"], dudt, rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(r["hess"], hess, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(r["lap"], np.trace(hess, axis1=1, axis2=2), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(r["entropy"], np_entropy(pi), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(r["u_norm"], u + eps * d / 2 * np.log(4 * np.pi * eps * t),
                               rtol=1e-12, atol=1e-12)


def test_hopf_cole_anisotropic(rng):
    n, N, d, t, eps = 5, 6, 2, 1.3, 0.2
    x, y, g = rng.normal(size=(n, d)), rng.normal(size=(N, d)), rng.normal(size=N)
    M = rng.normal(size=(d, d))
    Amat = M @ M.T + d * np.eye(d)
    r = hjdl.hopf_cole(x, y, g, t, eps, A=Amat, grad=True)
    u, _, grad, _, _ = hc_numpy(x, y, g, t, eps, np.linalg.inv(Amat))
    np.testing.assert_allclose(r["u"], u, rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(r["grad"], grad, rtol=1e-10, atol=1e-11)


def test_hopf_lax_is_min(rng):
    n, N, d, t = 20, 7, 3, 0.4
    x, y, g = rng.normal(size=(n, d)), rng.normal(size=(N, d)), rng.normal(size=N)
    u, j = hjdl.hopf_lax(x, y, g, t)
    c = g[None, :] + ((x[:, None, :] - y[None]) ** 2).sum(-1) / (4 * t)
    np.testing.assert_allclose(u, c.min(axis=1), rtol=1e-14, atol=1e-14)
    np.testing.assert_array_equal(j, c.argmin(axis=1))
    assert j.dtype == np.int64
    # eps -> 0 of Hopf-Cole approaches Hopf-Lax within eps log N
    uc = hjdl.hopf_cole(x, y, g, t, 1e-3)["u"]
    assert np.all(u - uc >= -1e-12) and np.all(u - uc <= 1e-3 * np.log(N) + 1e-12)


def test_weights_atoms_maps_and_identity(rng):
    N, d, t = 6, 3, 0.7
    w, b = rng.normal(size=(N, d)), rng.normal(size=N)
    y, g = hjdl.weights_to_atoms(w, b, t)
    np.testing.assert_allclose(y, 2 * t * w, rtol=1e-15)
    np.testing.assert_allclose(g, -b - t * (w ** 2).sum(1), rtol=1e-14, atol=1e-15)
    w2, b2 = hjdl.atoms_to_weights(y, g, t)
    np.testing.assert_allclose(w2, y / (2 * t), rtol=1e-15)
    np.testing.assert_allclose(b2, -g - (y ** 2).sum(1) / (4 * t), rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(w2, w, rtol=1e-14)
    x = rng.normal(size=(10, d))
    for eps in (0.0, 0.01, 1.0):
        f = hjdl.lse(x, w, b, eps)
        u = hjdl.hopf_cole(x, y, g, t, eps)["u"]
        np.testing.assert_allclose(f + u, (x ** 2).sum(1) / (4 * t), rtol=1e-12, atol=1e-12)


def test_weights_atoms_anisotropic(rng):
    N, d, t = 4, 2, 0.5
    w, b = rng.normal(size=(N, d)), rng.normal(size=N)
    Amat = np.array([[2.0, 0.3], [0.3, 1.0]])
    y, g = hjdl.weights_to_atoms(w, b, t, A=Amat)
    np.testing.assert_allclose(y, 2 * t * w @ Amat.T, rtol=1e-14)
    np.testing.assert_allclose(g, -b - t * np.einsum("ja,ab,jb->j", w, Amat, w), rtol=1e-13)


@pytest.mark.parametrize("eps", [0.0, 0.2, 3.0])
def test_entropy_matches_numpy(rng, eps):
    x, w, b = layer(rng)
    np.testing.assert_allclose(hjdl.entropy(x, w, b, eps), np_layer_entropy(x, w, b, eps),
                               rtol=1e-10, atol=1e-12)


def test_entropy_gradient_by_finite_differences(rng):
    x, w, b = layer(rng, n=4, N=6, d=3)
    eps, h = 0.4, 1e-5
    H, G = hjdl.entropy_grad(x, w, b, eps)
    np.testing.assert_allclose(H, np_layer_entropy(x, w, b, eps), rtol=1e-10)
    fd = np.empty_like(x)
    for k in range(x.shape[1]):
        e = np.zeros(x.shape[1])
        e[k] = h
        fd[:, k] = (np_layer_entropy(x + e, w, b, eps) - np_layer_entropy(x - e, w, b, eps)) / (2 * h)
    np.testing.assert_allclose(G, fd, rtol=1e-6, atol=1e-8)


def test_explain_layer_topk_and_regime(rng):
    x, w, b = layer(rng, n=12, N=10, d=2)
    for eps in (0.05, 0.5, 50.0):
        r = hjdl.explain(x, w, b, eps, top=4)
        _, pi, _ = np_lse(x, w, b, eps)
        order = np.argsort(-pi, axis=1, kind="stable")[:, :4]
        np.testing.assert_array_equal(r["atoms"], order)
        np.testing.assert_allclose(r["pi"], np.take_along_axis(pi, order, 1), rtol=1e-11,
                                   atol=1e-300)
        H = np_entropy(pi)
        np.testing.assert_allclose(r["entropy"], H, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(r["n_eff"], np.exp(H), rtol=1e-9)
        h = H / np.log(10)
        expected = np.where(h < 1 / 3, 0, np.where(h > 2 / 3, 2, 1))
        np.testing.assert_array_equal(r["regime"], expected)


def test_critical_eps_and_threads():
    assert hjdl.critical_eps(1000, 3) == pytest.approx(0.1, rel=1e-14)
    n = hjdl.get_threads()
    assert n >= 1
    hjdl.set_threads(1)
    assert hjdl.get_threads() == 1
    hjdl.set_threads(n)


def test_version_and_library():
    import os
    import re
    assert re.fullmatch(r"\d+\.\d+\.\d+", hjdl.__version__)
    assert "libhjdl" in hjdl.library_path()
    # the kernel set follows the CPU (read from /proc/cpuinfo, not from the library)
    try:
        with open("/proc/cpuinfo") as f:
            info = f.read()
    except OSError:
        info = None
    if info is not None:
        has = lambda flag: re.search(r"\b%s\b" % flag, info) is not None
        want = ("avx512" if has("avx512f") else
                "avx2" if has("avx2") and has("fma") else "portable")
        assert hjdl.kernels() == (os.environ.get("HJDL_KERNELS") or want)
