"""The data of a fit: checked once, whatever the number of trainings; one parser of groups."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_iris
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import validate_data

import sklilaw._classifier
import sklilaw._fit_data
import sklilaw._validation
from sklilaw import LiLAWClassifier
from sklilaw.fairness import fairness_report

FAST = dict(max_epochs=2, batch_size=32, random_state=0)


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.mark.parametrize(
    "params, trainings",
    [({}, 1), (dict(label_issues_refit="downweight"), 2), (dict(noise_handling="auto"), 3)],
)
def test_a_fit_checks_its_parameters_and_its_data_once(iris, monkeypatch, params, trainings):
    X, y = iris
    calls = {"data": 0, "parameters": 0}

    def counting_validate_data(*args, **kwargs):
        calls["data"] += 1
        return validate_data(*args, **kwargs)

    real_constraints = sklilaw._classifier.validate_parameter_constraints

    def counting_constraints(*args, **kwargs):
        calls["parameters"] += 1
        return real_constraints(*args, **kwargs)

    monkeypatch.setattr(sklilaw._fit_data, "validate_data", counting_validate_data)
    monkeypatch.setattr(sklilaw._validation, "validate_data", counting_validate_data)
    monkeypatch.setattr(sklilaw._classifier, "validate_parameter_constraints", counting_constraints)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # a refit that is not kept says so
        clf = LiLAWClassifier(**FAST, **params).fit(X, y, X_val=X[:30], y_val=y[:30])
    assert len(clf.trainings_) == trainings
    assert calls == {"data": 2, "parameters": 1}  # X, then X_val


@pytest.mark.parametrize("params", [{}, dict(noise_handling="auto")])
def test_a_fit_never_writes_a_parameter(iris, params):
    X, y = iris
    clf = LiLAWClassifier(**FAST, **params)
    before = clf.get_params(deep=False)
    clf.fit(X, y)
    after = clf.get_params(deep=False)
    assert after.keys() == before.keys()
    assert all(after[k] is before[k] for k in before)


def test_fit_takes_sensitive_features_as_the_fairness_report_does(iris):
    """One parser of groups: the column names of X that fairness_report takes also
    stratify fit's split, with the same result as the column's values."""
    X, y = iris
    frame = pd.DataFrame(X, columns=list("abcd")).assign(group=np.arange(150) % 3)
    binary = (y > 0).astype(int)
    by_name = LiLAWClassifier(**FAST).fit(frame, binary, sensitive_features="group")
    by_values = LiLAWClassifier(**FAST).fit(frame, binary, sensitive_features=frame["group"])
    pd.testing.assert_frame_equal(by_name.label_issues_, by_values.label_issues_)
    fairness_report(by_name, frame, binary, sensitive_features="group")
    with pytest.raises(ValueError, match=r"names unknown columns \['sex'\]"):
        LiLAWClassifier(**FAST).fit(frame, binary, sensitive_features="sex")
    with pytest.raises(ValueError, match="names columns, but X is not a DataFrame"):
        LiLAWClassifier(**FAST).fit(X, binary, sensitive_features="group")


def test_float32_rows_that_all_train_are_used_in_place_not_copied():
    import torch

    X = np.arange(40, dtype=np.float32).reshape(20, 2)
    y, rows = np.arange(20) % 2, np.arange(20)
    source = sklilaw._fit_data._InMemory(X, "cpu")
    in_place = source.take(rows, y, dtype=torch.float32).tensors[0]
    assert in_place.data_ptr() == X.ctypes.data
    # a subset, another dtype, a read-only array: copies, X untouched
    assert source.take(rows[:10], y[:10], dtype=torch.float32).tensors[0].data_ptr() != (
        X.ctypes.data
    )
    assert source.take(rows, y, dtype=torch.float64).tensors[0].dtype == torch.float64
    X.flags.writeable = False
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # torch warns about non-writable arrays
        copied = source.take(rows, y, dtype=torch.float32).tensors[0]
    assert copied.data_ptr() != X.ctypes.data and torch.equal(copied, torch.from_numpy(X.copy()))
