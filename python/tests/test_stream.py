"""Streamed evaluation over an atom file (hjdl.stream_hopf_cole, hjdl.stream_explain) against an
independent NumPy computation of the Hopf–Cole solution and of its Gibbs weights."""

import numpy as np
import pytest

import hjdl
from conftest import np_entropy


def np_hopf_cole(x, y, g, t, eps, A=None):
    """u, grad u, entropy and the Gibbs weights, written directly (max-shifted) in NumPy."""
    Ainv = np.eye(y.shape[1]) if A is None else np.linalg.inv(A)
    diff = x[:, None, :] - y[None, :, :]
    a = -(g[None, :] + np.einsum("nmi,ij,nmj->nm", diff, Ainv, diff) / (4.0 * t))
    m = a.max(axis=1, keepdims=True)
    e = np.exp((a - m) / eps)
    pi = e / e.sum(axis=1, keepdims=True)
    u = -(m[:, 0] + eps * np.log(e.sum(axis=1)))
    grad = (x - pi @ y) @ Ainv.T / (2.0 * t)
    return u, grad, np_entropy(pi), pi


@pytest.fixture
def atom_file(tmp_path, rng):
    y = rng.uniform(-2, 2, size=(257, 3))
    g = (y ** 2).sum(axis=1) / 4.0 + rng.uniform(size=257)
    path = tmp_path / "atoms.csv"
    np.savetxt(path, np.column_stack([y, g]), delimiter=",", header="y1,y2,y3,g", comments="",
               fmt="%.17g")
    return str(path), y, g


@pytest.mark.parametrize("tile", [0, 1, 10, 256, 1000])
def test_stream_hopf_cole_matches_numpy_at_every_tile_size(atom_file, rng, tile):
    path, y, g = atom_file
    x = rng.uniform(-2.5, 2.5, size=(11, 3))
    r = hjdl.stream_hopf_cole(path, x, t=0.5, eps=0.1, tile_rows=tile)
    u, grad, H, _ = np_hopf_cole(x, y, g, 0.5, 0.1)
    np.testing.assert_allclose(r["u"], u, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(r["grad"], grad, rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(r["entropy"], H, rtol=1e-10, atol=1e-12)
    # u_norm = u + (eps d/2) log(4 pi eps t) (hopf.h)
    np.testing.assert_allclose(r["u_norm"], u + 0.05 * 3 * np.log(4 * np.pi * 0.1 * 0.5), rtol=1e-12)


def test_stream_hopf_cole_with_a_metric_and_from_npy(atom_file, tmp_path, rng):
    path, y, g = atom_file
    npy = tmp_path / "atoms.npy"
    np.save(npy, np.column_stack([y, g]))
    A = np.array([[2.0, 0.5, 0.0], [0.5, 1.0, 0.0], [0.0, 0.0, 3.0]])
    x = rng.uniform(-2, 2, size=(5, 3))
    r = hjdl.stream_hopf_cole(str(npy), x, t=1.0, eps=0.2, A=A, tile_rows=50)
    u, grad, _, _ = np_hopf_cole(x, y, g, 1.0, 0.2, A)
    np.testing.assert_allclose(r["u"], u, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(r["grad"], grad, rtol=1e-11, atol=1e-12)


@pytest.mark.parametrize("tile", [0, 7])
def test_stream_explain_finds_the_largest_gibbs_weights(atom_file, rng, tile):
    path, y, g = atom_file
    x = rng.uniform(-2, 2, size=(9, 3))
    r = hjdl.stream_explain(path, x, t=0.5, eps=0.1, top=4, tile_rows=tile)
    _, _, H, pi = np_hopf_cole(x, y, g, 0.5, 0.1)
    order = np.argsort(-pi, axis=1, kind="stable")[:, :4]
    np.testing.assert_array_equal(r["atoms"], order)
    np.testing.assert_allclose(r["pi"], np.take_along_axis(pi, order, axis=1), rtol=1e-11, atol=1e-15)
    np.testing.assert_allclose(r["entropy"], H, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(r["n_eff"], np.exp(H), rtol=1e-10)
    h = H / np.log(len(g))
    np.testing.assert_array_equal(r["regime"], np.where(h < 1 / 3, 0, np.where(h <= 2 / 3, 1, 2)))


def test_stream_explain_top_zero_gives_the_summaries_alone(atom_file, rng):
    path, y, g = atom_file
    x = rng.uniform(-2, 2, size=(3, 3))
    r = hjdl.stream_explain(path, x, t=0.5, eps=0.3, top=0)
    assert r["atoms"].shape == (3, 0) and r["pi"].shape == (3, 0)
    np.testing.assert_allclose(r["entropy"], np_hopf_cole(x, y, g, 0.5, 0.3)[2], rtol=1e-10)


def test_stream_refuses_bad_files_and_shapes(atom_file, tmp_path, rng):
    path, _, _ = atom_file
    one = tmp_path / "one.csv"
    one.write_text("g\n1\n2\n")
    with pytest.raises(hjdl.Error, match="at least 2 columns"):
        hjdl.stream_hopf_cole(str(one), np.zeros((1, 1)), t=1.0, eps=0.1)
    with pytest.raises(hjdl.Error, match="missing.csv"):
        hjdl.stream_explain(str(tmp_path / "missing.csv"), np.zeros((1, 3)), t=1.0, eps=0.1)
    with pytest.raises(ValueError, match="columns"):
        hjdl.stream_hopf_cole(path, np.zeros((2, 2)), t=1.0, eps=0.1)
    with pytest.raises(hjdl.Error, match="exceeds the 257 atoms"):
        hjdl.stream_explain(path, np.zeros((1, 3)), t=1.0, eps=0.1, top=300)
    with pytest.raises(hjdl.Error):
        hjdl.stream_hopf_cole(path, np.zeros((1, 3)), t=-1.0, eps=0.1)
    with pytest.raises(ValueError, match="tile_rows"):
        hjdl.stream_hopf_cole(path, np.zeros((1, 3)), t=1.0, eps=0.1, tile_rows=-1)


def test_stream_docstring_examples():
    import doctest
    from hjdl import _stream
    res = doctest.testmod(_stream, optionflags=doctest.ELLIPSIS)
    assert res.failed == 0 and res.attempted > 0
