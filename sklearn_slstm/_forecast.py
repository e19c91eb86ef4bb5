"""Recursive multi-step forecasts: feed a model's predictions back as input."""

from functools import partial
from numbers import Integral

import numpy as np
from sklearn.utils._param_validation import HasMethods, Interval, validate_params
from sklearn.utils.validation import check_array, check_is_fitted

from ._padding import check_padding, pad_at_start

# The longest horizon a recursive forecast accepts: a bound, so that a typo
# (10**18) is refused at once instead of running for ever. A million steps
# of a default model take about a minute on one CPU core.
MAX_HORIZON = 1_000_000


@validate_params(
    {
        "estimator": [HasMethods(["predict"])],
        "X": ["array-like"],
        "horizon": [Interval(Integral, 1, MAX_HORIZON, closed="both")],
    },
    prefer_skip_nested_validation=True,
)
def recursive_forecast(estimator, X, horizon, *, predict=None):
    """Forecast ``horizon`` steps ahead by feeding predictions back as input.

    ``estimator`` must have been fitted on windows of a univariate series
    with, as targets, the values that directly follow each window: the
    ``n_outputs_`` next values (``y`` of shape (n_samples, n_outputs)), or
    the next value alone (``y`` of shape (n_samples,)). Each round predicts
    the next block of values, appends it to the window and drops as many of
    the oldest values, so the window keeps its length ``n_features_in_``;
    rounds repeat until ``horizon`` values are predicted and the last block
    is cut to fit.

    Parameters
    ----------
    estimator : estimator instance
        A fitted regressor, typically a :class:`StackedLSTMRegressor`, that
        maps windows of ``n_features_in_`` values to the value or values that
        follow them.
    X : array-like of shape (n_samples, n_timesteps) or \
            (n_samples, n_timesteps, 1)
        The most recent ``n_timesteps = n_features_in_`` values of each
        series, oldest first. Pass ``X[:, -n_features_in_:]`` to forecast
        from the end of a longer history. A shorter history is padded with
        NaN (see :func:`pad_sequences`); the forecast continues after its
        last observed value.
    horizon : int
        Number of future values to forecast, from 1 to ``MAX_HORIZON``
        (1,000,000).
    predict : callable or None, default=None
        How a round predicts: a function of a float64 array of windows of
        shape (n_samples, n_features_in_), checked and padded at the start
        only, that returns their predictions. None calls
        ``estimator.predict``, with the column names it was fitted with; an
        estimator passes a leaner function that skips checking again what
        this function already checked and produced.

    Returns
    -------
    y_forecast : ndarray of shape (n_samples, horizon)
        The forecast, float64; column ``j`` is ``j + 1`` steps after the last
        value of ``X``.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If ``estimator`` is not fitted.
    ValueError
        If ``horizon`` is not in [1, 1,000,000], if ``X`` has more than one
        channel (a forecast of several series needs every series' future as
        input), if ``X`` does not have ``n_features_in_`` timesteps, or if
        its NaN are not padding (see :func:`pad_sequences`).

    See Also
    --------
    StackedLSTMRegressor.predict : The direct forecast of ``n_outputs_``
        steps.

    Notes
    -----
    The forecast needs ``ceil(horizon / n_outputs_)`` calls to ``predict``.
    Each round reads its own earlier predictions, so errors compound with
    the horizon; a model trained directly on the whole horizon
    (``y`` of shape (n_samples, horizon)) is usually more accurate for a
    fixed horizon, while a recursive forecast extends one model to any
    horizon. ``benchmarks/bench_forecast.py`` measures both on the damped
    sine problem.

    With ``horizon <= n_outputs_``, the result is the first ``horizon``
    columns of ``estimator.predict(X)``.

    For a padded row, the forecast continues after its last observed value,
    wherever the padding is: the row is first rearranged to padding at the
    start, then each round appends its predictions at the end and drops as
    many of the oldest columns, padding first, so the observed history
    grows until it fills the window.
    """
    check_is_fitted(estimator)
    X = check_array(X, dtype=np.float64, allow_nd=True, ensure_all_finite="allow-nan")
    if X.ndim == 3:
        if X.shape[2] != 1:
            raise ValueError(
                "recursive_forecast needs univariate sequences: X of shape "
                "(n_samples, n_timesteps) or (n_samples, n_timesteps, 1), got "
                f"{X.shape[2]} channels (shape={X.shape})."
            )
        X = X[:, :, 0]
    elif X.ndim != 2:
        raise ValueError(
            "X must be 2D (n_samples, n_timesteps) or 3D (n_samples, "
            f"n_timesteps, 1), got an array of shape {X.shape}."
        )
    n_timesteps = getattr(estimator, "n_features_in_", X.shape[1])
    if X.shape[1] != n_timesteps:
        raise ValueError(
            f"X has {X.shape[1]} timesteps, but {type(estimator).__name__} was "
            f"fitted on windows of {n_timesteps}; pass the last {n_timesteps} "
            "values of each series."
        )

    if check_padding(X[:, :, np.newaxis]):
        # Predictions are appended after the last observed value and the
        # oldest column is dropped, so the padding must come first.
        X = pad_at_start(X)
    if predict is None:
        predict = partial(_predict_with_names, estimator)
    window = X
    blocks = []
    n_predicted = 0
    while n_predicted < horizon:
        block = np.asarray(predict(window), dtype=np.float64).reshape(len(X), -1)
        blocks.append(block)
        n_predicted += block.shape[1]
        if n_predicted < horizon:
            window = np.hstack([window, block])[:, -n_timesteps:]
    return np.hstack(blocks)[:, :horizon]


def _predict_with_names(estimator, window):
    """``estimator.predict`` of ``window``, with the fitted column names if any.

    Without them, a model fitted on a DataFrame would warn at every round.
    """
    feature_names = getattr(estimator, "feature_names_in_", None)
    if feature_names is not None:
        import pandas as pd

        window = pd.DataFrame(window, columns=feature_names)
    return estimator.predict(window)
