"""Recipes around StackedLSTMRegressor for bench_honest.py's candidates.

A recipe changes how the LSTM of ``bench_honest.py`` is trained on one
series, without changing the library: an ensemble of seeds, another window
length, residual targets against a baseline, or early stopping on a
time-ordered validation split. ``recipe_origins`` forecasts from each
origin as ``real_series_models.lstm_origins`` does, under a ``Recipe``;
the default ``Recipe()`` is that function's model exactly (one member, the
window it is given, no residual, the library's own split).
"""

from dataclasses import dataclass

import numpy as np
import torch
from real_series_data import origin_windows
from real_series_models import fit_relative_ridge, predict_relative_ridge
from sklearn.linear_model import Ridge
from skorch.callbacks import Callback

from sklearn_slstm import StackedLSTMRegressor, make_windows

# Member k of the ensemble of seed s has seed s + k * MEMBER_SEED_STRIDE:
# member 0 is the single model of seed s, and the ensembles of the
# benchmark's seeds 0, 1 and 2 share no member.
MEMBER_SEED_STRIDE = 1000
WINDOW_RULES = ("2h", "3h", "4h", "max(2h,2m)", "max(2h,3m)")
BASELINES = (None, "snaive", "last", "ridge")


@dataclass(frozen=True)
class Recipe:
    """How the LSTM is trained and combined on one series.

    Parameters
    ----------
    members : int
        Models per forecast, seeds ``seed + k * MEMBER_SEED_STRIDE``; the
        forecast is the median of theirs (the mean for two).
    window : str
        The window length: one of ``WINDOW_RULES`` (``h`` the horizon,
        ``m`` the season); "2h" is the benchmark's rule. Several joined by
        "+" ("2h+3h") are taken in turn by the members (member ``k`` the
        ``k % n``-th), an ensemble over window lengths as N-BEATS's.
    baseline : str or None
        Residual targets: the network learns ``(y - baseline) / scale`` of
        each window, standardised by the window's own mean and scale (the
        window scaling of the library, done here with ``scaling=None``),
        and the baseline is added back. "snaive" repeats the window's last
        season, "last" its last value, "ridge" is the forecast of Ridge on
        window-relative inputs (``bench_honest.py``'s Ridge), fitted on the
        same training windows.
    time_split : float or None
        Early stopping on the last ``time_split`` of the windows (in time
        order), with the ``horizon - 1`` windows before them left out of
        training so that no training target lies in the validation period.
    refit : bool
        With ``time_split``: refit on all windows for the number of epochs
        that early stopping kept (at least one), the schedule sized to them.
    ridge_init : bool
        Start the linear skip path from a Ridge fitted on the windows and
        targets as the network sees them (window-scaled), and the head's
        bias from its intercept.
    network : bool
        False: the baseline alone, no LSTM (a control for ``baseline``).
    """

    members: int = 1
    window: str = "2h"
    baseline: str | None = None
    time_split: float | None = None
    refit: bool = False
    ridge_init: bool = False
    network: bool = True

    def __post_init__(self):
        if not set(self.window.split("+")) <= set(WINDOW_RULES):
            raise ValueError(f"window must be of {WINDOW_RULES}, joined by '+'")
        if self.baseline not in BASELINES:
            raise ValueError(f"baseline must be one of {BASELINES}")
        if self.refit and self.time_split is None:
            raise ValueError("refit needs time_split")
        if not self.network and self.baseline is None:
            raise ValueError("network=False needs a baseline")

    def n_timesteps(self, horizon, season, training_length, member=0):
        lengths = {
            "2h": 2 * horizon,
            "3h": 3 * horizon,
            "4h": 4 * horizon,
            "max(2h,2m)": max(2 * horizon, 2 * season),
            "max(2h,3m)": max(2 * horizon, 3 * season),
        }
        rules = self.window.split("+")
        return min(lengths[rules[member % len(rules)]], training_length)


class TimeOrderedSplit:
    """A skorch ``train_split``: the last rows validate, the rows before train.

    The rows are windows of one series in time order. ``gap`` rows just
    before the validation rows are used for neither, so that the targets
    of the training windows end before those of the validation windows.
    Has the ``n_train`` of the library's split, which the learning-rate
    schedule reads to size itself.
    """

    def __init__(self, validation_fraction, gap=0):
        self.validation_fraction = validation_fraction
        self.gap = gap

    def n_valid(self, n_samples):
        return max(1, round(n_samples * self.validation_fraction))

    def n_train(self, n_samples):
        n_train = n_samples - self.n_valid(n_samples) - self.gap
        if n_train < 1:
            raise ValueError("no training rows left before the validation rows")
        return n_train

    def __call__(self, dataset, y=None, *, generator=None, **fit_params):
        from skorch.dataset import Dataset

        n_samples = len(dataset)
        n_train = self.n_train(n_samples)
        train = np.arange(n_train)
        valid = np.arange(n_samples - self.n_valid(n_samples), n_samples)
        return (
            Dataset(dataset.X[train], dataset.y[train]),
            Dataset(dataset.X[valid], dataset.y[valid]),
        )


class TimeSplitLSTMRegressor(StackedLSTMRegressor):
    """StackedLSTMRegressor whose early stopping holds out the last windows.

    A prototype of a library option: with ``early_stopping=True`` the net's
    random ``train_split`` is replaced by ``TimeOrderedSplit``. The fraction
    is ``validation_fraction``; the gap is the number of outputs less one
    (the windows whose targets reach into the validation period).
    """

    def _build_net(self, attributes, *, device, incremental):
        net = super()._build_net(attributes, device=device, incremental=incremental)
        if self.early_stopping:
            gap = self._n_network_outputs(attributes) - 1
            net.set_params(
                train_split=TimeOrderedSplit(self.validation_fraction, gap=gap)
            )
        return net


def safe_window_scale(X):
    location = X.mean(axis=1, keepdims=True)
    scale = X.std(axis=1, keepdims=True)
    scale = np.where(scale > 0, scale, np.maximum(np.abs(location), 1.0))
    return location, scale


def baseline_forecast(X, baseline, season, horizon):
    """Each window's baseline forecast: its last season (or value), repeated."""
    period = season if baseline == "snaive" else 1
    return np.tile(X[:, -period:], (1, -(-horizon // period)))[:, :horizon]


def fit_baseline(X, y, baseline, season, *, panel=False):
    """The baseline of residual targets, fitted on the training windows.

    On a ``panel`` the Ridge has no intercept, as ``panel_ridge``'s.
    """
    horizon = y.shape[1]
    if baseline is None:
        return lambda X: np.repeat(safe_window_scale(X)[0], horizon, axis=1)
    if baseline == "ridge":
        ridge = fit_relative_ridge(X, y, fit_intercept=not panel)
        return lambda X: predict_relative_ridge(ridge, X)
    return lambda X: baseline_forecast(X, baseline, season, horizon)


class SkipFromRidge(Callback):
    """Start the linear skip path (and the head's bias) from a Ridge solution.

    ``coef`` and ``intercept`` are those of a Ridge fitted on the inputs and
    targets as the network sees them; the LSTM then learns what it misses.
    """

    def __init__(self, coef, intercept):
        self.coef, self.intercept = coef, intercept

    def on_train_begin(self, net, **kwargs):
        module = net.module_
        with torch.no_grad():
            module.skip.weight.copy_(torch.as_tensor(self.coef))
            module.head.bias.copy_(torch.as_tensor(self.intercept))


def fit_member(X, y, *, seed, season, lstm_params, recipe, panel=False):
    """One fitted member; a function that maps windows to forecasts."""
    params = {"random_state": seed, **lstm_params}
    if recipe.time_split is not None:
        params.update(early_stopping=True, validation_fraction=recipe.time_split)
        estimator_class = TimeSplitLSTMRegressor
    else:
        estimator_class = StackedLSTMRegressor
    if recipe.baseline is None and not recipe.ridge_init:
        # The library's own window scaling.
        regressor = estimator_class(**params).fit(X, y)
        if recipe.refit:
            regressor = refit(regressor, params, X, y)
        return regressor.predict

    # Window scaling done here (scaling=None), so that the targets can be
    # residuals against a baseline: (y - baseline(X)) / scale.
    params["scaling"] = None
    base = fit_baseline(X, y, recipe.baseline, season, panel=panel)

    def transform(X):
        location, scale = safe_window_scale(X)
        return (X - location) / scale, scale

    if not recipe.network:
        return base
    X_in, scale = transform(X)
    y_in = (y - base(X)) / scale
    if recipe.ridge_init:
        ridge = Ridge().fit(X_in, y_in)
        callback = SkipFromRidge(
            ridge.coef_.astype(np.float32), ridge.intercept_.astype(np.float32)
        )
        params["callbacks"] = [*(params.get("callbacks") or ()), callback]
    regressor = estimator_class(**params).fit(X_in, y_in)
    if recipe.refit:
        regressor = refit(regressor, params, X_in, y_in)

    def predict(windows):
        windows_in, scale = transform(windows)
        return base(windows) + regressor.predict(windows_in) * scale

    return predict


def refit(regressor, params, X, y):
    """Refit on all of ``X`` for the epochs that early stopping kept."""
    epochs = max(1, int(np.argmin(regressor.net_.history[:, "valid_loss"])) + 1)
    params = {**params, "early_stopping": False, "max_iter": epochs}
    return StackedLSTMRegressor(**params).fit(X, y)


def recipe_origins(series, origins, *, horizon, season, seed, lstm_params, recipe, **_):
    """The LSTM's forecasts from each origin (n_origins, horizon) under ``recipe``."""
    forecasts = []
    for k in range(recipe.members):
        n_timesteps = recipe.n_timesteps(horizon, season, origins[0], member=k)
        X, y = make_windows(series[: origins[0]], n_timesteps, horizon=horizon)
        member = fit_member(
            X,
            y,
            seed=seed + k * MEMBER_SEED_STRIDE,
            season=season,
            lstm_params=lstm_params,
            recipe=recipe,
        )
        forecasts.append(member(origin_windows(series, origins, n_timesteps)))
    return np.median(forecasts, axis=0)


def panel_recipe(panel, seed, lstm_params, recipe):
    """The M1 panel's forecasts (one row per series) of a global model.

    Members and baseline as on one series (yearly: season 1), the Ridge
    baseline without an intercept; every member keeps the panel's window
    ``panel.n_timesteps`` (its shortest series allow no longer one), whatever
    the recipe's window rule. The panel's windows are not in one time
    order, so ``time_split`` is refused.
    """
    if recipe.time_split is not None:
        raise ValueError("the M1 panel takes no time_split")
    forecasts = [
        fit_member(
            panel.X,
            panel.y,
            seed=seed + k * MEMBER_SEED_STRIDE,
            season=1,
            lstm_params=lstm_params,
            recipe=recipe,
            panel=True,
        )(panel.X_last)
        for k in range(recipe.members)
    ]
    return np.median(forecasts, axis=0)
