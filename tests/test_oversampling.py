"""OversampledClassifier: imbalanced-learn's over-samplers in front of LiLAW."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import cross_val_score
from sklearn.preprocessing import StandardScaler

from sklilaw import LiLAWClassifier, OversampledClassifier

imblearn = pytest.importorskip("imblearn")
from imblearn.over_sampling import SMOTE, RandomOverSampler  # noqa: E402
from imblearn.pipeline import make_pipeline  # noqa: E402
from imblearn.under_sampling import RandomUnderSampler  # noqa: E402

X, y = load_breast_cancer(return_X_y=True)
X = StandardScaler().fit_transform(X).astype(np.float32)
FAST = dict(max_epochs=4, random_state=0)


class _Recording(SMOTE):
    """SMOTE that keeps the rows it was given, to see which rows it drew from."""

    def fit_resample(self, X, y):
        type(self).seen = np.asarray(X).copy()
        return super().fit_resample(X, y)


def _rows(A):
    return [row.tobytes() for row in np.ascontiguousarray(A)]


def test_smote_draws_from_the_training_rows_and_the_estimator_validates_on_the_rest():
    clf = OversampledClassifier(_Recording(random_state=0), LiLAWClassifier(**FAST), random_state=0)
    clf.fit(X, y)
    seen = set(_rows(_Recording.seen))
    held_out = np.array([row not in seen for row in _rows(X)])
    # the sampler saw real rows only, and none of the validation rows
    assert len(seen) == len(_Recording.seen) == len(y) - np.ceil(0.15 * len(y))
    assert sum(held_out) == np.ceil(0.15 * len(y))
    issues = clf.estimator_.label_issues_
    # trained on the sampler's output: the real training rows, then the synthetic ones
    assert len(issues) == len(clf.synthetic_) == len(seen) + clf.synthetic_.sum()
    np.testing.assert_array_equal(issues["synthetic"].to_numpy(), clf.synthetic_)
    assert not clf.synthetic_[: len(seen)].any() and clf.synthetic_[len(seen) :].all()
    assert not issues["in_validation"].any()  # the validation rows came as X_val
    # balanced: the minority class grown to the majority's
    counts = np.bincount(issues["given_label"].to_numpy())
    assert counts[0] == counts[1] > np.bincount(y[~held_out]).min()
    assert "mean_weight_synthetic" in clf.estimator_.history[-1]
    np.testing.assert_array_equal(clf.classes_, [0, 1])
    np.testing.assert_array_equal(clf.predict(X), clf.estimator_.predict(X))
    np.testing.assert_array_equal(clf.predict_proba(X), clf.estimator_.predict_proba(X))


def test_the_same_random_states_give_the_same_model():
    def fit():
        return OversampledClassifier(
            SMOTE(random_state=0), LiLAWClassifier(**FAST), random_state=1
        ).fit(X, y)

    np.testing.assert_array_equal(fit().predict_proba(X), fit().predict_proba(X))


def test_in_an_imblearn_pipeline_and_cross_validation():
    model = make_pipeline(
        StandardScaler(),
        OversampledClassifier(RandomOverSampler(random_state=0), LiLAWClassifier(**FAST)),
    )
    scores = cross_val_score(model, X, y, cv=3)
    assert scores.min() > 0.8
    assert clone(model).get_params()["oversampledclassifier__sampler"].random_state == 0


def test_a_sampler_that_drops_rows_is_refused_before_training():
    clf = OversampledClassifier(RandomUnderSampler(random_state=0), LiLAWClassifier(**FAST))
    with pytest.raises(ValueError, match="must return the original rows first"):
        clf.fit(X, y)
    with pytest.raises(NotFittedError):
        clf.predict(X)


def test_bad_parameters_are_named():
    with pytest.raises(ValueError, match="'sampler' parameter .* must be an object implementing"):
        OversampledClassifier(StandardScaler()).fit(X, y)
    with pytest.raises(ValueError, match="'validation_fraction' parameter"):
        OversampledClassifier(SMOTE(), validation_fraction=1.5).fit(X, y)
