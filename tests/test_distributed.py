"""Searches spread over processes (joblib's loky, Dask, Ray) give the serial result.

How torch splits a sum over its threads changes the order of its float additions, and
so the last bits of a fit: every search here runs torch on one thread in every process
(the serial one too, and the refit of the best estimator in this process), and so gives
the serial result to the bit.
"""

import joblib
import numpy as np
import pytest
import torch
from _threads import torch_threads
from sklearn.datasets import load_iris, make_classification
from sklearn.model_selection import GridSearchCV

from sklilaw import LiLAWClassifier

X, y = load_iris(return_X_y=True)
X = X / X.max(axis=0)


def worker_threads():
    """torch's thread counts in the workers of the joblib backend in use."""
    counts = joblib.Parallel(n_jobs=2)(joblib.delayed(torch.get_num_threads)() for _ in range(4))
    return set(counts)


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
    np.testing.assert_array_equal(best.predict_proba(X), best_expected.predict_proba(X))
    assert meta_parameters(best) == meta_parameters(best_expected)


def meta_parameters(clf):
    return [clf.alpha_, clf.beta_, clf.delta_]


@pytest.fixture(scope="module")
def serial_search():
    with torch_threads(1):
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
        # the scheduler's HTTP routes default to port 8787 and warn when another process
        # holds it (an error under filterwarnings=error): a port the system assigns
        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
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
    with joblib.parallel_backend("dask"), torch_threads(1):
        result = search()
    assert_same_search(result, serial_search)


def test_dask_workers_run_torch_on_one_thread(dask_client):
    # the nanny sets OMP_NUM_THREADS=1 before it starts a worker, so torch starts with
    # one intra-op thread: workers do not oversubscribe the cores
    threads = dask_client.run(torch.get_num_threads)
    assert set(threads.values()) == {1}


def test_loky_search_equals_serial(serial_search):
    # loky's workers would otherwise run cpu_count // n_jobs threads
    with joblib.parallel_config(backend="loky", inner_max_num_threads=1), torch_threads(1):
        result = search(n_jobs=2)
        assert worker_threads() == {1}
    assert_same_search(result, serial_search)


def test_ray_search_equals_serial(serial_search, monkeypatch):
    ray = pytest.importorskip("ray")
    from ray.util.joblib import register_ray

    # no token file written to the home directory for a throw-away local instance
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")
    # Ray sets OMP_NUM_THREADS=1 in its workers only where the driver has none set
    workers_env = {"env_vars": {"OMP_NUM_THREADS": "1"}}
    ray.init(
        address="local",  # a new instance, not one that RAY_ADDRESS or `ray start` left
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        runtime_env=workers_env,
    )
    try:
        register_ray()
        with joblib.parallel_backend("ray"), torch_threads(1):
            result = search()
            assert worker_threads() == {1}
    finally:
        ray.shutdown()
    assert_same_search(result, serial_search)


@pytest.mark.parametrize("n_threads", [1, 2, 3])
def test_fit_is_reproducible_on_any_number_of_torch_threads(n_threads):
    """Two fits on the same number of torch threads give the same model, to the bit.

    Across thread counts there is no such promise: a sum that torch splits over more
    threads adds its terms in another order, and every training step carries the changed
    last bits on, so that no bound on the rounding of one sum bounds the fitted model.
    A fit may thus depend on the thread count (which the searches above pin), but on
    nothing else, such as timing.
    """
    # wide enough layers that torch splits the matrix products over threads
    X_wide, y_wide = make_classification(1000, 100, n_informative=10, random_state=0)
    with torch_threads(n_threads):
        first, second = (
            LiLAWClassifier(hidden_layer_sizes=(256, 256), max_epochs=2, random_state=0).fit(
                X_wide, y_wide
            )
            for _ in range(2)
        )
        np.testing.assert_array_equal(first.predict_proba(X_wide), second.predict_proba(X_wide))
    assert meta_parameters(first) == meta_parameters(second)
