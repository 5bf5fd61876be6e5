"""Model: fit/predict against a NumPy forward of the parameters, explain, initial data, files,
certificates; landscape and experiment."""

import os

import numpy as np
import pytest

import hjdl
from conftest import np_entropy, np_lse


def regression_data(rng, n=80, d=2):
    x = rng.uniform(-1, 1, size=(n, d))
    return x, np.sqrt((x ** 2).sum(1))


def test_fit_predict_matches_numpy_forward(rng):
    x, y = regression_data(rng)
    N, d, eps = 12, 2, 0.1
    m = hjdl.Model(f"lse:{N}", eps=eps, seed=3).fit(x, y, iters=300, lr=0.02)
    assert m.n_params == N * d + N and m.d_raw == d and m.n_out == 1 and m.n_classes == 0
    assert m.loss_trace_.shape == (m.steps_,) and m.steps_ == 300
    assert m.loss_ < m.loss_trace_[0]          # training lowered the loss
    p = m.params
    w, b = p[:N * d].reshape(N, d), p[N * d:]
    f, _, _ = np_lse(x, w, b, eps)
    pred = m.predict(x)
    np.testing.assert_allclose(pred, f, rtol=1e-12, atol=1e-12)
    assert m.loss_ == pytest.approx(np.mean((f - y) ** 2), rel=1e-10)
    # setting parameters changes predictions accordingly
    m.params = np.concatenate([w.ravel() * 0.5, b])
    np.testing.assert_allclose(m.predict(x), np_lse(x, w * 0.5, b, eps)[0], rtol=1e-12, atol=1e-12)


def test_classifier_scores_match_numpy(rng):
    n, d, N, C, eps = 90, 2, 3, 3, 0.2
    x = rng.normal(size=(n, d))
    y = np.argmax(x @ np.array([[1.0, 0.0, -1.0], [0.0, 1.0, -1.0]]), axis=1)
    m = hjdl.Model(f"lse-class:{N}", eps=eps).fit(x, y, iters=200, lr=0.05)
    assert m.n_classes == C and m.n_out == C and m.is_classifier
    p = m.params
    w, b = p[:C * N * d].reshape(C * N, d), p[C * N * d:C * N * d + C * N]
    scores = np.stack([np_lse(x, w[c * N:(c + 1) * N], b[c * N:(c + 1) * N], eps)[0]
                       for c in range(C)], axis=1)
    np.testing.assert_allclose(m.predict(x), scores, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(m.predict_class(x), scores.argmax(1))
    assert (m.predict_class(x) == y).mean() > 0.8


def test_explain_topk_matches_numpy_argsort(rng):
    x, y = regression_data(rng)
    N, eps = 10, 0.2
    m = hjdl.Model(f"lse:{N}", eps=eps).fit(x, y, iters=100, lr=0.02)
    p = m.params
    w, b = p[:N * 2].reshape(N, 2), p[N * 2:]
    r = m.explain(x[:15], top=3)
    _, pi, _ = np_lse(x[:15], w, b, eps)
    order = np.argsort(-pi, axis=1, kind="stable")[:, :3]
    np.testing.assert_array_equal(r["atoms"], order)
    np.testing.assert_allclose(r["pi"], np.take_along_axis(pi, order, 1), rtol=1e-11)
    np.testing.assert_allclose(r["entropy"], np_entropy(pi), rtol=1e-9, atol=1e-12)
    # the same through the layer function on the model's parameters
    r2 = hjdl.explain(x[:15], w, b, eps, top=3)
    np.testing.assert_array_equal(r["atoms"], r2["atoms"])


def test_initial_data_formula(rng):
    x, y = regression_data(rng)
    N, t = 6, 0.7
    m = hjdl.Model(f"lse:{N}", eps=0.1, t=t).fit(x, y, iters=50, lr=0.02)
    p = m.params
    w, b = p[:N * 2].reshape(N, 2), p[N * 2:]
    ya, ga = m.initial_data()
    np.testing.assert_allclose(ya, 2 * t * w, rtol=1e-15)
    np.testing.assert_allclose(ga, -b - t * (w ** 2).sum(1), rtol=1e-13, atol=1e-15)
    y2, g2 = m.initial_data(t=2.0)
    np.testing.assert_allclose(y2, 4.0 * w, rtol=1e-15)
    # the model is the Hopf-Cole solution of its initial data: f = |x|^2/(4t) - u
    u = hjdl.hopf_cole(x, ya, ga, t, 0.1)["u"]
    np.testing.assert_allclose(m.predict(x), (x ** 2).sum(1) / (4 * t) - u, rtol=1e-11,
                               atol=1e-12)


def test_save_load_round_trip_bit_identical(rng, tmp_path):
    x, y = regression_data(rng)
    m = hjdl.Model("dense:6,lse:5", eps=0.3, preprocess="standardize").fit(x, y, iters=80, lr=0.01)
    path = tmp_path / "m.hjm"
    m.save(path)
    m2 = hjdl.Model.load(str(path))
    assert m2.arch == "dense:6,lse:5" and m2.eps == m.eps and m2.t == m.t
    assert m2.preprocess == "standardize"
    np.testing.assert_array_equal(m2.params, m.params)
    np.testing.assert_array_equal(m2.predict(x), m.predict(x))
    e1, e2 = m.explain(x, top=2), m2.explain(x, top=2)
    np.testing.assert_array_equal(e1["pi"], e2["pi"])
    # continue training from the loaded parameters
    m2.fit(x, y, iters=10, lr=0.01, reset=False)
    assert m2.steps_ == 10


def test_pca_model_and_callback(rng):
    x = rng.normal(size=(50, 5))
    y = x[:, 0] ** 2
    seen = []
    m = hjdl.Model("lse:4", eps=0.2, preprocess="pca", pca=2)
    m.fit(x, y, iters=20, lr=0.01, callback=lambda ph, s, tot, loss: seen.append((ph, s)) and False)
    assert m.d_raw == 5 and m.d_in == 2 and len(seen) >= 20 and seen[0][0] == "adam"
    stop = hjdl.Model("lse:4", eps=0.2).fit(x, y, iters=500, lr=0.01,
                                            callback=lambda ph, s, tot, loss: s >= 5)
    assert stop.stopped_ and stop.steps_ < 500


def test_certify_fields_and_no_flip_inside_radius(rng):
    n, d, N, eps = 60, 2, 3, 0.3
    x = rng.normal(size=(n, d))
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(int)
    m = hjdl.Model(f"lse-class:{N}", eps=eps).fit(x, y, iters=300, lr=0.05)
    xs = x[:20]
    c = m.certify(xs)
    scores = m.predict(xs)
    np.testing.assert_array_equal(c["cls"], scores.argmax(1))
    srt = np.sort(scores, axis=1)
    np.testing.assert_allclose(c["margin"], srt[:, -1] - srt[:, -2], rtol=1e-9, atol=1e-9)
    assert np.all(c["radius"] >= 0) and np.all(np.isfinite(c["radius"]))
    assert np.all(c["runner_up"] != c["cls"])
    # robust.h's promise, checked by prediction: no perturbation of norm < radius flips the class
    for i in range(len(xs)):
        r = c["radius"][i]
        if r == 0:
            continue
        dirs = rng.normal(size=(64, d))
        dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
        pts = xs[i] + 0.999 * r * dirs
        assert np.all(m.predict_class(pts) == c["cls"][i])


def test_landscape_on_tiny_atoms():
    y = np.array([[-1.0], [0.0], [1.5]])
    g = np.array([0.0, 0.1, 0.05])
    t, eps = 1.0, 0.3
    L = hjdl.Landscape(y, g, t)
    w, b = hjdl.atoms_to_weights(y, g, t)
    xs = np.linspace(-2, 2.5, 41)[:, None]
    np.testing.assert_allclose(L.entropy(xs, eps), np_entropy(np_lse(xs, w, b, eps)[1]),
                               rtol=1e-10, atol=1e-12)
    H, grad, hess = L.eval([0.4], eps)
    h = 1e-5

    def Hn(xv):
        return np_entropy(np_lse(np.array([[xv]]), w, b, eps)[1])[0]
    assert grad[0] == pytest.approx((Hn(0.4 + h) - Hn(0.4 - h)) / (2 * h), rel=1e-6, abs=1e-9)
    assert hess[0, 0] == pytest.approx((Hn(0.4 + h) - 2 * Hn(0.4) + Hn(0.4 - h)) / h ** 2,
                                       rel=1e-4, abs=1e-5)
    crit = L.critical_points(eps)
    for xc, idx in zip(crit["x"][:, 0], crit["index"]):
        d1 = (Hn(xc + h) - Hn(xc - h)) / (2 * h)
        d2 = (Hn(xc + h) - 2 * Hn(xc) + Hn(xc - h)) / h ** 2
        assert abs(d1) < 1e-6
        assert idx == (1 if d2 < 0 else 0)
    r = L.continuation(0.05, 5.0)
    assert r["folds"] and all(f["ok"] for f in r["folds"])
    for f in r["folds"]:
        assert 0.05 <= f["eps"] <= 5.0
        below = len(L.critical_points(f["eps"] * 0.97)["x"])
        above = len(L.critical_points(f["eps"] * 1.03)["x"])
        assert abs(below - above) == 2       # a fold creates or destroys a pair
    s = hjdl.landscape(y, g, t, 0.05, 5.0)
    assert s["critical_eps"] == pytest.approx(3.0 ** -1.0)
    assert len(s["folds"]) == len(r["folds"])
    L.close()
    L.close()                                  # idempotent


def test_experiment_identity_quick(tmp_path):
    s = hjdl.experiment("identity", quick=True)
    assert s["experiment"] == "identity"
    assert s["checks"] and all(c["pass"] for c in s["checks"])
    s2 = hjdl.experiment("identity", quick=True, out=tmp_path)
    assert (tmp_path / "identity" / "summary.json").exists()
    assert len(s2["checks"]) == len(s["checks"])
    names = [e["name"] for e in hjdl.experiments()]
    assert "identity" in names and len(names) == len(set(names))
