"""The rooms of sklilaw and what may use what (docs/architecture.md).

Two checks: each module imports only from the layers below its own (read from the
source), and no call climbs back into a module that imports the caller (traced while
the package fits, predicts, saves, loads and audits).
"""

import ast
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_iris
from sklearn.pipeline import make_pipeline

PACKAGE = Path(__file__).resolve().parents[1] / "sklilaw"

# bottom first; a module may import the modules of earlier layers only
LAYERS = [
    ["_weighting"],
    ["_loss", "_networks", "_batches", "_random_streams", "_rollback"],
    ["_validation", "_split", "_label_issues"],
    ["_fit_data", "_noise_handling", "_training"],
    ["_classifier"],
    ["_accelerate", "_oversampling", "_persistence", "baselines", "noise", "datasets", "plotting"],
    ["_preprocessing"],
    ["fairness._inputs", "fairness._metrics", "fairness._bootstrap"],
    ["fairness._report", "fairness._scorer"],
    ["fairness._label_quality", "fairness._html"],
    ["fairness._audit"],
    ["fairness"],
    ["_cli._runtime"],
    ["_cli._demo", "_cli._adult", "_cli._audit"],
    ["_cli"],
    ["__init__", "__main__"],
]
LAYER = {module: level for level, modules in enumerate(LAYERS) for module in modules}
# the method, and the torch pieces beneath the estimator, do without skorch
NO_SKORCH = {*(m for layer in LAYERS[:3] for m in layer), "_fit_data", "_noise_handling"}
# what `import sklilaw` may not load: it is loaded where it is used
NOT_ON_IMPORT = ["fairlearn", "matplotlib", "sklilaw.fairness", "sklilaw._cli"]


def _name(path):
    """The module's name within the package: '_classifier', 'fairness._report',
    'fairness' for a subpackage's ``__init__``."""
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    if len(parts) > 1 and parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


MODULES = {_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _resolve(importer, node):
    """The package modules named by a relative ``from ... import ...`` in ``importer``."""
    package = list(MODULES[importer].relative_to(PACKAGE).parts[:-1])
    base = package[: len(package) - (node.level - 1)]
    if node.module:
        return [".".join([*base, node.module])]
    return [".".join([*base, alias.name]) for alias in node.names]


def _imports(module):
    """The package modules that ``module`` imports (relative imports), and the top-level
    names of the other packages it imports."""
    ours, others = set(), set()
    for node in ast.walk(ast.parse(MODULES[module].read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            ours.update(_resolve(module, node))
        elif isinstance(node, ast.ImportFrom):
            others.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            others.update(alias.name.split(".")[0] for alias in node.names)
    return ours, others


def test_every_module_has_a_layer():
    assert [module for module in MODULES if module not in LAYER] == [], (
        "give new modules a layer here and in docs/architecture.md"
    )


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_only_from_lower_layers(module):
    ours, _ = _imports(module)
    upward = sorted(name for name in ours if LAYER.get(name, -1) >= LAYER[module])
    assert upward == [], f"{module} (layer {LAYER[module]}) imports {upward}"


@pytest.mark.parametrize("module", sorted(NO_SKORCH))
def test_the_method_and_the_fit_data_do_without_skorch(module):
    assert "skorch" not in _imports(module)[1]


def test_the_method_is_plain_torch():
    allowed = {"functools", "typing", "numpy", "torch"}
    assert _imports("_weighting")[1] <= allowed


def test_import_sklilaw_loads_neither_fairlearn_nor_matplotlib_nor_the_command_line():
    """``import sklilaw`` pulls in what the estimator needs; tqdm and tabulate come with
    skorch itself (its progress bar and log), and sklilaw's own code imports tqdm only
    in the command line."""
    import subprocess

    code = (
        "import sys, sklilaw; "
        f"print([m for m in {NOT_ON_IMPORT!r} if m in sys.modules]); "
        "sklilaw.fairness; print('fairlearn' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["[]", "True"]  # and sklilaw.fairness loads on first use
    with_tqdm = [m for m in MODULES if "tqdm" in _imports(m)[1]]
    assert all(module.startswith("_cli") for module in with_tqdm), with_tqdm


# ----------------------------------------------------------- calls that climb back
def _importers():
    """For each module, the modules that import it, directly or through others."""
    direct = {module: _imports(module)[0] for module in MODULES}

    def above(module, found):
        for importer, imported in direct.items():
            if module in imported and importer not in found:
                found.add(importer)
                above(importer, found)
        return found

    return {module: above(module, set()) for module in MODULES}


def _short(name):
    return name.removeprefix("sklilaw.") if name != "sklilaw" else "__init__"


def _on_self(frame):
    """Whether the call is a method call on the caller's own ``self``: a template method
    calling a hook that a subclass (in a module above) overrides."""
    instance = frame.f_locals.get("self")
    return instance is not None and frame.f_back.f_locals.get("self") is instance


def _traced_calls(workload):
    """The calls from one sklilaw module into another that ``workload`` makes."""
    calls = set()

    def profile(frame, event, arg):
        if event != "call" or frame.f_back is None:
            return
        callee = frame.f_globals.get("__name__", "")
        caller = frame.f_back.f_globals.get("__name__", "")
        if callee != caller and callee.startswith("sklilaw") and caller.startswith("sklilaw"):
            if not _on_self(frame):
                calls.add((_short(caller), _short(callee), frame.f_code.co_name))

    sys.setprofile(profile)
    try:
        workload()
    finally:
        sys.setprofile(None)
    return calls


def _workload(path):
    """Fits (plain, with a refit, noise_handling='auto', continued), predictions,
    persistence, an oversampler, Accelerate and the fairness audits, on iris."""
    from accelerate import Accelerator
    from imblearn.over_sampling import RandomOverSampler

    from sklilaw import (
        AcceleratedLiLAWClassifier,
        LiLAWClassifier,
        OversampledClassifier,
        load_estimator,
        save_estimator,
    )
    from sklilaw.fairness import fairness_report, label_quality_by_group, make_fairness_scorer

    X, y = load_iris(return_X_y=True)
    X = (X - X.mean(0)) / X.std(0)
    groups = np.where(np.arange(len(y)) % 2, "a", "b")
    fast = dict(max_epochs=2, batch_size=32, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # refits that are not kept say so
        plain = LiLAWClassifier(**fast).fit(X, y, sensitive_features=groups)
        plain.predict_proba(X), plain.difficulty(X, y)
        LiLAWClassifier(**fast, label_issues_refit="downweight").fit(X, y)
        auto = LiLAWClassifier(**fast, noise_handling="auto").fit(X, y).partial_fit(X, y)
    save_estimator(auto, path)
    load_estimator(path).predict(X)
    frame = pd.DataFrame(X, columns=list("abcd")).assign(group=groups)
    binary = y > 0
    features = ColumnTransformer([("features", "passthrough", list("abcd"))])
    model = make_pipeline(features, LiLAWClassifier(**fast)).fit(frame, binary)
    fairness_report(model, frame, binary, sensitive_features="group")
    label_quality_by_group(model[-1], "group", X=frame)
    make_fairness_scorer("group")(model, frame, binary)
    OversampledClassifier(RandomOverSampler(random_state=0), LiLAWClassifier(**fast)).fit(X, y)
    AcceleratedLiLAWClassifier(accelerator=Accelerator(cpu=True), **fast).fit(X, y)


def test_no_call_climbs_back_into_a_module_that_imports_the_caller(tmp_path):
    """A call from module A into module B where B imports A (directly or through other
    modules) climbs back up; only a template method calling a subclass's override of
    one of its own hooks (``self.get_iterator`` reaching Accelerate's) may."""
    importers = _importers()
    calls = _traced_calls(lambda: _workload(tmp_path / "auto.safetensors"))
    climbing = sorted(
        (caller, callee, function)
        for caller, callee, function in calls
        if caller in MODULES and callee in importers[caller]
    )
    assert climbing == [], climbing
    # the trace saw the rooms it is about
    seen = {module for caller, callee, _ in calls for module in (caller, callee)}
    rooms = {"_noise_handling", "_fit_data", "_training", "_persistence", "fairness._report"}
    assert rooms <= seen, rooms - seen
