r"""
==========================================
Predicting damped sine waves, step by step
==========================================

The problem this library grew from: given the first 50 values of a damped
sine wave,

.. math:: v(i) = 0.5 + 0.5 \sin(2 \pi i / p) \, e^{-d i},

predict the next 5. Each wave has its own integer period :math:`p` (10 to 20
steps) and decay rate :math:`d` (0.01 to 0.1). This example generates the
data, fits a two-layer :class:`~sklearn_slstm.StackedLSTMRegressor`, evaluates
it against a naive baseline and plots its forecasts.

The command ``python -m sklearn_slstm`` runs the same experiment from the
command line.
"""

# %%
import os
import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import mean_absolute_error

from sklearn_slstm import ForecastDisplay, StackedLSTMRegressor, make_damped_sine

# SKLEARN_SLSTM_FAST=1 (set by the documentation build) runs a smaller version.
FAST = os.environ.get("SKLEARN_SLSTM_FAST", "0") == "1"
N_TRAIN = 2_000 if FAST else 10_000
N_EPOCHS = 3 if FAST else StackedLSTMRegressor().max_iter

# %%
# The data
# --------
# :func:`~sklearn_slstm.make_damped_sine` draws random waves and splits each
# into an input window ``X`` (steps 0 to 49) and a target ``y`` (steps 50 to
# 54). Training and test sets come from different seeds, so the test waves
# are fresh draws.
X_train, y_train = make_damped_sine(n_samples=N_TRAIN, random_state=0)
X_test, y_test = make_damped_sine(n_samples=1_000, random_state=1)
print(f"X_train {X_train.shape}, y_train {y_train.shape}")
print(f"X_test  {X_test.shape}, y_test  {y_test.shape}")

n_in, n_out = X_train.shape[1], y_train.shape[1]
steps_in = np.arange(n_in)
steps_out = np.arange(n_in, n_in + n_out)

fig, ax = plt.subplots(figsize=(8, 3.5), layout="constrained")
for k in range(3):
    (line,) = ax.plot(steps_in, X_train[k], label=f"wave {k}: input")
    ax.plot(steps_out, y_train[k], "o", color=line.get_color(), label="target")
ax.axvline(n_in - 0.5, color="0.8", zorder=0)
ax.set_xlabel("step i")
ax.set_ylabel("value")
ax.set_title("Three training waves: 50 steps in, 5 steps to predict")
ax.legend(ncol=3, fontsize="small")
plt.show()

# %%
# The model
# ---------
# Two LSTM layers of 16 units (the default) feed a linear layer that outputs
# the 5 future values, as in the classic Keras model of this problem, which
# has 20 units per layer. The defaults train
# with the mean absolute error (MAE) loss, Adam and a one-cycle learning rate
# schedule. ``random_state`` makes the fit reproducible; ``verbose=1`` prints
# one line per epoch. Printing an estimator shows the parameters that differ
# from the defaults.
reg = StackedLSTMRegressor(
    max_iter=N_EPOCHS,
    random_state=0,
    verbose=1,
)
print(reg)

# %%
# Fitting
# -------
start = time.perf_counter()
reg.fit(X_train, y_train)
print(f"Fitted {reg.n_iter_} epochs in {time.perf_counter() - start:.1f} s")

# %%
# ``loss_curve_`` holds the training loss (here the MAE) after each epoch.
fig, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
ax.semilogy(np.arange(1, reg.n_iter_ + 1), reg.loss_curve_, "o-")
ax.set_xlabel("epoch")
ax.set_ylabel("training MAE (log scale)")
ax.set_title("Learning curve")
plt.show()

# %%
# Evaluating
# ----------
# A forecast is only useful if it beats a naive one. The last-value baseline
# predicts every future step as the last observed value.
y_pred = reg.predict(X_test)
y_last = np.repeat(X_test[:, -1:], n_out, axis=1)
print(f"StackedLSTMRegressor test MAE: {mean_absolute_error(y_test, y_pred):.4f}")
print(f"last-value baseline test MAE:  {mean_absolute_error(y_test, y_last):.4f}")
print(f"StackedLSTMRegressor test R^2: {reg.score(X_test, y_test):.4f}")

# %%
# The further ahead, the harder the forecast: the error per output step.
mae_per_step = np.abs(y_test - y_pred).mean(axis=0)
mae_last_per_step = np.abs(y_test - y_last).mean(axis=0)
fig, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
ax.plot(steps_out, mae_per_step, "o-", label="StackedLSTMRegressor")
ax.plot(steps_out, mae_last_per_step, "s--", label="last value")
ax.set_yscale("log")
ax.set_xticks(steps_out)
ax.set_xlabel("forecast step i")
ax.set_ylabel("test MAE (log scale)")
ax.set_title("Error by forecast step")
ax.legend()
plt.show()

# %%
# Predicting
# ----------
# The end of the input window, the true continuation and the forecast for a
# few test waves, drawn by :class:`~sklearn_slstm.ForecastDisplay`.
fig, axes = plt.subplots(2, 2, figsize=(9, 5.5), sharex=True, layout="constrained")
shown = 20
for k, ax in enumerate(axes.flat):
    ForecastDisplay.from_predictions(
        X_test[:, -shown:], y_test, y_pred, samples=[k], origin=n_in, ax=ax
    )
    ax.set_title(f"test wave {k}")
fig.suptitle(f"Forecasts on test waves (last {shown} of {n_in} input steps shown)")
plt.show()
