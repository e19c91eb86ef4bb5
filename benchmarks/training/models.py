"""The reference model of the training benchmark, three ways, and its data.

The reference configuration is the classic Keras one: two LSTM layers of 20
units, MAE, Adam at 1e-3, batch 10, one epoch, constant learning rate. This
module trains it through ``StackedLSTMRegressor``, through a hand-written
PyTorch loop, and (optionally) through Keras. The fitting functions return
``(model, Stopwatch)``, like `_common.timed`.

Only the hand-written loop reaches past the public API, in two places marked
below: it imports the package's torch module and mirrors the regressor's
seed rule. It must train the very same network from the very same random
draws as the regressor, so that the fit-time ratio of section (a) compares
the two training loops alone.
"""

import importlib.util

import numpy as np
import torch
from _common import Stopwatch
from sklearn.utils import check_random_state
from torch import nn

from sklearn_slstm import StackedLSTMRegressor, make_damped_sine

# Private import, on purpose: the hand-written baseline must train the very
# same model as the regressor, so it imports the package's torch module
# rather than repeating it. Both sides then train exactly the same network
# with the same Keras-style initialisation from the same draws, and the
# ratio of (a) compares the training loops alone; only the loop around the
# module is written by hand.
from sklearn_slstm._module import StackedLSTM

HIDDEN_LAYER_SIZES = (20, 20)
LEARNING_RATE = 1e-3
REFERENCE_BATCH_SIZE = 10
N_TIMESTEPS = 50
N_OUTPUTS = 5


def make_data(n_samples, *, random_state, n_timesteps=N_TIMESTEPS):
    """Return the float64 arrays a user would pass, and float32 tensors.

    The tensors, of shape (n_samples, n_timesteps, 1) and
    (n_samples, n_outputs), are what the hand-written loop trains on.
    """
    X, y = make_damped_sine(
        n_samples, n_timesteps=n_timesteps, random_state=random_state
    )
    X_tensor = torch.from_numpy(X.astype(np.float32)[:, :, np.newaxis])
    y_tensor = torch.from_numpy(y.astype(np.float32))
    return X, y, X_tensor, y_tensor


def reference_regressor(seed):
    """An unfitted ``StackedLSTMRegressor`` in the reference configuration.

    Like the Keras model and the hand-written loop, it trains on the raw
    values, without the library's scaling and skip connection.
    """
    return StackedLSTMRegressor(
        scaling=None,
        linear_skip=False,
        hidden_layer_sizes=HIDDEN_LAYER_SIZES,
        loss="mae",
        batch_size=REFERENCE_BATCH_SIZE,
        max_iter=1,
        learning_rate="constant",
        learning_rate_init=LEARNING_RATE,
        early_stopping=False,
        random_state=seed,
    )


# ------------------------------------------------------- hand-written loop ---


def torch_seed(random_state):
    """The torch seed ``StackedLSTMRegressor`` derives from ``random_state``.

    Seeding the hand-written loop the same way gives both sides the same
    initial weights and the same batch order, so their MAEs should agree.
    """
    # Mirrors a private rule of the regressor, on purpose: the baseline must
    # draw the very same initial weights and batch order as the regressor,
    # so that the ratio of (a) compares the training loops alone. If the
    # regressor's rule changes, change this line with it (the MAEs a4 and
    # a5 then stop agreeing, which shows it).
    return check_random_state(random_state).randint(np.iinfo(np.int32).max)


def fit_hand_loop(X, y, *, seed, epochs=1, batch_size=REFERENCE_BATCH_SIZE):
    """Train the reference model with a plain PyTorch loop.

    Parameters
    ----------
    X : torch.Tensor of shape (n_samples, n_timesteps, n_channels)
        Float32 training sequences.
    y : torch.Tensor of shape (n_samples, n_outputs)
        Float32 targets.
    seed : int
        Seeds weights and shuffling as the regressor would (see `torch_seed`).
    epochs : int, default=1
        Passes over the data, each in a new random order.
    batch_size : int, default=10
        Rows per optimizer step.

    Returns
    -------
    module : StackedLSTM
        The trained module.
    stopwatch : Stopwatch
        The time from model construction to the last optimizer step.
    """
    # The regressor draws everything from one generator of its own: the
    # initial weights first (the module built on the meta device draws
    # nothing), then each epoch's order.
    generator = torch.Generator().manual_seed(torch_seed(seed))
    with Stopwatch() as stopwatch:
        with torch.device("meta"):
            module = StackedLSTM(X.shape[2], HIDDEN_LAYER_SIZES, y.shape[1])
        module.to_empty(device="cpu")
        module.reset_parameters(generator=generator)
        optimizer = torch.optim.Adam(module.parameters(), lr=LEARNING_RATE)
        criterion = nn.L1Loss()
        module.train()
        for _ in range(epochs):
            order = torch.randperm(len(X), generator=generator)
            for begin in range(0, len(X), batch_size):
                rows = order[begin : begin + batch_size]
                optimizer.zero_grad()
                loss = criterion(module(X[rows]), y[rows])
                loss.backward()
                optimizer.step()
    return module, stopwatch


def forward(module, X):
    """The hand-written prediction: one forward pass in eval mode."""
    module.eval()
    with torch.no_grad():
        return module(X)


# ------------------------------------------------------------------- Keras ---


def keras_available():
    return importlib.util.find_spec("tensorflow") is not None


def fit_keras(X, y, *, seed):
    """Fit the classic Keras reference model; return (model, Stopwatch).

    ``X`` is a float32 array of shape (n_samples, n_timesteps, 1).
    TensorFlow keeps its own thread pools; ``--threads`` does not touch them.
    """
    from tensorflow import keras

    keras.utils.set_random_seed(seed)
    with Stopwatch() as stopwatch:
        model = keras.Sequential(
            [
                keras.Input(shape=X.shape[1:]),
                keras.layers.LSTM(HIDDEN_LAYER_SIZES[0], return_sequences=True),
                keras.layers.LSTM(HIDDEN_LAYER_SIZES[1]),
                keras.layers.Dense(y.shape[1]),
            ]
        )
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate=LEARNING_RATE), loss="mae"
        )
        model.fit(
            X, y, batch_size=REFERENCE_BATCH_SIZE, epochs=1, shuffle=True, verbose=0
        )
    return model, stopwatch
