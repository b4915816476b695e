"""The modules of sklilaw import only from the layers below their own (docs/architecture.md)."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "sklilaw"

# bottom first; a module may import the modules of earlier layers only
LAYERS = [
    ["_weighting"],
    ["_loss", "_mlp", "_fcn", "_data", "_streaming", "_random_streams", "_rollback"],
    ["_validation", "_split", "_label_issues"],
    ["_fit_data", "_noise_handling"],
    ["_training", "_prediction"],
    ["_classifier"],
    [
        "_accelerate",
        "_oversampling",
        "_persistence",
        "_timing",
        "baselines",
        "noise",
        "datasets",
        "plotting",
    ],
    ["_fairness_inputs", "_fairness_metrics"],
    ["_fairness_report", "_fairness_scorer"],
    ["_fairness_comparison", "_fairness_label_quality"],
    ["fairness"],
    ["_demo", "_audit"],
    ["__init__", "__main__"],
]
LAYER = {module: level for level, modules in enumerate(LAYERS) for module in modules}
# what the method, and the torch pieces beneath the estimator, may not depend on
NO_SKORCH = {module for modules in LAYERS[:4] for module in modules}


def _imports(path):
    """Top-level names of the packages and sklilaw modules that ``path`` imports."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            names.add(node.module.split(".")[0] if node.module else "__init__")
        elif isinstance(node, ast.ImportFrom):
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
    return names


def _sklilaw_modules(path):
    """The sklilaw modules imported by ``path`` (relative imports), by module name."""
    modules = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            if node.module:
                modules.add(node.module.split(".")[0])
            else:  # from . import datasets, fairness
                modules.update(alias.name for alias in node.names)
    return modules


MODULES = sorted(path.stem for path in PACKAGE.glob("*.py"))


def test_every_module_has_a_layer():
    assert [module for module in MODULES if module not in LAYER] == [], (
        "give new modules a layer here and in docs/architecture.md"
    )


@pytest.mark.parametrize("module", MODULES)
def test_imports_only_from_lower_layers(module):
    imported = _sklilaw_modules(PACKAGE / f"{module}.py")
    upward = sorted(name for name in imported if LAYER.get(name, -1) >= LAYER[module])
    assert upward == [], f"{module} (layer {LAYER[module]}) imports {upward}"


@pytest.mark.parametrize("module", sorted(NO_SKORCH))
def test_the_method_and_the_fit_data_do_without_skorch(module):
    assert "skorch" not in _imports(PACKAGE / f"{module}.py")


def test_the_method_is_plain_torch():
    allowed = {"functools", "typing", "numpy", "torch"}
    assert _imports(PACKAGE / "_weighting.py") <= allowed
