"""
====================================
A global model for a panel of series
====================================

Forecasting competitions ask for forecasts of many short series at once. A
*global* model learns from the windows of all of them together, which gives
it far more training data than any single series could. This example fits
one :class:`~sklearn_slstm.StackedLSTMRegressor` on the yearly series of the
M1 competition, forecasts the last six years of every series, and scores the
forecasts with the mean absolute scaled error (MASE). The data set is
bundled with aeon (``pip install aeon``; nothing is downloaded when the
example runs).
"""

# %%
import os

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from aeon.datasets import load_forecasting
from sklearn.model_selection import GroupKFold, cross_validate

from sklearn_slstm import ForecastDisplay, StackedLSTMRegressor, make_windows

# SKLEARN_SLSTM_FAST=1 runs a smaller version: a window every other year.
FAST = os.environ.get("SKLEARN_SLSTM_FAST", "0") == "1"
STEP = 2 if FAST else 1

# %%
# The panel
# ---------
# 181 yearly series of economic and demographic quantities, from 15 to 58
# values long and on very different scales. The competition's horizon is 6
# years: the last 6 values of each series are held out as its test part.
frame = load_forecasting("m1_yearly_dataset")
series = [np.asarray(values, dtype=float) for values in frame["series_value"]]
HORIZON = 6
train_parts = [values[:-HORIZON] for values in series]
test_parts = np.stack([values[-HORIZON:] for values in series])
lengths = np.array([len(values) for values in series])
print(f"{len(series)} series of {lengths.min()} to {lengths.max()} values")
print(f"values from {min(map(np.min, series)):.4g} to {max(map(np.max, series)):.4g}")

# %%
# Windows from series of different lengths
# ----------------------------------------
# Every series needs a forecast, made from its last ``N_TIMESTEPS`` training
# values, so the window can be no longer than the shortest training part:
# 9 values. A training window needs ``N_TIMESTEPS + HORIZON = 15`` values, and
# :func:`~sklearn_slstm.make_windows` raises a ``ValueError`` for a series
# shorter than that rather than silently dropping it. So the series are
# filtered explicitly: the long enough ones give the training windows, and
# the short ones are forecast by the same model without contributing to its
# training.
N_TIMESTEPS = min(len(part) for part in train_parts)
has_windows = np.array([len(part) >= N_TIMESTEPS + HORIZON for part in train_parts])
print(f"window length: {N_TIMESTEPS}")
print(
    f"{has_windows.sum()} series give training windows, "
    f"{(~has_windows).sum()} are too short"
)

# %%
# ``return_series_index=True`` also returns which series each window comes
# from; its positions are those of the filtered list, so they are mapped back
# to positions in the panel.
X, y, window_series = make_windows(
    [part for part, keep in zip(train_parts, has_windows, strict=True) if keep],
    N_TIMESTEPS,
    horizon=HORIZON,
    step=STEP,
    return_series_index=True,
)
window_series = np.flatnonzero(has_windows)[window_series]
print(f"X {X.shape}, y {y.shape}, from {len(np.unique(window_series))} series")

# %%
# One model for all series
# ------------------------
# The series' levels range over several orders of magnitude. The default
# scaling (``"auto"``, window scaling here) standardises each window by its
# own mean and standard deviation, so a series of thousands and a series of
# millions look alike to the network, and maps each forecast back to its
# series' scale.
model = StackedLSTMRegressor(random_state=0).fit(X, y)

X_last = np.stack([part[-N_TIMESTEPS:] for part in train_parts])
forecasts = {
    "naive": np.repeat(X_last[:, -1:], HORIZON, axis=1),
    "LSTM": model.predict(X_last),
}

# %%
# Scoring with MASE
# -----------------
# As in the Monash Time Series Forecasting Archive, each series' mean absolute
# error over the 6 test years is divided by the mean absolute error of the
# one-step naive forecast on its own training part (the mean absolute
# year-to-year change), and the scaled errors are averaged over the series.
# The naive forecast repeats each series' last training value.
naive_scale = np.array([np.mean(np.abs(np.diff(part))) for part in train_parts])


def mase(forecast):
    """The MASE of each series."""
    return np.mean(np.abs(forecast - test_parts), axis=1) / naive_scale


scores = pd.DataFrame({name: mase(forecast) for name, forecast in forecasts.items()})
table = pd.DataFrame(
    {
        f"all {len(series)} series": scores.mean(),
        f"{has_windows.sum()} with windows": scores[has_windows].mean(),
        f"{(~has_windows).sum()} too short": scores[~has_windows].mean(),
    }
).T
print("mean MASE")
print(table.round(3).to_string())

# %%
# For context, the archive's paper publishes the mean MASE of other methods
# on this data set, with the same horizon and scaling (Godahewa et al., 2021,
# "Monash Time Series Forecasting Archive", NeurIPS Datasets and Benchmarks
# track). They are quoted as published, not run here. The LSTM's number comes
# from one fit with one seed, on a machine of its own, so it is a pointer,
# not a benchmark result.
published = pd.Series(
    {"TBATS": 3.499, "ETS": 3.771, "N-BEATS": 4.384, "DeepAR": 4.603},
    name="published mean MASE",
)
print(published.to_string())
print(f"this example's LSTM: {scores['LSTM'].mean():.3f}")

# %%
# Forecasts for a few series
# --------------------------
# :meth:`ForecastDisplay.from_predictions
# <sklearn_slstm.ForecastDisplay.from_predictions>` draws the last training
# window, the forecast and the truth of one series; ``origin`` places them
# after the series' earlier history, drawn in grey. Four series, evenly
# spaced in the panel, each with its MASE.
shown = np.linspace(0, len(series) - 1, 4).astype(int)
fig, axes = plt.subplots(2, 2, figsize=(10, 6), layout="constrained")
for index, ax in zip(shown, axes.flat, strict=True):
    part = train_parts[index]
    ax.plot(np.arange(len(part)), part, color="0.6", label="history")
    ForecastDisplay.from_predictions(
        X_last,
        test_parts,
        forecasts["LSTM"],
        samples=[index],
        origin=len(part),
        ax=ax,
    )
    ax.set(xlabel="years since the first value", ylabel="")
    ax.set_title(
        f"{frame['series_name'][index]}: {len(series[index])} values, "
        f"MASE {scores['LSTM'][index]:.2f}"
    )
    if ax is not axes.flat[0]:
        ax.get_legend().remove()
fig.suptitle("LSTM forecasts of the last 6 years")
plt.show()

# %%
# How well does the model transfer to unseen series?
# --------------------------------------------------
# The series index makes a grouped cross-validation possible:
# :class:`~sklearn.model_selection.GroupKFold` keeps all the windows of a
# series in the same fold, so each fold is scored on series the model never
# saw. Raw errors of series on different scales cannot be averaged, so the
# score is a MASE per window, scaled by the mean absolute change inside the
# window, next to the same score of the naive forecast.


def window_mase(y_true, y_pred, X):
    scale = np.mean(np.abs(np.diff(X, axis=1)), axis=1)
    return np.mean(np.mean(np.abs(y_pred - y_true), axis=1) / scale)


def lstm_window_mase(estimator, X, y):
    return window_mase(y, estimator.predict(X), X)


def naive_window_mase(estimator, X, y):
    return window_mase(y, np.repeat(X[:, -1:], HORIZON, axis=1), X)


cv_results = cross_validate(
    StackedLSTMRegressor(random_state=0),
    X,
    y,
    groups=window_series,
    cv=GroupKFold(n_splits=3),
    scoring={"LSTM": lstm_window_mase, "naive": naive_window_mase},
)
print("window MASE on held-out series, by fold")
print(
    pd.DataFrame(
        {name: cv_results[f"test_{name}"] for name in ("LSTM", "naive")}
    ).round(3)
)
