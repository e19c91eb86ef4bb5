"""Fits are reproducible in threads and leave other threads' random streams alone."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import joblib
import numpy as np
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from sklearn_slstm import StackedLSTMRegressor

# Every kind of random draw: initialisation, validation split, shuffling and
# dropout (two layers).
RANDOM = {
    "hidden_layer_sizes": (6, 6),
    "dropout": 0.3,
    "early_stopping": True,
    "max_iter": 3,
    "batch_size": 32,
    "random_state": 0,
}


def _weights(reg):
    state = reg.net_.module_.state_dict()
    return {name: value.detach().clone() for name, value in state.items()}


def _assert_same_model(first, second, X):
    for name, value in _weights(first).items():
        assert torch.equal(value, _weights(second)[name]), name
    np.testing.assert_array_equal(first.predict(X), second.predict(X))
    assert first.loss_curve_ == second.loss_curve_


def test_concurrent_clones_equal_sequential_fits(sine_data):
    X, y = sine_data
    # Clones with different seeds, so that a shared generator would mix
    # their streams; two fits at a time (more threads than cores would only
    # oversubscribe the machine), started together, three times.
    clones = [StackedLSTMRegressor(**{**RANDOM, "random_state": s}) for s in (0, 1)]
    sequential = [clone(reg).fit(X, y) for reg in clones]
    for _ in range(3):
        start = threading.Barrier(2)

        def fit(estimator, start=start):
            start.wait()
            return estimator.fit(X, y)

        with ThreadPoolExecutor(2) as pool:
            concurrent = list(pool.map(fit, [clone(reg) for reg in clones]))
        for fitted, expected in zip(concurrent, sequential, strict=True):
            _assert_same_model(fitted, expected, X)
    _assert_same_model(clone(clones[0]).fit(X, y), sequential[0], X)


def test_threaded_grid_search_equals_sequential(sine_data):
    X, y = sine_data
    grid = {"hidden_layer_sizes": [(4, 4), (6, 6)], "learning_rate_init": [0.01, 0.03]}
    base = StackedLSTMRegressor(**{**RANDOM, "max_iter": 2})
    sequential = GridSearchCV(base, grid, cv=2).fit(X, y)
    with joblib.parallel_backend("threading"):
        threaded = GridSearchCV(base, grid, cv=2, n_jobs=2).fit(X, y)
    np.testing.assert_array_equal(
        threaded.cv_results_["mean_test_score"],
        sequential.cv_results_["mean_test_score"],
    )
    assert threaded.best_params_ == sequential.best_params_
    np.testing.assert_array_equal(threaded.predict(X), sequential.predict(X))


def test_fit_leaves_other_threads_random_stream_alone(sine_data):
    X, y = sine_data
    fitted = threading.Event()
    drawn = []

    def draw():
        # A seeded stream from torch's global generator, drawn while the fit
        # runs in the main thread.
        torch.manual_seed(7)
        while not fitted.is_set():
            drawn.append(torch.rand(2))
            time.sleep(0.001)

    thread = threading.Thread(target=draw)
    thread.start()
    try:
        for seed in range(2):
            StackedLSTMRegressor(**{**RANDOM, "random_state": seed}).fit(X, y)
    finally:
        fitted.set()
        thread.join()
    torch.manual_seed(7)
    expected = [torch.rand(2) for _ in drawn]
    assert len(drawn) > 10
    for got, want in zip(drawn, expected, strict=True):
        assert torch.equal(got, want)
