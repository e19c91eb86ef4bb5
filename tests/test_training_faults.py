"""Training that diverges, is interrupted, or continues with partial_fit."""

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

from sklearn_slstm import StackedLSTMRegressor

TINY = {"hidden_layer_sizes": (8,), "max_iter": 3, "random_state": 0}


def test_non_finite_loss_stops_with_a_clear_error(sine_data):
    X, y = sine_data
    reg = StackedLSTMRegressor(**TINY).fit(X, y)
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


def test_keyboard_interrupt_keeps_the_weights_so_far(sine_data):
    X, y = sine_data
    with pytest.warns(UserWarning, match="interrupted in epoch 2"):
        reg = StackedLSTMRegressor(**TINY, callbacks=[_InterruptAt(2, 3)]).fit(X, y)
    assert reg.n_iter_ == 1
    assert len(reg.loss_curve_) == 1
    assert np.isfinite(reg.predict(X)).all()
    one_epoch = StackedLSTMRegressor(**{**TINY, "max_iter": 1}).fit(X, y)
    # Three batches of epoch 2 moved the weights past the end of epoch 1.
    assert not np.array_equal(reg.predict(X), one_epoch.predict(X))


def test_partial_fit_trains_one_epoch_per_call(sine_data):
    X, y = sine_data
    reg = StackedLSTMRegressor(**TINY)
    reg.partial_fit(X, y)
    net, optimizer = reg.net_, reg.net_.optimizer_
    reg.partial_fit(X, y)
    assert reg.n_iter_ == 2
    assert reg.loss_curve_[1] < reg.loss_curve_[0]
    # Later calls continue with the same net and optimizer state.
    assert reg.net_ is net
    assert reg.net_.optimizer_ is optimizer


def test_partial_fit_continues_after_fit(sine_data):
    X, y = sine_data
    reg = StackedLSTMRegressor(**TINY).fit(X, y)
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
def test_partial_fit_rejects_data_of_another_shape(sine_data, change, message):
    X, y = sine_data
    reg = StackedLSTMRegressor(**TINY).partial_fit(X, y)
    before = reg.predict(X)
    with pytest.raises(ValueError, match=message):
        reg.partial_fit(*change(X, y))
    np.testing.assert_array_equal(reg.predict(X), before)


def test_partial_fit_refuses_early_stopping(sine_data):
    X, y = sine_data
    with pytest.raises(ValueError, match="early_stopping"):
        StackedLSTMRegressor(**TINY, early_stopping=True).partial_fit(X, y)


def test_partial_fit_after_fit_uses_the_initial_learning_rate(sine_data):
    X, y = sine_data
    reg = StackedLSTMRegressor(**TINY, learning_rate="onecycle").fit(X, y)
    reg.partial_fit(X, y)
    assert [group["lr"] for group in reg.net_.optimizer_.param_groups] == [
        reg.learning_rate_init
    ]
    assert all(torch.isfinite(p).all() for p in reg.net_.module_.parameters())
