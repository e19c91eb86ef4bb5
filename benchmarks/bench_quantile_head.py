"""How the quantile head keeps its quantiles from crossing: two designs.

Run from the repository root::

    python benchmarks/bench_quantile_head.py           # minutes
    python benchmarks/bench_quantile_head.py --quick   # seconds

``StackedLSTMRegressor(loss="quantile")`` predicts several quantiles of
each target. Trained independently, the outputs of neighbouring levels can
cross (a 0.9-quantile below the 0.5-quantile). Two ways to prevent it:

- "sort": train every output freely with the pinball loss and sort each
  target's quantiles at predict time, the rearrangement of Chernozhukov,
  Fernández-Val and Galichon (Econometrica, 2010), which never raises the
  pinball loss;
- "increments" (the library's): the network outputs the median and
  non-negative steps (softplus) from it to the neighbouring levels,
  outwards, so the quantiles cannot cross by construction, in training
  too.

Both are measured on the development half of ``bench_honest.py`` (never
the report half) with its protocol: a model per series trained on the
windows before the test region, forecasts from 7 origins, 3 seeds, the
levels (0.025, 0.05, 0.1, 0.5, 0.9, 0.95, 0.975). Printed per series: the
mean pinball loss over the levels and horizon scaled by seasonal naive's
MAE, the coverage of the 80% and 95% intervals, and, for "sort", the share
of (forecast, step) pairs whose raw outputs crossed.
"""

import argparse
import time
import warnings

import numpy as np
from _common import geometric_mean
from real_series_data import (
    load_catalogue,
    origin_windows,
    spread_origins,
    window_length,
)
from real_series_models import seasonal_naive

from sklearn_slstm import StackedLSTMRegressor, make_windows

LEVELS = (0.025, 0.05, 0.1, 0.5, 0.9, 0.95, 0.975)
MEDIAN = LEVELS.index(0.5)


class SortedRegressor(StackedLSTMRegressor):
    """The quantile head with the "sort" design, for this comparison.

    Its network's outputs are trained freely, each with its level's pinball
    loss, and each target's quantiles are sorted at predict time.
    """

    def _build_net(self, attributes, **kwargs):
        net = super()._build_net(attributes, **kwargs)
        return net.set_params(module__quantiles=None)

    def _unscaled(self, outputs, scaling, reference):
        blocks = outputs.reshape(len(outputs), len(LEVELS), -1)
        rearranged = np.sort(blocks, axis=1).reshape(len(outputs), -1)
        return super()._unscaled(rearranged, scaling, reference)


def raw_crossing_share(regressor, X):
    """Share of (row, target) pairs whose raw outputs are not in level order."""
    outputs, _, _ = regressor._predict_network(X)
    blocks = outputs.reshape(len(outputs), len(LEVELS), -1)
    return float((np.diff(blocks, axis=1) < 0).any(axis=1).mean())


def pinball(quantiles, actual):
    """Mean pinball loss over rows, steps and levels; quantiles (.., steps, levels)."""
    levels = np.asarray(LEVELS)
    residuals = actual[..., np.newaxis] - quantiles
    return float(np.maximum(levels * residuals, (levels - 1) * residuals).mean())


def coverage(quantiles, actual, level):
    low, high = (
        int(np.argmin(np.abs(np.subtract(LEVELS, (1 + sign * level) / 2))))
        for sign in (-1, 1)
    )
    inside = (quantiles[..., low] <= actual) & (actual <= quantiles[..., high])
    return float(inside.mean())


def run(args):
    catalogue = load_catalogue("dev", ["co2", "wineind"] if args.quick else None)
    seeds = [0] if args.quick else [0, 1, 2]
    designs = {"sort": SortedRegressor, "increments": StackedLSTMRegressor}
    rows, scores = [], {design: [] for design in designs}
    for name, _, season, horizon, values in catalogue:
        origins = spread_origins(len(values), horizon)[: 1 if args.quick else None]
        n_timesteps = window_length(horizon, [values[: origins[0]]])
        X, y = make_windows(values[: origins[0]], n_timesteps, horizon=horizon)
        X_test = origin_windows(values, origins, n_timesteps)
        actual = np.stack([values[o : o + horizon] for o in origins])
        snaive = np.stack(
            [seasonal_naive(values[:o], season, horizon) for o in origins]
        )
        scale = np.abs(snaive - actual).mean()
        for design, estimator in designs.items():
            results = []
            for seed in seeds:
                start = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    regressor = estimator(
                        loss="quantile", quantiles=LEVELS, random_state=seed
                    ).fit(X, y)
                quantiles = regressor.predict_quantiles(X_test)
                results.append(
                    (
                        pinball(quantiles, actual) / scale,
                        coverage(quantiles, actual, 0.8),
                        coverage(quantiles, actual, 0.95),
                        (
                            raw_crossing_share(regressor, X_test)
                            if design == "sort"
                            else np.nan  # crossing is impossible
                        ),
                        time.perf_counter() - start,
                    )
                )
            mean = np.mean(results, axis=0)
            scores[design].append(mean[0])
            rows.append((name, design, *mean))
            print(f"{name:<14} {design:<11} " + "  ".join(f"{v:.3f}" for v in mean))
    print()
    print(
        "| series | design | pinball / snaive MAE | cover 80% | cover 95% "
        "| raw outputs crossed | fit s |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, design, *values in rows:
        print(f"| {name} | {design} | " + " | ".join(f"{v:.3f}" for v in values) + " |")
    for design, values in scores.items():
        print(f"| geometric mean | {design} | {geometric_mean(values):.3f} | | | | |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke test, seconds")
    run(parser.parse_args(argv))


if __name__ == "__main__":
    main()
