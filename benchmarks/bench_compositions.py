"""The default scaling inside scikit-learn compositions, and on targets that
are not continuations of the sequences.

Run from the repository root::

    python benchmarks/bench_compositions.py            # about 5 minutes
    python benchmarks/bench_compositions.py --seeds 1

Part 1, monthly CO2 (statsmodels): 24-step windows from ``make_windows``,
12-step forecasts from the 7 rolling origins of ``bench_real_series.py`` in
the last 36 points, trained on the data before them. Each row wraps the
regressor as a user would (a scaler of ``X`` in a ``Pipeline``, a
``TransformedTargetRegressor`` of ``y``) and reports the test MAE, with the
default ``scaling`` and with ``scaling="global"``.

Part 2, targets that are not continuations: the (period, decay) of damped
sine waves from the waves themselves (``make_damped_sine(return_params=True)``),
and one label per multichannel series (its level and amplitude), as in
time-series extrinsic regression. Test R^2 and RMSE.

Median over ``--seeds`` seeds; the table is on stdout.
"""

import argparse
import warnings

import numpy as np
from _common import log, mae
from real_series_data import HORIZON, load_co2, origin_windows, rolling_origins
from sklearn.compose import TransformedTargetRegressor
from sklearn.metrics import r2_score, root_mean_squared_error
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from sklearn_slstm import StackedLSTMRegressor, make_damped_sine, make_windows

N_TIMESTEPS = 24


def compositions(regressor):
    """(label, estimator): the regressor as users wrap it."""
    return [
        ("StackedLSTMRegressor() alone", regressor),
        (
            "make_pipeline(StandardScaler(), ...)",
            make_pipeline(StandardScaler(), regressor),
        ),
        (
            "make_pipeline(MinMaxScaler(), ...)",
            make_pipeline(MinMaxScaler(), regressor),
        ),
        (
            "TransformedTargetRegressor(..., StandardScaler())",
            TransformedTargetRegressor(regressor, transformer=StandardScaler()),
        ),
        (
            "TransformedTargetRegressor(..., np.log, np.exp)",
            TransformedTargetRegressor(regressor, func=np.log, inverse_func=np.exp),
        ),
        (
            "both: a scaler of X and of y",
            TransformedTargetRegressor(
                make_pipeline(StandardScaler(), regressor), transformer=StandardScaler()
            ),
        ),
    ]


def co2_mae(estimator):
    series = load_co2()
    origins = rolling_origins(len(series))
    X, y = make_windows(series[: origins[0]], N_TIMESTEPS, horizon=HORIZON)
    estimator.fit(X, y)
    predicted = estimator.predict(origin_windows(series, origins, N_TIMESTEPS))
    actual = np.stack([series[o : o + HORIZON] for o in origins])
    return mae(predicted, actual)


def wave_parameters(seed):
    X, _, params = make_damped_sine(2000, return_params=True, random_state=seed)
    return X[:1500], params[:1500], X[1500:], params[1500:]


def series_labels(seed):
    """Multichannel series whose label is a level and amplitude of theirs."""
    rng = np.random.default_rng(seed)
    n, steps = 2000, 40
    level = rng.uniform(-5, 5, size=(n, 1, 1))
    amplitude = rng.uniform(0.5, 3, size=(n, 1, 1))
    t = np.arange(steps)[None, :, None]
    phase = rng.uniform(0, 2 * np.pi, size=(n, 1, 2))
    X = level + amplitude * np.sin(2 * np.pi * t / 12 + phase)
    X += 0.1 * rng.standard_normal(X.shape)
    label = (level + 2 * amplitude).ravel()
    return X[:1500], label[:1500], X[1500:], label[1500:]


def extrinsic_scores(regressor, data):
    X, y, X_test, y_test = data
    y_pred = regressor.fit(X, y).predict(X_test)
    return r2_score(y_test, y_pred), root_mean_squared_error(y_test, y_pred)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    seeds = range(args.seeds)
    scalings = {"default": {}, "global": {"scaling": "global"}}

    print(f"## Monthly CO2: test MAE, median over {args.seeds} seeds")
    print(f"| setup | {' | '.join(scalings)} |\n|---|---|---|")
    labels = [label for label, _ in compositions(None)]
    for row, label in enumerate(labels):
        cells = []
        for name, params in scalings.items():
            maes = []
            for seed in seeds:
                regressor = StackedLSTMRegressor(random_state=seed, **params)
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    maes.append(co2_mae(compositions(regressor)[row][1]))
                log(
                    f"{label}, {name}, seed {seed}: {maes[-1]:.3f}, "
                    f"{len(caught)} warnings {[str(w.message)[:60] for w in caught]}"
                )
            cells.append(f"{np.median(maes):.3g}")
        print(f"| {label} | {' | '.join(cells)} |", flush=True)

    print("\n## Targets that are not continuations: test R^2 / RMSE, median")
    print(f"| data | {' | '.join(scalings)} |\n|---|---|---|")
    for label, make in [
        ("wave (period, decay) from the waves", wave_parameters),
        ("one label per 2-channel series", series_labels),
    ]:
        cells = []
        for params in scalings.values():
            scores = np.array(
                [
                    extrinsic_scores(
                        StackedLSTMRegressor(random_state=seed, **params), make(seed)
                    )
                    for seed in seeds
                ]
            )
            r2, rmse = np.median(scores, axis=0)
            cells.append(f"{r2:.4f} / {rmse:.4g}")
        print(f"| {label} | {' | '.join(cells)} |", flush=True)


if __name__ == "__main__":
    main()
