"""Stopping follows the learning rate schedule; ConvergenceWarning at the budget.

The schedule of a warm-started fit: test_continued_training.py.
"""

import warnings

import pytest
from sklearn.exceptions import ConvergenceWarning

from sklearn_slstm import StackedLSTMRegressor

# Every epoch is a miss: no loss improves by 10.
NEVER_IMPROVES = {"n_iter_no_change": 1, "tol": 10.0}


def _fit_quietly(reg, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return reg.fit(X, y)


def test_training_plateau_stops_only_at_a_constant_learning_rate(
    sine_data, tiny_params
):
    X, y = sine_data
    params = {**tiny_params, **NEVER_IMPROVES, "max_iter": 6}
    constant = StackedLSTMRegressor(**params, learning_rate="constant").fit(X, y)
    # The first epoch improves on nothing-yet, the second is the one miss.
    assert constant.n_iter_ == 2
    for schedule in ("onecycle", "cosine"):
        annealed = StackedLSTMRegressor(**params, learning_rate=schedule).fit(X, y)
        assert annealed.n_iter_ == 6, schedule
        assert "early_stopping" not in dict(annealed.net_.callbacks_)


def test_early_stopping_counts_no_misses_during_the_warm_up(sine_data, tiny_params):
    X, y = sine_data
    params = {**tiny_params, **NEVER_IMPROVES, "max_iter": 10, "early_stopping": True}
    constant = StackedLSTMRegressor(**params, learning_rate="constant")
    assert _fit_quietly(constant, X, y).n_iter_ == 2
    # One-cycle warms up over 30% of 10 epochs: epochs 1 to 3 are no misses,
    # so the first miss, and the stop, is epoch 4.
    onecycle = StackedLSTMRegressor(**params, learning_rate="onecycle").fit(X, y)
    assert onecycle.n_iter_ == 4
    assert onecycle.best_validation_score_ == onecycle.validation_scores_[0]


def test_max_iter_at_constant_rate_warns_while_improving(sine_data, tiny_params):
    X, y = sine_data
    reg = StackedLSTMRegressor(
        **{**tiny_params, "max_iter": 3}, learning_rate="constant"
    )
    with pytest.warns(ConvergenceWarning, match=r"Maximum iterations \(3\) reached"):
        reg.fit(X, y)
    with pytest.warns(ConvergenceWarning, match="validation loss"):
        reg.set_params(early_stopping=True).fit(X, y)


@pytest.mark.parametrize(
    "params",
    [
        {"learning_rate": "onecycle"},
        {"learning_rate": "cosine"},
        {"learning_rate": "onecycle", "early_stopping": True},
        # The plateau stop ended training before max_iter: converged.
        {"learning_rate": "constant", **NEVER_IMPROVES},
    ],
)
def test_no_convergence_warning(sine_data, params, tiny_params):
    X, y = sine_data
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        StackedLSTMRegressor(**{**tiny_params, "max_iter": 3}, **params).fit(X, y)
        StackedLSTMRegressor(**tiny_params, learning_rate="constant").partial_fit(X, y)
