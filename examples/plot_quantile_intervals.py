"""
===================================================
Adaptive prediction intervals: split conformal, CQR
===================================================

Split-conformal intervals (:class:`~sklearn_slstm.ConformalIntervalRegressor`
with ``method="split"``) have one width per forecast step, the same for
every window. On a series whose noise grows with its level, such as the
monthly airline passengers of 1949-1960 (bundled with aeon; nothing is
downloaded), they are too wide in the quiet early years and too narrow in
the busy late ones. A quantile head
(:class:`~sklearn_slstm.StackedLSTMRegressor` with ``loss="quantile"``)
predicts quantiles for each window, so its bands follow the level;
conformalized quantile regression (``method="cqr"``) then widens or narrows
them by one calibrated amount per step, which restores the coverage
guarantee of split conformal. This example fits both on the same windows,
draws their bands with :class:`~sklearn_slstm.ForecastDisplay`, and
measures how their widths follow the level.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from aeon.datasets import load_airline

from sklearn_slstm import (
    ConformalIntervalRegressor,
    ForecastDisplay,
    StackedLSTMRegressor,
    make_windows,
)

# %%
# The series and its windows
# --------------------------
# 144 monthly totals, in thousands of passengers. The last two years are
# the test period; the models see only the ten years before it. Each window
# holds two years as input and the twelve months that follow as targets.
passengers = np.asarray(load_airline(), dtype=float)
HORIZON, N_TIMESTEPS = 12, 24
train_end = len(passengers) - 2 * HORIZON
X, y = make_windows(passengers[:train_end], N_TIMESTEPS, horizon=HORIZON)
print(f"{len(passengers)} months; {len(X)} training windows of {N_TIMESTEPS}")

# %%
# Two interval regressors
# -----------------------
# Both calibrate on the last fifth of the training windows, in time order
# (``shuffle=False``), and ask for 90% coverage. CQR needs a regressor with
# the quantiles ``(1 - coverage) / 2`` and ``(1 + coverage) / 2``, here 0.05
# and 0.95; the head also predicts the quartiles, for the plot below.
split = ConformalIntervalRegressor(
    StackedLSTMRegressor(random_state=0),
    method="split",
    coverage=0.9,
    shuffle=False,
)
cqr = ConformalIntervalRegressor(
    StackedLSTMRegressor(
        loss="quantile", quantiles=(0.05, 0.25, 0.5, 0.75, 0.95), random_state=0
    ),
    method="cqr",
    coverage=0.9,
    shuffle=False,
)
split.fit(X, y)
cqr.fit(X, y)
print(
    f"fitted on {len(X) - split.n_calibration_}, calibrated on {split.n_calibration_}"
)

# %%
# Forecasts of the last year
# --------------------------
# From the start of 1960, with the two years before it as input. The split
# band has the widths calibrated on the last windows before the test period,
# whatever the level; the CQR band, and the quantile head's own nested 50%
# and 90% bands (drawn from its quantiles by ``ForecastDisplay``), scale
# with it: wide around the summer peak, narrow in the quiet months.
origin = len(passengers) - HORIZON
X_last = passengers[origin - N_TIMESTEPS : origin][np.newaxis]
y_last = passengers[origin:][np.newaxis]
fig, axes = plt.subplots(1, 3, figsize=(12, 3.8), sharey=True, layout="constrained")
panels = [
    (split, "split conformal, 90%"),
    (cqr, "CQR, 90%"),
    (cqr.estimator_, "quantile head alone (uncalibrated)"),
]
for ax, (estimator, title) in zip(axes, panels, strict=True):
    ForecastDisplay.from_estimator(
        estimator, X_last, y_last, samples=1, origin=origin, ax=ax
    )
    ax.set(title=title, xlim=(origin - 18, origin + HORIZON), ylabel="passengers")
plt.show()

# %%
# Widths that follow the level
# ----------------------------
# Over every window of the series, the width of the 90% interval one month
# ahead against the level of the window (the mean of its input). Split
# conformal's is one number; CQR's grows with the level, as the noise of
# the series does.
X_all, y_all = make_windows(passengers, N_TIMESTEPS, horizon=HORIZON)
level = X_all.mean(axis=1)
widths = {}
for name, estimator in (("split conformal", split), ("CQR", cqr)):
    lower, upper = estimator.predict_interval(X_all)
    widths[name] = upper[:, 0] - lower[:, 0]
fig, ax = plt.subplots(figsize=(5.5, 3.8), layout="constrained")
for name, width in widths.items():
    ax.plot(level, width, ".", label=name)
ax.set(
    xlabel="mean of the input window (thousands)",
    ylabel="width one month ahead",
    title="90% interval width against level",
)
ax.legend()
plt.show()
print(
    "correlation of CQR's width with the level: "
    f"{np.corrcoef(level, widths['CQR'])[0, 1]:.2f}"
)

# %%
# Coverage and width on the test period
# -------------------------------------
# Forecasts from each month of the test period whose twelve months ahead
# are known: 13 windows, overlapping, 156 values. Too few to measure a
# coverage precisely: a single good or bad year moves it by several points.
# The test years have the highest level of the series, so CQR's bands are
# at their widest there.
origins = np.arange(train_end, len(passengers) - HORIZON + 1)
X_test = np.stack([passengers[o - N_TIMESTEPS : o] for o in origins])
y_test = np.stack([passengers[o : o + HORIZON] for o in origins])
print("method           coverage  mean width")
for name, estimator in (("split conformal", split), ("CQR", cqr)):
    lower, upper = estimator.predict_interval(X_test)
    covered = ((lower <= y_test) & (y_test <= upper)).mean()
    print(f"{name:<15}  {covered:>8.2f}  {np.mean(upper - lower):>10.1f}")

# %%
# Which to use: split conformal works around any regressor and is the
# cheaper choice when the noise does not change much along the series. CQR
# needs a quantile regressor, and pays for adaptive widths with a pinball
# loss that is harder to fit; it keeps split conformal's guarantee, which
# the quantile head alone does not have. ``benchmarks/bench_intervals.py``
# measures the three on real series against ARIMA and ETS intervals.
