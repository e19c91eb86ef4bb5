"""Judge the library's prediction intervals against ARIMA's, ETS's and naive's.

Run from the repository root::

    python benchmarks/bench_intervals.py                # the report half, minutes
    python benchmarks/bench_intervals.py --quick        # smoke test, seconds
    python benchmarks/bench_intervals.py --half dev     # the development half

Why
---
``ConformalIntervalRegressor``'s split-conformal intervals have the same
width for every window; conformalized quantile regression (CQR,
``method="cqr"``) calibrates the quantiles of a quantile head
(``StackedLSTMRegressor(loss="quantile")``), whose widths follow each
window. This script measures both, and the quantile head alone, against
the model-based intervals of statsforecast's AutoARIMA and AutoETS and the
empirical intervals of seasonal naive, at 80% and 95%.

Protocol
--------
``bench_honest.py``'s, on its report half by default (``--half dev`` for
the development half): per series, the season ``m`` and horizon ``h`` of
``FREQUENCY_RULES``, the 7 origins of ``spread_origins`` over the last
``3 h`` points, windows of ``window_length``. The LSTM models are trained
once per series on ``make_windows`` over the training part (everything
before the first origin) and forecast from the last ``n_timesteps``
values at each origin; AutoARIMA and AutoETS (``season_length=m``,
``level=[80, 95]``) are refitted at every origin on all data up to it.

Models:

- **split conformal**: ``ConformalIntervalRegressor(StackedLSTMRegressor(),
  method="split", shuffle=False, coverage=c)``: the last fifth of the
  training windows calibrates one width per step.
- **quantile head**: ``StackedLSTMRegressor(loss="quantile",
  quantiles=QUANTILES)``, fitted on all training windows; its
  ``(1 - c) / 2`` and ``(1 + c) / 2`` quantiles, uncalibrated. One head
  serves both levels.
- **CQR**: ``ConformalIntervalRegressor`` around that head,
  ``method="cqr", shuffle=False, coverage=c``.
- **AutoARIMA**, **AutoETS**: statsforecast's intervals (normal, from the
  fitted model).
- **seasonal naive**: its forecast plus the empirical ``(1 - c) / 2`` and
  ``(1 + c) / 2`` quantiles of its in-sample ``j``-step errors, per step
  ``j``, over all data up to the origin (errors of forecasts made, like
  this one, by repeating the last season). Not the residual-based normal
  approximation.

Each ``ConformalIntervalRegressor`` keeps its default
``calibration_fraction=0.2`` unless that gives fewer calibration windows
than a finite interval needs (``ceil(c / (1 - c))``: 4 at 80%, 19 at 95%);
then the fraction is raised to exactly that many windows, so that no
interval is infinite. The "calib" columns of the first table give the
fraction used at each level.

Metrics, per series and level, over all origins and steps: coverage (the
share of actual values inside their interval), mean width, and the mean
scaled interval score (MSIS, the M4 competition's definition): the mean
over origins and steps of ``(U - L) + (2 / a) (L - y) [y < L] +
(2 / a) (y - U) [y > U]`` with ``a = 1 - c``, divided by the mean absolute
seasonal difference (season ``m``; ``m = 1``: one step) of the training
part. The width is divided by the same scale, so that it can be compared
across series. Summaries: the geometric mean over series of the scaled
width and of MSIS; for coverage, the mean over series and the number of
series within 5 points of nominal. The LSTM models run with seeds 0, 1
and 2: each metric is the mean over seeds.

Targets (issue 21): CQR's coverage within 5 points of nominal on every
series, and CQR's geometric-mean MSIS at 95% below split conformal's and
AutoETS's (goal: below AutoARIMA's). The script prints PASS or MISS.

Time: fit plus all forecasts, summed over series, levels and seeds, in
seconds, per model family. With ``--quick`` (two series, one origin, one
epoch, one seed) the figures mean nothing. Threads: torch runs
``--threads`` threads (default 1). Progress goes to stderr, the markdown
tables to stdout.

One head for both levels
------------------------
Chosen on the development half (``--half dev``), never the report half:
one head with ``QUANTILES`` against one head per level (``(1 - c) / 2``,
0.5, ``(1 + c) / 2``), with the same protocol and seeds. Geometric-mean
MSIS at 95%: quantile head 6.695 (shared) against 7.155 (per level), CQR
7.729 against 7.957; at 80%: head 4.078 against 4.055, CQR 4.530 against
4.525. No worse, and one fit instead of two.

Measured
--------
On the 2-core machine this was written on, 2026-12-02, with the library
defaults (the first line of the output lists them), in 3.1 minutes; a
second run gave the same figures, in 2.6 minutes (AutoARIMA 105 s)::

    OMP_NUM_THREADS=1 python benchmarks/bench_intervals.py

    Report half, 9 series, seeds [0, 1, 2]; geometric means over series
    (coverage: mean over series, and series within 5 points of nominal)

    model            80%: cov  within  width   MSIS   95%: cov  within  width    MSIS
    split conformal     0.781     2/9   3.08   4.99      0.845     5/9   5.06   10.13
    quantile head       0.748     3/9   2.85   4.70      0.889     6/9   5.03    7.53
    CQR                 0.830     4/9   3.59   4.59      0.900     5/9   6.47    8.54
    AutoARIMA           0.821     2/9   2.54   3.57      0.934     6/9   3.89    5.33
    AutoETS             0.804     3/9   2.45   4.01      0.905     5/9   3.75    6.51
    seasonal naive      0.805     2/9   3.25   5.08      0.891     6/9   5.24    8.63

    Time, seconds: split conformal 6.0, quantile head 4.4, CQR 6.7,
    AutoARIMA 125.4, AutoETS 4.0, seasonal naive 0.1

The targets: CQR's geometric-mean MSIS at 95% is below split conformal's
(8.54 against 10.13, and on each seed: 8.86, 8.41, 8.29 against 9.90,
10.11, 10.32) but above AutoETS's (6.51) and AutoARIMA's (5.33): missed.
CQR's coverage is within 5 points of nominal on 5 of 9 series at 95%
(outside: austres 0.798, german_rate 0.714, nile 0.889, heartrate 0.824)
and on 4 of 9 at 80%: missed. The per-series tables are in the
forecasting guide's "Adaptive intervals" section.
"""

import argparse
import math
import sys
import warnings

import numpy as np
from _common import geometric_mean, log, markdown_table, timed
from real_series_data import (
    interval_score,
    load_catalogue,
    origin_windows,
    seasonal_scale,
    spread_origins,
    window_length,
)
from real_series_models import (
    HALF_TITLES,
    QUICK_SERIES,
    add_protocol_arguments,
    lstm_regressor,
    seasonal_naive,
    start_protocol,
    statsforecast_class,
    statsforecast_intervals,
)

from sklearn_slstm import ConformalIntervalRegressor, make_windows

LEVELS = (80, 95)
# One quantile head for both levels: (1 - c) / 2 and (1 + c) / 2 of each.
QUANTILES = (0.025, 0.1, 0.5, 0.9, 0.975)
DEFAULT_CALIBRATION_FRACTION = 0.2

SPLIT = "split conformal"
HEAD = "quantile head"
CQR = "CQR"
ARIMA = "AutoARIMA"
ETS = "AutoETS"
SNAIVE = "seasonal naive"
LSTM_MODELS = (SPLIT, HEAD, CQR)
MODELS = (*LSTM_MODELS, ARIMA, ETS, SNAIVE)
LABELS = {SPLIT: "split", HEAD: "head", SNAIVE: "snaive", ARIMA: "ARIMA", ETS: "ETS"}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_protocol_arguments(parser, halves=("dev", "report"), default_half="report")
    return parser.parse_args(argv)


# ------------------------------------------------------------- intervals ---
# Each returns {level: (lower, upper)}, each of shape (n_origins, horizon).


def calibration_fraction(n_windows, level):
    """The default fraction, raised where it would give an infinite interval."""
    coverage = level / 100
    needed = math.ceil(round(coverage / (1 - coverage), 9))
    return max(DEFAULT_CALIBRATION_FRACTION, needed / n_windows)


def quantile_regressor(seed, lstm_params):
    return lstm_regressor(
        seed, {"loss": "quantile", "quantiles": QUANTILES, **lstm_params}
    )


def conformal_intervals(estimator, method, X, y, X_origins):
    intervals = {}
    for level in LEVELS:
        conformal = ConformalIntervalRegressor(
            estimator,
            coverage=level / 100,
            method=method,
            calibration_fraction=calibration_fraction(len(X), level),
            shuffle=False,
        ).fit(X, y)
        intervals[level] = conformal.predict_interval(X_origins)
    return intervals


def split_intervals(X, y, X_origins, *, seed, lstm_params):
    return conformal_intervals(
        lstm_regressor(seed, lstm_params), "split", X, y, X_origins
    )


def cqr_intervals(X, y, X_origins, *, seed, lstm_params):
    return conformal_intervals(
        quantile_regressor(seed, lstm_params), "cqr", X, y, X_origins
    )


def head_intervals(X, y, X_origins, *, seed, lstm_params):
    head = quantile_regressor(seed, lstm_params).fit(X, y)
    quantiles = head.predict_quantiles(X_origins)
    levels = list(head.quantiles_)
    intervals = {}
    for level in LEVELS:
        low, high = (1 - level / 100) / 2, (1 + level / 100) / 2
        lower = quantiles[..., _level_index(levels, low)]
        upper = quantiles[..., _level_index(levels, high)]
        intervals[level] = lower, upper
    return intervals


def _level_index(levels, level):
    return int(np.argmin(np.abs(np.asarray(levels) - level)))


def statsforecast_origin_intervals(name, series, origins, *, season, horizon):
    model_class = statsforecast_class(name)
    per_origin = [
        statsforecast_intervals(model_class, series[:origin], horizon, season, LEVELS)
        for origin in origins
    ]
    return {
        level: tuple(
            np.stack([bounds[level][side] for bounds in per_origin]) for side in (0, 1)
        )
        for level in LEVELS
    }


def snaive_intervals(series, origins, *, season, horizon):
    """Seasonal naive plus the empirical quantiles of its in-sample errors."""
    bounds = {level: ([], []) for level in LEVELS}
    for origin in origins:
        history = series[:origin]
        forecast = seasonal_naive(history, season, horizon)
        errors = [
            # Forecasts from every in-sample origin s (s >= season) whose
            # step-j target lies in the history: repeat the last season.
            history[season + step : origin]
            - history[step % season : origin - season - step + step % season]
            for step in range(horizon)
        ]
        for level in LEVELS:
            low, high = (1 - level / 100) / 2, (1 + level / 100) / 2
            bounds[level][0].append(forecast + [np.quantile(e, low) for e in errors])
            bounds[level][1].append(forecast + [np.quantile(e, high) for e in errors])
    return {level: tuple(np.stack(side) for side in bounds[level]) for level in LEVELS}


# --------------------------------------------------------------- metrics ---


def interval_metrics(intervals, actual, scale):
    """Per level: coverage, mean width over scale, MSIS."""
    metrics = {}
    for level, (lower, upper) in intervals.items():
        lower, upper = np.asarray(lower, float), np.asarray(upper, float)
        if not (np.isfinite(lower).all() and np.isfinite(upper).all()):
            raise ValueError(f"non-finite {level}% interval bounds")
        covered = (lower <= actual) & (actual <= upper)
        score = interval_score(lower, upper, actual, level / 100)
        metrics[level] = {
            "coverage": float(covered.mean()),
            "width": float(np.mean(upper - lower)) / scale,
            "msis": float(np.mean(score)) / scale,
        }
    return metrics


# -------------------------------------------------------------- a series ---


def run_series(name, frequency, season, horizon, values, args, lstm_params, seeds):
    origins = spread_origins(len(values), horizon)
    if args.quick:
        origins = origins[:1]
    train = values[: origins[0]]
    n_timesteps = window_length(horizon, [train])
    X, y = make_windows(train, n_timesteps, horizon=horizon)
    X_origins = origin_windows(values, origins, n_timesteps)
    actual = np.stack([values[origin : origin + horizon] for origin in origins])
    scale = seasonal_scale(train, season)
    log(
        f"{name} ({frequency}, m={season}, h={horizon}, {len(values)} points, "
        f"{len(origins)} origins, {len(X)} training windows of {n_timesteps})"
    )
    lstm_families = {SPLIT: split_intervals, HEAD: head_intervals, CQR: cqr_intervals}
    peers = {
        ARIMA: lambda: statsforecast_origin_intervals(
            "AutoARIMA", values, origins, season=season, horizon=horizon
        ),
        ETS: lambda: statsforecast_origin_intervals(
            "AutoETS", values, origins, season=season, horizon=horizon
        ),
        SNAIVE: lambda: snaive_intervals(
            values, origins, season=season, horizon=horizon
        ),
    }
    metrics, seconds, per_seed = {}, {}, {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for model, intervals_of in lstm_families.items():
            runs = []
            seconds[model] = 0.0
            for seed in seeds:
                intervals, stopwatch = timed(
                    intervals_of, X, y, X_origins, seed=seed, lstm_params=lstm_params
                )
                seconds[model] += stopwatch.wall
                runs.append(interval_metrics(intervals, actual, scale))
            per_seed[model] = runs
            metrics[model] = {
                level: {
                    key: float(np.mean([run[level][key] for run in runs]))
                    for key in runs[0][level]
                }
                for level in LEVELS
            }
        for model, intervals_of in peers.items():
            intervals, stopwatch = timed(intervals_of)
            seconds[model] = stopwatch.wall
            metrics[model] = interval_metrics(intervals, actual, scale)
    for model in MODELS:
        log(
            f"  {model:<15} "
            + "  ".join(
                f"{level}%: cov {metrics[model][level]['coverage']:.2f} "
                f"MSIS {metrics[model][level]['msis']:7.2f}"
                for level in LEVELS
            )
            + f"  {seconds[model]:6.1f} s"
        )
    info = {
        "freq": frequency,
        "m": season,
        "h": horizon,
        "n": len(values),
        "win": n_timesteps,
        "origins": len(origins),
        "windows": len(X),
        **{
            f"calib {level}%": f"{calibration_fraction(len(X), level):.2f}"
            for level in LEVELS
        },
    }
    return info, metrics, seconds, per_seed


# ---------------------------------------------------------------- tables ---


def level_tables(results, level):
    names = list(results)
    header = ("series", *(LABELS.get(model, model) for model in MODELS))

    def value(name, model, key):
        return results[name][1][model][level][key]

    print(f"### {level}% intervals\n")
    print(f"Coverage (nominal {level / 100:.2f}; LSTM models: mean over seeds)\n")
    rows = [
        (name, *(f"{value(name, model, 'coverage'):.3f}" for model in MODELS))
        for name in names
    ]
    rows.append(
        (
            "mean",
            *(
                f"{np.mean([value(n, model, 'coverage') for n in names]):.3f}"
                for model in MODELS
            ),
        )
    )
    within = {
        model: sum(
            abs(value(name, model, "coverage") - level / 100) <= 0.05 + 1e-9
            for name in names
        )
        for model in MODELS
    }
    rows.append(
        ("within 5 points", *(f"{within[model]}/{len(names)}" for model in MODELS))
    )
    print(markdown_table(header, rows))
    for key, title in (
        ("width", "Mean width over the in-sample mean absolute seasonal difference"),
        ("msis", "MSIS"),
    ):
        print(f"\n{title}\n")
        rows = [
            (name, *(f"{value(name, model, key):.3f}" for model in MODELS))
            for name in names
        ]
        rows.append(
            (
                "geometric mean",
                *(
                    f"{geometric_mean(value(n, model, key) for n in names):.3f}"
                    for model in MODELS
                ),
            )
        )
        print(markdown_table(header, rows))
    print()


def geometric_msis(results, model, level):
    return geometric_mean(results[name][1][model][level]["msis"] for name in results)


def print_targets(results, seeds):
    print("### Targets\n")
    rows = []
    for level in LEVELS:
        nominal = level / 100
        misses = [
            f"{name} {metrics[CQR][level]['coverage']:.3f}"
            for name, (_, metrics, _, _) in results.items()
            if abs(metrics[CQR][level]["coverage"] - nominal) > 0.05 + 1e-9
        ]
        rows.append(
            (
                f"CQR coverage within 5 points of {nominal:.2f} on every series",
                "PASS" if not misses else "MISS: " + ", ".join(misses),
            )
        )
    cqr = geometric_msis(results, CQR, 95)
    for rival, kind in ((SPLIT, "target"), (ETS, "target"), (ARIMA, "goal")):
        other = geometric_msis(results, rival, 95)
        rows.append(
            (
                f"CQR geometric-mean MSIS at 95% below {rival}'s ({kind})",
                f"{'PASS' if cqr < other else 'MISS'}: {cqr:.3f} vs {other:.3f}",
            )
        )
    print(markdown_table(("target", "result"), rows))
    print()
    rows = []
    for model in LSTM_MODELS:
        by_seed = [
            geometric_mean(runs[model][k][95]["msis"] for *_, runs in results.values())
            for k in range(len(seeds))
        ]
        rows.append((model, *(f"{value:.3f}" for value in by_seed)))
    print("Geometric-mean MSIS at 95% per seed\n")
    print(markdown_table(("model", *(f"seed {seed}" for seed in seeds)), rows))
    print()


def run_half(half, args, lstm_params, seeds):
    names = QUICK_SERIES[half] if args.quick else None
    catalogue = load_catalogue(half, names)
    log(f"--- {HALF_TITLES[half]}: {len(catalogue)} series")
    results = {
        name: run_series(name, *rest, args, lstm_params, seeds)
        for name, *rest in catalogue
    }
    print(
        f"## {HALF_TITLES[half].capitalize()}: {len(results)} series, "
        f"seeds {list(seeds)}\n"
    )
    info_keys = list(next(iter(results.values()))[0])
    print(
        markdown_table(
            ("series", *info_keys),
            [
                (name, *(str(info[key]) for key in info_keys))
                for name, (info, _, _, _) in results.items()
            ],
        )
    )
    print()
    for level in LEVELS:
        level_tables(results, level)
    print_targets(results, seeds)
    print(
        "Time: fit plus all forecasts, in seconds, summed over series "
        f"(LSTM models: over both levels and {len(seeds)} seeds)\n"
    )
    totals = [
        (model, f"{sum(r[2][model] for r in results.values()):.1f}") for model in MODELS
    ]
    print(markdown_table(("model", "seconds"), totals))


def main(argv=None):
    args = parse_args(argv)
    lstm_params, seeds = start_protocol(args)
    print(f"Quantile head: loss='quantile', quantiles={QUANTILES}")
    print()
    run_half(args.half, args, lstm_params, seeds)
    if args.quick:
        print("\n--quick: a smoke test; the figures mean nothing.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
