"""The core of hjdl from NumPy: LSE layers, Gibbs weights, Hopf–Cole / Hopf–Lax solutions, the
weights <-> initial-data map, attribution entropy and explain summaries. Each function checks
shapes, then makes one call into libhjdl, which does all the work."""

from __future__ import annotations

import ctypes
from contextlib import contextmanager
from typing import Dict, Optional, Tuple, Union

import numpy as np

from . import _arrays as ar
from ._arrays import ArrayLike
from ._lib import (CERTIFICATE_FIELDS, EXPLAIN_FIELDS, check, hj_atoms, hj_error, hj_hc_out,
                   hj_lse_layer, lib)

REGIMES = ("particle", "mixed", "wave")
EXPLAIN_DTYPE = np.dtype(EXPLAIN_FIELDS)
CERTIFICATE_DTYPE = np.dtype(CERTIFICATE_FIELDS)


def _layer(x, w, b, eps):
    """Checked arrays and the hj_lse_layer view of (w, b, eps)."""
    w = ar.matrix(w, "w")
    N, d = w.shape
    b = ar.vector(b, "b", N, "one bias per row of w")
    x = ar.matrix(x, "x", d, cols_name="the columns of w")
    L = hj_lse_layer(N, d, ar.ptr(w), ar.ptr(b), ar.scalar(eps, "eps"))
    return x, w, b, L


def _atoms(y, g):
    y = ar.matrix(y, "y")
    N, d = y.shape
    g = ar.vector(g, "g", N, "one height per row of y")
    return y, g, hj_atoms(N, d, ar.ptr(y), ar.ptr(g))


@contextmanager
def _metric(Amat, d):
    """An hj_metric for the SPD matrix Amat (d, d), or NULL for Amat None (A = I)."""
    if Amat is None:
        yield None
        return
    Amat = ar.matrix(Amat, "A", d, d, "the dimension d")
    handle = ctypes.c_void_p()
    err = hj_error()
    check(lib.hj_metric_alloc(ctypes.byref(handle), ar.ptr(Amat), d, ctypes.byref(err)), err)
    try:
        yield handle.value
    finally:
        lib.hj_metric_free(handle.value)


def lse(x: ArrayLike, w: ArrayLike, b: ArrayLike, eps: float, *, pi: bool = False,
        grad: bool = False, f_out: Optional[np.ndarray] = None,
        pi_out: Optional[np.ndarray] = None,
        grad_out: Optional[np.ndarray] = None) -> Union[np.ndarray, Tuple[np.ndarray, ...]]:
    """Forward pass of the LSE layer f_eps(x) = eps log sum_j exp((w_j . x + b_j)/eps).

    Shapes: x (n, d) points, w (N, d) weights, b (N) biases, eps >= 0 (0 is the max-plus layer
    max_j (w_j . x + b_j)). Returns f (n); with ``pi=True`` also the Gibbs weights (n, N), with
    ``grad=True`` also grad f (n, d), as a tuple (f[, pi][, grad]). Preallocated float64
    C-contiguous buffers may be passed as f_out / pi_out / grad_out (giving pi_out or grad_out
    implies pi / grad) to avoid allocations in loops.

    >>> import numpy as np, hjdl
    >>> w = np.array([[1.0, 0.0], [0.0, 1.0]]); b = np.zeros(2)
    >>> f = hjdl.lse(np.array([[0.0, 0.0]]), w, b, eps=1.0)
    >>> bool(np.isclose(f[0], np.log(2.0)))
    True
    """
    x, w, b, L = _layer(x, w, b, eps)
    n, N, d = x.shape[0], L.N, L.d
    pi = pi or pi_out is not None
    grad = grad or grad_out is not None
    f = ar.out(f_out, "f_out", (n,))
    P = ar.out(pi_out, "pi_out", (n, N)) if pi else None
    G = ar.out(grad_out, "grad_out", (n, d)) if grad else None
    err = hj_error()
    check(lib.hj_lse_forward(ctypes.byref(L), ar.ptr(x), n, ar.ptr(f), ar.ptr(P), ar.ptr(G),
                             ctypes.byref(err)), err)
    if not pi and not grad:
        return f
    return (f,) + ((P,) if pi else ()) + ((G,) if grad else ())


def gibbs_weights(x: ArrayLike, w: ArrayLike, b: ArrayLike, eps: float) -> np.ndarray:
    """Gibbs (softmax) weights pi_j(x) = exp((w_j . x + b_j - f_eps(x))/eps) of an LSE layer.

    Shapes: x (n, d), w (N, d), b (N) -> pi (n, N), rows summing to 1 (at eps = 0 uniform over
    the arg-max set).

    >>> import numpy as np, hjdl
    >>> pi = hjdl.gibbs_weights(np.zeros((1, 1)), np.ones((3, 1)), np.zeros(3), 0.5)
    >>> np.allclose(pi, 1.0 / 3.0)
    True
    """
    return lse(x, w, b, eps, pi=True)[1]


def hopf_cole(x: ArrayLike, y: ArrayLike, g: ArrayLike, t: float, eps: float, *,
              A: Optional[ArrayLike] = None, grad: bool = False, hess: bool = False,
              pi: bool = False) -> Dict[str, np.ndarray]:
    """The Hopf–Cole solution of u_t + |grad u|^2 = eps Lap u with atoms (y_j, g_j) as initial
    data, at points x and time t > 0 (eps = 0: the Hopf–Lax solution):

        u_eps(x, t) = -eps log sum_j exp(-(g_j + |x - y_j|^2 / (4t)) / eps).

    Shapes: x (n, d), y (N, d), g (N). A (d, d) SPD gives H(p) = p^T A p (None: A = I).
    Returns a dict of arrays: "u" (n) the plain u_eps, "u_norm" (n) the normalised
    u + (eps d/2) log(4 pi eps t), "dudt" (n), "lap" (n), "entropy" (n) H(pi) in [0, log N];
    and when asked "grad" (n, d), "hess" (n, d, d), "pi" (n, N).

    >>> import numpy as np, hjdl
    >>> r = hjdl.hopf_cole(np.array([[1.0]]), np.array([[0.0]]), np.array([0.0]), t=0.5, eps=0.1)
    >>> bool(np.isclose(r["u"][0], 0.5))   # one atom: u = |x - y|^2 / (4t)
    True
    """
    y, g, at = _atoms(y, g)
    N, d = y.shape
    x = ar.matrix(x, "x", d, cols_name="the columns of y")
    n = x.shape[0]
    res = {k: np.empty(n) for k in ("u", "u_norm", "dudt", "lap", "entropy")}
    if grad:
        res["grad"] = np.empty((n, d))
    if hess:
        res["hess"] = np.empty((n, d, d))
    if pi:
        res["pi"] = np.empty((n, N))
    out = hj_hc_out(**{k: ar.ptr(v) for k, v in res.items()})
    err = hj_error()
    with _metric(A, d) as m:
        check(lib.hj_hopf_cole_eval(ctypes.byref(at), m, ar.ptr(x), n, ar.scalar(t, "t"),
                                    ar.scalar(eps, "eps"), ctypes.byref(out), ctypes.byref(err)),
              err)
    return res


def hopf_lax(x: ArrayLike, y: ArrayLike, g: ArrayLike, t: float, *,
             A: Optional[ArrayLike] = None) -> Tuple[np.ndarray, np.ndarray]:
    """The Hopf–Lax (eps = 0) solution u_0(x, t) = min_j {g_j + |x - y_j|^2 / (4t)} and the
    index of the minimising atom (ties: the smallest index).

    Shapes: x (n, d), y (N, d), g (N) -> (u (n) float64, argmin (n) int64).

    >>> import numpy as np, hjdl
    >>> u, j = hjdl.hopf_lax(np.array([[0.9]]), np.array([[0.0], [1.0]]), np.zeros(2), t=1.0)
    >>> int(j[0])
    1
    """
    y, g, at = _atoms(y, g)
    d = y.shape[1]
    x = ar.matrix(x, "x", d, cols_name="the columns of y")
    n = x.shape[0]
    u = np.empty(n)
    idx = np.empty(n, dtype=np.uintp)
    err = hj_error()
    with _metric(A, d) as m:
        check(lib.hj_hopf_lax_eval(ctypes.byref(at), m, ar.ptr(x), n, ar.scalar(t, "t"), ar.ptr(u),
                                   ar.ptr(idx), ctypes.byref(err)), err)
    return u, idx.astype(np.int64)


def weights_to_atoms(w: ArrayLike, b: ArrayLike, t: float, *,
                     A: Optional[ArrayLike] = None) -> Tuple[np.ndarray, np.ndarray]:
    """The initial data encoded by LSE weights at time t > 0:
    y_j = 2t A w_j, g_j = -b_j - t w_j^T A w_j (A = I by default).

    Shapes: w (N, d), b (N) -> (y (N, d), g (N)).

    >>> import numpy as np, hjdl
    >>> y, g = hjdl.weights_to_atoms(np.array([[1.0]]), np.array([0.5]), t=1.0)
    >>> y.tolist(), g.tolist()
    ([[2.0]], [-1.5])
    """
    w = ar.matrix(w, "w")
    N, d = w.shape
    b = ar.vector(b, "b", N, "one bias per row of w")
    y, g = np.empty((N, d)), np.empty(N)
    err = hj_error()
    with _metric(A, d) as m:
        check(lib.hj_weights_to_atoms(ar.ptr(w), ar.ptr(b), N, d, ar.scalar(t, "t"), m, ar.ptr(y),
                                      ar.ptr(g), ctypes.byref(err)), err)
    return y, g


def atoms_to_weights(y: ArrayLike, g: ArrayLike, t: float, *,
                     A: Optional[ArrayLike] = None) -> Tuple[np.ndarray, np.ndarray]:
    """The LSE weights whose layer is the Hopf–Cole solution of atoms (y, g) at time t > 0:
    w_j = A^{-1} y_j / (2t), b_j = -g_j - y_j^T A^{-1} y_j / (4t); then
    f_eps(x) + u_eps(x, t) = x^T A^{-1} x / (4t) for every eps >= 0.

    Shapes: y (N, d), g (N) -> (w (N, d), b (N)).

    >>> import numpy as np, hjdl
    >>> w, b = hjdl.atoms_to_weights(np.array([[2.0]]), np.array([-1.5]), t=1.0)
    >>> w.tolist(), b.tolist()
    ([[1.0]], [0.5])
    """
    y = ar.matrix(y, "y")
    N, d = y.shape
    g = ar.vector(g, "g", N, "one height per row of y")
    w, b = np.empty((N, d)), np.empty(N)
    err = hj_error()
    with _metric(A, d) as m:
        check(lib.hj_atoms_to_weights(ar.ptr(y), ar.ptr(g), N, d, ar.scalar(t, "t"), m, ar.ptr(w),
                                      ar.ptr(b), ctypes.byref(err)), err)
    return w, b


def entropy(x: ArrayLike, w: ArrayLike, b: ArrayLike, eps: float) -> np.ndarray:
    """Attribution entropy H(x) = -sum_j pi_j log pi_j of an LSE layer's Gibbs weights, in
    [0, log N] (at eps = 0: log of the size of the arg-max set).

    Shapes: x (n, d), w (N, d), b (N) -> H (n).

    >>> import numpy as np, hjdl
    >>> H = hjdl.entropy(np.zeros((1, 1)), np.ones((4, 1)), np.zeros(4), 1.0)
    >>> bool(np.isclose(H[0], np.log(4.0)))
    True
    """
    x, w, b, L = _layer(x, w, b, eps)
    n = x.shape[0]
    H = np.empty(n)
    err = hj_error()
    check(lib.hj_entropy_batch(ctypes.byref(L), ar.ptr(x), n, ar.ptr(H), ctypes.byref(err)), err)
    return H


def entropy_grad(x: ArrayLike, w: ArrayLike, b: ArrayLike,
                 eps: float) -> Tuple[np.ndarray, np.ndarray]:
    """The attribution entropy and its exact gradient grad_x H = Cov_pi(w, -log pi) / eps.

    Shapes: x (n, d), w (N, d), b (N) -> (H (n), grad (n, d)).

    >>> import numpy as np, hjdl
    >>> H, G = hjdl.entropy_grad(np.zeros((1, 1)), np.array([[1.0], [-1.0]]), np.zeros(2), 1.0)
    >>> bool(abs(G[0, 0]) < 1e-12)       # symmetric atoms: x = 0 is a critical point
    True
    """
    x, w, b, L = _layer(x, w, b, eps)
    n = x.shape[0]
    H, G = np.empty(n), np.empty((n, L.d))
    err = hj_error()
    check(lib.hj_capi_entropy_grad(ctypes.byref(L), ar.ptr(x), n, ar.ptr(H), ar.ptr(G),
                                   ctypes.byref(err)), err)
    return H, G


def explain_buffers(n, top):
    """The outputs of an explain call on n points with `top` weights each:
    (K, records (n), pi (n, K), atom indices (n, K)); top < 0 is a ValueError."""
    K = int(top)
    if K < 0:
        raise ValueError(f"top must be >= 0, got {top}")
    return K, np.empty(n, dtype=EXPLAIN_DTYPE), np.empty((n, K)), np.empty((n, K), dtype=np.uintp)


def explain_summary(rec, pt, it):
    """The dict explain() returns, from the C records and the top-K arrays."""
    return {"entropy": rec["entropy"].copy(), "n_eff": rec["n_eff"].copy(),
            "regime": rec["regime"].astype(np.int64), "atoms": it.astype(np.int64), "pi": pt}


def explain(x: ArrayLike, w: ArrayLike, b: ArrayLike, eps: float,
            top: int = 3) -> Dict[str, np.ndarray]:
    """Per-point explanation by an LSE layer's Gibbs weights: entropy H, effective number of
    atoms n_eff = exp(H), regime (0 particle, 1 mixed, 2 wave; names in hjdl.REGIMES) from
    h = H / log N, and the ``top`` largest weights with their neuron indices, descending.

    Shapes: x (n, d), w (N, d), b (N) -> dict "entropy" (n), "n_eff" (n), "regime" (n) int64,
    "atoms" (n, top) int64, "pi" (n, top).

    >>> import numpy as np, hjdl
    >>> r = hjdl.explain(np.array([[3.0]]), np.array([[1.0], [0.0]]), np.zeros(2), 0.1, top=1)
    >>> int(r["atoms"][0, 0]), hjdl.REGIMES[r["regime"][0]]
    (0, 'particle')
    """
    x, w, b, L = _layer(x, w, b, eps)
    n = x.shape[0]
    K, rec, pt, it = explain_buffers(n, top)
    err = hj_error()
    check(lib.hj_explain_layer(ctypes.byref(L), ar.ptr(x), n, K, ar.ptr(rec), ar.ptr(pt), ar.ptr(it),
                               ctypes.byref(err)), err)
    return explain_summary(rec, pt, it)


def critical_eps(N: int, d: int) -> float:
    """The critical viscosity eps* = N^(-1/d) separating the particle and wave regimes.

    >>> import hjdl
    >>> hjdl.critical_eps(100, 2)
    0.1
    """
    if int(N) < 1 or int(d) < 1:
        raise ValueError(f"critical_eps needs N >= 1 and d >= 1 (got N={N}, d={d})")
    return lib.hj_critical_eps(int(N), int(d))


def set_threads(n: int) -> None:
    """Use n >= 1 threads in hjdl's OpenMP loops and in OpenBLAS (process-wide)."""
    if int(n) < 1:
        raise ValueError(f"threads must be >= 1, got {n}")
    lib.hj_set_threads(int(n))


def get_threads() -> int:
    """Threads an OpenMP region of hjdl would use now."""
    return int(lib.hj_get_threads())
