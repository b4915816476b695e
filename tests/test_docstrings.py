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

# The modules and user-guide pages that hold doctest examples. The others hold none
# (gpu.rst shows its code as a code-block, not as a doctest); a test below keeps the
# two lists in step with the code, so that no example goes untested.
MODULES_WITH_EXAMPLES = [
    "sklilaw._accelerate",
    "sklilaw._classifier",
    "sklilaw._loss",
    "sklilaw._networks",
    "sklilaw._oversampling",
    "sklilaw._preprocessing",
    "sklilaw.datasets",
    "sklilaw.fairness._label_quality",
    "sklilaw.fairness._report",
    "sklilaw.fairness._scorer",
    "sklilaw.noise",
]
PAGES_WITHOUT_EXAMPLES = ["gpu.rst"]


def _n_examples(module):
    return sum(len(test.examples) for test in doctest.DocTestFinder().find(module))


def _page_examples(path):
    return doctest.DocTestParser().get_examples(path.read_text())


def test_every_module_and_page_with_examples_is_run():
    with_examples = [module.__name__ for module in MODULES if _n_examples(module)]
    assert with_examples == MODULES_WITH_EXAMPLES
    without_examples = [path.name for path in GUIDE if not _page_examples(path)]
    assert without_examples == PAGES_WITHOUT_EXAMPLES


@pytest.mark.parametrize("name", MODULES_WITH_EXAMPLES)
def test_docstring_examples(name):
    failures, attempted = doctest.testmod(importlib.import_module(name), optionflags=FLAGS)
    assert attempted > 0
    assert failures == 0


@pytest.mark.parametrize(
    "path",
    [path for path in GUIDE if path.name not in PAGES_WITHOUT_EXAMPLES],
    ids=lambda path: path.name,
)
def test_user_guide_examples(path):
    failures, attempted = doctest.testfile(str(path), module_relative=False, optionflags=FLAGS)
    assert attempted > 0
    assert failures == 0
