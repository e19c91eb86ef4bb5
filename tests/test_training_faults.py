"""Training that diverges or is interrupted: a clear error, or the weights so far.

Failures during warm_start and partial_fit: test_continued_training.py.
"""

import numpy as np
import pytest
from skorch.callbacks import Callback

from sklearn_slstm import StackedLSTMRegressor


@pytest.fixture
def three_epochs(tiny_params):
    """The shared fast settings, with a third epoch to interrupt."""
    return {**tiny_params, "max_iter": 3}


def test_non_finite_loss_stops_with_a_clear_error(sine_data, three_epochs):
    X, y = sine_data
    reg = StackedLSTMRegressor(**three_epochs).fit(X, y)
    before = reg.predict(X)
    # Unscaled squared errors of 1e30 overflow float32: the loss is inf at once.
    with pytest.raises(ValueError, match=r"diverged.*inf in epoch 1, batch 1"):
        reg.set_params(loss="mse", scaling=None).fit(X, y * 1e30)
    np.testing.assert_array_equal(reg.predict(X), before)


def test_a_last_step_that_breaks_the_weights_raises(small_sine_data, tiny_params):
    # One batch, one step: no later loss would see the broken weights.
    X, y = small_sine_data
    reg = StackedLSTMRegressor(**tiny_params).fit(X, y)
    before = reg.predict(X)
    diverging = {
        "optimizer": "rmsprop",
        "learning_rate": "constant",
        "learning_rate_init": 1e38,
        "max_iter": 1,
        "batch_size": len(X),
    }
    with pytest.raises(ValueError, match="last optimizer step made the weights"):
        reg.set_params(**diverging).fit(X, y)
    np.testing.assert_array_equal(reg.predict(X), before)


def test_non_finite_predictions_warn(small_sine_data, tiny_params):
    X, y = small_sine_data
    reg = StackedLSTMRegressor(**tiny_params).fit(X, y)
    reg.net_.module_.head.bias.data[0] = float("inf")
    with pytest.warns(RuntimeWarning, match=f"{len(X)} of the predictions are NaN"):
        y_pred = reg.predict(X)
    assert np.isinf(y_pred[:, 0]).all() and np.isfinite(y_pred[:, 1:]).all()


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


def test_keyboard_interrupt_keeps_the_weights_so_far(sine_data, three_epochs):
    X, y = sine_data
    with pytest.warns(UserWarning, match="interrupted in epoch 2"):
        reg = StackedLSTMRegressor(**three_epochs, callbacks=[_InterruptAt(2, 3)]).fit(
            X, y
        )
    assert reg.n_iter_ == 1
    assert len(reg.loss_curve_) == 1
    assert np.isfinite(reg.predict(X)).all()
    one_epoch = StackedLSTMRegressor(**{**three_epochs, "max_iter": 1}).fit(X, y)
    # Three batches of epoch 2 moved the weights past the end of epoch 1.
    assert not np.array_equal(reg.predict(X), one_epoch.predict(X))
