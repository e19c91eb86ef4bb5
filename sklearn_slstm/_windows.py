"""Supervised windows from time series: one series, several channels, a panel."""

from numbers import Integral

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view
from sklearn.utils._param_validation import Interval, validate_params


@validate_params(
    {
        "series": ["array-like"],
        "n_timesteps": [Interval(Integral, 1, None, closed="left")],
        "horizon": [Interval(Integral, 1, None, closed="left")],
        "step": [Interval(Integral, 1, None, closed="left")],
        "min_timesteps": [Interval(Integral, 1, None, closed="left"), None],
        "target": [Integral, str, list, None],
        "return_series_index": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def make_windows(
    series,
    n_timesteps,
    horizon=1,
    *,
    step=1,
    min_timesteps=None,
    target=None,
    return_series_index=False,
):
    """Cut time series into input windows and the values that follow them.

    Each window holds ``n_timesteps`` consecutive points of a series as input
    and the next ``horizon`` values of the target as output: the supervised
    form that :class:`StackedLSTMRegressor` (or any scikit-learn regressor)
    learns from. Windows start every ``step`` points and the last window of
    each series always ends with its last value, so the most recent data is
    never dropped.

    Parameters
    ----------
    series : array-like, pandas Series or DataFrame, or list of them
        - One univariate series: a 1D array, a list of numbers or a pandas
          Series of shape (n_points,).
        - One multivariate series: a 2D array or a DataFrame of shape
          (n_points, n_channels); rows are time points.
        - A panel: a list (or tuple) of series of either kind above, of
          possibly different lengths, all with the same number of channels.
          Windows never cross from one series into the next.
    n_timesteps : int
        Number of time steps in each input window.
    horizon : int, default=1
        Number of future values of the target after each window.
    step : int, default=1
        Distance, in time steps, between the starts of consecutive windows.
    min_timesteps : int or None, default=None
        If given, also make the windows that start before a series does,
        with at least ``min_timesteps`` observed points: their missing
        oldest points are NaN, the padding of :func:`pad_sequences`, which
        :class:`StackedLSTMRegressor` never feeds to its LSTM layers. A
        series then needs only ``min_timesteps + horizon`` points, so short
        series of a panel still give windows, and every series gives
        windows for its first values. None means ``n_timesteps``: only full
        windows.
    target : int, str, list of them or None, default=None
        For multivariate series, the column(s) whose future values form
        ``y``: labels of a DataFrame, or positions in an array. None means
        the first column. The other columns are covariates, seen only inside
        the input window. Ignored for univariate series.
    return_series_index : bool, default=False
        If True, also return which series each window comes from, for
        grouped cross-validation (:class:`~sklearn.model_selection.GroupKFold`)
        and per-series scoring.

    Returns
    -------
    X : ndarray of shape (n_windows, n_timesteps) or \
            (n_windows, n_timesteps, n_channels)
        The input windows, oldest first (series by series for a panel). 2D
        for univariate series, 3D for multivariate ones, whose channels are
        the target column(s) first, in the order given, then the covariates
        in their original order.
    y : ndarray of shape (n_windows, horizon) or \
            (n_windows, n_targets * horizon)
        The ``horizon`` values that follow each window: column ``j`` is
        ``j + 1`` steps after the window's last point. With several targets,
        the columns of the first target come first, then those of the next.
    series_index : ndarray of shape (n_windows,)
        Only returned if ``return_series_index=True``: the position in the
        panel of each window's series (all zeros for a single series).

    Raises
    ------
    ValueError
        If a series is shorter than ``min_timesteps + horizon`` (by default
        ``n_timesteps + horizon``), holds NaN,
        infinite or non-numeric values, or if the series of a panel have
        different channels, or ``target`` names no column.

    See Also
    --------
    StackedLSTMRegressor : Learns to map the windows ``X`` to ``y``.
    sklearn.model_selection.TimeSeriesSplit : Cross-validation that keeps
        later windows out of training.

    Notes
    -----
    ``X`` and ``y`` are new arrays: float32 if every series is float32, else
    float64. Nothing else is copied, and the series passed are never
    modified. Overlapping windows share values, so rows of ``X`` are not
    independent: evaluate forecasts on a time-ordered split
    (:class:`~sklearn.model_selection.TimeSeriesSplit`, or the last part of
    each series) rather than a shuffled one.

    To forecast from the end of each series, pass its last ``n_timesteps``
    points: ``series[-n_timesteps:]`` for one series.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_slstm import make_windows
    >>> X, y = make_windows(np.arange(10.0), n_timesteps=4, horizon=2)
    >>> X.shape, y.shape
    ((5, 4), (5, 2))
    >>> X[0], y[0]
    (array([0., 1., 2., 3.]), array([4., 5.]))
    >>> X[-1], y[-1]
    (array([4., 5., 6., 7.]), array([8., 9.]))

    Windows with at least two observed points, NaN-padded at the start:

    >>> X, y = make_windows(np.arange(6.0), n_timesteps=4, min_timesteps=2)
    >>> X[:2], y[:2]
    (array([[nan, nan,  0.,  1.],
           [nan,  0.,  1.,  2.]]), array([[2.],
           [3.]]))

    A panel of two series of different lengths:

    >>> X, y, series_index = make_windows(
    ...     [np.arange(6.0), np.arange(100.0, 108.0)],
    ...     n_timesteps=3,
    ...     return_series_index=True,
    ... )
    >>> series_index
    array([0, 0, 0, 1, 1, 1, 1, 1])
    """
    items = _panel_items(series)
    arrays = [_as_array(item, position) for position, item in enumerate(items)]
    multivariate = arrays[0].ndim == 2
    if any(array.ndim != arrays[0].ndim for array in arrays):
        raise ValueError(
            "The series of a panel must be all 1D or all 2D (n_points, "
            "n_channels), not a mix."
        )
    if multivariate:
        channels, n_targets = _channel_order(items, arrays, target)
    else:
        channels, n_targets = [], 1
    needed = "n_timesteps" if min_timesteps is None else "min_timesteps"
    if min_timesteps is None:
        min_timesteps = n_timesteps
    if min_timesteps > n_timesteps:
        raise ValueError(
            f"min_timesteps={min_timesteps} must not exceed n_timesteps={n_timesteps}."
        )
    window = min_timesteps + horizon
    too_short = [
        (position, len(array))
        for position, array in enumerate(arrays)
        if len(array) < window
    ]
    if too_short:
        described = ", ".join(
            f"series {position} has {length}" for position, length in too_short[:5]
        )
        more = f" and {len(too_short) - 5} more" if len(too_short) > 5 else ""
        raise ValueError(
            f"Each series needs at least {needed} + horizon = {window} points to give "
            f"one window, but {described} point(s){more}. Drop "
            "the short series, or use a shorter n_timesteps, min_timesteps or "
            "horizon."
        )

    float32 = all(array.dtype == np.float32 for array in arrays)
    dtype = np.float32 if float32 else np.float64
    if min_timesteps < n_timesteps:
        # The padded steps are NaN in every channel, before the series.
        padding = np.full(
            (n_timesteps - min_timesteps, *arrays[0].shape[1:]), np.nan, dtype
        )
        arrays = [np.concatenate([padding, array.astype(dtype)]) for array in arrays]
    window = n_timesteps + horizon
    counts = [(len(array) - window) // step + 1 for array in arrays]
    X = np.empty((sum(counts), n_timesteps, *arrays[0].shape[1:]), dtype=dtype)
    y = np.empty((sum(counts), n_targets * horizon), dtype=dtype)
    start = 0
    for array, count in zip(arrays, counts, strict=True):
        # The last window ends with the series' last point; earlier ones
        # start every `step` points before it.
        rows = slice((len(array) - window) % step, None, step)
        stop = start + count
        # Views of shape (n, n_timesteps) or (n, n_channels, n_timesteps).
        inputs = sliding_window_view(array[: len(array) - horizon], n_timesteps, 0)
        outputs = sliding_window_view(array[n_timesteps:], horizon, 0)
        if multivariate:
            # Channel by channel, so that nothing but X and y is allocated.
            for position, column in enumerate(channels):
                X[start:stop, :, position] = inputs[rows, column]
            for position, column in enumerate(channels[:n_targets]):
                columns = slice(position * horizon, (position + 1) * horizon)
                y[start:stop, columns] = outputs[rows, column]
        else:
            X[start:stop] = inputs[rows]
            y[start:stop] = outputs[rows]
        start = stop
    if return_series_index:
        return X, y, np.repeat(np.arange(len(arrays)), counts)
    return X, y


def _panel_items(series):
    """The series of a panel, or ``[series]`` for a single series.

    Only a list or tuple of sequences is a panel: a 2D array or a DataFrame
    is one series with several channels.
    """
    if isinstance(series, list | tuple):
        if not series:
            raise ValueError("make_windows needs at least one series, got none.")
        if any(not np.isscalar(item) for item in series):
            return list(series)
    return [series]


def _as_array(item, position):
    """One series as a 1D or 2D numeric array with finite values."""
    name = f"series {position}"
    array = as_real_array(item, name, caller="make_windows", unit="points")
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        raise ValueError(
            f"{name} contains NaN or infinite values; fill or drop them before "
            "making windows (make_windows never fills gaps by itself)."
        )
    return array


def as_real_array(item, name, *, caller, unit):
    """``item`` as a 1D or 2D array of real numbers, or a ValueError naming it.

    ``caller`` (the public function) and ``unit`` (what a row is: "points",
    "steps") only word the messages.
    """
    if isinstance(item, pd.DataFrame):
        non_numeric = [
            column
            for column, dtype in item.dtypes.items()
            if not pd.api.types.is_numeric_dtype(dtype)
            or pd.api.types.is_bool_dtype(dtype)
        ]
        if non_numeric:
            raise ValueError(
                f"{name} has non-numeric columns {non_numeric}; {caller} needs numbers."
            )
    try:
        array = np.asarray(item)
    except ValueError as exc:
        raise ValueError(
            f"{name} is not a rectangular array of numbers: {exc}"
        ) from exc
    if array.dtype.kind not in "iuf":
        raise ValueError(
            f"{name} holds values of dtype {array.dtype}; {caller} needs real "
            "numbers (integers or floats)."
        )
    if array.ndim not in (1, 2):
        raise ValueError(
            f"{name} has shape {array.shape}: it must be 1D (n_{unit},) or 2D "
            f"(n_{unit}, n_channels)."
        )
    return array


def _channel_order(items, arrays, target):
    """Column positions in output order (targets first) and the target count."""
    shapes = sorted({array.shape[1] for array in arrays})
    if len(shapes) > 1:
        raise ValueError(
            "The series of a panel must have the same number of channels, got "
            f"{shapes}."
        )
    labels = [list(item.columns) for item in items if isinstance(item, pd.DataFrame)]
    if any(columns != labels[0] for columns in labels):
        raise ValueError("The DataFrames of a panel must have the same columns.")
    n_channels = shapes[0]
    targets = (
        [0] if target is None else target if isinstance(target, list) else [target]
    )
    if labels:
        lookup = {label: position for position, label in enumerate(labels[0])}
        missing = [name for name in targets if name not in lookup]
        positions = [lookup.get(name) for name in targets]
    else:
        missing = [
            name
            for name in targets
            if not isinstance(name, Integral) or not 0 <= name < n_channels
        ]
        positions = targets
    if missing or not targets or len(set(positions)) < len(positions):
        where = f"columns {labels[0]}" if labels else f"{n_channels} channels"
        raise ValueError(
            f"target={target!r} must name distinct columns of the series "
            f"({where}); not found: {missing}."
        )
    others = [position for position in range(n_channels) if position not in positions]
    return [int(position) for position in (*positions, *others)], len(positions)
