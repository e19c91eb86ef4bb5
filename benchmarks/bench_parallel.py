"""Wall time of a grid search run sequentially, in 2 processes and on Dask.

Times ``GridSearchCV(StackedLSTMRegressor(...), {"hidden_layer_sizes":
[(20,), (20, 20)]})`` on damped sine data with ``n_jobs=1`` and ``n_jobs=2``
(joblib's loky processes) and, with ``--dask``, on a 2-worker
``dask.distributed.LocalCluster`` through joblib's Dask backend. The modes
run interleaved, in a rotating order, ``--repeats`` times after one untimed
warm-up round (the first fit in a process pays for torch's one-off set-up;
the warm-up time is printed separately). It prints the median wall times,
their ratio to ``n_jobs=1``, whether the cross-validation scores are
identical to the sequential ones, and the torch thread count each process
uses, to show that the parallel runs do not oversubscribe the cores.
Progress (each timed run, the cluster's start-up) goes to stderr.

``refit=False``: the final refit runs in the calling process whatever
``n_jobs`` is, so it would only dilute the comparison.

Run from the repository root::

    python benchmarks/bench_parallel.py --repeats 3 --dask
"""

import argparse
import logging
import os
import statistics

import joblib
import numpy as np
import torch
from _common import Stopwatch, columns_text, log, timed
from sklearn.model_selection import GridSearchCV

from sklearn_slstm import StackedLSTMRegressor, make_damped_sine

GRID = {"hidden_layer_sizes": [(20,), (20, 20)]}
DASK_MALLOC_SETTINGS = {
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": 2**25,
    "distributed.nanny.pre-spawn-environ.MALLOC_MMAP_THRESHOLD_": 2**25,
}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-samples", type=int, default=10_000)
    parser.add_argument("--n-timesteps", type=int, default=50)
    parser.add_argument("--max-iter", type=int, default=4, help="epochs per fit")
    parser.add_argument("--cv", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch threads of this process for n_jobs=1 (default: torch's)",
    )
    parser.add_argument("--dask", action="store_true", help="also time Dask")
    parser.add_argument(
        "--dask-default-malloc",
        action="store_true",
        help="keep Dask's default malloc settings in its workers (slower)",
    )
    return parser.parse_args()


def search(args, n_jobs):
    regressor = StackedLSTMRegressor(max_iter=args.max_iter, random_state=0)
    return GridSearchCV(regressor, GRID, cv=args.cv, n_jobs=n_jobs, refit=False)


def run(mode, args, X, y):
    """Fit one grid search in ``mode``; return (mean test scores, Stopwatch).

    Only the Stopwatch's wall-clock time means anything here: its CPU time
    is this process's alone, without the workers'.
    """
    n_jobs = 2 if mode == "n_jobs=2" else None
    if mode == "dask":
        with joblib.parallel_config(backend="dask"):
            fitted, stopwatch = timed(search(args, n_jobs).fit, X, y)
    else:
        fitted, stopwatch = timed(search(args, n_jobs).fit, X, y)
    return fitted.cv_results_["mean_test_score"], stopwatch


def main():
    args = parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    X, y = make_damped_sine(
        n_samples=args.n_samples, n_timesteps=args.n_timesteps, random_state=0
    )
    modes = ["n_jobs=1", "n_jobs=2"]
    client = cluster = None
    if args.dask:
        import dask
        from distributed import Client, LocalCluster

        if not args.dask_default_malloc:
            # The user guide's setting: with Dask's default
            # MALLOC_TRIM_THRESHOLD_=65536, torch faults its batch buffers in
            # anew at every batch, and a search ran about 2x slower.
            dask.config.set(DASK_MALLOC_SETTINGS)
        with Stopwatch() as started:
            cluster = LocalCluster(
                n_workers=2,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
            client = Client(cluster)
        log(f"Dask LocalCluster started in {started.wall:.1f} s")
        modes.append("dask")

    print(
        f"X {X.shape}, grid {GRID['hidden_layer_sizes']}, cv={args.cv}, "
        f"max_iter={args.max_iter}, {os.cpu_count()} CPUs, "
        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}"
    )
    try:
        warmup = {mode: run(mode, args, X[:200], y[:200])[1] for mode in modes}
        print(
            "warm-up (untimed, 200 samples): "
            + ", ".join(f"{mode} {sw.wall:.1f} s" for mode, sw in warmup.items())
        )
        print("torch threads, main process:", torch.get_num_threads())
        print(
            "torch threads, n_jobs=2 workers:",
            joblib.Parallel(n_jobs=2)(
                joblib.delayed(torch.get_num_threads)() for _ in range(2)
            ),
        )
        if client is not None:
            print(
                "torch threads, Dask workers:",
                sorted(client.run(torch.get_num_threads).values()),
            )

        times = {mode: [] for mode in modes}
        scores = {}
        for repeat in range(args.repeats):
            order = modes[repeat % len(modes) :] + modes[: repeat % len(modes)]
            for mode in order:
                mean_scores, stopwatch = run(mode, args, X, y)
                times[mode].append(stopwatch.wall)
                scores.setdefault(mode, mean_scores)
                log(f"  repeat {repeat + 1} {mode:9s} {stopwatch.wall:7.2f} s")
    finally:
        if client is not None:
            client.close()
            cluster.close()

    baseline = statistics.median(times["n_jobs=1"])
    rows = []
    for mode in modes:
        median = statistics.median(times[mode])
        difference = np.max(np.abs(scores[mode] - scores["n_jobs=1"]))
        same = "identical" if difference == 0 else f"max abs diff {difference:.2e}"
        rows.append((mode, f"{median:.2f}", f"{baseline / median:.2f}", same))
    print()
    print(columns_text(("mode", "median s", "ratio", "scores vs n_jobs=1"), rows))
    print("ratio = median time of n_jobs=1 / median time of the mode (>1: faster)")
    print("mean_test_score n_jobs=1:", scores["n_jobs=1"])


if __name__ == "__main__":
    main()
