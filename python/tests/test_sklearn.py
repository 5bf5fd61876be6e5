"""hjdl.sklearn: scikit-learn's own conformance suite, grid searches in worker processes,
cross-validation, pickling, labels and column names, and `hjdl fit` parity."""

import copy
import os
import pickle
import subprocess
import warnings

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn", reason="scikit-learn (python3-sklearn) not installed")
from sklearn.base import clone                                        # noqa: E402
from sklearn.datasets import load_breast_cancer, load_iris           # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score    # noqa: E402
from sklearn.pipeline import make_pipeline                           # noqa: E402
from sklearn.preprocessing import StandardScaler                     # noqa: E402
from sklearn.utils.estimator_checks import check_estimator           # noqa: E402

from hjdl.sklearn import HJClassifier, HJRegressor                   # noqa: E402


@pytest.mark.parametrize("Est", [HJRegressor, HJClassifier], ids=lambda e: e.__name__)
def test_check_estimator(Est):
    """The whole suite with the default parameters; no check is declared inapplicable."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_estimator(Est())
    skipped = [str(w.message) for w in caught if "SkipTest" in type(w.message).__name__]
    assert all("pandas is not installed" in s for s in skipped), skipped


def test_grid_search_in_two_processes_and_cross_val_score():
    X, y = load_iris(return_X_y=True)
    grid = {"eps": [0.05, 0.5], "arch": ["lse-class:2", "lse-class:4"]}
    base = HJClassifier(lr=0.05, iters=100, preprocess="standardize")
    gs2 = GridSearchCV(base, grid, cv=3, n_jobs=2).fit(X, y)
    gs1 = GridSearchCV(base, grid, cv=3, n_jobs=1).fit(X, y)
    # the worker processes received pickled estimators and sent fitted ones back
    np.testing.assert_array_equal(gs2.cv_results_["mean_test_score"],
                                  gs1.cv_results_["mean_test_score"])
    assert gs2.best_score_ > 0.9
    assert gs2.best_estimator_.predict(X[:5]).tolist() == gs1.best_estimator_.predict(X[:5]).tolist()
    Xb, yb = load_breast_cancer(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), HJClassifier(lr=0.01, iters=200))
    scores = cross_val_score(pipe, Xb, yb, cv=3, n_jobs=2)
    assert scores.shape == (3,) and scores.mean() > 0.93


def test_pickle_deepcopy_clone_of_fitted_estimators():
    X, y = load_iris(return_X_y=True)
    labels = np.array(["setosa", "versicolor", "virginica"])[y]
    clf = HJClassifier(lr=0.05, iters=100).fit(X, labels)
    r = HJRegressor(iters=100, lr=0.05).fit(X[:, :3], X[:, 3])
    for est in (clf, r):
        for other in (pickle.loads(pickle.dumps(est)), copy.deepcopy(est)):
            np.testing.assert_array_equal(other.predict(X[:, :est.n_features_in_]),
                                          est.predict(X[:, :est.n_features_in_]))
        c = clone(est)
        assert c.get_params() == est.get_params() and not hasattr(c, "model_")
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(clf)).predict_proba(X),
                                  clf.predict_proba(X))


def test_classifier_labels_probabilities_and_hjdl_methods():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(90, 2))
    y = np.array([10, 20, 30])[(X[:, 0] > 0.3).astype(int) + (X[:, 1] > 0.3).astype(int)]
    clf = HJClassifier(lr=0.05, iters=300).fit(X, y)
    assert clf.classes_.tolist() == [10, 20, 30] and clf.n_features_in_ == 2
    P = clf.predict_proba(X)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, atol=1e-14)
    F = clf.decision_function(X)
    assert F.shape == (90, 3)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[np.argmax(P, axis=1)])
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X)), P, rtol=1e-12)
    assert clf.score(X, y) > 0.85
    assert clf.model_.class_labels == ["10", "20", "30"]
    ex = clf.explain(X[:4], top=2)
    assert ex["atoms"].shape == (4, 2)
    y0, g0 = clf.initial_data()
    assert y0.shape == (24, 2) and g0.shape == (24,)
    # certify needs a single readout; binary decision_function is F_1 - F_0
    b = HJClassifier(arch="lse-class:3", lr=0.05, iters=200).fit(X, X[:, 0] > 0)
    cert = b.certify(X[:5])
    assert cert["label"].tolist() == b.predict(X[:5]).tolist()
    F2 = b.model_.predict(X)
    np.testing.assert_allclose(b.decision_function(X), F2[:, 1] - F2[:, 0])


def test_feature_names_from_dataframes():
    pd = pytest.importorskip("pandas", reason="pandas (python3-pandas) not installed")
    X, y = load_iris(return_X_y=True, as_frame=True)
    clf = HJClassifier(iters=50).fit(X, y)
    assert clf.feature_names_in_.tolist() == list(X.columns)
    assert clf.model_.feature_names == list(X.columns)
    r = HJRegressor(iters=20).fit(pd.DataFrame({"a": [0.0, 1, 2], "b": [1.0, 0, 1]}), [1, 2, 3])
    assert r.model_.feature_names == ["a", "b"]


def test_eps_auto_and_regularisation_settings():
    rng = np.random.default_rng(5)
    X = rng.uniform(-1, 1, size=(80, 2))
    y = 100 + 20 * np.abs(X[:, 0])
    r = HJRegressor(arch="lse:6", eps="auto", iters=100).fit(X, y)
    assert r.eps_ in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0)
    assert r.model_.eps == r.eps_ and r.score(X, y) > 0.5
    shift, scale = r.model_.target_scaling       # the target was standardised, as hjdl fit
    assert shift == pytest.approx(y.mean()) and scale == pytest.approx(y.std(ddof=1))
    v = HJRegressor(arch="lse:6", validation=0.25, patience=3, lr=0.05).fit(X, y)
    assert v.model_.best_step_ <= v.model_.steps_
    raw = HJRegressor(arch="lse:6", target_scaling=False, iters=5).fit(X, y)
    assert raw.model_.target_scaling == (0.0, 1.0)


@pytest.mark.parametrize("make,msg", [
    (lambda: HJRegressor().fit(np.ones(5), np.ones(5)), "2D array"),
    (lambda: HJRegressor(eps="hot").fit(np.eye(3), np.ones(3)), "eps must be"),
    (lambda: HJRegressor(eps=-1.0).fit(np.eye(3), np.ones(3)), "eps must be >= 0"),
    (lambda: HJRegressor(eps=[0.1]).fit(np.eye(3), np.ones(3)), "eps must be"),
    (lambda: HJRegressor(arch="lse-class:2").fit(np.eye(3), np.ones(3)), "lse:N readout"),
    (lambda: HJClassifier(arch="lse:2").fit(np.eye(3), [0, 1, 1]), "lse-class:N readout"),
    (lambda: HJClassifier().fit(np.eye(3), [0.5, 1.5, 2.25]), "Unknown label type"),
    (lambda: HJClassifier().fit(np.eye(3), [1, 1, 1]), "at least 2 classes"),
    (lambda: HJRegressor(random_state=-3).fit(np.eye(3), np.ones(3)), "random_state"),
    (lambda: HJRegressor(iters=2).fit(np.eye(3), np.ones(3)).predict(np.ones((2, 4))),
     "X has 4 features, but HJRegressor is expecting 3"),
    (lambda: HJRegressor(iters=2).fit(np.eye(3), np.ones(3)).predict(np.ones(3)), "2D array"),
    (lambda: HJRegressor(iters=2).fit(np.eye(3), [1, 2, np.nan]), "NaN"),
    (lambda: HJRegressor(arch=7).fit(np.eye(3), np.ones(3)), "arch must be"),
    (lambda: HJRegressor(optimizer="rmsprop").fit(np.eye(3), np.ones(3)), "rmsprop"),
    (lambda: HJRegressor(validation=2.0).fit(np.eye(3), np.ones(3)), "validation"),
    (lambda: HJClassifier(iters=2).fit(np.eye(3), [0, 1, 1]).explain(np.ones((1, 2))),
     "X has 2 features"),
])
def test_bad_input_raises_value_or_type_error(make, msg):
    with pytest.raises((ValueError, TypeError), match=msg):
        make()


def cli_fit(tmp_path, X, y, *args):
    """The model `hjdl fit` trains on the CSV of (X, y) with columns u, v, target."""
    cli = os.environ.get("HJDL_CLI")
    if not cli or not os.path.exists(cli):
        pytest.skip("the hjdl command is not built (HJDL_CLI unset)")
    data, out = tmp_path / "d.csv", tmp_path / "m.hjm"
    np.savetxt(data, np.column_stack([X, y]), delimiter=",", header="u,v,target", comments="",
               fmt="%.17g")
    subprocess.run([cli, "fit", "--data", str(data), "--out", str(out), "--quiet", *args],
                   check=True, capture_output=True)
    import hjdl
    return hjdl.Model.load(str(out))


def test_same_model_as_hjdl_fit(tmp_path):
    """The defaults are `hjdl fit`'s: the same data, arch, eps and seed give the same model."""
    rng = np.random.default_rng(11)
    X = rng.normal(size=(40, 2))
    y = 3 + 2 * np.abs(X[:, 0]) + X[:, 1]
    ref = cli_fit(tmp_path, X, y, "--arch", "dense:3,lse:5", "--eps", "0.2")
    r = HJRegressor(arch="dense:3,lse:5", eps=0.2).fit(X, y)
    np.testing.assert_allclose(r.model_.params, ref.params, rtol=0, atol=1e-12)
    np.testing.assert_allclose(r.predict(X), ref.predict(X), rtol=0, atol=1e-12)
    assert ref.feature_names == ["u", "v"]


def test_same_classifier_as_hjdl_fit(tmp_path):
    """A classifier with hjdl fit's defaults: the same parameters and the same class labels."""
    rng = np.random.default_rng(2)
    X = rng.normal(size=(40, 2))
    y = np.array([5, 7, 9])[(X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5).astype(int)]
    ref = cli_fit(tmp_path, X, y, "--task", "classification", "--arch", "lse-class:3",
                  "--eps", "0.2")
    c = HJClassifier(arch="lse-class:3", eps=0.2).fit(X, y)
    np.testing.assert_allclose(c.model_.params, ref.params, rtol=0, atol=1e-12)
    assert c.model_.class_labels == ref.class_labels == ["5", "7", "9"]
    assert c.predict(X).tolist() == [int(v) for v in
                                     np.array([5, 7, 9])[np.argmax(ref.predict(X), axis=1)]]
