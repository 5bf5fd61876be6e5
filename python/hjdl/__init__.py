"""hjdl — the Hamilton–Jacobi theory of deep learning, from NumPy.

A log-sum-exp layer f_eps(x) = eps log sum_j exp((w_j . x + b_j)/eps) is exactly the Hopf–Cole
solution of u_t + |grad u|^2 = eps Lap u whose initial data (atoms y_j = 2t w_j,
g_j = -b_j - t|w_j|^2) are encoded in the weights. This package is a thin ctypes binding of the
C library libhjdl, which does all the work: NumPy float64 arrays in and out (C-contiguous
float64 inputs are passed without copies), shapes checked with ValueError, C errors raised as
:class:`hjdl.Error` carrying the library's message.

Functions: lse, gibbs_weights, hopf_cole, hopf_lax, weights_to_atoms, atoms_to_weights,
entropy, entropy_grad, explain, critical_eps, landscape, experiment, experiments,
set_threads, get_threads, kernels. Classes: Model (with Layer, its named parameters),
Landscape, Error. scikit-learn estimators: hjdl.sklearn.HJRegressor, HJClassifier.

>>> import numpy as np, hjdl
>>> w, b = np.random.default_rng(0).normal(size=(5, 2)), np.zeros(5)
>>> y, g = hjdl.weights_to_atoms(w, b, t=1.0)
>>> x = np.array([[0.3, -0.2]])
>>> f = hjdl.lse(x, w, b, eps=0.1); u = hjdl.hopf_cole(x, y, g, t=1.0, eps=0.1)["u"]
>>> bool(np.isclose(f[0] + u[0], (x ** 2).sum() / 4.0))   # f + u = |x|^2 / (4t)
True
"""

from ._lib import Error, version as _version, kernels as _kernels, path as _path
from ._core import (REGIMES, atoms_to_weights, critical_eps, entropy, entropy_grad, explain,
                    get_threads, gibbs_weights, hopf_cole, hopf_lax, lse, set_threads,
                    weights_to_atoms)
from ._model import EPS_AUTO_GRID, Model
from ._layers import Layer
from ._landscape import Landscape, landscape
from ._experiment import experiment, experiments
from ._stream import stream_explain, stream_hopf_cole

__version__ = _version()


def library_path() -> str:
    """The path of the libhjdl shared library this package loaded."""
    return _path


def kernels() -> str:
    """Which LSE kernels run on this CPU: "avx512" (blocked AVX-512 kernels) or "portable"."""
    return _kernels()


__all__ = ["EPS_AUTO_GRID", "Error", "Layer", "Model", "Landscape", "REGIMES", "__version__", "atoms_to_weights",
           "critical_eps", "entropy", "entropy_grad", "experiment", "experiments", "explain",
           "get_threads", "gibbs_weights", "hopf_cole", "hopf_lax", "kernels", "landscape",
           "library_path",
           "lse", "set_threads", "stream_explain", "stream_hopf_cole", "weights_to_atoms"]
