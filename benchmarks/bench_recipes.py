"""Compare LSTM candidates on the development half of bench_honest.py.

Run from the repository root::

    python benchmarks/bench_recipes.py                    # every candidate
    python benchmarks/bench_recipes.py --only defaults,ensemble3

Why
---
``bench_honest.py`` runs its statsforecast peers at every origin of every
series, minutes for a half; choosing among LSTM candidates needs only the
LSTM and seasonal naive (the denominator), so this script runs those, with
Ridge for reference, on the development half alone (``load_catalogue("dev")``
and the protocol of ``bench_honest.py``: the same origins, horizons and
seeds). The report half is never loaded here: a winner is chosen on this
table and then run once by ``bench_honest.py --half report``.

A candidate is StackedLSTMRegressor parameters plus an
``lstm_recipes.Recipe`` (ensemble of seeds, window rule, residual targets,
early stopping on the last windows). Per candidate the table gives the
geometric mean over the series of MAE over seasonal naive's (the LSTM's MAE
the mean over seeds 0, 1, 2), its range over the seeds, the worst series'
ratio, and the seconds of fit plus forecasts summed over the series, per
seed; the M1 yearly panel's mean MASE (mean over seeds) for the candidates
whose recipe the panel takes (no ``time_split``; every member on the
panel's window). Progress and per-series ratios go to stderr.

Measured
--------
On the 2-core machine of bench_honest.py, 2026-12-02, all 65 candidates in
about 30 minutes (``OMP_NUM_THREADS=1 python benchmarks/bench_recipes.py``);
Ridge 0.502, AutoARIMA 0.514 on the same half. A few lines of the table::

    candidate                    geo   over seeds    worst series  s/seed  M1 MASE
    defaults                   0.562  0.556-0.569   1.121 wineind     1.4    3.343
    iter30-es-time             0.598  0.582-0.612   1.156 wineind     1.9        -
    ensemble3                  0.554  0.549-0.560   1.113 wineind     2.9    3.350
    window3h                   0.554  0.542-0.565   1.049 wineind     1.4    3.343
    mix23-2-iter24-lr0.01      0.498  0.489-0.509   1.061 wineind     4.6    3.375
    ridge-only-mix23-2         0.490  0.490-0.490   1.155 wineind     0.0    3.357
    rr-lr0.01-iter16-mix23-2   0.483  0.482-0.485   1.170 wineind     4.5    3.336
    rr-lr0.01-iter16-mix23-4   0.482  0.480-0.485   1.172 wineind     6.7    3.337

More epochs overfit the short series, and early stopping on the last
windows did not stop that. Seed ensembles gain little. Two members on
windows of 2h and 3h gain the most. The best candidate, an LSTM on the
residuals of window-relative Ridge with two windows (0.483; the four-member
one ties it at twice the cost), is 1.4% ahead of its own control, the two
Ridges alone (0.490). Run once on the report half by ``bench_honest.py
--half report --cache --lstm-params '{"learning_rate_init": 0.01,
"max_iter": 16}' --recipe '{"baseline": "ridge", "members": 2, "window":
"2h+3h"}'``, it gave 0.784 (the defaults 0.835, Ridge 0.713, AutoARIMA
0.717, AutoETS 0.767), with pbs at 1.55 times seasonal naive: what it gains
on the development half does not carry over.
"""

import argparse
import json
import sys
import warnings

import numpy as np
import torch
from _common import columns_text, geometric_mean, log, mae, settle_allocator, timed
from lstm_recipes import Recipe, panel_recipe, recipe_origins
from real_series_data import load_catalogue, mase, spread_origins, window_length
from real_series_models import m1_panel, ridge_origins, snaive_origins

SEEDS = (0, 1, 2)

# name: (StackedLSTMRegressor parameters, Recipe fields). Every candidate
# measured for issue 20, in the order they were tried; "rr" is residual
# targets against Ridge, "mix23-2" two members on windows of 2h and 3h.
LR, EPOCHS = "learning_rate_init", "max_iter"
RIDGE_RESIDUAL = {"baseline": "ridge"}
MIX23 = {"members": 2, "window": "2h+3h"}
CANDIDATES = {
    "defaults": ({}, {}),
    "lr0.01": ({LR: 0.01}, {}),
    "lr0.1": ({LR: 0.1}, {}),
    "iter20": ({EPOCHS: 20}, {}),
    "iter30": ({EPOCHS: 30}, {}),
    "iter50": ({EPOCHS: 50}, {}),
    "iter30-lr0.01": ({EPOCHS: 30, LR: 0.01}, {}),
    "iter30-es-time": ({EPOCHS: 30, "n_iter_no_change": 5}, {"time_split": 0.2}),
    "iter50-es-time": ({EPOCHS: 50, "n_iter_no_change": 5}, {"time_split": 0.2}),
    "iter30-es-time-refit": (
        {EPOCHS: 30, "n_iter_no_change": 5},
        {"time_split": 0.2, "refit": True},
    ),
    "iter30-es-random": (
        {
            EPOCHS: 30,
            "n_iter_no_change": 5,
            "early_stopping": True,
            "validation_fraction": 0.2,
        },
        {},
    ),
    "ensemble3": ({}, {"members": 3}),
    "ensemble5": ({}, {"members": 5}),
    "window3h": ({}, {"window": "3h"}),
    "window4h": ({}, {"window": "4h"}),
    "window-max(2h,3m)": ({}, {"window": "max(2h,3m)"}),
    "residual-snaive": ({}, {"baseline": "snaive"}),
    "residual-last": ({}, {"baseline": "last"}),
    "residual-ridge": ({}, RIDGE_RESIDUAL),
    "ridge-init": ({}, {"ridge_init": True}),
    "ridge-init-iter20": ({EPOCHS: 20}, {"ridge_init": True}),
    "rr-iter20": ({EPOCHS: 20}, RIDGE_RESIDUAL),
    "rr-lr0.01": ({LR: 0.01}, RIDGE_RESIDUAL),
    "ensemble3-window3h": ({}, {"members": 3, "window": "3h"}),
    "hidden32": ({"hidden_layer_sizes": (32,)}, {}),
    "adamw": ({"optimizer": "adamw"}, {}),
    "mix23-2": ({}, MIX23),
    "mix23-4": ({}, {**MIX23, "members": 4}),
    "mix234-3": ({}, {"members": 3, "window": "2h+3h+4h"}),
    "rr-lr0.01-window3h": ({LR: 0.01}, {**RIDGE_RESIDUAL, "window": "3h"}),
    "rr-lr0.01-mix23-2": ({LR: 0.01}, {**RIDGE_RESIDUAL, **MIX23}),
    "residual-snaive-window3h": ({}, {"baseline": "snaive", "window": "3h"}),
    "rr-lr0.003": ({LR: 0.003}, RIDGE_RESIDUAL),
    # Controls: the Ridge baseline alone, no LSTM.
    "ridge-only": ({}, {**RIDGE_RESIDUAL, "network": False}),
    "ridge-only-mix23-2": ({}, {**RIDGE_RESIDUAL, **MIX23, "network": False}),
    "rr-mix23-2": ({}, {**RIDGE_RESIDUAL, **MIX23}),
    "rr-lr0.003-mix23-2": ({LR: 0.003}, {**RIDGE_RESIDUAL, **MIX23}),
    "rr-lr0.01-mix23-4": ({LR: 0.01}, {**RIDGE_RESIDUAL, **MIX23, "members": 4}),
    "rr-lr0.01-iter4-mix23-2": ({LR: 0.01, EPOCHS: 4}, {**RIDGE_RESIDUAL, **MIX23}),
    # The winner on the development half.
    "rr-lr0.01-iter16-mix23-2": (
        {LR: 0.01, EPOCHS: 16},
        {**RIDGE_RESIDUAL, **MIX23},
    ),
    "rr-lr0.01-iter24-mix23-2": (
        {LR: 0.01, EPOCHS: 24},
        {**RIDGE_RESIDUAL, **MIX23},
    ),
    "rr-lr0.01-iter32-mix23-2": (
        {LR: 0.01, EPOCHS: 32},
        {**RIDGE_RESIDUAL, **MIX23},
    ),
    "rr-lr0.003-iter16-mix23-2": (
        {LR: 0.003, EPOCHS: 16},
        {**RIDGE_RESIDUAL, **MIX23},
    ),
    "rr-lr0.01-iter16-mix23-4": (
        {LR: 0.01, EPOCHS: 16},
        {**RIDGE_RESIDUAL, **MIX23, "members": 4},
    ),
    "rr-lr0.01-iter16": ({LR: 0.01, EPOCHS: 16}, RIDGE_RESIDUAL),
    "mix23-2-mse": ({"loss": "mse"}, MIX23),
    "mix23-2-iter16-lr0.01": ({LR: 0.01, EPOCHS: 16}, MIX23),
    "window3h-iter16-lr0.01": ({LR: 0.01, EPOCHS: 16}, {"window": "3h"}),
    "iter16-lr0.01": ({LR: 0.01, EPOCHS: 16}, {}),
    "mix23-4-iter16-lr0.01": ({LR: 0.01, EPOCHS: 16}, {**MIX23, "members": 4}),
    "mix23-2-iter24-lr0.01": ({LR: 0.01, EPOCHS: 24}, MIX23),
    "mix23-2-iter16-lr0.003": ({LR: 0.003, EPOCHS: 16}, MIX23),
    "mix234-3-iter16-lr0.01": (
        {LR: 0.01, EPOCHS: 16},
        {"members": 3, "window": "2h+3h+4h"},
    ),
    "window3h-iter24-lr0.01": ({LR: 0.01, EPOCHS: 24}, {"window": "3h"}),
    "mix23-2-iter32-lr0.01": ({LR: 0.01, EPOCHS: 32}, MIX23),
    "mix23-2-iter24-lr0.02": ({LR: 0.02, EPOCHS: 24}, MIX23),
    "rr-lr0.01-iter16-2h-2": (
        {LR: 0.01, EPOCHS: 16},
        {**RIDGE_RESIDUAL, "members": 2},
    ),
    "iter24-lr0.01-2h-2": ({LR: 0.01, EPOCHS: 24}, {"members": 2}),
    "rr-lr0.01-iter12-mix23-2": (
        {LR: 0.01, EPOCHS: 12},
        {**RIDGE_RESIDUAL, **MIX23},
    ),
    "rr-lr0.02-iter16-mix23-2": (
        {LR: 0.02, EPOCHS: 16},
        {**RIDGE_RESIDUAL, **MIX23},
    ),
    "rr-lr0.01-iter16-mix234-3": (
        {LR: 0.01, EPOCHS: 16},
        {**RIDGE_RESIDUAL, "members": 3, "window": "2h+3h+4h"},
    ),
    "ridge-only-mix234-3": (
        {},
        {**RIDGE_RESIDUAL, "members": 3, "window": "2h+3h+4h", "network": False},
    ),
    "mix23-2-iter20-lr0.015": ({LR: 0.015, EPOCHS: 20}, MIX23),
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--only",
        help="comma-separated names of the built-in candidates to run (default: "
        "all; an empty string: none, only those of --candidate)",
    )
    parser.add_argument(
        "--candidate",
        action="append",
        default=[],
        metavar="NAME=JSON",
        help='an extra candidate: NAME={"params": {...}, "recipe": {...}}',
    )
    parser.add_argument(
        "--no-m1", action="store_true", help="leave out the M1 yearly panel"
    )
    parser.add_argument(
        "--threads", type=int, default=1, help="torch threads (0: torch's default)"
    )
    return parser.parse_args(argv)


def prepare_series():
    """Per development series: name, origins, actual values and options."""
    prepared = []
    for name, _, season, horizon, values in load_catalogue("dev"):
        origins = spread_origins(len(values), horizon)
        actual = np.stack([values[o : o + horizon] for o in origins])
        options = {
            "season": season,
            "horizon": horizon,
            "n_timesteps": window_length(horizon, [values[: origins[0]]]),
        }
        naive = mae(snaive_origins(values, origins, **options), actual)
        ridge = mae(ridge_origins(values, origins, **options), actual)
        prepared.append((name, values, origins, actual, options, naive, ridge))
    return prepared


def run_candidate(name, params, recipe, prepared, panel):
    ratios, seconds = {}, 0.0
    seed_ratios = {seed: [] for seed in SEEDS}
    for series_name, values, origins, actual, options, naive, _ in prepared:
        errors = []
        for seed in SEEDS:
            predicted, stopwatch = timed(
                recipe_origins,
                values,
                origins,
                seed=seed,
                lstm_params=params,
                recipe=recipe,
                **options,
            )
            seconds += stopwatch.wall
            errors.append(mae(predicted, actual))
            seed_ratios[seed].append(errors[-1] / naive)
        ratios[series_name] = float(np.mean(errors)) / naive
    m1 = None
    if panel is not None and recipe.time_split is None:
        scores = []
        for seed in SEEDS:
            forecast = panel_recipe(panel, seed, params, recipe)
            scores.append(
                np.mean(
                    [
                        mase(f, test, train)
                        for f, test, train in zip(
                            forecast, panel.tests, panel.trains, strict=True
                        )
                    ]
                )
            )
        m1 = float(np.mean(scores))
    per_seed = [geometric_mean(r) for r in seed_ratios.values()]
    worst = max(ratios, key=ratios.get)
    log(
        f"{name}: "
        + ", ".join(f"{series}={ratio:.3f}" for series, ratio in ratios.items())
    )
    return {
        "geo": geometric_mean(ratios.values()),
        "seed_range": (min(per_seed), max(per_seed)),
        "worst": (worst, ratios[worst]),
        "seconds": seconds / len(SEEDS),
        "m1": m1,
        "ratios": ratios,
    }


def main(argv=None):
    args = parse_args(argv)
    settle_allocator()
    if args.threads:
        torch.set_num_threads(args.threads)
    candidates = {
        name: (params, Recipe(**recipe))
        for name, (params, recipe) in CANDIDATES.items()
    }
    if args.only is not None:
        wanted = [name for name in args.only.split(",") if name]
        candidates = {name: candidates[name] for name in wanted}
    for text in args.candidate:
        name, _, spec = text.partition("=")
        spec = json.loads(spec)
        candidates[name] = (spec.get("params", {}), Recipe(**spec.get("recipe", {})))
    prepared = prepare_series()
    panel = None if args.no_m1 else m1_panel()
    ridge_geo = geometric_mean(ridge / naive for *_, naive, ridge in prepared)
    results = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, (params, recipe) in candidates.items():
            results[name] = run_candidate(name, params, recipe, prepared, panel)
    print(
        f"Development half ({len(prepared)} series): MAE over seasonal naive's, "
        f"LSTM mean over seeds {list(SEEDS)}; Ridge {ridge_geo:.3f}"
    )
    rows = [
        (
            name,
            f"{r['geo']:.3f}",
            f"{r['seed_range'][0]:.3f}-{r['seed_range'][1]:.3f}",
            f"{r['worst'][1]:.3f} {r['worst'][0]}",
            f"{r['seconds']:.1f}",
            "-" if r["m1"] is None else f"{r['m1']:.3f}",
        )
        for name, r in results.items()
    ]
    print(
        columns_text(
            ("candidate", "geo", "over seeds", "worst series", "s/seed", "M1 MASE"),
            rows,
        )
    )
    names = [series for series, *_ in prepared]
    print()
    print(
        columns_text(
            ("candidate", *names),
            [
                (name, *(f"{r['ratios'][s]:.3f}" for s in names))
                for name, r in results.items()
            ],
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
