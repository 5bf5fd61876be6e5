"""The public API is typed: py.typed ships, and every public function and method annotates
each parameter and its return value."""

import inspect
import os

import pytest

import hjdl
from hjdl import _layers

PUBLIC = [getattr(hjdl, n) for n in hjdl.__all__ if callable(getattr(hjdl, n))]
try:
    from hjdl import sklearn as hjdl_sklearn
    PUBLIC += [hjdl_sklearn.HJRegressor, hjdl_sklearn.HJClassifier]
except ImportError:        # scikit-learn missing: the estimators are not importable
    pass


def callables():
    for obj in PUBLIC:
        if inspect.isclass(obj):
            for name, f in inspect.getmembers(obj):
                if name.startswith("_") and name not in ("__init__",):
                    continue
                if isinstance(f, property):
                    f = f.fget
                if inspect.isfunction(f) and f.__module__.startswith("hjdl"):
                    yield f"{obj.__name__}.{name}", f
            for name, p in vars(obj).items():
                if isinstance(p, property) and p.fget.__name__ != "<lambda>":
                    yield f"{obj.__name__}.{name}", p.fget
        elif inspect.isfunction(obj):
            yield obj.__name__, obj


def test_py_typed_ships():
    assert os.path.exists(os.path.join(os.path.dirname(hjdl.__file__), "py.typed"))


@pytest.mark.parametrize("name,f", list(callables()), ids=lambda v: v if isinstance(v, str) else "")
def test_annotated(name, f):
    sig = inspect.signature(f)
    missing = [p for p, v in sig.parameters.items()
               if p not in ("self", "cls") and v.annotation is inspect.Parameter.empty]
    assert not missing, f"{name}: parameters without a type: {missing}"
    assert sig.return_annotation is not inspect.Signature.empty, f"{name}: no return type"


def test_layer_is_typed():
    assert "return" in _layers.Layer.__getitem__.__annotations__
