"""Fits in threads and in processes at once give the models of fits one by one."""

import numpy as np
import pytest
import torch
from _threads import torch_threads
from joblib import Parallel, delayed
from sklearn.datasets import load_digits

from sklilaw import LiLAWClassifier

SEEDS = [0, 1, 2, 3]


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:200] / 16.0, y[:200]


def _estimators():
    # dropout draws from torch's random generator during training, not only at init
    return [
        LiLAWClassifier(
            max_epochs=2,
            batch_size=32,
            hidden_layer_sizes=(32,),
            module__dropout=0.2,
            random_state=seed,
        )
        for seed in SEEDS
    ]


def fit_on_one_thread(clf, X, y):
    """``clf.fit(X, y)`` on one torch thread, also in a worker process."""
    with torch_threads(1):
        return clf.fit(X, y)


@pytest.fixture(scope="module")
def one_by_one(digits):
    X, y = digits
    return [fit_on_one_thread(clf, X, y) for clf in _estimators()]


@pytest.mark.parametrize("backend", ["threading", "loky"])
def test_parallel_fits_equal_fits_one_by_one(digits, one_by_one, backend):
    X, y = digits
    torch.manual_seed(7)
    expected_next = torch.rand(2)
    torch.manual_seed(7)
    # the thread count is one setting for all threads of a process: set in this one for
    # the threads, and by each fit in its worker process for loky
    with torch_threads(1):
        fitted = Parallel(n_jobs=2, backend=backend)(
            delayed(fit_on_one_thread)(clf, X, y) for clf in _estimators()
        )
    for parallel, sequential in zip(fitted, one_by_one, strict=True):
        np.testing.assert_array_equal(parallel.predict_proba(X), sequential.predict_proba(X))
        assert (parallel.alpha_, parallel.beta_, parallel.delta_) == (
            sequential.alpha_,
            sequential.beta_,
            sequential.delta_,
        )
    assert not np.array_equal(fitted[0].predict_proba(X), fitted[1].predict_proba(X))
    assert torch.equal(torch.rand(2), expected_next)  # the caller's random state is untouched
