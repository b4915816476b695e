"""Synthetic rows: ``fit(..., synthetic=mask)`` and oversampling with real validation rows."""

import numpy as np
import pytest
import sklearn
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import StratifiedKFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

from sklilaw import LiLAWClassifier

X, y = load_digits(return_X_y=True)
X = (X[:500] / 16).astype(np.float32)
y = y[:500]
# every fourth row stands for a synthetic one: a noisy copy of a real row, half of them
# labelled wrong, so that LiLAW has something to weigh down
SYNTHETIC = np.arange(len(y)) % 4 == 0
X[SYNTHETIC] += (
    np.random.RandomState(0).normal(scale=0.3, size=X[SYNTHETIC].shape).astype(np.float32)
)
WRONG = np.flatnonzero(SYNTHETIC)[::2]
y = y.copy()
y[WRONG] = (y[WRONG] + 1 + np.arange(len(WRONG)) % 9) % 10
FAST = dict(max_epochs=4, random_state=0)


def test_the_validation_split_holds_real_rows_only():
    clf = LiLAWClassifier(**FAST).fit(X, y, synthetic=SYNTHETIC)
    issues = clf.label_issues_
    np.testing.assert_array_equal(issues["synthetic"].to_numpy(), SYNTHETIC)
    validation = issues["in_validation"].to_numpy()
    assert validation.any() and not (validation & SYNTHETIC).any()
    # validation_fraction of the real rows, every class represented
    n_real = (~SYNTHETIC).sum()
    assert validation.sum() == np.ceil(clf.validation_fraction * n_real)
    assert set(y[validation]) == set(y)
    # every synthetic row trains
    assert (~validation[SYNTHETIC]).all()


def test_an_all_real_mask_gives_the_model_of_no_mask():
    masked = LiLAWClassifier(**FAST).fit(X, y, synthetic=np.zeros(len(y), dtype=bool))
    plain = LiLAWClassifier(**FAST).fit(X, y)
    np.testing.assert_array_equal(masked.predict_proba(X), plain.predict_proba(X))
    assert "synthetic" not in plain.label_issues_
    assert "mean_weight_synthetic" not in plain.history[-1]
    assert (
        masked.history[-1, "mean_weight_synthetic"] != masked.history[-1, "mean_weight_synthetic"]
    )


def test_the_history_records_the_mean_weight_of_each_origin():
    clf = LiLAWClassifier(warmup_epochs=1, **FAST).fit(X, y, synthetic=SYNTHETIC)
    real = clf.history[:, "mean_weight_real"]
    synthetic = clf.history[:, "mean_weight_synthetic"]
    assert real[0] == synthetic[0] == 1.0  # warm-up: unit weights
    # the same batches' weights, split by origin: their row-weighted mean is the epoch's
    n_real = (~clf.label_issues_["in_validation"] & ~clf.label_issues_["synthetic"]).sum()
    n_synthetic = SYNTHETIC.sum()
    for epoch in range(1, len(clf.history)):
        both = (n_real * real[epoch] + n_synthetic * synthetic[epoch]) / (n_real + n_synthetic)
        assert both == pytest.approx(clf.history[epoch, "mean_weight"], rel=1e-5)
    assert synthetic[-1] != real[-1]


def test_label_issues_find_the_wrong_labels_among_the_synthetic_rows():
    clf = LiLAWClassifier(max_epochs=10, random_state=0).fit(X, y, synthetic=SYNTHETIC)
    issues = clf.label_issues_
    wrong = np.isin(np.arange(len(y)), WRONG)
    flagged = issues["is_label_issue"].to_numpy()
    # by origin, as a user reads them: the wrong synthetic labels stand out
    assert flagged[wrong].mean() > 2 * flagged[SYNTHETIC & ~wrong].mean()
    assert flagged[wrong].mean() > 4 * flagged[~SYNTHETIC].mean()
    by_origin = issues.groupby("synthetic")["lilaw_weight"].mean()
    np.testing.assert_allclose(by_origin[True], issues["lilaw_weight"][SYNTHETIC].mean())


@pytest.mark.parametrize(
    "mask, error, message",
    [
        (SYNTHETIC.astype(int), TypeError, "synthetic must be a boolean mask"),
        (SYNTHETIC[:-1], ValueError, r"one value per row of X \(500\), got shape \(499,\)"),
        (np.c_[SYNTHETIC, SYNTHETIC], ValueError, r"got shape \(500, 2\)"),
        (np.ones(500, dtype=bool), ValueError, "marks all 500 rows as synthetic"),
    ],
)
def test_a_bad_mask_is_refused_before_training(mask, error, message):
    clf = LiLAWClassifier(**FAST)
    with pytest.raises(error, match=message):
        clf.fit(X, y, synthetic=mask)
    with pytest.raises(sklearn.exceptions.NotFittedError):
        check_is_fitted(clf)


def test_too_few_real_rows_for_the_split_name_the_real_rows():
    mask = np.ones(len(y), dtype=bool)
    mask[np.flatnonzero(y == 3)[:1]] = False  # one real row of class 3
    mask[np.flatnonzero(y == 4)[:5]] = False
    with pytest.raises(ValueError, match="Class 3 has only 1 real sample"):
        LiLAWClassifier(**FAST).fit(X, y, synthetic=mask)
    mask[np.flatnonzero(y == 3)[:4]] = False
    mask[np.flatnonzero(y == 5)[:4]] = False  # 13 real rows of 3 classes
    with pytest.raises(ValueError, match="splits 13 real samples into 11 for training and 2"):
        LiLAWClassifier(validation_fraction=0.15, **FAST).fit(X, y, synthetic=mask)


def test_a_failed_refit_keeps_the_previous_model():
    clf = LiLAWClassifier(**FAST).fit(X, y)
    before = clf.predict_proba(X)
    with pytest.raises(TypeError, match="synthetic must be a boolean mask"):
        clf.fit(X, y, synthetic=list("ab") * 250)
    np.testing.assert_array_equal(clf.predict_proba(X), before)


def test_the_mask_with_sensitive_features_stratifies_the_real_rows():
    groups = np.arange(len(y)) % 2
    clf = LiLAWClassifier(**FAST).fit(X, y, synthetic=SYNTHETIC, sensitive_features=groups)
    validation = clf.label_issues_["in_validation"].to_numpy()
    assert not (validation & SYNTHETIC).any()
    real = ~SYNTHETIC
    for group in (0, 1):  # each group's share of the real rows, within one row per class
        share = (validation & (groups == group)).sum() / validation.sum()
        assert share == pytest.approx((real & (groups == group)).sum() / real.sum(), abs=0.05)


def test_the_mask_in_a_pipeline_and_with_noise_handling():
    pipe = make_pipeline(StandardScaler(), LiLAWClassifier(noise_handling="auto", **FAST))
    pipe.fit(X, y, lilawclassifier__synthetic=SYNTHETIC)
    clf = pipe[-1]
    # every training of 'auto' uses the first one's split: real validation rows
    assert not (clf.label_issues_["in_validation"] & clf.label_issues_["synthetic"]).any()
    assert "mean_weight_synthetic" in clf.history[-1]
    assert len(clf.trainings_) == 3


def test_the_mask_routed_through_cross_validate_gives_the_models_of_direct_fits():
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    with sklearn.config_context(enable_metadata_routing=True):
        clf = LiLAWClassifier(**FAST).set_fit_request(synthetic=True)
        routed = cross_validate(clf, X, y, params={"synthetic": SYNTHETIC}, cv=cv)
    direct = [
        LiLAWClassifier(**FAST)
        .fit(X[train], y[train], synthetic=SYNTHETIC[train])
        .score(X[test], y[test])
        for train, test in cv.split(X, y)
    ]
    np.testing.assert_array_equal(routed["test_score"], direct)


class _Pairs(torch.utils.data.Dataset):
    def __len__(self):
        return len(X)

    def __getitem__(self, i):
        return X[i], y[i]


def test_the_mask_with_a_dataset_gives_the_model_of_arrays():
    streamed = LiLAWClassifier(**FAST).fit(_Pairs(), None, synthetic=SYNTHETIC)
    in_memory = LiLAWClassifier(**FAST).fit(X, y, synthetic=SYNTHETIC)
    np.testing.assert_array_equal(streamed.predict_proba(X), in_memory.predict_proba(X))
    assert streamed.label_issues_.equals(in_memory.label_issues_)
    assert (
        streamed.history[:, "mean_weight_synthetic"]
        == in_memory.history[:, "mean_weight_synthetic"]
    )
