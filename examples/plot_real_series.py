"""
========================================
Forecasting a real series: Mauna Loa CO2
========================================

Synthetic waves are a clean test bed; real series have trends, seasons and
noise. This example forecasts the atmospheric CO2 concentration measured at
Mauna Loa, a public series bundled with statsmodels (``pip install
statsmodels``; nothing is downloaded when the example runs), with the
library's public workflow: :func:`~sklearn_slstm.make_windows` turns the
training years into supervised windows, a
:class:`~sklearn_slstm.StackedLSTMRegressor` with its defaults learns from the
raw values, :class:`~sklearn_slstm.ConformalIntervalRegressor` adds 90%
intervals, and :class:`~sklearn_slstm.ForecastDisplay` draws the forecast.
Two simple baselines put its error in context.
"""

# %%
import os
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import statsmodels.api as sm
from sklearn.linear_model import Ridge
from sklearn.metrics import mean_absolute_error

from sklearn_slstm import (
    ConformalIntervalRegressor,
    ForecastDisplay,
    StackedLSTMRegressor,
    make_windows,
)

# SKLEARN_SLSTM_FAST=1 runs a smaller version: a window every other month.
FAST = os.environ.get("SKLEARN_SLSTM_FAST", "0") == "1"
STEP = 2 if FAST else 1

# %%
# The series
# ----------
# This series replaces the yearly sunspot numbers an earlier version of this
# example used: its trend carries the level out of the range seen in
# training, which is what the estimator's per-window scaling is for, and its
# yearly season gives an obvious baseline. The weekly measurements are
# averaged by month; the few months without any are interpolated.
co2 = sm.datasets.co2.load_pandas().data["co2"].resample("MS").mean().interpolate()
print(f"{len(co2)} monthly values, {co2.index[0]:%b %Y} to {co2.index[-1]:%b %Y}")

# %%
# The last three years are the test period, forecast in one go from the end
# of the training part: 36 values ahead.
HORIZON = 36
train, test = co2.iloc[:-HORIZON], co2.iloc[-HORIZON:]
print(f"training: {train.index[0]:%b %Y} to {train.index[-1]:%b %Y}")
print(f"test:     {test.index[0]:%b %Y} to {test.index[-1]:%b %Y}")

# %%
# Windows
# -------
# Each window holds six years of monthly values (twice the horizon) as input
# and the 36 values that follow as targets. The windows are the raw
# concentrations, from about 315 to 370 ppm: the estimator's default scaling
# (``"auto"``, window scaling here) standardises each window by its own mean
# and standard deviation and maps the predictions back, so no scaler is
# needed.
N_TIMESTEPS = 2 * HORIZON
X, y = make_windows(train.to_numpy(), N_TIMESTEPS, horizon=HORIZON, step=STEP)
print(f"X {X.shape}, y {y.shape}")

# The input of the forecast: the last six years of the training part.
X_last = train.to_numpy()[-N_TIMESTEPS:].reshape(1, -1)
y_test = test.to_numpy()

# %%
# The forecast and its interval
# -----------------------------
# :class:`~sklearn_slstm.ConformalIntervalRegressor` fits the LSTM on the
# first 80% of the windows and calibrates one interval width per step ahead
# on the errors of the last 20%. ``shuffle=False`` keeps that split in time
# order: the calibration windows come after the training windows, as the
# test period does, and share fewer values with them than a random split
# would. The coverage guarantee assumes exchangeable windows, which the
# windows of a trending series are only approximately.
conformal = ConformalIntervalRegressor(
    StackedLSTMRegressor(random_state=0), coverage=0.9, shuffle=False
).fit(X, y)
lower, upper = conformal.predict_interval(X_last)
inside = (lower[0] <= y_test) & (y_test <= upper[0])
print(
    f"fitted on {len(X) - conformal.n_calibration_} windows, "
    f"calibrated on {conformal.n_calibration_}"
)
print(f"test months inside the 90% interval: {inside.sum()} of {HORIZON}")

# %%
# :meth:`ForecastDisplay.from_estimator
# <sklearn_slstm.ForecastDisplay.from_estimator>` draws the input window, the
# forecast, its interval and the truth on a time axis of month numbers;
# ``origin`` puts the forecast at the position of the test period in the
# series, so the earlier history can be drawn on the same axes.
fig, ax = plt.subplots(figsize=(9, 4), layout="constrained")
months = np.arange(len(co2))
ax.plot(months[: len(train)], train, color="0.6", linewidth=1, label="history")
ForecastDisplay.from_estimator(
    conformal, X_last, y_test.reshape(1, -1), samples=1, origin=len(train), ax=ax
)
# Month numbers count from the first month of the series: label Januaries,
# over the last twelve years.
shown = slice(len(co2) - 12 * 12, None)
januaries = months[shown][co2.index[shown].month == 1][::2]
ax.set_xticks(januaries, co2.index[januaries].year)
ax.set_xlim(months[shown][0], months[-1] + 1)
ax.set_ylim(co2.iloc[shown].min() - 1, max(co2.max(), upper.max()) + 1)
ax.set(xlabel="year", ylabel="CO2 (ppm)")
ax.set_title("Forecast of the last three years with a 90% conformal interval")
ax.legend(loc="upper left")
plt.show()

# %%
# Baselines
# ---------
# Seasonal naive repeats the last year of the training part. Ridge regression
# learns from the same windows made relative: each window's last value is
# subtracted from its inputs and targets, and added back to the prediction,
# so a linear model too forecasts changes rather than levels. The table also
# has an LSTM fitted on all the windows, without intervals.
last = X[:, -1:]
ridge = Ridge().fit(X - last, y - last)
lstm = StackedLSTMRegressor(random_state=0).fit(X, y)

forecasts = {
    "seasonal naive": np.resize(train.to_numpy()[-12:], HORIZON),
    "Ridge, relative windows": ridge.predict(X_last - X_last[:, -1:])[0]
    + X_last[0, -1],
    "LSTM, all windows": lstm.predict(X_last)[0],
    "LSTM in the conformal wrapper": conformal.predict(X_last)[0],
}
table = pd.Series(
    {
        name: mean_absolute_error(y_test, forecast)
        for name, forecast in forecasts.items()
    },
    name="MAE (ppm)",
)
print(table.round(3).to_string())
print(f"lowest MAE: {table.idxmin()}")

# %%
# Without scaling
# ---------------
# Before the estimator scaled its data, raw values like these reached the
# network as they were, with nothing to say that inputs and targets in the
# hundreds are far from the unit scale its initialisation and learning rate
# are made for. ``scaling=None`` still does that, but ``fit`` now warns.
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    unscaled = StackedLSTMRegressor(scaling=None, random_state=0).fit(X, y)
for warning in caught:
    print(f"{warning.category.__name__}: {warning.message}")
unscaled_mae = mean_absolute_error(y_test, unscaled.predict(X_last)[0])
print(f"MAE with scaling=None:        {unscaled_mae:.3f} ppm")
print(f"MAE with the default scaling: {table['LSTM, all windows']:.3f} ppm")

# %%
# Reading the results
# -------------------
# Three years is one test period, so these numbers come from a single
# forecast and are noisy; ``benchmarks/bench_real_series.py`` in the
# repository measures several forecast origins on several series. The
# interval's width is set by the errors on the calibration windows, and
# the count above says how many test months it actually held.
