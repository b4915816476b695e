"""Interrupted and resumed training: nothing lost, and fit(10) == fit(5) + resume(5)."""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_iris
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted
from skorch.callbacks import Checkpoint, LoadInitState

from sklilaw import LiLAWClassifier, load_estimator, save_estimator


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


# 127 training rows in 16 batches of 8; 23 validation rows in 3 meta batches: every
# epoch ends inside a pass over the meta batches. Dropout draws torch random numbers.
PARAMS = dict(batch_size=8, hidden_layer_sizes=(16,), module__dropout=0.3)


def _same_training(resumed, continuous, X):
    np.testing.assert_array_equal(resumed.predict_proba(X), continuous.predict_proba(X))
    for key in ("train_loss", "valid_loss", "valid_acc", "alpha", "beta", "delta"):
        assert resumed.history[:, key] == continuous.history[:, key], key


@pytest.fixture(scope="module")
def continuous(iris):
    X, y = iris
    return LiLAWClassifier(**PARAMS, max_epochs=10, random_state=0).fit(X, y)


@pytest.mark.parametrize("random_state", [0, np.random.RandomState(0)], ids=["int", "RandomState"])
def test_partial_fit_and_warm_start_continue_as_one_fit(iris, continuous, random_state):
    X, y = iris
    first = LiLAWClassifier(**PARAMS, max_epochs=5, random_state=0).fit(X, y)
    by_partial_fit = first.partial_fit(X, y)
    _same_training(by_partial_fit, continuous, X)

    warm = LiLAWClassifier(**PARAMS, max_epochs=5, random_state=random_state).fit(X, y)
    if isinstance(random_state, int):
        warm.set_params(warm_start=True).fit(X, y)
        _same_training(warm, continuous, X)
    else:  # a RandomState gives other seeds each call, but the split is kept on resuming
        split = warm.label_issues_["in_validation"].to_numpy()
        warm.set_params(warm_start=True).fit(X, y)
        np.testing.assert_array_equal(warm.label_issues_["in_validation"], split)


def test_checkpoint_and_load_init_state_resume_in_a_new_estimator(iris, continuous, tmp_path):
    X, y = iris

    def run():
        checkpoint = Checkpoint(monitor=None, dirname=str(tmp_path))
        callbacks = [checkpoint, LoadInitState(checkpoint)]
        return LiLAWClassifier(**PARAMS, max_epochs=5, random_state=0, callbacks=callbacks)

    run().fit(X, y)  # 5 epochs, checkpointed after each
    resumed = run().fit(X, y)  # loads the last checkpoint, trains 5 more epochs
    assert len(resumed.history) == 10
    _same_training(resumed, continuous, X)


def test_a_saved_estimator_resumes_exactly(iris, continuous, tmp_path):
    X, y = iris
    first = LiLAWClassifier(**PARAMS, max_epochs=5, random_state=0).fit(X, y)
    save_estimator(first, tmp_path / "model.safetensors")
    loaded = load_estimator(tmp_path / "model.safetensors")
    _same_training(loaded.partial_fit(X, y), continuous, X)


class _Interrupted(LiLAWClassifier):
    """Raises KeyboardInterrupt at a given training batch; records every meta step."""

    def __init__(self, interrupt_at=None, in_meta_step=False, **kwargs):
        super().__init__(**kwargs)
        self.interrupt_at = interrupt_at
        self.in_meta_step = in_meta_step

    def initialize(self):
        self.meta_steps_, self.batches_ = [], 0
        return super().initialize()

    def train_step_single(self, batch, **fit_params):
        self.batches_ += 1
        if self.batches_ == self.interrupt_at and not self.in_meta_step:
            raise KeyboardInterrupt
        return super().train_step_single(batch, **fit_params)

    def meta_step(self, batch, **fit_params):
        if self.batches_ == self.interrupt_at and self.in_meta_step:
            raise KeyboardInterrupt
        super().meta_step(batch, **fit_params)
        self.meta_steps_.append(self.criterion_.meta_params.tolist())


@pytest.mark.parametrize("in_meta_step", [False, True], ids=["training-step", "meta-step"])
def test_keyboard_interrupt_mid_epoch_leaves_a_usable_model(iris, in_meta_step):
    X, y = iris
    clf = _Interrupted(interrupt_at=21, in_meta_step=in_meta_step, **PARAMS, max_epochs=5)
    clf.set_params(random_state=0).fit(X, y)  # skorch ends training quietly on Ctrl-C
    check_is_fitted(clf)
    assert len(clf.history) == 2  # the second epoch was cut short at its 5th batch
    assert len(clf.meta_steps_) == 20
    assert [clf.alpha_, clf.beta_, clf.delta_] == clf.meta_steps_[-1]
    assert clf.alpha_ >= 1 and clf.delta_ >= clf.beta_
    assert clf.predict_proba(X).shape == (150, 3)
    assert len(clf.label_issues_) == 150
    clf.partial_fit(X, y)  # and training can go on
    assert len(clf.history) == 2 + 5 and np.isfinite(clf.alpha_)


def test_a_validation_split_without_meta_batch_is_an_error_not_a_hang(iris):
    X, y = iris  # 23 validation rows, all dropped as an incomplete batch of 32
    clf = LiLAWClassifier(batch_size=32, max_epochs=1, iterator_train__drop_last=True)
    with pytest.raises(ValueError, match="no meta batch"):
        clf.fit(X, y)


def test_resuming_leaves_torch_global_random_state_alone(iris):
    X, y = iris
    clf = LiLAWClassifier(**PARAMS, max_epochs=1, random_state=0).fit(X, y)
    torch.manual_seed(3)
    expected = torch.rand(2)
    torch.manual_seed(3)
    clf.partial_fit(X, y)
    assert torch.equal(torch.rand(2), expected)
