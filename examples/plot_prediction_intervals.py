"""
==========================================
Prediction intervals for damped sine waves
==========================================

A point forecast says nothing about how far off it may be.
:class:`~sklearn_slstm.ConformalIntervalRegressor` wraps any regressor, here a
:class:`~sklearn_slstm.StackedLSTMRegressor`, and turns its forecasts into
intervals that contain the true value with a chosen probability, by split
conformal prediction: part of the training data is held out, and the
absolute errors of the fitted model on it set the width of the interval of
each forecast step. This example measures the coverage on fresh waves and
draws the intervals with :class:`~sklearn_slstm.ForecastDisplay`.
"""

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

from sklearn_slstm import (
    ConformalIntervalRegressor,
    ForecastDisplay,
    StackedLSTMRegressor,
    make_damped_sine,
)

# SKLEARN_SLSTM_FAST=1 (set by the documentation build) runs a smaller version.
FAST = os.environ.get("SKLEARN_SLSTM_FAST", "0") == "1"
N_TRAIN = 2_000 if FAST else 8_000
N_EPOCHS = 3 if FAST else 10

# %%
# Fitting and calibrating
# -----------------------
# ``calibration_fraction=0.25`` holds out a quarter of the waves: the LSTM is
# fitted on the other three quarters, and its errors on the held-out quarter
# calibrate the intervals. ``coverage=0.9`` asks for intervals that contain
# the true value 90% of the time.
X_train, y_train = make_damped_sine(n_samples=N_TRAIN, random_state=0)
reg = ConformalIntervalRegressor(
    StackedLSTMRegressor(max_iter=N_EPOCHS, random_state=0),
    coverage=0.9,
    calibration_fraction=0.25,
    random_state=0,
)
reg.fit(X_train, y_train)
print(
    f"LSTM fitted on {N_TRAIN - reg.n_calibration_} waves, "
    f"calibrated on {reg.n_calibration_}"
)

# %%
# Measuring the coverage
# ----------------------
# On fresh waves, each step's interval should contain the true value in about
# 90% of the waves. ``quantiles_`` holds the half-width of each step's
# interval: the further ahead, the larger the errors and the wider the
# interval.
X_test, y_test = make_damped_sine(n_samples=4_000, random_state=1)
lower, upper = reg.predict_interval(X_test)
covered = (lower <= y_test) & (y_test <= upper)
print("step  coverage  half-width")
for step, (coverage, half_width) in enumerate(
    zip(covered.mean(axis=0), reg.quantiles_, strict=True), start=1
):
    print(f"{step:>4}  {coverage:>8.3f}  {half_width:>10.4f}")

# %%
# The guarantee holds for each step on its own. All five steps of a wave are
# covered at once less often; for that, ask for a coverage of
# ``1 - 0.1 / 5 = 0.98`` (Bonferroni).
print(f"waves with all 5 steps covered: {covered.all(axis=1).mean():.3f}")

# %%
# Drawing the intervals
# ---------------------
# :meth:`ForecastDisplay.from_estimator <sklearn_slstm.ForecastDisplay.from_estimator>`
# predicts the chosen test waves and, since the estimator has a
# ``predict_interval`` method, draws the interval as a band around the
# forecast. Most waves have nearly died out by step 50, so the three shown
# are the test waves that decay slowest; the axes are zoomed on the end of
# the window and the forecast.
_, _, params_test = make_damped_sine(
    n_samples=len(X_test), return_params=True, random_state=1
)
slowest = np.argsort(params_test[:, 1])[:3]
fig, axes = plt.subplots(1, 3, figsize=(11, 3.5), layout="constrained")
for wave, ax in zip(slowest, axes, strict=True):
    ForecastDisplay.from_estimator(reg, X_test, y_test, samples=[wave], ax=ax)
    shown = np.r_[X_test[wave, 38:], lower[wave], upper[wave]]
    margin = 0.1 * np.ptp(shown)
    ax.set(xlim=(37.5, 54.5), ylim=(shown.min() - margin, shown.max() + margin))
    ax.set_title(f"period {params_test[wave, 0]:.0f}, decay {params_test[wave, 1]:.3f}")
    if ax is not axes[0]:
        ax.get_legend().remove()
fig.suptitle("Forecasts with 90% conformal intervals")
plt.show()

# %%
# The bands are narrow because the LSTM is accurate: their width is what its
# errors on the calibration waves call for, no more. A worse model gets wider
# intervals with the same coverage.
print(f"median test interval width: {np.median(upper - lower):.4f}")
