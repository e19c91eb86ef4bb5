"""The models of the real-series benchmarks: the library's and its peers.

Shared by ``bench_real_series.py`` (which describes every model),
``bench_budget.py``, ``bench_defaults.py``, ``bench_honest.py`` and
``bench_intervals.py`` (``statsforecast_intervals``). The ``*_origins`` functions
forecast ``horizon`` steps (``HORIZON`` unless given, as in part 1 of
``bench_real_series.py``) from each rolling origin of one series and return
an array of shape (n_origins, horizon); they take their options as keywords
and ignore those they do not need (``bench_honest.py`` passes a horizon per
series). Peer packages are imported only when a peer runs.
"""

import json
import tempfile
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from _common import mae, settle_allocator
from real_series_data import (
    HORIZON,
    TEST_POINTS,
    load_m1_yearly,
    origin_windows,
    rolling_origins,
    window_length,
)
from sklearn.linear_model import Ridge

from sklearn_slstm import StackedLSTMRegressor, make_windows

# The deep peers' training with ``quick=True`` (``--quick``).
QUICK_DARTS_PARAMS = {"n_epochs": 1}
QUICK_NEURALFORECAST_PARAMS = {"max_steps": 5}


def lstm_regressor(seed, params):
    return StackedLSTMRegressor(**{"random_state": seed, **params})


def fit_relative_ridge(X, y, *, fit_intercept=True):
    """Ridge (default alpha) on windows made relative to their last value."""
    last = X[:, -1:]
    return Ridge(fit_intercept=fit_intercept).fit(X - last, y - last)


def predict_relative_ridge(ridge, X):
    last = X[:, -1:]
    return ridge.predict(X - last) + last


def seasonal_naive(history, season, horizon):
    """Repeat the last season; the last value when ``season`` is 1."""
    return np.resize(history[-season:], horizon)


def statsforecast_class(name):
    """A model class of statsforecast, imported only when a part needs it."""
    from statsforecast import models

    return getattr(models, name)


def statsforecast_forecast(model_class, history, horizon, season):
    """Fit a statsforecast model on ``history`` and forecast ``horizon`` steps."""
    model = model_class(season_length=season)
    return model.forecast(y=history, h=horizon)["mean"]


def statsforecast_intervals(model_class, history, horizon, season, levels):
    """Fit a statsforecast model; its intervals at ``levels`` (percent).

    Returns a dict: level -> (lower, upper), each of shape (horizon,).
    """
    model = model_class(season_length=season)
    forecast = model.forecast(y=history, h=horizon, level=list(levels))
    return {
        level: (
            np.asarray(forecast[f"lo-{level}"], dtype=float),
            np.asarray(forecast[f"hi-{level}"], dtype=float),
        )
        for level in levels
    }


def lstm_origins(
    series, origins, *, n_timesteps, seed, lstm_params, horizon=HORIZON, **_
):
    X, y = make_windows(series[: origins[0]], n_timesteps, horizon=horizon)
    regressor = lstm_regressor(seed, lstm_params).fit(X, y)
    return regressor.predict(origin_windows(series, origins, n_timesteps))


def ridge_origins(series, origins, *, n_timesteps, horizon=HORIZON, **_):
    X, y = make_windows(series[: origins[0]], n_timesteps, horizon=horizon)
    ridge = fit_relative_ridge(X, y)
    return predict_relative_ridge(ridge, origin_windows(series, origins, n_timesteps))


def snaive_origins(series, origins, *, season, horizon=HORIZON, **_):
    return np.stack(
        [seasonal_naive(series[:origin], season, horizon) for origin in origins]
    )


def statsforecast_origins(model_class):
    """Refit ``model_class`` at every origin on all data up to it."""

    def forecast(series, origins, *, season, horizon=HORIZON, **_):
        return np.stack(
            [
                statsforecast_forecast(model_class, series[:origin], horizon, season)
                for origin in origins
            ]
        )

    return forecast


def darts_origins(series, origins, *, n_timesteps, seed, quick, **_):
    """darts BlockRNNModel (LSTM), trained once on the pre-test data."""
    from darts import TimeSeries
    from darts.models import BlockRNNModel

    with tempfile.TemporaryDirectory() as work_dir:
        model = BlockRNNModel(
            model="LSTM",
            input_chunk_length=n_timesteps,
            output_chunk_length=HORIZON,
            random_state=seed,
            work_dir=work_dir,
            pl_trainer_kwargs={
                "enable_progress_bar": False,
                "enable_model_summary": False,
                "logger": False,
            },
            **(QUICK_DARTS_PARAMS if quick else {}),
        )
        values = series.astype(np.float32)
        model.fit(TimeSeries.from_values(values[: origins[0]]))
        forecasts = model.predict(
            n=HORIZON,
            series=[TimeSeries.from_values(values[:origin]) for origin in origins],
            verbose=False,
        )
    return np.stack([forecast.values()[:, 0] for forecast in forecasts])


def neuralforecast_origins(series, origins, *, n_timesteps, seed, quick, **_):
    """neuralforecast LSTM, trained once on the pre-test data."""
    from neuralforecast import NeuralForecast
    from neuralforecast.models import LSTM as NeuralForecastLSTM

    def frame(values, unique_id):
        return pd.DataFrame(
            {"unique_id": unique_id, "ds": np.arange(len(values)), "y": values}
        )

    with tempfile.TemporaryDirectory() as work_dir:
        model = NeuralForecastLSTM(
            h=HORIZON,
            input_size=n_timesteps,
            random_seed=seed,
            enable_progress_bar=False,
            enable_model_summary=False,
            logger=False,
            default_root_dir=work_dir,
            **(QUICK_NEURALFORECAST_PARAMS if quick else {}),
        )
        forecaster = NeuralForecast(models=[model], freq=1)
        forecaster.fit(df=frame(series[: origins[0]], "train"))
        # One series per origin, named so that they sort in origin order.
        histories = pd.concat(
            [frame(series[:origin], f"{k:03d}") for k, origin in enumerate(origins)]
        )
        forecasts = forecaster.predict(df=histories)
    forecasts = forecasts.reset_index().sort_values(["unique_id", "ds"])
    column = [name for name in forecasts.columns if name.startswith("LSTM")][0]
    return forecasts[column].to_numpy(dtype=float).reshape(len(origins), HORIZON)


# -------------------------------------------------- the LSTM alone, part 1 ---


def real_series_ratios(params, seeds, series_list):
    """Per seed, the LSTM's MAE over seasonal naive's on each series."""
    n_timesteps = window_length(
        HORIZON, [values[: len(values) - TEST_POINTS] for *_, values in series_list]
    )
    ratios = []
    for seed in seeds:
        row = []
        for _, _, season, values in series_list:
            origins = rolling_origins(len(values))
            actual = np.stack([values[o : o + HORIZON] for o in origins])
            predicted = lstm_origins(
                values,
                origins,
                n_timesteps=n_timesteps,
                seed=seed,
                lstm_params=params,
            )
            naive = snaive_origins(values, origins, season=season)
            row.append(mae(predicted, actual) / mae(naive, actual))
        ratios.append(row)
    return np.array(ratios)


# ------------------------------------------------------------- the M1 panel ---


@dataclass(frozen=True)
class Panel:
    """The M1 yearly panel as the global models see it (part 2).

    ``trains`` and ``tests`` split each series before its last ``horizon``
    points; ``X``, ``y`` are the training windows of the series long enough
    to give one, and ``X_last`` the last ``n_timesteps`` values of every
    series, from which each forecasts.
    """

    series: list
    horizon: int
    trains: list
    tests: np.ndarray
    n_timesteps: int
    n_trainable: int
    X: np.ndarray
    y: np.ndarray
    X_last: np.ndarray


def m1_panel(n_series=None):
    """The M1 yearly panel (its first ``n_series`` series), cut into windows."""
    series, horizon = load_m1_yearly(n_series)
    trains = [values[:-horizon] for values in series]
    n_timesteps = window_length(horizon, trains)
    trainable = [train for train in trains if len(train) >= n_timesteps + horizon]
    X, y = make_windows(trainable, n_timesteps, horizon=horizon)
    return Panel(
        series=series,
        horizon=horizon,
        trains=trains,
        tests=np.stack([values[-horizon:] for values in series]),
        n_timesteps=n_timesteps,
        n_trainable=len(trainable),
        X=X,
        y=y,
        X_last=np.stack([train[-n_timesteps:] for train in trains]),
    )


def panel_ridge(panel):
    """One relative Ridge over the panel, without an intercept.

    An intercept in the units of the series cannot serve series whose
    values range from 0.1 to 3e7 (see ``bench_real_series.py``).
    """
    ridge = fit_relative_ridge(panel.X, panel.y, fit_intercept=False)
    return predict_relative_ridge(ridge, panel.X_last)


def panel_naive(panel):
    """The last value of each series, repeated (yearly: season 1)."""
    return np.stack([seasonal_naive(t, 1, panel.horizon) for t in panel.trains])


def panel_statsforecast(panel, name):
    """statsforecast's model ``name`` fitted on each series of the panel."""
    model_class = statsforecast_class(name)
    return np.stack(
        [statsforecast_forecast(model_class, t, panel.horizon, 1) for t in panel.trains]
    )


# ------------------------- the command line of the dev/report protocol ---
# Shared by bench_honest.py (point forecasts) and bench_intervals.py
# (intervals), which run the same protocol on the same halves.

PROTOCOL_SEEDS = (0, 1, 2)
QUICK_SERIES = {"dev": ("airpassengers", "lynx"), "report": ("austres", "nile")}
QUICK_LSTM_PARAMS = {"max_iter": 1}
HALF_TITLES = {"dev": "development half", "report": "report half"}


def add_protocol_arguments(parser, *, halves, default_half):
    """The options of both scripts: --half, --quick, --threads, --lstm-params."""
    parser.add_argument(
        "--half",
        choices=halves,
        default=default_half,
        help=f"which half of the series to run (default {default_half})",
    )
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes, for a smoke test"
    )
    parser.add_argument(
        "--threads", type=int, default=1, help="torch threads (0: torch's default)"
    )
    parser.add_argument(
        "--lstm-params",
        type=json.loads,
        default={},
        help="extra StackedLSTMRegressor parameters as a JSON object",
    )


def start_protocol(args):
    """Apply --threads and print the LSTM's parameters; the LSTM params and seeds."""
    settle_allocator()
    if args.threads:
        torch.set_num_threads(args.threads)
    lstm_params = {**(QUICK_LSTM_PARAMS if args.quick else {}), **args.lstm_params}
    defaults = StackedLSTMRegressor().get_params()
    print(
        "StackedLSTMRegressor defaults: "
        + ", ".join(f"{name}={value!r}" for name, value in sorted(defaults.items()))
    )
    if lstm_params:
        print(f"StackedLSTMRegressor extra parameters: {json.dumps(lstm_params)}")
    return lstm_params, PROTOCOL_SEEDS[:1] if args.quick else PROTOCOL_SEEDS
