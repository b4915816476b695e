"""The examples in the package's docstrings run and print what they show."""

import doctest
import importlib
import pkgutil

import pytest

import sklilaw

MODULES = [
    importlib.import_module(info.name)
    for info in pkgutil.walk_packages(sklilaw.__path__, prefix="sklilaw.")
    if info.name != "sklilaw.__main__"
]


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_docstring_examples(module):
    failures, _ = doctest.testmod(
        module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    )
    assert failures == 0
