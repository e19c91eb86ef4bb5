"""The estimators inside scikit-learn's Pipeline, GridSearchCV and cross_val_score."""

import joblib
import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from skorch.callbacks import Callback

from sklearn_slstm import DampedSineGenerator, StackedLSTMRegressor


def test_pipeline_of_generator_and_regressor(sine_params_data, tiny_params):
    params, y = sine_params_data
    pipe = make_pipeline(
        DampedSineGenerator(n_timesteps=20), StackedLSTMRegressor(**tiny_params)
    )
    pipe.fit(params, y)
    assert pipe.predict(params[:7]).shape == (7, 5)
    assert pipe[-1].n_features_in_ == 20


def test_grid_search_window_length_and_depth(sine_params_data, tiny_params):
    params, y = sine_params_data
    pipe = make_pipeline(DampedSineGenerator(), StackedLSTMRegressor(**tiny_params))
    search = GridSearchCV(
        pipe,
        {
            "dampedsinegenerator__n_timesteps": [10, 25],
            "stackedlstmregressor__hidden_layer_sizes": [(8,), (8, 8)],
        },
        cv=2,
    ).fit(params, y)
    assert len(search.cv_results_["params"]) == 4
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_grid_search_over_layer_count(sine_data, n_jobs, tiny_params):
    X, y = sine_data
    grid = {"hidden_layer_sizes": [(8,), (8, 8), (8, 8, 8)]}
    search = GridSearchCV(
        StackedLSTMRegressor(**tiny_params), grid, cv=3, n_jobs=n_jobs
    )
    search.fit(X, y)
    assert [p["hidden_layer_sizes"] for p in search.cv_results_["params"]] == [
        (8,),
        (8, 8),
        (8, 8, 8),
    ]
    assert search.best_params_["hidden_layer_sizes"] in grid["hidden_layer_sizes"]
    assert len(search.best_estimator_.net_.module_.lstms) == len(
        search.best_params_["hidden_layer_sizes"]
    )


def test_cross_val_score_mean_absolute_error(sine_data, tiny_params):
    X, y = sine_data
    reg = StackedLSTMRegressor(**tiny_params)
    scores = cross_val_score(reg, X, y, cv=5, scoring="neg_mean_absolute_error")
    # Each score is minus the MAE of a model fitted on the other folds.
    expected = [
        -np.abs(clone(reg).fit(X[train], y[train]).predict(X[test]) - y[test]).mean()
        for train, test in KFold(5).split(X)
    ]
    np.testing.assert_allclose(scores, expected, rtol=1e-12)
    # And the models learned: better than predicting the training mean.
    baseline = [
        -np.abs(y[train].mean(axis=0) - y[test]).mean()
        for train, test in KFold(5).split(X)
    ]
    assert (scores > baseline).all()


def test_clone_of_fitted_estimator_is_unfitted_with_same_params(sine_data, tiny_params):
    X, y = sine_data
    fitted = StackedLSTMRegressor(**tiny_params).fit(X, y)
    copy = clone(fitted)
    assert copy.get_params() == fitted.get_params()
    assert not hasattr(copy, "net_")
    np.testing.assert_array_equal(copy.fit(X, y).predict(X), fitted.predict(X))


class _RecordThreads(Callback):
    """Record the number of threads torch trains with."""

    def on_epoch_begin(self, net, **kwargs):
        net.history.record("torch_threads", torch.get_num_threads())


def _threads_used_in_fit(X, y, params):
    reg = StackedLSTMRegressor(**params, callbacks=[_RecordThreads()]).fit(X, y)
    return reg.net_.history[0, "torch_threads"]


def test_joblib_workers_share_the_cores_without_oversubscription(
    sine_data, tiny_params
):
    X, y = sine_data
    n_jobs = 2
    threads = joblib.Parallel(n_jobs=n_jobs)(
        joblib.delayed(_threads_used_in_fit)(X, y, dict(tiny_params))
        for _ in range(n_jobs)
    )
    assert threads == [max(1, joblib.cpu_count() // n_jobs)] * n_jobs
    # The documented setting that overrides the share.
    with joblib.parallel_config(backend="loky", inner_max_num_threads=2):
        threads = joblib.Parallel(n_jobs=n_jobs)(
            joblib.delayed(_threads_used_in_fit)(X, y, dict(tiny_params))
            for _ in range(n_jobs)
        )
    # torch never takes more threads than there are cores.
    assert threads == [min(2, joblib.cpu_count())] * n_jobs
