"""The training budget: small damped sine data against real series.

Run from the repository root::

    python benchmarks/bench_budget.py             # about 5 minutes
    python benchmarks/bench_budget.py --quick     # one budget, fewer seeds

Each row is one training budget of ``StackedLSTMRegressor`` (all other
parameters at their defaults). Four measures, each a mean over seeds:

- **sine 200 / sine 1000**: R^2 on 1,000 fresh damped sine waves
  (``make_damped_sine``) after training on 200 or 1,000 waves, and the
  median fit time on 200 waves (3 seeds).
- **real series**: part 1 of ``bench_real_series.py`` (seven bundled
  series of 78 to 490 training points), the LSTM's MAE over seasonal
  naive's, geometric mean over series (5 seeds; lower is better).
- **M1 panel**: part 2 of ``bench_real_series.py`` (one global model on
  1,016 windows of the M1 yearly panel), mean MASE (3 seeds; lower is
  better).

The question it answers: do small data sets need a larger budget (more
epochs, or more steps through smaller batches) than the defaults give? The
damped sine problem says yes, real series of the same sizes say no. Needs
the ``benchmarks`` extra. The real series, their protocol and the LSTM's
rolling-origin forecasts come from ``real_series_data.py`` and
``real_series_models.py``, which ``bench_real_series.py`` uses too. The
table is on stdout, progress on stderr.
"""

import argparse
import statistics
import warnings

import numpy as np
import torch
from _common import columns_text, log, timed
from real_series_data import (
    load_m1_yearly,
    load_single_series,
    mase,
    window_length,
)
from real_series_models import real_series_ratios
from sklearn.metrics import r2_score

from sklearn_slstm import StackedLSTMRegressor, make_damped_sine, make_windows

# (label, parameters): budgets around the defaults.
BUDGETS = [
    ("defaults: 8 epochs of 16", {}),
    ("12 epochs", {"max_iter": 12}),
    ("16 epochs", {"max_iter": 16}),
    ("24 epochs", {"max_iter": 24}),
    ("batches of 8 (twice the steps)", {"batch_size": 8}),
    ("24 epochs, early stopping", {"max_iter": 24, "early_stopping": True}),
]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke test")
    return parser.parse_args(argv)


def sine_r2(params, n_samples, seeds):
    """R^2 on fresh waves and fit times, one per seed."""
    X_test, y_test = make_damped_sine(1_000, random_state=12_345)
    scores, seconds = [], []
    for seed in seeds:
        X, y = make_damped_sine(n_samples, random_state=100 + seed)
        regressor = StackedLSTMRegressor(random_state=seed, **params)
        _, stopwatch = timed(regressor.fit, X, y)
        scores.append(r2_score(y_test, regressor.predict(X_test)))
        seconds.append(stopwatch.wall)
    return float(np.mean(scores)), statistics.median(seconds)


def m1_panel_mase(params, seeds):
    """Mean MASE of one global model on the M1 yearly panel, mean over seeds."""
    series, horizon = load_m1_yearly()
    trains = [values[:-horizon] for values in series]
    tests = [values[-horizon:] for values in series]
    n_timesteps = window_length(horizon, trains)
    trainable = [train for train in trains if len(train) >= n_timesteps + horizon]
    X, y = make_windows(trainable, n_timesteps, horizon=horizon)
    X_last = np.stack([train[-n_timesteps:] for train in trains])
    scores = []
    for seed in seeds:
        regressor = StackedLSTMRegressor(random_state=seed, **params).fit(X, y)
        forecasts = regressor.predict(X_last)
        scores.append(
            np.mean(
                [
                    mase(forecast, test, train)
                    for forecast, test, train in zip(
                        forecasts, tests, trains, strict=True
                    )
                ]
            )
        )
    return float(np.mean(scores))


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(1)
    budgets = BUDGETS[:1] if args.quick else BUDGETS
    sine_seeds = range(1 if args.quick else 3)
    real_seeds = range(1 if args.quick else 5)
    panel_seeds = range(1 if args.quick else 3)
    series_list = load_single_series()
    rows = []
    for label, params in budgets:
        log(f"{label}: {params}")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            r2_200, seconds_200 = sine_r2(params, 200, sine_seeds)
            r2_1000, _ = sine_r2(params, 1_000, sine_seeds)
            ratios = real_series_ratios(params, real_seeds, series_list)
            panel = m1_panel_mase(params, panel_seeds)
        geometric = np.exp(np.log(ratios).mean(axis=1)).mean()
        rows.append(
            (
                label,
                f"{r2_200:.3f}",
                f"{seconds_200:.2f} s",
                f"{r2_1000:.3f}",
                f"{geometric:.3f}",
                f"{panel:.3f}",
            )
        )
    print(
        "Sine: R^2 on 1,000 fresh waves (mean over seeds) and median fit time. "
        "Real series: MAE / seasonal naive, geometric mean. M1 panel: mean MASE."
    )
    print(
        columns_text(
            (
                "budget",
                "sine 200 R^2",
                "fit 200",
                "sine 1000 R^2",
                "real series",
                "M1 panel",
            ),
            rows,
        )
    )


if __name__ == "__main__":
    main()
