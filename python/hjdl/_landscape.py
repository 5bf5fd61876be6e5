"""hjdl.Landscape: the attribution-entropy landscape H(x; eps) of Hopf–Cole atoms (landscape.h):
values, exact derivatives, critical points, branches in eps with their fold bifurcations."""

from __future__ import annotations

import ctypes
import math
import threading
import weakref
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from . import _arrays as ar
from ._arrays import ArrayLike
from ._core import _atoms
from ._lib import (check, hj_bifurcation, hj_crit_list, hj_error, hj_landscape_options, lib)

_OPTION_NAMES = ("eps_min", "eps_max", "pad", "h_max", "h_min", "max_steps", "seed_levels",
                 "grid_seeds", "neighbours")


def _copy(ptr, shape, dtype=np.float64):
    """A NumPy copy of a C array (empty when the length is 0)."""
    if int(np.prod(shape)) == 0:
        return np.empty(shape, dtype=dtype)
    return np.ctypeslib.as_array(ptr, shape).astype(dtype, copy=True)


class Landscape:
    """The entropy landscape of atoms (y (N, d), g (N)) at time t > 0: for a point x and
    eps > 0 the Gibbs weights pi_j ∝ exp(-(g_j + |x - y_j|^2/(4t))/eps) and
    H(x; eps) = -sum_j pi_j log pi_j (the atoms are copied into the C object).

    >>> import numpy as np, hjdl
    >>> L = hjdl.Landscape(np.array([[-1.0], [1.0]]), np.zeros(2), t=1.0)
    >>> H = L.entropy(np.array([[0.0]]), eps=0.5)
    >>> bool(np.isclose(H[0], np.log(2.0)))   # midway between two equal atoms
    True
    """

    def __init__(self, y: ArrayLike, g: ArrayLike, t: float) -> None:
        y, g, at = _atoms(y, g)
        handle = ctypes.c_void_p()
        err = hj_error()
        check(lib.hj_landscape_alloc(ctypes.byref(handle), ctypes.byref(at), ar.scalar(t, "t"),
                                     ctypes.byref(err)), err)
        self._h = handle.value
        self._finalizer = weakref.finalize(self, lib.hj_landscape_free, handle.value)
        self._lock = threading.Lock()   # one C landscape must not be used by two threads at once
        self.N, self.d = y.shape
        self.t = float(t)

    def close(self) -> None:
        """Free the C object now (also done at garbage collection)."""
        self._finalizer()
        self._h = None

    def _need(self):
        if self._h is None:
            raise RuntimeError("the landscape was closed")
        return self._h

    @property
    def critical_eps(self) -> float:
        """eps* = N^(-1/d)."""
        return lib.hj_landscape_critical_eps(self._need())

    def domain(self, pad: float = 0.5) -> Tuple[np.ndarray, np.ndarray]:
        """The atoms' bounding box widened by pad * (longest side) -> (lo (d), hi (d))."""
        lo, hi = np.empty(self.d), np.empty(self.d)
        lib.hj_landscape_domain(self._need(), ar.scalar(pad, "pad"), ar.ptr(lo), ar.ptr(hi))
        return lo, hi

    def entropy(self, x: ArrayLike, eps: float) -> np.ndarray:
        """H(x_i; eps) at points x (n, d) -> (n).  Example: see the class docstring."""
        h = self._need()
        x = ar.matrix(x, "x", self.d, cols_name="the atoms' dimension")
        H = np.empty(x.shape[0])
        err = hj_error()
        with self._lock:
            check(lib.hj_landscape_batch(h, ar.scalar(eps, "eps"), ar.ptr(x), x.shape[0],
                                         ar.ptr(H), ctypes.byref(err)), err)
        return H

    def eval(self, x: ArrayLike, eps: float) -> Tuple[float, np.ndarray, np.ndarray]:
        """H, grad_x H (d) and hess_x H (d, d) at one point x (d), exact.

        >>> import numpy as np, hjdl
        >>> L = hjdl.Landscape(np.array([[-1.0], [1.0]]), np.zeros(2), t=1.0)
        >>> H, grad, hess = L.eval([0.0], eps=0.5)
        >>> bool(abs(grad[0]) < 1e-14 and hess[0, 0] < 0)   # a maximum of H between them
        True
        """
        h = self._need()
        x = ar.vector(x, "x", self.d, "the atoms' dimension")
        H = ctypes.c_double()
        grad, hess = np.empty(self.d), np.empty((self.d, self.d))
        err = hj_error()
        with self._lock:
            check(lib.hj_landscape_eval(h, ar.scalar(eps, "eps"), ar.ptr(x), ctypes.byref(H),
                                        ar.ptr(grad), ar.ptr(hess), None, ctypes.byref(err)), err)
        return H.value, grad, hess

    def _options(self, options, keep):
        o = hj_landscape_options()
        lib.hj_landscape_options_default(ctypes.byref(o))
        lo = options.pop("lo", None)
        hi = options.pop("hi", None)
        for k, v in options.items():
            if k not in _OPTION_NAMES:
                raise TypeError(f"unknown landscape option {k!r} (known: lo, hi, "
                                + ", ".join(_OPTION_NAMES) + ")")
            if v is None:
                continue
            if k in ("eps_min", "eps_max", "pad", "h_max", "h_min"):
                setattr(o, k, ar.scalar(v, k))
            else:
                if int(v) < 0:
                    raise ValueError(f"{k} must be >= 0, got {v}")
                setattr(o, k, int(v))
        if (lo is None) != (hi is None):
            raise ValueError("give both lo and hi (the domain box) or neither")
        if lo is not None:
            lo = ar.vector(lo, "lo", self.d, "the atoms' dimension")
            hi = ar.vector(hi, "hi", self.d, "the atoms' dimension")
            keep.extend([lo, hi])
            o.lo, o.hi = ar.ptr(lo), ar.ptr(hi)
        return o

    def critical_points(self, eps: float, **options: Any) -> Dict[str, Any]:
        """All critical points of H(.; eps) found by multi-start Newton inside the domain
        (options: lo, hi, pad, grid_seeds, neighbours; see landscape.h).

        Returns a dict: "x" (k, d), "H" (k), "index" (k) Morse index (0 minimum, d maximum,
        -1 degenerate), "lam_rel" (k); sorted by x_1.

        >>> import numpy as np, hjdl
        >>> L = hjdl.Landscape(np.array([[-1.0], [1.0]]), np.zeros(2), t=1.0)
        >>> c = L.critical_points(0.5)
        >>> bool(np.any((np.abs(c["x"][:, 0]) < 1e-8) & (c["index"] == 1)))
        True
        """
        h = self._need()
        keep: List[Any] = []
        o = self._options(dict(options), keep)
        cl = hj_crit_list()
        err = hj_error()
        with self._lock:
            st = lib.hj_landscape_critical_points(h, ar.scalar(eps, "eps"), ctypes.byref(o),
                                                  ctypes.byref(cl), ctypes.byref(err))
            try:
                check(st, err)
                n, d = cl.n, self.d
                return {"x": _copy(cl.x, (n, d)), "H": _copy(cl.H, (n,)),
                        "index": _copy(cl.index, (n,), np.int64),
                        "lam_rel": _copy(cl.lam_rel, (n,))}
            finally:   # safe on a zeroed or already freed list
                lib.hj_crit_list_free(ctypes.byref(cl))

    def continuation(self, eps_min: Optional[float] = None, eps_max: Optional[float] = None,
                     **options: Any) -> Dict[str, Any]:
        """Trace every branch of critical points over [eps_min, eps_max] (None: eps*/25 and
        25 eps*) by pseudo-arclength continuation in log eps, and locate the fold bifurcations.

        Returns a dict: "eps_min", "eps_max", "lo", "hi" (the domain), "branch_points" (a dict
        of arrays "eps" (m), "x" (m, d), "H" (m), "index" (m), "branch" (m)), "n_branches",
        "n_incomplete", "n_min_exits", and "folds": a list of dicts (eps, x (d), H, type, dir,
        lam_rel, ok, method) sorted by eps.

        >>> import numpy as np, hjdl
        >>> L = hjdl.Landscape(np.array([[-1.0], [0.0], [1.5]]), np.array([0, 0.1, 0.05]), t=1.0)
        >>> r = L.continuation(0.05, 5.0)
        >>> [f["type"] for f in r["folds"]]     # a minimum meets a maximum as eps grows
        [0]
        """
        h = self._need()
        keep: List[Any] = []
        o = self._options(dict(options, eps_min=eps_min, eps_max=eps_max), keep)
        if eps_min is None:
            o.eps_min = math.nan
        if eps_max is None:
            o.eps_max = math.nan
        b = hj_bifurcation()
        err = hj_error()
        with self._lock:
            st = lib.hj_landscape_continue(h, ctypes.byref(o), ctypes.byref(b), ctypes.byref(err))
            try:
                check(st, err)
                d, m = self.d, b.n_points
                folds = []
                for i in range(b.n_folds):
                    f = b.folds[i]
                    folds.append({"eps": f.eps, "x": _copy(f.x, (d,)), "H": f.H, "type": f.type,
                                  "dir": f.dir, "lam_rel": f.lam_rel, "ok": bool(f.ok),
                                  "method": "newton" if f.method == 0 else "bisection"})
                return {"eps_min": b.eps_min, "eps_max": b.eps_max, "lo": _copy(b.lo, (d,)),
                        "hi": _copy(b.hi, (d,)),
                        "branch_points": {"eps": _copy(b.eps, (m,)), "x": _copy(b.x, (m, d)),
                                          "H": _copy(b.H, (m,)),
                                          "index": _copy(b.index, (m,), np.int64),
                                          "branch": _copy(b.branch, (m,), np.int64)},
                        "n_branches": int(b.n_branches), "n_incomplete": int(b.n_incomplete),
                        "n_min_exits": int(b.n_min_exits), "folds": folds}
            finally:   # safe on a zeroed or already freed result
                lib.hj_bifurcation_free(ctypes.byref(b))

    def __repr__(self) -> str:
        return f"hjdl.Landscape(N={self.N}, d={self.d}, t={self.t})"


def landscape(y: ArrayLike, g: ArrayLike, t: float, eps_min: Optional[float] = None,
              eps_max: Optional[float] = None, **options: Any) -> Dict[str, Any]:
    """What ``hjdl landscape`` computes, as a dict: the branches of critical points of the
    attribution entropy H(x; eps) of atoms (y (N, d), g (N)) at time t over
    [eps_min, eps_max] and their folds (see :meth:`Landscape.continuation`), plus
    "critical_eps" = N^(-1/d).

    >>> import numpy as np, hjdl
    >>> r = hjdl.landscape(np.array([[-1.0], [1.0]]), np.zeros(2), 1.0, 0.05, 5.0)
    >>> r["critical_eps"]
    0.5
    """
    L = Landscape(y, g, t)
    try:
        r = L.continuation(eps_min, eps_max, **options)
        r["critical_eps"] = L.critical_eps
        return r
    finally:
        L.close()
