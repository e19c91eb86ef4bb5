"""Training that diverges, is interrupted, or continues with partial_fit."""

import copy

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

from sklearn_slstm import StackedLSTMRegressor


@pytest.fixture
def tiny_params(tiny_params):
    """The shared fast settings, with a third epoch to interrupt and resume."""
    return {**tiny_params, "max_iter": 3}


def test_non_finite_loss_stops_with_a_clear_error(sine_data, tiny_params):
    X, y = sine_data
    reg = StackedLSTMRegressor(**tiny_params).fit(X, y)
    before = reg.predict(X)
    # Squared errors of 1e30 overflow float32: the loss is inf at once.
    with pytest.raises(ValueError, match=r"diverged.*inf in epoch 1, batch 1"):
        reg.set_params(loss="mse").fit(X, y * 1e30)
    np.testing.assert_array_equal(reg.predict(X), before)


class _InterruptAt(Callback):
    """Raise KeyboardInterrupt at a given (epoch, batch), as Ctrl-C would."""

    def __init__(self, epoch, batch):
        self.epoch = epoch
        self.batch = batch

    def on_batch_end(self, net, training=None, **kwargs):
        if (len(net.history), len(net.history[-1, "batches"])) == (
            self.epoch,
            self.batch,
        ):
            raise KeyboardInterrupt


def test_keyboard_interrupt_keeps_the_weights_so_far(sine_data, tiny_params):
    X, y = sine_data
    with pytest.warns(UserWarning, match="interrupted in epoch 2"):
        reg = StackedLSTMRegressor(**tiny_params, callbacks=[_InterruptAt(2, 3)]).fit(
            X, y
        )
    assert reg.n_iter_ == 1
    assert len(reg.loss_curve_) == 1
    assert np.isfinite(reg.predict(X)).all()
    one_epoch = StackedLSTMRegressor(**{**tiny_params, "max_iter": 1}).fit(X, y)
    # Three batches of epoch 2 moved the weights past the end of epoch 1.
    assert not np.array_equal(reg.predict(X), one_epoch.predict(X))


def test_partial_fit_trains_one_epoch_per_call(sine_data, tiny_params):
    X, y = sine_data
    reg = StackedLSTMRegressor(**tiny_params)
    reg.partial_fit(X, y)
    net, optimizer = reg.net_, reg.net_.optimizer_
    reg.partial_fit(X, y)
    assert reg.n_iter_ == 2
    assert reg.loss_curve_[1] < reg.loss_curve_[0]
    # Later calls continue with the same net and optimizer state.
    assert reg.net_ is net
    assert reg.net_.optimizer_ is optimizer


def test_partial_fit_continues_after_fit(sine_data, tiny_params):
    X, y = sine_data
    reg = StackedLSTMRegressor(**tiny_params).fit(X, y)
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
    sine_data, change, message, tiny_params
):
    X, y = sine_data
    reg = StackedLSTMRegressor(**tiny_params).partial_fit(X, y)
    before = reg.predict(X)
    with pytest.raises(ValueError, match=message):
        reg.partial_fit(*change(X, y))
    np.testing.assert_array_equal(reg.predict(X), before)


def test_partial_fit_refuses_early_stopping(sine_data, tiny_params):
    X, y = sine_data
    with pytest.raises(ValueError, match="early_stopping"):
        StackedLSTMRegressor(**tiny_params, early_stopping=True).partial_fit(X, y)


def test_partial_fit_after_fit_uses_the_initial_learning_rate(sine_data, tiny_params):
    X, y = sine_data
    reg = StackedLSTMRegressor(**tiny_params, learning_rate="onecycle").fit(X, y)
    reg.partial_fit(X, y)
    assert [group["lr"] for group in reg.net_.optimizer_.param_groups] == [
        reg.learning_rate_init
    ]
    assert all(torch.isfinite(p).all() for p in reg.net_.module_.parameters())


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


def test_diverging_partial_fit_leaves_the_model_exactly_as_it_was(
    sine_data, tiny_params
):
    X, y = sine_data
    reg = StackedLSTMRegressor(**tiny_params, loss="mse").partial_fit(X, y)
    reg.partial_fit(X, y)
    before = _snapshot(reg)
    with pytest.raises(ValueError, match="diverged"):
        reg.partial_fit(X, y * 1e30)
    _assert_same(before, _snapshot(reg))
    reg.partial_fit(X, y)  # and training goes on from there
    assert reg.n_iter_ == 3


def test_failed_warm_start_leaves_the_history_alone(sine_data, tiny_params):
    X, y = sine_data
    reg = StackedLSTMRegressor(**tiny_params, loss="mse", warm_start=True).fit(X, y)
    before = _snapshot(reg)
    with pytest.raises(ValueError, match="diverged"):
        reg.fit(X, y * 1e30)
    _assert_same(before, _snapshot(reg))


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
    sine_data, first, then, message, how, tiny_params
):
    # Without the skip connection the weights fit any sequence length, so
    # only the data check can catch a changed one.
    reg = StackedLSTMRegressor(**tiny_params, linear_skip=False, warm_start=True)
    reg.fit(*first(*sine_data))
    before = _snapshot(reg)
    train_more = reg.fit if how == "warm_start" else reg.partial_fit
    with pytest.raises(ValueError, match=message):
        train_more(*then(*sine_data))
    _assert_same(before, _snapshot(reg))


def test_warm_start_refuses_another_architecture(sine_data, tiny_params):
    X, y = sine_data
    reg = StackedLSTMRegressor(**tiny_params, warm_start=True).fit(X, y)
    before = _snapshot(reg)
    with pytest.raises(ValueError, match="network shape changed"):
        reg.set_params(hidden_layer_sizes=(4,)).fit(X, y)
    _assert_same(before, _snapshot(reg))
