"""
=====================================
Forecasting a real series: sunspots
=====================================

Synthetic waves are a clean test bed; real series are noisier. This example
forecasts the yearly mean sunspot number (1700 to 2008), a public series
bundled with statsmodels (``pip install statsmodels``; nothing is downloaded
when the example runs). Sliding windows turn the series into a regression
problem, and a time-ordered cross-validation compares a stacked LSTM with
ridge regression and the naive last-value forecast.
"""

# %%
import os

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.linear_model import Ridge
from sklearn.model_selection import TimeSeriesSplit, cross_validate
from sklearn.utils.validation import check_is_fitted, validate_data
from statsmodels.datasets import sunspots

from sklearn_slstm import StackedLSTMRegressor

# SKLEARN_SLSTM_FAST=1 (set by the documentation build) runs a smaller version.
FAST = os.environ.get("SKLEARN_SLSTM_FAST", "0") == "1"

N_EPOCHS = 20 if FAST else 200
WINDOW = 12  # years of history per forecast, about one solar cycle
SCALE = 100.0  # sunspot numbers are divided by this before modelling

# %%
# The series
# ----------
data = sunspots.load_pandas().data
years = data["YEAR"].to_numpy().astype(int)
series = data["SUNACTIVITY"].to_numpy()
print(
    f"{len(series)} yearly values, {years[0]} to {years[-1]}, "
    f"from {series.min():.0f} to {series.max():.0f}"
)

fig, ax = plt.subplots(figsize=(9, 3), layout="constrained")
ax.plot(years, series)
ax.set_xlabel("year")
ax.set_ylabel("sunspot number")
ax.set_title("Yearly mean sunspot number")
plt.show()

# %%
# Scaling and sliding windows
# ---------------------------
# LSTM gates saturate and the default learning rate is tuned for inputs and
# targets of order one, while sunspot numbers reach about 200. Dividing the
# whole series by a fixed constant brings them to about ``[0, 2]``. A
# constant, unlike a scaler fitted on the whole series, learns nothing from
# the years the models are tested on, and errors convert back to sunspot
# numbers by multiplying by it.
#
# Each row of ``X`` holds ``WINDOW`` consecutive years and ``y`` the year that
# follows: a one-step-ahead forecast. The rows stay in time order.
windows = np.lib.stride_tricks.sliding_window_view(series / SCALE, WINDOW + 1)
X, y = windows[:, :-1], windows[:, -1]
target_years = years[WINDOW:]
print(f"X {X.shape}, y {y.shape}: targets from {target_years[0]} to {target_years[-1]}")


# %%
# The models
# ----------
# The baseline forecasts next year's value as this year's. Written as a
# regressor, it goes through the same cross-validation as the others.
class LastValueRegressor(RegressorMixin, BaseEstimator):
    """Predict the last column of ``X``."""

    def fit(self, X, y):
        validate_data(self, X, y)
        return self

    def predict(self, X):
        check_is_fitted(self)
        return validate_data(self, X, reset=False)[:, -1]


models = {
    "LSTM 2 x 20": StackedLSTMRegressor(
        hidden_layer_sizes=(20, 20), batch_size=16, max_iter=N_EPOCHS, random_state=0
    ),
    "Ridge": Ridge(alpha=1.0),
    "last value": LastValueRegressor(),
}

# %%
# Time-ordered cross-validation
# -----------------------------
# Shuffled folds would let a model train on 1950 and be tested on 1940.
# :class:`~sklearn.model_selection.TimeSeriesSplit` always tests on years
# after the ones it trained on, each fold adding the previous test years to
# the training data. A test window may start inside the training years,
# which is legitimate: at forecast time the past is known.
cv = TimeSeriesSplit(n_splits=5)
fold_mae = {}
for name, model in models.items():
    result = cross_validate(model, X, y, cv=cv, scoring="neg_mean_absolute_error")
    fold_mae[name] = -result["test_score"] * SCALE

test_periods = [
    f"{target_years[test[0]]}-{target_years[test[-1]]}" for _, test in cv.split(X)
]
table = pd.DataFrame(fold_mae, index=test_periods).T
table["mean"] = table.mean(axis=1)
print("MAE in sunspot numbers, by test period:")
print(table.round(1).to_string())

# %%
fig, ax = plt.subplots(figsize=(8, 3.5), layout="constrained")
for name, mae in fold_mae.items():
    ax.plot(test_periods, mae, "o-", label=name)
ax.set_xlabel("test period")
ax.set_ylabel("MAE (sunspot number)")
ax.set_title("One-step-ahead error in each time-ordered fold")
ax.legend()
plt.show()

# %%
# A forecast
# ----------
# Refit on everything before the last test period and forecast each of its
# years one step ahead, from the actual values of the years before.
train, test = list(cv.split(X))[-1]
fig, ax = plt.subplots(figsize=(9, 3.5), layout="constrained")
shown = target_years >= target_years[test[0]] - 40
ax.plot(target_years[shown], y[shown] * SCALE, color="0.3", label="actual")
for name in ("LSTM 2 x 20", "Ridge"):
    forecast = models[name].fit(X[train], y[train]).predict(X[test]) * SCALE
    ax.plot(target_years[test], forecast, "--", label=name)
ax.axvline(target_years[test[0]] - 0.5, color="0.8", zorder=0)
ax.set_xlabel("year")
ax.set_ylabel("sunspot number")
ax.set_title("One-step-ahead forecasts for the last test period")
ax.legend()
plt.show()

# %%
# Reading the results
# -------------------
# The naive forecast sets the bar: a model that does not beat it in most
# folds has learned nothing useful. Between the LSTM and the linear model the
# differences are modest and change from fold to fold: with about 300 yearly
# values there is little data for a recurrent network to learn from, its
# earliest folds train on only a few dozen windows, and its result depends on
# the training budget (``N_EPOCHS``) more than the linear model's does.
