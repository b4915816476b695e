"""Fitting on a torch Dataset: split by index, batches streamed, same model as on arrays."""

import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.datasets import load_digits
from torch import nn

from sklilaw import LiLAWClassifier

X, y = load_digits(return_X_y=True)
X = (X[:600] / 16).astype(np.float32)
y = y[:600]


class Pairs(torch.utils.data.Dataset):
    """Items ``(x, y)``, or ``x`` alone when ``y`` is None; counts the items read."""

    def __init__(self, X, y=None):
        self.X, self.y = X, y
        self.reads = 0

    def __len__(self):
        return len(self.X)

    def __getitem__(self, i):
        self.reads += 1
        return self.X[i] if self.y is None else (self.X[i], self.y[i])


def fit(data, labels, **params):
    return LiLAWClassifier(max_epochs=3, random_state=0, **params).fit(data, labels)


def assert_same_model(streamed, in_memory):
    np.testing.assert_array_equal(streamed.classes_, in_memory.classes_)
    np.testing.assert_array_equal(streamed.predict_proba(X), in_memory.predict_proba(X))
    assert (streamed.alpha_, streamed.beta_, streamed.delta_) == (
        in_memory.alpha_,
        in_memory.beta_,
        in_memory.delta_,
    )
    assert streamed.history[:, "valid_loss"] == in_memory.history[:, "valid_loss"]
    assert streamed.label_issues_.equals(in_memory.label_issues_)


def test_fit_on_dataset_equals_fit_on_arrays():
    # same split, same batches in the same order: the same model, bit for bit
    dataset = Pairs(X, y)
    streamed = fit(dataset, None)
    assert_same_model(streamed, fit(X, y))
    assert streamed.n_features_in_ == X.shape[1]
    assert len(streamed.label_issues_) == len(X)
    np.testing.assert_array_equal(streamed.predict_proba(dataset), streamed.predict_proba(X))


def test_labels_given_for_a_dataset_of_inputs():
    labels = np.array(["abcdefghij"[k] for k in y])
    streamed = fit(Pairs(X), labels)
    assert_same_model(streamed, fit(X, labels))
    assert set(streamed.predict(Pairs(X))) <= set(labels)


def test_labels_are_read_once_before_training():
    dataset = Pairs(X, y)
    clf = LiLAWClassifier(max_epochs=1, random_state=0)
    clf.fit(dataset, y)
    reads_with_y = dataset.reads
    dataset.reads = 0
    clf.fit(dataset, None)
    assert dataset.reads == reads_with_y + len(X)


def test_clean_validation_dataset():
    clf = LiLAWClassifier(max_epochs=2, random_state=0)
    clf.fit(Pairs(X[:500], y[:500]), None, X_val=Pairs(X[500:], y[500:]))
    assert len(clf.label_issues_) == 500
    assert not clf.label_issues_["in_validation"].any()


def test_prune_refit_on_a_dataset():
    # the second training reads some of the dataset's rows; kept or rolled back (with a
    # warning), it is the same as on arrays
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        streamed = fit(Pairs(X, y), None, label_issues_refit="prune")
        in_memory = fit(X, y, label_issues_refit="prune")
    assert_same_model(streamed, in_memory)
    pd.testing.assert_frame_equal(streamed.trainings_, in_memory.trainings_)
    assert len(streamed.trainings_) == 2


class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(nn.Conv2d(1, 4, 3), nn.Flatten(), nn.Linear(4 * 6 * 6, 10))

    def forward(self, x):
        return self.layers(x)


def test_dataset_of_images():
    images = Pairs(X.reshape(-1, 1, 8, 8), y)
    with pytest.raises(ValueError, match="module=None builds an MLP for samples that are vectors"):
        fit(images, None)
    clf = fit(images, None, module=SmallCNN)
    assert not hasattr(clf, "n_features_in_")
    assert clf.predict(images).shape == (len(X),)


class Stream(torch.utils.data.IterableDataset):
    def __iter__(self):
        yield from zip(X, y, strict=True)


@pytest.mark.parametrize(
    "data, labels, kwargs, error, match",
    [
        (Pairs(X), y[:-1], {}, ValueError, "X has 600 samples but y has 599"),
        (Pairs(X), np.zeros(len(X)), {}, ValueError, "needs at least 2 classes"),
        (Pairs(X[:3]), [0, 1, 1], {}, ValueError, "Class 0 has only 1 sample"),
        (Pairs(X), None, {}, ValueError, "must then be \\(x, y\\) pairs"),
        (Pairs(X[:0]), None, {}, ValueError, "X is an empty Dataset"),
        (Stream(), None, {}, TypeError, "map-style torch Dataset"),
        (Pairs(X, y), None, {"X_val": X, "y_val": y}, TypeError, "X_val must be a Dataset"),
        (Pairs(X, y), None, {"X_val": Pairs(X), "y_val": y[:5]}, ValueError, "X_val has 600"),
    ],
)
def test_bad_input_raises_before_training(data, labels, kwargs, error, match):
    clf = LiLAWClassifier(max_epochs=1)
    with pytest.raises(error, match=match):
        clf.fit(data, labels, **kwargs)
    assert not clf.initialized_


def test_predict_checks_the_number_of_features():
    clf = fit(Pairs(X, y), None)
    with pytest.raises(ValueError, match="have 10 features"):
        clf.predict(Pairs(X[:, :10]))


def test_read_only_memory_map(tmp_path):
    np.save(tmp_path / "X.npy", X)
    mapped = np.load(tmp_path / "X.npy", mmap_mode="r")
    assert_same_model(fit(Pairs(mapped, y), None), fit(X, y))


def test_group_aware_split_on_a_dataset():
    groups = np.arange(len(X)) % 3
    streamed = LiLAWClassifier(max_epochs=2, random_state=0)
    streamed.fit(Pairs(X, y), None, sensitive_features=groups)
    in_memory = LiLAWClassifier(max_epochs=2, random_state=0)
    in_memory.fit(X, y, sensitive_features=groups)
    assert_same_model(streamed, in_memory)
