"""NumPy argument checking for the binding: real float64 C-contiguous inputs (no copy when the
caller's array already is one), shapes checked with ValueError, output buffers validated."""

from typing import Any

import numpy as np

# What the binding accepts as an array argument: a NumPy array of a real dtype, or anything
# np.asarray makes one of (nested lists, scalars); checked at run time (TypeError/ValueError).
ArrayLike = Any


def real(a, name):
    """a as a C-contiguous float64 array: the same object when it already is one, else a copy.
    Integer and floating dtypes are converted; anything else (complex, bool, object, str) is a
    TypeError."""
    if isinstance(a, np.ndarray) and a.dtype == np.float64 and a.flags.c_contiguous:
        return a
    arr = np.asarray(a)
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"{name}: expected real numbers (an integer or floating dtype), "
                        f"got dtype {arr.dtype}")
    return np.ascontiguousarray(arr, dtype=np.float64)


def matrix(a, name, cols=None, rows=None, cols_name=None):
    """A (rows, cols) float64 matrix; cols/rows None: any (>= 1 column)."""
    arr = real(a, name)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D (rows, columns), got shape {arr.shape}"
                         + ("; use x[None, :] for a single point" if arr.ndim == 1 else ""))
    if arr.shape[1] == 0:
        raise ValueError(f"{name} has no columns (shape {arr.shape})")
    if cols is not None and arr.shape[1] != cols:
        raise ValueError(f"{name} has {arr.shape[1]} columns, expected {cols}"
                         + (f" ({cols_name})" if cols_name else ""))
    if rows is not None and arr.shape[0] != rows:
        raise ValueError(f"{name} has {arr.shape[0]} rows, expected {rows}")
    return arr


def vector(a, name, n=None, n_name=None):
    """A 1-D float64 vector of length n (None: any)."""
    arr = real(a, name)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if n is not None and arr.shape[0] != n:
        raise ValueError(f"{name} has length {arr.shape[0]}, expected {n}"
                         + (f" ({n_name})" if n_name else ""))
    return arr


def scalar(v, name):
    """A Python float from a real scalar (the C library checks its range)."""
    if isinstance(v, (complex, np.complexfloating)) or isinstance(v, (bool, np.bool_)):
        raise TypeError(f"{name}: expected a real number, got {type(v).__name__}")
    try:
        return float(v)
    except (TypeError, ValueError):
        raise TypeError(f"{name}: expected a real number, got {v!r}") from None


def out(buf, name, shape):
    """A caller-provided output buffer, or a new one when buf is None."""
    if buf is None:
        return np.empty(shape, dtype=np.float64)
    if not isinstance(buf, np.ndarray) or buf.dtype != np.float64:
        raise TypeError(f"{name} must be a float64 numpy array")
    if not buf.flags.c_contiguous or not buf.flags.writeable:
        raise ValueError(f"{name} must be C-contiguous and writeable")
    if buf.shape != tuple(shape):
        raise ValueError(f"{name} has shape {buf.shape}, expected {tuple(shape)}")
    return buf


def ptr(arr):
    """The data address of an array (or None for no array) for a c_void_p argument."""
    return None if arr is None else arr.ctypes.data
