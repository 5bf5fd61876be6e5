"""Streamed evaluation over an atom file (stream.h): the Hopf–Cole solution and the Gibbs-weight
explanation at points, the atoms read from a CSV or .npy file ``tile_rows`` rows at a time, so
that memory grows with the tile and the points, not with the number of atoms. One process
(the library's serial path); the same C functions run sharded under ``mpirun hjdl solve``."""

import ctypes
import os
from contextlib import contextmanager
from typing import Any, Dict, Iterator, Optional, Tuple, Union

import numpy as np

from . import _arrays as ar
from ._arrays import ArrayLike
from ._core import _metric, explain_buffers, explain_summary
from ._lib import check, hj_error, hj_hc_out, lib


@contextmanager
def _atom_file(path: Union[str, os.PathLike]) -> Iterator[Tuple[Any, int, int]]:
    """The opened atom file (rows y_1..y_d, g) as (handle, N, d)."""
    rows = ctypes.c_void_p()
    err = hj_error()
    check(lib.hj_stream_open(os.fsencode(path), ctypes.byref(rows), ctypes.byref(err)), err)
    try:
        yield rows.value, int(lib.hj_rows_count(rows.value)), int(lib.hj_rows_cols(rows.value)) - 1
    finally:
        lib.hj_rows_close(rows.value)


def _tile(tile_rows: int) -> int:
    if int(tile_rows) < 0:
        raise ValueError(f"tile_rows must be >= 0 (0: all rows at once), got {tile_rows}")
    return int(tile_rows)


def stream_hopf_cole(atoms: Union[str, os.PathLike], x: ArrayLike, t: float, eps: float, *,
                     tile_rows: int = 0, A: Optional[ArrayLike] = None) -> Dict[str, np.ndarray]:
    """The Hopf–Cole solution (Hopf–Lax at eps = 0) at points x and time t > 0 with the atoms of
    the file ``atoms`` (CSV with a header line, or .npy; one row y_1..y_d, g per atom), read
    ``tile_rows`` rows at a time (0: all at once). The same numbers as :func:`hopf_cole` on the
    file's arrays, up to rounding (the sums are grouped by tile).

    Shapes: x (n, d); A (d, d) SPD or None. Returns a dict "u" (n), "u_norm" (n),
    "entropy" (n), "grad" (n, d).

    >>> import numpy as np, hjdl, os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "atoms.csv")
    >>> np.savetxt(path, [[0.0, 0.0], [2.0, 1.0]], delimiter=",", header="y1,g", comments="")
    >>> r = hjdl.stream_hopf_cole(path, np.array([[1.0]]), t=0.5, eps=0.1, tile_rows=1)
    >>> bool(np.isclose(r["u"][0], hjdl.hopf_cole([[1.0]], [[0.0], [2.0]], [0.0, 1.0], 0.5, 0.1)["u"][0]))
    True
    """
    tile = _tile(tile_rows)
    with _atom_file(atoms) as (rows, N, d):
        x = ar.matrix(x, "x", d, cols_name="the dimension of the atoms")
        n = x.shape[0]
        res = {"u": np.empty(n), "u_norm": np.empty(n), "entropy": np.empty(n),
               "grad": np.empty((n, d))}
        out = hj_hc_out(**{k: ar.ptr(v) for k, v in res.items()})
        err = hj_error()
        with _metric(A, d) as m:
            check(lib.hj_stream_solve(rows, m, ar.ptr(x), n, ar.scalar(t, "t"), ar.scalar(eps, "eps"),
                                      tile, None, ctypes.byref(out), ctypes.byref(err)), err)
    return res


def stream_explain(atoms: Union[str, os.PathLike], x: ArrayLike, t: float, eps: float, *,
                   top: int = 3, tile_rows: int = 0) -> Dict[str, np.ndarray]:
    """Per-point explanation by the Gibbs weights over the atoms of the file ``atoms`` (as
    :func:`stream_hopf_cole`): entropy, n_eff, regime and the ``top`` largest weights with their
    0-based atom rows, descending, as :func:`explain` returns them.

    Shapes: x (n, d) -> dict "entropy" (n), "n_eff" (n), "regime" (n) int64, "atoms" (n, top)
    int64, "pi" (n, top).
    """
    tile = _tile(tile_rows)
    with _atom_file(atoms) as (rows, N, d):
        x = ar.matrix(x, "x", d, cols_name="the dimension of the atoms")
        n = x.shape[0]
        K, rec, pt, it = explain_buffers(n, top)
        err = hj_error()
        check(lib.hj_stream_explain(rows, ar.ptr(x), n, ar.scalar(t, "t"), ar.scalar(eps, "eps"), K,
                                    tile, None, ar.ptr(rec), ar.ptr(pt), ar.ptr(it),
                                    ctypes.byref(err)), err)
    return explain_summary(rec, pt, it)
