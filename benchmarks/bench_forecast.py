"""Recursive against direct multi-step forecasts on the damped sine problem.

Run from the repository root::

    python benchmarks/bench_forecast.py            # full run, about a minute
    python benchmarks/bench_forecast.py --quick    # tiny sizes, a smoke test

One model, ``StackedLSTMRegressor(random_state=seed)`` with the library's
defaults, is trained on the reference problem: 10,000 examples of 50 input
values and the 5 values that follow (``make_damped_sine``,
``random_state=seed``). Its recursive forecast (its ``forecast`` method, which
feeds each predicted block of 5 back into the window) is compared, for
horizons of 5, 20 and 50 steps, with a model of the same defaults trained
directly on that horizon: the same 10,000 waves with ``n_outputs=horizon``.
At horizon 5 both are the same model. The test set is 1,000 fresh waves
(``random_state=seed + 1``).

The first table gives, per horizon, the test MAE averaged over all steps of
the horizon, and the MAE of its last step alone; the second, the MAE of each
block of 5 steps over the 50-step horizon. A last line separates the two
causes of the recursive forecast's error after its first block: errors fed
back, and windows unlike the training ones (every training window starts at
step 0 of its wave, the second round's window at step 5). It gives the MAE of
the 5-step model on the true values of steps 5 to 54 of the test waves:
windows of the second round's kind without fed-back errors. Progress goes to
stderr, the tables to stdout.
"""

import argparse

import numpy as np
import torch
from _common import columns_text, log, timed

from sklearn_slstm import DampedSineGenerator, StackedLSTMRegressor, make_damped_sine

HORIZONS = (5, 20, 50)
BLOCK = 5


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seed", type=int, default=0, help="data and model seed")
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes, for a smoke test"
    )
    parser.add_argument(
        "--threads", type=int, default=1, help="torch threads (0: torch's default)"
    )
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    n_train, n_test = (500, 100) if args.quick else (10_000, 1_000)
    max_iter = 1 if args.quick else StackedLSTMRegressor().max_iter
    horizon_max = max(HORIZONS)

    X_test, y_test, params_test = make_damped_sine(
        n_samples=n_test,
        n_outputs=horizon_max,
        random_state=args.seed + 1,
        return_params=True,
    )
    models, fit_times = {}, {}
    for horizon in HORIZONS:
        # The same seed draws the same waves: only the target length differs.
        X, y = make_damped_sine(
            n_samples=n_train, n_outputs=horizon, random_state=args.seed
        )
        log(f"fitting the direct model for horizon {horizon}...")
        regressor = StackedLSTMRegressor(random_state=args.seed, max_iter=max_iter)
        models[horizon], fit_times[horizon] = timed(regressor.fit, X, y)
        log(f"  {fit_times[horizon].wall:.1f} s")

    one_block = models[BLOCK]
    recursive, recursive_time = timed(one_block.forecast, X_test, horizon_max)
    direct = {h: models[h].predict(X_test) for h in HORIZONS}

    print(
        f"Damped sine, {n_train:,} training / {n_test:,} test waves, "
        f"StackedLSTMRegressor defaults, seed {args.seed}"
    )
    print()
    rows = []
    for horizon in HORIZONS:
        error_rec = np.abs(recursive[:, :horizon] - y_test[:, :horizon])
        error_dir = np.abs(direct[horizon] - y_test[:, :horizon])
        rows.append(
            (
                str(horizon),
                f"{error_rec.mean():.4f}",
                f"{error_dir.mean():.4f}",
                f"{error_rec.mean() / error_dir.mean():.2f}",
                f"{error_rec[:, -1].mean():.4f}",
                f"{error_dir[:, -1].mean():.4f}",
                f"{fit_times[horizon].wall:.1f} s",
            )
        )
    header = (
        "horizon",
        "MAE recursive",
        "MAE direct",
        "ratio",
        "last step rec.",
        "last step dir.",
        "direct fit",
    )
    print(columns_text(header, rows))
    print()
    print(
        f"Recursive forecast of {horizon_max} steps for {n_test:,} waves: "
        f"{recursive_time.wall:.2f} s ({horizon_max // BLOCK} predict calls)."
    )
    print()
    print(f"MAE per block of {BLOCK} steps, horizon {horizon_max}:")
    error_rec = np.abs(recursive - y_test).mean(axis=0)
    error_dir = np.abs(direct[horizon_max] - y_test).mean(axis=0)
    rows = []
    for start in range(0, horizon_max, BLOCK):
        block = slice(start, start + BLOCK)
        rows.append(
            (
                f"{start + 1}-{start + BLOCK}",
                f"{error_rec[block].mean():.4f}",
                f"{error_dir[block].mean():.4f}",
            )
        )
    print(columns_text(("steps", "recursive", "direct"), rows))

    n_timesteps = X_test.shape[1]
    # The test waves sampled on steps 5 to 54, and the 5 steps after them: a
    # window ends just before its origin.
    shifted = DampedSineGenerator(
        n_timesteps=n_timesteps, origin=BLOCK + n_timesteps
    ).transform(params_test)
    y_shifted = DampedSineGenerator(
        n_timesteps=BLOCK, origin=2 * BLOCK + n_timesteps
    ).transform(params_test)
    shifted_mae = np.abs(one_block.predict(shifted) - y_shifted).mean()
    print()
    print(
        f"The {BLOCK}-step model on the true windows of steps {BLOCK} to "
        f"{BLOCK + n_timesteps - 1} (steps {BLOCK + 1}-{2 * BLOCK} ahead, no "
        f"fed-back error): MAE {shifted_mae:.4f}"
    )


if __name__ == "__main__":
    main()
