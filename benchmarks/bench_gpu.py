"""GPU checks: fit and predict on CUDA, split against fused layers, CPU unpickling.

Run from the repository root, on a machine with CUDA::

    python benchmarks/bench_gpu.py            # full run, a few minutes
    python benchmarks/bench_gpu.py --quick    # tiny sizes, a smoke test

Without CUDA it says so and exits with status 0, so that it can sit in any
script; the test suite never runs it. Everything uses the damped sine
problem (``make_damped_sine``: 10,000 training and 1,000 test waves of 50
steps, 5 outputs, seeds 0 and 1).

Rows of the table
-----------------
a
    ``StackedLSTMRegressor(device="cuda")`` with the defaults at batch sizes
    32 and 256: fit time, predict time on the 1,000 test waves, test MAE;
    and the same on the CPU for comparison.
b
    A stack of k separate ``nn.LSTM`` layers (what the library's module
    holds) against one fused ``nn.LSTM(num_layers=k)``, which cuDNN runs
    as one kernel sequence, in a hand-written training loop on the GPU:
    time per epoch for k = 2 and 3 layers of 20 and 128 units, batch 256.
c
    A model fitted on the GPU, pickled, then unpickled in a child process
    that sees no GPU (``CUDA_VISIBLE_DEVICES=""``): its predictions there
    against the GPU model's, and the warning the child gets.
"""

import argparse
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from _common import Table, log, mae
from torch import nn

from sklearn_slstm import StackedLSTMRegressor, make_damped_sine

_CHILD = """
import pickle, sys, warnings
import numpy as np
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    with open(sys.argv[1], "rb") as file:
        model = pickle.load(file)
X = np.load(sys.argv[2])
np.save(sys.argv[3], model.predict(X))
print(model.net_.device, "|", "; ".join(str(w.message)[:80] for w in caught))
"""


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes")
    args = parser.parse_args(argv)
    if not torch.cuda.is_available():
        print("CUDA is not available here: nothing to measure.")
        return 0
    n_train = 1_000 if args.quick else 10_000
    X, y = make_damped_sine(n_samples=n_train, random_state=0)
    X_test, y_test = make_damped_sine(n_samples=1_000, random_state=1)
    table = Table()

    table.section(f"(a) defaults, {n_train:,} training waves, on CUDA and on the CPU")
    for batch_size in (32, 256):
        for device in ("cuda", "cpu"):
            reg = StackedLSTMRegressor(
                batch_size=batch_size, device=device, random_state=0
            )
            fit_time = _seconds(lambda reg=reg: reg.fit(X, y), sync=True)
            y_pred = reg.predict(X_test)
            predict_time = statistics.median(
                _seconds(lambda reg=reg: reg.predict(X_test), sync=True)
                for _ in range(5)
            )
            log(f"(a) batch {batch_size}, {device} done")
            table.add(
                f"a-{device}-{batch_size}",
                f"batch {batch_size}, {device}: fit / predict 1,000 / test MAE",
                f"{fit_time:.2f} s / {predict_time * 1e3:.1f} ms / "
                f"{mae(y_pred, y_test):.5f}",
            )

    table.section("(b) separate nn.LSTM layers against one fused nn.LSTM, per epoch")
    for units in (20, 128):
        for n_layers in (2, 3):
            split, fused = (
                _epoch_seconds(X, y, units, n_layers, fused=fused, quick=args.quick)
                for fused in (False, True)
            )
            table.add(
                f"b-{n_layers}x{units}",
                f"{n_layers} x {units} units: split / fused / ratio",
                f"{split:.3f} s / {fused:.3f} s / {split / fused:.2f}x",
            )

    table.section("(c) a model fitted on the GPU, unpickled where there is no GPU")
    reg = StackedLSTMRegressor(device="cuda", max_iter=2, random_state=0).fit(X, y)
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        (folder / "model.pkl").write_bytes(pickle.dumps(reg))
        np.save(folder / "X.npy", X_test)
        child = subprocess.run(
            [
                sys.executable,
                "-c",
                _CHILD,
                *(str(folder / name) for name in ("model.pkl", "X.npy", "y.npy")),
            ],
            env={**os.environ, "CUDA_VISIBLE_DEVICES": ""},
            capture_output=True,
            text=True,
            check=False,
        )
        if child.returncode:
            table.add("c1", "unpickling on the CPU", "FAILED", "", False)
            log(child.stderr)
        else:
            on_cpu = np.load(folder / "y.npy")
            difference = float(np.max(np.abs(on_cpu - reg.predict(X_test))))
            device, warning = child.stdout.strip().split(" | ", 1)
            table.add("c1", "child's net device", device)
            table.add("c2", "child's warnings", warning or "none")
            table.add(
                "c3",
                "max |CPU - GPU| prediction",
                f"{difference:.2e}",
                "<= 1e-4",
                difference <= 1e-4,
            )

    print(f"sklearn_slstm GPU checks on {torch.cuda.get_device_name()}")
    print(table.render())
    return 0


def _seconds(call, sync):
    if sync:
        torch.cuda.synchronize()
    start = time.perf_counter()
    call()
    if sync:
        torch.cuda.synchronize()
    return time.perf_counter() - start


class _Stack(nn.Module):
    """k LSTM layers, split as the library holds them or fused, and a head."""

    def __init__(self, units, n_layers, fused):
        super().__init__()
        if fused:
            self.lstms = nn.ModuleList(
                [nn.LSTM(1, units, num_layers=n_layers, batch_first=True)]
            )
        else:
            sizes = [1, *([units] * n_layers)]
            self.lstms = nn.ModuleList(
                nn.LSTM(size, units, batch_first=True) for size in sizes[:-1]
            )
        self.head = nn.Linear(units, 5)

    def forward(self, X):
        for lstm in self.lstms:
            X, _ = lstm(X)
        return self.head(X[:, -1])


def _epoch_seconds(X, y, units, n_layers, *, fused, quick):
    """Median seconds of an epoch of a hand-written loop at batch 256."""
    torch.manual_seed(0)
    device = torch.device("cuda")
    model = _Stack(units, n_layers, fused).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    inputs = torch.as_tensor(X[:, :, None], dtype=torch.float32, device=device)
    targets = torch.as_tensor(y, dtype=torch.float32, device=device)
    times = []
    for _ in range(2 if quick else 4):
        torch.cuda.synchronize()
        start = time.perf_counter()
        for first in range(0, len(inputs), 256):
            optimizer.zero_grad()
            loss = nn.functional.l1_loss(
                model(inputs[first : first + 256]), targets[first : first + 256]
            )
            loss.backward()
            optimizer.step()
        torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times[1:])


if __name__ == "__main__":
    sys.exit(main())
