"""A failed fit leaves the previous model exactly; Ctrl-C stops the whole fit, refit too."""

import json
import signal
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
import torch
from sklearn.datasets import load_iris
from sklearn.preprocessing import StandardScaler
from torch import nn

from sklilaw import LiLAWClassifier

FAST = dict(max_epochs=3, batch_size=32, random_state=0)


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


class _Poisoned(nn.Module):
    """A linear model whose training outputs turn NaN once ``poisoned`` is set."""

    def __init__(self, n_features=4, n_classes=3):
        super().__init__()
        self.linear = nn.Linear(n_features, n_classes)
        self.poisoned = False

    def forward(self, x):
        out = self.linear(x)
        return out * float("nan") if self.training and self.poisoned else out


class _PoisonAtBatch(LiLAWClassifier):
    """Poisons the module at the ``poison_at``-th training batch counted in
    ``batches_seen``: class attributes, so that they count over the estimators that a
    fit with a refit trains (set them with :func:`_poison_at`)."""

    poison_at = None
    batches_seen = 0

    def train_step_single(self, batch, **fit_params):
        _PoisonAtBatch.batches_seen += 1
        if _PoisonAtBatch.batches_seen == _PoisonAtBatch.poison_at:
            self.module_.poisoned = True
        return super().train_step_single(batch, **fit_params)


def _poison_at(batch):
    """Poison the ``batch``-th training batch from now on (None: none)."""
    _PoisonAtBatch.batches_seen, _PoisonAtBatch.poison_at = 0, batch


@pytest.fixture(autouse=True)
def _no_poison():
    _poison_at(None)
    yield
    _poison_at(None)


def _model_state(clf, X):
    """Everything a failed fit must give back: outputs, parameters, optimizer, history."""
    optimizer = clf.optimizer_.state_dict()["state"]
    return {
        "proba": clf.predict_proba(X),
        "parameters": [p.detach().clone() for p in clf.module_.parameters()],
        "optimizer": [
            {name: value.clone() for name, value in state.items()}
            for _, state in sorted(optimizer.items())
        ],
        "meta": [clf.alpha_, clf.beta_, clf.delta_],
        "criterion": {k: v.clone() for k, v in clf.criterion_.state_dict().items()},
        "history": json.dumps(clf.history.to_list()),
        "label_issues": clf.label_issues_.copy(),
    }


def _assert_same_state(after, before):
    np.testing.assert_array_equal(after["proba"], before["proba"])
    for p, q in zip(after["parameters"], before["parameters"], strict=True):
        assert torch.equal(p, q)
    assert len(after["optimizer"]) == len(before["optimizer"])
    for p, q in zip(after["optimizer"], before["optimizer"], strict=True):
        assert p.keys() == q.keys() and all(torch.equal(p[k], q[k]) for k in p)
    assert after["meta"] == before["meta"]
    assert after["criterion"].keys() == before["criterion"].keys()
    assert all(
        torch.equal(after["criterion"][k], before["criterion"][k]) for k in before["criterion"]
    )
    assert after["history"] == before["history"]
    assert after["label_issues"].equals(before["label_issues"])


def _fitted(iris, **params):
    X, y = iris
    clf = _PoisonAtBatch(_Poisoned, **{**FAST, **params}).fit(X, y)
    clf.module_.poisoned = False
    return clf


@pytest.mark.parametrize("how", ["partial_fit", "warm_start"])
def test_a_continued_fit_that_fails_mid_epoch_restores_the_previous_model(iris, how):
    X, y = iris
    clf = _fitted(iris, warm_start=how == "warm_start")
    before = _model_state(clf, X)
    _poison_at(6)  # the second epoch's second batch
    with pytest.raises(ValueError, match=r"Non-finite training loss \(nan\) at epoch 5, batch 2"):
        clf.partial_fit(X, y) if how == "partial_fit" else clf.fit(X, y)
    _poison_at(None)
    clf.module_.poisoned = False
    _assert_same_state(_model_state(clf, X), before)
    clf.partial_fit(X, y)  # and it trains on from there
    assert len(clf.history) == 2 * FAST["max_epochs"]


def test_a_new_fit_of_a_module_instance_that_fails_restores_the_instance(iris):
    X, y = iris
    module = _Poisoned()
    clf = _PoisonAtBatch(module, **FAST).fit(X, y)
    before = _model_state(clf, X)
    _poison_at(9)
    with pytest.raises(ValueError, match=r"Non-finite training loss \(nan\) at epoch 3, batch 1"):
        clf.fit(X, y)  # a new fit, but of the same module instance, trained in place
    module.poisoned = False
    assert clf.module_ is module
    _assert_same_state(_model_state(clf, X), before)


def test_a_refit_that_fails_restores_the_previous_model(iris):
    X, y = iris
    clf = _fitted(iris)
    before = _model_state(clf, X)
    n_batches = clf.history[-1, "train_batch_count"]
    # the refit's third batch: the first training goes through, the second fails
    clf.set_params(label_issues_refit="downweight")
    _poison_at(FAST["max_epochs"] * n_batches + 3)
    with pytest.raises(ValueError, match=r"Non-finite training loss \(nan\) at epoch 1, batch 3"):
        clf.fit(X, y)
    _assert_same_state(_model_state(clf, X), before)


@pytest.fixture
def python_sigint():
    """SIGINT handled as Python handles it by default, whatever the test process inherited
    (a process started in the background of a shell inherits SIGINT ignored)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_side_effects_only_where_a_fit_needs_them(iris, python_sigint, monkeypatch):
    """A plain fit installs no SIGINT handler and copies no state (the previous model is
    kept by reference); a fit that continues copies what it trains in place; a fit
    with a refit watches for Ctrl-C, unless SIGINT is ignored."""
    import sklilaw._rollback as rollback

    X, y = iris
    handlers, copies = [], []
    real_signal, real_copy = rollback.signal.signal, rollback._cpu_copy

    def recording_signal(signum, handler):
        handlers.append(signum)
        return real_signal(signum, handler)

    def recording_copy(state):
        copies.append(state)
        return real_copy(state)

    monkeypatch.setattr(rollback.signal, "signal", recording_signal)
    monkeypatch.setattr(rollback, "_cpu_copy", recording_copy)
    clf = LiLAWClassifier(**FAST).fit(X, y)
    clf.fit(X, y)
    assert handlers == [] and copies == []
    clf.partial_fit(X, y)
    assert handlers == [] and copies  # of the module, optimizer and criterion
    copies.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        clf.set_params(label_issues_refit="prune").fit(X, y)
    assert handlers == [signal.SIGINT, signal.SIGINT] and copies == []  # set, then restored
    handlers.clear()
    real_signal(signal.SIGINT, signal.SIG_IGN)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        clf.fit(X, y)
    assert handlers == [] and signal.getsignal(signal.SIGINT) is signal.SIG_IGN


INTERRUPTED_FIT = """
import json, signal, sys, time
import numpy as np
from sklearn.datasets import load_iris
from skorch.callbacks import Callback
from sklilaw import LiLAWClassifier, load_estimator, save_estimator

class Handshake(Callback):
    # tells the parent when the training to interrupt is under way, then waits for it
    def __init__(self, training):
        self.training = training
    def on_train_begin(self, net, **kwargs):
        self.trainings_ = getattr(self, "trainings_", 0) + 1
    def on_train_end(self, net, **kwargs):
        if self.trainings_ == 1:
            first.append(net.predict_proba(X).tolist())
    def on_epoch_end(self, net, **kwargs):
        if self.trainings_ == self.training and len(net.history) == 2:
            print("interrupt me", flush=True)
            # SIGINT interrupts the read or, if it comes later, the sleep
            sys.stdin.readline()
            time.sleep(60)

# Ctrl-C as in a terminal, also where this test runs in the background (where the shell
# starts its children with SIGINT ignored)
signal.signal(signal.SIGINT, signal.default_int_handler)
first = []
X, y = load_iris(return_X_y=True)
handshake = Handshake(int(sys.argv[1]))
clf = LiLAWClassifier(
    max_epochs=int(sys.argv[2]), batch_size=16, random_state=0, label_issues_refit="prune",
    callbacks=[("handshake", handshake)],
)
clf.fit(X, y)
save_estimator(clf, sys.argv[3])
loaded = load_estimator(sys.argv[3], callbacks=[("handshake", handshake)])
print(json.dumps({
    "trainings": handshake.trainings_,
    "epochs": len(clf.history),
    "same_after_load": bool(np.array_equal(loaded.predict_proba(X), clf.predict_proba(X))),
    "first_model_proba": first[0],
    "proba": clf.predict_proba(X).tolist(),
    "label_issues": len(clf.label_issues_),
}))
"""


@pytest.mark.parametrize("training", [1, 2], ids=["first-training", "refit"])
def test_ctrl_c_stops_the_whole_fit_and_leaves_a_usable_model(tmp_path, training):
    """A real SIGINT mid-fit: no refit after an interrupted first training, and an
    interrupted refit gives back the first training's model; either saves and loads."""
    script = tmp_path / "fit.py"
    script.write_text(textwrap.dedent(INTERRUPTED_FIT))
    # the first training runs 3 epochs when the refit is the one interrupted, else 1,000
    # unless interrupted
    max_epochs = 3 if training == 2 else 1000
    child = subprocess.Popen(
        [sys.executable, str(script), str(training), str(max_epochs), str(tmp_path / "m.st")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout.readline().strip() == "interrupt me"
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=300)
    finally:
        child.kill()
    assert child.returncode == 0, err[-3000:]
    result = json.loads(out.strip().splitlines()[-1])
    assert result["trainings"] == training  # no refit after an interrupted first training
    assert result["same_after_load"] and result["label_issues"] == 150
    # the model kept is the first training's: interrupted in its second epoch, or whole
    # (3 epochs) when the refit was interrupted
    assert result["proba"] == result["first_model_proba"]
    if training == 1:
        assert "the refit (prune) is skipped, the interrupted model kept" in err
        assert result["epochs"] == 2
    else:
        assert "Training 'refit (prune)' was interrupted (Ctrl-C)" in err
        assert result["epochs"] == 3
