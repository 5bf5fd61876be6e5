"""hjdl.experiment: run one of libhjdl's registered experiments and return its summary.json."""

from __future__ import annotations

import ctypes
import json
import math
import os
import tempfile
from typing import Any, Callable, Dict, List, Optional

from . import _arrays as ar
from ._lib import EXP_PROGRESS, check, hj_error, hj_experiment_options, lib


def experiments() -> List[Dict[str, str]]:
    """The registered experiments: a list of dicts with "name", "claims" and "description".

    >>> import hjdl
    >>> "identity" in [e["name"] for e in hjdl.experiments()]
    True
    """
    out = []
    for i in range(lib.hj_experiment_count()):
        e = lib.hj_experiment_at(i).contents
        out.append({"name": e.name.decode(), "claims": e.claims.decode(),
                    "description": e.description.decode()})
    return out


def experiment(name: str, quick: bool = True, out: Optional[str] = None, *, seeds: int = 0,
               seed: int = 1, eps: Optional[float] = None, N: int = 0, d: int = 0,
               iters: int = 0,
               progress: Optional[Callable[[str, str, float], Any]] = None) -> Dict[str, Any]:
    """Run the experiment ``name`` (see :func:`experiments`) as ``hjdl experiment NAME`` does and
    return its summary (summary.json) as a dict with keys "experiment", "params", "metrics",
    "checks" (each with "pass"), "claims" (with "verdict"), "figures", "notes", "seconds".

    ``quick`` uses the small sizes; ``out`` is the output directory (the experiment writes
    out/NAME/: CSV, figures, summary.json); None runs in a temporary directory that is removed
    afterwards. ``seeds``, ``seed``, ``eps``, ``N``, ``d``, ``iters`` override the experiment's
    defaults (0 / None: default). ``progress(experiment, stage, fraction)`` is called as it runs.

    >>> import hjdl
    >>> s = hjdl.experiment("identity", quick=True)
    >>> all(c["pass"] for c in s["checks"])
    True
    """
    o = hj_experiment_options()
    lib.hj_experiment_options_default(ctypes.byref(o))
    o.quick = 1 if quick else 0
    for k, v in (("seeds", seeds), ("N", N), ("d", d), ("iters", iters), ("seed", seed)):
        if int(v) < 0:
            raise ValueError(f"{k} must be >= 0, got {v}")
        setattr(o, k, int(v))
    o.eps = math.nan if eps is None else ar.scalar(eps, "eps")
    failure: List[BaseException] = []
    if progress is not None:
        def trampoline(exp, stage, frac, _ctx):
            if failure:
                return
            try:
                progress(exp.decode(), stage.decode(), frac)
            except BaseException as e:   # re-raised after the run
                failure.append(e)
        o.progress = EXP_PROGRESS(trampoline)
    tmp = tempfile.TemporaryDirectory(prefix="hjdl-exp-") if out is None else None
    try:
        out_dir = tmp.name if tmp else os.fspath(str(out))
        o.out_dir = os.fsencode(out_dir)
        err = hj_error()
        st = lib.hj_capi_experiment_run(str(name).encode(), ctypes.byref(o), ctypes.byref(err))
        if failure:
            raise failure[0]
        check(st, err)
        with open(os.path.join(out_dir, str(name), "summary.json"), encoding="utf-8") as f:
            return json.load(f)
    finally:
        if tmp:
            tmp.cleanup()
