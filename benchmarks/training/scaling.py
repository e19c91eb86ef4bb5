"""Section (d) of the training benchmark: scaling of the defaults, and memory.

Time per epoch against the number of sequences and their length. The large
case runs in a child process, ``benchmarks/bench_training.py
--scaling-child`` (the entry point, one folder up, not this module), whose
body is `scaling_child`: its peak RSS then belongs to those fits alone, and
each of its large fits sits between two small ones for the ratio (d3).
"""

import itertools
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from _common import (
    Stopwatch,
    log,
    mib,
    peak_rss_bytes,
    ratio_text,
    seconds_text,
    timed,
)

from sklearn_slstm import StackedLSTMRegressor, make_damped_sine

from .models import N_TIMESTEPS

# Fits on the large data in (d), each between two fits on the small data.
LARGE_REPEATS = 2
# The child runs the entry point, so that it sets up torch's threads and the
# allocator as this process did before it dispatches to `scaling_child`.
# It lives in benchmarks/, one folder above this module.
ENTRY_POINT = Path(__file__).resolve().parent.parent / "bench_training.py"


def per_epoch(stopwatch, n_epochs):
    """``stopwatch`` with its times divided by ``n_epochs``."""
    stopwatch.wall /= n_epochs
    stopwatch.cpu /= n_epochs
    return stopwatch


def fit_per_epoch(X, y, *, max_iter, seed):
    """Fit the defaults with ``max_iter`` epochs; return the time per epoch."""
    regressor = StackedLSTMRegressor(max_iter=max_iter, random_state=seed)
    regressor, stopwatch = timed(regressor.fit, X, y)
    return per_epoch(stopwatch, regressor.n_iter_)


def scaling_child(folder, n_small, max_iter, seed):
    """Body of the child process of (d); prints its results as JSON.

    It loads ``X.npy`` and ``y.npy`` from ``folder`` and notes its peak RSS
    so far (the baseline). It then fits the defaults alternately on the first
    ``n_small`` rows and on all rows, ``LARGE_REPEATS`` times, and once more
    on the first ``n_small`` rows, so that each large fit sits between two
    small ones run just before and after it.
    """
    X, y = np.load(Path(folder, "X.npy")), np.load(Path(folder, "y.npy"))
    baseline = peak_rss_bytes()
    # Untimed warm-up, as the parent process had before its own fits. The
    # first fit also pages in torch's kernels and sets up its allocator: a
    # fixed cost, reported apart from the memory that grows with the data.
    StackedLSTMRegressor(max_iter=1, random_state=seed).fit(X[:100], y[:100])
    warm = peak_rss_bytes()
    times = {"small": [], "large": []}
    for size in ["small", "large"] * LARGE_REPEATS + ["small"]:
        n_rows = n_small if size == "small" else len(X)
        stopwatch = fit_per_epoch(X[:n_rows], y[:n_rows], max_iter=max_iter, seed=seed)
        times[size].append([stopwatch.wall, stopwatch.cpu])
    memory = {"baseline": baseline, "warm": warm, "peak": peak_rss_bytes()}
    print(json.dumps({"times": times, "memory": memory}))


def run_scaling_child(X, y, n_small, max_iter, args):
    """Run `scaling_child` on ``X`` and ``y`` in a fresh process.

    Returns
    -------
    large : list of Stopwatch
        Time per epoch of each fit on all of ``X``.
    small : list of Stopwatch
        Time per epoch of the fits on the first ``n_small`` rows, averaged
        over the fit just before and the fit just after each large one.
    memory : dict
        The child's peak RSS in bytes (None if unknown): ``baseline`` after
        the imports and loading the data, ``warm`` after a warm-up fit on 100
        rows too, and ``peak`` at the end.
    """
    with tempfile.TemporaryDirectory() as folder:
        np.save(Path(folder, "X.npy"), X)
        np.save(Path(folder, "y.npy"), y)
        command = [
            sys.executable,
            str(ENTRY_POINT),
            "--threads",
            str(args.threads),
            "--seed",
            str(args.seed),
            "--scaling-child",
            folder,
            str(n_small),
            str(max_iter),
        ]
        completed = subprocess.run(command, capture_output=True, text=True, check=True)
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    large = [Stopwatch(*times) for times in result["times"]["large"]]
    small = [
        Stopwatch((before[0] + after[0]) / 2, (before[1] + after[1]) / 2)
        for before, after in itertools.pairwise(result["times"]["small"])
    ]
    return large, small, result["memory"]


def bench_scaling(table, args, sizes):
    """(d): time per epoch against data size and sequence length; memory."""
    n_train, n_large = sizes["n_train"], sizes["n_large"]
    long_timesteps, epochs = sizes["long_timesteps"], sizes["scaling_epochs"]
    short_data = make_damped_sine(n_train, random_state=args.seed)
    long_data = make_damped_sine(
        n_train, n_timesteps=long_timesteps, random_state=args.seed
    )
    large_data = make_damped_sine(n_large, random_state=args.seed)
    short_times, long_times = [], []
    for repeat in range(1, args.repeats + 1):
        for data, times in ((short_data, short_times), (long_data, long_times)):
            times.append(fit_per_epoch(*data, max_iter=epochs, seed=args.seed))
        log(
            f"(d) pair {repeat}/{args.repeats}: per epoch {n_train:,} x "
            f"{N_TIMESTEPS}: {short_times[-1].wall:.2f} s, x {long_timesteps}: "
            f"{long_times[-1].wall:.2f} s"
        )
        if repeat == 1:
            large_times, small_times, memory = run_scaling_child(
                *large_data, n_train, epochs, args
            )
            log(
                f"(d) child: per epoch {n_large:,}: "
                f"{', '.join(f'{t.wall:.2f}' for t in large_times)} s; "
                f"{n_train:,} beside them: "
                f"{', '.join(f'{t.wall:.2f}' for t in small_times)} s"
            )

    size_ratio, size_ratio_text = ratio_text(large_times, small_times)
    float64_bytes = large_data[0].nbytes + large_data[1].nbytes
    float32_bytes = float64_bytes // 2
    table.section(
        f"(d) scaling of the defaults with max_iter={epochs} (not "
        f"{StackedLSTMRegressor().max_iter}), time per "
        f"epoch; the {n_large:,} case runs {LARGE_REPEATS}x in a child process"
    )
    table.add(
        "d1", f"per epoch, {n_train:,} x {N_TIMESTEPS} steps", seconds_text(short_times)
    )
    table.add(
        "d2",
        f"per epoch, {n_large:,} x {N_TIMESTEPS} steps (child)",
        seconds_text(large_times),
    )
    table.add(
        "d3",
        f"ratio d2 / {n_train:,}-row fits beside each in the child",
        size_ratio_text,
        "<= 11x",
        size_ratio <= 11,
    )
    table.add(
        "d4",
        f"per epoch, {n_train:,} x {long_timesteps} steps",
        seconds_text(long_times),
    )
    table.add(
        "d5",
        f"ratio d4/d1 ({long_timesteps // N_TIMESTEPS}x the steps, median of pairs)",
        ratio_text(long_times, short_times)[1],
    )
    if memory["peak"] is None:
        table.add("d6", "peak RSS of the fits", "n/a (unknown on this platform)")
        return
    table.add(
        "d6", f"peak RSS, fits on {n_large:,} (child process)", mib(memory["peak"])
    )
    table.add(
        "d7", "peak RSS after imports + loading the data", mib(memory["baseline"])
    )
    table.add("d8", "peak RSS after also a 100-row warm-up fit", mib(memory["warm"]))
    table.add(
        "d9",
        "data size, float64 as passed to fit; float32",
        f"{mib(float64_bytes)}; {mib(float32_bytes)}",
    )
    for key, start in (("d10", "baseline"), ("d11", "warm")):
        above = memory["peak"] - memory[start]
        table.add(
            key,
            f"peak above {'d7' if start == 'baseline' else 'd8'}; "
            "in float32 data sizes",
            f"{mib(above)}; {above / float32_bytes:.1f}x",
        )
