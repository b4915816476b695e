"""The examples in the package's docstrings and in the user guide run and print what they show."""

import doctest
import importlib
import pkgutil
from pathlib import Path

import pytest

import sklilaw

MODULES = [
    importlib.import_module(info.name)
    for info in pkgutil.walk_packages(sklilaw.__path__, prefix="sklilaw.")
    if info.name != "sklilaw.__main__"
]
GUIDE = sorted((Path(__file__).resolve().parents[1] / "docs" / "guide").glob("*.rst"))
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_docstring_examples(module):
    failures, _ = doctest.testmod(module, optionflags=FLAGS)
    assert failures == 0


@pytest.mark.parametrize("path", GUIDE, ids=lambda path: path.name)
def test_user_guide_examples(path):
    failures, _ = doctest.testfile(str(path), module_relative=False, optionflags=FLAGS)
    assert failures == 0
