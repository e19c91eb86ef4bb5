"""Sequences of different lengths as NaN-padded arrays.

The convention: a batch of sequences of different lengths is one array of
the longest length, each sequence's observed steps contiguous and the rest
of its row NaN, before the observed steps ("pre" padding, the most recent
step last), after them ("post"), or both. A padded step is NaN in every
channel. Such an array is what every scikit-learn tool that slices rows
(cross-validation splitters, ``GridSearchCV``, ``Pipeline``, Dask) passes
through unchanged; :func:`pad_sequences` builds it, and
``check_padding`` enforces it where the estimator reads it.
"""

from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from ._windows import as_real_array


@validate_params(
    {
        "sequences": [list, tuple],
        "maxlen": [Interval(Integral, 1, None, closed="left"), None],
        "padding": [StrOptions({"pre", "post"})],
        "truncating": [StrOptions({"pre", "post"})],
    },
    prefer_skip_nested_validation=True,
)
def pad_sequences(sequences, maxlen=None, *, padding="pre", truncating="pre"):
    """Pad sequences of different lengths with NaN into one array.

    The result is the ragged-batch format of :class:`StackedLSTMRegressor`:
    each row holds one sequence, its observed steps contiguous, and NaN
    where it is shorter than the others. The estimator never feeds the NaN
    steps to its LSTM layers, so a sequence's prediction does not depend on
    how much padding surrounds it.

    Parameters
    ----------
    sequences : list of array-like
        The sequences, oldest step first: 1D arrays, lists or pandas Series
        of shape (n_steps,) for univariate sequences, or 2D arrays or
        DataFrames of shape (n_steps, n_channels) for multivariate ones, all
        with the same number of channels. Lengths may differ; each must be
        at least 1, and values must be finite (NaN marks padding).
    maxlen : int or None, default=None
        Length of the padded rows. None means the longest sequence's length.
        Longer sequences are truncated.
    padding : {"pre", "post"}, default="pre"
        Where the NaN go: "pre" before each sequence, so that every row ends
        with its most recent step (what :func:`make_windows` and
        :meth:`StackedLSTMRegressor.forecast` produce and read most
        naturally), "post" after it.
    truncating : {"pre", "post"}, default="pre"
        Which steps of a sequence longer than ``maxlen`` are dropped: "pre"
        the oldest (the first ones), "post" the most recent.

    Returns
    -------
    X : ndarray of shape (n_sequences, maxlen) or \
            (n_sequences, maxlen, n_channels)
        float64, or float32 if every sequence is float32; 2D for univariate
        sequences, 3D for multivariate ones.

    Raises
    ------
    ValueError
        If there are no sequences, a sequence is empty, holds NaN, infinite
        or non-numeric values, or the sequences mix 1D and 2D or differ in
        their channels; or if the padded array does not fit in memory (an
        absurd ``maxlen``), naming the memory it would need.

    See Also
    --------
    StackedLSTMRegressor : Fits and predicts NaN-padded sequences.
    make_windows : Windows of one or many series, padded at the start with
        ``min_timesteps``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_slstm import pad_sequences
    >>> pad_sequences([[1.0, 2.0, 3.0], [4.0]])
    array([[ 1.,  2.,  3.],
           [nan, nan,  4.]])
    >>> pad_sequences([[1.0, 2.0, 3.0], [4.0]], maxlen=2, padding="post")
    array([[ 2.,  3.],
           [ 4., nan]])
    """
    if not sequences:
        raise ValueError("pad_sequences needs at least one sequence, got none.")
    arrays = [_as_sequence(item, position) for position, item in enumerate(sequences)]
    if any(array.ndim != arrays[0].ndim for array in arrays):
        raise ValueError(
            "The sequences must be all 1D (n_steps,) or all 2D (n_steps, "
            "n_channels), not a mix."
        )
    channel_shapes = sorted({array.shape[1:] for array in arrays})
    if len(channel_shapes) > 1:
        raise ValueError(
            "The sequences must have the same number of channels, got "
            f"{[shape[0] for shape in channel_shapes]}."
        )
    columns = [
        list(item.columns) for item in sequences if isinstance(item, pd.DataFrame)
    ]
    if any(names != columns[0] for names in columns):
        raise ValueError("The DataFrames must have the same columns, in one order.")
    if maxlen is None:
        maxlen = max(len(array) for array in arrays)
    dtype = (
        np.float32 if all(array.dtype == np.float32 for array in arrays) else np.float64
    )
    shape = (len(arrays), maxlen, *channel_shapes[0])
    try:
        X = np.full(shape, np.nan, dtype=dtype)
    except MemoryError:
        n_bytes = np.prod(shape, dtype=np.float64) * np.dtype(dtype).itemsize
        raise ValueError(
            f"pad_sequences cannot allocate an array of shape {shape} "
            f"({n_bytes / 2**30:,.1f} GiB of {np.dtype(dtype)}); is maxlen="
            f"{maxlen} what you meant?"
        ) from None
    for row, array in zip(X, arrays, strict=True):
        kept = array[-maxlen:] if truncating == "pre" else array[:maxlen]
        if padding == "pre":
            row[maxlen - len(kept) :] = kept
        else:
            row[: len(kept)] = kept
    return X


def _as_sequence(item, position):
    """One sequence as a 1D or 2D array of finite real numbers."""
    name = f"sequence {position}"
    array = as_real_array(item, name, caller="pad_sequences", unit="steps")
    if array.size == 0:
        raise ValueError(f"{name} is empty (shape {array.shape}).")
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        raise ValueError(
            f"{name} contains NaN or infinite values. NaN marks padding; "
            "impute missing values inside a sequence before padding."
        )
    return array


def check_padding(sequences):
    """Check the padding convention of validated sequences; say if any is padded.

    Parameters
    ----------
    sequences : ndarray of shape (n_samples, n_timesteps, n_channels)
        Finite values and NaN (validation has refused infinite ones).

    Returns
    -------
    padded : bool
        Whether any step is padding.

    Raises
    ------
    ValueError
        If a step is NaN in some channels but not all, a row is all NaN, or
        NaN sit between the observed steps of a row.
    """
    # A float64 sum is NaN exactly when some value is: the common case, no
    # padding, then allocates nothing of the data's size.
    if not np.isnan(sequences.sum(dtype=np.float64)):
        return False
    missing = np.isnan(sequences)
    padding = missing.all(axis=2)
    partial = np.argwhere(missing.any(axis=2) & ~padding)
    if len(partial):
        row, step = partial[0]
        raise ValueError(
            f"X[{row}] has NaN in some channels but not all at time step {step}. "
            "NaN marks padding, which covers every channel of a step; impute "
            "missing values inside a sequence before fitting."
        )
    observed = ~padding
    empty = np.flatnonzero(~observed.any(axis=1))
    if len(empty):
        raise ValueError(
            f"X[{empty[0]}] is all NaN: every sequence needs at least one "
            f"observed time step ({len(empty)} row(s) have none)."
        )
    n_timesteps = observed.shape[1]
    first = observed.argmax(axis=1)
    last = n_timesteps - 1 - observed[:, ::-1].argmax(axis=1)
    gaps = np.flatnonzero(observed.sum(axis=1) != last - first + 1)
    if len(gaps):
        row = gaps[0]
        raise ValueError(
            f"X[{row}] has NaN between its observed time steps {first[row]} and "
            f"{last[row]}. NaN marks padding, before or after a sequence's "
            "observed steps, never inside them; impute missing values inside "
            "a sequence before fitting."
        )
    return True


def pad_at_start(sequences):
    """Move the observed steps of each row to its end: "pre" padding.

    Parameters
    ----------
    sequences : ndarray of shape (n_samples, n_timesteps)
        Rows that follow the padding convention (``check_padding``).

    Returns
    -------
    ndarray of shape (n_samples, n_timesteps)
        A new array: each row's observed steps, in order, end at its last
        column, and NaN fill the columns before them.
    """
    observed = ~np.isnan(sequences)
    n_timesteps = sequences.shape[1]
    lengths = observed.sum(axis=1, keepdims=True)
    first = observed.argmax(axis=1)[:, np.newaxis]
    steps = np.arange(n_timesteps)
    moved = np.take_along_axis(sequences, (first + lengths + steps) % n_timesteps, 1)
    return np.where(steps >= n_timesteps - lengths, moved, np.nan)
