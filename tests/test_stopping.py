"""Stopping follows the learning rate schedule; ConvergenceWarning at the budget."""

import warnings

import pytest
from sklearn.exceptions import ConvergenceWarning
from skorch.callbacks import Callback

from sklearn_slstm import StackedLSTMRegressor

SMALL = {"hidden_layer_sizes": (6,), "random_state": 0}
# Every epoch is a miss: no loss improves by 10.
NEVER_IMPROVES = {"n_iter_no_change": 1, "tol": 10.0}


class _RecordLearningRates(Callback):
    """The learning rate of every training batch."""

    def initialize(self):
        self.rates = []
        return self

    def on_batch_begin(self, net, training=False, **kwargs):
        if training:
            self.rates.append(net.optimizer_.param_groups[0]["lr"])


def _fit_quietly(reg, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return reg.fit(X, y)


def test_training_plateau_stops_only_at_a_constant_learning_rate(sine_data):
    X, y = sine_data
    params = {**SMALL, **NEVER_IMPROVES, "max_iter": 6}
    constant = StackedLSTMRegressor(**params, learning_rate="constant").fit(X, y)
    # The first epoch improves on nothing-yet, the second is the one miss.
    assert constant.n_iter_ == 2
    for schedule in ("onecycle", "cosine"):
        annealed = StackedLSTMRegressor(**params, learning_rate=schedule).fit(X, y)
        assert annealed.n_iter_ == 6, schedule
        assert "early_stopping" not in dict(annealed.net_.callbacks_)


def test_early_stopping_counts_no_misses_during_the_warm_up(sine_data):
    X, y = sine_data
    params = {**SMALL, **NEVER_IMPROVES, "max_iter": 10, "early_stopping": True}
    constant = StackedLSTMRegressor(**params, learning_rate="constant")
    assert _fit_quietly(constant, X, y).n_iter_ == 2
    # One-cycle warms up over 30% of 10 epochs: epochs 1 to 3 are no misses,
    # so the first miss, and the stop, is epoch 4.
    onecycle = StackedLSTMRegressor(**params, learning_rate="onecycle").fit(X, y)
    assert onecycle.n_iter_ == 4
    assert onecycle.best_validation_score_ == onecycle.validation_scores_[0]


def test_max_iter_at_constant_rate_warns_while_improving(sine_data):
    X, y = sine_data
    reg = StackedLSTMRegressor(**SMALL, max_iter=3, learning_rate="constant")
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
def test_no_convergence_warning(sine_data, params):
    X, y = sine_data
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        StackedLSTMRegressor(**SMALL, max_iter=3, **params).fit(X, y)
        StackedLSTMRegressor(**SMALL, learning_rate="constant").partial_fit(X, y)


def test_schedule_spans_each_fit_also_after_warm_start(sine_data):
    X, y = sine_data
    record = ("rates", _RecordLearningRates())
    reg = StackedLSTMRegressor(
        **SMALL, max_iter=4, batch_size=32, warm_start=True, callbacks=[record]
    )
    first = list(dict(reg.fit(X, y).net_.callbacks_)["rates"].rates)
    second = dict(reg.fit(X, y).net_.callbacks_)["rates"].rates
    # 300 rows in batches of 32: 10 steps per epoch, 40 per fit.
    assert len(first) == len(second) == 40
    assert second == pytest.approx(first)
    peak = max(first)
    assert peak == pytest.approx(reg.learning_rate_init)
    assert first.index(peak) == 11  # 30% of the 40 steps, counted from 0.
    assert first[-1] < peak / 1000
