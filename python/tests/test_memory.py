"""Ownership: every C object the binding allocates is freed exactly once (run this file under
valgrind or with the ASan build of libhjdl for the C side; see python/README.md)."""

import gc
import sys
import weakref

import numpy as np

import hjdl
from hjdl import _model


def test_models_freed_exactly_once(tmp_path):
    gc.collect()
    c0, f0 = _model.handle_counts()
    x = np.linspace(-1, 1, 10)[:, None]
    y = np.abs(x[:, 0])
    base = hjdl.Model("lse:3", eps=0.1).fit(x, y, iters=3)
    path = tmp_path / "m.hjm"
    base.save(path)
    for i in range(150):
        m = hjdl.Model("lse:3", eps=0.1, seed=i).fit(x, y, iters=2)
        m.fit(x, y, iters=2)                     # refit: the old handle is freed, a new one made
        if i % 3 == 0:
            m.close()
            m.close()                            # closing twice frees once
        elif i % 3 == 1:
            hjdl.Model.load(path).predict(x)     # a temporary, freed by reference counting
        del m
    base.close()
    gc.collect()
    c1, f1 = _model.handle_counts()
    created, freed = c1 - c0, f1 - f0
    assert created == 1 + 150 * 2 + 50
    assert freed == created


def test_closed_model_refuses_use():
    m = hjdl.Model("lse:2", eps=0.1).fit(np.eye(2), np.ones(2), iters=2)
    m.close()
    try:
        m.predict(np.eye(2))
    except RuntimeError:
        pass
    else:
        raise AssertionError("predict after close() must raise")


def test_landscapes_and_metrics_do_not_leak_references():
    y, g = np.array([[-1.0], [0.0], [1.5]]), np.array([0.0, 0.1, 0.05])
    A = np.eye(1) * 2.0
    gc.collect()
    refs0 = [sys.getrefcount(a) for a in (y, g, A)]
    alive, finalizers = [], []
    for _ in range(100):
        L = hjdl.Landscape(y, g, 1.0)
        L.critical_points(0.3)
        alive.append(weakref.ref(L))
        finalizers.append(L._finalizer)
        del L
        hjdl.hopf_cole(np.zeros((2, 1)), y, g, 1.0, 0.1, A=A)
    gc.collect()
    # every Landscape was collected and its C object freed (the finalizer ran) ...
    assert all(r() is None for r in alive)
    assert not any(f.alive for f in finalizers)
    # ... and nothing kept a reference to the caller's arrays
    assert [sys.getrefcount(a) for a in (y, g, A)] == refs0


def test_outputs_own_their_memory():
    # arrays returned from C results are NumPy-owned copies: they stay valid after the C
    # object is gone
    L = hjdl.Landscape(np.array([[-1.0], [0.0], [1.5]]), np.array([0.0, 0.1, 0.05]), 1.0)
    c = L.critical_points(0.3)
    L.close()
    gc.collect()
    assert c["x"].flags.owndata and np.all(np.isfinite(c["x"]))
