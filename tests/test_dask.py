"""Parallel grid searches: joblib processes and a Dask cluster give the same scores.

Scores are compared exactly. That holds when every process runs torch on the
same number of threads: a different thread count changes the order of
float32 sums, and so the last bits of the scores. The tests use one thread
everywhere: in this process (fixture), in loky's workers
(``inner_max_num_threads=1``) and in Dask's workers (the nanny sets
``OMP_NUM_THREADS=1`` by default).
"""

import logging
import os

import joblib
import numpy as np
import pytest
import torch
from sklearn.model_selection import GridSearchCV

from sklearn_slstm import StackedLSTMClassifier, StackedLSTMRegressor

GRID = {"hidden_layer_sizes": [(4,), (4, 4)]}


@pytest.fixture(scope="module", params=["regressor", "classifier"])
def task(request, small_sine_data, sine_classes):
    """The estimator class and its data: waves and their next values, or
    noisy sines and their frequency class."""
    if request.param == "regressor":
        return StackedLSTMRegressor, small_sine_data
    return StackedLSTMClassifier, sine_classes


@pytest.fixture(scope="module")
def data(task):
    return task[1]


def _search(task, n_jobs=None):
    estimator = task[0](max_iter=2, batch_size=16, random_state=0)
    return GridSearchCV(estimator, GRID, cv=2, n_jobs=n_jobs)


@pytest.fixture(scope="module")
def one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def restore_environ():
    """A LocalCluster's nannies set OMP_NUM_THREADS and more in os.environ."""
    before = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(before)


@pytest.fixture(scope="module")
def sequential_search(task, data, one_torch_thread):
    return _search(task, n_jobs=1).fit(*data)


def _assert_same_search(search, expected, X):
    for key in ("mean_test_score", "std_test_score", "split0_test_score"):
        np.testing.assert_array_equal(
            search.cv_results_[key], expected.cv_results_[key]
        )
    assert search.best_params_ == expected.best_params_
    np.testing.assert_array_equal(
        search.best_estimator_.predict(X), expected.best_estimator_.predict(X)
    )


def test_grid_search_with_processes_matches_sequential(task, data, sequential_search):
    with joblib.parallel_config(backend="loky", inner_max_num_threads=1):
        search = _search(task, n_jobs=2).fit(*data)
    _assert_same_search(search, sequential_search, data[0])


def test_grid_search_on_dask_cluster_matches_sequential(
    task, data, sequential_search, restore_environ
):
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        with (
            distributed.get_task_stream(client) as tasks,
            joblib.parallel_config(backend="dask"),
        ):
            search = _search(task).fit(*data)
        cluster_workers = set(client.scheduler_info()["workers"])
    # The candidates were fitted on the cluster's worker processes.
    assert tasks.data
    assert {task["worker"] for task in tasks.data} <= cluster_workers
    _assert_same_search(search, sequential_search, data[0])
