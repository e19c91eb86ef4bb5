"""Serving latency: ``predict`` and ``forecast`` against the bare forward pass.

Run from the repository root::

    python benchmarks/bench_inference.py            # full run, about two minutes
    python benchmarks/bench_inference.py --quick    # tiny sizes, a smoke test

Everything runs in one process on one torch thread (and one ONNX Runtime
thread), on a model with the library's defaults fitted on damped sine waves
(``make_damped_sine``, 2,000 waves of 50 steps, 5 outputs, seed 0). Each
latency is the median of repeated calls, interleaved (predict, forward,
ONNX, predict, ...) so that a busy neighbour slows all three alike; ratios
are medians of the ratios of each round's calls.

Rows of the table
-----------------
a
    ``predict`` of 1, 8, 32, 1,000 and 100,000 rows, against the fitted
    module's own forward pass on the same rows (already scaled, evaluation
    mode, no autograd: what a hand-written server would run), and ONNX
    Runtime on the graph of ``to_onnx`` (which includes the scaling).
b
    One sequence of 100,000 steps (a model fitted on 4 such sequences):
    time and peak memory of ``predict`` against the module's forward pass.
    Peak memory is the growth of the process's peak resident set size
    during the call, after the peak was reset (Linux only).
c
    ``forecast`` of 3 rows over 10,000 steps: 2,000 rounds of 5 outputs;
    the time per round against the module's forward pass of 3 rows.

ONNX Runtime is left out of (b) and (c): the exporter traces every time
step, so a graph of 100,000 steps would take minutes to export, and a
recursive forecast through ONNX Runtime needs a loop of its own around it.

Targets are printed next to their figures as PASS or MISS. With ``--quick``
the sizes are too small for the targets to mean anything. Progress goes to
stderr, the table to stdout.
"""

import argparse
import importlib.util
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from _common import Table, log, peak_rss_bytes

from sklearn_slstm import StackedLSTMRegressor, make_damped_sine

N_TRAIN = 2_000
N_TIMESTEPS = 50
BATCH_SIZES = (1, 8, 32, 1_000, 100_000)
LONG_STEPS = 100_000
HORIZON = 10_000
FORECAST_ROWS = 3

# Targets of predict's time over the forward pass's, by batch size.
TARGETS = {1: 2.0, 32: 1.5, 1_000: 1.2}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes, for a smoke test"
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    batch_sizes = (1, 8, 32, 200) if args.quick else BATCH_SIZES
    long_steps = 2_000 if args.quick else LONG_STEPS
    horizon = 200 if args.quick else HORIZON

    table = Table()
    X, y = make_damped_sine(n_samples=max(N_TRAIN, max(batch_sizes)), random_state=0)
    reg = StackedLSTMRegressor(random_state=0).fit(X[:N_TRAIN], y[:N_TRAIN])
    session = _onnx_session(reg)

    table.section(
        "(a) latency by batch size: predict, the module's forward pass, ONNX "
        "Runtime; medians of interleaved calls"
    )
    for n_rows in batch_sizes:
        rows = X[:n_rows]
        calls = {
            "predict": lambda rows=rows: reg.predict(rows),
            "forward": _forward(reg, rows),
        }
        if session is not None:
            onnx_input = {"X": rows[:, :, np.newaxis].astype(np.float32)}
            calls["ONNX"] = lambda feed=onnx_input: session.run(None, feed)
        times = _interleaved(calls, repeats=_repeats(n_rows, args.quick))
        log(f"(a) {n_rows} rows done")
        ratio = statistics.median(
            p / f for p, f in zip(times["predict"], times["forward"], strict=True)
        )
        target = TARGETS.get(n_rows)
        table.add(
            f"a{n_rows}",
            f"{n_rows:,} rows: predict / forward / ONNX",
            " / ".join(_ms(times[name]) for name in calls),
        )
        table.add(
            "",
            "  predict / forward (median of rounds)",
            f"{ratio:.2f}x",
            f"<= {target}x" if target else "",
            None if target is None else ratio <= target,
        )

    table.section(f"(b) one sequence of {long_steps:,} steps")
    X_long, y_long = make_damped_sine(
        n_samples=4, n_timesteps=long_steps, random_state=0
    )
    long_model = StackedLSTMRegressor(random_state=0, max_iter=1, batch_size=4)
    long_model.fit(X_long, y_long)
    log("(b) model fitted")
    times = _interleaved(
        {
            "predict": lambda: long_model.predict(X_long[:1]),
            "forward": _forward(long_model, X_long[:1]),
        },
        repeats=3,
    )
    memory = {
        "predict": _peak_growth(lambda: long_model.predict(X_long[:1])),
        "forward": _peak_growth(_forward(long_model, X_long[:1])),
    }
    time_ratio = statistics.median(
        p / f for p, f in zip(times["predict"], times["forward"], strict=True)
    )
    table.add("b1", "predict / forward", " / ".join(map(_ms, times.values())))
    table.add("b2", "  time ratio", f"{time_ratio:.2f}x", "<= 2x", time_ratio <= 2)
    if None not in memory.values():
        memory_ratio = memory["predict"] / max(memory["forward"], 1)
        table.add(
            "b3",
            "peak memory growth, predict / forward",
            f"{_mib(memory['predict'])} / {_mib(memory['forward'])}",
        )
        table.add(
            "b4", "  memory ratio", f"{memory_ratio:.2f}x", "<= 2x", memory_ratio <= 2
        )

    table.section(
        f"(c) forecast of {FORECAST_ROWS} rows over {horizon:,} steps "
        f"({horizon // reg.n_outputs_:,} rounds of {reg.n_outputs_})"
    )
    rows = X[:FORECAST_ROWS]
    start = time.perf_counter()
    reg.forecast(rows, horizon)
    total = time.perf_counter() - start
    per_round = total / -(-horizon // reg.n_outputs_)
    forward = statistics.median(_interleaved({"f": _forward(reg, rows)}, 200)["f"])
    table.add("c1", "forecast, total", f"{total:.2f} s")
    table.add(
        "c2",
        "  per round / forward of its rows",
        f"{_ms([per_round])} / {_ms([forward])}",
    )
    table.add(
        "c3",
        "  ratio",
        f"{per_round / forward:.2f}x",
        "<= 2x",
        per_round / forward <= 2,
    )

    print(
        f"sklearn_slstm inference benchmark; torch {torch.__version__}, "
        "1 thread; ONNX Runtime " + ("not installed" if session is None else "1 thread")
    )
    print(table.render())


def _forward(reg, rows):
    """The fitted module's forward pass on ``rows``, scaled as predict scales.

    The scaling is done once, outside the timed call: a server built on the
    bare module would scale its inputs itself.
    """
    module = reg.net_.module_.eval()
    sequences = torch.as_tensor(rows[:, :, np.newaxis], dtype=torch.float32)
    location = sequences.mean(dim=1, keepdim=True)
    scale = sequences.std(dim=1, keepdim=True, correction=0)
    scaled = (sequences - location) / scale

    def forward():
        with torch.no_grad():
            return module(scaled)

    return forward


def _onnx_session(reg):
    if importlib.util.find_spec("onnxruntime") is None:
        log("onnxruntime is not installed: the ONNX column is skipped")
        return None
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    with tempfile.TemporaryDirectory() as folder:
        path = reg.to_onnx(Path(folder) / "model.onnx")
        return onnxruntime.InferenceSession(str(path), options)


def _interleaved(calls, repeats):
    """Seconds of each call over ``repeats`` rounds, after one warm-up round."""
    times = {name: [] for name in calls}
    for round_ in range(repeats + 1):
        for name, call in calls.items():
            start = time.perf_counter()
            call()
            if round_:
                times[name].append(time.perf_counter() - start)
    return times


def _repeats(n_rows, quick):
    if quick:
        return 5
    return 200 if n_rows <= 32 else 30 if n_rows <= 1_000 else 3


def _peak_growth(call):
    """Growth of the peak resident set size during ``call()``, or None.

    Linux only: writing 5 to ``/proc/self/clear_refs`` resets the peak.
    """
    clear = Path("/proc/self/clear_refs")
    if not clear.exists():
        return None
    call()  # warm-up: first-call allocations are not the call's own
    clear.write_text("5")
    before = peak_rss_bytes()
    call()
    return peak_rss_bytes() - before


def _ms(samples):
    return f"{statistics.median(samples) * 1e3:.3f} ms"


def _mib(n_bytes):
    return f"{n_bytes / 2**20:.1f} MiB"


if __name__ == "__main__":
    main()
