"""Judge StackedLSTMRegressor's defaults on series they were not tuned on.

Run from the repository root::

    python benchmarks/bench_honest.py                  # both halves, minutes
    python benchmarks/bench_honest.py --half report    # the report half only
    python benchmarks/bench_honest.py --quick          # smoke test, seconds
    python benchmarks/bench_honest.py --half dev --lstm-params '{"max_iter": 30}'
    python benchmarks/bench_honest.py --half report --cache \
        --recipe '{"members": 2, "window": "2h+3h"}'

Why
---
``bench_real_series.py`` judges the defaults on seven series, and the
defaults were chosen on those same seven, so its figures flatter them. This
script splits every suitable univariate series bundled with statsmodels,
pmdarima and aeon, once and for all, into a development half, where
defaults may be tuned, and a report half, which is only ever measured.
Nothing is tuned on the report half: a change of defaults is chosen on the
development half and then run once on the report half, whatever it shows.

The split
---------
Fixed in ``real_series_data.py`` (``DEVELOPMENT_SERIES``,
``REPORT_SERIES``); the rule was applied before any model ran on the new
series. The development half holds the seven series the defaults were tuned
on (co2, airpassengers, wineind, ausbeer, woolyrnq, sunspots, lynx), every
third new series in alphabetical order within its frequency (us_gdp and
us_tbill, from statsmodels' macrodata), and the M1 yearly panel of aeon,
reported as a development figure only (its 181 series were also used for
tuning). The report half holds the other nine:

- monthly: ``elnino`` (statsmodels; one row per year read month by month,
  1950-2010, 732 points), ``pbs`` (aeon's Pharmaceutical Benefit Scheme,
  204);
- quarterly: ``austres`` (pmdarima, 89), ``german_rate`` (statsmodels
  interest_inflation ``R``, 107), ``us_production`` and ``us_savings``
  (aeon uschange, 187 each), ``us_unemployment`` (statsmodels macrodata
  ``unemp``, 203);
- yearly: ``nile`` (statsmodels, 100);
- other: ``heartrate`` (pmdarima, 150 points at 0.5 s, no season).

Left out: aeon's ``airline`` and ``lynx`` (the same data as pmdarima's),
pmdarima's monthly ``sunspots`` (the same phenomenon as statsmodels'
yearly one, in the development half), macrodata's other columns (``infl``
is derived from ``cpi``; ``realcons``, ``realdpi`` and ``realinv`` move with
``realgdp``) and uschange's other channels (consumption and income move
with GDP, unemployment with ``unemp``), and series too short for the
protocol below: aeon's ``shampoo_sales`` (36) and ``solar`` (289 half-hours),
statsmodels' ``danish_data`` (55) and ``longley`` (16). pmdarima's
``gasoline`` is downloaded, not bundled; ``msft`` is a multi-column stock
table; the other statsmodels data sets are cross-sections. pmdarima's
``taylor`` (half-hourly electricity demand, 4032 points, daily season 48)
was in the report half as first drawn and was taken out before any score
was computed on it: one AutoARIMA fit with ``season_length=48`` on its
training part ran over 100 s on the 2-core machine this was written on, so
7 origins would take over 12 minutes, most of the whole run.

Protocol, per series
--------------------
The frequency gives the season ``m`` and the horizon ``h``
(``FREQUENCY_RULES``): monthly m=12 h=12, quarterly m=4 h=8, yearly m=1 h=6,
other (no calendar, no known season) m=1 h=10. The last ``3 h``
points are the test region; 7 forecast origins are spread evenly from its
first point to the last origin whose ``h`` future values lie inside the
series (for h=12 these are bench_real_series.py's: every 4 points). A
forecast from origin ``t`` sees ``series[:t]`` and predicts
``series[t:t + h]``. The window is ``n_timesteps = min(2 h, training
length)``; a series is suitable when its training part (everything before
the first origin) gives at least 20 training windows, so the cap never
binds here.

Models, as in bench_real_series.py's part 1: ``StackedLSTMRegressor``
(library defaults; ``--lstm-params`` adds parameters) and Ridge on
window-relative inputs, each trained once per series on ``make_windows``
over the training part (direct multi-output, ``h`` targets) and forecasting
from the actual last ``n_timesteps`` values at each origin; seasonal naive;
statsforecast ``AutoETS``, ``AutoARIMA`` and ``AutoTheta``
(``season_length=m``), refitted at every origin on all data up to it. The
LSTM runs with seeds 0, 1 and 2; its MAE on a series is the mean over
seeds, and the spread of its geometric mean over seeds is printed too.

Metric: MAE over origins and steps, divided by seasonal naive's on the same
series; the geometric mean of that ratio per half. Time: fit plus all
forecasts, summed over the series of a half (for the LSTM, over seeds too,
and per seed). The issue asks the LSTM for a tenth of AutoARIMA's time; the
table prints the ratio.

M1 yearly (development half only): one global model per seed on
``make_windows`` over the panel's training parts (the last 6 points of each
series are its test set, as in bench_real_series.py's part 2), a global
Ridge without intercept, naive, and the three statsforecast models per
series. Figures: mean MASE (the Monash protocol) and the geometric mean of
MAE over naive's.

Options for comparing LSTM candidates: ``--recipe`` trains the LSTM under
an ``lstm_recipes.Recipe`` (an ensemble of seeds, another window rule,
residual targets against a baseline, early stopping on the last windows;
``bench_recipes.py`` compares recipes on the development half alone), and
its time then includes every member of an ensemble (the table's ``win``
stays Ridge's window). ``--cache`` keeps the
statsforecast peers' forecasts, which take most of a run, in
``benchmarks/.cache/`` (ignored by git), one file per series, origin and
model (and per M1 model), keyed also by a digest of the history and the
statsforecast version; a cached peer's time is the one measured when it was
stored. Without these options the output is as before.

Threads: torch runs ``--threads`` threads (default 1). With ``--quick`` (two
series per half, one origin, one epoch, one seed, 20 M1 series) the figures
mean nothing. Progress goes to stderr, the tables to stdout.

Measured
--------
On the 2-core machine this was written on, 2026-12-02, with the library
defaults (``hidden_layer_sizes=(16,)``, ``max_iter=8``, ``loss="mae"``,
``scaling="auto"``, ``linear_skip=True``, a one-cycle rate peaking at 0.03,
batch 16; the first line of the output lists them all), in 4.6 minutes;
two runs gave the same figures::

    OMP_NUM_THREADS=1 python benchmarks/bench_honest.py

    Development half: 9 series, 7 origins each
    MAE over seasonal naive's (LSTM: mean over seeds [0, 1, 2])
    series               freq   m   h    n  win   LSTM  Ridge    ETS  ARIMA  Theta
    --------------  ---------  --  --  ---  ---  -----  -----  -----  -----  -----
    co2               monthly  12  12  526   24  0.282  0.247  0.280  0.305  0.292
    airpassengers     monthly  12  12  144   24  0.625  0.421  0.904  0.546  0.695
    wineind           monthly  12  12  176   24  1.121  1.176  1.031  0.851  0.810
    ausbeer         quarterly   4   8  211   16  0.738  0.736  0.718  0.797  1.063
    woolyrnq        quarterly   4   8  119   16  0.983  0.814  0.837  1.006  0.871
    us_gdp          quarterly   4   8  203   16  0.431  0.308  0.315  0.300  0.393
    us_tbill        quarterly   4   8  203   16  0.563  0.597  0.884  0.850  0.846
    sunspots           yearly   1   6  309   12  0.293  0.258  1.000  0.207  1.005
    lynx               yearly   1   6  114   12  0.546  0.582  1.028  0.418  1.003
    geometric mean                               0.562  0.502  0.708  0.514  0.718
    LSTM geometric mean per seed: 0: 0.560, 1: 0.569, 2: 0.556

    Time: fit plus all forecasts, summed over series, in seconds
    model           total
    --------------  -----
    LSTM              3.7
    Ridge             0.0
    AutoETS           5.3
    AutoARIMA        52.2
    AutoTheta         0.8
    seasonal naive    0.0
    LSTM per seed     1.2
    LSTM per seed / AutoARIMA: 0.024 (the issue's target: 0.1 or less)

    Report half: 9 series, 7 origins each
    MAE over seasonal naive's (LSTM: mean over seeds [0, 1, 2])
    series                freq   m   h    n  win   LSTM  Ridge    ETS  ARIMA  Theta
    ---------------  ---------  --  --  ---  ---  -----  -----  -----  -----  -----
    elnino             monthly  12  12  732   24  0.996  0.905  0.921  0.710  0.997
    pbs                monthly  12  12  204   24  1.355  1.300  4.571  2.090  4.816
    austres          quarterly   4   8   89   16  0.222  0.085  0.102  0.129  0.150
    german_rate      quarterly   4   8  107   16  1.413  0.841  0.776  0.793  0.774
    us_production    quarterly   4   8  187   16  1.132  1.404  0.945  1.110  0.947
    us_savings       quarterly   4   8  187   16  0.629  0.635  0.573  0.567  0.577
    us_unemployment  quarterly   4   8  203   16  0.609  0.699  0.909  0.758  0.907
    nile                yearly   1   6  100   12  0.728  0.776  0.661  0.717  0.704
    heartrate            other   1  10  150   20  1.479  1.160  0.846  0.960  1.007
    geometric mean                                0.835  0.713  0.767  0.717  0.834
    LSTM geometric mean per seed: 0: 0.842, 1: 0.824, 2: 0.838

    Time: fit plus all forecasts, summed over series, in seconds
    model           total
    --------------  -----
    LSTM              2.5
    Ridge             0.0
    AutoETS           3.8
    AutoARIMA       100.8
    AutoTheta         0.7
    seasonal naive    0.0
    LSTM per seed     0.8
    LSTM per seed / AutoARIMA: 0.008 (the issue's target: 0.1 or less)

    M1 yearly (181 series, horizon 6, windows of 9); a development figure only
    model        mean MASE  geo. mean MAE/naive  time (s)
    -----------  ---------  -------------------  --------
    LSTM seed 0      3.354                0.669       0.8
    LSTM seed 1      3.339                0.662       0.7
    LSTM seed 2      3.337                0.665       0.6
    Ridge            3.357                0.685       0.0
    ETS              3.950                0.796       0.3
    ARIMA            3.502                0.680      13.9
    Theta            3.608                0.721       0.2
    naive            4.894                1.000       0.0

    Geometric mean of MAE over seasonal naive's, per half
    half               LSTM  Ridge    ETS  ARIMA  Theta
    ----------------  -----  -----  -----  -----  -----
    development half  0.562  0.502  0.708  0.514  0.718
    report half       0.835  0.713  0.767  0.717  0.834

On the development half the defaults come third (0.562), about 10% behind
Ridge (0.502) and AutoARIMA (0.514) and well ahead of AutoETS and
AutoTheta. On the report half they come last (0.835, with AutoTheta at
0.834), behind Ridge (0.713), AutoARIMA (0.717) and AutoETS (0.767), and
worse than seasonal naive on four of nine series: pbs, german_rate,
us_production and heartrate (1.48, the worst). The gap between the halves
is wider for the LSTM (0.56 to 0.84) than for Ridge (0.50 to 0.71) or
AutoARIMA (0.51 to 0.72). The time target holds by far: one seed of the
LSTM takes 2.4% of AutoARIMA's time on the development half and 0.8% on
the report half.
"""

import argparse
import hashlib
import json
import sys
import warnings
from functools import partial
from pathlib import Path

import numpy as np
from _common import (
    columns_text,
    geometric_mean,
    log,
    mae,
    timed,
)
from lstm_recipes import Recipe, panel_recipe, recipe_origins
from real_series_data import (
    load_catalogue,
    mase,
    spread_origins,
    window_length,
)
from real_series_models import (
    HALF_TITLES,
    QUICK_SERIES,
    add_protocol_arguments,
    lstm_origins,
    lstm_regressor,
    m1_panel,
    panel_naive,
    panel_ridge,
    panel_statsforecast,
    ridge_origins,
    snaive_origins,
    start_protocol,
    statsforecast_class,
    statsforecast_forecast,
    statsforecast_origins,
)

QUICK_M1_SERIES = 20

LSTM = "LSTM"
SNAIVE = "seasonal naive"
RIDGE = "Ridge"
STATSFORECAST = ("AutoETS", "AutoARIMA", "AutoTheta")
CACHE_DIR = Path(__file__).resolve().parent / ".cache"
# The seconds of the cached peer forecasts of the current call, per peer.
CACHED_SECONDS = {}
# Short column labels, so that the tables fit the docstring.
LABELS = {"AutoETS": "ETS", "AutoARIMA": "ARIMA", "AutoTheta": "Theta"}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_protocol_arguments(
        parser, halves=("dev", "report", "both"), default_half="both"
    )
    parser.add_argument(
        "--recipe",
        type=lambda text: Recipe(**json.loads(text)),
        default=Recipe(),
        help="how the LSTM is trained, as a JSON object of lstm_recipes.Recipe "
        "fields, e.g. '{\"members\": 3}' (default: one model, as the library fits)",
    )
    parser.add_argument(
        "--cache",
        action="store_true",
        help=f"read the statsforecast peers' forecasts and times from {CACHE_DIR}"
        " when stored there, and store those computed",
    )
    return parser.parse_args(argv)


# ------------------------------------------------- cached peer forecasts ---


def cache_path(key):
    """The file of one cached forecast; ``key`` names what was forecast."""
    import statsforecast

    text = json.dumps([statsforecast.__version__, *key])
    return CACHE_DIR / f"{hashlib.sha256(text.encode()).hexdigest()[:24]}.npz"


def cached(key, compute):
    """``compute()``'s forecast and seconds, from the cache when stored."""
    path = cache_path(key)
    if path.exists():
        with np.load(path) as stored:
            return stored["forecast"], float(stored["seconds"])
    forecast, stopwatch = timed(compute)
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    np.savez(path, forecast=forecast, seconds=stopwatch.wall)
    return forecast, stopwatch.wall


def cached_origins(peer, name):
    """A peer's ``*_origins`` function that caches each origin's forecast.

    The key is (series, origin, model, season, horizon) and a digest of the
    history the forecast sees, so an edited series is never read stale.
    """
    model = statsforecast_class(peer)

    def forecast(series, origins, *, season, horizon, **_):
        stored = [
            cached(
                (
                    name,
                    int(origin),
                    peer,
                    season,
                    horizon,
                    hashlib.sha256(series[:origin].tobytes()).hexdigest(),
                ),
                partial(
                    statsforecast_forecast, model, series[:origin], horizon, season
                ),
            )
            for origin in origins
        ]
        CACHED_SECONDS[peer] = CACHED_SECONDS.get(peer, 0.0) + sum(
            seconds for _, seconds in stored
        )
        return np.stack([forecast for forecast, _ in stored])

    return forecast


def peer_origins(peer, name, args):
    if args.cache:
        return cached_origins(peer, name)
    return statsforecast_origins(statsforecast_class(peer))


def lstm_forecaster(recipe):
    """The LSTM's ``*_origins`` function: the library's fit, or a recipe's."""
    return (
        lstm_origins if recipe == Recipe() else partial(recipe_origins, recipe=recipe)
    )


# ------------------------------------------------------- single series ---


def run_series(name, frequency, season, horizon, values, args, lstm_params, seeds):
    """MAE and seconds per model on one series; the LSTM's per seed."""
    origins = spread_origins(len(values), horizon)
    if args.quick:
        origins = origins[:1]
    n_timesteps = window_length(horizon, [values[: origins[0]]])
    actual = np.stack([values[origin : origin + horizon] for origin in origins])
    log(
        f"{name} ({frequency}, m={season}, h={horizon}, {len(values)} points, "
        f"{len(origins)} origins, training on {origins[0]}, window {n_timesteps})"
    )
    options = {
        "season": season,
        "horizon": horizon,
        "n_timesteps": n_timesteps,
        "lstm_params": lstm_params,
    }
    models = {SNAIVE: snaive_origins, RIDGE: ridge_origins}
    models.update({peer: peer_origins(peer, name, args) for peer in STATSFORECAST})
    forecast_lstm = lstm_forecaster(args.recipe)
    errors, seconds = {}, {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for seed in seeds:
            predicted, stopwatch = timed(
                forecast_lstm, values, origins, seed=seed, **options
            )
            errors[LSTM, seed], seconds[LSTM, seed] = (
                mae(predicted, actual),
                (stopwatch.wall),
            )
        for model, forecast in models.items():
            CACHED_SECONDS.clear()
            predicted, stopwatch = timed(forecast, values, origins, **options)
            errors[model] = mae(predicted, actual)
            # A cached peer's time is the one measured when it was stored.
            seconds[model] = CACHED_SECONDS.get(model, stopwatch.wall)
    errors[LSTM] = float(np.mean([errors[LSTM, seed] for seed in seeds]))
    seconds[LSTM] = sum(seconds[LSTM, seed] for seed in seeds)
    for model in (LSTM, *models):
        log(
            f"  {model:<15} MAE/snaive {errors[model] / errors[SNAIVE]:.3f}  "
            f"{seconds[model]:6.1f} s"
        )
    info = (frequency, season, horizon, len(values), n_timesteps, len(origins))
    return info, errors, seconds


def run_half(half, args, lstm_params, seeds):
    names = QUICK_SERIES[half] if args.quick else None
    catalogue = load_catalogue(half, names)
    log(f"--- {HALF_TITLES[half]}: {len(catalogue)} series")
    results = {
        name: run_series(name, *rest, args, lstm_params, seeds)
        for name, *rest in catalogue
    }
    models = [LSTM, RIDGE, *STATSFORECAST, SNAIVE]
    ratios = {
        model: {
            name: errors[model] / errors[SNAIVE]
            for name, (_, errors, _) in results.items()
        }
        for model in models
    }
    geo = {model: geometric_mean(ratios[model].values()) for model in models}
    seed_geo = [
        geometric_mean(
            errors[LSTM, seed] / errors[SNAIVE] for _, errors, _ in results.values()
        )
        for seed in seeds
    ]
    totals = {
        model: sum(seconds[model] for _, _, seconds in results.values())
        for model in models
    }

    n_origins = {info[-1] for info, _, _ in results.values()}
    print(
        f"{HALF_TITLES[half].capitalize()}: {len(results)} series, "
        f"{'/'.join(map(str, sorted(n_origins)))} origins each\n"
        f"MAE over seasonal naive's (LSTM: mean over seeds {list(seeds)})"
    )
    rivals = [model for model in models if model != SNAIVE]
    header = ("series", "freq", "m", "h", "n", "win")
    header += tuple(LABELS.get(model, model) for model in rivals)
    rows = [
        (name, *(str(item) for item in info[:-1]))
        + tuple(f"{ratios[model][name]:.3f}" for model in rivals)
        for name, (info, _, _) in results.items()
    ]
    rows.append(
        ("geometric mean", *[""] * 5, *(f"{geo[model]:.3f}" for model in rivals))
    )
    print(columns_text(header, rows))
    print(
        "LSTM geometric mean per seed: "
        + ", ".join(f"{seed}: {g:.3f}" for seed, g in zip(seeds, seed_geo, strict=True))
    )
    print()
    print("Time: fit plus all forecasts, summed over series, in seconds")
    rows = [(model, f"{totals[model]:.1f}") for model in models]
    rows.append((f"{LSTM} per seed", f"{totals[LSTM] / len(seeds):.1f}"))
    print(columns_text(("model", "total"), rows))
    per_seed = totals[LSTM] / len(seeds)
    print(
        f"LSTM per seed / AutoARIMA: {per_seed / totals['AutoARIMA']:.3f}"
        " (the issue's target: 0.1 or less)"
    )
    print()
    return geo


# ---------------------------------------------------------------- M1 yearly ---


def run_m1(args, lstm_params, seeds):
    panel = m1_panel(QUICK_M1_SERIES if args.quick else None)
    series, horizon, n_timesteps = panel.series, panel.horizon, panel.n_timesteps
    trains, tests = panel.trains, panel.tests
    log(f"--- M1 yearly: {len(series)} series, windows of {n_timesteps}")

    def lstm(seed):
        if args.recipe != Recipe():
            return partial(panel_recipe, panel, seed, lstm_params, args.recipe)
        return lambda: (
            lstm_regressor(seed, lstm_params)
            .fit(panel.X, panel.y)
            .predict(panel.X_last)
        )

    def peer(name):
        forecast = partial(panel_statsforecast, panel, name)
        if not args.cache:
            return forecast
        digest = hashlib.sha256(np.concatenate(trains).tobytes()).hexdigest()
        return partial(cached, ("M1 yearly", len(series), name, digest), forecast)

    forecasters = {(LSTM, seed): lstm(seed) for seed in seeds}
    forecasters[RIDGE] = lambda: panel_ridge(panel)
    forecasters["naive"] = lambda: panel_naive(panel)
    forecasters.update({name: peer(name) for name in STATSFORECAST})
    forecasts, seconds = {}, {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for key, forecast in forecasters.items():
            forecasts[key], stopwatch = timed(forecast)
            seconds[key] = stopwatch.wall
            if args.cache and key in STATSFORECAST:
                # A cached peer's time is the one measured when it was stored.
                forecasts[key], seconds[key] = forecasts[key]
            log(f"  {key!s:<15} {seconds[key]:6.1f} s")

    def scores(forecast):
        per_mase = [
            mase(f, test, train)
            for f, test, train in zip(forecast, tests, trains, strict=True)
        ]
        # A constant test part and a constant naive forecast give 0/0.
        ratios = [
            mae(f, test) / mae(n, test)
            for f, n, test in zip(forecast, forecasts["naive"], tests, strict=True)
            if mae(n, test) > 0
        ]
        return float(np.mean(per_mase)), geometric_mean(ratios)

    rows = []
    for seed in seeds:
        score, ratio = scores(forecasts[LSTM, seed])
        rows.append((f"{LSTM} seed {seed}", score, ratio, seconds[LSTM, seed]))
    for model in (RIDGE, *STATSFORECAST, "naive"):
        rows.append((model, *scores(forecasts[model]), seconds[model]))
    rows = [(LABELS.get(row[0], row[0]), *row[1:]) for row in rows]
    print(
        f"M1 yearly ({len(series)} series, horizon {horizon}, windows of "
        f"{n_timesteps}); a development figure only"
    )
    print(
        columns_text(
            ("model", "mean MASE", "geo. mean MAE/naive", "time (s)"),
            [(m, f"{s:.3f}", f"{r:.3f}", f"{t:.1f}") for m, s, r, t in rows],
        )
    )
    print()


# -------------------------------------------------------------------- main ---


def main(argv=None):
    args = parse_args(argv)
    lstm_params, seeds = start_protocol(args)
    if args.recipe != Recipe():
        print(f"LSTM recipe (lstm_recipes.py): {args.recipe}")
    if args.cache:
        print(
            "Peer forecasts cached (--cache): their times are those measured "
            "when first stored."
        )
    print()
    halves = ("dev", "report") if args.half == "both" else (args.half,)
    summary = {half: run_half(half, args, lstm_params, seeds) for half in halves}
    if "dev" in halves:
        run_m1(args, lstm_params, seeds)
    print("Geometric mean of MAE over seasonal naive's, per half")
    models = [model for model in next(iter(summary.values())) if model != SNAIVE]
    rows = [
        (HALF_TITLES[half], *(f"{geo[model]:.3f}" for model in models))
        for half, geo in summary.items()
    ]
    print(columns_text(("half", *(LABELS.get(m, m) for m in models)), rows))
    if args.quick:
        print("\n--quick: a smoke test; the figures mean nothing.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
