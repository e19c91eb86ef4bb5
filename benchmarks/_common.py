"""Timing, memory and table helpers shared by the benchmark scripts.

Each script in this folder runs standalone from the repository root
(``python benchmarks/bench_*.py``); Python then puts this folder first on
``sys.path``, so ``from _common import ...`` finds this module, as do the
other shared modules: ``real_series_data`` and ``real_series_models`` (the
real series and the models judged on them), ``lstm_recipes`` (the LSTM
candidates of ``bench_honest.py`` and ``bench_recipes.py``) and the package
``training`` (the parts of ``bench_training.py``). Only the ``bench_*.py`` scripts are
meant to be run, and none imports another.
"""

import gc
import statistics
import sys
import time
from pathlib import Path

import numpy as np

try:  # Unix only; see `peak_rss_bytes`.
    import resource
except ImportError:
    resource = None


def log(message):
    """Progress goes to stderr, so that stdout holds the tables alone."""
    print(message, file=sys.stderr, flush=True)


class Stopwatch:
    """Wall-clock and process CPU time of a ``with`` block, in seconds.

    Garbage is collected first, so that a collection triggered by the
    previous measurement's garbage does not land in this one.
    """

    def __init__(self, wall=None, cpu=None):
        self.wall, self.cpu = wall, cpu

    def __enter__(self):
        gc.collect()
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc_info):
        self.wall = time.perf_counter() - self._wall
        self.cpu = time.process_time() - self._cpu


def timed(function, *args, **kwargs):
    """Run ``function(*args, **kwargs)``; return ``(result, Stopwatch)``."""
    with Stopwatch() as stopwatch:
        result = function(*args, **kwargs)
    return result, stopwatch


def mae(y_pred, y_true):
    """Mean absolute error, computed in float64."""
    y_pred = np.asarray(y_pred, dtype=np.float64)
    return float(np.mean(np.abs(y_pred - np.asarray(y_true, dtype=np.float64))))


def geometric_mean(values):
    """Geometric mean of positive values."""
    return float(np.exp(np.mean(np.log(list(values)))))


def median_ratio(numerators, denominators):
    """Median of the pairwise ratios ``numerators[i] / denominators[i]``."""
    return statistics.median(
        a / b for a, b in zip(numerators, denominators, strict=True)
    )


def ratio_text(numerators, denominators, digits=2):
    """Median ratio of wall-clock times, and of CPU times in brackets.

    Returns the wall-clock ratio and its text; the arguments are lists of
    :class:`Stopwatch`, paired by position.
    """
    wall = median_ratio([n.wall for n in numerators], [d.wall for d in denominators])
    cpu = median_ratio([n.cpu for n in numerators], [d.cpu for d in denominators])
    return wall, f"{wall:.{digits}f}x (CPU {cpu:.{digits}f}x)"


def seconds_text(stopwatches):
    """Median wall-clock time with its range, in seconds or milliseconds."""
    samples = [stopwatch.wall for stopwatch in stopwatches]
    median, low, high = statistics.median(samples), min(samples), max(samples)
    if median < 1:
        return f"{median * 1e3:.1f} ms ({low * 1e3:.1f}-{high * 1e3:.1f})"
    return f"{median:.2f} s ({low:.2f}-{high:.2f})"


def mib(n_bytes):
    return f"{n_bytes / 2**20:.0f} MiB"


def peak_rss_bytes():
    """Peak resident set size of this process so far, in bytes, or None.

    On Linux this is ``VmHWM`` from ``/proc/self/status``. ``ru_maxrss`` from
    ``resource.getrusage`` would be wrong for a child process there: Linux
    carries the high-water mark across ``exec``, so a child's ``ru_maxrss``
    (and its parent's ``RUSAGE_CHILDREN``) starts at the parent's resident
    size at the moment it spawned the child. Elsewhere ``ru_maxrss`` is the
    best available.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    if resource is None:
        return None
    max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return max_rss if sys.platform == "darwin" else max_rss * 1024


def settle_allocator():
    """Put glibc's malloc in the state a long-running process reaches.

    glibc serves each allocation above its mmap threshold (128 KiB in a new
    process) with fresh pages, and raises the threshold to the size of each
    such block freed, up to 32 MiB. Until it has risen above torch's
    per-batch buffers (a few MiB here), every batch faults its buffers in
    anew: a fit in a fresh process that loaded its data from disk ran up to
    1.75x slower, with 650-850 page faults per batch. Which fits hit that
    depends on what the process allocated before, so a benchmark frees one
    31 MiB block at the start of every process to take it out of the
    comparison. Elsewhere this is a harmless allocation.
    """
    np.empty(31 * 2**20, dtype=np.uint8)


class Table:
    """Rows of (key, measure, value, target, status) under section titles."""

    def __init__(self):
        self.rows = []

    def section(self, title):
        self.rows.append(title)

    def add(self, key, measure, value, target="", passed=None):
        status = "" if passed is None else ("PASS" if passed else "MISS")
        self.rows.append((key, measure, value, target, status))

    def render(self):
        header = ("row", "measure", "value", "target", "")
        body = [row for row in self.rows if isinstance(row, tuple)]
        widths = [max(len(row[i]) for row in [header, *body]) for i in range(5)]
        rule = "-" * (sum(widths) + 8)

        def line(key, measure, value, target, status):
            return (
                f"{key:<{widths[0]}}  {measure:<{widths[1]}}  "
                f"{value:>{widths[2]}}  {target:<{widths[3]}}  {status}"
            ).rstrip()

        lines = [line(*header)]
        for row in self.rows:
            if isinstance(row, str):
                lines += [rule, row]
            else:
                lines.append(line(*row))
        return "\n".join(lines)


def columns_text(header, rows):
    """Rows of strings as a plain text table: first column left, others right."""
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]

    def line(row):
        cells = [row[0].ljust(widths[0])]
        cells += [
            cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)
        ]
        return "  ".join(cells).rstrip()

    lines = [line(header), "  ".join("-" * width for width in widths)]
    lines += [line(row) for row in rows]
    return "\n".join(lines)


def markdown_table(header, rows):
    """Rows of strings as a markdown table: first column left, others right."""
    widths = [
        max(3, *(len(row[i]) for row in (header, *rows))) for i in range(len(header))
    ]

    def line(row):
        cells = [row[0].ljust(widths[0])]
        cells += [
            cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)
        ]
        return "| " + " | ".join(cells) + " |"

    rule = ["-" * widths[0]] + ["-" * (width - 1) + ":" for width in widths[1:]]
    return "\n".join(
        [line(header), "| " + " | ".join(rule) + " |"] + [line(row) for row in rows]
    )
