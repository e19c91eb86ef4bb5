"""Sections (a) to (c) and (e) of the training benchmark, run in this process.

(a) times the reference configuration's fit through ``StackedLSTMRegressor``
against the hand-written loop (and Keras), (b) prediction with the last
models fitted in (a), (c) the defaults over several seeds, set against the
hand-written loop's times from (a), and (e) sequences of different lengths
against equal-length ones. Each adds its rows to a `_common.Table`; see the
docstring of ``bench_training.py`` for the rows.
"""

import statistics

import numpy as np
from _common import log, mae, ratio_text, seconds_text, timed

from sklearn_slstm import StackedLSTMRegressor

from .models import (
    REFERENCE_BATCH_SIZE,
    fit_hand_loop,
    fit_keras,
    forward,
    keras_available,
    reference_regressor,
)

DEFAULT_SEEDS = 3


def bench_reference(table, data, test, args):
    """(a) and (b): the reference configuration, then prediction.

    Returns the Stopwatches of the hand-written loop, for (c).
    """
    X, y, X_tensor, y_tensor = data
    X_test, y_test, X_test_tensor, _ = test
    X_test_keras = X_test_tensor.numpy()
    use_keras = args.keras and keras_available()
    if args.keras and not use_keras:
        log("note: --keras ignored: tensorflow is not importable (not a dependency)")

    # Untimed warm-up of both sides on a slice: lazy initialisation and
    # first-call allocations would otherwise land in the first pair.
    reference_regressor(args.seed).fit(X[:100], y[:100])
    fit_hand_loop(X_tensor[:100], y_tensor[:100], seed=args.seed)

    reg_times, hand_times, keras_times = [], [], []
    reg_maes, hand_maes, keras_maes = [], [], []
    seeds = range(args.seed, args.seed + args.repeats)
    for repeat, seed in enumerate(seeds, start=1):
        regressor, stopwatch = timed(reference_regressor(seed).fit, X, y)
        reg_times.append(stopwatch)
        reg_maes.append(mae(regressor.predict(X_test), y_test))
        module, stopwatch = fit_hand_loop(X_tensor, y_tensor, seed=seed)
        hand_times.append(stopwatch)
        hand_maes.append(mae(forward(module, X_test_tensor).numpy(), y_test))
        log(
            f"(a) pair {repeat}/{args.repeats}: regressor {reg_times[-1].wall:.2f} s, "
            f"hand-written {hand_times[-1].wall:.2f} s"
        )
        if use_keras:
            # Keras takes the same float32 (n_samples, n_timesteps, 1) arrays.
            keras_model, stopwatch = fit_keras(X_tensor.numpy(), y, seed=seed)
            keras_times.append(stopwatch)
            keras_maes.append(mae(keras_model.predict(X_test_keras, verbose=0), y_test))
            log(f"(a) pair {repeat}: keras {stopwatch.wall:.2f} s")

    fit_ratio, fit_ratio_text = ratio_text(reg_times, hand_times, digits=3)
    table.section(
        f"(a) reference config: {len(X):,} train, batch {REFERENCE_BATCH_SIZE}, "
        f"1 epoch, {args.repeats} interleaved pairs, seeds {seeds[0]}..{seeds[-1]}"
    )
    table.add("a1", "fit, StackedLSTMRegressor", seconds_text(reg_times))
    table.add("a2", "fit, hand-written torch loop", seconds_text(hand_times))
    table.add(
        "a3",
        "fit ratio a1/a2 (median of pairs)",
        fit_ratio_text,
        "<= 1.10 (goal 1.05)",
        fit_ratio <= 1.10,
    )
    table.add(
        "a4", "test MAE, regressor (median)", f"{statistics.median(reg_maes):.4f}"
    )
    table.add(
        "a5", "test MAE, hand-written (median)", f"{statistics.median(hand_maes):.4f}"
    )
    if args.keras and not use_keras:
        table.add("a6", "Keras reference model", "skipped: no tensorflow")
    if use_keras:
        table.add("a6", "fit, Keras reference model", seconds_text(keras_times))
        table.add(
            "a7",
            "test MAE, Keras (median); fit ratio a6/a2",
            f"{statistics.median(keras_maes):.4f}; "
            f"{ratio_text(keras_times, hand_times)[1]}",
        )

    # (b) with the last pair of fitted models; calls are short, so make more.
    n_calls = 4 * args.repeats
    regressor.predict(X_test)
    forward(module, X_test_tensor)
    predict_times, forward_times, keras_predict_times = [], [], []
    for _ in range(n_calls):
        predict_times.append(timed(regressor.predict, X_test)[1])
        forward_times.append(timed(forward, module, X_test_tensor)[1])
        if use_keras:
            keras_predict_times.append(
                timed(keras_model.predict, X_test_keras, verbose=0)[1]
            )
    predict_ratio, predict_ratio_text = ratio_text(predict_times, forward_times)
    table.section(f"(b) predict {len(X_test):,} sequences, {n_calls} interleaved pairs")
    table.add("b1", "predict, StackedLSTMRegressor", seconds_text(predict_times))
    table.add(
        "b2", "forward, hand-written (eval, no_grad)", seconds_text(forward_times)
    )
    table.add(
        "b3",
        "predict ratio b1/b2 (median of pairs)",
        predict_ratio_text,
        "<= 1.5",
        predict_ratio <= 1.5,
    )
    if use_keras:
        table.add(
            "b4", "predict, Keras model.predict", seconds_text(keras_predict_times)
        )
    return hand_times


def bench_defaults(table, data, test, hand_times, args):
    """(c): the defaults, over several seeds."""
    X, y, _, _ = data
    X_test, y_test, _, _ = test
    times, maes = [], []
    seeds = range(args.seed, args.seed + DEFAULT_SEEDS)
    for seed in seeds:
        regressor, stopwatch = timed(StackedLSTMRegressor(random_state=seed).fit, X, y)
        times.append(stopwatch)
        maes.append(mae(regressor.predict(X_test), y_test))
        log(f"(c) seed {seed}: fit {stopwatch.wall:.2f} s, test MAE {maes[-1]:.5f}")
    mean_mae, worst_mae = statistics.mean(maes), max(maes)
    relative = statistics.median(t.wall for t in times) / statistics.median(
        t.wall for t in hand_times
    )
    relative_cpu = statistics.median(t.cpu for t in times) / statistics.median(
        t.cpu for t in hand_times
    )
    defaults = StackedLSTMRegressor()
    table.section(
        f"(c) defaults ({len(defaults.hidden_layer_sizes)} x "
        f"{defaults.hidden_layer_sizes[0]} units, batch {defaults.batch_size}, "
        f"{defaults.max_iter} epochs, {defaults.learning_rate} lr "
        f"{defaults.learning_rate_init}), {len(X):,} train, "
        f"seeds {seeds[0]}..{seeds[-1]}"
    )
    table.add("c1", "fit, defaults (median over seeds)", seconds_text(times))
    table.add(
        "c2",
        "test MAE, mean over seeds",
        f"{mean_mae:.5f}",
        "<= 0.001",
        mean_mae <= 0.001,
    )
    table.add(
        "c3", "test MAE, worst seed", f"{worst_mae:.5f}", "<= 0.002", worst_mae <= 0.002
    )
    table.add(
        "c4",
        "fit time c1 / a2 (medians)",
        f"{relative:.2f}x (CPU {relative_cpu:.2f}x)",
        "<= 4x",
        relative <= 4,
    )


RAGGED_EPOCHS = 2
RAGGED_MIN_LENGTH = 25


def bench_ragged(table, data, test, args):
    """(e): the defaults on sequences of 25 to 50 steps against all of 50."""
    X, y, _, _ = data
    X_test, y_test, _, _ = test
    rng = np.random.default_rng(args.seed)
    X_ragged = X.astype(np.float32)
    n_timesteps = X.shape[1]
    lengths = rng.integers(RAGGED_MIN_LENGTH, n_timesteps + 1, len(X))
    # The oldest steps go: each row keeps its last `length` steps.
    X_ragged[np.arange(n_timesteps) < (n_timesteps - lengths)[:, np.newaxis]] = np.nan
    equal_times, ragged_times = [], []
    for repeat in range(args.repeats):
        for inputs, times in ((X, equal_times), (X_ragged, ragged_times)):
            regressor = StackedLSTMRegressor(
                max_iter=RAGGED_EPOCHS, random_state=args.seed
            )
            regressor, stopwatch = timed(regressor.fit, inputs, y)
            times.append(stopwatch)
        log(
            f"(e) pair {repeat + 1}: equal {equal_times[-1].wall:.2f} s, "
            f"ragged {ragged_times[-1].wall:.2f} s"
        )
    ratio, text = ratio_text(ragged_times, equal_times)
    table.section(
        f"(e) defaults with {RAGGED_EPOCHS} epochs, {len(X):,} train: lengths "
        f"uniform over {RAGGED_MIN_LENGTH}-{n_timesteps} (NaN-padded) against "
        f"all {n_timesteps} steps"
    )
    table.add("e1", f"fit, all {n_timesteps} steps", seconds_text(equal_times))
    table.add("e2", "fit, NaN-padded lengths", seconds_text(ragged_times))
    table.add("e3", "fit time e2 / e1 (median ratio)", text, "<= 1.3x", ratio <= 1.3)
    ragged_test = X_test.astype(np.float32)
    ragged_test[:, : n_timesteps - RAGGED_MIN_LENGTH] = np.nan
    table.add(
        "e4",
        f"test MAE from the last {RAGGED_MIN_LENGTH} steps only",
        f"{mae(regressor.predict(ragged_test), y_test):.5f}",
    )
