"""examples/from_pytorch.py: PyTorch -> hjdl and hjdl -> PyTorch to 1e-12 (when torch imports)."""

import importlib.util
import os

import pytest

EXAMPLE = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "from_pytorch.py")


def test_pytorch_round_trip():
    try:
        import torch  # noqa: F401
    except Exception as e:      # ImportError, or a broken install
        pytest.skip(f"PyTorch is not importable ({e}); Debian's python3-torch is installed by "
                    f"scripts/setup --bench")
    spec = importlib.util.spec_from_file_location("from_pytorch", EXAMPLE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    d = mod.main(quiet=True)
    for key in ("lse torch->hjdl", "lse-class torch->hjdl", "stack torch->hjdl",
                "lse hjdl->torch", "stack hjdl->torch"):
        assert d[key] <= 1e-12, (key, d[key])
    assert d["certificate flips"] == 0
