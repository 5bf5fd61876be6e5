"""Named parameters, construction from arrays, names, pickling and copies of hjdl.Model.

The forward pass is checked against an independent NumPy implementation of every layer kind
written from the formulas of include/hjdl/model.h, so a wrong layout or a wrong name fails."""

import copy
import pickle

import numpy as np
import pytest

import hjdl


def np_softplus(z, eps):
    return eps * np.logaddexp(z / eps, 0.0)


def np_lse_rows(z, eps):
    m = z.max(axis=-1, keepdims=True)
    return m[..., 0] + eps * np.log(np.exp((z - m) / eps).sum(axis=-1))


def np_forward(kinds, params, x, eps, n_classes=0, scale=None):
    """Model output from the header's formulas: kinds [(kind, width)], params [dict]."""
    s = 1.0 / max(1, sum(k == "resnet" for k, _ in kinds))
    h = x
    for (kind, width), P in zip(kinds, params):
        if kind == "dense":
            h = np_softplus(h @ P["w"].T + P["b"], eps)
        elif kind == "resnet":
            h = h + s * np_softplus(h @ P["w"].T + P["b"], eps)
        elif kind == "gibbs":
            z = (h @ P["k"].T + P["beta"]) / eps
            z = np.exp(z - z.max(axis=1, keepdims=True))
            h = (z / z.sum(axis=1, keepdims=True)) @ P["v"]
        elif kind == "lse":
            f = np_lse_rows(h @ P["w"].T + P["b"], eps)
            return f if scale is None else scale[0] * f + scale[1]
        else:
            z = (h @ P["w"].T + P["b"]).reshape(len(h), n_classes, width)
            return np_lse_rows(z, eps)


def random_layers(rng, d, spec, C=0):
    kinds, params, width = [], [], d
    for kind, W in spec:
        if kind in ("dense", "resnet"):
            p = {"w": rng.normal(size=(W, width)), "b": rng.normal(size=W)}
            width = W
        elif kind == "gibbs":
            p = {"k": rng.normal(size=(W, width)), "beta": rng.normal(size=W),
                 "v": rng.normal(size=(W, width))}
        else:
            rows = W * (C if kind == "lse-class" else 1)
            p = {"w": rng.normal(size=(rows, width)), "b": rng.normal(size=rows)}
        kinds.append((kind, W))
        params.append(p)
    return kinds, params


ARCHS = [([("lse", 5)], 0), ([("dense", 4), ("resnet", 4), ("resnet", 4), ("gibbs", 3),
                               ("lse", 6)], 0), ([("gibbs", 2), ("lse-class", 3)], 4)]


@pytest.mark.parametrize("spec,C", ARCHS, ids=["lse", "stack", "gibbs-class"])
def test_from_arrays_predicts_the_header_formulas(rng, spec, C):
    kinds, params = random_layers(rng, 3, spec, C)
    arch = ",".join(f"{k}:{w}" for k, w in kinds)
    m = hjdl.Model.from_arrays(arch, 0.3, layers=params)
    assert m.arch == arch and m.n_classes == C and m.d_raw == 3
    x = rng.normal(size=(7, 3))
    ref = np_forward(kinds, params, x, 0.3, C)
    out = m.predict(x)
    assert out.shape == ref.shape
    np.testing.assert_allclose(out, ref, rtol=0, atol=1e-12)
    for L, p in zip(m.layers, params):       # read back by name: the arrays given
        assert list(L) == list(p)
        for k in p:
            np.testing.assert_array_equal(L[k], p[k])


def test_trained_model_layers_with_output_and_target_scaling(rng):
    x = rng.normal(size=(30, 2))
    y = 10 + 5 * np.abs(x[:, 0])
    m = hjdl.Model("dense:3,lse:4", eps=0.2, output_scale=True)
    m.fit(x, y, iters=30, lr=0.05, scale_target=True)
    shift, scale = m.target_scaling
    np.testing.assert_allclose([shift, scale], [y.mean(), y.std(ddof=1)], rtol=1e-12)
    L = m.layers
    assert L[1].shapes == {"w": (4, 3), "b": (4,), "a": (), "c": ()}
    params = [dict(layer) for layer in L]
    f = np_forward([("dense", 3), ("lse", 4)], params, x, 0.2,
                   scale=(params[1]["a"], params[1]["c"]))
    np.testing.assert_allclose(m.predict(x), shift + scale * f, rtol=0, atol=1e-10)
    # the same model rebuilt from its named arrays (a and c give the output scale)
    m2 = hjdl.Model.from_arrays("dense:3,lse:4", 0.2, layers=params)
    np.testing.assert_array_equal(m2.params, m.params)


def test_assignment_by_name(rng):
    m = hjdl.Model.from_arrays("lse:2", 0.1, layers=[{"w": np.eye(2), "b": np.zeros(2)}])
    m.layers[0]["w"] = [[2.0, 0.0], [0.0, 3.0]]
    x = np.array([[0.5, 0.25]])
    np.testing.assert_allclose(m.predict(x), np_lse_rows(np.array([[1.0, 0.75]]), 0.1),
                               atol=1e-14)
    with pytest.raises(ValueError, match=r"layer 0 \(lse:2\) parameter 'b': got shape \(3,\), "
                                         r"expected \(2,\)"):
        m.layers[0]["b"] = np.zeros(3)
    with pytest.raises(TypeError, match="parameter 'w'"):
        m.layers[0]["w"] = [["a", "b"], ["c", "d"]]
    with pytest.raises(ValueError, match="not finite"):
        m.layers[0]["w"] = [[np.nan, 0.0], [0.0, 1.0]]
    with pytest.raises(KeyError, match="parameters are w, b"):
        m.layers[0]["k"] = np.zeros((2, 2))
    np.testing.assert_array_equal(m.layers[0]["w"], [[2.0, 0.0], [0.0, 3.0]])   # unchanged


def test_from_arrays_bad_input():
    good = {"w": np.ones((4, 3)), "b": np.zeros(4)}
    with pytest.raises(ValueError, match=r"layer 1 \(lse:4\) parameter 'w': got shape \(4, 2\), "
                                         r"expected \(4, 3\) \(N, in\)"):
        hjdl.Model.from_arrays("dense:3,lse:4", 0.1, layers=[
            {"w": np.ones((3, 2)), "b": np.zeros(3)}, {"w": np.ones((4, 2)), "b": np.zeros(4)}])
    with pytest.raises(ValueError, match="2 entries, the architecture has 1 layers"):
        hjdl.Model.from_arrays("lse:4", 0.1, layers=[good, good])
    with pytest.raises(ValueError, match="missing b"):
        hjdl.Model.from_arrays("lse:4", 0.1, layers=[{"w": np.ones((4, 3))}])
    with pytest.raises(ValueError, match="unknown z"):
        hjdl.Model.from_arrays("lse:4", 0.1, layers=[dict(good, z=1)])
    with pytest.raises(TypeError, match="layers must be"):
        hjdl.Model.from_arrays("lse:4", 0.1, layers=good)
    with pytest.raises(TypeError, match=r"layers\[0\] must be a mapping"):
        hjdl.Model.from_arrays("lse:4", 0.1, layers=[np.ones((4, 3))])
    with pytest.raises(ValueError, match=r"expected \(width, in\)"):
        hjdl.Model.from_arrays("lse:4", 0.1, layers=[{"w": np.ones(4), "b": np.zeros(4)}])
    with pytest.raises(ValueError, match="numeric eps"):
        hjdl.Model.from_arrays("lse:4", "auto", layers=[good])
    with pytest.raises(hjdl.Error, match="unknown layer"):
        hjdl.Model.from_arrays("lsx:4", 0.1, layers=[good])
    with pytest.raises(TypeError, match="eps"):
        hjdl.Model.from_arrays("lse:4", "hot", layers=[good])


def test_names_are_stored_in_the_file(tmp_path):
    m = hjdl.Model("lse-class:2", eps=0.1).fit(np.eye(3)[:, :2], [0, 1, 2], iters=3)
    assert m.feature_names is None and m.class_labels is None
    m.set_names(features=["height", "wéight"], target="kind", labels=["a", "b", "c"])
    m2 = hjdl.Model.from_hjm(m.to_hjm())
    assert m2.feature_names == ["height", "wéight"]
    assert m2.target_name == "kind" and m2.class_labels == ["a", "b", "c"]
    with pytest.raises(ValueError, match="sequence of 2 strings"):
        m.set_names(features=["one"])
    with pytest.raises(ValueError, match="distinct"):
        m.set_names(labels=["a", "a", "b"])
    with pytest.raises(ValueError, match="control"):
        m.set_names(target="two\nlines")


def test_pickle_and_copies_hold_the_hjm_content(rng):
    x = rng.normal(size=(20, 2))
    m = hjdl.Model("dense:3,lse-class:2", eps=0.1).fit(x, (x[:, 0] > 0).astype(int), iters=20)
    state = m.__getstate__()
    assert state["hjm"].startswith(b"HJDL-MODEL 2\n") and b"\ncrc32 " in state["hjm"]
    for other in (pickle.loads(pickle.dumps(m)), copy.deepcopy(m), copy.copy(m)):
        assert other._h.address != m._h.address
        np.testing.assert_array_equal(other.predict(x), m.predict(x))
        assert other.arch == m.arch and other.steps_ == m.steps_
    c = copy.deepcopy(m)
    c.layers[0]["b"] = np.ones(3)
    assert not np.array_equal(c.predict(x), m.predict(x))     # an independent copy
    u = pickle.loads(pickle.dumps(hjdl.Model("lse:3", eps=0.2)))   # unfitted
    assert u._h is None and u.eps == 0.2
    u.fit(x, x[:, 0], iters=2)


def test_from_hjm_bad_input():
    with pytest.raises(TypeError, match="bytes of an .hjm file"):
        hjdl.Model.from_hjm(12)
    with pytest.raises(hjdl.Error, match="pickle-test"):
        hjdl.Model.from_hjm(b"HJDL-MODEL 2\narch lse:2\n", name="pickle-test")
    m = hjdl.Model("lse:2", eps=0.1).fit(np.eye(2), np.ones(2), iters=2)
    text = bytearray(m.to_hjm())
    text[30] ^= 1
    with pytest.raises(hjdl.Error, match="checksum"):
        hjdl.Model.from_hjm(bytes(text))


def test_fit_options_mirror_the_cli(rng):
    x = rng.normal(size=(60, 2))
    y = np.abs(x[:, 0])
    m = hjdl.Model("lse:6", eps="auto").fit(x, y, iters=40)
    assert m.eps in hjdl.EPS_AUTO_GRID and m.val_loss_ is not None
    v = hjdl.Model("lse:6", eps=0.1).fit(x, y, iters=200, lr=0.05, validation=0.25, patience=2)
    assert v.best_step_ <= v.steps_ and np.isfinite(v.val_loss_)
    wd = hjdl.Model("lse:6", eps=0.1).fit(x, y, iters=200, lr=0.05, weight_decay=1.0)
    plain = hjdl.Model("lse:6", eps=0.1).fit(x, y, iters=200, lr=0.05)
    assert np.sum(wd.layers[0]["w"] ** 2) < np.sum(plain.layers[0]["w"] ** 2)
    for kw, msg in (({"validation": 1.5}, "validation must be a fraction"),
                    ({"validation": 0.001}, "empty split"),
                    ({"patience": 3}, "patience needs a validation split"),
                    ({"weight_decay": -1}, "weight_decay must be >= 0"),
                    ({"weight_decay": "x"}, "weight_decay")):
        with pytest.raises((ValueError, TypeError), match=msg):
            hjdl.Model("lse:6", eps=0.1).fit(x, y, iters=2, **kw)


def test_mutated_hjm_text_never_crashes(rng):
    """Every byte-level mutation of a valid .hjm text either loads or raises hjdl.Error."""
    m = hjdl.Model("dense:2,lse-class:2", eps=0.1).fit(np.eye(3), [0, 1, 2], iters=3)
    m.set_names(features=["a", "b", "c"], labels=["x", "y", "z"])
    text = m.to_hjm()
    loaded = refused = 0
    for _ in range(300):
        b = bytearray(text)
        for _ in range(int(rng.integers(1, 4))):
            op = rng.integers(3)
            i = int(rng.integers(len(b)))
            if op == 0:
                b[i] = int(rng.integers(256))
            elif op == 1:
                del b[i:i + int(rng.integers(1, 20))]
            else:
                b[i:i] = bytes(rng.integers(256, size=int(rng.integers(1, 8))).astype(np.uint8))
        try:
            hjdl.Model.from_hjm(bytes(b)).predict(np.zeros((1, 3)))
            loaded += 1
        except hjdl.Error:
            refused += 1
    assert refused > 250 and loaded + refused == 300
    with pytest.raises(hjdl.Error):
        pickle.loads(pickle.dumps(m).replace(b"HJDL-MODEL 2", b"HJDL-MODEL 9"))
