"""The trainings of a fit: label-issues refits, noise_handling='auto', and their guard."""

import os
import re
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from _threads import torch_threads
from sklearn.base import clone
from sklearn.datasets import load_digits, load_iris
from sklearn.exceptions import NotFittedError
from sklearn.metrics import log_loss
from sklearn.model_selection import GridSearchCV
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted
from torch import nn

from sklilaw import GeneralizedCrossEntropy, LiLAWClassifier, load_estimator, save_estimator
from sklilaw.noise import symmetric_label_noise


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def noisy_digits():
    X, y = load_digits(return_X_y=True)
    y_noisy, flipped = symmetric_label_noise(y, 0.3, random_state=0)
    return X / 16.0, y_noisy, flipped


class _RecordingWeights(LiLAWClassifier):
    """Appends the sample weights of every training batch of every training to
    ``trainings`` (a class attribute: a rolled-back training leaves its record)."""

    trainings = []

    def initialize(self):
        type(self).trainings.append([])
        return super().initialize()

    def train_step_single(self, batch, **fit_params):
        type(self).trainings[-1].append(batch[2].numpy().copy())
        return super().train_step_single(batch, **fit_params)


@contextmanager
def _warnings():
    """The messages of the warnings raised in the block, none of them raised as errors."""
    messages = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield messages
    messages += [str(w.message) for w in caught]


def _said(messages, pattern):
    return any(re.search(pattern, message) for message in messages)


def _log_loss(model, X, y):
    """The mean log-loss of ``model`` on ``X``, ``y``: what the guard compares."""
    return log_loss(y, model.predict_proba(X), labels=model.classes_)


def _rows(issues):
    valid = issues["in_validation"].to_numpy()
    return ~valid, valid, issues["is_label_issue"].to_numpy()


# ------------------------------------------------------------------- refits, guarded
def test_prune_refit_trains_on_the_unflagged_training_rows_and_keeps_the_better_model(
    noisy_digits,
):
    """The refit is the fit of the first training's unflagged training rows with its
    validation rows as X_val; the model of higher validation accuracy is kept."""
    X, y, _ = noisy_digits
    params = dict(max_epochs=10, random_state=0)
    first = LiLAWClassifier(**params).fit(X, y)
    train, valid, flagged = _rows(first.label_issues_)
    assert (flagged & train).sum() > 100 and (flagged & valid).sum() > 10
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # if the refit loses, it says so
        pruned = LiLAWClassifier(**params, label_issues_refit="prune").fit(X, y)
    pd.testing.assert_frame_equal(pruned.label_issues_, first.label_issues_)
    kept_rows = train & ~flagged
    refit = LiLAWClassifier(**params).partial_fit(
        X[kept_rows], y[kept_rows], classes=range(10), X_val=X[valid], y_val=y[valid]
    )
    scores = [model.score(X[valid], y[valid]) for model in (first, refit)]
    losses = [_log_loss(model, X[valid], y[valid]) for model in (first, refit)]
    trainings = pruned.trainings_
    assert trainings["training"].tolist() == ["as configured", "refit (prune)"]
    assert trainings["n_train_rows"].tolist() == [train.sum(), kept_rows.sum()]
    np.testing.assert_allclose(trainings["validation_accuracy"], scores)
    np.testing.assert_allclose(trainings["validation_log_loss"], losses, rtol=1e-6)
    winner = refit if losses[1] <= losses[0] else first
    assert trainings["kept"].tolist() == [winner is first, winner is refit]
    np.testing.assert_array_equal(pruned.predict_proba(X), winner.predict_proba(X))
    np.testing.assert_array_equal(pruned.classes_, np.arange(10))


def test_prune_refit_keeps_enough_of_a_class_that_is_mostly_flagged_and_says_so(iris):
    X, y = iris
    y = np.array(["setosa", "versicolor", "virginica"], dtype=object)[y]
    rare = np.zeros(len(y), dtype=bool)
    rare[np.arange(0, 50, 8)] = True  # 7 setosa flowers labelled as a class of their own
    y[rare] = "rare"
    params = dict(max_epochs=10, batch_size=32, random_state=0)
    issues = LiLAWClassifier(**params).fit(X, y).label_issues_
    train, _, flagged = _rows(issues)
    assert (train & rare & ~flagged).sum() < 5 <= (train & rare).sum()
    message = r"class rare: \d+ of \d+ training rows flagged as label issues; pruning keeps"
    with _warnings() as messages:
        pruned = LiLAWClassifier(**params, label_issues_refit="prune").fit(X, y)
    assert _said(messages, message)
    pd.testing.assert_frame_equal(pruned.label_issues_, issues)
    np.testing.assert_array_equal(pruned.classes_, ["rare", "setosa", "versicolor", "virginica"])
    expected = sum(
        max((train & ~flagged & (y == label)).sum(), min(5, (train & (y == label)).sum()))
        for label in np.unique(y)
    )
    assert pruned.trainings_["n_train_rows"].tolist() == [train.sum(), expected]


def test_downweight_refit_multiplies_flagged_weights_by_label_quality(noisy_digits):
    X, y, _ = noisy_digits
    _RecordingWeights.trainings = []
    clf = _RecordingWeights(max_epochs=4, random_state=0, label_issues_refit="downweight")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        clf.fit(X, y, sample_weight=np.full(len(y), 2.0))
    issues = clf.label_issues_
    train, _, flagged = _rows(issues)
    expected = 2.0 * np.where(flagged, issues["label_quality"], 1.0)[train]
    first, refit = _RecordingWeights.trainings
    assert len(first) == len(refit) == 4 * int(np.ceil(train.sum() / 128))
    np.testing.assert_array_equal(np.concatenate(first[: len(first) // 4]), 2.0)
    np.testing.assert_allclose(
        np.sort(np.concatenate(refit[: len(refit) // 4])), np.sort(expected), rtol=1e-6
    )
    assert (expected < 2.0).sum() > 100


class _ConstantInSecondTraining(nn.Module):
    """Predicts class 0 for every input in the second training built."""

    built = 0

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(4, 3)
        type(self).built += 1
        self.constant = type(self).built == 2

    def forward(self, x):
        out = self.linear(x)
        if self.constant:
            return out * 0.0 + torch.tensor([5.0, 0.0, 0.0])
        return out


def test_a_refit_that_scores_lower_is_rolled_back_with_a_warning(iris):
    X, y = iris
    params = dict(max_epochs=20, batch_size=16, lr=0.01, random_state=0)
    _ConstantInSecondTraining.built = 0
    clf = LiLAWClassifier(_ConstantInSecondTraining, label_issues_refit="downweight", **params)
    message = (
        r"The refit \(downweight\) had a log-loss of \d+\.\d{3} on the 23 validation rows, "
        r"above the first training's 0\.\d{3}: the first training's model is kept"
    )
    with pytest.warns(UserWarning, match=message):
        clf.fit(X, y)
    _ConstantInSecondTraining.built = 0
    first = LiLAWClassifier(_ConstantInSecondTraining, **params).fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), first.predict_proba(X))
    assert clf.trainings_["kept"].tolist() == [True, False]
    assert clf.trainings_["validation_accuracy"][0] > 0.8
    assert len(clf.history) == 20 and len(np.unique(clf.predict(X))) == 3


def _ecg5000():
    folder = os.environ.get("SKLILAW_DATA")
    if not folder or not (Path(folder) / "ecg5000" / "ECG5000_TRAIN.txt").is_file():
        pytest.skip("needs $SKLILAW_DATA/ecg5000/ECG5000_TRAIN.txt")
    from sklilaw.datasets import load_ecg5000

    X, y = load_ecg5000(folder, return_X_y=True)
    return X.astype(np.float32), y


class _HeartbeatCNN(nn.Module):
    def __init__(self, n_classes=5):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Conv1d(1, 16, 7, padding=3),
            nn.ReLU(),
            nn.MaxPool1d(2),
            nn.Conv1d(16, 32, 5, padding=2),
            nn.ReLU(),
            nn.AdaptiveAvgPool1d(1),
            nn.Flatten(),
            nn.Linear(32, n_classes),
        )

    def forward(self, x):
        return self.layers(x.view(len(x), 1, -1))


def test_the_guard_prevents_the_majority_class_collapse_of_a_pruning_refit():
    """ECG5000's 500 training heartbeats at 40% symmetric noise, with a small 1-D CNN
    that is far from fitting after 50 epochs: pruning its label issues leaves a refit
    that predicts the majority class for every heartbeat. The guard keeps the first
    model, which tells two classes apart."""
    X, y = _ecg5000()
    y_noisy, _ = symmetric_label_noise(y, 0.4, random_state=0)
    params = dict(
        module=_HeartbeatCNN,
        criterion=GeneralizedCrossEntropy,
        early_stopping=True,
        max_epochs=50,
        random_state=0,
    )
    with torch_threads(1):
        first = LiLAWClassifier(**params).fit(X, y_noisy)
        train, valid, flagged = _rows(first.label_issues_)
        kept_rows = train & ~flagged
        unguarded = LiLAWClassifier(**params).fit(
            X[kept_rows], y_noisy[kept_rows], X_val=X[valid], y_val=y_noisy[valid]
        )
        with _warnings() as messages:
            guarded = LiLAWClassifier(**params, label_issues_refit="prune").fit(X, y_noisy)
    assert _said(messages, "the first training's model is kept")
    assert len(np.unique(unguarded.predict(X))) == 1  # the collapse
    assert len(np.unique(first.predict(X))) >= 2
    assert guarded.trainings_["kept"].tolist() == [True, False]
    np.testing.assert_array_equal(guarded.predict_proba(X), first.predict_proba(X))
    accuracy = guarded.trainings_["validation_accuracy"]
    assert accuracy[1] == pytest.approx(unguarded.score(X[valid], y_noisy[valid]))
    assert accuracy[0] > accuracy[1]
    assert guarded.score(X, y) > unguarded.score(X, y) + 0.1  # on the clean labels


# --------------------------------------------------------------- noise_handling='auto'
AUTO = dict(max_epochs=8, random_state=0, noise_handling="auto")


@pytest.fixture(scope="module")
def auto_fit(noisy_digits):
    X, y, _ = noisy_digits
    return LiLAWClassifier(**AUTO).fit(X, y)


def test_auto_trains_two_recipes_refits_the_better_and_keeps_the_best(noisy_digits, auto_fit):
    """Each training is the fit of its recipe written out with the public parameters;
    the model kept is the last of those of lowest validation log-loss."""
    X, y, _ = noisy_digits
    params = dict(max_epochs=8, random_state=0, early_stopping=True)
    candidates = [
        LiLAWClassifier(**params).fit(X, y),
        LiLAWClassifier(**params, criterion=GeneralizedCrossEntropy).fit(X, y),
    ]
    train, valid, _ = _rows(candidates[0].label_issues_)
    scores = [model.score(X[valid], y[valid]) for model in candidates]
    losses = [_log_loss(model, X[valid], y[valid]) for model in candidates]
    best = candidates[int(losses[1] <= losses[0])]
    kept_rows = train & ~best.label_issues_["is_label_issue"].to_numpy()
    criterion = best.criterion
    refit = LiLAWClassifier(**params, criterion=criterion).fit(
        X[kept_rows], y[kept_rows], X_val=X[valid], y_val=y[valid]
    )
    models = [*candidates, refit]
    scores.append(refit.score(X[valid], y[valid]))
    losses.append(_log_loss(refit, X[valid], y[valid]))
    trainings = auto_fit.trainings_
    assert trainings["training"].tolist() == [
        "early stopping",
        "GCE + early stopping",
        f"{'GCE + early stopping' if best is candidates[1] else 'early stopping'}, refit (prune)",
    ]
    np.testing.assert_allclose(trainings["validation_accuracy"], scores)
    np.testing.assert_allclose(trainings["validation_log_loss"], losses, rtol=1e-6)
    assert trainings["n_train_rows"].tolist() == [train.sum(), train.sum(), kept_rows.sum()]
    winner = 0  # a later training replaces the kept one where its log-loss is at most as high
    for i in (1, 2):
        if losses[i] <= losses[winner]:
            winner = i
    assert trainings["kept"].tolist() == [i == winner for i in range(3)]
    np.testing.assert_array_equal(auto_fit.predict_proba(X), models[winner].predict_proba(X))
    pd.testing.assert_frame_equal(auto_fit.label_issues_, best.label_issues_)
    assert auto_fit.get_params()["criterion"] is nn.CrossEntropyLoss  # parameters unchanged
    assert auto_fit.get_params(deep=False) == LiLAWClassifier(**AUTO).get_params(deep=False)
    # the public attributes say which configuration the kept model was trained with
    expected = {"early_stopping": True}
    if best is candidates[1]:
        expected["criterion"] = GeneralizedCrossEntropy
    assert auto_fit.best_params_ == expected
    assert type(auto_fit.criterion_.loss) is best.criterion
    configured = clone(auto_fit).set_params(noise_handling=None, **auto_fit.best_params_)
    if winner < 2:  # the kept model is that candidate's fit, not the refit's
        np.testing.assert_array_equal(
            configured.fit(X, y).predict_proba(X), auto_fit.predict_proba(X)
        )


def test_auto_is_reproducible_and_persists_its_recipe(noisy_digits, auto_fit, tmp_path):
    X, y, _ = noisy_digits
    again = LiLAWClassifier(**AUTO).fit(X, y)
    np.testing.assert_array_equal(again.predict_proba(X), auto_fit.predict_proba(X))
    pd.testing.assert_frame_equal(again.trainings_, auto_fit.trainings_)
    save_estimator(auto_fit, tmp_path / "auto.safetensors")
    loaded = load_estimator(tmp_path / "auto.safetensors")
    np.testing.assert_array_equal(loaded.predict_proba(X), auto_fit.predict_proba(X))
    pd.testing.assert_frame_equal(loaded.trainings_, auto_fit.trainings_)
    assert type(loaded.criterion_.loss) is type(auto_fit.criterion_.loss)


def test_auto_can_be_cloned_and_grid_searched(iris):
    X, y = iris
    estimator = LiLAWClassifier(max_epochs=3, random_state=0)
    search = GridSearchCV(estimator, {"noise_handling": [None, "auto"]}, cv=2).fit(X, y)
    assert search.cv_results_["param_noise_handling"].tolist() == [None, "auto"]
    assert search.best_estimator_.noise_handling in (None, "auto")
    trainings = 3 if search.best_params_["noise_handling"] == "auto" else 1
    assert len(search.best_estimator_.trainings_) == trainings
    cloned = clone(LiLAWClassifier(noise_handling="auto"))
    assert cloned.noise_handling == "auto"
    with pytest.raises(NotFittedError):
        check_is_fitted(cloned)


@pytest.mark.parametrize(
    "params, message",
    [
        (dict(label_issues_refit="prune"), "noise_handling='auto' chooses its own refit"),
        (dict(noise_handling="always"), "noise_handling"),
    ],
)
def test_bad_noise_handling_is_refused_before_training(iris, params, message):
    X, y = iris
    clf = LiLAWClassifier(max_epochs=2, noise_handling="auto").set_params(**params)
    with pytest.raises(ValueError, match=message):
        clf.fit(X, y)
    with pytest.raises(NotFittedError):
        check_is_fitted(clf)


@pytest.mark.parametrize("params", [dict(noise_handling="auto"), dict(label_issues_refit="prune")])
def test_noise_handling_refuses_to_continue_a_fitted_model_and_keeps_it(iris, params):
    X, y = iris
    clf = LiLAWClassifier(max_epochs=2, random_state=0, warm_start=True).fit(X, y)
    before = clf.predict_proba(X)
    clf.set_params(**params)
    with pytest.raises(ValueError, match="trains from scratch; it cannot continue a fitted"):
        clf.fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), before)


def test_a_refit_says_the_kept_model_trained_as_configured(iris):
    X, y = iris
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        clf = LiLAWClassifier(max_epochs=3, random_state=0, label_issues_refit="prune").fit(X, y)
    assert clf.best_params_ == {} and len(clf.trainings_) == 2


def test_every_training_starts_from_a_module_instance_as_given(iris):
    """The trainings of noise handling are new estimators, each with a copy of the
    module given as an instance: they start from its weights, and leave it as it is."""
    X, y = iris
    module = nn.Linear(4, 3)
    given = {k: v.clone() for k, v in module.state_dict().items()}
    auto = LiLAWClassifier(module, max_epochs=3, random_state=0, noise_handling="auto").fit(X, y)
    assert all(torch.equal(module.state_dict()[k], v) for k, v in given.items())
    assert auto.module_ is not module
    candidate = LiLAWClassifier(nn.Linear(4, 3), max_epochs=3, random_state=0, early_stopping=True)
    candidate.module.load_state_dict(given)
    first = candidate.fit(X, y)
    if auto.trainings_["kept"].tolist()[0]:
        np.testing.assert_array_equal(auto.predict_proba(X), first.predict_proba(X))
    assert auto.trainings_["validation_accuracy"][0] == pytest.approx(
        first.trainings_["validation_accuracy"][0]
    )
