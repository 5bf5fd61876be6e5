"""Every docstring example of the package runs and gives what it shows."""

import doctest

import pytest

import hjdl
from hjdl import _core, _experiment, _landscape, _model


@pytest.mark.parametrize("module", [hjdl, _core, _model, _landscape, _experiment],
                         ids=lambda m: m.__name__)
def test_docstring_examples(module):
    res = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert res.failed == 0
    assert res.attempted > 0
