"""Named parameters of an hjdl.Model: the layout of include/hjdl/model.h as NumPy arrays.

Each layer owns a slice of the model's flat parameter array, laid out as (shapes row-major):

=============  =================================================================
``dense:H``    ``w`` (H, in), ``b`` (H):      h' = softplus_eps(w h + b)
``resnet:H``   ``w`` (H, H), ``b`` (H):       h' = h + s softplus_eps(w h + b), s = 1/K
``gibbs:M``    ``k`` (M, in), ``beta`` (M), ``v`` (M, in):
               h' = sum_j pi_j v_j, pi = softmax((k h + beta)/eps)
``lse:N``      ``w`` (N, in), ``b`` (N):      y = eps log sum_j exp((w_j.h + b_j)/eps)
               with the output scale also ``a`` () and ``c`` (): y = a f + c
``lse-class``  ``w`` (C*N, in), ``b`` (C*N):  class c owns rows c*N .. c*N+N-1
=============  =================================================================

(K is the number of residual layers; softplus_eps(z) = eps log(1 + exp(z/eps)).)
"""

from __future__ import annotations

import ctypes
from typing import TYPE_CHECKING, Any, Dict, Iterator, List, Mapping, Optional, Tuple

import numpy as np

from . import _arrays as ar
from ._lib import check, hj_error, lib

if TYPE_CHECKING:
    from ._model import Model

KINDS = ("dense", "resnet", "gibbs", "lse", "lse-class")   # hj_layer_kind order


def _shapes(kind: str, width: int, d_in: int, n_out: int) -> Dict[str, Tuple[int, ...]]:
    """Parameter names and shapes of one layer, in their order in the flat array."""
    if kind in ("dense", "resnet"):
        return {"w": (width, d_in), "b": (width,)}
    if kind == "gibbs":
        return {"k": (width, d_in), "beta": (width,), "v": (width, d_in)}
    rows = width * (n_out if kind == "lse-class" else 1)
    return {"w": (rows, d_in), "b": (rows,)}


class Layer(Mapping[str, np.ndarray]):
    """One layer of a :class:`hjdl.Model`: a read-write mapping from parameter names to arrays.

    Reading ``layer["w"]`` returns a copy; assigning ``layer["w"] = array`` writes into the
    model after checking the shape (``ValueError`` naming the layer and the expected shape)
    and finiteness. ``kind``, ``width``, ``in_features``, ``out_features``, ``index`` and
    ``shapes`` describe the layer.

    >>> import numpy as np, hjdl
    >>> m = hjdl.Model.from_arrays("lse:2", 0.1, layers=[{"w": np.eye(2), "b": np.zeros(2)}])
    >>> layer = m.layers[0]
    >>> layer.kind, layer.shapes
    ('lse', {'w': (2, 2), 'b': (2,)})
    >>> layer["b"] = [0.5, -0.5]; m.layers[0]["b"]
    array([ 0.5, -0.5])
    >>> layer["w"] = np.zeros(3)
    Traceback (most recent call last):
    ...
    ValueError: layer 0 (lse:2) parameter 'w': got shape (3,), expected (2, 2) (N, in)
    """

    def __init__(self, model: "Model", index: int, kind: str, width: int, d_in: int,
                 n_out: int, offset: int, scale_at: Optional[int]) -> None:
        self._model = model
        self.index, self.kind, self.width = index, kind, width
        self.in_features, self.out_features = d_in, n_out
        self.shapes: Dict[str, Tuple[int, ...]] = _shapes(kind, width, d_in, n_out)
        self._slices: Dict[str, Tuple[int, int]] = {}
        at = offset
        for name, shape in self.shapes.items():
            size = int(np.prod(shape))
            self._slices[name] = (at, at + size)
            at += size
        if scale_at is not None:      # the regression output scale y = a f + c
            self.shapes.update(a=(), c=())
            self._slices.update(a=(scale_at, scale_at + 1), c=(scale_at + 1, scale_at + 2))

    @property
    def name(self) -> str:
        return f"{self.kind}:{self.width}"

    def _meaning(self, key: str) -> str:
        rows = {"dense": "H", "resnet": "H", "gibbs": "M", "lse": "N", "lse-class": "C*N"}[self.kind]
        return {"w": f"({rows}, in)" if self.kind != "resnet" else "(H, H)", "b": f"({rows},)",
                "k": "(M, in)", "beta": "(M,)", "v": "(M, in)", "a": "a scalar",
                "c": "a scalar"}[key]

    def _key(self, key: str) -> Tuple[int, int]:
        if key not in self._slices:
            raise KeyError(f"layer {self.index} ({self.name}) has no parameter {key!r}; its "
                           f"parameters are {', '.join(self.shapes)}")
        return self._slices[key]

    def __getitem__(self, key: str) -> np.ndarray:
        b, e = self._key(key)
        return self._model.params[b:e].reshape(self.shapes[key])

    def checked(self, key: str, value: Any) -> np.ndarray:
        """value as a float64 array of key's shape, else TypeError / ValueError naming both."""
        self._key(key)
        arr = ar.real(value, f"layer {self.index} ({self.name}) parameter '{key}'")
        want = self.shapes[key]
        if arr.shape != want:
            raise ValueError(f"layer {self.index} ({self.name}) parameter '{key}': got shape "
                             f"{arr.shape}, expected {want} {self._meaning(key)}")
        return arr

    def __setitem__(self, key: str, value: Any) -> None:
        arr = self.checked(key, value)
        b, e = self._slices[key]
        p = self._model.params
        p[b:e] = arr.ravel()
        self._model.params = p

    def __iter__(self) -> Iterator[str]:
        return iter(self.shapes)

    def __len__(self) -> int:
        return len(self.shapes)

    def __repr__(self) -> str:
        shapes = ", ".join(f"{k} {v}" for k, v in self.shapes.items())
        return f"<hjdl layer {self.index}: {self.name}, {shapes}>"


def model_layers(model: "Model") -> List[Layer]:
    """The layers of a model with parameters (from the library's own layout)."""
    h = model._need()
    info = model._info()
    out: List[Layer] = []
    err = hj_error()
    for k in range(info.n_layers):
        f = (ctypes.c_size_t * 6)()
        check(lib.hj_capi_model_layer(h, k, ctypes.byref(f), ctypes.byref(err)), err)
        kind, width, d_in, n_out, offset = KINDS[f[0]], f[1], f[2], f[3], f[4]
        last = k == info.n_layers - 1
        scale_at = info.n_params - 2 if last and info.output_scale else None
        out.append(Layer(model, k, kind, width, d_in, n_out, offset, scale_at))
    return out


def flat_params(layers: List[Layer], given: List[Any]) -> np.ndarray:
    """The flat parameter vector from one mapping of arrays per layer (every name required)."""
    if not isinstance(given, (list, tuple)):
        raise TypeError(f"layers must be a list of mappings name -> array (one per layer), got "
                        f"{type(given).__name__}")
    if len(given) != len(layers):
        raise ValueError(f"layers has {len(given)} entries, the architecture has {len(layers)} "
                         f"layers ({', '.join(L.name for L in layers)})")
    total = max(e for L in layers for (_, e) in L._slices.values())
    p = np.empty(total)
    for L, g in zip(layers, given):
        if not isinstance(g, Mapping):
            raise TypeError(f"layers[{L.index}] must be a mapping name -> array, got "
                            f"{type(g).__name__}")
        extra = set(g) - set(L.shapes)
        missing = [k for k in L.shapes if k not in g]
        if extra or missing:
            raise ValueError(f"layers[{L.index}] ({L.name}) needs exactly the parameters "
                             f"{', '.join(L.shapes)}" +
                             (f"; missing {', '.join(missing)}" if missing else "") +
                             (f"; unknown {', '.join(sorted(map(str, extra)))}" if extra else ""))
        for key in L.shapes:
            b, e = L._slices[key]
            p[b:e] = L.checked(key, g[key]).ravel()
    return p


__all__ = ["Layer"]
