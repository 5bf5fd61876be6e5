"""hjdl.Model: trainable HJ networks (libhjdl's hj_model behind an opaque handle, see capi.h)."""

from __future__ import annotations

import ctypes
import os
import tempfile
import threading
import weakref
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from . import _arrays as ar
from ._layers import Layer, flat_params, model_layers
from ._core import CERTIFICATE_DTYPE, explain_buffers, explain_summary
from ._lib import (TRAIN_CALLBACK, Error, check, hj_capi_model_info, hj_error, hj_train_options,
                   hj_train_result, lib)

_PRE_KINDS = {None: 0, "none": 0, "standardize": 1, "pca": 2}
_PRE_NAMES = {0: None, 1: "standardize", 2: "pca"}

MAX_NAME = 4096   # bytes of a name in the .hjm file (HJM_MAX_NAME, src/model/modelfile.c)


def name_storable(name: bytes) -> bool:
    """Whether the .hjm format stores this (UTF-8) name: no control characters, <= MAX_NAME."""
    return len(name) <= MAX_NAME and not any(c < 0x20 or c == 0x7f for c in name)


# The eps grid of ``eps="auto"``: the one of `hjdl fit --eps auto` (cli/cmd_fit.c, EPS_GRID).
EPS_AUTO_GRID = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0)

# Handles created and freed, for the ownership test (each handle is freed exactly once by its
# weakref.finalize, whether through Model.close() or garbage collection).
_handle_counts = {"created": 0, "freed": 0}
_count_lock = threading.Lock()


def handle_counts() -> Tuple[int, int]:
    """(created, freed) numbers of C model handles in this process."""
    with _count_lock:
        return _handle_counts["created"], _handle_counts["freed"]


def _free_handle(address):
    lib.hj_capi_model_delete(address)
    with _count_lock:
        _handle_counts["freed"] += 1


class _Handle:
    """Owns one heap hj_model; freed exactly once (close() or garbage collection)."""

    def __init__(self, address):
        self.address = address
        with _count_lock:
            _handle_counts["created"] += 1
        self._finalizer = weakref.finalize(self, _free_handle, address)

    def close(self):
        self._finalizer()
        self.address = None


def _readout(arch):
    return arch.replace(" ", "").split(",")[-1].split(":")[0]


def _info_int(field: str, doc: str) -> property:
    """A read-only int property of Model from its hj_capi_model_info."""
    def get(self: "Model") -> int:
        return int(getattr(self._info(), field))
    get.__doc__ = doc
    return property(get)


class Model:
    """A trainable HJ network: hidden layers (dense:H, resnet:H, gibbs:M) ending in an LSE readout,
    ``lse:N`` (regression) or ``lse-class:N`` (classification, one LSE of N neurons per class),
    all sharing one eps >= 0 (see include/hjdl/model.h). With a single ``lse:N`` layer the model
    *is* the Hopf–Cole solution of its initial data (:meth:`initial_data`).

    Parameters: ``arch`` string, ``eps`` viscosity (or ``"auto"``: chosen at :meth:`fit` on a
    validation split over :data:`EPS_AUTO_GRID`, as ``hjdl fit --eps auto``), ``t`` HJ time of the initial-data map,
    ``seed`` for the initial parameters, ``n_classes`` (classifiers; default max(y) + 1 at fit),
    ``output_scale`` (regression: learn y = a f + c), ``preprocess`` None, "standardize" or "pca"
    (with ``pca`` = number of components), fitted on the training inputs and stored in the model.

    >>> import numpy as np, hjdl
    >>> x = np.linspace(-1, 1, 40)[:, None]; y = np.abs(x[:, 0])
    >>> m = hjdl.Model("lse:8", eps=0.05).fit(x, y, iters=300, lr=0.05)
    >>> m.predict(x).shape
    (40,)
    """

    def __init__(self, arch: str, eps: Union[float, str], *, t: float = 1.0, seed: int = 1,
                 n_classes: Optional[int] = None, output_scale: bool = False,
                 preprocess: Optional[str] = None, pca: Optional[int] = None) -> None:
        if not isinstance(arch, str) or not arch:
            raise TypeError("arch must be a non-empty string such as 'lse:16'")
        if preprocess not in _PRE_KINDS:
            raise ValueError(f"preprocess must be None, 'standardize' or 'pca', got {preprocess!r}")
        if (preprocess == "pca") != (pca is not None):
            raise ValueError("give pca=K (components) together with preprocess='pca'")
        self._arch = arch
        self._eps_auto = isinstance(eps, str) and eps == "auto"
        self._eps = 0.1 if self._eps_auto else ar.scalar(eps, "eps")
        self._t = ar.scalar(t, "t")
        self._seed = int(seed)
        self._n_classes = None if n_classes is None else int(n_classes)
        self._output_scale = bool(output_scale)
        self._preprocess = preprocess
        self._pca = 0 if pca is None else int(pca)
        self._h = None
        self._lock = threading.Lock()
        self.loss_: Optional[float] = None            # full-data loss after the last fit
        self.loss_trace_: Optional[np.ndarray] = None  # per-step loss of the last fit
        self.steps_ = 0
        self.stopped_ = False
        self.val_loss_: Optional[float] = None   # best validation loss (with validation)
        self.best_step_: Optional[int] = None    # the step it was reached at

    # ---- construction ----------------------------------------------------------------------

    @property
    def is_classifier(self) -> bool:
        return _readout(self._arch) == "lse-class"

    def _create(self, x, n_classes):
        handle = ctypes.c_void_p()
        err = hj_error()
        kind = _PRE_KINDS[self._preprocess]
        check(lib.hj_capi_model_create(ctypes.byref(handle), self._arch.encode(), x.shape[1],
                                       n_classes, int(self._output_scale), self._eps, self._t,
                                       self._seed, kind, self._pca,
                                       ar.ptr(x) if kind else None, x.shape[0] if kind else 0,
                                       ctypes.byref(err)), err)
        self._set_handle(handle.value)

    def _set_handle(self, address):
        if self._h is not None:
            self._h.close()
        self._h = _Handle(address)
        info = self._info()
        self._eps, self._t = info.eps, info.t
        if info.n_classes:
            self._n_classes = info.n_classes

    @classmethod
    def load(cls, path: Union[str, "os.PathLike[str]"]) -> "Model":
        """Load a model saved by :meth:`save` or ``hjdl fit`` (an .hjm file). Truncated, corrupted
        or future-version files raise :class:`hjdl.Error` naming the file.

        >>> import hjdl, tempfile, os, numpy as np
        >>> m = hjdl.Model("lse:4", eps=0.1).fit(np.eye(3), np.ones(3), iters=5)
        >>> p = os.path.join(tempfile.mkdtemp(), "m.hjm"); m.save(p)
        >>> hjdl.Model.load(p).arch
        'lse:4'
        """
        handle = ctypes.c_void_p()
        err = hj_error()
        check(lib.hj_capi_model_load(ctypes.byref(handle), os.fsencode(path), ctypes.byref(err)),
              err)
        return cls._from_handle(handle.value)

    @classmethod
    def _from_handle(cls, address):
        self = cls.__new__(cls)
        self._h = None
        self._lock = threading.Lock()
        self._seed, self._n_classes, self._pca, self._eps_auto = 1, None, 0, False
        self._set_handle(address)
        info = self._info()
        buf = ctypes.create_string_buffer(4096)
        lib.hj_capi_model_arch(self._h.address, buf, len(buf))
        self._arch = buf.value.decode()
        self._output_scale = bool(info.output_scale)
        self._preprocess = _PRE_NAMES.get(info.pre_kind)
        if self._preprocess == "pca":
            self._pca = info.d_in
        self.loss_, self.loss_trace_, self.steps_, self.stopped_ = None, None, 0, False
        self.val_loss_ = self.best_step_ = None
        return self

    @classmethod
    def from_hjm(cls, data: Union[bytes, str], name: str = "(hjm text)") -> "Model":
        """A model from the text of an .hjm file (what :meth:`to_hjm` returns); refused like
        :meth:`load` (``hjdl.Error`` naming ``name`` and the line) when it is not valid.

        >>> import hjdl, numpy as np
        >>> m = hjdl.Model("lse:4", eps=0.1).fit(np.eye(3), np.ones(3), iters=5)
        >>> bool((hjdl.Model.from_hjm(m.to_hjm()).params == m.params).all())
        True
        """
        if isinstance(data, str):
            data = data.encode()
        if not isinstance(data, (bytes, bytearray)):
            raise TypeError(f"data: expected the bytes of an .hjm file, got {type(data).__name__}")
        handle = ctypes.c_void_p()
        err = hj_error()
        check(lib.hj_capi_model_parse(ctypes.byref(handle), bytes(data), len(data),
                                      str(name).encode(), ctypes.byref(err)), err)
        return cls._from_handle(handle.value)

    def to_hjm(self) -> bytes:
        """The .hjm file content of the model (written by the library to a temporary file:
        the C API saves to files only)."""
        fd, path = tempfile.mkstemp(suffix=".hjm", prefix="hjdl-")
        os.close(fd)
        try:
            self.save(path)
            with open(path, "rb") as f:
                return f.read()
        finally:
            os.unlink(path)

    @classmethod
    def from_arrays(cls, arch: str, eps: float, layers: Sequence[Mapping[str, Any]], *,
                    t: float = 1.0, n_classes: Optional[int] = None) -> "Model":
        """A model built from parameter arrays, without training: one mapping name -> array per
        layer of ``arch``, with the names and shapes of :attr:`layers` (see hjdl._layers:
        ``w`` (N, in) and ``b`` (N) for ``lse:N``, ...). The input width is read from the first
        layer's weights, the number of classes of an ``lse-class:N`` readout from its ``w``
        rows (C*N), and a readout given ``a`` and ``c`` gets the output scale y = a f + c.
        Shape errors raise ``ValueError`` naming the layer and the expected shape.

        >>> import numpy as np, hjdl
        >>> w, b = np.array([[1.0, 0.0], [0.0, 1.0]]), np.zeros(2)
        >>> m = hjdl.Model.from_arrays("lse:2", 0.5, layers=[{"w": w, "b": b}])
        >>> x = np.array([[0.3, -0.2]])
        >>> bool(np.isclose(m.predict(x)[0], hjdl.lse(x, w, b, 0.5)[0]))
        True
        """
        if not isinstance(arch, str) or not arch:
            raise TypeError("arch must be a non-empty string such as 'lse:16'")
        if not isinstance(layers, (list, tuple)) or not layers:
            raise TypeError("layers must be a non-empty list of mappings name -> array, one "
                            "per layer of arch")
        for k, g in enumerate(layers):
            if not isinstance(g, Mapping):
                raise TypeError(f"layers[{k}] must be a mapping name -> array, got "
                                f"{type(g).__name__}")
        first = layers[0]
        w0 = first.get("w", first.get("k"))
        if w0 is None:
            raise ValueError("layers[0] needs its weight matrix 'w' (or 'k' for gibbs), shape "
                             "(width, in), to give the input width")
        w0 = np.asarray(w0)
        if w0.ndim != 2 or w0.shape[1] == 0:
            raise ValueError(f"layers[0] weights: got shape {w0.shape}, expected (width, in) "
                             f"with in >= 1")
        readout = arch.replace(" ", "").split(",")[-1]
        kind, _, width = readout.partition(":")
        classes = 0
        if kind == "lse-class":
            wl = np.asarray(layers[-1].get("w", np.empty((0, 0))))
            if n_classes is not None:
                classes = int(n_classes)
            elif width.isdigit() and int(width) > 0 and wl.ndim == 2:
                classes = max(2, wl.shape[0] // int(width))
            else:
                classes = 2
        scale = "a" in layers[-1] or "c" in layers[-1]
        self = cls(arch, eps, t=t, n_classes=classes or None, output_scale=scale)
        if self._eps_auto:
            raise ValueError("from_arrays needs a numeric eps (>= 0), not 'auto'")
        self._create(np.zeros((0, w0.shape[1])), classes)
        self.params = flat_params(self.layers, list(layers))
        return self

    def close(self) -> None:
        """Free the C model now (also done automatically when the Model is garbage collected)."""
        if self._h is not None:
            self._h.close()
            self._h = None

    def _need(self):
        if self._h is None:
            raise RuntimeError("the model has no parameters yet: call fit() or Model.load()")
        return self._h.address

    def _info(self):
        info = hj_capi_model_info()
        lib.hj_capi_model_info_get(self._need(), ctypes.byref(info))
        return info

    # ---- training ---------------------------------------------------------------------------

    def fit(self, x: Any, y: Any, *, optimizer: str = "adam", iters: int = 1000,
            epochs: int = 0, batch: int = 0, lr: Optional[float] = None, momentum: float = 0.9,
            lbfgs_iters: Optional[int] = None, seed: Optional[int] = None,
            callback: Optional[Callable[[str, int, int, float], Any]] = None,
            reset: bool = True, weight_decay: float = 0.0, validation: Optional[float] = None,
            patience: int = 0, val_every: int = 0, scale_target: bool = False) -> "Model":
        """Train on x (n, d_raw) and targets y (n): values (regression, mean squared error) or
        class indices 0..C-1 (classifiers, softmax cross-entropy). Exact hand-written gradients;
        optimizer "adam", "sgd", "lbfgs" or "adam+lbfgs"; ``epochs`` > 0 with ``batch`` > 0 runs
        mini-batch passes instead of ``iters`` steps. ``reset=False`` continues from the current
        parameters. ``callback(phase, step, total, loss)`` is called every step; returning True
        stops training early. Sets ``loss_`` (final full-data loss), ``loss_trace_`` (per step),
        ``steps_``, ``stopped_``; returns self.

        As ``hjdl fit``: ``lr`` defaults to 1e-3 (1e-2 with ``eps="auto"``); ``weight_decay``
        adds (lambda/2)|W|^2 over the weight matrices; ``validation`` holds out that fraction
        of the points (a shuffle seeded by ``seed``; default 0, 0.2 with ``eps="auto"``, which
        needs one) and keeps the
        parameters with the lowest validation loss, checked every ``val_every`` steps
        (0: 10), stopping after ``patience`` checks without improvement (0: never);
        ``scale_target`` (regression) trains on the standardised target, stored in the model
        (predictions are in the user's units). Sets ``val_loss_`` and ``best_step_``.

        >>> import numpy as np, hjdl
        >>> x = np.random.default_rng(0).normal(size=(60, 2)); y = (x[:, 0] > 0).astype(int)
        >>> m = hjdl.Model("lse-class:4", eps=0.1).fit(x, y, iters=200, lr=0.05)
        >>> bool((m.predict_class(x) == y).mean() > 0.9)
        True
        """
        x = ar.matrix(x, "x")
        n = x.shape[0]
        y = ar.vector(y, "y", n, "one target per row of x")
        if n == 0:
            raise ValueError("fit needs at least one training point")
        if reset or self._h is None:
            n_classes = 0
            if self.is_classifier:
                if self._n_classes is not None:
                    n_classes = self._n_classes
                elif np.all(np.isfinite(y)):
                    n_classes = max(2, int(y.max()) + 1)
                else:
                    n_classes = 2   # libhjdl refuses the non-finite target below
            self._create(x, n_classes)
        elif x.shape[1] != self.d_raw:
            raise ValueError(f"x has {x.shape[1]} columns, the model takes {self.d_raw}")
        opt = hj_train_options()
        lib.hj_train_options_default(ctypes.byref(opt))
        err = hj_error()
        kind = ctypes.c_int()
        check(lib.hj_optimizer_parse(str(optimizer).encode(), ctypes.byref(kind),
                                     ctypes.byref(err)), err)
        opt.optimizer = kind.value
        if lr is None:
            lr = 1e-2 if self._eps_auto else 1e-3
        opt.lr, opt.momentum = ar.scalar(lr, "lr"), ar.scalar(momentum, "momentum")
        for name, v in (("iters", iters), ("epochs", epochs), ("batch", batch),
                        ("lbfgs_iters", lbfgs_iters)):
            if v is None:
                continue
            if int(v) < 0:
                raise ValueError(f"{name} must be >= 0, got {v}")
            setattr(opt, name, int(v))
        if epochs and iters == 1000:
            opt.iters = 0
        opt.seed = self._seed if seed is None else int(seed)
        failure = []
        if callback is not None:
            def trampoline(p, _ctx):
                try:
                    pr = p.contents
                    return 1 if callback(pr.phase.decode(), pr.step, pr.total, pr.loss) else 0
                except BaseException as e:      # stop training, re-raise after the C call
                    failure.append(e)
                    return 1
            opt.callback = TRAIN_CALLBACK(trampoline)
            opt.report_every = 1
        wd = ar.scalar(weight_decay, "weight_decay")
        if not wd >= 0:
            raise ValueError(f"weight_decay must be >= 0, got {weight_decay}")
        frac = 0.0 if validation is None else ar.scalar(validation, "validation")
        if self._eps_auto and frac == 0:
            frac = 0.2   # as hjdl fit: eps auto needs a validation split
        if not 0 <= frac < 1:
            raise ValueError(f"validation must be a fraction in [0, 1), got {validation}")
        for name, v in (("patience", patience), ("val_every", val_every)):
            if int(v) < 0:
                raise ValueError(f"{name} must be >= 0, got {v}")
        n_val = int(np.floor(frac * n))
        if frac > 0 and not 0 < n_val < n:
            raise ValueError(f"validation={frac:g} of {n} points leaves an empty split")
        if int(patience) > 0 and n_val == 0:
            raise ValueError("patience needs a validation split: give validation=FRAC")
        xt, yt, xv, yv = x, y, None, None
        if n_val:
            order = np.random.default_rng(opt.seed).permutation(n)
            tr, va = order[:n - n_val], order[n - n_val:]
            xt, yt = np.ascontiguousarray(x[tr]), np.ascontiguousarray(y[tr])
            xv, yv = np.ascontiguousarray(x[va]), np.ascontiguousarray(y[va])
        grid = np.array(EPS_AUTO_GRID) if self._eps_auto else None
        res = hj_train_result()
        vloss, best = ctypes.c_double(np.nan), ctypes.c_size_t(0)
        with self._lock:
            st = lib.hj_capi_model_fit(self._need(), ar.ptr(xt), ar.ptr(yt), n - n_val,
                                       ar.ptr(xv), ar.ptr(yv), n_val, ctypes.byref(opt), wd,
                                       int(val_every), int(patience), ar.ptr(grid),
                                       0 if grid is None else len(grid), int(bool(scale_target)),
                                       ctypes.byref(res), ctypes.byref(vloss), ctypes.byref(best),
                                       ctypes.byref(err))
        trace = None
        if res.loss_trace:
            trace = np.ctypeslib.as_array(res.loss_trace, (res.steps,)).copy() if res.steps \
                else np.empty(0)
            lib.hj_capi_free(res.loss_trace)
        if failure:
            raise failure[0]
        check(st, err)
        self.loss_, self.loss_trace_ = res.final_loss, trace
        self.steps_, self.stopped_ = int(res.steps), bool(res.stopped)
        self.val_loss_ = float(vloss.value) if n_val else None
        self.best_step_ = int(best.value)
        if self._eps_auto:
            self._eps = self._info().eps
        return self

    # ---- inference --------------------------------------------------------------------------

    def _x(self, x):
        return ar.matrix(x, "x", self.d_raw, cols_name="the model's input features")

    def predict(self, x: Any) -> np.ndarray:
        """Model output at raw inputs x (n, d_raw) (the stored preprocessing is applied):
        regression values (n), or class scores F_c (n, n_classes) for classifiers.

        >>> import numpy as np, hjdl
        >>> m = hjdl.Model("lse:4", eps=0.1).fit(np.eye(3), np.ones(3), iters=5)
        >>> m.predict(np.zeros((2, 3))).shape
        (2,)
        """
        h = self._need()
        x = self._x(x)
        n, n_out = x.shape[0], self.n_out
        out = np.empty((n, n_out))
        err = hj_error()
        with self._lock:
            check(lib.hj_model_predict(h, ar.ptr(x), n, ar.ptr(out), ctypes.byref(err)), err)
        return out[:, 0] if not self.n_classes else out

    def predict_class(self, x: Any) -> np.ndarray:
        """Predicted class (lowest index on ties) at x (n, d_raw) -> (n) int64 (classifiers)."""
        if not self.n_classes:
            raise ValueError("predict_class is for classifiers (an lse-class readout)")
        return np.argmax(self.predict(x), axis=1).astype(np.int64)

    def explain(self, x: Any, top: int = 3) -> Dict[str, np.ndarray]:
        """Explain each prediction by the readout's Gibbs weights (for classifiers those of the
        predicted class's neurons): entropy H, n_eff = exp(H), regime (0 particle, 1 mixed,
        2 wave; hjdl.REGIMES), and the ``top`` largest weights with their neuron indices
        (classifier neurons numbered c*N + j), descending.

        Shapes: x (n, d_raw) -> dict "entropy" (n), "n_eff" (n), "regime" (n), "atoms" (n, top),
        "pi" (n, top).

        >>> import numpy as np, hjdl
        >>> m = hjdl.Model("lse:4", eps=0.1).fit(np.eye(3), np.ones(3), iters=5)
        >>> m.explain(np.zeros((1, 3)), top=2)["atoms"].shape
        (1, 2)
        """
        h = self._need()
        x = self._x(x)
        n = x.shape[0]
        K, rec, pt, it = explain_buffers(n, top)
        err = hj_error()
        with self._lock:
            check(lib.hj_capi_model_explain(h, ar.ptr(x), n, K, ar.ptr(rec), ar.ptr(pt), ar.ptr(it),
                                            ctypes.byref(err)), err)
        return explain_summary(rec, pt, it)

    def initial_data(self, t: Optional[float] = None) -> Tuple[np.ndarray, np.ndarray]:
        """The initial data that training selected: the atoms of the readout LSE layer at time t
        (None: the model's t), y_j = 2t w_j, g_j = -b_j - t |w_j|^2.

        Shapes: -> (y (n_atoms, atom_dim), g (n_atoms)).

        >>> import numpy as np, hjdl
        >>> m = hjdl.Model("lse:4", eps=0.1).fit(np.eye(3), np.ones(3), iters=5)
        >>> [a.shape for a in m.initial_data()]
        [(4, 3), (4,)]
        """
        h = self._need()
        info = self._info()
        y, g = np.empty((info.n_atoms, info.atom_dim)), np.empty(info.n_atoms)
        err = hj_error()
        tt = 0.0 if t is None else ar.scalar(t, "t")
        if t is not None and not tt > 0:
            raise ValueError(f"t must be > 0, got {t}")
        with self._lock:
            check(lib.hj_model_initial_data(h, tt, ar.ptr(y), ar.ptr(g), ctypes.byref(err)), err)
        return y, g

    def certify(self, x: Any) -> Dict[str, np.ndarray]:
        """Certified l2 radii of a single-readout classifier (``lse-class:N``) at raw points x
        (n, d_raw): no perturbation of norm < radius changes the predicted class.

        Returns a dict: "cls" (n) predicted class, "runner_up" (n) the class whose bound gave the
        radius, "margin" (n) F_y - max_{c != y} F_c, "radius" (n).

        >>> import numpy as np, hjdl
        >>> x = np.array([[-1.0], [1.0]]); m = hjdl.Model("lse-class:2", eps=0.1)
        >>> r = m.fit(x, [0, 1], iters=100, lr=0.05).certify(x)
        >>> bool((r["radius"] > 0).all())
        True
        """
        h = self._need()
        x = self._x(x)
        n = x.shape[0]
        rec = np.empty(n, dtype=CERTIFICATE_DTYPE)
        err = hj_error()
        with self._lock:
            check(lib.hj_certify(h, ar.ptr(x), n, ar.ptr(rec), ctypes.byref(err)), err)
        return {"cls": rec["cls"].astype(np.int64), "runner_up": rec["runner_up"].astype(np.int64),
                "margin": rec["margin"].copy(), "radius": rec["radius"].copy()}

    def save(self, path: Union[str, "os.PathLike[str]"]) -> None:
        """Write the model as an .hjm text file (exact %.17g parameters, CRC32, atomic).

        >>> import numpy as np, hjdl, tempfile, os
        >>> m = hjdl.Model("lse:2", eps=0.1).fit(np.eye(2), np.ones(2), iters=5)
        >>> m.save(os.path.join(tempfile.mkdtemp(), "m.hjm"))
        """
        h = self._need()
        err = hj_error()
        with self._lock:
            check(lib.hj_model_save(h, os.fsencode(path), ctypes.byref(err)), err)

    # ---- parameters and facts ------------------------------------------------------------

    @property
    def params(self) -> np.ndarray:
        """A copy of the flat parameter array (n_params); layout in include/hjdl/model.h
        (lse:N: w (N, d_in) row-major, then b (N), then a, c with output_scale)."""
        h = self._need()
        n = self.n_params
        p = np.empty(n)
        err = hj_error()
        check(lib.hj_capi_model_get_params(h, ar.ptr(p), n, ctypes.byref(err)), err)
        return p

    @params.setter
    def params(self, values: Any) -> None:
        h = self._need()
        v = ar.vector(values, "params", self.n_params, "the model's parameter count")
        err = hj_error()
        with self._lock:
            check(lib.hj_capi_model_set_params(h, ar.ptr(v), v.shape[0], ctypes.byref(err)), err)

    @property
    def layers(self) -> List[Layer]:
        """The layers with their parameters by name (:class:`hjdl._layers.Layer`, a mapping
        name -> array; reading gives copies, assigning ``m.layers[k]["w"] = array`` writes
        into the model with a shape check). Names and shapes: ``dense:H`` / ``resnet:H``
        ``w`` (H, in), ``b`` (H); ``gibbs:M`` ``k`` (M, in), ``beta`` (M), ``v`` (M, in);
        ``lse:N`` ``w`` (N, in), ``b`` (N) (and ``a``, ``c`` () with the output scale);
        ``lse-class:N`` ``w`` (C*N, in), ``b`` (C*N), class c owning rows c*N .. c*N+N-1.

        >>> import numpy as np, hjdl
        >>> m = hjdl.Model("dense:3,lse:4", eps=0.1).fit(np.eye(2), np.ones(2), iters=2)
        >>> [(L.name, {k: v.shape for k, v in L.items()}) for L in m.layers]
        [('dense:3', {'w': (3, 2), 'b': (3,)}), ('lse:4', {'w': (4, 3), 'b': (4,)})]
        """
        return model_layers(self)

    # ---- names and target scaling (stored in the .hjm file) -------------------------------

    def _names(self, which: int, count: int) -> Optional[List[str]]:
        h = self._need()
        out = [lib.hj_capi_model_name(h, which, k) for k in range(count)]
        return None if not out or out[0] is None else [v.decode("utf-8", "replace") for v in out]

    @property
    def feature_names(self) -> Optional[List[str]]:
        """Names of the raw input columns (d_raw), or None."""
        return self._names(0, self.d_raw)

    @property
    def target_name(self) -> Optional[str]:
        """Name of the target column, or None."""
        v = self._names(1, 1)
        return v[0] if v else None

    @property
    def class_labels(self) -> Optional[List[str]]:
        """The user's label of each class 0..C-1 (classifiers), or None."""
        return self._names(2, self.n_classes)

    def set_names(self, features: Optional[Sequence[str]] = None, target: Optional[str] = None,
                  labels: Optional[Sequence[str]] = None) -> "Model":
        """Store the raw input columns' names (d_raw strings), the target's name and the class
        labels (n_classes distinct strings) in the model (None leaves a field as it is); they
        are saved in the .hjm file (format 2) and printed by ``hjdl predict``.

        >>> import numpy as np, hjdl
        >>> m = hjdl.Model("lse-class:2", eps=0.1).fit(np.eye(2), [0, 1], iters=2)
        >>> m.set_names(features=["a", "b"], labels=["no", "yes"]).class_labels
        ['no', 'yes']
        """
        h = self._need()

        def strings(v, name, n):
            if v is None:
                return None
            if isinstance(v, (str, bytes)) or len(v) != n:
                raise ValueError(f"{name} must be a sequence of {n} strings")
            enc = [str(s).encode() for s in v]
            bad = [v for v, e in zip(v, enc) if not name_storable(e)]
            if bad:
                raise ValueError(f"{name}: {bad[0]!r} cannot be stored (a name holds no control "
                                 f"characters such as line breaks and at most {MAX_NAME} bytes)")
            return (ctypes.c_char_p * n)(*enc)

        f = strings(features, "features", self.d_raw)
        if target is not None:
            strings([target], "target", 1)
        lab = strings(labels, "labels", self.n_classes) if self.n_classes else None
        if labels is not None and not self.n_classes:
            raise ValueError("labels are for classifiers (an lse-class readout)")
        if labels is not None and len(set(map(str, labels))) != len(labels):
            raise ValueError("labels must be distinct")
        err = hj_error()
        with self._lock:
            check(lib.hj_model_set_names(h, f, None if target is None else str(target).encode(),
                                         lab, ctypes.byref(err)), err)
        return self

    @property
    def target_scaling(self) -> Tuple[float, float]:
        """(shift, scale) of a regression model: predictions are shift + scale * f."""
        a, b = ctypes.c_double(), ctypes.c_double()
        lib.hj_capi_model_target_scaling(self._need(), ctypes.byref(a), ctypes.byref(b))
        return a.value, b.value

    # ---- pickling and copies: the state is the .hjm content ---------------------------------

    _PLAIN = ("_arch", "_eps", "_eps_auto", "_t", "_seed", "_n_classes", "_output_scale",
              "_preprocess", "_pca", "loss_", "loss_trace_", "steps_", "stopped_", "val_loss_",
              "best_step_")

    def __getstate__(self) -> Dict[str, Any]:
        state = {k: getattr(self, k, None) for k in self._PLAIN}
        state["hjm"] = None if self._h is None else self.to_hjm()
        return state

    def __setstate__(self, state: Dict[str, Any]) -> None:
        self._h = None
        self._lock = threading.Lock()
        defaults = {"_eps_auto": False, "_seed": 1, "_output_scale": False, "_pca": 0,
                    "steps_": 0, "stopped_": False}
        for k in self._PLAIN:
            setattr(self, k, state.get(k, defaults.get(k)))
        if state.get("hjm") is not None:
            other = Model.from_hjm(state["hjm"], "(pickled hjdl.Model)")
            self._h, other._h = other._h, None

    def __copy__(self) -> "Model":
        return self.__deepcopy__({})

    def __deepcopy__(self, memo: Dict[int, Any]) -> "Model":
        new = Model.__new__(Model)
        new.__setstate__(self.__getstate__())
        return new

    @property
    def arch(self) -> str:
        """The architecture string, e.g. 'lse:16'."""
        return self._arch

    @property
    def eps(self) -> float:
        """The viscosity / temperature of every layer (with eps="auto": 0.1 until fit chose)."""
        return self._eps

    @property
    def t(self) -> float:
        """The HJ time of the initial-data map."""
        return self._t

    @property
    def preprocess(self) -> Optional[str]:
        """None, 'standardize' or 'pca'."""
        return self._preprocess

    d_raw = _info_int("d_raw", "Raw input width.")
    d_in = _info_int("d_in", "Input width after preprocessing.")
    n_out = _info_int("n_out", "1 or the number of classes.")
    n_classes = _info_int("n_classes", "0 for regression.")
    n_params = _info_int("n_params", "Number of parameters.")
    n_atoms = _info_int("n_atoms", "Neurons of the readout LSE (in total: C*N for lse-class).")

    def __repr__(self) -> str:
        state = "unfitted" if self._h is None else f"{self.n_params} parameters"
        eps = "auto" if self._eps_auto and self._h is None else self._eps
        return f"hjdl.Model({self._arch!r}, eps={eps!r}, t={self._t!r}; {state})"


__all__ = ["Model", "Error", "handle_counts"]
