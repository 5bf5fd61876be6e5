"""Error paths: shapes, dtypes, NaN, bad files, misuse — each raising the right exception with a
useful message (C errors as hjdl.Error carrying the library's message)."""

import numpy as np
import pytest

import hjdl
from hjdl import _arrays


W = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
B = np.zeros(3)
X = np.array([[0.1, 0.2], [0.3, -0.4]])


def test_wrong_shapes_raise_value_error():
    with pytest.raises(ValueError, match="2-D"):
        hjdl.lse(X[0], W, B, 0.1)                       # 1-D x
    with pytest.raises(ValueError, match="columns"):
        hjdl.lse(np.ones((2, 3)), W, B, 0.1)            # d mismatch
    with pytest.raises(ValueError, match="length"):
        hjdl.lse(X, W, np.zeros(4), 0.1)                # b length
    with pytest.raises(ValueError, match="2-D"):
        hjdl.hopf_cole(X, W, B, 1.0, 0.1, A=np.eye(2)[0])    # metric must be (d, d)
    with pytest.raises(ValueError, match="expected 2"):
        hjdl.hopf_cole(X, W, B, 1.0, 0.1, A=np.eye(3))
    with pytest.raises(ValueError, match="rows"):
        hjdl.hopf_cole(X, W, B, 1.0, 0.1, A=np.ones((3, 2)))
    with pytest.raises(ValueError, match="shape"):
        hjdl.lse(X, W, B, 0.1, pi_out=np.empty((3, 2)))
    with pytest.raises(ValueError, match="C-contiguous"):
        hjdl.lse(X, W, B, 0.1, f_out=np.empty(4)[::2])
    with pytest.raises(TypeError):
        hjdl.lse(X, W, B, 0.1, f_out=np.empty(2, dtype=np.float32))
    with pytest.raises(ValueError, match="top"):
        hjdl.explain(X, W, B, 0.1, top=-1)


def test_dtypes_converted_or_refused():
    ref = hjdl.lse(X, W, B, 0.2)
    np.testing.assert_allclose(hjdl.lse(X.astype(np.float32), W, B, 0.2), ref, rtol=1e-6)
    np.testing.assert_array_equal(hjdl.lse(np.zeros((2, 2), dtype=np.int32), W, B, 0.2),
                                  hjdl.lse(np.zeros((2, 2)), W, B, 0.2))
    np.testing.assert_array_equal(hjdl.lse(np.asfortranarray(X), W, B, 0.2), ref)   # copied
    np.testing.assert_array_equal(hjdl.lse(X.tolist(), W, B, 0.2), ref)              # lists
    for bad in (X.astype(complex), X.astype(object), X > 0):
        with pytest.raises(TypeError, match="real"):
            hjdl.lse(bad, W, B, 0.2)
    with pytest.raises(TypeError):
        hjdl.lse(X, W, B, 0.2 + 1j)


def test_no_copy_for_c_contiguous_float64():
    assert _arrays.real(X, "x") is X
    assert _arrays.real(np.asfortranarray(X), "x") is not X


def test_nan_raises_c_error():
    Xn = X.copy()
    Xn[1, 0] = np.nan
    with pytest.raises(hjdl.Error, match=r"x\[1\]\[0\] is not finite") as e:
        hjdl.lse(Xn, W, B, 0.1)
    assert e.value.status_name == "HJ_ENAN" and isinstance(e.value, ValueError)
    Wn = W.copy()
    Wn[2, 1] = np.inf
    with pytest.raises(hjdl.Error, match="not finite"):
        hjdl.lse(X, Wn, B, 0.1)
    with pytest.raises(hjdl.Error, match="not finite"):
        hjdl.hopf_cole(Xn, W, B, 1.0, 0.1)
    with pytest.raises(hjdl.Error, match="not finite"):
        hjdl.entropy(Xn, W, B, 0.1)
    with pytest.raises(hjdl.Error) as e:
        hjdl.Model("lse:3", eps=0.1).fit(X, [1.0, np.nan], iters=5)
    assert e.value.status_name == "HJ_ENAN"


def test_bad_arguments_raise_c_messages():
    with pytest.raises(hjdl.Error) as e:
        hjdl.lse(X, W, B, -1.0)
    assert e.value.status_name == "HJ_EINVAL" and "eps" in str(e.value)
    with pytest.raises(hjdl.Error, match=r"t must be finite and > 0 \(got 0\)") as e:
        hjdl.hopf_cole(X, W, B, 0.0, 0.1)
    assert e.value.status_name == "HJ_EINVAL"
    with pytest.raises(hjdl.Error) as e:
        hjdl.hopf_cole(X, W, B, 1.0, 0.1, A=np.array([[1.0, 2.0], [2.0, 1.0]]))   # not SPD
    assert e.value.status_name == "HJ_EDOM"
    with pytest.raises(hjdl.Error, match="arch"):
        hjdl.Model("resnet:5,lse:3", eps=0.1).fit(X, [0.0, 1.0], iters=5)
    with pytest.raises(hjdl.Error, match="unknown experiment 'nope'.*identity"):
        hjdl.experiment("nope")
    with pytest.raises(hjdl.Error, match="optimizer|adam"):
        hjdl.Model("lse:3", eps=0.1).fit(X, [0.0, 1.0], optimizer="newton")
    with pytest.raises(hjdl.Error, match="hidden|lse-class|certif"):
        hjdl.Model("lse:3", eps=0.1).fit(X, [0.0, 1.0], iters=5).certify(X)


def test_bad_model_files_name_the_file(tmp_path):
    missing = tmp_path / "missing.hjm"
    with pytest.raises(hjdl.Error, match="missing.hjm") as e:
        hjdl.Model.load(missing)
    assert e.value.status_name == "HJ_EIO"
    m = hjdl.Model("lse:3", eps=0.1).fit(X, [0.0, 1.0], iters=5)
    good = tmp_path / "good.hjm"
    m.save(good)
    text = good.read_bytes()
    corrupt = tmp_path / "corrupt.hjm"
    i = text.index(b"eps")
    corrupt.write_bytes(text[:i] + text[i:].replace(b"0.1", b"0.2", 1))
    with pytest.raises(hjdl.Error, match="corrupt.hjm"):
        hjdl.Model.load(corrupt)
    trunc = tmp_path / "trunc.hjm"
    trunc.write_bytes(text[:len(text) // 2])
    with pytest.raises(hjdl.Error, match="trunc.hjm"):
        hjdl.Model.load(trunc)
    garbage = tmp_path / "garbage.hjm"
    garbage.write_bytes(b"\x00\xff not a model\n")
    with pytest.raises(hjdl.Error, match="garbage.hjm"):
        hjdl.Model.load(garbage)
    with pytest.raises(hjdl.Error, match="nodir"):
        m.save(tmp_path / "nodir" / "m.hjm")


def test_model_misuse():
    m = hjdl.Model("lse:3", eps=0.1)
    with pytest.raises(RuntimeError, match="fit"):
        m.predict(X)
    m.fit(X, [0.0, 1.0], iters=5)
    with pytest.raises(ValueError, match="columns"):
        m.predict(np.ones((2, 5)))
    with pytest.raises(ValueError, match="length"):
        m.fit(X, [0.0, 1.0, 2.0])
    with pytest.raises(ValueError, match="parameter count"):
        m.params = np.zeros(2)
    with pytest.raises(hjdl.Error, match="not finite"):
        m.params = np.full(m.n_params, np.nan)
    with pytest.raises(ValueError, match="preprocess"):
        hjdl.Model("lse:3", eps=0.1, preprocess="whiten")
    with pytest.raises(ValueError, match="classifier"):
        m.predict_class(X)
    with pytest.raises(hjdl.Error, match="top"):
        m.explain(X, top=4)


def test_callback_exception_propagates():
    class Boom(Exception):
        pass

    def cb(phase, step, total, loss):
        raise Boom("from the callback")
    with pytest.raises(Boom):
        hjdl.Model("lse:3", eps=0.1).fit(X, [0.0, 1.0], iters=50, callback=cb)
