"""The UCR/UEA classification sets bundled in aeon, in the library's layout.

Shared by ``bench_classification.py`` (test accuracy on the archives' fixed
splits) and ``bench_classification_heads.py`` (the choice of the
classifier's head and defaults on validation splits of the training sets).
aeon stores a collection as (n_cases, n_channels, n_timepoints), or, for
unequal lengths, as a list of (n_channels, n_timepoints) arrays; the library
reads (n_samples, n_timesteps) for univariate and (n_samples, n_timesteps,
n_channels) for multivariate series, oldest step first, NaN-padded where
lengths differ (``sklearn_slstm.pad_sequences``).
"""

from dataclasses import dataclass

import numpy as np
from aeon.datasets import load_classification

try:
    from sklearn_slstm import pad_sequences
except ImportError:  # pragma: no cover - the package is installed with -e
    pad_sequences = None

# Univariate first, then multivariate; all ship inside aeon (no download).
DATASETS = (
    "GunPoint",
    "ItalyPowerDemand",
    "ArrowHead",
    "BasicMotions",
    "JapaneseVowels",
)


@dataclass
class Split:
    """One data set's training and test parts.

    ``X_train`` and ``X_test`` are in the library's layout; ``aeon_train``
    and ``aeon_test`` in aeon's (a 3D array, or a list of 2D arrays for
    unequal lengths). The labels are strings, as aeon returns them.
    """

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    aeon_train: object
    aeon_test: object

    @property
    def n_channels(self):
        return 1 if self.X_train.ndim == 2 else self.X_train.shape[2]

    @property
    def equal_length(self):
        return not isinstance(self.aeon_train, list)

    def describe(self):
        lengths = sorted({len(row) for row in observed_rows(self.X_train)})
        length = str(lengths[0]) if len(lengths) == 1 else f"{lengths[0]}-{lengths[-1]}"
        return (
            f"{self.name}: {len(self.y_train)} train / {len(self.y_test)} test, "
            f"{len(np.unique(self.y_train))} classes, length {length}, "
            f"{self.n_channels} channel(s)"
        )


def to_library_layout(collection, maxlen):
    """aeon's collection as the library's 2D/3D array, NaN-padded to ``maxlen``."""
    sequences = [np.asarray(case, dtype=np.float64).T for case in collection]
    if sequences[0].shape[1] == 1:
        sequences = [sequence[:, 0] for sequence in sequences]
    if pad_sequences is not None:
        return pad_sequences(sequences, maxlen=maxlen)
    return _pad_pre(sequences, maxlen)


def _pad_pre(sequences, maxlen):
    """NaN padding before each sequence, as ``pad_sequences`` does by default."""
    shape = (len(sequences), maxlen, *sequences[0].shape[1:])
    padded = np.full(shape, np.nan)
    for row, sequence in zip(padded, sequences, strict=True):
        row[maxlen - len(sequence) :] = sequence
    return padded


def observed_rows(X):
    """Each row of a library-layout array without its NaN padding."""
    for row in X:
        observed = ~np.isnan(row if row.ndim == 1 else row[:, 0])
        yield row[observed]


def load(name):
    """The archive's fixed train/test split of data set ``name``.

    Train and test are padded to the same length, the longest of either
    part, so that one fitted model reads both; the padding is NaN, which the
    library's models never read.
    """
    aeon_train, y_train = load_classification(name, split="train")
    aeon_test, y_test = load_classification(name, split="test")
    maxlen = max(np.shape(case)[-1] for case in [*aeon_train, *aeon_test])
    return Split(
        name=name,
        X_train=to_library_layout(aeon_train, maxlen),
        y_train=np.asarray(y_train),
        X_test=to_library_layout(aeon_test, maxlen),
        y_test=np.asarray(y_test),
        aeon_train=aeon_train,
        aeon_test=aeon_test,
    )


def zero_padded_aeon(collection, maxlen):
    """An aeon collection as one 3D array, each case zero-padded at its end.

    For aeon estimators that do not take unequal lengths (the UEA archive's
    own equal-length versions are padded in the same way).
    """
    if not isinstance(collection, list):
        return collection
    padded = np.zeros((len(collection), collection[0].shape[0], maxlen))
    for row, case in zip(padded, collection, strict=True):
        row[:, : case.shape[1]] = case
    return padded


def znormalised_flat(X):
    """Each series z-normalised per channel over its steps, zero-padded, flattened.

    The features of the ``RidgeClassifierCV`` baseline. Padding (NaN) goes
    to the end of the row as zeros, so that step ``t`` of every series lines
    up with the same column.
    """
    rows = []
    for row in observed_rows(X):
        row = row.reshape(len(row), -1)
        scale = row.std(axis=0)
        row = (row - row.mean(axis=0)) / np.where(scale > 0, scale, 1.0)
        padded = np.zeros((X.shape[1], row.shape[1]))
        padded[: len(row)] = row
        rows.append(padded.ravel())
    return np.asarray(rows)
