"""ForecastDisplay: plot input windows, true continuations and forecasts."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils import _safe_indexing
from sklearn.utils._optional_dependencies import check_matplotlib_support

from ._conformal import final_step, predict_quantiles


class ForecastDisplay:
    """Visualization of sequence forecasts, with optional prediction intervals.

    For each sample, draws the input window, the true continuation (when
    known), the forecast and, when given, one or several bands between lower
    and upper interval bounds, all in the sample's own color on one time
    axis: the window covers the steps ``origin - n_timesteps, ...,
    origin - 1`` and the forecast the steps ``origin, ...,
    origin + n_outputs - 1``. Nested bands (say 50%, 80% and 95% intervals
    from a quantile forecast) are drawn widest first and palest, so that
    the inner bands show darker.

    Create it with :meth:`from_estimator` or :meth:`from_predictions`; all
    parameters are stored as attributes.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_timesteps) or \
            (n_samples, n_timesteps, 1)
        Input windows, one univariate sequence per row.
    y_true : array-like of shape (n_samples,) or (n_samples, n_outputs), \
            default=None
        The true values that follow each window, or None if unknown.
    y_pred : array-like of shape (n_samples,) or (n_samples, n_outputs)
        The forecast of each window.
    lower : array-like of the shape of ``y_pred``, or of shape \
            (n_bands, \\*y_pred.shape), default=None
        Lower interval bounds, of one band or of ``n_bands`` bands (the
        first axis); given together with ``upper``. A ``lower`` that has
        the shape of ``y_pred`` is one band.
    upper : array-like of the shape of ``lower``, default=None
        Upper interval bounds; given together with ``lower``.
    coverage : float or array-like of shape (n_bands,), default=None
        Nominal coverage of each band, in (0, 1), used for the legend
        ("90% interval"); None labels the bands "interval" (one band) or
        "interval 1", "interval 2", ... (several, in the order of
        ``lower``).
    origin : int, default=None
        Step of the first forecast value, used to label the time axis. None
        means ``n_timesteps``: the window starts at step 0, as in
        :func:`make_damped_sine`.

    Attributes
    ----------
    input_lines_ : list of matplotlib Line2D
        The input window of each sample.
    true_lines_ : list of matplotlib Line2D or None
        The true continuation of each sample, a wide pale line joined to the
        window's last value; None if ``y_true`` is None.
    pred_lines_ : list of matplotlib Line2D
        The forecast of each sample.
    interval_bands_ : list of matplotlib PolyCollection, list of lists of \
            them, or None
        The bands, indexed as the bounds are: with bounds of the shape of
        ``y_pred``, the band of each sample; with bounds of shape
        ``(n_bands, ...)``, ``interval_bands_[k][i]`` is band ``k`` of
        sample ``i``. None if there are no bounds.
    origin_line_ : matplotlib Line2D
        Vertical line between the window and the forecast.
    ax_ : matplotlib Axes
        Axes with the plot.
    figure_ : matplotlib Figure
        Figure containing the plot.

    See Also
    --------
    ForecastDisplay.from_estimator : Plot the forecasts of a fitted
        regressor.
    ForecastDisplay.from_predictions : Plot given forecasts.
    ConformalIntervalRegressor : Regressor with ``predict_interval``.
    StackedLSTMRegressor : With ``loss="quantile"``, a regressor with
        ``predict_quantiles``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from sklearn_slstm import make_damped_sine
    >>> from sklearn_slstm import ForecastDisplay
    >>> X, y = make_damped_sine(n_samples=3, random_state=0)
    >>> display = ForecastDisplay(X=X, y_true=y, y_pred=y + 0.01).plot()
    >>> len(display.pred_lines_)
    3

    Two nested bands, an 80% and a 95% interval:

    >>> half_widths = np.array([0.05, 0.1])[:, np.newaxis, np.newaxis]
    >>> display = ForecastDisplay(
    ...     X=X, y_pred=y, lower=y - half_widths, upper=y + half_widths,
    ...     coverage=[0.8, 0.95],
    ... ).plot()
    >>> len(display.interval_bands_), len(display.interval_bands_[0])
    (2, 3)
    >>> display.ax_.get_legend_handles_labels()[1]
    ['input', '95% interval', '80% interval', 'forecast']
    """

    def __init__(
        self,
        *,
        X,
        y_true=None,
        y_pred,
        lower=None,
        upper=None,
        coverage=None,
        origin=None,
    ):
        self.X = X
        self.y_true = y_true
        self.y_pred = y_pred
        self.lower = lower
        self.upper = upper
        self.coverage = coverage
        self.origin = origin

    def plot(
        self,
        ax=None,
        *,
        input_kwargs=None,
        true_kwargs=None,
        pred_kwargs=None,
        interval_kwargs=None,
    ):
        """Plot the visualization.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to plot on. If None, a new figure and axes are created.
        input_kwargs : dict, default=None
            Keyword arguments for matplotlib's ``plot`` of the input windows.
        true_kwargs : dict, default=None
            Keyword arguments for matplotlib's ``plot`` of the true
            continuations.
        pred_kwargs : dict, default=None
            Keyword arguments for matplotlib's ``plot`` of the forecasts.
        interval_kwargs : dict, default=None
            Keyword arguments for matplotlib's ``fill_between`` of the
            interval bands, applied to every band.

        Returns
        -------
        display : ForecastDisplay
            The display, with the plotted artists stored as attributes.
        """
        check_matplotlib_support(f"{type(self).__name__}.plot")
        import matplotlib.pyplot as plt
        from matplotlib.ticker import MaxNLocator

        X, y_true, y_pred, lower, upper, nested = _check_forecast_arrays(
            self.X, self.y_true, self.y_pred, self.lower, self.upper
        )
        n_timesteps, n_outputs = X.shape[1], y_pred.shape[1]
        origin = n_timesteps if self.origin is None else self.origin
        if not isinstance(origin, Integral) or isinstance(origin, bool):
            raise TypeError(f"origin must be an int or None, got {origin!r}.")
        band_labels = None if lower is None else _band_labels(self.coverage, len(lower))
        input_steps = np.arange(origin - n_timesteps, origin)
        output_steps = np.arange(origin, origin + n_outputs)

        if ax is None:
            _, ax = plt.subplots()
        self.input_lines_, self.pred_lines_ = [], []
        self.true_lines_ = None if y_true is None else []
        bands = None if lower is None else [[] for _ in lower]
        if lower is not None:
            # Widest first, so that the narrower bands are drawn over it;
            # the wider a band, the paler.
            order = np.argsort(-np.mean(upper - lower, axis=(1, 2)), kind="stable")
            alphas = _band_alphas(len(order))
        for i in range(len(X)):
            color = f"C{i % 10}"
            first = i == 0
            self.input_lines_.append(
                ax.plot(
                    input_steps,
                    X[i],
                    **_merge(
                        {"color": color, "label": "input" if first else None},
                        input_kwargs,
                    ),
                )[0]
            )
            if y_true is not None:
                # Joined to the last input value: it is the same series.
                self.true_lines_.append(
                    ax.plot(
                        np.r_[origin - 1, output_steps],
                        np.r_[X[i, -1], y_true[i]],
                        **_merge(
                            {
                                "color": color,
                                "alpha": 0.35,
                                "linewidth": 4,
                                "label": "true" if first else None,
                            },
                            true_kwargs,
                        ),
                    )[0]
                )
            if lower is not None:
                for rank, band in enumerate(order):
                    bands[band].append(
                        ax.fill_between(
                            output_steps,
                            lower[band, i],
                            upper[band, i],
                            **_merge(
                                {
                                    "color": color,
                                    "alpha": alphas[rank],
                                    "linewidth": 0,
                                    "label": band_labels[band] if first else None,
                                },
                                interval_kwargs,
                            ),
                        )
                    )
            self.pred_lines_.append(
                ax.plot(
                    output_steps,
                    y_pred[i],
                    **_merge(
                        {
                            "color": color,
                            "linestyle": "--",
                            "marker": ".",
                            "label": "forecast" if first else None,
                        },
                        pred_kwargs,
                    ),
                )[0]
            )
        if bands is None or nested:
            self.interval_bands_ = bands
        else:
            self.interval_bands_ = bands[0]
        self.origin_line_ = ax.axvline(origin - 0.5, color="0.7", linewidth=1, zorder=0)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set(xlabel="Step", ylabel="Value")
        ax.legend(loc="best")
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X,
        y=None,
        *,
        samples=3,
        interval="auto",
        coverage=None,
        origin=None,
        ax=None,
        input_kwargs=None,
        true_kwargs=None,
        pred_kwargs=None,
        interval_kwargs=None,
    ):
        """Plot the forecasts of a fitted regressor for some rows of ``X``.

        Only the selected rows are predicted.

        Parameters
        ----------
        estimator : estimator instance
            Fitted regressor, such as a :class:`StackedLSTMRegressor` (with
            ``loss="quantile"`` for quantile bands), or a
            :class:`ConformalIntervalRegressor` for interval bands.
        X : array-like of shape (n_samples, n_timesteps) or \
                (n_samples, n_timesteps, 1)
            Input windows.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs), \
                default=None
            True continuations, or None to draw none.
        samples : int or array-like of int, default=3
            The rows to draw: an int ``k`` means the first ``k`` rows, an
            array-like the row indices.
        interval : "auto", tuple of two array-likes or None, default="auto"
            Interval bounds. "auto" draws, when the estimator (or the last
            step of a ``Pipeline``) has a ``predict_quantiles`` method and
            fitted levels ``quantiles_`` with at least one symmetric pair
            ``(q, 1 - q)``, one band per
            such pair (nested bands, the forecast being ``predict``'s, the
            median); otherwise the band of ``estimator.predict_interval``
            when the estimator has one; otherwise no band. A tuple
            ``(lower, upper)`` gives bounds for every row of ``X``, each of
            the shape of the predictions, or of shape ``(n_bands,
            n_samples, ...)`` for several bands; None draws no band.
        coverage : float or array-like of shape (n_bands,), default=None
            Nominal coverage of each band, for the legend. None takes it
            from the estimator where it is known: ``q_high - q_low`` for a
            quantile pair, the estimator's ``coverage`` parameter for
            ``predict_interval``.
        origin : int, default=None
            Step of the first forecast value; None means ``n_timesteps``.
        ax : matplotlib Axes, default=None
            Axes to plot on. If None, a new figure and axes are created.
        input_kwargs, true_kwargs, pred_kwargs, interval_kwargs : dict, \
                default=None
            Keyword arguments for the artists, as in :meth:`plot`.

        Returns
        -------
        display : ForecastDisplay
            The display, plotted.

        See Also
        --------
        ForecastDisplay.from_predictions : Plot given forecasts.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> from sklearn.linear_model import Ridge
        >>> from sklearn_slstm import make_damped_sine
        >>> from sklearn_slstm import ConformalIntervalRegressor
        >>> from sklearn_slstm import ForecastDisplay
        >>> X, y = make_damped_sine(n_samples=500, random_state=0)
        >>> reg = ConformalIntervalRegressor(Ridge(), random_state=0).fit(X, y)
        >>> display = ForecastDisplay.from_estimator(reg, X, y, samples=[0, 7])
        >>> len(display.interval_bands_)
        2
        >>> display.ax_.get_legend_handles_labels()[1]
        ['input', 'true', '90% interval', 'forecast']
        """
        check_matplotlib_support(f"{cls.__name__}.from_estimator")
        rows = _select_rows(samples, _n_rows(X))
        X_shown = _safe_indexing(X, rows)
        y_pred = estimator.predict(X_shown)
        lower = upper = None
        if isinstance(interval, str):
            if interval != "auto":
                raise ValueError(_INTERVAL_ERROR.format(interval=repr(interval)))
            levels = _quantile_levels(final_step(estimator))
            if levels is not None:
                y_quantiles, _ = predict_quantiles(estimator, X_shown)
                lower, upper, levels_coverage = _bands_from_quantiles(
                    y_quantiles, levels, np.ndim(y_pred)
                )
                coverage = levels_coverage if coverage is None else coverage
            elif hasattr(estimator, "predict_interval"):
                lower, upper = estimator.predict_interval(X_shown)
                if coverage is None:
                    coverage = _estimator_coverage(estimator)
        elif interval is not None:
            lower, upper = _unpack_interval(interval)
            lower = _take_rows(lower, rows, y_pred, _n_rows(X))
            upper = _take_rows(upper, rows, y_pred, _n_rows(X))
        return cls(
            X=X_shown,
            y_true=None if y is None else _safe_indexing(y, rows),
            y_pred=y_pred,
            lower=lower,
            upper=upper,
            coverage=coverage,
            origin=origin,
        ).plot(
            ax=ax,
            input_kwargs=input_kwargs,
            true_kwargs=true_kwargs,
            pred_kwargs=pred_kwargs,
            interval_kwargs=interval_kwargs,
        )

    @classmethod
    def from_predictions(
        cls,
        X,
        y_true,
        y_pred,
        *,
        lower=None,
        upper=None,
        y_quantiles=None,
        quantiles=None,
        coverage=None,
        samples=3,
        origin=None,
        ax=None,
        input_kwargs=None,
        true_kwargs=None,
        pred_kwargs=None,
        interval_kwargs=None,
    ):
        """Plot given forecasts for some rows of ``X``.

        The bands come either from interval bounds (``lower`` and
        ``upper``) or from predicted quantiles (``y_quantiles`` at the
        levels ``quantiles``, as a quantile regressor's
        ``predict_quantiles`` and ``quantiles_`` give them): each
        symmetric pair of levels ``(q, 1 - q)`` is one band, of coverage
        ``1 - 2 q``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps) or \
                (n_samples, n_timesteps, 1)
            Input windows.
        y_true : array-like of shape (n_samples,) or (n_samples, n_outputs) \
                or None
            True continuations, or None to draw none.
        y_pred : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Forecasts.
        lower : array-like of the shape of ``y_pred``, or of shape \
                (n_bands, \\*y_pred.shape), default=None
            Lower interval bounds, of one band or of several (the first
            axis); given together with ``upper``.
        upper : array-like of the shape of ``lower``, default=None
            Upper interval bounds; given together with ``lower``.
        y_quantiles : array-like of shape (\\*y_pred.shape, n_quantiles), \
                default=None
            Predicted quantiles, the levels along the last axis; given
            together with ``quantiles`` and instead of ``lower`` and
            ``upper``.
        quantiles : array-like of shape (n_quantiles,), default=None
            The levels of ``y_quantiles``, each in (0, 1); at least one
            pair must be symmetric (``q`` and ``1 - q``). Levels without a
            partner, such as the median, draw no band.
        coverage : float or array-like of shape (n_bands,), default=None
            Nominal coverage of each band, for the legend. With quantiles,
            None means ``1 - 2 q`` for each pair.
        samples : int or array-like of int, default=3
            The rows to draw: an int ``k`` means the first ``k`` rows, an
            array-like the row indices.
        origin : int, default=None
            Step of the first forecast value; None means ``n_timesteps``.
        ax : matplotlib Axes, default=None
            Axes to plot on. If None, a new figure and axes are created.
        input_kwargs, true_kwargs, pred_kwargs, interval_kwargs : dict, \
                default=None
            Keyword arguments for the artists, as in :meth:`plot`.

        Returns
        -------
        display : ForecastDisplay
            The display, plotted.

        See Also
        --------
        ForecastDisplay.from_estimator : Plot the forecasts of a fitted
            regressor.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> import numpy as np
        >>> from sklearn_slstm import make_damped_sine
        >>> from sklearn_slstm import ForecastDisplay
        >>> X, y = make_damped_sine(n_samples=10, random_state=0)
        >>> display = ForecastDisplay.from_predictions(
        ...     X, y, y + 0.01, lower=y - 0.05, upper=y + 0.05, samples=2
        ... )
        >>> len(display.input_lines_), len(display.interval_bands_)
        (2, 2)

        From quantiles at the levels 0.1, 0.25, 0.5, 0.75 and 0.9: a 50%
        and an 80% band around the median.

        >>> offsets = np.array([-0.1, -0.04, 0.0, 0.04, 0.1])
        >>> y_quantiles = y[..., np.newaxis] + offsets
        >>> display = ForecastDisplay.from_predictions(
        ...     X, y, y_quantiles[..., 2], y_quantiles=y_quantiles,
        ...     quantiles=[0.1, 0.25, 0.5, 0.75, 0.9], samples=2,
        ... )
        >>> display.coverage
        array([0.8, 0.5])
        >>> display.lower.shape
        (2, 2, 5)
        """
        check_matplotlib_support(f"{cls.__name__}.from_predictions")
        rows = _select_rows(samples, _n_rows(X))

        def pick(values):
            return None if values is None else _safe_indexing(values, rows)

        y_pred_shown = pick(y_pred)
        if y_quantiles is not None or quantiles is not None:
            if y_quantiles is None or quantiles is None:
                raise ValueError(
                    "y_quantiles and quantiles must be given together, or neither."
                )
            if lower is not None or upper is not None:
                raise ValueError(
                    "Pass either lower and upper, or y_quantiles and quantiles; "
                    "not both."
                )
            lower, upper, levels_coverage = _bands_from_quantiles(
                pick(y_quantiles), quantiles, np.ndim(y_pred_shown)
            )
            coverage = levels_coverage if coverage is None else coverage
        else:
            n_rows = _n_rows(X)
            if lower is not None:
                lower = _take_rows(lower, rows, y_pred, n_rows)
            if upper is not None:
                upper = _take_rows(upper, rows, y_pred, n_rows)
        return cls(
            X=pick(X),
            y_true=pick(y_true),
            y_pred=y_pred_shown,
            lower=lower,
            upper=upper,
            coverage=coverage,
            origin=origin,
        ).plot(
            ax=ax,
            input_kwargs=input_kwargs,
            true_kwargs=true_kwargs,
            pred_kwargs=pred_kwargs,
            interval_kwargs=interval_kwargs,
        )


_INTERVAL_ERROR = (
    'interval must be "auto", None or a tuple (lower, upper) of array-likes, '
    "got {interval}."
)


def _merge(defaults, overrides):
    """Style keywords: the defaults, overridden by the caller's."""
    return {**defaults, **(overrides or {})}


def _n_rows(X):
    return X.shape[0] if hasattr(X, "shape") else len(X)


def _select_rows(samples, n_rows):
    """Row indices from ``samples``: the first ``k`` rows, or given indices."""
    if isinstance(samples, Integral) and not isinstance(samples, bool):
        if not 1 <= samples <= n_rows:
            raise ValueError(
                f"samples={samples} must be between 1 and the number of rows "
                f"of X ({n_rows})."
            )
        return np.arange(samples)
    rows = np.asarray(samples)
    if rows.ndim != 1 or rows.size == 0 or rows.dtype.kind not in "iu":
        raise ValueError(
            "samples must be an int or a non-empty 1D array-like of row "
            f"indices, got {samples!r}."
        )
    if rows.min() < -n_rows or rows.max() >= n_rows:
        raise ValueError(f"samples has indices out of range for {n_rows} rows.")
    return rows


def _unpack_interval(interval):
    try:
        lower, upper = interval
    except (TypeError, ValueError):
        raise ValueError(
            _INTERVAL_ERROR.format(interval=f"a {type(interval).__name__}")
        ) from None
    return lower, upper


def _has_band_axis(bounds, y_pred, n_rows):
    """Whether ``bounds`` has shape (n_bands, n_rows, *y_pred.shape[1:])."""
    shape, tail = np.shape(bounds), np.shape(y_pred)[1:]
    return len(shape) == len(tail) + 2 and shape[1] == n_rows and shape[2:] == tail


def _take_rows(bounds, rows, y_pred, n_rows):
    """The selected rows of one band's bounds, or of each band's."""
    if _has_band_axis(bounds, y_pred, n_rows):
        return np.asarray(bounds)[:, rows]
    return _safe_indexing(bounds, rows)


def _quantile_levels(estimator):
    """The fitted quantile levels of ``estimator`` if it can draw bands, or None.

    That is: a ``predict_quantiles`` method and ``quantiles_``, a 1D array of
    levels in (0, 1) of which at least two are symmetric, ``q`` and ``1 - q``.
    """
    if not hasattr(estimator, "predict_quantiles"):
        return None
    levels = getattr(estimator, "quantiles_", None)
    if levels is None:
        return None
    levels = np.asarray(levels, dtype=np.float64)
    if levels.ndim != 1 or not ((levels > 0) & (levels < 1)).all():
        return None
    return levels if _symmetric_pairs(levels) else None


def _symmetric_pairs(levels):
    """Index pairs ``(low, high)`` of levels ``q < 0.5`` and ``1 - q``."""
    pairs = []
    for low, level in enumerate(levels):
        if level < 0.5:
            partners = np.flatnonzero(np.isclose(levels, 1 - level, rtol=0, atol=1e-9))
            if partners.size:
                pairs.append((low, int(partners[0])))
    return pairs


def _bands_from_quantiles(y_quantiles, quantiles, y_pred_ndim):
    """Bounds of shape (n_bands, ...) from quantiles, and each band's coverage.

    The bands are those of the symmetric pairs of levels, widest first.
    """
    levels = np.asarray(quantiles, dtype=np.float64)
    if levels.ndim != 1 or not ((levels > 0) & (levels < 1)).all():
        raise ValueError(
            f"quantiles must be a 1D array-like of levels in (0, 1), got {quantiles!r}."
        )
    y_quantiles = np.asarray(y_quantiles, dtype=np.float64)
    if y_quantiles.ndim != y_pred_ndim + 1 or y_quantiles.shape[-1] != len(levels):
        raise ValueError(
            f"y_quantiles has shape {y_quantiles.shape}; it must be the shape of "
            f"y_pred plus a last axis of the {len(levels)} quantile levels."
        )
    pairs = sorted(_symmetric_pairs(levels), key=lambda pair: levels[pair[0]])
    if not pairs:
        raise ValueError(
            f"quantiles={levels.tolist()} has no symmetric pair of levels (q and "
            "1 - q), so it gives no band; add, say, 0.05 and 0.95."
        )
    lower = np.stack([y_quantiles[..., low] for low, _ in pairs])
    upper = np.stack([y_quantiles[..., high] for _, high in pairs])
    coverage = np.array([levels[high] - levels[low] for low, high in pairs])
    return lower, upper, coverage.round(9)


def _estimator_coverage(estimator):
    """The nominal coverage of ``estimator.predict_interval``, if it has one."""
    coverage = getattr(estimator, "coverage", None)
    if isinstance(coverage, Real) and 0 < coverage < 1:
        return float(coverage)
    return None


def _band_labels(coverage, n_bands):
    """Legend labels of the bands: their coverage, or their number."""
    if coverage is None:
        if n_bands == 1:
            return ["interval"]
        return [f"interval {k}" for k in range(1, n_bands + 1)]
    values = np.atleast_1d(np.asarray(coverage, dtype=np.float64))
    if (
        values.ndim != 1
        or len(values) != n_bands
        or not ((values > 0) & (values < 1)).all()
    ):
        raise ValueError(
            f"coverage must be None, a float in (0, 1) or one such float per band "
            f"({n_bands}), got {coverage!r}."
        )
    return [f"{100 * value:.10g}% interval" for value in values.round(9)]


def _band_alphas(n_bands):
    """Opacity of each band, widest first: the wider, the paler."""
    if n_bands == 1:
        return [0.2]
    return list(np.linspace(0.12, 0.3, n_bands))


def _as_2d(name, values):
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 1:
        values = values[:, np.newaxis]
    if values.ndim != 2:
        raise ValueError(
            f"{name} must be 1D or 2D, got an array of shape {values.shape}."
        )
    return values


def _check_forecast_arrays(X, y_true, y_pred, lower, upper):
    """Validate the display's arrays; give them the shapes plot draws.

    The bounds come back with a band axis first, of shape (n_bands, n_samples,
    n_outputs), with a flag saying whether the given bounds had one.
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 3 and X.shape[2] == 1:
        X = X[:, :, 0]
    if X.ndim != 2:
        raise ValueError(
            "X must hold univariate windows, of shape (n_samples, n_timesteps) "
            f"or (n_samples, n_timesteps, 1); got shape {X.shape}. To draw one "
            "channel c of multivariate windows, pass X[:, :, c]."
        )
    y_pred_given = y_pred
    y_pred = _as_2d("y_pred", y_pred)
    if len(y_pred) != len(X):
        raise ValueError(
            f"y_pred has {len(y_pred)} rows but X has {len(X)}; they must match."
        )
    if y_true is not None:
        y_true = _as_2d("y_true", y_true)
        if y_true.shape != y_pred.shape:
            raise ValueError(
                f"y_true has shape {y_true.shape} but y_pred has shape "
                f"{y_pred.shape}; they must match."
            )
    if (lower is None) != (upper is None):
        raise ValueError("lower and upper must be given together, or neither.")
    nested = False
    if lower is not None:
        nested = _has_band_axis(lower, y_pred_given, len(X))
        if nested:
            lower = np.asarray(lower, dtype=np.float64)
            upper = np.asarray(upper, dtype=np.float64)
            if upper.shape != lower.shape:
                raise ValueError(
                    f"lower has shape {lower.shape} but upper has shape "
                    f"{upper.shape}; they must match."
                )
            lower = lower.reshape(len(lower), *y_pred.shape)
            upper = upper.reshape(lower.shape)
        else:
            lower, upper = _as_2d("lower", lower), _as_2d("upper", upper)
            if lower.shape != y_pred.shape or upper.shape != y_pred.shape:
                raise ValueError(
                    f"lower and upper have shapes {lower.shape} and {upper.shape}; "
                    f"both must have the shape of y_pred, {y_pred.shape}, or of "
                    f"(n_bands, *y_pred.shape) for several bands."
                )
            lower, upper = lower[np.newaxis], upper[np.newaxis]
    return X, y_true, y_pred, lower, upper, nested
