"""Every public function, class and method has a docstring whose Parameters match its signature."""

import importlib
import inspect
import re
from pathlib import Path

import pytest
from numpydoc.validate import validate

PUBLIC_MODULES = [
    "sklilaw",
    "sklilaw.baselines",
    "sklilaw.datasets",
    "sklilaw.fairness",
    "sklilaw.noise",
    "sklilaw.plotting",
]

# numpydoc's codes for: no docstring, parameters not documented, documented parameters
# that do not exist, parameters documented in another order than the signature's
CHECKED = {"GL08", "PR01", "PR02", "PR03"}


def _public_names(module):
    """``__all__``, or else the public names defined in the module itself (not imported)."""
    if hasattr(module, "__all__"):
        return module.__all__
    return [
        name
        for name, obj in vars(module).items()
        if not name.startswith("_") and getattr(obj, "__module__", None) == module.__name__
    ]


def _public_objects():
    """``(module name, name, object)`` of every public function and class."""
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in _public_names(module):
            obj = getattr(module, name)
            if inspect.ismodule(obj) or not callable(obj):
                continue  # submodules are in PUBLIC_MODULES; constants take no docstring
            yield module_name, name, obj


def _members_sklilaw_defines(cls):
    """Public methods and properties of ``cls`` whose definition, the first in its MRO,
    is in one of sklilaw's classes (the class itself or a base such as the training mixin)."""
    members = {}
    for base in reversed(inspect.getmro(cls)):
        for member, value in vars(base).items():
            members[member] = (base, value)
    return [
        member
        for member, (base, value) in members.items()
        if not member.startswith("_")
        and base.__module__.startswith("sklilaw")
        and (inspect.isfunction(value) or isinstance(value, property))
    ]


def _documented_objects():
    """Public import paths of the functions and classes, and of the classes' own methods.

    Members a class inherits from skorch, torch or tuple are documented, and checked,
    where they are defined; those sklilaw defines, in the class or in one of its own
    bases (the training mixin), are checked here.
    """
    paths = set()
    for module_name, name, obj in _public_objects():
        path = f"{module_name}.{name}"
        paths.add(path)
        if inspect.isclass(obj):
            paths.update(f"{path}.{member}" for member in _members_sklilaw_defines(obj))
    return sorted(paths)


OBJECTS = _documented_objects()


def test_the_public_api_is_collected():
    assert "sklilaw.LiLAWClassifier.fit" in OBJECTS
    assert "sklilaw.LiLAWClassifier.train_step_single" in OBJECTS  # from the training mixin
    assert "sklilaw.fairness.FairnessReport.plot" in OBJECTS
    assert "sklilaw.noise.symmetric_label_noise" in OBJECTS
    assert len(OBJECTS) > 50


@pytest.mark.parametrize("path", OBJECTS)
def test_docstring_matches_signature(path):
    errors = [f"{code}: {message}" for code, message in validate(path)["errors"]]
    assert [error for error in errors if error[:4] in CHECKED] == []


def test_api_reference_lists_every_public_name():
    api = (Path(__file__).resolve().parents[1] / "docs" / "api.rst").read_text()
    # an autosummary entry is an indented line holding the name alone
    listed = set(re.findall(r"^ {3}(\w+)$", api, flags=re.M))
    missing = [f"{module}.{name}" for module, name, _ in _public_objects() if name not in listed]
    assert missing == [], "add them to docs/api.rst"
