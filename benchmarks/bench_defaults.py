"""How the defaults of StackedLSTMRegressor were chosen: real series first.

Run from the repository root::

    python benchmarks/bench_defaults.py             # about 10 minutes
    python benchmarks/bench_defaults.py --seeds 2   # fewer seeds, faster

Each row is one configuration of ``StackedLSTMRegressor``, from the earlier
defaults to the current ones, one change at a time. Two measures:

- **real series**: part 1 of ``bench_real_series.py`` (seven bundled series,
  12-step forecasts from windows of 24 steps, 7 rolling origins in the last
  36 points, trained once on the data before them), for the LSTM alone: the
  geometric mean over series of its MAE divided by seasonal naive's, and
  the worst series' ratio, each the mean over ``--seeds`` seeds. Lower is
  better; 1.0 is seasonal naive.
- **damped sine**: the reference problem of ``bench_training.py`` (10,000
  training and 1,000 test waves, 50 steps in, 5 out): test MAE, mean over 3
  seeds.

Accuracy only: ``bench_training.py`` times the defaults against a
hand-written loop, interleaved, which a table of one-off fits cannot do
fairly on a shared machine.

Every configuration sees the same data and seeds. The table is on stdout,
progress on stderr. Requires the ``benchmarks`` extra (the data of
``bench_real_series.py``, loaded through ``real_series_data.py``; the
real-series figure is ``real_series_models.real_series_ratios``).
"""

import argparse
import warnings

import numpy as np
import torch
from _common import columns_text, log, mae, settle_allocator
from real_series_data import load_single_series
from real_series_models import real_series_ratios

from sklearn_slstm import StackedLSTMRegressor, make_damped_sine

EARLIER = {
    "scaling": None,
    "linear_skip": False,
    "hidden_layer_sizes": (16, 16),
    "batch_size": 32,
}

# (label, parameters): each row changes one thing from the row above it.
CONFIGURATIONS = [
    ("earlier defaults: raw values, 2 x 16, batch 32", EARLIER),
    ("  the same, 50 epochs", {**EARLIER, "max_iter": 50}),
    ("+ scaling='global'", {**EARLIER, "scaling": "global"}),
    ("+ scaling='window' instead", {**EARLIER, "scaling": "window"}),
    ("+ linear_skip=True", {**EARLIER, "scaling": "window", "linear_skip": True}),
    (
        "+ one layer of 16",
        {"hidden_layer_sizes": (16,), "batch_size": 32},
    ),
    ("+ batch 16: the current defaults", {}),
    ("  the same, 30 epochs", {"max_iter": 30}),
]

SINE_SEEDS = (0, 1, 2)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--seeds", type=int, default=5, help="seeds per real-series figure"
    )
    return parser.parse_args(argv)


def damped_sine_mae(params):
    """Test MAE on the reference problem, mean over SINE_SEEDS."""
    X, y = make_damped_sine(10_000, random_state=0)
    X_test, y_test = make_damped_sine(1_000, random_state=1)
    errors = [
        mae(
            StackedLSTMRegressor(random_state=seed, **params).fit(X, y).predict(X_test),
            y_test,
        )
        for seed in SINE_SEEDS
    ]
    return float(np.mean(errors))


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(1)
    settle_allocator()
    series_list = load_single_series()
    seeds = range(args.seeds)
    rows = []
    for label, params in CONFIGURATIONS:
        log(f"{label}: {params}")
        with warnings.catch_warnings():
            # scaling=None warns on raw values, which is the point of row 1.
            warnings.simplefilter("ignore", UserWarning)
            ratios = real_series_ratios(params, seeds, series_list)
            sine_mae = damped_sine_mae(params)
        geometric = np.exp(np.log(ratios).mean(axis=1))
        rows.append(
            (
                label,
                f"{geometric.mean():.3f}",
                f"{ratios.max(axis=1).mean():.2f}",
                f"{sine_mae:.5f}",
            )
        )
    print(
        f"Real series: 7 series, MAE / seasonal naive, mean over {args.seeds} "
        "seeds. Damped sine: 10,000 waves, mean test MAE over 3 seeds."
    )
    print(
        columns_text(
            ("configuration", "geo. mean", "worst", "sine MAE"),
            rows,
        )
    )


if __name__ == "__main__":
    main()
