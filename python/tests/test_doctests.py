"""Every docstring example of the package runs and gives what it shows."""

import doctest

import pytest

import hjdl
from hjdl import _core, _experiment, _landscape, _layers, _model

MODULES = [hjdl, _core, _model, _layers, _landscape, _experiment]
try:
    import sklearn  # noqa: F401
    from hjdl import sklearn as hjdl_sklearn
    MODULES.append(hjdl_sklearn)
except ImportError:
    pass


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_docstring_examples(module):
    res = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert res.failed == 0
    assert res.attempted > 0
