"""Checks of the data and parameters that every estimator shares.

Each check returns what it found and writes nothing: the estimator assigns
its fitted state in one place, after training succeeded.
"""

from numbers import Integral

import numpy as np
import pandas as pd
import torch
from sklearn.utils.validation import _check_sample_weight

from ._padding import check_padding

# The arguments of scikit-learn's validate_data shared by fit and predict.
# NaN marks padding: check_sequences checks where it may be.
VALIDATE_DATA = {
    "dtype": np.float32,
    "allow_nd": True,
    "ensure_all_finite": "allow-nan",
}

# The fitted attributes that scikit-learn's validate_data writes itself.
VALIDATE_DATA_ATTRIBUTES = frozenset({"n_features_in_", "feature_names_in_"})


def check_hidden_layer_sizes(hidden_layer_sizes):
    """The layer widths as a list of positive ints; a ValueError otherwise."""
    sizes = hidden_layer_sizes
    sizes = [sizes] if isinstance(sizes, Integral) else list(sizes)
    if not sizes or not all(
        isinstance(units, Integral) and not isinstance(units, bool) and units > 0
        for units in sizes
    ):
        raise ValueError(
            "hidden_layer_sizes must be a non-empty sequence of positive "
            f"integers, got {hidden_layer_sizes!r}."
        )
    return [int(units) for units in sizes]


# The most quantile levels a quantile loss takes: every percentile.
MAX_QUANTILES = 99


def check_quantiles(quantiles):
    """The quantile levels as a sorted tuple of floats; a ValueError otherwise.

    Levels lie strictly between 0 and 1, are distinct, at most
    ``MAX_QUANTILES``, and include the median, 0.5, which ``predict``
    returns.
    """
    try:
        levels = np.asarray(quantiles, dtype=np.float64)
    except (TypeError, ValueError):
        levels = None
    if (
        levels is None
        or levels.ndim != 1
        or not 1 <= len(levels) <= MAX_QUANTILES
        or not ((levels > 0) & (levels < 1)).all()
        or len(np.unique(levels)) != len(levels)
        or 0.5 not in levels
    ):
        raise ValueError(
            "quantiles must be a sequence of at most "
            f"{MAX_QUANTILES} distinct levels strictly between 0 and 1 that "
            f"includes the median, 0.5 (predict returns it), got {quantiles!r}."
        )
    return tuple(float(level) for level in np.sort(levels))


def check_n_timesteps(estimator, X):
    """Name a wrong sequence length in time steps, before validation does.

    scikit-learn's message counts "features", which are time steps here;
    its first sentence is kept, as scikit-learn's checks expect it.
    """
    shape = getattr(X, "shape", ())
    expected = estimator.n_features_in_
    if len(shape) >= 2 and shape[1] != expected:
        raise ValueError(
            f"X has {shape[1]} features, but {type(estimator).__name__} is "
            f"expecting {expected} features as input. Its features are time "
            f"steps: the sequences of X have {shape[1]} time steps, the model "
            f"was fitted on sequences of {expected}."
        )


def check_real_dtype(X, *, estimator_name):
    """Refuse booleans, dates and durations, which validation would cast.

    scikit-learn's ``validate_data`` turns them into numbers without a word
    (True into 1.0, a date into nanoseconds since 1970); they are not
    sequences of measurements, and ``make_windows`` refuses them too.
    Lists are left to ``validate_data``.
    """
    if isinstance(X, pd.DataFrame):
        dtypes = list(X.dtypes)
    elif hasattr(X, "dtype"):
        dtypes = [X.dtype]
    else:
        return
    refused = sorted(
        {
            str(dtype)
            for dtype in dtypes
            if pd.api.types.is_bool_dtype(dtype)
            or pd.api.types.is_datetime64_any_dtype(dtype)
            or pd.api.types.is_timedelta64_dtype(dtype)
        }
    )
    if refused:
        raise ValueError(
            f"X holds values of dtype {', '.join(refused)}; {estimator_name} "
            "needs real numbers (integers or floats). Convert booleans, dates "
            "or durations to the numbers they stand for first."
        )


def check_sequences(X, *, n_channels, estimator_name):
    """Check the sequence shape and padding of validated ``X``.

    ``n_channels`` is the fitted number of channels, or None when fitting
    afresh. Returns ``X`` viewed as a 3D float32 tensor, and whether any
    step is padding.
    """
    if X.ndim not in (2, 3):
        raise ValueError(
            "X must be 2D (n_samples, n_timesteps) or 3D (n_samples, "
            f"n_timesteps, n_channels), got an array of shape {X.shape}."
        )
    if X.ndim == 2:
        X = X[:, :, np.newaxis]
    n_timesteps, n_channels_seen = X.shape[1:]
    if n_timesteps == 0 or n_channels_seen == 0:
        raise ValueError(
            f"X has {n_timesteps} timesteps and {n_channels_seen} channels "
            f"(shape={X.shape}); each needs to be at least 1."
        )
    if n_channels is not None and n_channels_seen != n_channels:
        raise ValueError(
            f"X has {n_channels_seen} channel(s), but {estimator_name} was "
            f"fitted with {n_channels} channel(s)."
        )
    return as_tensor(X), check_padding(X)


def drop_zero_weights(X, y, sample_weight):
    """Validate ``sample_weight``; drop the rows it weighs 0.

    A row of weight 0 then changes nothing at all, not even the batches the
    other rows fall into. Returns ``X``, ``y`` and the weights as a float32
    tensor, or None when all weights are equal: the weighted mean is then
    the plain mean, which the net computes faster.
    """
    sample_weight = _check_sample_weight(
        sample_weight, X, dtype=np.float32, ensure_non_negative=True
    )
    kept = sample_weight > 0
    if not kept.any():
        # As scikit-learn's own check says it from version 1.7 on.
        raise ValueError("sample_weight must contain at least one non-zero value.")
    if not kept.all():
        X, y, sample_weight = X[kept], y[kept], sample_weight[kept]
    if (sample_weight == sample_weight[0]).all():
        return X, y, None
    return X, y, torch.from_numpy(np.ascontiguousarray(sample_weight))


def as_tensor(array):
    """A tensor sharing ``array``'s memory where torch allows it, else a copy.

    torch refuses negative strides (``X[:, ::-1]``) and warns on read-only
    memory (memmaps, arrays shared between processes).
    """
    if not array.flags.writeable or any(stride < 0 for stride in array.strides):
        array = np.array(array, order="C")
    return torch.from_numpy(array)
