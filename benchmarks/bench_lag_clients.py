"""StackedLSTMRegressor through skforecast and sktime, against its own workflow.

Run from the repository root::

    python benchmarks/bench_lag_clients.py            # about 2 minutes on 2 cores
    python benchmarks/bench_lag_clients.py --quick    # smoke test, 1 seed, 1 epoch
    python benchmarks/bench_lag_clients.py --other-series   # about a minute

Needs ``pip install "sklearn-slstm[benchmarks,clients]"``: the series ship
inside statsmodels (``co2``: weekly means resampled monthly, gaps
interpolated) and pmdarima (``airpassengers``, monthly), so nothing is
downloaded.

Protocol, the same for every row: 24 lags (the window), 12-step forecasts,
the last 36 points of each series as the test region. Every model is fitted
once, on the points before the test region, and forecasts 12 steps from
the three origins 36, 24 and 12 points before the end, each time from the
actual values before the origin (skforecast's ``backtesting_forecaster``
with ``refit=False``; sktime's ``update(..., update_params=False)``). The
MAE is over the 36 forecast values; each cell is the median over seeds 0, 1
and 2 of ``random_state``. "ratio" divides by the first row, the library's
own direct workflow (``make_windows(..., horizon=12)``, as in the
forecasting guide and the README).

Rows that name ``global, 20 epochs`` fit
``StackedLSTMRegressor(scaling="global", max_iter=20)``; all others use the
defaults. The exogenous rows add the month of each target as two columns
(sine and cosine), which ``LagsToSequences`` repeats along the window as
two more channels.

``--other-series`` runs, instead, the library's own direct and recursive
workflows (the recursive one forecasts exactly as skforecast's and
sktime's recursive forecasters do, see the tests) on five more bundled
series, wineind (monthly), ausbeer and woolyrnq (quarterly), sunspots and
lynx (yearly), with the same protocol: whether ``scaling="global"`` with 20
epochs helps the one-step model beyond co2 and air passengers. Progress
goes to stderr, the table to stdout.
"""

import argparse
import statistics
import sys
import time
import warnings

import numpy as np
import pandas as pd
import torch
from _common import log, mae
from real_series_data import load_co2, load_pmdarima, load_single_series
from sklearn.pipeline import make_pipeline

from sklearn_slstm import LagsToSequences, StackedLSTMRegressor, make_windows

N_LAGS = 24
HORIZON = 12
TEST_POINTS = 36
SEASON = 12
GLOBAL_20 = {"scaling": "global", "max_iter": 20}


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="1 seed, 1 epoch")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument(
        "--other-series",
        action="store_true",
        help="the own workflows on five more series instead",
    )
    return parser.parse_args(argv)


def origins(n_points):
    return list(range(n_points - TEST_POINTS, n_points, HORIZON))


def month_exog(n_points):
    """Sine and cosine of the month, a calendar known for every future step."""
    angle = 2 * np.pi * (np.arange(n_points) % SEASON) / SEASON
    return pd.DataFrame({"month_sin": np.sin(angle), "month_cos": np.cos(angle)})


# ------------------------------------------------------------------ models ---


def own_direct(series, make_lstm):
    """make_windows with the full horizon: one model, 12 outputs."""
    X, y = make_windows(series[:-TEST_POINTS], n_timesteps=N_LAGS, horizon=HORIZON)
    model = make_lstm().fit(X, y)
    windows = np.stack([series[o - N_LAGS : o] for o in origins(len(series))])
    return model.predict(windows).ravel()


def own_recursive(series, make_lstm):
    """make_windows one step ahead, and forecast() feeding predictions back."""
    X, y = make_windows(series[:-TEST_POINTS], n_timesteps=N_LAGS, horizon=1)
    model = make_lstm().fit(X, y.ravel())
    windows = np.stack([series[o - N_LAGS : o] for o in origins(len(series))])
    return model.forecast(windows, horizon=HORIZON).ravel()


def skforecast_backtest(forecaster, series, exog=None):
    from skforecast.model_selection import TimeSeriesFold, backtesting_forecaster

    cv = TimeSeriesFold(
        steps=HORIZON, initial_train_size=len(series) - TEST_POINTS, refit=False
    )
    _, predictions = backtesting_forecaster(
        forecaster,
        y=pd.Series(series),
        exog=exog,
        cv=cv,
        metric="mean_absolute_error",
        show_progress=False,
    )
    return predictions["pred"].to_numpy()


def skforecast_recursive(regressor, exog=False):
    def run(series, make_lstm):
        from skforecast.recursive import ForecasterRecursive

        forecaster = ForecasterRecursive(regressor(make_lstm), lags=N_LAGS)
        return skforecast_backtest(
            forecaster, series, month_exog(len(series)) if exog else None
        )

    return run


def skforecast_direct(series, make_lstm):
    from skforecast.direct import ForecasterDirect

    forecaster = ForecasterDirect(
        recipe(make_lstm), steps=HORIZON, lags=N_LAGS, n_jobs=1
    )
    return skforecast_backtest(forecaster, series)


def sktime_reduction(strategy):
    def run(series, make_lstm):
        from sktime.forecasting.compose import make_reduction

        y = pd.Series(series)
        forecaster = make_reduction(
            make_lstm(), window_length=N_LAGS, strategy=strategy
        )
        steps = np.arange(1, HORIZON + 1)
        forecaster.fit(y.iloc[:-TEST_POINTS], fh=steps)
        forecasts = []
        for start in range(len(y) - TEST_POINTS, len(y), HORIZON):
            if start > len(y) - TEST_POINTS:
                forecaster.update(y.iloc[start - HORIZON : start], update_params=False)
            forecasts.append(forecaster.predict(fh=steps).to_numpy())
        return np.concatenate(forecasts)

    return run


def seasonal_naive(series, make_lstm):
    return np.concatenate(
        [series[o - SEASON : o][:HORIZON] for o in origins(len(series))]
    )


def recipe(make_lstm):
    return make_pipeline(LagsToSequences(n_lags=N_LAGS), make_lstm())


# (label, run, extra regressor parameters); the first row is the reference.
ROWS = [
    ("own workflow: make_windows(horizon=12), direct", own_direct, {}),
    ("own workflow: make_windows(horizon=1) + forecast()", own_recursive, {}),
    ("skforecast ForecasterRecursive, recipe", skforecast_recursive(recipe), {}),
    (
        "skforecast ForecasterRecursive, recipe, global, 20 epochs",
        skforecast_recursive(recipe),
        GLOBAL_20,
    ),
    (
        "skforecast ForecasterRecursive, no LagsToSequences",
        skforecast_recursive(lambda make_lstm: make_lstm()),
        {},
    ),
    (
        "skforecast ForecasterRecursive, no LagsToSequences, global, 20 epochs",
        skforecast_recursive(lambda make_lstm: make_lstm()),
        GLOBAL_20,
    ),
    (
        "skforecast ForecasterRecursive, recipe + month exog",
        skforecast_recursive(recipe, exog=True),
        {},
    ),
    (
        "skforecast ForecasterRecursive, recipe + month exog, global, 20 epochs",
        skforecast_recursive(recipe, exog=True),
        GLOBAL_20,
    ),
    ("skforecast ForecasterDirect, recipe (12 models)", skforecast_direct, {}),
    ("sktime make_reduction recursive", sktime_reduction("recursive"), {}),
    (
        "sktime make_reduction recursive, global, 20 epochs",
        sktime_reduction("recursive"),
        GLOBAL_20,
    ),
    ("sktime make_reduction direct (12 models)", sktime_reduction("direct"), {}),
    ("seasonal naive (last 12 values)", seasonal_naive, None),
]

OTHER_SERIES = ["wineind", "ausbeer", "woolyrnq", "sunspots", "lynx"]
OTHER_ROWS = [
    ROWS[0],
    ("own workflow: make_windows(horizon=1) + forecast()", own_recursive, {}),
    (
        "own workflow: make_windows(horizon=1) + forecast(), global, 20 epochs",
        own_recursive,
        GLOBAL_20,
    ),
]


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    seeds = range(1 if args.quick else args.seeds)
    if args.other_series:
        rows = OTHER_ROWS
        series = {
            name: values for name, _, _, values in load_single_series(OTHER_SERIES)
        }
    else:
        rows = ROWS
        series = {
            "co2": load_co2(),
            "airpassengers": load_pmdarima("airpassengers"),
        }
    results = {}
    started = time.perf_counter()
    for label, run, params in rows:
        for name, values in series.items():
            test = values[-TEST_POINTS:]
            scores, seconds = [], []
            for seed in seeds if params is not None else [None]:

                def make_lstm(seed=seed, params=params):
                    epochs = {"max_iter": 1} if args.quick else {}
                    return StackedLSTMRegressor(
                        random_state=seed, **{**(params or {}), **epochs}
                    )

                tic = time.perf_counter()
                with warnings.catch_warnings():
                    # The clients' own advice (frequency, bins) is not measured.
                    warnings.simplefilter("ignore")
                    forecast = run(values, make_lstm)
                seconds.append(time.perf_counter() - tic)
                assert forecast.shape == test.shape, (label, forecast.shape)
                scores.append(mae(forecast, test))
            results[label, name] = (statistics.median(scores), sum(seconds))
            log(f"{label} / {name}: MAE {results[label, name][0]:.3f}")
    print_table(rows, results, series, seeds, time.perf_counter() - started)


def print_table(rows, results, series, seeds, total):
    reference = rows[0][0]
    width = max(len(label) for label, _, _ in rows)
    header = f"{'model':<{width}}"
    for name in series:
        header += f"  {'MAE ' + name:>{max(12, len(name) + 4)}}  {'ratio':>5}"
    header += f"  {'time (s)':>8}"
    print(
        f"Lag-matrix clients: {N_LAGS} lags, {HORIZON}-step forecasts from 3 "
        f"origins in the last {TEST_POINTS} points; median MAE over "
        f"{len(seeds)} seed(s); ratio to the first row"
    )
    print(header)
    print("-" * len(header))
    for label, _, _ in rows:
        line = f"{label:<{width}}"
        seconds = 0.0
        for name in series:
            score, elapsed = results[label, name]
            ratio = score / results[reference, name][0]
            line += f"  {score:>{max(12, len(name) + 4)}.3f}  {ratio:>5.2f}"
            seconds += elapsed
        line += f"  {seconds:>8.1f}"
        print(line)
    print(f"total {total:.0f} s; time: all seeds and series")


if __name__ == "__main__":
    sys.exit(main())
