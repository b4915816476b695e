"""Searches spread over processes (joblib's loky, Dask, Ray) give the serial result."""

import joblib
import numpy as np
import pytest
import torch
from sklearn.datasets import load_iris, make_classification
from sklearn.model_selection import GridSearchCV

from sklilaw import LiLAWClassifier

X, y = load_iris(return_X_y=True)
X = X / X.max(axis=0)


def search(n_jobs=None):
    """A small grid search; ``n_jobs=None`` leaves the choice to the joblib backend."""
    estimator = LiLAWClassifier(max_epochs=5, batch_size=32, random_state=0)
    grid = {"lr": [1e-3, 1e-2], "hidden_layer_sizes": [(8,), (16,)]}
    return GridSearchCV(estimator, grid, cv=2, n_jobs=n_jobs).fit(X, y)


def assert_same_search(result, expected):
    for key in ("params", "split0_test_score", "split1_test_score", "rank_test_score"):
        assert list(result.cv_results_[key]) == list(expected.cv_results_[key]), key
    assert result.best_params_ == expected.best_params_
    best, best_expected = result.best_estimator_, expected.best_estimator_
    np.testing.assert_array_equal(best.predict(X), best_expected.predict(X))
    # bitwise equal on the CPU builds tried; torch does not promise it across thread counts
    np.testing.assert_allclose(best.predict_proba(X), best_expected.predict_proba(X), atol=1e-6)
    meta = [best.alpha_, best.beta_, best.delta_]
    np.testing.assert_allclose(
        meta, [best_expected.alpha_, best_expected.beta_, best_expected.delta_]
    )


@pytest.fixture(scope="module")
def serial_search():
    return search(n_jobs=1)


@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("dask.distributed")
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    )
    try:
        client = distributed.Client(cluster)
        try:
            yield client
        finally:
            client.close()
    finally:
        cluster.close()


def test_dask_search_equals_serial(dask_client, serial_search):
    with joblib.parallel_backend("dask"):
        result = search()
    assert_same_search(result, serial_search)


def test_dask_workers_run_torch_on_one_thread(dask_client):
    # the nanny sets OMP_NUM_THREADS=1 before it starts a worker, so torch starts with
    # one intra-op thread: workers do not oversubscribe the cores
    threads = dask_client.run(torch.get_num_threads)
    assert set(threads.values()) == {1}


def test_loky_search_equals_serial(serial_search):
    assert_same_search(search(n_jobs=2), serial_search)


def test_ray_search_equals_serial(serial_search, monkeypatch):
    ray = pytest.importorskip("ray")
    from ray.util.joblib import register_ray

    # no token file written to the home directory for a throw-away local instance
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        register_ray()
        with joblib.parallel_backend("ray"):
            result = search()
    finally:
        ray.shutdown()
    assert_same_search(result, serial_search)


@pytest.mark.parametrize("n_threads", [2, 3])
def test_fit_does_not_depend_on_torch_threads(n_threads):
    # wide enough layers that torch splits the matrix products over threads
    X_wide, y_wide = make_classification(1000, 100, n_informative=10, random_state=0)
    before = torch.get_num_threads()
    fits = []
    try:
        for threads in (1, n_threads):
            torch.set_num_threads(threads)
            model = LiLAWClassifier(hidden_layer_sizes=(256, 256), max_epochs=2, random_state=0)
            fits.append(model.fit(X_wide, y_wide))
    finally:
        torch.set_num_threads(before)
    one, many = fits
    np.testing.assert_allclose(one.predict_proba(X_wide), many.predict_proba(X_wide), atol=1e-6)
    np.testing.assert_allclose(
        [one.alpha_, one.beta_, one.delta_], [many.alpha_, many.beta_, many.delta_], atol=1e-6
    )
