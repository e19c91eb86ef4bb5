"""The damped sine wave experiment, end to end: ``python -m sklearn_slstm``.

Without arguments, this generates 10,000 training and 1,000 test waves with
fixed seeds, fits the chapter's stacked model, a
:class:`~sklearn_slstm.StackedLSTMRegressor` of two LSTM layers of 20 units
with the library's recipe (scaling, skip connection, schedule, budget), and
the library's default of one layer of 16 units, prints their test MAE and
fit times next to the reference Keras model's and a last-value
baseline's, and plots a few held-out waves of the stacked model. With
``--grid-search`` it instead cross-validates the number of LSTM layers.
Run ``python -m sklearn_slstm --help`` for every option.
"""

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import mean_absolute_error
from sklearn.model_selection import GridSearchCV

from . import ForecastDisplay, StackedLSTMRegressor, make_damped_sine

# The estimator's own defaults, so that the command line stays in step with them.
_DEFAULTS = StackedLSTMRegressor().get_params()
DEFAULT_SIZES = tuple(_DEFAULTS["hidden_layer_sizes"])
DEFAULT_EPOCHS = _DEFAULTS["max_iter"]
# The architecture of the chapter the experiment comes from: two stacked
# LSTM layers of 20 units, which the experiment trains by default.
CHAPTER_LAYERS = 2
CHAPTER_UNITS = 20

N_SAMPLES = 10_000
N_SAMPLES_GRID = 3_000
N_TEST = 1_000
GRID_LAYERS = (1, 2, 3, 4)
N_PLOTTED_WAVES = 4
N_PLOTTED_STEPS = 20

# Quoted from the project's design notes, not computed here: the classic Keras
# model LSTM(20) -> LSTM(20) -> Dense(5), MAE loss, Adam at 0.001, measured
# with Keras 3.15 on TensorFlow-CPU 2.21 on a 2-core machine, as
# (description, test MAE, fit seconds).
KERAS_REFERENCE = (
    ("Keras LSTM(20)-LSTM(20), 1 epoch, batch 10 *", "0.018-0.032", "~11.5"),
    ("Keras LSTM(20)-LSTM(20), 10 epochs, batch 32 *", "~0.008", "~49"),
)

MATPLOTLIB_HINT = (
    "matplotlib is not installed, so the plot was skipped; "
    'install it with: pip install "sklearn-slstm[examples]"'
)


def _positive_int(text):
    """Parse a strictly positive int for argparse (errors exit with code 2)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {value}")
    return value


class _OneLineErrorParser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line, exit code 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def build_parser():
    """Build the command-line parser.

    Returns
    -------
    parser : argparse.ArgumentParser
        The parser behind :func:`main`.
    """
    # The console script passes its own name; "python -m" would show __main__.py.
    invoked_as = Path(sys.argv[0]).stem
    parser = _OneLineErrorParser(
        prog=invoked_as if invoked_as == "sklearn-slstm" else "python -m sklearn_slstm",
        description=(
            "Fit a stacked LSTM to the damped sine wave problem (predict the "
            "next 5 values of a wave from its first 50) and compare its test "
            "MAE with the reference Keras model and a last-value baseline. "
            "Everything is generated locally; no network is used."
        ),
    )
    parser.add_argument(
        "--layers",
        type=_positive_int,
        default=CHAPTER_LAYERS,
        metavar="N",
        help="number of stacked LSTM layers (default: %(default)s, the "
        f"chapter's model; a grid search tries {GRID_LAYERS[0]} to "
        f"{GRID_LAYERS[-1]} instead)",
    )
    parser.add_argument(
        "--units",
        type=_positive_int,
        default=None,
        metavar="N",
        help=f"units per LSTM layer (default: {CHAPTER_UNITS}, the chapter's "
        f"model, or the library's default of {DEFAULT_SIZES[0]} for a grid "
        "search)",
    )
    parser.add_argument(
        "--epochs",
        type=_positive_int,
        default=DEFAULT_EPOCHS,
        metavar="N",
        help="training epochs, passes over the training data (default: %(default)s)",
    )
    parser.add_argument(
        "--samples",
        type=_positive_int,
        default=None,
        metavar="N",
        help=f"number of training waves (default: {N_SAMPLES}, or "
        f"{N_SAMPLES_GRID} for a grid search); the test set always has {N_TEST}",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of the training data and the model; the test data uses "
        "seed + 1 (default: %(default)s)",
    )
    parser.add_argument(
        "--threads",
        type=_positive_int,
        default=1,
        metavar="N",
        help="torch threads for training in this process (default: "
        "%(default)s): the default model is too small to gain from more, and "
        "extra threads slow training down when other processes share the "
        "cores; results can differ in the last digits between thread counts",
    )
    parser.add_argument(
        "--output",
        default=None,
        metavar="PATH",
        help="where to write the PNG plot (default: damped_sine.png, or "
        "damped_sine_layers.png for a grid search, in the current folder)",
    )
    parser.add_argument(
        "--grid-search",
        action="store_true",
        help="instead of one fit, grid-search the number of layers "
        f"({GRID_LAYERS[0]} to {GRID_LAYERS[-1]}) with GridSearchCV, scoring "
        "the negative MAE, and print the cross-validated MAE per layer count",
    )
    parser.add_argument(
        "--cv",
        type=_positive_int,
        default=3,
        metavar="K",
        help="number of cross-validation folds of a grid search, at least 2 "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--n-jobs",
        type=int,
        default=None,
        metavar="N",
        help="parallel processes for a grid search, as GridSearchCV's n_jobs "
        "(default: one at a time; -1: all cores); joblib gives each its share "
        "of the cores, and --threads is then ignored",
    )
    return parser


def main(argv=None):
    """Run the damped sine experiment from the command line.

    Parameters
    ----------
    argv : list of str or None, default=None
        Command-line arguments without the program name; None reads
        ``sys.argv[1:]``.

    Returns
    -------
    exit_code : int
        0 on success. Invalid arguments raise ``SystemExit(2)``, as
        :mod:`argparse` does.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.samples is None:
        args.samples = N_SAMPLES_GRID if args.grid_search else N_SAMPLES
    if args.units is None:
        args.units = DEFAULT_SIZES[0] if args.grid_search else CHAPTER_UNITS
    if args.grid_search and args.cv < 2:
        parser.error("--cv must be at least 2")
    if args.grid_search and args.samples < args.cv:
        parser.error("--samples must be at least --cv")
    if args.output is None:
        args.output = (
            "damped_sine_layers.png" if args.grid_search else "damped_sine.png"
        )
    problem = _unwritable(Path(args.output))
    if problem:
        # Checked before training, which may take a while, not after it.
        parser.error(f"--output {args.output}: {problem}")
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(args.threads)
    try:
        if args.grid_search:
            return _run_grid_search(args)
        return _run_experiment(args)
    finally:
        torch.set_num_threads(previous_threads)


def _run_experiment(args):
    X_train, y_train = make_damped_sine(n_samples=args.samples, random_state=args.seed)
    X_test, y_test = make_damped_sine(n_samples=N_TEST, random_state=args.seed + 1)
    sizes = (args.units,) * args.layers
    print(
        f"Damped sine: {args.samples} training and {N_TEST} test waves, "
        f"{X_train.shape[1]} steps in, {y_train.shape[1]} steps out; "
        f"{args.threads} torch thread(s)."
    )
    print(
        f"Fitting StackedLSTMRegressor(hidden_layer_sizes={sizes}, "
        f"max_iter={args.epochs}, random_state={args.seed})"
    )
    reg, fit_time = _fit(sizes, args, X_train, y_train, verbose=1)
    start = time.perf_counter()
    y_pred = reg.predict(X_test)
    predict_time = time.perf_counter() - start
    rows = [_result_row(reg, "", fit_time, y_test, y_pred)]
    if sizes != DEFAULT_SIZES:
        print(
            f"Fitting the library's default architecture, {_describe(DEFAULT_SIZES)}, "
            "for comparison"
        )
        default, default_time = _fit(DEFAULT_SIZES, args, X_train, y_train)
        rows.append(
            _result_row(
                default, " (default)", default_time, y_test, default.predict(X_test)
            )
        )
    y_last = _last_value_forecast(X_test, y_test.shape[1])
    rows += [
        *KERAS_REFERENCE,
        (
            "last-value baseline (X[:, -1] repeated)",
            f"{mean_absolute_error(y_test, y_last):.4f}",
            "-",
        ),
    ]
    print()
    _print_table(("model", f"test MAE ({N_TEST} waves)", "fit (s)"), rows)
    print("* quoted from the project's design notes, not run here")
    print(
        f"Predicting {N_TEST} waves with the {_describe(sizes)} model took "
        f"{predict_time:.2f} s."
    )
    _plot_or_skip(
        _plot_waves,
        args.output,
        X_test[:N_PLOTTED_WAVES],
        y_test[:N_PLOTTED_WAVES],
        y_pred[:N_PLOTTED_WAVES],
        _describe(sizes),
    )
    return 0


def _fit(sizes, args, X, y, verbose=0):
    """A regressor of these layer sizes with the library's recipe, fitted; its time."""
    reg = StackedLSTMRegressor(
        hidden_layer_sizes=sizes,
        max_iter=args.epochs,
        random_state=args.seed,
        verbose=verbose,
    )
    start = time.perf_counter()
    reg.fit(X, y)
    return reg, time.perf_counter() - start


def _result_row(reg, note, fit_time, y_test, y_pred):
    sizes = reg.hidden_layer_sizes
    return (
        f"StackedLSTMRegressor {_describe(sizes)}{note}, "
        f"{reg.n_iter_} epoch{'s' if reg.n_iter_ != 1 else ''}, "
        f"batch {reg.batch_size}",
        f"{mean_absolute_error(y_test, y_pred):.4f}",
        f"{fit_time:.1f}",
    )


def _run_grid_search(args):
    X, y = make_damped_sine(n_samples=args.samples, random_state=args.seed)
    grid = {"hidden_layer_sizes": [(args.units,) * n for n in GRID_LAYERS]}
    if args.n_jobs in (None, 1):
        workers = f"one fit at a time on {args.threads} torch thread(s)"
    else:
        workers = f"n_jobs={args.n_jobs}, each worker on its share of the cores"
    print(
        f"Grid search over {GRID_LAYERS[0]} to {GRID_LAYERS[-1]} layers of "
        f"{args.units} units, {args.epochs} epochs each, {args.cv}-fold "
        f"cross-validation on {args.samples} waves; {workers}."
    )
    search = GridSearchCV(
        StackedLSTMRegressor(max_iter=args.epochs, random_state=args.seed),
        grid,
        scoring="neg_mean_absolute_error",
        cv=args.cv,
        n_jobs=args.n_jobs,
        refit=False,
    )
    start = time.perf_counter()
    search.fit(X, y)
    total_time = time.perf_counter() - start
    results = search.cv_results_
    mae_mean = -results["mean_test_score"]
    mae_std = results["std_test_score"]
    fit_time = results["mean_fit_time"]
    rows = [
        (str(n), f"{mean:.4f}", f"{std:.4f}", f"{seconds:.1f}")
        for n, mean, std, seconds in zip(
            GRID_LAYERS, mae_mean, mae_std, fit_time, strict=True
        )
    ]
    print()
    _print_table(("layers", "CV MAE mean", "CV MAE std", "mean fit (s)"), rows)
    best = GRID_LAYERS[int(np.argmin(mae_mean))]
    print(f"Lowest CV MAE: {best} layer(s). Search took {total_time:.1f} s.")
    _plot_or_skip(
        _plot_layers,
        args.output,
        GRID_LAYERS,
        mae_mean,
        mae_std,
        args.units,
    )
    return 0


def _last_value_forecast(X, n_outputs):
    """Predict every future step as the last observed value."""
    return np.repeat(X[:, -1:], n_outputs, axis=1)


def _describe(sizes):
    return f"{len(sizes)} x {sizes[0]} units" if len(set(sizes)) == 1 else str(sizes)


def _print_table(header, rows):
    """Print rows of strings as a plain left/right-aligned text table."""
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]

    def line(row):
        cells = [row[0].ljust(widths[0])]
        cells += [
            cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)
        ]
        return "  ".join(cells)

    print(line(header))
    print("  ".join("-" * width for width in widths))
    for row in rows:
        print(line(row))


def _unwritable(path):
    """Why the plot cannot be written to ``path``, or None if it can."""
    folder = path.parent
    if not folder.is_dir():
        return f"the folder {folder} does not exist"
    if path.is_dir():
        return "it is a folder"
    if not os.access(path if path.exists() else folder, os.W_OK):
        return "permission denied"
    return None


def _plot_or_skip(plot, path, *data):
    """Write a plot with ``plot(figure, *data)``, or explain why it was skipped."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        print(MATPLOTLIB_HINT)
        return
    # A bare Figure on the Agg canvas leaves pyplot's global state alone.
    figure = Figure(figsize=(9, 5.5), layout="constrained")
    FigureCanvasAgg(figure)
    plot(figure, *data)
    figure.savefig(path, dpi=100)
    print(f"Plot written to {path}")


def _plot_waves(figure, X, y_true, y_pred, model):
    n_in = X.shape[1]
    # Only the end of the input window is drawn, so that the few forecast
    # steps are large enough to tell the prediction from the truth.
    shown = min(n_in, N_PLOTTED_STEPS)
    axes = figure.subplots(2, (len(X) + 1) // 2, sharex=True, squeeze=False)
    for k, ax in enumerate(axes.flat):
        if k >= len(X):
            ax.set_visible(False)
            continue
        rows = slice(k, k + 1)
        ForecastDisplay(
            X=X[rows, -shown:], y_true=y_true[rows], y_pred=y_pred[rows], origin=n_in
        ).plot(ax=ax)
        ax.set_title(f"held-out wave {k}")
        if k:
            ax.get_legend().remove()
    figure.suptitle(
        f"StackedLSTMRegressor ({model}) on held-out damped sine waves "
        f"(last {shown} of {n_in} input steps shown)"
    )


def _plot_layers(figure, layers, mae_mean, mae_std, units):
    ax = figure.subplots()
    ax.errorbar(layers, mae_mean, yerr=mae_std, marker="o", capsize=4)
    ax.set_xticks(layers)
    ax.set_xlabel(f"number of LSTM layers ({units} units each)")
    ax.set_ylabel("cross-validated MAE (mean ± std)")
    ax.set_title("Damped sine: MAE against depth")


if __name__ == "__main__":
    sys.exit(main())
