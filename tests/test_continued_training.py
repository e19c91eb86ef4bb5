"""Continued training: warm_start and partial_fit.

What continues (weights, optimizer state, history, scaling statistics), what
restarts (the learning rate schedule), and what is refused and rolled back
(data of another shape, another architecture, early stopping, a diverging
step). Elsewhere, with their subject: sample_weight in partial_fit
(test_sample_weight.py), the message for a wrong length
(test_input_validation.py), a no-ConvergenceWarning partial_fit
(test_stopping.py), and continuing after a save, pickle or skops round trip
(test_persistence_save_load.py, test_persistence_skops.py).
"""

import copy

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

from sklearn_slstm import StackedLSTMRegressor


@pytest.fixture
def three_epochs(tiny_params):
    """The shared fast settings with a third epoch."""
    return {**tiny_params, "max_iter": 3}


def _snapshot(reg):
    """Copies of the weights, the optimizer state, the history and the curve."""
    return (
        {name: p.clone() for name, p in reg.net_.module_.state_dict().items()},
        copy.deepcopy(reg.net_.optimizer_.state_dict()),
        len(reg.net_.history),
        list(reg.loss_curve_),
    )


def _assert_same(before, after):
    weights, optimizer, n_epochs, losses = before
    weights_after, optimizer_after, n_epochs_after, losses_after = after
    for name, tensor in weights.items():
        assert torch.equal(tensor, weights_after[name]), name
    for key, state in optimizer["state"].items():
        for name, value in state.items():
            value_after = optimizer_after["state"][key][name]
            assert torch.equal(torch.as_tensor(value), torch.as_tensor(value_after))
    assert (n_epochs, losses) == (n_epochs_after, losses_after)


class _RecordLearningRates(Callback):
    """The learning rate of every training batch."""

    def initialize(self):
        self.rates = []
        return self

    def on_batch_begin(self, net, training=False, **kwargs):
        if training:
            self.rates.append(net.optimizer_.param_groups[0]["lr"])


# --- warm_start -----------------------------------------------------------------


# Short constant-rate fits; their ConvergenceWarning is tested elsewhere.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_warm_start_continues_from_previous_weights(sine_data, tiny_params):
    X, y = sine_data
    warm = StackedLSTMRegressor(
        **tiny_params, learning_rate="constant", warm_start=True
    )
    warm.fit(X, y)
    first_curve = list(warm.loss_curve_)
    warm.fit(X, y)
    assert warm.n_iter_ == 4
    assert warm.loss_curve_[:2] == first_curve
    # The continued fit starts where the first one ended, not from scratch.
    assert warm.loss_curve_[2] < first_curve[0]
    warm.set_params(hidden_layer_sizes=(4,))
    with pytest.raises(ValueError, match="warm_start"):
        warm.fit(X, y)


def test_warm_start_refuses_another_architecture(sine_data, three_epochs):
    X, y = sine_data
    reg = StackedLSTMRegressor(**three_epochs, warm_start=True).fit(X, y)
    before = _snapshot(reg)
    with pytest.raises(ValueError, match="network shape changed"):
        reg.set_params(hidden_layer_sizes=(4,)).fit(X, y)
    _assert_same(before, _snapshot(reg))


def test_schedule_spans_each_fit_also_after_warm_start(sine_data, tiny_params):
    X, y = sine_data
    record = ("rates", _RecordLearningRates())
    reg = StackedLSTMRegressor(
        **{**tiny_params, "max_iter": 4},
        batch_size=32,
        warm_start=True,
        callbacks=[record],
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


# --- partial_fit ----------------------------------------------------------------


def test_partial_fit_trains_one_epoch_per_call(sine_data, three_epochs):
    X, y = sine_data
    reg = StackedLSTMRegressor(**three_epochs)
    reg.partial_fit(X, y)
    net, optimizer = reg.net_, reg.net_.optimizer_
    reg.partial_fit(X, y)
    assert reg.n_iter_ == 2
    assert reg.loss_curve_[1] < reg.loss_curve_[0]
    # Later calls continue with the same net and optimizer state.
    assert reg.net_ is net
    assert reg.net_.optimizer_ is optimizer


def test_partial_fit_continues_after_fit(sine_data, three_epochs):
    X, y = sine_data
    reg = StackedLSTMRegressor(**three_epochs).fit(X, y)
    fitted_curve = list(reg.loss_curve_)
    reg.partial_fit(X, y)
    assert reg.n_iter_ == 4
    assert reg.loss_curve_[:3] == fitted_curve
    assert reg.loss_curve_[3] < fitted_curve[0]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda X, y: (X[:, :10], y), "features"),
        (lambda X, y: (X, y[:, :2]), "outputs"),
        (lambda X, y: (np.stack([X, X], axis=-1), y), "channel"),
    ],
)
def test_partial_fit_rejects_data_of_another_shape(
    sine_data, change, message, three_epochs
):
    X, y = sine_data
    reg = StackedLSTMRegressor(**three_epochs).partial_fit(X, y)
    before = reg.predict(X)
    with pytest.raises(ValueError, match=message):
        reg.partial_fit(*change(X, y))
    np.testing.assert_array_equal(reg.predict(X), before)


def test_partial_fit_refuses_early_stopping(sine_data, three_epochs):
    X, y = sine_data
    with pytest.raises(ValueError, match="early_stopping"):
        StackedLSTMRegressor(**three_epochs, early_stopping=True).partial_fit(X, y)


def test_partial_fit_after_fit_uses_the_initial_learning_rate(sine_data, three_epochs):
    X, y = sine_data
    reg = StackedLSTMRegressor(**three_epochs, learning_rate="onecycle").fit(X, y)
    reg.partial_fit(X, y)
    assert [group["lr"] for group in reg.net_.optimizer_.param_groups] == [
        reg.learning_rate_init
    ]
    assert all(torch.isfinite(p).all() for p in reg.net_.module_.parameters())


# --- both: statistics kept, other shapes refused, failures rolled back ---------


def test_continued_training_keeps_the_first_statistics(trending_windows, three_epochs):
    X, y = trending_windows
    reg = StackedLSTMRegressor(scaling="global", **three_epochs).partial_fit(X, y)
    first = reg.y_mean_.copy()
    reg.partial_fit(X[:50] + 100, y[:50] + 100)
    np.testing.assert_array_equal(reg.y_mean_, first)

    reg = StackedLSTMRegressor(scaling="global", warm_start=True, **three_epochs).fit(
        X, y
    )
    reg.fit(X + 100, y + 100)
    np.testing.assert_array_equal(reg.y_mean_, first)
    reg.set_params(warm_start=False).fit(X + 100, y + 100)
    np.testing.assert_allclose(reg.y_mean_, first + 100)
    # A fresh fit with another scaling leaves no stale statistics behind.
    reg.set_params(scaling="window").fit(X, y)
    assert not hasattr(reg, "x_mean_") and not hasattr(reg, "y_scale_")


@pytest.mark.parametrize(
    ("first", "then", "message"),
    [
        (lambda X, y: (X, y), lambda X, y: (X[:, :15], y), "time steps"),
        (lambda X, y: (X, y), lambda X, y: (np.stack([X, X], -1), y), "channel"),
        (lambda X, y: (X, y[:, 0]), lambda X, y: (X, y[:, :1]), r"\(1D y\)"),
        (lambda X, y: (X, y), lambda X, y: (X, y[:, :2]), "with 5 outputs"),
    ],
    ids=["time steps", "channels", "1D y to 2D", "outputs"],
)
@pytest.mark.parametrize("how", ["warm_start", "partial_fit"])
def test_continued_training_refuses_another_shape(
    sine_data, first, then, message, how, three_epochs
):
    # Without the skip connection the weights fit any sequence length, so
    # only the data check can catch a changed one.
    reg = StackedLSTMRegressor(**three_epochs, linear_skip=False, warm_start=True)
    reg.fit(*first(*sine_data))
    before = _snapshot(reg)
    train_more = reg.fit if how == "warm_start" else reg.partial_fit
    with pytest.raises(ValueError, match=message):
        train_more(*then(*sine_data))
    _assert_same(before, _snapshot(reg))


def test_diverging_partial_fit_leaves_the_model_exactly_as_it_was(
    sine_data, three_epochs
):
    X, y = sine_data
    reg = StackedLSTMRegressor(**three_epochs, loss="mse").partial_fit(X, y)
    reg.partial_fit(X, y)
    before = _snapshot(reg)
    with pytest.raises(ValueError, match="diverged"):
        reg.partial_fit(X, y * 1e30)
    _assert_same(before, _snapshot(reg))
    reg.partial_fit(X, y)  # and training goes on from there
    assert reg.n_iter_ == 3


def test_failed_warm_start_leaves_the_history_alone(sine_data, three_epochs):
    X, y = sine_data
    reg = StackedLSTMRegressor(**three_epochs, loss="mse", warm_start=True).fit(X, y)
    before = _snapshot(reg)
    with pytest.raises(ValueError, match="diverged"):
        reg.fit(X, y * 1e30)
    _assert_same(before, _snapshot(reg))
