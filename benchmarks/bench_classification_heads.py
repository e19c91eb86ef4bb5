"""Choose the classifier's head and defaults on validation splits of the train sets.

Run from the repository root::

    python benchmarks/bench_classification_heads.py                 # all, ~15 min
    python benchmarks/bench_classification_heads.py --configs last pool
    python benchmarks/bench_classification_heads.py --list          # the configs
    python benchmarks/bench_classification_heads.py --protocol test --configs pool

A small self-contained PyTorch prototype of a sequence classifier, written
before ``StackedLSTMClassifier`` existed, so that its head and defaults are
chosen by measurement. It mirrors what the library does (per-series,
per-channel z-normalisation over the observed steps, as ``scaling="window"``;
LSTM layers that never read NaN padding; Adam with a one-cycle schedule
stepped every batch, 30% warm-up), and varies what the classifier has to
decide:

- the head: the last step's output (``last``); the mean and the maximum of
  the last layer's outputs over the observed steps (``pool``); either plus a
  linear skip from the normalised input to the logits (``skip``, zero at
  the start, as the regressor's ``linear_skip``); and the per-series
  location and log scale that the normalisation removed, fed to the head
  (``stats``, standardised with the training set's statistics);
- the scaling: per series (``window``, above) or one mean and scale per
  channel from the training set (``global``, as ``scaling="global"``);
- a strided convolutional front end before the stack for long series
  (``stride``: a Conv1d with kernel and stride ``stride``, applied to series
  of at least ``min_conv_length`` steps);
- width and depth, dropout between layers, weight decay, epochs, batch size
  and the peak learning rate.

Protocol (``--protocol dev``, the default): the test splits are never read.
Each training set is split ``--splits`` times (stratified, 30% held out,
seeded); a config is trained on 70% and scored on the rest, with the split
index as the seed; the figure is the mean validation accuracy over splits,
per data set and over the five sets. ``--protocol test`` instead trains on
the whole training set (seeds ``0 .. splits - 1``) and scores the archive's
test split, for a config already chosen. Progress goes to stderr, the table
to stdout. Threads: one, as in the other benchmarks.

Measured
--------
On the 2-core machine this was written on (dev protocol, 3 splits; 64
units, 100 epochs, batch 16, peak rate 0.01 unless the name says
otherwise; validation sets of 11 to 81 series, so one series is 1 to 9
points):

=========================  =====  =====  =====  =====  =====  =====
config                     GunP   Italy  Arrow  Basic  Japan  mean
=========================  =====  =====  =====  =====  =====  =====
last                       0.556  0.968  0.394  0.750  0.761  0.686
pool                       0.867  0.952  0.455  0.833  0.728  0.767
pool+skip                  0.956  0.968  0.909  0.583  0.737  0.831
pool+stats                 0.844  0.952  0.515  0.778  0.823  0.783
pool+skip+stats            0.978  0.968  0.909  0.639  0.774  0.854
pool+stats 2x32            0.911  0.968  0.576  0.861  0.852  0.834
pool+stats 2x64            0.800  0.952  0.545  0.917  0.864  0.816
pool+stats conv4           0.956  0.952  0.697  0.750  0.823  0.836
last global                0.578  0.968  0.394  0.944  0.942  0.765
pool global                0.711  0.952  0.515  1.000  0.959  0.827
pool+skip global           0.978  0.968  0.909  0.639  0.963  0.891
pool+skip global conv4     0.978  0.968  0.909  0.833  0.963  0.930
pool+skip global h32       0.889  0.968  0.909  0.639  0.951  0.871
pool+skip global 2x32      0.956  0.968  0.909  0.611  0.934  0.876
pool+skip global wd        0.867  0.952  0.909  0.667  0.955  0.870
pool+skip global e50       0.889  0.968  0.909  0.639  0.951  0.871
pool+skip global lr3e-2    0.911  0.968  0.879  0.639  0.942  0.868
=========================  =====  =====  =====  =====  =====  =====

Pooling beats the last step, the linear skip is what long univariate
series (ArrowHead, GunPoint) need, and global scaling is what the
multichannel sets need (their levels and amplitudes tell the classes
apart; window scaling erases them). The skip overfits BasicMotions (600
inputs, 28 training series); the strided front end recovers part of that.
"""

import argparse
import math
import statistics
import sys
import time

import numpy as np
import torch
from _common import columns_text, log, settle_allocator
from classification_data import DATASETS, load
from sklearn.model_selection import StratifiedShuffleSplit
from sklearn.preprocessing import LabelEncoder
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

BASE = {
    "scaling": "window",
    "head": "pool",
    "skip": False,
    "stats": False,
    "hidden": (64,),
    "stride": 1,
    "min_conv_length": 100,
    "dropout": 0.0,
    "weight_decay": 0.0,
    "epochs": 100,
    "batch_size": 16,
    "lr": 0.01,
}
CONFIGS = {
    "last": {"head": "last"},
    "pool": {},
    "pool+skip": {"skip": True},
    "pool+stats": {"stats": True},
    "last+stats": {"head": "last", "stats": True},
    "pool+skip+stats": {"skip": True, "stats": True},
    "pool+stats h32": {"stats": True, "hidden": (32,)},
    "pool+stats 2x32": {"stats": True, "hidden": (32, 32)},
    "pool+stats 2x64": {"stats": True, "hidden": (64, 64)},
    "pool+stats conv4": {"stats": True, "stride": 4},
    "pool+stats wd": {"stats": True, "weight_decay": 0.01},
    "pool+stats drop": {"stats": True, "hidden": (64, 64), "dropout": 0.2},
    "pool+stats e50": {"stats": True, "epochs": 50},
    "pool+stats e200": {"stats": True, "epochs": 200},
    "pool+stats lr3e-3": {"stats": True, "lr": 0.003},
    "pool+stats lr3e-2": {"stats": True, "lr": 0.03},
    "pool+stats b8": {"stats": True, "batch_size": 8},
    "pool global": {"scaling": "global"},
    "last global": {"head": "last", "scaling": "global"},
    "pool+skip global": {"scaling": "global", "skip": True},
}
# The second round: variations on the best of the first, "pool+skip global".
for name, change in {
    "conv4": {"stride": 4},
    "h32": {"hidden": (32,)},
    "2x32": {"hidden": (32, 32)},
    "2x64 drop": {"hidden": (64, 64), "dropout": 0.2},
    "wd": {"weight_decay": 0.1},
    "e50": {"epochs": 50},
    "e200": {"epochs": 200},
    "lr3e-3": {"lr": 0.003},
    "lr3e-2": {"lr": 0.03},
    "b8": {"batch_size": 8},
}.items():
    CONFIGS[f"pool+skip global {name}"] = {"scaling": "global", "skip": True, **change}


def normalise(X, scaling="window", reference=None):
    """Z-scores over observed steps; post-padded, lengths.

    ``scaling="window"``: per series and channel; "global": per channel,
    with the statistics of ``reference`` (the training set) over all its
    series. Returns the normalised series (n, t, c) with the padding moved
    to the end and set to zero, the observed lengths, and the features
    (location, log scale) of each series' channels, shape (n, 2c).
    """
    if X.ndim == 2:
        X = X[:, :, None]
    observed = ~np.isnan(X[:, :, 0])
    lengths = observed.sum(axis=1)
    out = np.zeros_like(X)
    location = np.nanmean(X, axis=1)
    scale = np.nanstd(X, axis=1)
    scale = np.where(scale > 1e-8 * np.maximum(1.0, np.abs(location)), scale, 1.0)
    stats = np.concatenate([location, np.log(scale)], axis=1)
    if scaling == "global":
        reference = X if reference is None else reference
        reference = reference if reference.ndim == 3 else reference[:, :, None]
        location = np.broadcast_to(np.nanmean(reference, axis=(0, 1)), location.shape)
        scale = np.broadcast_to(np.nanstd(reference, axis=(0, 1)), scale.shape)
    for i, row in enumerate(X):
        out[i, : lengths[i]] = (row[observed[i]] - location[i]) / scale[i]
    return (
        torch.tensor(out, dtype=torch.float32),
        torch.tensor(lengths),
        torch.tensor(stats, dtype=torch.float32),
    )


class Classifier(nn.Module):
    def __init__(self, n_channels, n_classes, n_timesteps, config):
        super().__init__()
        self.config = config
        self.stride = (
            config["stride"] if n_timesteps >= config["min_conv_length"] else 1
        )
        size = n_channels
        self.front = None
        if self.stride > 1:
            self.front = nn.Conv1d(size, config["hidden"][0], self.stride, self.stride)
            size = config["hidden"][0]
        self.lstms = nn.ModuleList()
        for units in config["hidden"]:
            self.lstms.append(nn.LSTM(size, units, batch_first=True))
            size = units
        self.dropout = nn.Dropout(config["dropout"])
        head_in = size * (2 if config["head"] == "pool" else 1)
        if config["stats"]:
            head_in += 2 * n_channels
        self.head = nn.Linear(head_in, n_classes)
        self.skip = None
        if config["skip"]:
            self.skip = nn.Linear(n_timesteps * n_channels, n_classes, bias=False)
            nn.init.zeros_(self.skip.weight)
        for lstm in self.lstms:
            for name, param in lstm.named_parameters():
                if name.startswith("weight_ih"):
                    nn.init.xavier_uniform_(param)
                elif name.startswith("weight_hh"):
                    nn.init.orthogonal_(param)
                else:
                    nn.init.zeros_(param)
                    if name.startswith("bias_ih"):
                        param.data.chunk(4)[1].fill_(1.0)
        nn.init.xavier_uniform_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def forward(self, X, lengths, stats):
        sequence = X
        if self.front is not None:
            sequence = self.front(sequence.transpose(1, 2)).transpose(1, 2)
            lengths = torch.clamp(lengths // self.stride, min=1)
        padded = bool((lengths < sequence.shape[1]).any())
        for depth, lstm in enumerate(self.lstms):
            if depth:
                sequence = self.dropout(sequence)
            if padded:
                packed = pack_padded_sequence(
                    sequence, lengths, batch_first=True, enforce_sorted=False
                )
                output, (h_n, _) = lstm(packed)
                sequence, _ = pad_packed_sequence(
                    output, batch_first=True, total_length=sequence.shape[1]
                )
            else:
                sequence, (h_n, _) = lstm(sequence)
        if self.config["head"] == "last":
            features = h_n[-1]
        else:
            mask = (torch.arange(sequence.shape[1]) < lengths[:, None])[:, :, None]
            mean = (sequence * mask).sum(1) / lengths[:, None]
            maximum = sequence.masked_fill(~mask, -torch.inf).amax(1)
            features = torch.cat([mean, maximum], dim=1)
        if self.config["stats"]:
            features = torch.cat([features, stats], dim=1)
        logits = self.head(features)
        if self.skip is not None:
            logits = logits + self.skip(X.flatten(1))
        return logits


def fit_predict(config, X_train, y_train, X_eval, seed):
    """Train on (X_train, y_train); return the predicted classes of X_eval."""
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    Xt, lt, st = normalise(X_train, config["scaling"])
    Xe, le, se = normalise(X_eval, config["scaling"], reference=X_train)
    stats_mean, stats_std = st.mean(0), st.std(0).clamp_min(1e-6)
    st, se = (st - stats_mean) / stats_std, (se - stats_mean) / stats_std
    yt = torch.tensor(y_train)
    n_classes = int(yt.max()) + 1
    model = Classifier(Xt.shape[2], n_classes, Xt.shape[1], config)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config["lr"], weight_decay=config["weight_decay"]
    )
    batches = math.ceil(len(yt) / config["batch_size"])
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, config["lr"], total_steps=config["epochs"] * batches, pct_start=0.3
    )
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    for _ in range(config["epochs"]):
        order = torch.randperm(len(yt), generator=generator)
        for batch in order.split(config["batch_size"]):
            optimizer.zero_grad()
            loss = loss_fn(model(Xt[batch], lt[batch], st[batch]), yt[batch])
            loss.backward()
            optimizer.step()
            schedule.step()
    model.eval()
    with torch.no_grad():
        return model(Xe, le, se).argmax(1).numpy()


def evaluate(config, split, protocol, n_splits):
    """Accuracies (one per split or seed) and the median fit seconds."""
    encoder = LabelEncoder().fit(split.y_train)
    y_train = encoder.transform(split.y_train)
    scores, seconds = [], []
    if protocol == "dev":
        splitter = StratifiedShuffleSplit(n_splits, test_size=0.3, random_state=0)
        folds = splitter.split(split.X_train, y_train)
        jobs = [
            (seed, split.X_train[a], y_train[a], split.X_train[b], y_train[b])
            for seed, (a, b) in enumerate(folds)
        ]
    else:
        y_test = encoder.transform(split.y_test)
        jobs = [
            (seed, split.X_train, y_train, split.X_test, y_test)
            for seed in range(n_splits)
        ]
    for seed, X_fit, y_fit, X_eval, y_eval in jobs:
        start = time.perf_counter()
        predicted = fit_predict(config, X_fit, y_fit, X_eval, seed)
        seconds.append(time.perf_counter() - start)
        scores.append(float(np.mean(predicted == y_eval)))
    return scores, statistics.median(seconds)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS))
    parser.add_argument("--datasets", nargs="+", choices=DATASETS, default=DATASETS)
    parser.add_argument("--protocol", choices=("dev", "test"), default="dev")
    parser.add_argument("--splits", type=int, default=3)
    parser.add_argument("--list", action="store_true", help="print the configs")
    args = parser.parse_args(argv)
    if args.list:
        for name in CONFIGS:
            print(f"{name}: { ({**BASE, **CONFIGS[name]}) }")
        return 0
    unknown = set(args.configs) - set(CONFIGS)
    if unknown:
        parser.error(f"unknown configs: {sorted(unknown)}; see --list")
    torch.set_num_threads(1)
    settle_allocator()
    splits = {name: load(name) for name in args.datasets}
    rows = []
    for name in args.configs:
        config = {**BASE, **CONFIGS[name]}
        means, times = [], []
        for dataset, split in splits.items():
            scores, seconds = evaluate(config, split, args.protocol, args.splits)
            means.append(statistics.fmean(scores))
            times.append(seconds)
            log(f"{name} {dataset}: {scores} ({seconds:.1f} s per fit)")
        rows.append(
            (
                name,
                *(f"{mean:.3f}" for mean in means),
                f"{statistics.fmean(means):.3f}",
                f"{min(means):.3f}",
                f"{statistics.median(times):.1f}",
            )
        )
        print(rows[-1], file=sys.stderr, flush=True)
    what = "validation" if args.protocol == "dev" else "test"
    print(
        f"Mean {what} accuracy over {args.splits} "
        f"{'splits of the training sets' if what == 'validation' else 'seeds'}"
    )
    header = ("config", *args.datasets, "mean", "min", "fit s")
    print(columns_text(header, rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
