"""The estimators inside scikit-learn's Pipeline, GridSearchCV and cross_val_score."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline

from sklearn_slstm import DampedSineGenerator, StackedLSTMRegressor

SMALL = {"hidden_layer_sizes": (8,), "max_iter": 2, "random_state": 0}


def test_pipeline_of_generator_and_regressor(sine_params_data):
    params, y = sine_params_data
    pipe = make_pipeline(
        DampedSineGenerator(n_timesteps=20), StackedLSTMRegressor(**SMALL)
    )
    pipe.fit(params, y)
    assert pipe.predict(params[:7]).shape == (7, 5)
    assert pipe[-1].n_features_in_ == 20


def test_grid_search_window_length_and_depth(sine_params_data):
    params, y = sine_params_data
    pipe = make_pipeline(DampedSineGenerator(), StackedLSTMRegressor(**SMALL))
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
def test_grid_search_over_layer_count(sine_data, n_jobs):
    X, y = sine_data
    grid = {"hidden_layer_sizes": [(8,), (8, 8), (8, 8, 8)]}
    search = GridSearchCV(StackedLSTMRegressor(**SMALL), grid, cv=3, n_jobs=n_jobs)
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


def test_cross_val_score_mean_absolute_error(sine_data):
    X, y = sine_data
    scores = cross_val_score(
        StackedLSTMRegressor(**SMALL), X, y, cv=5, scoring="neg_mean_absolute_error"
    )
    assert scores.shape == (5,)
    assert (scores < 0).all()


def test_clone_of_fitted_estimator_is_unfitted_with_same_params(sine_data):
    X, y = sine_data
    fitted = StackedLSTMRegressor(**SMALL).fit(X, y)
    copy = clone(fitted)
    assert copy.get_params() == fitted.get_params()
    assert not hasattr(copy, "net_")
    np.testing.assert_array_equal(copy.fit(X, y).predict(X), fitted.predict(X))
