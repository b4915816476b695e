"""LiLAWClassifier: the method, the scikit-learn contract, persistence and bad input."""

import pickle

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import sklearn
import torch
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_digits, load_iris
from sklearn.exceptions import NotFittedError
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import (
    GridSearchCV,
    StratifiedKFold,
    cross_val_score,
    cross_validate,
    train_test_split,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted
from skorch.callbacks import ProgressBar
from torch import nn

from sklilaw import MLP, FocalLoss, GeneralizedCrossEntropy, LiLAWClassifier, LiLAWLoss
from sklilaw.noise import symmetric_label_noise

FAST = dict(max_epochs=3, batch_size=32, random_state=0)


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X).astype(np.float64), y


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


# --------------------------------------------------------------------------- the method
def _independent_meta_recursion(logits, y, params, steps, lr, weight_decay):
    """alpha, beta, delta after ``steps`` meta steps on a fixed validation set, in float64.

    Written out from LILAW.md without the package's functions.
    """
    z = logits - logits.max(axis=1, keepdims=True)
    s = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    a = s[np.arange(len(y)), y]
    m = s.max(axis=1)
    losses = -np.log(a)
    alpha, beta, delta = params
    for _ in range(steps):
        w_a = 1 / (1 + np.exp(-(alpha * a - m)))
        w_b = 1 / (1 + np.exp(beta * a - m))
        w_d = np.exp(-((delta * a - m) ** 2) / 2)
        g_alpha = np.mean(w_a * (1 - w_a) * a * losses)
        g_beta = np.mean(-w_b * (1 - w_b) * a * losses)
        g_delta = np.mean(-w_d * (delta * a - m) * a * losses)
        alpha -= lr * (g_alpha + weight_decay * alpha)
        beta -= lr * (g_beta + weight_decay * beta)
        delta -= lr * (g_delta + weight_decay * delta)
        alpha = max(alpha, 1.0)
        delta = max(delta, beta)
    return alpha, beta, delta


@pytest.mark.parametrize("warmup_epochs", [0, 1])
def test_meta_steps_follow_the_paper_recursion_with_a_frozen_model(digits, warmup_epochs):
    X, y = digits
    X_train, X_val, y_train, y_val = train_test_split(
        X, y, test_size=60, random_state=0, stratify=y
    )
    X_train, y_train = X_train[:300], y_train[:300]
    clf = LiLAWClassifier(
        lr=0.0,  # the model stays at its initialisation: only alpha, beta, delta move
        batch_size=64,  # the whole validation set (60 rows) is every meta batch
        max_epochs=3,
        warmup_epochs=warmup_epochs,
        meta_lr=0.5,  # large, so that the clamps and the recursion really matter
        meta_weight_decay=0.01,
        alpha_init=1.2,
        beta_init=2.5,
        delta_init=2.0,
        random_state=0,
    )
    initial = clone(clf).set_params(max_epochs=1, meta_lr=0.0)
    clf.fit(X_train, y_train, X_val=X_val, y_val=y_val)
    initial.fit(X_train, y_train, X_val=X_val, y_val=y_val)
    for p, q in zip(clf.module_.parameters(), initial.module_.parameters(), strict=True):
        assert torch.equal(p, q)  # lr=0 froze the model

    clf.module_.eval()
    with torch.no_grad():
        logits = clf.module_(torch.tensor(X_val, dtype=torch.float32)).double().numpy()
    steps = (3 - warmup_epochs) * int(np.ceil(300 / 64))
    expected = _independent_meta_recursion(
        logits, np.searchsorted(clf.classes_, y_val), (1.2, 2.5, 2.0), steps, 0.5, 0.01
    )
    np.testing.assert_allclose((clf.alpha_, clf.beta_, clf.delta_), expected, rtol=1e-5)
    assert clf.alpha_ >= 1.0 and clf.delta_ >= clf.beta_


def _independent_softmax(logits):
    z = logits - logits.max(axis=1, keepdims=True)
    return np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)


def _independent_lilaw_weight(a, m, alpha, beta, delta):
    """``W_alpha + W_delta + W_beta`` of LILAW.md, in numpy."""
    w_easy = 1 / (1 + np.exp(-(alpha * a - m)))
    w_hard = 1 / (1 + np.exp(beta * a - m))
    w_moderate = np.exp(-((delta * a - m) ** 2) / 2)
    return w_easy + w_moderate + w_hard


def _frozen_outputs(clf, X):
    """``a``, ``m`` and the cross-entropy of the fitted (frozen) model on every row."""
    clf.module_.eval()
    with torch.no_grad():
        logits = clf.module_(torch.tensor(X, dtype=torch.float32)).double().numpy()
    s = _independent_softmax(logits)
    target = np.searchsorted(clf.classes_, clf.label_issues_["given_label"].to_numpy())
    a = s[np.arange(len(target)), target]
    return a, s.max(axis=1), -np.log(a)


@pytest.mark.parametrize("sample_weight", [None, "random"])
def test_training_loss_is_the_mean_of_lilaw_weight_times_loss(iris, sample_weight):
    """With the model and alpha, beta, delta frozen, every epoch's training loss is
    mean(w(a, m) * sample_weight * CE) over the training rows, computed here in numpy."""
    X, y = iris
    weights = None if sample_weight is None else np.random.RandomState(0).uniform(0.2, 2, len(y))
    params = dict(FAST, lr=0.0, meta_lr=0.0, alpha_init=1.5, beta_init=2.5, delta_init=3.0)
    clf = LiLAWClassifier(**params).fit(X, y, sample_weight=weights)
    twin = LiLAWClassifier(**params, warmup_epochs=FAST["max_epochs"])
    twin.fit(X, y, sample_weight=weights)
    train = ~clf.label_issues_["in_validation"].to_numpy()
    a, m, losses = _frozen_outputs(clf, X)
    w = np.ones(len(y)) if weights is None else weights
    lilaw = _independent_lilaw_weight(a, m, 1.5, 2.5, 3.0)
    expected = np.mean((lilaw * w * losses)[train])
    np.testing.assert_allclose(clf.history[:, "train_loss"], expected, rtol=1e-5)
    expected_mean_weight = np.mean(lilaw[train])
    np.testing.assert_allclose(clf.history[:, "mean_weight"], expected_mean_weight, rtol=1e-5)
    # without re-weighting: the plain mean, which differs
    unweighted = np.mean((w * losses)[train])
    np.testing.assert_allclose(twin.history[:, "train_loss"], unweighted, rtol=1e-5)
    assert abs(expected - unweighted) > 0.1 * unweighted


@pytest.mark.parametrize("detach_weights", [True, False])
def test_one_training_step_follows_the_gradient_of_the_weighted_loss(iris, detach_weights):
    """One full-batch SGD step (lr 1) moves the module's parameters by minus the gradient
    of mean(w * CE) over the training rows, with ``w`` a constant (the default) or, as in
    the authors' code, differentiated through the softmax."""
    X, y = iris
    params = dict(
        max_epochs=1,
        batch_size=len(y),
        optimizer=torch.optim.SGD,
        lr=1.0,
        weight_decay=0.0,
        random_state=0,
        detach_weights=detach_weights,
    )
    clf = LiLAWClassifier(**params).fit(X, y)
    start = LiLAWClassifier(**dict(params, lr=0.0)).fit(X, y).module_
    start.zero_grad()
    train = ~clf.label_issues_["in_validation"].to_numpy()
    inputs = torch.tensor(X[train], dtype=torch.float32)
    target = torch.as_tensor(np.searchsorted(clf.classes_, y[train]))
    s = torch.softmax(start(inputs).double(), dim=1)
    s_weights = s.detach() if detach_weights else s
    a, m = s_weights[torch.arange(len(target)), target], s_weights.max(dim=1).values
    w = torch.sigmoid(2 * a - m) + torch.sigmoid(-(2 * a - m)) + torch.exp(-((2 * a - m) ** 2) / 2)
    loss = (w * -torch.log(s[torch.arange(len(target)), target])).mean()
    loss.backward()
    for before, after in zip(start.parameters(), clf.module_.parameters(), strict=True):
        np.testing.assert_allclose(
            (before - after).detach().numpy(), before.grad.numpy(), rtol=1e-3, atol=1e-6
        )
    assert clf.criterion_.detach_weights is detach_weights


def test_sample_weights_of_validation_rows_weigh_the_meta_gradient(iris):
    """The meta recursion of LILAW.md with each validation loss multiplied by its row's
    sample weight, on a frozen model whose validation split is one meta batch."""
    X, y = iris
    weights = np.random.RandomState(1).uniform(0.0, 3.0, len(y))
    params = dict(lr=0.0, batch_size=200, max_epochs=4, meta_lr=2.0, random_state=0)
    clf = LiLAWClassifier(**params).fit(X, y, sample_weight=weights)
    unweighted = LiLAWClassifier(**params).fit(X, y)
    valid = clf.label_issues_["in_validation"].to_numpy()
    assert valid.sum() == 23 and np.array_equal(valid, unweighted.label_issues_["in_validation"])
    a, m, losses = _frozen_outputs(clf, X)
    a, m, losses = a[valid], m[valid], (weights * losses)[valid]
    alpha = beta = delta = 2.0
    for _ in range(4):  # one training batch per epoch, one meta step after each
        w_easy = 1 / (1 + np.exp(-(alpha * a - m)))
        w_hard = 1 / (1 + np.exp(beta * a - m))
        w_moderate = np.exp(-((delta * a - m) ** 2) / 2)
        grad = [
            np.mean(w_easy * (1 - w_easy) * a * losses),
            np.mean(-w_hard * (1 - w_hard) * a * losses),
            np.mean(-w_moderate * (delta * a - m) * a * losses),
        ]
        alpha, beta, delta = (
            p - 2.0 * (g + 0.01 * p) for p, g in zip((alpha, beta, delta), grad, strict=True)
        )
        alpha, delta = max(alpha, 1.0), max(delta, beta)
    np.testing.assert_allclose((clf.alpha_, clf.beta_, clf.delta_), (alpha, beta, delta), rtol=1e-5)
    moved = np.abs(np.subtract((clf.alpha_, clf.beta_, clf.delta_), 2.0))
    differs = np.abs(
        np.subtract(
            (clf.alpha_, clf.beta_, clf.delta_),
            (unweighted.alpha_, unweighted.beta_, unweighted.delta_),
        )
    )
    assert (differs > 0.01 * moved).any()  # the weights changed the recursion


def test_the_meta_step_passes_its_gradient_through_the_reduction_hook(iris):
    """Data-parallel subclasses reduce the meta-gradient over processes through
    ``_reduce_meta_gradient``: every meta step goes through it."""
    X, y = iris
    received = []

    class Reducing(LiLAWClassifier):
        def _reduce_meta_gradient(self, summand):
            received.append(summand.clone())
            return summand * torch.tensor([-1.0, -1.0, -1.0, 1.0])  # the gradient negated

    reducing = Reducing(**FAST).fit(X, y)
    plain = LiLAWClassifier(**FAST).fit(X, y)
    assert len(received) == FAST["max_epochs"] * int(np.ceil(127 / FAST["batch_size"]))
    assert all(summand.shape == (4,) and summand[3] > 0 for summand in received)
    assert reducing.alpha_ != plain.alpha_


def test_get_loss_gets_the_batch_and_whether_it_trains(iris):
    """skorch's contract for a subclass that overrides get_loss: the batch's X and
    training=True in the training step, training=False in the validation pass."""
    X, y = iris
    seen = set()

    class Recording(LiLAWClassifier):
        def get_loss(self, y_pred, y_true, X=None, training=False, sample_weight=None):
            seen.add((X is not None and len(X) == len(y_true), training))
            return super().get_loss(y_pred, y_true, X, training, sample_weight)

    Recording(**FAST).fit(X, y)
    assert seen == {(True, True), (True, False)}


def test_one_meta_step_per_training_batch_cycling_through_the_validation_set(iris):
    X, y = iris
    seen = []

    class Recording(LiLAWClassifier):
        def meta_step(self, batch, **fit_params):
            seen.append(batch[0][:, 0].tolist())  # identify rows by their first feature
            super().meta_step(batch, **fit_params)

    X_val = np.c_[np.arange(50.0), X[:50, 1:]]  # 50 validation rows, first feature = row id
    clf = Recording(**{**FAST, "batch_size": 16, "max_epochs": 2})
    clf.fit(X, y, X_val=X_val, y_val=y[:50])
    assert len(seen) == 2 * int(np.ceil(150 / 16))  # one per training batch, 20 in all
    # every pass of 4 batches (16+16+16+2) covers the 50 validation rows once, reshuffled
    passes = [sum(seen[i : i + 4], []) for i in range(0, 16, 4)]
    assert all(sorted(p) == list(range(50)) for p in passes)
    assert passes[0] != passes[1]


def test_warmup_trains_unweighted_without_meta_steps(iris):
    X, y = iris
    clf = LiLAWClassifier(**{**FAST, "max_epochs": 2}, warmup_epochs=2).fit(X, y)
    assert (clf.alpha_, clf.beta_, clf.delta_) == (2.0, 2.0, 2.0)
    assert clf.history[:, "mean_weight"] == [1.0, 1.0]


def test_meta_parameters_never_reach_the_model_optimizer(iris):
    X, y = iris
    clf = LiLAWClassifier(**FAST).fit(X, y)
    meta = clf.criterion_.meta_params
    assert not meta.requires_grad
    optimized = [p for group in clf.optimizer_.param_groups for p in group["params"]]
    assert all(p is not meta for p in optimized)
    assert {id(p) for p in optimized} == {id(p) for p in clf.module_.parameters()}
    assert clf.optimizer_.param_groups[0]["weight_decay"] == 1e-4
    assert clf.alpha_ != 2.0  # the meta steps did move them


def test_training_loss_is_weighted_and_validation_loss_is_not(iris):
    X, y = iris
    clf = LiLAWClassifier(**FAST).fit(X, y)
    for epoch in clf.history:
        batches = [b for b in epoch["batches"] if "lilaw_weight" in b]
        assert all(0 < b["lilaw_weight"] < 3 for b in batches)
        sizes = [b["train_batch_size"] for b in batches]
        expected = np.average([b["lilaw_weight"] for b in batches], weights=sizes)
        assert epoch["mean_weight"] == pytest.approx(expected)
    assert clf.history[-1, "alpha"] == pytest.approx(clf.alpha_)
    assert clf.history[-1, "delta"] == pytest.approx(clf.delta_)


def test_sample_weight_multiplies_the_lilaw_weight(iris):
    X, y = iris
    frozen = dict(FAST, lr=0.0, meta_lr=0.0)
    plain = LiLAWClassifier(**frozen).fit(X, y)
    doubled = LiLAWClassifier(**frozen).fit(X, y, sample_weight=np.full(len(y), 2.0))
    np.testing.assert_allclose(
        doubled.history[:, "train_loss"], 2 * np.array(plain.history[:, "train_loss"]), rtol=1e-6
    )
    ones = LiLAWClassifier(**FAST).fit(X, y, sample_weight=np.ones(len(y)))
    np.testing.assert_array_equal(
        ones.predict_proba(X), LiLAWClassifier(**FAST).fit(X, y).predict_proba(X)
    )


def test_user_validation_set_replaces_the_split(iris):
    X, y = iris
    X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=30, random_state=0)
    clf = LiLAWClassifier(**FAST).fit(X_train, y_train, X_val=X_val, y_val=y_val)
    first = clf.history[0, "batches"]
    assert sum(b.get("train_batch_size", 0) for b in first) == len(X_train)
    assert sum(b.get("valid_batch_size", 0) for b in first) == len(X_val)


def test_internal_split_is_stratified_and_sized_by_validation_fraction(iris):
    X, y = iris
    clf = LiLAWClassifier(**FAST, validation_fraction=0.2).fit(X, y)
    first = clf.history[0, "batches"]
    assert sum(b.get("valid_batch_size", 0) for b in first) == 30
    assert sum(b.get("train_batch_size", 0) for b in first) == 120


def _validation_rows(X, y, **fit_kwargs):
    """Row ids (first feature) of the internal validation split, seen in the meta step."""
    rows = []

    class Recording(LiLAWClassifier):
        def meta_step(self, batch, **fit_params):
            rows.extend(batch[0][:, 0].long().tolist())
            raise KeyboardInterrupt  # one meta batch holds the whole split; stop there

    Recording(max_epochs=1, batch_size=128, random_state=fit_kwargs.pop("seed")).fit(
        X, y, **fit_kwargs
    )
    return np.array(rows)


def test_sensitive_features_put_every_group_in_the_validation_split():
    rng = np.random.RandomState(0)
    n = 400
    X = np.c_[np.arange(n), rng.normal(size=(n, 3))]
    y = np.r_[np.zeros(200, int), np.ones(200, int)]
    group = np.array(["majority"] * n, dtype=object)
    group[:8] = "small"  # 8 samples of class 0
    group[200:208] = "small"  # 8 samples of class 1
    group[208] = "single"  # a cell of one sample: stratified with its class
    misses_without_groups = 0
    for seed in range(10):
        with_groups = _validation_rows(X, y, seed=seed, sensitive_features=group)
        assert len(with_groups) == 60
        for label in (0, 1):  # 8 * 0.15 = 1.2: at least one of each small cell
            assert np.sum((group[with_groups] == "small") & (y[with_groups] == label)) >= 1
        plain = _validation_rows(X, y, seed=seed)
        misses_without_groups += sum(
            not np.any((group[plain] == "small") & (y[plain] == label)) for label in (0, 1)
        )
    assert misses_without_groups > 0  # class-only stratification does leave them out


def test_sensitive_features_as_intersections_and_through_a_pipeline(iris):
    X, y = iris
    groups = pd.DataFrame({"a": np.arange(150) % 2, "b": np.arange(150) % 3 == 0})
    cell_of_row = list(zip(y, groups["a"], groups["b"], strict=True))  # 12 cells, 8 to 17 rows
    pipe = make_pipeline(StandardScaler(), LiLAWClassifier(**FAST))

    def cells_in_validation(**fit_params):
        in_validation = pipe.fit(X, y, **fit_params)[-1].label_issues_["in_validation"]
        return {cell for cell, held_out in zip(cell_of_row, in_validation, strict=True) if held_out}

    assert cells_in_validation() < set(cell_of_row)  # by class only, this split misses a cell
    assert cells_in_validation(lilawclassifier__sensitive_features=groups) == set(cell_of_row)
    assert pipe.score(X, y) > 0.5


def test_the_default_stops_before_it_memorises_flipped_labels():
    """Trained as configured by default, the network stops early on the (noisy)
    validation loss: it reproduces far fewer of the wrong training labels than the
    paper's fixed-epoch training, and predicts the clean test labels better."""
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
    y_noisy, flipped = symmetric_label_noise(y_train, 0.3, random_state=0)
    default = LiLAWClassifier(random_state=0).fit(X_train, y_noisy)
    fixed = LiLAWClassifier(early_stopping=False, random_state=0).fit(X_train, y_noisy)
    assert len(default.history) < default.max_epochs == len(fixed.history)

    def memorised(model):  # the share of the flipped labels it reproduces
        return np.mean(model.predict(X_train[flipped]) == y_noisy[flipped])

    assert memorised(fixed) > 0.5 > 0.1 > memorised(default)
    assert default.score(X_test, y_test) > fixed.score(X_test, y_test) + 0.1


def test_early_stopping_restores_the_best_epoch(digits):
    X, y = digits
    X_train, X_val, y_train, y_val = train_test_split(
        X, y, test_size=0.2, random_state=0, stratify=y
    )
    clf = LiLAWClassifier(
        hidden_layer_sizes=(256,),
        lr=0.01,
        early_stopping=True,
        n_iter_no_change=2,
        max_epochs=200,
        random_state=0,
    ).fit(X_train, y_train, X_val=X_val, y_val=y_val)
    valid_losses = clf.history[:, "valid_loss"]
    assert len(valid_losses) < 200
    proba = clf.predict_proba(X_val)
    restored_loss = -np.mean(np.log(proba[np.arange(len(y_val)), y_val]))
    assert restored_loss == pytest.approx(min(valid_losses), rel=1e-4)
    assert restored_loss < valid_losses[-1]


# ------------------------------------------------------------ the scikit-learn contract
@pytest.mark.parametrize(
    "labels",
    [np.array(["setosa", "versicolor", "virginica"]), np.array([3, 7, 11]), np.array([-5, 0, 5])],
    ids=["strings", "ints-not-from-0", "negative-ints"],
)
def test_any_label_type_round_trips(iris, labels):
    X, y = iris
    clf = LiLAWClassifier(**{**FAST, "max_epochs": 30}).fit(X, labels[y])
    np.testing.assert_array_equal(clf.classes_, labels)
    predicted = clf.predict(X)
    assert set(predicted) <= set(labels) and predicted.dtype == labels.dtype
    assert clf.score(X, labels[y]) > 0.8
    assert clf.difficulty(X, labels[y])["difficulty"].notna().all()


def test_binary_float32_and_dataframe_input():
    data = load_breast_cancer(as_frame=True)
    X = pd.DataFrame(StandardScaler().fit_transform(data.data), columns=data.data.columns)
    y = data.target.map({0: "malignant", 1: "benign"})
    clf = LiLAWClassifier(**FAST).fit(X, y)
    np.testing.assert_array_equal(clf.feature_names_in_, X.columns)
    assert clf.n_features_in_ == 30
    proba = clf.predict_proba(X.astype(np.float32))
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert clf.score(X, y) > 0.9
    frame = clf.difficulty(X.iloc[10:20], y.iloc[10:20])
    assert list(frame.index) == list(range(10, 20))


@pytest.mark.parametrize("matrix", [sp.csr_matrix, sp.csc_matrix, sp.coo_matrix])
def test_sparse_input_stays_sparse_until_a_batch_is_made_dense(iris, matrix, monkeypatch):
    """The model of sparse input is that of the dense array, and no more than a batch of
    rows is ever made dense: in fit, and in predict."""
    X, y = iris
    dense = LiLAWClassifier(**FAST).fit(X, y)
    made_dense = []
    to_dense = sp.csr_matrix.toarray

    def recording_toarray(self, *args, **kwargs):
        made_dense.append(self.shape[0])
        return to_dense(self, *args, **kwargs)

    monkeypatch.setattr(sp.csr_matrix, "toarray", recording_toarray)
    sparse = LiLAWClassifier(**FAST).fit(matrix(X), y)
    np.testing.assert_array_equal(sparse.predict_proba(matrix(X)), dense.predict_proba(X))
    np.testing.assert_array_equal(sparse.predict_log_proba(matrix(X)), dense.predict_log_proba(X))
    assert made_dense and max(made_dense) <= FAST["batch_size"]


def test_same_random_state_same_model(iris):
    X, y = iris
    first = LiLAWClassifier(**FAST).fit(X, y)
    second = LiLAWClassifier(**FAST).fit(X, y)
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))
    assert (first.alpha_, first.beta_, first.delta_) == (second.alpha_, second.beta_, second.delta_)
    other = LiLAWClassifier(**{**FAST, "random_state": 1}).fit(X, y)
    assert not np.array_equal(first.predict_proba(X), other.predict_proba(X))


def test_seeding_leaves_torch_global_random_state_alone(iris):
    X, y = iris
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    LiLAWClassifier(**FAST).fit(X, y)
    assert torch.equal(torch.rand(3), expected)


def test_pipeline_grid_search_and_cross_validation():
    X, y = load_breast_cancer(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), LiLAWClassifier(**FAST))
    search = GridSearchCV(
        pipe,
        {
            "lilawclassifier__meta_lr": [0.0, 0.01],
            "lilawclassifier__hidden_layer_sizes": [(16,), (32,)],
        },
        cv=3,
        n_jobs=2,
        error_score="raise",
    ).fit(X, y)
    assert search.best_score_ > 0.9
    assert len(search.cv_results_["params"]) == 4
    assert search.best_estimator_.score(X, y) > 0.9
    scores = cross_val_score(pipe, X, y, cv=3)
    assert scores.shape == (3,) and scores.min() > 0.85


def test_custom_module_class_with_routed_parameters_and_focal_loss(digits):
    X, y = digits

    class CNN(nn.Module):
        def __init__(self, channels=4):
            super().__init__()
            self.conv = nn.Conv2d(1, channels, 3, padding=1)
            self.head = nn.Linear(channels * 64, 10)

        def forward(self, x):
            return self.head(torch.relu(self.conv(x.view(-1, 1, 8, 8))).flatten(1))

    clf = LiLAWClassifier(
        CNN, module__channels=6, criterion=FocalLoss, criterion__gamma=1.0, **FAST
    ).fit(X, y)
    assert clf.module_.conv.out_channels == 6
    assert isinstance(clf.criterion_.loss, FocalLoss) and clf.criterion_.loss.gamma == 1.0
    assert clf.score(X, y) > 0.8
    assert clf.get_params()["module__channels"] == 6
    assert clone(clf).get_params()["module__channels"] == 6


@pytest.mark.parametrize("criterion", [nn.CrossEntropyLoss, FocalLoss, GeneralizedCrossEntropy])
def test_shipped_and_torch_losses_train(iris, criterion):
    X, y = iris
    clf = LiLAWClassifier(criterion=criterion, **{**FAST, "max_epochs": 30}).fit(X, y)
    assert isinstance(clf.criterion_.loss, criterion)
    assert clf.criterion_.loss.reduction == "none"
    assert clf.score(X, y) > 0.8


def test_module_instance_and_criterion_instance(iris):
    X, y = iris
    module = MLP(4, 3, hidden_layer_sizes=(8,))
    clf = LiLAWClassifier(module, criterion=nn.CrossEntropyLoss(reduction="none"), **FAST).fit(X, y)
    assert clf.module_ is module
    assert isinstance(clf.criterion_, LiLAWLoss)


def test_default_mlp_follows_hidden_layer_sizes_and_module_params(iris):
    X, y = iris
    clf = LiLAWClassifier(hidden_layer_sizes=(7, 5), module__dropout=0.1, **FAST).fit(X, y)
    linear = [layer for layer in clf.module_ if isinstance(layer, nn.Linear)]
    assert [(layer.in_features, layer.out_features) for layer in linear] == [(4, 7), (7, 5), (5, 3)]
    assert any(isinstance(layer, nn.Dropout) for layer in clf.module_)
    single = LiLAWClassifier(hidden_layer_sizes=9, **FAST).fit(X, y)
    assert single.module_[0].out_features == 9


def test_skorch_callbacks_and_partial_fit(iris, capsys):
    X, y = iris
    clf = LiLAWClassifier(**FAST, callbacks=[ProgressBar()], verbose=1).fit(X, y)
    out = capsys.readouterr().out
    assert "alpha" in out and "valid_loss" in out
    alpha = clf.alpha_
    clf.partial_fit(X, y)
    assert len(clf.history) == 6 and clf.alpha_ != alpha

    first = LiLAWClassifier(**FAST).partial_fit(X[y < 2], y[y < 2], classes=[0, 1, 2])
    np.testing.assert_array_equal(first.classes_, [0, 1, 2])
    first.partial_fit(X, y)
    assert first.predict_proba(X).shape == (150, 3)


def test_difficulty_matches_the_weights_of_the_fitted_model(iris):
    X, y = iris
    clf = LiLAWClassifier(**FAST).fit(X, y)
    frame = clf.difficulty(X, y)
    assert list(frame.columns) == [
        "label_quality",
        "p_max",
        "w_easy",
        "w_moderate",
        "w_hard",
        "lilaw_weight",
        "difficulty",
    ]
    proba = clf.predict_proba(X)
    a, m = proba[np.arange(len(y)), y], proba.max(axis=1)
    np.testing.assert_allclose(frame["label_quality"], a, rtol=1e-5)
    np.testing.assert_allclose(frame["p_max"], m, rtol=1e-5)
    np.testing.assert_allclose(frame["w_easy"], 1 / (1 + np.exp(-(clf.alpha_ * a - m))), rtol=1e-5)
    np.testing.assert_allclose(frame["w_hard"], 1 / (1 + np.exp(clf.beta_ * a - m)), rtol=1e-5)
    np.testing.assert_allclose(
        frame["w_moderate"], np.exp(-((clf.delta_ * a - m) ** 2) / 2), rtol=1e-5
    )
    np.testing.assert_allclose(
        frame["lilaw_weight"], frame[["w_easy", "w_moderate", "w_hard"]].sum(axis=1), rtol=1e-6
    )
    dominant = frame[["w_easy", "w_moderate", "w_hard"]].to_numpy().argmax(axis=1)
    assert list(frame["difficulty"]) == list(np.array(["easy", "moderate", "hard"])[dominant])
    with pytest.raises(ValueError, match="not seen in fit"):
        clf.difficulty(X[:2], [0, 5])


# ---------------------------------------------------------------------------- persistence
def test_clone_and_pickle(iris):
    X, y = iris
    clf = LiLAWClassifier(**FAST, module__dropout=0.0).fit(X, y)
    copy = clone(clf)
    with pytest.raises(NotFittedError):
        check_is_fitted(copy)
    assert copy.get_params()["module__dropout"] == 0.0
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    assert (restored.alpha_, restored.beta_, restored.delta_) == (clf.alpha_, clf.beta_, clf.delta_)
    assert restored.history[:, "alpha"] == clf.history[:, "alpha"]


def test_save_params_and_load_params_keep_alpha_beta_delta(iris, tmp_path):
    X, y = iris
    clf = LiLAWClassifier(**FAST).fit(X, y)
    files = dict(
        f_params=tmp_path / "params.pt",
        f_criterion=tmp_path / "criterion.pt",
        f_history=tmp_path / "history.json",
    )
    clf.save_params(**files)
    # a new estimator needs the data's shape and classes: a one-epoch fit gives them
    new = LiLAWClassifier(**{**FAST, "max_epochs": 1, "random_state": 1}).fit(X, y)
    assert new.alpha_ != clf.alpha_
    new.load_params(**files)
    assert (new.alpha_, new.beta_, new.delta_) == (clf.alpha_, clf.beta_, clf.delta_)
    np.testing.assert_array_equal(new.predict_proba(X), clf.predict_proba(X))
    assert new.history[:, "alpha"] == clf.history[:, "alpha"]


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is usable here")
@pytest.mark.parametrize("optimizer", [torch.optim.LBFGS, torch.optim.Rprop, torch.optim.SGD])
def test_optimizers_with_and_without_weight_decay_train(iris, optimizer):
    """weight_decay reaches the optimizers that have one, and only those."""
    X, y = iris
    clf = LiLAWClassifier(**FAST, optimizer=optimizer, lr=0.05).fit(X, y)
    decay = clf.optimizer_.param_groups[0].get("weight_decay")
    assert decay == (1e-4 if optimizer is torch.optim.SGD else None)
    assert clf.score(X, y) > 0.5


def test_float64_default_dtype_trains_and_predicts_in_float64(iris):
    """After torch.set_default_dtype(torch.float64) the default network is built in
    float64, and the data follow it."""
    X, y = iris
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        clf = LiLAWClassifier(**{**FAST, "max_epochs": 20}).fit(X, y)
        assert next(clf.module_.parameters()).dtype == torch.float64
        proba = clf.predict_proba(X)
    finally:
        torch.set_default_dtype(default)
    assert clf.score(X, y) > 0.8  # it learns
    np.testing.assert_array_equal(clf.predict_proba(X), proba)  # and after the switch back


def test_fit_trains_inside_no_grad_and_inference_mode(iris):
    X, y = iris
    expected = LiLAWClassifier(**FAST).fit(X, y).predict_proba(X)
    with torch.no_grad():
        quiet = LiLAWClassifier(**FAST).fit(X, y)
    with torch.inference_mode():
        inference = LiLAWClassifier(**FAST).fit(X, y)
        inference.partial_fit(X, y)
    np.testing.assert_array_equal(quiet.predict_proba(X), expected)
    assert len(inference.history) == 2 * FAST["max_epochs"]


def test_a_later_partial_fit_with_other_classes_is_refused(iris):
    X, y = iris
    clf = LiLAWClassifier(**FAST).partial_fit(X[y < 2], y[y < 2], classes=[0, 1, 2])
    before = clf.predict_proba(X)
    with pytest.raises(ValueError, match=r"classes=\[0, 1\] is not the same as on the first"):
        clf.partial_fit(X, y, classes=[0, 1])
    np.testing.assert_array_equal(clf.predict_proba(X), before)
    clf.partial_fit(X, y, classes=[2, 1, 0])  # the same classes, in any order


def test_predict_log_proba_for_cross_val_predict(iris):
    X, y = iris
    clf = LiLAWClassifier(**FAST).fit(X, y)
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X)), clf.predict_proba(X))
    from sklearn.model_selection import cross_val_predict

    log_proba = cross_val_predict(LiLAWClassifier(**FAST), X, y, cv=3, method="predict_log_proba")
    assert log_proba.shape == (150, 3) and np.all(log_proba <= 0)


def test_nan_in_X_val_names_X_val(iris):
    X, y = iris
    X_val = X[:20].copy()
    X_val[3, 1] = np.nan
    with pytest.raises(ValueError, match="Input X_val contains NaN"):
        LiLAWClassifier(**FAST).fit(X, y, X_val=X_val, y_val=y[:20])


def test_an_unusable_device_is_named_before_training(iris):
    X, y = iris
    clf = LiLAWClassifier(**FAST, device="cuda")
    with pytest.raises(ValueError, match="device='cuda' cannot be used with this torch"):
        clf.fit(X, y)
    with pytest.raises(NotFittedError):
        check_is_fitted(clf)
    fitted = LiLAWClassifier(**FAST).fit(X, y)
    before = fitted.predict_proba(X)
    with pytest.raises(ValueError, match="device='cuda' cannot be used"):
        fitted.set_params(device="cuda").partial_fit(X, y)
    with pytest.raises(ValueError, match="device='cuda' cannot be used"):
        fitted.set_params(device="cuda").predict(X)
    np.testing.assert_array_equal(fitted.set_params(device="cpu").predict_proba(X), before)


def test_the_meta_device_is_refused_before_training(iris):
    X, y = iris
    clf = LiLAWClassifier(**FAST, device="meta")
    with pytest.raises(ValueError, match="device='meta' holds no data"):
        clf.fit(X, y)
    with pytest.raises(NotFittedError):
        check_is_fitted(clf)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda(iris):
    X, y = iris
    clf = LiLAWClassifier(**FAST, device="cuda").fit(X, y)
    assert clf.criterion_.meta_params.is_cuda
    assert clf.predict_proba(X).shape == (150, 3)
    assert clf.difficulty(X, y).shape == (150, 7)


# ------------------------------------------------------------------------------ bad input
def _bad_inputs():
    X, y = load_iris(return_X_y=True)
    nan = X.copy()
    nan[3, 1] = np.nan
    inf = X.copy()
    inf[0, 0] = np.inf
    tiny_class = np.r_[y[:100], 2]  # class 2 has one sample
    X_tiny = X[:101]
    return [
        ("NaN", (nan, y), {}, {}, "NaN"),
        ("inf", (inf, y), {}, {}, "infinity"),
        ("one class", (X[:50], y[:50]), {}, {}, "1 class"),
        ("class of one sample", (X_tiny, tiny_class), {}, {}, "Class 2 has only 1 sample"),
        ("split too small", (X[::10], y[::10]), {"validation_fraction": 0.05}, {}, "one per class"),
        ("fraction 0", (X, y), {"validation_fraction": 0.0}, {}, "validation_fraction"),
        ("fraction 1", (X, y), {"validation_fraction": 1.0}, {}, "validation_fraction"),
        ("fraction > 1", (X, y), {"validation_fraction": 1.5}, {}, "validation_fraction"),
        ("lengths", (X, y[:-1]), {}, {}, "inconsistent numbers of samples"),
        ("X_val alone", (X, y), {}, {"X_val": X[:10]}, "X_val and y_val"),
        ("y_val alone", (X, y), {}, {"y_val": y[:10]}, "X_val and y_val"),
        ("y_val unknown", (X, y), {}, {"X_val": X[:2], "y_val": [0, 9]}, "not seen in fit"),
        ("X_val features", (X, y), {}, {"X_val": X[:3, :2], "y_val": y[:3]}, "features"),
        ("X_val lengths", (X, y), {}, {"X_val": X[:3], "y_val": y[:2]}, "X_val has 3 samples"),
        (
            "negative weight",
            (X, y),
            {},
            {"sample_weight": -np.ones(150)},
            "Negative values.*sample_weight",
        ),
        (
            "weight length",
            (X, y),
            {},
            {"sample_weight": np.ones(10)},
            r"sample_weight.shape == \(10,\)",
        ),
        (
            "one weighted class",
            (X, y),
            {},
            {"sample_weight": (y == 0).astype(float)},
            "at least 2 classes",
        ),
        ("unknown parameter", (X, y), {"alpha": 3.0}, {}, "unexpected argument"),
        ("bad parameter", (X, y), {"meta_lr": -1.0}, {}, "meta_lr"),
        ("hidden sizes", (X, y), {"hidden_layer_sizes": (10, 0)}, {}, "hidden_layer_sizes"),
        ("regression target", (X, X[:, 0]), {}, {}, "Unknown label type"),
        ("groups length", (X, y), {}, {"sensitive_features": np.ones(10)}, "has 10 rows"),
        (
            "groups with X_val",
            (X, y),
            {},
            {"X_val": X[:5], "y_val": y[:5], "sensitive_features": y},
            "no use with X_val",
        ),
        (
            "too many cells",
            (X[:40], np.arange(40) % 2),
            {"validation_fraction": 0.1},
            {"sensitive_features": (np.arange(40) // 2) % 4},  # 8 cells, 4 validation rows
            "one per class x group cell",
        ),
    ]


@pytest.mark.parametrize(
    "name, data, params, fit_kwargs, message",
    _bad_inputs(),
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_bad_input_raises_before_training_and_leaves_the_estimator_unfitted(
    name, data, params, fit_kwargs, message
):
    clf = LiLAWClassifier(**FAST, **params)
    with pytest.raises(ValueError, match=message):
        clf.fit(*data, **fit_kwargs)
    with pytest.raises(NotFittedError):
        check_is_fitted(clf)
    assert not hasattr(clf, "classes_") and not hasattr(clf, "n_features_in_")
    assert clf.history_ is None


def test_a_failed_refit_keeps_the_previous_model(iris):
    X, y = iris
    clf = LiLAWClassifier(**FAST).fit(X, y)
    before = clf.predict_proba(X)
    with pytest.raises(ValueError, match="1 class"):
        clf.fit(X[:50], y[:50])
    np.testing.assert_array_equal(clf.predict_proba(X), before)
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])


def test_module_with_wrong_output_shape_is_refused_before_training(iris):
    X, y = iris
    clf = LiLAWClassifier(MLP, module__n_features=4, module__n_classes=2, **FAST)
    with pytest.raises(ValueError, match=r"logits of shape \(2, 3\)"):
        clf.fit(X, y)
    with pytest.raises(NotFittedError):
        check_is_fitted(clf)


class _OneLogit(nn.Module):
    def __init__(self, n_features=30):
        super().__init__()
        self.linear = nn.Linear(n_features, 1)

    def forward(self, x):
        return self.linear(x)


def _binary():
    X, y = load_breast_cancer(return_X_y=True)
    return ((X - X.mean(0)) / X.std(0)).astype(np.float32), y


def test_one_logit_with_bce_is_refused_before_training_and_says_why():
    X, y = _binary()
    clf = LiLAWClassifier(_OneLogit, criterion=nn.BCEWithLogitsLoss, **FAST)
    with pytest.raises(ValueError, match="A binary problem needs two logits .* BCEWithLogitsLoss"):
        clf.fit(X, y)
    with pytest.raises(NotFittedError):
        check_is_fitted(clf)


def test_a_loss_that_cannot_take_class_indices_is_refused_before_training():
    X, y = _binary()
    clf = LiLAWClassifier(criterion=nn.BCEWithLogitsLoss, **FAST)  # two logits, BCE
    with pytest.raises(ValueError, match="The criterion BCEWithLogitsLoss cannot take logits"):
        clf.fit(X, y)
    assert not hasattr(clf, "history_") or clf.history_ is None


def test_reducing_criterion_is_refused(iris):
    X, y = iris
    clf = LiLAWClassifier(**FAST, criterion=nn.CrossEntropyLoss, criterion__reduction="mean")
    with pytest.raises(ValueError, match="reduction='none'"):
        clf.fit(X, y)


class _NaNAtCall(nn.Module):
    def __init__(self, nan_at=5):
        super().__init__()
        self.linear = nn.Linear(4, 3)
        self.nan_at = nan_at
        self.training_calls = 0

    def forward(self, x):
        out = self.linear(x)
        if self.training:
            self.training_calls += 1
            if self.training_calls == self.nan_at:
                return out * float("nan")
        return out


def test_non_finite_loss_names_epoch_and_batch(iris):
    X, y = iris
    clf = LiLAWClassifier(_NaNAtCall, **FAST)  # 4 training batches per epoch
    with pytest.raises(ValueError, match="Non-finite training loss .* at epoch 2, batch 1"):
        clf.fit(X, y)
    with pytest.raises(NotFittedError):
        check_is_fitted(clf)


def test_epoch_without_training_batches_does_not_break_the_history(iris):
    X, y = iris  # 127 training rows, all dropped as an incomplete batch of 200
    clf = LiLAWClassifier(**{**FAST, "batch_size": 200}, iterator_train__drop_last=True).fit(X, y)
    assert clf.history[:, "train_batch_count"] == [0, 0, 0]
    assert "mean_weight" not in clf.history[-1]
    assert (clf.alpha_, clf.beta_, clf.delta_) == (2.0, 2.0, 2.0)


# ------------------------------------------------------------------------- label issues
def test_label_issues_find_injected_label_errors(digits):
    X, y = digits
    y_noisy, flipped = symmetric_label_noise(y, 0.3, random_state=0)
    frame = pd.DataFrame(X, index=np.arange(len(y)) + 1000)
    clf = LiLAWClassifier(max_epochs=20, random_state=0).fit(frame, y_noisy)
    issues = clf.label_issues_
    assert list(issues.columns) == [
        "is_label_issue",
        "label_quality",
        "given_label",
        "predicted_label",
        "difficulty",
        "lilaw_weight",
        "in_validation",
    ]
    assert list(issues.index) == list(frame.index)  # one row per row of X, in order
    np.testing.assert_array_equal(issues["given_label"], y_noisy)
    assert issues["in_validation"].sum() == int(np.ceil(0.15 * len(y)))
    # chance would give an AUROC of 0.5 and a precision of 0.3
    assert roc_auc_score(flipped, -issues["label_quality"]) > 0.95
    flagged = issues["is_label_issue"].to_numpy()
    assert flipped[flagged].mean() > 0.9 and flagged[flipped].mean() > 0.5
    # where the given label is judged wrong, the prediction is mostly the clean label
    assert np.mean(issues["predicted_label"][flagged] == y[flagged]) > 0.9


def test_label_issues_of_validation_rows_are_out_of_sample(iris):
    X, y = iris
    clf = LiLAWClassifier(**FAST).fit(X, y)
    issues = clf.label_issues_
    rows = issues["in_validation"].to_numpy()
    proba = clf.predict_proba(X[rows])
    np.testing.assert_allclose(
        issues["label_quality"][rows], proba[np.arange(rows.sum()), y[rows]], rtol=1e-6
    )
    np.testing.assert_array_equal(
        issues["predicted_label"][rows], clf.classes_[proba.argmax(axis=1)]
    )


def test_with_a_given_validation_set_every_row_of_X_is_judged_as_training_data(iris):
    X, y = iris
    clf = LiLAWClassifier(**FAST).fit(X, y, X_val=X[:20], y_val=y[:20])
    assert len(clf.label_issues_) == 150 and not clf.label_issues_["in_validation"].any()


class _NaNInSecondTraining(nn.Module):
    built = 0

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(4, 3)
        type(self).built += 1

    def forward(self, x):
        out = self.linear(x)
        return out * float("nan") if self.training and type(self).built == 2 else out


def test_a_failing_refit_leaves_the_estimator_unfitted(iris):
    X, y = iris
    _NaNInSecondTraining.built = 0
    clf = LiLAWClassifier(_NaNInSecondTraining, label_issues_refit="downweight", **FAST)
    with pytest.raises(ValueError, match="Non-finite training loss .* epoch 1, batch 1"):
        clf.fit(X, y)
    assert _NaNInSecondTraining.built == 2  # the first training went through
    with pytest.raises(NotFittedError):
        check_is_fitted(clf)
    assert not hasattr(clf, "label_issues_")


# ------------------------------------------------------------------ metadata routing
def test_routed_sample_weight_in_cross_validate_gives_the_models_of_direct_fits(iris):
    X, y = iris
    w = np.random.RandomState(0).uniform(0.5, 2.0, len(y))
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    with sklearn.config_context(enable_metadata_routing=True):
        clf = LiLAWClassifier(**FAST).set_fit_request(sample_weight=True)
        clf.set_score_request(sample_weight=False)
        routed = cross_validate(clf, X, y, params={"sample_weight": w}, cv=cv)["test_score"]
    direct = [
        LiLAWClassifier(**FAST).fit(X[tr], y[tr], sample_weight=w[tr]).score(X[te], y[te])
        for tr, te in cv.split(X, y)
    ]
    np.testing.assert_array_equal(routed, direct)
    unweighted = cross_validate(LiLAWClassifier(**FAST), X, y, cv=cv)["test_score"]
    assert not np.array_equal(routed, unweighted)


def test_routed_sensitive_features_in_a_searched_pipeline_match_the_unrouted_search(iris):
    X, y = iris
    groups = np.random.RandomState(1).randint(0, 2, len(y))
    grid = {"lilawclassifier__meta_lr": [0.0, 0.05]}
    with sklearn.config_context(enable_metadata_routing=True):
        clf = LiLAWClassifier(**FAST).set_fit_request(sensitive_features=True)
        pipe = make_pipeline(StandardScaler(), clf)
        routed = GridSearchCV(pipe, grid, cv=2).fit(X, y, sensitive_features=groups)
    pipe = make_pipeline(StandardScaler(), LiLAWClassifier(**FAST))
    plain = GridSearchCV(pipe, grid, cv=2).fit(X, y, lilawclassifier__sensitive_features=groups)
    np.testing.assert_array_equal(
        routed.cv_results_["mean_test_score"], plain.cv_results_["mean_test_score"]
    )
    np.testing.assert_array_equal(
        routed.best_estimator_.predict_proba(X), plain.best_estimator_.predict_proba(X)
    )


def test_routed_and_unrouted_randomized_searches_give_the_same_models(iris):
    from sklearn.model_selection import RandomizedSearchCV

    X, y = iris
    w = np.random.RandomState(2).uniform(0.5, 2.0, len(y))
    search = dict(param_distributions={"lr": [1e-3, 1e-2]}, n_iter=2, cv=2, random_state=0)
    with sklearn.config_context(enable_metadata_routing=True):
        clf = LiLAWClassifier(**FAST).set_fit_request(sample_weight=True)
        clf.set_score_request(sample_weight=True)  # as the search without routing scores
        routed = RandomizedSearchCV(clf, **search).fit(X, y, sample_weight=w)
    unrouted = RandomizedSearchCV(LiLAWClassifier(**FAST), **search).fit(X, y, sample_weight=w)
    np.testing.assert_array_equal(
        routed.cv_results_["mean_test_score"], unrouted.cv_results_["mean_test_score"]
    )
    np.testing.assert_array_equal(
        routed.best_estimator_.predict_proba(X), unrouted.best_estimator_.predict_proba(X)
    )
