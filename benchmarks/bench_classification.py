"""Judge StackedLSTMClassifier on UCR/UEA archive data sets, against peers.

Run from the repository root::

    python benchmarks/bench_classification.py                # all, minutes
    python benchmarks/bench_classification.py --quick        # smoke test
    python benchmarks/bench_classification.py --datasets GunPoint ArrowHead
    python benchmarks/bench_classification.py --skip-peers --seeds 0 1 2
    python benchmarks/bench_classification.py \\
        --lstm-params '{"max_iter": 60}' --lstm-params '{"dropout": 0.1}'

All data ships inside aeon (``pip install "sklearn-slstm[benchmarks]"``),
so nothing is downloaded. Five sets, each on the archive's fixed train/test
split: GunPoint (150 steps), ItalyPowerDemand (24), ArrowHead (251), all
univariate; BasicMotions (100 steps, 6 channels) and JapaneseVowels (7 to
29 steps, 12 channels: unequal lengths, NaN-padded with
``sklearn_slstm.pad_sequences`` into the library's (n_samples, n_timesteps,
n_channels) layout). The training sets are small (36 to 270 series).

Models, each fitted on the training part and scored (accuracy) on the test
part:

- ``StackedLSTMClassifier(random_state=seed)`` with its defaults on the raw
  series: what a new user gets. Each ``--lstm-params`` (JSON, repeatable)
  adds a row with those parameters on top of the defaults. Without the
  classifier (an older install) these rows are skipped with a message.
- aeon's ``RocketClassifier`` and ``MiniRocketClassifier`` (their defaults:
  10,000 kernels and a ridge classifier), seeded.
- 1-NN DTW: aeon's ``KNeighborsTimeSeriesClassifier(distance="dtw")``, full
  warping window; deterministic, so run once.
- scikit-learn's ``RidgeClassifierCV`` (alphas 1e-3 to 1e3) on the series
  z-normalised per channel and flattened; deterministic, run once.
- The published figures for the same splits, constant rows, not run here:
  Middlehurst, Schäfer and Bagnall, "Bake off redux: a review and
  experimental evaluation of recent time series classification
  algorithms", Data Mining and Knowledge Discovery, 2024 (resample 0, the
  archive's split): ROCKET, HIVE-COTE 2 (HC2), InceptionTime, 1NN-DTW; and
  Karim et al., "LSTM fully convolutional networks for time series
  classification", IEEE Access, 2018 (LSTM-FCN).

ROCKET and MiniRocket do not take unequal lengths, so they read
JapaneseVowels zero-padded at the end to the longest series; 1-NN DTW reads
the unequal series as they are.

Tables: test accuracy per data set (mean over seeds, min-max in brackets
where it varies), the mean over data sets, and the median fit time per data
set, and to predict its test set (1-NN DTW does its work there). aeon's
peers are warmed up on a few cases first, so that numba's compilation is
not timed. Targets for the classifier's defaults, as PASS or MISS: above 1-NN
DTW's accuracy on every set, and a mean over the sets no more than 3 points
below ROCKET's run here. With ``--quick`` (2 epochs, one seed, 1,000 ROCKET
kernels) the figures are a smoke test only.

Threads: torch runs ``--threads`` threads (default 1; 0 keeps torch's
default), aeon's peers one job each.
"""

import argparse
import json
import statistics
import sys
import warnings

import numpy as np
import torch
from _common import Table, columns_text, log, settle_allocator, timed
from classification_data import DATASETS, load, zero_padded_aeon, znormalised_flat
from sklearn.linear_model import RidgeClassifierCV

try:
    from sklearn_slstm import StackedLSTMClassifier
except ImportError:
    StackedLSTMClassifier = None

# Published test accuracy on the archive's split (resample 0).
PUBLISHED = {
    "ROCKET (Bake-off Redux)": {
        "GunPoint": 1.000,
        "ItalyPowerDemand": 0.970,
        "ArrowHead": 0.823,
    },
    "HC2 (Bake-off Redux)": {"GunPoint": 1.000, "ArrowHead": 0.869},
    "InceptionTime (Bake-off Redux)": {
        "GunPoint": 1.000,
        "ItalyPowerDemand": 0.966,
        "ArrowHead": 0.863,
    },
    "1NN-DTW (Bake-off Redux)": {
        "GunPoint": 0.907,
        "ItalyPowerDemand": 0.950,
        "ArrowHead": 0.703,
    },
    "LSTM-FCN (Karim et al. 2018)": {
        "GunPoint": 1.000,
        "ItalyPowerDemand": 0.962,
        "ArrowHead": 0.897,
    },
}
QUICK_EPOCHS = 2
QUICK_KERNELS = 1000
ROCKET = "ROCKET (run here)"
DTW = "1-NN DTW (run here)"


def fit_and_score(model, X_train, y_train, X_test, y_test):
    """Test accuracy, and the wall-clock seconds of the fit and of the scoring."""
    _, fit = timed(model.fit, X_train, y_train)
    score, predict = timed(model.score, X_test, y_test)
    return score, fit.wall, predict.wall


def lstm_runner(params):
    def run(split, seed):
        model = StackedLSTMClassifier(random_state=seed, **params)
        return fit_and_score(
            model, split.X_train, split.y_train, split.X_test, split.y_test
        )

    return run


def aeon_runner(make, *, seeded=True):
    def run(split, seed):
        model = make(seed) if seeded else make()
        X_train, X_test = split.aeon_train, split.aeon_test
        if not split.equal_length and not model.get_tag("capability:unequal_length"):
            maxlen = split.X_train.shape[1]
            X_train = zero_padded_aeon(X_train, maxlen)
            X_test = zero_padded_aeon(X_test, maxlen)
        # aeon compiles its kernels with numba on first use, per input kind
        # (univariate or not); a fit on a few cases first keeps that out of
        # the timings.
        few = np.concatenate(
            [np.flatnonzero(split.y_train == label)[:2] for label in set(split.y_train)]
        )
        warm_up = make(seed) if seeded else make()
        warm_up.fit(_take(X_train, few), split.y_train[few]).predict(X_test[:2])
        return fit_and_score(model, X_train, split.y_train, X_test, split.y_test)

    return run


def _take(collection, indices):
    """Cases ``indices`` of an aeon collection (an array or a list)."""
    if isinstance(collection, list):
        return [collection[i] for i in indices]
    return collection[indices]


def ridge_run(split, seed):
    model = RidgeClassifierCV(alphas=np.logspace(-3, 3, 10))
    return fit_and_score(
        model,
        znormalised_flat(split.X_train),
        split.y_train,
        znormalised_flat(split.X_test),
        split.y_test,
    )


def models(args):
    """(name, run(split, seed), seeded) for every model that runs here."""
    found = []
    if StackedLSTMClassifier is None:
        log(
            "StackedLSTMClassifier is not importable from sklearn_slstm: "
            "the LSTM rows are skipped."
        )
    else:
        variants = [{}] + [json.loads(text) for text in args.lstm_params]
        for params in variants:
            name = "LSTM defaults" if not params else f"LSTM {json.dumps(params)}"
            if args.quick:
                params = {**params, "max_iter": QUICK_EPOCHS}
            found.append((name, lstm_runner(params), True))
    if not args.skip_peers:
        from aeon.classification.convolution_based import (
            MiniRocketClassifier,
            RocketClassifier,
        )
        from aeon.classification.distance_based import KNeighborsTimeSeriesClassifier

        kernels = {"n_kernels": QUICK_KERNELS} if args.quick else {}
        found += [
            (
                ROCKET,
                aeon_runner(lambda s: RocketClassifier(random_state=s, **kernels)),
                True,
            ),
            (
                "MiniRocket (run here)",
                aeon_runner(lambda s: MiniRocketClassifier(random_state=s, **kernels)),
                True,
            ),
            (
                DTW,
                aeon_runner(
                    lambda: KNeighborsTimeSeriesClassifier(distance="dtw"),
                    seeded=False,
                ),
                False,
            ),
            ("RidgeCV z-norm (run here)", ridge_run, False),
        ]
    return found


def accuracy_text(scores):
    mean = statistics.fmean(scores)
    if max(scores) - min(scores) < 5e-4:
        return f"{mean:.3f}"
    return f"{mean:.3f} ({min(scores):.3f}-{max(scores):.3f})"


def seconds(value):
    return f"{value * 1e3:.0f} ms" if value < 1 else f"{value:.1f} s"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke test: seconds")
    parser.add_argument(
        "--datasets", nargs="+", choices=DATASETS, default=list(DATASETS)
    )
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument(
        "--skip-peers", action="store_true", help="only the library's classifier"
    )
    parser.add_argument(
        "--lstm-params",
        action="append",
        default=[],
        metavar="JSON",
        help="one more LSTM row with these parameters (repeatable)",
    )
    parser.add_argument(
        "--threads", type=int, default=1, help="torch threads; 0 = torch's default"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.seeds = args.seeds[:1]
    if args.threads:
        torch.set_num_threads(args.threads)
    settle_allocator()
    warnings.filterwarnings("ignore", category=FutureWarning)

    runs = models(args)
    if not runs:
        log("Nothing to run.")
        return 1
    # accuracy[model][dataset] = scores over seeds; fit_time likewise.
    accuracy = {name: {} for name, _, _ in runs}
    fit_time = {name: {} for name, _, _ in runs}
    predict_time = {name: {} for name, _, _ in runs}
    for dataset in args.datasets:
        split = load(dataset)
        log(split.describe())
        for name, run, seeded in runs:
            for seed in args.seeds if seeded else args.seeds[:1]:
                score, fit, predict = run(split, seed)
                accuracy[name].setdefault(dataset, []).append(score)
                fit_time[name].setdefault(dataset, []).append(fit)
                predict_time[name].setdefault(dataset, []).append(predict)
                log(
                    f"  {name}, seed {seed}: accuracy {score:.3f}, "
                    f"fit {fit:.2f} s, test predictions {predict:.2f} s"
                )

    header = ("model", *args.datasets, "mean")
    rows = []
    for name, _, _ in runs:
        means = [statistics.fmean(accuracy[name][d]) for d in args.datasets]
        rows.append(
            (
                name,
                *(accuracy_text(accuracy[name][d]) for d in args.datasets),
                f"{statistics.fmean(means):.3f}",
            )
        )
    for name, figures in PUBLISHED.items():
        cells = [f"{figures[d]:.3f}" if d in figures else "-" for d in args.datasets]
        mean = (
            f"{statistics.fmean(figures[d] for d in args.datasets):.3f}"
            if all(d in figures for d in args.datasets)
            else "-"
        )
        rows.append((name, *cells, mean))
    seeds = ", ".join(map(str, args.seeds))
    print(f"Test accuracy on the archive's split (mean over seeds {seeds}, min-max)")
    print(columns_text(header, rows))
    for title, measured in (
        ("Median fit time per data set (wall clock)", fit_time),
        ("Median time to predict the test set (wall clock)", predict_time),
    ):
        print()
        print(title)
        times = [
            (
                name,
                *(seconds(statistics.median(measured[name][d])) for d in args.datasets),
            )
            for name, _, _ in runs
        ]
        print(columns_text(header[:-1], times))

    lstm_names = [name for name, _, _ in runs if name.startswith("LSTM")]
    if lstm_names and ROCKET in accuracy:
        print()
        table = Table()
        for name in lstm_names:
            table.section(name)
            for dataset in args.datasets:
                ours = statistics.fmean(accuracy[name][dataset])
                dtw = accuracy[DTW][dataset][0]
                table.add(
                    dataset,
                    "accuracy",
                    f"{ours:.3f}",
                    f"> 1-NN DTW {dtw:.3f}",
                    ours > dtw,
                )
            ours = statistics.fmean(
                statistics.fmean(accuracy[name][d]) for d in args.datasets
            )
            rocket = statistics.fmean(
                statistics.fmean(accuracy[ROCKET][d]) for d in args.datasets
            )
            table.add(
                "mean over sets",
                "accuracy",
                f"{ours:.3f}",
                f">= ROCKET {rocket:.3f} - 0.03",
                ours >= rocket - 0.03,
            )
        print(table.render())
    return 0


if __name__ == "__main__":
    sys.exit(main())
