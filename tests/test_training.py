"""The skorch extension points of LiLAW's training: callbacks, modes, optimizer, log."""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_iris
from skorch.callbacks import Callback
from torch import nn

from sklilaw import LiLAWClassifier
from sklilaw._training import PassValues

X, y = load_iris(return_X_y=True)
X = ((X - X.mean(0)) / X.std(0)).astype(np.float32)
FAST = dict(max_epochs=3, batch_size=32, random_state=0)


class _Counting(Callback):
    """Counts the batch events it implements."""

    def initialize(self):
        self.batches, self.gradients = 0, 0
        return self

    def on_batch_end(self, net, batch=None, training=False, **kwargs):
        self.batches += training

    def on_grad_computed(self, net, named_parameters, batch=None, training=False, **kwargs):
        self.gradients += 1
        assert all(p.grad is not None for _, p in named_parameters)


def test_callbacks_get_every_event_they_implement():
    counting = _Counting()
    clf = LiLAWClassifier(callbacks=[("count", counting)], **FAST).fit(X, y)
    n_train = int(np.ceil(len(y) * 0.85))
    batches_per_epoch = int(np.ceil(n_train / 32))
    assert counting.batches == counting.gradients == 3 * batches_per_epoch
    assert len(clf.history) == 3


class _ModeRecorder(nn.Module):
    """Records ``self.training`` of itself and of a dropout layer at every forward pass."""

    def __init__(self, n_features=4, n_classes=3):
        super().__init__()
        self.hidden = nn.Linear(n_features, 16)
        self.dropout = nn.Dropout(0.1)
        self.out = nn.Linear(16, n_classes)
        self.modes = []

    def forward(self, x):
        self.modes.append((self.training, self.dropout.training, torch.is_grad_enabled()))
        return self.out(self.dropout(torch.relu(self.hidden(x))))


def test_training_batches_run_in_train_mode_and_meta_batches_in_eval_mode():
    module = _ModeRecorder()
    clf = LiLAWClassifier(module, **FAST).fit(X, y)
    training = [mode for mode in module.modes if mode[2]]  # with a graph: training steps
    meta_and_validation = [mode for mode in module.modes if not mode[2]]
    assert training and all(mode[:2] == (True, True) for mode in training)
    assert meta_and_validation and all(mode[:2] == (False, False) for mode in meta_and_validation)
    module.modes.clear()
    clf.predict(X)
    assert module.modes and all(mode[:2] == (False, False) for mode in module.modes)


class _FrozenDropout(_ModeRecorder):
    """Overrides ``train`` to keep its dropout in evaluation mode, as frozen layers are."""

    def train(self, mode=True):
        super().train(mode)
        self.dropout.eval()
        return self


def test_a_module_that_overrides_train_is_switched_by_its_train():
    module = _FrozenDropout()
    LiLAWClassifier(module, **FAST).fit(X, y)
    training = [mode for mode in module.modes if mode[2]]
    assert training and all(mode[:2] == (True, False) for mode in training)


def test_adam_is_fused_unless_the_user_says_otherwise():
    assert LiLAWClassifier(**FAST).fit(X, y).optimizer_.defaults["fused"] is True
    adamw = LiLAWClassifier(optimizer=torch.optim.AdamW, **FAST).fit(X, y)
    assert adamw.optimizer_.defaults["fused"] is True
    unfused = LiLAWClassifier(optimizer__fused=False, **FAST).fit(X, y)
    assert not unfused.optimizer_.defaults["fused"]
    foreach = LiLAWClassifier(optimizer__foreach=True, **FAST).fit(X, y)
    assert not foreach.optimizer_.defaults["fused"] and foreach.optimizer_.defaults["foreach"]
    sgd = LiLAWClassifier(optimizer=torch.optim.SGD, **FAST).fit(X, y)
    assert not sgd.optimizer_.defaults.get("fused")


def test_the_epoch_log_prints_only_when_verbose(capsys):
    LiLAWClassifier(verbose=0, **FAST).fit(X, y)
    assert capsys.readouterr().out == ""
    LiLAWClassifier(verbose=1, **FAST).fit(X, y)
    out = capsys.readouterr().out
    assert "train_loss" in out and "valid_acc" in out
    assert len([line for line in out.splitlines() if line.strip()[:1].isdigit()]) == 3


def test_the_unweighted_twin_is_training_with_every_epoch_a_warm_up_epoch():
    twin = LiLAWClassifier(reweight=False, **FAST).fit(X, y)
    warm_up = LiLAWClassifier(warmup_epochs=FAST["max_epochs"], **FAST).fit(X, y)
    np.testing.assert_array_equal(twin.predict_proba(X), warm_up.predict_proba(X))
    assert twin.history[:, "mean_weight"] == [1.0] * 3
    assert (twin.alpha_, twin.beta_, twin.delta_) == (2.0, 2.0, 2.0)  # no meta step
    assert LiLAWClassifier(**FAST).fit(X, y).alpha_ != 2.0  # LiLAW's meta steps move it


def test_no_host_synchronisation_per_training_batch(monkeypatch):
    """Nothing reads a tensor's value back to Python per batch (on a GPU each read waits
    for the device): a fit of 8 times as many batches makes as many reads."""
    reads = []
    for name in ("item", "__bool__", "__float__", "__int__"):
        real = getattr(torch.Tensor, name)

        def reading(self, *args, _real=real, _name=name, **kwargs):
            reads.append(_name)
            return _real(self, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, name, reading)

    def reads_of_a_fit(batch_size):
        reads.clear()
        clf = LiLAWClassifier(max_epochs=3, batch_size=batch_size, random_state=0).fit(X, y)
        assert len(clf.history) == 3
        return sorted(reads)

    few, many = reads_of_a_fit(64), reads_of_a_fit(8)  # 2 and 16 training batches per epoch
    assert many == few


def test_pass_values_are_read_as_python_numbers_per_batch_and_grow_when_unsized():
    values = PassValues(iter(()), "cpu")  # no len(): a first guess, grown as the pass goes
    for batch in range(150):
        values.new_batch()
        values.record("train_loss", torch.tensor(batch / 2))
        if batch % 2:
            values.record("meta_step_taken", torch.tensor(batch % 4 == 1))
    read = values.read()
    assert [row["train_loss"] for row in read] == [batch / 2 for batch in range(150)]
    assert read[0] == {"train_loss": 0.0}  # what was not recorded is not read
    assert read[1] == {"train_loss": 0.5, "meta_step_taken": True}
    assert read[3]["meta_step_taken"] is False


def test_the_history_batches_hold_python_numbers():
    clf = LiLAWClassifier(max_epochs=2, random_state=0).fit(X, y)
    for epoch in clf.history:
        for batch in epoch["batches"]:
            assert "meta_step_taken" not in batch
            assert all(type(value) in (int, float) for value in batch.values())
        keys = set().union(*epoch["batches"])
        assert {"train_loss", "lilaw_weight", "valid_loss", "valid_acc"} <= keys


class _NoSyncWithinEpoch(Callback):
    """From the first training batch on, any wait for the device is an error, until the
    pass's values are read (``PassValues.read``, patched by the test)."""

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        if training:
            torch.cuda.set_sync_debug_mode("error")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_no_synchronisation_within_a_cuda_epoch(monkeypatch):
    real = PassValues.read

    def read_after_the_batches(values):
        torch.cuda.set_sync_debug_mode("default")
        return real(values)

    monkeypatch.setattr(PassValues, "read", read_after_the_batches)
    try:
        clf = LiLAWClassifier(
            max_epochs=3, batch_size=8, device="cuda", callbacks=[("sync", _NoSyncWithinEpoch())]
        ).fit(X, y)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert len(clf.history) == 3
    assert clf.history[-1, "train_batch_count"] > 10
