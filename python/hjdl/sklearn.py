"""scikit-learn estimators over hjdl.Model: :class:`HJRegressor` and :class:`HJClassifier`.

They follow scikit-learn's conventions (``fit``/``predict``/``score``, ``get_params`` and
``set_params``, ``clone``, pipelines, grid searches, pickling) and pass its conformance suite
``sklearn.utils.estimator_checks.check_estimator``. The constructor parameters and their
defaults are those of ``hjdl fit`` (cli/cmd_fit.c), except that ``arch`` and ``eps``, which
the command requires, default to ``"lse:16"`` / ``"lse-class:8"`` and 0.1:

- ``arch``: the architecture (hidden ``dense:H``, ``resnet:H``, ``gibbs:M`` layers, then the
  readout ``lse:N`` for the regressor or ``lse-class:N`` for the classifier);
- ``eps``: the viscosity of every layer (>= 0), or ``"auto"``: chosen on a validation split
  over ``hjdl.EPS_AUTO_GRID`` (then ``validation`` defaults to 0.2 and ``lr`` to 1e-2);
- ``t`` (1): the HJ time of the initial-data map;
- ``optimizer`` ("adam"; "sgd", "lbfgs", "adam+lbfgs"), ``lr`` (None: 1e-3, 1e-2 with
  ``eps="auto"``), ``momentum`` (0.9), ``iters`` (1000 full-batch steps), ``epochs`` (0) with
  ``batch`` (0: full batch), ``lbfgs_iters`` (100);
- ``weight_decay`` (0): the L2 penalty (lambda/2)|W|^2 on the weight matrices;
- ``validation`` (None: 0, or 0.2 with ``eps="auto"``): the fraction held out to keep the
  best parameters; ``patience`` (0: never stop early) checks every 10 steps;
- ``target_scaling`` (True, regressor): train on the standardised target (stored in the
  model); ``output_scale`` (None: on with target scaling): learn y = a f + c;
- ``preprocess`` (None, "standardize", "pca" with ``pca`` components), stored in the model;
- ``random_state`` (1, as ``--seed``): an int, None or a RandomState for the initial
  parameters and the validation shuffle.

Fitted attributes: ``model_`` (the hjdl.Model), ``n_iter_`` (optimiser steps), ``eps_`` (the
eps used: the chosen one with ``"auto"``), ``n_features_in_``, ``feature_names_in_``, and
``classes_`` for the classifier. Besides scikit-learn's methods both have hjdl's ``explain``
and ``initial_data``, and the classifier ``certify`` (single-readout models).

Labels: ``classes_`` (np.unique of y) are kept in Python; the model is trained on their
indices and stores ``str`` of each label, and the input column names (``feature_names_in_``
from a DataFrame's columns), in its .hjm file (names it cannot store are left out).

>>> import numpy as np
>>> from hjdl.sklearn import HJClassifier
>>> x = np.random.default_rng(0).normal(size=(80, 2)); y = np.where(x[:, 0] > 0, "pos", "neg")
>>> clf = HJClassifier(lr=0.05, iters=200).fit(x, y)
>>> clf.classes_.tolist(), clf.predict(x[:3]).tolist() == y[:3].tolist()
(['neg', 'pos'], True)
>>> bool(clf.score(x, y) > 0.9), clf.predict_proba(x[:2]).shape
(True, (2, 2))
"""

from __future__ import annotations

import numbers
from typing import Any, Dict, List, Optional, Tuple, Union

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from ._arrays import ArrayLike
from ._model import Model, name_storable

try:                                    # scikit-learn >= 1.6
    from sklearn.utils.validation import validate_data as _validate
except ImportError:                     # older releases (Debian 12: 1.2.1)
    def _validate(est, *args, **kw):
        return est._validate_data(*args, **kw)


def _storable(names: List[str]) -> Optional[List[str]]:
    """names when the .hjm format can store them (distinct, each storable), else None (the
    estimator still keeps its labels in Python)."""
    if len(set(names)) != len(names):
        return None
    if not all(name_storable(s.encode("utf-8", "replace")) for s in names):
        return None
    return names


class _HJEstimator(BaseEstimator):
    _readout = "lse:16"

    def __init__(self, arch: Optional[str] = None, eps: Union[float, str] = 0.1, t: float = 1.0,
                 optimizer: str = "adam", lr: Optional[float] = None, momentum: float = 0.9,
                 iters: int = 1000, epochs: int = 0, batch: int = 0, lbfgs_iters: int = 100,
                 weight_decay: float = 0.0, validation: Optional[float] = None,
                 patience: int = 0, target_scaling: bool = True,
                 output_scale: Optional[bool] = None, preprocess: Optional[str] = None,
                 pca: Optional[int] = None, random_state: Any = 1) -> None:
        self.arch = arch
        self.eps = eps
        self.t = t
        self.optimizer = optimizer
        self.lr = lr
        self.momentum = momentum
        self.iters = iters
        self.epochs = epochs
        self.batch = batch
        self.lbfgs_iters = lbfgs_iters
        self.weight_decay = weight_decay
        self.validation = validation
        self.patience = patience
        self.target_scaling = target_scaling
        self.output_scale = output_scale
        self.preprocess = preprocess
        self.pca = pca
        self.random_state = random_state

    # ---- helpers -----------------------------------------------------------------------------

    def _seed(self) -> int:
        rs = self.random_state
        if isinstance(rs, numbers.Integral) and not isinstance(rs, bool):
            if rs < 0:
                raise ValueError(f"random_state must be >= 0, got {rs}")
            return int(rs)
        return int(check_random_state(rs).randint(0, 2 ** 31 - 1))

    def _eps(self) -> Union[float, str]:
        if isinstance(self.eps, str):
            if self.eps != "auto":
                raise ValueError(f"eps must be a number >= 0 or 'auto', got {self.eps!r}")
            return "auto"
        if not isinstance(self.eps, numbers.Real) or isinstance(self.eps, bool):
            raise TypeError(f"eps must be a number >= 0 or 'auto', got {type(self.eps).__name__}")
        if not self.eps >= 0:
            raise ValueError(f"eps must be >= 0, got {self.eps}")
        return float(self.eps)

    def _fit_model(self, X: np.ndarray, y: np.ndarray, n_classes: Optional[int],
                   output_scale: bool, scale_target: bool) -> None:
        arch = self._readout if self.arch is None else self.arch
        model = Model(arch, self._eps(), t=self.t, seed=self._seed(), n_classes=n_classes,
                      output_scale=output_scale, preprocess=self.preprocess, pca=self.pca)
        if model.is_classifier != (n_classes is not None):
            raise ValueError(f"arch={arch!r}: {type(self).__name__} needs a "
                             f"{'lse-class:N' if n_classes is not None else 'lse:N'} readout")
        epochs = int(self.epochs or 0)
        model.fit(X, y, optimizer=self.optimizer, iters=0 if epochs else self.iters,
                  epochs=epochs, batch=self.batch, lr=self.lr, momentum=self.momentum,
                  lbfgs_iters=self.lbfgs_iters, weight_decay=self.weight_decay,
                  validation=self.validation, patience=self.patience, scale_target=scale_target)
        names = getattr(self, "feature_names_in_", None)
        if names is not None:
            safe = _storable([str(c) for c in names])
            if safe is not None:
                model.set_names(features=safe)
        self.model_ = model
        self.n_iter_ = max(1, model.steps_)
        self.eps_ = model.eps

    def _x(self, X: ArrayLike) -> np.ndarray:
        check_is_fitted(self, "model_")
        return _validate(self, X, reset=False, dtype=np.float64)

    # ---- hjdl's own --------------------------------------------------------------------------

    def explain(self, X: ArrayLike, top: int = 3) -> Dict[str, np.ndarray]:
        """The readout's Gibbs-weight summary at X (n, n_features_in_): hjdl.Model.explain
        (entropy, n_eff, regime, the ``top`` atoms and their weights)."""
        x = self._x(X)
        return self.model_.explain(x, top=top)

    def initial_data(self, t: Optional[float] = None) -> Tuple[np.ndarray, np.ndarray]:
        """The atoms (y (n_atoms, dim), g (n_atoms)) of the readout at time t (None: the
        model's t): the initial data training selected (hjdl.Model.initial_data)."""
        check_is_fitted(self, "model_")
        return self.model_.initial_data(t)


class HJRegressor(RegressorMixin, _HJEstimator):
    """Regression by an HJ network (``lse:N`` readout); parameters in the module docstring.

    >>> import numpy as np
    >>> from hjdl.sklearn import HJRegressor
    >>> x = np.linspace(-1, 1, 50)[:, None]; y = 3 * np.abs(x[:, 0]) + 1
    >>> r = HJRegressor(arch="lse:8", eps=0.05, lr=0.05, iters=300).fit(x, y)
    >>> bool(r.score(x, y) > 0.95), r.predict(x[:2]).shape
    (True, (2,))
    """

    _readout = "lse:16"

    def fit(self, X: ArrayLike, y: ArrayLike) -> "HJRegressor":
        X, y = _validate(self, X, y, dtype=np.float64, y_numeric=True)
        scale = bool(self.target_scaling)
        out = scale if self.output_scale is None else bool(self.output_scale)
        self._fit_model(X, np.asarray(y, dtype=np.float64), None, out, scale)
        return self

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Predicted values (n) at X (n, n_features_in_)."""
        x = self._x(X)
        return self.model_.predict(x)


class HJClassifier(ClassifierMixin, _HJEstimator):
    """Classification by an HJ network (``lse-class:N`` readout: one LSE of N neurons per
    class, softmax cross-entropy); parameters in the module docstring. ``predict`` gives
    labels (``classes_``), ``predict_proba`` the softmax of the class scores F_c, and
    ``decision_function`` the scores (n, C), or F_1 - F_0 (n) for two classes.

    >>> import numpy as np
    >>> from hjdl.sklearn import HJClassifier
    >>> x = np.array([[-1.0], [-0.5], [0.5], [1.0]]); y = [7, 7, 9, 9]
    >>> c = HJClassifier(arch="lse-class:2", lr=0.05, iters=100).fit(x, y)
    >>> c.predict(x).tolist(), bool((c.certify(x)["radius"] > 0).all())
    ([7, 7, 9, 9], True)
    """

    _readout = "lse-class:8"

    def fit(self, X: ArrayLike, y: ArrayLike) -> "HJClassifier":
        X, y = _validate(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        self.classes_, yi = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"{type(self).__name__} needs at least 2 classes in y; got one "
                             f"class ({self.classes_[0]!r})")
        self._fit_model(X, yi.astype(np.float64), len(self.classes_), False, False)
        labels = _storable([str(c) for c in self.classes_])
        if labels is not None:
            self.model_.set_names(labels=labels)
        return self

    def _scores(self, X: ArrayLike) -> np.ndarray:
        x = self._x(X)
        return self.model_.predict(x)

    def decision_function(self, X: ArrayLike) -> np.ndarray:
        """Class scores F_c (n, C) at X, or F_1 - F_0 (n) with two classes."""
        F = self._scores(X)
        return F[:, 1] - F[:, 0] if F.shape[1] == 2 else F

    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        """Class probabilities (n, C): the softmax of the class scores (the training loss's)."""
        F = self._scores(X)
        e = np.exp(F - F.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def predict_log_proba(self, X: ArrayLike) -> np.ndarray:
        """log predict_proba (n, C), computed stably."""
        F = self._scores(X)
        Z = F - F.max(axis=1, keepdims=True)
        return Z - np.log(np.exp(Z).sum(axis=1, keepdims=True))

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Predicted labels (n) at X: the class of the largest score (the first on ties)."""
        F = self._scores(X)
        return self.classes_[np.argmax(F, axis=1)]

    def certify(self, X: ArrayLike) -> Dict[str, np.ndarray]:
        """Certified l2 radii at X (hjdl.Model.certify): "label" and "runner_up_label" as
        labels, "cls" and "runner_up" as class indices, "margin", "radius" (n each)."""
        x = self._x(X)
        r = self.model_.certify(x)
        r["label"] = self.classes_[r["cls"]]
        r["runner_up_label"] = self.classes_[r["runner_up"]]
        return r


__all__ = ["HJRegressor", "HJClassifier"]
